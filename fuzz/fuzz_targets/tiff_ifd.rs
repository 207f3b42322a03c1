//! TIFF header, IFD chain, SubIFDs, OME-XML in IFD 0 and a first-tile read of any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("f.ome.tif");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(tiff) = ome_core::tiff::OmeTiff::open(&path) {
        // A one-pixel read at the origin exercises tile lookup and decoding under the limits.
        let _ = tiff.read_region(0, 0, &[0, 0, 0, 0, 0], &[1, 1, 1, 1, 1]);
    }
});
