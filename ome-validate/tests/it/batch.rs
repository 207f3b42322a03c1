//! Runs over many targets, as repositories and format maintainers use the binary:
//! `--recursive` discovery, the summary, `--format sarif` and `--format junit` (structure;
//! the schema checks are in `tests/interop/test_validate_ci_formats.py`), and baselines.
//! Fixtures are small hierarchies written into temporary directories.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ome-validate"))
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

fn write_json(path: &Path, value: &Value) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
}

/// A small OME-Zarr 0.5 image; `axes` names its three axes (a repeated name is an
/// NGFF-AX-003 error), `unit` is the unit of the space axes (`None` for none).
fn image(root: &Path, axes: [&str; 3], unit: Option<&str>) {
    image_of(root, axes, unit, 4);
}

/// As [`image`], with level 0 of `1 x size x size` in one chunk (metadata only: no chunk
/// is written, as the hierarchy depth reads none).
fn image_of(root: &Path, axes: [&str; 3], unit: Option<&str>, size: u64) {
    let axis = |name: &str, kind: &str| {
        let mut a = json!({"name": name, "type": kind});
        if kind == "space"
            && let Some(u) = unit
        {
            a["unit"] = json!(u);
        }
        a
    };
    write_json(
        &root.join("zarr.json"),
        &json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5",
            "multiscales": [{
                "name": "img", "type": "mean", "metadata": {},
                "axes": [axis(axes[0], "channel"), axis(axes[1], "space"), axis(axes[2], "space")],
                "datasets": [{"path": "0", "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0, 0.5, 0.5]}]}]
            }]
        }}}),
    );
    write_json(
        &root.join("0/zarr.json"),
        &json!({"zarr_format": 3, "node_type": "array", "shape": [1, size, size],
            "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, size, size]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes"}], "attributes": {},
            "dimension_names": axes}),
    );
}

/// `repo/` with two valid images (one nested deeper), one invalid image and a non-image
/// file: the layout of a repository of examples.
fn repository() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    image(
        &repo.join("good/a.ome.zarr"),
        ["c", "y", "x"],
        Some("micrometer"),
    );
    image(
        &repo.join("more/deep/b.ome.zarr"),
        ["c", "y", "x"],
        Some("micrometer"),
    );
    image(
        &repo.join("bad/dup.ome.zarr"),
        ["c", "x", "x"],
        Some("micrometer"),
    );
    fs::write(repo.join("README.txt"), "not an image").expect("write");
    tmp
}

