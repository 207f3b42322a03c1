//! JSON and JSON Lines renderers. The JSON shape is described by
//! `spec/report/report-v1.schema.json`; changing it is a breaking change.

use serde_json::{Value, json};

use super::Report;

/// The version of the JSON report schema (`spec/report/report-v<N>.schema.json`).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

fn header() -> Value {
    json!({ "name": "ome-validate", "version": env!("CARGO_PKG_VERSION") })
}

/// The summary object: the counts, targets per verdict and findings per rule code.
fn summary(report: &Report) -> Value {
    let mut v = serde_json::to_value(report.summary).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("codes".into(), json!(report.code_counts()));
    }
    v
}

/// The whole report as one pretty-printed JSON document.
pub fn render_json(report: &Report) -> String {
    let mut value = json!({
        "report_version": REPORT_SCHEMA_VERSION,
        "tool": header(),
        "depth": report.depth,
        "verdict": report.verdict,
        "summary": summary(report),
        "targets": report.targets,
    });
    if let (Some(diff), Value::Object(m)) = (&report.baseline, &mut value) {
        m.insert("baseline".into(), json!(diff));
    }
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// One JSON object per line: a `finding` line per finding (with its target), a `target`
/// line per target, a `baseline` line when compared with a baseline, and a final `summary`
/// line.
pub fn render_jsonl(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |v: Value| {
        out.push_str(&serde_json::to_string(&v).unwrap_or_default());
        out.push('\n');
    };
    for t in &report.targets {
        for f in &t.findings {
            let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("type".into(), json!("finding"));
            }
            line(v);
        }
        line(json!({
            "type": "target",
            "target": t.target,
            "kind": t.kind,
            "ngff_version": t.ngff_version,
            "verdict": t.verdict,
            "nodes_checked": t.nodes_checked,
        }));
    }
    if let Some(diff) = &report.baseline {
        let mut v = json!(diff);
        if let Value::Object(m) = &mut v {
            m.insert("type".into(), json!("baseline"));
        }
        line(v);
    }
    line(json!({
        "type": "summary",
        "report_version": REPORT_SCHEMA_VERSION,
        "verdict": report.verdict,
        "summary": summary(report),
    }));
    out
}
