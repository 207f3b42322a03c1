//! The one table of all rules. Codes are stable: a code never changes meaning; a retired
//! rule stays in the table (redirected in its page) so its code is never reused.
//!
//! Each entry's page is `spec/rules/<CODE>.md`, compiled in with `include_str!`, so the
//! `ome-validate rule CODE` command, rustdoc and the repository show the same text.

use crate::rule::{Depth, Family, Rule, Severity, Versions};

const V01: Versions = Versions::V01;
const V02: Versions = Versions::V02;
const V03: Versions = Versions::V03;
const V04: Versions = Versions::V04;
const V05: Versions = Versions::V05;
const V06: Versions = Versions::V06;
const ALL: Versions = Versions::ALL;
const UPTO3: Versions = V01.or(V02).or(V03);
const UPTO4: Versions = UPTO3.or(V04);
const FROM3: Versions = V03.or(V04).or(V05).or(V06);
const FROM4: Versions = V04.or(V05).or(V06);
const FROM5: Versions = V05.or(V06);
const V04_05: Versions = V04.or(V05);
const V03_05: Versions = V03.or(V04).or(V05);
const V02_04: Versions = V02.or(V03).or(V04);

macro_rules! ngff {
    ($code:literal, $depth:ident, $section:literal, $title:literal, $($set:expr => $sev:ident),+ $(,)?) => {
        Rule {
            code: $code,
            family: Family::Ngff,
            title: $title,
            depth: Depth::$depth,
            severities: &[$(($set, Severity::$sev)),+],
            section: $section,
            page: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/rules/", $code, ".md")),
        }
    };
}

/// A rule of a family with one severity (OME-TIFF, OME-XML: not keyed by NGFF version).
macro_rules! ome {
    ($family:ident, $code:literal, $depth:ident, $section:literal, $title:literal, $sev:ident) => {
        Rule {
            code: $code,
            family: Family::$family,
            title: $title,
            depth: Depth::$depth,
            severities: &[(ALL, Severity::$sev)],
            section: $section,
            page: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../spec/rules/",
                $code,
                ".md"
            )),
        }
    };
}

