//! OME-XML: read and write the parts of the OME data model images need.
//!
//! * [`parse`] / [`parse_bytes`] read OME-XML 2016-06, 2015-01 and 2013-06 into an
//!   [`OmeXml`] under [`XmlLimits`], with no DTD processing and no entity expansion
//!   (a `<!DOCTYPE` is refused; only the five predefined entities and character references
//!   are resolved), so hostile XML cannot expand, recurse or reach the file system.
//! * [`to_xml`] writes OME-XML 2016-06 in `ome.xsd` element order.
//! * [`OmeXml::for_image`] builds the metadata of a single-file OME-TIFF.
//!
//! Modelled: `OME` (UUID, Creator), `Image`, `Pixels`, `Channel`, `Plane`, `TiffData` (+ `UUID`),
//! `Instrument` (`Microscope`, `Objective`), `ObjectiveSettings`, `InstrumentRef`,
//! `Plate`/`Well`/`WellSample`, `BinaryOnly`. Everything else (`StructuredAnnotations`,
//! `ROI`, `Experimenter`, `Screen`, light sources, detectors, filters, `BinData` content,
//! attributes not listed on the model types) is kept verbatim as [`RawElement`]s, namespace
//! prefixes included, and written back in its `ome.xsd` slot: for a 2016-06 document,
//! `parse(to_xml(parse(x)))` equals `parse(x)`.
//!
//! Documents in 2015-01 and 2013-06 are read the same way (the modelled subset has the
//! same element and attribute names; 2013-06 has no unit attributes, so absent units take
//! the 2016-06 defaults, which are the units 2013-06 prescribed). On writing they are
//! upgraded to 2016-06 by namespace only: declarations of the old OME, SPW, SA, ROI and
//! BinaryFile namespaces are rebound to the 2016-06 namespace; content that changed shape
//! between versions (for example pre-2013 `LightSource` wrappers) is not converted.
//!
//! ```
//! use ome_core::DType;
//! use ome_core::ome_xml::{parse, to_xml, ImageSpec, OmeXml, XmlLimits};
//!
//! let mut spec = ImageSpec::new("cells", [512, 512, 3, 2, 1], DType::U16);
//! spec.file_name = "cells.ome.tif".into();
//! let ome = OmeXml::for_image(&spec)?;
//! let xml = to_xml(&ome);
//! let back = parse(&xml, &XmlLimits::default())?;
//! assert_eq!(back, ome);
//! assert_eq!(back.images[0].pixels.tiff_data.len(), 6);
//! # Ok::<(), ome_core::Error>(())
//! ```
//!
//! Errors carry a [`crate::Location::Xml`] with the element path, e.g.
//! `/OME/Image[0]/Pixels[0]@SizeX` (indices count siblings of the same name).

mod model;
mod new_image;
mod parse;
mod raw;
mod units;
mod write;

pub use model::{
    BinaryOnly, Channel, Color, DimensionOrder, ImageXml, Instrument, Microscope, NamingConvention,
    Objective, ObjectiveSettings, OmeNamespace, OmeXml, PixelType, Pixels, Plane, PlaneAxis,
    PlateXml, TiffData, TiffUuid, WellSample, WellXml,
};
pub use new_image::{ChannelSpec, ImageSpec};
pub use parse::{parse, parse_bytes};
pub use raw::{RawElement, RawNode, XmlLimits};
pub use units::{UnitsLength, UnitsTime};
pub use write::to_xml;

/// Reads any XML document into a [`RawElement`] tree under `limits`, with the hardening of
/// [`parse`] (no DTD, no entity expansion, bounded size, depth, element count and
/// attribute length) but without interpreting OME elements: for validators, which must
/// see documents the typed model rejects.
///
/// # Errors
///
/// [`crate::ErrorKind::LimitsExceeded`] when a limit is hit, [`crate::ErrorKind::Unsupported`]
/// for a DOCTYPE, [`crate::ErrorKind::Format`] for malformed XML; each names the element path.
pub fn parse_raw(xml: &str, limits: &XmlLimits) -> crate::Result<RawElement> {
    raw::read_tree(xml, limits)
}

/// Whether a file's first bytes look like an XML document: the first non-blank byte after
/// an optional UTF-8 byte-order mark is `<`. Used to route OME-XML and companion files.
pub fn starts_like_xml(head: &[u8]) -> bool {
    let head = head
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
}

#[cfg(test)]
mod tests;
