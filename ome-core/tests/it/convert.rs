//! Whole-dataset conversion: a multi-image OME-TIFF to a bioformats2raw container and back.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use crate::common;

use ndarray::{ArrayD, IxDyn};
use ome_core::convert::{ConvertOptions, Series, write_bioformats2raw, write_series_ome_tiff};
use ome_core::metadata::{NgffVersion, NodeKind};
use ome_core::tiff::{OmeTiff, TiffImage, TiffWriteOptions, write_ome_tiff_images};
use ome_core::{ArraySource, ErrorKind, ImageMetadata, Limits, OmeZarr, WriteOptions};

fn ramp<T: ome_core::Element>(shape: &[usize]) -> ArrayD<T> {
    let mut i = 0usize;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        i += 1;
        T::from_f64((i % 251) as f64)
    })
}

#[test]
fn tiff_to_container_to_tiff() {
    let dir = tempfile::tempdir().unwrap();
    let a = ramp::<u16>(&[2, 70, 90]);
    let b = ramp::<u8>(&[3, 20, 10]);
    let mut ma = ImageMetadata::from_axis_letters("cyx").unwrap();
    ma.name = Some("cells".into());
    let mut mb = ImageMetadata::from_axis_letters("zyx").unwrap();
    mb.name = Some("mask".into());
    let (sa, sb) = (ArraySource::new(a.view()), ArraySource::new(b.view()));
    let src = dir.path().join("two.ome.tif");
    let mut topts = TiffWriteOptions::default();
    topts.tile = (32, 32);
    write_ome_tiff_images(
        &src,
        &[TiffImage::new(&sa, &ma), TiffImage::new(&sb, &mb)],
        &topts,
    )
    .unwrap();

    let limits = Limits::default();
    let series = Series::open(&src, &limits)
        .unwrap()
        .expect("a multi-image TIFF");
    assert_eq!(series.images().len(), 2);
    assert_eq!(series.ome_xml().unwrap().images.len(), 2);
    for version in [NgffVersion::V0_4, NgffVersion::V0_5] {
        let container = dir.path().join(format!("c-{}.ome.zarr", version.as_str()));
        let mut zopts = WriteOptions::default();
        zopts.version = version;
        write_bioformats2raw(
            &container,
            &series,
            None,
            &zopts,
            &ConvertOptions::default(),
            None,
        )
        .unwrap();
        let node = OmeZarr::open(&container).unwrap();
        assert_eq!(node.kind(), NodeKind::Bioformats2raw);
        assert_eq!(node.series().unwrap(), ["0", "1"]);
        assert_eq!(node.ome_xml().unwrap().unwrap().images.len(), 2);
        // The TIFF's pyramid (3 levels of 70 x 90 in 32 x 32 tiles) is copied.
        let s0 = node.child("0").unwrap().image().unwrap();
        assert_eq!(s0.levels().len(), 3);
        assert_eq!(
            common::read_level::<u16>(&s0, 0)
                .into_raw_vec_and_offset()
                .0,
            a.iter().copied().collect::<Vec<_>>()
        );

        // And back: every series in one OME-TIFF, the XML carried.
        let again = Series::open(&container, &limits)
            .unwrap()
            .expect("a container");
        let back = dir
            .path()
            .join(format!("back-{}.ome.tif", version.as_str()));
        let s =
            write_series_ome_tiff(&back, &again, None, &topts, &ConvertOptions::default()).unwrap();
        assert_eq!(s.ome_xml_not_carried, None);
        assert_eq!(s.tiff.image_level_shapes.len(), 2);
        let tiff = std::sync::Arc::new(OmeTiff::open(&back).unwrap());
        assert_eq!(tiff.series_count(), 2);
        let names: Vec<_> = tiff
            .ome_xml()
            .unwrap()
            .images
            .iter()
            .map(|i| i.name.clone())
            .collect();
        assert_eq!(names, [Some("cells".to_string()), Some("mask".to_string())]);
        let b1 = common::read_level::<u8>(&tiff.clone().image(1).unwrap(), 0);
        assert_eq!(
            b1.into_raw_vec_and_offset().0,
            b.iter().copied().collect::<Vec<_>>()
        );
    }

    // Level 1 of every series, where series 1 has only level 0: an error naming the level.
    let mut conv = ConvertOptions::default();
    conv.level = 1;
    let mut o = topts.clone();
    o.levels = Some(1);
    let s = write_series_ome_tiff(dir.path().join("l1.ome.tif"), &series, None, &o, &conv);
    let err = s.expect_err("series 1 has one level");
    assert!(err.to_string().contains("level 1"), "{err}");

    // Metadata of the wrong count is refused; nothing is left behind.
    let metas = series.metadata(0);
    let out = dir.path().join("bad.ome.zarr");
    let e = write_bioformats2raw(
        &out,
        &series,
        Some(&metas[..1]),
        &WriteOptions::default(),
        &ConvertOptions::default(),
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(!out.exists());
    // A single image is not a series set.
    let one = dir.path().join("one.ome.zarr");
    ome_core::write_ome_zarr(&one, b.view(), &mb, &WriteOptions::default(), None).unwrap();
    assert!(Series::open(&one, &limits).unwrap().is_none());
}

/// A bioformats2raw container of a plate (as bioformats2raw writes an HCS fileset): the
/// fields become the images of one OME-TIFF whose OME-XML keeps the plate; a flat container
/// is refused.
#[test]
fn plate_container_to_one_ome_tiff() {
    use ome_core::PlateWriter;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hcs.ome.zarr");
    let mut plate = PlateWriter::create(
        &path,
        Some("p"),
        &["A", "B"],
        &["1", "2"],
        &WriteOptions::default(),
    )
    .unwrap();
    let meta = ImageMetadata::from_axis_letters("cyx").unwrap();
    let mut fields = Vec::new();
    for (row, col) in [("A", "1"), ("A", "1"), ("B", "2")] {
        let data = ramp::<u8>(&[2, 16, 16]).mapv(|v| v.wrapping_add(fields.len() as u8 * 7));
        plate.write_field(row, col, data.view(), &meta).unwrap();
        fields.push(data);
    }
    plate.finish().unwrap();
    // What bioformats2raw adds around a plate: the layout key, the OME group with the
    // series in XML order, and the OME-XML.
    let root = path.join("zarr.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&root).unwrap()).unwrap();
    doc["attributes"]["ome"]["bioformats2raw.layout"] = serde_json::json!(3);
    std::fs::write(&root, doc.to_string()).unwrap();
    std::fs::create_dir_all(path.join("OME")).unwrap();
    std::fs::write(
        path.join("OME/zarr.json"),
        serde_json::json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome":
            {"version": "0.5", "series": ["A/1/0", "A/1/1", "B/2/0"]}}})
        .to_string(),
    )
    .unwrap();
    let image = |i: usize| {
        format!(
            r#"<Image ID="Image:{i}" Name="field {i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" Type="uint8" SizeX="16" SizeY="16" SizeZ="1" SizeC="2" SizeT="1"><Channel ID="Channel:{i}:0" SamplesPerPixel="1"/><Channel ID="Channel:{i}:1" SamplesPerPixel="1"/><MetadataOnly/></Pixels></Image>"#
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Plate ID="Plate:0" Name="p"><Well ID="Well:0" Column="0" Row="0"><WellSample ID="WellSample:0" Index="0"><ImageRef ID="Image:0"/></WellSample><WellSample ID="WellSample:1" Index="1"><ImageRef ID="Image:1"/></WellSample></Well><Well ID="Well:1" Column="1" Row="1"><WellSample ID="WellSample:2" Index="2"><ImageRef ID="Image:2"/></WellSample></Well></Plate>{}{}{}</OME>"#,
        image(0),
        image(1),
        image(2)
    );
    std::fs::write(path.join("OME/METADATA.ome.xml"), xml).unwrap();

    let limits = Limits::default();
    let series = Series::open(&path, &limits)
        .unwrap()
        .expect("a plate container");
    assert!(series.is_plate());
    assert_eq!(series.images().len(), 3);
    let out = dir.path().join("hcs.ome.tif");
    let mut topts = TiffWriteOptions::default();
    topts.tile = (16, 16);
    let s = write_series_ome_tiff(&out, &series, None, &topts, &ConvertOptions::default()).unwrap();
    assert_eq!(s.ome_xml_not_carried, None);
    let tiff = std::sync::Arc::new(OmeTiff::open(&out).unwrap());
    assert_eq!(tiff.series_count(), 3);
    let xml = tiff.ome_xml().unwrap();
    assert_eq!(xml.plates.len(), 1);
    assert_eq!(xml.images[2].name.as_deref(), Some("field 2"));
    for (i, want) in fields.iter().enumerate() {
        let got = common::read_level::<u8>(&tiff.clone().image(i).unwrap(), 0);
        assert_eq!(
            got.into_raw_vec_and_offset().0,
            want.iter().copied().collect::<Vec<_>>(),
            "field {i}"
        );
    }
    // A flat container would lose the plate: refused.
    let e = write_bioformats2raw(
        dir.path().join("flat.ome.zarr"),
        &series,
        None,
        &WriteOptions::default(),
        &ConvertOptions::default(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("plate"), "{e}");

    // Without the series list the fields come in plate order and the XML is not kept.
    std::fs::remove_file(path.join("OME/zarr.json")).unwrap();
    let series = Series::open(&path, &limits).unwrap().unwrap();
    assert_eq!(series.images().len(), 3);
    assert!(series.ome_xml().is_none());
}

/// Random-looking samples: a mean and a nearest pick of them differ almost everywhere.
fn noise(shape: &[usize]) -> ArrayD<u16> {
    let mut x = 0x2545_f491_u32;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x % 4096) as u16
    })
}

