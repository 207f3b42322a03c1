//! `validate`: the `ome-validate` engine and its report.

use std::path::PathBuf;

use ome_validate::{Depth, Options, Report, TextOptions, render_json, render_text};
use pyo3::prelude::*;

use crate::convert::json_to_py;
use crate::errors::{usage, validate_to_py};
use crate::limits::limits_arg;

/// One finding.
#[pyclass(module = "ome_py", name = "Finding", frozen, get_all)]
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
    /// Rebuilds a finding from `__reduce__`'s fields (pickling by value).
    #[staticmethod]
    fn _restore(
        code: String,
        severity: String,
        message: String,
        location: String,
        rule_page: String,
    ) -> Self {
        PyFinding {
            code,
            severity,
            message,
            location,
            rule_page,
        }
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (String, String, String, String, String))> {
        let f = self.clone();
        Ok((
            py.get_type::<PyFinding>().getattr("_restore")?,
            (f.code, f.severity, f.message, f.location, f.rule_page),
        ))
    }

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

/// A validation report. It holds what it shows (verdict, counts, findings, the JSON and
/// text renderings) and pickles by value, so a report made in a worker process arrives
/// whole.
#[pyclass(module = "ome_py", name = "Report", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyReport {
    verdict: String,
    /// Errors, warnings and infos.
    counts: (usize, usize, usize),
    findings: Vec<PyFinding>,
    json: String,
    text: String,
    strict: bool,
}

/// The fields of a report, in `__reduce__` order.
type ReportState = (
    String,
    (usize, usize, usize),
    Vec<PyFinding>,
    String,
    String,
    bool,
);

impl PyReport {
    fn new(report: &Report, strict: bool) -> Self {
        PyReport {
            verdict: report.verdict.as_str().to_string(),
            counts: (
                report.summary.errors,
                report.summary.warnings,
                report.summary.infos,
            ),
            findings: report
                .findings()
                .map(|f| PyFinding {
                    code: f.code.to_string(),
                    severity: f.severity.to_string(),
                    message: f.message.clone(),
                    location: f.location.to_string(),
                    rule_page: f.rule_page.clone(),
                })
                .collect(),
            json: render_json(report),
            text: render_text(report, TextOptions::with_color(false)),
            strict,
        }
    }
}

#[pymethods]
impl PyReport {
    /// `"invalid"`, `"valid"` or `"valid-strict"`.
    #[getter]
    fn verdict(&self) -> &str {
        &self.verdict
    }

    /// Whether the target passed: no error (and, with `strict`, no warning either).
    #[getter]
    fn ok(&self) -> bool {
        match self.verdict.as_str() {
            "invalid" => false,
            "valid-strict" => true,
            _ => !self.strict,
        }
    }

    /// Every finding, sorted by location and code.
    #[getter]
    fn findings(&self) -> Vec<PyFinding> {
        self.findings.clone()
    }

    /// The JSON report (schema in `spec/report/`) as a string.
    fn to_json(&self) -> String {
        self.json.clone()
    }

    /// The JSON report as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.json)
    }

    /// Rebuilds a report from `__reduce__`'s state (pickling by value).
    #[staticmethod]
    #[allow(clippy::type_complexity)]
    fn _restore(
        state: (
            String,
            (usize, usize, usize),
            Vec<Bound<'_, PyFinding>>,
            String,
            String,
            bool,
        ),
    ) -> Self {
        let (verdict, counts, findings, json, text, strict) = state;
        PyReport {
            verdict,
            counts,
            findings: findings.iter().map(|f| f.get().clone()).collect(),
            json,
            text,
            strict,
        }
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (ReportState,))> {
        let r = self.clone();
        Ok((
            py.get_type::<PyReport>().getattr("_restore")?,
            ((r.verdict, r.counts, r.findings, r.json, r.text, r.strict),),
        ))
    }

    fn __bool__(&self) -> bool {
        self.ok()
    }

    fn __str__(&self) -> String {
        self.text.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(verdict={:?}, errors={}, warnings={}, infos={})",
            self.verdict, self.counts.0, self.counts.1, self.counts.2
        )
    }
}

/// Validates an OME-Zarr image, label, plate or bioformats2raw container, an attributes
/// JSON file, an OME-TIFF (single file, multi-file set or companion file) or an OME-XML
/// file. `xml_schema` names an OME XSD for the full schema check of OME-XML (through
/// `xmllint`; a warning says so when it cannot run). `limits` bounds what is read.
#[pyfunction]
#[pyo3(signature = (path, *, depth="hierarchy", strict=false, xml_schema=None, limits=None))]
pub(crate) fn validate(
    py: Python<'_>,
    path: PathBuf,
    depth: &str,
    strict: bool,
    xml_schema: Option<PathBuf>,
    limits: Option<&Bound<'_, PyAny>>,
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
    options.limits = limits_arg(limits)?;
    let report = py
        .detach(|| ome_validate::validate(&[path], &options))
        .map_err(|e| validate_to_py(&e))?;
    Ok(PyReport::new(&report, strict))
}
