//! parse(to_xml(parse(x))) == parse(x) for every document that parses.
//! The body is `testkit::fuzz::ome_xml_roundtrip`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::ome_xml_roundtrip(data));
