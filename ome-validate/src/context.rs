//! Where checks put their findings: a [`Sink`] per unit of work (a target, a well, a
//! field), merged by the engine, and the [`Scope`] (node, document, version) a check is in.

use std::path::Path;

use ome_core::metadata::NgffVersion;
use serde_json::Value;

use crate::codes::Code;
use crate::finding::{Finding, FindingLocation};
use crate::registry;

/// Which codes to report: `--select` and `--ignore`, each a list of codes or code
/// prefixes (`NGFF-AX` selects the whole area).
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) select: Vec<String>,
    pub(crate) ignore: Vec<String>,
}

fn matches(code: &str, pattern: &str) -> bool {
    let code = code.as_bytes();
    let pattern = pattern.as_bytes();
    code.len() >= pattern.len()
        && code[..pattern.len()].eq_ignore_ascii_case(pattern)
        && (code.len() == pattern.len()
            || pattern.last() == Some(&b'-')
            || code[pattern.len()] == b'-')
}

impl Filter {
    pub(crate) fn allows(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|p| matches(code, p)))
            && !self.ignore.iter().any(|p| matches(code, p))
    }
}

/// The node and document a check looks at, and the spec version that governs it.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) node: String,
    pub(crate) document: String,
    pub(crate) version: NgffVersion,
}

impl Scope {
    pub(crate) fn new(node: &str, document: &str, version: NgffVersion) -> Self {
        Scope {
            node: node.to_string(),
            document: document.to_string(),
            version,
        }
    }
}

/// Collects findings for one target (or one parallel piece of it).
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    target: &'a Path,
    filter: &'a Filter,
    pub(crate) findings: Vec<Finding>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(target: &'a Path, filter: &'a Filter) -> Self {
        Sink {
            target,
            filter,
            findings: Vec::new(),
        }
    }

    /// A new empty sink for the same target, for parallel work.
    pub(crate) fn fork(&self) -> Sink<'a> {
        Sink::new(self.target, self.filter)
    }

    pub(crate) fn join(&mut self, other: Sink<'_>) {
        self.findings.extend(other.findings);
    }

    /// Records a finding of `code` at `pointer` in the scope's document, with the severity
    /// the registry gives for the scope's version; nothing when the rule does not apply to
    /// that version or the filter drops it.
    pub(crate) fn emit(
        &mut self,
        scope: &Scope,
        code: Code,
        pointer: &str,
        message: impl Into<String>,
    ) {
        self.emit_in(scope, Some(&scope.document), code, pointer, message);
    }

    /// As [`Sink::emit`] for a finding about the node as a whole, or another document.
    pub(crate) fn emit_in(
        &mut self,
        scope: &Scope,
        document: Option<&str>,
        code: Code,
        pointer: &str,
        message: impl Into<String>,
    ) {
        let Some(rule) = registry::rule(code.as_str()) else {
            debug_assert!(false, "unknown rule code {code}");
            return;
        };
        if !self.filter.allows(code.as_str()) {
            return;
        }
        let Some(severity) = rule.severity(scope.version) else {
            return;
        };
        let location = FindingLocation {
            target: self.target.to_path_buf(),
            node: scope.node.clone(),
            document: document.map(str::to_string),
            pointer: document.map(|_| pointer.to_string()),
        };
        self.findings.push(Finding::new(
            rule,
            severity,
            scope.version,
            message.into(),
            location,
        ));
    }
}

/// Appends one reference token to a JSON Pointer.
pub(crate) fn ptr(base: &str, token: impl std::fmt::Display) -> String {
    let token = token.to_string().replace('~', "~0").replace('/', "~1");
    format!("{base}/{token}")
}

/// A word for a JSON value's type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a value for messages (truncated).
pub(crate) fn show(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 60 {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// The value as an integer, accepting integral floats (JSON Schema's `integer`).
pub(crate) fn as_int(v: &Value) -> Option<i128> {
    if let Some(i) = v.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = v.as_u64() {
        return Some(i128::from(u));
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
}

/// A canonical rendering (object keys sorted) for uniqueness checks, as JSON Schema's
/// `uniqueItems` compares objects regardless of key order.
pub(crate) fn canonical(v: &Value) -> String {
    fn go(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(x) = m.get(k) {
                        go(x, out);
                    }
                    out.push(',');
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for x in a {
                    go(x, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                    out.push_str(&format!("{}", f as i64));
                }
                _ => out.push_str(&n.to_string()),
            },
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    go(v, &mut s);
    s
}

/// Index of the first item equal to an earlier one, with that earlier index.
pub(crate) fn first_duplicate(items: &[Value]) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (i, v) in items.iter().enumerate() {
        if let Some(&j) = seen.get(&canonical(v)) {
            return Some((j, i));
        }
        seen.insert(canonical(v), i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_matches_codes_and_prefixes() {
        let f = Filter {
            select: vec!["NGFF-AX".into()],
            ignore: vec!["NGFF-AX-007".into()],
        };
        assert!(f.allows("NGFF-AX-001"));
        assert!(!f.allows("NGFF-AX-007"));
        assert!(!f.allows("NGFF-MS-001"));
        assert!(
            !Filter {
                select: vec!["NGFF-A".into()],
                ignore: vec![]
            }
            .allows("NGFF-AX-001")
        );
    }

    #[test]
    fn canonical_ignores_key_order() {
        let a: Value = serde_json::json!({"a": 1, "b": [1.0, 2]});
        let b: Value = serde_json::json!({"b": [1, 2], "a": 1});
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(first_duplicate(&[a, b]), Some((0, 1)));
    }
}
