//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::panic)]

use std::path::PathBuf;

/// `../shared/spec-data` beside the checkout, or `None` with a visible message (a failure
/// under `CI=true`).
pub fn spec_data(test: &str) -> Option<PathBuf> {
    let dir = testkit::spec_data();
    if dir.is_none() {
        eprintln!("({test} did not run)");
    }
    dir
}

/// Level `level` of `image`, whole, as `T` (panics on any error: a test helper).
pub fn read_level<T: ome_core::Element>(
    image: &ome_core::Image,
    level: usize,
) -> ndarray::ArrayD<T> {
    let a = image
        .read(level, &ome_core::Selection::all())
        .unwrap_or_else(|e| panic!("{e}"));
    T::from_dyn_array_owned(a).unwrap_or_else(|_| panic!("expected {:?} samples", T::DTYPE))
}
