//! OME-XML text → [`OmeXml`]: a hardened read into a [`RawElement`] tree, then a typed
//! pass over the modelled elements. Everything not modelled moves into `unknown` lists.

use crate::error::{Error, Result};
use crate::location::Location;

use super::model::{
    BinaryOnly, Channel, Color, DimensionOrder, ImageXml, Instrument, Microscope, NamingConvention,
    Objective, ObjectiveSettings, OmeNamespace, OmeXml, PixelType, Pixels, Plane, PlateXml,
    TiffData, TiffUuid, WellSample, WellXml,
};
use super::raw::{RawElement, RawNode, XmlLimits, read_tree};
use super::units::{UnitsLength, UnitsTime};

/// Parses an OME-XML document (2016-06, 2015-01 or 2013-06).
///
/// No DTD is processed: a `<!DOCTYPE` is refused, only the predefined entities and
/// character references are resolved. Elements and attributes that are not modelled are
/// kept verbatim (see [`OmeXml`]).
///
/// # Errors
///
/// * [`crate::ErrorKind::LimitsExceeded`] when `limits` are exceeded,
/// * [`crate::ErrorKind::Unsupported`] for a DOCTYPE or a namespace other than the three read
///   (`unsupported OME-XML namespace ...`),
/// * [`crate::ErrorKind::Format`] for malformed XML or modelled values that break the schema
///   (a `SizeX` that is not a positive integer, an unknown `DimensionOrder`, ...).
///
/// Each error's [`Location::Xml`] names the element path (`/OME/Image[0]/Pixels@SizeX`).
pub fn parse(xml: &str, limits: &XmlLimits) -> Result<OmeXml> {
    check_xml_chars(xml)?;
    let root = read_tree(xml, limits)?;
    ome(root)
}

/// XML 1.0 section 2.2 (`Char`): a document holds only tab, newline, carriage return and
/// the characters from U+0020 up, minus U+FFFE and U+FFFF. A NUL or other control
/// character makes the document not XML at all; accepting it would also let a value
/// through that cannot be written back.
fn check_xml_chars(xml: &str) -> Result<()> {
    let bad = xml.char_indices().find(|&(_, c)| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    });
    match bad {
        None => Ok(()),
        Some((at, c)) => Err(Error::format(
            loc("/"),
            format!(
                "expected only XML 1.0 characters, found U+{:04X} at byte {at}",
                u32::from(c)
            ),
        )),
    }
}

/// Parses an OME-XML document given as bytes, which must be UTF-8 (an optional BOM is
/// skipped). See [`parse`].
///
/// # Errors
///
/// As [`parse`], plus [`crate::ErrorKind::Format`] when the bytes are not UTF-8.
pub fn parse_bytes(xml: &[u8], limits: &XmlLimits) -> Result<OmeXml> {
    if xml.len() > limits.max_bytes {
        return Err(Error::limits(
            loc("/"),
            format!(
                "expected an OME-XML document of at most {} bytes, found {} bytes",
                limits.max_bytes,
                xml.len()
            ),
        ));
    }
    let text = std::str::from_utf8(xml).map_err(|e| {
        Error::format(
            loc("/"),
            format!(
                "expected UTF-8 OME-XML, found an invalid byte sequence at byte {}",
                e.valid_up_to()
            ),
        )
    })?;
    parse(text, limits)
}

fn loc(path: &str) -> Location {
    Location::Xml {
        file: None,
        path: path.to_string(),
    }
}

/// Attributes of one modelled element: typed accessors take what is modelled; the rest
/// stays in order for `unknown_attributes`.
struct Attrs<'p> {
    path: &'p str,
    list: Vec<(String, String)>,
}

impl<'p> Attrs<'p> {
    fn new(path: &'p str, list: Vec<(String, String)>) -> Self {
        Attrs { path, list }
    }

    fn err(&self, name: &str, message: String) -> Error {
        Error::format(loc(&format!("{}@{name}", self.path)), message)
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.list.iter().position(|(k, _)| k == name)?;
        Some(self.list.remove(i).1)
    }

    fn required(&mut self, name: &str) -> Result<String> {
        self.take(name).ok_or_else(|| {
            Error::format(
                loc(self.path),
                format!("expected a {name} attribute, found none"),
            )
        })
    }

