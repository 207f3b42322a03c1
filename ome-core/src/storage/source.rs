//! A dataset whose bytes the caller supplies ([`ByteSource`]): the browser page reads dropped
//! files with `File.slice` and URLs with HTTP range requests, and hands them to the validator
//! through this trait. [`SourceStore`] adapts it to [`KeyRead`] and keeps the store rules:
//! keys stay inside the root (no `..`, absolute paths, empty segments, backslashes or NULs
//! reach the source), whole reads are bounded by the caller's size limit before anything is
//! read, and a read must return exactly the bytes asked for (a short or long answer is an
//! error naming the key, never a short chunk).

use std::fmt;
use std::sync::Arc;

use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{Bytes, StorageError};

use super::{Got, Head, KeyRead, outside, range_in};

/// The bytes of one dataset, by key (`/`-separated paths relative to its root).
/// Implementations report failures as text (the message names the key); they never see a
/// key that leaves the root.
pub trait ByteSource: fmt::Debug + Send + Sync {
    /// The size of `key` in bytes, or `None` when there is no such key.
    ///
    /// # Errors
    /// A message when the source cannot tell (a network or permission failure).
    fn size(&self, key: &str) -> Result<Option<u64>, String>;
    /// Exactly `len` bytes of `key` from `offset` (inside the size [`ByteSource::size`] gave).
    ///
    /// # Errors
    /// A message when the bytes cannot be read.
    fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, String>;
    /// The names of the child directories of `prefix` (`""` for the root), sorted, or
    /// `None` when the source cannot list (an HTTP server): hierarchies are then discovered
    /// from their metadata alone.
    ///
    /// # Errors
    /// A message when the listing fails.
    fn list_dirs(&self, prefix: &str) -> Result<Option<Vec<String>>, String>;
}

/// [`KeyRead`] over a [`ByteSource`].
#[derive(Debug, Clone)]
pub(crate) struct SourceStore {
    source: Arc<dyn ByteSource>,
}

impl SourceStore {
    pub(crate) fn new(source: Arc<dyn ByteSource>) -> Self {
        SourceStore { source }
    }
}

/// Refuses a key that could leave the root, before the source sees it.
fn check_key(key: &str) -> Result<(), StorageError> {
    let bad = key.starts_with('/')
        || key.contains('\\')
        || key.contains('\0')
        || key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad {
        return Err(StorageError::Other(format!(
            "expected a key inside the dataset root, found {key:?}"
        )));
    }
    Ok(())
}

fn fail(key: &str, message: String) -> StorageError {
    StorageError::Other(format!("{key}: {message}"))
}

impl SourceStore {
    /// Reads `start..end` of `key` and checks that exactly that many bytes came back.
    fn read_exact(&self, key: &str, start: u64, end: u64) -> Result<Bytes, StorageError> {
        let want = end - start;
        if usize::try_from(want).is_err() {
            return Err(fail(key, format!("{want} bytes do not fit in memory")));
        }
        let bytes = self
            .source
            .read(key, start, want)
            .map_err(|m| fail(key, m))?;
        if bytes.len() as u64 != want {
            return Err(fail(
                key,
                format!(
                    "expected {want} bytes at offset {start}, found {} (the value changed or the read was cut short)",
                    bytes.len()
                ),
            ));
        }
        Ok(Bytes::from(bytes))
    }
}

impl KeyRead for SourceStore {
    fn head(&self, key: &str) -> Result<Option<Head>, StorageError> {
        check_key(key)?;
        let len = self.source.size(key).map_err(|m| fail(key, m))?;
        Ok(len.map(|len| Head {
            len,
            stamp: (0, len, None),
        }))
    }

    fn read_ranges(
        &self,
        key: &str,
        head: &Head,
        ranges: &[ByteRange],
    ) -> Result<Option<Vec<Bytes>>, StorageError> {
        check_key(key)?;
        let Some(len) = self.source.size(key).map_err(|m| fail(key, m))? else {
            return Ok(None);
        };
        if len != head.len {
            return Err(fail(key, "the value changed while it was read".into()));
        }
        let mut out = Vec::with_capacity(ranges.len());
        for range in ranges {
            let (start, end) = range_in(range, len).ok_or_else(|| outside(key, len, range))?;
            out.push(self.read_exact(key, start, end)?);
        }
        Ok(Some(out))
    }

