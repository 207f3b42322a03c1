//! OME-TIFF write → read round trips, and hostile files.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use crate::common;

use ndarray::{ArrayD, Dimension, IxDyn};
use ome_core::tiff::{OmeTiff, TiffCompression, TiffWriteOptions, write_ome_tiff};
use ome_core::{ArraySource, Element, ErrorKind, Image, ImageMetadata, Location};

fn pattern<T: Element>(shape: &[usize]) -> ArrayD<T> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        let v: usize = ix
            .slice()
            .iter()
            .enumerate()
            .map(|(k, &i)| i * (k * 31 + 7))
            .sum();
        T::from_f64((v % 120) as f64)
    })
}

fn round_trip<T: Element>(letters: &str, shape: &[usize], opts: &TiffWriteOptions) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("rt.ome.tif");
    let a = pattern::<T>(shape);
    let meta = ImageMetadata::from_axis_letters(letters).unwrap_or_else(|e| panic!("{e}"));
    let summary = write_ome_tiff(&path, &ArraySource::new(a.view()), &meta, opts)
        .unwrap_or_else(|e| panic!("{e}"));
    let image = Image::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.levels().len(), summary.level_shapes.len());
    let l0 = image.levels()[0].shape.clone();
    let back = image
        .read_region(0, &[0; 5], &l0)
        .unwrap_or_else(|e| panic!("{e}"));
    let back = T::from_dyn_array_owned(back).unwrap_or_else(|_| panic!("dtype"));
    // Put the written array into t,c,z,y,x order.
    let mut full = a.clone();
    for name in ["t", "c", "z", "y", "x"] {
        if !letters.contains(name) {
            full.insert_axis_inplace(ndarray::Axis(full.ndim()));
        }
    }
    let order: String = {
        let mut o = letters.to_string();
        for n in ["t", "c", "z", "y", "x"] {
            if !o.contains(n) {
                o.push_str(n);
            }
        }
        o
    };
    let perm: Vec<usize> = "tczyx"
        .chars()
        .map(|ch| order.find(ch).unwrap_or(0))
        .collect();
    let full = full.permuted_axes(perm);
    assert_eq!(back, full, "{letters} {shape:?} {opts:?}");
    // Each level reads and has halved y, x.
    for (k, lvl) in image.levels().iter().enumerate().skip(1) {
        let r = image
            .read_region(k, &[0; 5], &lvl.shape)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.shape(),
            lvl.shape.iter().map(|&d| d as usize).collect::<Vec<_>>()
        );
    }
}

#[test]
fn dtypes_compressions_tiles_pyramids() {
    for comp in [
        TiffCompression::None,
        TiffCompression::Deflate,
        TiffCompression::Zstd,
        TiffCompression::Lzw,
    ] {
        for (tile, levels, big, predictor) in [
            ((16, 16), Some(3), Some(false), false),
            ((32, 64), None, Some(true), true),
            ((256, 256), Some(1), None, true),
        ] {
            let mut o = TiffWriteOptions::default();
            o.compression = comp;
            o.tile = tile;
            o.levels = levels;
            o.bigtiff = big;
            o.predictor = predictor;
            round_trip::<u8>("yx", &[70, 90], &o);
            round_trip::<u16>("czyx", &[2, 3, 50, 41], &o);
            round_trip::<i16>("tcyx", &[2, 2, 33, 17], &o);
            round_trip::<u32>("zyx", &[2, 20, 20], &o);
            round_trip::<f32>("cyx", &[3, 40, 40], &o);
            round_trip::<f64>("yx", &[17, 19], &o);
            round_trip::<i8>("tczyx", &[1, 2, 2, 20, 33], &o);
        }
    }
}

#[test]
fn pyramid_levels_are_subifds() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("p.ome.tif");
    let a = pattern::<u16>(&[2, 200, 300]);
    let meta = ImageMetadata::from_axis_letters("cyx").unwrap_or_else(|e| panic!("{e}"));
    let mut o = TiffWriteOptions::default();
    o.tile = (64, 64);
    let s = write_ome_tiff(&path, &ArraySource::new(a.view()), &meta, &o)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.level_shapes.len(), 4);
    let t = OmeTiff::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.series()[0].level_shapes[1], [1, 2, 1, 100, 150]);
    assert!(t.ome_xml().is_some());
    // Existing file without overwrite.
    let e = write_ome_tiff(&path, &ArraySource::new(a.view()), &meta, &o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

fn classic(entries: &[(u16, u16, u32, u32)], extra: &[u8]) -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend_from_slice(&8u32.to_le_bytes());
    v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for &(t, ty, n, val) in entries {
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        v.extend_from_slice(&n.to_le_bytes());
        v.extend_from_slice(&val.to_le_bytes());
    }
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(extra);
    v
}

