//! The OME-XML model: the parts images need, typed; everything else kept verbatim as
//! [`RawElement`]s so that a parse → write round trip reproduces it.
//!
//! Conventions: `Option` means "attribute absent" (the schema default then applies, see
//! each field); `unknown_attributes` holds attributes that are not modelled (namespace
//! declarations, `xsi:*`, schema attributes this crate does not type) in document order;
//! `unknown` holds child elements that are not modelled, in document order. The writer
//! puts unknown children back at their place in the `ome.xsd` sequence of the parent, which
//! for schema-valid input is where they were.

use crate::dtype::DType;
use crate::error::{Error, Result};

use super::raw::RawElement;
use super::units::{UnitsLength, UnitsTime};

/// The OME-XML schema versions this module reads (the root element's namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OmeNamespace {
    /// `http://www.openmicroscopy.org/Schemas/OME/2016-06`, the version written.
    #[default]
    V2016_06,
    /// `http://www.openmicroscopy.org/Schemas/OME/2015-01` (SPW, SA, ROI and BinaryFile in
    /// their own namespaces; same shape as 2016-06 for the modelled subset).
    V2015_01,
    /// `http://www.openmicroscopy.org/Schemas/OME/2013-06` (no unit attributes: lengths are
    /// µm, wavelengths integer nm, times s; same element shape for the modelled subset).
    V2013_06,
}

impl OmeNamespace {
    /// The namespace URI of the `OME` element.
    pub fn uri(self) -> &'static str {
        match self {
            OmeNamespace::V2016_06 => "http://www.openmicroscopy.org/Schemas/OME/2016-06",
            OmeNamespace::V2015_01 => "http://www.openmicroscopy.org/Schemas/OME/2015-01",
            OmeNamespace::V2013_06 => "http://www.openmicroscopy.org/Schemas/OME/2013-06",
        }
    }

    /// The namespace for a URI, `None` for any other.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [
            OmeNamespace::V2016_06,
            OmeNamespace::V2015_01,
            OmeNamespace::V2013_06,
        ]
        .into_iter()
        .find(|n| n.uri() == uri.trim())
    }

    /// The schema version as written in the URI (`2016-06`).
    pub fn version(self) -> &'static str {
        match self {
            OmeNamespace::V2016_06 => "2016-06",
            OmeNamespace::V2015_01 => "2015-01",
            OmeNamespace::V2013_06 => "2013-06",
        }
    }
}

/// The root `OME` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OmeXml {
    /// `UUID` attribute (`urn:uuid:...`), identifies the file set in multi-file OME-TIFF.
    pub uuid: Option<String>,
    /// `Creator` attribute.
    pub creator: Option<String>,
    /// `Image` elements, in order (`Image:N` ids are referenced by index in OME-TIFF).
    pub images: Vec<ImageXml>,
    /// `Instrument` elements.
    pub instruments: Vec<Instrument>,
    /// `Plate` elements (screen-plate-well, `developers/screen-plate-well.rst`).
    pub plates: Vec<PlateXml>,
    /// `StructuredAnnotations`, kept verbatim (this is where the 6D/7D/8D `ModuloAlong*`
    /// annotations live, `developers/6d-7d-and-8d-storage.rst`).
    pub structured_annotations: Option<RawElement>,
    /// `BinaryOnly`: this file's metadata lives in another file (`ome-tiff/file-structure.rst`).
    pub binary_only: Option<BinaryOnly>,
    /// The namespace the document was read from; [`super::to_xml`] always writes 2016-06.
    pub namespace: OmeNamespace,
    /// Other children of `OME` (Rights, Project, Dataset, Folder, Experiment, Screen,
    /// Experimenter, ExperimenterGroup, ROI, ...), verbatim, in document order.
    pub unknown: Vec<RawElement>,
    /// Other attributes of `OME` (namespace declarations, `xsi:schemaLocation`).
    pub unknown_attributes: Vec<(String, String)>,
}

