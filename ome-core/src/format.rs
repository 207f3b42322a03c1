//! What a path holds, decided in one place: [`Format::detect`] for inputs (content first,
//! then name) and [`Format::for_output`] for outputs (name only, since nothing is there
//! yet). [`crate::Image::open`], [`crate::convert::convert`], `ome info` and the validator's
//! targets all ask here, so one file is never a TIFF to one of them and a Zarr to another.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::location::Location;

/// The file name endings of TIFF files, lower case: OME-TIFF spec "OME-TIFF file
/// extensions" (`.ome.tif`, `.ome.tiff`, `.ome.tf2`, `.ome.tf8`, `.ome.btf`; the last three
/// for BigTIFF), and the same without `.ome` for plain TIFF.
pub const TIFF_EXTENSIONS: [&str; 5] = [".tif", ".tiff", ".tf2", ".tf8", ".btf"];

/// The first bytes of a `.npy` file (NumPy format specification, "Format Version 1.0").
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// A dataset format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A Zarr v2 or v3 hierarchy (a directory): an OME-Zarr image, plate, well, label image
    /// or bioformats2raw container.
    OmeZarr,
    /// A TIFF or BigTIFF file: an OME-TIFF (one file, or a member of a multi-file set), or
    /// a plain TIFF.
    OmeTiff,
    /// An OME-XML document: a companion file (`*.companion.ome`, OME-TIFF spec "Companion
    /// files"), `*.ome.xml`, or any file whose first non-blank byte is `<`.
    OmeXml,
    /// A NumPy `.npy` array.
    Npy,
    /// A JSON document alone: a `.zattrs`, a `zarr.json` or an attributes object.
    AttributesJson,
}