fn hostile(name: &str, bytes: &[u8]) -> ome_core::Error {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let r = OmeTiff::open(&path).and_then(|t| {
        let shape = t.series()[0].level_shapes[0];
        t.read_region(0, 0, &[0; 5], &shape)
    });
    let e = r.unwrap_err();
    assert!(e.to_string().contains(name), "{e}");
    e
}

#[test]
fn hostile_files_give_typed_errors() {
    // IFD loop: next pointer back to the first IFD.
    let mut b = classic(&[(256, 3, 1, 4), (257, 3, 1, 4)], &[]);
    let n = b.len();
    b[n - 4..].copy_from_slice(&8u32.to_le_bytes());
    let e = hostile("loop.tif", &b);
    assert!(
        matches!(e.location(), Location::Tiff { ifd: Some(1), .. }),
        "{e}"
    );
    // Strip offsets past the end.
    let e = hostile(
        "past.tif",
        &classic(
            &[
                (256, 3, 1, 4),
                (257, 3, 1, 4),
                (258, 3, 1, 8),
                (273, 4, 1, 100_000),
                (279, 4, 1, 16),
            ],
            &[],
        ),
    );
    assert!(
        matches!(e.location(), Location::Tiff { tag: Some(273), .. }),
        "{e}"
    );
    // Huge count.
    let e = hostile(
        "huge.tif",
        &classic(&[(256, 3, 1, 4), (273, 4, 0x4000_0000, 8)], &[]),
    );
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded);
    // width x height x samples overflow.
    let e = hostile(
        "overflow.tif",
        &classic(
            &[
                (256, 4, 1, u32::MAX),
                (257, 4, 1, u32::MAX),
                (258, 3, 1, 64),
                (277, 3, 1, 64),
                (339, 3, 1, 1),
                (273, 4, 1, 8),
                (279, 4, 1, 1),
            ],
            &[],
        ),
    );
    assert!(
        matches!(e.location(), Location::Tiff { tag: Some(256), .. }),
        "{e}"
    );
    // Truncated strip: 4x4 uint8 deflate with 3 bytes of stream.
    let e = hostile(
        "trunc.tif",
        &classic(
            &[
                (256, 3, 1, 4),
                (257, 3, 1, 4),
                (258, 3, 1, 8),
                (259, 3, 1, 8),
                (273, 4, 1, 8),
                (279, 4, 1, 3),
            ],
            &[],
        ),
    );
    assert_eq!(e.kind(), ErrorKind::Format);
    // XML bomb in ImageDescription.
    let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">&lol2;</OME>\0";
    let mut head = classic(
        &[
            (256, 3, 1, 4),
            (257, 3, 1, 4),
            (270, 2, bomb.len() as u32, 0),
            (258, 3, 1, 8),
            (273, 4, 1, 8),
            (279, 4, 1, 16),
        ],
        &[],
    );
    let at = head.len() as u32;
    head[8 + 2 + 2 * 12 + 8..8 + 2 + 2 * 12 + 12].copy_from_slice(&at.to_le_bytes());
    head.extend_from_slice(bomb);
    let e = hostile("bomb.ome.tif", &head);
    assert!(
        matches!(e.location(), Location::Tiff { tag: Some(270), .. }),
        "{e}"
    );
}

/// Reads level `level` of `series` of `path` in t, c, z, y, x order.
fn read_series<T: Element>(path: &std::path::Path, series: usize, level: usize) -> ArrayD<T> {
    let tiff = std::sync::Arc::new(OmeTiff::open(path).unwrap_or_else(|e| panic!("{e}")));
    common::read_level(&tiff.image(series).unwrap_or_else(|e| panic!("{e}")), level)
}

