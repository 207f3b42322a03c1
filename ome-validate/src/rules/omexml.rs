//! `OMEXML-*`: an OME-XML document, standalone or embedded in a TIFF. The structural rules
//! run on the raw element tree (so documents the typed model rejects still get precise
//! findings); the typed read of `ome_core::ome_xml` then catches values outside their
//! schema types; `--xml-schema` adds the full XSD check through `xmllint`.

use crate::codes;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use ome_core::ErrorKind;
use ome_core::ome_xml::{
    self, DimensionOrder, OmeXml, PixelType, RawElement, UnitsLength, UnitsTime, XmlLimits,
};

use crate::context::{Scope, Sink};
use crate::rule::Severity;

/// The OME schema namespace prefix; a release date follows.
const OME_NS: &str = "http://www.openmicroscopy.org/Schemas/OME/";
/// Published OME schema releases.
const RELEASES: &[&str] = &[
    "2003-FC", "2007-06", "2008-02", "2008-09", "2009-09", "2010-04", "2010-06", "2011-06",
    "2012-06", "2013-06", "2015-01", "2016-06",
];
/// Releases the typed reader reads.
const READ_RELEASES: &[&str] = &["2013-06", "2015-01", "2016-06"];
/// Most schema errors reported per document.
const MAX_XSD_FINDINGS: usize = 200;

/// What a check of one OME-XML document gives back.
#[derive(Debug, Default)]
pub(crate) struct XmlOutcome {
    /// The typed document, when it reads.
    pub(crate) ome: Option<OmeXml>,
}

/// Checks one OME-XML document. `scope.document` names it in findings (a file name, or
/// the IFD whose ImageDescription holds it).
pub(crate) fn check_text(
    sink: &mut Sink<'_>,
    scope: &Scope,
    text: &str,
    limits: &XmlLimits,
    xsd: Option<&Path>,
) -> XmlOutcome {
    let mut out = XmlOutcome::default();
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }) {
        sink.emit(
            scope,
            codes::OMEXML_DOC_001,
            "/",
            format!(
                "expected only XML 1.0 characters, found U+{:04X} at byte {at}",
                u32::from(c)
            ),
        );
        return out;
    }
    let root = match ome_xml::parse_raw(text, limits) {
        Ok(root) => root,
        Err(e) => {
            let code = match e.kind() {
                ErrorKind::LimitsExceeded => codes::OMEXML_DOC_002,
                _ => codes::OMEXML_DOC_001,
            };
            let path = match e.location() {
                ome_core::Location::Xml { path, .. } => path.clone(),
                _ => "/".to_string(),
            };
            sink.emit(scope, code, &path, e.message().to_string());
            return out;
        }
    };
    let Some(release) = check_root(sink, scope, &root) else {
        return out;
    };
    if !READ_RELEASES.contains(&release.as_str()) {
        // Pre-2013 schemas differ in shape (PixelType, LightSource wrappers); their
        // documents are not judged by the 2016-06 rules.
        return out;
    }
    let before = errors(sink);
    let mut walk = Walk::default();
    walk.visit(sink, scope, &root, "/OME".to_string());
    walk.finish(sink, scope);
    if let Some(xsd) = xsd {
        check_xsd(sink, scope, text, xsd);
    }
    match ome_xml::parse(text, limits) {
        Ok(ome) => out.ome = Some(ome),
        Err(e) => {
            if errors(sink) == before {
                let path = match e.location() {
                    ome_core::Location::Xml { path, .. } => path.clone(),
                    _ => "/OME".to_string(),
                };
                sink.emit(scope, codes::OMEXML_DOC_003, &path, e.message().to_string());
            }
        }
    }
    out
}

fn errors(sink: &Sink<'_>) -> usize {
    sink.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count()
}

/// The root element and its namespace; the release when it is an OME namespace.
fn check_root(sink: &mut Sink<'_>, scope: &Scope, root: &RawElement) -> Option<String> {
    if root.local_name() != "OME" {
        sink.emit(
            scope,
            codes::OMEXML_NS_001,
            &format!("/{}", root.local_name()),
            format!("expected the root element OME, found <{}>", root.name),
        );
        return None;
    }
    let ns_attr = match root.prefix() {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    let uri = root.attribute(&ns_attr).unwrap_or("");
    let release = uri
        .strip_prefix(OME_NS)
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| RELEASES.contains(r));
    let Some(release) = release else {
        let found = if uri.is_empty() {
            "no namespace".to_string()
        } else {
            format!("{uri:?}")
        };
        sink.emit(
            scope,
            codes::OMEXML_NS_001,
            "/OME",
            format!(
                "expected the namespace {OME_NS}2016-06 (or an earlier OME release), found {found}"
            ),
        );
        return None;
    };
    if release != "2016-06" {
        let what = if READ_RELEASES.contains(&release) {
            "read in full"
        } else {
            "not checked further: the rules follow the 2013-06 to 2016-06 schemas"
        };
        sink.emit(
            scope,
            codes::OMEXML_NS_002,
            "/OME",
            format!("expected the current schema 2016-06, found {release} ({what})"),
        );
    }
    Some(release.to_string())
}

