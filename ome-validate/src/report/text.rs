//! The human-readable renderer: one block per target, findings grouped by node.

use std::fmt::Write as _;

use super::{Report, Verdict};
use crate::rule::Severity;

/// Options of the text renderer.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct TextOptions {
    /// Use ANSI colours (the CLI sets this only on a terminal without `NO_COLOR`).
    pub color: bool,
}

impl TextOptions {
    /// Options with colour on or off.
    pub fn with_color(color: bool) -> Self {
        TextOptions { color }
    }
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.wrap(code, s.as_str())
    }
    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Invalid => "1;31",
            Verdict::Valid => "1;33",
            Verdict::ValidStrict => "1;32",
        };
        self.wrap(code, v.as_str())
    }
}

/// The summary after the targets of a run over several: each target's verdict, the
/// targets per verdict and the findings per rule code.
fn summary_block(out: &mut String, report: &Report, p: &Paint) {
    let _ = writeln!(out, "{}", p.wrap("1", "summary"));
    for t in &report.targets {
        let _ = writeln!(out, "  {} {}", p.verdict(t.verdict), t.target.display());
    }
    let v = report.summary.verdicts;
    let _ = writeln!(
        out,
        "  targets: {} invalid, {} valid, {} valid-strict",
        v.invalid, v.valid, v.valid_strict
    );
    let codes = report.code_counts();
    if !codes.is_empty() {
        let _ = writeln!(out, "  findings by code:");
        for (code, n) in codes {
            let _ = writeln!(out, "    {code:<16} {n}");
        }
    }
}

/// Renders the report for people.
pub fn render_text(report: &Report, options: TextOptions) -> String {
    let p = Paint(options.color);
    let mut out = String::new();
    for t in &report.targets {
        let version = t
            .ngff_version
            .map(|v| format!(" (OME-NGFF {v})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}{version}: {}",
            t.target.display(),
            p.verdict(t.verdict)
        );
        let mut current: Option<&str> = None;
        for f in &t.findings {
            if current != Some(f.location.node.as_str()) {
                current = Some(f.location.node.as_str());
                let node = if f.location.node.is_empty() {
                    "/"
                } else {
                    &f.location.node
                };
                let _ = writeln!(out, "  {}", p.wrap("1", &format!("node {node}")));
            }
            let _ = writeln!(
                out,
                "    {}[{}] {}",
                p.severity(f.severity),
                f.code,
                f.message
            );
            let doc = f.location.document.as_deref().unwrap_or("");
            let ptr = f
                .location
                .pointer
                .as_deref()
                .map(|s| format!("#{s}"))
                .unwrap_or_default();
            if !doc.is_empty() || !ptr.is_empty() {
                let _ = writeln!(out, "      at {doc}{ptr}");
            }
            let _ = writeln!(
                out,
                "      see {} {} §{} ({})",
                f.spec.document, f.spec.version, f.spec.section, f.rule_page
            );
        }
    }
    if report.targets.len() > 1 {
        summary_block(&mut out, report, &p);
    }
    if let Some(diff) = &report.baseline {
        let _ = writeln!(
            out,
            "baseline {}: {} new, {} unchanged, {} gone",
            diff.file.display(),
            diff.new,
            diff.unchanged,
            diff.gone.len()
        );
        for g in &diff.gone {
            let l = &g.location;
            let node = if l.node.is_empty() { "" } else { &l.node };
            let sep = if node.is_empty() { "" } else { "/" };
            let doc = l.document.as_deref().unwrap_or("");
            let ptr = l
                .pointer
                .as_deref()
                .map(|s| format!("#{s}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  gone {}[{}] {} {node}{sep}{doc}{ptr}: {}",
                g.severity, g.code, l.target, g.message
            );
        }
    }
    let s = report.summary;
    let _ = writeln!(
        out,
        "{} target(s): {} error(s), {} warning(s), {} info; verdict {}",
        s.targets,
        s.errors,
        s.warnings,
        s.infos,
        p.verdict(report.verdict)
    );
    out
}
