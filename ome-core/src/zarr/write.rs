//! Writing multiscale OME-Zarr images: level 0 from memory or from a region source, each
//! next level downsampled in parallel, chunks (or shards) encoded in parallel, group
//! metadata last, and the whole dataset renamed into place only when it is complete.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use zarrs::array::{Array, ArrayBytes, ArrayMetadata, CodecOptions};
use zarrs::storage::WritableStorageTraits;

use super::array::ZarrArray;
use super::cascade::Cascade;
use super::codecs::{ArraySpec, zarr_json_v3, zarray_v2};
use super::shard::{InnerCodecs, encode_shard};
use super::staging::StagingStore;
use super::store::{NodeType, Store};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
pub use crate::image_metadata::ImageMetadata;
use crate::location::Location;
use crate::metadata::{
    Axis, CoordinateSystem, CoordinateTransformation, Dataset, ImageLabel, Multiscale, NgffVersion,
    OmeAttributes, Omero, OmeroChannel, Window,
};
use crate::options::{BloscCompressor, Compression, Limits, NoProgress, Progress, Shuffle};
use crate::output::staged;
use crate::pyramid::{self, Downsample, LevelCount};
use crate::source::{RegionSource, copy_region};
use crate::with_dtype;

/// How to write an OME-Zarr image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteOptions {
    /// NGFF version: 0.4 (Zarr v2), 0.5 or 0.6 (Zarr v3). Default 0.5. 0.6 writes one
    /// coordinate system, `intrinsic`, and per level a `scale`, or a
    /// `sequence` of a scale and a translation, from the level's array to it.
    pub version: NgffVersion,
    /// The exact `ome.version` string to write (0.5+), such as `"0.6"` or `"0.6.dev3"`; it
    /// must name [`WriteOptions::version`]. Default `None`: [`NgffVersion::as_str`]
    /// (`"0.6rc0"` for 0.6, the revision whose schemas this crate checks against).
    pub version_tag: Option<String>,
    /// Chunk shape of level 0 (inner chunk when sharded); clipped to each level's shape.
    /// Default: 1 for time and channel axes, 256 for the last two spatial axes, and for a
    /// third spatial axis as many planes as make a chunk of about 8 MiB.
    pub chunks: Option<Vec<u64>>,
    /// Shard shape (0.5 only); a multiple of the chunk shape on every axis.
    pub shards: Option<Vec<u64>>,
    /// Chunk compression. Default blosc zstd level 1 with byte shuffle.
    pub compression: Compression,
    /// Downsampling method for the pyramid. Default mean.
    pub downsample: Downsample,
    /// Per-axis factor between consecutive levels. Default 2 on the last two spatial axes
    /// (y, x). Not together with [`WriteOptions::level_factors`].
    pub factors: Option<Vec<u64>>,
    /// Per-axis factors of each level from 1 on, *relative to level 0* (absolute): one
    /// `Vec` per level, one factor per axis. This is what `scale_factors=[2, 4, 8]` means
    /// to ome-zarr-py and ngff-zarr; it fixes the number of levels (`len() + 1`). Each side
    /// is `max(1, floor(base / factor))`, and a level is computed from the previous level
    /// when the previous factors divide its own, else from level 0 (see
    /// [`pyramid::plan_absolute_levels`]). The scale of level `k` is the level-0 scale
    /// times its factors. Default `None`: [`WriteOptions::factors`] and
    /// [`WriteOptions::levels`] plan the pyramid.
    pub level_factors: Option<Vec<Vec<u64>>>,
    /// How many levels. Default: until the smallest downsampled side is at most 256.
    /// With [`WriteOptions::level_factors`], only [`LevelCount::Exactly`] of the same
    /// count is accepted (a [`LevelCount::MinSize`] is ignored).
    pub levels: LevelCount,
    /// Replace an existing output (only once the new one is complete).
    pub overwrite: bool,
    /// Worker threads; default all cores.
    pub jobs: Option<usize>,
    /// Limits for reading back levels.
    pub limits: Limits,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            version: NgffVersion::V0_5,
            version_tag: None,
            chunks: None,
            shards: None,
            compression: Compression::default(),
            downsample: Downsample::Mean,
            factors: None,
            level_factors: None,
            levels: LevelCount::MinSize(256),
            overwrite: false,
            jobs: None,
            limits: Limits::default(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WriteSummary {
    /// Shape of every level, level 0 first.
    pub level_shapes: Vec<Vec<u64>>,
    /// Bytes written to storage (chunks and metadata).
    pub bytes_written: u64,
}

/// The fully checked plan of one pyramid.
#[derive(Debug)]
pub(crate) struct Plan {
    version: NgffVersion,
    dtype: DType,
    /// Per level from 1 on: the level it is computed from and the per-axis factor.
    pub(super) steps: Vec<(usize, Vec<u64>)>,
    /// How the coordinate transformations are derived.
    transforms: LevelTransforms,
    pub(crate) level_shapes: Vec<Vec<u64>>,
    pub(crate) level_chunks: Vec<Vec<u64>>,
    pub(crate) level_shards: Vec<Option<Vec<u64>>>,
    names: Vec<String>,
    channel_axis: Option<usize>,
}

fn default_chunks(axes: &[Axis], shape: &[u64], dtype: DType) -> Vec<u64> {
    let spatial: Vec<usize> = (0..axes.len())
        .filter(|&i| axes[i].axis_type.as_deref() == Some("space"))
        .collect();
    let yx: Vec<usize> = spatial.iter().rev().take(2).copied().collect();
    let mut chunks = vec![1u64; shape.len()];
    for &i in &yx {
        chunks[i] = shape[i].clamp(1, 256);
    }
    let plane: u64 = yx.iter().map(|&i| chunks[i]).product::<u64>() * dtype.size() as u64;
    for &i in &spatial {
        if !yx.contains(&i) {
            chunks[i] = ((8u64 << 20) / plane.max(1)).clamp(1, shape[i].max(1));
        }
    }
    // Axes of unknown type get their full extent when small, else 1.
    for (i, a) in axes.iter().enumerate() {
        if a.axis_type.is_none() && !yx.contains(&i) {
            chunks[i] = if shape[i] <= 16 { shape[i].max(1) } else { 1 };
        }
    }
    chunks
}

fn default_factors(axes: &[Axis]) -> Vec<u64> {
    let mut f = vec![1u64; axes.len()];
    let spatial: Vec<usize> = (0..axes.len())
        .filter(|&i| axes[i].axis_type.as_deref() == Some("space"))
        .collect();
    for &i in spatial.iter().rev().take(2) {
        f[i] = 2;
    }
    f
}

pub(crate) fn make_plan(
    shape: &[u64],
    dtype: DType,
    meta: &ImageMetadata,
    opts: &WriteOptions,
) -> Result<Plan> {
    let n = shape.len();
    if !matches!(
        opts.version,
        NgffVersion::V0_4 | NgffVersion::V0_5 | NgffVersion::V0_6
    ) {
        return Err(Error::usage(format!(
            "can write NGFF 0.4, 0.5 or 0.6, not {}",
            opts.version.as_str()
        )));
    }
    if let Some(tag) = &opts.version_tag
        && NgffVersion::parse(tag) != Some(opts.version)
    {
        return Err(Error::usage(format!(
            "expected a version string naming NGFF {}, found {tag:?}",
            opts.version
        )));
    }
    if meta.axes.len() != n {
        return Err(Error::usage(format!(
            "expected {n} axes for a {n}-dimensional array, found {}",
            meta.axes.len()
        )));
    }
    if !(2..=5).contains(&n) {
        return Err(Error::usage(format!(
            "NGFF images have 2 to 5 dimensions, found {n}"
        )));
    }
    if shape.contains(&0) {
        return Err(Error::usage(format!(
            "cannot write an empty array of shape {shape:?}"
        )));
    }
    for (what, v) in [("scale", &meta.scale), ("translation", &meta.translation)] {
        if let Some(v) = v {
            if v.len() != n {
                return Err(Error::usage(format!(
                    "expected {n} {what} values, found {}",
                    v.len()
                )));
            }
            if v.iter().any(|x| !x.is_finite()) || (what == "scale" && v.iter().any(|&x| x <= 0.0))
            {
                return Err(Error::usage(format!(
                    "{what} values must be finite (and positive for scale), found {v:?}"
                )));
            }
        }
    }
    let chunks = match &opts.chunks {
        Some(c) => c.clone(),
        None => default_chunks(&meta.axes, shape, dtype),
    };
    if chunks.len() != n || chunks.contains(&0) {
        return Err(Error::usage(format!(
            "expected {n} positive chunk extents, found {chunks:?}"
        )));
    }
    if let Some(shards) = &opts.shards {
        if opts.version == NgffVersion::V0_4 {
            return Err(Error::usage(
                "sharding needs Zarr v3: write NGFF 0.5 to use shards",
            ));
        }
        if shards.len() != n
            || shards
                .iter()
                .zip(&chunks)
                .any(|(&s, &c)| s == 0 || s % c != 0)
        {
            return Err(Error::usage(format!(
                "expected a shard shape that is a multiple of the chunk shape {chunks:?} on every axis, found {shards:?}"
            )));
        }
    }
    let (level_shapes, steps, transforms) = match &opts.level_factors {
        Some(level_factors) => {
            if opts.factors.is_some() {
                return Err(Error::usage(
                    "expected either factors between levels or absolute level factors, found both",
                ));
            }
            if let LevelCount::Exactly(count) = opts.levels
                && count != level_factors.len() + 1
            {
                return Err(Error::usage(format!(
                    "expected {} levels (level 0 and one per level factor), found a level count of {count}",
                    level_factors.len() + 1
                )));
            }
            let planned = pyramid::plan_absolute_levels(shape, level_factors)?;
            let shapes = planned.iter().map(|l| l.shape.clone()).collect();
            let steps = planned[1..]
                .iter()
                .map(|l| (l.source, l.relative.clone()))
                .collect();
            (shapes, steps, LevelTransforms::Absolute(planned))
        }
        None => {
            let factors = match &opts.factors {
                Some(f) => f.clone(),
                None => default_factors(&meta.axes),
            };
            let shapes = pyramid::plan_levels(shape, &factors, opts.levels)?;
            let steps = (1..shapes.len())
                .map(|k| (k - 1, factors.clone()))
                .collect();
            (shapes, steps, LevelTransforms::Uniform(factors))
        }
    };
    let mut level_chunks = Vec::new();
    let mut level_shards = Vec::new();
    for ls in &level_shapes {
        let c: Vec<u64> = chunks.iter().zip(ls).map(|(&c, &s)| c.min(s)).collect();
        let sh = opts.shards.as_ref().map(|shards| {
            shards
                .iter()
                .zip(ls)
                .zip(&c)
                .map(|((&sh, &s), &ci)| sh.min(s.div_ceil(ci) * ci))
                .collect::<Vec<u64>>()
        });
        level_chunks.push(c);
        level_shards.push(sh);
    }
    let names = meta.axes.iter().map(|a| a.name.clone()).collect();
    let channel_axis = meta
        .axes
        .iter()
        .position(|a| a.axis_type.as_deref() == Some("channel"));
    Ok(Plan {
        version: opts.version,
        dtype,
        steps,
        transforms,
        level_shapes,
        level_chunks,
        level_shards,
        names,
        channel_axis,
    })
}

/// The factors the `coordinateTransformations` of the levels follow.
#[derive(Debug)]
enum LevelTransforms {
    /// The same per-axis factor between consecutive levels.
    Uniform(Vec<u64>),
    /// Absolute factors per level ([`WriteOptions::level_factors`]).
    Absolute(Vec<pyramid::PlannedLevel>),
}

/// Per-channel running minimum and maximum of level 0, for omero windows.
pub(super) struct ChannelRange {
    axis: Option<usize>,
    ranges: Mutex<Vec<(f64, f64)>>,
}

impl ChannelRange {
    fn new(axis: Option<usize>, channels: usize) -> Self {
        ChannelRange {
            axis,
            ranges: Mutex::new(vec![(f64::INFINITY, f64::NEG_INFINITY); channels]),
        }
    }

    pub(super) fn update<T: Element>(&self, start: &[u64], block: &ArrayViewD<'_, T>) {
        let fold = |v: ArrayViewD<'_, T>| {
            // Integers in memory order: a native minimum and maximum the compiler vectorises.
            if !T::DTYPE.is_float()
                && let Some(s) = v.as_slice_memory_order()
            {
                return int_min_max(s).map_or((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi)| {
                    (lo.to_f64(), hi.to_f64())
                });
            }
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    let x = x.to_f64();
                    if x.is_nan() {
                        (lo, hi)
                    } else {
                        (lo.min(x), hi.max(x))
                    }
                })
        };
        let local: Vec<(usize, (f64, f64))> = match self.axis {
            Some(ax) => (0..block.shape()[ax])
                .map(|j| {
                    (
                        start[ax] as usize + j,
                        fold(block.index_axis(ndarray::Axis(ax), j)),
                    )
                })
                .collect(),
            None => vec![(0, fold(block.view()))],
        };
        if let Ok(mut ranges) = self.ranges.lock() {
            for (c, (lo, hi)) in local {
                if let Some(r) = ranges.get_mut(c) {
                    r.0 = r.0.min(lo);
                    r.1 = r.1.max(hi);
                }
            }
        }
    }

    fn take(self) -> Vec<(f64, f64)> {
        self.ranges.into_inner().unwrap_or_default()
    }
}

