//! # ome-validate
//!
//! A rule-catalogued validator for OME-Zarr (OME-NGFF 0.1 to 0.5 and 0.6rc0), OME-TIFF
//! (single files, multi-file sets, companion files) and OME-XML. Every finding names a stable rule code (`NGFF-AX-003`), a severity taken
//! from the spec keyword (MUST → error, SHOULD → warning), what was expected and what was
//! found, the node, document and JSON Pointer, the spec section, and the rule's page in
//! `spec/rules/`.
//!
//! ```no_run
//! use ome_validate::{Depth, Options, Verdict, validate};
//!
//! # fn main() -> Result<(), ome_validate::Error> {
//! let report = validate(&["image.ome.zarr".into()], &Options::with_depth(Depth::Hierarchy))?;
//! for f in report.findings() {
//!     println!("{} {} {}: {}", f.severity, f.code, f.location, f.message);
//! }
//! assert!(report.verdict != Verdict::Invalid);
//! # Ok(()) }
//! ```
//!
//! ## Depths
//! | Depth | What is read |
//! |---|---|
//! | [`Depth::Attributes`] | one metadata document |
//! | [`Depth::Hierarchy`] (default) | every node the metadata names, array metadata included |
//! | [`Depth::Data`] | also a bounded, evenly spread sample of chunks per array |
//!
//! ## Targets
//! | Given | Rules |
//! |---|---|
//! | a directory | Zarr hierarchy: `NGFF-*` |
//! | a JSON file | one attributes document: `NGFF-*` at the attributes depth |
//! | a TIFF file (by magic) | `OMETIFF-*` and `OMEXML-*` on its IFD 0 OME-XML, with the files its TiffData UUIDs name |
//! | an XML file (leading `<`, `.xml`, `.companion.ome`) | `OMEXML-*`; a companion file also its TIFF set |
//!
//! [`Options::xml_schema`] adds the full XSD check through `xmllint` (`OMEXML-XSD-001`).
//!
//! ## Many targets, and CI
//! [`discover`] finds every OME-Zarr root and OME-TIFF below a directory (bounded by
//! [`WalkLimits`], never following a link out of it); [`validate`] runs the targets in
//! parallel, each once (a target given twice, or found twice, is validated once). A
//! [`Batch`] is what the CLI and `ome_py.validate` hand over: targets, directories to
//! search, a baseline to compare with and one to write. The [`Report`] counts targets per verdict ([`Summary::verdicts`]) and findings
//! per code ([`Report::code_counts`]). Renderers: [`render_text`], [`render_json`]
//! (`spec/report/report-v1.schema.json`), [`render_jsonl`], [`render_conformance`],
//! [`render_sarif`] (SARIF 2.1.0, for code scanning) and [`render_junit`] (JUnit XML).
//! A [`Baseline`] (a stored JSON report, written by [`write_baseline`]) keeps only the new
//! findings of a run and lists the gone ones ([`Report::baseline`]).
//! [`Profile`]s add rules beyond the spec, as TOML data (`spec/profiles/`), through
//! [`Options::profiles`]; their codes are `PROFILE-*`.
//!
//! ## Rule codes
//! Every code is a constant of [`codes`] (`codes::NGFF_AX_003`); checks emit findings
//! through them, so a misspelt code does not compile. Reports show the string
//! (`NGFF-AX-003`), which never changes meaning. Each code has a page
//! (`spec/rules/<CODE>.md`) with a failing and a passing fixture
//! (`spec/rules/fixtures/<CODE>/`), run by `tests/it/rule_fixtures.rs`; every normative
//! sentence of the NGFF prose is in `spec/coverage/ngff-<version>.tsv` with the codes that
//! check it or why none does (`tests/it/spec_coverage.rs`).
//!
//! ## Layers
//! `target` (what was given) → `rules/ngff`, `rules/tiff`, `rules/omexml` (attribute,
//! hierarchy and data checks, which emit codes) → `registry` (one table: severity per version, section, page) →
//! `engine` (runs targets in parallel, sorts findings) → `report` (model and renderers);
//! `discover` (targets below a directory) feeds the engine, `baseline` filters its report.
//! [`Options`] sits below both the engine and the rules, which read it; no rule imports
//! the engine.
//! The library never prints; the `ome-validate` binary renders.
//!
//! ## Hostile input
//! Documents are size-limited, JSON nesting is bounded by the parser, paths from metadata
//! never leave the hierarchy root, chunk reads are bounded by [`ome_core::Limits`] and
//! [`DataLimits`]; an unreadable node is a finding (`NGFF-HIER-001`, `OMETIFF-FILE-001`,
//! `OMEXML-DOC-001`) and the walk goes on. OME-XML is read with no DTD and bounded size,
//! depth and element count; `FileName`s in OME-XML never leave the file's folder.

mod baseline;
mod batch;
pub mod codes;
mod context;
mod discover;
mod engine;
mod error;
mod finding;
mod options;
mod profile;
mod registry;
mod report;
mod rule;
mod rules;
mod target;

pub use baseline::{Baseline, BaselineDiff, BaselineFinding, BaselineLocation, write_baseline};
pub use batch::Batch;
pub use codes::Code;
pub use discover::{WalkLimits, discover};
pub use engine::{validate, validate_attributes, validate_path, validate_source};
pub use error::{Error, Result};
pub use finding::{Finding, FindingLocation, SpecReference};
pub use ome_core::metadata::NgffVersion;
pub use options::{DataLimits, Options};
pub use profile::{Check, Profile, ProfileRule, profile_names};
pub use registry::{rule, rules};
pub use report::{
    REPORT_SCHEMA_VERSION, Report, Summary, TargetKind, TargetReport, TextOptions, Verdict,
    VerdictCounts, render_conformance, render_json, render_jsonl, render_junit, render_sarif,
    render_text,
};
pub use rule::{Depth, Family, Rule, Severity, Versions, version_str};
