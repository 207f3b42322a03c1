//! Bad input gets a typed error naming the node and the problem; never a panic.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::LevelCount;
use ome_core::{
    ErrorKind, Image, ImageMetadata, Limits, OmeZarr, Selection, WriteOptions, write_ome_zarr,
};
use serde_json::{Value, json};

fn image(dir: &Path, version: NgffVersion, shards: bool) -> PathBuf {
    let path = dir.join("img.ome.zarr");
    let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[2, 40, 40]), |ix| (ix[1] * 40 + ix[2]) as u16);
    let mut o = WriteOptions::default();
    o.version = version;
    o.chunks = Some(vec![1, 16, 16]);
    if shards {
        o.shards = Some(vec![1, 32, 32]);
    }
    o.levels = LevelCount::Exactly(2);
    write_ome_zarr(
        &path,
        data.view(),
        &ImageMetadata::from_axis_letters("cyx").unwrap(),
        &o,
        None,
    )
    .unwrap();
    path
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    f(&mut v);
    fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// Opens and reads everything; returns the first error.
fn open_and_read(path: &Path) -> ome_core::Error {
    let result = (|| {
        let img = Image::open(path)?;
        for level in 0..img.levels().len() {
            img.read(level, &Selection::all())?;
        }
        Ok::<_, ome_core::Error>(())
    })();
    result.expect_err("expected an error")
}

fn assert_err(e: &ome_core::Error, kind: ErrorKind, needles: &[&str]) {
    let text = e.to_string();
    assert_eq!(e.kind(), kind, "{text}");
    for n in needles {
        assert!(text.contains(n), "{text:?} should mention {n:?}");
    }
}

#[test]
fn malformed_json_names_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let p = image(dir.path(), NgffVersion::V0_5, false);
    fs::write(p.join("zarr.json"), b"{\"zarr_format\": 3, \"node_type\": ").unwrap();
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["zarr.json", "malformed JSON"],
    );
    let p4 = image(&dir.path().join("v4"), NgffVersion::V0_4, false);
    fs::write(p4.join("0/.zarray"), b"[1, 2").unwrap();
    assert_err(
        &open_and_read(&p4),
        ErrorKind::Format,
        &["0/.zarray", "malformed JSON"],
    );
}

#[test]
fn deep_json_nesting_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = image(dir.path(), NgffVersion::V0_5, false);
    let deep = format!(
        "{{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    fs::write(p.join("zarr.json"), deep).unwrap();
    assert_err(&open_and_read(&p), ErrorKind::Format, &["zarr.json"]);
}

#[test]
fn dataset_paths_never_leave_the_root() {
    for bad in ["../outside", "/etc", "0/../../x", ""] {
        let dir = tempfile::tempdir().unwrap();
        let p = image(dir.path(), NgffVersion::V0_5, false);
        edit_json(&p.join("zarr.json"), |v| {
            v["attributes"]["ome"]["multiscales"][0]["datasets"][0]["path"] = json!(bad)
        });
        let e = open_and_read(&p);
        assert_err(
            &e,
            ErrorKind::Format,
            &["/ome/multiscales/0/datasets/0/path"],
        );
    }
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let p = image(dir.path(), NgffVersion::V0_4, false);
        let outside = image(&dir.path().join("elsewhere"), NgffVersion::V0_4, false);
        fs::remove_dir_all(p.join("1")).unwrap();
        std::os::unix::fs::symlink(outside.join("1"), p.join("1")).unwrap();
        assert_err(&open_and_read(&p), ErrorKind::Format, &["symbolic link"]);

        // A chunk file linked to a file outside the root is refused when read.
        let p = image(&dir.path().join("chunklink"), NgffVersion::V0_5, false);
        let chunk = p.join("0/c/0/0/0");
        fs::remove_file(&chunk).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &chunk).unwrap();
        assert_err(
            &open_and_read(&p),
            ErrorKind::Format,
            &["symbolic link leading outside the dataset root"],
        );
    }
}

#[test]
fn missing_arrays_and_disagreeing_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let p = image(dir.path(), NgffVersion::V0_5, false);
    fs::remove_dir_all(p.join("1")).unwrap();
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["datasets/1/path", "does not exist"],
    );

    let p = image(&dir.path().join("b"), NgffVersion::V0_5, false);
    edit_json(&p.join("zarr.json"), |v| {
        let axes = v["attributes"]["ome"]["multiscales"][0]["axes"]
            .as_array_mut()
            .unwrap();
        axes.insert(0, json!({"name": "t", "type": "time"}));
    });
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["axes", "expected 3 axes"],
    );

    let p = image(&dir.path().join("c"), NgffVersion::V0_4, false);
    edit_json(&p.join("1/.zarray"), |v| v["dtype"] = json!("<f4"));
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["level 1 has data type float32"],
    );

    let p = image(&dir.path().join("d"), NgffVersion::V0_5, false);
    edit_json(&p.join("zarr.json"), |v| {
        v["attributes"]["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] =
            json!([1.0, 2.0]);
    });
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["expected 3 scale values"],
    );
}

