//! NGFF attributes: JSON text -> typed model, and back when it parses.
//! The body is `testkit::fuzz::ngff_attributes`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::ngff_attributes(data));
