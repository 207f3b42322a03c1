//! ome-validate's integration tests, one module per former test file, built as ONE test
//! binary: each binary links the whole stack (ome-core, zarrs, object_store, tokio,
//! reqwest...) and re-instantiates its generic code, so a binary per file cost CI most of
//! its compile and link time. A new file here is a new `mod` below (a file in `tests/`
//! beside this folder would still be its own binary). The golden snapshots stay in
//! `tests/snapshots/`.

mod batch;
mod cli;
mod conformance;
mod hierarchy_0_6;
mod hostile;
mod ome_tiff;
mod rfc5;
mod rule_fixtures;
mod spec_coverage;
mod written_0_6;
