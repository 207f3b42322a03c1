//! A write-only filesystem store for new datasets.
//!
//! `zarrs`' `FilesystemStore` calls `fsync` after every chunk, which costs more than the
//! compression on many filesystems. A new dataset is written into a hidden staging directory
//! and renamed into place only when complete (see `crate::output`), so per-chunk durability buys
//! nothing: a crash leaves a staging directory, never a dataset that looks complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use zarrs::storage::{
    Bytes, OffsetBytesIterator, StorageError, StoreKey, StorePrefix, WritableStorageTraits,
};

use crate::error::{Error, Result};
use crate::location::Location;

/// Chunks and shards of at least this many bytes are written around the page cache
/// ([`crate::direct_io`]); smaller files (metadata, small chunks) are not worth a padded
/// write.
const DIRECT_MIN: usize = 1 << 20;
/// Files up to this size are handed to the I/O thread; larger ones (big shards) are written
/// by the calling thread, so that the queue holds at most `QUEUE` of them in memory.
const QUEUED_MAX: usize = 16 << 20;
const QUEUE: usize = 2;

enum Job {
    Write(PathBuf, Bytes),
    /// Reply once every write before it is done.
    Flush(std::sync::mpsc::SyncSender<()>),
}

/// The thread that writes large files around the page cache while the codecs run:
/// `O_DIRECT` writes wait for the device, which would stall a compressing thread. It keeps
/// the first error and skips the writes after it.
struct IoThread {
    tx: std::sync::mpsc::SyncSender<Job>,
    handle: std::thread::JoinHandle<()>,
    error: Arc<std::sync::Mutex<Option<std::io::Error>>>,
}

impl IoThread {
    fn spawn() -> std::io::Result<IoThread> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
        let error = Arc::new(std::sync::Mutex::new(None));
        let err = Arc::clone(&error);
        let handle = std::thread::Builder::new()
            .name("ome-zarr-io".into())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Write(path, bytes) => {
                            let failed = err.lock().map_or(true, |e| e.is_some());
                            if !failed
                                && let Err(e) = crate::direct_io::write_file(&path, &bytes)
                                && let Ok(mut slot) = err.lock()
                            {
                                *slot = Some(std::io::Error::new(
                                    e.kind(),
                                    format!("{}: {e}", path.display()),
                                ));
                            }
                        }
                        Job::Flush(reply) => {
                            let _ = reply.send(());
                        }
                    }
                }
            })?;
        Ok(IoThread { tx, handle, error })
    }

    fn take_error(&self) -> Option<std::io::Error> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

/// Writes keys as files under a base directory, without fsync. Large files go to an I/O
/// thread; [`StagingStore::flush`] waits for them (before reading back what was written,
/// and before the directory is committed). Dropping the store waits too.
pub(crate) struct StagingStore {
    base: PathBuf,
    bytes_written: AtomicU64,
    io: std::sync::Mutex<Option<IoThread>>,
}

impl std::fmt::Debug for StagingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagingStore")
            .field("base", &self.base)
            .field("bytes_written", &self.bytes_written)
            .finish_non_exhaustive()
    }
}

impl StagingStore {
    pub(crate) fn new(base: &Path) -> Self {
        StagingStore {
            base: base.to_path_buf(),
            bytes_written: AtomicU64::new(0),
            io: std::sync::Mutex::new(None),
        }
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.base.join(key)
    }

    /// Waits until every file handed to the I/O thread is written; the first error of
    /// those writes, if any.
    pub(crate) fn flush(&self) -> Result<()> {
        // Not holding the lock while the queue drains.
        let Some((tx, error)) = self
            .io
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|io| (io.tx.clone(), Arc::clone(&io.error))))
        else {
            return Ok(());
        };
        let (reply, done) = std::sync::mpsc::sync_channel(1);
        if tx.send(Job::Flush(reply)).is_ok() {
            let _ = done.recv();
        }
        match error.lock().ok().and_then(|mut e| e.take()) {
            Some(e) => Err(Error::io(Location::file(&self.base), e)),
            None => Ok(()),
        }
    }

    /// Hands `value` to the I/O thread (started on first use).
    fn queue(&self, path: PathBuf, value: Bytes) -> Result<(), StorageError> {
        let mut guard = self
            .io
            .lock()
            .map_err(|_| io_err(std::io::Error::other("the I/O thread lock is poisoned")))?;
        if guard.is_none() {
            *guard = Some(IoThread::spawn().map_err(io_err)?);
        }
        let Some(io) = guard.as_ref() else {
            return Err(io_err(std::io::Error::other("no I/O thread")));
        };
        if let Some(e) = io.take_error() {
            return Err(io_err(e));
        }
        let tx = io.tx.clone();
        // Not holding the lock while the queue is full.
        drop(guard);
        tx.send(Job::Write(path, value))
            .map_err(|_| io_err(std::io::Error::other("the I/O thread stopped")))
    }
}

impl Drop for StagingStore {
    fn drop(&mut self) {
        if let Some(io) = self.io.get_mut().ok().and_then(Option::take) {
            drop(io.tx);
            let _ = io.handle.join();
        }
    }
}

fn io_err(e: std::io::Error) -> StorageError {
    StorageError::IOError(Arc::new(e))
}

impl WritableStorageTraits for StagingStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let path = self.path(key.as_str());
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err)?;
        }
        let len = value.len() as u64;
        if (DIRECT_MIN..=QUEUED_MAX).contains(&value.len()) {
            self.queue(path, value)?;
        } else if value.len() > QUEUED_MAX {
            crate::direct_io::write_file(&path, &value).map_err(io_err)?;
        } else {
            let mut file = fs::File::create(&path).map_err(io_err)?;
            file.write_all(&value).map_err(io_err)?;
        }
        self.bytes_written.fetch_add(len, Ordering::Relaxed);
        Ok(())
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        let path = self.path(key.as_str());
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err)?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err)?;
        for (offset, bytes) in offset_values {
            crate::direct_io::write_all_at(&file, &bytes, offset).map_err(io_err)?;
            self.bytes_written
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        match fs::remove_file(self.path(key.as_str())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(e)),
            _ => Ok(()),
        }
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        match fs::remove_dir_all(self.path(prefix.as_str())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(e)),
            _ => Ok(()),
        }
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}
