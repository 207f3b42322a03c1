//! [`OmeXml::for_image`] and [`OmeXml::for_images`]: the OME-XML of a single-file OME-TIFF
//! holding one or several images.

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
    /// The OME-XML of one image stored in one OME-TIFF file; see [`OmeXml::for_images`].
    ///
    /// # Errors
    ///
    /// As [`OmeXml::for_images`].
    pub fn for_image(spec: &ImageSpec) -> Result<OmeXml> {
        Self::for_images(std::slice::from_ref(spec))
    }

    /// The OME-XML of several images stored in one OME-TIFF file, in order: `Image:i` /
    /// `Pixels:i`, channels `Channel:i:c` with one sample each, and one `TiffData` per
    /// plane. The planes of image `i` follow those of images `0..i` in the file's IFD chain
    /// (`ome-tiff/specification.rst`, "TiffData": IFD indices count from the file's first
    /// IFD), so plane `p` of image `i`, in its `dimension_order`, is at IFD
    /// `p + planes(0..i)`. Each `TiffData` has explicit `IFD`, `FirstZ/C/T`,
    /// `PlaneCount=1` and a `UUID` naming the file. The file's UUID is that of the first
    /// spec, or a random (v4) one.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::Usage`] for no specs, a size of 0 or above 2^31 - 1, more than
    /// 2^31 - 1 planes in the file, a physical size that is not positive and finite, or a
    /// channel list whose length is neither 0 nor `size_c`;
    /// [`crate::ErrorKind::Unsupported`] for `U64`/`I64`.
    pub fn for_images(specs: &[ImageSpec]) -> Result<OmeXml> {
        let Some(first) = specs.first() else {
            return Err(Error::usage("expected at least one image to describe"));
        };
        let uuid = first
            .uuid
            .clone()
            .unwrap_or_else(|| format!("urn:uuid:{}", uuid::Uuid::new_v4()));
        let mut images = Vec::with_capacity(specs.len());
        let mut first_ifd = 0u64;
        for (i, spec) in specs.iter().enumerate() {
            let image = image_xml(i, spec, first_ifd, &uuid)?;
            first_ifd += image.pixels.tiff_data.len() as u64;
            images.push(image);
        }
        Ok(OmeXml {
            uuid: Some(uuid),
            creator: Some(concat!("ome-core ", env!("CARGO_PKG_VERSION")).to_string()),
            images,
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

/// `Image:index`, its planes at IFDs `first_ifd..` of the file `uuid`.
fn image_xml(index: usize, spec: &ImageSpec, first_ifd: u64, uuid: &str) -> Result<ImageXml> {
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
    // Three sizes below 2^31 can overflow u64 together: checked.
    let planes = u64::from(size_z)
        .checked_mul(u64::from(size_c))
        .and_then(|n| n.checked_mul(u64::from(size_t)));
    let Some(planes) = planes.filter(|&n| i32::try_from(n.saturating_add(first_ifd)).is_ok())
    else {
        return Err(Error::usage(format!(
            "expected at most 2147483647 planes (z × c × t) in the file, found {size_z} × {size_c} × {size_t} after {first_ifd} IFDs"
        )));
    };
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
    let channels = (0..size_c)
        .map(|c| {
            let cs = spec.channels.get(c as usize);
            Channel {
                id: format!("Channel:{index}:{c}"),
                name: cs.and_then(|s| s.name.clone()),
                color: cs.and_then(|s| s.color),
                samples_per_pixel: Some(1),
                ..Channel::default()
            }
        })
        .collect();
    let sizes = (size_z, size_c, size_t);
    let mut tiff_data = Vec::new();
    for p in 0..planes {
        let Some((z, c, t)) = spec.dimension_order.plane_zct(p, sizes) else {
            break;
        };
        // Checked above: first_ifd + planes fits an i32.
        let ifd = u32::try_from(first_ifd + p).unwrap_or(u32::MAX);
        tiff_data.push(TiffData {
            ifd: Some(ifd),
            first_z: Some(z),
            first_c: Some(c),
            first_t: Some(t),
            plane_count: Some(1),
            uuid: Some(TiffUuid {
                value: uuid.to_string(),
                file_name: Some(spec.file_name.clone()).filter(|f| !f.is_empty()),
                ..TiffUuid::default()
            }),
            ..TiffData::default()
        });
    }
    let unit = spec.physical_size_unit;
    let pixels = Pixels {
        id: format!("Pixels:{index}"),
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
    Ok(ImageXml {
        id: format!("Image:{index}"),
        name: Some(spec.name.clone()),
        pixels,
        ..ImageXml::default()
    })
}

impl OmeXml {
    /// `self` (the OME-XML the images came with: a bioformats2raw container's
    /// `OME/METADATA.ome.xml`, or the source OME-TIFF's) rewritten to describe the pixel
    /// layout of `written` (from [`OmeXml::for_images`] for the same images, in order), as
    /// raw2ometiff does: the metadata of `self` is kept (names, descriptions, acquisition
    /// dates, physical sizes, channels, planes, instruments, annotations, plates, ROIs, ...);
    /// the file UUID, `Creator`, each image's `DimensionOrder` and `TiffData` come from
    /// `written`, and `BinData`, `MetadataOnly` and `BinaryOnly` are dropped, as the pixels
    /// are now in the TIFF. Channels that are not one sample each (an RGB channel with
    /// `SamplesPerPixel=3`), or whose count is not `SizeC`, are replaced by those of
    /// `written`, since the writer stores one sample per plane.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::Usage`] when the image counts differ, or an image's sizes or
    /// pixel type differ from those written (the XML would describe other pixels).
    pub fn carry_over(&self, written: OmeXml) -> Result<OmeXml> {
        if self.images.len() != written.images.len() {
            return Err(Error::usage(format!(
                "expected the OME-XML to carry to describe the {} images written, found {} \
                 Image elements",
                written.images.len(),
                self.images.len()
            )));
        }
        let mut out = self.clone();
        for (i, (image, new)) in out.images.iter_mut().zip(written.images).enumerate() {
            let (p, n) = (&mut image.pixels, new.pixels);
            let had = (
                p.size_x,
                p.size_y,
                p.size_z,
                p.size_c,
                p.size_t,
                p.pixel_type,
            );
            let has = (
                n.size_x,
                n.size_y,
                n.size_z,
                n.size_c,
                n.size_t,
                n.pixel_type,
            );
            if had != has {
                return Err(Error::usage(format!(
                    "expected Image {i} ({}) of the OME-XML to carry to describe the pixels \
                     written, found (SizeX, SizeY, SizeZ, SizeC, SizeT, Type) = {:?} in the \
                     XML and {:?} in the data",
                    image.id,
                    (had.0, had.1, had.2, had.3, had.4, had.5.as_str()),
                    (has.0, has.1, has.2, has.3, has.4, has.5.as_str()),
                )));
            }
            let one_sample_each = p.channels.len() == p.size_c as usize
                && p.channels
                    .iter()
                    .all(|c| c.samples_per_pixel.unwrap_or(1) == 1);
            if !one_sample_each {
                p.channels = n.channels;
                p.interleaved = None;
            }
            p.dimension_order = n.dimension_order;
            p.tiff_data = n.tiff_data;
            p.bin_data.clear();
            p.metadata_only = false;
            p.big_endian = None;
        }
        out.uuid = written.uuid;
        out.creator = written.creator;
        out.binary_only = None;
        // Our schema location (2016-06, the namespace `to_xml` writes), not the source's.
        out.unknown_attributes
            .retain(|(k, _)| k != "xsi:schemaLocation" && k != "xmlns:xsi");
        out.unknown_attributes.extend(written.unknown_attributes);
        Ok(out)
    }
}
