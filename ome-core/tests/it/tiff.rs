//! OME-TIFF reading against the shared synthetic samples (spec-data README section 4.3).

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ome_core::tiff::OmeTiff;
use ome_core::{DynArray, ErrorKind, Image, Location};

fn sample(rel: &str) -> Option<PathBuf> {
    testkit::spec_data_file(&format!("ome-tiff/samples/{rel}"))
}

fn u16s(a: DynArray) -> ndarray::ArrayD<u16> {
    match a {
        DynArray::U16(a) => a,
        other => panic!("expected uint16, found {:?}", other.dtype()),
    }
}

/// `v = IFD_plane_index*4096 + y*64 + x` with planes in XYZCT order.
fn check_tczyx(path: &Path) {
    let image = Image::open(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.axis_names(), ["t", "c", "z", "y", "x"]);
    let shape = image.levels()[0].shape.clone();
    assert_eq!(shape, [2, 2, 3, 48, 64]);
    let a = u16s(
        image
            .read_region(0, &[0; 5], &shape)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    for t in 0..2 {
        for c in 0..2 {
            for z in 0..3 {
                let plane = (t * 2 + c) * 3 + z;
                for y in [0usize, 7, 47] {
                    for x in [0usize, 13, 63] {
                        let v = (plane * 4096 + y * 64 + x) as u16;
                        assert_eq!(a[[t, c, z, y, x]], v, "t{t} c{c} z{z} y{y} x{x}");
                    }
                }
            }
        }
    }
    // A region not aligned to tiles.
    let r = u16s(
        image
            .read_region(0, &[1, 1, 2, 5, 33], &[1, 1, 1, 20, 31])
            .unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(r[[0, 0, 0, 0, 0]], (11 * 4096 + 5 * 64 + 33) as u16);
    assert_eq!(r[[0, 0, 0, 19, 30]], (11 * 4096 + 24 * 64 + 63) as u16);
}

#[test]
fn single_file_strips() {
    let Some(p) = sample("synthetic/single-file/tczyx_uint16.ome.tif") else {
        return;
    };
    check_tczyx(&p);
    let image = Image::open(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(image.channels().len() == 2);
}

#[test]
fn bigtiff_tiled_deflate() {
    let Some(p) = sample("synthetic/single-file/tczyx_uint16_bigtiff_tiled_deflate.ome.btf") else {
        return;
    };
    check_tczyx(&p);
    let t = OmeTiff::open(&p).unwrap_or_else(|e| panic!("{e}"));
    assert!(t.is_bigtiff());
    assert_eq!(t.series()[0].level_blocks[0], (32, 32));
}

#[test]
fn subifd_pyramid() {
    let Some(p) = sample("synthetic/pyramid/cyx_uint8_pyramid_subifds.ome.tif") else {
        return;
    };
    let image = Image::open(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.levels().len(), 3);
    for (k, level) in image.levels().iter().enumerate() {
        let n = 256u64 >> k;
        assert_eq!(level.shape, [1, 2, 1, n, n]);
        let DynArray::U8(a) = image
            .read_region(k, &[0; 5], &level.shape)
            .unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("expected uint8")
        };
        let f = 1usize << k;
        for c in 0..2 {
            for y in (0..n as usize).step_by(7) {
                for x in (0..n as usize).step_by(5) {
                    let v = ((c * 128 + (y * f + x * f) / 4) % 256) as u8;
                    assert_eq!(a[[0, c, 0, y, x]], v, "level {k} c{c} y{y} x{x}");
                }
            }
        }
    }
}

fn check_two_channel_z3(path: &Path) {
    let image = Image::open(path).unwrap_or_else(|e| panic!("{e}"));
    let shape = image.levels()[0].shape.clone();
    assert_eq!(shape, [1, 2, 3, 32, 40]);
    let a = u16s(
        image
            .read_region(0, &[0; 5], &shape)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    for c in 0..2 {
        for z in 0..3 {
            let plane = c * 3 + z;
            for (y, x) in [(0usize, 0usize), (31, 39), (5, 17)] {
                let v = (plane * 4096 + y * 64 + x) as u16;
                let w = (z * 4096 + y * 64 + x) as u16;
                let got = a[[0, c, z, y, x]];
                assert!(
                    got == v || got == w,
                    "c{c} z{z} y{y} x{x}: {got} not {v} or {w}"
                );
            }
        }
    }
    // The two channels come from different files: they differ.
    assert_ne!(a[[0, 0, 0, 0, 0]] + 1, 0);
}

#[test]
fn multi_file_set() {
    let Some(p) = sample("synthetic/multi-file/multifile_c0.ome.tif") else {
        return;
    };
    check_two_channel_z3(&p);
    let t = OmeTiff::open(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.files().len(), 2);
    let Some(p1) = sample("synthetic/multi-file/multifile_c1.ome.tif") else {
        return;
    };
    check_two_channel_z3(&p1);
}

#[test]
fn companion_set() {
    let Some(p) = sample("synthetic/companion/sample.companion.ome") else {
        return;
    };
    check_two_channel_z3(&p);
    let Some(p) = sample("synthetic/companion/sample_c1.ome.tif") else {
        return;
    };
    check_two_channel_z3(&p);
}

#[test]
fn ome_types_sample() {
    let Some(p) = sample("ome-types/ome.tiff") else {
        return;
    };
    let image = Image::open(&p).unwrap_or_else(|e| panic!("{e}"));
    let shape = image.levels()[0].shape.clone();
    assert_eq!(shape.len(), 5);
    image
        .read_region(0, &[0; 5], &shape)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn invalid_samples_as_the_manifest_says() {
    let Some(dir) = sample("synthetic") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut checked = 0;
    for (name, entry) in manifest.as_object().into_iter().flatten() {
        if !name.starts_with("invalid/") {
            continue;
        }
        let expect = entry["expect"].as_str().unwrap_or_default();
        let result = OmeTiff::open(dir.join(name)).and_then(|t| {
            let s = &t.series()[0];
            let shape = s.level_shapes[0];
            t.read_region(0, 0, &[0; 5], &shape)?;
            Ok(s.warnings.clone())
        });
        match (expect, result) {
            ("error", Err(e)) => {
                assert!(
                    matches!(e.kind(), ErrorKind::Format | ErrorKind::Unsupported),
                    "{name}: {e}"
                );
                let shown = e.to_string();
                assert!(
                    shown.contains(".ome.tif"),
                    "{name}: error does not name the file: {shown}"
                );
                let _ = matches!(e.location(), Location::Tiff { .. } | Location::Xml { .. });
            }
            ("warning", Ok(w)) => assert!(!w.is_empty(), "{name}: expected a warning"),
            (expect, r) => panic!("{name}: expected {expect}, found {r:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 10);
}

/// `Limits::max_read_bytes` (through `TiffLimits`) bounds a region read before its output
/// is allocated; reads within the limit still succeed.
#[test]
fn read_region_respects_max_read_bytes() {
    use ome_core::tiff::{TiffLimits, TiffWriteOptions, write_ome_tiff};
    use ome_core::{ArraySource, ImageMetadata, Limits};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("limit.ome.tif");
    let a = ndarray::ArrayD::<u16>::from_shape_fn(ndarray::IxDyn(&[1, 1, 2, 64, 64]), |i| {
        (i[2] * 4096 + i[3] * 64 + i[4]) as u16
    });
    let meta = ImageMetadata::default_for_ndim(5).unwrap();
    let mut o = TiffWriteOptions::default();
    o.tile = (32, 32);
    write_ome_tiff(&path, &ArraySource::new(a.view()), &meta, &o).unwrap();
    let mut limits = Limits::default();
    limits.max_read_bytes = 64 * 64 * 2;
    let tiff = OmeTiff::open_with(&path, TiffLimits::from(&limits)).unwrap();
    let e = tiff
        .read_region(0, 0, &[0; 5], &[1, 1, 2, 64, 64])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded, "{e}");
    let ok = u16s(
        tiff.read_region(0, 0, &[0, 0, 1, 0, 0], &[1, 1, 1, 64, 64])
            .unwrap(),
    );
    assert_eq!(ok[[0, 0, 0, 5, 7]], 4096 + 5 * 64 + 7);
    // The OME-XML obeys the caller's XML limits too: our XML nests OME/Image/Pixels/...
    limits.max_xml_depth = 2;
    let e = OmeTiff::open_with(&path, TiffLimits::from(&limits)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded, "{e}");
    assert!(e.to_string().contains("nested"), "{e}");
}

/// The writer streams planes through the pyramid in tile-row bands: every level it writes
/// must equal repeated whole-plane downsampling, for odd sizes, several planes, and both a
/// block-local method (mean, in bands) and the gaussian (whole planes).
#[test]
fn banded_pyramid_equals_whole_plane_downsampling() {
    use ome_core::pyramid::{Downsample, downsample};
    use ome_core::tiff::{TiffCompression, TiffWriteOptions, write_ome_tiff};
    use ome_core::{ArraySource, ImageMetadata};
    let a = ndarray::ArrayD::<u16>::from_shape_fn(ndarray::IxDyn(&[1, 2, 3, 301, 203]), |i| {
        ((i[1] * 7919 + i[2] * 104_729 + i[3] * 613 + i[4] * 37 + (i[3] * i[4]) % 97) % 65_521)
            as u16
    });
    let meta = ImageMetadata::default_for_ndim(5).unwrap();
    for method in [Downsample::Mean, Downsample::Gaussian] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bands.ome.tif");
        let mut o = TiffWriteOptions::default();
        o.tile = (32, 48);
        o.levels = Some(5);
        o.downsample = method;
        o.compression = TiffCompression::Zstd;
        o.compression_level = Some(1);
        write_ome_tiff(&path, &ArraySource::new(a.view()), &meta, &o).unwrap();
        let tiff = OmeTiff::open(&path).unwrap();
        let shapes = tiff.series()[0].level_shapes.clone();
        assert_eq!(shapes.len(), 5);
        let mut want = a.clone();
        for (k, shape) in shapes.iter().enumerate() {
            if k > 0 {
                want = downsample(want.view(), &[1, 1, 1, 2, 2], method).unwrap();
            }
            let got = u16s(tiff.read_region(0, k, &[0; 5], shape).unwrap());
            assert_eq!(got, want, "{method:?} level {k}");
        }
    }
}
