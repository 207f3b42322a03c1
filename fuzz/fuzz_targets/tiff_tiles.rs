//! Structure-aware: small TIFFs built tag by tag (tiles or strips, every codec, both byte
//! orders, BigTIFF), with lies in their tags and damage in their tiles, read back.
//! The body is `testkit::fuzz::tiff_tiles`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::tiff_tiles(data));
