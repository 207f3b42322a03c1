//! Writing one OME-Zarr image region by region from many processes, without locks.
//!
//! [`RegionWriter::create`] checks the options, plans the pyramid and makes a staging
//! area with a deterministic name next to the target (`.<name>.regions`) that holds a
//! small JSON plan and one value per level-0 storage chunk (shard, when sharded). Any
//! process can [`RegionWriter::open`] it and [`RegionWriter::write_region`] chunk-aligned
//! regions: disjoint chunks are disjoint values, each written whole, so a chunk exists
//! only when it is complete and doubles as the marker that the chunk was written (an
//! all-zero chunk is an empty value). [`RegionWriter::finish`] checks that every chunk is
//! in, then writes the pyramid through the ordinary staged writer, reading level 0 back
//! region by region (memory stays bounded), with group metadata last, and removes the
//! staging area.
//!
//! The target may be a local path or an `s3://bucket/prefix` address. For a bucket the
//! staging area is a prefix beside the output (`s3://bucket/.<name>.regions/`), so the
//! workers of a cluster write their regions straight into the bucket and need no shared
//! filesystem; creating it is a conditional put of the plan (two writers cannot both
//! start), and `finish` uploads the pyramid with the root metadata last (see
//! `storage::upload`). An HTTP address is refused (read only).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn, Slice};
use serde_json::{Value, json};

use super::write::{ImageMetadata, WriteOptions, WriteSummary, make_plan};
use super::write_ome_zarr_from_source;
use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::metadata::{Axis, NgffVersion};
use crate::options::{Compression, Limits};
use crate::pyramid::{Downsample, LevelCount};
use crate::source::RegionSource;
use crate::storage::{Address, Scratch};
use crate::{with_dtype, with_dyn_array};

const PLAN_FILE: &str = "plan.json";
const CHUNK_DIR: &str = "chunks";
/// Largest plan document read back (it holds only shapes, names and options).
const MAX_PLAN_BYTES: u64 = 1 << 20;

/// A pyramid being written region by region; see the module documentation.
#[derive(Debug, Clone)]
pub struct RegionWriter {
    target: PathBuf,
    dir: PathBuf,
    scratch: Scratch,
    shape: Vec<u64>,
    dtype: DType,
    /// Level-0 storage chunk: the shard shape when sharded, else the chunk shape.
    chunk: Vec<u64>,
    meta: ImageMetadata,
    opts: WriteOptions,
}

/// The staging directory of `target`: `.<name>.regions` next to it.
fn regions_dir(target: &Path) -> Result<PathBuf> {
    let (parent, name) = crate::output::parent_and_name(target)?;
    Ok(parent.join(format!(".{name}.regions")))
}

fn plan_document(shape: &[u64], dtype: DType, meta: &ImageMetadata, opts: &WriteOptions) -> Value {
    let axes: Vec<Value> = meta
        .axes
        .iter()
        .map(|a| json!({"name": a.name, "type": a.axis_type, "unit": a.unit}))
        .collect();
    let levels = match opts.levels {
        LevelCount::Exactly(n) => json!({"exactly": n}),
        LevelCount::MinSize(n) => json!({"min_size": n}),
        // Later variants: fall back to the default policy.
        #[allow(unreachable_patterns)]
        _ => json!({"min_size": 256}),
    };
    json!({
        "format": "ome-core region writer plan",
        "plan_version": 1,
        "shape": shape,
        "dtype": dtype.name(),
        "axes": axes,
        "scale": meta.scale,
        "translation": meta.translation,
        "name": meta.name,
        "channel_names": meta.channel_names,
        "channel_colors": meta.channel_colors,
        "version": opts.version.as_str(),
        "chunks": opts.chunks,
        "shards": opts.shards,
        "compression": opts.compression.to_string(),
        "downsample": opts.downsample.as_str(),
        "factors": opts.factors,
        "level_factors": opts.level_factors,
        "levels": levels,
        "limits": limits_document(&opts.limits),
        "overwrite": opts.overwrite,
        "jobs": opts.jobs,
    })
}

