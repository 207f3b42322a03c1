//! Writers: `write_ome_zarr` from memory, `convert`, and `RegionWriter` for Dask or any
//! scheduler writing chunk-aligned regions from many processes.

use std::path::PathBuf;

use ome_core::{DType, RegionWriter, WriteSummary};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{Borrowed, WriteArgs, with_view};
use crate::errors::{IntoPy, usage};
use crate::limits::limits_arg;

fn summary_dict<'py>(py: Python<'py>, s: &WriteSummary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("level_shapes", s.level_shapes.clone())?;
    d.set_item("bytes_written", s.bytes_written)?;
    Ok(d)
}

/// Writes an array as a multiscale OME-Zarr image. `scale_factors` gives each level's
/// downsampling relative to level 0, as ome-zarr-py and ngff-zarr take it (`[2, 4, 8]` on
/// y and x, or per-axis dicts such as `[{"z": 1, "y": 2, "x": 2}, {"z": 2, "y": 4, "x":
/// 4}]`); `downscale` is the factor between consecutive levels instead (an int for y and
/// x, or one per axis), with `levels` for the count. `limits` bounds the levels read back.
#[pyfunction]
#[pyo3(signature = (
    path, data, *, axes=None, scale=None, translation=None, units=None, scale_factors=None,
    downscale=None, levels=None, method=None, chunks=None, shards=None, compression=None,
    version=None, channel_names=None, channel_colors=None, name=None, overwrite=false,
    maxworkers=None, limits=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_ome_zarr<'py>(
    py: Python<'py>,
    path: PathBuf,
    data: &Bound<'py, PyAny>,
    axes: Option<Bound<'py, PyAny>>,
    scale: Option<Vec<f64>>,
    translation: Option<Vec<f64>>,
    units: Option<Bound<'py, PyAny>>,
    scale_factors: Option<Bound<'py, PyAny>>,
    downscale: Option<Bound<'py, PyAny>>,
    levels: Option<usize>,
    method: Option<String>,
    chunks: Option<Bound<'py, PyAny>>,
    shards: Option<Bound<'py, PyAny>>,
    compression: Option<String>,
    version: Option<String>,
    channel_names: Option<Vec<String>>,
    channel_colors: Option<Vec<String>>,
    name: Option<String>,
    overwrite: bool,
    maxworkers: Option<usize>,
    limits: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let borrowed = Borrowed::from_object(data)?;
    let view = borrowed.view();
    let args = WriteArgs {
        axes,
        scale,
        translation,
        units,
        scale_factors,
        downscale,
        levels,
        method,
        chunks,
        shards,
        compression,
        version,
        channel_names,
        channel_colors,
        name,
        overwrite,
        maxworkers,
        limits: limits_arg(limits.as_ref())?,
    };
    let (meta, opts) = args.build(view.shape().len())?;
    let summary = py
        .detach(|| {
            with_view!(&view, v, _T => ome_core::write_ome_zarr(&path, v.view(), &meta, &opts, None))
        })
        .py_err()?;
    summary_dict(py, &summary)
}

