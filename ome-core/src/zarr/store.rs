//! Reading the metadata documents of a Zarr v2 or v3 hierarchy on a local filesystem, with
//! size limits, and resolving node paths found in OME metadata without ever leaving the
//! dataset root.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::location::Location;
use crate::options::Limits;
use crate::storage::fs::RootedStore;
use crate::storage::{Address, Got, KeyRead};

/// The Zarr storage format version of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZarrFormat {
    /// Zarr v2 (`.zgroup`, `.zarray`, `.zattrs`): OME-Zarr 0.1-0.4.
    V2,
    /// Zarr v3 (`zarr.json`): OME-Zarr 0.5 and later.
    V3,
}

impl ZarrFormat {
    /// `2` or `3`.
    pub fn number(self) -> u8 {
        match self {
            ZarrFormat::V2 => 2,
            ZarrFormat::V3 => 3,
        }
    }
}

/// Group or array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeType {
    Group,
    Array,
}

/// The metadata of one node, read from its documents.
#[derive(Debug, Clone)]
pub(crate) struct NodeMeta {
    pub(crate) format: ZarrFormat,
    pub(crate) node_type: NodeType,
    /// User attributes (`.zattrs`, or `attributes` of `zarr.json`).
    pub(crate) attributes: Map<String, Value>,
    /// The array document (`.zarray` or the whole `zarr.json`) for arrays.
    pub(crate) array: Option<Value>,
    /// The document holding the attributes: `zarr.json` or `.zattrs`.
    pub(crate) attributes_document: &'static str,
}

/// A node path for messages: the root is "the root".
fn show_node(node: &str) -> String {
    if node.is_empty() {
        "the root".to_string()
    } else {
        format!("{node:?}")
    }
}

/// A hierarchy rooted at a directory or at a remote prefix.
#[derive(Debug)]
pub(crate) struct Store {
    /// The root as the user gave it (a URL's text for a remote store), for messages.
    root: PathBuf,
    /// The canonical root directory of a local store; `None` for a remote one (which has no
    /// symbolic links to follow).
    canonical_root: Option<PathBuf>,
    backend: Arc<dyn KeyRead>,
    limits: Limits,
    /// Parsed metadata documents of a remote store, by key (`None`: absent), so that a walk
    /// or a validation reads each document once; bounded by [`DOCUMENT_CACHE`].
    documents: Option<std::sync::Mutex<std::collections::HashMap<String, Option<Value>>>>,
}

/// Most metadata documents kept per remote store.
const DOCUMENT_CACHE: usize = 4096;

impl Store {
    /// Opens the directory (or remote URL) `root` as a hierarchy.
    pub(crate) fn open(root: &Path, limits: Limits) -> Result<Self> {
        let address = Address::of_path(root);
        if address.is_remote() {
            return Ok(Store {
                root: address.display_path(),
                canonical_root: None,
                backend: crate::storage::open_remote(&address)?,
                limits,
                documents: Some(std::sync::Mutex::new(std::collections::HashMap::new())),
            });
        }
        let meta = fs::metadata(root).map_err(|e| Error::io(Location::file(root), e))?;
        if !meta.is_dir() {
            return Err(Error::format(
                Location::file(root),
                "expected a Zarr hierarchy (a directory), found a file",
            ));
        }
        let canonical_root =
            fs::canonicalize(root).map_err(|e| Error::io(Location::file(root), e))?;
        let fs = RootedStore::new(canonical_root.clone());
        Ok(Store {
            root: root.to_path_buf(),
            canonical_root: Some(canonical_root),
            backend: Arc::new(fs),
            limits,
            documents: None,
        })
    }

    /// A hierarchy whose keys a caller supplies (see [`crate::storage::ByteSource`]);
    /// `name` stands for the root in messages and locations.
    pub(crate) fn from_source(
        name: &str,
        source: Arc<dyn crate::storage::ByteSource>,
        limits: Limits,
    ) -> Self {
        Store {
            root: PathBuf::from(name),
            canonical_root: None,
            backend: Arc::new(crate::storage::SourceStore::new(source)),
            limits,
            documents: Some(std::sync::Mutex::new(std::collections::HashMap::new())),
        }
    }