#[test]
fn several_images_in_one_file() {
    use ome_core::tiff::{TiffImage, write_ome_tiff_images};
    let dir = tempfile::tempdir().unwrap();
    let a = pattern::<u16>(&[2, 70, 90]);
    let b = pattern::<u8>(&[3, 20, 10]);
    let c = pattern::<f32>(&[2, 1, 2, 40, 33]);
    let mut ma = ImageMetadata::from_axis_letters("cyx").unwrap();
    ma.name = Some("first".into());
    ma.channel_names = vec!["DAPI".into(), "GFP".into()];
    let mb = ImageMetadata::from_axis_letters("zyx").unwrap();
    let mc = ImageMetadata::from_axis_letters("tczyx").unwrap();
    let (sa, sb, sc) = (
        ArraySource::new(a.view()),
        ArraySource::new(b.view()),
        ArraySource::new(c.view()),
    );
    // Unbuffered (O_DIRECT) and buffered output, here and on tmpfs where there is one: the
    // same images either way, whatever the filesystem allows (the tile order in the file
    // follows the parallel compression, so the bytes may differ).
    let shm = std::path::Path::new("/dev/shm");
    let shm_dir = shm.is_dir().then(|| tempfile::tempdir_in(shm).unwrap());
    let mut cases = vec![
        (false, false, dir.path()),
        (true, false, dir.path()),
        (true, true, dir.path()),
    ];
    if let Some(d) = &shm_dir {
        cases.push((false, true, d.path()));
    }
    for (big, direct, where_) in cases {
        let path = where_.join(format!("three-{big}-{direct}.ome.tif"));
        let mut opts = TiffWriteOptions::default();
        opts.tile = (32, 32);
        opts.bigtiff = Some(big);
        opts.direct_io = Some(direct);
        opts.compression = TiffCompression::Zstd;
        let summary = write_ome_tiff_images(
            &path,
            &[
                TiffImage::new(&sa, &ma),
                TiffImage::new(&sb, &mb),
                TiffImage::new(&sc, &mc),
            ],
            &opts,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.bigtiff, big);
        assert_eq!(summary.image_level_shapes.len(), 3);
        assert_eq!(summary.image_level_shapes[0][1], [1, 2, 1, 35, 45]);
        assert_eq!(summary.image_level_shapes[1].len(), 1);
        let tiff = OmeTiff::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tiff.series_count(), 3);
        let xml = tiff.ome_xml().unwrap();
        let names: Vec<_> = xml.images.iter().map(|i| i.name.clone()).collect();
        assert_eq!(
            names,
            [
                Some("first".to_string()),
                Some(format!("three-{big}-{direct} #2")),
                Some(format!("three-{big}-{direct} #3"))
            ]
        );
        // TiffData of image i continues after the planes of the images before it, one
        // UUID for the file.
        let ifds: Vec<Vec<u32>> = xml
            .images
            .iter()
            .map(|i| i.pixels.tiff_data.iter().filter_map(|t| t.ifd).collect())
            .collect();
        assert_eq!(ifds, [vec![0, 1], vec![2, 3, 4], vec![5, 6, 7, 8]]);
        assert_eq!(xml.images[2].pixels.channels[0].id, "Channel:2:0");
        assert_eq!(
            xml.images[0].pixels.channels[1].name.as_deref(),
            Some("GFP")
        );
        drop(tiff);
        let a5 = a
            .clone()
            .into_shape_with_order(IxDyn(&[1, 2, 1, 70, 90]))
            .unwrap();
        assert_eq!(read_series::<u16>(&path, 0, 0), a5);
        let b5 = b
            .clone()
            .into_shape_with_order(IxDyn(&[1, 1, 3, 20, 10]))
            .unwrap();
        assert_eq!(read_series::<u8>(&path, 1, 0), b5);
        assert_eq!(read_series::<f32>(&path, 2, 0), c);
        // Level 1 of image 0: the 2x2 mean of level 0.
        let l1 = read_series::<u16>(&path, 0, 1);
        let want = ome_core::pyramid::downsample(
            a5.view(),
            &[1, 1, 1, 2, 2],
            ome_core::pyramid::Downsample::Mean,
        )
        .unwrap();
        assert_eq!(l1, want);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), summary.bytes);
    }
}

