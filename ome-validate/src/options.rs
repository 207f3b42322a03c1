//! What to validate and how: the options of a run, read by the engine and by the rules
//! (depth, limits, the data-depth bounds, the XML Schema). It sits below both, so the
//! rules never import the engine that runs them.

use std::path::PathBuf;

use ome_core::Limits;
use ome_core::metadata::NgffVersion;

use crate::context::Filter;
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::registry;
use crate::rule::Depth;

/// Bounds of the data depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataLimits {
    /// Most chunks (or shards) decoded per array; they are spread evenly over the grid.
    pub max_chunks_per_array: usize,
    /// Most chunk files listed per array when checking keys against the grid.
    pub max_listed_keys: usize,
}

impl Default for DataLimits {
    fn default() -> Self {
        DataLimits {
            max_chunks_per_array: 64,
            max_listed_keys: 100_000,
        }
    }
}

/// What to validate and how.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// How deep to go.
    pub depth: Depth,
    /// The version every document must declare (`--ngff-version`); also the version
    /// assumed for documents that declare none.
    pub ngff_version: Option<NgffVersion>,
    /// Report only these codes or code prefixes (all when empty).
    pub select: Vec<String>,
    /// Never report these codes or code prefixes.
    pub ignore: Vec<String>,
    /// Resource limits for reading metadata and chunks.
    pub limits: Limits,
    /// Bounds of the data depth.
    pub data: DataLimits,
    /// An XML Schema (`ome.xsd`) for the full check of OME-XML documents, run through
    /// `xmllint` (`OMEXML-XSD-001`); `None` runs the structural rules only.
    pub xml_schema: Option<PathBuf>,
    /// Profiles whose rules (`PROFILE-*`) run on OME-Zarr image roots after the spec rules.
    pub profiles: Vec<Profile>,
}

impl Options {
    /// Options at `depth` with everything else default.
    pub fn with_depth(depth: Depth) -> Self {
        Options {
            depth,
            ..Options::default()
        }
    }

    /// The `select`/`ignore` filter, once every pattern is known to name a rule.
    pub(crate) fn filter(&self) -> Result<Filter> {
        for pattern in self.select.iter().chain(&self.ignore) {
            let prefix_of = |code: &str| {
                code.len() >= pattern.len() && code[..pattern.len()].eq_ignore_ascii_case(pattern)
            };
            let known = registry::rules().iter().any(|r| prefix_of(r.code))
                || self
                    .profiles
                    .iter()
                    .flat_map(|p| &p.rules)
                    .any(|r| prefix_of(r.code));
            if !known {
                return Err(Error::Usage(format!(
                    "expected a rule code or code prefix, found {pattern:?} (see `ome-validate rules`)"
                )));
            }
        }
        Ok(Filter {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_takes_known_codes_and_prefixes_in_any_case() {
        let options = Options {
            select: vec!["ngff-ax".into(), "NGFF-CT-008".into()],
            ignore: vec!["NGFF-AX-007".into()],
            ..Options::default()
        };
        let filter = options.filter().expect("known patterns");
        assert!(filter.allows("NGFF-AX-001"));
        assert!(!filter.allows("NGFF-AX-007"));
        assert!(!filter.allows("NGFF-MS-001"));
    }

    #[test]
    fn filter_refuses_a_pattern_that_names_no_rule() {
        let options = Options {
            ignore: vec!["NGFF-NOPE".into()],
            ..Options::default()
        };
        match options.filter() {
            Err(Error::Usage(m)) => assert!(m.contains("\"NGFF-NOPE\""), "{m}"),
            other => panic!("expected a usage error, found {other:?}"),
        }
    }
}