/// Converts a dataset to OME-Zarr, or to OME-TIFF when `dst` ends in `.tif`/`.tiff`/`.btf`/
/// `.tf2`/`.tf8`, or to `.npy`, reading region by region so memory stays bounded. The source's
/// pyramid levels are copied (for OME-TIFF output as SubIFDs, where they fit) unless
/// `levels` or `scale_factors` ask for new ones. Without `series`, a multi-image OME-TIFF
/// becomes a bioformats2raw container (the OME-XML under `OME/`), and a container or a
/// multi-image OME-TIFF becomes one OME-TIFF holding every series with the OME-XML carried
/// (as raw2ometiff). With `series`, or for any other input, one image is converted, its
/// axes, scale and channel names kept. For OME-TIFF output, `compression` is a TIFF
/// compression (`zstd`, `deflate`, `lzw`, `none`, optionally `NAME:LEVEL`) and `tile`,
/// `bigtiff` apply. `scale_factors` and `downscale` are those of `write_ome_zarr`; `limits`
/// bounds what is read. Every decision is `ome_core::convert`'s; this only fills its
/// request.
#[pyfunction]
#[pyo3(signature = (
    src, dst, *, series=None, level=0, scale_factors=None, downscale=None, levels=None,
    method=None, chunks=None, shards=None, compression=None, version=None, tile=None,
    bigtiff=None, overwrite=false, maxworkers=None, limits=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn convert<'py>(
    py: Python<'py>,
    src: PathBuf,
    dst: PathBuf,
    series: Option<usize>,
    level: usize,
    scale_factors: Option<Bound<'py, PyAny>>,
    downscale: Option<Bound<'py, PyAny>>,
    levels: Option<usize>,
    method: Option<String>,
    chunks: Option<Bound<'py, PyAny>>,
    shards: Option<Bound<'py, PyAny>>,
    compression: Option<String>,
    version: Option<String>,
    tile: Option<(u32, u32)>,
    bigtiff: Option<bool>,
    overwrite: bool,
    maxworkers: Option<usize>,
    limits: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    use ome_core::convert::{ConvertRequest, PyramidOutcome, PyramidPolicy};
    use ome_core::{Format, Image, NpyReader, RegionSource};
    let mut req = ConvertRequest::default();
    req.series = series;
    req.level = level;
    req.overwrite = overwrite;
    req.compression = compression;
    req.limits = limits_arg(limits.as_ref())?;
    req.pyramid = if levels.is_some() || scale_factors.is_some() || downscale.is_some() {
        PyramidPolicy::New
    } else {
        PyramidPolicy::KeepSource
    };
    if Format::for_output(&dst) == Format::OmeTiff {
        if chunks.is_some()
            || shards.is_some()
            || scale_factors.is_some()
            || downscale.is_some()
            || version.is_some()
        {
            return Err(usage(
                "chunks, shards, scale_factors, downscale and version apply to OME-Zarr output, not OME-TIFF",
            ));
        }
        req.tiff = TiffArgs {
            tile,
            compression: None,
            compressionargs: None,
            predictor: false,
            subifds: (levels.map(|n| n.saturating_sub(1)), None),
            method: method.as_deref(),
            bigtiff,
            overwrite,
        }
        .options()?;
    } else {
        if tile.is_some() || bigtiff.is_some() {
            return Err(usage(
                "tile and bigtiff apply to OME-TIFF output, not OME-Zarr",
            ));
        }
        // The keyword parser needs the dimension count of the level converted.
        let ndim = py
            .detach(|| match Format::detect(&src)? {
                Format::Npy => Ok(NpyReader::open(&src)?.shape().len()),
                _ => {
                    let image = Image::open_series(&src, series.unwrap_or(0), &req.limits)?;
                    Ok(image.levels().get(level).map_or(0, |l| l.shape.len()))
                }
            })
            .py_err()?;
        let args = WriteArgs {
            scale_factors,
            downscale,
            levels,
            method,
            chunks,
            shards,
            version,
            overwrite,
            maxworkers,
            limits: req.limits,
            ..WriteArgs::default()
        };
        req.zarr = args.build(ndim.clamp(2, 5))?.1;
    }
    let s = py
        .detach(|| ome_core::convert::convert(&src, &dst, &req))
        .py_err()?;
    let d = PyDict::new(py);
    d.set_item(
        "level_shapes",
        s.level_shapes.first().cloned().unwrap_or_default(),
    )?;
    d.set_item("image_level_shapes", s.level_shapes.clone())?;
    d.set_item("series", s.images())?;
    d.set_item(
        "pyramid",
        match s.pyramid {
            PyramidOutcome::Copied => Some("copied"),
            PyramidOutcome::Generated => Some("generated"),
            _ => None,
        },
    )?;
    d.set_item("ome_xml_carried", s.ome_xml_carried)?;
    d.set_item("notes", s.notes.clone())?;
    d.set_item("bytes_written", s.bytes_written)?;
    Ok(d)
}

/// Writes one OME-Zarr image region by region, from any number of processes, without
/// locks. `create` once, `open` anywhere (instances pickle by path), `write_region` with
/// regions aligned to `region_grid`, then `finish` once every region is in.
#[pyclass(module = "ome_py", name = "RegionWriter", frozen)]
#[derive(Debug)]
pub(crate) struct PyRegionWriter {
    inner: RegionWriter,
    path: PathBuf,
}