/// `BinaryOnly`: points to the file holding the metadata.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BinaryOnly {
    /// `MetadataFile`: the file name of the file holding the full OME-XML.
    pub metadata_file: String,
    /// `UUID` of that file.
    pub uuid: String,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// An `Image` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ImageXml {
    /// `ID` (`Image:0`).
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// `AcquisitionDate` text (`xsd:dateTime`, kept as written).
    pub acquisition_date: Option<String>,
    /// `Description` text, kept as written.
    pub description: Option<String>,
    /// `InstrumentRef/@ID`.
    pub instrument_ref: Option<String>,
    /// `ObjectiveSettings`.
    pub objective_settings: Option<ObjectiveSettings>,
    /// `Pixels` (required by the schema).
    pub pixels: Pixels,
    /// Other children (ExperimenterRef, StageLabel, ROIRef, AnnotationRef, ...).
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// `ObjectiveSettings` of an image.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ObjectiveSettings {
    /// `ID`: the referenced `Objective`.
    pub id: String,
    /// `CorrectionCollar`.
    pub correction_collar: Option<f64>,
    /// `Medium` (Air, Oil, Water, Glycerol, Other).
    pub medium: Option<String>,
    /// `RefractiveIndex`.
    pub refractive_index: Option<f64>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// `Pixels/@DimensionOrder`: the rasterisation order of the planes, fastest first after XY.
#[allow(clippy::upper_case_acronyms)] // the schema's enumeration values
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DimensionOrder {
    /// Z fastest, then C, then T.
    #[default]
    XYZCT,
    /// Z fastest, then T, then C.
    XYZTC,
    /// C fastest, then T, then Z.
    XYCTZ,
    /// C fastest, then Z, then T.
    XYCZT,
    /// T fastest, then C, then Z.
    XYTCZ,
    /// T fastest, then Z, then C.
    XYTZC,
}

/// A plane axis of the 5D OME model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaneAxis {
    /// Focal plane.
    Z,
    /// Channel.
    C,
    /// Time point.
    T,
}

impl DimensionOrder {
    /// All six orders.
    pub const ALL: [DimensionOrder; 6] = [
        DimensionOrder::XYZCT,
        DimensionOrder::XYZTC,
        DimensionOrder::XYCTZ,
        DimensionOrder::XYCZT,
        DimensionOrder::XYTCZ,
        DimensionOrder::XYTZC,
    ];

    /// The schema spelling (`XYZCT`).
    pub fn as_str(self) -> &'static str {
        match self {
            DimensionOrder::XYZCT => "XYZCT",
            DimensionOrder::XYZTC => "XYZTC",
            DimensionOrder::XYCTZ => "XYCTZ",
            DimensionOrder::XYCZT => "XYCZT",
            DimensionOrder::XYTCZ => "XYTCZ",
            DimensionOrder::XYTZC => "XYTZC",
        }
    }

    /// Parses the schema spelling.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The three plane axes, fastest varying first.
    pub fn plane_axes(self) -> [PlaneAxis; 3] {
        use PlaneAxis::{C, T, Z};
        match self {
            DimensionOrder::XYZCT => [Z, C, T],
            DimensionOrder::XYZTC => [Z, T, C],
            DimensionOrder::XYCTZ => [C, T, Z],
            DimensionOrder::XYCZT => [C, Z, T],
            DimensionOrder::XYTCZ => [T, C, Z],
            DimensionOrder::XYTZC => [T, Z, C],
        }
    }

    /// The `(z, c, t)` of plane `index` in this order for sizes `(size_z, size_c, size_t)`
    /// (`ome-tiff/specification.rst`, "the default TiffData"); `None` past the last plane
    /// or when a size is 0.
    pub fn plane_zct(self, index: u64, sizes: (u32, u32, u32)) -> Option<(u32, u32, u32)> {
        let size_of = |a: PlaneAxis| {
            u64::from(match a {
                PlaneAxis::Z => sizes.0,
                PlaneAxis::C => sizes.1,
                PlaneAxis::T => sizes.2,
            })
        };
        // Three u32 sizes can overflow u64: past u64::MAX every u64 index is inside.
        let total = u64::from(sizes.0)
            .checked_mul(u64::from(sizes.1))
            .and_then(|n| n.checked_mul(u64::from(sizes.2)))
            .unwrap_or(u64::MAX);
        if index >= total {
            return None;
        }
        let mut rest = index;
        let (mut z, mut c, mut t) = (0, 0, 0);
        for axis in self.plane_axes() {
            let n = size_of(axis);
            let v = u32::try_from(rest % n).ok()?;
            rest /= n;
            match axis {
                PlaneAxis::Z => z = v,
                PlaneAxis::C => c = v,
                PlaneAxis::T => t = v,
            }
        }
        Some((z, c, t))
    }

    /// The plane index of `(z, c, t)` in this order; `None` when out of range.
    pub fn plane_index(self, zct: (u32, u32, u32), sizes: (u32, u32, u32)) -> Option<u64> {
        if zct.0 >= sizes.0 || zct.1 >= sizes.1 || zct.2 >= sizes.2 {
            return None;
        }
        let mut index = 0u64;
        let mut stride = 1u64;
        for axis in self.plane_axes() {
            let (v, n) = match axis {
                PlaneAxis::Z => (zct.0, sizes.0),
                PlaneAxis::C => (zct.1, sizes.1),
                PlaneAxis::T => (zct.2, sizes.2),
            };
            index = index.checked_add(u64::from(v).checked_mul(stride)?)?;
            stride = stride.saturating_mul(u64::from(n));
        }
        Some(index)
    }
}

