//! What was given: an attributes JSON document, a Zarr hierarchy, an OME-TIFF file (alone
//! or as a member of a multi-file set) or an OME-XML file (a companion file validates its
//! TIFF set). Files are told apart by content first (TIFF magic, a leading `<`), then by
//! name.

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

/// What a file holds, from its first bytes and its name.
fn classify_file(path: &Path) -> Target {
    let mut head = Vec::new();
    if let Ok(file) = ome_core::open_regular(path) {
        // An unreadable file falls through to the name; its reader reports the error.
        let _ = file.take(256).read_to_end(&mut head);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ome_core::tiff::is_tiff_magic(&head) {
        return Target::OmeTiff(path.to_path_buf());
    }
    let xml_name = name.ends_with(".xml") || name.ends_with(".companion.ome");
    let tiff_name = [".tif", ".tiff", ".tf2", ".tf8", ".btf"]
        .iter()
        .any(|e| name.ends_with(e));
    if ome_core::ome_xml::starts_like_xml(&head) || xml_name {
        Target::OmeXml(path.to_path_buf())
    } else if tiff_name {
        Target::OmeTiff(path.to_path_buf())
    } else {
        Target::AttributesJson(path.to_path_buf())
    }
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
            Ok(classify_file(path))
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