/// Every rule, grouped by area. Append only.
pub static RULES: &[Rule] = &[
    // Versions.
    ngff!("NGFF-VER-001", Attributes, "metadata", "a version names a known OME-NGFF version", ALL => Error),
    ngff!("NGFF-VER-002", Attributes, "metadata", "the ome namespace declares its version", FROM5 => Error),
    ngff!("NGFF-VER-003", Attributes, "multiscale-md", "multiscales, well and image-label objects declare their version", UPTO4 => Warning),
    ngff!("NGFF-VER-004", Attributes, "plate-md", "the plate declares its version", UPTO3 => Error, V04 => Warning),
    ngff!("NGFF-VER-005", Hierarchy, "metadata", "the version is the same across a document and its hierarchy", ALL => Error),
    ngff!("NGFF-VER-006", Attributes, "metadata", "the version is the one the caller requires", ALL => Error),
    // Hierarchy.
    ngff!("NGFF-HIER-001", Hierarchy, "on-disk", "every node's metadata is readable", ALL => Error),
    ngff!("NGFF-HIER-002", Attributes, "metadata", "the target holds OME-NGFF metadata", ALL => Error),
    ngff!("NGFF-HIER-003", Hierarchy, "on-disk", "the Zarr format matches the OME-NGFF version", ALL => Error),
    ngff!("NGFF-HIER-004", Hierarchy, "on-disk", "paths in metadata stay inside the hierarchy", ALL => Error),
    ngff!("NGFF-HIER-005", Hierarchy, "on-disk", "level arrays use the Zarr format of their image's version", ALL => Error),
    ngff!("NGFF-HIER-006", Hierarchy, "image-layout", "the hierarchy has no cycles (no node links back to an ancestor)", ALL => Error),
    // Multiscales.
    ngff!("NGFF-MS-001", Attributes, "multiscale-md", "multiscales is a non-empty list of distinct objects", ALL => Error),
    ngff!("NGFF-MS-002", Attributes, "multiscale-md", "each multiscale has a non-empty datasets list", ALL => Error),
    ngff!("NGFF-MS-003", Attributes, "multiscale-md", "each dataset has a string path", ALL => Error),
    ngff!("NGFF-MS-004", Attributes, "multiscale-md", "each multiscale has axes", V03_05 => Error),
    ngff!("NGFF-MS-005", Attributes, "multiscale-md", "each multiscale should have a name", ALL => Warning),
    ngff!("NGFF-MS-006", Attributes, "multiscale-md", "each multiscale should describe its downscaling with type and metadata", ALL => Warning),
    ngff!("NGFF-MS-007", Attributes, "multiscale-md", "multiscale name, type and metadata have their JSON types", ALL => Error),
    // Axes.
    ngff!("NGFF-AX-001", Attributes, "axes-md", "each axis is well formed", FROM3 => Error),
    ngff!("NGFF-AX-002", Attributes, "axes-md", "there are between 2 and 5 axes", FROM3 => Error),
    ngff!("NGFF-AX-003", Attributes, "axes-md", "axis names are unique", FROM3 => Error),
    ngff!("NGFF-AX-004", Attributes, "multiscale-md", "there are 2 or 3 space axes", FROM4 => Error),
    ngff!("NGFF-AX-005", Attributes, "axes-md", "axis type, unit, longName and discrete have their JSON types", FROM4 => Error),
    ngff!("NGFF-AX-006", Attributes, "axes-md", "axis type should be given and be space, time or channel", V04_05 => Warning),
    ngff!("NGFF-AX-007", Attributes, "axes-md", "space and time units should be UDUNITS-2 names from the spec list", FROM4 => Warning),
    ngff!("NGFF-AX-008", Attributes, "multiscale-md", "axes are ordered time, channel or custom, then space", FROM3 => Error),
    ngff!("NGFF-AX-009", Attributes, "multiscale-md", "at most one time axis and one channel or custom axis", FROM4 => Error),
    ngff!("NGFF-AX-010", Attributes, "multiscale-md", "three space axes should be ordered z, y, x", FROM4 => Warning),
    // Coordinate transformations (0.4, 0.5).
    ngff!("NGFF-CT-001", Attributes, "multiscale-md", "every dataset has a non-empty coordinateTransformations list", FROM4 => Error),
    ngff!("NGFF-CT-002", Attributes, "trafo-md", "transformations are scale or translation objects", V04_05 => Error),
    ngff!("NGFF-CT-003", Attributes, "multiscale-md", "each transformation list has exactly one scale", V04_05 => Error),
    ngff!("NGFF-CT-004", Attributes, "multiscale-md", "at most one translation, listed after the scale", V04_05 => Error),
    ngff!("NGFF-CT-005", Attributes, "multiscale-md", "scale and translation are lists of numbers as long as axes", V04_05 => Error),
    // Coordinate systems (0.6, RFC-5).
    ngff!("NGFF-CS-001", Attributes, "coordinate-systems-md", "coordinateSystems is a list of objects with a non-empty name and axes", V06 => Error),
    ngff!("NGFF-CS-002", Attributes, "coordinate-systems-md", "coordinate system names are unique", V06 => Error),
    ngff!("NGFF-CS-003", Attributes, "coord-trafo-md", "every coordinate system of a multiscale is linked to the intrinsic one", V06 => Error),
    ngff!("NGFF-CS-004", Attributes, "axes-md", "axis type should be given and be array, space, time, channel, coordinate or displacement", V06 => Warning),
    ngff!("NGFF-CS-005", Attributes, "axes-md", "a coordinate system has 1 to 5 axes with 2-3 space axes or at least 2 array axes", V06 => Error),
    // Coordinate transformations (0.6, RFC-5).
    ngff!("NGFF-CT-006", Attributes, "coord-trafo-md", "transformations are objects of a known type in non-empty lists", V06 => Error),
    ngff!("NGFF-CT-007", Attributes, "input-output-md", "input and output are objects with string name and path", V06 => Error),
    ngff!("NGFF-CT-008", Attributes, "trafo-types-md", "each transformation has the parameters its type requires, with their JSON types", V06 => Error),
    ngff!("NGFF-CT-009", Attributes, "trafo-types-md", "transformation parameters match the input and output dimensionality", V06 => Error),
    ngff!("NGFF-CT-010", Attributes, "byDimension-md", "byDimension axes are valid indices and cover every output axis once", V06 => Error),
    ngff!("NGFF-CT-011", Attributes, "multiscales-md", "a dataset has one scale, identity or sequence of scale and translation", V06 => Error),
    ngff!("NGFF-CT-012", Attributes, "multiscales-md", "dataset transformations map the dataset's array to the intrinsic coordinate system", V06 => Error),
    ngff!("NGFF-CT-013", Attributes, "multiscales-md", "dataset transformations should omit input.name and output.path", V06 => Warning),
    ngff!("NGFF-CT-014", Attributes, "multiscales-md", "multiscale transformations link the intrinsic system to a named system", V06 => Error),
    ngff!("NGFF-CT-015", Attributes, "rotation-md", "rotation matrices are orthonormal with determinant 1", V06 => Error),
    ngff!("NGFF-CT-016", Hierarchy, "matrix-trafo-md", "affine and rotation parameters stored at path are 2D Zarr arrays of shape M x (N+1) and N x N", V06 => Error),
    ngff!("NGFF-CT-017", Hierarchy, "coordinates-displacements-md", "coordinates and displacements fields are multiscales with N+1 dimensions and a vector axis of the right type and length", V06 => Error),
    // Scene (0.6).
    ngff!("NGFF-SC-001", Attributes, "scene-md", "scene is an object with a non-empty coordinateTransformations list", V06 => Error),
    ngff!("NGFF-SC-002", Attributes, "scene-md", "scene input and output hold a name and optionally a path, nothing else", V06 => Error),
    ngff!("NGFF-SC-003", Attributes, "scene-md", "a scene reference without path names a coordinate system of the scene", V06 => Error),
    ngff!("NGFF-SC-004", Hierarchy, "scene-md", "a scene reference with a path names a coordinate system of the multiscale image at that path", V06 => Error),
    // omero.
    ngff!("NGFF-OM-001", Attributes, "omero-md", "omero has a channels list", ALL => Error),
    ngff!("NGFF-OM-002", Attributes, "omero-md", "each channel window has numeric start, end, min and max", ALL => Error),
    ngff!("NGFF-OM-003", Attributes, "omero-md", "each channel has a string color", ALL => Error),
    ngff!("NGFF-OM-004", Attributes, "omero-md", "channel colors should be six hexadecimal digits", ALL => Warning),
    ngff!("NGFF-OM-005", Attributes, "omero-md", "channel label, family, active, inverted and coefficient have their JSON types", ALL => Error),
    // Labels.
    ngff!("NGFF-LBL-001", Attributes, "labels-md", "labels lists label image paths as strings", ALL => Error),
    ngff!("NGFF-LBL-002", Attributes, "label-md", "image-label is an object", ALL => Error),
    ngff!("NGFF-LBL-003", Attributes, "label-md", "colors is a non-empty list of objects with an integer label-value", ALL => Error),
    ngff!("NGFF-LBL-004", Attributes, "label-md", "rgba is four integers between 0 and 255", ALL => Error),
    ngff!("NGFF-LBL-005", Attributes, "label-md", "label-value is unique within colors", ALL => Error),
    ngff!("NGFF-LBL-006", Attributes, "label-md", "image-label should have colors", ALL => Warning),
    ngff!("NGFF-LBL-007", Attributes, "label-md", "properties is a non-empty list of objects with an integer label-value", ALL => Error),
    ngff!("NGFF-LBL-008", Attributes, "label-md", "source is an object whose image is a string", ALL => Error),
    ngff!("NGFF-LBL-009", Hierarchy, "labels-md", "each listed label image exists and is a multiscale image", ALL => Error),
    ngff!("NGFF-LBL-010", Hierarchy, "labels-md", "label arrays have an integer data type", UPTO4 => Warning, FROM5 => Error),
    ngff!("NGFF-LBL-011", Hierarchy, "label-md", "a label image has as many levels as its image", ALL => Error),
    ngff!("NGFF-LBL-012", Hierarchy, "labels-md", "label dimensions should equal the image dimensions or be 1", ALL => Warning),
    // Plate.
    ngff!("NGFF-PL-001", Attributes, "plate-md", "plate is an object with rows, columns and wells", ALL => Error),
    ngff!("NGFF-PL-002", Attributes, "plate-md", "rows and columns are non-empty lists of objects with a string name", ALL => Error),
    ngff!("NGFF-PL-003", Attributes, "plate-md", "row and column names are alphanumeric", FROM4 => Error),
    ngff!("NGFF-PL-004", Attributes, "plate-md", "row names and column names are unique", ALL => Error),
    ngff!("NGFF-PL-005", Attributes, "plate-md", "wells is a non-empty list of distinct objects with a string path", ALL => Error),
    ngff!("NGFF-PL-006", Attributes, "plate-md", "each well has non-negative integer rowIndex and columnIndex", FROM4 => Error),
    ngff!("NGFF-PL-007", Attributes, "plate-md", "a well path is the row name and column name its indices select", FROM4 => Error),
    ngff!("NGFF-PL-008", Attributes, "plate-md", "acquisitions have a unique non-negative integer id", ALL => Error),
    ngff!("NGFF-PL-009", Attributes, "plate-md", "acquisition fields have their types and ranges", ALL => Error),
    ngff!("NGFF-PL-010", Attributes, "plate-md", "field_count is a positive integer", ALL => Error),
    ngff!("NGFF-PL-011", Attributes, "plate-md", "a plate should have a name", ALL => Warning),
    ngff!("NGFF-PL-012", Attributes, "plate-md", "acquisitions should have a name and maximumfieldcount", ALL => Warning),
    ngff!("NGFF-PL-013", Hierarchy, "plate-md", "every listed well group exists and is a well", ALL => Error),
    // Well.
    ngff!("NGFF-WL-001", Attributes, "well-md", "well has a non-empty list of distinct images", ALL => Error),
    ngff!("NGFF-WL-002", Attributes, "well-md", "field paths are alphanumeric strings (0.6: Zarr node names)", ALL => Error),
    ngff!("NGFF-WL-003", Attributes, "well-md", "a field's acquisition is an integer", ALL => Error),
    ngff!("NGFF-WL-004", Hierarchy, "well-md", "each listed field exists and is a multiscale image", ALL => Error),
    ngff!("NGFF-WL-005", Hierarchy, "well-md", "a field's acquisition is one of the plate's acquisitions", ALL => Error),
    // bioformats2raw.
    ngff!("NGFF-B2R-001", Attributes, "bf2raw", "bioformats2raw.layout is 3", FROM4 => Error),
    ngff!("NGFF-B2R-002", Hierarchy, "bf2raw", "OME/series lists existing image groups as strings", FROM4 => Error),
    ngff!("NGFF-B2R-003", Hierarchy, "bf2raw", "without series, images are groups numbered from 0", FROM4 => Error),
    // Arrays.
    ngff!("NGFF-ARR-001", Hierarchy, "multiscale-md", "each dataset path is a Zarr array", ALL => Error),
    ngff!("NGFF-ARR-002", Hierarchy, "multiscale-md", "array dimensionality equals the number of axes", ALL => Error),
    ngff!("NGFF-ARR-003", Hierarchy, "multiscale-md", "all levels have the same data type", UPTO4 => Warning, FROM5 => Error),
    ngff!("NGFF-ARR-004", Hierarchy, "multiscale-md", "levels are ordered from largest to smallest", ALL => Error),
    ngff!("NGFF-ARR-005", Hierarchy, "axes-md", "dimension_names equal the axes names", V05 => Error),
    ngff!("NGFF-ARR-006", Hierarchy, "on-disk", "Zarr v2 arrays use the \"/\" dimension separator", V02_04 => Error),
    ngff!("NGFF-ARR-007", Hierarchy, "multiscale-md", "scale ratios between levels follow the shape ratios", FROM4 => Warning),
    ngff!("NGFF-ARR-008", Hierarchy, "multiscale-md", "all levels have the same number of dimensions", ALL => Error),
    ngff!("NGFF-ARR-009", Hierarchy, "on-disk", "array metadata has a shape and a data type", ALL => Error),
    // Data.
    ngff!("NGFF-DATA-001", Data, "on-disk", "every chunk decodes", ALL => Error),
    ngff!("NGFF-DATA-002", Data, "on-disk", "chunk keys lie inside the chunk grid", ALL => Warning),
    ngff!("NGFF-DATA-003", Data, "label-md", "label values found in the data have a color", ALL => Info),
    ngff!("NGFF-DATA-004", Data, "multiscale-md", "lower levels hold values within the range of level 0", ALL => Warning),
    // OME-TIFF: the file.
    ome!(
        OmeTiff,
        "OMETIFF-FILE-001",
        Hierarchy,
        "ome-tiff-specification",
        "the file is a readable TIFF or BigTIFF",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-FILE-002",
        Hierarchy,
        "ome-tiff-specification",
        "a reader can build every image of the file set",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-FILE-003",
        Hierarchy,
        "ome-tiff-specification",
        "the file name ends in .ome.tif, .ome.tiff, .ome.tf2, .ome.tf8 or .ome.btf",
        Warning
    ),
    // OME-TIFF: the OME-XML block.
    ome!(
        OmeTiff,
        "OMETIFF-XML-001",
        Hierarchy,
        "ome-xml-metadata",
        "the OME-XML is in the ImageDescription of the first IFD",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-XML-002",
        Hierarchy,
        "ome-tiff-specification",
        "the OME-XML is UTF-8 encoded",
        Error
    ),
    // OME-TIFF: multi-file sets and companion files.
    ome!(
        OmeTiff,
        "OMETIFF-SET-001",
        Hierarchy,
        "multi-file-ome-tiff",
        "TiffData UUIDs name readable files of the set",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-SET-002",
        Hierarchy,
        "partial-ome-xml-metadata",
        "BinaryOnly names a readable master file that holds the images",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-SET-003",
        Hierarchy,
        "partial-ome-xml-metadata",
        "BinaryOnly UUID should be the master file's UUID",
        Warning
    ),
    ome!(
        OmeTiff,
        "OMETIFF-SET-004",
        Hierarchy,
        "embedded-ome-xml-metadata",
        "files referenced by UUID should carry a distinct OME UUID",
        Warning
    ),
    ome!(
        OmeTiff,
        "OMETIFF-SET-005",
        Hierarchy,
        "embedded-ome-xml-metadata",
        "every file of a set with embedded metadata describes the same images",
        Error
    ),
    // OME-TIFF: TiffData and the plane map.
    ome!(
        OmeTiff,
        "OMETIFF-TD-001",
        Hierarchy,
        "the-tiffdata-element",
        "TiffData IFD and PlaneCount stay within the file's IFDs",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-TD-002",
        Hierarchy,
        "the-tiffdata-element",
        "TiffData planes stay within SizeZ, SizeC and SizeT",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-TD-003",
        Hierarchy,
        "the-tiffdata-element",
        "no plane is mapped to two IFDs",
        Warning
    ),
    ome!(
        OmeTiff,
        "OMETIFF-TD-004",
        Hierarchy,
        "the-tiffdata-element",
        "every plane is mapped to an IFD",
        Warning
    ),
    // OME-TIFF: IFDs against Pixels.
    ome!(
        OmeTiff,
        "OMETIFF-PIX-001",
        Hierarchy,
        "ome-xml-metadata",
        "IFD ImageWidth and ImageLength equal Pixels SizeX and SizeY",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PIX-002",
        Hierarchy,
        "ome-xml-metadata",
        "IFD BitsPerSample and SampleFormat match Pixels Type",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PIX-003",
        Hierarchy,
        "ome-xml-metadata",
        "IFD SamplesPerPixel matches the channels' SamplesPerPixel",
        Error
    ),
    // OME-TIFF: sub-resolutions.
    ome!(
        OmeTiff,
        "OMETIFF-PYR-001",
        Hierarchy,
        "storage",
        "SubIFD levels are smaller than their full-resolution plane, largest first",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PYR-002",
        Hierarchy,
        "storage",
        "SubIFD levels should have NewSubFileType 1",
        Warning
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PYR-003",
        Hierarchy,
        "supported-resolutions",
        "the downsampling factor should be an integer, equal in X and Y, constant across levels",
        Warning
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PYR-004",
        Hierarchy,
        "supported-resolutions",
        "SubIFD levels keep the samples of their full-resolution plane",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PYR-005",
        Hierarchy,
        "storage",
        "SubIFD levels are not IFDs of the main chain",
        Error
    ),
    ome!(
        OmeTiff,
        "OMETIFF-PYR-006",
        Hierarchy,
        "storage",
        "the full-resolution planes of a pyramid should be tiled",
        Warning
    ),
    // OME-TIFF: data.
    ome!(
        OmeTiff,
        "OMETIFF-DATA-001",
        Data,
        "storage",
        "every mapped plane's strips or tiles decode",
        Error
    ),
    // OME-XML: the document.
    ome!(
        OmeXml,
        "OMEXML-DOC-001",
        Attributes,
        "OME",
        "the document is well-formed XML 1.0 without a DTD",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-DOC-002",
        Attributes,
        "OME",
        "the document stays within the reader's resource limits",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-DOC-003",
        Attributes,
        "OME",
        "modelled elements hold values of their schema types",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-NS-001",
        Attributes,
        "OME",
        "the root is an OME element in an OME schema namespace",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-NS-002",
        Attributes,
        "OME",
        "the schema is older than 2016-06",
        Info
    ),
    // OME-XML: identity constraints.
    ome!(
        OmeXml,
        "OMEXML-ID-001",
        Attributes,
        "OME",
        "every ID matches the pattern of its type",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-ID-002",
        Attributes,
        "OME",
        "IDs are unique within their type",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-ID-003",
        Attributes,
        "OME",
        "every reference names an ID of its type in the document",
        Error
    ),
    // OME-XML: Pixels.
    ome!(
        OmeXml,
        "OMEXML-PIX-001",
        Attributes,
        "Pixels",
        "Pixels holds BinData, TiffData or MetadataOnly, one kind only",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-PIX-002",
        Attributes,
        "Pixels_DimensionOrder",
        "DimensionOrder is one of the six orders of the schema",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-PIX-003",
        Attributes,
        "Pixels_Type",
        "Type is a PixelType of the schema",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-PIX-004",
        Attributes,
        "Pixels",
        "SizeX, SizeY, SizeZ, SizeC and SizeT are positive integers",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-PIX-005",
        Attributes,
        "Pixels",
        "physical size and time increment units are units of the schema",
        Error
    ),
    // OME-XML: conventions.
    ome!(
        OmeXml,
        "OMEXML-MOD-001",
        Attributes,
        "XMLAnnotation",
        "Modulo dimensions have a known Type and Labels or Start and End",
        Error
    ),
    // OME-XML: the full XSD check.
    ome!(
        OmeXml,
        "OMEXML-XSD-001",
        Attributes,
        "OME",
        "the document is valid against the given XML Schema",
        Error
    ),
    ome!(
        OmeXml,
        "OMEXML-XSD-002",
        Attributes,
        "OME",
        "the XML Schema check could run",
        Warning
    ),
];

