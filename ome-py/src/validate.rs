//! `validate`: the `ome-validate` engine and its report.

use std::path::PathBuf;

use ome_validate::{Batch, Depth, Options, Profile, Report, TextOptions, render_json, render_text};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::json_to_py;
use crate::errors::{usage, validate_to_py};
use crate::limits::limits_arg;

/// One finding.
#[pyclass(module = "ome_py", name = "Finding", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyFinding {
    target: String,
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
        target: String,
        code: String,
        severity: String,
        message: String,
        location: String,
        rule_page: String,
    ) -> Self {
        PyFinding {
            target,
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
    ) -> PyResult<(
        Bound<'py, PyAny>,
        (String, String, String, String, String, String),
    )> {
        let f = self.clone();
        Ok((
            py.get_type::<PyFinding>().getattr("_restore")?,
            (
                f.target,
                f.code,
                f.severity,
                f.message,
                f.location,
                f.rule_page,
            ),
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
    /// Each target as reported, with its verdict, in the order validated.
    targets: Vec<(String, String)>,
    json: String,
    text: String,
    strict: bool,
}

/// The fields of a report, in `__reduce__` order.
type ReportState = (
    String,
    (usize, usize, usize),
    Vec<PyFinding>,
    Vec<(String, String)>,
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
                    target: f.location.target.display().to_string(),
                    code: f.code.to_string(),
                    severity: f.severity.to_string(),
                    message: f.message.clone(),
                    location: f.location.to_string(),
                    rule_page: f.rule_page.clone(),
                })
                .collect(),
            targets: report
                .targets
                .iter()
                .map(|t| {
                    (
                        t.target.display().to_string(),
                        t.verdict.as_str().to_string(),
                    )
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

    /// Each target validated (given, or found by `recursive`), with its verdict, in order.
    #[getter]
    fn targets(&self) -> Vec<(String, String)> {
        self.targets.clone()
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
            Vec<(String, String)>,
            String,
            String,
            bool,
        ),
    ) -> Self {
        let (verdict, counts, findings, targets, json, text, strict) = state;
        PyReport {
            verdict,
            counts,
            findings: findings.iter().map(|f| f.get().clone()).collect(),
            targets,
            json,
            text,
            strict,
        }
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (ReportState,))> {
        let r = self.clone();
        Ok((
            py.get_type::<PyReport>().getattr("_restore")?,
            ((
                r.verdict, r.counts, r.findings, r.targets, r.json, r.text, r.strict,
            ),),
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

/// Validates OME-Zarr images, labels, plates or bioformats2raw containers, attributes
/// JSON files, OME-TIFFs (single files, multi-file sets or companion files) or OME-XML
/// files: `path` is one target or a sequence of them (each validated once, in parallel).
/// With `recursive`, the paths are directories searched for OME-Zarr roots and OME-TIFF
/// files (`ome-validate --recursive`). `profiles` adds profile rules: a `str` names a
/// built-in profile, an `os.PathLike` is a profile file (TOML). `baseline` names a stored
/// JSON report: only findings it does not hold are kept; `write_baseline` stores this
/// run's full report. `xml_schema` names an OME XSD for the full schema check of OME-XML
/// (through `xmllint`; a warning says so when it cannot run). `limits` bounds what is read.
#[pyfunction]
#[pyo3(signature = (
    path,
    *,
    depth="hierarchy",
    strict=false,
    xml_schema=None,
    limits=None,
    recursive=false,
    profiles=None,
    baseline=None,
    write_baseline=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn validate(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    depth: &str,
    strict: bool,
    xml_schema: Option<PathBuf>,
    limits: Option<&Bound<'_, PyAny>>,
    recursive: bool,
    profiles: Option<&Bound<'_, PyAny>>,
    baseline: Option<PathBuf>,
    write_baseline: Option<PathBuf>,
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
    let paths = one_or_many(path, "path", |p| p.extract::<PathBuf>())?;
    let mut options = Options::with_depth(depth);
    options.xml_schema = xml_schema;
    options.limits = limits_arg(limits)?;
    let profiles = match profiles {
        Some(p) => one_or_many(p, "profiles", |item| {
            Ok(if item.is_instance_of::<PyString>() {
                ProfileSpec::Name(item.extract()?)
            } else {
                ProfileSpec::File(item.extract()?)
            })
        })?,
        None => Vec::new(),
    };
    let mut batch = Batch::default();
    if recursive {
        batch.recursive = paths;
    } else {
        batch.targets = paths;
    }
    batch.baseline = baseline;
    batch.write_baseline = write_baseline;
    let report = py
        .detach(|| {
            options.profiles = profiles
                .iter()
                .map(|p| match p {
                    ProfileSpec::Name(name) => Profile::named(name),
                    ProfileSpec::File(file) => Profile::read(file),
                })
                .collect::<ome_validate::Result<_>>()?;
            batch.run(&options)
        })
        .map_err(|e| validate_to_py(&e))?;
    Ok(PyReport::new(&report, strict))
}

/// A profile as given: a built-in name or a file.
enum ProfileSpec {
    Name(String),
    File(PathBuf),
}

/// One item (a `str` or `os.PathLike`) or a sequence of items, each converted by `item`.
fn one_or_many<T>(
    value: &Bound<'_, PyAny>,
    name: &str,
    item: impl Fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let single = value.is_instance_of::<PyString>() || value.hasattr("__fspath__").unwrap_or(false);
    if single {
        return Ok(vec![item(value)?]);
    }
    let Ok(iter) = value.try_iter() else {
        return Err(usage(format!(
            "expected {name} to be a str, an os.PathLike or a sequence of them, found {}",
            value.get_type().name()?
        )));
    };
    iter.map(|v| item(&v?)).collect()
}