#[test]
fn recursive_finds_every_root_and_summarises() {
    let tmp = repository();
    let (code, out, err) = run(tmp.path(), &["--recursive", "repo", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let targets: Vec<&str> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["target"].as_str().expect("target"))
        .collect();
    assert_eq!(
        targets,
        [
            "repo/bad/dup.ome.zarr",
            "repo/good/a.ome.zarr",
            "repo/more/deep/b.ome.zarr"
        ]
    );
    let summary = &report["summary"];
    assert_eq!(summary["targets"], 3);
    assert_eq!(
        summary["verdicts"],
        json!({"invalid": 1, "valid": 0, "valid-strict": 2})
    );
    assert!(
        summary["codes"]["NGFF-AX-003"].as_u64() >= Some(1),
        "{summary}"
    );
    // The schema still holds for the extended report.
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/report/report-v1.schema.json"
        ))
        .expect("schema"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Text: the summary block names each target's verdict and counts codes.
    let (code, out, _) = run(tmp.path(), &["--color", "never", "--recursive", "repo"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("summary\n  invalid repo/bad/dup.ome.zarr\n"),
        "{out}"
    );
    assert!(
        out.contains("  targets: 1 invalid, 0 valid, 2 valid-strict\n"),
        "{out}"
    );
    assert!(out.contains("    NGFF-AX-003"), "{out}");
    // Only valid images: exit 0; explicit targets and --recursive mix.
    let (code, _, err) = run(
        tmp.path(),
        &["--recursive", "repo/good", "repo/more/deep/b.ome.zarr"],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_target_given_or_found_twice_is_validated_once() {
    let tmp = repository();
    let targets = |args: &[&str]| -> Vec<String> {
        let (_, out, err) = run(tmp.path(), args);
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        report["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .map(|t| t["target"].as_str().expect("target").to_string())
            .collect()
    };
    // The same path twice, and two spellings of one directory: the first one stays.
    assert_eq!(
        targets(&[
            "repo/good/a.ome.zarr",
            "repo/good/a.ome.zarr",
            "repo/good/../good/a.ome.zarr",
            "--format",
            "json"
        ]),
        ["repo/good/a.ome.zarr"]
    );
    // Overlapping --recursive roots, and a target given that a root also holds.
    assert_eq!(
        targets(&[
            "repo/more/deep/b.ome.zarr",
            "--recursive",
            "repo",
            "--recursive",
            "repo/more",
            "--format",
            "json"
        ]),
        [
            "repo/more/deep/b.ome.zarr",
            "repo/bad/dup.ome.zarr",
            "repo/good/a.ome.zarr"
        ]
    );
}

#[test]
fn recursive_errors_are_exit_code_two() {
    let tmp = repository();
    let (code, _, err) = run(tmp.path(), &["--recursive", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nope") && err.contains("expected a directory"),
        "{err}"
    );
    let (code, _, err) = run(tmp.path(), &["--recursive", "repo", "--max-entries", "3"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("expected at most 3 directory entries"),
        "{err}"
    );
    // Neither targets nor --recursive: a usage error.
    let (code, _, _) = run(tmp.path(), &[]);
    assert_eq!(code, 2);
}

#[test]
fn sarif_has_rules_results_and_locations() {
    let tmp = repository();
    let (code, out, err) = run(tmp.path(), &["--recursive", "repo", "--format", "sarif"]);
    assert_eq!(code, 1, "{err}");
    let log: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "ome-validate");
    let rules = driver["rules"].as_array().expect("rules");
    let ax = rules
        .iter()
        .position(|r| r["id"] == "NGFF-AX-003")
        .expect("the rule that fired");
    let rule = &rules[ax];
    assert_eq!(rule["name"], "AxisNamesAreUnique");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .is_some_and(|p| p.starts_with("# NGFF-AX-003"))
    );
    assert!(
        rule["helpUri"]
            .as_str()
            .is_some_and(|u| u.contains("#axes-md"))
    );
    let result = runs[0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "NGFF-AX-003")
        .expect("a result");
    assert_eq!(result["ruleIndex"], ax);
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "repo/bad/dup.ome.zarr/zarr.json"
    );
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
    assert!(
        location["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .is_some_and(|n| n.starts_with("zarr.json#/attributes/ome/multiscales/0/axes")),
        "{location}"
    );
    assert!(result["partialFingerprints"]["omeValidateLocation/v1"].is_string());
}

#[test]
fn junit_has_one_case_per_target_and_failures_for_invalid_ones() {
    let tmp = repository();
    let (code, out, err) = run(tmp.path(), &["--recursive", "repo", "--format", "junit"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"ome-validate\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"0\">"), "{out}");
    assert_eq!(out.matches("<testcase ").count(), 3, "{out}");
    assert_eq!(out.matches("<failure ").count(), 1, "{out}");
    let case = out
        .split("<testcase ")
        .find(|c| c.contains("repo/bad/dup.ome.zarr"))
        .expect("the invalid target's case");
    assert!(case.contains("<failure type=\"invalid\""), "{case}");
    assert!(case.contains("error[NGFF-AX-003]"), "{case}");
    assert!(out.trim_end().ends_with("</testsuite>"));
}

#[test]
fn baselines_report_new_and_gone_findings_only() {
    let tmp = repository();
    let dir = tmp.path();
    // Stored while `bad` is broken: nothing is new against it.
    let (code, _, err) = run(
        dir,
        &["--recursive", "repo", "--write-baseline", "base.json"],
    );
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = run(
        dir,
        &[
            "--recursive",
            "repo",
            "--baseline",
            "base.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["baseline"]["new"], 0);
    assert!(report["baseline"]["unchanged"].as_u64() >= Some(1));
    assert_eq!(report["baseline"]["gone"], json!([]));
    // A new break in `good`, and `bad` fixed: one new error (exit 1), the old ones gone.
    image(
        &dir.join("repo/good/a.ome.zarr"),
        ["c", "y", "y"],
        Some("micrometer"),
    );
    image(
        &dir.join("repo/bad/dup.ome.zarr"),
        ["c", "y", "x"],
        Some("micrometer"),
    );
    let (code, out, err) = run(
        dir,
        &[
            "--recursive",
            "repo",
            "--baseline",
            "base.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let new: Vec<&Value> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["findings"].as_array().expect("findings"))
        .collect();
    assert!(!new.is_empty());
    assert!(
        new.iter()
            .all(|f| f["location"]["target"] == "repo/good/a.ome.zarr"),
        "{new:#?}"
    );
    let gone = report["baseline"]["gone"].as_array().expect("gone");
    assert!(!gone.is_empty());
    assert!(
        gone.iter()
            .all(|f| f["location"]["target"] == "repo/bad/dup.ome.zarr")
    );
    let (_, text, _) = run(
        dir,
        &[
            "--color",
            "never",
            "--recursive",
            "repo",
            "--baseline",
            "base.json",
        ],
    );
    assert!(text.contains("baseline base.json: "), "{text}");
    assert!(
        text.contains("  gone error[NGFF-AX-003] repo/bad/dup.ome.zarr "),
        "{text}"
    );
    // Messages do not matter, only target, code and location: a reworded baseline matches.
    let stored = fs::read_to_string(dir.join("base.json")).expect("baseline");
    let mut stored: Value = serde_json::from_str(&stored).expect("json");
    for t in stored["targets"].as_array_mut().expect("targets") {
        for f in t["findings"].as_array_mut().expect("findings") {
            f["message"] = json!("reworded");
        }
    }
    image(
        &dir.join("repo/good/a.ome.zarr"),
        ["c", "y", "x"],
        Some("micrometer"),
    );
    image(
        &dir.join("repo/bad/dup.ome.zarr"),
        ["c", "x", "x"],
        Some("micrometer"),
    );
    write_json(&dir.join("reworded.json"), &stored);
    let (code, out, err) = run(
        dir,
        &[
            "--recursive",
            "repo",
            "--baseline",
            "reworded.json",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(code, 0, "{err}\n{out}");
    // A baseline that is not a report: exit 2, naming the file.
    fs::write(dir.join("junk.json"), "[1, 2]").expect("write");
    let (code, _, err) = run(dir, &["--recursive", "repo", "--baseline", "junk.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("junk.json") && err.contains("expected an ome-validate JSON report"),
        "{err}"
    );
}

fn codes(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["findings"].as_array().expect("findings"))
        .map(|f| {
            (
                f["location"]["target"].as_str().unwrap_or("").to_string(),
                f["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_shipped_profile_adds_its_rules() {
    let tmp = repository();
    let dir = tmp.path();
    fs::write(
        dir.join("repo/good/a.ome.zarr/ro-crate-metadata.json"),
        "{}",
    )
    .expect("write");
    // An OME-Zarr 0.4 image (Zarr v2) breaks PROFILE-NGFFC-001.
    let old = dir.join("repo/old.zarr");
    write_json(&old.join(".zgroup"), &json!({"zarr_format": 2}));
    write_json(
        &old.join(".zattrs"),
        &json!({"multiscales": [{"version": "0.4", "name": "o", "type": "mean", "metadata": {},
            "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                     {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": [{"path": "0", "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 1.0]}]}]}]}),
    );
    write_json(
        &old.join("0/.zarray"),
        &json!({"zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "|u1",
            "compressor": null, "fill_value": 0, "order": "C", "filters": null}),
    );
    write_json(&old.join("ro-crate-metadata.json"), &json!({}));
    let (code, out, err) = run(
        dir,
        &[
            "--recursive",
            "repo",
            "--profile",
            "ngff-challenge-2024",
            "--select",
            "PROFILE",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        codes(&report),
        [
            ("repo/bad/dup.ome.zarr".into(), "PROFILE-NGFFC-002".into()),
            (
                "repo/more/deep/b.ome.zarr".into(),
                "PROFILE-NGFFC-002".into()
            ),
            ("repo/old.zarr".into(), "PROFILE-NGFFC-001".into()),
        ]
    );
    let f = &report["targets"][0]["findings"][0];
    assert_eq!(f["spec"]["document"], "profile");
    assert_eq!(f["spec"]["version"], "ngff-challenge-2024");
    assert_eq!(f["rule_page"], "spec/profiles/ngff-challenge-2024.toml");
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/report/report-v1.schema.json"
        ))
        .expect("schema"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // SARIF describes profile rules too.
    let (_, out, _) = run(
        dir,
        &[
            "--recursive",
            "repo",
            "--profile",
            "ngff-challenge-2024",
            "--format",
            "sarif",
        ],
    );
    let log: Value = serde_json::from_str(&out).expect("json");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "PROFILE-NGFFC-002"
        && r["helpUri"] == "https://github.com/ome/ome2024-ngff-challenge#challenge-overview"));
    // An unknown profile is a usage error.
    let (code, _, err) = run(dir, &["--recursive", "repo", "--profile", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected a profile name"), "{err}");
}

#[test]
fn a_profile_file_runs_every_check_kind() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // No units, no omero channels, a 4096 x 4096 level 0 without a pyramid, 16 MiB chunks.
    image_of(&dir.join("big.ome.zarr"), ["c", "y", "x"], None, 4096);
    // Units, named channels, small: only the chunk size rule fires (16 bytes).
    let small = dir.join("small.ome.zarr");
    image(&small, ["c", "y", "x"], Some("micrometer"));
    let mut group: Value =
        serde_json::from_str(&fs::read_to_string(small.join("zarr.json")).expect("read"))
            .expect("json");
    group["attributes"]["ome"]["omero"] = json!({"channels": [{"label": "DAPI"}]});
    write_json(&small.join("zarr.json"), &group);
    let profile = r#"
name = "lab"
title = "a test profile"
source = "https://example.org/guidelines"

[[rule]]
code = "PROFILE-LAB-001"
title = "space axes have units"
severity = "warning"
check = "space-units"

[[rule]]
code = "PROFILE-LAB-002"
title = "channels are named"
severity = "warning"
check = "channel-names"

[[rule]]
code = "PROFILE-LAB-003"
title = "large images have a pyramid"
severity = "error"
check = "pyramid"
max_level0 = 2048

[[rule]]
code = "PROFILE-LAB-004"
title = "chunks of 1 to 8 MiB"
severity = "info"
check = "chunk-bytes"
min = 1048576
max = 8388608
"#;
    fs::write(dir.join("lab.toml"), profile).expect("write");
    let (code, out, err) = run(
        dir,
        &[
            "--profile-file",
            "lab.toml",
            "--format",
            "json",
            "big.ome.zarr",
            "small.ome.zarr",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let found: Vec<(String, String)> = codes(&report)
        .into_iter()
        .filter(|(_, c)| c.starts_with("PROFILE"))
        .collect();
    assert_eq!(
        found,
        [
            ("big.ome.zarr".into(), "PROFILE-LAB-001".into()),
            ("big.ome.zarr".into(), "PROFILE-LAB-001".into()),
            ("big.ome.zarr".into(), "PROFILE-LAB-002".into()),
            ("big.ome.zarr".into(), "PROFILE-LAB-003".into()),
            ("big.ome.zarr".into(), "PROFILE-LAB-004".into()),
            ("small.ome.zarr".into(), "PROFILE-LAB-004".into()),
        ]
    );
    assert!(out.contains("expected level 0 chunks of 1048576 to 8388608 bytes, found 16777216"));
    // The severity comes from the profile: only the pyramid rule is an error.
    let (code, _, _) = run(
        dir,
        &[
            "--profile-file",
            "lab.toml",
            "--ignore",
            "PROFILE-LAB-003",
            "big.ome.zarr",
        ],
    );
    assert_eq!(code, 0);
    // A broken profile names the file and the key; exit code 2.
    fs::write(dir.join("bad.toml"), "name = \"x\"\ntitle = 3\n").expect("write");
    let (code, _, err) = run(dir, &["--profile-file", "bad.toml", "small.ome.zarr"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml: expected title to be a string"),
        "{err}"
    );
}
