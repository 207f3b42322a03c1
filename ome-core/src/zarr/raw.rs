//! A lenient, untyped view of a Zarr hierarchy for tools that must see documents which do
//! not parse into the typed model (the validator): raw metadata documents, child paths
//! checked against the root, and chunk-level reads of arrays, all under [`Limits`].

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::array::ZarrArray;
use super::store::{NodeType, Store, ZarrFormat};
use crate::dtype::{DType, DynArray};
use crate::error::Result;
use crate::location::Location;
use crate::options::Limits;

/// A Zarr hierarchy opened for raw access.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    store: Arc<Store>,
}

/// The metadata documents of one node, unparsed beyond JSON.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawNode {
    /// Node path inside the hierarchy (`""` for the root).
    pub path: String,
    /// Zarr v2 or v3.
    pub format: ZarrFormat,
    /// Whether the node is an array (else a group).
    pub is_array: bool,
    /// User attributes (`.zattrs`, or `attributes` of `zarr.json`).
    pub attributes: Map<String, Value>,
    /// The array document (`.zarray` or the whole `zarr.json`) for arrays.
    pub array_metadata: Option<Value>,
    /// The document the attributes came from: `zarr.json` or `.zattrs`.
    pub attributes_document: &'static str,
}

/// An array opened for reads, with its checked shape and type.
#[derive(Debug)]
pub struct RawArray {
    inner: ZarrArray,
}

impl Hierarchy {
    /// Opens the directory `root`.
    ///
    /// # Errors
    /// Storage errors when the directory cannot be read.
    pub fn open(root: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        Ok(Hierarchy {
            store: Arc::new(Store::open(root.as_ref(), limits)?),
        })
    }

    /// Opens a hierarchy whose bytes the caller supplies (the browser page's dropped
    /// folder or URL); `name` stands for the root in locations. The same limits and key
    /// rules as a directory apply; there are no symbolic links to follow.
    pub fn from_source(
        name: &str,
        source: Arc<dyn crate::storage::ByteSource>,
        limits: Limits,
    ) -> Self {
        Hierarchy {
            store: Arc::new(Store::from_source(name, source, limits)),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// The canonical root directory when the hierarchy is a local directory; `None` for a
    /// remote store or a caller-supplied source, which have no files to list.
    pub fn local_root(&self) -> Option<&Path> {
        self.store.canonical_root()
    }

    /// The location of a node, for findings.
    pub fn location(&self, node: &str) -> Location {
        self.store.location(node)
    }

    /// Reads the documents of `node`; `None` when it has none.
    ///
    /// # Errors
    /// Format errors for malformed JSON or documents that are not objects, limit errors
    /// for oversized documents.
    pub fn node(&self, node: &str) -> Result<Option<RawNode>> {
        Ok(self.store.node(node)?.map(|m| RawNode {
            path: node.to_string(),
            format: m.format,
            is_array: m.node_type == NodeType::Array,
            attributes: m.attributes,
            array_metadata: m.array,
            attributes_document: m.attributes_document,
        }))
    }

    /// Reads one document of a node (`zarr.json`, `.zattrs`, ...) as JSON.
    ///
    /// # Errors
    /// As [`Hierarchy::node`].
    pub fn document(&self, node: &str, name: &str) -> Result<Option<Value>> {
        self.store.read_document(node, name)
    }

    /// Resolves a relative path found in metadata against `parent`, refusing absolute
    /// paths, `..`, empty segments and symbolic links out of the root; `at` is the
    /// location reported on error.
    ///
    /// # Errors
    /// A format error naming the path and why it is refused.
    pub fn child_path(&self, parent: &str, relative: &str, at: &Location) -> Result<String> {
        self.store.child_path(parent, relative, at)
    }

    /// When `node` is a symbolic link (anywhere on its path) to itself or to one of the
    /// nodes on its way from the root, where it leads (`""` for the root): the hierarchy has a
    /// cycle there, which a walk must report, not follow. [`Hierarchy::node`] refuses
    /// such a node with a format error.
    pub fn link_cycle(&self, node: &str) -> Option<String> {
        self.store.link_cycle(node)
    }

    /// Every key below `node` (relative to it), at most `max + 1`, where the store lists
    /// keys itself (S3); `None` for a local directory (walk it) and for plain HTTP (which
    /// cannot list).
    ///
    /// # Errors
    /// Storage errors of the listing.
    pub fn list_keys(&self, node: &str, max: usize) -> Result<Option<Vec<String>>> {
        self.store.list_keys_below(node, max)
    }

    /// Sub-directory names of a node.
    ///
    /// # Errors
    /// Storage errors.
    pub fn list_children(&self, node: &str) -> Result<Vec<String>> {
        self.store.list_children(node)
    }

    /// Opens the array at `node`.
    ///
    /// # Errors
    /// Format errors for bad array metadata, unsupported for unknown codecs or types,
    /// limit errors for oversized chunks.
    pub fn array(&self, node: &RawNode) -> Result<RawArray> {
        let meta = self.store.node(&node.path)?.ok_or_else(|| {
            crate::Error::format(self.store.location(&node.path), "the node has no metadata")
        })?;
        Ok(RawArray {
            inner: ZarrArray::open(&self.store, &node.path, &meta)?,
        })
    }
}

impl RawArray {
    /// Shape.
    pub fn shape(&self) -> &[u64] {
        &self.inner.shape
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// Chunk shape (inner chunks when sharded).
    pub fn chunks(&self) -> &[u64] {
        &self.inner.layout.chunks
    }

    /// Shard shape when sharded.
    pub fn shards(&self) -> Option<&[u64]> {
        self.inner.layout.shards.as_deref()
    }

    /// Codec descriptions.
    pub fn codecs(&self) -> &[String] {
        &self.inner.layout.codecs
    }

    /// Reads and decodes a region.
    ///
    /// # Errors
    /// Format errors for chunks that do not decode, limits for oversized reads.
    pub fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        self.inner.read_region(start, shape)
    }
}
