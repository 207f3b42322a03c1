//! The engine: target → version → attribute rules → hierarchy rules → data rules →
//! findings sorted by (location, code). It never prints.

use crate::codes;
use std::path::{Path, PathBuf};

use ome_core::metadata::NgffVersion;
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::context::{Filter, Scope, Sink};
use crate::error::Result;
use crate::finding::Finding;
use crate::options::Options;
use crate::report::{Report, TargetKind, TargetReport, Verdict};
use crate::rule::version_str;
use crate::rules::ngff::{self, AttrInput, hierarchy};
use crate::rules::tiff;
use crate::target::{Target, read_json};

/// Validates every target, in parallel; the report keeps the order given. A target given
/// twice (the same path, or two spellings of one file or directory, as overlapping
/// `--recursive` roots find them) is validated once, where it first appears.
///
/// # Errors
/// [`Error::Usage`](crate::Error::Usage) for unknown codes in `select`/`ignore`,
/// [`Error::Target`](crate::Error::Target) when a target does not exist. Problems in the
/// data are findings, not errors.
pub fn validate(targets: &[PathBuf], options: &Options) -> Result<Report> {
    let filter = options.filter()?;
    let detected: Vec<Target> = distinct(targets)
        .into_iter()
        .map(|t| Target::detect(t))
        .collect::<Result<_>>()?;
    let reports = detected
        .par_iter()
        .map(|t| run_target(t, options, &filter))
        .collect();
    Ok(Report::new(options.depth, reports))
}

/// Validates one Zarr hierarchy whose bytes the caller supplies (the browser page's dropped
/// folder or URL, see [`ome_core::storage::ByteSource`]), as [`validate`] validates a
/// directory: the same rules, codes and report; `name` is the target's name in the report.
/// Stray chunk files are not looked for (a source is not listed file by file), and
/// profiles, which read the dataset as files, are refused.
///
/// # Errors
/// As [`validate`] for bad options; [`Error::Usage`](crate::Error::Usage) when
/// [`Options::profiles`] is not empty.
pub fn validate_source(
    name: &str,
    source: std::sync::Arc<dyn ome_core::storage::ByteSource>,
    options: &Options,
) -> Result<Report> {
    let filter = options.filter()?;
    if !options.profiles.is_empty() {
        return Err(crate::Error::Usage(
            "profiles are not available for a caller-supplied source".into(),
        ));
    }
    let path = PathBuf::from(name);
    let h = ome_core::zarr::Hierarchy::from_source(name, source, options.limits);
    let mut sink = Sink::new(&path, &filter);
    let (version, nodes) = hierarchy::walk_hierarchy(&mut sink, h, options);
    let mut findings = sink.findings;
    sort(&mut findings);
    findings
        .dedup_by(|a, b| a.code == b.code && a.location == b.location && a.message == b.message);
    let report = TargetReport {
        target: path.clone(),
        kind: TargetKind::Zarr,
        ngff_version: version.map(version_str),
        verdict: Verdict::of(&findings),
        nodes_checked: nodes,
        findings,
    };
    Ok(Report::new(options.depth, vec![report]))
}

/// The targets without repeats, in their first order. Two paths are one target when they
/// resolve to the same file or directory; a path that does not resolve (a URL, a missing
/// file, reported by `Target::detect`) is compared as written.
fn distinct(targets: &[PathBuf]) -> Vec<&PathBuf> {
    let mut seen = std::collections::HashSet::new();
    targets
        .iter()
        .filter(|t| seen.insert(std::fs::canonicalize(t).unwrap_or_else(|_| t.to_path_buf())))
        .collect()
}

/// Validates one target.
///
/// # Errors
/// As [`validate`].
pub fn validate_path(target: &Path, options: &Options) -> Result<TargetReport> {
    let filter = options.filter()?;
    Ok(run_target(&Target::detect(target)?, options, &filter))
}