    /// The canonical root directory of a local store.
    pub(crate) fn canonical_root(&self) -> Option<&Path> {
        self.canonical_root.as_deref()
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The keys of the dataset, as the arrays read them.
    pub(crate) fn backend(&self) -> &Arc<dyn KeyRead> {
        &self.backend
    }

    /// Location of a node for errors.
    pub(crate) fn location(&self, node: &str) -> Location {
        Location::zarr_node(&self.root, node)
    }

    /// The directory of `node` in a local store.
    fn node_dir(&self, node: &str) -> Option<PathBuf> {
        let root = self.canonical_root.as_ref()?;
        Some(if node.is_empty() {
            root.clone()
        } else {
            root.join(node)
        })
    }

    /// The key of document `name` of `node`.
    fn key(node: &str, name: &str) -> String {
        if node.is_empty() {
            name.to_string()
        } else {
            format!("{node}/{name}")
        }
    }

    /// Reads file `name` of `node` whole, or `None` when it does not exist; a file larger
    /// than `max` bytes is a limits error (checked before reading, and the read stops there).
    pub(crate) fn read_file(&self, node: &str, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let loc = || Location::zarr_pointer(&self.root, node, name, "");
        // The root's own documents too: a `zarr.json` linked out of the root must not
        // leak foreign content into the metadata (the filesystem store refuses it).
        match self.backend.get_bounded(&Self::key(node, name), max) {
            Ok(Got::Absent) => Ok(None),
            Ok(Got::Bytes(b)) => Ok(Some(b.to_vec())),
            Ok(Got::TooBig(len)) => Err(Error::limits(
                loc(),
                format!("{name} is {len} bytes, more than the limit of {max} bytes"),
            )),
            Err(e) => Err(Error::storage(loc(), e.to_string())),
        }
    }

    /// Reads and parses one metadata document, or `None` when it does not exist.
    pub(crate) fn read_document(&self, node: &str, document: &str) -> Result<Option<Value>> {
        let Some(cache) = &self.documents else {
            return self.read_document_uncached(node, document);
        };
        let key = Self::key(node, document);
        if let Ok(c) = cache.lock()
            && let Some(v) = c.get(&key)
        {
            return Ok(v.clone());
        }
        let value = self.read_document_uncached(node, document)?;
        if let Ok(mut c) = cache.lock() {
            if c.len() >= DOCUMENT_CACHE {
                c.clear();
            }
            c.insert(key, value.clone());
        }
        Ok(value)
    }

    /// Reads the metadata documents of `nodes` of a remote store concurrently into the
    /// cache, so that the walk after needs no request of its own (errors are left for it
    /// to meet); nothing for a local store.
    pub(crate) fn prefetch_nodes(&self, nodes: &[String]) {
        if self.documents.is_none() || nodes.len() < 2 {
            return;
        }
        let Some(pool) = crate::storage::io_pool() else {
            return;
        };
        use rayon::prelude::*;
        pool.install(|| {
            nodes.par_iter().for_each(|n| {
                let _ = self.node(n);
            });
        });
    }

    fn read_document_uncached(&self, node: &str, document: &str) -> Result<Option<Value>> {
        let loc = || Location::zarr_pointer(&self.root, node, document, "");
        let Some(bytes) = self.read_file(node, document, self.limits.max_metadata_bytes)? else {
            return Ok(None);
        };
        // serde_json refuses nesting deeper than 128 levels, which bounds recursion.
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::format(
                loc(),
                format!("expected a JSON document, found malformed JSON ({e})"),
            )
        })?;
        let depth = json_depth(&value);
        if depth > self.limits.max_json_depth {
            return Err(Error::limits(
                loc(),
                format!(
                    "JSON nesting depth {depth} exceeds the limit of {}",
                    self.limits.max_json_depth
                ),
            ));
        }
        Ok(Some(value))
    }

    /// Reads the metadata of `node`, or `None` when the node has no metadata document.
    pub(crate) fn node(&self, node: &str) -> Result<Option<NodeMeta>> {
        // A node that is a link back to an ancestor is refused here, so that no walk
        // (labels, wells, fields, series) can loop through it.
        if let Some(ancestor) = self.link_cycle(node) {
            return Err(Error::format(
                self.location(node),
                format!(
                    "expected a node below {}, found a symbolic link back to it (a cycle)",
                    show_node(&ancestor)
                ),
            ));
        }
        if let Some(doc) = self.read_document(node, "zarr.json")? {
            return self.v3_node(node, doc).map(Some);
        }
        let zattrs = || -> Result<Map<String, Value>> {
            match self.read_document(node, ".zattrs")? {
                None => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m),
                Some(other) => Err(Error::format(
                    Location::zarr_pointer(&self.root, node, ".zattrs", ""),
                    format!("expected a JSON object, found {}", json_kind(&other)),
                )),
            }
        };
        if let Some(zarray) = self.read_document(node, ".zarray")? {
            if !zarray.is_object() {
                return Err(Error::format(
                    Location::zarr_pointer(&self.root, node, ".zarray", ""),
                    format!("expected a JSON object, found {}", json_kind(&zarray)),
                ));
            }
            return Ok(Some(NodeMeta {
                format: ZarrFormat::V2,
                node_type: NodeType::Array,
                attributes: zattrs()?,
                array: Some(zarray),
                attributes_document: ".zattrs",
            }));
        }
        let has_zgroup = self.read_document(node, ".zgroup")?.is_some();
        let attributes = zattrs()?;
        if has_zgroup || !attributes.is_empty() {
            return Ok(Some(NodeMeta {
                format: ZarrFormat::V2,
                node_type: NodeType::Group,
                attributes,
                array: None,
                attributes_document: ".zattrs",
            }));
        }
        Ok(None)
    }

    fn v3_node(&self, node: &str, doc: Value) -> Result<NodeMeta> {
        let loc = |ptr: &str| Location::zarr_pointer(&self.root, node, "zarr.json", ptr);
        let Value::Object(obj) = &doc else {
            return Err(Error::format(
                loc(""),
                format!("expected a JSON object, found {}", json_kind(&doc)),
            ));
        };
        match obj.get("zarr_format") {
            Some(v) if v.as_u64() == Some(3) => {}
            Some(v) => {
                return Err(Error::format(
                    loc("/zarr_format"),
                    format!("expected zarr_format 3 in zarr.json, found {v}"),
                ));
            }
            None => {
                return Err(Error::format(
                    loc(""),
                    "expected the key zarr_format, found none",
                ));
            }
        }
        let node_type = match obj.get("node_type").and_then(Value::as_str) {
            Some("group") => NodeType::Group,
            Some("array") => NodeType::Array,
            other => {
                return Err(Error::format(
                    loc("/node_type"),
                    format!("expected node_type \"group\" or \"array\", found {other:?}"),
                ));
            }
        };
        let attributes = match obj.get("attributes") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(Error::format(
                    loc("/attributes"),
                    format!("expected an object, found {}", json_kind(other)),
                ));
            }
        };
        let array = (node_type == NodeType::Array).then_some(doc);
        Ok(NodeMeta {
            format: ZarrFormat::V3,
            node_type,
            attributes,
            array,
            attributes_document: "zarr.json",
        })
    }

    /// Resolves `relative` (a path from OME metadata) against `parent`, refusing absolute
    /// paths, `..`, empty segments and symbolic links that lead outside the root.
    pub(crate) fn child_path(&self, parent: &str, relative: &str, at: &Location) -> Result<String> {
        let bad = |why: &str| {
            Error::format(
                at.clone(),
                format!("expected a relative path inside the group, found {relative:?} ({why})"),
            )
        };
        if relative.is_empty() {
            return Err(bad("empty"));
        }
        if relative.contains('\\') || relative.contains('\0') {
            return Err(bad("backslash or NUL"));
        }
        let rel = Path::new(relative);
        for comp in rel.components() {
            match comp {
                Component::Normal(_) => {}
                Component::ParentDir => return Err(bad("contains \"..\"")),
                Component::RootDir | Component::Prefix(_) => return Err(bad("absolute")),
                Component::CurDir => return Err(bad("contains \".\"")),
            }
        }
        if relative.split('/').any(str::is_empty) {
            return Err(bad("empty path segment"));
        }
        let joined = if parent.is_empty() {
            relative.to_string()
        } else {
            format!("{parent}/{relative}")
        };
        if let (Some(dir), Some(root)) = (self.node_dir(&joined), &self.canonical_root)
            && let Ok(canonical) = fs::canonicalize(&dir)
            && !canonical.starts_with(root)
        {
            return Err(bad("a symbolic link leads outside the dataset root"));
        }
        if let Some(ancestor) = self.link_cycle(&joined) {
            return Err(bad(&format!(
                "a symbolic link back to {}, which makes a cycle",
                show_node(&ancestor)
            )));
        }
        Ok(joined)
    }

    /// When `node` resolves (through a symbolic link) to itself or to a node on its way
    /// from the root, where it leads (relative to the root): following it would walk a cycle (`labels/x` linked to its
    /// image, a well linked to its plate). Compared by canonical path, so links of any
    /// depth and spelling are caught; `None` for a tree, and for nodes that do not exist.
    pub(crate) fn link_cycle(&self, node: &str) -> Option<String> {
        let root = self.canonical_root.as_ref()?;
        if node.is_empty() {
            return None;
        }
        let real = fs::canonicalize(self.node_dir(node)?).ok()?;
        // A link out of the root is not a cycle (child_path and RootedStore refuse it);
        // the root itself may lie below the link's target.
        if !real.starts_with(root) {
            return None;
        }
        let mut prefix = String::new();
        let mut prefixes = vec![String::new()];
        let segments: Vec<&str> = node.split('/').collect();
        for seg in &segments[..segments.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(seg);
            prefixes.push(prefix.clone());
        }
        let loops = prefixes.iter().any(|p| {
            self.node_dir(p)
                .and_then(|d| fs::canonicalize(d).ok())
                .is_some_and(|a| a.starts_with(&real))
        });
        // Named by where the link leads, relative to the root ("" for the root itself).
        loops.then(|| {
            real.strip_prefix(root)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    /// Names of the sub-directories of `node` (for hierarchies that do not list children).
    ///
    /// # Errors
    /// A usage error where the store cannot list (plain HTTP); storage and limits errors.
    pub(crate) fn list_children(&self, node: &str) -> Result<Vec<String>> {
        let max = self.limits.max_list_entries;
        let names = self
            .backend
            .list_dirs(node, max)
            .map_err(|e| Error::storage(self.location(node), e.to_string()))?
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Unsupported,
                    self.location(node),
                    "expected a store that can list its keys, found a plain HTTP server \
                     (which cannot): the children must be named in the metadata",
                )
            })?;
        if names.len() > max {
            return Err(Error::limits(
                self.location(node),
                format!("more than {max} entries in the directory"),
            ));
        }
        Ok(names)
    }
}

