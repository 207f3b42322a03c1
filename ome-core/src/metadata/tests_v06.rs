//! 0.6rc0 (RFC-5) model tests against spec-data: every coordinate system and transformation
//! of the official examples, the valid attribute tests and the RFC-5 samples parses into
//! the typed model (no `Other` left) and serialises back to the same JSON.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::schema_testing::{read_json, spec_data};
use super::*;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && path.file_name().is_none_or(|n| n != ".config.json")
        {
            out.push(path);
        }
    }
}

/// Numbers by value, objects by key set (the same rule as `tests.rs`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn no_other(t: &CoordinateTransformation) -> bool {
    !matches!(t, CoordinateTransformation::Other(_)) && t.children().into_iter().all(no_other)
}

/// Checks every `coordinateTransformations` and `coordinateSystems` list in `doc`; returns
/// how many lists it checked.
fn check(doc: &Value, name: &str, failures: &mut Vec<String>) -> usize {
    let mut checked = 0;
    match doc {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("coordinateTransformations", Value::Array(_)) => {
                        checked += 1;
                        match serde_json::from_value::<Vec<CoordinateTransformation>>(value.clone())
                        {
                            Ok(ts) => {
                                if !ts.iter().all(no_other) {
                                    failures.push(format!("{name}: an untyped transformation"));
                                }
                                let back = serde_json::to_value(&ts).unwrap();
                                if !json_eq(&back, value) {
                                    failures.push(format!("{name}: differs: {back}"));
                                }
                            }
                            Err(e) => failures.push(format!("{name}: {e}")),
                        }
                    }
                    ("coordinateSystems", Value::Array(_)) => {
                        checked += 1;
                        match serde_json::from_value::<Vec<CoordinateSystem>>(value.clone()) {
                            Ok(cs) => {
                                let back = serde_json::to_value(&cs).unwrap();
                                if !json_eq(&back, value) {
                                    failures.push(format!("{name}: systems differ: {back}"));
                                }
                            }
                            Err(e) => failures.push(format!("{name}: {e}")),
                        }
                    }
                    _ => {}
                }
                checked += check(value, name, failures);
            }
        }
        Value::Array(items) => {
            for item in items {
                checked += check(item, name, failures);
            }
        }
        _ => {}
    }
    checked
}

/// The documents that must be valid 0.6: the examples (minus the two the spec itself calls
/// invalid), the valid attribute and zarr tests, and the RFC-5 and ome-zarr-models samples.
fn valid_documents(spec: &Path) -> Vec<PathBuf> {
    let ngff = spec.join("ngff");
    let mut files = Vec::new();
    json_files(&ngff.join("0.6rc0/examples"), &mut files);
    let mut tests = Vec::new();
    json_files(&ngff.join("0.6rc0/tests"), &mut tests);
    files.extend(
        tests
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "valid")),
    );
    json_files(&ngff.join("samples/rfc5-examples"), &mut files);
    json_files(&ngff.join("samples/ome-zarr-models-py/v06"), &mut files);
    files.retain(|p| {
        !p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("byDimensionInvalid"))
    });
    files
}

#[test]
fn every_06_transformation_and_system_is_typed_and_round_trips() {
    let Some(spec) = spec_data() else { return };
    let mut failures = Vec::new();
    let mut lists = 0;
    let files = valid_documents(&spec);
    for file in &files {
        let name = file
            .strip_prefix(&spec)
            .unwrap_or(file)
            .display()
            .to_string();
        lists += check(&read_json(file), &name, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        files.len() > 100 && lists > 200,
        "{} files, {lists} lists",
        files.len()
    );
}

#[test]
fn every_06_document_keeps_its_version_string() {
    let Some(spec) = spec_data() else { return };
    let mut seen = std::collections::BTreeSet::new();
    for file in valid_documents(&spec) {
        let doc = read_json(&file);
        let attrs = match doc.get("attributes") {
            Some(Value::Object(a)) => a.clone(),
            _ => doc.as_object().cloned().unwrap_or_default(),
        };
        let Ok(ome) = OmeAttributes::from_attributes(&attrs, &crate::Location::None) else {
            continue;
        };
        if let Some(raw) = ome.raw_version() {
            assert_eq!(
                ome.version(),
                Some(NgffVersion::V0_6),
                "{}: {raw}",
                file.display()
            );
            seen.insert(raw.to_owned());
        }
    }
    for v in ["0.6rc0", "0.6.dev3"] {
        assert!(seen.contains(v), "{v} not seen in {seen:?}");
    }
}

#[test]
fn scenes_parse_and_list_their_images() {
    let Some(spec) = spec_data() else { return };
    let doc = read_json(&spec.join("ngff/0.6rc0/examples/scene/scene_stitching.json"));
    let attrs = doc["attributes"].as_object().cloned().unwrap();
    let ome = OmeAttributes::from_attributes(&attrs, &crate::Location::None).unwrap();
    assert_eq!(ome.kind(), NodeKind::Scene);
    let scene = ome.scene.as_ref().unwrap();
    assert_eq!(
        scene.image_paths(),
        ["tile_0", "tile_1", "tile_2", "tile_3"]
    );
    let t = &scene.coordinate_transformations[1];
    assert_eq!(t.apply(&[1.0, 2.0]).unwrap(), [1.0, 350.0]);
    assert!(json_eq(
        &Value::Object(ome.to_attributes()),
        &Value::Object(attrs)
    ));
}
