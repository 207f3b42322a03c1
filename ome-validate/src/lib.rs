//! # ome-validate
//!
//! The rule-catalogued validator for OME-Zarr and OME-TIFF is being built (see the
//! project's validator issue). Today this crate only hosts the workspace slot; use
//! `ome info` from `ome-cli` to check that a dataset opens.
