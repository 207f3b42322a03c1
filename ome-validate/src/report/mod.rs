//! The report model and its renderers. The engine fills a [`Report`]; the CLI picks a
//! renderer. Renderers return strings and never print.

mod conformance;
mod json;
mod junit;
mod sarif;
mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::baseline::BaselineDiff;
use crate::finding::Finding;
use crate::rule::{Depth, Severity};

pub use conformance::render_conformance;
pub use json::{REPORT_SCHEMA_VERSION, render_json, render_jsonl};
pub use junit::render_junit;
pub use sarif::render_sarif;
pub use text::{TextOptions, render_text};

/// The overall judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// At least one error.
    Invalid,
    /// No error, some warnings.
    Valid,
    /// No error and no warning.
    ValidStrict,
}

impl Verdict {
    /// The verdict of a list of findings.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Verdict {
        let worst = findings.into_iter().map(|f| f.severity).max();
        match worst {
            Some(Severity::Error) => Verdict::Invalid,
            Some(Severity::Warning) => Verdict::Valid,
            _ => Verdict::ValidStrict,
        }
    }

    /// `invalid`, `valid` or `valid-strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Invalid => "invalid",
            Verdict::Valid => "valid",
            Verdict::ValidStrict => "valid-strict",
        }
    }
}

/// What kind of target was validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TargetKind {
    /// A JSON document holding attributes (`.zattrs`, an attributes object or a `zarr.json`).
    AttributesJson,
    /// A Zarr hierarchy (v2 or v3).
    Zarr,
    /// An OME-TIFF file (with the multi-file set it belongs to).
    OmeTiff,
    /// An OME-XML file (a companion file with its TIFF set).
    OmeXml,
}

/// The result for one target.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TargetReport {
    /// The path as given.
    pub target: PathBuf,
    /// What it was.
    pub kind: TargetKind,
    /// The OME-NGFF version of the target's root, when one was found.
    pub ngff_version: Option<&'static str>,
    /// The verdict over this target's findings.
    pub verdict: Verdict,
    /// Number of nodes (documents) checked; for OME-TIFF the files of the set.
    pub nodes_checked: usize,
    /// Findings sorted by location, then code.
    pub findings: Vec<Finding>,
}

/// Counts over a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Targets validated.
    pub targets: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub infos: usize,
    /// Targets per verdict.
    pub verdicts: VerdictCounts,
}

/// How many targets got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub struct VerdictCounts {
    /// Targets with an error.
    pub invalid: usize,
    /// Targets with warnings and no error.
    pub valid: usize,
    /// Targets with no error and no warning.
    pub valid_strict: usize,
}

/// The result of one validation run over one or more targets.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The depth used.
    pub depth: Depth,
    /// The verdict over all targets.
    pub verdict: Verdict,
    /// Counts.
    pub summary: Summary,
    /// One entry per target, in the order given.
    pub targets: Vec<TargetReport>,
    /// Set when the findings were compared with a baseline: `targets` then holds only the
    /// new findings, and this what the baseline had that is gone.
    pub baseline: Option<BaselineDiff>,
}

impl Report {
    pub(crate) fn new(depth: Depth, targets: Vec<TargetReport>) -> Self {
        let mut summary = Summary {
            targets: targets.len(),
            ..Summary::default()
        };
        for t in &targets {
            match t.verdict {
                Verdict::Invalid => summary.verdicts.invalid += 1,
                Verdict::Valid => summary.verdicts.valid += 1,
                Verdict::ValidStrict => summary.verdicts.valid_strict += 1,
            }
        }
        for f in targets.iter().flat_map(|t| &t.findings) {
            match f.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        let verdict = targets
            .iter()
            .map(|t| t.verdict)
            .min()
            .unwrap_or(Verdict::ValidStrict);
        Report {
            depth,
            verdict,
            summary,
            targets,
            baseline: None,
        }
    }

    /// The number of findings per rule code, by code.
    pub fn code_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for f in self.findings() {
            *counts.entry(f.code).or_insert(0) += 1;
        }
        counts
    }

    /// Every finding of every target.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.targets.iter().flat_map(|t| &t.findings)
    }

    /// Whether some finding is at or above `threshold` (the CLI's exit code 1).
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings().any(|f| f.severity >= threshold)
    }
}
