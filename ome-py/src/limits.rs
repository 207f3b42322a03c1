//! `Limits`: every field of [`ome_core::Limits`], settable from Python.

use ome_core::Limits;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Resource limits, the safety bounds against hostile input (`ome_core::Limits`). Every
/// keyword defaults to the library default, which is safe for untrusted data; raise one
/// for trusted data sets (`Limits(max_chunk_bytes=4 << 30)`). Pass it as `limits=` to
/// `open`, `write_ome_zarr`, `convert`, `validate`, `RegionWriter.create` and
/// `write_ome_tiff_series`; a plain dict of the same keywords works too. Exceeding a
/// limit raises `LimitsError`.
#[pyclass(module = "ome_py", name = "Limits", frozen, eq)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PyLimits {
    pub(crate) inner: Limits,
}

/// One `#[pymethods]` block from the list of fields: the keyword-only constructor, a
/// getter per field, `to_dict`, `__repr__` and pickling by keywords.
macro_rules! py_limits {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty),* $(,)?) => {
        #[pymethods]
        impl PyLimits {
            #[new]
            #[pyo3(signature = (*, $($field = None),*))]
            #[allow(clippy::too_many_arguments)] // One keyword per limit.
            fn new($($field: Option<$ty>),*) -> Self {
                let mut inner = Limits::default();
                $(if let Some(v) = $field {
                    inner.$field = v;
                })*
                PyLimits { inner }
            }

            $(
                $(#[doc = $doc])*
                #[getter]
                fn $field(&self) -> $ty {
                    self.inner.$field
                }
            )*

            /// The limits as a dict of keywords (`Limits(**limits.to_dict())` is `limits`).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $(d.set_item(stringify!($field), self.inner.$field)?;)*
                Ok(d)
            }

            fn __getnewargs_ex__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<((), Bound<'py, PyDict>)> {
                Ok(((), self.to_dict(py)?))
            }

            fn __repr__(&self) -> String {
                let fields: Vec<String> = vec![$(format!(
                    "{}={}",
                    stringify!($field),
                    self.inner.$field
                )),*];
                format!("Limits({})", fields.join(", "))
            }
        }
    };
}

py_limits! {
    /// Largest metadata document (`zarr.json`, `.zattrs`, `.zarray`, `.zgroup`), in bytes.
    max_metadata_bytes: u64,
    /// Largest decoded chunk, shard, TIFF tile or strip, in bytes.
    max_chunk_bytes: u64,
    /// Largest region one read may return, in bytes.
    max_read_bytes: u64,
    /// Most dimensions an array may have.
    max_dimensions: usize,
    /// Most pyramid levels, labels, wells or fields one document may list.
    max_list_entries: usize,
    /// Deepest nesting of a JSON metadata document (the document itself is depth 1).
    max_json_depth: usize,
    /// Most elements an array or a TIFF image may declare.
    max_array_elements: u64,
    /// Most IFDs in the main chain of a TIFF file.
    max_tiff_ifds: usize,
    /// Largest OME-XML document, in bytes.
    max_xml_bytes: usize,
    /// Deepest element nesting of an OME-XML document.
    max_xml_depth: usize,
}

/// The `limits=` argument: `None` (the defaults), a `Limits`, or a dict of its keywords.
pub(crate) fn limits_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Limits> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Limits::default());
    };
    if let Ok(l) = obj.cast::<PyLimits>() {
        return Ok(l.get().inner);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let made = obj.py().get_type::<PyLimits>().call((), Some(d))?;
        return Ok(made.cast::<PyLimits>()?.get().inner);
    }
    Err(crate::errors::usage(format!(
        "expected limits as an ome_py.Limits or a dict of its keywords, found {}",
        obj.get_type().name()?
    )))
}