impl Store {
    /// Every key below `node` on a store that lists (S3), relative to `node`, at most
    /// `max + 1`; `None` on a local store (walk its directory) or one that cannot list.
    ///
    /// # Errors
    /// Storage errors of the listing.
    pub(crate) fn list_keys_below(&self, node: &str, max: usize) -> Result<Option<Vec<String>>> {
        let prefix = if node.is_empty() {
            String::new()
        } else {
            format!("{}/", node.trim_end_matches('/'))
        };
        let keys = self
            .backend
            .list_keys_below(prefix.trim_end_matches('/'), max)
            .map_err(|e| Error::storage(self.location(node), e.to_string()))?;
        Ok(keys.map(|keys| {
            keys.into_iter()
                .filter_map(|k| k.strip_prefix(prefix.as_str()).map(str::to_string))
                .collect()
        }))
    }
}

/// Nesting depth of a JSON value (a scalar is 1), computed without recursion.
pub(crate) fn json_depth(value: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

/// A word for the JSON type of a value, for messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zarrs::storage::byte_range::ByteRange;

    #[test]
    fn child_paths_never_escape() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let at = Location::None;
        assert_eq!(store.child_path("", "0", &at).unwrap(), "0");
        assert_eq!(store.child_path("A/1", "0", &at).unwrap(), "A/1/0");
        for bad in ["../x", "/etc", "a/../../b", "", "a//b", "./a", "a\\b"] {
            let e = store.child_path("", bad, &at).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Format, "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/tmp", dir.path().join("link")).unwrap();
            let e = store.child_path("", "link", &at).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
    }

    #[test]
    fn oversized_and_malformed_documents_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("zarr.json"), b"{\"zarr_format\": 3,").unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let e = store.node("").unwrap_err();
        assert!(e.to_string().contains("malformed JSON"), "{e}");
        let limits = Limits {
            max_metadata_bytes: 4,
            ..Limits::default()
        };
        let store = Store::open(dir.path(), limits).unwrap();
        assert_eq!(
            store.node("").unwrap_err().kind(),
            crate::ErrorKind::LimitsExceeded
        );
    }

    #[cfg(unix)]
    use crate::regular_file::mkfifo;

    #[cfg(unix)]
    #[test]
    fn documents_are_regular_files_inside_the_root() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("img.zarr");
        fs::create_dir(&root).unwrap();
        let foreign = outer.path().join("foreign.json");
        fs::write(
            &foreign,
            br#"{"zarr_format": 3, "node_type": "group", "attributes": {"x": 1}}"#,
        )
        .unwrap();
        std::os::unix::fs::symlink(&foreign, root.join("zarr.json")).unwrap();
        let store = Store::open(&root, Limits::default()).unwrap();
        let e = store.node("").unwrap_err();
        assert!(e.to_string().contains("leading outside"), "{e}");
        assert!(e.to_string().contains("zarr.json"), "{e}");

        fs::remove_file(root.join("zarr.json")).unwrap();
        mkfifo(&root.join("zarr.json"));
        let e = store.node("").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");

        fs::remove_file(root.join("zarr.json")).unwrap();
        mkfifo(&root.join(".zattrs"));
        let e = store.node("").unwrap_err();
        assert!(
            e.to_string().contains("FIFO") && e.to_string().contains(".zattrs"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn chunk_reads_refuse_fifos_links_out_and_dangling_links() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("img.zarr");
        fs::create_dir_all(root.join("0/c/0")).unwrap();
        fs::write(root.join("0/c/0/0"), b"0123456789").unwrap();
        fs::write(outer.path().join("secret"), b"secret").unwrap();
        mkfifo(&root.join("0/c/0/1"));
        std::os::unix::fs::symlink(outer.path().join("secret"), root.join("0/c/0/2")).unwrap();
        std::os::unix::fs::symlink("nowhere", root.join("0/c/0/3")).unwrap();
        let store = Store::open(&root, Limits::default()).unwrap();
        let fs = store.backend();
        let whole = |k: &str| match fs.get_bounded(k, 1 << 20) {
            Ok(Got::Bytes(b)) => Ok(Some(b)),
            Ok(Got::Absent) => Ok(None),
            Ok(Got::TooBig(n)) => panic!("{k}: {n} bytes"),
            Err(e) => Err(e),
        };
        assert_eq!(&whole("0/c/0/0").unwrap().unwrap()[..], b"0123456789");
        let head = fs.head("0/c/0/0").unwrap().unwrap();
        assert_eq!(head.len, 10);
        let part = fs
            .read_ranges("0/c/0/0", &head, &[ByteRange::Suffix(3)])
            .unwrap()
            .unwrap();
        assert_eq!(&part[0][..], b"789");
        let e = fs
            .read_ranges("0/c/0/0", &head, &[ByteRange::FromStart(8, Some(u64::MAX))])
            .unwrap_err();
        assert!(
            e.to_string().contains("inside the value of 10 bytes"),
            "{e}"
        );
        assert!(whole("0/c/0/9").unwrap().is_none());
        for (k, needle) in [
            ("0/c/0/1", "FIFO"),
            ("0/c/0/2", "leading outside"),
            ("0/c/0/3", "symbolic link to nothing"),
        ] {
            let e = whole(k).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(k), "{k}: {e}");
            let e = fs.head(k).unwrap_err().to_string();
            assert!(e.contains(needle), "{k}: {e}");
        }
    }
}
