//! The local filesystem store.

use std::fs;
use std::io::Read;
use std::path::PathBuf;

use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{Bytes, StorageError};

use super::{Got, Head, KeyRead, Stamp, outside, range_in};
use crate::regular_file::open_inside;

/// The filesystem store for reads. Every key is opened with [`open_inside`]: its real path
/// must lie under the dataset root (a chunk linked to `/etc/passwd` in an upload is
/// refused), it must be a regular file (a FIFO would block the reader forever), and a
/// symbolic link to nothing is an error naming the key, not a missing chunk (which would
/// read as the fill value). The checks and the reads use the same file descriptor.
#[derive(Debug)]
pub(crate) struct RootedStore {
    /// The canonical root directory.
    root: PathBuf,
}

fn stamp(meta: &fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let ino = 0;
    (ino, meta.len(), meta.modified().ok())
}

/// `pread` of exactly `buf.len()` bytes at `offset`.
fn read_exact_at(file: &fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

impl RootedStore {
    /// The store of the canonical directory `root`.
    pub(crate) fn new(root: PathBuf) -> Self {
        RootedStore { root }
    }

    /// Opens the file of `key` and returns it with its metadata (from `fstat`), or `None`
    /// when it does not exist.
    fn open_key(&self, key: &str) -> Result<Option<(fs::File, fs::Metadata)>, StorageError> {
        let fail = |e: std::io::Error| StorageError::Other(format!("{key}: {e}"));
        let Some(file) = open_inside(&self.root, &self.root.join(key)).map_err(fail)? else {
            return Ok(None);
        };
        let meta = file.metadata().map_err(fail)?;
        Ok(Some((file, meta)))
    }
}

impl KeyRead for RootedStore {
    fn head(&self, key: &str) -> Result<Option<Head>, StorageError> {
        Ok(self.open_key(key)?.map(|(_, meta)| Head {
            len: meta.len(),
            stamp: stamp(&meta),
        }))
    }

    fn read_ranges(
        &self,
        key: &str,
        head: &Head,
        ranges: &[ByteRange],
    ) -> Result<Option<Vec<Bytes>>, StorageError> {
        let Some((file, meta)) = self.open_key(key)? else {
            return Ok(None);
        };
        if stamp(&meta) != head.stamp {
            return Err(StorageError::Other(format!(
                "{key}: the file changed while it was read"
            )));
        }
        let len = meta.len();
        let mut out = Vec::with_capacity(ranges.len());
        for range in ranges {
            let (start, end) = range_in(range, len).ok_or_else(|| outside(key, len, range))?;
            let n = usize::try_from(end - start).map_err(|_| {
                StorageError::Other(format!("{key}: {} bytes do not fit in memory", end - start))
            })?;
            let mut buf = vec![0u8; n];
            read_exact_at(&file, &mut buf, start)
                .map_err(|e| StorageError::Other(format!("{key}: {e}")))?;
            out.push(Bytes::from(buf));
        }
        Ok(Some(out))
    }

    fn get_bounded(&self, key: &str, max: u64) -> Result<Got, StorageError> {
        let Some((file, meta)) = self.open_key(key)? else {
            return Ok(Got::Absent);
        };
        let len = meta.len();
        if len > max {
            return Ok(Got::TooBig(len));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StorageError::Other(format!("{key}: {e}")))?;
        if bytes.len() as u64 > max {
            return Ok(Got::TooBig(bytes.len() as u64));
        }
        Ok(Got::Bytes(Bytes::from(bytes)))
    }

    fn list_dirs(&self, prefix: &str, max: usize) -> Result<Option<Vec<String>>, StorageError> {
        let dir = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.root.join(prefix)
        };
        let fail = |e: std::io::Error| StorageError::Other(format!("{prefix}: {e}"));
        let mut names = Vec::new();
        for entry in fs::read_dir(&dir).map_err(fail)? {
            let entry = entry.map_err(fail)?;
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && let Some(name) = entry.file_name().to_str()
            {
                names.push(name.to_string());
            }
            if names.len() > max {
                break;
            }
        }
        names.sort();
        Ok(Some(names))
    }
}
