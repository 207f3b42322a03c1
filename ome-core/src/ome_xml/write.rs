//! [`OmeXml`] → OME-XML 2016-06 text.
//!
//! Children are emitted in the order of the `ome.xsd` 2016-06 sequences; elements kept
//! verbatim (`unknown`) are slotted into the same sequences by name, so a schema-valid
//! input stays schema-valid. Modelled elements are indented; verbatim elements are written
//! exactly as read (their whitespace is content and is kept).

use super::model::{
    Channel, ImageXml, Instrument, OmeNamespace, OmeXml, Pixels, Plane, PlateXml, TiffData,
    WellSample, WellXml,
};
use super::raw::{
    OME_2016_06, RawElement, escape_text, upgrade_namespace, write_attribute, write_raw,
};
use super::units::{UnitsLength, UnitsTime};

// Child sequences of ome.xsd 2016-06 (an element's index in its parent's list is its
// slot; members of a substitution group share a slot).
const OME_ORDER: &[&[&str]] = &[
    &["Rights"],
    &["Project"],
    &["Dataset"],
    &["Folder"],
    &["Experiment"],
    &["Plate"],
    &["Screen"],
    &["Experimenter"],
    &["ExperimenterGroup"],
    &["Instrument"],
    &["Image"],
    &["StructuredAnnotations"],
    &["ROI"],
    &["BinaryOnly"],
];
const IMAGE_ORDER: &[&[&str]] = &[
    &["AcquisitionDate"],
    &["ExperimenterRef"],
    &["Description"],
    &["ExperimentRef"],
    &["ExperimenterGroupRef"],
    &["InstrumentRef"],
    &["ObjectiveSettings"],
    &["ImagingEnvironment"],
    &["StageLabel"],
    &["Pixels"],
    &["ROIRef"],
    &["MicrobeamManipulationRef"],
    &["AnnotationRef"],
];
const PIXELS_ORDER: &[&[&str]] = &[
    &["Channel"],
    &["BinData", "TiffData", "MetadataOnly"],
    &["Plane"],
];
const CHANNEL_ORDER: &[&[&str]] = &[
    &["LightSourceSettings"],
    &["DetectorSettings"],
    &["FilterSetRef"],
    &["AnnotationRef"],
    &["LightPath"],
];
const PLANE_ORDER: &[&[&str]] = &[&["HashSHA1"], &["AnnotationRef"]];
const TIFF_DATA_ORDER: &[&[&str]] = &[&["UUID"]];
const INSTRUMENT_ORDER: &[&[&str]] = &[
    &["Microscope"],
    &[
        "LightSourceGroup",
        "Laser",
        "Arc",
        "Filament",
        "LightEmittingDiode",
        "GenericExcitationSource",
    ],
    &["Detector"],
    &["Objective"],
    &["FilterSet"],
    &["Filter"],
    &["Dichroic"],
    &["AnnotationRef"],
];
const OBJECTIVE_ORDER: &[&[&str]] = &[&["AnnotationRef"]];
const PLATE_ORDER: &[&[&str]] = &[
    &["Description"],
    &["Well"],
    &["AnnotationRef"],
    &["PlateAcquisition"],
];
const WELL_ORDER: &[&[&str]] = &[&["WellSample"], &["ReagentRef"], &["AnnotationRef"]];
const WELL_SAMPLE_ORDER: &[&[&str]] = &[&["ImageRef"], &["AnnotationRef"]];

/// The slot of a child named `local` in `order`; unknown names go last.
fn slot(order: &[&[&str]], local: &str) -> usize {
    order
        .iter()
        .position(|names| names.contains(&local))
        .unwrap_or(order.len())
}

