//! A TIFF file on an HTTP(S) server or an object store, read by byte ranges.
//!
//! The IFD parser asks for many small pieces (an entry count, an entry table, a tag value,
//! the next offset); those are served from 64 KiB pages, each fetched once and kept in a
//! bounded cache, so walking an IFD costs one request when the IFD and its values lie
//! together, as writers place them. Tiles and strips are fetched whole, and a region read
//! first fetches every block it needs at once ([`RemoteFile::prefetch`]: one call of the
//! store's range read, which merges close ranges and keeps many requests in flight), then
//! decodes from memory. The store checks every range against the file's length and that
//! each body is complete; a body cut short is an error naming the file, never a short tile.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use zarrs::storage::Bytes;
use zarrs::storage::byte_range::ByteRange;

use crate::error::{Error, Result};
use crate::location::Location;
use crate::storage::{Address, Head, Holds, KeyRead};

/// The size of a cached page.
const PAGE: u64 = 64 << 10;
/// Most cached pages (32 MiB); the cache starts afresh when full.
const MAX_PAGES: usize = 512;

/// A remote TIFF file: its store, key and size, and what was fetched of it.
pub(crate) struct RemoteFile {
    store: Arc<dyn KeyRead>,
    key: String,
    head: Head,
    /// Pages by index (`offset / PAGE`).
    pages: Mutex<HashMap<u64, Bytes>>,
    /// Ranges fetched ahead by [`RemoteFile::prefetch`], by `(offset, length)`, with the
    /// number of prefetches that hold each.
    held: Holds<(u64, u64), Bytes>,
}

impl std::fmt::Debug for RemoteFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteFile")
            .field("store", &self.store)
            .field("key", &self.key)
            .field("len", &self.head.len)
            .finish_non_exhaustive()
    }
}

impl RemoteFile {
    /// Opens the remote file at `path` (a URL as a path): one HEAD request for its size.
    ///
    /// # Errors
    /// Storage errors naming the file (absent, access denied, unreachable).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let (store, key) = crate::storage::open_remote_file(&Address::of_path(path))?;
        let head = store
            .head(&key)
            .map_err(|e| Error::storage(Location::file(path), e.to_string()))?
            .ok_or_else(|| {
                Error::storage(
                    Location::file(path),
                    format!("{}: no such file", path.display()),
                )
            })?;
        Ok(RemoteFile {
            store,
            key,
            head,
            pages: Mutex::new(HashMap::new()),
            held: Holds::new(),
        })
    }

    pub(crate) fn len(&self) -> u64 {
        self.head.len
    }

    /// Fetches `spans` (`(offset, length)`, inside the file) with one range read.
    fn fetch(&self, spans: &[(u64, u64)]) -> std::result::Result<Vec<Bytes>, String> {
        let ranges: Vec<ByteRange> = spans
            .iter()
            .map(|&(s, n)| ByteRange::FromStart(s, Some(n)))
            .collect();
        self.store
            .read_ranges(&self.key, &self.head, &ranges)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{}: the file is gone", self.key))
    }

    /// The bytes `[offset, offset + n)`, which the caller checked lie inside the file.
    pub(crate) fn read(&self, offset: u64, n: u64) -> std::result::Result<Bytes, String> {
        if n == 0 {
            return Ok(Bytes::new());
        }
        if let Some(b) = self.held.get(&(offset, n)) {
            return Ok(b);
        }
        if n > PAGE {
            return self
                .fetch(&[(offset, n)])
                .map(|mut v| v.pop().unwrap_or_default());
        }
        let first = offset / PAGE;
        let last = (offset + n - 1) / PAGE;
        let mut pages: Vec<(u64, Option<Bytes>)> = {
            let cache = self
                .pages
                .lock()
                .map_err(|_| "a poisoned page cache".to_string())?;
            (first..=last)
                .map(|p| (p, cache.get(&p).cloned()))
                .collect()
        };
        let missing: Vec<(u64, u64)> = pages
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|&(p, _)| (p * PAGE, PAGE.min(self.head.len - p * PAGE)))
            .collect();
        if !missing.is_empty() {
            let mut fetched = self.fetch(&missing)?.into_iter();
            if let Ok(mut cache) = self.pages.lock() {
                if cache.len() + missing.len() > MAX_PAGES {
                    cache.clear();
                }
                for (p, slot) in &mut pages {
                    if slot.is_none() {
                        let b = fetched.next().unwrap_or_default();
                        cache.insert(*p, b.clone());
                        *slot = Some(b);
                    }
                }
            }
        }
        let start = (offset - first * PAGE) as usize;
        if first == last {
            let page = pages.pop().and_then(|(_, b)| b).unwrap_or_default();
            return page
                .get(start..start + n as usize)
                .map(|_| page.slice(start..start + n as usize))
                .ok_or_else(|| format!("{}: a short page at offset {offset}", self.key));
        }
        let mut out = Vec::with_capacity(n as usize);
        for (_, b) in pages {
            out.extend_from_slice(&b.unwrap_or_default());
        }
        out.get(start..start + n as usize)
            .map(Bytes::copy_from_slice)
            .ok_or_else(|| format!("{}: short pages at offset {offset}", self.key))
    }

    /// Fetches `spans` (`(offset, length)`, inside the file) at once, and serves reads of
    /// exactly those spans from memory until [`RemoteFile::release`] of the same spans.
    pub(crate) fn prefetch(&self, spans: &[(u64, u64)]) -> std::result::Result<(), String> {
        let todo = self.held.hold(spans);
        if todo.is_empty() {
            return Ok(());
        }
        for (s, b) in todo.iter().zip(self.fetch(&todo)?) {
            self.held.insert(*s, b);
        }
        Ok(())
    }

    /// Ends a [`RemoteFile::prefetch`] of `spans`.
    pub(crate) fn release(&self, spans: &[(u64, u64)]) {
        self.held.release(spans);
    }
}
