//! The ngff-spec conformance runner contract: one `{"valid": bool, "message": str}` object.

use serde_json::json;

use super::Report;
use crate::rule::Severity;

/// Renders the report as the conformance object; `valid` is false when a finding is at or
/// above `threshold`. The message lists the failing codes.
pub fn render_conformance(report: &Report, threshold: Severity) -> String {
    let failing: Vec<String> = report
        .findings()
        .filter(|f| f.severity >= threshold)
        .map(|f| format!("{} {}: {}", f.code, f.location, f.message))
        .collect();
    let valid = failing.is_empty();
    let message = if valid {
        report.verdict.as_str().to_string()
    } else {
        failing.join("; ")
    };
    let mut s = json!({ "valid": valid, "message": message }).to_string();
    s.push('\n');
    s
}