#[test]
fn carried_ome_xml_keeps_metadata_and_checks_sizes() {
    use ome_core::tiff::{TiffImage, write_ome_tiff_images};
    let dir = tempfile::tempdir().unwrap();
    let a = pattern::<u16>(&[2, 30, 40]);
    let b = pattern::<u8>(&[20, 10]);
    let ma = ImageMetadata::from_axis_letters("cyx").unwrap();
    let mb = ImageMetadata::from_axis_letters("yx").unwrap();
    let (sa, sb) = (ArraySource::new(a.view()), ArraySource::new(b.view()));
    let template_xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:0b7f4e0a-0000-4000-8000-000000000000">
  <Instrument ID="Instrument:0"><Objective ID="Objective:0:0" NominalMagnification="40"/></Instrument>
  <Image ID="Image:0" Name="cells"><AcquisitionDate>2020-01-02T03:04:05</AcquisitionDate><Description>two channels</Description>
    <InstrumentRef ID="Instrument:0"/>
    <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="40" SizeY="30" SizeZ="1" SizeC="2" SizeT="1" PhysicalSizeX="0.5" PhysicalSizeY="0.5">
      <Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1" EmissionWavelength="461"/>
      <Channel ID="Channel:0:1" Name="GFP" SamplesPerPixel="1"/>
      <MetadataOnly/>
      <Plane TheZ="0" TheC="1" TheT="0" ExposureTime="0.25"/>
    </Pixels>
    <AnnotationRef ID="Annotation:0"/>
  </Image>
  <Image ID="Image:1" Name="mask">
    <Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint8" SizeX="10" SizeY="20" SizeZ="1" SizeC="1" SizeT="1">
      <Channel ID="Channel:1:0" SamplesPerPixel="1"/>
      <MetadataOnly/>
    </Pixels>
  </Image>
  <StructuredAnnotations><MapAnnotation ID="Annotation:0"><Value><M K="a">b</M></Value></MapAnnotation></StructuredAnnotations>
</OME>"#;
    let template = ome_core::ome_xml::parse(template_xml, &ome_core::ome_xml::XmlLimits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("carried.ome.tif");
    let mut opts = TiffWriteOptions::default();
    opts.tile = (16, 16);
    opts.ome_xml = Some(template.clone());
    let images = [TiffImage::new(&sa, &ma), TiffImage::new(&sb, &mb)];
    write_ome_tiff_images(&path, &images, &opts).unwrap_or_else(|e| panic!("{e}"));
    let tiff = OmeTiff::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let xml = tiff.ome_xml().unwrap();
    assert_eq!(xml.instruments.len(), 1);
    assert!(xml.structured_annotations.is_some());
    let im = &xml.images[0];
    assert_eq!(im.name.as_deref(), Some("cells"));
    assert_eq!(im.description.as_deref(), Some("two channels"));
    assert_eq!(im.acquisition_date.as_deref(), Some("2020-01-02T03:04:05"));
    assert_eq!(im.instrument_ref.as_deref(), Some("Instrument:0"));
    assert_eq!(im.pixels.physical_size_x, Some(0.5));
    assert_eq!(im.pixels.channels[0].emission_wavelength, Some(461.0));
    assert_eq!(im.pixels.planes.len(), 1);
    assert!(!im.pixels.metadata_only);
    assert_eq!(im.pixels.tiff_data.len(), 2);
    assert_eq!(xml.images[1].pixels.tiff_data[0].ifd, Some(2));
    assert_ne!(xml.uuid, template.uuid);
    drop(tiff);
    let a5 = a
        .clone()
        .into_shape_with_order(IxDyn(&[1, 2, 1, 30, 40]))
        .unwrap();
    assert_eq!(read_series::<u16>(&path, 0, 0), a5);

    // An XML describing other pixels is refused before any file is made.
    let bad = dir.path().join("bad.ome.tif");
    let swapped = [TiffImage::new(&sb, &mb), TiffImage::new(&sa, &ma)];
    let e = write_ome_tiff_images(&bad, &swapped, &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage, "{e}");
    assert!(e.to_string().contains("Image 0"), "{e}");
    let e = write_ome_tiff_images(&bad, &images[..1], &opts).unwrap_err();
    assert!(e.to_string().contains("2 Image elements"), "{e}");
    assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1);
}

/// A source whose reads fail past a given row.
struct Failing(Vec<u64>);

impl ome_core::RegionSource for Failing {
    fn shape(&self) -> &[u64] {
        &self.0
    }
    fn dtype(&self) -> ome_core::DType {
        ome_core::DType::U8
    }
    fn read_region(&self, _start: &[u64], _shape: &[u64]) -> ome_core::Result<ome_core::DynArray> {
        Err(ome_core::Error::usage("the second image cannot be read"))
    }
}

