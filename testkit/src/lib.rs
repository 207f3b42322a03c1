//! Test support shared by the workspace's tests and by the fuzz targets in `fuzz/`.
//!
//! Two things live here because each must exist exactly once:
//! - [`skip`] and [`spec_data`]: a test that cannot run says so, and under `CI=true` a
//!   test that would be skipped fails instead, so a missing component or a missing
//!   `../shared/spec-data` can never pass CI.
//! - [`fuzz`]: the body of every fuzz target. `fuzz/fuzz_targets/*.rs` only hand libFuzzer's
//!   bytes to these functions, and the normal tests replay every saved input
//!   (`testdata/fuzz-regressions/TARGET/`) through the same function, so a replay can never
//!   drift from what the fuzzer ran.
//!
//! Never a dependency of a shipped crate: the fuzz bodies panic on a broken invariant.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

pub mod fuzz;

/// Whether this run is CI's (`CI=true`, as CI services set it, or `CI=1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Says that a test (or part of one) does not run, and why. Locally it prints a visible
/// `SKIPPED` line and returns; under `CI=true` it panics, because a skip must never pass CI.
#[track_caller]
pub fn skip(reason: &str) {
    assert!(
        !in_ci(),
        "CI=true, and a test would be skipped: {reason}; CI must provide it"
    );
    eprintln!("SKIPPED: {reason}");
}

/// The repository root (the directory holding the workspace `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives one level below the repository root")
        .to_path_buf()
}

/// `../shared/spec-data` beside the checkout, or `None` after [`skip`] (which fails under
/// `CI=true`).
#[track_caller]
pub fn spec_data() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/spec-data");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("{} not found beside the checkout", dir.display()));
        None
    }
}

/// A file below the spec data (`spec_data_file("ome-xml/schemas/ome.xsd")`), or `None`
/// after [`skip`] when the spec data or the file is absent.
#[track_caller]
pub fn spec_data_file(relative: &str) -> Option<PathBuf> {
    let path = spec_data()?.join(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("{} is absent", path.display()));
        None
    }
}

/// Whether a command is on `PATH`; when it is not, [`skip`] with `why` (which fails under
/// `CI=true`).
#[track_caller]
pub fn require_command(command: &str, why: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(command).is_file()));
    if !found {
        skip(&format!("{command} not found on PATH ({why})"));
    }
    found
}

/// Compares `actual` with the golden file at `path`. A missing golden file is a failure:
/// only `UPDATE_SNAPSHOTS=1` writes one (and never under `CI=true`), so a deleted or
/// renamed snapshot cannot make a test pass by recreating itself.
#[track_caller]
pub fn assert_snapshot(path: &std::path::Path, actual: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() && !in_ci() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the snapshot directory");
        }
        std::fs::write(path, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "snapshot {}: {e}; run with UPDATE_SNAPSHOTS=1 to create it, then review and commit it",
            path.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "snapshot {} differs (UPDATE_SNAPSHOTS=1 to accept)",
        path.display()
    );
}
