//! Writing an output atomically, implemented once: [`Staged`] is a hidden sibling of the
//! target (a staging directory for OME-Zarr datasets and plates, a temporary file for
//! OME-TIFF) that is committed into place when complete and removed when dropped
//! uncommitted; [`staged`] runs a writer inside one. Every writer of ome-core goes
//! through here.
//!
//! An output is written under a hidden sibling name and moved to its target only when
//! complete, so readers never see half an output. Without `overwrite` the move itself must
//! refuse an existing target: checking first and renaming after leaves a window in which
//! two writers racing on one output both "succeed" and one silently replaces the other.
//! Linux `renameat2(RENAME_NOREPLACE)` closes that window; where a filesystem refuses it
//! (`EINVAL`, `ENOSYS`) a file is linked into place (`link` fails on an existing name) and
//! its temporary name unlinked.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;
use crate::storage::Address;

/// The error for an output that exists when it may not be replaced.
fn exists_error(target: &Path, message: &str) -> Error {
    Error::new(ErrorKind::Usage, Location::file(target), message)
}

/// Refuses to go on when `target` exists and `overwrite` is not set (the early check
/// that saves the work; [`commit`] checks again, atomically).
///
/// # Errors
/// A usage error naming `target` when it exists and `overwrite` is off.
pub(crate) fn check_target(target: &Path, overwrite: bool) -> Result<()> {
    if !overwrite && fs::symlink_metadata(target).is_ok() {
        return Err(exists_error(
            target,
            "the output exists; pass overwrite (--overwrite) to replace it",
        ));
    }
    Ok(())
}

/// The directory an output goes into (`.` for a bare name) and its file name.
///
/// # Errors
/// A usage error when `target` has no file name.
pub(crate) fn parent_and_name(target: &Path) -> Result<(&Path, &str)> {
    let name = target.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Error::usage(format!(
            "expected an output path with a file name, found {}",
            target.display()
        ))
    })?;
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((parent, name))
}

/// A hidden sibling name for the temporary form of `target`, unique across processes and
/// across threads of this one (two writers of one output must not share it):
/// `.NAME.partial-PID-SEQ-NANOS`.
///
/// # Errors
/// A usage error when `target` has no file name.
pub(crate) fn temp_sibling(target: &Path) -> Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let (parent, name) = parent_and_name(target)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(parent.join(format!(
        ".{name}.partial-{}-{seq}-{nanos}",
        std::process::id()
    )))
}

/// `renameat2(from, to, flags)`; `Err(ENOSYS)` where there is no such call.
#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let invalid = || std::io::Error::from(std::io::ErrorKind::InvalidInput);
    let from = std::ffi::CString::new(from.as_os_str().as_bytes()).map_err(|_| invalid())?;
    let to = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(|_| invalid())?;
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn renameat2(_from: &Path, _to: &Path, _flags: u32) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(target_os = "linux")]
const NOREPLACE: libc::c_uint = libc::RENAME_NOREPLACE;
#[cfg(target_os = "linux")]
const EXCHANGE: libc::c_uint = libc::RENAME_EXCHANGE;
#[cfg(not(target_os = "linux"))]
const NOREPLACE: u32 = 1;
#[cfg(not(target_os = "linux"))]
const EXCHANGE: u32 = 2;

/// Whether an error says the filesystem or kernel does not offer the call (so the
/// portable fallback applies), not that the move itself failed.
fn unsupported(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    let os = matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    );
    // No errno elsewhere (the WebAssembly build has no files at all).
    #[cfg(not(unix))]
    let os = e.kind() == std::io::ErrorKind::Unsupported;
    os
}

/// Whether a failed move says the target is there.
fn target_exists(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    let os = matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST));
    #[cfg(not(unix))]
    let os = false;
    e.kind() == std::io::ErrorKind::AlreadyExists || os
}

