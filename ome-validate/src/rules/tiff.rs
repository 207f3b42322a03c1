//! `OMETIFF-*`: an OME-TIFF file, a multi-file set or a companion file. The IFD facts come
//! from `ome_core::tiff::inspect`, the plane map from `ome_core::tiff::planes` (the same
//! pure function the reader uses), the OME-XML rules from [`super::omexml`]; a last
//! open through `ome_core::tiff::OmeTiff` catches what a reader rejects and no rule named,
//! and at the data depth reads the planes.

use crate::codes;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use ome_core::Location;
use ome_core::metadata::NgffVersion;
use ome_core::ome_xml::{OmeXml, PixelType, XmlLimits};
use ome_core::tiff::inspect::{IfdSummary, TiffInspection, inspect};
use ome_core::tiff::planes::{PlaneProblem, PlaneRef, map_planes};
use ome_core::tiff::{OmeTiff, TiffLimits};

use super::omexml;
use crate::context::{Scope, Sink};
use crate::options::Options;
use crate::rule::Severity;

/// Bytes read per band when a plane is decoded at the data depth.
const BAND_BYTES: u64 = 64 << 20;
/// OME-TIFF extensions (introduction of the specification).
const EXTENSIONS: &[&str] = &[".ome.tif", ".ome.tiff", ".ome.tf2", ".ome.tf8", ".ome.btf"];

/// The NGFF version scopes carry; OME-TIFF and OME-XML rules apply to every version.
const ANY: NgffVersion = NgffVersion::V0_4;

fn scope(node: &str, document: &str) -> Scope {
    Scope::new(node, document, ANY)
}

fn tiff_limits(options: &Options) -> TiffLimits {
    let mut limits = TiffLimits::default();
    limits.max_description_bytes = options.limits.max_metadata_bytes;
    limits.max_tile_bytes = options.limits.max_chunk_bytes;
    limits.max_ifds = options.limits.max_tiff_ifds;
    limits.max_array_elements = options.limits.max_array_elements;
    limits
}

/// The most planes one image may declare: the reader keeps an entry per plane, bounded
/// as the IFDs of a file are.
fn max_planes(options: &Options) -> u64 {
    options.limits.max_tiff_ifds as u64
}

/// `OMEXML-DOC-002` for every image whose declared sizes exceed the limits; `true` when
/// all are within them. Checked before a plane is mapped: the plane map and the reader
/// hold an entry per plane, and a few bytes of XML can declare 2^31 of them.
fn sizes_within_limits(sink: &mut Sink<'_>, at: &Scope, ome: &OmeXml, options: &Options) -> bool {
    let mut ok = true;
    for (i, image) in ome.images.iter().enumerate() {
        if let Some(problem) = image
            .pixels
            .size_limit_problem(options.limits.max_array_elements, max_planes(options))
        {
            sink.emit(
                at,
                codes::OMEXML_DOC_002,
                &format!("/OME/Image[{i}]/Pixels"),
                format!("Image {i}: {problem}"),
            );
            ok = false;
        }
    }
    ok
}