    fn get_bounded(&self, key: &str, max: u64) -> Result<Got, StorageError> {
        check_key(key)?;
        let Some(len) = self.source.size(key).map_err(|m| fail(key, m))? else {
            return Ok(Got::Absent);
        };
        if len > max {
            return Ok(Got::TooBig(len));
        }
        Ok(Got::Bytes(self.read_exact(key, 0, len)?))
    }

    fn list_dirs(&self, prefix: &str, max: usize) -> Result<Option<Vec<String>>, StorageError> {
        if !prefix.is_empty() {
            check_key(prefix)?;
        }
        let Some(mut names) = self.source.list_dirs(prefix).map_err(|m| fail(prefix, m))? else {
            return Ok(None);
        };
        // At most `max + 1` (the caller reports more than `max` as a limits error); names
        // that are not one path segment are dropped.
        names.retain(|n| check_key(n).is_ok() && !n.contains('/'));
        names.sort();
        names.truncate(max.saturating_add(1));
        Ok(Some(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Files in memory; `lie` makes every read one byte short.
    #[derive(Debug, Default)]
    struct Mem {
        files: BTreeMap<String, Vec<u8>>,
        lie: bool,
    }

    impl ByteSource for Mem {
        fn size(&self, key: &str) -> Result<Option<u64>, String> {
            Ok(self.files.get(key).map(|v| v.len() as u64))
        }
        fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, String> {
            let v = self.files.get(key).ok_or("gone")?;
            let end = (offset + len - u64::from(self.lie && len > 0)) as usize;
            Ok(v[offset as usize..end].to_vec())
        }
        fn list_dirs(&self, _prefix: &str) -> Result<Option<Vec<String>>, String> {
            Ok(Some(vec![
                "b".into(),
                "../up".into(),
                "a".into(),
                "x/y".into(),
            ]))
        }
    }

    fn store(lie: bool) -> SourceStore {
        let mut m = Mem {
            lie,
            ..Mem::default()
        };
        m.files.insert("zarr.json".into(), b"0123456789".to_vec());
        SourceStore::new(Arc::new(m))
    }

    #[test]
    fn keys_outside_the_root_never_reach_the_source() {
        let s = store(false);
        for key in ["../x", "/etc/passwd", "a//b", "a/./b", "a\\b", "a\0b", ""] {
            assert!(s.get_bounded(key, 100).is_err(), "{key:?}");
            assert!(s.head(key).is_err(), "{key:?}");
        }
        assert!(matches!(s.get_bounded("missing", 100), Ok(Got::Absent)));
    }

    #[test]
    fn whole_reads_are_bounded_and_exact() {
        let s = store(false);
        assert!(matches!(s.get_bounded("zarr.json", 9), Ok(Got::TooBig(10))));
        match s.get_bounded("zarr.json", 10) {
            Ok(Got::Bytes(b)) => assert_eq!(&b[..], b"0123456789"),
            other => panic!("{other:?}"),
        }
        let head = s.head("zarr.json").unwrap().unwrap();
        let got = s
            .read_ranges("zarr.json", &head, &[ByteRange::Suffix(3)])
            .unwrap()
            .unwrap();
        assert_eq!(&got[0][..], b"789");
        assert!(
            s.read_ranges("zarr.json", &head, &[ByteRange::FromStart(8, Some(3))])
                .is_err()
        );
        // A source that answers short is an error naming the key, not a short value.
        let e = store(true).get_bounded("zarr.json", 10).unwrap_err();
        assert!(e.to_string().contains("zarr.json"), "{e}");
    }

    #[test]
    fn listings_keep_single_segments_only_and_are_sorted() {
        let names = store(false).list_dirs("", 10).unwrap().unwrap();
        assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(store(false).list_dirs("", 0).unwrap().unwrap().len(), 1);
    }
}
