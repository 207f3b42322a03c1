//! A small read-write key area that several processes share: the staging area of the
//! region writer (`zarr::region_writer`). It is a directory beside a local output, or a
//! prefix beside a remote one (`s3://bucket/.name.regions/`), so that every worker of a
//! cluster that can reach the output can reach its staging area too.
//!
//! Every value is written whole: a file through a temporary name and a rename, an object by
//! one put. So a key that is listed is complete, and the listing doubles as the record of
//! what was written. Creating the area is exclusive (a directory created once; an object
//! put with no-clobber), so two writers cannot both start the same output.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Address;
use crate::error::{Error, Result};
use crate::location::Location;

/// A staging area; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) enum Scratch {
    /// A local directory.
    Dir(PathBuf),
    /// A prefix of an S3 bucket.
    #[cfg(feature = "remote")]
    Bucket {
        address: Address,
        store: std::sync::Arc<super::remote::RemoteStore>,
    },
}

impl Scratch {
    /// The area at `path` (a local path or an `s3://` address), which need not exist.
    ///
    /// # Errors
    /// A usage error for an HTTP address (read only) or when remote stores are not built
    /// in; storage errors of the remote client's set-up.
    pub(crate) fn at(path: &Path) -> Result<Scratch> {
        match Address::of_path(path) {
            Address::Local(p) => Ok(Scratch::Dir(p)),
            #[cfg(feature = "remote")]
            address => {
                let store = super::remote::target_store(&address)?;
                Ok(Scratch::Bucket {
                    address,
                    store: std::sync::Arc::new(store),
                })
            }
            #[cfg(not(feature = "remote"))]
            address => Err(Error::usage(format!(
                "{address}: this build of ome-core has no remote stores (feature \"remote\")"
            ))),
        }
    }

    /// Where `key` is, for messages.
    pub(crate) fn location(&self, key: &str) -> Location {
        match self {
            Scratch::Dir(d) => Location::file(d.join(key)),
            #[cfg(feature = "remote")]
            Scratch::Bucket { address, .. } => Location::file(format!("{address}/{key}")),
        }
    }

    /// Creates the area with its first value `key`, exclusively: `Ok(false)` (and nothing
    /// written) when the area exists already. `dirs` are subdirectories a local area needs.
    ///
    /// # Errors
    /// Storage and I/O errors.
    pub(crate) fn create(&self, key: &str, value: &[u8], dirs: &[&str]) -> Result<bool> {
        match self {
            Scratch::Dir(dir) => {
                let loc = Location::file(dir);
                if let Some(parent) = dir.parent() {
                    fs::create_dir_all(parent).map_err(|e| Error::io(Location::file(parent), e))?;
                }
                match fs::create_dir(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
                    Err(e) => return Err(Error::io(loc, e)),
                }
                let result = (|| {
                    for d in dirs {
                        fs::create_dir(dir.join(d)).map_err(|e| Error::io(loc.clone(), e))?;
                    }
                    self.put(key, value)
                })();
                if let Err(e) = result {
                    let _ = fs::remove_dir_all(dir);
                    return Err(e);
                }
                Ok(true)
            }
            #[cfg(feature = "remote")]
            Scratch::Bucket { store, .. } => {
                let outcome = store.put(key, value.to_vec().into(), true)?;
                Ok(outcome == super::remote::PutOutcome::Written)
            }
        }
    }

    /// Writes `value` at `key` whole (replacing an older value).
    ///
    /// # Errors
    /// Storage and I/O errors naming the key.
    pub(crate) fn put(&self, key: &str, value: &[u8]) -> Result<()> {
        match self {
            Scratch::Dir(dir) => write_atomically(dir, key, value),
            #[cfg(feature = "remote")]
            Scratch::Bucket { store, .. } => {
                store.put(key, value.to_vec().into(), false).map(|_| ())
            }
        }
    }

    /// The value at `key`, `None` when absent; a limits error when it is larger than `max`.
    ///
    /// # Errors
    /// Storage, I/O and limits errors naming the key.
    pub(crate) fn get(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let loc = || self.location(key);
        let too_big =
            |len: u64| Error::limits(loc(), format!("expected at most {max} bytes, found {len}"));
        match self {
            Scratch::Dir(dir) => {
                let path = dir.join(key);
                let mut file = match fs::File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::io(loc(), e)),
                };
                let len = file.metadata().map_err(|e| Error::io(loc(), e))?.len();
                if len > max {
                    return Err(too_big(len));
                }
                let mut bytes = Vec::with_capacity(len as usize);
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(&mut file, max + 1),
                    &mut bytes,
                )
                .map_err(|e| Error::io(loc(), e))?;
                if bytes.len() as u64 > max {
                    return Err(too_big(bytes.len() as u64));
                }
                Ok(Some(bytes))
            }
            #[cfg(feature = "remote")]
            Scratch::Bucket { store, .. } => {
                use super::{Got, KeyRead};
                match store
                    .get_bounded(key, max)
                    .map_err(|e| Error::storage(loc(), e.to_string()))?
                {
                    Got::Absent => Ok(None),
                    Got::TooBig(len) => Err(too_big(len)),
                    Got::Bytes(b) => Ok(Some(b.to_vec())),
                }
            }
        }
    }

    /// The names of the complete values directly in the subdirectory `dir` (temporary files
    /// of unfinished writes are not listed), at most `max + 1` of them.
    ///
    /// # Errors
    /// Storage and I/O errors.
    pub(crate) fn names_in(&self, dir: &str, max: usize) -> Result<Vec<String>> {
        match self {
            Scratch::Dir(base) => {
                let path = base.join(dir);
                let loc = || Location::file(&path);
                let mut out = Vec::new();
                for entry in fs::read_dir(&path).map_err(|e| Error::io(loc(), e))? {
                    let entry = entry.map_err(|e| Error::io(loc(), e))?;
                    let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    if name.starts_with('.') {
                        continue;
                    }
                    out.push(name);
                    if out.len() > max {
                        break;
                    }
                }
                Ok(out)
            }
            #[cfg(feature = "remote")]
            Scratch::Bucket { store, .. } => {
                let prefix = format!("{dir}/");
                Ok(store
                    .list_keys(dir, max)?
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
                    .filter(|n| !n.contains('/') && !n.starts_with('.'))
                    .collect())
            }
        }
    }

    /// Removes the area and everything in it.
    ///
    /// # Errors
    /// Storage and I/O errors.
    pub(crate) fn remove(&self) -> Result<()> {
        match self {
            Scratch::Dir(dir) => {
                fs::remove_dir_all(dir).map_err(|e| Error::io(Location::file(dir), e))
            }
            #[cfg(feature = "remote")]
            Scratch::Bucket { store, .. } => {
                let keys = store.list_keys("", usize::MAX - 1)?;
                store.delete_keys(&keys)
            }
        }
    }
}

/// Writes `bytes` to `dir/name` through a temporary name, so the file exists only complete.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let (sub, file_name) = match name.rsplit_once('/') {
        Some((sub, f)) => (dir.join(sub), f),
        None => (dir.to_path_buf(), name),
    };
    let tmp = sub.join(format!(
        ".{file_name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let loc = || Location::file(dir.join(name));
    let mut file = fs::File::create(&tmp).map_err(|e| Error::io(loc(), e))?;
    file.write_all(bytes).map_err(|e| Error::io(loc(), e))?;
    drop(file);
    fs::rename(&tmp, dir.join(name)).map_err(|e| Error::io(loc(), e))
}
