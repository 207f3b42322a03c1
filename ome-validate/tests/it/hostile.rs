//! Hostile input never crashes the validator: malformed and deeply nested JSON, huge
//! numbers, paths that try to leave the root, and every value of valid documents
//! replaced by values of every other type.

use std::fs;
use std::path::Path;

use ome_validate::{Depth, NgffVersion, Options, Severity, validate_attributes, validate_path};
use serde_json::{Value, json};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

fn codes(dir: &Path, depth: Depth) -> Vec<String> {
    let report = validate_path(dir, &Options::with_depth(depth)).expect("runs");
    report.findings.iter().map(|f| f.code.to_string()).collect()
}

fn image05(paths: &[&str]) -> String {
    let datasets: Vec<Value> = paths.iter().map(|p| json!({"path": p, "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]})).collect();
    json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": [{
        "name": "x", "type": "none", "metadata": {},
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": datasets}]}}}).to_string()
}

const ARRAY05: &str = r#"{"zarr_format":3,"node_type":"array","shape":[4,4],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,2]}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,"codecs":[{"name":"bytes"}],"dimension_names":["y","x"]}"#;

#[test]
fn malformed_and_deep_documents_are_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "zarr.json", "{\"zarr_format\": 3,");
    assert_eq!(codes(dir.path(), Depth::Hierarchy), ["NGFF-HIER-001"]);
    let deep = "[".repeat(100_000);
    write(dir.path(), "zarr.json", &deep);
    assert_eq!(codes(dir.path(), Depth::Hierarchy), ["NGFF-HIER-001"]);
    let file = dir.path().join("attrs.json");
    fs::write(&file, &deep).expect("write");
    assert_eq!(codes(&file, Depth::Attributes), ["NGFF-HIER-001"]);
}

#[test]
fn escaping_paths_are_refused_and_the_walk_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "zarr.json",
        &image05(&["../outside", "/etc", "0", "1"]),
    );
    write(dir.path(), "0/zarr.json", ARRAY05);
    write(dir.path(), "1/zarr.json", "not json");
    let c = codes(dir.path(), Depth::Data);
    assert_eq!(
        c.iter().filter(|c| *c == "NGFF-HIER-004").count(),
        2,
        "{c:?}"
    );
    assert!(c.contains(&"NGFF-HIER-001".to_string()), "{c:?}");
}

#[test]
fn huge_numbers_and_bad_chunks() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "zarr.json", &image05(&["0"]));
    let huge = ARRAY05.replace("[4,4]", "[18446744073709551615,1e400]");
    write(dir.path(), "0/zarr.json", &huge);
    let _ = codes(dir.path(), Depth::Data);
    let big = ARRAY05.replace("[4,4]", "[18446744073709551615,18446744073709551615]");
    write(dir.path(), "0/zarr.json", &big);
    let _ = codes(dir.path(), Depth::Data);
    // A corrupt chunk and a stray chunk key outside the grid.
    write(dir.path(), "0/zarr.json", ARRAY05);
    write(dir.path(), "0/c/0/0", "xx");
    write(dir.path(), "0/c/9/9", "");
    let c = codes(dir.path(), Depth::Data);
    assert!(c.contains(&"NGFF-DATA-001".to_string()), "{c:?}");
    assert!(c.contains(&"NGFF-DATA-002".to_string()), "{c:?}");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "zarr.json", &image05(&["link"]));
    std::os::unix::fs::symlink("/tmp", dir.path().join("link")).expect("symlink");
    assert!(codes(dir.path(), Depth::Hierarchy).contains(&"NGFF-HIER-004".to_string()));
}

fn pointers(v: &Value, base: String, out: &mut Vec<String>) {
    out.push(base.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            pointers(
                x,
                format!("{base}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{base}/{i}"), out)),
        _ => {}
    }
}

