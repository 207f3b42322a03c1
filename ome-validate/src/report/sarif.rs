//! SARIF 2.1.0 (OASIS), as GitHub code scanning reads it: one run, the rules that fired as
//! `tool.driver.rules` (metadata from the registry and the rule pages), one result per
//! finding.
//!
//! Every result has a physical location, because code scanning shows only those: the
//! metadata file of the Zarr node (`image.zarr/0/zarr.json`), the OME-TIFF or OME-XML file
//! (the set member the finding is about), with `region.startLine` (the XML line where one is
//! known, else 1: code scanning requires a start line). The node and JSON Pointer (or
//! IFD / OME-XML element path) go in a logical location, and `partialFingerprints` carries a
//! hash of target, code and location (never the message), so alerts match across runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Report, TargetKind};
use crate::finding::Finding;
use crate::registry;
use crate::rule::{Rule, Severity};

/// The schema URI written in `$schema`.
const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A rule title as a SARIF `name` (an identifier): `axis names are unique` →
/// `AxisNamesAreUnique`.
fn pascal(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The text of a `## Heading` section of a rule page.
fn page_section<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let start = page.find(&format!("\n## {heading}\n"))? + heading.len() + 5;
    let rest = &page[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The `reportingDescriptor` of a rule.
fn descriptor(rule: &Rule) -> Value {
    let latest = rule.versions().last();
    let severity = latest
        .and_then(|v| rule.severity(v))
        .unwrap_or(Severity::Info);
    let full = page_section(rule.page, "What it checks").unwrap_or(rule.title);
    // The link goes to the newest released version the rule applies to (not a candidate).
    let released = rule
        .versions()
        .filter(|v| !crate::rule::version_str(*v).contains("rc"))
        .last()
        .or(latest);
    let help_uri = released.map(|v| rule.spec_url(v)).unwrap_or_default();
    let mut d = json!({
        "id": rule.code,
        "name": pascal(rule.title),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full },
        "help": { "text": rule.page, "markdown": rule.page },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "tags": [rule.spec_document(), rule.depth.as_str()],
            "rulePage": rule.page_path(),
        },
    });
    if !help_uri.is_empty()
        && let Value::Object(m) = &mut d
    {
        m.insert("helpUri".into(), json!(help_uri));
    }
    d
}

/// The `reportingDescriptor` of a profile rule (not in the registry), from one finding.
fn profile_descriptor(f: &Finding) -> Value {
    let text = format!("{} (profile {}, {})", f.code, f.spec.version, f.rule_page);
    let mut d = json!({
        "id": f.code,
        "name": pascal(f.code),
        "shortDescription": { "text": text },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": { "tags": ["profile", f.spec.version], "rulePage": f.rule_page },
    });
    if f.spec.url.contains("://")
        && let Value::Object(m) = &mut d
    {
        m.insert("helpUri".into(), json!(f.spec.url));
    }
    d
}

/// A path as a relative URI reference (or a `file://` URI when absolute): `/`-separated,
/// with everything but unreserved characters and `/` percent-encoded.
fn uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(s.len());
    if s.starts_with('/') {
        out.push_str("file://");
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file a finding points at.
fn artifact(kind: TargetKind, f: &Finding) -> PathBuf {
    let l = &f.location;
    match kind {
        TargetKind::Zarr => {
            let mut p = l.target.clone();
            if !l.node.is_empty() {
                p.push(&l.node);
            }
            if let Some(doc) = &l.document
                && !doc.is_empty()
                && !doc.contains(char::is_whitespace)
            {
                p.push(doc);
            }
            p
        }
        TargetKind::OmeTiff | TargetKind::OmeXml if !l.node.is_empty() => l
            .target
            .parent()
            .map(|d| d.join(&l.node))
            .unwrap_or_else(|| PathBuf::from(&l.node)),
        _ => l.target.clone(),
    }
}

/// A stable 64-bit FNV-1a hash, hex: the fingerprint of target, code and location.
fn fingerprint(f: &Finding) -> String {
    let l = &f.location;
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        l.target.to_string_lossy(),
        f.code,
        l.node,
        l.document.as_deref().unwrap_or(""),
        l.pointer.as_deref().unwrap_or("")
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn result(kind: TargetKind, f: &Finding, rule_index: Option<usize>) -> Value {
    let l = &f.location;
    let start_line = l
        .pointer
        .as_deref()
        .and_then(|p| p.strip_prefix("line "))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let logical_kind = match kind {
        TargetKind::Zarr | TargetKind::AttributesJson => "object",
        _ => "element",
    };
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&artifact(kind, f)) },
                "region": { "startLine": start_line },
            },
            "logicalLocations": [{
                "name": l.pointer.clone().or_else(|| l.document.clone()).unwrap_or_else(|| "/".into()),
                "fullyQualifiedName": l.to_string(),
                "kind": logical_kind,
            }],
        }],
        "partialFingerprints": { "omeValidateLocation/v1": fingerprint(f) },
        "properties": {
            "target": l.target.to_string_lossy(),
            "node": l.node,
            "document": l.document,
            "pointer": l.pointer,
            "spec": f.spec.url,
        },
    });
    if let (Some(i), Value::Object(m)) = (rule_index, &mut r) {
        m.insert("ruleIndex".into(), json!(i));
    }
    r
}

/// Renders the report as a SARIF 2.1.0 log.
pub fn render_sarif(report: &Report) -> String {
    // The rules that fired, by code; their index in `rules` is each result's `ruleIndex`.
    let fired: BTreeMap<&str, Option<&'static Rule>> = report
        .findings()
        .map(|f| (f.code, registry::rule(f.code)))
        .collect();
    let mut rules = Vec::new();
    let mut index = BTreeMap::new();
    for (code, rule) in &fired {
        index.insert(*code, rules.len());
        match rule {
            Some(rule) => rules.push(descriptor(rule)),
            None => {
                if let Some(f) = report.findings().find(|f| f.code == *code) {
                    rules.push(profile_descriptor(f));
                }
            }
        }
    }
    let results: Vec<Value> = report
        .targets
        .iter()
        .flat_map(|t| {
            t.findings
                .iter()
                .map(|f| result(t.kind, f, index.get(f.code).copied()))
        })
        .collect();
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ome-validate",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://ngff.openmicroscopy.org/",
                "rules": rules,
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal("axis names are unique"), "AxisNamesAreUnique");
        assert_eq!(
            uri(Path::new("a b/c.zarr/zarr.json")),
            "a%20b/c.zarr/zarr.json"
        );
        assert_eq!(uri(Path::new("/x/y#z")), "file:///x/y%23z");
    }

    #[test]
    fn page_sections() {
        let page = "# X\n\n## What it checks\n\nAxis names are unique.\n\n## Why\n\nbecause";
        assert_eq!(
            page_section(page, "What it checks"),
            Some("Axis names are unique.")
        );
        assert_eq!(page_section(page, "Nope"), None);
    }
}