/// An element to write: generated from the model, or kept verbatim.
enum Node<'a> {
    Gen(Gen<'a>),
    Raw(&'a RawElement),
}

struct Gen<'a> {
    name: &'static str,
    attributes: Vec<(&'a str, String)>,
    text: Option<&'a str>,
    order: &'static [&'static [&'static str]],
    children: Vec<(usize, Node<'a>)>,
}

impl<'a> Gen<'a> {
    fn new(name: &'static str, order: &'static [&'static [&'static str]]) -> Self {
        Gen {
            name,
            attributes: Vec::new(),
            text: None,
            order,
            children: Vec::new(),
        }
    }

    fn attr(&mut self, key: &'a str, value: impl Into<String>) {
        self.attributes.push((key, value.into()));
    }

    fn opt_str(&mut self, key: &'a str, value: &'a Option<String>) {
        if let Some(v) = value {
            self.attr(key, v.as_str());
        }
    }

    fn opt_u32(&mut self, key: &'a str, value: Option<u32>) {
        if let Some(v) = value {
            self.attr(key, v.to_string());
        }
    }

    fn opt_f64(&mut self, key: &'a str, value: Option<f64>) {
        if let Some(v) = value {
            self.attr(key, format_float(v));
        }
    }

    fn opt_bool(&mut self, key: &'a str, value: Option<bool>) {
        if let Some(v) = value {
            self.attr(key, if v { "true" } else { "false" });
        }
    }

    fn opt_length(&mut self, key: &'a str, value: Option<UnitsLength>) {
        if let Some(u) = value {
            self.attr(key, u.symbol());
        }
    }

    fn opt_time(&mut self, key: &'a str, value: Option<UnitsTime>) {
        if let Some(u) = value {
            self.attr(key, u.symbol());
        }
    }

    /// Attributes that are not modelled; a default namespace declaration is rebound to
    /// 2016-06 or dropped, since modelled elements are always in the 2016-06 namespace.
    fn unknown_attributes(&mut self, list: &'a [(String, String)]) {
        for (k, v) in list {
            if self.attributes.iter().any(|(key, _)| key == k) {
                continue;
            }
            let v = upgrade_namespace(k, v);
            if k == "xmlns" && v != OME_2016_06 {
                continue;
            }
            self.attributes.push((k.as_str(), v.to_string()));
        }
    }

    fn child(&mut self, child: Gen<'a>) {
        let s = slot(self.order, child.name);
        self.children.push((s, Node::Gen(child)));
    }

    fn raw(&mut self, child: &'a RawElement) {
        let s = slot(self.order, child.local_name());
        self.children.push((s, Node::Raw(child)));
    }

    fn raws(&mut self, children: &'a [RawElement]) {
        for c in children {
            self.raw(c);
        }
    }

    fn text_child(&mut self, name: &'static str, text: &'a Option<String>) {
        if let Some(t) = text {
            let mut g = Gen::new(name, &[]);
            g.text = Some(t.as_str());
            self.child(g);
        }
    }

    fn write(mut self, out: &mut String, depth: usize) {
        indent(out, depth);
        out.push('<');
        out.push_str(self.name);
        for (k, v) in &self.attributes {
            write_attribute(out, k, v);
        }
        if let Some(t) = self.text {
            out.push('>');
            escape_text(out, t);
            out.push_str("</");
            out.push_str(self.name);
            out.push_str(">\n");
            return;
        }
        if self.children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push_str(">\n");
        // Stable: elements sharing a slot keep their order.
        self.children.sort_by_key(|(s, _)| *s);
        for (_, child) in self.children {
            match child {
                Node::Gen(g) => g.write(out, depth + 1),
                Node::Raw(r) => {
                    indent(out, depth + 1);
                    write_raw(out, r);
                    out.push('\n');
                }
            }
        }
        indent(out, depth);
        out.push_str("</");
        out.push_str(self.name);
        out.push_str(">\n");
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// xsd:float lexical form; Rust's shortest round-trip `Display` for finite values.
fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "INF".to_string()
    } else if v == f64::NEG_INFINITY {
        "-INF".to_string()
    } else {
        format!("{v}")
    }
}

const SCHEMA_LOCATION: &str = "http://www.openmicroscopy.org/Schemas/OME/2016-06 \
                               http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd";

/// Writes `doc` as an OME-XML 2016-06 document (UTF-8, with an XML declaration).
///
/// Whatever namespace the model was read from, the output is in the 2016-06 namespace;
/// older OME-family namespace declarations in kept elements are rebound to it and an old
/// `xsi:schemaLocation` is replaced. Characters XML cannot carry (control characters
/// other than tab and line ends) are written as U+FFFD.
pub fn to_xml(doc: &OmeXml) -> String {
    let mut root = Gen::new("OME", OME_ORDER);
    root.attr("xmlns", OME_2016_06);
    for (k, v) in &doc.unknown_attributes {
        if k == "xmlns" {
            continue;
        }
        if k.ends_with(":schemaLocation") && doc.namespace != OmeNamespace::V2016_06 {
            root.attributes
                .push((k.as_str(), SCHEMA_LOCATION.to_string()));
            continue;
        }
        root.attributes
            .push((k.as_str(), upgrade_namespace(k, v).to_string()));
    }
    root.opt_str("UUID", &doc.uuid);
    root.opt_str("Creator", &doc.creator);

    for plate in &doc.plates {
        root.child(plate_node(plate));
    }
    for ins in &doc.instruments {
        root.child(instrument_node(ins));
    }
    for img in &doc.images {
        root.child(image_node(img));
    }
    if let Some(sa) = &doc.structured_annotations {
        root.raw(sa);
    }
    if let Some(b) = &doc.binary_only {
        let mut g = Gen::new("BinaryOnly", &[]);
        g.attr("MetadataFile", b.metadata_file.as_str());
        g.attr("UUID", b.uuid.as_str());
        g.unknown_attributes(&b.unknown_attributes);
        root.child(g);
    }
    root.raws(&doc.unknown);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    root.write(&mut out, 0);
    out
}

fn image_node(img: &ImageXml) -> Gen<'_> {
    let mut g = Gen::new("Image", IMAGE_ORDER);
    g.attr("ID", img.id.as_str());
    g.opt_str("Name", &img.name);
    g.unknown_attributes(&img.unknown_attributes);
    g.text_child("AcquisitionDate", &img.acquisition_date);
    g.text_child("Description", &img.description);
    if let Some(r) = &img.instrument_ref {
        let mut c = Gen::new("InstrumentRef", &[]);
        c.attr("ID", r.as_str());
        g.child(c);
    }
    if let Some(os) = &img.objective_settings {
        let mut c = Gen::new("ObjectiveSettings", &[]);
        c.attr("ID", os.id.as_str());
        c.opt_f64("CorrectionCollar", os.correction_collar);
        c.opt_str("Medium", &os.medium);
        c.opt_f64("RefractiveIndex", os.refractive_index);
        c.unknown_attributes(&os.unknown_attributes);
        g.child(c);
    }
    g.child(pixels_node(&img.pixels));
    g.raws(&img.unknown);
    g
}

fn pixels_node(px: &Pixels) -> Gen<'_> {
    let mut g = Gen::new("Pixels", PIXELS_ORDER);
    g.attr("ID", px.id.as_str());
    g.attr("DimensionOrder", px.dimension_order.as_str());
    g.attr("Type", px.pixel_type.as_str());
    g.opt_u32("SignificantBits", px.significant_bits);
    g.opt_bool("Interleaved", px.interleaved);
    g.opt_bool("BigEndian", px.big_endian);
    g.attr("SizeX", px.size_x.to_string());
    g.attr("SizeY", px.size_y.to_string());
    g.attr("SizeZ", px.size_z.to_string());
    g.attr("SizeC", px.size_c.to_string());
    g.attr("SizeT", px.size_t.to_string());
    g.opt_f64("PhysicalSizeX", px.physical_size_x);
    g.opt_length("PhysicalSizeXUnit", px.physical_size_x_unit);
    g.opt_f64("PhysicalSizeY", px.physical_size_y);
    g.opt_length("PhysicalSizeYUnit", px.physical_size_y_unit);
    g.opt_f64("PhysicalSizeZ", px.physical_size_z);
    g.opt_length("PhysicalSizeZUnit", px.physical_size_z_unit);
    g.opt_f64("TimeIncrement", px.time_increment);
    g.opt_time("TimeIncrementUnit", px.time_increment_unit);
    g.unknown_attributes(&px.unknown_attributes);
    for ch in &px.channels {
        g.child(channel_node(ch));
    }
    g.raws(&px.bin_data);
    for td in &px.tiff_data {
        g.child(tiff_data_node(td));
    }
    if px.metadata_only {
        g.child(Gen::new("MetadataOnly", &[]));
    }
    for pl in &px.planes {
        g.child(plane_node(pl));
    }
    g.raws(&px.unknown);
    g
}

