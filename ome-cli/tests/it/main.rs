//! ome-cli's integration tests, one module per former test file, built as ONE test binary:
//! each binary links the whole stack (ome-core, zarrs, object_store, tokio, reqwest...) and
//! re-instantiates its generic code, so a binary per file cost CI most of its compile and
//! link time. A new file here is a new `mod` below (a file in `tests/` beside this folder
//! would still be its own binary).

mod common;

mod cli;
mod crash_consistency;
mod hostile_corpus;