    fn parse_with<T>(
        &mut self,
        name: &str,
        expected: &str,
        f: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.take(name) {
            None => Ok(None),
            // XSD numeric and enumerated types collapse whitespace.
            Some(v) => match f(v.trim()) {
                Some(t) => Ok(Some(t)),
                None => Err(self.err(name, format!("expected {expected}, found \"{v}\""))),
            },
        }
    }

    fn non_negative(&mut self, name: &str) -> Result<Option<u32>> {
        // NonNegativeInt restricts xsd:int: 0 ..= 2^31 - 1.
        self.parse_with(name, "a non-negative integer", |s| {
            s.parse::<u32>().ok().filter(|v| i32::try_from(*v).is_ok())
        })
    }

    fn positive(&mut self, name: &str) -> Result<Option<u32>> {
        self.parse_with(name, "a positive integer", |s| {
            s.parse::<u32>()
                .ok()
                .filter(|v| *v > 0 && i32::try_from(*v).is_ok())
        })
    }

    fn required_positive(&mut self, name: &str) -> Result<u32> {
        match self.positive(name)? {
            Some(v) => Ok(v),
            None => Err(Error::format(
                loc(self.path),
                format!("expected a {name} attribute, found none"),
            )),
        }
    }

    fn required_non_negative(&mut self, name: &str) -> Result<u32> {
        match self.non_negative(name)? {
            Some(v) => Ok(v),
            None => Err(Error::format(
                loc(self.path),
                format!("expected a {name} attribute, found none"),
            )),
        }
    }

    fn float(&mut self, name: &str) -> Result<Option<f64>> {
        self.parse_with(name, "a number", parse_xsd_float)
    }

    fn positive_float(&mut self, name: &str) -> Result<Option<f64>> {
        // PositiveFloat: xsd:float with minExclusive 0.
        self.parse_with(name, "a positive number", |s| {
            parse_xsd_float(s).filter(|v| *v > 0.0)
        })
    }

    fn boolean(&mut self, name: &str) -> Result<Option<bool>> {
        self.parse_with(name, "true, false, 1 or 0", |s| match s {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        })
    }

    fn length_unit(&mut self, name: &str) -> Result<Option<UnitsLength>> {
        self.parse_with(
            name,
            "a UnitsLength symbol such as µm",
            UnitsLength::from_symbol,
        )
    }

    fn time_unit(&mut self, name: &str) -> Result<Option<UnitsTime>> {
        self.parse_with(name, "a UnitsTime symbol such as s", UnitsTime::from_symbol)
    }

    fn color(&mut self, name: &str) -> Result<Option<Color>> {
        self.parse_with(name, "a colour as a signed 32-bit integer", |s| {
            s.parse::<i32>().ok().map(Color)
        })
    }

    fn naming(&mut self, name: &str) -> Result<Option<NamingConvention>> {
        self.parse_with(name, "letter or number", |s| match s {
            "letter" => Some(NamingConvention::Letter),
            "number" => Some(NamingConvention::Number),
            _ => None,
        })
    }

    fn rest(self) -> Vec<(String, String)> {
        self.list
    }
}

