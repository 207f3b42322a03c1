//! Array metadata documents for writing (Zarr v2 `.zarray`, Zarr v3 `zarr.json`) and short
//! human descriptions of the codecs of arrays being read.

use serde_json::{Value, json};

use crate::dtype::DType;
use crate::options::{Compression, Shuffle};

/// What a writer needs to describe one array.
#[derive(Debug, Clone)]
pub(crate) struct ArraySpec<'a> {
    pub(crate) shape: &'a [u64],
    /// Chunk shape (the inner chunk when `shards` is set).
    pub(crate) chunks: &'a [u64],
    /// Shard shape, Zarr v3 only.
    pub(crate) shards: Option<&'a [u64]>,
    pub(crate) dtype: DType,
    pub(crate) compression: Compression,
    pub(crate) dimension_names: &'a [String],
}

fn blosc_shuffle_v2(shuffle: Shuffle) -> u8 {
    match shuffle {
        Shuffle::None => 0,
        Shuffle::Byte => 1,
        Shuffle::Bit => 2,
    }
}

fn blosc_shuffle_v3(shuffle: Shuffle) -> &'static str {
    match shuffle {
        Shuffle::None => "noshuffle",
        Shuffle::Byte => "shuffle",
        Shuffle::Bit => "bitshuffle",
    }
}

fn fill_value(dtype: DType) -> Value {
    if dtype.is_float() {
        json!(0.0)
    } else {
        json!(0)
    }
}

/// The `.zarray` document. OME-Zarr 0.4 requires the `/` dimension separator
/// (NGFF 0.4, "On-disk layout": "dimension_separator" MUST be "/").
pub(crate) fn zarray_v2(spec: &ArraySpec<'_>) -> Value {
    let compressor = match spec.compression {
        Compression::None => Value::Null,
        Compression::Blosc {
            cname,
            clevel,
            shuffle,
        } => json!({
            "id": "blosc", "cname": cname.name(), "clevel": clevel,
            "shuffle": blosc_shuffle_v2(shuffle), "blocksize": 0
        }),
        Compression::Zstd { level } => json!({"id": "zstd", "level": level, "checksum": false}),
        Compression::Gzip { level } => json!({"id": "gzip", "level": level}),
    };
    json!({
        "zarr_format": 2,
        "shape": spec.shape,
        "chunks": spec.chunks,
        "dtype": spec.dtype.numpy_str(),
        "compressor": compressor,
        "fill_value": fill_value(spec.dtype),
        "order": "C",
        "filters": null,
        "dimension_separator": "/",
    })
}

fn bytes_to_bytes_v3(compression: Compression, dtype: DType) -> Vec<Value> {
    match compression {
        Compression::None => vec![],
        Compression::Blosc {
            cname,
            clevel,
            shuffle,
        } => vec![json!({
            "name": "blosc",
            "configuration": {
                "cname": cname.name(), "clevel": clevel, "shuffle": blosc_shuffle_v3(shuffle),
                "typesize": dtype.size(), "blocksize": 0
            }
        })],
        Compression::Zstd { level } => {
            vec![json!({"name": "zstd", "configuration": {"level": level, "checksum": false}})]
        }
        Compression::Gzip { level } => {
            vec![json!({"name": "gzip", "configuration": {"level": level}})]
        }
    }
}

/// The `zarr.json` document of an array (NGFF 0.5: `dimension_names` MUST match the axes).
pub(crate) fn zarr_json_v3(spec: &ArraySpec<'_>) -> Value {
    let bytes = json!({"name": "bytes", "configuration": {"endian": "little"}});
    let mut inner = vec![bytes.clone()];
    inner.extend(bytes_to_bytes_v3(spec.compression, spec.dtype));
    let (grid_shape, codecs) = match spec.shards {
        Some(shards) => (
            shards,
            vec![json!({
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": spec.chunks,
                    "codecs": inner,
                    "index_codecs": [bytes, {"name": "crc32c"}],
                    "index_location": "end"
                }
            })],
        ),
        None => (spec.chunks, inner),
    };
    json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": spec.shape,
        "data_type": spec.dtype.name(),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid_shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value(spec.dtype),
        "codecs": codecs,
        "attributes": {},
        "dimension_names": spec.dimension_names,
    })
}