fn xml_limits(options: &Options) -> XmlLimits {
    XmlLimits {
        max_bytes: usize::try_from(options.limits.max_metadata_bytes).unwrap_or(usize::MAX),
        ..XmlLimits::default()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn ifd_doc(ifd: Option<u64>, subifd: Option<u64>) -> String {
    match (ifd, subifd) {
        (Some(i), Some(s)) => format!("IFD {i}/SubIFD {s}"),
        (Some(i), None) => format!("IFD {i}"),
        _ => "header".to_string(),
    }
}

/// The document and pointer of a core error's location, for a finding.
fn located(e: &ome_core::Error) -> (String, String) {
    match e.location() {
        Location::Tiff {
            ifd, subifd, tag, ..
        } => (
            ifd_doc(*ifd, *subifd),
            tag.map(|t| format!("tag {t}")).unwrap_or_default(),
        ),
        Location::Xml { path, .. } => ("OME-XML".to_string(), path.clone()),
        _ => ("file".to_string(), String::new()),
    }
}

fn error_count(sink: &Sink<'_>) -> usize {
    sink.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count()
}

/// Resolves a file name from OME-XML inside `dir`; `None` for a path that leaves it.
fn resolve(dir: &Path, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let plain =
        p.components().count() > 0 && p.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| dir.join(p))
}

/// Reads a text file (local or remote) of at most `max` bytes.
fn read_text(path: &Path, max: u64) -> Result<String, (bool, String)> {
    let bytes = ome_core::storage::read_file(path, max).map_err(|e| {
        if e.kind() == ome_core::ErrorKind::LimitsExceeded {
            (
                true,
                format!("expected a document of at most {max} bytes, found a larger one"),
            )
        } else {
            (
                false,
                format!(
                    "expected a readable file, found an i/o error ({})",
                    e.message()
                ),
            )
        }
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        (
            false,
            format!(
                "expected UTF-8 text, found an invalid byte sequence at byte {}",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Validates an OME-TIFF file (and the set it belongs to); returns the files checked.
pub(crate) fn check_tiff(sink: &mut Sink<'_>, path: &Path, options: &Options) -> usize {
    let limits = tiff_limits(options);
    let insp = match inspect(path, limits) {
        Ok(i) => i,
        Err(e) => {
            let (doc, ptr) = located(&e);
            sink.emit(
                &scope("", &doc),
                codes::OMETIFF_FILE_001,
                &ptr,
                e.message().to_string(),
            );
            return 1;
        }
    };
    let ifd0 = scope("", "IFD 0");
    if !insp.first_description_looks_ome() {
        let found = match (&insp.first_description, insp.later_ome_ifd) {
            (_, Some(k)) => format!("found it only in IFD {k}"),
            (Some(_), None) => {
                "found an ImageDescription that is not OME-XML (a plain TIFF)".to_string()
            }
            (None, None) => "found no ImageDescription (a plain TIFF)".to_string(),
        };
        sink.emit(
            &ifd0,
            codes::OMETIFF_XML_001,
            "tag 270",
            format!("expected the OME-XML in the ImageDescription of IFD 0, {found}"),
        );
        return 1;
    }
    // A file named just `ome.tiff` has the extension with an empty stem.
    let name = format!(".{}", file_name(path).to_ascii_lowercase());
    if !EXTENSIONS.iter().any(|e| name.ends_with(e)) {
        sink.emit_in(
            &scope("", ""),
            None,
            codes::OMETIFF_FILE_003,
            "",
            format!(
                "expected a name ending in .ome.tif, .ome.tiff, .ome.tf2, .ome.tf8 or .ome.btf, found {:?}",
                file_name(path)
            ),
        );
    }
    let text = insp.first_description.clone().unwrap_or_default();
    if text.contains('\u{fffd}') {
        sink.emit(
            &ifd0,
            codes::OMETIFF_XML_002,
            "tag 270",
            "expected UTF-8 OME-XML, found bytes that are not UTF-8 (or U+FFFD characters)",
        );
    }
    let outcome = omexml::check_text(
        sink,
        &ifd0,
        &text,
        &xml_limits(options),
        options.xml_schema.as_deref(),
    );
    let Some(ome) = outcome.ome else {
        return 1;
    };
    if !sizes_within_limits(sink, &ifd0, &ome, options) {
        return 1;
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let own = Own {
        uuid: ome.uuid.clone(),
        path: path.to_path_buf(),
        inspection: insp,
    };
    let checked = if let Some(bo) = &ome.binary_only {
        let Some(master) = check_binary_only(sink, &dir, bo, options) else {
            return 1;
        };
        check_set(sink, &master, &dir, Some(own), options)
    } else {
        check_set(sink, &ome, &dir, Some(own), options)
    };
    finish(sink, path, options);
    checked
}

/// Validates a standalone OME-XML file; a `.companion.ome` also validates its TIFF set.
pub(crate) fn check_xml_file(sink: &mut Sink<'_>, path: &Path, options: &Options) -> usize {
    let document = file_name(path);
    let sc = scope("", &document);
    let text = match read_text(path, options.limits.max_metadata_bytes) {
        Ok(t) => t,
        Err((too_big, message)) => {
            let code = if too_big {
                codes::OMEXML_DOC_002
            } else {
                codes::OMEXML_DOC_001
            };
            sink.emit(&sc, code, "/", message);
            return 1;
        }
    };
    let outcome = omexml::check_text(
        sink,
        &sc,
        &text,
        &xml_limits(options),
        options.xml_schema.as_deref(),
    );
    let Some(ome) = outcome.ome else {
        return 1;
    };
    if !sizes_within_limits(sink, &sc, &ome, options) {
        return 1;
    }
    if !document.to_ascii_lowercase().ends_with(".companion.ome") {
        return 1;
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let checked = check_set(sink, &ome, &dir, None, options);
    finish(sink, path, options);
    checked
}

/// The file that holds the XML being checked.
struct Own {
    uuid: Option<String>,
    path: PathBuf,
    inspection: TiffInspection,
}

/// Follows `BinaryOnly` to the master file; returns its metadata.
fn check_binary_only(
    sink: &mut Sink<'_>,
    dir: &Path,
    bo: &ome_core::ome_xml::BinaryOnly,
    options: &Options,
) -> Option<OmeXml> {
    let at = scope("", "IFD 0");
    let ptr = "/OME/BinaryOnly@MetadataFile";
    let Some(master) = resolve(dir, &bo.metadata_file) else {
        sink.emit(
            &at,
            codes::OMETIFF_SET_002,
            ptr,
            format!(
                "expected a file name in the data set's folder, found {:?}",
                bo.metadata_file
            ),
        );
        return None;
    };
    let is_tiff = ome_core::storage::read_file_head(&master, 4)
        .is_ok_and(|h| h.len() == 4 && ome_core::tiff::is_tiff_magic(&h));
    let text = if is_tiff {
        inspect(&master, tiff_limits(options))
            .ok()
            .and_then(|i| i.first_description)
            .ok_or((false, "expected a readable master OME-TIFF".to_string()))
    } else {
        read_text(&master, options.limits.max_metadata_bytes)
    };
    let text = match text {
        Ok(t) => t,
        Err((_, message)) => {
            sink.emit(
                &at,
                codes::OMETIFF_SET_002,
                ptr,
                format!("{:?}: {message}", bo.metadata_file),
            );
            return None;
        }
    };
    let node = file_name(&master);
    let master_scope = scope(&node, &node);
    let outcome = omexml::check_text(
        sink,
        &master_scope,
        &text,
        &xml_limits(options),
        options.xml_schema.as_deref(),
    );
    if let Some(ome) = &outcome.ome
        && !sizes_within_limits(sink, &master_scope, ome, options)
    {
        return None;
    }
    let Some(ome) = outcome.ome else {
        sink.emit(
            &at,
            codes::OMETIFF_SET_002,
            ptr,
            format!(
                "expected readable OME-XML in the master file {:?}, found none (see its findings)",
                bo.metadata_file
            ),
        );
        return None;
    };
    if ome.images.is_empty() {
        sink.emit(
            &at,
            codes::OMETIFF_SET_002,
            ptr,
            format!(
                "expected the master file {:?} to hold the full metadata with Image elements, found none",
                bo.metadata_file
            ),
        );
        return None;
    }
    if ome.uuid.as_deref() != Some(bo.uuid.as_str()) {
        sink.emit(
            &at,
            codes::OMETIFF_SET_003,
            "/OME/BinaryOnly@UUID",
            format!(
                "expected {:?}, the OME UUID of {:?}, found {:?}",
                ome.uuid.as_deref().unwrap_or("no UUID"),
                bo.metadata_file,
                bo.uuid
            ),
        );
    }
    Some(ome)
}

/// The files of a set: index 0 is the file holding the XML when there is one.
struct Files {
    members: Vec<(PathBuf, TiffInspection)>,
    by_uuid: HashMap<String, usize>,
    /// UUIDs already reported as unresolvable.
    failed: HashSet<String>,
    own: Option<usize>,
}

impl Files {
    fn ifds(&self, file: usize) -> Option<&[IfdSummary]> {
        self.members.get(file).map(|(_, i)| i.ifds.as_slice())
    }

    fn node(&self, file: usize) -> String {
        if Some(file) == self.own {
            return String::new();
        }
        self.members
            .get(file)
            .map(|(p, _)| file_name(p))
            .unwrap_or_default()
    }
}

/// Resolves every TiffData UUID to a file of the set, reporting what does not resolve.
fn collect_files(
    sink: &mut Sink<'_>,
    ome: &OmeXml,
    dir: &Path,
    own: Option<Own>,
    options: &Options,
) -> Files {
    let mut files = Files {
        members: Vec::new(),
        by_uuid: HashMap::new(),
        failed: HashSet::new(),
        own: None,
    };
    let mut uses_uuids = false;
    if let Some(own) = own {
        if let Some(u) = &own.uuid {
            files.by_uuid.insert(u.clone(), 0);
        }
        files.members.push((own.path, own.inspection));
        files.own = Some(0);
    }
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    if let Some((p, _)) = files.members.first() {
        by_path.insert(p.clone(), 0);
    }
    for (i, image) in ome.images.iter().enumerate() {
        for (k, td) in image.pixels.tiff_data.iter().enumerate() {
            let Some(uuid) = &td.uuid else { continue };
            uses_uuids = true;
            if files.by_uuid.contains_key(&uuid.value) || files.failed.contains(&uuid.value) {
                continue;
            }
            let at = scope("", "OME-XML");
            let ptr = format!("/OME/Image[{i}]/Pixels/TiffData[{k}]/UUID");
            let Some(name) = &uuid.file_name else {
                files.failed.insert(uuid.value.clone());
                sink.emit(
                    &at,
                    codes::OMETIFF_SET_001,
                    &ptr,
                    format!(
                        "expected a FileName or the UUID of this file, found {} with no FileName (the folder is not scanned)",
                        uuid.value
                    ),
                );
                continue;
            };
            let Some(path) = resolve(dir, name) else {
                files.failed.insert(uuid.value.clone());
                sink.emit(
                    &at,
                    codes::OMETIFF_SET_001,
                    &ptr,
                    format!("expected a file name inside the data set's folder, found {name:?}"),
                );
                continue;
            };
            if let Some(&index) = by_path.get(&path) {
                // Same file named under a second UUID: the file's OME UUID decides.
                files.by_uuid.insert(uuid.value.clone(), index);
                continue;
            }
            match inspect(&path, tiff_limits(options)) {
                Ok(insp) => {
                    let carries = insp
                        .first_description
                        .as_deref()
                        .is_some_and(|d| d.contains(uuid.value.as_str()));
                    if !carries {
                        sink.emit(
                            &at,
                            codes::OMETIFF_SET_001,
                            &ptr,
                            format!(
                                "expected {name:?} to carry OME UUID {}, found OME-XML without it",
                                uuid.value
                            ),
                        );
                    }
                    let index = files.members.len();
                    files.members.push((path.clone(), insp));
                    files.by_uuid.insert(uuid.value.clone(), index);
                    by_path.insert(path, index);
                }
                Err(e) => {
                    files.failed.insert(uuid.value.clone());
                    sink.emit(
                        &at,
                        codes::OMETIFF_SET_001,
                        &ptr,
                        format!(
                            "expected {name:?} to be a readable TIFF of the set, found: {}",
                            e.message()
                        ),
                    );
                }
            }
        }
    }
    if uses_uuids && files.own.is_some() && ome.uuid.is_none() {
        sink.emit(
            &scope("", "OME-XML"),
            codes::OMETIFF_SET_004,
            "/OME@UUID",
            "expected an OME UUID on a file whose TiffData reference files by UUID, found none",
        );
    }
    files
}

/// The TiffData, IFD and pyramid rules over every image; returns the files checked.
fn check_set(
    sink: &mut Sink<'_>,
    ome: &OmeXml,
    dir: &Path,
    own: Option<Own>,
    options: &Options,
) -> usize {
    let files = collect_files(sink, ome, dir, own, options);
    for i in 0..ome.images.len() {
        check_image(sink, &files, ome, i, options);
    }
    if files.own.is_some() {
        check_members_agree(sink, &files, ome, options);
    }
    files.members.len().max(1)
}

/// What a reader takes from each image: sizes, type and order of its Pixels.
fn image_shapes(ome: &OmeXml) -> Vec<String> {
    ome.images
        .iter()
        .map(|im| {
            let p = &im.pixels;
            format!(
                "{}x{}x{}x{}x{} {} {}",
                p.size_x,
                p.size_y,
                p.size_z,
                p.size_c,
                p.size_t,
                p.pixel_type.as_str(),
                p.dimension_order.as_str()
            )
        })
        .collect()
}

/// Embedded metadata: every member's full OME-XML block describes the same images
/// (Multi-file OME-TIFF / Embedded OME-XML metadata). Members with a partial block
/// (`BinaryOnly`) are outside this rule.
fn check_members_agree(sink: &mut Sink<'_>, files: &Files, ome: &OmeXml, options: &Options) {
    let ours = image_shapes(ome);
    for (index, (path, insp)) in files.members.iter().enumerate() {
        if Some(index) == files.own {
            continue;
        }
        let Some(text) = &insp.first_description else {
            continue;
        };
        // A member whose OME-XML does not read is the member's own finding when it is
        // validated; here only readable full blocks are compared.
        let Ok(theirs) = ome_core::ome_xml::parse(text, &xml_limits(options)) else {
            continue;
        };
        if theirs.binary_only.is_some() {
            continue;
        }
        let theirs = image_shapes(&theirs);
        if theirs != ours {
            let node = file_name(path);
            sink.emit(
                &scope(&node, "IFD 0"),
                codes::OMETIFF_SET_005,
                "/OME",
                format!(
                    "expected the images of this file's OME-XML ({}), found {}",
                    ours.join("; "),
                    if theirs.is_empty() {
                        "none".to_string()
                    } else {
                        theirs.join("; ")
                    }
                ),
            );
        }
    }
}

fn check_image(sink: &mut Sink<'_>, files: &Files, ome: &OmeXml, i: usize, options: &Options) {
    let Some(image) = ome.images.get(i) else {
        return;
    };
    let px = &image.pixels;
    if px.metadata_only || px.has_bin_data() {
        return;
    }
    let xml = scope("", "OME-XML");
    let base = format!("/OME/Image[{i}]/Pixels");
    let first_file = match px.tiff_data.first().and_then(|td| td.uuid.as_ref()) {
        Some(u) => files.by_uuid.get(&u.value).copied(),
        None => files.own,
    };
    let Some(first_file) = first_file else {
        if files.own.is_none() && px.tiff_data.iter().any(|td| td.uuid.is_none()) {
            sink.emit(
                &xml,
                codes::OMETIFF_SET_001,
                &format!("{base}/TiffData"),
                "expected a UUID naming the TIFF file of each TiffData in a companion file, found TiffData without one",
            );
        }
        return;
    };
    let first_ifd = px.tiff_data.first().map_or(0, |td| td.ifd_or_default());
    let spp = files
        .ifds(first_file)
        .and_then(|ifds| ifds.get(first_ifd as usize))
        .map_or(1, |s| s.samples_per_pixel.max(1));
    let (sz, sc, st) = px.zct_sizes();
    let sc_ifd = u32::try_from(u64::from(sc).div_ceil(spp))
        .unwrap_or(1)
        .max(1);
    let file_of = |u: &str| files.by_uuid.get(u).copied();
    let ifds_in = |f: usize| files.ifds(f).map_or(0, |i| i.len() as u64);
    let own = files.own.unwrap_or(usize::MAX);
    let map = map_planes(
        px,
        (sz, sc_ifd, st),
        own,
        &file_of,
        &ifds_in,
        max_planes(options),
    );
    for problem in &map.problems {
        let (code, k) = match problem {
            PlaneProblem::IfdOutOfRange { tiff_data, .. } => {
                (codes::OMETIFF_TD_001, Some(*tiff_data))
            }
            PlaneProblem::PlaneOutOfRange { tiff_data, .. } => {
                (codes::OMETIFF_TD_002, Some(*tiff_data))
            }
            PlaneProblem::Duplicate { .. } => (codes::OMETIFF_TD_003, None),
            PlaneProblem::Missing { .. } => (codes::OMETIFF_TD_004, None),
            PlaneProblem::UnknownFile { tiff_data, uuid } => {
                if files.failed.contains(uuid) {
                    continue;
                }
                (codes::OMETIFF_SET_001, Some(*tiff_data))
            }
            PlaneProblem::TooManyPlanes { .. } => (codes::OMEXML_DOC_002, None),
            PlaneProblem::TooManyMappings { tiff_data, .. } => {
                (codes::OMEXML_DOC_002, Some(*tiff_data))
            }
        };
        let ptr = match k {
            Some(k) => format!("{base}/TiffData[{k}]"),
            None => format!("{base}/TiffData"),
        };
        sink.emit(
            &xml,
            code,
            &ptr,
            format!("Image {i}: {}", problem.message()),
        );
    }
    let mut seen: HashSet<PlaneRef> = HashSet::new();
    let mut reported: HashSet<codes::Code> = HashSet::new();
    let main_offsets: Vec<HashSet<u64>> = files
        .members
        .iter()
        .map(|(_, i)| i.ifds.iter().map(|s| s.offset).collect())
        .collect();
    // The samples of the first mapped IFD: every other plane of the series must have the
    // same, even where both fit the Type (12-bit and 16-bit planes in one uint16 image).
    let mut first_samples: Option<(u64, &[u64], u64)> = None;
    for plane in map.planes.iter().flatten() {
        if !seen.insert(*plane) {
            continue;
        }
        let Some(ifd) = files
            .ifds(plane.file)
            .and_then(|ifds| ifds.get(plane.ifd as usize))
        else {
            continue;
        };
        let at = scope(&files.node(plane.file), &ifd_doc(Some(plane.ifd), None));
        check_ifd(sink, &at, ifd, px, i, spp, &mut reported);
        match first_samples {
            None => first_samples = Some((plane.ifd, &ifd.bits_per_sample, ifd.sample_format)),
            Some((k, bits, format))
                if (bits, format) != (ifd.bits_per_sample.as_slice(), ifd.sample_format)
                    && reported.insert(codes::OMETIFF_PIX_002) =>
            {
                sink.emit(
                    &at,
                    codes::OMETIFF_PIX_002,
                    "tag 258",
                    format!(
                        "expected the samples of IFD {k}, the first plane of Image {i} (BitsPerSample {bits:?}, SampleFormat {format}), found BitsPerSample {:?}, SampleFormat {}",
                        ifd.bits_per_sample, ifd.sample_format
                    ),
                );
            }
            Some(_) => {}
        }
        check_levels(sink, &at, plane.ifd, ifd, &mut reported);
        check_level_storage(
            sink,
            &at,
            plane.ifd,
            ifd,
            main_offsets.get(plane.file),
            &mut reported,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_ifd(
    sink: &mut Sink<'_>,
    at: &Scope,
    ifd: &IfdSummary,
    px: &ome_core::ome_xml::Pixels,
    i: usize,
    spp: u64,
    reported: &mut HashSet<codes::Code>,
) {
    let mut once = |sink: &mut Sink<'_>, code: codes::Code, ptr: &str, msg: String| {
        if reported.insert(code) {
            sink.emit(at, code, ptr, msg);
        }
    };
    let (w, h) = (u64::from(px.size_x), u64::from(px.size_y));
    if ifd.width != Some(w) || ifd.height != Some(h) {
        let show = |v: Option<u64>| v.map_or("none".to_string(), |v| v.to_string());
        once(
            sink,
            codes::OMETIFF_PIX_001,
            if ifd.width != Some(w) {
                "tag 256"
            } else {
                "tag 257"
            },
            format!(
                "expected {w} x {h} pixels (SizeX x SizeY of Image {i}), found ImageWidth {} x ImageLength {}",
                show(ifd.width),
                show(ifd.height)
            ),
        );
    }
    let (format, bits) = expected_samples(px.pixel_type);
    let found_bits = ifd.bits_per_sample.first().copied().unwrap_or(1);
    if ifd.bits_per_sample.iter().any(|&b| b != found_bits) {
        once(
            sink,
            codes::OMETIFF_PIX_002,
            "tag 258",
            format!(
                "expected one BitsPerSample for every sample (Pixels Type {} of Image {i}), found {:?}",
                px.pixel_type.as_str(),
                ifd.bits_per_sample
            ),
        );
    }
    // Packed unsigned samples narrower than the Type (a 12-bit camera in uint16, a 4-bit
    // mask in uint8) are read widened to the smallest unsigned type that holds them, which
    // is how Bio-Formats and tifffile present them (TIFF 6.0 section 2, BitsPerSample):
    // the samples fit when the reader's type for them is the Type.
    let packed_fits = found_bits < bits
        && px.pixel_type.to_dtype().is_some()
        && ome_core::tiff::sample_dtype(ifd.sample_format, found_bits) == px.pixel_type.to_dtype();
    if (found_bits != bits && !packed_fits) || ifd.sample_format != format {
        once(
            sink,
            codes::OMETIFF_PIX_002,
            "tag 258",
            format!(
                "expected BitsPerSample {bits} with SampleFormat {format} (Pixels Type {} of Image {i}), found BitsPerSample {found_bits} with SampleFormat {}",
                px.pixel_type.as_str(),
                ifd.sample_format
            ),
        );
    }
    if ifd.samples_per_pixel.max(1) != spp {
        once(
            sink,
            codes::OMETIFF_PIX_003,
            "tag 277",
            format!(
                "expected SamplesPerPixel {spp} as in the first IFD of Image {i}, found {}",
                ifd.samples_per_pixel
            ),
        );
    }
    if let Some((c, n)) = px
        .channels
        .iter()
        .enumerate()
        .find_map(|(c, ch)| ch.samples_per_pixel.map(|n| (c, n)))
        && u64::from(n) != ifd.samples_per_pixel.max(1)
    {
        once(
            sink,
            codes::OMETIFF_PIX_003,
            "tag 277",
            format!(
                "expected SamplesPerPixel {n} (Channel {c} of Image {i}), found {}",
                ifd.samples_per_pixel
            ),
        );
    }
}

/// `(SampleFormat, BitsPerSample)` of a pixel type.
fn expected_samples(t: PixelType) -> (u64, u64) {
    match t.as_str() {
        "int8" => (2, 8),
        "int16" => (2, 16),
        "int32" => (2, 32),
        "uint8" => (1, 8),
        "uint16" => (1, 16),
        "uint32" => (1, 32),
        "float" => (3, 32),
        "double" => (3, 64),
        "complex" => (6, 64),
        "double-complex" => (6, 128),
        _ => (1, 1),
    }
}

fn check_levels(
    sink: &mut Sink<'_>,
    at: &Scope,
    index: u64,
    ifd: &IfdSummary,
    reported: &mut HashSet<codes::Code>,
) {
    let mut once = |sink: &mut Sink<'_>, code: codes::Code, k: usize, msg: String| {
        if reported.insert(code) {
            let sub = scope(&at.node, &ifd_doc(Some(index), Some(k as u64)));
            sink.emit(&sub, code, "", msg);
        }
    };
    let mut prev = (ifd.width.unwrap_or(0), ifd.height.unwrap_or(0));
    let mut factor: Option<u64> = None;
    for (k, level) in ifd.sub_ifds.iter().enumerate() {
        let (w, h) = (level.width.unwrap_or(0), level.height.unwrap_or(0));
        if w > prev.0 || h > prev.1 || (w, h) == prev || w == 0 || h == 0 {
            once(
                sink,
                codes::OMETIFF_PYR_001,
                k,
                format!(
                    "expected a level smaller than {} x {} (the level before it), found {w} x {h}",
                    prev.0, prev.1
                ),
            );
        } else {
            let fx = (prev.0 as f64 / w as f64).round().max(1.0) as u64;
            let fy = (prev.1 as f64 / h as f64).round().max(1.0) as u64;
            let near = |full: u64, f: u64, got: u64| (full / f).abs_diff(got) <= 1;
            let regular = fx == fy
                && near(prev.0, fx, w)
                && near(prev.1, fy, h)
                && factor.is_none_or(|f| f == fx);
            if !regular {
                once(
                    sink,
                    codes::OMETIFF_PYR_003,
                    k,
                    format!(
                        "expected one integer factor in X and Y for every level{}, found {} x {} -> {w} x {h}",
                        factor.map(|f| format!(" ({f})")).unwrap_or_default(),
                        prev.0,
                        prev.1
                    ),
                );
            }
            factor.get_or_insert(fx);
        }
        if level.new_subfile_type != 1 {
            once(
                sink,
                codes::OMETIFF_PYR_002,
                k,
                format!(
                    "expected NewSubfileType 1 (reduced resolution), found {}",
                    level.new_subfile_type
                ),
            );
        }
        if level.samples_per_pixel != ifd.samples_per_pixel
            || level.bits_per_sample != ifd.bits_per_sample
            || level.sample_format != ifd.sample_format
        {
            once(
                sink,
                codes::OMETIFF_PYR_004,
                k,
                format!(
                    "expected the samples of IFD {index} ({} x {:?} bits, format {}), found {} x {:?} bits, format {}",
                    ifd.samples_per_pixel,
                    ifd.bits_per_sample,
                    ifd.sample_format,
                    level.samples_per_pixel,
                    level.bits_per_sample,
                    level.sample_format
                ),
            );
        }
        prev = (w, h);
    }
}

/// Where SubIFD levels live (not in the main chain) and how the planes of a pyramid are
/// laid out (tiles).
fn check_level_storage(
    sink: &mut Sink<'_>,
    at: &Scope,
    index: u64,
    ifd: &IfdSummary,
    main_offsets: Option<&HashSet<u64>>,
    reported: &mut HashSet<codes::Code>,
) {
    if ifd.sub_ifds.is_empty() {
        return;
    }
    if let Some((k, level)) = ifd
        .sub_ifds
        .iter()
        .enumerate()
        .find(|(_, l)| main_offsets.is_some_and(|m| m.contains(&l.offset)))
        && reported.insert(codes::OMETIFF_PYR_005)
    {
        let sub = scope(&at.node, &ifd_doc(Some(index), Some(k as u64)));
        sink.emit(
            &sub,
            codes::OMETIFF_PYR_005,
            "tag 330",
            format!(
                "expected a SubIFD outside the main IFD chain, found offset {} which the main chain also holds",
                level.offset
            ),
        );
    }
    if !ifd.tiled && reported.insert(codes::OMETIFF_PYR_006) {
        sink.emit(
            at,
            codes::OMETIFF_PYR_006,
            "tag 273",
            format!(
                "expected the full-resolution plane of a pyramid in tiles, found strips ({} x {})",
                ifd.width.unwrap_or(0),
                ifd.height.unwrap_or(0)
            ),
        );
    }
}

/// The catch-all open (`OMETIFF-FILE-002`) and, at the data depth, the plane reads.
fn finish(sink: &mut Sink<'_>, path: &Path, options: &Options) {
    if error_count(sink) > 0 {
        return;
    }
    let tiff = match OmeTiff::open_with(path, tiff_limits(options)) {
        Ok(t) => t,
        Err(e) => {
            let (doc, ptr) = located(&e);
            sink.emit(
                &scope("", &doc),
                codes::OMETIFF_FILE_002,
                &ptr,
                format!(
                    "expected the reader to open the set, found: {}",
                    e.message()
                ),
            );
            return;
        }
    };
    if options.depth < crate::rule::Depth::Data {
        return;
    }
    for (s, series) in tiff.series().iter().enumerate() {
        let Some(shape) = series.level_shapes.first() else {
            continue;
        };
        let [t, c, z, y, x] = *shape;
        let (c, z) = (c.max(1), z.max(1));
        let planes = t.saturating_mul(c).saturating_mul(z);
        let budget = options.data.max_chunks_per_array.max(1) as u64;
        let step = planes.div_ceil(budget).max(1);
        let row_bytes = x.saturating_mul(series.dtype.size() as u64).max(1);
        let band = (BAND_BYTES / row_bytes).clamp(1, y.max(1));
        let mut p = 0;
        while p < planes {
            let (tt, cc, zz) = (p / (c * z), p / z % c, p % z);
            let mut y0 = 0;
            while y0 < y {
                let rows = band.min(y - y0);
                if let Err(e) = tiff.read_region(s, 0, &[tt, cc, zz, y0, 0], &[1, 1, 1, rows, x]) {
                    let (doc, ptr) = located(&e);
                    sink.emit(
                        &scope("", &doc),
                        codes::OMETIFF_DATA_001,
                        &ptr,
                        format!(
                            "expected plane (t, c, z) = ({tt}, {cc}, {zz}) of Image {s} to decode, found: {}",
                            e.message()
                        ),
                    );
                    return;
                }
                y0 += rows;
            }
            p += step;
        }
    }
}