/// The limits of the writer, so that a writer reopened in another process reads its
/// levels back under the same limits.
fn limits_document(l: &Limits) -> Value {
    json!({
        "max_metadata_bytes": l.max_metadata_bytes,
        "max_chunk_bytes": l.max_chunk_bytes,
        "max_read_bytes": l.max_read_bytes,
        "max_dimensions": l.max_dimensions,
        "max_list_entries": l.max_list_entries,
        "max_json_depth": l.max_json_depth,
        "max_array_elements": l.max_array_elements,
        "max_tiff_ifds": l.max_tiff_ifds,
        "max_xml_bytes": l.max_xml_bytes,
        "max_xml_depth": l.max_xml_depth,
    })
}

/// The limits of a plan; a field that is absent (a plan written before limits were kept)
/// keeps its default.
fn parse_limits(doc: &Value) -> Limits {
    let mut l = Limits::default();
    let u = |k: &str| doc[k].as_u64();
    let us = |k: &str| doc[k].as_u64().and_then(|v| usize::try_from(v).ok());
    if let Some(v) = u("max_metadata_bytes") {
        l.max_metadata_bytes = v;
    }
    if let Some(v) = u("max_chunk_bytes") {
        l.max_chunk_bytes = v;
    }
    if let Some(v) = u("max_read_bytes") {
        l.max_read_bytes = v;
    }
    if let Some(v) = us("max_dimensions") {
        l.max_dimensions = v;
    }
    if let Some(v) = us("max_list_entries") {
        l.max_list_entries = v;
    }
    if let Some(v) = us("max_json_depth") {
        l.max_json_depth = v;
    }
    if let Some(v) = u("max_array_elements") {
        l.max_array_elements = v;
    }
    if let Some(v) = us("max_tiff_ifds") {
        l.max_tiff_ifds = v;
    }
    if let Some(v) = us("max_xml_bytes") {
        l.max_xml_bytes = v;
    }
    if let Some(v) = us("max_xml_depth") {
        l.max_xml_depth = v;
    }
    l
}

type Parsed = (Vec<u64>, DType, ImageMetadata, WriteOptions);