fn channel_node(ch: &Channel) -> Gen<'_> {
    let mut g = Gen::new("Channel", CHANNEL_ORDER);
    g.attr("ID", ch.id.as_str());
    g.opt_str("Name", &ch.name);
    g.opt_u32("SamplesPerPixel", ch.samples_per_pixel);
    g.opt_f64("ExcitationWavelength", ch.excitation_wavelength);
    g.opt_length("ExcitationWavelengthUnit", ch.excitation_wavelength_unit);
    g.opt_f64("EmissionWavelength", ch.emission_wavelength);
    g.opt_length("EmissionWavelengthUnit", ch.emission_wavelength_unit);
    g.opt_str("Fluor", &ch.fluor);
    if let Some(c) = ch.color {
        g.attr("Color", c.0.to_string());
    }
    g.unknown_attributes(&ch.unknown_attributes);
    g.raws(&ch.unknown);
    g
}

fn tiff_data_node(td: &TiffData) -> Gen<'_> {
    let mut g = Gen::new("TiffData", TIFF_DATA_ORDER);
    g.opt_u32("IFD", td.ifd);
    g.opt_u32("FirstZ", td.first_z);
    g.opt_u32("FirstT", td.first_t);
    g.opt_u32("FirstC", td.first_c);
    g.opt_u32("PlaneCount", td.plane_count);
    g.unknown_attributes(&td.unknown_attributes);
    if let Some(u) = &td.uuid {
        let mut c = Gen::new("UUID", &[]);
        c.opt_str("FileName", &u.file_name);
        c.unknown_attributes(&u.unknown_attributes);
        c.text = Some(u.value.as_str());
        g.child(c);
    }
    g.raws(&td.unknown);
    g
}

