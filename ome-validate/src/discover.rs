//! Finding targets below a directory (`ome-validate --recursive DIR`): every OME-Zarr root
//! (a directory holding `zarr.json`, `.zgroup` or `.zattrs` that is not inside another root
//! found) and every OME-TIFF (`.ome.tif`, `.ome.tiff`, `.ome.tf2`, `.ome.tf8`, `.ome.btf`).
//!
//! The walk is bounded ([`WalkLimits::max_entries`]), iterative (no recursion depth to
//! exhaust) and sorted by name, so the same tree always gives the same order. Symbolic links
//! to directories are never descended (no cycles, no leaving the tree); a symbolic link to a
//! file is taken only when it resolves inside the directory walked.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bounds of a directory walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkLimits {
    /// Most directory entries looked at, over all directories walked in one call.
    pub max_entries: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_entries: 1_000_000,
        }
    }
}

/// The names that make a directory a Zarr node (v3, v2 group, v2 attributes).
const ZARR_MARKERS: [&str; 3] = ["zarr.json", ".zgroup", ".zattrs"];

/// The OME-TIFF file name endings (compared without regard to case).
const TIFF_SUFFIXES: [&str; 5] = [".ome.tif", ".ome.tiff", ".ome.tf2", ".ome.tf8", ".ome.btf"];

/// Whether a file name names an OME-TIFF.
fn is_ome_tiff_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    TIFF_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Every OME-Zarr root and OME-TIFF file below each of `dirs`, in walk order (each
/// directory's entries sorted by name), without duplicates. A directory given that is
/// itself a Zarr root is returned as the only target of that directory.
///
/// # Errors
/// [`Error::Target`] when a directory given does not exist, is not a directory, or a
/// directory below it cannot be listed; [`Error::LimitExceeded`] when more than
/// `limits.max_entries` entries would be looked at.
pub fn discover(dirs: &[PathBuf], limits: WalkLimits) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut seen = 0usize;
    for dir in dirs {
        walk(dir, limits, &mut seen, &mut found)?;
    }
    let mut unique = std::collections::HashSet::new();
    found.retain(|p| unique.insert(p.clone()));
    Ok(found)
}

fn io_error(path: &Path, what: &str, e: &std::io::Error) -> Error {
    Error::Target {
        path: path.to_path_buf(),
        message: format!("expected {what}, found an i/o error ({e})"),
    }
}

fn walk(root: &Path, limits: WalkLimits, seen: &mut usize, found: &mut Vec<PathBuf>) -> Result<()> {
    let meta = fs::metadata(root).map_err(|e| io_error(root, "a directory", &e))?;
    if !meta.is_dir() {
        return Err(Error::Target {
            path: root.to_path_buf(),
            message: "expected a directory to search, found a file".into(),
        });
    }
    // The canonical root, to tell whether a file symlink stays inside the tree.
    let canonical_root = fs::canonicalize(root).map_err(|e| io_error(root, "a directory", &e))?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<(String, PathBuf)> = Vec::new();
        let listing = fs::read_dir(&dir).map_err(|e| io_error(&dir, "a readable directory", &e))?;
        for entry in listing {
            let entry = entry.map_err(|e| io_error(&dir, "a readable directory", &e))?;
            *seen += 1;
            if *seen > limits.max_entries {
                return Err(Error::LimitExceeded {
                    path: root.to_path_buf(),
                    message: format!(
                        "expected at most {} directory entries below the directories searched, found more (raise --max-entries)",
                        limits.max_entries
                    ),
                });
            }
            entries.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
        if entries
            .iter()
            .any(|(name, path)| ZARR_MARKERS.contains(&name.as_str()) && is_plain_file(path))
        {
            // A Zarr root: validated as a whole, never searched for more roots inside.
            found.push(dir);
            continue;
        }
        entries.sort();
        let mut subdirs = Vec::new();
        for (name, path) in entries {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let file_type = meta.file_type();
            if file_type.is_dir() {
                subdirs.push(path);
            } else if is_ome_tiff_name(&name)
                && (file_type.is_file()
                    || (file_type.is_symlink() && inside(&path, &canonical_root)))
            {
                found.push(path);
            }
        }
        // Reversed so that the stack pops them in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

fn is_plain_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// Whether a symbolic link resolves to a regular file inside `canonical_root`.
fn inside(link: &Path, canonical_root: &Path) -> bool {
    fs::canonicalize(link).is_ok_and(|t| t.starts_with(canonical_root) && t.is_file())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"{}").unwrap();
    }

    #[test]
    fn finds_roots_and_tiffs_but_not_inside_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        touch(&d.join("a/one.ome.zarr/zarr.json"));
        touch(&d.join("a/one.ome.zarr/0/zarr.json"));
        touch(&d.join("a/one.ome.zarr/inner.ome.tif"));
        touch(&d.join("b/two.zarr/.zgroup"));
        touch(&d.join("b/two.zarr/.zattrs"));
        touch(&d.join("b/img.OME.TIFF"));
        touch(&d.join("b/plain.tif"));
        touch(&d.join("c/notes.txt"));
        let found = discover(&[d.to_path_buf()], WalkLimits::default()).unwrap();
        let rel: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(rel, ["a/one.ome.zarr", "b/img.OME.TIFF", "b/two.zarr"]);
    }

    #[test]
    fn a_root_given_is_its_own_target() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("zarr.json"));
        let found = discover(&[tmp.path().to_path_buf()], WalkLimits::default()).unwrap();
        assert_eq!(found, [tmp.path().to_path_buf()]);
    }

    #[test]
    fn the_entry_limit_is_a_typed_error() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..5 {
            touch(&tmp.path().join(format!("d{i}/x.txt")));
        }
        match discover(&[tmp.path().to_path_buf()], WalkLimits { max_entries: 4 }) {
            Err(Error::LimitExceeded { message, .. }) => {
                assert!(message.contains("at most 4"), "{message}");
            }
            other => panic!("expected a limit error, found {other:?}"),
        }
    }

    #[test]
    fn a_missing_or_file_directory_is_a_target_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f.txt");
        touch(&file);
        for p in [tmp.path().join("nope"), file] {
            match discover(&[p], WalkLimits::default()) {
                Err(Error::Target { .. }) => {}
                other => panic!("expected a target error, found {other:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_never_lead_out_of_the_tree() {
        let outside = tempfile::tempdir().unwrap();
        touch(&outside.path().join("far.ome.tif"));
        touch(&outside.path().join("far.zarr/zarr.json"));
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        touch(&d.join("near.ome.tif"));
        std::os::unix::fs::symlink(outside.path(), d.join("out")).unwrap();
        std::os::unix::fs::symlink(d, d.join("loop")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("far.ome.tif"), d.join("link.ome.tif"))
            .unwrap();
        std::os::unix::fs::symlink(d.join("near.ome.tif"), d.join("alias.ome.tif")).unwrap();
        let found = discover(&[d.to_path_buf()], WalkLimits::default()).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["alias.ome.tif", "near.ome.tif"]);
    }
}
