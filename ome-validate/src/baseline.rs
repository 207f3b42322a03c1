//! Baselines (`--write-baseline FILE`, `--baseline FILE`): a stored JSON report of an earlier
//! run, against which a run reports only what is new and what is gone.
//!
//! Findings are matched by target, code and location (node, document, pointer), never by
//! message text, so rewording a message does not make a finding new. Matching counts: two
//! findings at one key in the run and one in the baseline leave one new.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::report::{REPORT_SCHEMA_VERSION, Report, TargetReport, Verdict, render_json};

/// The largest baseline file read, in bytes.
const MAX_BASELINE_BYTES: u64 = 256 << 20;

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    target: String,
    code: String,
    node: String,
    document: Option<String>,
    pointer: Option<String>,
}

impl Key {
    fn of(f: &Finding) -> Key {
        Key {
            target: f.location.target.to_string_lossy().into_owned(),
            code: f.code.to_string(),
            node: f.location.node.clone(),
            document: f.location.document.clone(),
            pointer: f.location.pointer.clone(),
        }
    }
}

/// A finding of the baseline that the run no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineFinding {
    /// The rule code.
    pub code: String,
    /// Its severity when it was stored.
    pub severity: String,
    /// Its message when it was stored.
    pub message: String,
    /// Where it was.
    pub location: BaselineLocation,
}

/// The location of a [`BaselineFinding`], as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineLocation {
    /// The target as given.
    pub target: String,
    /// Node path inside the hierarchy.
    pub node: String,
    /// The metadata document.
    pub document: Option<String>,
    /// JSON Pointer (or element path) into it.
    pub pointer: Option<String>,
}

impl BaselineFinding {
    fn key(&self) -> Key {
        Key {
            target: self.location.target.clone(),
            code: self.code.clone(),
            node: self.location.node.clone(),
            document: self.location.document.clone(),
            pointer: self.location.pointer.clone(),
        }
    }
}

/// The outcome of comparing a run with a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BaselineDiff {
    /// The baseline file.
    pub file: PathBuf,
    /// Findings of the run that the baseline does not have (they stay in the report).
    pub new: usize,
    /// Findings of the run that the baseline has (dropped from the report).
    pub unchanged: usize,
    /// Findings of the baseline that the run no longer has.
    pub gone: Vec<BaselineFinding>,
}

/// A stored report to compare runs with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Baseline {
    file: PathBuf,
    findings: Vec<BaselineFinding>,
}

#[derive(Deserialize)]
struct StoredReport {
    report_version: u32,
    targets: Vec<StoredTarget>,
}

#[derive(Deserialize)]
struct StoredTarget {
    findings: Vec<BaselineFinding>,
}

impl Baseline {
    /// Reads a baseline: a JSON report (`--format json`, `report_version` 1) of at most
    /// 256 MiB.
    ///
    /// # Errors
    /// [`Error::Baseline`] when the file cannot be read, is too large, is not JSON, or is
    /// not a JSON report of a known version (the message names the key).
    pub fn read(path: &Path) -> Result<Baseline> {
        let fail = |message: String| Error::Baseline {
            path: path.to_path_buf(),
            message,
        };
        let file = ome_core::open_regular(path).map_err(|e| {
            fail(format!(
                "expected a readable file, found an i/o error ({e})"
            ))
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_BASELINE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                fail(format!(
                    "expected a readable file, found an i/o error ({e})"
                ))
            })?;
        if bytes.len() as u64 > MAX_BASELINE_BYTES {
            return Err(fail(format!(
                "expected a baseline of at most {MAX_BASELINE_BYTES} bytes, found a larger file"
            )));
        }
        Self::parse(path, &bytes)
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Baseline> {
        let fail = |message: String| Error::Baseline {
            path: path.to_path_buf(),
            message,
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let stored: StoredReport = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let at = e.path().to_string();
            fail(format!(
                "expected an ome-validate JSON report (--format json), found a problem at {at} ({})",
                e.inner()
            ))
        })?;
        if stored.report_version == 0 || stored.report_version > REPORT_SCHEMA_VERSION {
            return Err(fail(format!(
                "expected report_version 1 to {REPORT_SCHEMA_VERSION}, found {}",
                stored.report_version
            )));
        }
        Ok(Baseline {
            file: path.to_path_buf(),
            findings: stored
                .targets
                .into_iter()
                .flat_map(|t| t.findings)
                .collect(),
        })
    }

    /// Keeps in `report` only the findings the baseline does not have; target verdicts,
    /// the verdict and the summary are recomputed over them, and
    /// [`Report::baseline`] tells how many were unchanged and which are gone.
    pub fn apply(&self, report: Report) -> Report {
        let mut stored: BTreeMap<Key, Vec<&BaselineFinding>> = BTreeMap::new();
        for f in &self.findings {
            stored.entry(f.key()).or_default().push(f);
        }
        let (mut new, mut unchanged) = (0, 0);
        let depth = report.depth;
        let targets: Vec<TargetReport> = report
            .targets
            .into_iter()
            .map(|mut t| {
                t.findings.retain(|f| {
                    let known = stored.get_mut(&Key::of(f)).and_then(Vec::pop).is_some();
                    if known {
                        unchanged += 1;
                    } else {
                        new += 1;
                    }
                    !known
                });
                t.verdict = Verdict::of(&t.findings);
                t
            })
            .collect();
        let gone = stored.into_values().flatten().cloned().collect::<Vec<_>>();
        let mut out = Report::new(depth, targets);
        out.baseline = Some(BaselineDiff {
            file: self.file.clone(),
            new,
            unchanged,
            gone,
        });
        out
    }
}

/// Writes `report` as a baseline (its JSON report) to `path`.
///
/// # Errors
/// [`Error::Baseline`] when the file cannot be written.
pub fn write_baseline(report: &Report, path: &Path) -> Result<()> {
    std::fs::write(path, render_json(report)).map_err(|e| Error::Baseline {
        path: path.to_path_buf(),
        message: format!("expected a writable file, found an i/o error ({e})"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_report_that_is_not_one_names_the_key() {
        let path = Path::new("base.json");
        for (bytes, expect) in [
            (&b"[]"[..], "expected an ome-validate JSON report"),
            (
                br#"{"report_version": 1, "targets": [{"findings": [{"code": 3}]}]}"#,
                "targets[0].findings[0].code",
            ),
            (br#"{"report_version": 9, "targets": []}"#, "found 9"),
            (b"not json", "found a problem"),
        ] {
            match Baseline::parse(path, bytes) {
                Err(Error::Baseline { message, .. }) => {
                    assert!(message.contains(expect), "{message}");
                }
                other => panic!("expected a baseline error, found {other:?}"),
            }
        }
    }
}
