//! OME-TIFF write → read round trips, and hostile files.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

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
