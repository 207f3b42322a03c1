//! The `ome-validate` binary: output modes, exit codes, rule pages, the JSON report
//! schema, and golden snapshots (plain files in `tests/snapshots/`; set
//! `UPDATE_SNAPSHOTS=1` to rewrite them).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ome-validate"))
}

fn synthetic() -> Option<PathBuf> {
    testkit::spec_data_file("ngff/samples/synthetic")
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots")).join(name);
    testkit::assert_snapshot(&path, actual);
}

#[test]
fn exit_codes_and_text_snapshot() {
    let Some(dir) = synthetic() else { return };
    let (code, out, _) = run(
        &dir,
        &[
            "--color",
            "never",
            "invalid-hierarchies/v0.5/dimension_names_mismatch.ome.zarr",
        ],
    );
    assert_eq!(code, 1);
    snapshot("dimension_names_mismatch.txt", &out);
    let (code, out, _) = run(
        &dir,
        &["--color", "never", "valid/v0.4/image_tczyx_labels.ome.zarr"],
    );
    assert_eq!(code, 0, "{out}");
    snapshot("valid_v04_image.txt", &out);
    // Warnings fail only with --fail-on warning.
    let (code, _, _) = run(
        &dir,
        &["invalid-hierarchies/v0.5/label_shape_mismatch.ome.zarr"],
    );
    assert_eq!(code, 0);
    let (code, _, _) = run(
        &dir,
        &[
            "--fail-on",
            "warning",
            "invalid-hierarchies/v0.5/label_shape_mismatch.ome.zarr",
        ],
    );
    assert_eq!(code, 1);
    // The tool could not run.
    let (code, _, err) = run(&dir, &["does/not/exist.zarr"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(
        &dir,
        &["--select", "NGFF-NOPE", "valid/v0.4/plate_1x2.ome.zarr"],
    );
    assert_eq!(code, 2);
}

#[test]
fn select_and_ignore() {
    let Some(dir) = synthetic() else { return };
    let t = "invalid-hierarchies/v0.5/ndim_not_equal_axes.ome.zarr";
    let (_, out, _) = run(&dir, &["--format", "jsonl", "--select", "NGFF-ARR-002", t]);
    let codes: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "finding")
        .map(|v| v["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(codes, ["NGFF-ARR-002"]);
    let (code, _, _) = run(&dir, &["--ignore", "NGFF-ARR,NGFF-MS-006", t]);
    assert_eq!(code, 0);
}

#[test]
fn json_report_matches_schema_and_snapshot() {
    let Some(dir) = synthetic() else { return };
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/report/report-v1.schema.json"
        ))
        .expect("schema"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let (code, out, _) = run(
        &dir,
        &[
            "--format",
            "json",
            "invalid-hierarchies/v0.4/plate_index_path_mismatch.ome.zarr",
            "invalid-hierarchies/v0.5/well_unknown_acquisition.ome.zarr",
            "valid/v0.5/image_tczyx_labels.ome.zarr",
        ],
    );
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).expect("json output");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["targets"].as_array().map(Vec::len), Some(3));
    snapshot("plate_and_well.json", &out);
    // JSON Lines: every line is an object; the last is the summary.
    let (_, out, _) = run(
        &dir,
        &[
            "--format",
            "jsonl",
            "invalid-hierarchies/v0.4/plate_index_path_mismatch.ome.zarr",
        ],
    );
    let last: Value = serde_json::from_str(out.lines().last().expect("lines")).expect("json");
    assert_eq!(last["type"], "summary");
}

#[test]
fn conformance_mode_always_exits_zero() {
    let Some(dir) = synthetic() else { return };
    let (code, out, _) = run(
        &dir,
        &[
            "--format",
            "conformance",
            "invalid-hierarchies/v0.5/well_image_missing.ome.zarr",
        ],
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["valid"], false);
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("NGFF-WL-004"))
    );
    let (code, out, _) = run(
        &dir,
        &["--format", "conformance", "valid/v0.5/plate_1x2.ome.zarr"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json")["valid"],
        true
    );
}

#[test]
fn limit_flags_reach_the_reader() {
    let Some(dir) = synthetic() else { return };
    let (code, out, _) = run(
        &dir,
        &[
            "--max-metadata-bytes",
            "16",
            "valid/v0.5/plate_1x2.ome.zarr",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("NGFF-HIER-001") && out.contains("limit of 16 bytes"),
        "{out}"
    );
    let (code, out, _) = run(
        &dir,
        &[
            "--depth",
            "data",
            "--max-chunk-bytes",
            "8",
            "valid/v0.5/image_tczyx_labels.ome.zarr",
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains("NGFF-DATA-001"), "{out}");
}

#[test]
fn rule_pages_and_listing() {
    let dir = std::env::temp_dir();
    let (code, out, _) = run(&dir, &["rule", "NGFF-AX-003"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# NGFF-AX-003"));
    let (code, _, _) = run(&dir, &["rule", "NGFF-XX-999"]);
    assert_eq!(code, 2);
    let (code, out, _) = run(&dir, &["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).expect("json");
    assert!(list.as_array().is_some_and(|l| l.len() > 50));
    let (code, out, _) = run(&dir, &["rules", "--format", "md"]);
    assert_eq!(code, 0);
    assert!(out.contains("| [NGFF-VER-001](NGFF-VER-001.md)"));
}
