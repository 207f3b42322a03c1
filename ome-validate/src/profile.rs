//! Profiles: rules beyond the spec, as data (`--profile NAME`, `--profile-file FILE`).
//!
//! A profile is a TOML file (see `spec/profiles/README.md`): a name, a title, the guidance
//! it follows (`source`), and rules, each a code in the `PROFILE-` family, a severity and
//! one of the built-in [`Check`]s with its parameters. Profiles apply to OME-Zarr image
//! roots (a root with `multiscales`); other targets are left to the spec rules.
//! Findings carry the profile's name as spec version and its source as spec link.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ome_core::metadata::NgffVersion;
use serde_json::{Map, Value};
use toml_edit::{Document, Item, Table};

use crate::context::Filter;
use crate::error::{Error, Result};
use crate::finding::{Finding, FindingLocation, SpecReference};
use crate::report::TargetKind;
use crate::rule::Severity;
use crate::target::read_json;

/// The profiles shipped in `spec/profiles/`, by name.
const BUILT_IN: &[(&str, &str)] = &[(
    "ngff-challenge-2024",
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/profiles/ngff-challenge-2024.toml"
    )),
)];

/// The largest profile file read, in bytes.
const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// What a profile rule checks (on the root image of an OME-Zarr target).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// `space-units`: every axis of type `space` has a `unit`.
    SpaceUnits,
    /// `channel-names`: an image with a `channel` axis has `omero.channels`, each with a
    /// non-empty `label`.
    ChannelNames,
    /// `pyramid`: an image whose level 0 is larger than `max_level0` in y or x (the last two
    /// axes) has more than one level.
    Pyramid {
        /// The largest y or x extent allowed without a pyramid.
        max_level0: u64,
    },
    /// `chunk-bytes`: the decoded chunk of level 0 (the inner chunk of a sharded array) is
    /// between `min` and `max` bytes.
    ChunkBytes {
        /// Smallest chunk, in bytes.
        min: u64,
        /// Largest chunk, in bytes.
        max: u64,
    },
    /// `ngff-version`: the OME-NGFF version is at least `min`.
    NgffVersion {
        /// The oldest version allowed.
        min: NgffVersion,
    },
    /// `file-present`: a file exists at `path` below the root.
    FilePresent {
        /// Relative path below the root, never leaving it.
        path: String,
    },
}

/// One rule of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileRule {
    /// `PROFILE-AREA-NNN`.
    pub code: &'static str,
    /// One line: what must hold.
    pub title: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// What it checks.
    pub check: Check,
}

/// A named set of rules beyond the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// The profile's name (`ngff-challenge-2024`).
    pub name: &'static str,
    /// One line: what it is for.
    pub title: String,
    /// The guidance it follows (a link).
    pub source: String,
    /// Where it was read from (`spec/profiles/NAME.toml` for a built-in one).
    pub file: String,
    /// Its rules.
    pub rules: Vec<ProfileRule>,
}

/// Interns a string for the `&'static str` fields of findings: a profile's codes and name
/// are leaked once per distinct value, however often profiles are loaded.
fn intern(s: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = seen.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// The names of the built-in profiles.
pub fn profile_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(name, _)| *name)
}

