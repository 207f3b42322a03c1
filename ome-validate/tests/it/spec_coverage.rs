//! The sentence-level coverage tables `spec/coverage/ngff-<version>.tsv` are complete and
//! true: every normative sentence of the spec prose (`../shared/spec-data/ngff/<version>/
//! spec/index.md`, the official text, read in place) is a row, matched by normalized text;
//! no row is stale; a row says which rules check it (each a registry code that applies to
//! that version and is listed in the clause table `spec/coverage/ngff-<version>.md`) or why
//! nothing does. A sentence is normative when it holds an RFC 2119 keyword in capitals
//! (MUST, SHOULD, REQUIRED, RECOMMENDED, SHALL, MAY; NOT forms included).
//!
//! `PRINT_MISSING_COVERAGE=1` prints the missing rows as TSV lines to paste and classify.

// Helpers of a test: a broken fixture or table panics with what is wrong.
#![allow(clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ome_validate::NgffVersion;

const VERSIONS: [(&str, NgffVersion); 6] = [
    ("0.1", NgffVersion::V0_1),
    ("0.2", NgffVersion::V0_2),
    ("0.3", NgffVersion::V0_3),
    ("0.4", NgffVersion::V0_4),
    ("0.5", NgffVersion::V0_5),
    ("0.6rc0", NgffVersion::V0_6),
];

const KEYWORDS: [&str; 6] = ["MUST", "SHOULD", "REQUIRED", "RECOMMENDED", "SHALL", "MAY"];

/// The statuses a row may have.
const STATUSES: [&str; 4] = ["checked", "not-checkable", "not-checked", "informative"];

/// A paragraph, list item, table row or quote of the prose, with the section it is in.
struct Unit {
    section: String,
    text: String,
}

fn slug(heading: &str) -> String {
    let mut plain = String::new();
    let mut in_tag = false;
    for c in heading.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let lower = plain.to_lowercase();
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// `(label)=` (MyST target) or `(label)` right after a heading: the section anchor, without
/// a `version0.4:` prefix.
fn label(line: &str, with_equals: bool) -> Option<String> {
    let inner = if with_equals {
        line.strip_suffix(")=")?
    } else {
        line.strip_suffix(')')?
    };
    let inner = inner.strip_prefix('(')?;
    if inner.is_empty() || inner.chars().any(|c| c == ')' || c.is_whitespace()) {
        return None;
    }
    Some(inner.rsplit(':').next().unwrap_or(inner).to_string())
}

fn starts_block(line: &str) -> bool {
    let list = line
        .strip_prefix(['-', '*', '+'])
        .or_else(|| {
            let digits = line.trim_start_matches(|c: char| c.is_ascii_digit());
            (digits.len() < line.len())
                .then_some(digits)?
                .strip_prefix('.')
        })
        .is_some_and(|rest| rest.starts_with(char::is_whitespace));
    list || line.starts_with('|')
        || line.starts_with('>')
        || line.starts_with(":::")
        || line.starts_with('<')
}

/// The prose as units: front matter, fenced code and HTML comments left out.
fn units(text: &str) -> Vec<Unit> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut start = 0;
    if lines.first().map(|l| l.trim()) == Some("---") {
        start = lines
            .iter()
            .skip(1)
            .position(|l| l.trim() == "---")
            .map_or(lines.len(), |p| p + 2);
    }
    let mut out = Vec::new();
    let mut buf: Vec<&str> = Vec::new();
    let mut section = String::new();
    let (mut in_fence, mut in_comment, mut after_heading) = (false, false, false);
    let flush = |buf: &mut Vec<&str>, out: &mut Vec<Unit>, section: &str| {
        if !buf.is_empty() {
            out.push(Unit {
                section: section.to_string(),
                text: buf.join(" "),
            });
            buf.clear();
        }
    };
    for line in lines.iter().skip(start) {
        let s = line.trim();
        if s.starts_with("```") || s.starts_with("~~~") {
            flush(&mut buf, &mut out, &section);
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if in_comment {
            if s.contains("-->") {
                in_comment = false;
            }
            continue;
        }
        if s.starts_with("<!--") {
            if !s.contains("-->") {
                in_comment = true;
            }
            flush(&mut buf, &mut out, &section);
            continue;
        }
        let hashes = s.len() - s.trim_start_matches('#').len();
        if hashes > 0 && s[hashes..].starts_with(char::is_whitespace) {
            flush(&mut buf, &mut out, &section);
            section = slug(s[hashes..].trim());
            after_heading = true;
            continue;
        }
        if let Some(l) = label(s, true) {
            flush(&mut buf, &mut out, &section);
            if after_heading {
                section = l;
            }
            continue;
        }
        if after_heading && let Some(l) = label(s, false) {
            section = l;
            continue;
        }
        if s.is_empty() {
            flush(&mut buf, &mut out, &section);
            continue;
        }
        after_heading = false;
        if starts_block(s) {
            flush(&mut buf, &mut out, &section);
        }
        buf.push(s);
    }
    flush(&mut buf, &mut out, &section);
    out
}

/// Splits a unit into sentences: after `.`, `!` or `?`, whitespace, then a capital, a
/// quote, a backtick, `(`, `[` or `*`; never after `e.g.`, `i.e.` or `etc.`.
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        if matches!(chars[i], '.' | '!' | '?') {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let next_ok = j > i + 1
                && j < chars.len()
                && (chars[j].is_ascii_uppercase()
                    || matches!(chars[j], '"' | '`' | '(' | '[' | '*'));
            let before: String = chars[start..=i].iter().collect();
            let abbreviation = ["e.g.", "i.e.", "etc."].iter().any(|a| {
                before.ends_with(a)
                    && before[..before.len() - a.len()]
                        .chars()
                        .last()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            });
            if next_ok && !abbreviation {
                out.push(before);
                start = j;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    if start < chars.len() {
        out.push(chars[start..].iter().collect());
    }
    out
}

fn is_normative(sentence: &str) -> bool {
    sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| KEYWORDS.contains(&w))
}

fn normalize(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalized sentence → (section, sentence as written) for every normative sentence.
fn normative_sentences(prose: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for unit in units(prose) {
        for s in sentences(&unit.text) {
            if is_normative(&s) {
                out.entry(normalize(&s)).or_insert((
                    unit.section.clone(),
                    s.split_whitespace().collect::<Vec<_>>().join(" "),
                ));
            }
        }
    }
    out
}

struct Row {
    line: usize,
    version: String,
    keywords: String,
    sentence: String,
    status: String,
    rules: Vec<String>,
    note: String,
}

fn read_table(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l);
    assert_eq!(
        header,
        Some("version\tsection\tkeywords\tsentence\tstatus\trules\tnote"),
        "{}: header",
        path.display()
    );
    lines
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                cols.len(),
                7,
                "{}:{}: expected 7 columns",
                path.display(),
                i + 1
            );
            Row {
                line: i + 1,
                version: cols[0].to_string(),
                keywords: cols[2].to_string(),
                sentence: cols[3].to_string(),
                status: cols[4].to_string(),
                rules: cols[5].split_whitespace().map(str::to_string).collect(),
                note: cols[6].to_string(),
            }
        })
        .collect()
}

