//! The one error type of `ome-core`: a kind that says who must act, a [`Location`] and a
//! message that says what was expected and what was found.

use std::fmt;

use crate::location::Location;

/// Who has to act on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The data breaks its format (malformed JSON, shapes that disagree, a chunk that does
    /// not decode): whoever wrote the data must fix it.
    Format,
    /// The data is well formed but uses something this library does not implement
    /// (an unknown codec, a data type we do not read).
    Unsupported,
    /// The caller asked for something impossible (bad options, a selection out of range).
    Usage,
    /// The storage failed (a missing file, permissions, a full disk).
    Storage,
    /// A documented resource limit would be exceeded (see `Limits`).
    LimitsExceeded,
}

impl ErrorKind {
    /// A short lowercase name: `format`, `unsupported`, `usage`, `storage`, `limits`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Format => "format",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Usage => "usage",
            ErrorKind::Storage => "storage",
            ErrorKind::LimitsExceeded => "limits",
        }
    }
}

/// An error from reading, writing or converting OME data.
#[derive(Debug)]
pub struct Error {
    // Boxed so that `Result<T, Error>` stays one pointer wide on the happy path.
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    location: Location,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` at `location`.
    pub fn new(kind: ErrorKind, location: Location, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                location,
                message: message.into(),
                source: None,
            }),
        }
    }

    /// A [`ErrorKind::Format`] error.
    pub fn format(location: Location, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Format, location, message)
    }

    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(location: Location, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, location, message)
    }

    /// An [`ErrorKind::Usage`] error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, Location::None, message)
    }

    /// An [`ErrorKind::Storage`] error.
    pub fn storage(location: Location, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, location, message)
    }

    /// An [`ErrorKind::LimitsExceeded`] error.
    pub fn limits(location: Location, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::LimitsExceeded, location, message)
    }

    /// An I/O error at `location`; `NotFound` and friends become [`ErrorKind::Storage`].
    pub fn io(location: Location, err: std::io::Error) -> Self {
        let message = err.to_string();
        Self::new(ErrorKind::Storage, location, message).with_source(err)
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Replaces the location when this error has none yet. An OME-XML location that does
    /// not name its file takes the file of `location` when that is a [`Location::File`],
    /// so a parse error in a companion file names the file and the element.
    #[must_use]
    pub fn or_location(mut self, location: impl FnOnce() -> Location) -> Self {
        match &mut self.inner.location {
            Location::None => self.inner.location = location(),
            Location::Xml {
                file: file @ None, ..
            } => {
                if let Location::File { path } = location() {
                    *file = Some(path);
                }
            }
            _ => {}
        }
        self
    }

    /// Who must act.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Where the problem is.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// What was expected and what was found, without the location.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.location.is_none() {
            write!(f, "{}", self.inner.message)
        } else {
            write!(f, "{}: {}", self.inner.location, self.inner.message)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_location_and_message() {
        let e = Error::format(
            Location::file("a.npy"),
            "expected magic \\x93NUMPY, found \"abc\"",
        );
        assert_eq!(
            e.to_string(),
            "a.npy: expected magic \\x93NUMPY, found \"abc\""
        );
        assert_eq!(e.kind(), ErrorKind::Format);
        assert_eq!(Error::usage("bad").to_string(), "bad");
    }
}
