//! Where a problem was found: a Zarr node and JSON Pointer, a file, a TIFF IFD and tag,
//! or an OME-XML element path. Every [`crate::Error`] carries one.

use std::fmt;
use std::path::PathBuf;

/// The place an error or finding refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// No particular place (for example a usage error).
    #[default]
    None,
    /// A file or directory as a whole.
    File {
        /// The path as the user gave it or as it was resolved.
        path: PathBuf,
    },
    /// A node in a Zarr hierarchy, optionally a metadata document in it and a JSON Pointer.
    Zarr {
        /// Root of the hierarchy on disk.
        root: PathBuf,
        /// Node path inside the hierarchy, `""` for the root, `"0"`, `"labels/cells"`.
        node: String,
        /// Metadata document name (`zarr.json`, `.zattrs`, `.zarray`, `.zgroup`) if the
        /// problem is in one.
        document: Option<String>,
        /// JSON Pointer (RFC 6901) into that document, e.g. `/multiscales/0/axes/2`.
        pointer: Option<String>,
    },
    /// A TIFF file, optionally an IFD and a tag in it.
    Tiff {
        /// The TIFF file.
        file: PathBuf,
        /// Index of the IFD in the main chain (or the SubIFD, see `subifd`).
        ifd: Option<u64>,
        /// Index of a SubIFD of `ifd`.
        subifd: Option<u64>,
        /// Tag number.
        tag: Option<u16>,
    },
    /// An element of an OME-XML document.
    Xml {
        /// The file holding the document (a TIFF or a companion file), if any.
        file: Option<PathBuf>,
        /// Element path such as `/OME/Image[0]/Pixels/TiffData[2]`, optionally `@Attribute`.
        path: String,
    },
}

impl Location {
    /// A Zarr node with no document or pointer.
    pub fn zarr_node(root: impl Into<PathBuf>, node: impl Into<String>) -> Self {
        Location::Zarr {
            root: root.into(),
            node: node.into(),
            document: None,
            pointer: None,
        }
    }

    /// A JSON Pointer inside a Zarr metadata document.
    pub fn zarr_pointer(
        root: impl Into<PathBuf>,
        node: impl Into<String>,
        document: impl Into<String>,
        pointer: impl Into<String>,
    ) -> Self {
        Location::Zarr {
            root: root.into(),
            node: node.into(),
            document: Some(document.into()),
            pointer: Some(pointer.into()),
        }
    }

    /// A file as a whole.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Location::File { path: path.into() }
    }

    /// Returns this location with `pointer` appended (for Zarr locations); other kinds
    /// are returned unchanged.
    #[must_use]
    pub fn with_pointer(mut self, suffix: &str) -> Self {
        if let Location::Zarr { pointer, .. } = &mut self {
            let mut p = pointer.take().unwrap_or_default();
            p.push_str(suffix);
            *pointer = Some(p);
        }
        self
    }

    /// Whether this is [`Location::None`].
    pub fn is_none(&self) -> bool {
        matches!(self, Location::None)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::None => Ok(()),
            Location::File { path } => write!(f, "{}", path.display()),
            Location::Zarr {
                root,
                node,
                document,
                pointer,
            } => {
                write!(f, "{}", root.display())?;
                if !node.is_empty() {
                    write!(f, "/{node}")?;
                }
                if let Some(doc) = document {
                    write!(f, "/{doc}")?;
                }
                if let Some(ptr) = pointer {
                    write!(f, "#{ptr}")?;
                }
                Ok(())
            }
            Location::Tiff {
                file,
                ifd,
                subifd,
                tag,
            } => {
                write!(f, "{}", file.display())?;
                if let Some(ifd) = ifd {
                    write!(f, " IFD {ifd}")?;
                }
                if let Some(sub) = subifd {
                    write!(f, " SubIFD {sub}")?;
                }
                if let Some(tag) = tag {
                    write!(f, " tag {tag}")?;
                }
                Ok(())
            }
            Location::Xml { file, path } => {
                if let Some(file) = file {
                    write!(f, "{} ", file.display())?;
                }
                write!(f, "OME-XML {path}")
            }
        }
    }
}

/// Escapes one JSON Pointer reference token (RFC 6901 section 4).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zarr_location_display() {
        let loc = Location::zarr_pointer("/data/img.zarr", "0", "zarr.json", "/shape");
        assert_eq!(loc.to_string(), "/data/img.zarr/0/zarr.json#/shape");
        let root = Location::zarr_node("/data/img.zarr", "");
        assert_eq!(root.to_string(), "/data/img.zarr");
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
    }
}
