//! `displacements` and `coordinates` transformations evaluated through their vector fields
//! (0.6rc0, "coordinates and displacements"), on the spec's own 2D example: a field of
//! scale 2 whose table of looked-up and interpolated vectors the spec gives.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use ome_core::Image;
use ome_core::metadata::TransformError;
use ome_core::zarr::FieldArrays;
use serde_json::{Value, json};

fn array(dir: &Path, shape: &[u64], values: &[f64]) {
    std::fs::create_dir_all(dir.join("c")).unwrap();
    let meta = json!({
        "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "float64",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0.0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {}
    });
    std::fs::write(dir.join("zarr.json"), meta.to_string()).unwrap();
    let mut chunk = dir.join("c");
    for _ in 1..shape.len() {
        chunk = chunk.join("0");
        std::fs::create_dir_all(&chunk).unwrap();
    }
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(chunk.join("0"), bytes).unwrap();
}

fn group(dir: &Path, ome: Value) {
    std::fs::create_dir_all(dir).unwrap();
    let doc = json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}});
    std::fs::write(dir.join("zarr.json"), doc.to_string()).unwrap();
}

fn yx(name: &str) -> Value {
    json!({"name": name, "axes": [
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}]})
}

/// The spec's example: image `s0` (scale 2 to `physical`), `physical` → `output` by a
/// field transformation of `kind` at `coordinateTransformations/displacementField`.
fn dataset(root: &Path, kind: &str, interpolation: Option<&str>) {
    let mut t = json!({"type": kind, "input": {"name": "physical"}, "output": {"name": "output"},
                       "path": "coordinateTransformations/displacementField"});
    if let Some(i) = interpolation {
        t["interpolation"] = json!(i);
    }
    group(
        root,
        json!({"version": "0.6rc0", "name": "some_image", "multiscales": [{
        "coordinateSystems": [yx("physical"), yx("output")],
        "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale",
            "input": {"path": "s0"}, "output": {"name": "physical"}, "scale": [2.0, 2.0]}]}],
        "coordinateTransformations": [t]}]}),
    );
    array(&root.join("s0"), &[4, 4], &[0.0; 16]);
    let field = root.join("coordinateTransformations/displacementField");
    group(
        &field,
        json!({"version": "0.6rc0", "name": "the_dfield", "multiscales": [{
        "coordinateSystems": [{"name": "physical", "axes": [
            {"name": "c", "type": kind.trim_end_matches('s'), "discrete": true},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"}]}],
        "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale",
            "scale": [2.0, 2.0], "input": {"path": "s0"}, "output": {"name": "physical"}}]}]}]}),
    );
    // c-order (c, y, x): the y components, then the x components. The spec's table:
    // (y, x) index (0, 0) holds (1.0, 2.0), (1, 0) holds (0.5, 1.2).
    array(
        &field.join("s0"),
        &[2, 2, 2],
        &[1.0, 0.0, 0.5, 3.0, 2.0, 0.0, 1.2, 4.0],
    );
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

#[test]
fn displacements_follow_the_spec_table() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("img.zarr");
    dataset(&root, "displacements", None);
    let image = Image::open(&root).unwrap();
    let fields = FieldArrays::new(&root);
    // Physical (0, 0): a sample, (1.0, 2.0) added. Physical (2, 0): sample (1, 0).
    // Physical (1, 0): between them, linearly (0.75, 1.6) (the spec's table).
    for (array_point, physical, vector) in [
        ([0.0, 0.0], [0.0, 0.0], [1.0, 2.0]),
        ([1.0, 0.0], [2.0, 0.0], [0.5, 1.2]),
        ([0.5, 0.0], [1.0, 0.0], [0.75, 1.6]),
    ] {
        let got = image
            .map_point_with(0, &array_point, "output", Some(&fields))
            .unwrap();
        let want: Vec<f64> = physical.iter().zip(vector).map(|(p, v)| p + v).collect();
        assert!(close(&got, &want), "{array_point:?}: {got:?} != {want:?}");
    }
    // In the middle of the four samples: their mean.
    let got = image
        .map_point_with(0, &[0.5, 0.5], "output", Some(&fields))
        .unwrap();
    let mean = [(1.0 + 0.0 + 0.5 + 3.0) / 4.0, (2.0 + 0.0 + 1.2 + 4.0) / 4.0];
    assert!(close(&got, &[1.0 + mean[0], 1.0 + mean[1]]), "{got:?}");
    // Without the fields the transformation says it needs its array.
    let e = image.map_point(0, &[0.0, 0.0], "output").unwrap_err();
    assert!(matches!(e, TransformError::ArrayParameters { .. }), "{e}");
    // Far outside the field's grid: an error, not an extrapolation.
    let e = image
        .map_point_with(0, &[9.0, 0.0], "output", Some(&fields))
        .unwrap_err();
    assert!(e.to_string().contains("outside the field"), "{e}");
}

