//! `ome_py.configure_remote`: how remote datasets (`https://`, `s3://`) are reached, the
//! keywords of the CLI's remote flags over `ome_core::storage::RemoteOptions`.

use std::time::Duration;

use ome_core::storage::{RemoteOptions, remote_options, set_remote_options};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::usage;

fn options_dict<'py>(py: Python<'py>, o: &RemoteOptions) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("endpoint", o.endpoint.clone())?;
    d.set_item("region", o.region.clone())?;
    d.set_item("anonymous", o.anonymous)?;
    d.set_item("max_requests", o.max_concurrency)?;
    d.set_item("request_timeout", o.timeout.as_secs_f64())?;
    d.set_item("retries", o.max_retries)?;
    Ok(d)
}

/// Sets how remote datasets are reached, for this process, from now on: the keywords
/// given replace the current values (read from the `AWS_*` environment at first use);
/// `endpoint=""` or `region=""` clears them. Returns the options in effect. Worker
/// processes (Dask) read their own environment: set `AWS_*` there instead.
/// `max_requests` sizes the reading threads at the first remote read of the process.
#[pyfunction]
#[pyo3(signature = (*, endpoint=None, region=None, anonymous=None, max_requests=None, request_timeout=None, retries=None))]
pub(crate) fn configure_remote<'py>(
    py: Python<'py>,
    endpoint: Option<String>,
    region: Option<String>,
    anonymous: Option<bool>,
    max_requests: Option<usize>,
    request_timeout: Option<f64>,
    retries: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut o = remote_options();
    if let Some(e) = endpoint {
        o.endpoint = (!e.is_empty()).then_some(e);
    }
    if let Some(r) = region {
        o.region = (!r.is_empty()).then_some(r);
    }
    if let Some(a) = anonymous {
        o.anonymous = a;
    }
    if let Some(n) = max_requests {
        if n == 0 {
            return Err(usage("expected max_requests of at least 1, found 0"));
        }
        o.max_concurrency = n;
    }
    if let Some(t) = request_timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(usage(format!(
                "expected a positive request_timeout in seconds, found {t}"
            )));
        }
        o.timeout = Duration::from_secs_f64(t);
    }
    if let Some(r) = retries {
        o.max_retries = r;
    }
    set_remote_options(o.clone());
    options_dict(py, &o)
}
