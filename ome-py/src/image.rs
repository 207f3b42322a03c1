//! `Image`: an opened OME-Zarr image (level metadata, channels, labels, reads).

use std::path::PathBuf;

use ome_core::{Image, OmeZarr, Selection};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySlice, PySliceMethods, PyTuple};

use crate::convert::{json_to_py, list_str, to_numpy, tuple_u64};
use crate::errors::{IntoPy, usage};
use crate::limits::{PyLimits, limits_arg};

/// One resolution level.
#[pyclass(module = "ome_py", name = "Level", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyLevel {
    path: String,
    shape: Vec<u64>,
    dtype: String,
    chunks: Vec<u64>,
    shards: Option<Vec<u64>>,
    scale: Option<Vec<f64>>,
    translation: Option<Vec<f64>>,
    codecs: Vec<String>,
}

#[pymethods]
impl PyLevel {
    /// The chunk grid on which storage is aligned (the shard when sharded).
    #[getter]
    fn storage_chunks(&self) -> Vec<u64> {
        self.shards.clone().unwrap_or_else(|| self.chunks.clone())
    }

    /// Rebuilds a level from `__reduce__`'s fields (pickling by value).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn _restore(
        path: String,
        shape: Vec<u64>,
        dtype: String,
        chunks: Vec<u64>,
        shards: Option<Vec<u64>>,
        scale: Option<Vec<f64>>,
        translation: Option<Vec<f64>>,
        codecs: Vec<String>,
    ) -> Self {
        PyLevel {
            path,
            shape,
            dtype,
            chunks,
            shards,
            scale,
            translation,
            codecs,
        }
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        (
            String,
            Vec<u64>,
            String,
            Vec<u64>,
            Option<Vec<u64>>,
            Option<Vec<f64>>,
            Option<Vec<f64>>,
            Vec<String>,
        ),
    )> {
        let restore = py.get_type::<PyLevel>().getattr("_restore")?;
        let l = self.clone();
        Ok((
            restore,
            (
                l.path,
                l.shape,
                l.dtype,
                l.chunks,
                l.shards,
                l.scale,
                l.translation,
                l.codecs,
            ),
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "Level(path={:?}, shape={:?}, dtype={:?}, chunks={:?}, shards={:?}, scale={:?})",
            self.path, self.shape, self.dtype, self.chunks, self.shards, self.scale
        )
    }
}

/// An image opened for reading. It pickles as its path, series and limits (the
/// `ome_py.Image` that `open` returns is opened again where it is unpickled).
#[pyclass(module = "ome_py", name = "Image", frozen, subclass)]
#[derive(Debug)]
pub(crate) struct PyImage {
    image: Image,
    path: PathBuf,
    series: usize,
    limits: ome_core::Limits,
}

/// Series `series` of `path` ([`Image::open_series`]) under `limits`, with the path the
/// image is at (a series of a bioformats2raw container is its own group) and its series
/// number there.
pub(crate) fn open_series(
    path: PathBuf,
    series: usize,
    limits: &ome_core::Limits,
) -> ome_core::Result<(Image, PathBuf, usize)> {
    let image = Image::open_series(&path, series, limits)?;
    if ome_core::is_tiff_input(&path) {
        return Ok((image, path, series));
    }
    let at = image.path().to_path_buf();
    Ok((image, at, 0))
}

