//! One finding: which rule, how bad, what was expected and found, and where.

use std::path::PathBuf;

use ome_core::metadata::NgffVersion;
use serde::Serialize;

use crate::rule::{Rule, Severity, version_str};

/// Where a finding is: the target, the node in the hierarchy, the metadata document and a
/// JSON Pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub struct FindingLocation {
    /// The target as given (a file or a hierarchy root).
    pub target: PathBuf,
    /// Node path inside the hierarchy, `""` for the root or a standalone document; for
    /// an OME-TIFF set, the member file the finding is about (`""` for the target).
    pub node: String,
    /// The metadata document (`zarr.json`, `.zattrs`, `.zarray`, or the file name); for
    /// OME-TIFF, the IFD (`IFD 0`, `IFD 2/SubIFD 1`) or `OME-XML`.
    pub document: Option<String>,
    /// JSON Pointer (RFC 6901) into that document; for OME-XML an element path
    /// (`/OME/Image[0]/Pixels@Type`, indices count same-name siblings) or `line N`.
    pub pointer: Option<String>,
}

impl std::fmt::Display for FindingLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.node.is_empty() {
            write!(f, "{}/", self.node)?;
        }
        if let Some(doc) = &self.document {
            write!(f, "{doc}")?;
        }
        if let Some(ptr) = &self.pointer {
            write!(f, "#{ptr}")?;
        }
        Ok(())
    }
}

/// The spec clause a finding refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SpecReference {
    /// `OME-NGFF`, `OME-TIFF` or `OME-XML`.
    pub document: &'static str,
    /// The spec version of the checked node (`0.4`, `0.6rc0`; `2016-06` for OME-TIFF and
    /// OME-XML rules).
    pub version: &'static str,
    /// Section anchor in that document.
    pub section: &'static str,
    /// Link to the section.
    pub url: String,
}

/// One broken (or noteworthy) rule at one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The rule code, e.g. `NGFF-AX-003`.
    pub code: &'static str,
    /// Severity for the version of the checked node.
    pub severity: Severity,
    /// What was expected and what was found, lowercase, no trailing period.
    pub message: String,
    /// Where.
    pub location: FindingLocation,
    /// The spec clause.
    pub spec: SpecReference,
    /// The rule page, relative to the repository root.
    pub rule_page: String,
}

impl Finding {
    pub(crate) fn new(
        rule: &'static Rule,
        severity: Severity,
        version: NgffVersion,
        message: String,
        location: FindingLocation,
    ) -> Self {
        let v = rule
            .family
            .fixed_version()
            .unwrap_or_else(|| version_str(version));
        Finding {
            code: rule.code,
            severity,
            message,
            location,
            spec: SpecReference {
                document: rule.spec_document(),
                version: v,
                section: rule.section,
                url: rule.spec_url(version),
            },
            rule_page: rule.page_path(),
        }
    }
}
