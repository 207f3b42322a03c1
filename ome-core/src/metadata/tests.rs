//! Cross-module tests: every example and conformance document of the spec parses and
//! round-trips; malformed documents give pointed format errors; writer output validates
//! against the official schemas.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::schema_testing::{assert_valid, read_json, spec_data, validator};
use super::*;
use crate::{ErrorKind, Location};

/// JSON equality that compares numbers by value (`1 == 1.0`) and objects by key set.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
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

fn files_under(dir: &Path, accept: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files_under(&path, accept, out);
        } else if accept(&path) {
            out.push(path);
        }
    }
}

fn name_is(path: &Path, names: &[&str]) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| names.contains(&n))
}

fn is_json_example(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json") && !name_is(path, &[".config.json"])
}

/// The attributes object of a document: the `attributes` member of a whole `zarr.json`
/// (empty when it has none), else the document itself.
fn attributes_of(doc: &Value) -> Map<String, Value> {
    let obj = doc.as_object().cloned().unwrap_or_default();
    if obj.contains_key("zarr_format") || obj.contains_key("node_type") {
        obj.get("attributes")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    } else {
        obj
    }
}

/// Named attribute documents, grouped by a label such as `"0.4 examples"`.
type Corpus = BTreeMap<String, Vec<(String, Map<String, Value>)>>;

/// Every example document of spec-data.
fn corpus(spec: &Path) -> Corpus {
    let ngff = spec.join("ngff");
    let mut groups = Corpus::new();
    let mut add_files = |label: &str, dir: PathBuf, accept: &dyn Fn(&Path) -> bool| {
        let mut files = Vec::new();
        files_under(&dir, accept, &mut files);
        let entry = groups.entry(label.to_owned()).or_default();
        for f in files {
            let name = f.strip_prefix(&ngff).unwrap_or(&f).display().to_string();
            entry.push((name, attributes_of(&read_json(&f))));
        }
    };
    for v in ["0.1", "0.2", "0.3"] {
        let valid =
            |p: &Path| is_json_example(p) && p.parent().is_some_and(|d| d.ends_with("valid"));
        add_files(
            &format!("{v} examples"),
            ngff.join(v).join("examples"),
            &valid,
        );
    }
    for v in ["0.4", "0.5", "0.6rc0"] {
        add_files(
            &format!("{v} examples"),
            ngff.join(v).join("examples"),
            &is_json_example,
        );
    }
    let attributes_valid =
        |p: &Path| is_json_example(p) && p.components().any(|c| c.as_os_str() == "valid");
    add_files(
        "0.6rc0 attribute tests",
        ngff.join("0.6rc0/tests/attributes"),
        &attributes_valid,
    );
    let zarr_docs = |p: &Path| name_is(p, &[".zattrs", "zarr.json"]);
    let samples = ngff.join("samples");
    add_files(
        "ome-zarr-models-py",
        samples.join("ome-zarr-models-py"),
        &|p: &Path| is_json_example(p) || name_is(p, &[".zattrs"]),
    );
    add_files("ome-zarr-py", samples.join("ome-zarr-py"), &zarr_docs);
    add_files(
        "ome-ngff-validator",
        samples.join("ome-ngff-validator"),
        &zarr_docs,
    );
    add_files("synthetic", samples.join("synthetic"), &zarr_docs);
    add_files("rfc5-examples", samples.join("rfc5-examples"), &zarr_docs);
    for v in ["0.4", "0.5"] {
        let mut suites = Vec::new();
        files_under(
            &ngff.join(v).join("tests"),
            &|p| name_is_suite(p),
            &mut suites,
        );
        let entry = groups
            .entry(format!("{v} suites (valid cases)"))
            .or_default();
        for suite in suites {
            let doc = read_json(&suite);
            for (i, case) in doc["tests"].as_array().unwrap().iter().enumerate() {
                if case["valid"] == true {
                    let name = format!("{}#{i}", suite.file_name().unwrap().to_string_lossy());
                    entry.push((name, case["data"].as_object().cloned().unwrap_or_default()));
                }
            }
        }
    }
    groups
}

fn name_is_suite(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_suite.json"))
}

