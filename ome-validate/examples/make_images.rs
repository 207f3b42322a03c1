//! Writes a directory of small valid OME-Zarr 0.5 images (Zarr v3, one 1x8x8 uint8 level,
//! one uncompressed chunk each) for the `--recursive` benchmark, 100 images per folder:
//! `cargo run --release -p ome-validate --example make_images -- OUT [COUNT]`
//! (default 1000 images).

use std::fs;
use std::path::Path;

use serde_json::json;

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    fs::write(path, bytes)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out) = args.get(1) else {
        eprintln!("usage: make_images OUT [COUNT]");
        std::process::exit(2);
    };
    let count: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let array = json!({
        "zarr_format": 3, "node_type": "array", "shape": [1, 8, 8], "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 8, 8]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes"}], "attributes": {},
        "dimension_names": ["c", "y", "x"],
    });
    let array = serde_json::to_vec(&array).unwrap_or_default();
    let chunk: Vec<u8> = (0..64u8).collect();
    for i in 0..count {
        let image = Path::new(out)
            .join(format!("batch_{:03}", i / 100))
            .join(format!("image_{i:05}.ome.zarr"));
        let group = json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5",
            "multiscales": [{
                "name": format!("image {i}"), "type": "mean", "metadata": {},
                "axes": [
                    {"name": "c", "type": "channel"},
                    {"name": "y", "type": "space", "unit": "micrometer"},
                    {"name": "x", "type": "space", "unit": "micrometer"}
                ],
                "datasets": [{"path": "0", "coordinateTransformations": [
                    {"type": "scale", "scale": [1.0, 0.5, 0.5]}
                ]}]
            }]
        }}});
        write(
            &image.join("zarr.json"),
            &serde_json::to_vec(&group).unwrap_or_default(),
        )?;
        write(&image.join("0/zarr.json"), &array)?;
        write(&image.join("0/c/0/0/0"), &chunk)?;
    }
    Ok(())
}
