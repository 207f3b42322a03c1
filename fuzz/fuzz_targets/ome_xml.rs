//! OME-XML parsing under the default limits: errors are fine, panics and hangs are not.
//! The body is `testkit::fuzz::ome_xml`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::ome_xml(data));
