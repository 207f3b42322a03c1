//! Test helpers: the spec-data folder, its JSON files, and the official NGFF JSON schemas
//! compiled offline (every schema of a version registered under its `$id`, README 2.1).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The shared spec-data folder, or `None` (after a visible SKIPPED line, which fails under
/// `CI=true`) when it is absent.
pub(crate) fn spec_data() -> Option<PathBuf> {
    testkit::spec_data()
}

/// Reads a JSON file, dropping lines whose first non-blank characters are `//` (README 2.4).
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiles `ngff/<version>/schemas/<schema>` (for example `("0.4", "image.schema")`) with
/// every schema of that version registered under its `$id`, so no reference is fetched.
/// `None` when spec-data is absent.
pub(crate) fn validator(version: &str, schema: &str) -> Option<jsonschema::Validator> {
    let dir = spec_data()?.join("ngff").join(version).join("schemas");
    let mut builder = jsonschema::Registry::new();
    let mut target = None;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "schema"))
        .collect();
    entries.sort();
    for path in entries {
        let doc = read_json(&path);
        if path.file_name().is_some_and(|n| n == schema) {
            target = Some(doc.clone());
        }
        let id = doc["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no $id", path.display()));
        let id = id.to_owned();
        builder = builder.add(id, doc).unwrap();
    }
    let registry = builder.prepare().unwrap();
    let target = target.unwrap_or_else(|| panic!("no {schema} in {}", dir.display()));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .build(&target)
        .unwrap_or_else(|e| panic!("{version}/{schema}: {e}"));
    Some(validator)
}

/// Panics with every schema error when `instance` is not valid.
pub(crate) fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} fails its schema: {errors:#?}\n{instance:#}"
    );
}
