//! JUnit XML, as CI test-report viewers read it (the Ant/Surefire dialect, `junit-10.xsd`):
//! one `testsuite`, one `testcase` per target. A target with a finding at or above the
//! threshold gets a `failure` listing those findings; the other findings of a target go in
//! its `system-out`.

use std::fmt::Write as _;

use super::{Report, TargetKind};
use crate::rule::Severity;

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot hold are
/// dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::AttributesJson => "attributes-json",
        TargetKind::Zarr => "zarr",
        TargetKind::OmeTiff => "ome-tiff",
        TargetKind::OmeXml => "ome-xml",
    }
}

/// Renders the report as a JUnit XML document; a target fails when it has a finding at or
/// above `threshold` (as the exit code does).
pub fn render_junit(report: &Report, threshold: Severity) -> String {
    let failures = report
        .targets
        .iter()
        .filter(|t| t.findings.iter().any(|f| f.severity >= threshold))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"ome-validate\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        report.targets.len()
    );
    let _ = writeln!(
        out,
        "  <properties>\n    <property name=\"depth\" value=\"{}\"/>\n    <property name=\"fail-on\" value=\"{}\"/>\n    <property name=\"verdict\" value=\"{}\"/>\n  </properties>",
        report.depth.as_str(),
        threshold.as_str(),
        report.verdict.as_str()
    );
    for t in &report.targets {
        let name = escape(&t.target.to_string_lossy());
        let _ = write!(
            out,
            "  <testcase name=\"{name}\" classname=\"ome-validate.{}\"",
            kind_name(t.kind)
        );
        if t.findings.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let line = |f: &crate::finding::Finding| {
            format!("{}[{}] {}: {}\n", f.severity, f.code, f.location, f.message)
        };
        let (failing, other): (Vec<_>, Vec<_>) =
            t.findings.iter().partition(|f| f.severity >= threshold);
        if !failing.is_empty() {
            let body: String = failing.iter().map(|f| line(f)).collect();
            let _ = writeln!(
                out,
                "    <failure type=\"{}\" message=\"{} finding(s) at or above {}\">{}</failure>",
                t.verdict.as_str(),
                failing.len(),
                threshold.as_str(),
                escape(&body)
            );
        }
        if !other.is_empty() {
            let body: String = other.iter().map(|f| line(f)).collect();
            let _ = writeln!(out, "    <system-out>{}</system-out>", escape(&body));
        }
        out.push_str("  </testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b>&\"'\u{1}c\n"), "a&lt;b&gt;&amp;&quot;&apos;c\n");
    }
}
