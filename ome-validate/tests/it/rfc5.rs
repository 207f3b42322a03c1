//! 0.6rc0 (RFC-5) coordinate systems, transformations and scene: each rule fires with its
//! code at the expected JSON Pointer, and valid documents stay clean. The upstream suite
//! (`conformance.rs`) mostly hides these behind string `input`/`output`, so the checks
//! behind them are exercised here one at a time.

use ome_validate::{Depth, Options, Severity, validate_attributes};
use serde_json::{Value, json};

fn findings(doc: &Value) -> Vec<(String, String, Severity)> {
    let options = Options::with_depth(Depth::Attributes);
    validate_attributes(doc, "case.json", &options)
        .expect("runs")
        .into_iter()
        .map(|f| {
            let pointer = f.location.pointer.clone().unwrap_or_default();
            (f.code.to_string(), pointer, f.severity)
        })
        .collect()
}

fn has(doc: &Value, code: &str, pointer: &str) {
    let got = findings(doc);
    assert!(
        got.iter().any(|(c, p, _)| c == code && p == pointer),
        "expected {code} at {pointer}, got {got:?}"
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

/// A valid 2-D image with an extra `output` system linked by `extra`.
fn image(extra: Value) -> Value {
    json!({"ome": {"version": "0.6rc0", "multiscales": [{
        "name": "img", "type": "mean", "metadata": {},
        "coordinateSystems": [
            {"name": "physical", "axes": space(&["y", "x"])},
            {"name": "output", "axes": space(&["y", "x"])}
        ],
        "datasets": [{"path": "s0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.5, 0.5], "input": {"path": "s0"}, "output": {"name": "physical"}}
        ]}],
        "coordinateTransformations": [extra]
    }]}})
}

const CT0: &str = "/ome/multiscales/0/coordinateTransformations/0";

#[test]
fn valid_image_has_no_findings() {
    let doc = image(json!({"type": "rotation", "rotation": [[0, 1], [-1, 0]],
        "input": {"name": "physical"}, "output": {"name": "output"}}));
    assert_eq!(findings(&doc), vec![]);
}

#[test]
fn transformation_parameters_and_dimensions() {
    let t = |t: Value| image(t);
    has(
        &t(
            json!({"type": "affine", "affine": [[1, 0], [0, 1]], "input": {"name": "physical"}, "output": {"name": "output"}}),
        ),
        "NGFF-CT-009",
        &format!("{CT0}/affine"),
    );
    has(
        &t(
            json!({"type": "rotation", "rotation": [[2, 0], [0, 2]], "input": {"name": "physical"}, "output": {"name": "output"}}),
        ),
        "NGFF-CT-015",
        &format!("{CT0}/rotation"),
    );
    has(
        &t(
            json!({"type": "scale", "scale": [1, 1, 1], "input": {"name": "physical"}, "output": {"name": "output"}}),
        ),
        "NGFF-CT-009",
        &format!("{CT0}/scale"),
    );
    has(
        &t(
            json!({"type": "scale", "scale": [1, -1], "input": {"name": "physical"}, "output": {"name": "output"}}),
        ),
        "NGFF-CT-008",
        &format!("{CT0}/scale/1"),
    );
    has(
        &t(
            json!({"type": "mapAxis", "mapAxis": [0, 2], "input": {"name": "physical"}, "output": {"name": "output"}}),
        ),
        "NGFF-CT-009",
        &format!("{CT0}/mapAxis/1"),
    );
    has(
        &t(json!({"type": "shear", "input": {"name": "physical"}, "output": {"name": "output"}})),
        "NGFF-CT-006",
        &format!("{CT0}/type"),
    );
    has(
        &t(json!({"type": "identity", "input": "physical", "output": {"name": "output"}})),
        "NGFF-CT-007",
        &format!("{CT0}/input"),
    );
}

#[test]
fn by_dimension_axes() {
    let entry = |axes: Value| json!({"transformation": {"type": "scale", "scale": [2]}, "inputAxes": axes, "outputAxes": [0]});
    let doc = image(
        json!({"type": "byDimension", "input": {"name": "physical"}, "output": {"name": "output"},
        "transformations": [entry(json!(["x"]))]}),
    );
    has(
        &doc,
        "NGFF-CT-008",
        &format!("{CT0}/transformations/0/inputAxes"),
    );
    // Output axis 1 is not covered.
    let doc = image(
        json!({"type": "byDimension", "input": {"name": "physical"}, "output": {"name": "output"},
        "transformations": [entry(json!([0]))]}),
    );
    has(&doc, "NGFF-CT-010", &format!("{CT0}/transformations"));
    let ok = image(
        json!({"type": "byDimension", "input": {"name": "physical"}, "output": {"name": "output"},
        "transformations": [entry(json!([0])),
            {"transformation": {"type": "translation", "translation": [-10]}, "inputAxes": [1], "outputAxes": [1]}]}),
    );
    assert_eq!(findings(&ok), vec![]);
}

#[test]
fn multiscale_references_and_graph() {
    // Neither side is the intrinsic system.
    let doc = image(
        json!({"type": "identity", "input": {"name": "output"}, "output": {"name": "other"}}),
    );
    has(&doc, "NGFF-CT-014", CT0);
    // Toward a labels group only identity, scale or translation.
    let doc = image(json!({"type": "affine", "affine": [[1, 0, 0], [0, 1, 0]],
        "input": {"name": "physical"}, "output": {"name": "physical", "path": "labels/cells"}}));
    has(&doc, "NGFF-CT-014", &format!("{CT0}/type"));
    // "output" unlinked.
    let doc = image(
        json!({"type": "identity", "input": {"name": "physical"}, "output": {"name": "physical", "path": "labels/cells"}}),
    );
    has(
        &doc,
        "NGFF-CS-003",
        "/ome/multiscales/0/coordinateSystems/1",
    );
}

#[test]
fn dataset_transformations() {
    let mut doc = image(
        json!({"type": "identity", "input": {"name": "physical"}, "output": {"name": "output"}}),
    );
    doc["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0] = json!({"type": "scale", "scale": [1, 1], "input": {"path": "s1", "name": "a"}, "output": {"name": "nowhere"}});
    let d = "/ome/multiscales/0/datasets/0/coordinateTransformations/0";
    has(&doc, "NGFF-CT-012", &format!("{d}/input/path"));
    has(&doc, "NGFF-CT-012", &format!("{d}/output/name"));
    let got = findings(&doc);
    assert!(
        got.iter()
            .any(|(c, _, s)| c == "NGFF-CT-013" && *s == Severity::Warning)
    );
}

#[test]
fn coordinate_systems() {
    let mut doc = image(
        json!({"type": "identity", "input": {"name": "physical"}, "output": {"name": "output"}}),
    );
    doc["ome"]["multiscales"][0]["coordinateSystems"][1]["name"] = json!("physical");
    has(
        &doc,
        "NGFF-CS-002",
        "/ome/multiscales/0/coordinateSystems/1/name",
    );
    let mut doc = image(
        json!({"type": "identity", "input": {"name": "physical"}, "output": {"name": "output"}}),
    );
    doc["ome"]["multiscales"][0]["coordinateSystems"][0]["axes"][0]["type"] = json!("angle");
    has(
        &doc,
        "NGFF-CS-004",
        "/ome/multiscales/0/coordinateSystems/0/axes/0/type",
    );
}

#[test]
fn scene() {
    let scene = |t: Value, systems: Value| json!({"ome": {"version": "0.6rc0", "scene": {"coordinateSystems": systems, "coordinateTransformations": [t]}}});
    let world = json!([{"name": "world", "axes": space(&["y", "x"])}]);
    let ok = scene(
        json!({"type": "translation", "translation": [0, 348], "input": {"path": "tile_1", "name": "physical"}, "output": {"name": "world"}}),
        world.clone(),
    );
    assert_eq!(findings(&ok), vec![]);
    let doc = scene(
        json!({"type": "translation", "translation": [0, 348], "input": {"path": "tile_1"}, "output": {"name": "wrld", "extra": 1}}),
        world.clone(),
    );
    let s = "/ome/scene/coordinateTransformations/0";
    has(&doc, "NGFF-SC-002", &format!("{s}/input"));
    has(&doc, "NGFF-SC-002", &format!("{s}/output/extra"));
    has(&doc, "NGFF-SC-003", &format!("{s}/output/name"));
    has(
        &scene(
            json!({"type": "scale", "scale": [2], "input": {"name": "world"}, "output": {"name": "world"}}),
            world.clone(),
        ),
        "NGFF-CT-009",
        &format!("{s}/scale"),
    );
    let bad_axes = json!([{"name": "world", "axes": space(&["x"])}]);
    has(
        &scene(
            json!({"type": "identity", "input": {"name": "world"}, "output": {"name": "world"}}),
            bad_axes,
        ),
        "NGFF-CS-005",
        "/ome/scene/coordinateSystems/0/axes",
    );
    let empty = json!({"ome": {"version": "0.6rc0", "scene": {"coordinateTransformations": []}}});
    has(
        &empty,
        "NGFF-SC-001",
        "/ome/scene/coordinateTransformations",
    );
}