#[test]
fn nearest_coordinates_and_refused_interpolations() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("img.zarr");
    dataset(&root, "coordinates", Some("nearest"));
    let image = Image::open(&root).unwrap();
    let fields = FieldArrays::new(&root);
    // Coordinates are the output itself; nearest takes the closest sample: physical
    // (1.2, 0) is index (0.6, 0), nearest (1, 0).
    let got = image
        .map_point_with(0, &[0.6, 0.0], "output", Some(&fields))
        .unwrap();
    assert!(close(&got, &[0.5, 1.2]), "{got:?}");

    let other = dir.path().join("cubic.zarr");
    dataset(&other, "displacements", Some("bspline-cubic"));
    let image = Image::open(&other).unwrap();
    let e = image
        .map_point_with(0, &[0.5, 0.0], "output", Some(&FieldArrays::new(&other)))
        .unwrap_err();
    assert!(e.to_string().contains("bspline-cubic"), "{e}");
    // A field path that leaves the dataset is refused.
    let evil = dir.path().join("evil.zarr");
    dataset(&evil, "displacements", None);
    let doc = evil.join("zarr.json");
    let text = std::fs::read_to_string(&doc).unwrap().replace(
        "coordinateTransformations/displacementField",
        "../img.zarr/coordinateTransformations/displacementField",
    );
    std::fs::write(&doc, text).unwrap();
    let image = Image::open(&evil).unwrap();
    let e = image
        .map_point_with(0, &[0.0, 0.0], "output", Some(&FieldArrays::new(&evil)))
        .unwrap_err();
    assert!(e.to_string().contains("relative path"), "{e}");
}

/// 0.6 → 0.6: the other coordinate systems and the transformations between them travel
/// with the image (the intrinsic system keeps its name), so points map alike in both.
#[test]
fn other_coordinate_systems_survive_a_0_6_conversion() {
    use ome_core::convert::{ConvertRequest, convert};
    use ome_core::metadata::NgffVersion;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("src.zarr");
    group(
        &root,
        json!({"version": "0.6rc0", "name": "img", "multiscales": [{
        "coordinateSystems": [yx("physical"), yx("rotated")],
        "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale",
            "input": {"path": "s0"}, "output": {"name": "physical"}, "scale": [0.5, 0.25]}]}],
        "coordinateTransformations": [{"type": "affine", "input": {"name": "physical"},
            "output": {"name": "rotated"}, "affine": [[0.0, -1.0, 10.0], [1.0, 0.0, -3.0]]}]}]}),
    );
    array(
        &root.join("s0"),
        &[4, 4],
        &(0..16).map(f64::from).collect::<Vec<_>>(),
    );
    let out = dir.path().join("out.zarr");
    let mut req = ConvertRequest::default();
    req.zarr.version = NgffVersion::V0_6;
    convert(&root, &out, &req).unwrap();
    let (src, dst) = (Image::open(&root).unwrap(), Image::open(&out).unwrap());
    let names = |i: &Image| {
        i.coordinate_systems()
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&dst), ["physical", "rotated"]);
    assert_eq!(dst.intrinsic_system(), Some("physical"));
    for p in [[0.0, 0.0], [1.0, 3.0], [2.5, 0.5]] {
        let want = src.map_point(0, &p, "rotated").unwrap();
        let got = dst.map_point(0, &p, "rotated").unwrap();
        assert!(close(&got, &want), "{p:?}: {got:?} != {want:?}");
    }
    // 0.5 stores one system: the affine is refused by name, not dropped silently.
    let mut req = ConvertRequest::default();
    req.zarr.version = NgffVersion::V0_5;
    let e = convert(&root, dir.path().join("v05.zarr"), &req).unwrap_err();
    assert!(e.to_string().contains("affine"), "{e}");
}