#[pymethods]
impl PyRegionWriter {
    /// Plans the image and creates the staging area next to `path`: a directory, or for an
    /// `s3://` output a prefix in the bucket, so that workers need no shared filesystem.
    /// The options are those of `write_ome_zarr`; they, `limits` included, are kept in the
    /// staging area for every process that opens the writer.
    #[staticmethod]
    #[pyo3(signature = (
        path, shape, dtype, *, axes=None, scale=None, translation=None, units=None,
        scale_factors=None, downscale=None, levels=None, method=None, chunks=None, shards=None,
        compression=None, version=None, channel_names=None, channel_colors=None, name=None,
        overwrite=false, maxworkers=None, limits=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create<'py>(
        py: Python<'py>,
        path: PathBuf,
        shape: Vec<u64>,
        dtype: &Bound<'py, PyAny>,
        axes: Option<Bound<'py, PyAny>>,
        scale: Option<Vec<f64>>,
        translation: Option<Vec<f64>>,
        units: Option<Bound<'py, PyAny>>,
        scale_factors: Option<Bound<'py, PyAny>>,
        downscale: Option<Bound<'py, PyAny>>,
        levels: Option<usize>,
        method: Option<String>,
        chunks: Option<Bound<'py, PyAny>>,
        shards: Option<Bound<'py, PyAny>>,
        compression: Option<String>,
        version: Option<String>,
        channel_names: Option<Vec<String>>,
        channel_colors: Option<Vec<String>>,
        name: Option<String>,
        overwrite: bool,
        maxworkers: Option<usize>,
        limits: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Self> {
        let np = py.import("numpy")?;
        let dt: String = np
            .call_method1("dtype", (dtype,))?
            .getattr("name")?
            .extract()?;
        let dtype = DType::from_name(&dt).ok_or_else(|| {
            usage(format!(
                "expected a supported integer or float dtype, found {dt}"
            ))
        })?;
        let args = WriteArgs {
            axes,
            scale,
            translation,
            units,
            scale_factors,
            downscale,
            levels,
            method,
            chunks,
            shards,
            compression,
            version,
            channel_names,
            channel_colors,
            name,
            overwrite,
            maxworkers,
            limits: limits_arg(limits.as_ref())?,
        };
        let (meta, opts) = args.build(shape.len())?;
        let inner = py
            .detach(|| RegionWriter::create(&path, &shape, dtype, &meta, &opts))
            .py_err()?;
        Ok(PyRegionWriter { inner, path })
    }

    /// Reattaches to the writer created for `path` (from any process).
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| RegionWriter::open(&path)).py_err()?;
        Ok(PyRegionWriter { inner, path })
    }

    /// The output path.
    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Shape of level 0.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }

    /// Element type as a NumPy name.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.inner.dtype().name()
    }

    /// The grid regions must align to (the shard shape when sharded, else the chunk
    /// shape); rechunk a Dask array to it before writing.
    #[getter]
    fn region_grid<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.region_grid())
    }

    /// Writes `data` at `start`; the region must be aligned to `region_grid` (it may end
    /// at the array end). The array is read in place when C-contiguous.
    fn write_region(
        &self,
        py: Python<'_>,
        start: Vec<u64>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let borrowed = Borrowed::from_object(data)?;
        let view = borrowed.view();
        let inner = &self.inner;
        py.detach(|| {
            with_view!(&view, v, _T => {
                let owned = v.to_owned();
                inner.write_region_typed(&start, &owned)
            })
        })
        .py_err()
    }

    /// Indices of the storage chunks of level 0 not written yet.
    fn missing_chunks(&self, py: Python<'_>) -> PyResult<Vec<Vec<u64>>> {
        let inner = &self.inner;
        py.detach(|| inner.missing_chunks()).py_err()
    }

    /// Checks that every region is in, builds the pyramid, writes the metadata last and
    /// moves the image into place. Returns a summary dict.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = &self.inner;
        let summary = py.detach(|| inner.finish()).py_err()?;
        summary_dict(py, &summary)
    }

    /// Removes the staging area and everything written to it.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        let inner = &self.inner;
        py.detach(|| inner.abort()).py_err()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let open = py.get_type::<PyRegionWriter>().getattr("open")?;
        Ok((open, (self.path(),)))
    }

    fn __repr__(&self) -> String {
        format!(
            "RegionWriter({:?}, shape={:?}, dtype={:?}, region_grid={:?})",
            self.path(),
            self.inner.shape(),
            self.inner.dtype().name(),
            self.inner.region_grid()
        )
    }
}

