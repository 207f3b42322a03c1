//! What was given: an attributes JSON document or a Zarr hierarchy (OME-TIFF and OME-XML
//! files slot in here later).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::report::TargetKind;

/// A validation target.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A JSON file: `.zattrs`, an attributes object, or a whole `zarr.json`.
    AttributesJson(PathBuf),
    /// A directory holding a Zarr v2 or v3 hierarchy.
    Zarr(PathBuf),
}

impl Target {
    /// Decides what `path` is.
    ///
    /// # Errors
    /// [`Error::Target`] when the path does not exist or is neither file nor directory.
    pub(crate) fn detect(path: &Path) -> Result<Target> {
        let meta = std::fs::metadata(path).map_err(|e| Error::Target {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            Ok(Target::Zarr(path.to_path_buf()))
        } else if meta.is_file() {
            Ok(Target::AttributesJson(path.to_path_buf()))
        } else {
            Err(Error::Target {
                path: path.to_path_buf(),
                message: "expected a file or a directory".into(),
            })
        }
    }

    pub(crate) fn kind(&self) -> TargetKind {
        match self {
            Target::AttributesJson(_) => TargetKind::AttributesJson,
            Target::Zarr(_) => TargetKind::Zarr,
        }
    }
}

/// Reads a JSON document of at most `max_bytes`; the error text is a finding message.
pub(crate) fn read_json(path: &Path, max_bytes: u64) -> std::result::Result<Value, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("expected a readable file, found an i/o error ({e})"))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("expected a readable file, found an i/o error ({e})"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "expected a document of at most {max_bytes} bytes, found a larger one"
        ));
    }
    let parsed = serde_json::from_slice::<Value>(&bytes);
    parsed.map_err(|e| format!("expected a JSON document, found malformed JSON ({e})"))
}
