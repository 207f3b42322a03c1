//! The one place where Rust errors become Python exceptions: one class per
//! [`ome_core::ErrorKind`], all under `OmeError`.
//!
//! The classes are created in module `ome_py`, where `ome_py/__init__.py` re-exports
//! them: `pickle` finds a class by `__module__` and `__qualname__`, so an exception
//! raised in a Dask or multiprocessing worker arrives in the client as itself, message
//! included (`BaseException.__reduce__` carries the arguments).

use ome_core::{Error, ErrorKind};
use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::PyException;

create_exception!(
    ome_py,
    OmeError,
    PyException,
    "Base class of every error raised by ome_py."
);
create_exception!(
    ome_py,
    FormatError,
    OmeError,
    "The data or metadata is malformed (the file must be fixed)."
);
create_exception!(
    ome_py,
    UnsupportedError,
    OmeError,
    "Valid data that this library does not handle yet."
);
create_exception!(
    ome_py,
    UsageError,
    OmeError,
    "The call is wrong: bad arguments, options or paths (the caller must act)."
);
create_exception!(
    ome_py,
    StorageError,
    OmeError,
    "Reading or writing the storage failed (I/O, permissions, missing files)."
);
create_exception!(
    ome_py,
    LimitsError,
    OmeError,
    "A resource limit was exceeded (a safety bound against hostile input)."
);

/// Converts an `ome-core` error to the exception class of its kind.
pub(crate) fn to_py(err: &Error) -> PyErr {
    let text = err.to_string();
    match err.kind() {
        ErrorKind::Format => FormatError::new_err(text),
        ErrorKind::Unsupported => UnsupportedError::new_err(text),
        ErrorKind::Usage => UsageError::new_err(text),
        ErrorKind::Storage => StorageError::new_err(text),
        ErrorKind::LimitsExceeded => LimitsError::new_err(text),
        #[allow(unreachable_patterns)]
        _ => OmeError::new_err(text),
    }
}

/// Converts an `ome-validate` error (the validator could not run).
pub(crate) fn validate_to_py(err: &ome_validate::Error) -> PyErr {
    match err {
        ome_validate::Error::Usage(m) => UsageError::new_err(m.clone()),
        // A profile is part of the options: an unknown name or a malformed file is the
        // caller's to fix, as a bad rule code is.
        ome_validate::Error::Profile { .. } => UsageError::new_err(err.to_string()),
        ome_validate::Error::LimitExceeded { .. } => LimitsError::new_err(err.to_string()),
        other => StorageError::new_err(other.to_string()),
    }
}

/// `?`-friendly conversion for `ome_core::Result`.
pub(crate) trait IntoPy<T> {
    fn py_err(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for ome_core::Result<T> {
    fn py_err(self) -> pyo3::PyResult<T> {
        self.map_err(|e| to_py(&e))
    }
}

/// A usage error raised from the bindings themselves.
pub(crate) fn usage(message: impl Into<String>) -> PyErr {
    UsageError::new_err(message.into())
}
