//! What a rule is: a stable code, the versions it applies to with a severity per version,
//! the depth at which it runs and the spec section it enforces. The rules themselves are
//! data in [`crate::registry`]; the checks that emit their findings live in `rules/`.

use std::fmt;

use ome_core::metadata::NgffVersion;
use serde::Serialize;

/// How bad a finding is. Follows the spec keyword: MUST → error, SHOULD → warning,
/// notes and consistency hints → info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A note: nothing the spec requires.
    Info,
    /// A SHOULD (or a strict-schema requirement) is not met.
    Warning,
    /// A MUST is broken.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How deep validation goes (the levels of the ngff-spec conformance runner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Depth {
    /// One metadata document.
    Attributes,
    /// Walk the hierarchy and read array metadata (the default).
    #[default]
    Hierarchy,
    /// Also decode chunks, bounded in count and bytes.
    Data,
}

impl Depth {
    /// `attributes`, `hierarchy` or `data`.
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::Attributes => "attributes",
            Depth::Hierarchy => "hierarchy",
            Depth::Data => "data",
        }
    }
}

/// The rule family: the first part of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Family {
    /// OME-NGFF (OME-Zarr), `NGFF-*`.
    Ngff,
    /// OME-TIFF, `OMETIFF-*`: the TIFF container, TiffData, multi-file sets, pyramids.
    OmeTiff,
    /// OME-XML, `OMEXML-*`: the metadata document, standalone or embedded in a TIFF.
    OmeXml,
}

impl Family {
    /// The spec version the family's rules refer to, for families not keyed by
    /// OME-NGFF version (the OME data model schema they check); `None` for NGFF.
    pub fn fixed_version(self) -> Option<&'static str> {
        match self {
            Family::Ngff => None,
            Family::OmeTiff | Family::OmeXml => Some("2016-06"),
        }
    }
}

/// A set of spec versions, as a bit mask over [`NgffVersion::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Versions(pub(crate) u8);

impl Versions {
    pub(crate) const V01: Versions = Versions(1);
    pub(crate) const V02: Versions = Versions(2);
    pub(crate) const V03: Versions = Versions(4);
    pub(crate) const V04: Versions = Versions(8);
    pub(crate) const V05: Versions = Versions(16);
    pub(crate) const V06: Versions = Versions(32);
    pub(crate) const ALL: Versions = Versions(63);

    /// Whether `version` is in the set.
    pub fn contains(self, version: NgffVersion) -> bool {
        self.0 & Self::bit(version) != 0
    }

    pub(crate) const fn or(self, other: Versions) -> Versions {
        Versions(self.0 | other.0)
    }

    fn bit(version: NgffVersion) -> u8 {
        let index = NgffVersion::ALL
            .iter()
            .position(|v| *v == version)
            .unwrap_or(0);
        1 << index
    }

    /// The versions in the set, oldest first.
    pub fn iter(self) -> impl Iterator<Item = NgffVersion> {
        NgffVersion::ALL
            .into_iter()
            .filter(move |v| self.contains(*v))
    }
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Rule {
    /// Stable code, `FAMILY-AREA-NNN`; never reused.
    pub code: &'static str,
    /// Family of the code.
    pub family: Family,
    /// One line: what must hold.
    pub title: &'static str,
    /// The depth at which the rule runs.
    pub depth: Depth,
    /// Severity per version set; versions not listed are outside the rule.
    pub severities: &'static [(Versions, Severity)],
    /// The spec section the rule enforces (anchor in the spec document).
    pub section: &'static str,
    /// The rule page `spec/rules/<CODE>.md` (Markdown).
    pub page: &'static str,
}

impl Rule {
    /// The severity of this rule under `version`, `None` when the rule does not apply.
    pub fn severity(&self, version: NgffVersion) -> Option<Severity> {
        self.severities
            .iter()
            .find(|(set, _)| set.contains(version))
            .map(|(_, s)| *s)
    }

    /// The versions this rule applies to.
    pub fn versions(&self) -> impl Iterator<Item = NgffVersion> + '_ {
        NgffVersion::ALL
            .into_iter()
            .filter(|v| self.severity(*v).is_some())
    }

    /// The area, the middle part of the code (`AX` in `NGFF-AX-003`).
    pub fn area(&self) -> &'static str {
        self.code.split('-').nth(1).unwrap_or("")
    }

    /// Path of the rule page relative to the repository root.
    pub fn page_path(&self) -> String {
        format!("spec/rules/{}.md", self.code)
    }

    /// The spec document the rule refers to.
    pub fn spec_document(&self) -> &'static str {
        match self.family {
            Family::Ngff => "OME-NGFF",
            Family::OmeTiff => "OME-TIFF",
            Family::OmeXml => "OME-XML",
        }
    }

    /// Link to the spec section the rule enforces.
    pub fn spec_url(&self, version: NgffVersion) -> String {
        match self.family {
            Family::Ngff => format!(
                "https://ngff.openmicroscopy.org/{}/#{}",
                version_str(version),
                self.section
            ),
            Family::OmeTiff => format!(
                "https://ome-model.readthedocs.io/en/stable/ome-tiff/specification.html#{}",
                self.section
            ),
            Family::OmeXml => format!(
                "https://www.openmicroscopy.org/Schemas/Documentation/Generated/OME-2016-06/ome.html#{}",
                self.section
            ),
        }
    }
}

/// The version string used in spec links and reports.
pub fn version_str(version: NgffVersion) -> &'static str {
    match version {
        NgffVersion::V0_1 => "0.1",
        NgffVersion::V0_2 => "0.2",
        NgffVersion::V0_3 => "0.3",
        NgffVersion::V0_4 => "0.4",
        NgffVersion::V0_5 => "0.5",
        _ => "0.6rc0",
    }
}
