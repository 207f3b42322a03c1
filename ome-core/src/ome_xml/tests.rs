//! Tests over the shared OME-XML samples (read in place, skipped when absent), hostile
//! input, and a property test of the `for_image` → write → parse round trip.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::{DType, ErrorKind, Location};

const SPEC_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec-data");

fn samples_dir() -> Option<PathBuf> {
    testkit::spec_data_file("ome-xml/samples")
}

fn sample_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".ome.xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Samples that break ome.xsd 2016-06 (spec-data README §5) or are another version.
fn xsd_valid(name: &str) -> bool {
    !matches!(
        name,
        "bad.ome.xml"
            | "MMStack.ome.xml"
            | "invalid_xml_annotation.ome.xml"
            | "seq0000xy01c1.ome.xml"
            | "2008_instrument.ome.xml"
    )
}

fn xml_path(err: &crate::Error) -> String {
    match err.location() {
        Location::Xml { path, .. } => path.clone(),
        other => panic!("expected an XML location, found {other:?}"),
    }
}

fn xmllint_validate(xml: &str, tag: &str) -> Option<Result<(), String>> {
    let schemas = Path::new(SPEC_DATA).join("ome-xml/schemas");
    let xsd = schemas.join("2016-06/ome.xsd");
    if !xsd.is_file() {
        testkit::skip(&format!("{} is absent", xsd.display()));
        return None;
    }
    let tmp = std::env::temp_dir().join(format!(
        "omexml-{}-{}.xml",
        std::process::id(),
        tag.replace('/', "_")
    ));
    std::fs::write(&tmp, xml).unwrap();
    let catalogs = format!(
        "{} {}",
        schemas.join("external/catalog.xml").display(),
        schemas.join("2016-06/catalog.xml").display()
    );
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(&tmp)
        .env("XML_CATALOG_FILES", catalogs)
        .output();
    let _ = std::fs::remove_file(&tmp);
    let out = out.ok()?;
    if out.status.success() {
        Some(Ok(()))
    } else {
        Some(Err(String::from_utf8_lossy(&out.stderr).into_owned()))
    }
}

/// Whether xmllint is there (`scripts/test.sh` installs it); says SKIPPED otherwise, which
/// fails under `CI=true`.
fn xmllint_present() -> bool {
    testkit::require_command("xmllint", "XSD validation; apt-get install libxml2-utils")
}