/// `Pixels/@Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PixelType {
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `uint8`
    #[default]
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `float` (32-bit IEEE)
    Float,
    /// `double` (64-bit IEEE)
    Double,
    /// `bit` (1 bit per sample)
    Bit,
    /// `complex` (two 32-bit floats)
    Complex,
    /// `double-complex` (two 64-bit floats)
    DoubleComplex,
}

impl PixelType {
    /// All pixel types.
    pub const ALL: [PixelType; 11] = [
        PixelType::Int8,
        PixelType::Int16,
        PixelType::Int32,
        PixelType::Uint8,
        PixelType::Uint16,
        PixelType::Uint32,
        PixelType::Float,
        PixelType::Double,
        PixelType::Bit,
        PixelType::Complex,
        PixelType::DoubleComplex,
    ];

    /// The schema spelling (`uint16`, `double-complex`).
    pub fn as_str(self) -> &'static str {
        match self {
            PixelType::Int8 => "int8",
            PixelType::Int16 => "int16",
            PixelType::Int32 => "int32",
            PixelType::Uint8 => "uint8",
            PixelType::Uint16 => "uint16",
            PixelType::Uint32 => "uint32",
            PixelType::Float => "float",
            PixelType::Double => "double",
            PixelType::Bit => "bit",
            PixelType::Complex => "complex",
            PixelType::DoubleComplex => "double-complex",
        }
    }

    /// Parses the schema spelling.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The crate's [`DType`]; `None` for `bit`, `complex` and `double-complex`.
    pub fn to_dtype(self) -> Option<DType> {
        match self {
            PixelType::Int8 => Some(DType::I8),
            PixelType::Int16 => Some(DType::I16),
            PixelType::Int32 => Some(DType::I32),
            PixelType::Uint8 => Some(DType::U8),
            PixelType::Uint16 => Some(DType::U16),
            PixelType::Uint32 => Some(DType::U32),
            PixelType::Float => Some(DType::F32),
            PixelType::Double => Some(DType::F64),
            PixelType::Bit | PixelType::Complex | PixelType::DoubleComplex => None,
        }
    }

    /// The pixel type of a [`DType`]; `None` for 64-bit integers, which OME-XML lacks.
    pub fn from_dtype(dtype: DType) -> Option<Self> {
        match dtype {
            DType::I8 => Some(PixelType::Int8),
            DType::I16 => Some(PixelType::Int16),
            DType::I32 => Some(PixelType::Int32),
            DType::U8 => Some(PixelType::Uint8),
            DType::U16 => Some(PixelType::Uint16),
            DType::U32 => Some(PixelType::Uint32),
            DType::F32 => Some(PixelType::Float),
            DType::F64 => Some(PixelType::Double),
            DType::U64 | DType::I64 => None,
        }
    }

    /// Bits per sample (`bit` is 1, `complex` 64, `double-complex` 128).
    pub fn bits(self) -> u32 {
        match self {
            PixelType::Bit => 1,
            PixelType::Int8 | PixelType::Uint8 => 8,
            PixelType::Int16 | PixelType::Uint16 => 16,
            PixelType::Int32 | PixelType::Uint32 | PixelType::Float => 32,
            PixelType::Double | PixelType::Complex => 64,
            PixelType::DoubleComplex => 128,
        }
    }
}

