//! NGFF specification versions.

use std::fmt;

/// A version of the OME-NGFF specification.
///
/// Versions are ordered by release. 0.1–0.4 store their metadata in Zarr v2 `.zattrs`, with a
/// `version` key on each object; 0.5 and later store it in the `attributes.ome` object of a
/// Zarr v3 `zarr.json`, with one `version` for the whole container (0.5 spec, "OME-Zarr
/// Metadata").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NgffVersion {
    /// 0.1: multiscales with `datasets[].path` only; arrays are implicitly 5-D `t,c,z,y,x`.
    V0_1,
    /// 0.2: as 0.1, adds nested chunk keys.
    V0_2,
    /// 0.3: `axes` as a list of names.
    V0_3,
    /// 0.4: `axes` objects with type and unit, `coordinateTransformations`.
    V0_4,
    /// 0.5: Zarr v3, metadata under `attributes.ome`.
    V0_5,
    /// 0.6 (RFC-5 coordinate systems and transformations); accepts `0.6`, `0.6rcN`,
    /// `0.6.devN` and `0.6devN`. The string as written stays in the metadata
    /// ([`crate::metadata::OmeAttributes::raw_version`]).
    V0_6,
}

impl NgffVersion {
    /// Every version, oldest first.
    pub const ALL: [NgffVersion; 6] = [
        NgffVersion::V0_1,
        NgffVersion::V0_2,
        NgffVersion::V0_3,
        NgffVersion::V0_4,
        NgffVersion::V0_5,
        NgffVersion::V0_6,
    ];

    /// Parses a version string as written in metadata; `None` for a string that names no
    /// known version (such as `"abc123"`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "0.1" => Some(NgffVersion::V0_1),
            "0.2" => Some(NgffVersion::V0_2),
            "0.3" => Some(NgffVersion::V0_3),
            "0.4" => Some(NgffVersion::V0_4),
            "0.5" => Some(NgffVersion::V0_5),
            "0.6" => Some(NgffVersion::V0_6),
            _ => {
                let rest = s.strip_prefix("0.6")?;
                // `0.6rcN`, `0.6.devN`, and `0.6devN` (written by some 0.6 development tools).
                let number = rest
                    .strip_prefix("rc")
                    .or_else(|| rest.strip_prefix(".dev"))
                    .or_else(|| rest.strip_prefix("dev"))?;
                (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
                    .then_some(NgffVersion::V0_6)
            }
        }
    }

    /// The version string this crate writes. For 0.6 that is `"0.6rc0"`, the revision of the
    /// specification implemented here (its `_version.schema` accepts only that string).
    pub fn as_str(self) -> &'static str {
        match self {
            NgffVersion::V0_1 => "0.1",
            NgffVersion::V0_2 => "0.2",
            NgffVersion::V0_3 => "0.3",
            NgffVersion::V0_4 => "0.4",
            NgffVersion::V0_5 => "0.5",
            NgffVersion::V0_6 => "0.6rc0",
        }
    }

    /// Whether this version stores its metadata under `attributes.ome` in Zarr v3 (0.5+).
    pub fn is_nested(self) -> bool {
        self >= NgffVersion::V0_5
    }
}

impl fmt::Display for NgffVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_version_and_round_trips() {
        for v in NgffVersion::ALL {
            assert_eq!(NgffVersion::parse(v.as_str()), Some(v));
        }
        assert_eq!(NgffVersion::parse("0.6"), Some(NgffVersion::V0_6));
        assert_eq!(NgffVersion::parse("0.6.dev4"), Some(NgffVersion::V0_6));
        assert_eq!(NgffVersion::parse("0.6rc1"), Some(NgffVersion::V0_6));
        for seen in [
            "0.6rc0", "0.6.dev1", "0.6.dev2", "0.6.dev3", "0.6.dev4", "0.6dev2",
        ] {
            assert_eq!(NgffVersion::parse(seen), Some(NgffVersion::V0_6), "{seen}");
        }
        for bad in [
            "abc123", "", "0.6rc", "0.6.dev", "0.7", "0.4.0", "0.6x", "0.6dev", "0.6.rc1",
        ] {
            assert_eq!(NgffVersion::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn versions_are_ordered() {
        assert!(NgffVersion::V0_3 < NgffVersion::V0_4);
        assert!(NgffVersion::V0_5.is_nested());
        assert!(!NgffVersion::V0_4.is_nested());
    }
}
