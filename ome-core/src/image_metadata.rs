//! What an image is, independent of the format it is written in: axes, physical pixel
//! size and offset, names and channel colours. The OME-Zarr and OME-TIFF writers both take it.

use crate::error::{Error, Result};
use crate::metadata::{Axis, CoordinateSystem, CoordinateTransformation};

/// What an image is: axes, physical scale, names. OME-Zarr writes it into `multiscales` and
/// `omero`, OME-TIFF into the OME-XML `Pixels` and `Channel` elements.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ImageMetadata {
    /// One axis per array dimension, in order.
    pub axes: Vec<Axis>,
    /// Physical size of one level-0 pixel per axis (default 1).
    pub scale: Option<Vec<f64>>,
    /// Physical position of the level-0 origin per axis (default none).
    pub translation: Option<Vec<f64>>,
    /// Name of the multiscale image.
    pub name: Option<String>,
    /// Channel names (omero `label`), one per channel.
    pub channel_names: Vec<String>,
    /// Channel colours as `RRGGBB`, one per channel.
    pub channel_colors: Vec<String>,
    /// 0.6: the name of the intrinsic coordinate system, the one the levels map to
    /// (`None`: `intrinsic`).
    pub intrinsic_system: Option<String>,
    /// 0.6: coordinate systems besides the intrinsic one, written into `coordinateSystems`
    /// after it (by the 0.6 writer only: 0.4, 0.5 and OME-TIFF have one system).
    pub coordinate_systems: Vec<CoordinateSystem>,
    /// 0.6: the multiscale `coordinateTransformations` between the intrinsic system and
    /// [`Self::coordinate_systems`] (0.6 writer only, as above).
    pub transformations: Vec<CoordinateTransformation>,
}

impl ImageMetadata {
    /// Axes from a string of axis letters such as `tczyx`: `t` time, `c` channel, anything
    /// else space.
    ///
    /// # Errors
    /// A usage error for repeated letters.
    pub fn from_axis_letters(letters: &str) -> Result<Self> {
        let mut axes: Vec<Axis> = Vec::new();
        for ch in letters.chars() {
            let name = ch.to_string();
            if axes.iter().any(|a| a.name == name) {
                return Err(Error::usage(format!(
                    "axis {name:?} appears twice in {letters:?}"
                )));
            }
            let kind = match ch {
                't' => "time",
                'c' => "channel",
                _ => "space",
            };
            axes.push(Axis {
                name,
                axis_type: Some(kind.to_string()),
                ..Axis::default()
            });
        }
        Ok(ImageMetadata {
            axes,
            ..ImageMetadata::default()
        })
    }

    /// Default axes for an array of `ndim` dimensions: `yx`, `zyx`, `czyx`, `tczyx`.
    ///
    /// # Errors
    /// A usage error for fewer than 2 or more than 5 dimensions.
    pub fn default_for_ndim(ndim: usize) -> Result<Self> {
        match ndim {
            2..=5 => Self::from_axis_letters(&"tczyx"[5 - ndim..]),
            _ => Err(Error::usage(format!(
                "expected 2 to 5 dimensions for default axes, found {ndim}; give axes"
            ))),
        }
    }
}
