//! parse(to_xml(parse(x))) == parse(x) for every document that parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ome_core::ome_xml::{XmlLimits, parse, parse_bytes, to_xml};

fuzz_target!(|data: &[u8]| {
    let limits = XmlLimits::default();
    if let Ok(first) = parse_bytes(data, &limits) {
        let xml = to_xml(&first);
        let second = parse(&xml, &limits).expect("written OME-XML parses again");
        assert_eq!(first, second, "round trip changed the model:\n{xml}");
    }
});