#[test]
fn every_value_replaced_by_every_type_never_panics() {
    let docs = [
        json!({"multiscales": [{"version": "0.4", "name": "a", "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space"}],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}, {"type": "translation", "translation": [0, 0, 0]}]}],
            "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}],
            "omero": {"channels": [{"color": "FF0000", "window": {"start": 0, "end": 1, "min": 0, "max": 1}, "label": "a", "active": true}]},
            "image-label": {"version": "0.4", "colors": [{"label-value": 1, "rgba": [1, 2, 3, 4]}], "properties": [{"label-value": 1}], "source": {"image": "../../"}}}),
        json!({"ome": {"version": "0.5", "plate": {"name": "p", "rows": [{"name": "A"}], "columns": [{"name": "1"}], "field_count": 1,
            "wells": [{"path": "A/1", "rowIndex": 0, "columnIndex": 0}], "acquisitions": [{"id": 0, "name": "a", "maximumfieldcount": 1, "starttime": 0, "endtime": 1}]},
            "well": {"images": [{"path": "0", "acquisition": 0}]}, "labels": ["a"], "bioformats2raw.layout": 3, "series": ["0"]}}),
    ];
    let replacements = [
        Value::Null,
        json!(-1),
        json!(1.5e308),
        json!(u64::MAX),
        json!("x"),
        json!([]),
        json!({}),
        json!([[[]]]),
    ];
    let mut runs = 0;
    for doc in &docs {
        let mut ptrs = Vec::new();
        pointers(doc, String::new(), &mut ptrs);
        for p in &ptrs {
            for r in &replacements {
                let mut d = doc.clone();
                if p.is_empty() {
                    d = r.clone();
                } else if let Some(slot) = d.pointer_mut(p) {
                    *slot = r.clone();
                }
                for v in NgffVersion::ALL {
                    let mut options = Options::with_depth(Depth::Attributes);
                    options.ngff_version = Some(v);
                    let findings = validate_attributes(&d, "fuzz.json", &options).expect("runs");
                    assert!(
                        findings
                            .iter()
                            .all(|f| !f.message.is_empty() && f.rule_page.ends_with(".md"))
                    );
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 500);
    // Sanity: the unmodified documents are valid under their own version.
    for (doc, v) in docs.iter().zip([NgffVersion::V0_4, NgffVersion::V0_5]) {
        let mut options = Options::with_depth(Depth::Attributes);
        options.ngff_version = Some(v);
        let f = validate_attributes(doc, "ok.json", &options).expect("runs");
        assert!(f.iter().all(|f| f.severity != Severity::Error), "{f:#?}");
    }
}

const ARRAY04: &str = r#"{"zarr_format":2,"shape":[4,4],"chunks":[2,2],"dtype":"|u1","compressor":null,"fill_value":0,"order":"C","filters":null,"dimension_separator":"/"}"#;

fn image04() -> String {
    json!({"multiscales": [{"version": "0.4", "name": "x",
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]}]}]})
    .to_string()
}

#[test]
fn level_arrays_in_the_other_zarr_format_are_hier_005() {
    // 0.5 image (Zarr v3) with a Zarr v2 level: failing; with a v3 level: passing.
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "zarr.json", &image05(&["0"]));
    write(dir.path(), "0/.zarray", ARRAY04);
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(c.contains(&"NGFF-HIER-005".to_string()), "{c:?}");
    fs::remove_file(dir.path().join("0/.zarray")).expect("rm");
    write(dir.path(), "0/zarr.json", ARRAY05);
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(!c.contains(&"NGFF-HIER-005".to_string()), "{c:?}");
    // The reverse: a 0.4 image (Zarr v2) with a Zarr v3 level, then a v2 one.
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), ".zgroup", r#"{"zarr_format": 2}"#);
    write(dir.path(), ".zattrs", &image04());
    write(dir.path(), "0/zarr.json", ARRAY05);
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(c.contains(&"NGFF-HIER-005".to_string()), "{c:?}");
    fs::remove_file(dir.path().join("0/zarr.json")).expect("rm");
    write(dir.path(), "0/.zarray", ARRAY04);
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(!c.contains(&"NGFF-HIER-005".to_string()), "{c:?}");
}

#[cfg(unix)]
#[test]
fn symlink_cycles_are_hier_006_and_never_walked() {
    let labels = |names: &[&str]| {
        json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "labels": names}}})
            .to_string()
    };
    let image = |dir: &Path| {
        write(dir, "zarr.json", &image05(&["0"]));
        write(dir, "0/zarr.json", ARRAY05);
    };
    // labels/cells -> the image itself.
    let dir = tempfile::tempdir().expect("tmp");
    image(dir.path());
    write(dir.path(), "labels/zarr.json", &labels(&["cells"]));
    std::os::unix::fs::symlink("..", dir.path().join("labels/cells")).expect("symlink");
    for depth in [Depth::Hierarchy, Depth::Data] {
        let c = codes(dir.path(), depth);
        assert!(c.contains(&"NGFF-HIER-006".to_string()), "{c:?}");
    }
    // labels -> the image itself, and a deeper link to the root.
    let dir = tempfile::tempdir().expect("tmp");
    image(dir.path());
    std::os::unix::fs::symlink(".", dir.path().join("labels")).expect("symlink");
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(c.contains(&"NGFF-HIER-006".to_string()), "{c:?}");
    let dir = tempfile::tempdir().expect("tmp");
    image(dir.path());
    write(dir.path(), "labels/zarr.json", &labels(&["a/b"]));
    fs::create_dir_all(dir.path().join("labels/a")).expect("mkdir");
    std::os::unix::fs::symlink("../..", dir.path().join("labels/a/b")).expect("symlink");
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(c.contains(&"NGFF-HIER-006".to_string()), "{c:?}");
    // Passing: a real label image, and a link to a sibling image (not an ancestor).
    let dir = tempfile::tempdir().expect("tmp");
    image(dir.path());
    write(dir.path(), "labels/zarr.json", &labels(&["cells", "copy"]));
    let label = image05(&["0"]).replace(
        "\"ome\":{",
        "\"ome\":{\"image-label\":{\"version\":\"0.5\"},",
    );
    write(dir.path(), "labels/cells/zarr.json", &label);
    write(dir.path(), "labels/cells/0/zarr.json", ARRAY05);
    std::os::unix::fs::symlink("cells", dir.path().join("labels/copy")).expect("symlink");
    let c = codes(dir.path(), Depth::Hierarchy);
    assert!(!c.contains(&"NGFF-HIER-006".to_string()), "{c:?}");
}
