//! Labels added to images and HCS plates written from fields read back as written.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::{NgffVersion, NodeKind};
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{
    DynArray, ImageMetadata, LabelOptions, OmeZarr, PlateWriter, Selection, WriteOptions,
    write_labels, write_ome_zarr,
};

fn opts(version: NgffVersion) -> WriteOptions {
    let mut o = WriteOptions::default();
    o.version = version;
    o.levels = LevelCount::MinSize(16);
    o.chunks = Some(vec![1, 1, 16, 16]);
    o
}

#[test]
fn labels_are_added_and_listed() {
    for version in [NgffVersion::V0_4, NgffVersion::V0_5] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.ome.zarr");
        let image =
            ArrayD::<u16>::from_shape_fn(IxDyn(&[2, 3, 64, 48]), |ix| (ix[2] * 48 + ix[3]) as u16);
        let mut meta = ImageMetadata::from_axis_letters("czyx").unwrap();
        meta.scale = Some(vec![1.0, 2.0, 0.5, 0.5]);
        write_ome_zarr(&path, image.view(), &meta, &opts(version), None).unwrap();

        let labels = ArrayD::<u32>::from_shape_fn(IxDyn(&[1, 3, 64, 48]), |ix| {
            if ix[2] < 20 && ix[3] < 20 {
                7
            } else if ix[2] > 40 {
                9
            } else {
                0
            }
        });
        let mut lo = LabelOptions::default();
        lo.write = opts(version);
        lo.write.downsample = Downsample::Mode;
        write_labels(&path, "cells", labels.view(), &lo).unwrap();
        write_labels(&path, "nuclei", labels.view(), &lo).unwrap();
        // A second write of the same name is refused without overwrite.
        assert!(write_labels(&path, "cells", labels.view(), &lo).is_err());

        let node = OmeZarr::open(&path).unwrap();
        assert_eq!(
            node.label_names().unwrap(),
            vec!["cells", "nuclei"],
            "{version:?}"
        );
        let labels_group = node.child("labels").unwrap();
        assert_eq!(labels_group.kind(), NodeKind::Labels);
        // 0.4 labels groups carry no version; 0.5 ones carry the container version.
        let want = (version == NgffVersion::V0_5).then_some(version);
        assert_eq!(labels_group.version(), want);
        let label = node.child("labels/cells").unwrap();
        let il = label.attributes().image_label.clone().expect("image-label");
        let values: Vec<u64> = il
            .colors
            .unwrap()
            .iter()
            .map(|c| c.label_value.as_u64().unwrap())
            .collect();
        assert_eq!(values, vec![7, 9]);
        let img = label.image().unwrap();
        assert_eq!(
            img.levels()[0].scale.as_deref(),
            Some(&[1.0, 2.0, 0.5, 0.5][..])
        );
        assert_eq!(
            img.read(0, &Selection::all()).unwrap(),
            DynArray::U32(labels.clone())
        );
        // Mode downsampling keeps the label set on every level.
        for k in 1..img.levels().len() {
            let DynArray::U32(l) = img.read(k, &Selection::all()).unwrap() else {
                panic!()
            };
            assert!(l.iter().all(|v| [0, 7, 9].contains(v)), "level {k}");
        }
        // The image itself is untouched.
        assert_eq!(
            node.image().unwrap().read(0, &Selection::all()).unwrap(),
            DynArray::U16(image)
        );
    }
}

#[test]
fn plates_are_written_from_fields() {
    for version in [NgffVersion::V0_4, NgffVersion::V0_5] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plate.ome.zarr");
        let mut o = opts(version);
        o.chunks = Some(vec![1, 16, 16]);
        let mut plate =
            PlateWriter::create(&path, Some("screen 1"), &["A", "B"], &["1", "2", "3"], &o)
                .unwrap();
        let meta = ImageMetadata::from_axis_letters("cyx").unwrap();
        let mut expected = Vec::new();
        for (row, col, fields) in [("A", "1", 2), ("B", "3", 1)] {
            for f in 0..fields {
                let v = expected.len() as u8;
                let data = ArrayD::<u8>::from_elem(IxDyn(&[1, 32, 32]), v);
                let p = plate.write_field(row, col, data.view(), &meta).unwrap();
                assert_eq!(p, format!("{row}/{col}/{f}"));
                expected.push((p, data));
            }
        }
        assert!(
            plate
                .write_field("C", "1", expected[0].1.view(), &meta)
                .is_err()
        );
        assert!(!path.exists(), "nothing is visible before finish");
        plate.finish().unwrap();

        let node = OmeZarr::open(&path).unwrap();
        assert_eq!(node.kind(), NodeKind::Plate);
        assert_eq!(node.version(), Some(version));
        assert_eq!(node.wells(), vec!["A/1", "B/3"]);
        let p = node.attributes().plate.clone().unwrap();
        assert_eq!(p.field_count, Some(2));
        assert_eq!(p.wells[1].row_index, Some(1));
        assert_eq!(p.wells[1].column_index, Some(2));
        for (path_in_plate, data) in expected {
            let img = node.child(&path_in_plate).unwrap().image().unwrap();
            assert_eq!(img.read(0, &Selection::all()).unwrap(), DynArray::U8(data));
        }
        assert_eq!(node.child("A/1").unwrap().fields(), vec!["0", "1"]);
    }
}

#[test]
fn an_unfinished_plate_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plate.ome.zarr");
    {
        let mut plate =
            PlateWriter::create(&path, None, &["A"], &["1"], &WriteOptions::default()).unwrap();
        let meta = ImageMetadata::from_axis_letters("yx").unwrap();
        plate
            .write_field("A", "1", ArrayD::<u8>::zeros(IxDyn(&[8, 8])).view(), &meta)
            .unwrap();
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