/// Every level of `a` and `b` holds the same samples.
fn same_levels(a: &ome_core::Image, b: &ome_core::Image) {
    assert_eq!(a.levels().len(), b.levels().len(), "level count");
    for k in 0..a.levels().len() {
        assert_eq!(
            common::read_level::<u16>(a, k),
            common::read_level::<u16>(b, k),
            "level {k}"
        );
    }
}

/// A 3-level OME-Zarr whose lower levels are nearest picks: a converter that made new
/// (mean) levels instead of copying these would give other samples.
fn nearest_pyramid(path: &std::path::Path, axes: &str, shape: &[usize], factors: Vec<u64>) {
    let data = noise(shape);
    let meta = ImageMetadata::from_axis_letters(axes).unwrap();
    let mut o = WriteOptions::default();
    o.levels = ome_core::pyramid::LevelCount::Exactly(3);
    o.downsample = ome_core::pyramid::Downsample::Nearest;
    o.factors = Some(factors);
    o.chunks = Some(vec![32; shape.len()]);
    ome_core::write_ome_zarr(path, data.view(), &meta, &o, None).unwrap();
}

#[test]
fn the_engine_keeps_the_source_levels_both_ways() {
    use ome_core::convert::{ConvertRequest, PyramidOutcome, PyramidPolicy, convert};
    use ome_core::{Format, Image};
    let dir = tempfile::tempdir().unwrap();
    let zarr = dir.path().join("src.ome.zarr");
    nearest_pyramid(&zarr, "cyx", &[2, 150, 130], vec![1, 2, 2]);
    let source = Image::open(&zarr).unwrap();

    // OME-Zarr to OME-TIFF: the levels become the SubIFDs, sample for sample.
    let tif = dir.path().join("out.ome.tif");
    let mut req = ConvertRequest::default();
    req.tiff.tile = (32, 32);
    let s = convert(&zarr, &tif, &req).unwrap();
    assert_eq!((s.input, s.output), (Format::OmeZarr, Format::OmeTiff));
    assert_eq!(s.pyramid, PyramidOutcome::Copied, "{:?}", s.notes);
    let tiff_image = Image::open(&tif).unwrap();
    assert_eq!(tiff_image.levels()[1].shape, [1, 2, 1, 75, 65]);
    let as_cyx = |image: &Image, k: usize| {
        common::read_level::<u16>(image, k)
            .into_shape_with_order(
                source.levels()[k]
                    .shape
                    .iter()
                    .map(|&d| d as usize)
                    .collect::<Vec<_>>(),
            )
            .unwrap()
    };
    for k in 0..3 {
        assert_eq!(
            as_cyx(&tiff_image, k),
            common::read_level::<u16>(&source, k),
            "level {k}"
        );
    }

    // And back, through the one-image path (a series named) and the series path (none).
    for series in [Some(0), None] {
        let back = dir.path().join(format!("back-{series:?}.ome.zarr"));
        let mut req = ConvertRequest::default();
        req.series = series;
        let s = convert(&tif, &back, &req).unwrap();
        assert_eq!(s.pyramid, PyramidOutcome::Copied);
        let image = match series {
            Some(_) => Image::open(&back).unwrap(),
            None => OmeZarr::open(&back)
                .unwrap()
                .child("0")
                .unwrap()
                .image()
                .unwrap(),
        };
        same_levels(&image, &tiff_image);
        assert_eq!(image.levels()[2].scale, tiff_image.levels()[2].scale);
    }

    // OME-Zarr to OME-Zarr keeps them too; asking for new levels makes mean levels.
    let copy = dir.path().join("copy.ome.zarr");
    let s = convert(&zarr, &copy, &ConvertRequest::default()).unwrap();
    assert_eq!(s.pyramid, PyramidOutcome::Copied);
    assert_eq!(s.level_shapes[0].len(), 3);
    same_levels(&Image::open(&copy).unwrap(), &source);
    let fresh = dir.path().join("fresh.ome.tif");
    let mut req = ConvertRequest::default();
    req.pyramid = PyramidPolicy::New;
    req.tiff.levels = Some(3);
    let s = convert(&zarr, &fresh, &req).unwrap();
    assert_eq!(s.pyramid, PyramidOutcome::Generated);
    let fresh = Image::open(&fresh).unwrap();
    assert_ne!(as_cyx(&fresh, 1), common::read_level::<u16>(&source, 1));
}

