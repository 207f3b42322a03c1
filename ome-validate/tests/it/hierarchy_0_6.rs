//! 0.6rc0 (RFC-5) at hierarchy depth: scene references resolved to image subgroups,
//! multiscale references into child labels, dimensionality against the intrinsic system,
//! scale ratios through `sequence`, parameters stored in Zarr arrays, and graph
//! connectedness across a scene. Fixtures are written by hand (`zarr.json` documents,
//! no chunks: this depth reads array metadata only) into a temporary directory, or built
//! from the official 0.6rc0 examples and the scene sample in `../shared/spec-data`.

use std::path::Path;

use ome_validate::{Depth, Options, validate_path};
use serde_json::{Value, json};

fn write(root: &Path, node: &str, doc: &Value) {
    let dir = if node.is_empty() {
        root.to_path_buf()
    } else {
        root.join(node)
    };
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("zarr.json"), doc.to_string()).expect("write");
}

fn group(root: &Path, node: &str, ome: Value) {
    write(
        root,
        node,
        &json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}),
    );
}

fn array(root: &Path, node: &str, shape: &[u64], data_type: &str) {
    write(
        root,
        node,
        &json!({
            "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": data_type,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0,
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]
        }),
    );
}

fn space(names: &[&str]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| json!({"name": n, "type": "space", "unit": "micrometer"}))
            .collect(),
    )
}

fn scale(path: &str, s: f64) -> Value {
    json!({"path": path, "coordinateTransformations": [
        {"type": "scale", "scale": [s, s], "input": {"path": path}, "output": {"name": "physical"}}
    ]})
}

/// The `ome` object of a 2-D two-level image (s0 64x64, s1 32x32) with a `physical` system
/// and the given multiscale transformations.
fn image_ome(extra: Option<Value>) -> Value {
    let mut m = json!({
        "name": "img", "type": "mean", "metadata": {},
        "coordinateSystems": [{"name": "physical", "axes": space(&["y", "x"])}],
        "datasets": [scale("s0", 0.5), scale("s1", 1.0)]
    });
    if let Some(extra) = extra {
        m["coordinateTransformations"] = extra;
    }
    json!({"version": "0.6rc0", "multiscales": [m]})
}

fn image(root: &Path, node: &str, extra: Option<Value>) {
    group(root, node, image_ome(extra));
    let join = |p: &str| {
        if node.is_empty() {
            p.to_string()
        } else {
            format!("{node}/{p}")
        }
    };
    array(root, &join("s0"), &[64, 64], "uint16");
    array(root, &join("s1"), &[32, 32], "uint16");
}

/// A displacement field for 2-D systems at `node`: axes [c (displacement), y, x].
fn dfield(root: &Path, node: &str, axes: Value, shape: &[u64]) {
    group(
        root,
        node,
        json!({"version": "0.6rc0", "multiscales": [{
            "name": "dfield", "type": "none", "metadata": {},
            "coordinateSystems": [{"name": "physical", "axes": axes}],
            "datasets": [{"path": "s0", "coordinateTransformations": [
                {"type": "scale", "scale": [1, 1, 1], "input": {"path": "s0"}, "output": {"name": "physical"}}
            ]}]
        }]}),
    );
    array(root, &format!("{node}/s0"), shape, "float32");
}

fn field_axes() -> Value {
    json!([
        {"name": "c", "type": "displacement", "discrete": true},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}
    ])
}

/// A valid scene: `world` in the scene, images tileA (translation) and tileB (affine by
/// path), and a displacement field between the two images.
fn scene(root: &Path, transforms: Value, systems: Value) {
    group(
        root,
        "",
        json!({"version": "0.6rc0", "scene": {
            "coordinateSystems": systems,
            "coordinateTransformations": transforms
        }}),
    );
    image(root, "tileA", None);
    image(root, "tileB", None);
    group(
        root,
        "coordinateTransformations",
        json!({"version": "0.6rc0"}),
    );
    array(root, "coordinateTransformations/b2w", &[2, 3], "float64");
    dfield(
        root,
        "coordinateTransformations/dfield",
        field_axes(),
        &[2, 16, 16],
    );
}

