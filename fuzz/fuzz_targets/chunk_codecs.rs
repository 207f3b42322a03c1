//! Structure-aware: our own chunks and shards (blosc, zstd, gzip, raw; v2/v3), damaged where
//! their structure lives (blosc header fields, shard index entries), read back.
//! The body is `testkit::fuzz::chunk_codecs`, which the normal tests replay on every saved input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| testkit::fuzz::chunk_codecs(data));
