//! Multiscale image pyramids: planning the levels of an OME-Zarr `multiscales` image and
//! the downsampling kernels that compute them.
//!
//! Everything here is a pure function over shapes or in-memory arrays; reading and
//! writing the levels is the job of the Zarr layer.
//!
//! * [`plan_levels`] turns a base shape, per-axis factors and a [`LevelCount`] into the
//!   shapes of all levels; [`level_scale`] and [`level_translation`] give the matching
//!   `coordinateTransformations` (NGFF 0.4, "multiscales").
//! * [`downsample`] / [`downsample_into`] reduce one level to the next with a
//!   [`Downsample`] method; [`downsample_region`] with [`required_halo`] does the same for
//!   one region of an image larger than memory, bit-identical to the whole-image result.
//!
//! The kernels run on the global rayon pool, parallel over rows of the output. The common
//! case (a C-contiguous image reduced by mean or nearest in the last two axes) works on
//! pairs of contiguous input rows and runs at memory-bandwidth speed.

// `crate::Error` carries a `Location` by value (about 144 bytes); whether to box it is a
// crate-wide decision, not this module's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

mod downsample;
mod gaussian;
mod plan;

pub use downsample::{downsample, downsample_into, downsample_region, required_halo};
pub use plan::{
    LevelCount, PlannedLevel, absolute_level_transforms, level_scale, level_translation,
    plan_absolute_levels, plan_levels,
};

/// How a block of pixels becomes one pixel of the next level.
///
/// The names are those written to the `multiscales` `"type"` field and accepted by
/// [`FromStr`]: `mean`, `nearest`, `mode`, `gaussian`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Downsample {
    /// The exactly rounded mean of the block (intensity images; the default).
    #[default]
    Mean,
    /// One pixel of the block, the one at offset `f / 2` (what ome-zarr-py writes).
    Nearest,
    /// The most frequent value of the block, ties to the smallest: for label images,
    /// where a mean would invent labels that do not exist.
    Mode,
    /// A gaussian blur (sigma `2 f / 6`, as scikit-image's `pyramid_reduce`) sampled at
    /// the block centre: smoother intensity pyramids with less aliasing.
    Gaussian,
}

impl Downsample {
    /// All methods.
    pub const ALL: [Downsample; 4] = [
        Downsample::Mean,
        Downsample::Nearest,
        Downsample::Mode,
        Downsample::Gaussian,
    ];

    /// The lowercase name: `mean`, `nearest`, `mode`, `gaussian`.
    pub fn as_str(self) -> &'static str {
        match self {
            Downsample::Mean => "mean",
            Downsample::Nearest => "nearest",
            Downsample::Mode => "mode",
            Downsample::Gaussian => "gaussian",
        }
    }
}

impl fmt::Display for Downsample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Downsample {
    type Err = Error;

    /// Parses `mean`, `nearest`, `mode` or `gaussian`.
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Usage`] error for any other name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Downsample::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::usage(format!(
                    "expected a downsampling method (mean, nearest, mode, gaussian), found {s:?}"
                ))
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Downsample::ALL {
            assert_eq!(m.to_string().parse::<Downsample>().unwrap(), m);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        }
        assert_eq!(Downsample::default(), Downsample::Mean);
        let err = "median".parse::<Downsample>().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Usage);
    }
}