fn world() -> Value {
    json!([{"name": "world", "axes": space(&["y", "x"])}])
}

fn transforms() -> Vec<Value> {
    vec![
        json!({"type": "translation", "translation": [0, 10],
            "input": {"name": "physical", "path": "tileA"}, "output": {"name": "world"}}),
        json!({"type": "affine", "path": "coordinateTransformations/b2w",
            "input": {"name": "physical", "path": "tileB"}, "output": {"name": "world"}}),
        json!({"type": "displacements", "path": "coordinateTransformations/dfield",
            "input": {"name": "physical", "path": "tileA"},
            "output": {"name": "physical", "path": "tileB"}}),
    ]
}

/// (code, node, pointer) of every finding at hierarchy depth.
fn findings(root: &Path) -> Vec<(String, String, String)> {
    let report = validate_path(root, &Options::with_depth(Depth::Hierarchy)).expect("runs");
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.code.to_string(),
                f.location.node.clone(),
                f.location.pointer.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn has(root: &Path, code: &str, node: &str, pointer: &str) {
    let got = findings(root);
    assert!(
        got.iter()
            .any(|(c, n, p)| c == code && n == node && p == pointer),
        "expected {code} at {node}#{pointer}, got {got:?}"
    );
}

fn lacks(root: &Path, code: &str) {
    let got = findings(root);
    assert!(
        !got.iter().any(|(c, _, _)| c == code),
        "expected no {code}, got {got:?}"
    );
}

const CT: &str = "/attributes/ome/scene/coordinateTransformations";

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tmp")
}

#[test]
fn valid_scene_is_clean() {
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    assert_eq!(findings(dir.path()), vec![]);
}

#[test]
fn scene_reference_must_resolve_to_an_image_system() {
    let dir = tmp();
    let mut t = transforms();
    t[0]["input"]["path"] = json!("tileX");
    scene(dir.path(), Value::Array(t), world());
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/0/input/path"));

    let dir = tmp();
    let mut t = transforms();
    t[0]["input"]["name"] = json!("nope");
    scene(dir.path(), Value::Array(t), world());
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/0/input/name"));

    // The path is an array, not an image group.
    let dir = tmp();
    let mut t = transforms();
    t[0]["input"]["path"] = json!("tileA/s0");
    scene(dir.path(), Value::Array(t), world());
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/0/input/path"));

    // Outside the root.
    let dir = tmp();
    let mut t = transforms();
    t[0]["input"]["path"] = json!("../elsewhere");
    scene(dir.path(), Value::Array(t), world());
    has(
        dir.path(),
        "NGFF-HIER-004",
        "",
        &format!("{CT}/0/input/path"),
    );
}

#[test]
fn scene_images_are_walked() {
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    // A 3-D array under a 2-D intrinsic system.
    array(dir.path(), "tileA/s0", &[1, 64, 64], "uint16");
    has(dir.path(), "NGFF-ARR-002", "tileA/s0", "/shape");
}

#[test]
fn scene_dimensions_come_from_the_referenced_images() {
    let dir = tmp();
    let mut t = transforms();
    // Both ends in images: only the hierarchy knows they are 2-D.
    t[2] = json!({"type": "translation", "translation": [0, 10, 5],
        "input": {"name": "physical", "path": "tileA"},
        "output": {"name": "physical", "path": "tileB"}});
    scene(dir.path(), Value::Array(t), world());
    let got = findings(dir.path());
    assert!(
        got.iter().any(|(c, n, p)| c == "NGFF-CT-009"
            && n.is_empty()
            && p.starts_with(&format!("{CT}/2"))),
        "expected NGFF-CT-009 at {CT}/2, got {got:?}"
    );
    // Attribute depth cannot know the dimensions of a referenced image.
    let attrs = validate_path(dir.path(), &Options::with_depth(Depth::Attributes)).expect("runs");
    assert!(!attrs.findings.iter().any(|f| f.code == "NGFF-CT-009"));
}

