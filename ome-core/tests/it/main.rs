//! ome-core's integration tests, one module per former test file, built as ONE test binary:
//! each binary links the whole stack (zarrs, object_store, tokio, reqwest...) and
//! re-instantiates its generic code, so a binary per file cost CI most of its compile and
//! link time. A new file here is a new `mod` below (a file in `tests/` beside this folder
//! would still be its own binary).
//!
//! All modules share one process. Process-wide state: `remote` sets the remote options
//! (`set_remote_options`) before each of its tests, always to the same values; no other
//! module opens a remote address, so nothing else reads them (see `remote::options`).

mod common;

mod convert;
mod fields;
mod hostile;
mod labels_plates;
mod other_writers;
mod region_writer;
mod remote;
mod roundtrip;
mod samples;
mod tiff;
mod tiff_write;
