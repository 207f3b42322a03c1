//! What `ome-core` writes as NGFF 0.6 validates clean at hierarchy and data depth: a
//! pyramid with a label image, and a scene placing two such images in a `world` system
//! (every scene path resolved to an image system, the graph connected).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::LevelCount;
use ome_core::zarr::{ImageMetadata, LabelOptions, WriteOptions, write_labels, write_ome_zarr};
use ome_validate::{Depth, Options, Severity, validate_path};
use serde_json::json;

fn write_image(path: &Path) {
    let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[2, 48, 40]), |ix| {
        (ix[0] * 100 + ix[1] + ix[2]) as u16
    });
    let mut meta = ImageMetadata::from_axis_letters("cyx").unwrap();
    meta.scale = Some(vec![1.0, 0.5, 0.5]);
    for axis in &mut meta.axes[1..] {
        axis.unit = Some("micrometer".into());
    }
    meta.name = Some("tile".into());
    let mut opts = WriteOptions::default();
    opts.version = NgffVersion::V0_6;
    opts.levels = LevelCount::Exactly(2);
    write_ome_zarr(path, data.view(), &meta, &opts, None).unwrap();
    let labels = ArrayD::<u8>::from_shape_fn(IxDyn(&[2, 48, 40]), |ix| u8::from(ix[1] > 20));
    let mut lo = LabelOptions::default();
    lo.write.levels = LevelCount::Exactly(2);
    write_labels(path, "cells", labels.view(), &lo).unwrap();
}

fn errors(path: &Path, depth: Depth) -> Vec<String> {
    let report = validate_path(path, &Options::with_depth(depth)).expect("runs");
    report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            format!(
                "{} {} {:?}: {}",
                f.code, f.location.node, f.location.pointer, f.message
            )
        })
        .collect()
}

#[test]
fn written_06_image_and_scene_validate() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("img.ome.zarr");
    write_image(&image);
    for depth in [Depth::Hierarchy, Depth::Data] {
        assert_eq!(errors(&image, depth), Vec::<String>::new(), "{depth:?}");
    }

    let scene = dir.path().join("scene.ome.zarr");
    std::fs::create_dir_all(&scene).unwrap();
    write_image(&scene.join("tile_0"));
    write_image(&scene.join("tile_1"));
    let world = json!({"name": "world", "axes": [
        {"name": "c", "type": "channel"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}]});
    let doc = json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": NgffVersion::V0_6.as_str(),
        "scene": {
            "coordinateSystems": [world],
            "coordinateTransformations": [
                {"type": "translation", "translation": [0.0, 0.0, 0.0],
                 "input": {"path": "tile_0", "name": "intrinsic"}, "output": {"name": "world"}},
                {"type": "translation", "translation": [0.0, 0.0, 20.0],
                 "input": {"path": "tile_1", "name": "intrinsic"}, "output": {"name": "world"}}
            ]
        }
    }}});
    std::fs::write(scene.join("zarr.json"), doc.to_string()).unwrap();
    assert_eq!(errors(&scene, Depth::Hierarchy), Vec::<String>::new());

    // A scene path that names no image is an error at hierarchy depth.
    let mut broken = doc.clone();
    broken["attributes"]["ome"]["scene"]["coordinateTransformations"][1]["input"]["path"] =
        json!("tile_9");
    std::fs::write(scene.join("zarr.json"), broken.to_string()).unwrap();
    assert!(!errors(&scene, Depth::Hierarchy).is_empty());
}
