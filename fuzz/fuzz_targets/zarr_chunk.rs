//! Any bytes as the one chunk of a small array, under six codec chains.
//! The body is `testkit::fuzz::zarr_chunk`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::zarr_chunk(data));
