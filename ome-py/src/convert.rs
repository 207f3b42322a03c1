//! NumPy ↔ `ome-core` array conversions and option parsing shared by the writers.

use ndarray::ArrayViewD;
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{Compression, DType, ImageMetadata, WriteOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::errors::{IntoPy, usage};

/// A NumPy array borrowed read-only, with its element type known.
pub(crate) enum Borrowed<'py> {
    U8(PyReadonlyArrayDyn<'py, u8>),
    U16(PyReadonlyArrayDyn<'py, u16>),
    U32(PyReadonlyArrayDyn<'py, u32>),
    U64(PyReadonlyArrayDyn<'py, u64>),
    I8(PyReadonlyArrayDyn<'py, i8>),
    I16(PyReadonlyArrayDyn<'py, i16>),
    I32(PyReadonlyArrayDyn<'py, i32>),
    I64(PyReadonlyArrayDyn<'py, i64>),
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

/// A view of any supported element type (no copy).
pub(crate) enum View<'a> {
    U8(ArrayViewD<'a, u8>),
    U16(ArrayViewD<'a, u16>),
    U32(ArrayViewD<'a, u32>),
    U64(ArrayViewD<'a, u64>),
    I8(ArrayViewD<'a, i8>),
    I16(ArrayViewD<'a, i16>),
    I32(ArrayViewD<'a, i32>),
    I64(ArrayViewD<'a, i64>),
    F32(ArrayViewD<'a, f32>),
    F64(ArrayViewD<'a, f64>),
}

/// Runs `$body` with `$v` bound to the typed view and `$T` its element type.
macro_rules! with_view {
    ($e:expr, $v:ident, $T:ident => $body:expr) => {
        match $e {
            $crate::convert::View::U8($v) => {
                type $T = u8;
                $body
            }
            $crate::convert::View::U16($v) => {
                type $T = u16;
                $body
            }
            $crate::convert::View::U32($v) => {
                type $T = u32;
                $body
            }
            $crate::convert::View::U64($v) => {
                type $T = u64;
                $body
            }
            $crate::convert::View::I8($v) => {
                type $T = i8;
                $body
            }
            $crate::convert::View::I16($v) => {
                type $T = i16;
                $body
            }
            $crate::convert::View::I32($v) => {
                type $T = i32;
                $body
            }
            $crate::convert::View::I64($v) => {
                type $T = i64;
                $body
            }
            $crate::convert::View::F32($v) => {
                type $T = f32;
                $body
            }
            $crate::convert::View::F64($v) => {
                type $T = f64;
                $body
            }
        }
    };
}
pub(crate) use with_view;

impl<'py> Borrowed<'py> {
    /// Borrows `obj` as a NumPy array; anything else (lists, Dask arrays, Zarr arrays) goes
    /// through `numpy.asarray` first. A C-contiguous native-endian array is not copied.
    pub(crate) fn from_object(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let np = py.import("numpy")?;
        let is_ndarray = obj.is_instance(&np.getattr("ndarray")?)?;
        let arr = if is_ndarray {
            obj.clone()
        } else {
            np.call_method1("asarray", (obj,))?
        };
        let dt: String = arr.getattr("dtype")?.getattr("str")?.extract()?;
        let (dtype, _) = DType::from_numpy_str(&dt).ok_or_else(|| {
            usage(format!(
                "expected an array of uint8..uint64, int8..int64, float32 or float64, found dtype {dt}"
            ))
        })?;
        // Byte-swapped input is converted to native order once.
        let arr = if dt.starts_with('>') {
            arr.call_method1("astype", (dtype.name(),))?
        } else {
            arr
        };
        Ok(match dtype {
            DType::U8 => Borrowed::U8(arr.extract()?),
            DType::U16 => Borrowed::U16(arr.extract()?),
            DType::U32 => Borrowed::U32(arr.extract()?),
            DType::U64 => Borrowed::U64(arr.extract()?),
            DType::I8 => Borrowed::I8(arr.extract()?),
            DType::I16 => Borrowed::I16(arr.extract()?),
            DType::I32 => Borrowed::I32(arr.extract()?),
            DType::I64 => Borrowed::I64(arr.extract()?),
            DType::F32 => Borrowed::F32(arr.extract()?),
            DType::F64 => Borrowed::F64(arr.extract()?),
        })
    }

    pub(crate) fn view(&self) -> View<'_> {
        match self {
            Borrowed::U8(a) => View::U8(a.as_array()),
            Borrowed::U16(a) => View::U16(a.as_array()),
            Borrowed::U32(a) => View::U32(a.as_array()),
            Borrowed::U64(a) => View::U64(a.as_array()),
            Borrowed::I8(a) => View::I8(a.as_array()),
            Borrowed::I16(a) => View::I16(a.as_array()),
            Borrowed::I32(a) => View::I32(a.as_array()),
            Borrowed::I64(a) => View::I64(a.as_array()),
            Borrowed::F32(a) => View::F32(a.as_array()),
            Borrowed::F64(a) => View::F64(a.as_array()),
        }
    }
}

impl View<'_> {
    pub(crate) fn shape(&self) -> Vec<u64> {
        with_view!(self, v, _T => v.shape().iter().map(|&d| d as u64).collect())
    }
}

/// Hands an `ome_core::DynArray` to NumPy without copying its buffer.
pub(crate) fn to_numpy(py: Python<'_>, array: ome_core::DynArray) -> Bound<'_, PyAny> {
    ome_core::with_dyn_array!(array, a, _T => a.into_pyarray(py).into_any())
}

/// Converts a JSON value to Python objects through the `json` module.
pub(crate) fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

fn u64_list(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u64>> {
    obj.extract::<Vec<u64>>().map_err(|_| {
        usage(format!(
            "expected {what} as a sequence of positive integers, found {obj}"
        ))
    })
}

/// The writer options every Python writer takes, as keyword arguments.
#[derive(Default)]
pub(crate) struct WriteArgs<'py> {
    pub axes: Option<Bound<'py, PyAny>>,
    pub scale: Option<Vec<f64>>,
    pub translation: Option<Vec<f64>>,
    pub units: Option<Bound<'py, PyAny>>,
    /// Per level, relative to level 0 (ome-zarr-py, ngff-zarr): `[2, 4]` or per-axis dicts.
    pub scale_factors: Option<Bound<'py, PyAny>>,
    /// Between consecutive levels: an int for y and x, or one factor per axis.
    pub downscale: Option<Bound<'py, PyAny>>,
    pub levels: Option<usize>,
    pub method: Option<String>,
    pub chunks: Option<Bound<'py, PyAny>>,
    pub shards: Option<Bound<'py, PyAny>>,
    pub compression: Option<String>,
    pub version: Option<String>,
    pub channel_names: Option<Vec<String>>,
    pub channel_colors: Option<Vec<String>>,
    pub name: Option<String>,
    pub overwrite: bool,
    pub maxworkers: Option<usize>,
    pub limits: ome_core::Limits,
}

/// The last two space axes (y and x): where an int factor applies.
fn yx_axes(meta: &ImageMetadata) -> Vec<usize> {
    let spatial: Vec<usize> = (0..meta.axes.len())
        .filter(|&i| meta.axes[i].axis_type.as_deref() == Some("space"))
        .collect();
    spatial.into_iter().rev().take(2).collect()
}

/// `scale_factors` as ome-zarr-py `write_image` and ngff-zarr `to_multiscales` take it:
/// one entry per level from 1 on, each relative to level 0. An int applies to y and x
/// (the last two space axes; z keeps its size, as in ome-zarr-py); a dict maps axis names
/// to factors, the axes it leaves out keeping their size.
fn level_factors(f: &Bound<'_, PyAny>, meta: &ImageMetadata) -> PyResult<Vec<Vec<u64>>> {
    if let Ok(k) = f.extract::<u64>() {
        return Err(usage(format!(
            "expected scale_factors as one entry per level, each relative to level 0 \
             (e.g. [2, 4, 8] or [{{\"y\": 2, \"x\": 2}}, ...]), found the int {k}; for \
             one factor between consecutive levels pass downscale={k}"
        )));
    }
    let items: Vec<Bound<'_, PyAny>> = match f.extract() {
        Ok(items) if !f.is_instance_of::<PyString>() => items,
        _ => {
            return Err(usage(format!(
                "expected scale_factors as a list of ints or of dicts (one per level), found {f}"
            )));
        }
    };
    let names: Vec<&str> = meta.axes.iter().map(|a| a.name.as_str()).collect();
    let yx = yx_axes(meta);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let level = i + 1;
            let mut factors = vec![1u64; names.len()];
            if let Ok(d) = item.cast::<PyDict>() {
                for (k, v) in d.iter() {
                    let name: String = k.extract()?;
                    let axis = names.iter().position(|n| *n == name).ok_or_else(|| {
                        usage(format!(
                            "scale_factors level {level} names the axis {name:?}, which is not \
                             one of the axes {names:?}"
                        ))
                    })?;
                    let factor: u64 = v.extract().map_err(|_| {
                        usage(format!(
                            "expected a positive integer factor for axis {name:?} in \
                             scale_factors level {level}, found {v}"
                        ))
                    })?;
                    let kind = meta.axes[axis].axis_type.as_deref();
                    if factor > 1 && matches!(kind, Some("channel" | "time")) {
                        return Err(usage(format!(
                            "scale_factors level {level} downsamples the {} axis {name:?} by \
                             {factor}; only space (and untyped) axes are downsampled",
                            kind.unwrap_or_default()
                        )));
                    }
                    factors[axis] = factor;
                }
            } else {
                let k: u64 = item.extract().map_err(|_| {
                    usage(format!(
                        "expected an int or a dict of axis factors for scale_factors level \
                         {level}, found {item}"
                    ))
                })?;
                for &a in &yx {
                    factors[a] = k;
                }
            }
            Ok(factors)
        })
        .collect()
}

impl WriteArgs<'_> {
    /// Builds the `ome-core` metadata and options for an array of `ndim` dimensions.
    pub(crate) fn build(&self, ndim: usize) -> PyResult<(ImageMetadata, WriteOptions)> {
        let mut meta = match &self.axes {
            None => ImageMetadata::default_for_ndim(ndim).py_err()?,
            Some(a) if a.is_instance_of::<PyString>() => {
                ImageMetadata::from_axis_letters(&a.extract::<String>()?).py_err()?
            }
            Some(a) => {
                // A list of names or of {"name", "type", "unit"} dicts (ome-zarr-py style).
                let items: Vec<Bound<'_, PyAny>> = a.extract()?;
                let mut letters = Vec::new();
                let mut extra = Vec::new();
                for item in &items {
                    if let Ok(d) = item.cast::<PyDict>() {
                        let name: String = d
                            .get_item("name")?
                            .ok_or_else(|| usage("expected a \"name\" in every axis dict"))?
                            .extract()?;
                        let kind: Option<String> =
                            d.get_item("type")?.map(|t| t.extract()).transpose()?;
                        let unit: Option<String> =
                            d.get_item("unit")?.map(|t| t.extract()).transpose()?;
                        letters.push(name);
                        extra.push((kind, unit));
                    } else {
                        letters.push(item.extract::<String>()?);
                        extra.push((None, None));
                    }
                }
                let mut meta = ImageMetadata::default_for_ndim(ndim.clamp(2, 5)).py_err()?;
                let mut axes = Vec::new();
                for (name, (kind, unit)) in letters.iter().zip(extra) {
                    let base = ImageMetadata::from_axis_letters(if name.chars().count() == 1 {
                        name
                    } else {
                        "q"
                    })
                    .py_err()?;
                    let mut axis = base.axes[0].clone();
                    axis.name.clone_from(name);
                    if kind.is_some() {
                        axis.axis_type = kind;
                    }
                    axis.unit = unit;
                    axes.push(axis);
                }
                meta.axes = axes;
                meta
            }
        };
        if let Some(units) = &self.units {
            if let Ok(d) = units.cast::<PyDict>() {
                for (k, v) in d.iter() {
                    let k: String = k.extract()?;
                    let axis = meta.axes.iter_mut().find(|a| a.name == k).ok_or_else(|| {
                        usage(format!(
                            "units name axis {k:?}, which is not one of the axes"
                        ))
                    })?;
                    axis.unit = v.extract()?;
                }
            } else {
                let list: Vec<Option<String>> = units.extract()?;
                if list.len() != meta.axes.len() {
                    return Err(usage(format!(
                        "expected {} units, one per axis, found {}",
                        meta.axes.len(),
                        list.len()
                    )));
                }
                for (a, u) in meta.axes.iter_mut().zip(list) {
                    a.unit = u;
                }
            }
        }
        meta.scale.clone_from(&self.scale);
        meta.translation.clone_from(&self.translation);
        meta.name.clone_from(&self.name);
        if let Some(c) = &self.channel_names {
            meta.channel_names.clone_from(c);
        }
        if let Some(c) = &self.channel_colors {
            meta.channel_colors.clone_from(c);
        }

        let mut opts = WriteOptions::default();
        if let Some(v) = &self.version {
            opts.version = NgffVersion::parse(v).ok_or_else(|| {
                usage(format!(
                    "expected version \"0.4\", \"0.5\" or \"0.6\", found {v:?}"
                ))
            })?;
            // The version string is written as given (`0.6`, `0.6rc0`, `0.6.dev3`).
            if opts.version.is_nested() {
                opts.version_tag = Some(v.clone());
            }
        }
        if let Some(c) = &self.chunks {
            opts.chunks = Some(u64_list(c, "chunks")?);
        }
        if let Some(s) = &self.shards {
            opts.shards = Some(u64_list(s, "shards")?);
        }
        if let Some(c) = &self.compression {
            opts.compression = c.parse::<Compression>().py_err()?;
        }
        if let Some(m) = &self.method {
            opts.downsample = m.parse::<Downsample>().py_err()?;
        }
        if self.scale_factors.is_some() && self.downscale.is_some() {
            return Err(usage(
                "expected either scale_factors (per level, relative to level 0) or downscale \
                 (between consecutive levels), found both",
            ));
        }
        if let Some(f) = &self.scale_factors {
            opts.level_factors = Some(level_factors(f, &meta)?);
        }
        if let Some(f) = &self.downscale {
            // An int: that factor on y and x; a sequence: one factor per axis between
            // consecutive levels.
            if let Ok(k) = f.extract::<u64>() {
                let mut factors = vec![1u64; meta.axes.len()];
                for i in yx_axes(&meta) {
                    factors[i] = k;
                }
                opts.factors = Some(factors);
            } else {
                opts.factors = Some(u64_list(f, "downscale")?);
            }
        }
        if let Some(n) = self.levels {
            opts.levels = LevelCount::Exactly(n);
        }
        opts.overwrite = self.overwrite;
        opts.jobs = self.maxworkers;
        opts.limits = self.limits;
        Ok((meta, opts))
    }
}

/// A tuple of ints.
pub(crate) fn tuple_u64<'py>(py: Python<'py>, v: &[u64]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, v)
}

/// A list of strings.
pub(crate) fn list_str<'py>(py: Python<'py>, v: &[String]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, v)
}