/// Moves `temp` to `target`, failing when `target` exists: `renameat2(RENAME_NOREPLACE)`,
/// else `link` + `unlink` for a file, else (a directory on a filesystem without
/// `renameat2`) `rename`, which refuses a non-empty directory.
fn move_no_replace(temp: &Path, target: &Path) -> Result<()> {
    match renameat2(temp, target, NOREPLACE) {
        Ok(()) => Ok(()),
        Err(e) if target_exists(&e) => Err(lost_race(target)),
        Err(e) if !unsupported(&e) => Err(Error::io(Location::file(target), e)),
        Err(_) => fallback_no_replace(temp, target),
    }
}

/// The error of the writer that finished second.
fn lost_race(target: &Path) -> Error {
    exists_error(
        target,
        "the output appeared while writing (another writer finished first); refusing to replace it",
    )
}

/// [`move_no_replace`] where `renameat2` is refused.
fn fallback_no_replace(temp: &Path, target: &Path) -> Result<()> {
    let lost = || lost_race(target);
    let io = |e| Error::io(Location::file(target), e);
    let is_dir = fs::symlink_metadata(temp).is_ok_and(|m| m.is_dir());
    if is_dir {
        if fs::symlink_metadata(target).is_ok_and(|m| !m.is_dir()) {
            return Err(lost());
        }
        return fs::rename(temp, target)
            .map_err(|e| if target_exists(&e) { lost() } else { io(e) });
    }
    match fs::hard_link(temp, target) {
        Ok(()) => {}
        Err(e) if target_exists(&e) => return Err(lost()),
        Err(e) => return Err(io(e)),
    }
    fs::remove_file(temp).map_err(|e| Error::io(Location::file(temp), e))
}

