//! [`OmeXml::for_image`]: the OME-XML of a single-image, single-file OME-TIFF.

use crate::dtype::DType;
use crate::error::{Error, Result};

use super::model::{
    Channel, Color, DimensionOrder, ImageXml, OmeXml, PixelType, Pixels, TiffData, TiffUuid,
};
use super::units::{UnitsLength, UnitsTime};

/// What [`OmeXml::for_image`] needs to describe one image.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImageSpec {
    /// `Image/@Name`.
    pub name: String,
    /// `(size_x, size_y, size_z, size_c, size_t)`, each ≥ 1.
    pub sizes: [u32; 5],
    /// The pixel type (not `U64`/`I64`, which OME-XML lacks).
    pub dtype: DType,
    /// The order of the planes in the file.
    pub dimension_order: DimensionOrder,
    /// Physical pixel sizes `(x, y, z)`, each > 0 when given.
    pub physical_size: [Option<f64>; 3],
    /// Unit of `physical_size`; `None` writes no unit attribute (µm by default).
    pub physical_size_unit: Option<UnitsLength>,
    /// Time between time points, in `time_increment_unit`.
    pub time_increment: Option<f64>,
    /// Unit of `time_increment`; `None` means seconds.
    pub time_increment_unit: Option<UnitsTime>,
    /// Channel names and colours; empty, or exactly `size_c` entries.
    pub channels: Vec<ChannelSpec>,
    /// The file name of the OME-TIFF (written as `TiffData/UUID/@FileName`).
    pub file_name: String,
    /// The file's UUID (`urn:uuid:...`); `None` generates a random (v4) one.
    pub uuid: Option<String>,
}

impl ImageSpec {
    /// A spec with the given sizes `(x, y, z, c, t)` and type, order `XYZCT`, no physical
    /// sizes, unnamed channels.
    pub fn new(name: impl Into<String>, sizes: [u32; 5], dtype: DType) -> Self {
        ImageSpec {
            name: name.into(),
            sizes,
            dtype,
            dimension_order: DimensionOrder::XYZCT,
            physical_size: [None; 3],
            physical_size_unit: None,
            time_increment: None,
            time_increment_unit: None,
            channels: Vec::new(),
            file_name: String::new(),
            uuid: None,
        }
    }
}

/// Name and colour of one channel in an [`ImageSpec`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ChannelSpec {
    /// `Channel/@Name`.
    pub name: Option<String>,
    /// `Channel/@Color`.
    pub color: Option<Color>,
}

impl ChannelSpec {
    /// A channel with a name and an optional colour.
    pub fn new(name: Option<String>, color: Option<Color>) -> Self {
        ChannelSpec { name, color }
    }
}

impl OmeXml {
    /// The OME-XML of one image stored in one OME-TIFF file: `Image:0` / `Pixels:0`,
    /// channels `Channel:0:c` with one sample each, and one `TiffData` per plane where IFD
    /// `i` holds plane `i` in `dimension_order` (explicit `IFD`, `FirstZ/C/T`,
    /// `PlaneCount=1` and a `UUID` naming the file, as in `ome-tiff/specification.rst`).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::Usage`] for a size of 0 or above 2^31 - 1, more than 2^31 - 1
    /// planes, a physical size that is not positive and finite, or a channel list whose
    /// length is neither 0 nor `size_c`; [`crate::ErrorKind::Unsupported`] for `U64`/`I64`.
    pub fn for_image(spec: &ImageSpec) -> Result<OmeXml> {
        let pixel_type = PixelType::from_dtype(spec.dtype).ok_or_else(|| {
            Error::unsupported(
                crate::location::Location::None,
                format!(
                    "expected a pixel type OME-XML has (8/16/32-bit integers, float32, \
                     float64), found {}",
                    spec.dtype.name()
                ),
            )
        })?;
        let [size_x, size_y, size_z, size_c, size_t] = spec.sizes;
        for (axis, size) in ["x", "y", "z", "c", "t"].iter().zip(spec.sizes) {
            if size == 0 || i32::try_from(size).is_err() {
                return Err(Error::usage(format!(
                    "expected size_{axis} between 1 and 2147483647, found {size}"
                )));
            }
        }
        let planes = u64::from(size_z) * u64::from(size_c) * u64::from(size_t);
        if i32::try_from(planes).is_err() {
            return Err(Error::usage(format!(
                "expected at most 2147483647 planes (z × c × t), found {planes}"
            )));
        }
        for (axis, v) in ["x", "y", "z"].iter().zip(spec.physical_size) {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(Error::usage(format!(
                    "expected physical_size_{axis} to be positive and finite, found {v}"
                )));
            }
        }
        if !spec.channels.is_empty() && spec.channels.len() != size_c as usize {
            return Err(Error::usage(format!(
                "expected 0 or {size_c} channel specs (size_c), found {}",
                spec.channels.len()
            )));
        }
        let uuid = spec
            .uuid
            .clone()
            .unwrap_or_else(|| format!("urn:uuid:{}", uuid::Uuid::new_v4()));