#[test]
fn affine_parameters_in_an_array() {
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    array(
        dir.path(),
        "coordinateTransformations/b2w",
        &[2, 2],
        "float64",
    );
    has(
        dir.path(),
        "NGFF-CT-016",
        "coordinateTransformations/b2w",
        "/shape",
    );

    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    array(
        dir.path(),
        "coordinateTransformations/b2w",
        &[2, 3, 1],
        "float64",
    );
    has(
        dir.path(),
        "NGFF-CT-016",
        "coordinateTransformations/b2w",
        "/shape",
    );

    let dir = tmp();
    let mut t = transforms();
    t[1]["path"] = json!("coordinateTransformations/missing");
    scene(dir.path(), Value::Array(t), world());
    has(dir.path(), "NGFF-CT-016", "", &format!("{CT}/1/path"));
}

#[test]
fn rotation_parameters_in_an_array() {
    let dir = tmp();
    let mut t = transforms();
    t[1] = json!({"type": "rotation", "path": "coordinateTransformations/b2w",
        "input": {"name": "physical", "path": "tileB"}, "output": {"name": "world"}});
    scene(dir.path(), Value::Array(t), world());
    // [2, 3] is no N x N matrix.
    has(
        dir.path(),
        "NGFF-CT-016",
        "coordinateTransformations/b2w",
        "/shape",
    );
    array(
        dir.path(),
        "coordinateTransformations/b2w",
        &[2, 2],
        "float64",
    );
    lacks(dir.path(), "NGFF-CT-016");
}

#[test]
fn displacement_field_structure() {
    let at_axes = "/attributes/ome/multiscales/0/coordinateSystems/0/axes";
    let node = "coordinateTransformations/dfield";

    // No displacement axis (and one dimension short).
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    dfield(dir.path(), node, space(&["y", "x"]), &[16, 16]);
    has(dir.path(), "NGFF-CT-017", node, at_axes);

    // Not discrete.
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    let mut axes = field_axes();
    axes[0]["discrete"] = json!(false);
    dfield(dir.path(), node, axes, &[2, 16, 16]);
    has(dir.path(), "NGFF-CT-017", node, &format!("{at_axes}/0"));

    // After the space axes.
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    let axes = json!([
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
        {"name": "c", "type": "displacement", "discrete": true}
    ]);
    dfield(dir.path(), node, axes, &[16, 16, 2]);
    has(dir.path(), "NGFF-CT-017", node, &format!("{at_axes}/2"));

    // Wrong type for the transformation.
    let dir = tmp();
    let mut t = transforms();
    t[2]["type"] = json!("coordinates");
    scene(dir.path(), Value::Array(t), world());
    has(
        dir.path(),
        "NGFF-CT-017",
        node,
        &format!("{at_axes}/0/type"),
    );

    // Three components for two axes.
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    dfield(dir.path(), node, field_axes(), &[3, 16, 16]);
    has(
        dir.path(),
        "NGFF-CT-017",
        "coordinateTransformations/dfield/s0",
        "/shape",
    );

    // Nothing at the path.
    let dir = tmp();
    let mut t = transforms();
    t[2]["path"] = json!("coordinateTransformations/none");
    scene(dir.path(), Value::Array(t), world());
    has(dir.path(), "NGFF-CT-017", "", &format!("{CT}/2/path"));
}

#[test]
fn scene_graph_is_connected() {
    // A scene system no transformation touches.
    let dir = tmp();
    let mut systems = world();
    systems
        .as_array_mut()
        .expect("list")
        .push(json!({"name": "other", "axes": space(&["y", "x"])}));
    scene(dir.path(), Value::Array(transforms()), systems);
    has(
        dir.path(),
        "NGFF-CS-003",
        "",
        "/attributes/ome/scene/coordinateSystems/1",
    );

    // Two images linked to each other only, not to the scene's system.
    let dir = tmp();
    let mut t = transforms();
    t.truncate(1);
    t.push(json!({"type": "identity",
        "input": {"name": "physical", "path": "tileB"},
        "output": {"name": "physical", "path": "tileC"}}));
    scene(dir.path(), Value::Array(t), world());
    image(dir.path(), "tileC", None);
    has(dir.path(), "NGFF-CS-003", "", &format!("{CT}/1/input/path"));

    // An image in the scene that no transformation references.
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    image(dir.path(), "tileC", None);
    has(dir.path(), "NGFF-CS-003", "", CT);
}

