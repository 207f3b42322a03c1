//! Arrays written by `zarrs` directly (codecs our writer never emits: transpose, crc32c,
//! big-endian bytes, gzip inside shards) and bioformats2raw layouts read correctly.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::NodeKind;
use ome_core::{DynArray, Image, OmeZarr, Selection};
use serde_json::{Value, json};
use zarrs::array::{Array, ArrayMetadata};
use zarrs::filesystem::FilesystemStore;

fn write_group(dir: &Path, attributes: Value) {
    fs::create_dir_all(dir).unwrap();
    let doc = json!({"zarr_format": 3, "node_type": "group", "attributes": attributes});
    fs::write(dir.join("zarr.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
}

/// Writes `data` at `root/node` with the given v3 codecs through zarrs itself.
fn write_array(root: &Path, node: &str, data: &ArrayD<i32>, chunks: &[u64], codecs: Value) {
    let store = Arc::new(FilesystemStore::new(root).unwrap());
    let doc = json!({
        "zarr_format": 3, "node_type": "array", "shape": data.shape(), "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": codecs, "dimension_names": ["z", "y", "x"],
    });
    let meta: ArrayMetadata = ArrayMetadata::V3(serde_json::from_value(doc).unwrap());
    let array = Array::new_with_metadata(store, &format!("/{node}"), meta).unwrap();
    array.store_metadata().unwrap();
    array
        .store_array_subset(&array.subset_all(), data.clone())
        .unwrap();
}

fn image_attrs(paths: &[&str]) -> Value {
    json!({"ome": {"version": "0.5", "multiscales": [{
        "axes": [{"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": paths.iter().map(|p| json!({"path": p, "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]})).collect::<Vec<_>>(),
    }]}})
}

#[test]
fn codecs_written_by_zarrs_read_back() {
    let data = ArrayD::<i32>::from_shape_fn(IxDyn(&[5, 33, 47]), |ix| {
        (ix[0] * 10000 + ix[1] * 100 + ix[2]) as i32 - 20000
    });
    let cases = [
        json!([{"name": "transpose", "configuration": {"order": [2, 1, 0]}}, {"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]),
        json!([{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 3}}]),
        json!([{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "bitshuffle", "typesize": 4, "blocksize": 0}}]),
        json!([{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [1, 8, 8],
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 2, "checksum": true}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "start"}}]),
    ];
    for (i, codecs) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("img.zarr");
        let chunks: &[u64] = if i == 3 { &[2, 16, 16] } else { &[2, 10, 12] };
        write_array(&root, "0", &data, chunks, codecs);
        write_group(&root, image_attrs(&["0"]));
        let image = Image::open(&root).unwrap();
        assert_eq!(
            image.read(0, &Selection::all()).unwrap(),
            DynArray::I32(data.clone()),
            "case {i}"
        );
        let region = image.read_region(0, &[1, 5, 7], &[3, 20, 30]).unwrap();
        assert_eq!(
            region,
            DynArray::I32(
                data.slice(ndarray::s![1..4, 5..25, 7..37])
                    .to_owned()
                    .into_dyn()
            ),
            "case {i}"
        );
    }
}

#[test]
fn bioformats2raw_layouts_list_their_series() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bf2raw.zarr");
    let data = ArrayD::<i32>::from_shape_fn(IxDyn(&[2, 8, 8]), |ix| ix[2] as i32);
    write_group(
        &root,
        json!({"ome": {"version": "0.5", "bioformats2raw.layout": 3}}),
    );
    write_group(
        &root.join("OME"),
        json!({"ome": {"version": "0.5", "series": ["0", "1"]}}),
    );
    for s in ["0", "1"] {
        write_array(
            &root.join(s),
            "0",
            &data,
            &[1, 8, 8],
            json!([{"name": "bytes", "configuration": {"endian": "little"}}]),
        );
        write_group(&root.join(s), image_attrs(&["0"]));
    }
    let node = OmeZarr::open(&root).unwrap();
    assert_eq!(node.kind(), NodeKind::Bioformats2raw);
    assert_eq!(node.series().unwrap(), vec!["0", "1"]);
    let image = node.child("1").unwrap().image().unwrap();
    assert_eq!(
        image.read(0, &Selection::all()).unwrap(),
        DynArray::I32(data.clone())
    );
    // Without an OME group the numbered children are the series.
    fs::remove_dir_all(root.join("OME")).unwrap();
    assert_eq!(
        OmeZarr::open(&root).unwrap().series().unwrap(),
        vec!["0", "1"]
    );
}
