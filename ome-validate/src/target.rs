//! What was given: an attributes JSON document, a Zarr hierarchy, an OME-TIFF file (alone
//! or as a member of a multi-file set) or an OME-XML file (a companion file validates its
//! TIFF set). [`ome_core::Format::detect`] decides, as it does for `ome` and `ome_py`:
//! content first (TIFF magic, a leading `<`), then name.

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
    /// A TIFF or BigTIFF file (an OME-TIFF, or a member of a set).
    OmeTiff(PathBuf),
    /// An OME-XML document (`.ome.xml`, `.companion.ome`, `.xml`).
    OmeXml(PathBuf),
}

impl Target {
    /// Decides what `path` is.
    ///
    /// # Errors
    /// [`Error::Target`] when the path does not exist or is neither file nor directory.
    pub(crate) fn detect(path: &Path) -> Result<Target> {
        use ome_core::Format;
        let format = Format::detect(path).map_err(|e| Error::Target {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let path = path.to_path_buf();
        Ok(match format {
            Format::OmeZarr => Target::Zarr(path),
            Format::OmeTiff => Target::OmeTiff(path),
            Format::OmeXml => Target::OmeXml(path),
            // A .npy holds no OME metadata; as a JSON document it fails with what it is.
            _ => Target::AttributesJson(path),
        })
    }

    pub(crate) fn kind(&self) -> TargetKind {
        match self {
            Target::AttributesJson(_) => TargetKind::AttributesJson,
            Target::Zarr(_) => TargetKind::Zarr,
            Target::OmeTiff(_) => TargetKind::OmeTiff,
            Target::OmeXml(_) => TargetKind::OmeXml,
        }
    }
}

/// Reads a JSON document of at most `max_bytes`; the error text is a finding message.
pub(crate) fn read_json(path: &Path, max_bytes: u64) -> std::result::Result<Value, String> {
    let file = ome_core::open_regular(path)
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