/// Writes an array as a tiled, pyramidal OME-TIFF (sub-resolutions as SubIFDs), in the
/// vocabulary of tifffile `imwrite`: `tile`, `compression`, `predictor`, `subifds`
/// (sub-resolution count; `subresolutions`, the name tifffile's pyramid examples use, is the
/// same), `bigtiff`.
#[pyfunction]
#[pyo3(signature = (
    path, data, *, axes=None, scale=None, units=None, channel_names=None, name=None,
    tile=None, compression=None, compressionargs=None, predictor=false, subifds=None,
    subresolutions=None, method=None, bigtiff=None, overwrite=false
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_ome_tiff<'py>(
    py: Python<'py>,
    path: PathBuf,
    data: &Bound<'py, PyAny>,
    axes: Option<Bound<'py, PyAny>>,
    scale: Option<Vec<f64>>,
    units: Option<Bound<'py, PyAny>>,
    channel_names: Option<Vec<String>>,
    name: Option<String>,
    tile: Option<(u32, u32)>,
    compression: Option<String>,
    compressionargs: Option<Bound<'py, PyDict>>,
    predictor: bool,
    subifds: Option<usize>,
    subresolutions: Option<usize>,
    method: Option<String>,
    bigtiff: Option<bool>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let borrowed = Borrowed::from_object(data)?;
    let view = borrowed.view();
    let args = WriteArgs {
        axes,
        scale,
        units,
        channel_names,
        name,
        ..WriteArgs::default()
    };
    let (meta, _) = args.build(view.shape().len())?;
    let opts = TiffArgs {
        tile,
        compression: compression.as_deref(),
        compressionargs,
        predictor,
        subifds: (subifds, subresolutions),
        method: method.as_deref(),
        bigtiff,
        overwrite,
    }
    .options()?;
    let summary = py
        .detach(|| {
            with_view!(&view, v, _T => {
                let source = ome_core::ArraySource::new(v.view());
                ome_core::tiff::write_ome_tiff(&path, &source, &meta, &opts)
            })
        })
        .py_err()?;
    tiff_summary_dict(py, &summary)
}

fn tiff_summary_dict<'py>(
    py: Python<'py>,
    summary: &ome_core::tiff::TiffWriteSummary,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let shapes = |l: &[[u64; 5]]| l.iter().map(|s| s.to_vec()).collect::<Vec<Vec<u64>>>();
    d.set_item("level_shapes", shapes(&summary.level_shapes))?;
    let per_image: Vec<Vec<Vec<u64>>> = summary
        .image_level_shapes
        .iter()
        .map(|l| shapes(l))
        .collect();
    d.set_item("image_level_shapes", per_image)?;
    d.set_item("bigtiff", summary.bigtiff)?;
    d.set_item("bytes_written", summary.bytes)?;
    Ok(d)
}

/// The file-level options of the OME-TIFF writers, in tifffile's vocabulary.
struct TiffArgs<'a, 'py> {
    tile: Option<(u32, u32)>,
    compression: Option<&'a str>,
    compressionargs: Option<Bound<'py, PyDict>>,
    predictor: bool,
    /// `subifds` and `subresolutions`, the same count under two names.
    subifds: (Option<usize>, Option<usize>),
    method: Option<&'a str>,
    bigtiff: Option<bool>,
    overwrite: bool,
}

impl TiffArgs<'_, '_> {
    fn options(self) -> PyResult<ome_core::tiff::TiffWriteOptions> {
        use ome_core::tiff::{TiffCompression, TiffWriteOptions};
        let TiffArgs {
            tile,
            compression,
            compressionargs,
            predictor,
            subifds: (subifds, subresolutions),
            method,
            bigtiff,
            overwrite,
        } = self;
        let mut opts = TiffWriteOptions::default();
        if let Some(m) = method {
            opts.downsample = m.parse().py_err()?;
        }
        if let Some(t) = tile {
            opts.tile = t;
        }
        if let Some(c) = compression {
            opts.compression = c.parse::<TiffCompression>().py_err()?;
        }
        if let Some(level) = compressionargs
            .map(|a| a.get_item("level"))
            .transpose()?
            .flatten()
        {
            opts.compression_level = Some(level.extract()?);
        }
        opts.predictor = predictor;
        let subifds = match (subifds, subresolutions) {
            (Some(a), Some(b)) if a != b => {
                return Err(usage(format!(
                    "expected subifds and subresolutions to agree (they are the same count), found {a} and {b}"
                )));
            }
            (a, b) => a.or(b),
        };
        opts.levels = subifds.map(|n| n + 1);
        opts.bigtiff = bigtiff;
        opts.overwrite = overwrite;
        Ok(opts)
    }
}