/// A `Pixels` element: the 5D shape, the pixel type and where the planes are.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Pixels {
    /// `ID` (`Pixels:0`).
    pub id: String,
    /// `DimensionOrder`.
    pub dimension_order: DimensionOrder,
    /// `Type`.
    pub pixel_type: PixelType,
    /// `SizeX` (≥ 1).
    pub size_x: u32,
    /// `SizeY` (≥ 1).
    pub size_y: u32,
    /// `SizeZ` (≥ 1).
    pub size_z: u32,
    /// `SizeC` (≥ 1; counts samples, so an RGB channel with `SamplesPerPixel=3` adds 3).
    pub size_c: u32,
    /// `SizeT` (≥ 1).
    pub size_t: u32,
    /// `PhysicalSizeX`, in `physical_size_x_unit`.
    pub physical_size_x: Option<f64>,
    /// `PhysicalSizeXUnit`; absent means `µm`.
    pub physical_size_x_unit: Option<UnitsLength>,
    /// `PhysicalSizeY`.
    pub physical_size_y: Option<f64>,
    /// `PhysicalSizeYUnit`; absent means `µm`.
    pub physical_size_y_unit: Option<UnitsLength>,
    /// `PhysicalSizeZ`.
    pub physical_size_z: Option<f64>,
    /// `PhysicalSizeZUnit`; absent means `µm`.
    pub physical_size_z_unit: Option<UnitsLength>,
    /// `TimeIncrement`.
    pub time_increment: Option<f64>,
    /// `TimeIncrementUnit`; absent means `s`.
    pub time_increment_unit: Option<UnitsTime>,
    /// `SignificantBits`.
    pub significant_bits: Option<u32>,
    /// `BigEndian` (BinData only; a TIFF says its own byte order).
    pub big_endian: Option<bool>,
    /// `Interleaved`.
    pub interleaved: Option<bool>,
    /// `Channel` elements.
    pub channels: Vec<Channel>,
    /// `BinData` elements, kept verbatim (pixel data inline in the XML; not decoded here).
    pub bin_data: Vec<RawElement>,
    /// `TiffData` elements.
    pub tiff_data: Vec<TiffData>,
    /// Whether a `MetadataOnly` element is present (no pixel data anywhere).
    pub metadata_only: bool,
    /// `Plane` elements.
    pub planes: Vec<Plane>,
    /// Other children.
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

impl Pixels {
    /// Whether the pixel data is inline as `BinData`.
    pub fn has_bin_data(&self) -> bool {
        !self.bin_data.is_empty()
    }

    /// `(size_z, size_c, size_t)`.
    pub fn zct_sizes(&self) -> (u32, u32, u32) {
        (self.size_z, self.size_c, self.size_t)
    }

    /// `SizeZ × SizeC × SizeT`: the number of planes when every channel has one sample,
    /// saturating at `u64::MAX` (three sizes near 2^32 do not fit).
    pub fn plane_count(&self) -> u64 {
        u64::from(self.size_z)
            .saturating_mul(u64::from(self.size_c))
            .saturating_mul(u64::from(self.size_t))
    }

    /// `SizeX × SizeY × SizeZ × SizeC × SizeT`; `None` when it does not fit in 64 bits.
    pub fn element_count(&self) -> Option<u64> {
        [self.size_y, self.size_z, self.size_c, self.size_t]
            .iter()
            .try_fold(u64::from(self.size_x), |n, &d| n.checked_mul(u64::from(d)))
    }

