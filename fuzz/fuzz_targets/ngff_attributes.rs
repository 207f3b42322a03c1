//! NGFF attributes: JSON text -> depth check -> typed model (and back when it parses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ome_core::Limits;
use ome_core::Location;
use ome_core::metadata::OmeAttributes;
use serde_json::Value;

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    // Documents deeper than the limit are refused before the typed model sees them.
    if depth(&value) > Limits::default().max_json_depth {
        return;
    }
    let Value::Object(map) = value else { return };
    if let Ok(attrs) = OmeAttributes::from_attributes(&map, &Location::file("zarr.json")) {
        let back = attrs.to_attributes();
        let _ = OmeAttributes::from_attributes(&back, &Location::file("zarr.json"));
    }
});