impl Profile {
    /// A built-in profile by name (`spec/profiles/NAME.toml`).
    ///
    /// # Errors
    /// [`Error::Usage`] for an unknown name; [`Error::Profile`] if the shipped file is bad.
    pub fn named(name: &str) -> Result<Profile> {
        let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) else {
            let known: Vec<&str> = profile_names().collect();
            return Err(Error::Usage(format!(
                "expected a profile name ({}), found {name:?}",
                known.join(", ")
            )));
        };
        Profile::parse(text, &format!("spec/profiles/{name}.toml"))
    }

    /// Reads a profile file of at most 1 MiB.
    ///
    /// # Errors
    /// [`Error::Profile`] when the file cannot be read or is not a valid profile (the
    /// message names the key).
    pub fn read(path: &Path) -> Result<Profile> {
        let fail = |message: String| Error::Profile {
            file: path.display().to_string(),
            message,
        };
        let file = ome_core::open_regular(path).map_err(|e| {
            fail(format!(
                "expected a readable file, found an i/o error ({e})"
            ))
        })?;
        let mut text = String::new();
        file.take(MAX_PROFILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| fail(format!("expected a UTF-8 text file, found an error ({e})")))?;
        if text.len() as u64 > MAX_PROFILE_BYTES {
            return Err(fail(format!(
                "expected a profile of at most {MAX_PROFILE_BYTES} bytes, found a larger file"
            )));
        }
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parses the TOML text of a profile; `file` names it in errors and findings.
    ///
    /// # Errors
    /// [`Error::Profile`] when the text is not TOML or not a valid profile.
    pub fn parse(text: &str, file: &str) -> Result<Profile> {
        let fail = |message: String| Error::Profile {
            file: file.to_string(),
            message,
        };
        let doc = Document::parse(text).map_err(|e| {
            fail(format!(
                "expected TOML, found a syntax error ({})",
                e.message()
            ))
        })?;
        let root = doc.as_table();
        let name = string(root, "name", "").map_err(&fail)?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(fail(format!(
                "expected name to be lowercase letters, digits and '-', found {name:?}"
            )));
        }
        let title = string(root, "title", "").map_err(&fail)?;
        let source = string(root, "source", "").map_err(&fail)?;
        let Some(list) = root.get("rule").and_then(Item::as_array_of_tables) else {
            return Err(fail(
                "expected [[rule]] tables, found none or another type".into(),
            ));
        };
        let mut rules = Vec::new();
        let mut codes = HashSet::new();
        for (i, t) in list.iter().enumerate() {
            let at = format!("rule[{i}].");
            let code = string(t, "code", &at).map_err(&fail)?;
            if !valid_code(&code) {
                return Err(fail(format!(
                    "expected {at}code of the form PROFILE-AREA-NNN, found {code:?}"
                )));
            }
            if !codes.insert(code.clone()) {
                return Err(fail(format!("expected unique codes, found {code} twice")));
            }
            let title = string(t, "title", &at).map_err(&fail)?;
            let severity = match string(t, "severity", &at).map_err(&fail)?.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => {
                    return Err(fail(format!(
                        "expected {at}severity to be error, warning or info, found {other:?}"
                    )));
                }
            };
            let check = check(t, &at).map_err(&fail)?;
            rules.push(ProfileRule {
                code: intern(&code),
                title,
                severity,
                check,
            });
        }
        Ok(Profile {
            name: intern(&name),
            title,
            source,
            file: file.to_string(),
            rules,
        })
    }
}

fn valid_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    matches!(parts.as_slice(), ["PROFILE", area, num]
        if !area.is_empty()
            && area.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && num.len() == 3
            && num.bytes().all(|b| b.is_ascii_digit()))
}

fn string(t: &Table, key: &str, at: &str) -> std::result::Result<String, String> {
    match t.get(key) {
        Some(item) => item
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("expected {at}{key} to be a string, found another type")),
        None => Err(format!("expected the key {at}{key}, found none")),
    }
}

fn integer(t: &Table, key: &str, at: &str) -> std::result::Result<u64, String> {
    match t.get(key).and_then(Item::as_integer) {
        Some(n) if n > 0 => Ok(n.unsigned_abs()),
        Some(n) => Err(format!("expected {at}{key} to be positive, found {n}")),
        None => Err(format!("expected the integer key {at}{key}, found none")),
    }
}

