//! Opening the files of a dataset: only regular files, checked on the descriptor that is
//! then read, and, inside a dataset, only files whose real path lies under its root.
//!
//! Opening a FIFO for reading blocks until a writer appears, and reading a terminal or a
//! character device blocks or never ends; a FIFO planted where a chunk or a metadata
//! document should be would hang a reader forever. The file is therefore opened with
//! `O_NONBLOCK` (which makes `open(2)` of a FIFO return at once and has no effect on
//! regular files) and `fstat`-ed before a byte is read, so the check and the read are on
//! the same file even if the name is swapped in between.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// A word for what a non-regular file is, for messages.
fn file_kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Opens `path` for reading when it is a regular file (symbolic links followed); anything
/// else (FIFO, device, socket, directory) is an `InvalidInput` error saying what it is.
///
/// # Errors
/// The error of `open(2)` or `fstat(2)`, or `InvalidInput` for a file that is not regular.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("expected a regular file, found {}", file_kind(&meta)),
        ));
    }
    // O_NONBLOCK is left set: it does not change reads of a regular file.
    Ok(file)
}

/// Opens `path`, which must resolve (after every symbolic link) to a regular file under
/// `canonical_root`; `Ok(None)` when no file is there. A symbolic link leading outside the
/// root, or to nothing, is an error, never a missing file.
///
/// # Errors
/// `PermissionDenied` for a path leading outside the root, `NotFound` with a message for a
/// dangling symbolic link, and the errors of [`open_regular`].
pub(crate) fn open_inside(canonical_root: &Path, path: &Path) -> io::Result<Option<File>> {
    let real = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            return match fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = fs::read_link(path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "expected a file, found a symbolic link to nothing (to {target:?})"
                        ),
                    ))
                }
                _ => Ok(None),
            };
        }
        Err(e) => return Err(e),
    };
    if !real.starts_with(canonical_root) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "expected a file inside the dataset root, found a symbolic link leading outside the dataset root (to {}); refused",
                real.display()
            ),
        ));
    }
    match open_regular(&real) {
        Ok(f) => Ok(Some(f)),
        // Removed between the two calls: as if it had never been there.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Makes a FIFO at `path` (tests of the readers that must refuse one).
#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
pub(crate) fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_open_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        assert!(open_regular(&file).is_ok());
        let e = open_regular(dir.path()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("directory"), "{e}");
        #[cfg(unix)]
        {
            let fifo = dir.path().join("p");
            mkfifo(&fifo);
            // Returns at once (no writer): refused as a FIFO, not blocked on.
            let e = open_regular(&fifo).unwrap_err();
            assert!(e.to_string().contains("FIFO"), "{e}");
            let e = open_regular(Path::new("/dev/null")).unwrap_err();
            assert!(e.to_string().contains("character device"), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn paths_stay_inside_the_root() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("root");
        fs::create_dir(&root).unwrap();
        let root = fs::canonicalize(&root).unwrap();
        fs::write(outer.path().join("secret"), b"s").unwrap();
        fs::write(root.join("inside"), b"i").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("inside"), root.join("in")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), root.join("dangling")).unwrap();
        assert!(open_inside(&root, &root.join("inside")).unwrap().is_some());
        assert!(open_inside(&root, &root.join("in")).unwrap().is_some());
        assert!(open_inside(&root, &root.join("missing")).unwrap().is_none());
        assert!(
            open_inside(&root, &root.join("inside/below"))
                .unwrap()
                .is_none()
        );
        let e = open_inside(&root, &root.join("out")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("outside"), "{e}");
        let e = open_inside(&root, &root.join("dangling")).unwrap_err();
        assert!(e.to_string().contains("symbolic link to nothing"), "{e}");
    }
}