#[test]
fn unreadable_parameter_array_is_a_finding_and_the_walk_goes_on() {
    let dir = tmp();
    scene(dir.path(), Value::Array(transforms()), world());
    std::fs::write(
        dir.path().join("coordinateTransformations/b2w/zarr.json"),
        "{not json",
    )
    .expect("write");
    array(dir.path(), "tileA/s0", &[1, 64, 64], "uint16");
    let got = findings(dir.path());
    assert!(
        got.iter()
            .any(|(c, n, _)| c == "NGFF-HIER-001" && n == "coordinateTransformations/b2w"),
        "{got:?}"
    );
    has(dir.path(), "NGFF-ARR-002", "tileA/s0", "/shape");
}

#[test]
fn image_dimensions_and_scales_against_the_intrinsic_system() {
    let dir = tmp();
    image(dir.path(), "", None);
    assert_eq!(findings(dir.path()), vec![]);
    array(dir.path(), "s1", &[1, 32, 32], "uint16");
    has(dir.path(), "NGFF-ARR-002", "s1", "/shape");

    // Scale inside sequence[scale, translation]: s1 keeps the scale of s0.
    let dir = tmp();
    let mut ome = image_ome(None);
    ome["multiscales"][0]["datasets"][1] = json!({"path": "s1", "coordinateTransformations": [
        {"type": "sequence", "input": {"path": "s1"}, "output": {"name": "physical"},
         "transformations": [
            {"type": "scale", "scale": [0.5, 0.5]},
            {"type": "translation", "translation": [0.25, 0.25]}
         ]}
    ]});
    image(dir.path(), "", None);
    group(dir.path(), "", ome);
    has(dir.path(), "NGFF-ARR-007", "", "");
}

/// An image with a label image `labels/cells` and a multiscale transformation to it.
fn image_with_labels(root: &Path, to: Value) {
    image(
        root,
        "",
        Some(json!([{"type": "identity",
            "input": {"name": "physical"}, "output": to}])),
    );
    group(
        root,
        "labels",
        json!({"version": "0.6rc0", "labels": ["cells"]}),
    );
    let mut ome = image_ome(None);
    ome["image-label"] = json!({"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}]});
    group(root, "labels/cells", ome);
    array(root, "labels/cells/s0", &[64, 64], "uint32");
    array(root, "labels/cells/s1", &[32, 32], "uint32");
}

#[test]
fn multiscale_reference_into_labels() {
    const AT: &str = "/attributes/ome/multiscales/0/coordinateTransformations/0/output";
    let dir = tmp();
    image_with_labels(
        dir.path(),
        json!({"name": "physical", "path": "labels/cells"}),
    );
    assert_eq!(findings(dir.path()), vec![]);

    let dir = tmp();
    image_with_labels(
        dir.path(),
        json!({"name": "physical", "path": "labels/none"}),
    );
    has(dir.path(), "NGFF-CT-014", "", &format!("{AT}/path"));

    let dir = tmp();
    image_with_labels(dir.path(), json!({"name": "nope", "path": "labels/cells"}));
    has(dir.path(), "NGFF-CT-014", "", &format!("{AT}/name"));

    // The labels group itself holds no multiscale.
    let dir = tmp();
    image_with_labels(dir.path(), json!({"name": "physical", "path": "labels"}));
    has(dir.path(), "NGFF-CT-014", "", &format!("{AT}/path"));
}

#[test]
fn multiscale_displacements_field_relative_to_the_image() {
    let extra = json!([{"type": "displacements", "path": "coordinateTransformations/dfield",
        "input": {"name": "physical"}, "output": {"name": "output"}}]);
    let dir = tmp();
    let mut ome = image_ome(Some(extra));
    ome["multiscales"][0]["coordinateSystems"]
        .as_array_mut()
        .expect("list")
        .push(json!({"name": "output", "axes": space(&["y", "x"])}));
    image(dir.path(), "", None);
    group(dir.path(), "", ome);
    dfield(
        dir.path(),
        "coordinateTransformations/dfield",
        field_axes(),
        &[2, 16, 16],
    );
    assert_eq!(findings(dir.path()), vec![]);
    dfield(
        dir.path(),
        "coordinateTransformations/dfield",
        field_axes(),
        &[3, 16, 16],
    );
    has(
        dir.path(),
        "NGFF-CT-017",
        "coordinateTransformations/dfield/s0",
        "/shape",
    );
}

fn codes_at(root: &Path, depth: Depth) -> Vec<(String, String)> {
    validate_path(root, &Options::with_depth(depth))
        .expect("runs")
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.location.node.clone()))
        .collect()
}

