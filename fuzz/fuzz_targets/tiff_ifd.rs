//! Any bytes as a TIFF file: header, IFD chain, SubIFDs, OME-XML, a read of each series.
//! The body is `testkit::fuzz::tiff_ifd`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::tiff_ifd(data));