/// Describes one codec object (v3 `{"name", "configuration"}` or v2 `{"id", ...}`) briefly:
/// `blosc(zstd:1, shuffle)`, `zstd(3)`, `bytes(little)`.
fn describe_codec(codec: &Value) -> String {
    let name = codec
        .get("name")
        .or_else(|| codec.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let conf = codec.get("configuration").unwrap_or(codec);
    let get = |k: &str| {
        conf.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
    };
    match name {
        "blosc" => {
            let shuffle = match conf.get("shuffle") {
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(0) => "noshuffle".to_string(),
                    Some(2) => "bitshuffle".to_string(),
                    Some(1) => "shuffle".to_string(),
                    _ => n.to_string(),
                },
                Some(Value::String(s)) => s.clone(),
                _ => "?".to_string(),
            };
            format!(
                "blosc({}:{}, {shuffle})",
                get("cname").unwrap_or_default(),
                get("clevel").unwrap_or_default()
            )
        }
        "zstd" | "gzip" | "zlib" => match get("level") {
            Some(l) => format!("{name}({l})"),
            None => name.to_string(),
        },
        "bytes" => match get("endian") {
            Some(e) => format!("bytes({e})"),
            None => name.to_string(),
        },
        "transpose" => match conf.get("order") {
            Some(o) => format!("transpose({o})"),
            None => name.to_string(),
        },
        other => other.to_string(),
    }
}

/// Chunk shape, shard shape and codec descriptions read from a raw array document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArrayLayout {
    pub(crate) chunks: Vec<u64>,
    pub(crate) shards: Option<Vec<u64>>,
    pub(crate) codecs: Vec<String>,
}

fn u64_list(v: Option<&Value>) -> Option<Vec<u64>> {
    v?.as_array()?.iter().map(Value::as_u64).collect()
}

/// Reads the layout of an array from its raw `.zarray` or `zarr.json`; `None` when the
/// chunk grid is not a regular one with a readable chunk shape.
pub(crate) fn array_layout(doc: &Value) -> Option<ArrayLayout> {
    if doc.get("zarr_format").and_then(Value::as_u64) == Some(2) {
        let chunks = u64_list(doc.get("chunks"))?;
        let mut codecs: Vec<String> = doc
            .get("filters")
            .and_then(Value::as_array)
            .map(|f| f.iter().map(describe_codec).collect())
            .unwrap_or_default();
        if let Some(c) = doc.get("compressor").filter(|c| !c.is_null()) {
            codecs.push(describe_codec(c));
        }
        return Some(ArrayLayout {
            chunks,
            shards: None,
            codecs,
        });
    }
    let grid = u64_list(doc.pointer("/chunk_grid/configuration/chunk_shape"))?;
    let codecs = doc.get("codecs").and_then(Value::as_array)?;
    if let [only] = codecs.as_slice()
        && only.get("name").and_then(Value::as_str) == Some("sharding_indexed")
    {
        let conf = only.get("configuration")?;
        let inner = u64_list(conf.get("chunk_shape"))?;
        let inner_codecs = conf.get("codecs").and_then(Value::as_array)?;
        return Some(ArrayLayout {
            chunks: inner,
            shards: Some(grid),
            codecs: inner_codecs.iter().map(describe_codec).collect(),
        });
    }
    Some(ArrayLayout {
        chunks: grid,
        shards: None,
        codecs: codecs.iter().map(describe_codec).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(
        shape: &'a [u64],
        chunks: &'a [u64],
        shards: Option<&'a [u64]>,
        names: &'a [String],
    ) -> ArraySpec<'a> {
        ArraySpec {
            shape,
            chunks,
            shards,
            dtype: DType::U16,
            compression: Compression::default(),
            dimension_names: names,
        }
    }

    #[test]
    fn layouts_read_back_what_was_written() {
        let names: Vec<String> = ["y", "x"].map(String::from).to_vec();
        let v2 = zarray_v2(&spec(&[100, 90], &[32, 32], None, &names));
        let l = array_layout(&v2).unwrap();
        assert_eq!(l.chunks, vec![32, 32]);
        assert_eq!(l.codecs, vec!["blosc(zstd:1, shuffle)"]);
        let v3 = zarr_json_v3(&spec(&[100, 90], &[32, 32], Some(&[64, 64]), &names));
        let l = array_layout(&v3).unwrap();
        assert_eq!(l.shards, Some(vec![64, 64]));
        assert_eq!(l.codecs, vec!["bytes(little)", "blosc(zstd:1, shuffle)"]);
        assert_eq!(v3["dimension_names"], json!(["y", "x"]));
    }
}
