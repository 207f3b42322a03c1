//! Every rule code has a failing and a passing fixture, `spec/rules/fixtures/<CODE>/
//! {fail,pass}.json` (made by `spec/rules/fixtures/make_fixtures.py`, whose docstring
//! describes the format), linked from its rule page: the rule fires on the failing one and
//! stays silent on the passing one. A code without fixtures fails this test unless it is one
//! of [`EXCEPTIONS`], each with the reason no fixture can reach it.

// Helpers of a test: a broken fixture or table panics with what is wrong.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ome_validate::{Depth, NgffVersion, Options, validate_path};
use serde_json::{Map, Value};

/// Codes no fixture can trigger, and why. Keep it short: a code belongs here only when no
/// file content makes the rule fire (an I/O failure, a missing tool).
const EXCEPTIONS: &[(&str, &str)] = &[];

fn fixtures_dir() -> PathBuf {
    testkit::repo_root().join("spec/rules/fixtures")
}

/// A value of `map[key]` as `T`, or a panic naming the fixture.
fn get<'v>(map: &'v Map<String, Value>, key: &str, what: &str) -> &'v Value {
    map.get(key)
        .unwrap_or_else(|| panic!("{what}: expected the key {key}"))
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Writes the files of a fixture below `root`.
fn materialize(root: &Path, files: &Map<String, Value>, what: &str) {
    for (rel, content) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        let special = content
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .filter(|(k, _)| k.starts_with('$'));
        match special {
            Some((k, v)) if k == "$text" => {
                std::fs::write(&path, v.as_str().expect("$text is a string")).expect("write")
            }
            Some((k, v)) if k == "$hex" => {
                std::fs::write(&path, hex(v.as_str().expect("$hex is a string"))).expect("write")
            }
            Some((k, v)) if k == "$symlink" => {
                #[cfg(unix)]
                std::os::unix::fs::symlink(v.as_str().expect("$symlink is a string"), &path)
                    .expect("symlink");
                #[cfg(not(unix))]
                panic!("{what}: symbolic links need unix ({v})");
            }
            Some((k, v)) if k == "$tiff" => {
                std::fs::write(&path, tiff::build(v, what)).expect("write")
            }
            Some((k, _)) => panic!("{what}: unknown content kind {k}"),
            None => std::fs::write(&path, serde_json::to_vec_pretty(content).expect("json"))
                .expect("write"),
        }
    }
}

fn version(s: &str) -> NgffVersion {
    NgffVersion::parse(s).unwrap_or_else(|| panic!("unknown version {s}"))
}

/// The options of a fixture; `None` after `testkit::skip` when it needs the spec data and
/// it is absent (which fails under `CI=true`).
fn options(fixture: &Map<String, Value>, root: &Path, what: &str) -> Option<Options> {
    let depth = match get(fixture, "depth", what).as_str() {
        Some("attributes") => Depth::Attributes,
        Some("hierarchy") => Depth::Hierarchy,
        Some("data") => Depth::Data,
        other => panic!("{what}: unknown depth {other:?}"),
    };
    let mut options = Options::with_depth(depth);
    if let Some(Value::Object(o)) = fixture.get("options") {
        for (key, value) in o {
            let s = value.as_str().expect("option values are strings");
            match key.as_str() {
                "ngff_version" => options.ngff_version = Some(version(s)),
                "xml_schema" => {
                    options.xml_schema = Some(match s.strip_prefix("$spec-data/") {
                        Some(rel) => testkit::spec_data_file(rel)?,
                        None => root.join(s),
                    });
                }
                other => panic!("{what}: unknown option {other}"),
            }
        }
    }
    Some(options)
}