/// Writes several arrays as the images (series) of one OME-TIFF, the way tifffile's
/// `TiffWriter.write` called once per series does. `images` is a list of arrays or of dicts
/// `{"data": array, "axes": ..., "scale": ..., "units": ..., "channel_names": ...,
/// "name": ...}` (each key as in `write_ome_tiff`); the other options apply to every image.
/// `ome_xml`, an OME-XML document with one `Image` per array, is carried into the file with
/// its pixel layout rewritten (as raw2ometiff does), parsed under `limits` (its
/// `max_xml_bytes` and `max_xml_depth`).
#[pyfunction]
#[pyo3(signature = (
    path, images, *, tile=None, compression=None, compressionargs=None, predictor=false,
    subifds=None, subresolutions=None, method=None, bigtiff=None, ome_xml=None, overwrite=false,
    limits=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_ome_tiff_series<'py>(
    py: Python<'py>,
    path: PathBuf,
    images: Vec<Bound<'py, PyAny>>,
    tile: Option<(u32, u32)>,
    compression: Option<String>,
    compressionargs: Option<Bound<'py, PyDict>>,
    predictor: bool,
    subifds: Option<usize>,
    subresolutions: Option<usize>,
    method: Option<String>,
    bigtiff: Option<bool>,
    ome_xml: Option<String>,
    overwrite: bool,
    limits: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut opts = TiffArgs {
        tile,
        compression: compression.as_deref(),
        compressionargs,
        predictor,
        subifds: (subifds, subresolutions),
        method: method.as_deref(),
        bigtiff,
        overwrite,
    }
    .options()?;
    if let Some(xml) = &ome_xml {
        let limits = limits_arg(limits.as_ref())?.xml_limits();
        opts.ome_xml = Some(ome_core::ome_xml::parse(xml, &limits).py_err()?);
    }
    let mut borrowed = Vec::with_capacity(images.len());
    let mut metas = Vec::with_capacity(images.len());
    for (i, item) in images.iter().enumerate() {
        let (data, args) = match item.cast::<PyDict>() {
            Ok(d) => {
                let get = |k: &str| d.get_item(k);
                let data = get("data")?.ok_or_else(|| {
                    usage(format!("expected a \"data\" array in image {i}'s dict"))
                })?;
                for (k, _) in d.iter() {
                    let k: String = k.extract()?;
                    if !["data", "axes", "scale", "units", "channel_names", "name"]
                        .contains(&k.as_str())
                    {
                        return Err(usage(format!(
                            "expected keys data, axes, scale, units, channel_names and name in \
                             image {i}'s dict, found {k:?}"
                        )));
                    }
                }
                let args = WriteArgs {
                    axes: get("axes")?.filter(|a| !a.is_none()),
                    scale: get("scale")?.map(|v| v.extract()).transpose()?,
                    units: get("units")?.filter(|a| !a.is_none()),
                    channel_names: get("channel_names")?.map(|v| v.extract()).transpose()?,
                    name: get("name")?.map(|v| v.extract()).transpose()?,
                    ..WriteArgs::default()
                };
                (data, args)
            }
            Err(_) => (item.clone(), WriteArgs::default()),
        };
        let b = Borrowed::from_object(&data)?;
        let (meta, _) = args.build(b.view().shape().len())?;
        borrowed.push(b);
        metas.push(meta);
    }
    let views: Vec<_> = borrowed.iter().map(Borrowed::view).collect();
    let summary = py
        .detach(|| {
            let sources: Vec<Box<dyn ome_core::RegionSource + '_>> = views
                .iter()
                .map(|v| -> Box<dyn ome_core::RegionSource + '_> {
                    with_view!(v, a, _T => Box::new(ome_core::ArraySource::new(a.view())))
                })
                .collect();
            let images: Vec<ome_core::tiff::TiffImage<'_>> = sources
                .iter()
                .zip(&metas)
                .map(|(s, m)| ome_core::tiff::TiffImage::new(s.as_ref(), m))
                .collect();
            ome_core::tiff::write_ome_tiff_images(&path, &images, &opts)
        })
        .py_err()?;
    tiff_summary_dict(py, &summary)
}