/// xsd:float / xsd:double lexical forms (`1.5`, `-1E3`, `.5`, `INF`, `-INF`, `NaN`).
fn parse_xsd_float(s: &str) -> Option<f64> {
    match s {
        "INF" | "+INF" => Some(f64::INFINITY),
        "-INF" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if s
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Gives `Name[i]` paths to children, counting per local name.
#[derive(Default)]
struct Counter(Vec<(String, usize)>);

impl Counter {
    fn path(&mut self, parent: &str, local: &str) -> String {
        let i = match self.0.iter_mut().find(|(n, _)| n == local) {
            Some((_, c)) => {
                *c += 1;
                *c - 1
            }
            None => {
                self.0.push((local.to_string(), 1));
                0
            }
        };
        format!("{parent}/{local}[{i}]")
    }
}

/// The child elements of `e`, with their paths; text, comments and PIs directly inside a
/// modelled element are dropped (the schema gives these elements element-only content).
fn child_elements(children: Vec<RawNode>, parent: &str) -> Vec<(String, RawElement)> {
    let mut counter = Counter::default();
    children
        .into_iter()
        .filter_map(|n| match n {
            RawNode::Element(e) => {
                let path = counter.path(parent, e.local_name());
                Some((path, e))
            }
            _ => None,
        })
        .collect()
}

fn ome(root: RawElement) -> Result<OmeXml> {
    if root.local_name() != "OME" {
        return Err(Error::format(
            loc(&format!("/{}", root.local_name())),
            format!("expected the root element OME, found <{}>", root.name),
        ));
    }
    let path = "/OME";
    let ns_attr = match root.prefix() {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    let expected = "expected one of the OME namespaces \
                    http://www.openmicroscopy.org/Schemas/OME/2016-06, /2015-01, /2013-06";
    let uri = root.attribute(&ns_attr).unwrap_or("").to_string();
    let namespace = if uri.is_empty() {
        return Err(Error::unsupported(
            loc(path),
            format!("unsupported OME-XML namespace: {expected}, found no namespace"),
        ));
    } else {
        OmeNamespace::from_uri(&uri).ok_or_else(|| {
            Error::unsupported(
                loc(path),
                format!("unsupported OME-XML namespace \"{uri}\": {expected}"),
            )
        })?
    };

    let mut attrs = Attrs::new(path, root.attributes);
    // The default namespace declaration is `namespace`; the writer always declares the
    // 2016-06 one, so it is not kept among the unknown attributes.
    attrs.take("xmlns");
    let mut doc = OmeXml {
        uuid: attrs.take("UUID"),
        creator: attrs.take("Creator"),
        namespace,
        ..OmeXml::default()
    };
    for (child_path, child) in child_elements(root.children, path) {
        match child.local_name() {
            "Image" => doc.images.push(image(child, &child_path)?),
            "Instrument" => doc.instruments.push(instrument(child, &child_path)?),
            "Plate" => doc.plates.push(plate(child, &child_path)?),
            "StructuredAnnotations" if doc.structured_annotations.is_none() => {
                doc.structured_annotations = Some(child);
            }
            "BinaryOnly" if doc.binary_only.is_none() => {
                let mut a = Attrs::new(&child_path, child.attributes);
                doc.binary_only = Some(BinaryOnly {
                    metadata_file: a.required("MetadataFile")?,
                    uuid: a.required("UUID")?,
                    unknown_attributes: a.rest(),
                });
            }
            _ => doc.unknown.push(child),
        }
    }
    doc.unknown_attributes = attrs.rest();
    Ok(doc)
}

fn image(e: RawElement, path: &str) -> Result<ImageXml> {
    let mut a = Attrs::new(path, e.attributes);
    let mut img = ImageXml {
        id: a.required("ID")?,
        name: a.take("Name"),
        ..ImageXml::default()
    };
    let mut pixels_seen = false;
    for (p, child) in child_elements(e.children, path) {
        match child.local_name() {
            "AcquisitionDate" if img.acquisition_date.is_none() => {
                img.acquisition_date = Some(child.text().trim().to_string());
            }
            "Description" if img.description.is_none() => img.description = Some(child.text()),
            "InstrumentRef" if img.instrument_ref.is_none() => {
                img.instrument_ref = Some(Attrs::new(&p, child.attributes).required("ID")?);
            }
            "ObjectiveSettings" if img.objective_settings.is_none() => {
                let mut a = Attrs::new(&p, child.attributes);
                img.objective_settings = Some(ObjectiveSettings {
                    id: a.required("ID")?,
                    correction_collar: a.float("CorrectionCollar")?,
                    medium: a.take("Medium"),
                    refractive_index: a.float("RefractiveIndex")?,
                    unknown_attributes: a.rest(),
                });
            }
            "Pixels" if !pixels_seen => {
                pixels_seen = true;
                img.pixels = pixels(child, &p)?;
            }
            _ => img.unknown.push(child),
        }
    }
    if !pixels_seen {
        return Err(Error::format(
            loc(path),
            "expected a Pixels element, found none",
        ));
    }
    img.unknown_attributes = a.rest();
    Ok(img)
}

fn pixels(e: RawElement, path: &str) -> Result<Pixels> {
    let mut a = Attrs::new(path, e.attributes);
    let id = a.required("ID")?;
    let order = a.required("DimensionOrder")?;
    let dimension_order = DimensionOrder::from_name(order.trim()).ok_or_else(|| {
        a.err(
            "DimensionOrder",
            format!("expected one of XYZCT, XYZTC, XYCTZ, XYCZT, XYTCZ, XYTZC, found \"{order}\""),
        )
    })?;
    let ty = a.required("Type")?;
    let pixel_type = PixelType::from_name(ty.trim()).ok_or_else(|| {
        a.err(
            "Type",
            format!(
                "expected one of int8, int16, int32, uint8, uint16, uint32, float, double, \
                 bit, complex, double-complex, found \"{ty}\""
            ),
        )
    })?;
    let mut px = Pixels {
        id,
        dimension_order,
        pixel_type,
        size_x: a.required_positive("SizeX")?,
        size_y: a.required_positive("SizeY")?,
        size_z: a.required_positive("SizeZ")?,
        size_c: a.required_positive("SizeC")?,
        size_t: a.required_positive("SizeT")?,
        physical_size_x: a.positive_float("PhysicalSizeX")?,
        physical_size_x_unit: a.length_unit("PhysicalSizeXUnit")?,
        physical_size_y: a.positive_float("PhysicalSizeY")?,
        physical_size_y_unit: a.length_unit("PhysicalSizeYUnit")?,
        physical_size_z: a.positive_float("PhysicalSizeZ")?,
        physical_size_z_unit: a.length_unit("PhysicalSizeZUnit")?,
        time_increment: a.float("TimeIncrement")?,
        time_increment_unit: a.time_unit("TimeIncrementUnit")?,
        significant_bits: a.positive("SignificantBits")?,
        big_endian: a.boolean("BigEndian")?,
        interleaved: a.boolean("Interleaved")?,
        ..Pixels::default()
    };
    for (p, child) in child_elements(e.children, path) {
        match child.local_name() {
            "Channel" => px.channels.push(channel(child, &p)?),
            "BinData" => px.bin_data.push(child),
            "TiffData" => px.tiff_data.push(tiff_data(child, &p)?),
            "MetadataOnly" if !px.metadata_only => px.metadata_only = true,
            "Plane" => px.planes.push(plane(child, &p)?),
            _ => px.unknown.push(child),
        }
    }
    px.unknown_attributes = a.rest();
    Ok(px)
}

fn channel(e: RawElement, path: &str) -> Result<Channel> {
    let mut a = Attrs::new(path, e.attributes);
    let mut ch = Channel {
        id: a.required("ID")?,
        name: a.take("Name"),
        color: a.color("Color")?,
        samples_per_pixel: a.positive("SamplesPerPixel")?,
        excitation_wavelength: a.positive_float("ExcitationWavelength")?,
        excitation_wavelength_unit: a.length_unit("ExcitationWavelengthUnit")?,
        emission_wavelength: a.positive_float("EmissionWavelength")?,
        emission_wavelength_unit: a.length_unit("EmissionWavelengthUnit")?,
        fluor: a.take("Fluor"),
        ..Channel::default()
    };
    ch.unknown = child_elements(e.children, path)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    ch.unknown_attributes = a.rest();
    Ok(ch)
}

fn plane(e: RawElement, path: &str) -> Result<Plane> {
    let mut a = Attrs::new(path, e.attributes);
    let mut pl = Plane {
        the_z: a.required_non_negative("TheZ")?,
        the_c: a.required_non_negative("TheC")?,
        the_t: a.required_non_negative("TheT")?,
        delta_t: a.float("DeltaT")?,
        delta_t_unit: a.time_unit("DeltaTUnit")?,
        exposure_time: a.float("ExposureTime")?,
        exposure_time_unit: a.time_unit("ExposureTimeUnit")?,
        position_x: a.float("PositionX")?,
        position_x_unit: a.length_unit("PositionXUnit")?,
        position_y: a.float("PositionY")?,
        position_y_unit: a.length_unit("PositionYUnit")?,
        position_z: a.float("PositionZ")?,
        position_z_unit: a.length_unit("PositionZUnit")?,
        ..Plane::default()
    };
    pl.unknown = child_elements(e.children, path)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    pl.unknown_attributes = a.rest();
    Ok(pl)
}

fn tiff_data(e: RawElement, path: &str) -> Result<TiffData> {
    let mut a = Attrs::new(path, e.attributes);
    // Absent stays None: the defaults depend on which attributes are present
    // (ome-tiff/specification.rst, "TiffData"); see TiffData's documentation.
    let mut td = TiffData {
        ifd: a.non_negative("IFD")?,
        first_z: a.non_negative("FirstZ")?,
        first_c: a.non_negative("FirstC")?,
        first_t: a.non_negative("FirstT")?,
        plane_count: a.non_negative("PlaneCount")?,
        ..TiffData::default()
    };
    for (p, child) in child_elements(e.children, path) {
        if child.local_name() == "UUID" && td.uuid.is_none() {
            let value = child.text().trim().to_string();
            let mut ua = Attrs::new(&p, child.attributes);
            td.uuid = Some(TiffUuid {
                value,
                file_name: ua.take("FileName"),
                unknown_attributes: ua.rest(),
            });
        } else {
            td.unknown.push(child);
        }
    }
    td.unknown_attributes = a.rest();
    Ok(td)
}

fn instrument(e: RawElement, path: &str) -> Result<Instrument> {
    let mut a = Attrs::new(path, e.attributes);
    let mut ins = Instrument {
        id: a.required("ID")?,
        ..Instrument::default()
    };
    for (p, child) in child_elements(e.children, path) {
        match child.local_name() {
            "Microscope" if ins.microscope.is_none() => {
                let mut ma = Attrs::new(&p, child.attributes);
                ins.microscope = Some(Microscope {
                    manufacturer: ma.take("Manufacturer"),
                    model: ma.take("Model"),
                    serial_number: ma.take("SerialNumber"),
                    kind: ma.take("Type"),
                    unknown: child_elements(child.children, &p)
                        .into_iter()
                        .map(|(_, c)| c)
                        .collect(),
                    unknown_attributes: ma.rest(),
                });
            }
            "Objective" => {
                let mut oa = Attrs::new(&p, child.attributes);
                ins.objectives.push(Objective {
                    id: oa.required("ID")?,
                    manufacturer: oa.take("Manufacturer"),
                    model: oa.take("Model"),
                    nominal_magnification: oa.float("NominalMagnification")?,
                    calibrated_magnification: oa.float("CalibratedMagnification")?,
                    lens_na: oa.float("LensNA")?,
                    immersion: oa.take("Immersion"),
                    correction: oa.take("Correction"),
                    unknown: child_elements(child.children, &p)
                        .into_iter()
                        .map(|(_, c)| c)
                        .collect(),
                    unknown_attributes: oa.rest(),
                });
            }
            _ => ins.unknown.push(child),
        }
    }
    ins.unknown_attributes = a.rest();
    Ok(ins)
}

fn plate(e: RawElement, path: &str) -> Result<PlateXml> {
    let mut a = Attrs::new(path, e.attributes);
    let mut pl = PlateXml {
        id: a.required("ID")?,
        name: a.take("Name"),
        rows: a.positive("Rows")?,
        columns: a.positive("Columns")?,
        row_naming_convention: a.naming("RowNamingConvention")?,
        column_naming_convention: a.naming("ColumnNamingConvention")?,
        field_index: a.non_negative("FieldIndex")?,
        ..PlateXml::default()
    };
    for (p, child) in child_elements(e.children, path) {
        match child.local_name() {
            "Description" if pl.description.is_none() => pl.description = Some(child.text()),
            "Well" => pl.wells.push(well(child, &p)?),
            _ => pl.unknown.push(child),
        }
    }
    pl.unknown_attributes = a.rest();
    Ok(pl)
}

fn well(e: RawElement, path: &str) -> Result<WellXml> {
    let mut a = Attrs::new(path, e.attributes);
    let mut w = WellXml {
        id: a.required("ID")?,
        column: a.required_non_negative("Column")?,
        row: a.required_non_negative("Row")?,
        ..WellXml::default()
    };
    for (p, child) in child_elements(e.children, path) {
        if child.local_name() == "WellSample" {
            w.samples.push(well_sample(child, &p)?);
        } else {
            w.unknown.push(child);
        }
    }
    w.unknown_attributes = a.rest();
    Ok(w)
}

fn well_sample(e: RawElement, path: &str) -> Result<WellSample> {
    let mut a = Attrs::new(path, e.attributes);
    let mut ws = WellSample {
        id: a.required("ID")?,
        index: a.required_non_negative("Index")?,
        position_x: a.float("PositionX")?,
        position_x_unit: a.length_unit("PositionXUnit")?,
        position_y: a.float("PositionY")?,
        position_y_unit: a.length_unit("PositionYUnit")?,
        timepoint: a.take("Timepoint"),
        ..WellSample::default()
    };
    for (p, child) in child_elements(e.children, path) {
        if child.local_name() == "ImageRef" && ws.image_ref.is_none() {
            ws.image_ref = Some(Attrs::new(&p, child.attributes).required("ID")?);
        } else {
            ws.unknown.push(child);
        }
    }
    ws.unknown_attributes = a.rest();
    Ok(ws)
}