    /// What is wrong with the declared sizes under a reader's limits: more than
    /// `max_elements` elements (SizeX × SizeY × SizeZ × SizeC × SizeT), or more than
    /// `max_planes` planes (SizeZ × SizeC × SizeT). Checked before anything is allocated
    /// per plane or per pixel, since a few bytes of XML can declare 2^31 planes.
    /// `None` when the sizes are within both.
    pub fn size_limit_problem(&self, max_elements: u64, max_planes: u64) -> Option<String> {
        let planes = self.plane_count();
        if planes > max_planes {
            return Some(format!(
                "expected at most {max_planes} planes (SizeZ x SizeC x SizeT), found {} x {} x {}{}",
                self.size_z,
                self.size_c,
                self.size_t,
                if planes == u64::MAX {
                    " (more than 2^64)".to_string()
                } else {
                    format!(" = {planes}")
                }
            ));
        }
        match self.element_count() {
            Some(n) if n <= max_elements => None,
            n => Some(format!(
                "expected at most {max_elements} elements (SizeX x SizeY x SizeZ x SizeC x SizeT), found {} x {} x {} x {} x {}{}",
                self.size_x,
                self.size_y,
                self.size_z,
                self.size_c,
                self.size_t,
                n.map_or_else(|| " (more than 2^64)".to_string(), |n| format!(" = {n}"))
            )),
        }
    }

    /// The physical pixel sizes `(x, y, z)` in micrometres, where given and convertible.
    pub fn physical_sizes_um(&self) -> [Option<f64>; 3] {
        let conv = |v: Option<f64>, u: Option<UnitsLength>| {
            v.and_then(|v| {
                u.unwrap_or(UnitsLength::Micrometer)
                    .convert(v, UnitsLength::Micrometer)
            })
        };
        [
            conv(self.physical_size_x, self.physical_size_x_unit),
            conv(self.physical_size_y, self.physical_size_y_unit),
            conv(self.physical_size_z, self.physical_size_z_unit),
        ]
    }
}

/// An OME `Color`: a signed 32-bit integer holding RGBA, red in the high byte
/// (`ome.xsd` type `Color`; `-1` is opaque white, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(pub i32);

impl Default for Color {
    fn default() -> Self {
        Color(-1)
    }
}

impl Color {
    /// From `[r, g, b, a]`.
    pub fn from_rgba(rgba: [u8; 4]) -> Self {
        Color(i32::from_be_bytes(rgba))
    }

    /// `[r, g, b, a]`.
    pub fn to_rgba(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// From `RRGGBB` (opaque) or `RRGGBBAA` hex, with or without a leading `#`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::Usage`] when `hex` is not 6 or 8 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let h = hex.strip_prefix('#').unwrap_or(hex);
        let bad = || {
            Error::usage(format!(
                "expected a colour as RRGGBB or RRGGBBAA hex, found \"{hex}\""
            ))
        };
        if !(h.len() == 6 || h.len() == 8) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let v = u32::from_str_radix(h, 16).map_err(|_| bad())?;
        let rgba = if h.len() == 6 { (v << 8) | 0xff } else { v };
        Ok(Color(i32::from_be_bytes(rgba.to_be_bytes())))
    }

    /// `RRGGBB` hex, lowercase, alpha dropped.
    pub fn to_hex_rgb(self) -> String {
        let [r, g, b, _] = self.to_rgba();
        format!("{r:02x}{g:02x}{b:02x}")
    }

    /// `RRGGBBAA` hex, lowercase.
    pub fn to_hex_rgba(self) -> String {
        let [r, g, b, a] = self.to_rgba();
        format!("{r:02x}{g:02x}{b:02x}{a:02x}")
    }
}