/// Looks up a rule by its code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Every rule, in table order.
pub fn rules() -> &'static [Rule] {
    RULES
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            let parts: Vec<&str> = r.code.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", r.code);
            assert!(
                matches!(parts[0], "NGFF" | "OMETIFF" | "OMEXML"),
                "{}",
                r.code
            );
            assert_eq!(parts[2].len(), 3, "{}", r.code);
            assert!(
                r.versions().next().is_some(),
                "{} applies to no version",
                r.code
            );
        }
    }

    #[test]
    fn every_typed_code_is_a_registry_entry_in_order() {
        let typed: Vec<&str> = crate::codes::ALL.iter().map(|c| c.as_str()).collect();
        let registered: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        assert_eq!(typed, registered);
    }

    #[test]
    fn every_code_has_a_page_and_every_page_a_code() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/rules");
        let mut pages = HashSet::new();
        for entry in std::fs::read_dir(dir).expect("spec/rules exists") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(code) = name.strip_suffix(".md")
                && code != "README"
            {
                pages.insert(code.to_string());
            }
        }
        let codes: HashSet<String> = RULES.iter().map(|r| r.code.to_string()).collect();
        let missing: Vec<_> = codes.difference(&pages).collect();
        let orphan: Vec<_> = pages.difference(&codes).collect();
        assert!(missing.is_empty(), "codes without a page: {missing:?}");
        assert!(orphan.is_empty(), "pages without a code: {orphan:?}");
        for r in RULES {
            assert!(
                r.page.starts_with(&format!("# {}", r.code)),
                "{} page title",
                r.code
            );
            for heading in [
                "## Why",
                "## Failing example",
                "## Passing example",
                "## How to fix",
            ] {
                assert!(r.page.contains(heading), "{} page lacks {heading}", r.code);
            }
        }
    }
}