fn parse_plan(doc: &Value, loc: &Location) -> Result<Parsed> {
    let bad = |what: &str| {
        Error::format(
            loc.clone(),
            format!("expected {what} in the region writer plan, found none or a wrong type"),
        )
    };
    let u64s =
        |v: &Value| -> Option<Vec<u64>> { v.as_array()?.iter().map(Value::as_u64).collect() };
    let f64s =
        |v: &Value| -> Option<Vec<f64>> { v.as_array()?.iter().map(Value::as_f64).collect() };
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let opt_str = |v: &Value| v.as_str().map(str::to_string);
    let shape = u64s(&doc["shape"]).ok_or_else(|| bad("a shape"))?;
    let dtype = doc["dtype"]
        .as_str()
        .and_then(DType::from_name)
        .ok_or_else(|| bad("a dtype"))?;
    let axes = doc["axes"]
        .as_array()
        .ok_or_else(|| bad("axes"))?
        .iter()
        .map(|a| {
            Ok(Axis {
                name: opt_str(&a["name"]).ok_or_else(|| bad("an axis name"))?,
                axis_type: opt_str(&a["type"]),
                unit: opt_str(&a["unit"]),
                ..Axis::default()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = ImageMetadata {
        axes,
        scale: f64s(&doc["scale"]),
        translation: f64s(&doc["translation"]),
        name: opt_str(&doc["name"]),
        channel_names: strings(&doc["channel_names"]).unwrap_or_default(),
        channel_colors: strings(&doc["channel_colors"]).unwrap_or_default(),
        ..ImageMetadata::default()
    };
    let version = doc["version"]
        .as_str()
        .and_then(NgffVersion::parse)
        .ok_or_else(|| bad("a version"))?;
    let compression = doc["compression"]
        .as_str()
        .ok_or_else(|| bad("a compression"))?
        .parse::<Compression>()?;
    let downsample = doc["downsample"]
        .as_str()
        .ok_or_else(|| bad("a downsampling method"))?
        .parse::<Downsample>()?;
    let levels = if let Some(n) = doc["levels"]["exactly"].as_u64() {
        LevelCount::Exactly(usize::try_from(n).map_err(|_| bad("a level count"))?)
    } else {
        LevelCount::MinSize(
            doc["levels"]["min_size"]
                .as_u64()
                .ok_or_else(|| bad("a level policy"))?,
        )
    };
    let opts = WriteOptions {
        version,
        chunks: u64s(&doc["chunks"]),
        shards: u64s(&doc["shards"]),
        compression,
        downsample,
        factors: u64s(&doc["factors"]),
        level_factors: match &doc["level_factors"] {
            Value::Null => None,
            v => Some(
                v.as_array()
                    .and_then(|levels| levels.iter().map(u64s).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| bad("level factors as lists of integers"))?,
            ),
        },
        levels,
        limits: parse_limits(&doc["limits"]),
        overwrite: doc["overwrite"].as_bool().unwrap_or(false),
        jobs: doc["jobs"].as_u64().and_then(|j| usize::try_from(j).ok()),
        ..WriteOptions::default()
    };
    Ok((shape, dtype, meta, opts))
}

fn storage_chunk(
    shape: &[u64],
    dtype: DType,
    meta: &ImageMetadata,
    opts: &WriteOptions,
) -> Result<Vec<u64>> {
    let plan = make_plan(shape, dtype, meta, opts)?;
    Ok(plan.level_shards[0]
        .clone()
        .unwrap_or_else(|| plan.level_chunks[0].clone()))
}

impl RegionWriter {
    /// Plans the image and creates the staging directory `.<name>.regions` next to `path`.
    ///
    /// # Errors
    /// Usage errors for inconsistent options (as [`super::write_ome_zarr`]), when `path`
    /// exists and `opts.overwrite` is off, or when a staging directory for `path` exists
    /// already (open it, or remove it to start over); storage errors.
    pub fn create(
        path: impl AsRef<Path>,
        shape: &[u64],
        dtype: DType,
        meta: &ImageMetadata,
        opts: &WriteOptions,
    ) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let chunk = storage_chunk(shape, dtype, meta, opts)?;
        let address = Address::of_path(&target);
        if address.is_remote() {
            crate::storage::check_remote_target(&address, opts.overwrite, true)?;
        } else if !opts.overwrite && std::fs::symlink_metadata(&target).is_ok() {
            return Err(Error::new(
                crate::ErrorKind::Usage,
                Location::file(&target),
                "the output exists; pass overwrite to replace it",
            ));
        }
        let dir = regions_dir(&target)?;
        let scratch = Scratch::at(&dir)?;
        let doc = plan_document(shape, dtype, meta, opts);
        let text = serde_json::to_vec_pretty(&doc)
            .map_err(|e| Error::storage(Location::file(&dir), e.to_string()))?;
        if !scratch.create(PLAN_FILE, &text, &[CHUNK_DIR])? {
            return Err(Error::new(
                crate::ErrorKind::Usage,
                Location::file(&dir),
                "a region writer for this output exists already; open it or remove it",
            ));
        }
        Ok(RegionWriter {
            target,
            dir,
            scratch,
            shape: shape.to_vec(),
            dtype,
            chunk,
            meta: meta.clone(),
            opts: opts.clone(),
        })
    }

    /// Reattaches to a writer that [`RegionWriter::create`] started for `path`, from any
    /// process.
    ///
    /// # Errors
    /// A usage error when no writer was created for `path`; a format error for a plan that
    /// does not parse.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let dir = regions_dir(&target)?;
        let scratch = Scratch::at(&dir)?;
        let loc = scratch.location(PLAN_FILE);
        let bytes = scratch.get(PLAN_FILE, MAX_PLAN_BYTES)?.ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Usage,
                Location::file(&target),
                "expected a region writer for this output (create one first), found none",
            )
        })?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::format(loc.clone(), format!("the plan is not JSON: {e}")))?;
        let (shape, dtype, meta, opts) = parse_plan(&doc, &loc)?;
        let chunk = storage_chunk(&shape, dtype, &meta, &opts)?;
        Ok(RegionWriter {
            target,
            dir,
            scratch,
            shape,
            dtype,
            chunk,
            meta,
            opts,
        })
    }

    /// Shape of level 0.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The grid regions must align to: the level-0 shard shape when sharded, else the
    /// chunk shape.
    pub fn region_grid(&self) -> &[u64] {
        &self.chunk
    }

    /// The staging area: a directory beside a local output, a prefix (as an `s3://`
    /// address) beside a remote one.
    pub fn staging_dir(&self) -> &Path {
        &self.dir
    }

    fn chunk_key(idx: &[u64]) -> String {
        let parts: Vec<String> = idx.iter().map(u64::to_string).collect();
        parts.join(".")
    }

    fn chunk_path(idx: &[u64]) -> String {
        format!("{CHUNK_DIR}/{}", Self::chunk_key(idx))
    }

    /// Writes a region of level 0 starting at `start`. The region must be aligned to
    /// [`RegionWriter::region_grid`] on every axis: it starts on a grid line and ends on
    /// one or at the end of the array. Writing the same region twice replaces it.
    ///
    /// # Errors
    /// Usage errors for a region that is unaligned, outside the array or of another
    /// element type; storage errors.
    pub fn write_region(&self, start: &[u64], data: &DynArray) -> Result<()> {
        with_dyn_array!(data, a, T => self.write_region_typed::<T>(start, a))
    }

    /// As [`RegionWriter::write_region`], for a typed array.
    ///
    /// # Errors
    /// As [`RegionWriter::write_region`].
    pub fn write_region_typed<T: Element>(&self, start: &[u64], data: &ArrayD<T>) -> Result<()> {
        if T::DTYPE != self.dtype {
            return Err(Error::usage(format!(
                "expected a region of {} data, found {}",
                self.dtype,
                T::DTYPE
            )));
        }
        let n = self.shape.len();
        let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        if start.len() != n || shape.len() != n {
            return Err(Error::usage(format!(
                "expected a {n}-dimensional region, found start {start:?} and shape {shape:?}"
            )));
        }
        for d in 0..n {
            let (s, e, c, full) = (start[d], start[d] + shape[d], self.chunk[d], self.shape[d]);
            if e > full || shape[d] == 0 {
                return Err(Error::usage(format!(
                    "expected a non-empty region inside the array of shape {:?}, found start {start:?} and shape {shape:?}",
                    self.shape
                )));
            }
            if s % c != 0 || (e % c != 0 && e != full) {
                return Err(Error::usage(format!(
                    "expected a region aligned to the storage grid {:?} (ending on a grid line or at the array end), found start {start:?} and shape {shape:?} on axis {d}",
                    self.chunk
                )));
            }
        }
        let first: Vec<u64> = (0..n).map(|d| start[d] / self.chunk[d]).collect();
        let counts: Vec<u64> = (0..n).map(|d| shape[d].div_ceil(self.chunk[d])).collect();
        let total: u64 = counts.iter().product();
        let mut rel = vec![0u64; n];
        for _ in 0..total {
            let idx: Vec<u64> = (0..n).map(|d| first[d] + rel[d]).collect();
            let block = data.slice_each_axis(|ax| {
                let d = ax.axis.index();
                let lo = (rel[d] * self.chunk[d]) as usize;
                let hi = (lo + self.chunk[d] as usize).min(data.shape()[d]);
                Slice::from(lo..hi)
            });
            let zero = T::default();
            let bytes: Vec<u8> = if block.iter().all(|&x| x == zero) {
                Vec::new()
            } else {
                let owned = block.as_standard_layout();
                match owned.as_slice() {
                    Some(s) => bytemuck::cast_slice(s).to_vec(),
                    None => {
                        let v: Vec<T> = owned.iter().copied().collect();
                        bytemuck::cast_slice(&v).to_vec()
                    }
                }
            };
            self.scratch.put(&Self::chunk_path(&idx), &bytes)?;
            for d in (0..n).rev() {
                rel[d] += 1;
                if rel[d] < counts[d] {
                    break;
                }
                rel[d] = 0;
            }
        }
        Ok(())
    }

    fn grid_counts(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunk)
            .map(|(&s, &c)| s.div_ceil(c))
            .collect()
    }

    /// Indices of the level-0 storage chunks not written yet.
    ///
    /// # Errors
    /// Storage errors reading the staging area.
    pub fn missing_chunks(&self) -> Result<Vec<Vec<u64>>> {
        let counts = self.grid_counts();
        let total: u64 = counts.iter().product();
        let max = usize::try_from(total).unwrap_or(usize::MAX - 1);
        let written: HashSet<String> = self.scratch.names_in(CHUNK_DIR, max)?.into_iter().collect();
        let mut idx = vec![0u64; counts.len()];
        let mut missing = Vec::new();
        for _ in 0..total {
            if !written.contains(&Self::chunk_key(&idx)) {
                missing.push(idx.clone());
            }
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < counts[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(missing)
    }

    /// Checks that every level-0 chunk was written, writes the pyramid at the target path
    /// (levels from level 0 read back region by region, group metadata last, renamed into
    /// place) and removes the staging directory.
    ///
    /// # Errors
    /// A usage error naming the missing chunks when some were not written (the staging
    /// area is kept, so the rest can be written and `finish` called again, and nothing is
    /// left at the target); the errors of [`super::write_ome_zarr_from_source`].
    pub fn finish(&self) -> Result<WriteSummary> {
        let missing = self.missing_chunks()?;
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(5).map(|m| format!("{m:?}")).collect();
            return Err(Error::new(
                crate::ErrorKind::Usage,
                Location::file(&self.target),
                format!(
                    "expected every level-0 region to be written before finish, found {} of {} chunks missing (first: {})",
                    missing.len(),
                    self.grid_counts().iter().product::<u64>(),
                    shown.join(", ")
                ),
            ));
        }
        let summary = write_ome_zarr_from_source(&self.target, self, &self.meta, &self.opts, None)?;
        self.scratch.remove()?;
        Ok(summary)
    }

    /// Removes the staging area and everything written to it.
    ///
    /// # Errors
    /// Storage errors.
    pub fn abort(&self) -> Result<()> {
        self.scratch.remove()
    }

    fn read_typed<T: Element>(&self, start: &[u64], shape: &[u64]) -> Result<ArrayD<T>> {
        let n = self.shape.len();
        let dims: Vec<usize> = shape.iter().map(|&s| s as usize).collect();
        let mut out = ArrayD::<T>::default(IxDyn(&dims));
        let first: Vec<u64> = (0..n).map(|d| start[d] / self.chunk[d]).collect();
        let last: Vec<u64> = (0..n)
            .map(|d| (start[d] + shape[d] - 1) / self.chunk[d])
            .collect();
        let mut idx = first.clone();
        loop {
            let key = Self::chunk_path(&idx);
            let c_start: Vec<u64> = (0..n).map(|d| idx[d] * self.chunk[d]).collect();
            let c_shape: Vec<usize> = (0..n)
                .map(|d| self.chunk[d].min(self.shape[d] - c_start[d]) as usize)
                .collect();
            let expected = c_shape.iter().product::<usize>() * T::DTYPE.size();
            let path = self.scratch.location(&key);
            let bytes = self.scratch.get(&key, expected as u64)?.ok_or_else(|| {
                Error::format(path.clone(), "expected a written chunk, found none")
            })?;
            if !bytes.is_empty() {
                if bytes.len() != expected {
                    return Err(Error::format(
                        path.clone(),
                        format!(
                            "expected a chunk of {expected} bytes, found {}",
                            bytes.len()
                        ),
                    ));
                }
                let values: Vec<T> = bytemuck::pod_collect_to_vec(&bytes);
                let chunk = ArrayD::from_shape_vec(IxDyn(&c_shape), values)
                    .map_err(|e| Error::format(path.clone(), e.to_string()))?;
                // Overlap of this chunk and the requested region, in both frames.
                let lo: Vec<u64> = (0..n).map(|d| start[d].max(c_start[d])).collect();
                let hi: Vec<u64> = (0..n)
                    .map(|d| (start[d] + shape[d]).min(c_start[d] + c_shape[d] as u64))
                    .collect();
                let src = chunk.slice_each_axis(|ax| {
                    let d = ax.axis.index();
                    Slice::from((lo[d] - c_start[d]) as usize..(hi[d] - c_start[d]) as usize)
                });
                out.slice_each_axis_mut(|ax| {
                    let d = ax.axis.index();
                    Slice::from((lo[d] - start[d]) as usize..(hi[d] - start[d]) as usize)
                })
                .assign(&src);
            }
            let mut d = n;
            loop {
                if d == 0 {
                    return Ok(out);
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] <= last[d] {
                    break;
                }
                idx[d] = first[d];
            }
        }
    }
}

impl RegionSource for RegionWriter {
    fn shape(&self) -> &[u64] {
        &self.shape
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        with_dtype!(self.dtype, T => self.read_typed::<T>(start, shape).map(T::into_dyn_array))
    }
}