/// A `Channel` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Channel {
    /// `ID` (`Channel:0:0`).
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Color`; absent means `-1` (opaque white).
    pub color: Option<Color>,
    /// `SamplesPerPixel`.
    pub samples_per_pixel: Option<u32>,
    /// `ExcitationWavelength`.
    pub excitation_wavelength: Option<f64>,
    /// `ExcitationWavelengthUnit`; absent means `nm`.
    pub excitation_wavelength_unit: Option<UnitsLength>,
    /// `EmissionWavelength`.
    pub emission_wavelength: Option<f64>,
    /// `EmissionWavelengthUnit`; absent means `nm`.
    pub emission_wavelength_unit: Option<UnitsLength>,
    /// `Fluor`.
    pub fluor: Option<String>,
    /// Other children (LightSourceSettings, DetectorSettings, LightPath, ...).
    pub unknown: Vec<RawElement>,
    /// Other attributes (IlluminationType, AcquisitionMode, PinholeSize, ...).
    pub unknown_attributes: Vec<(String, String)>,
}

/// A `Plane` element: per-plane metadata.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Plane {
    /// `TheZ`.
    pub the_z: u32,
    /// `TheC`.
    pub the_c: u32,
    /// `TheT`.
    pub the_t: u32,
    /// `DeltaT`.
    pub delta_t: Option<f64>,
    /// `DeltaTUnit`; absent means `s`.
    pub delta_t_unit: Option<UnitsTime>,
    /// `ExposureTime`.
    pub exposure_time: Option<f64>,
    /// `ExposureTimeUnit`; absent means `s`.
    pub exposure_time_unit: Option<UnitsTime>,
    /// `PositionX`.
    pub position_x: Option<f64>,
    /// `PositionXUnit`; absent means `reference frame`.
    pub position_x_unit: Option<UnitsLength>,
    /// `PositionY`.
    pub position_y: Option<f64>,
    /// `PositionYUnit`; absent means `reference frame`.
    pub position_y_unit: Option<UnitsLength>,
    /// `PositionZ`.
    pub position_z: Option<f64>,
    /// `PositionZUnit`; absent means `reference frame`.
    pub position_z_unit: Option<UnitsLength>,
    /// Other children (HashSHA1, AnnotationRef).
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// A `TiffData` element: which IFDs hold which planes.
///
/// Absent attributes stay `None`, because the defaults depend on which are present
/// (`ome-tiff/specification.rst`, "TiffData" and `ome.xsd`):
/// `IFD`, `FirstZ`, `FirstC`, `FirstT` default to 0; `PlaneCount` defaults to 1 when `IFD`
/// is given and otherwise to the number of IFDs in the file (see
/// [`TiffData::plane_count_or_default`]). Planes follow `DimensionOrder` from
/// (`FirstZ`, `FirstC`, `FirstT`); surplus IFDs are ignored and unassigned planes are missing.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TiffData {
    /// `IFD`: the first IFD, from 0.
    pub ifd: Option<u32>,
    /// `FirstZ`.
    pub first_z: Option<u32>,
    /// `FirstC`.
    pub first_c: Option<u32>,
    /// `FirstT`.
    pub first_t: Option<u32>,
    /// `PlaneCount`.
    pub plane_count: Option<u32>,
    /// `UUID` child: the file holding the IFDs (absent: this file).
    pub uuid: Option<TiffUuid>,
    /// Other children.
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

impl TiffData {
    /// `IFD` with its default, 0.
    pub fn ifd_or_default(&self) -> u32 {
        self.ifd.unwrap_or(0)
    }

    /// `(FirstZ, FirstC, FirstT)` with their defaults, 0.
    pub fn first_zct_or_default(&self) -> (u32, u32, u32) {
        (
            self.first_z.unwrap_or(0),
            self.first_c.unwrap_or(0),
            self.first_t.unwrap_or(0),
        )
    }

    /// `PlaneCount` with its default: 1 when `IFD` is given, otherwise `ifds_in_file`
    /// (the number of IFDs in the referenced file), per `ome-tiff/specification.rst`.
    pub fn plane_count_or_default(&self, ifds_in_file: u32) -> u32 {
        match (self.plane_count, self.ifd) {
            (Some(n), _) => n,
            (None, Some(_)) => 1,
            (None, None) => ifds_in_file,
        }
    }
}

/// The `UUID` child of `TiffData`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TiffUuid {
    /// The UUID text (`urn:uuid:...`), trimmed.
    pub value: String,
    /// `FileName`: where to find the file (a hint; the UUID is authoritative).
    pub file_name: Option<String>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// An `Instrument` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Instrument {
    /// `ID` (`Instrument:0`).
    pub id: String,
    /// `Microscope`.
    pub microscope: Option<Microscope>,
    /// `Objective` elements.
    pub objectives: Vec<Objective>,
    /// Other children (light sources, Detector, FilterSet, Filter, Dichroic, AnnotationRef).
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}

/// A `Microscope` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Microscope {
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `Type` (Upright, Inverted, Dissection, Electrophysiology, Other).
    pub kind: Option<String>,
    /// Other children.
    pub unknown: Vec<RawElement>,
    /// Other attributes (LotNumber, ...).
    pub unknown_attributes: Vec<(String, String)>,
}

/// An `Objective` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Objective {
    /// `ID` (`Objective:0:0`).
    pub id: String,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `NominalMagnification`.
    pub nominal_magnification: Option<f64>,
    /// `CalibratedMagnification`.
    pub calibrated_magnification: Option<f64>,
    /// `LensNA`.
    pub lens_na: Option<f64>,
    /// `Immersion` (Oil, Water, WaterDipping, Air, Multi, Glycerol, Other).
    pub immersion: Option<String>,
    /// `Correction` (UV, PlanApo, ...).
    pub correction: Option<String>,
    /// Other children (AnnotationRef).
    pub unknown: Vec<RawElement>,
    /// Other attributes (WorkingDistance, Iris, SerialNumber, ...).
    pub unknown_attributes: Vec<(String, String)>,
}

/// `NamingConvention` of plate rows and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamingConvention {
    /// `letter`: A, B, C, ...
    Letter,
    /// `number`: 1, 2, 3, ...
    Number,
}

impl NamingConvention {
    /// The schema spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NamingConvention::Letter => "letter",
            NamingConvention::Number => "number",
        }
    }
}

/// A `Plate` element (`developers/screen-plate-well.rst`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PlateXml {
    /// `ID` (`Plate:0`).
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Description` text.
    pub description: Option<String>,
    /// `Rows`.
    pub rows: Option<u32>,
    /// `Columns`.
    pub columns: Option<u32>,
    /// `RowNamingConvention`.
    pub row_naming_convention: Option<NamingConvention>,
    /// `ColumnNamingConvention`.
    pub column_naming_convention: Option<NamingConvention>,
    /// `FieldIndex`.
    pub field_index: Option<u32>,
    /// `Well` elements.
    pub wells: Vec<WellXml>,
    /// Other children (AnnotationRef, PlateAcquisition).
    pub unknown: Vec<RawElement>,
    /// Other attributes (Status, ExternalIdentifier, WellOrigin*).
    pub unknown_attributes: Vec<(String, String)>,
}