#[pymethods]
impl PyImage {
    #[new]
    #[pyo3(signature = (path, series=0, *, limits=None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        series: usize,
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let limits = limits_arg(limits)?;
        let (image, path, series) = py.detach(|| open_series(path, series, &limits)).py_err()?;
        Ok(PyImage {
            image,
            path,
            series,
            limits,
        })
    }

    /// The limits the image was opened under.
    #[getter]
    fn limits(&self) -> PyLimits {
        PyLimits { inner: self.limits }
    }

    /// Pickles as `ome_py.Image(path, series, limits=limits)`: the image is opened again
    /// where it is unpickled (a Dask worker, another process).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let image = py.import("ome_py")?.getattr("Image")?;
        let partial = py.import("functools")?.getattr("partial")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("limits", self.limits())?;
        let make = partial.call((image,), Some(&kwargs))?;
        let args = (self.path(), self.series).into_pyobject(py)?.into_any();
        Ok((make, args))
    }

    /// The series (image) of a multi-image OME-TIFF this is; 0 otherwise (a series of a
    /// bioformats2raw container is opened at its own path).
    #[getter]
    fn series(&self) -> usize {
        self.series
    }

    /// The path as given.
    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// `"ome-zarr"` or `"ome-tiff"`.
    #[getter]
    fn format(&self) -> &'static str {
        if self.path.is_file() {
            "ome-tiff"
        } else {
            "ome-zarr"
        }
    }

    /// The NGFF version as the metadata writes it, such as `"0.5"` or `"0.6.dev3"` (every
    /// 0.6 spelling names 0.6); `None` when it names no known version.
    #[getter]
    fn version(&self) -> Option<String> {
        let known = self.image.version()?;
        Some(
            self.image
                .raw_version()
                .map_or_else(|| known.as_str().to_owned(), str::to_owned),
        )
    }

    /// The multiscale name.
    #[getter]
    fn name(&self) -> Option<String> {
        self.image.name().map(str::to_string)
    }

    /// Axis names in array order.
    #[getter]
    fn axes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        list_str(py, &self.image.axis_names())
    }

    /// Axes as ome-zarr-py dicts: `{"name", "type", "unit"}`.
    #[getter]
    fn axes_info<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.image
            .axes()
            .iter()
            .map(|a| {
                let d = PyDict::new(py);
                d.set_item("name", &a.name)?;
                if let Some(t) = &a.axis_type {
                    d.set_item("type", t)?;
                }
                if let Some(u) = &a.unit {
                    d.set_item("unit", u)?;
                }
                Ok(d)
            })
            .collect()
    }

    /// Resolution levels, full resolution first.
    #[getter]
    fn levels(&self) -> Vec<PyLevel> {
        self.image
            .levels()
            .iter()
            .map(|l| PyLevel {
                path: l.path.clone(),
                shape: l.shape.clone(),
                dtype: l.dtype.name().to_string(),
                chunks: l.chunks.clone(),
                shards: l.shards.clone(),
                scale: l.scale.clone(),
                translation: l.translation.clone(),
                codecs: l.codecs.clone(),
            })
            .collect()
    }

    /// Shape of level 0.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        tuple_u64(py, &self.image.levels()[0].shape)
    }

    /// Element type of level 0 as a NumPy name.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.image.levels()[0].dtype.name()
    }

    /// Channels from the omero metadata: dicts with `label`, `color`, `window`.
    #[getter]
    fn channels<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.image
            .channels()
            .iter()
            .map(|c| {
                let d = PyDict::new(py);
                d.set_item("label", &c.label)?;
                d.set_item("color", &c.color)?;
                if let Some(w) = &c.window {
                    let wd = PyDict::new(py);
                    wd.set_item("min", w.min)?;
                    wd.set_item("max", w.max)?;
                    wd.set_item("start", w.start)?;
                    wd.set_item("end", w.end)?;
                    d.set_item("window", wd)?;
                }
                Ok(d)
            })
            .collect()
    }

    /// Names of the label images under `labels/`.
    #[getter]
    fn labels(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let path = self.path.clone();
        py.detach(|| OmeZarr::open(&path).and_then(|z| z.label_names()))
            .py_err()
    }

    /// Opens the label image `name` (under the image's limits).
    fn label(&self, py: Python<'_>, name: &str) -> PyResult<PyImage> {
        let path = self.path.join("labels").join(name);
        let limits = self.limits;
        let image = py
            .detach(|| Image::open_series(&path, 0, &limits))
            .py_err()?;
        Ok(PyImage {
            image,
            path,
            series: 0,
            limits,
        })
    }

    /// The group's OME metadata as a dict (`multiscales`, `omero`, ...; the content of
    /// `attributes.ome` for NGFF 0.5).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let path = self.path.clone();
        let attrs = py
            .detach(|| OmeZarr::open(&path).map(|z| z.attributes().to_attributes()))
            .py_err()?;
        // 0.5 nests the metadata under `ome`; give the same shape for every version.
        let doc = match attrs.get("ome") {
            Some(serde_json::Value::Object(inner)) => inner.clone(),
            _ => attrs,
        };
        let text = serde_json::to_string(&doc).map_err(|e| usage(e.to_string()))?;
        json_to_py(py, &text)
    }

    /// The OME-XML document: from an OME-TIFF, or `OME/METADATA.ome.xml` of a
    /// bioformats2raw layout; `None` when there is none.
    #[getter]
    fn ome_xml(&self, py: Python<'_>) -> Option<String> {
        if self.path.is_file() {
            let path = self.path.clone();
            return py.detach(|| {
                ome_core::tiff::OmeTiff::open(&path)
                    .ok()
                    .and_then(|t| t.ome_xml().map(ome_core::ome_xml::to_xml))
            });
        }
        let mut dir = Some(self.path.as_path());
        // The image may be a series inside a bioformats2raw container.
        for _ in 0..2 {
            let d = dir?;
            let p = d.join("OME").join("METADATA.ome.xml");
            if let Ok(meta) = std::fs::metadata(&p)
                && meta.len() <= 64 << 20
            {
                return std::fs::read_to_string(&p).ok();
            }
            dir = d.parent();
        }
        None
    }

    /// Reads `level`; keyword arguments select by axis name: an int picks one index and
    /// drops the axis, a slice (step 1) keeps a range, e.g. `read(c=0, z=slice(10, 20))`.
    #[pyo3(signature = (level=0, **selection))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        level: usize,
        selection: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let levels = self.image.levels();
        let shape = &levels
            .get(level)
            .ok_or_else(|| {
                usage(format!(
                    "expected a level below {}, found {level}",
                    levels.len()
                ))
            })?
            .shape;
        let names = self.image.axis_names();
        let mut sel = Selection::all();
        if let Some(selection) = selection {
            for (k, v) in selection.iter() {
                let name: String = k.extract()?;
                let axis = names.iter().position(|n| *n == name).ok_or_else(|| {
                    usage(format!(
                        "expected one of the axes {names:?}, found {name:?}"
                    ))
                })?;
                let len = shape[axis] as i64;
                if let Ok(s) = v.cast::<PySlice>() {
                    let ix = s.indices(len as isize)?;
                    if ix.step != 1 {
                        return Err(usage(format!(
                            "expected a slice with step 1 for axis {name:?}, found step {}",
                            ix.step
                        )));
                    }
                    let stop = ix.stop.max(ix.start) as u64;
                    sel = sel.range(&name, ix.start as u64, Some(stop));
                } else {
                    let i: i64 = v.extract().map_err(|_| {
                        usage(format!(
                            "expected an int or a slice for axis {name:?}, found {v}"
                        ))
                    })?;
                    let i = if i < 0 { i + len } else { i };
                    if !(0..len).contains(&i) {
                        return Err(usage(format!(
                            "expected an index in 0..{len} for axis {name:?}, found {i}"
                        )));
                    }
                    sel = sel.index(&name, i as u64);
                }
            }
        }
        let image = &self.image;
        let data = py.detach(|| image.read(level, &sel)).py_err()?;
        Ok(to_numpy(py, data))
    }

    /// Reads the region of `level` starting at `start` with extent `shape`.
    fn read_region<'py>(
        &self,
        py: Python<'py>,
        level: usize,
        start: Vec<u64>,
        shape: Vec<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let image = &self.image;
        let data = py
            .detach(|| image.read_region(level, &start, &shape))
            .py_err()?;
        Ok(to_numpy(py, data))
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if copy == Some(false) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "reading an image always makes a new array; copy=False is impossible",
            ));
        }
        let a = self.read(py, 0, None)?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    fn __len__(&self) -> usize {
        self.image.levels()[0].shape.first().copied().unwrap_or(0) as usize
    }

    fn __repr__(&self) -> String {
        let l = &self.image.levels()[0];
        format!(
            "Image({:?}, axes={:?}, shape={:?}, dtype={:?}, levels={})",
            self.path.display().to_string(),
            self.image.axis_names().concat(),
            l.shape,
            l.dtype.name(),
            self.image.levels().len()
        )
    }
}
