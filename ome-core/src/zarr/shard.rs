//! Writing shards (Zarr v3 `sharding_indexed`, index at the end, index codecs bytes +
//! crc32c) with the inner chunks of a level encoded in parallel straight from the block.
//!
//! Going through `zarrs`' sharding codec costs four passes over every shard (extract,
//! fill check, encode, copy into the shard, truncate) with a single thread per shard; here
//! each inner chunk is copied once into a cache-sized buffer and compressed, and the shard
//! is assembled from the compressed pieces. Reading stays with `zarrs`, so every shard
//! written here is decoded by an independent implementation in the tests.
//!
//! Format: <https://zarr-specs.readthedocs.io/en/latest/v3/codecs/sharding-indexed/index.html>
//! (index = `offset, nbytes` as little-endian u64 per inner chunk in C order, `u64::MAX`
//! twice for an empty chunk, followed by the crc32c of the index bytes).

use std::borrow::Cow;
use std::num::NonZeroU64;

use ndarray::{ArrayViewD, Slice};
use rayon::prelude::*;
use serde_json::Value;
use zarrs::array::{
    ArrayBytes, ArrayToBytesCodecTraits, CodecChain, CodecOptions, DataType, FillValue,
};
use zarrs::metadata::v3::MetadataV3;

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::location::Location;

/// The inner codecs of a sharded array document, ready to encode inner chunks.
pub(crate) struct InnerCodecs {
    chain: CodecChain,
    chunk: Vec<u64>,
}

impl InnerCodecs {
    /// Builds the inner codec chain from a `zarr.json` document written by this crate.
    pub(crate) fn from_document(doc: &Value, location: &Location) -> Result<Self> {
        let conf = doc
            .pointer("/codecs/0/configuration")
            .ok_or_else(|| Error::format(location.clone(), "expected a sharding_indexed codec"))?;
        let codecs: Vec<MetadataV3> =
            serde_json::from_value(conf.get("codecs").cloned().unwrap_or(Value::Null))
                .map_err(|e| Error::format(location.clone(), format!("bad inner codecs: {e}")))?;
        let chunk: Vec<u64> =
            serde_json::from_value(conf.get("chunk_shape").cloned().unwrap_or(Value::Null))
                .map_err(|e| {
                    Error::format(location.clone(), format!("bad inner chunk shape: {e}"))
                })?;
        let chain = CodecChain::from_metadata(&codecs)
            .map_err(|e| Error::unsupported(location.clone(), format!("inner codecs: {e}")))?;
        Ok(InnerCodecs { chain, chunk })
    }
}

fn chunk_counts(shard: &[usize], chunk: &[u64]) -> Vec<usize> {
    shard
        .iter()
        .zip(chunk)
        .map(|(&s, &c)| s.div_ceil(c as usize))
        .collect()
}

/// Encodes one shard from `block` (the full shard shape, padded at the array edge) and
/// returns the shard bytes, or `None` when every inner chunk holds only the fill value (0).
pub(crate) fn encode_shard<T: Element>(
    block: &ArrayViewD<'_, T>,
    inner: &InnerCodecs,
    fast: Option<super::write::FastBlosc>,
    data_type: &DataType,
    fill_value: &FillValue,
    location: &Location,
) -> Result<Option<Vec<u8>>> {
    let shard: Vec<usize> = block.shape().to_vec();
    let counts = chunk_counts(&shard, &inner.chunk);
    let total: usize = counts.iter().product();
    let chunk_shape: Vec<NonZeroU64> = inner
        .chunk
        .iter()
        .map(|&c| {
            NonZeroU64::new(c)
                .ok_or_else(|| Error::format(location.clone(), "zero inner chunk extent"))
        })
        .collect::<Result<_>>()?;
    let options = CodecOptions::default().with_concurrent_target(1);
    let zero = T::default();
    let data_type = crate::single_thread::OneThread::new(data_type);
    let encoded: Vec<Option<Vec<u8>>> = (0..total)
        .into_par_iter()
        .map(|linear| {
            let mut rest = linear;
            let mut origin = vec![0usize; counts.len()];
            for d in (0..counts.len()).rev() {
                origin[d] = (rest % counts[d]) * inner.chunk[d] as usize;
                rest /= counts[d];
            }
            let view = block.slice_each_axis(|ax| {
                let d = ax.axis.index();
                Slice::from(origin[d]..origin[d] + inner.chunk[d] as usize)
            });
            let mut buf: Vec<T> = Vec::with_capacity(view.len());
            for row in view.rows() {
                match row.as_slice() {
                    Some(s) => buf.extend_from_slice(s),
                    None => buf.extend(row.iter().copied()),
                }
            }
            if buf.iter().all(|v| *v == zero) {
                return Ok(None);
            }
            let raw = bytemuck::cast_slice::<T, u8>(&buf);
            // The writers' default codec (bytes + blosc zstd) without `zarrs`' per-block
            // zstd contexts: the same bytes (see `FastBlosc`).
            if let Some(encoded) = fast.and_then(|f| f.compress(raw)) {
                return Ok(Some(encoded));
            }
            let bytes = ArrayBytes::new_flen(Cow::Borrowed(raw));
            let out = inner
                .chain
                .encode(bytes, &chunk_shape, data_type.get(), fill_value, &options)
                .map_err(|e| {
                    Error::format(
                        location.clone(),
                        format!("cannot encode an inner chunk: {e}"),
                    )
                })?;
            Ok(Some(out.into_owned()))
        })
        .collect::<Result<_>>()?;
    if encoded.iter().all(Option::is_none) {
        return Ok(None);
    }
    let payload: usize = encoded.iter().flatten().map(Vec::len).sum();
    let mut out = Vec::with_capacity(payload + total * 16 + 4);
    let mut index = Vec::with_capacity(total * 16);
    for piece in &encoded {
        match piece {
            Some(bytes) => {
                index.extend_from_slice(&(out.len() as u64).to_le_bytes());
                index.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                out.extend_from_slice(bytes);
            }
            None => {
                index.extend_from_slice(&u64::MAX.to_le_bytes());
                index.extend_from_slice(&u64::MAX.to_le_bytes());
            }
        }
    }
    let crc = crc32c::crc32c(&index);
    out.extend_from_slice(&index);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(Some(out))
}