fn check(t: &Table, at: &str) -> std::result::Result<Check, String> {
    Ok(match string(t, "check", at)?.as_str() {
        "space-units" => Check::SpaceUnits,
        "channel-names" => Check::ChannelNames,
        "pyramid" => Check::Pyramid {
            max_level0: integer(t, "max_level0", at)?,
        },
        "chunk-bytes" => {
            let (min, max) = (integer(t, "min", at)?, integer(t, "max", at)?);
            if min > max {
                return Err(format!("expected {at}min <= {at}max, found {min} > {max}"));
            }
            Check::ChunkBytes { min, max }
        }
        "ngff-version" => {
            let v = string(t, "min", at)?;
            let min = NgffVersion::parse(&v).ok_or_else(|| {
                format!("expected {at}min to be an OME-NGFF version (0.1 to 0.6rc0), found {v:?}")
            })?;
            Check::NgffVersion { min }
        }
        "file-present" => {
            let path = string(t, "path", at)?;
            let p = Path::new(&path);
            if path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(format!(
                    "expected {at}path to be a relative path inside the root, found {path:?}"
                ));
            }
            Check::FilePresent { path }
        }
        other => {
            return Err(format!(
                "expected {at}check to be one of space-units, channel-names, pyramid, chunk-bytes, ngff-version, file-present, found {other:?}"
            ));
        }
    })
}

/// The root image of a Zarr target, as far as profiles read it.
struct RootImage {
    document: &'static str,
    /// JSON Pointer of the object holding `multiscales`.
    base: &'static str,
    attrs: Map<String, Value>,
}

fn root_image(root: &Path, max_bytes: u64) -> Option<RootImage> {
    if let Ok(Value::Object(doc)) = read_json(&root.join("zarr.json"), max_bytes) {
        let attrs = doc.get("attributes")?.as_object()?;
        if let Some(Value::Object(ome)) = attrs.get("ome") {
            return Some(RootImage {
                document: "zarr.json",
                base: "/attributes/ome",
                attrs: ome.clone(),
            });
        }
        return Some(RootImage {
            document: "zarr.json",
            base: "/attributes",
            attrs: attrs.clone(),
        });
    }
    match read_json(&root.join(".zattrs"), max_bytes) {
        Ok(Value::Object(attrs)) => Some(RootImage {
            document: ".zattrs",
            base: "",
            attrs,
        }),
        _ => None,
    }
}

/// Shape and decoded chunk bytes of an array, from its metadata.
fn array_facts(dir: &Path, max_bytes: u64) -> Option<(Vec<u64>, Option<u64>)> {
    let u64s =
        |v: &Value| -> Option<Vec<u64>> { v.as_array()?.iter().map(Value::as_u64).collect() };
    if let Ok(Value::Object(a)) = read_json(&dir.join("zarr.json"), max_bytes) {
        let shape = u64s(a.get("shape")?)?;
        let item = match a.get("data_type")?.as_str()? {
            "bool" | "int8" | "uint8" => 1,
            "int16" | "uint16" | "float16" => 2,
            "int32" | "uint32" | "float32" => 4,
            "int64" | "uint64" | "float64" | "complex64" => 8,
            "complex128" => 16,
            _ => return Some((shape, None)),
        };
        // A sharded array is read chunk by chunk: the inner chunk is what is decoded.
        let inner = a
            .get("codecs")
            .and_then(Value::as_array)
            .and_then(|codecs| {
                codecs
                    .iter()
                    .find(|c| c.get("name").and_then(Value::as_str) == Some("sharding_indexed"))
            })
            .and_then(|c| c.pointer("/configuration/chunk_shape"))
            .and_then(u64s);
        let chunk = inner.or_else(|| {
            a.get("chunk_grid")
                .and_then(|g| g.pointer("/configuration/chunk_shape"))
                .and_then(u64s)
        });
        let bytes = chunk.map(|c| c.iter().product::<u64>().saturating_mul(item));
        return Some((shape, bytes));
    }
    let a = read_json(&dir.join(".zarray"), max_bytes).ok()?;
    let shape = u64s(a.get("shape")?)?;
    let item = a.get("dtype").and_then(Value::as_str).and_then(|d| {
        d.trim_start_matches(['<', '>', '|'])
            .get(1..)?
            .parse::<u64>()
            .ok()
    });
    let chunk = a.get("chunks").and_then(u64s);
    let bytes = match (chunk, item) {
        (Some(c), Some(i)) => Some(c.iter().product::<u64>().saturating_mul(i)),
        _ => None,
    };
    Some((shape, bytes))
}

