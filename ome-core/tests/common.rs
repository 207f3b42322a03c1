//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/spec-data` beside the checkout, or `None` with a visible message.
pub fn spec_data(test: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec-data"
    ));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIPPED {test}: ../shared/spec-data not found beside the checkout");
        None
    }
}
