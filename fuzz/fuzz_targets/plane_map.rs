//! Plane maps from OME-XML: one entry per plane, every plane inside its file's IFDs.
//! The body is `testkit::fuzz::plane_map`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::plane_map(data));