/// Commits a finished temporary file or directory `temp` to `target`.
///
/// Without `overwrite` an existing `target` is never replaced, even one that appeared
/// after [`check_target`]: the move itself refuses it, so of two writers racing on one
/// output exactly one succeeds and the other gets a usage error naming the output (its
/// temporary is left for the caller to discard). With `overwrite` an existing target is
/// replaced only now, when the new output is complete: the two are swapped atomically
/// where the system can (`RENAME_EXCHANGE`, so `target` always holds the old or the new
/// output), else the old one is renamed aside and the new one renamed in; only then is
/// the old one deleted.
///
/// # Errors
/// A usage error naming `target` when it exists and `overwrite` is off; storage errors.
pub(crate) fn commit(temp: &Path, target: &Path, overwrite: bool) -> Result<()> {
    if !overwrite {
        return move_no_replace(temp, target);
    }
    let loc = || Location::file(target);
    let old = if fs::symlink_metadata(target).is_ok() {
        if renameat2(temp, target, EXCHANGE).is_ok() {
            // `temp` now holds the old output.
            Some(temp.to_path_buf())
        } else {
            let mut aside = temp.as_os_str().to_owned();
            aside.push(".replaced");
            let aside = PathBuf::from(aside);
            fs::rename(target, &aside).map_err(|e| Error::io(loc(), e))?;
            fs::rename(temp, target).map_err(|e| Error::io(loc(), e))?;
            Some(aside)
        }
    } else {
        fs::rename(temp, target).map_err(|e| Error::io(loc(), e))?;
        None
    };
    if let Some(old) = old {
        let removed = if fs::symlink_metadata(&old).is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(&old)
        } else {
            fs::remove_file(&old)
        };
        removed.map_err(|e| Error::io(Location::file(&old), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_is_not_committed_over_an_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.ome.tif");
        fs::write(&target, b"first").unwrap();
        let temp = temp_sibling(&target).unwrap();
        fs::write(&temp, b"second").unwrap();
        let e = commit(&temp, &target, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        assert!(e.to_string().contains("out.ome.tif"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"first");
        commit(&temp, &target, true).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert!(!temp.exists());
    }

    #[test]
    fn the_link_fallback_refuses_an_existing_file() {
        // The path taken where renameat2 is refused: link fails on an existing name.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.ome.tif");
        fs::write(&target, b"first").unwrap();
        let temp = temp_sibling(&target).unwrap();
        fs::write(&temp, b"second").unwrap();
        let e = fallback_no_replace(&temp, &target).unwrap_err();
        assert!(e.to_string().contains("out.ome.tif"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"first");
        fs::remove_file(&target).unwrap();
        fallback_no_replace(&temp, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert!(!temp.exists());
    }

    #[test]
    fn temp_names_differ_within_a_process() {
        let t = Path::new("/x/out.ome.tif");
        assert_ne!(temp_sibling(t).unwrap(), temp_sibling(t).unwrap());
    }
}

/// The temporary form of one output: a hidden sibling of the target, removed on drop
/// unless [`Staged::commit`] moved it into place.
#[derive(Debug)]
pub(crate) struct Staged {
    temp: PathBuf,
    /// A remote target: the output is written to `temp` (a local temporary directory) and
    /// uploaded on commit.
    remote: Option<Address>,
    target: PathBuf,
    overwrite: bool,
    dir: bool,
    done: bool,
}

impl Staged {
    fn new(target: &Path, overwrite: bool, dir: bool) -> Result<Self> {
        let address = Address::of_path(target);
        let remote = address.is_remote().then_some(address);
        let temp = match &remote {
            Some(address) => {
                crate::storage::check_remote_target(address, overwrite, dir)?;
                let name = address.file_name().unwrap_or_else(|| "output".to_string());
                temp_sibling(&std::env::temp_dir().join(format!("ome-upload-{name}")))?
            }
            None => {
                check_target(target, overwrite)?;
                temp_sibling(target)?
            }
        };
        if let Some(parent) = temp.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(Location::file(parent), e))?;
        }
        if dir {
            fs::create_dir(&temp).map_err(|e| Error::io(Location::file(&temp), e))?;
        }
        Ok(Staged {
            temp,
            remote,
            target: target.to_path_buf(),
            overwrite,
            dir,
            done: false,
        })
    }

    /// A new, empty staging directory for `target`.
    ///
    /// # Errors
    /// A usage error when `target` exists without `overwrite`; storage errors.
    pub(crate) fn dir(target: &Path, overwrite: bool) -> Result<Self> {
        Self::new(target, overwrite, true)
    }

    /// A name for the temporary file of `target` (the writer creates the file).
    ///
    /// # Errors
    /// As [`Staged::dir`].
    pub(crate) fn file(target: &Path, overwrite: bool) -> Result<Self> {
        Self::new(target, overwrite, false)
    }

    /// Where to write.
    pub(crate) fn path(&self) -> &Path {
        &self.temp
    }

    /// Moves the finished output into place ([`commit`]); on failure it is removed.
    ///
    /// # Errors
    /// As [`commit`].
    pub(crate) fn commit(mut self) -> Result<()> {
        if let Some(address) = &self.remote {
            // The local copy goes when `self` is dropped, uploaded or not.
            return crate::storage::upload(&self.temp, address, self.overwrite, self.dir);
        }
        commit(&self.temp, &self.target, self.overwrite)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Best effort: the error that caused the clean-up is the one to report.
        if !self.done {
            let _ = if self.dir {
                fs::remove_dir_all(&self.temp)
            } else {
                fs::remove_file(&self.temp)
            };
        }
    }
}

/// Runs `write` into a fresh staging directory for `target` and moves the result into
/// place only when it succeeded; on failure nothing is left behind.
///
/// # Errors
/// As [`Staged::dir`] and [`Staged::commit`], and `write`'s own.
pub(crate) fn staged<R>(
    target: &Path,
    overwrite: bool,
    write: impl FnOnce(&Path) -> Result<R>,
) -> Result<R> {
    let staging = Staged::dir(target, overwrite)?;
    let r = write(staging.path())?;
    staging.commit()?;
    Ok(r)
}