fn plane_node(pl: &Plane) -> Gen<'_> {
    let mut g = Gen::new("Plane", PLANE_ORDER);
    g.attr("TheZ", pl.the_z.to_string());
    g.attr("TheT", pl.the_t.to_string());
    g.attr("TheC", pl.the_c.to_string());
    g.opt_f64("DeltaT", pl.delta_t);
    g.opt_time("DeltaTUnit", pl.delta_t_unit);
    g.opt_f64("ExposureTime", pl.exposure_time);
    g.opt_time("ExposureTimeUnit", pl.exposure_time_unit);
    g.opt_f64("PositionX", pl.position_x);
    g.opt_length("PositionXUnit", pl.position_x_unit);
    g.opt_f64("PositionY", pl.position_y);
    g.opt_length("PositionYUnit", pl.position_y_unit);
    g.opt_f64("PositionZ", pl.position_z);
    g.opt_length("PositionZUnit", pl.position_z_unit);
    g.unknown_attributes(&pl.unknown_attributes);
    g.raws(&pl.unknown);
    g
}

fn instrument_node(ins: &Instrument) -> Gen<'_> {
    let mut g = Gen::new("Instrument", INSTRUMENT_ORDER);
    g.attr("ID", ins.id.as_str());
    g.unknown_attributes(&ins.unknown_attributes);
    if let Some(m) = &ins.microscope {
        let mut c = Gen::new("Microscope", &[]);
        c.opt_str("Manufacturer", &m.manufacturer);
        c.opt_str("Model", &m.model);
        c.opt_str("SerialNumber", &m.serial_number);
        c.opt_str("Type", &m.kind);
        c.unknown_attributes(&m.unknown_attributes);
        c.raws(&m.unknown);
        g.child(c);
    }
    for o in &ins.objectives {
        let mut c = Gen::new("Objective", OBJECTIVE_ORDER);
        c.opt_str("Manufacturer", &o.manufacturer);
        c.opt_str("Model", &o.model);
        c.attr("ID", o.id.as_str());
        c.opt_str("Correction", &o.correction);
        c.opt_str("Immersion", &o.immersion);
        c.opt_f64("LensNA", o.lens_na);
        c.opt_f64("NominalMagnification", o.nominal_magnification);
        c.opt_f64("CalibratedMagnification", o.calibrated_magnification);
        c.unknown_attributes(&o.unknown_attributes);
        c.raws(&o.unknown);
        g.child(c);
    }
    g.raws(&ins.unknown);
    g
}

fn plate_node(pl: &PlateXml) -> Gen<'_> {
    let mut g = Gen::new("Plate", PLATE_ORDER);
    g.attr("ID", pl.id.as_str());
    g.opt_str("Name", &pl.name);
    if let Some(c) = pl.column_naming_convention {
        g.attr("ColumnNamingConvention", c.as_str());
    }
    if let Some(r) = pl.row_naming_convention {
        g.attr("RowNamingConvention", r.as_str());
    }
    g.opt_u32("Rows", pl.rows);
    g.opt_u32("Columns", pl.columns);
    g.opt_u32("FieldIndex", pl.field_index);
    g.unknown_attributes(&pl.unknown_attributes);
    g.text_child("Description", &pl.description);
    for w in &pl.wells {
        g.child(well_node(w));
    }
    g.raws(&pl.unknown);
    g
}

fn well_node(w: &WellXml) -> Gen<'_> {
    let mut g = Gen::new("Well", WELL_ORDER);
    g.attr("ID", w.id.as_str());
    g.attr("Column", w.column.to_string());
    g.attr("Row", w.row.to_string());
    g.unknown_attributes(&w.unknown_attributes);
    for s in &w.samples {
        g.child(well_sample_node(s));
    }
    g.raws(&w.unknown);
    g
}

fn well_sample_node(s: &WellSample) -> Gen<'_> {
    let mut g = Gen::new("WellSample", WELL_SAMPLE_ORDER);
    g.attr("ID", s.id.as_str());
    g.opt_f64("PositionX", s.position_x);
    g.opt_length("PositionXUnit", s.position_x_unit);
    g.opt_f64("PositionY", s.position_y);
    g.opt_length("PositionYUnit", s.position_y_unit);
    g.opt_str("Timepoint", &s.timepoint);
    g.attr("Index", s.index.to_string());
    g.unknown_attributes(&s.unknown_attributes);
    if let Some(r) = &s.image_ref {
        let mut c = Gen::new("ImageRef", &[]);
        c.attr("ID", r.as_str());
        g.child(c);
    }
    g.raws(&s.unknown);
    g
}