/// A relative dataset path that stays inside the root.
fn inside(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

struct Emit<'a> {
    profile: &'a Profile,
    target: &'a Path,
    filter: &'a Filter,
    findings: &'a mut Vec<Finding>,
}

impl Emit<'_> {
    fn emit(&mut self, rule: &ProfileRule, document: &str, pointer: &str, message: String) {
        if !self.filter.allows(rule.code) {
            return;
        }
        self.findings.push(Finding {
            code: rule.code,
            severity: rule.severity,
            message,
            location: FindingLocation {
                target: self.target.to_path_buf(),
                node: String::new(),
                document: Some(document.to_string()),
                pointer: Some(pointer.to_string()),
            },
            spec: SpecReference {
                document: "profile",
                version: self.profile.name,
                section: rule.code,
                url: self.profile.source.clone(),
            },
            rule_page: self.profile.file.clone(),
        });
    }
}

/// Runs the rules of `profiles` on one target; findings are appended to `findings`.
pub(crate) fn check_target(
    profiles: &[Profile],
    kind: TargetKind,
    target: &Path,
    version: Option<&str>,
    max_bytes: u64,
    filter: &Filter,
    findings: &mut Vec<Finding>,
) {
    if profiles.is_empty() || kind != TargetKind::Zarr {
        return;
    }
    let Some(image) = root_image(target, max_bytes) else {
        return;
    };
    let Some(Value::Array(multiscales)) = image.attrs.get("multiscales") else {
        return;
    };
    let Some(Value::Object(ms)) = multiscales.first() else {
        return;
    };
    let base = format!("{}/multiscales/0", image.base);
    let axes: Vec<&Map<String, Value>> = ms
        .get("axes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let datasets: Vec<&str> = ms
        .get("datasets")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|d| d.get("path").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let level0 = datasets
        .first()
        .filter(|p| inside(p))
        .and_then(|p| array_facts(&target.join(p), max_bytes));
    for profile in profiles {
        let mut out = Emit {
            profile,
            target,
            filter,
            findings,
        };
        for rule in &profile.rules {
            let doc = image.document;
            match &rule.check {
                Check::SpaceUnits => {
                    for (i, a) in axes.iter().enumerate() {
                        let is_space = a.get("type").and_then(Value::as_str) == Some("space");
                        if is_space && a.get("unit").is_none() {
                            let name = a.get("name").and_then(Value::as_str).unwrap_or("");
                            out.emit(
                                rule,
                                doc,
                                &format!("{base}/axes/{i}"),
                                format!("expected a unit on space axis {name:?}, found none"),
                            );
                        }
                    }
                }
                Check::ChannelNames => {
                    let has_channel = axes
                        .iter()
                        .any(|a| a.get("type").and_then(Value::as_str) == Some("channel"));
                    if !has_channel {
                        continue;
                    }
                    match image
                        .attrs
                        .get("omero")
                        .and_then(|o| o.get("channels"))
                        .and_then(Value::as_array)
                    {
                        None => out.emit(
                            rule,
                            doc,
                            image.base,
                            "expected omero.channels with a label per channel, found none".into(),
                        ),
                        Some(channels) => {
                            for (i, c) in channels.iter().enumerate() {
                                let label = c.get("label").and_then(Value::as_str);
                                if label.is_none_or(|l| l.trim().is_empty()) {
                                    out.emit(
                                        rule,
                                        doc,
                                        &format!("{}/omero/channels/{i}", image.base),
                                        "expected a non-empty channel label, found none".into(),
                                    );
                                }
                            }
                        }
                    }
                }
                Check::Pyramid { max_level0 } => {
                    let Some((shape, _)) = &level0 else { continue };
                    let largest = shape.iter().rev().take(2).copied().max().unwrap_or(0);
                    if largest > *max_level0 && datasets.len() < 2 {
                        out.emit(
                            rule,
                            doc,
                            &format!("{base}/datasets"),
                            format!(
                                "expected a pyramid (more than one level) for a level 0 of {} in y/x (above {max_level0}), found {} level(s)",
                                largest,
                                datasets.len()
                            ),
                        );
                    }
                }
                Check::ChunkBytes { min, max } => {
                    let Some((_, Some(bytes))) = &level0 else {
                        continue;
                    };
                    if bytes < min || bytes > max {
                        out.emit(
                            rule,
                            doc,
                            &format!("{base}/datasets/0"),
                            format!(
                                "expected level 0 chunks of {min} to {max} bytes, found {bytes}"
                            ),
                        );
                    }
                }
                Check::NgffVersion { min } => {
                    let Some(found) = version.and_then(NgffVersion::parse) else {
                        continue;
                    };
                    if found < *min {
                        out.emit(
                            rule,
                            doc,
                            image.base,
                            format!(
                                "expected OME-NGFF {} or later, found {}",
                                crate::rule::version_str(*min),
                                crate::rule::version_str(found)
                            ),
                        );
                    }
                }
                Check::FilePresent { path } => {
                    let full: PathBuf = target.join(path);
                    if !full.is_file() {
                        out.emit(
                            rule,
                            path,
                            "",
                            format!("expected a file {path} at the root, found none"),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_built_in_profiles_parse() {
        for name in profile_names() {
            let p = Profile::named(name).unwrap();
            assert_eq!(p.name, name);
            assert!(!p.rules.is_empty());
            assert!(p.source.starts_with("https://"));
        }
        assert!(matches!(Profile::named("nope"), Err(Error::Usage(_))));
    }

    #[test]
    fn a_bad_profile_names_the_key() {
        let ok = "name = \"p\"\ntitle = \"t\"\nsource = \"s\"\n";
        for (text, expect) in [
            ("name = ", "syntax error"),
            ("title = \"t\"", "expected the key name"),
            (ok, "expected [[rule]] tables"),
            (
                &format!(
                    "{ok}[[rule]]\ncode = \"NGFF-AX-001\"\ntitle=\"t\"\nseverity=\"error\"\ncheck=\"space-units\""
                ),
                "rule[0].code of the form PROFILE-AREA-NNN",
            ),
            (
                &format!(
                    "{ok}[[rule]]\ncode = \"PROFILE-X-001\"\ntitle=\"t\"\nseverity=\"fatal\"\ncheck=\"space-units\""
                ),
                "rule[0].severity",
            ),
            (
                &format!(
                    "{ok}[[rule]]\ncode = \"PROFILE-X-001\"\ntitle=\"t\"\nseverity=\"error\"\ncheck=\"file-present\"\npath=\"../x\""
                ),
                "relative path inside the root",
            ),
            (
                &format!(
                    "{ok}[[rule]]\ncode = \"PROFILE-X-001\"\ntitle=\"t\"\nseverity=\"error\"\ncheck=\"chunk-bytes\"\nmin=5\nmax=1"
                ),
                "min <= rule[0].max",
            ),
            (
                &format!(
                    "{ok}[[rule]]\ncode = \"PROFILE-X-001\"\ntitle=\"t\"\nseverity=\"error\"\ncheck=\"nope\""
                ),
                "rule[0].check to be one of",
            ),
        ] {
            match Profile::parse(text, "p.toml") {
                Err(Error::Profile { file, message }) => {
                    assert_eq!(file, "p.toml");
                    assert!(message.contains(expect), "{message}");
                }
                other => panic!("expected a profile error, found {other:?}"),
            }
        }
    }

    #[test]
    fn interned_codes_are_shared() {
        assert!(std::ptr::eq(
            intern("PROFILE-Q-001"),
            intern("PROFILE-Q-001")
        ));
    }
}
