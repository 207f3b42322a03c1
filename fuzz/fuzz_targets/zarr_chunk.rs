//! Chunk decoding through the read path: the input's first byte picks a codec chain of a
//! small 16x16 array; the rest is the chunk file. Open, read all, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ome_core::{Image, Selection};

const CODECS: [&str; 6] = [
    r#"[{"name":"bytes","configuration":{"endian":"little"}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"gzip","configuration":{"level":1}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":1,"shuffle":"shuffle","typesize":2,"blocksize":0}}]"#,
    r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[8,8],"codecs":[{"name":"bytes","configuration":{"endian":"little"}}],"index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],"index_location":"end"}}]"#,
    r#"[{"name":"transpose","configuration":{"order":[1,0]}},{"name":"bytes","configuration":{"endian":"big"}},{"name":"crc32c"}]"#,
];

const ROOT: &str = r#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[{"axes":[{"name":"y","type":"space"},{"name":"x","type":"space"}],"datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1.0,1.0]}]}]}]}}}"#;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, chunk)) = data.split_first() else { return };
    let codecs = CODECS[usize::from(pick) % CODECS.len()];
    let array = format!(
        r#"{{"zarr_format":3,"node_type":"array","shape":[16,16],"data_type":"uint16","chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[16,16]}}}},"chunk_key_encoding":{{"name":"default","configuration":{{"separator":"/"}}}},"fill_value":0,"codecs":{codecs}}}"#
    );
    let Ok(dir) = tempfile::tempdir() else { return };
    let root = dir.path().join("f.ome.zarr");
    let ok = std::fs::create_dir_all(root.join("0/c/0")).is_ok()
        && std::fs::write(root.join("zarr.json"), ROOT).is_ok()
        && std::fs::write(root.join("0/zarr.json"), array).is_ok()
        && std::fs::write(root.join("0/c/0/0"), chunk).is_ok();
    if !ok {
        return;
    }
    let image = Image::open(&root).expect("the fixed metadata opens");
    if let Ok(a) = image.read(0, &Selection::all()) {
        assert_eq!(a.shape(), &[16, 16]);
    }
});