#[test]
fn rotation_values_in_an_array_at_data_depth() {
    let dir = tmp();
    let mut t = transforms();
    t[1] = json!({"type": "rotation", "path": "coordinateTransformations/r",
        "input": {"name": "physical", "path": "tileB"}, "output": {"name": "world"}});
    scene(dir.path(), Value::Array(t), world());
    array(
        dir.path(),
        "coordinateTransformations/r",
        &[2, 2],
        "float64",
    );
    let chunk = |values: [f64; 4]| {
        let dir = dir.path().join("coordinateTransformations/r/c/0");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(dir.join("0"), bytes).expect("write");
    };
    let node = "coordinateTransformations/r".to_string();
    let ct015 = (String::from("NGFF-CT-015"), node.clone());

    chunk([0.0, 1.0, -1.0, 0.0]);
    let got = codes_at(dir.path(), Depth::Data);
    assert!(!got.contains(&ct015), "{got:?}");

    chunk([2.0, 0.0, 0.0, 2.0]);
    let got = codes_at(dir.path(), Depth::Data);
    assert!(got.contains(&ct015), "{got:?}");
    // Values are data: the hierarchy depth reads the shape only.
    let got = codes_at(dir.path(), Depth::Hierarchy);
    assert!(!got.contains(&ct015), "{got:?}");

    // A chunk that does not decode is a finding, not a crash.
    chunk([0.0; 4]);
    std::fs::write(
        dir.path().join("coordinateTransformations/r/c/0/0"),
        [1u8, 2, 3],
    )
    .expect("write");
    let got = codes_at(dir.path(), Depth::Data);
    assert!(
        got.contains(&(String::from("NGFF-DATA-001"), node)),
        "{got:?}"
    );
}

/// A JSON document of the spec data, read in place.
fn spec_json(spec: &Path, relative: &str) -> Value {
    let path = spec.join(relative);
    let text = std::fs::read_to_string(&path).expect("a spec-data file");
    serde_json::from_str(&text).expect("a JSON spec-data file")
}