#[test]
fn every_example_parses_and_round_trips() {
    let Some(spec) = spec_data() else { return };
    let mut failures = Vec::new();
    let mut total = 0;
    for (label, docs) in corpus(&spec) {
        assert!(!docs.is_empty(), "no documents for {label}");
        let mut ok = 0;
        for (name, attrs) in &docs {
            let base = Location::file(name.clone());
            match OmeAttributes::from_attributes(attrs, &base) {
                Ok(ome) => {
                    let back = Value::Object(ome.to_attributes());
                    if json_eq(&back, &Value::Object(attrs.clone())) {
                        ok += 1;
                    } else {
                        failures.push(format!("{name}: round trip differs:\n{back:#}"));
                    }
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        total += ok;
        eprintln!("{label}: {ok}/{} parsed and round-tripped", docs.len());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total > 300, "only {total} documents");
}

fn read_attrs(spec: &Path, rel: &str) -> OmeAttributes {
    let attrs = attributes_of(&read_json(&spec.join("ngff").join(rel)));
    OmeAttributes::from_attributes(&attrs, &Location::None).unwrap()
}

#[test]
fn versions_and_kinds_are_detected() {
    let Some(spec) = spec_data() else { return };
    let s = "samples/ome-ngff-validator/invalid";
    let bad = read_attrs(&spec, &format!("{s}/invalid_version.zarr/.zattrs"));
    assert_eq!((bad.version(), bad.raw_version()), (None, Some("abc123")));
    assert_eq!(bad.kind(), NodeKind::Image);
    let v4 = read_attrs(&spec, &format!("{s}/no_version_v0.4.zarr/.zattrs"));
    assert_eq!(
        (v4.version(), v4.kind(), v4.layout),
        (None, NodeKind::Image, AttributeLayout::TopLevel)
    );
    // a 0.5 zarr.json body stored as `.zattrs`: no OME keys at the top level
    let v5 = read_attrs(&spec, &format!("{s}/no_version_v0.5.zarr/.zattrs"));
    assert_eq!((v5.version(), v5.kind()), (None, NodeKind::Unknown));
    let v5 = read_attrs(
        &spec,
        "samples/ome-zarr-models-py/v05/image_no_version_example.json",
    );
    assert_eq!(
        (v5.version(), v5.kind(), v5.layout),
        (None, NodeKind::Image, AttributeLayout::Nested)
    );
    let min = read_attrs(&spec, &format!("{s}/missing_min.zarr/.zattrs"));
    assert_eq!(min.version(), Some(NgffVersion::V0_4));
    let window = min.omero.unwrap().channels[0].window.clone().unwrap();
    assert_eq!((window.min, window.end), (None, Some(255.0)));
    let labels = read_attrs(&spec, &format!("{s}/missing_min.zarr/labels/.zattrs"));
    assert_eq!(labels.kind(), NodeKind::Labels);

    let v01 = read_attrs(&spec, "samples/ome-zarr-py/v1/.zattrs");
    assert_eq!(v01.version(), Some(NgffVersion::V0_1));
    let m = &v01.multiscales.unwrap()[0];
    assert_eq!(m.effective_axes(5).len(), 5);
    let m05 = read_attrs(
        &spec,
        "0.5/examples/multiscales_strict/multiscales_example.json",
    );
    assert_eq!(m05.version(), Some(NgffVersion::V0_5));
    let ms = &m05.multiscales.as_ref().unwrap()[0];
    assert_eq!(ms.level_scale(1), Some(vec![0.1, 1.0, 1.0, 1.0, 1.0]));
    let cases = [
        (
            "0.3/examples/image/valid/minimal.json",
            NgffVersion::V0_3,
            NodeKind::Image,
        ),
        (
            "0.4/examples/plate_strict/plate_6wells.json",
            NgffVersion::V0_4,
            NodeKind::Plate,
        ),
        (
            "0.5/examples/well_strict/well_2fields.json",
            NgffVersion::V0_5,
            NodeKind::Well,
        ),
        (
            "0.5/examples/bf2raw/image.json",
            NgffVersion::V0_5,
            NodeKind::Bioformats2raw,
        ),
        (
            "0.5/examples/ome/series-2.json",
            NgffVersion::V0_5,
            NodeKind::Series,
        ),
        (
            "0.6rc0/examples/multiscales_strict/multiscales_example.json",
            NgffVersion::V0_6,
            NodeKind::Image,
        ),
        (
            "samples/ome-zarr-models-py/v06/image_example.json",
            NgffVersion::V0_6,
            NodeKind::Image,
        ),
    ];
    for (rel, version, kind) in cases {
        if !spec.join("ngff").join(rel).exists() {
            continue;
        }
        let a = read_attrs(&spec, rel);
        assert_eq!((a.version(), a.kind()), (Some(version), kind), "{rel}");
    }
    let label = read_attrs(&spec, "0.4/examples/label_strict/colors_properties.json");
    assert!(label.image_label.is_some());
}

fn format_error(attrs: Value) -> crate::Error {
    let base = Location::zarr_pointer("/d/img.zarr", "", ".zattrs", "");
    OmeAttributes::from_attributes(attrs.as_object().unwrap(), &base).unwrap_err()
}

fn pointer(err: &crate::Error) -> String {
    match err.location() {
        Location::Zarr { pointer, .. } => pointer.clone().unwrap_or_default(),
        other => panic!("not a zarr location: {other:?}"),
    }
}

#[test]
fn malformed_documents_give_pointed_format_errors() {
    let cases = [
        (
            json!({"multiscales": [{"axes": [{"name": "y"}, {"name": 3}], "datasets": []}]}),
            "/multiscales/0/axes/1/name",
            "expected a string, found integer `3`",
        ),
        (
            json!({"multiscales": [{"axes": ["y", 5], "datasets": []}]}),
            "/multiscales/0/axes/1",
            "expected an axis object or an axis name, found integer `5`",
        ),
        (
            json!({"ome": {"version": "0.5", "multiscales": [{"axes": [], "datasets": {"path": "0"}}]}}),
            "/ome/multiscales/0/datasets",
            "expected a sequence",
        ),
        (
            json!({"multiscales": [{"datasets": [{"path": "0"}, {"coordinateTransformations": []}]}]}),
            "/multiscales/0/datasets/1",
            "expected key `path`, found none",
        ),
        (
            json!({"multiscales": [{"datasets": [{"path": "0", "coordinateTransformations": [
                {"type": "scale", "scale": [1, "2"]}]}]}]}),
            "/multiscales/0/datasets/0/coordinateTransformations/0",
            "in `scale[1]`: expected f64, found string \"2\"",
        ),
        (
            json!({"plate": {"rows": [], "columns": [], "wells": [{"path": "A/1", "rowIndex": "0"}]}}),
            "/plate/wells/0/rowIndex",
            "expected u64",
        ),
        (
            json!({"ome": {"version": 5}}),
            "/ome/version",
            "expected a version string, found 5",
        ),
        (
            json!({"well": {"images": [{"path": 1}]}}),
            "/well/images/0/path",
            "expected a string",
        ),
        (
            json!({"image-label": {"colors": [{"label-value": 1, "rgba": [0, 0, 300, 0]}]}}),
            "/image-label/colors/0/rgba/2",
            "expected u8",
        ),
        (
            json!({"labels": "cells"}),
            "/labels",
            "expected a sequence, found string \"cells\"",
        ),
    ];
    for (doc, expected_pointer, expected_message) in cases {
        let err = format_error(doc.clone());
        assert_eq!(err.kind(), ErrorKind::Format);
        assert_eq!(pointer(&err), expected_pointer, "{doc}: {err}");
        assert!(
            err.message().contains(expected_message),
            "{doc}: {}",
            err.message()
        );
        assert!(
            err.message().chars().next().is_some_and(char::is_lowercase),
            "{err}"
        );
    }
}

fn sample_multiscale() -> Multiscale {
    Multiscale {
        name: Some("image".into()),
        axes: Some(vec![
            Axis::channel("c"),
            Axis::space("y", Some("micrometer")),
            Axis::space("x", Some("micrometer")),
        ]),
        datasets: vec![
            Dataset::new("0", vec![1.0, 0.5, 0.5], None),
            Dataset::new("1", vec![1.0, 1.0, 1.0], Some(vec![0.0, 0.25, 0.25])),
        ],
        r#type: Some("mean".into()),
        metadata: Some(json!({"method": "ome-core"})),
        ..Multiscale::default()
    }
}

fn sample_omero() -> Omero {
    Omero {
        channels: vec![OmeroChannel {
            label: Some("DAPI".into()),
            color: Some("0000FF".into()),
            window: Some(Window {
                min: Some(0.0),
                max: Some(65535.0),
                start: Some(0.0),
                end: Some(1000.0),
                ..Default::default()
            }),
            active: Some(true),
            ..Default::default()
        }],
        rdefs: Some(Rdefs {
            model: Some("color".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn sample_plate() -> Plate {
    let mut plate = Plate {
        name: Some("plate".into()),
        rows: vec![NamedEntry::new("A")],
        columns: vec![NamedEntry::new("1"), NamedEntry::new("2")],
        acquisitions: Some(vec![Acquisition {
            id: 0,
            name: Some("a".into()),
            maximum_field_count: Some(1),
            ..Default::default()
        }]),
        field_count: Some(1),
        ..Default::default()
    };
    plate.wells = vec![
        PlateWell::at(&plate, 0, 0).unwrap(),
        PlateWell::at(&plate, 0, 1).unwrap(),
    ];
    plate
}

#[test]
fn constructed_metadata_validates_against_the_official_schemas() {
    if spec_data().is_none() {
        return;
    }
    for version in [NgffVersion::V0_4, NgffVersion::V0_5] {
        let v = version.as_str();
        let image =
            OmeAttributes::new_image(version, sample_multiscale(), Some(sample_omero()), None);
        let label_colors = vec![LabelColor::new(1, [255, 0, 0, 255])];
        let label = ImageLabel {
            colors: Some(label_colors),
            source: Some(LabelSource {
                image: Some("../../".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let label = OmeAttributes::new_image(version, sample_multiscale(), None, Some(label));
        let well = Well {
            images: vec![WellImage {
                path: "0".into(),
                acquisition: Some(0),
                ..Default::default()
            }],
            ..Default::default()
        };
        let docs = [
            ("image.schema", image),
            (
                "strict_image.schema",
                OmeAttributes::new_image(version, sample_multiscale(), None, None),
            ),
            ("label.schema", label),
            (
                "plate.schema",
                OmeAttributes::new_plate(version, sample_plate()),
            ),
            ("well.schema", OmeAttributes::new_well(version, well)),
        ];
        for (schema, attrs) in docs {
            let doc = Value::Object(attrs.to_attributes());
            let validator = validator(v, schema).unwrap();
            assert_valid(&validator, &doc, &format!("{v} {schema}"));
            let back =
                OmeAttributes::from_attributes(doc.as_object().unwrap(), &Location::None).unwrap();
            assert_eq!(back, attrs);
            assert_eq!(back.version(), Some(version));
        }
        if version == NgffVersion::V0_5 {
            let labels = OmeAttributes::new_labels(version, vec!["cells".into()]);
            let doc = Value::Object(labels.to_attributes());
            assert_eq!(doc, json!({"ome": {"version": "0.5", "labels": ["cells"]}}));
            let ome = validator(v, "ome.schema").unwrap();
            let series = OmeAttributes::new_series(version, vec!["0".into()]);
            assert_valid(&ome, &Value::Object(series.to_attributes()), "0.5 series");
            let bf = validator(v, "bf2raw.schema").unwrap();
            let root = OmeAttributes::new_bioformats2raw(version);
            assert_valid(&bf, &Value::Object(root.to_attributes()), "0.5 bf2raw");
        }
    }
}

#[test]
fn schemas_agree_with_their_suites() {
    // Checks the schema helper itself on the official suites (README 2.3).
    let Some(spec) = spec_data() else { return };
    for v in ["0.4", "0.5"] {
        let mut suites = Vec::new();
        files_under(
            &spec.join("ngff").join(v).join("tests"),
            &|p| name_is_suite(p),
            &mut suites,
        );
        for suite in suites {
            let doc = read_json(&suite);
            let schema = doc["schema"]["id"]
                .as_str()
                .unwrap()
                .trim_start_matches("schemas/");
            let validator = validator(v, schema).unwrap();
            for case in doc["tests"].as_array().unwrap() {
                let known_deviation = case["formerly"] == "plate/well_path_has_column_before_row";
                if !known_deviation {
                    assert_eq!(
                        validator.is_valid(&case["data"]),
                        case["valid"] == true,
                        "{v} {case}"
                    );
                }
            }
        }
    }
}

#[test]
fn writer_layouts_differ_by_version() {
    let a4 = OmeAttributes::new_image(NgffVersion::V0_4, sample_multiscale(), None, None)
        .to_attributes();
    assert_eq!(a4["multiscales"][0]["version"], "0.4");
    let a5 = OmeAttributes::new_image(NgffVersion::V0_5, sample_multiscale(), None, None)
        .to_attributes();
    assert_eq!(a5["ome"]["version"], "0.5");
    assert!(a5["ome"]["multiscales"][0].get("version").is_none());
    let mut with_other = OmeAttributes::new_plate(NgffVersion::V0_5, sample_plate());
    with_other
        .other_attributes
        .insert("custom".into(), json!(1));
    let attrs = with_other.to_attributes();
    assert_eq!(attrs["custom"], 1);
    assert_eq!(
        OmeAttributes::from_attributes(&attrs, &Location::None).unwrap(),
        with_other
    );
}

#[test]
fn json_eq_is_numeric() {
    assert!(json_eq(&json!({"a": [1, 2.5]}), &json!({"a": [1.0, 2.5]})));
    assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
}
