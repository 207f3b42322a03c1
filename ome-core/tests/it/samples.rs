//! The real samples in ../shared/spec-data read as their manifests say.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use crate::common;

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::NodeKind;
use ome_core::{DynArray, Image, OmeZarr, Selection};

fn u16_array(d: DynArray) -> ArrayD<u16> {
    match d {
        DynArray::U16(a) => a,
        other => panic!("expected uint16, found {}", other.dtype()),
    }
}

/// `s0[t,c,z,y,x] = ((t*SizeC + c)*SizeZ + z)*4096 + y*64 + x`, `s1 = s0[.., 2y+1, 2x+1]`.
fn expected_level(shape0: &[usize], level: usize) -> ArrayD<u16> {
    let f = 1usize << level;
    let shape: Vec<usize> = shape0
        .iter()
        .enumerate()
        .map(|(i, &d)| if i >= 3 { d / f } else { d })
        .collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let (y, x) = if level == 0 {
            (ix[3], ix[4])
        } else {
            (f * ix[3] + f - 1, f * ix[4] + f - 1)
        };
        (((ix[0] * shape0[1] + ix[1]) * shape0[2] + ix[2]) * 4096 + y * 64 + x) as u16
    })
}

#[test]
fn synthetic_images_read_as_the_manifest_says() {
    let Some(root) = common::spec_data("synthetic_images_read_as_the_manifest_says") else {
        return;
    };
    let valid = root.join("ngff/samples/synthetic/valid");
    for (rel, version, zarr_format, sharded) in [
        ("v0.4/image_tczyx_labels.ome.zarr", "0.4", 2, false),
        ("v0.5/image_tczyx_labels.ome.zarr", "0.5", 3, false),
        ("v0.5/image_tczyx_sharded.ome.zarr", "0.5", 3, true),
    ] {
        let path = valid.join(rel);
        let node = OmeZarr::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(node.kind(), NodeKind::Image, "{rel}");
        assert_eq!(
            node.version().map(|v| v.as_str().to_string()).as_deref(),
            Some(version),
            "{rel}"
        );
        assert_eq!(node.zarr_format().number(), zarr_format);
        let image = node.image().unwrap();
        assert_eq!(image.axis_names(), ["t", "c", "z", "y", "x"]);
        assert_eq!(image.levels().len(), 2, "{rel}");
        let l0 = &image.levels()[0];
        assert_eq!(l0.shape, vec![1, 2, 4, 64, 64]);
        assert_eq!(l0.chunks, vec![1, 1, 2, 32, 32]);
        assert_eq!(l0.shards.is_some(), sharded);
        assert_eq!(l0.scale.as_deref(), Some(&[1.0, 1.0, 2.0, 0.5, 0.5][..]));
        assert_eq!(
            image.levels()[1].translation.as_deref(),
            Some(&[0.0, 0.0, 0.0, 0.25, 0.25][..])
        );
        for level in 0..2 {
            let got = u16_array(image.read(level, &Selection::all()).unwrap());
            assert_eq!(
                got,
                expected_level(&[1, 2, 4, 64, 64], level),
                "{rel} level {level}"
            );
        }
        // A region that straddles chunk borders.
        let region = u16_array(
            image
                .read_region(0, &[0, 1, 1, 20, 30], &[1, 1, 2, 20, 20])
                .unwrap(),
        );
        let full = expected_level(&[1, 2, 4, 64, 64], 0);
        assert_eq!(
            region,
            full.slice(ndarray::s![0..1, 1..2, 1..3, 20..40, 30..50])
                .into_dyn()
        );
        if !sharded {
            assert_eq!(
                node.label_names().unwrap(),
                vec!["cells".to_string()],
                "{rel}"
            );
            let labels = node.label("cells").unwrap();
            let DynArray::U32(l) = labels.read(0, &Selection::all()).unwrap() else {
                panic!("labels are uint32")
            };
            assert_eq!(l.shape(), &[1, 1, 4, 64, 64]);
            assert_eq!(l[[0, 0, 0, 10, 10]], 1);
            assert_eq!(l[[0, 0, 0, 40, 20]], 2);
            assert_eq!(l[[0, 0, 0, 45, 55]], 3);
            assert_eq!(l[[0, 0, 0, 0, 0]], 0);
        }
    }
}

#[test]
fn synthetic_plates_list_wells_and_fields() {
    let Some(root) = common::spec_data("synthetic_plates_list_wells_and_fields") else {
        return;
    };
    for rel in ["v0.4/plate_1x2.ome.zarr", "v0.5/plate_1x2.ome.zarr"] {
        let plate = OmeZarr::open(root.join("ngff/samples/synthetic/valid").join(rel)).unwrap();
        assert_eq!(plate.kind(), NodeKind::Plate, "{rel}");
        assert_eq!(plate.wells(), vec!["A/1", "A/2"]);
        for (i, well_path) in plate.wells().iter().enumerate() {
            let well = plate.child(well_path).unwrap();
            assert_eq!(well.kind(), NodeKind::Well);
            assert_eq!(well.fields(), vec!["0"]);
            let field = well.child("0").unwrap().image().unwrap();
            let got = u16_array(field.read(0, &Selection::all()).unwrap());
            let want =
                ArrayD::from_shape_fn(IxDyn(&[1, 16, 16]), |ix| (ix[1] * 64 + ix[2] + i) as u16);
            assert_eq!(got, want, "{rel} {well_path}");
        }
    }
}

#[test]
fn ome_zarr_py_v1_v2_samples_read() {
    let Some(root) = common::spec_data("ome_zarr_py_v1_v2_samples_read") else {
        return;
    };
    for rel in ["v1", "v2"] {
        let dir = root.join("ngff/samples/ome-zarr-py").join(rel);
        // The sample folders hold the image group directly or one level down.
        let path = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.is_dir() && OmeZarr::open(p).is_ok_and(|n| n.attributes().multiscales.is_some())
            })
            .unwrap_or(dir.clone());
        let image = Image::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(
            image.axis_names(),
            ["t", "c", "z", "y", "x"],
            "{rel}: implicit 5-D axes"
        );
        assert_eq!(image.levels()[0].shape, vec![1, 2, 1, 16, 16]);
        let data = image.read(0, &Selection::all()).unwrap();
        assert_eq!(data.shape(), &[1, 2, 1, 16, 16]);
        assert_eq!(data.dtype(), ome_core::DType::U8);
    }
}