#[test]
fn a_failing_image_leaves_no_file() {
    use ome_core::tiff::{TiffImage, write_ome_tiff_images};
    let dir = tempfile::tempdir().unwrap();
    let a = pattern::<u8>(&[40, 40]);
    let m = ImageMetadata::from_axis_letters("yx").unwrap();
    let sa = ArraySource::new(a.view());
    let bad = Failing(vec![64, 64]);
    let path = dir.path().join("half.ome.tif");
    let e = write_ome_tiff_images(
        &path,
        &[TiffImage::new(&sa, &m), TiffImage::new(&bad, &m)],
        &TiffWriteOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("second image"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let e = write_ome_tiff_images(&path, &[], &TiffWriteOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
}

#[test]
fn axis_units_become_ome_units() {
    let dir = tempfile::tempdir().unwrap();
    let a = pattern::<u8>(&[2, 3, 16, 16]);
    let mut meta = ImageMetadata::from_axis_letters("tzyx").unwrap();
    for (axis, unit) in
        meta.axes
            .iter_mut()
            .zip(["millisecond", "micrometer", "nanometer", "nanometer"])
    {
        axis.unit = Some(unit.to_string());
    }
    meta.scale = Some(vec![250.0, 2.0, 100.0, 100.0]);
    let path = dir.path().join("units.ome.tif");
    write_ome_tiff(
        &path,
        &ArraySource::new(a.view()),
        &meta,
        &TiffWriteOptions::default(),
    )
    .unwrap();
    let tiff = OmeTiff::open(&path).unwrap();
    let px = &tiff.ome_xml().unwrap().images[0].pixels;
    let nm = ome_core::ome_xml::UnitsLength::from_symbol("nm");
    // z in µm is written in x's unit, nm: one unit for the three sizes.
    assert_eq!(
        (px.physical_size_x, px.physical_size_y, px.physical_size_z),
        (Some(100.0), Some(100.0), Some(2000.0))
    );
    assert_eq!((px.physical_size_x_unit, px.physical_size_z_unit), (nm, nm));
    assert_eq!(px.time_increment, Some(250.0));
    assert_eq!(
        px.time_increment_unit,
        ome_core::ome_xml::UnitsTime::from_symbol("ms")
    );
    // And back: the time unit is the t axis unit of the image.
    let image = std::sync::Arc::new(tiff).image(0).unwrap();
    assert_eq!(image.axes()[0].unit.as_deref(), Some("millisecond"));
    assert_eq!(image.axes()[4].unit.as_deref(), Some("nanometer"));
}

/// A source that, the first time the writer asks for its shape (after the writer checked
/// that the output does not exist), waits until the other writer got that far too: the two
/// writes then race to commit.
struct Gated<'a> {
    inner: ArraySource<'a, u8>,
    gate: &'a std::sync::Barrier,
    passed: std::sync::atomic::AtomicBool,
}

impl ome_core::RegionSource for Gated<'_> {
    fn shape(&self) -> &[u64] {
        if !self.passed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.gate.wait();
        }
        self.inner.shape()
    }

    fn dtype(&self) -> ome_core::DType {
        self.inner.dtype()
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> ome_core::Result<ome_core::DynArray> {
        self.inner.read_region(start, shape)
    }
}

#[test]
fn two_writers_racing_on_one_output_one_wins_the_other_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.ome.tif");
    let meta = ImageMetadata::from_axis_letters("yx").unwrap();
    let arrays: Vec<ArrayD<u8>> = (1..=2u8)
        .map(|v| ArrayD::from_elem(IxDyn(&[64, 64]), v))
        .collect();
    let gate = std::sync::Barrier::new(2);
    let opts = TiffWriteOptions::default();
    let results: Vec<ome_core::Result<_>> = std::thread::scope(|s| {
        let handles: Vec<_> = arrays
            .iter()
            .map(|a| {
                let (gate, path, meta, opts) = (&gate, &path, &meta, &opts);
                s.spawn(move || {
                    let src = Gated {
                        inner: ArraySource::new(a.view()),
                        gate,
                        passed: std::sync::atomic::AtomicBool::new(false),
                    };
                    write_ome_tiff(path, &src, meta, opts)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results[1 - winners[0]].as_ref().unwrap_err();
    assert_eq!(loser.kind(), ErrorKind::Usage, "{loser}");
    assert!(loser.to_string().contains("race.ome.tif"), "{loser}");
    // The file is the winner's, whole; no temporary file is left behind.
    let image = Image::open(&path).unwrap();
    let back = image
        .read_region(0, &[0; 5], &image.levels()[0].shape)
        .unwrap();
    let back = u8::from_dyn_array_owned(back).unwrap_or_else(|_| panic!("dtype"));
    let want = winners[0] as u8 + 1;
    assert!(back.iter().all(|&v| v == want));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["race.ome.tif"]);
}