#[test]
fn unknown_codecs_and_types_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let p = image(dir.path(), NgffVersion::V0_5, false);
    edit_json(&p.join("0/zarr.json"), |v| {
        v["codecs"][1] = json!({"name": "lzma_super", "configuration": {}})
    });
    assert_err(
        &open_and_read(&p),
        ErrorKind::Unsupported,
        &["0/zarr.json", "lzma_super"],
    );

    let p = image(&dir.path().join("b"), NgffVersion::V0_4, false);
    edit_json(&p.join("0/.zarray"), |v| v["dtype"] = json!("<c8"));
    assert_err(
        &open_and_read(&p),
        ErrorKind::Unsupported,
        &["0/.zarray", "dtype"],
    );
}

#[test]
fn chunks_that_do_not_decode_are_format_errors() {
    for (version, shards, chunk) in [
        (NgffVersion::V0_4, false, "0/0/0/0"),
        (NgffVersion::V0_5, false, "0/c/0/0/0"),
        (NgffVersion::V0_5, true, "0/c/0/0/0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = image(dir.path(), version, shards);
        let chunk_path = p.join(chunk);
        assert!(chunk_path.exists(), "{chunk_path:?}");
        // Garbage, then a truncated copy of a real chunk.
        fs::write(&chunk_path, vec![0xAB; 100]).unwrap();
        assert_err(&open_and_read(&p), ErrorKind::Format, &["cannot decode"]);
    }
}

#[test]
fn lying_blosc_headers_and_shard_indexes_are_format_errors() {
    // The writers' default codec is blosc: claim 2 GiB - 256 decoded bytes in a real chunk.
    for (version, shards, chunk) in [
        (NgffVersion::V0_4, false, "0/0/0/0"),
        (NgffVersion::V0_5, false, "0/c/0/0/0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = image(dir.path(), version, shards);
        let mut bytes = fs::read(p.join(chunk)).unwrap();
        bytes[4..8].copy_from_slice(&0x7FFF_FF00u32.to_le_bytes());
        fs::write(p.join(chunk), bytes).unwrap();
        assert_err(
            &open_and_read(&p),
            ErrorKind::Format,
            &[chunk, "blosc header claims 2147483392 decoded bytes"],
        );
    }
    // A shard (index at the end, bytes + crc32c) whose first entry overflows 64 bits, with
    // a correct checksum, then one that points past the end: zarrs would panic or overflow.
    for (offset, nbytes, needle) in [
        (u64::MAX - 15, 32u64, "overflows 64 bits"),
        (1 << 40, 16, "expected bytes inside the data of the shard"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = image(dir.path(), NgffVersion::V0_5, true);
        let shard = p.join("0/c/0/0/0");
        let mut bytes = fs::read(&shard).unwrap();
        let index_at = bytes.len() - 4 * 16 - 4;
        bytes[index_at..index_at + 8].copy_from_slice(&offset.to_le_bytes());
        bytes[index_at + 8..index_at + 16].copy_from_slice(&nbytes.to_le_bytes());
        let crc = crc32c::crc32c(&bytes[index_at..bytes.len() - 4]);
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
        fs::write(&shard, bytes).unwrap();
        assert_err(
            &open_and_read(&p),
            ErrorKind::Format,
            &["shard 0/c/0/0/0", "inner chunk 0", needle],
        );
    }
}

#[test]
fn oversized_chunks_and_reads_hit_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = image(dir.path(), NgffVersion::V0_5, false);
    edit_json(&p.join("0/zarr.json"), |v| {
        v["shape"] = json!([2, 1_000_000_000u64, 1_000_000_000u64]);
        v["chunk_grid"]["configuration"]["chunk_shape"] =
            json!([1, 500_000_000u64, 500_000_000u64]);
    });
    assert_err(
        &open_and_read(&p),
        ErrorKind::LimitsExceeded,
        &["0/zarr.json", "exceeds the limit"],
    );
    edit_json(&p.join("0/zarr.json"), |v| {
        v["shape"] = json!([u64::MAX, u64::MAX, 2])
    });
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["0/zarr.json#/shape", "64 bits"],
    );

    let p = image(&dir.path().join("b"), NgffVersion::V0_5, false);
    let mut limits = Limits::default();
    limits.max_read_bytes = 100;
    let img = OmeZarr::open_with_limits(&p, limits)
        .unwrap()
        .image()
        .unwrap();
    let e = img.read(0, &Selection::all()).unwrap_err();
    assert_err(&e, ErrorKind::LimitsExceeded, &["limit of 100 bytes"]);
}

#[test]
fn groups_without_images_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.zarr");
    fs::create_dir(&p).unwrap();
    assert_err(
        &open_and_read(&p),
        ErrorKind::Format,
        &["expected Zarr metadata"],
    );
    fs::write(
        p.join("zarr.json"),
        br#"{"zarr_format": 3, "node_type": "group", "attributes": {}}"#,
    )
    .unwrap();
    assert_err(
        &open_and_read(&p),
        ErrorKind::Usage,
        &["expected an image", "no OME metadata"],
    );
    assert_err(
        &open_and_read(&dir.path().join("missing")),
        ErrorKind::Storage,
        &["missing"],
    );
}