impl Format {
    /// The format's name, as `ome info` and reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OmeZarr => "OME-Zarr",
            Format::OmeTiff => "OME-TIFF",
            Format::OmeXml => "OME-XML",
            Format::Npy => "npy",
            Format::AttributesJson => "JSON attributes",
        }
    }

    /// What `path` holds. A directory is a Zarr hierarchy. A regular file is told by its
    /// first bytes (TIFF or BigTIFF magic in either byte order, the `.npy` magic, a
    /// leading `<` after an optional UTF-8 byte-order mark), then by its name (the
    /// [`TIFF_EXTENSIONS`], `.npy`, `.xml`, `.companion.ome`); any other file is a JSON
    /// document. A TIFF name over other bytes stays a TIFF, so that its reader says what is
    /// wrong with it rather than a JSON parser.
    ///
    /// # Errors
    /// A storage error naming `path` when it does not exist or cannot be inspected, or is
    /// neither a directory nor a regular file (a FIFO, a device; see
    /// [`crate::open_regular`]).
    pub fn detect(path: &Path) -> Result<Format> {
        let address = crate::storage::Address::of_path(path);
        if address.is_remote() {
            // Remote: told from the name, as a store cannot tell a "directory" from a file
            // without listing (plain HTTP cannot). A TIFF name (or a companion file) is an
            // OME-TIFF read by byte ranges; `.npy` and other OME-XML documents are read from
            // local files only; anything else is an OME-Zarr hierarchy.
            let name = lower_name(path);
            if is_tiff_name(&name) {
                return Ok(Format::OmeTiff);
            }
            if name.ends_with(".companion.ome") {
                return Ok(Format::OmeXml);
            }
            if name.ends_with(".npy") || name.ends_with(".xml") {
                return Err(Error::unsupported(
                    Location::file(path),
                    "expected an OME-Zarr hierarchy or an OME-TIFF at a remote address; .npy \
                     and OME-XML documents are read from local files only (download the file \
                     first)",
                ));
            }
            return Ok(Format::OmeZarr);
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::io(Location::file(path), e))?;
        if meta.is_dir() {
            return Ok(Format::OmeZarr);
        }
        if !meta.is_file() {
            return Err(Error::storage(
                Location::file(path),
                "expected a directory or a regular file",
            ));
        }
        let mut head = Vec::with_capacity(64);
        if let Ok(file) = crate::open_regular(path) {
            // An unreadable file falls through to its name; its reader reports the error.
            let _ = file.take(64).read_to_end(&mut head);
        }
        Ok(Self::from_head_and_name(&head, &lower_name(path)))
    }

    /// [`Format::detect`] on bytes already read and a lower-case file name.
    fn from_head_and_name(head: &[u8], name: &str) -> Format {
        if crate::tiff::is_tiff_magic(head) {
            Format::OmeTiff
        } else if head.starts_with(NPY_MAGIC) {
            Format::Npy
        } else if crate::ome_xml::starts_like_xml(head)
            || name.ends_with(".xml")
            || name.ends_with(".companion.ome")
        {
            Format::OmeXml
        } else if is_tiff_name(name) {
            Format::OmeTiff
        } else if name.ends_with(".npy") {
            Format::Npy
        } else {
            Format::AttributesJson
        }
    }

    /// The format an output at `path` is written in, from its name: `.npy` is an array, a
    /// [`TIFF_EXTENSIONS`] ending (`.ome.tif` included) an OME-TIFF, anything else an
    /// OME-Zarr directory.
    pub fn for_output(path: &Path) -> Format {
        let name = lower_name(path);
        if name.ends_with(".npy") {
            Format::Npy
        } else if is_tiff_name(&name) {
            Format::OmeTiff
        } else {
            Format::OmeZarr
        }
    }

    /// Whether images open through the OME-TIFF reader: a TIFF, or an OME-XML document
    /// that names its TIFF files.
    pub fn opens_as_tiff(self) -> bool {
        matches!(self, Format::OmeTiff | Format::OmeXml)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn lower_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_tiff_name(lower: &str) -> bool {
    TIFF_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn content_comes_before_the_name() {
        let f = Format::from_head_and_name;
        assert_eq!(f(b"II*\0rest", "a.zattrs"), Format::OmeTiff);
        assert_eq!(f(b"MM\0+", "a"), Format::OmeTiff);
        assert_eq!(f(b"\x93NUMPY\x01\x00", "a.tif"), Format::Npy);
        assert_eq!(f(b"\xEF\xBB\xBF  <OME", "a.json"), Format::OmeXml);
        assert_eq!(f(b"{}", "image.companion.ome"), Format::OmeXml);
        // A TIFF name over other bytes stays a TIFF: its reader names the fault.
        assert_eq!(f(b"{}", "broken.ome.tiff"), Format::OmeTiff);
        assert_eq!(f(b"", "x.npy"), Format::Npy);
        assert_eq!(
            f(b"{\"multiscales\": []}", ".zattrs"),
            Format::AttributesJson
        );
    }

    #[test]
    fn outputs_go_by_name() {
        for (name, want) in [
            ("out.ome.zarr", Format::OmeZarr),
            ("out", Format::OmeZarr),
            ("a.ome.tif", Format::OmeTiff),
            ("a.OME.TIFF", Format::OmeTiff),
            ("a.ome.btf", Format::OmeTiff),
            ("a.ome.tf2", Format::OmeTiff),
            ("a.tf8", Format::OmeTiff),
            ("a.npy", Format::Npy),
        ] {
            assert_eq!(Format::for_output(Path::new(name)), want, "{name}");
        }
    }

    #[test]
    fn directories_are_zarr_and_missing_paths_name_themselves() {
        let dir = std::env::temp_dir();
        assert_eq!(Format::detect(&dir).unwrap(), Format::OmeZarr);
        let missing = dir.join("no-such-dataset-for-format-detect.ome.zarr");
        let e = Format::detect(&missing).unwrap_err();
        assert!(e.to_string().contains("no-such-dataset"), "{e}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.ome.tif");
        crate::regular_file::mkfifo(&fifo);
        assert!(Format::detect(&fifo).is_err());
    }
}