/// Runs the attribute rules on one in-memory attributes object (a `.zattrs` document or a
/// Zarr v3 `attributes` object); `name` labels the findings' locations.
///
/// # Errors
/// As [`validate`] for bad options.
pub fn validate_attributes(
    attributes: &Value,
    name: &str,
    options: &Options,
) -> Result<Vec<Finding>> {
    let filter = options.filter()?;
    let path = PathBuf::from(name);
    let mut sink = Sink::new(&path, &filter);
    check_document(&mut sink, attributes, name, options);
    let mut findings = sink.findings;
    sort(&mut findings);
    Ok(findings)
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.location
            .cmp(&b.location)
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// The attribute rules on a standalone document; returns the version found.
fn check_document(
    sink: &mut Sink<'_>,
    doc: &Value,
    document: &str,
    options: &Options,
) -> Option<NgffVersion> {
    let fallback = options.ngff_version.unwrap_or(NgffVersion::V0_4);
    let Value::Object(obj) = doc else {
        let scope = Scope::new("", document, fallback);
        sink.emit(
            &scope,
            codes::NGFF_HIER_002,
            "",
            format!(
                "expected a JSON object of attributes, found {}",
                crate::context::kind(doc)
            ),
        );
        return None;
    };
    // A whole zarr.json: validate its attributes member.
    let (attrs, base): (&Map<String, Value>, &str) =
        match (obj.get("zarr_format"), obj.get("attributes")) {
            (Some(_), Some(Value::Object(a))) => (a, "/attributes"),
            _ => (obj, ""),
        };
    let meta = ngff::check_attributes(
        sink,
        "",
        document,
        AttrInput {
            attrs,
            base,
            required: options.ngff_version,
            parent: None,
        },
    );
    if !meta.kinds.any() {
        let scope = Scope::new("", document, meta.version);
        sink.emit(&scope, codes::NGFF_HIER_002, base, "expected OME-NGFF metadata (multiscales, labels, image-label, plate, well, scene or bioformats2raw.layout), found none");
    }
    Some(meta.version)
}

fn run_target(target: &Target, options: &Options, filter: &Filter) -> TargetReport {
    let (path, mut findings, version, nodes) = match target {
        Target::AttributesJson(path) => {
            let mut sink = Sink::new(path, filter);
            let document = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let version = match read_json(path, options.limits.max_metadata_bytes) {
                Ok(doc) => check_document(&mut sink, &doc, &document, options),
                Err(message) => {
                    let scope = Scope::new(
                        "",
                        &document,
                        options.ngff_version.unwrap_or(NgffVersion::V0_4),
                    );
                    sink.emit(&scope, codes::NGFF_HIER_001, "", message);
                    None
                }
            };
            (path.clone(), sink.findings, version, 1)
        }
        Target::Zarr(path) => {
            let mut sink = Sink::new(path, filter);
            let (version, nodes) = hierarchy::walk(&mut sink, path, options);
            (path.clone(), sink.findings, version, nodes)
        }
        Target::OmeTiff(path) => {
            let mut sink = Sink::new(path, filter);
            let nodes = tiff::check_tiff(&mut sink, path, options);
            (path.clone(), sink.findings, None, nodes)
        }
        Target::OmeXml(path) => {
            let mut sink = Sink::new(path, filter);
            let nodes = tiff::check_xml_file(&mut sink, path, options);
            (path.clone(), sink.findings, None, nodes)
        }
    };
    crate::profile::check_target(
        &options.profiles,
        target.kind(),
        &path,
        version.map(version_str),
        options.limits.max_metadata_bytes,
        filter,
        &mut findings,
    );
    sort(&mut findings);
    findings
        .dedup_by(|a, b| a.code == b.code && a.location == b.location && a.message == b.message);
    TargetReport {
        target: path,
        kind: target.kind(),
        ngff_version: version.map(version_str),
        verdict: Verdict::of(&findings),
        nodes_checked: nodes,
        findings,
    }
}