/// A `Well` element.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct WellXml {
    /// `ID` (`Well:0`).
    pub id: String,
    /// `Row`, from 0.
    pub row: u32,
    /// `Column`, from 0.
    pub column: u32,
    /// `WellSample` elements (fields).
    pub samples: Vec<WellSample>,
    /// Other children (ReagentRef, AnnotationRef).
    pub unknown: Vec<RawElement>,
    /// Other attributes (Color, Type, External*).
    pub unknown_attributes: Vec<(String, String)>,
}

/// A `WellSample` element: one field of a well, pointing to an image.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct WellSample {
    /// `ID` (`WellSample:0`).
    pub id: String,
    /// `Index`.
    pub index: u32,
    /// `PositionX`.
    pub position_x: Option<f64>,
    /// `PositionXUnit`; absent means `reference frame`.
    pub position_x_unit: Option<UnitsLength>,
    /// `PositionY`.
    pub position_y: Option<f64>,
    /// `PositionYUnit`; absent means `reference frame`.
    pub position_y_unit: Option<UnitsLength>,
    /// `Timepoint` (`xsd:dateTime`, as written).
    pub timepoint: Option<String>,
    /// `ImageRef/@ID`.
    pub image_ref: Option<String>,
    /// Other children.
    pub unknown: Vec<RawElement>,
    /// Other attributes.
    pub unknown_attributes: Vec<(String, String)>,
}