/// Copies a metadata-only hierarchy (directories and `zarr.json` files).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// (code, pointer) of the errors and scene / reference findings: the official samples
/// carry warnings (no `type` / `metadata` on their multiscales) that are not the point.
fn reference_findings(root: &Path) -> Vec<(String, String, String)> {
    findings(root)
        .into_iter()
        .filter(|(c, _, _)| {
            ["NGFF-SC-", "NGFF-HIER-", "NGFF-CS-003", "NGFF-CT-014"]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .collect()
}

/// The official scene sample (ome-zarr-models-py `tests/data/examples/v06/
/// stitched_tiles_2d.zarr`, 0.6.dev4, metadata only) resolves at hierarchy depth: both
/// tiles are found and name their `physical` systems. A copy with a tile renamed, or a
/// reference naming a system the tile lacks, gets NGFF-SC-004 at that reference.
#[test]
fn official_scene_sample_resolves_and_broken_copies_do_not() {
    let Some(spec) = testkit::spec_data() else {
        return;
    };
    let sample = spec.join("ngff/samples/ome-zarr-models-py/v06/stitched_tiles_2d.zarr");
    assert_eq!(reference_findings(&sample), vec![]);

    let dir = tmp();
    copy_tree(&sample, dir.path());
    std::fs::rename(dir.path().join("tile_1"), dir.path().join("tile_9")).expect("rename");
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/1/input/path"));

    let dir = tmp();
    copy_tree(&sample, dir.path());
    let mut doc = spec_json(&sample, "zarr.json");
    doc["attributes"]["ome"]["scene"]["coordinateTransformations"][1]["input"]["name"] =
        json!("nope");
    write(dir.path(), "", &doc);
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/1/input/name"));
}

/// The 0.6rc0 scene example (`examples/scene/scene_stitching.json`, four tiles placed in
/// `world`) as the root of a hierarchy whose tiles are the sample's tile (retagged
/// 0.6rc0): every reference resolves and the graph is connected. Without `tile_3` the
/// reference to it is NGFF-SC-004; with `tile_3` no image the same.
#[test]
fn official_06rc0_scene_example_resolves_over_real_tiles() {
    let Some(spec) = testkit::spec_data() else {
        return;
    };
    let tile = spec.join("ngff/samples/ome-zarr-models-py/v06/stitched_tiles_2d.zarr/tile_0");
    let build = |root: &Path| {
        write(
            root,
            "",
            &spec_json(&spec, "ngff/0.6rc0/examples/scene/scene_stitching.json"),
        );
        for t in 0..4 {
            let node = format!("tile_{t}");
            copy_tree(&tile, &root.join(&node));
            let mut doc = spec_json(&tile, "zarr.json");
            doc["attributes"]["ome"]["version"] = json!("0.6rc0");
            write(root, &node, &doc);
        }
    };
    let dir = tmp();
    build(dir.path());
    assert_eq!(reference_findings(dir.path()), vec![]);

    let dir = tmp();
    build(dir.path());
    std::fs::remove_dir_all(dir.path().join("tile_3")).expect("rm");
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/3/input/path"));

    let dir = tmp();
    build(dir.path());
    group(dir.path(), "tile_3", json!({"version": "0.6rc0"}));
    has(dir.path(), "NGFF-SC-004", "", &format!("{CT}/3/input/path"));
}

/// The 0.6rc0 example of a multiscale linked to its label image
/// (`examples/multiscales_strict/multiscales_reference_to_label.json`, with the label
/// image of `examples/label_strict/colors_properties.json` at `labels/cell_segmentation`):
/// the reference into labels resolves; without the label image, or with the label image
/// lacking the system, it is NGFF-CT-014.
#[test]
fn official_06rc0_reference_to_label_resolves() {
    const AT: &str = "/attributes/ome/multiscales/0/coordinateTransformations/0/input";
    let Some(spec) = testkit::spec_data() else {
        return;
    };
    let build = |root: &Path, label: bool| {
        let image = spec_json(
            &spec,
            "ngff/0.6rc0/examples/multiscales_strict/multiscales_reference_to_label.json",
        );
        group(root, "", image["ome"].clone());
        array(root, "s0", &[16, 32, 32], "uint16");
        group(
            root,
            "labels",
            json!({"version": "0.6rc0", "labels": ["cell_segmentation"]}),
        );
        if label {
            let doc = spec_json(
                &spec,
                "ngff/0.6rc0/examples/label_strict/colors_properties.json",
            );
            write(root, "labels/cell_segmentation", &doc);
            array(root, "labels/cell_segmentation/s0", &[16, 32, 32], "uint8");
        }
    };
    let dir = tmp();
    build(dir.path(), true);
    assert_eq!(reference_findings(dir.path()), vec![]);

    let dir = tmp();
    build(dir.path(), false);
    has(dir.path(), "NGFF-CT-014", "", &format!("{AT}/path"));

    let dir = tmp();
    build(dir.path(), true);
    let mut doc = spec_json(
        &spec,
        "ngff/0.6rc0/examples/label_strict/colors_properties.json",
    );
    doc["attributes"]["ome"]["multiscales"][0]["coordinateSystems"][0]["name"] = json!("other");
    doc["attributes"]["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["output"]
        ["name"] = json!("other");
    write(dir.path(), "labels/cell_segmentation", &doc);
    has(dir.path(), "NGFF-CT-014", "", &format!("{AT}/name"));
}
