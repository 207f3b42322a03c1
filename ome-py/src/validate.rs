//! `validate`: the `ome-validate` engine and its report.

use std::path::PathBuf;

use ome_validate::{Depth, Options, Report, TextOptions, Verdict, render_json, render_text};
use pyo3::prelude::*;

use crate::convert::json_to_py;
use crate::errors::{usage, validate_to_py};

/// One finding.
#[pyclass(module = "ome_py._ome_py", name = "Finding", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyFinding {
    code: String,
    severity: String,
    message: String,
    location: String,
    rule_page: String,
}

#[pymethods]
impl PyFinding {
    fn __repr__(&self) -> String {
        format!(
            "Finding(code={:?}, severity={:?}, location={:?}, message={:?})",
            self.code, self.severity, self.location, self.message
        )
    }

    fn __str__(&self) -> String {
        format!(
            "{} {} {}: {}",
            self.severity, self.code, self.location, self.message
        )
    }
}

/// A validation report.
#[pyclass(module = "ome_py._ome_py", name = "Report", frozen)]
#[derive(Debug)]
pub(crate) struct PyReport {
    report: Report,
    strict: bool,
}

#[pymethods]
impl PyReport {
    /// `"invalid"`, `"valid"` or `"valid-strict"`.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.report.verdict.as_str()
    }

    /// Whether the target passed: no error (and, with `strict`, no warning either).
    #[getter]
    fn ok(&self) -> bool {
        match self.report.verdict {
            Verdict::Invalid => false,
            Verdict::ValidStrict => true,
            _ => !self.strict,
        }
    }

    /// Every finding, sorted by location and code.
    #[getter]
    fn findings(&self) -> Vec<PyFinding> {
        self.report
            .findings()
            .map(|f| PyFinding {
                code: f.code.to_string(),
                severity: f.severity.to_string(),
                message: f.message.clone(),
                location: f.location.to_string(),
                rule_page: f.rule_page.clone(),
            })
            .collect()
    }

    /// The JSON report (schema in `spec/report/`) as a string.
    fn to_json(&self) -> String {
        render_json(&self.report)
    }

    /// The JSON report as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &render_json(&self.report))
    }

    fn __bool__(&self) -> bool {
        self.ok()
    }

    fn __str__(&self) -> String {
        render_text(&self.report, TextOptions::with_color(false))
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(verdict={:?}, errors={}, warnings={}, infos={})",
            self.verdict(),
            self.report.summary.errors,
            self.report.summary.warnings,
            self.report.summary.infos
        )
    }
}

/// Validates an OME-Zarr image, label, plate or bioformats2raw container, an attributes
/// JSON file, an OME-TIFF (single file, multi-file set or companion file) or an OME-XML
/// file. `xml_schema` names an OME XSD for the full schema check of OME-XML (through
/// `xmllint`; a warning says so when it cannot run).
#[pyfunction]
#[pyo3(signature = (path, *, depth="hierarchy", strict=false, xml_schema=None))]
pub(crate) fn validate(
    py: Python<'_>,
    path: PathBuf,
    depth: &str,
    strict: bool,
    xml_schema: Option<PathBuf>,
) -> PyResult<PyReport> {
    let depth = match depth {
        "attributes" => Depth::Attributes,
        "hierarchy" => Depth::Hierarchy,
        "data" => Depth::Data,
        other => {
            return Err(usage(format!(
                "expected depth \"attributes\", \"hierarchy\" or \"data\", found {other:?}"
            )));
        }
    };
    let mut options = Options::with_depth(depth);
    options.xml_schema = xml_schema;
    let report = py
        .detach(|| ome_validate::validate(&[path], &options))
        .map_err(|e| validate_to_py(&e))?;
    Ok(PyReport { report, strict })
}