#[test]
fn levels_that_downsample_z_are_not_subifds() {
    use ome_core::convert::{ConvertRequest, PyramidOutcome, convert};
    let dir = tempfile::tempdir().unwrap();
    let zarr = dir.path().join("zyx.ome.zarr");
    nearest_pyramid(&zarr, "zyx", &[8, 64, 64], vec![2, 2, 2]);
    let tif = dir.path().join("zyx.ome.tif");
    let s = convert(&zarr, &tif, &ConvertRequest::default()).unwrap();
    assert_eq!(s.pyramid, PyramidOutcome::Generated);
    assert!(
        s.notes.iter().any(|n| n.contains("changes axis z")),
        "{:?}",
        s.notes
    );
    assert_eq!(s.level_shapes[0][0], [1, 1, 8, 64, 64]);
}

#[test]
fn the_engine_refuses_what_does_not_apply() {
    use ome_core::convert::{ConvertRequest, convert};
    let dir = tempfile::tempdir().unwrap();
    let zarr = dir.path().join("a.ome.zarr");
    nearest_pyramid(&zarr, "yx", &[40, 40], vec![2, 2]);
    let mut req = ConvertRequest::default();
    req.metadata.axes = Some("yx".into());
    let e = convert(&zarr, dir.path().join("b.ome.zarr"), &req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(e.to_string().contains(".npy input"), "{e}");
    let mut req = ConvertRequest::default();
    req.selection = Some("y=0:4".parse().unwrap());
    let e = convert(&zarr, dir.path().join("b.ome.tif"), &req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    let mut req = ConvertRequest::default();
    req.level = 5;
    let e = convert(&zarr, dir.path().join("c.ome.zarr"), &req).unwrap_err();
    assert!(e.to_string().contains("level 5 does not exist"), "{e}");
    assert!(!dir.path().join("c.ome.zarr").exists());
}