#[test]
fn samples_parse_round_trip_and_validate() {
    let Some(dir) = samples_dir() else { return };
    let lint = xmllint_present();
    let limits = XmlLimits::default();
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for file in sample_files(&dir) {
        let rel = file.strip_prefix(&dir).unwrap().display().to_string();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let first = match parse(&text, &limits) {
            Ok(m) => m,
            Err(e) if name == "2008_instrument.ome.xml" => {
                assert_eq!(e.kind(), ErrorKind::Unsupported, "{rel}: {e}");
                assert!(e.message().contains("unsupported OME-XML namespace"), "{e}");
                report.push(format!("{rel}: unsupported namespace (expected): {e}"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{rel}: parse failed: {e}"));
                continue;
            }
        };
        let written = to_xml(&first);
        let second = match parse(&written, &limits) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{rel}: re-parse failed: {e}"));
                continue;
            }
        };
        if first.namespace == OmeNamespace::V2016_06 {
            if first != second {
                failures.push(format!("{rel}: round trip changed the model"));
            }
        } else {
            // Upgraded once: the 2016-06 output must be a fixed point.
            let third = parse(&to_xml(&second), &limits).unwrap();
            if second != third {
                failures.push(format!("{rel}: upgraded round trip is not stable"));
            }
        }
        if to_xml(&second) != written {
            failures.push(format!("{rel}: writing is not stable"));
        }
        let mut line = format!("{rel}: round trip ok");
        if lint {
            match xmllint_validate(&written, &rel) {
                Some(Ok(())) => line.push_str(", output XSD-valid"),
                Some(Err(msg)) if xsd_valid(&name) => {
                    failures.push(format!("{rel}: output fails ome.xsd: {msg}"));
                }
                Some(Err(_)) => line.push_str(", output XSD-invalid (input is too)"),
                None => line.push_str(", XSD check skipped (ome.xsd absent)"),
            }
        }
        report.push(line);
    }
    for l in &report {
        eprintln!("{l}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        report.len() >= 40,
        "expected the samples, found {}",
        report.len()
    );
}

#[test]
fn sample_details() {
    let Some(dir) = samples_dir() else { return };
    let limits = XmlLimits::default();
    let read = |rel: &str| parse(&std::fs::read_to_string(dir.join(rel)).unwrap(), &limits);

    let m = read("ome-model/2016-06/multi-channel-z-series-time-series.ome.xml").unwrap();
    let px = &m.images[0].pixels;
    assert_eq!(m.images[0].id, "Image:0");
    assert!(px.size_x > 0 && px.size_c >= 1);
    assert!(!px.channels.is_empty());

    let m = read("ome-model/2016-06/metadata-only.ome.xml").unwrap();
    assert!(m.images[0].pixels.metadata_only);

    let m = read("ome-types/ome_ns.ome.xml").unwrap();
    assert!(!m.images.is_empty());

    let m = read("ome-types/seq0000xy01c1.ome.xml").unwrap();
    assert_eq!(m.namespace, OmeNamespace::V2015_01);

    let m = read("ome-model/2016-06/hcs.ome.xml").unwrap();
    assert!(!m.plates.is_empty());
    assert!(!m.plates[0].wells.is_empty());
    assert!(m.plates[0].wells[0].samples[0].image_ref.is_some());

    let m = read("ome-model/2016-06/instrument.ome.xml").unwrap();
    assert!(!m.instruments.is_empty());
    assert!(!m.instruments[0].objectives.is_empty());
}

const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="a &amp; b &#x41;">
    <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="4" SizeY="3" SizeZ="2" SizeC="1" SizeT="1">
      <Channel ID="Channel:0:0" Color="-16776961"/>
      <TiffData IFD="1" PlaneCount="1"><UUID FileName="a.ome.tif">urn:uuid:x</UUID></TiffData>
      <TiffData/>
    </Pixels>
  </Image>
</OME>"#;

#[test]
fn minimal_document_and_tiff_data_defaults() {
    let m = parse(MINIMAL, &XmlLimits::default()).unwrap();
    let img = &m.images[0];
    assert_eq!(img.name.as_deref(), Some("a & b A"));
    let px = &img.pixels;
    assert_eq!(px.pixel_type.to_dtype(), Some(DType::U16));
    assert_eq!(px.channels[0].color.unwrap().to_rgba(), [255, 0, 0, 255]);
    assert_eq!(px.channels[0].color.unwrap().to_hex_rgb(), "ff0000");
    let (a, b) = (&px.tiff_data[0], &px.tiff_data[1]);
    assert_eq!(a.ifd, Some(1));
    assert_eq!(a.first_z, None);
    assert_eq!(
        a.uuid.as_ref().unwrap().file_name.as_deref(),
        Some("a.ome.tif")
    );
    assert_eq!(b.ifd, None);
    assert_eq!(b.plane_count_or_default(7), 7);
    let mut c = a.clone();
    c.plane_count = None;
    assert_eq!(c.plane_count_or_default(7), 1);
    assert_eq!(parse(&to_xml(&m), &XmlLimits::default()).unwrap(), m);
}

#[test]
fn color_helpers() {
    assert_eq!(
        Color::from_hex("#00FF00").unwrap().to_rgba(),
        [0, 255, 0, 255]
    );
    assert_eq!(
        Color::from_hex("ff000080").unwrap().0,
        i32::from_be_bytes([255, 0, 0, 128])
    );
    assert_eq!(Color::default().to_rgba(), [255, 255, 255, 255]);
    assert_eq!(Color::from_rgba([1, 2, 3, 4]).to_hex_rgba(), "01020304");
    assert_eq!(Color::from_hex("xyz").unwrap_err().kind(), ErrorKind::Usage);
}

#[test]
fn dimension_order_plane_maps_are_bijections() {
    for order in DimensionOrder::ALL {
        let sizes = (3, 2, 4);
        for i in 0..24 {
            let zct = order.plane_zct(i, sizes).unwrap();
            assert_eq!(order.plane_index(zct, sizes), Some(i));
        }
        assert_eq!(order.plane_zct(24, sizes), None);
    }
    // ome-tiff/specification.rst, fragment 2: XYCTZ, IFD 2 is Z0-T1-C0.
    assert_eq!(
        DimensionOrder::XYCTZ.plane_zct(2, (4, 2, 3)),
        Some((0, 0, 1))
    );
}

#[test]
fn schema_value_errors_name_the_attribute() {
    let bad = MINIMAL.replace("SizeX=\"4\"", "SizeX=\"-3\"");
    let e = parse(&bad, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert_eq!(xml_path(&e), "/OME/Image[0]/Pixels[0]@SizeX");
    assert_eq!(e.message(), "expected a positive integer, found \"-3\"");

    let bad = MINIMAL.replace("XYZCT", "XYZ");
    let e = parse(&bad, &XmlLimits::default()).unwrap_err();
    assert_eq!(xml_path(&e), "/OME/Image[0]/Pixels[0]@DimensionOrder");

    let bad = MINIMAL.replace("<Channel ID=\"Channel:0:0\"", "<Channel");
    let e = parse(&bad, &XmlLimits::default()).unwrap_err();
    assert_eq!(xml_path(&e), "/OME/Image[0]/Pixels[0]/Channel[0]");
}

// ---- hostile input ----

#[test]
fn billion_laughs_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator="&lol3;"/>"#;
    let e = parse(xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("DOCTYPE"), "{e}");
    assert_eq!(xml_path(&e), "/");
}

#[test]
fn external_entity_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE OME [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Rights>&xxe;</Rights></OME>"#;
    let e = parse(xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    // Without the DOCTYPE, the undeclared entity is a typed format error.
    let xml = r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Rights>&xxe;</Rights></OME>"#;
    let e = parse(xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert_eq!(xml_path(&e), "/OME/Rights[0]");
    assert!(e.message().contains("&xxe;"), "{e}");
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    let mut xml =
        String::from(r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">"#);
    for _ in 0..10_000 {
        xml.push_str("<Rights>");
    }
    for _ in 0..10_000 {
        xml.push_str("</Rights>");
    }
    xml.push_str("</OME>");
    let e = parse(&xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded);
    let path = xml_path(&e);
    assert!(path.starts_with("/OME/Rights[0]/Rights[0]"), "{path}");
    assert_eq!(path.matches('/').count(), 65, "{path}");
}

#[test]
fn huge_attribute_stops_quickly() {
    let mut xml = String::with_capacity(101 << 20);
    xml.push_str(r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator=""#);
    xml.extend(std::iter::repeat_n('a', 100 << 20));
    xml.push_str(r#""/>"#);
    let start = Instant::now();
    // The default 64 MiB document limit fires first.
    let e = parse(&xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded);
    // With a larger document limit, the attribute limit fires.
    let limits = XmlLimits {
        max_bytes: 200 << 20,
        ..XmlLimits::default()
    };
    let e = parse(&xml, &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded);
    assert_eq!(xml_path(&e), "/OME@Creator");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

#[test]
fn element_count_limit() {
    let mut xml =
        String::from(r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">"#);
    for _ in 0..100 {
        xml.push_str("<Rights/>");
    }
    xml.push_str("</OME>");
    let limits = XmlLimits {
        max_elements: 50,
        ..XmlLimits::default()
    };
    let e = parse(&xml, &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded);
    assert_eq!(xml_path(&e), "/OME/Rights[49]");
}

#[test]
fn truncated_xml_is_a_format_error() {
    for cut in [10, 100, 200, 300, MINIMAL.len() - 3] {
        let e = parse(&MINIMAL[..cut], &XmlLimits::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format, "cut {cut}: {e}");
        assert!(matches!(e.location(), Location::Xml { .. }));
    }
    let e = parse(&MINIMAL[..MINIMAL.len() - 20], &XmlLimits::default()).unwrap_err();
    assert_eq!(xml_path(&e), "/OME/Image[0]/Pixels[0]");
    let e = parse("", &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
}

#[test]
fn wrong_namespace_and_root() {
    let xml = MINIMAL.replace("OME/2016-06", "OME/2008-09");
    let e = parse(&xml, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(
        e.message().starts_with("unsupported OME-XML namespace \""),
        "{e}"
    );
    assert_eq!(xml_path(&e), "/OME");
    let e = parse("<OME/>", &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = parse("<html/>", &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert_eq!(xml_path(&e), "/html");
    let e = parse_bytes(b"<OME \xff/>", &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "<",
        "<OME",
        "<OME xmlns=",
        "<a></b>",
        "</a>",
        "<a/><b/>",
        "text",
        "<a x='1' x='2'/>",
        "<?xml?>",
        "<!-- x",
        "<![CDATA[",
        "<a>&#0;</a>",
        "<a>&#xFFFFFFFF;</a>",
        "<a>&;</a>",
    ];
    for s in inputs {
        let _ = parse(s, &XmlLimits::default());
    }
}

#[test]
fn raw_content_survives_with_prefixes_and_mixed_content() {
    let xml = r#"<ome:OME xmlns:ome="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:x="urn:x">
<ome:StructuredAnnotations><ome:XMLAnnotation ID="Annotation:0"><ome:Value><x:a b="1&#10;2">t &lt; <![CDATA[<raw>]]><!-- c --> u</x:a></ome:Value></ome:XMLAnnotation></ome:StructuredAnnotations>
<ome:ROI ID="ROI:0"><ome:Union><ome:Rectangle ID="Shape:0" X="1" Y="2" Width="3" Height="4"/></ome:Union></ome:ROI>
</ome:OME>"#;
    let m = parse(xml, &XmlLimits::default()).unwrap();
    assert_eq!(m.unknown.len(), 1);
    assert_eq!(m.unknown[0].name, "ome:ROI");
    let out = to_xml(&m);
    assert!(
        out.contains("<x:a b=\"1&#10;2\">t &lt; <![CDATA[<raw>]]><!-- c --> u</x:a>"),
        "{out}"
    );
    assert_eq!(parse(&out, &XmlLimits::default()).unwrap(), m);
}

// ---- for_image ----

#[test]
fn for_image_validates_against_the_xsd() {
    let mut spec = ImageSpec::new("img", [64, 32, 3, 2, 4], DType::U16);
    spec.dimension_order = DimensionOrder::XYCZT;
    spec.physical_size = [Some(0.5), Some(0.5), Some(2.0)];
    spec.physical_size_unit = Some(UnitsLength::Micrometer);
    spec.time_increment = Some(1.5);
    spec.channels = vec![
        ChannelSpec::new(
            Some("DAPI".into()),
            Some(Color::from_hex("0000ff").unwrap()),
        ),
        ChannelSpec::new(Some("GFP & co".into()), None),
    ];
    spec.file_name = "img.ome.tif".into();
    let m = OmeXml::for_image(&spec).unwrap();
    let px = &m.images[0].pixels;
    assert_eq!(px.tiff_data.len(), 24);
    // IFD 1 is C1 Z0 T0 in XYCZT.
    assert_eq!(
        (
            px.tiff_data[1].first_z,
            px.tiff_data[1].first_c,
            px.tiff_data[1].first_t
        ),
        (Some(0), Some(1), Some(0))
    );
    assert!(m.uuid.as_deref().unwrap().starts_with("urn:uuid:"));
    let xml = to_xml(&m);
    assert_eq!(parse(&xml, &XmlLimits::default()).unwrap(), m);
    if !xmllint_present() {
        return;
    }
    if let Some(r) = xmllint_validate(&xml, "for_image") {
        r.unwrap();
    }
    assert_eq!(
        OmeXml::for_image(&ImageSpec::new("x", [1, 1, 1, 1, 1], DType::U64))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        OmeXml::for_image(&ImageSpec::new("x", [0, 1, 1, 1, 1], DType::U8))
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
}

#[test]
fn for_images_numbers_ifds_across_images_and_validates() {
    let a = ImageSpec::new("a", [16, 8, 2, 3, 1], DType::U8);
    let mut b = ImageSpec::new("b", [4, 4, 1, 1, 5], DType::F32);
    b.uuid = Some("urn:uuid:ignored-for-images-after-the-first".into());
    let m = OmeXml::for_images(&[a, b]).unwrap();
    assert_eq!(m.images.len(), 2);
    assert_eq!(
        (m.images[1].id.as_str(), m.images[1].pixels.id.as_str()),
        ("Image:1", "Pixels:1")
    );
    let ifds: Vec<u32> = m.images[1]
        .pixels
        .tiff_data
        .iter()
        .filter_map(|t| t.ifd)
        .collect();
    assert_eq!(ifds, [6, 7, 8, 9, 10]);
    let uuids: std::collections::BTreeSet<_> = m
        .images
        .iter()
        .flat_map(|i| &i.pixels.tiff_data)
        .filter_map(|t| t.uuid.as_ref().map(|u| u.value.clone()))
        .collect();
    assert_eq!(uuids.len(), 1, "one file, one UUID");
    assert_eq!(m.uuid.as_ref(), uuids.iter().next());
    assert_eq!(
        OmeXml::for_images(&[]).unwrap_err().kind(),
        ErrorKind::Usage
    );
    let xml = to_xml(&m);
    if xmllint_present()
        && let Some(r) = xmllint_validate(&xml, "for_images")
    {
        r.unwrap();
    }
}

/// Every official sample whose images all have a pixel type we write, carried over the
/// layout [`OmeXml::for_images`] gives its sizes, is still XSD-valid and keeps everything
/// but the pixel layout.
#[test]
fn carry_over_of_the_samples_stays_valid() {
    let Some(dir) = samples_dir() else { return };
    let lint = xmllint_present();
    let limits = XmlLimits::default();
    let (mut carried, mut failures) = (0, Vec::new());
    for file in sample_files(&dir) {
        let rel = file.strip_prefix(&dir).unwrap().display().to_string();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(template) = parse(&std::fs::read_to_string(&file).unwrap(), &limits) else {
            continue;
        };
        let specs: Option<Vec<ImageSpec>> = template
            .images
            .iter()
            .map(|im| {
                let p = &im.pixels;
                let planes = u64::from(p.size_z) * u64::from(p.size_c) * u64::from(p.size_t);
                (planes <= 4096).then_some(())?;
                Some(ImageSpec::new(
                    "x",
                    [p.size_x, p.size_y, p.size_z, p.size_c, p.size_t],
                    p.pixel_type.to_dtype()?,
                ))
            })
            .collect();
        let Some(specs) = specs.filter(|s| !s.is_empty()) else {
            continue;
        };
        let Ok(written) = OmeXml::for_images(&specs) else {
            continue;
        };
        let out = template.carry_over(written.clone()).unwrap();
        for (i, (im, was)) in out.images.iter().zip(&template.images).enumerate() {
            assert_eq!(
                im.pixels.tiff_data, written.images[i].pixels.tiff_data,
                "{rel}"
            );
            assert!(
                im.pixels.bin_data.is_empty() && !im.pixels.metadata_only,
                "{rel}"
            );
            assert_eq!(
                (&im.name, &im.description, &im.pixels.planes),
                (&was.name, &was.description, &was.pixels.planes),
                "{rel}"
            );
        }
        assert_eq!(
            (
                &out.instruments,
                &out.plates,
                &out.structured_annotations,
                &out.unknown
            ),
            (
                &template.instruments,
                &template.plates,
                &template.structured_annotations,
                &template.unknown
            ),
            "{rel}"
        );
        carried += 1;
        if lint
            && xsd_valid(&name)
            && let Some(Err(msg)) = xmllint_validate(&to_xml(&out), &format!("carried-{rel}"))
        {
            failures.push(format!("{rel}: carried output fails ome.xsd: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        carried >= 20,
        "expected most samples to be carried, found {carried}"
    );
    eprintln!("{carried} samples carried over");
}

fn dtype_strategy() -> impl Strategy<Value = DType> {
    prop::sample::select(vec![
        DType::U8,
        DType::U16,
        DType::U32,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::F32,
        DType::F64,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn for_image_write_parse_is_identity(
        name in "\\PC{0,20}",
        sizes in (1u32..5000, 1u32..5000, 1u32..6, 1u32..5, 1u32..6),
        dtype in dtype_strategy(),
        order in prop::sample::select(DimensionOrder::ALL.to_vec()),
        phys in prop::array::uniform3(prop::option::of(1e-6f64..1e6)),
        unit in prop::option::of(prop::sample::select(UnitsLength::ALL.to_vec())),
        dt in prop::option::of(0.0f64..1e4),
        names in prop::collection::vec(prop::option::of("[ -~\\t\\n]{0,12}"), 5),
        colors in prop::collection::vec(prop::option::of(any::<i32>()), 5),
    ) {
        let mut spec = ImageSpec::new(name, [sizes.0, sizes.1, sizes.2, sizes.3, sizes.4], dtype);
        spec.dimension_order = order;
        spec.physical_size = phys;
        spec.physical_size_unit = unit;
        spec.time_increment = dt;
        spec.file_name = "f.ome.tif".into();
        spec.channels = (0..sizes.3 as usize)
            .map(|c| ChannelSpec::new(names[c].clone(), colors[c].map(Color)))
            .collect();
        let m = OmeXml::for_image(&spec).unwrap();
        let xml = to_xml(&m);
        let back = parse(&xml, &XmlLimits::default()).unwrap();
        prop_assert_eq!(back, m);
    }
}

#[test]
fn older_namespaces_are_read_and_upgraded() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2013-06"
     xmlns:SPW="http://www.openmicroscopy.org/Schemas/SPW/2013-06"
     xmlns:SA="http://www.openmicroscopy.org/Schemas/SA/2013-06"
     xmlns:Bin="http://www.openmicroscopy.org/Schemas/BinaryFile/2013-06">
  <SPW:Plate ID="Plate:0" Name="p" Rows="1" Columns="2">
    <SPW:Well ID="Well:0" Column="1" Row="0">
      <SPW:WellSample ID="WellSample:0" Index="0"><SPW:ImageRef ID="Image:0"/></SPW:WellSample>
    </SPW:Well>
  </SPW:Plate>
  <Image ID="Image:0">
    <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="2" SizeY="2" SizeZ="1" SizeC="1" SizeT="1" PhysicalSizeX="0.5">
      <Channel ID="Channel:0:0" EmissionWavelength="520"/>
      <Bin:BinData BigEndian="false" Length="4">AAAAAA==</Bin:BinData>
    </Pixels>
  </Image>
  <SA:StructuredAnnotations>
    <SA:CommentAnnotation ID="Annotation:0"><SA:Value>hi</SA:Value></SA:CommentAnnotation>
  </SA:StructuredAnnotations>
</OME>"#;
    let m = parse(xml, &XmlLimits::default()).unwrap();
    assert_eq!(m.namespace, OmeNamespace::V2013_06);
    assert_eq!(m.plates[0].wells[0].column, 1);
    assert_eq!(
        m.plates[0].wells[0].samples[0].image_ref.as_deref(),
        Some("Image:0")
    );
    let px = &m.images[0].pixels;
    assert!(px.has_bin_data());
    assert_eq!(px.physical_sizes_um()[0], Some(0.5));
    assert_eq!(px.channels[0].emission_wavelength, Some(520.0));
    let out = to_xml(&m);
    let back = parse(&out, &XmlLimits::default()).unwrap();
    assert_eq!(back.namespace, OmeNamespace::V2016_06);
    // Prefixes are kept; their declarations now name the 2016-06 namespace.
    assert_eq!(back.images, m.images);
    assert_eq!(back.plates, m.plates);
    if xmllint_present()
        && let Some(r) = xmllint_validate(&out, "upgrade-2013")
    {
        r.unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn mutated_documents_never_panic(cut in 0usize..MINIMAL.len(), at in 0usize..MINIMAL.len(), junk in "[<>&;#x0-9a-zA-Z\"'=/!?\\[\\] -]{0,8}") {
        let mut s: String = MINIMAL.chars().take(at).collect();
        s.push_str(&junk);
        s.extend(MINIMAL.chars().skip(at));
        let _ = parse(&s, &XmlLimits::default());
        let t: String = MINIMAL.chars().take(cut).collect();
        let _ = parse(&t, &XmlLimits::default());
    }
}

/// Element and attribute names must be XML Names (XML 1.0 section 2.3): a fuzzed document
/// with `<>` elements was accepted, and its re-serialisation did not parse.
#[test]
fn names_that_are_not_xml_names_are_refused() {
    use super::raw::is_xml_name;
    use crate::ErrorKind;
    let bad_element = MINIMAL.replace("</Pixels>", "<></></Pixels>");
    let e = parse(&bad_element, &XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    assert!(e.to_string().contains("not an XML Name"), "{e}");
    let bad_attribute = MINIMAL.replace("<Pixels ", "<Pixels Physical#SizeX=\"1\" ");
    let e = parse(&bad_attribute, &XmlLimits::default()).unwrap_err();
    assert!(e.to_string().contains("Physical#SizeX"), "{e}");
    for good in ["OME", "xsi:schemaLocation", "_a.b-c", "ROI:1", "Größe"] {
        assert!(is_xml_name(good), "{good}");
    }
    for bad in ["", "1a", "-a", ".a", "a#b", "a b", "*", "a/"] {
        assert!(!is_xml_name(bad), "{bad:?}");
    }
}
