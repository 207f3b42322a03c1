//! # ome-py
//!
//! The native module `ome_py._ome_py`: Python bindings for `ome-core` (read, write,
//! convert, region-by-region writing) and `ome-validate`. The public Python API is
//! re-exported, with `open` and `Image.to_dask`, by `python/ome_py/__init__.py`; typed
//! stubs live in `_ome_py.pyi`. Every call that touches storage releases the GIL.
//!
//! Layout: `errors` (the one mapping from error kinds to exception classes), `convert`
//! (NumPy views without copies, option parsing), `limits` (`ome_py.Limits`), `image`,
//! `write`, `validate`, `remote` (`configure_remote`).

mod convert;
mod errors;
mod image;
mod limits;
mod remote;
mod validate;
mod write;

use pyo3::prelude::*;

// Chunk buffers of 128 KiB to 128 MiB come and go by the thousand in every read and
// write; mimalloc reuses them where the system allocator maps and unmaps them, as in the
// `ome` binary. Only Rust allocations use it; arrays handed to NumPy are freed by Rust.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native module.
#[pymodule]
fn _ome_py(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("OmeError", py.get_type::<errors::OmeError>())?;
    m.add("FormatError", py.get_type::<errors::FormatError>())?;
    m.add(
        "UnsupportedError",
        py.get_type::<errors::UnsupportedError>(),
    )?;
    m.add("UsageError", py.get_type::<errors::UsageError>())?;
    m.add("StorageError", py.get_type::<errors::StorageError>())?;
    m.add("LimitsError", py.get_type::<errors::LimitsError>())?;
    m.add_class::<limits::PyLimits>()?;
    m.add_class::<image::PyImage>()?;
    m.add_class::<image::PyLevel>()?;
    m.add_class::<write::PyRegionWriter>()?;
    m.add_class::<validate::PyReport>()?;
    m.add_class::<validate::PyFinding>()?;
    m.add_function(wrap_pyfunction!(write::write_ome_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(write::convert, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_ome_tiff, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_ome_tiff_series, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate, m)?)?;
    m.add_function(wrap_pyfunction!(remote::configure_remote, m)?)?;
    Ok(())
}