/// Minimum and maximum of integer samples, `None` when there are none.
fn int_min_max<T: Element>(s: &[T]) -> Option<(T, T)> {
    const LANES: usize = 32;
    let first = *s.first()?;
    let mut lo = [first; LANES];
    let mut hi = [first; LANES];
    let mut groups = s.chunks_exact(LANES);
    for g in &mut groups {
        for i in 0..LANES {
            let x = g[i];
            lo[i] = if x < lo[i] { x } else { lo[i] };
            hi[i] = if x > hi[i] { x } else { hi[i] };
        }
    }
    let mut l = first;
    let mut h = first;
    for &x in lo.iter().chain(&hi).chain(groups.remainder()) {
        if x < l {
            l = x;
        }
        if x > h {
            h = x;
        }
    }
    Some((l, h))
}

/// Indices of every chunk of a regular grid.
pub(super) fn grid_indices(shape: &[u64], chunk: &[u64]) -> Vec<Vec<u64>> {
    let counts: Vec<u64> = shape
        .iter()
        .zip(chunk)
        .map(|(&s, &c)| s.div_ceil(c))
        .collect();
    let total: u64 = counts.iter().product();
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut idx = vec![0u64; shape.len()];
    for _ in 0..total {
        out.push(idx.clone());
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < counts[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// The leading `shape` of `array`, copied only when it is larger.
fn crop_to<T: Element>(array: ArrayD<T>, shape: &[u64]) -> ArrayD<T> {
    if array
        .shape()
        .iter()
        .zip(shape)
        .all(|(&a, &s)| a as u64 == s)
    {
        return array;
    }
    array
        .slice_each_axis(|ax| Slice::from(0..shape[ax.axis.index()] as usize))
        .to_owned()
}

/// An edge block padded to the full chunk shape with zeros (the fill value).
fn pad_to<T: Element>(block: &ArrayViewD<'_, T>, full: &[usize]) -> ArrayD<T> {
    let mut out = ArrayD::<T>::default(IxDyn(full));
    out.slice_each_axis_mut(|ax| Slice::from(0..block.shape()[ax.axis.index()]))
        .assign(block);
    out
}

pub(super) type Producer<'a, T> = dyn Fn(&[u64], &[u64]) -> Result<ArrayD<T>> + Sync + 'a;

/// Chunks that [`super::fast_blosc`] encodes exactly as the array's codecs would (NGFF 0.5
/// and 0.6: `bytes(little)` then blosc zstd with no or byte shuffle; NGFF 0.4: a
/// little-endian `dtype` and the blosc zstd `compressor`, no filters, which is the same
/// frame), without `zarrs`' per-block zstd contexts.
#[derive(Debug, Clone, Copy)]
pub(super) struct FastBlosc {
    clevel: u8,
    byte_shuffle: bool,
    typesize: usize,
}

impl FastBlosc {
    /// `raw` (a chunk's little-endian bytes) encoded as the array's codecs would, or
    /// `None` where [`super::fast_blosc`] does not cover it (the caller uses `zarrs`).
    pub(super) fn compress(self, raw: &[u8]) -> Option<Vec<u8>> {
        super::fast_blosc::compress_zstd(raw, self.clevel, self.byte_shuffle, self.typesize)
    }

    fn of(version: NgffVersion, compression: Compression, dtype: DType) -> Option<Self> {
        match (version, compression) {
            (
                NgffVersion::V0_4 | NgffVersion::V0_5 | NgffVersion::V0_6,
                Compression::Blosc {
                    cname: BloscCompressor::Zstd,
                    clevel,
                    shuffle: shuffle @ (Shuffle::None | Shuffle::Byte),
                },
            ) if cfg!(target_endian = "little")
                // (Zarr v2 without shuffle: `zarrs` writes typesize 1 in the Blosc header
                // where numcodecs writes the item size; that stays with `zarrs`.)
                && (version != NgffVersion::V0_4 || shuffle == Shuffle::Byte) =>
            {
                Some(FastBlosc {
                    clevel,
                    byte_shuffle: shuffle == Shuffle::Byte,
                    typesize: dtype.size(),
                })
            }
            _ => None,
        }
    }
}

/// Where the storage chunks (shards, when sharded) of one level go, and how they are encoded.
pub(super) struct LevelSink<'a> {
    pub(super) array: &'a Array<StagingStore>,
    pub(super) inner: Option<&'a InnerCodecs>,
    pub(super) level_shape: &'a [u64],
    pub(super) storage_chunk: Vec<u64>,
    pub(super) fast: Option<FastBlosc>,
    pub(super) location: Location,
}

impl LevelSink<'_> {
    /// Start and clipped shape of the storage chunk `idx`.
    pub(super) fn region(&self, idx: &[u64]) -> (Vec<u64>, Vec<u64>) {
        let start: Vec<u64> = idx
            .iter()
            .zip(&self.storage_chunk)
            .map(|(&i, &c)| i * c)
            .collect();
        let shape: Vec<u64> = start
            .iter()
            .zip(&self.storage_chunk)
            .zip(self.level_shape)
            .map(|((&s, &c), &n)| c.min(n - s))
            .collect();
        (start, shape)
    }

    /// Encodes and stores the storage chunk `idx`, whose data (clipped at the array edge)
    /// is `block`; a chunk (or shard) holding only the fill value is not stored.
    pub(super) fn store<T: Element>(
        &self,
        idx: &[u64],
        block: &ArrayD<T>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let location = &self.location;
        let array = self.array;
        let options = CodecOptions::default().with_concurrent_target(1);
        let full: Vec<usize> = self.storage_chunk.iter().map(|&c| c as usize).collect();
        let bytes = block.len() as u64 * T::DTYPE.size() as u64;
        // Producers hand out standard-layout blocks; an edge block is padded (and anything
        // else copied) once here.
        let padded;
        let block = if block.shape() == full.as_slice() && block.is_standard_layout() {
            block
        } else {
            padded = if block.shape() == full.as_slice() {
                block.as_standard_layout().into_owned()
            } else {
                pad_to(&block.view(), &full)
            };
            &padded
        };
        let slice = block
            .as_slice()
            .ok_or_else(|| Error::format(location.clone(), "block is not contiguous"))?;
        if let Some(inner) = self.inner {
            let shard = encode_shard(
                &block.view(),
                inner,
                self.fast,
                array.data_type(),
                array.fill_value(),
                location,
            )?;
            if let Some(shard) = shard {
                array
                    .storage()
                    .set(&array.chunk_key(idx), shard.into())
                    .map_err(|e| {
                        Error::storage(location.clone(), format!("cannot write shard {idx:?}: {e}"))
                    })?;
            }
        } else {
            let raw = bytemuck::cast_slice::<T, u8>(slice);
            let data = ArrayBytes::new_flen(Cow::Borrowed(raw));
            let err = |e: zarrs::array::ArrayError| {
                Error::storage(location.clone(), format!("cannot write chunk {idx:?}: {e}"))
            };
            // As `store_chunk_opt` does: a chunk of fill value only is not stored.
            let encoded = self
                .fast
                .filter(|_| options.store_empty_chunks() || !data.is_fill_value(array.fill_value()))
                .and_then(|f| f.compress(raw));
            match encoded {
                // SAFETY: encoded exactly as the array's codec chain encodes it (see
                // `FastBlosc`; the bytes codec is the identity on little-endian hosts).
                #[allow(unsafe_code)]
                Some(encoded) => {
                    unsafe { array.store_encoded_chunk(idx, encoded.into()) }.map_err(err)?
                }
                None => array.store_chunk_opt(idx, data, &options).map_err(err)?,
            }
        }
        progress.advance(bytes);
        Ok(())
    }
}

/// Encodes and stores every storage chunk (shard, when sharded) of one level.
fn write_level<T: Element>(
    sink: &LevelSink<'_>,
    produce: &Producer<'_, T>,
    range: Option<&ChannelRange>,
    progress: &dyn Progress,
) -> Result<()> {
    // Outer parallelism over chunks; the codecs of one chunk run on one thread, so the
    // pools are never nested (see zarrs' concurrency notes).
    // zarrs arrays are not `Send + Sync` on wasm32 (`crate::single_thread`).
    let sink = crate::single_thread::OneThread::new(sink);
    grid_indices(sink.get().level_shape, &sink.get().storage_chunk)
        .par_iter()
        .try_for_each(|idx| {
            let sink = *sink.get();
            let (start, shape) = sink.region(idx);
            let block = produce(&start, &shape)?;
            check_block(&block, &shape, &sink.location)?;
            if let Some(range) = range {
                range.update(&start, &block.view());
            }
            sink.store(idx, &block, progress)
        })
}

/// A format error unless a source handed out a block of the shape asked for.
pub(super) fn check_block<T: Element>(
    block: &ArrayD<T>,
    shape: &[u64],
    location: &Location,
) -> Result<()> {
    if block
        .shape()
        .iter()
        .map(|&d| d as u64)
        .ne(shape.iter().copied())
    {
        return Err(Error::format(
            location.clone(),
            format!(
                "the source returned a block of shape {:?} for a region of shape {shape:?}",
                block.shape()
            ),
        ));
    }
    Ok(())
}

fn array_document(plan: &Plan, level: usize, compression: Compression) -> Value {
    let spec = ArraySpec {
        shape: &plan.level_shapes[level],
        chunks: &plan.level_chunks[level],
        shards: plan.level_shards[level].as_deref(),
        dtype: plan.dtype,
        compression,
        dimension_names: &plan.names,
    };
    match plan.version {
        NgffVersion::V0_4 => zarray_v2(&spec),
        _ => zarr_json_v3(&spec),
    }
}

fn create_array(
    store: &Arc<StagingStore>,
    node: &str,
    doc: &Value,
    loc: &Location,
) -> Result<Array<StagingStore>> {
    let metadata: ArrayMetadata = match doc.get("zarr_format").and_then(Value::as_u64) {
        Some(2) => ArrayMetadata::V2(
            serde_json::from_value(doc.clone())
                .map_err(|e| Error::format(loc.clone(), e.to_string()))?,
        ),
        _ => ArrayMetadata::V3(
            serde_json::from_value(doc.clone())
                .map_err(|e| Error::format(loc.clone(), e.to_string()))?,
        ),
    };
    let array = Array::new_with_metadata(Arc::clone(store), &format!("/{node}"), metadata)
        .map_err(|e| Error::usage(format!("cannot create the array {node}: {e}")))?;
    Ok(array)
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::format(Location::file(path), e.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(Location::file(parent), e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(Location::file(path), e))
}

/// `attrs` with `ome.version` set to the options' [`WriteOptions::version_tag`] (0.5+).
pub(crate) fn retag(mut attrs: OmeAttributes, opts: &WriteOptions) -> OmeAttributes {
    if attrs.layout == crate::metadata::AttributeLayout::Nested
        && let Some(tag) = &opts.version_tag
    {
        attrs.container_version = Some(tag.clone());
    }
    attrs
}

/// Writes group metadata: `.zgroup` + `.zattrs` (v2) or `zarr.json` (v3).
pub(crate) fn write_group(
    dir: &Path,
    version: NgffVersion,
    attributes: Map<String, Value>,
) -> Result<()> {
    match version {
        NgffVersion::V0_4 => {
            write_json(&dir.join(".zgroup"), &json!({"zarr_format": 2}))?;
            write_json(&dir.join(".zattrs"), &Value::Object(attributes))
        }
        _ => write_json(
            &dir.join("zarr.json"),
            &json!({"zarr_format": 3, "node_type": "group", "attributes": attributes}),
        ),
    }
}

/// The name of the one coordinate system a 0.6 image gets: the intrinsic system of its
/// levels (0.6rc0, "multiscales metadata"; the name of its strict example, and what
/// ngff-zarr writes).
pub const INTRINSIC_SYSTEM: &str = "intrinsic";

const DEFAULT_COLORS: [&str; 6] = ["00FF00", "FF00FF", "00FFFF", "FF0000", "0000FF", "FFFF00"];

fn multiscale_metadata(
    plan: &Plan,
    meta: &ImageMetadata,
    method: Downsample,
) -> Result<Multiscale> {
    let n = plan.level_shapes[0].len();
    let base_scale = meta.scale.clone().unwrap_or_else(|| vec![1.0; n]);
    let base_translation = meta.translation.clone().unwrap_or_else(|| vec![0.0; n]);
    let transforms = match &plan.transforms {
        LevelTransforms::Uniform(factors) => (0..plan.level_shapes.len())
            .map(|k| {
                Ok((
                    pyramid::level_scale(&base_scale, factors, k)?,
                    pyramid::level_translation(&base_translation, &base_scale, factors, k, method)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?,
        LevelTransforms::Absolute(levels) => {
            pyramid::absolute_level_transforms(&base_scale, &base_translation, levels, method)?
        }
    };
    if plan.version >= NgffVersion::V0_6 {
        let intrinsic = meta.intrinsic_system.as_deref().unwrap_or(INTRINSIC_SYSTEM);
        let datasets = transforms
            .into_iter()
            .enumerate()
            .map(|(k, (scale, translation))| {
                Dataset::new_v06(k.to_string(), intrinsic, scale, Some(translation))
            })
            .collect();
        let method_name = method.to_string();
        let mut systems = vec![CoordinateSystem::new(intrinsic, meta.axes.clone())];
        systems.extend(meta.coordinate_systems.iter().cloned());
        return Ok(Multiscale {
            name: meta.name.clone(),
            coordinate_systems: Some(systems),
            coordinate_transformations: (!meta.transformations.is_empty())
                .then(|| meta.transformations.clone()),
            datasets,
            r#type: Some(method_name.clone()),
            metadata: Some(
                json!({"method": format!("ome-core {method_name} downsampling"), "version": env!("CARGO_PKG_VERSION")}),
            ),
            ..Multiscale::default()
        });
    }
    let datasets = transforms
        .into_iter()
        .enumerate()
        .map(|(k, (scale, translation))| {
            let mut transforms = vec![CoordinateTransformation::scale(scale)];
            if translation.iter().any(|&t| t != 0.0) {
                transforms.push(CoordinateTransformation::translation(translation));
            }
            Ok(Dataset {
                path: k.to_string(),
                coordinate_transformations: Some(transforms),
                ..Dataset::default()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let method_name = method.to_string();
    Ok(Multiscale {
        name: meta.name.clone(),
        axes: Some(meta.axes.clone()),
        datasets,
        r#type: Some(method_name.clone()),
        metadata: Some(
            json!({"method": format!("ome-core {method_name} downsampling"), "version": env!("CARGO_PKG_VERSION")}),
        ),
        ..Multiscale::default()
    })
}

fn omero_metadata(meta: &ImageMetadata, ranges: &[(f64, f64)]) -> Omero {
    let channels = ranges
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
            let color = meta.channel_colors.get(i).cloned().unwrap_or_else(|| {
                if ranges.len() == 1 {
                    "FFFFFF".to_string()
                } else {
                    DEFAULT_COLORS[i % DEFAULT_COLORS.len()].to_string()
                }
            });
            OmeroChannel {
                label: Some(
                    meta.channel_names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("Channel {i}")),
                ),
                color: Some(color),
                window: Some(Window {
                    min: Some(lo),
                    max: Some(hi),
                    start: Some(lo),
                    end: Some(hi),
                    ..Window::default()
                }),
                active: Some(true),
                coefficient: Some(1.0),
                family: Some("linear".to_string()),
                inverted: Some(false),
                ..OmeroChannel::default()
            }
        })
        .collect();
    Omero {
        channels,
        ..Omero::default()
    }
}

/// Where level 0 comes from.
pub(crate) enum Level0<'a, T: Element> {
    Memory(ArrayViewD<'a, T>),
    Source(&'a dyn RegionSource),
}

/// Writes the arrays of one pyramid under `dir` (a staging directory) and returns the
/// multiscale metadata and the per-channel ranges of level 0.
fn write_pyramid<T: Element>(
    dir: &Path,
    level0: Level0<'_, T>,
    plan: &Plan,
    opts: &WriteOptions,
    progress: &dyn Progress,
) -> Result<(Vec<(f64, f64)>, u64)> {
    let store = Arc::new(StagingStore::new(dir));
    let loc = Location::file(dir);
    let docs: Vec<Value> = (0..plan.level_shapes.len())
        .map(|k| array_document(plan, k, opts.compression))
        .collect();
    let arrays = docs
        .iter()
        .enumerate()
        .map(|(k, doc)| {
            let a = create_array(&store, &k.to_string(), doc, &loc)?;
            a.store_metadata()
                .map_err(|e| Error::storage(loc.clone(), e.to_string()))?;
            Ok(a)
        })
        .collect::<Result<Vec<_>>>()?;
    let inners = docs
        .iter()
        .enumerate()
        .map(|(k, doc)| {
            plan.level_shards[k]
                .as_ref()
                .map(|_| InnerCodecs::from_document(doc, &loc))
                .transpose()
        })
        .collect::<Result<Vec<_>>>()?;
    let total: u64 = plan
        .level_shapes
        .iter()
        .map(|s| s.iter().product::<u64>())
        .sum::<u64>()
        * plan.dtype.size() as u64;
    progress.set_total(total);
    let channels = plan
        .channel_axis
        .map_or(1, |c| plan.level_shapes[0][c] as usize);
    let range = ChannelRange::new(plan.channel_axis, channels);
    let storage_chunk = |k: usize| {
        plan.level_shards[k]
            .clone()
            .unwrap_or_else(|| plan.level_chunks[k].clone())
    };
    let level_loc = |k: usize| Location::file(dir.join(k.to_string()));

    let fast = FastBlosc::of(plan.version, opts.compression, plan.dtype);
    let sinks: Vec<LevelSink<'_>> = (0..arrays.len())
        .map(|k| LevelSink {
            array: &arrays[k],
            inner: inners[k].as_ref(),
            level_shape: &plan.level_shapes[k],
            storage_chunk: storage_chunk(k),
            fast,
            location: level_loc(k),
        })
        .collect();
    // Level `k` written from blocks that `produce` hands out.
    // Level `k` is on disk when this returns: the next level may read it back.
    let write_k = |k: usize, produce: &Producer<'_, T>, range: Option<&ChannelRange>| {
        write_level(&sinks[k], produce, range, progress)?;
        store.flush()
    };
    match level0 {
        Level0::Memory(view) => {
            let produce = |start: &[u64], shape: &[u64]| Ok(copy_region(&view, start, shape));
            write_k(0, &produce, Some(&range))?;
            // Each level is computed from the one above (or from level 0, see
            // `Plan::steps`), in memory: at most a third of the input extra, and no
            // decoding of what was just encoded.
            let mut previous: Option<ArrayD<T>> = None;
            for k in 1..arrays.len() {
                let (source, step) = &plan.steps[k - 1];
                let factors: Vec<usize> = step.iter().map(|&f| f as usize).collect();
                let next = match &previous {
                    Some(p) if *source == k - 1 && k > 1 => {
                        pyramid::downsample(p.view(), &factors, opts.downsample)?
                    }
                    _ => pyramid::downsample(view.view(), &factors, opts.downsample)?,
                };
                // Absolute level factors floor the sides: the kernel's last partial block
                // (a side of ceil(n / f)) is dropped.
                let next = crop_to(next, &plan.level_shapes[k]);
                let next_view = next.view();
                let produce =
                    |start: &[u64], shape: &[u64]| Ok(copy_region(&next_view, start, shape));
                write_k(k, &produce, None)?;
                previous = Some(next);
            }
        }
        Level0::Source(source) => {
            let produce = |start: &[u64], shape: &[u64]| {
                let block = source.read_region(start, shape)?;
                T::from_dyn_array_owned(block).map_err(|b| {
                    Error::format(
                        loc.clone(),
                        format!(
                            "the source returned {} data, expected {}",
                            b.dtype(),
                            T::DTYPE
                        ),
                    )
                })
            };
            // One pass: every level-0 chunk is downsampled as it streams through, and the
            // lower levels are carried in partial chunks until complete (see `cascade`).
            if let Some(cascade) = Cascade::new(&sinks, &plan.steps, opts.downsample) {
                cascade.run(&produce, &range, progress)?;
                store.flush()?;
                return Ok((range.take(), store.bytes_written()));
            }
            // Otherwise (a gaussian halo, or chunks that are not a multiple of the factors)
            // each next level is read back from the level above.
            write_k(0, &produce, Some(&range))?;
            // Each next level reads back regions of the level above from the store: memory
            // stays bounded by the regions in flight, whatever the image size.
            let read_store = Store::open(dir, opts.limits)?;
            let single = CodecOptions::default().with_concurrent_target(1);
            for k in 1..arrays.len() {
                let (source, step) = &plan.steps[k - 1];
                let factors: Vec<usize> = step.iter().map(|&f| f as usize).collect();
                let halo = pyramid::required_halo(opts.downsample, &factors);
                let prev_node = source.to_string();
                let meta = read_store
                    .node(&prev_node)?
                    .filter(|m| m.node_type == NodeType::Array)
                    .ok_or_else(|| {
                        Error::storage(level_loc(*source), "level just written is missing")
                    })?;
                let prev = ZarrArray::open(&read_store, &prev_node, &meta)?;
                let prev_shape = plan.level_shapes[*source].clone();
                let produce = |start: &[u64], shape: &[u64]| {
                    let mut in_start = Vec::with_capacity(start.len());
                    let mut in_shape = Vec::with_capacity(start.len());
                    let mut before = Vec::with_capacity(start.len());
                    let mut after = Vec::with_capacity(start.len());
                    for d in 0..start.len() {
                        let f = step[d];
                        let lo = start[d] * f;
                        let hi = ((start[d] + shape[d]) * f).min(prev_shape[d]);
                        let h = halo[d] as u64;
                        let lo_h = lo.saturating_sub(h);
                        let hi_h = (hi + h).min(prev_shape[d]);
                        before.push((lo - lo_h) as usize);
                        after.push((hi_h - hi) as usize);
                        in_start.push(lo_h);
                        in_shape.push(hi_h - lo_h);
                    }
                    let input: ArrayD<T> = prev.read_region_typed(&in_start, &in_shape, &single)?;
                    pyramid::downsample_region(
                        input.view(),
                        &before,
                        &after,
                        &factors,
                        opts.downsample,
                    )
                };
                write_k(k, &produce, None)?;
            }
        }
    }
    store.flush()?;
    Ok((range.take(), store.bytes_written()))
}

fn run_in_pool<R: Send>(jobs: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    match jobs {
        None => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| Error::usage(format!("cannot start {n} worker threads: {e}")))?;
            Ok(pool.install(f))
        }
    }
}

/// Writes a whole image (arrays, then group metadata) into the directory `dir`, which is
/// already inside a staging area. Returns the plan's level shapes and the bytes written.
pub(crate) fn write_image_into<T: Element>(
    dir: &Path,
    level0: Level0<'_, T>,
    shape: &[u64],
    meta: &ImageMetadata,
    opts: &WriteOptions,
    image_label: Option<ImageLabel>,
    progress: &dyn Progress,
) -> Result<WriteSummary> {
    let plan = make_plan(shape, T::DTYPE, meta, opts)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(Location::file(dir), e))?;
    let bytes = run_in_pool(opts.jobs, || -> Result<u64> {
        let (ranges, bytes) = write_pyramid(dir, level0, &plan, opts, progress)?;
        let multiscale = multiscale_metadata(&plan, meta, opts.downsample)?;
        let omero = if image_label.is_none() {
            Some(omero_metadata(meta, &ranges))
        } else {
            None
        };
        let attrs = retag(
            OmeAttributes::new_image(plan.version, multiscale, omero, image_label.clone()),
            opts,
        );
        // Group metadata last: until it exists, nothing claims to be an image.
        write_group(dir, plan.version, attrs.to_attributes())?;
        Ok(bytes)
    })??;
    Ok(WriteSummary {
        level_shapes: plan.level_shapes,
        bytes_written: bytes,
    })
}

/// Writes an in-memory array as a multiscale OME-Zarr image at `path`.
///
/// # Errors
/// Usage errors for inconsistent options (axes, chunks, shards, version), storage errors.
/// On error nothing is left at `path`.
pub fn write_ome_zarr<T: Element>(
    path: impl AsRef<Path>,
    data: ArrayViewD<'_, T>,
    meta: &ImageMetadata,
    opts: &WriteOptions,
    progress: Option<&dyn Progress>,
) -> Result<WriteSummary> {
    let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
    staged(path.as_ref(), opts.overwrite, |dir| {
        write_image_into(
            dir,
            Level0::Memory(data),
            &shape,
            meta,
            opts,
            None,
            progress.unwrap_or(&NoProgress),
        )
    })
}

/// Writes an image produced region by region (larger than memory) at `path`. Memory use
/// is bounded by the chunks in flight, not by the image size.
///
/// # Errors
/// As [`write_ome_zarr`], plus the source's own errors.
pub fn write_ome_zarr_from_source(
    path: impl AsRef<Path>,
    source: &dyn RegionSource,
    meta: &ImageMetadata,
    opts: &WriteOptions,
    progress: Option<&dyn Progress>,
) -> Result<WriteSummary> {
    let shape = source.shape().to_vec();
    staged(
        path.as_ref(),
        opts.overwrite,
        |dir| with_dtype!(source.dtype(), T => write_image_into::<T>(dir, Level0::Source(source), &shape, meta, opts, None, progress.unwrap_or(&NoProgress))),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::metadata::schema_testing::{assert_valid, validator};
    use crate::zarr::{LabelOptions, PlateWriter, write_labels};

    fn group_attributes(dir: &Path, version: NgffVersion) -> Value {
        match version {
            NgffVersion::V0_4 => {
                serde_json::from_slice(&std::fs::read(dir.join(".zattrs")).unwrap()).unwrap()
            }
            _ => {
                let doc: Value =
                    serde_json::from_slice(&std::fs::read(dir.join("zarr.json")).unwrap()).unwrap();
                doc["attributes"].clone()
            }
        }
    }

    /// What this crate writes passes the official JSON schemas, strict variants included
    /// (NGFF 0.4 / 0.5 / 0.6rc0 `schemas/`).
    #[test]
    fn written_metadata_passes_the_official_schemas() {
        for (version, v) in [
            (NgffVersion::V0_4, "0.4"),
            (NgffVersion::V0_5, "0.5"),
            (NgffVersion::V0_6, "0.6rc0"),
        ] {
            let (Some(image), Some(strict), Some(label), Some(plate), Some(well)) = (
                validator(v, "image.schema"),
                validator(v, "strict_image.schema"),
                validator(v, "label.schema"),
                validator(v, "plate.schema"),
                validator(v, "well.schema"),
            ) else {
                return;
            };
            let (Some(strict_plate), Some(strict_well)) = (
                validator(v, "strict_plate.schema"),
                validator(v, "strict_well.schema"),
            ) else {
                return;
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("img.ome.zarr");
            let data =
                ArrayD::<u8>::from_shape_fn(IxDyn(&[2, 3, 40, 40]), |ix| (ix[2] + ix[3]) as u8);
            let mut meta = ImageMetadata::from_axis_letters("czyx").unwrap();
            meta.name = Some("schema check".into());
            meta.scale = Some(vec![1.0, 2.0, 0.5, 0.5]);
            meta.axes[2].unit = Some("micrometer".into());
            let opts = WriteOptions {
                version,
                levels: LevelCount::Exactly(3),
                ..WriteOptions::default()
            };
            write_ome_zarr(&path, data.view(), &meta, &opts, None).unwrap();
            let attrs = group_attributes(&path, version);
            assert_valid(&image, &attrs, "image");
            assert_valid(&strict, &attrs, "strict image");

            let mut lo = LabelOptions::default();
            lo.write.levels = LevelCount::Exactly(2);
            write_labels(&path, "cells", data.view(), &lo).unwrap();
            assert_valid(
                &label,
                &group_attributes(&path.join("labels/cells"), version),
                "label",
            );

            let plate_path = dir.path().join("plate.ome.zarr");
            let mut pw =
                PlateWriter::create(&plate_path, Some("p"), &["A", "B"], &["1"], &opts).unwrap();
            pw.write_field("B", "1", data.view(), &meta).unwrap();
            pw.finish().unwrap();
            assert_valid(&plate, &group_attributes(&plate_path, version), "plate");
            // The strict plate schema asks for what SHOULD be there, such as an acquisition
            // name.
            let plate_attrs = group_attributes(&plate_path, version);
            assert_valid(&strict_plate, &plate_attrs, "strict plate");
            assert_valid(
                &well,
                &group_attributes(&plate_path.join("B/1"), version),
                "well",
            );
            assert_valid(
                &strict_well,
                &group_attributes(&plate_path.join("B/1"), version),
                "strict well",
            );
            assert_valid(
                &image,
                &group_attributes(&plate_path.join("B/1/0"), version),
                "field",
            );
        }
    }

    /// Chunks encoded by [`super::super::fast_blosc`] (the writers' default codec) are
    /// byte for byte what `zarrs` stores for the same data and array metadata, in Zarr v2
    /// (NGFF 0.4) and v3 (NGFF 0.5), for one-, two- and four-byte types and both shuffles
    /// (v2 without shuffle is left to `zarrs`, see [`FastBlosc`]).
    #[test]
    fn fast_blosc_chunks_are_the_chunks_zarrs_writes() {
        use zarrs::array::Array;
        use zarrs::filesystem::FilesystemStore;
        use zarrs::storage::ReadableStorageTraits;
        use zarrs::storage::store::MemoryStore;

        fn check<T: Element>(data: ArrayD<T>) {
            for version in [NgffVersion::V0_4, NgffVersion::V0_5] {
                for shuffle in [Shuffle::Byte, Shuffle::None] {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("img.ome.zarr");
                    let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
                    let opts = WriteOptions {
                        version,
                        levels: LevelCount::Exactly(2),
                        chunks: Some(vec![1, 2, 64, 64]),
                        compression: Compression::Blosc {
                            cname: BloscCompressor::Zstd,
                            clevel: 1,
                            shuffle,
                        },
                        ..WriteOptions::default()
                    };
                    write_ome_zarr(&path, data.view(), &meta, &opts, None).unwrap();
                    let fs = Arc::new(FilesystemStore::new(&path).unwrap());
                    let written = Array::open(fs.clone(), "/0").unwrap();
                    let mem = Arc::new(MemoryStore::new());
                    let again =
                        Array::new_with_metadata(mem.clone(), "/0", written.metadata().clone())
                            .unwrap();
                    let mut compared = 0;
                    let (shape, chunk) = (written.shape().to_vec(), [1, 2, 64, 64]);
                    for idx in grid_indices(&shape, &chunk) {
                        let key = written.chunk_key(&idx);
                        let Some(ours) = fs.get(&key).unwrap() else {
                            continue;
                        };
                        let values: ArrayBytes<'static> = written.retrieve_chunk(&idx).unwrap();
                        again.store_chunk(&idx, values).unwrap();
                        let theirs = mem.get(&key).unwrap().unwrap();
                        assert!(ours == theirs, "{version:?} {shuffle:?} chunk {idx:?}");
                        compared += 1;
                    }
                    assert!(compared >= 8, "{version:?}: {compared} chunks compared");
                    if version == NgffVersion::V0_4 {
                        continue;
                    }
                    // Shards: inner chunks encoded through `zarrs`' chain or ours, same bytes.
                    let sharded = WriteOptions {
                        chunks: Some(vec![1, 1, 32, 32]),
                        shards: Some(vec![1, 2, 64, 64]),
                        overwrite: true,
                        ..opts.clone()
                    };
                    write_ome_zarr(&path, data.view(), &meta, &sharded, None).unwrap();
                    let doc: Value =
                        serde_json::from_slice(&std::fs::read(path.join("0/zarr.json")).unwrap())
                            .unwrap();
                    let loc = Location::file(path.join("0"));
                    let inner = InnerCodecs::from_document(&doc, &loc).unwrap();
                    let level = Array::open(fs.clone(), "/0").unwrap();
                    let fast = FastBlosc::of(version, sharded.compression, T::DTYPE);
                    assert!(fast.is_some());
                    let block =
                        data.slice_each_axis(|ax| Slice::from(0..[1, 2, 64, 64][ax.axis.index()]));
                    let encode = |f| {
                        encode_shard(
                            &block,
                            &inner,
                            f,
                            level.data_type(),
                            level.fill_value(),
                            &loc,
                        )
                        .unwrap()
                        .unwrap()
                    };
                    assert!(
                        encode(fast) == encode(None),
                        "{version:?} {shuffle:?} shard"
                    );
                }
            }
        }
        let shape = IxDyn(&[2, 3, 130, 100]);
        check(ArrayD::<u8>::from_shape_fn(shape.clone(), |ix| {
            (ix[2] * 7 + ix[3] * 3 + ix[0]) as u8
        }));
        check(ArrayD::<u16>::from_shape_fn(shape.clone(), |ix| {
            (ix[1] * 1000 + ix[2] * ix[3]) as u16
        }));
        check(ArrayD::<f32>::from_shape_fn(shape, |ix| {
            (ix[2] as f32).sin() * 100.0 + ix[3] as f32
        }));
    }

    /// A 0.6 pyramid: one `intrinsic` system; level 0 a scale, the others a sequence of a
    /// scale and the half-pixel translation, each from its array (`input.path`).
    #[test]
    fn v06_pyramid_has_one_system_and_per_level_transformations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.ome.zarr");
        let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[8, 8]), |ix| (ix[0] * 8 + ix[1]) as u16);
        let mut meta = ImageMetadata::from_axis_letters("yx").unwrap();
        meta.scale = Some(vec![0.5, 0.5]);
        let opts = WriteOptions {
            version: NgffVersion::V0_6,
            levels: LevelCount::Exactly(2),
            ..WriteOptions::default()
        };
        write_ome_zarr(&path, data.view(), &meta, &opts, None).unwrap();
        let attrs = group_attributes(&path, NgffVersion::V0_6);
        let ms = &attrs["ome"]["multiscales"][0];
        assert_eq!(attrs["ome"]["version"], "0.6rc0");
        assert!(ms.get("axes").is_none());
        assert_eq!(ms["coordinateSystems"][0]["name"], INTRINSIC_SYSTEM);
        assert_eq!(
            ms["datasets"][0]["coordinateTransformations"][0],
            json!({"type": "scale", "scale": [0.5, 0.5], "input": {"path": "0"}, "output": {"name": "intrinsic"}})
        );
        assert_eq!(
            ms["datasets"][1]["coordinateTransformations"][0],
            json!({"type": "sequence", "input": {"path": "1"}, "output": {"name": "intrinsic"},
                "transformations": [{"type": "scale", "scale": [1.0, 1.0]},
                    {"type": "translation", "translation": [0.25, 0.25]}]})
        );
        let image = crate::Image::open(&path).unwrap();
        assert_eq!(image.version(), Some(NgffVersion::V0_6));
        assert_eq!(image.levels()[1].scale, Some(vec![1.0, 1.0]));
        assert_eq!(image.levels()[1].translation, Some(vec![0.25, 0.25]));
    }
}
