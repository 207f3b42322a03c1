//! Helpers shared by the CLI tests: where the binaries are.

#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `ome` binary of this package.
pub fn ome() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ome"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ome-cli lives one level below the repository root")
        .to_path_buf()
}

/// `ome-validate` next to `ome`, built on demand (it belongs to another package). The
/// tests that use it check every output with it, so a validator that cannot be built fails
/// them rather than letting them pass with one check fewer.
pub fn ome_validate() -> PathBuf {
    let path = ome().with_file_name("ome-validate");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "ome-validate", "--bin", "ome-validate"])
            .current_dir(repo_root())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cargo build -p ome-validate failed"
        );
    }
    assert!(path.exists(), "{} was not built", path.display());
    // `cargo test --workspace` builds it with the tests; `cargo test -p ome-cli` does not,
    // and an old binary would test old code.
    let built = modified(&path);
    let newer: Vec<PathBuf> = ["ome-core/src", "ome-validate/src"]
        .iter()
        .flat_map(|d| sources(&repo_root().join(d)))
        .filter(|s| modified(s) > built)
        .collect();
    assert!(
        newer.is_empty(),
        "{} is older than {:?}: run `cargo build -p ome-validate` or `cargo test --workspace`",
        path.display(),
        newer.first()
    );
    path
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out
}
