//! The one error type of `ome-validate`: the validator could not run (exit code 2).
//! Problems *in* the data are findings, never errors.

use std::path::PathBuf;

/// Why a validation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target does not exist or cannot be read at all.
    #[error("{}: cannot read the target ({message})", path.display())]
    Target {
        /// The target as given.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The options make no sense (an unknown rule code in `--select`).
    #[error("{0}")]
    Usage(String),
    /// A bound of the run was reached (more entries below a `--recursive` directory than
    /// allowed).
    #[error("{}: {message}", path.display())]
    LimitExceeded {
        /// The directory (or file) whose bound was reached.
        path: PathBuf,
        /// Which bound, and what was found.
        message: String,
    },
    /// A profile cannot be read or is not a valid profile.
    #[error("{file}: {message}")]
    Profile {
        /// The profile file (`spec/profiles/NAME.toml` for a built-in one).
        file: String,
        /// What was expected and what was found, naming the key.
        message: String,
    },
    /// A baseline report cannot be read, parsed or written.
    #[error("{}: {message}", path.display())]
    Baseline {
        /// The baseline file.
        path: PathBuf,
        /// What was expected and what was found.
        message: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