#[test]
fn every_normative_sentence_has_a_row_and_every_row_a_sentence() {
    let Some(data) = testkit::spec_data() else {
        return;
    };
    let root = testkit::repo_root();
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for (version, ngff) in VERSIONS {
        let prose_path = data.join(format!("ngff/{version}/spec/index.md"));
        let Ok(prose) = std::fs::read_to_string(&prose_path) else {
            testkit::skip(&format!("{} is absent", prose_path.display()));
            continue;
        };
        let expected = normative_sentences(&prose);
        let table = root.join(format!("spec/coverage/ngff-{version}.tsv"));
        let rows = read_table(&table);
        let clause_table =
            std::fs::read_to_string(root.join(format!("spec/coverage/ngff-{version}.md")))
                .expect("the clause table of the version");
        let mut seen = BTreeSet::new();
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &rows {
            let at = format!("{}:{}", table.display(), row.line);
            let key = normalize(&row.sentence);
            if !seen.insert(key.clone()) {
                failures.push(format!("{at}: the sentence is listed twice"));
            }
            if !expected.contains_key(&key) {
                failures.push(format!(
                    "{at}: no such normative sentence in the {version} prose: {:?}",
                    row.sentence
                ));
            }
            if row.version != version {
                failures.push(format!(
                    "{at}: version {:?} in the {version} table",
                    row.version
                ));
            }
            if row.keywords.is_empty() {
                failures.push(format!("{at}: no keyword named"));
            }
            *by_status.entry(row.status.as_str()).or_default() += 1;
            match row.status.as_str() {
                "checked" => {
                    if row.rules.is_empty() {
                        failures.push(format!("{at}: checked, but no rule named"));
                    }
                    for code in &row.rules {
                        match ome_validate::rule(code) {
                            None => failures.push(format!("{at}: {code} is not a registry code")),
                            Some(rule) if rule.severity(ngff).is_none() => {
                                failures.push(format!("{at}: {code} does not apply to {version}"))
                            }
                            Some(_) => {}
                        }
                        if !clause_table.contains(&format!("[{code}]")) {
                            failures.push(format!(
                                "{at}: {code} is missing from spec/coverage/ngff-{version}.md"
                            ));
                        }
                    }
                }
                status if STATUSES.contains(&status) => {
                    if !row.rules.is_empty() {
                        failures.push(format!("{at}: {status}, yet rules are named"));
                    }
                    if row.note.is_empty() {
                        failures.push(format!("{at}: {status} without a reason"));
                    }
                }
                other => failures.push(format!("{at}: unknown status {other:?}")),
            }
        }
        let missing: Vec<_> = expected
            .iter()
            .filter(|(k, _)| !seen.contains(*k))
            .collect();
        for (_, (section, sentence)) in &missing {
            failures.push(format!(
                "{}: normative sentence without a row (section {section}): {sentence:?}",
                table.display()
            ));
            if std::env::var_os("PRINT_MISSING_COVERAGE").is_some() {
                eprintln!("{version}\t{section}\t\t{sentence}\t\t\t");
            }
        }
        counts.push(format!(
            "{version}: {} normative sentences {by_status:?}",
            expected.len()
        ));
    }
    eprintln!("{}", counts.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_splitter_keeps_abbreviations_and_splits_sentences() {
    let s = sentences(
        "Groups MUST be numbered (i.e. \"0/\", \"1/\"). Readers MAY ignore e.g. Foo. Next one.",
    );
    assert_eq!(
        s,
        [
            "Groups MUST be numbered (i.e. \"0/\", \"1/\").",
            "Readers MAY ignore e.g. Foo.",
            "Next one."
        ]
    );
    assert!(!is_normative("the key MUST_NOT"));
    assert!(is_normative("- MUST contain"));
    assert!(!is_normative("it must be so"));
    assert_eq!(
        normalize("The `path` MUST  be \"x\"."),
        "the path must be x"
    );
}
