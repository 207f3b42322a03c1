//! OME-XML parsing under the default limits: errors are fine, panics and hangs are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ome_core::ome_xml::{XmlLimits, parse_bytes};

fuzz_target!(|data: &[u8]| {
    let _ = parse_bytes(data, &XmlLimits::default());
});