/// The codes a fixture's validation reports; `None` when it cannot run here.
fn run(path: &Path, what: &str) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{what}: {e}"));
    let fixture: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    let fixture = fixture.as_object().expect("a fixture is an object");
    let about = get(fixture, "about", what).as_str().unwrap_or_default();
    assert!(!about.is_empty(), "{what}: says what it shows");
    if let Some(Value::Object(o)) = fixture.get("options")
        && o.get("xml_schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with('$'))
        && !testkit::require_command("xmllint", "the full XML Schema check")
    {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = get(fixture, "files", what)
        .as_object()
        .expect("files is an object");
    materialize(dir.path(), files, what);
    let options = options(fixture, dir.path(), what)?;
    let target = get(fixture, "target", what).as_str().expect("target");
    let report = validate_path(&dir.path().join(target), &options)
        .unwrap_or_else(|e| panic!("{what}: the validator could not run: {e}"));
    Some(report.findings.iter().map(|f| f.code.to_string()).collect())
}

#[test]
fn every_rule_fires_on_its_failing_fixture_and_not_on_its_passing_one() {
    let dir = fixtures_dir();
    let exceptions: BTreeSet<&str> = EXCEPTIONS.iter().map(|(c, _)| *c).collect();
    let mut failures = Vec::new();
    let mut with_fixtures = 0;
    for rule in ome_validate::rules() {
        let code = rule.code;
        let fail = dir.join(code).join("fail.json");
        let pass = dir.join(code).join("pass.json");
        if exceptions.contains(code) {
            if fail.exists() || pass.exists() {
                failures.push(format!(
                    "{code}: listed as an exception, yet it has fixtures"
                ));
            }
            continue;
        }
        if !fail.exists() || !pass.exists() {
            failures.push(format!("{code}: no fixtures (expected {})", fail.display()));
            continue;
        }
        with_fixtures += 1;
        for link in [
            format!("fixtures/{code}/fail.json"),
            format!("fixtures/{code}/pass.json"),
        ] {
            if !rule.page.contains(&link) {
                failures.push(format!("{code}: the rule page does not link {link}"));
            }
        }
        if let Some(codes) = run(&fail, &format!("{code} fail.json"))
            && !codes.contains(code)
        {
            failures.push(format!(
                "{code}: silent on its failing fixture (found {codes:?})"
            ));
        }
        if let Some(codes) = run(&pass, &format!("{code} pass.json"))
            && codes.contains(code)
        {
            failures.push(format!(
                "{code}: fires on its passing fixture (found {codes:?})"
            ));
        }
    }
    // No fixture folder for a code the registry does not have.
    for entry in std::fs::read_dir(&dir).expect("spec/rules/fixtures") {
        let entry = entry.expect("entry");
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if ome_validate::rule(&name).is_none() {
                failures.push(format!("fixtures/{name}: no such rule code"));
            }
        }
    }
    eprintln!(
        "{with_fixtures} of {} codes have fixtures; {} exceptions",
        ome_validate::rules().len(),
        EXCEPTIONS.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Small classic little-endian TIFF files, as fixtures describe them.
mod tiff {
    use serde_json::Value;

    /// One IFD entry: tag and values (SHORT, LONG or an ASCII/UNDEFINED byte string).
    enum Entry {
        Short(u16, Vec<u16>),
        Long(u16, Vec<u32>),
        Ascii(u16, Vec<u8>),
    }

    struct Writer {
        out: Vec<u8>,
    }

    impl Writer {
        fn put(&mut self, data: &[u8]) -> u32 {
            if self.out.len() % 2 == 1 {
                self.out.push(0);
            }
            let at = u32::try_from(self.out.len()).expect("a small file");
            self.out.extend_from_slice(data);
            at
        }

        /// Writes an IFD (values that do not fit 4 bytes go before it); returns its offset.
        fn ifd(&mut self, mut entries: Vec<Entry>, next: u32) -> u32 {
            entries.sort_by_key(|e| match e {
                Entry::Short(t, _) | Entry::Long(t, _) | Entry::Ascii(t, _) => *t,
            });
            let mut encoded = Vec::new();
            for e in &entries {
                let (tag, typ, count, bytes) = match e {
                    Entry::Short(t, v) => (
                        *t,
                        3u16,
                        v.len(),
                        v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
                    ),
                    Entry::Long(t, v) => (
                        *t,
                        4u16,
                        v.len(),
                        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                    ),
                    Entry::Ascii(t, v) => (*t, 2u16, v.len(), v.clone()),
                };
                let value = if bytes.len() <= 4 {
                    let mut b = bytes.clone();
                    b.resize(4, 0);
                    b
                } else {
                    self.put(&bytes).to_le_bytes().to_vec()
                };
                encoded.push((tag, typ, u32::try_from(count).expect("few"), value));
            }
            let mut b = u16::try_from(encoded.len())
                .expect("few")
                .to_le_bytes()
                .to_vec();
            for (tag, typ, count, value) in encoded {
                b.extend_from_slice(&tag.to_le_bytes());
                b.extend_from_slice(&typ.to_le_bytes());
                b.extend_from_slice(&count.to_le_bytes());
                b.extend_from_slice(&value);
            }
            b.extend_from_slice(&next.to_le_bytes());
            self.put(&b)
        }
    }

    fn num(v: &Value, key: &str, default: u64) -> u64 {
        v.get(key)
            .map_or(default, |x| x.as_u64().expect("a number"))
    }

    /// The entries of an image IFD (its pixel data written now).
    fn image(w: &mut Writer, spec: &Value) -> Vec<Entry> {
        let size = spec["size"].as_array().expect("size");
        let (width, height) = (
            u32::try_from(size[0].as_u64().expect("width")).expect("small"),
            u32::try_from(size[1].as_u64().expect("height")).expect("small"),
        );
        let bits = u16::try_from(num(spec, "bits", 8)).expect("bits");
        let format = u16::try_from(num(spec, "format", 1)).expect("format");
        let spp = u16::try_from(num(spec, "spp", 1)).expect("spp");
        let compression = u16::try_from(num(spec, "compression", 1)).expect("compression");
        let garbage = spec.get("data").and_then(Value::as_str) == Some("garbage");
        let pixel_bytes = u32::from(bits.div_ceil(8)) * u32::from(spp);
        let block = |w: &mut Writer, n: u32| {
            let fill = if garbage { 0xA5 } else { 0 };
            w.put(&vec![fill; n as usize])
        };
        let mut entries = vec![
            Entry::Long(256, vec![width]),
            Entry::Long(257, vec![height]),
            Entry::Short(258, vec![bits; usize::from(spp)]),
            Entry::Short(259, vec![compression]),
            Entry::Short(262, vec![if spp == 3 { 2 } else { 1 }]),
            Entry::Short(277, vec![spp]),
            Entry::Short(284, vec![1]),
            Entry::Short(339, vec![format; usize::from(spp)]),
        ];
        if let Some(t) = spec.get("subfiletype") {
            entries.push(Entry::Long(
                254,
                vec![u32::try_from(t.as_u64().expect("type")).expect("small")],
            ));
        }
        match spec.get("tiles").and_then(Value::as_array) {
            Some(tiles) => {
                let tw = u32::try_from(tiles[0].as_u64().expect("tile width")).expect("small");
                let th = u32::try_from(tiles[1].as_u64().expect("tile height")).expect("small");
                let n = width.div_ceil(tw) * height.div_ceil(th);
                let bytes = tw * th * pixel_bytes;
                let offsets = (0..n).map(|_| block(w, bytes)).collect();
                entries.push(Entry::Long(322, vec![tw]));
                entries.push(Entry::Long(323, vec![th]));
                entries.push(Entry::Long(324, offsets));
                entries.push(Entry::Long(325, vec![bytes; n as usize]));
            }
            None => {
                let bytes = width * height * pixel_bytes;
                let at = block(w, bytes);
                entries.push(Entry::Long(273, vec![at]));
                entries.push(Entry::Long(278, vec![height]));
                entries.push(Entry::Long(279, vec![bytes]));
            }
        }
        if let Some(omit) = spec.get("omit").and_then(Value::as_array) {
            let omit: Vec<u64> = omit.iter().filter_map(Value::as_u64).collect();
            entries.retain(|e| {
                let (Entry::Short(t, _) | Entry::Long(t, _) | Entry::Ascii(t, _)) = e;
                !omit.contains(&u64::from(*t))
            });
        }
        entries
    }

    /// A TIFF as a fixture's `$tiff` object describes it.
    pub(super) fn build(spec: &Value, what: &str) -> Vec<u8> {
        let ifds = spec["ifds"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: $tiff.ifds"));
        let mut w = Writer {
            out: b"II*\0\0\0\0\0".to_vec(),
        };
        let mut description = match (spec.get("description"), spec.get("description_hex")) {
            (Some(Value::String(s)), _) => Some(s.as_bytes().to_vec()),
            (_, Some(Value::String(h))) => Some(super::hex(h)),
            _ => None,
        };
        if let Some(d) = description.as_mut() {
            d.push(0);
        }
        let description_ifd = num(spec, "description_ifd", 0) as usize;
        // Last IFD first, so each one knows the offset of the next (and a SubIFD tag can
        // point into the main chain).
        let mut next = 0u32;
        for (i, spec_i) in ifds.iter().enumerate().rev() {
            let mut entries = image(&mut w, spec_i);
            let mut subs = Vec::new();
            for sub in spec_i
                .get("subs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let e = image(&mut w, sub);
                subs.push(w.ifd(e, 0));
            }
            if spec_i.get("sub_is_next").and_then(Value::as_bool) == Some(true) {
                subs.push(next);
            }
            if !subs.is_empty() {
                entries.push(Entry::Long(330, subs));
            }
            if i == description_ifd
                && let Some(d) = &description
            {
                entries.push(Entry::Ascii(270, d.clone()));
            }
            next = w.ifd(entries, next);
        }
        w.out[4..8].copy_from_slice(&next.to_le_bytes());
        w.out
    }
}