/// The ID type an identified element's `ID` belongs to.
fn id_type(local: &str) -> Option<&'static str> {
    const SAME: &[&str] = &[
        "Project",
        "Dataset",
        "Image",
        "Folder",
        "Experimenter",
        "ExperimenterGroup",
        "Experiment",
        "MicrobeamManipulation",
        "Instrument",
        "Objective",
        "Dichroic",
        "Filter",
        "FilterSet",
        "Detector",
        "Pixels",
        "Channel",
        "Plate",
        "Reagent",
        "Screen",
        "PlateAcquisition",
        "Well",
        "WellSample",
        "ROI",
    ];
    if let Some(t) = SAME.iter().find(|t| **t == local) {
        return Some(t);
    }
    match local {
        "Laser" | "Arc" | "Filament" | "LightEmittingDiode" | "GenericExcitationSource" => {
            Some("LightSource")
        }
        "Rectangle" | "Ellipse" | "Point" | "Line" | "Polyline" | "Polygon" | "Mask" | "Label" => {
            Some("Shape")
        }
        l if l.ends_with("Annotation") => Some("Annotation"),
        _ => None,
    }
}

/// The ID type a reference element refers to.
fn ref_type(local: &str) -> Option<&'static str> {
    match local {
        "ObjectiveSettings" => Some("Objective"),
        "DetectorSettings" => Some("Detector"),
        "LightSourceSettings" | "Pump" => Some("LightSource"),
        "EmissionFilterRef" | "ExcitationFilterRef" => Some("Filter"),
        "Leader" => Some("Experimenter"),
        l => l
            .strip_suffix("Ref")
            .and_then(id_type)
            .filter(|t| *t != "Shape" && *t != "Pixels"),
    }
}

/// Whether `id` matches `(urn:lsid:([\w\-\.]+\.[\w\-\.]+)+:T:\S+)|(T:\S+)` for type `ty`
/// (`ROI` has the looser `(urn:lsid:...:\S+)|(\S+)`).
fn id_matches(id: &str, ty: &str) -> bool {
    let no_space = |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace);
    if ty == "ROI" {
        return no_space(id);
    }
    if let Some(rest) = id.strip_prefix(ty).and_then(|r| r.strip_prefix(':')) {
        return no_space(rest);
    }
    let Some(rest) = id.strip_prefix("urn:lsid:") else {
        return false;
    };
    let marker = format!(":{ty}:");
    rest.match_indices(&marker).any(|(at, _)| {
        let authority = &rest[..at];
        let tail = &rest[at + marker.len()..];
        authority.contains('.')
            && !authority.starts_with('.')
            && authority
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && no_space(tail)
    })
}