        let channels = (0..size_c)
            .map(|c| {
                let cs = spec.channels.get(c as usize);
                Channel {
                    id: format!("Channel:0:{c}"),
                    name: cs.and_then(|s| s.name.clone()),
                    color: cs.and_then(|s| s.color),
                    samples_per_pixel: Some(1),
                    ..Channel::default()
                }
            })
            .collect();
        let sizes = (size_z, size_c, size_t);
        let mut tiff_data = Vec::new();
        for index in 0..planes {
            let Some((z, c, t)) = spec.dimension_order.plane_zct(index, sizes) else {
                break;
            };
            let ifd = u32::try_from(index).map_err(|_| {
                Error::usage(format!(
                    "expected at most 2147483647 planes, found {planes}"
                ))
            })?;
            tiff_data.push(TiffData {
                ifd: Some(ifd),
                first_z: Some(z),
                first_c: Some(c),
                first_t: Some(t),
                plane_count: Some(1),
                uuid: Some(TiffUuid {
                    value: uuid.clone(),
                    file_name: Some(spec.file_name.clone()).filter(|f| !f.is_empty()),
                    ..TiffUuid::default()
                }),
                ..TiffData::default()
            });
        }
        let unit = spec.physical_size_unit;
        let pixels = Pixels {
            id: "Pixels:0".to_string(),
            dimension_order: spec.dimension_order,
            pixel_type,
            size_x,
            size_y,
            size_z,
            size_c,
            size_t,
            physical_size_x: spec.physical_size[0],
            physical_size_x_unit: spec.physical_size[0].and(unit),
            physical_size_y: spec.physical_size[1],
            physical_size_y_unit: spec.physical_size[1].and(unit),
            physical_size_z: spec.physical_size[2],
            physical_size_z_unit: spec.physical_size[2].and(unit),
            time_increment: spec.time_increment,
            time_increment_unit: spec.time_increment.and(spec.time_increment_unit),
            significant_bits: Some(pixel_type.bits()),
            channels,
            tiff_data,
            ..Pixels::default()
        };
        let image = ImageXml {
            id: "Image:0".to_string(),
            name: Some(spec.name.clone()),
            pixels,
            ..ImageXml::default()
        };
        Ok(OmeXml {
            uuid: Some(uuid),
            creator: Some(concat!("ome-core ", env!("CARGO_PKG_VERSION")).to_string()),
            images: vec![image],
            unknown_attributes: vec![
                (
                    "xmlns:xsi".to_string(),
                    "http://www.w3.org/2001/XMLSchema-instance".to_string(),
                ),
                (
                    "xsi:schemaLocation".to_string(),
                    "http://www.openmicroscopy.org/Schemas/OME/2016-06 \
                     http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd"
                        .to_string(),
                ),
            ],
            ..OmeXml::default()
        })
    }
}