/// The structural walk: IDs, references and Pixels.
#[derive(Default)]
struct Walk {
    /// `(type, id)` → path of the first element with it.
    ids: HashMap<(&'static str, String), String>,
    /// References: `(type, id, path)`.
    refs: Vec<(&'static str, String, String)>,
}

impl Walk {
    fn visit(&mut self, sink: &mut Sink<'_>, scope: &Scope, el: &RawElement, path: String) {
        let local = el.local_name();
        if let Some(id) = el.attribute("ID") {
            if let Some(ty) = ref_type(local) {
                if !id_matches(id, ty) {
                    sink.emit(
                        scope,
                        codes::OMEXML_ID_001,
                        &format!("{path}@ID"),
                        format!("expected a reference of the form {ty}:... or urn:lsid:...:{ty}:..., found {id:?}"),
                    );
                }
                self.refs.push((ty, id.to_string(), path.clone()));
            } else if let Some(ty) = id_type(local) {
                if !id_matches(id, ty) {
                    sink.emit(
                        scope,
                        codes::OMEXML_ID_001,
                        &format!("{path}@ID"),
                        format!("expected an ID of the form {ty}:... or urn:lsid:...:{ty}:..., found {id:?}"),
                    );
                } else if let Some(first) = self.ids.get(&(ty, id.to_string())) {
                    sink.emit(
                        scope,
                        codes::OMEXML_ID_002,
                        &format!("{path}@ID"),
                        format!("expected a {ty} ID used once, found {id:?} also at {first}"),
                    );
                } else {
                    self.ids.insert((ty, id.to_string()), path.clone());
                }
            }
        }
        if local == "Pixels" {
            check_pixels(sink, scope, el, &path);
        }
        // Foreign content: annotation values and inline pixel data are not OME elements;
        // in annotation values only the Modulo convention is checked.
        if local == "Value" && path.contains("Annotation[") {
            check_modulo(sink, scope, el, &path, 0);
            return;
        }
        if local == "BinData" {
            return;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for child in el.elements() {
            let name = child.local_name();
            let n = counts.entry(name).or_insert(0);
            let child_path = format!("{path}/{name}[{n}]");
            *n += 1;
            self.visit(sink, scope, child, child_path);
        }
    }

    fn finish(&self, sink: &mut Sink<'_>, scope: &Scope) {
        for (ty, id, path) in &self.refs {
            if id_matches(id, ty) && !self.ids.contains_key(&(*ty, id.clone())) {
                sink.emit(
                    scope,
                    codes::OMEXML_ID_003,
                    &format!("{path}@ID"),
                    format!(
                        "expected the ID of a {ty} in the document, found {id:?} which names none"
                    ),
                );
            }
        }
    }
}

fn check_pixels(sink: &mut Sink<'_>, scope: &Scope, px: &RawElement, path: &str) {
    let count = |name: &str| px.elements().filter(|e| e.local_name() == name).count();
    let (bin, tiff, meta) = (count("BinData"), count("TiffData"), count("MetadataOnly"));
    let kinds = usize::from(bin > 0) + usize::from(tiff > 0) + usize::from(meta > 0);
    if kinds != 1 || meta > 1 {
        sink.emit(
            scope,
            codes::OMEXML_PIX_001,
            path,
            format!("expected BinData, TiffData or one MetadataOnly in Pixels, found {bin} BinData, {tiff} TiffData and {meta} MetadataOnly"),
        );
    }
    match px.attribute("DimensionOrder") {
        Some(v) if DimensionOrder::from_name(v).is_some() => {}
        found => sink.emit(
            scope,
            codes::OMEXML_PIX_002,
            &format!("{path}@DimensionOrder"),
            format!(
                "expected DimensionOrder XYZCT, XYZTC, XYCTZ, XYCZT, XYTCZ or XYTZC, found {}",
                show(found)
            ),
        ),
    }
    match px.attribute("Type") {
        Some(v) if PixelType::from_name(v).is_some() => {}
        found => sink.emit(
            scope,
            codes::OMEXML_PIX_003,
            &format!("{path}@Type"),
            format!(
                "expected a PixelType (int8, int16, int32, uint8, uint16, uint32, float, double, complex, double-complex, bit), found {}",
                show(found)
            ),
        ),
    }
    for axis in ["SizeX", "SizeY", "SizeZ", "SizeC", "SizeT"] {
        let found = px.attribute(axis);
        if !found.is_some_and(|v| v.trim().parse::<u32>().is_ok_and(|n| n > 0)) {
            sink.emit(
                scope,
                codes::OMEXML_PIX_004,
                &format!("{path}@{axis}"),
                format!("expected {axis} a positive integer, found {}", show(found)),
            );
        }
    }
    for unit in [
        "PhysicalSizeXUnit",
        "PhysicalSizeYUnit",
        "PhysicalSizeZUnit",
    ] {
        if let Some(v) = px.attribute(unit)
            && UnitsLength::from_symbol(v).is_none()
        {
            sink.emit(
                scope,
                codes::OMEXML_PIX_005,
                &format!("{path}@{unit}"),
                format!("expected a UnitsLength symbol (µm, nm, mm, ...), found {v:?}"),
            );
        }
    }
    if let Some(v) = px.attribute("TimeIncrementUnit")
        && UnitsTime::from_symbol(v).is_none()
    {
        sink.emit(
            scope,
            codes::OMEXML_PIX_005,
            &format!("{path}@TimeIncrementUnit"),
            format!("expected a UnitsTime symbol (s, ms, min, ...), found {v:?}"),
        );
    }
}

/// Types of a `ModuloAlong*` dimension (`developers/6d-7d-and-8d-storage.rst`).
const MODULO_TYPES: &[&str] = &["angle", "phase", "tile", "lifetime", "lambda", "other"];

/// The Modulo convention inside an annotation value: `ModuloAlongZ/T/C` with a `Type` from
/// the enumeration, and `Start` and `End` unless `Label` elements list the values.
fn check_modulo(sink: &mut Sink<'_>, scope: &Scope, el: &RawElement, path: &str, depth: usize) {
    // The tree is already depth-bounded by the reader; the Modulo block sits two deep.
    if depth > 4 {
        return;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for child in el.elements() {
        let name = child.local_name();
        let n = counts.entry(name).or_insert(0);
        let child_path = format!("{path}/{name}[{n}]");
        *n += 1;
        if matches!(name, "ModuloAlongZ" | "ModuloAlongT" | "ModuloAlongC") {
            match child.attribute("Type") {
                Some(t) if MODULO_TYPES.contains(&t) => {}
                found => sink.emit(
                    scope,
                    codes::OMEXML_MOD_001,
                    &format!("{child_path}@Type"),
                    format!(
                        "expected Type angle, phase, tile, lifetime, lambda or other, found {}",
                        show(found)
                    ),
                ),
            }
            let labels = child.elements().any(|e| e.local_name() == "Label");
            if !labels {
                for attr in ["Start", "End"] {
                    if child.attribute(attr).is_none() {
                        sink.emit(
                            scope,
                            codes::OMEXML_MOD_001,
                            &child_path,
                            format!("expected {attr} (there are no Label elements), found none"),
                        );
                    }
                }
            }
        } else {
            check_modulo(sink, scope, child, &child_path, depth + 1);
        }
    }
}

fn show(v: Option<&str>) -> String {
    match v {
        None => "none".to_string(),
        Some(v) if v.len() > 40 => format!("{:?}...", v.chars().take(37).collect::<String>()),
        Some(v) => format!("{v:?}"),
    }
}

/// The full XSD check: `xmllint --noout --schema XSD -` with the document on stdin.
fn check_xsd(sink: &mut Sink<'_>, scope: &Scope, text: &str, xsd: &Path) {
    let child = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(xsd)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            sink.emit(
                scope,
                codes::OMEXML_XSD_002,
                "/",
                format!("expected xmllint (libxml2-utils) to run the XML Schema check, found it cannot start ({e}); the schema check did not run"),
            );
            return;
        }
    };
    // Write stdin on a thread so a full stderr pipe cannot deadlock the two processes.
    let stdin = child.stdin.take();
    let input = text.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // A broken pipe means xmllint stopped early; its stderr says why.
            let _ = stdin.write_all(&input);
        }
    });
    let output = child.wait_with_output();
    let _ = writer.join();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            sink.emit(
                scope,
                codes::OMEXML_XSD_002,
                "/",
                format!("expected xmllint to finish, found an i/o error ({e}); the schema check did not run"),
            );
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut reported = 0usize;
    for line in stderr.lines() {
        if line.contains("failed to compile") || line.contains("WXS schema") {
            sink.emit(
                scope,
                codes::OMEXML_XSD_002,
                "/",
                format!(
                    "expected a usable XML Schema in {}, found xmllint: {line}",
                    xsd.display()
                ),
            );
            return;
        }
        let Some(rest) = line.strip_prefix("-:") else {
            continue;
        };
        let (number, message) = rest.split_once(':').unwrap_or(("?", rest));
        if !(message.contains("error") || message.contains("Schemas validity")) {
            continue;
        }
        reported += 1;
        if reported > MAX_XSD_FINDINGS {
            continue;
        }
        sink.emit(
            scope,
            codes::OMEXML_XSD_001,
            &format!("line {number}"),
            format!(
                "expected a document valid against {}, found: {}",
                xsd.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                message.trim()
            ),
        );
    }
    if reported > MAX_XSD_FINDINGS {
        sink.emit(
            scope,
            codes::OMEXML_XSD_001,
            "/",
            format!(
                "expected a document valid against the schema, found {} more schema errors (not listed)",
                reported - MAX_XSD_FINDINGS
            ),
        );
    }
    if reported == 0 && !output.status.success() {
        sink.emit(
            scope,
            codes::OMEXML_XSD_002,
            "/",
            format!(
                "expected xmllint to validate or list schema errors, found exit status {} ({})",
                output.status,
                stderr.lines().next().unwrap_or("no message")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_patterns() {
        assert!(id_matches("Channel:0:1", "Channel"));
        assert!(id_matches("urn:lsid:example.org:Channel:0", "Channel"));
        assert!(!id_matches("InvalidName", "Channel"));
        assert!(!id_matches("Channel:", "Channel"));
        assert!(!id_matches("Microscope", "Instrument"));
        assert!(id_matches("anything", "ROI"));
        assert_eq!(id_type("Laser"), Some("LightSource"));
        assert_eq!(id_type("XMLAnnotation"), Some("Annotation"));
        assert_eq!(ref_type("AnnotationRef"), Some("Annotation"));
        assert_eq!(ref_type("DetectorSettings"), Some("Detector"));
        assert_eq!(ref_type("StructuredAnnotations"), None);
    }
}
