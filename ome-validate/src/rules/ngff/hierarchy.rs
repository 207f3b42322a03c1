//! The hierarchy walk: from the root through images and their labels, plates, wells and
//! fields, bioformats2raw series, and 0.6 scenes (their images and the references and
//! parameter arrays of RFC-5 transformations: `rfc5`). Array metadata only; chunks are the
//! data depth's. Unreadable nodes become findings and the walk goes on.

mod rfc5;

use crate::codes;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ome_core::metadata::NgffVersion;
use ome_core::zarr::{Hierarchy, RawNode, ZarrFormat};
use rayon::prelude::*;
use serde_json::Value;

use super::arrays::{self, Level};
use super::axes::axis_names;
use super::multiscales::dataset_scale;
use super::{AttrInput, NodeMeta, check_attributes, data};
use crate::context::{Scope, Sink, as_int, ptr};
use crate::options::Options;
use crate::rule::{Depth, version_str};

struct Walker<'a> {
    h: Hierarchy,
    options: &'a Options,
    nodes: AtomicUsize,
}

/// Whether an image is a plain image or a label image (of a known image, or at a root
/// labels group).
#[derive(Clone, Copy)]
enum Role<'a> {
    Image,
    Label(Option<&'a ImageInfo>),
}

/// What the walk learned about one image, for its labels.
struct ImageInfo {
    levels: Vec<Option<Level>>,
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}/{child}")
    }
}

/// Walks the hierarchy at `root`; returns the root's version and the number of nodes read.
pub(crate) fn walk(
    sink: &mut Sink<'_>,
    root: &Path,
    options: &Options,
) -> (Option<NgffVersion>, usize) {
    let fallback = options.ngff_version.unwrap_or(NgffVersion::V0_4);
    let h = match Hierarchy::open(root, options.limits) {
        Ok(h) => h,
        Err(e) => {
            sink.emit_in(
                &Scope::new("", "", fallback),
                None,
                codes::NGFF_HIER_001,
                "",
                e.message().to_string(),
            );
            return (None, 0);
        }
    };
    walk_hierarchy(sink, h, options)
}

/// [`walk`] of an opened hierarchy (a directory, a remote store or a caller's source).
pub(crate) fn walk_hierarchy(
    sink: &mut Sink<'_>,
    h: Hierarchy,
    options: &Options,
) -> (Option<NgffVersion>, usize) {
    let w = Walker {
        h,
        options,
        nodes: AtomicUsize::new(0),
    };
    let version = w.root(sink);
    (version, w.nodes.load(Ordering::Relaxed))
}

impl Walker<'_> {
    /// Reads a node; unreadable → HIER-001 and `None`.
    fn read(
        &self,
        sink: &mut Sink<'_>,
        node: &str,
        version: NgffVersion,
    ) -> Option<Option<RawNode>> {
        self.nodes.fetch_add(1, Ordering::Relaxed);
        if self.cycle(sink, node, version, "") {
            return None;
        }
        match self.h.node(node) {
            Ok(n) => Some(n),
            Err(e) => {
                let (doc, pointer) = match e.location() {
                    ome_core::Location::Zarr {
                        document, pointer, ..
                    } => (document.clone(), pointer.clone().unwrap_or_default()),
                    _ => (None, String::new()),
                };
                let scope = Scope::new(node, doc.as_deref().unwrap_or(""), version);
                sink.emit_in(
                    &scope,
                    doc.as_deref(),
                    codes::NGFF_HIER_001,
                    &pointer,
                    e.message().to_string(),
                );
                None
            }
        }
    }

    /// HIER-006 when `node` is a symbolic link back to itself or an ancestor (found by
    /// the canonical paths of the nodes on its way from the root): the walk reports the
    /// cycle and does not follow it. `at` points at the metadata that names the node.
    fn cycle(&self, sink: &mut Sink<'_>, node: &str, version: NgffVersion, at: &str) -> bool {
        let Some(ancestor) = self.h.link_cycle(node) else {
            return false;
        };
        let target = if ancestor.is_empty() {
            "the root".to_string()
        } else {
            format!("{ancestor:?}")
        };
        sink.emit(
            &Scope::new(node, "", version),
            codes::NGFF_HIER_006,
            at,
            format!(
                "expected {node:?} to be a node below its parent, found a symbolic link back to {target} (a cycle; not followed)"
            ),
        );
        true
    }

    /// Resolves a path from metadata; refused → HIER-004 and `None`.
    fn child(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        parent: &str,
        relative: &str,
        at: &str,
    ) -> Option<String> {
        match self
            .h
            .child_path(parent, relative, &ome_core::Location::None)
        {
            Ok(p) => Some(p),
            Err(e) => {
                let plain = relative
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
                if !(plain && self.cycle(sink, &join(parent, relative), scope.version, at)) {
                    sink.emit(scope, codes::NGFF_HIER_004, at, e.message().to_string());
                }
                None
            }
        }
    }

    fn attrs<'n>(
        &self,
        sink: &mut Sink<'_>,
        raw: &'n RawNode,
        parent: Option<NgffVersion>,
    ) -> NodeMeta<'n> {
        let base = if raw.format == ZarrFormat::V3 {
            "/attributes"
        } else {
            ""
        };
        let meta = check_attributes(
            sink,
            &raw.path,
            raw.attributes_document,
            AttrInput {
                attrs: &raw.attributes,
                base,
                required: self.options.ngff_version,
                parent,
            },
        );
        let scope = Scope::new(&raw.path, raw.attributes_document, meta.version);
        if meta.kinds.any() || meta.namespaced {
            let want = if meta.version >= NgffVersion::V0_5 {
                ZarrFormat::V3
            } else {
                ZarrFormat::V2
            };
            if raw.format != want {
                sink.emit_in(
                    &scope,
                    None,
                    codes::NGFF_HIER_003,
                    "",
                    format!(
                        "expected Zarr v{} for OME-NGFF {}, found Zarr v{}",
                        want.number(),
                        version_str(meta.version),
                        raw.format.number()
                    ),
                );
            }
        }
        if let (Some(p), Some(d)) = (parent, meta.declared)
            && p != d
        {
            let at = if meta.namespaced {
                ptr(&meta.base, "version")
            } else {
                meta.base.clone()
            };
            sink.emit(
                &scope,
                codes::NGFF_VER_005,
                &at,
                format!(
                    "expected version {} as in the parent group, found {}",
                    version_str(p),
                    version_str(d)
                ),
            );
        }
        meta
    }

    fn root(&self, sink: &mut Sink<'_>) -> Option<NgffVersion> {
        let fallback = self.options.ngff_version.unwrap_or(NgffVersion::V0_4);
        let raw = self.read(sink, "", fallback)?;
        let Some(raw) = raw else {
            sink.emit_in(
                &Scope::new("", "", fallback),
                None,
                codes::NGFF_HIER_002,
                "",
                "expected a Zarr group with metadata (zarr.json, .zgroup or .zattrs), found none",
            );
            return None;
        };
        let meta = self.attrs(sink, &raw, None);
        let scope = Scope::new("", raw.attributes_document, meta.version);
        if !meta.kinds.any() {
            sink.emit(&scope, codes::NGFF_HIER_002, &meta.base, "expected OME-NGFF metadata (multiscales, labels, image-label, plate, well, scene or bioformats2raw.layout), found none");
            return Some(meta.version);
        }
        if self.options.depth == Depth::Attributes {
            return Some(meta.version);
        }
        self.dispatch(sink, &raw, &meta);
        Some(meta.version)
    }

    fn dispatch(&self, sink: &mut Sink<'_>, raw: &RawNode, meta: &NodeMeta<'_>) {
        if meta.kinds.scene {
            self.scene(sink, raw, meta);
        }
        if meta.kinds.plate {
            self.plate(sink, raw, meta);
        } else if meta.kinds.well {
            self.well(sink, raw, meta, None);
        } else if meta.kinds.multiscales {
            self.image(sink, raw, meta, Role::Image);
        } else if meta.kinds.labels {
            self.labels_group(sink, raw, meta, None);
        } else if meta.kinds.bf2raw {
            self.bf2raw(sink, raw, meta);
        }
    }

    /// An image: its levels, then its labels group when present.
    fn image(
        &self,
        sink: &mut Sink<'_>,
        raw: &RawNode,
        meta: &NodeMeta<'_>,
        role: Role<'_>,
    ) -> Option<ImageInfo> {
        let scope = Scope::new(&raw.path, raw.attributes_document, meta.version);
        let ms = meta.get("multiscales")?.as_array()?;
        let mut first_info = None;
        for (i, m) in ms.iter().enumerate() {
            let at_m = ptr(&ptr(&meta.base, "multiscales"), i);
            let Some(datasets) = m.get("datasets").and_then(Value::as_array) else {
                continue;
            };
            let axes = axis_names(m);
            let mut levels = Vec::with_capacity(datasets.len());
            let mut scales = Vec::with_capacity(datasets.len());
            for (j, d) in datasets.iter().enumerate() {
                scales.push(dataset_scale(d));
                let at = ptr(&ptr(&at_m, "datasets"), j);
                let Some(path) = d.get("path").and_then(Value::as_str) else {
                    levels.push(None);
                    continue;
                };
                levels.push(self.level(sink, &scope, &raw.path, path, &ptr(&at, "path")));
            }
            arrays::check_levels(sink, &scope, &levels, axes.as_deref(), &scales);
            if meta.version >= NgffVersion::V0_6 {
                self.multiscale_refs(sink, &scope, &raw.path, m, &at_m);
            }
            if self.options.depth == Depth::Data {
                let colors = meta
                    .get("image-label")
                    .and_then(super::labels::color_values);
                data::check_levels(
                    sink,
                    &self.h,
                    &scope,
                    &levels,
                    colors.as_deref(),
                    self.options,
                );
            }
            if first_info.is_none() {
                first_info = Some(ImageInfo { levels });
            }
        }
        let info = first_info?;
        if let Role::Label(parent) = role {
            self.compare_label(sink, &scope, &info, parent);
        } else {
            let labels = join(&raw.path, "labels");
            if let Some(Some(group)) = self.read(sink, &labels, meta.version) {
                let lmeta = self.attrs(sink, &group, Some(meta.version));
                self.labels_group(sink, &group, &lmeta, Some(&info));
            }
        }
        Some(info)
    }

    fn level(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        image: &str,
        path: &str,
        at: &str,
    ) -> Option<Level> {
        let node = self.child(sink, scope, image, path, at)?;
        match self.read(sink, &node, scope.version)? {
            Some(raw) if raw.is_array => {
                self.level_format(sink, scope, &raw);
                arrays::level(sink, scope, raw)
            }
            Some(_) => {
                sink.emit(
                    scope,
                    codes::NGFF_ARR_001,
                    at,
                    format!("expected {path:?} to be a Zarr array, found a group"),
                );
                None
            }
            None => {
                sink.emit(
                    scope,
                    codes::NGFF_ARR_001,
                    at,
                    format!("expected {path:?} to be a Zarr array, found nothing"),
                );
                None
            }
        }
    }

    /// HIER-005: a level array in the Zarr format of its image's version (0.5+: v3, RFC-2;
    /// up to 0.4: v2). A group's own format is HIER-003's.
    fn level_format(&self, sink: &mut Sink<'_>, scope: &Scope, raw: &RawNode) {
        let want = if scope.version >= NgffVersion::V0_5 {
            ZarrFormat::V3
        } else {
            ZarrFormat::V2
        };
        if raw.format != want {
            let document = if raw.format == ZarrFormat::V2 {
                ".zarray"
            } else {
                "zarr.json"
            };
            sink.emit(
                &Scope::new(&raw.path, document, scope.version),
                codes::NGFF_HIER_005,
                "",
                format!(
                    "expected a Zarr v{} array in an OME-NGFF {} image ({}), found a Zarr v{} array ({document})",
                    want.number(),
                    version_str(scope.version),
                    if scope.node.is_empty() { "the root" } else { scope.node.as_str() },
                    raw.format.number()
                ),
            );
        }
    }

    fn compare_label(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        label: &ImageInfo,
        image: Option<&ImageInfo>,
    ) {
        if let Some(image) = image
            && label.levels.len() != image.levels.len()
        {
            sink.emit(
                scope,
                codes::NGFF_LBL_011,
                "",
                format!(
                    "expected {} levels as in the image, found {}",
                    image.levels.len(),
                    label.levels.len()
                ),
            );
        }
        for level in label.levels.iter().flatten() {
            if !level.is_integer() {
                let s = Scope::new(&level.node, level.document(), scope.version);
                let key = if level.format == ZarrFormat::V2 {
                    "/dtype"
                } else {
                    "/data_type"
                };
                sink.emit(
                    &s,
                    codes::NGFF_LBL_010,
                    key,
                    format!(
                        "expected an integer data type for a label image, found {}",
                        level.dtype
                    ),
                );
            }
        }
        if let (Some(Some(l)), Some(Some(i))) =
            (label.levels.first(), image.and_then(|i| i.levels.first()))
        {
            let ok = l.shape.len() == i.shape.len()
                && l.shape.iter().zip(&i.shape).all(|(a, b)| a == b || *a == 1);
            if !ok {
                let s = Scope::new(&l.node, l.document(), scope.version);
                sink.emit(
                    &s,
                    codes::NGFF_LBL_012,
                    "/shape",
                    format!(
                        "expected each dimension to equal the image's {:?} or be 1, found {:?}",
                        i.shape, l.shape
                    ),
                );
            }
        }
    }

    fn labels_group(
        &self,
        sink: &mut Sink<'_>,
        raw: &RawNode,
        meta: &NodeMeta<'_>,
        image: Option<&ImageInfo>,
    ) {
        let scope = Scope::new(&raw.path, raw.attributes_document, meta.version);
        let Some(list) = meta.get("labels").and_then(Value::as_array) else {
            return;
        };
        for (i, l) in list.iter().enumerate() {
            let Some(path) = l.as_str() else { continue };
            let at = ptr(&ptr(&meta.base, "labels"), i);
            let Some(node) = self.child(sink, &scope, &raw.path, path, &at) else {
                continue;
            };
            let Some(found) = self.read(sink, &node, meta.version) else {
                continue;
            };
            let Some(label) = found else {
                sink.emit(
                    &scope,
                    codes::NGFF_LBL_009,
                    &at,
                    format!("expected a label image group at {path:?}, found nothing"),
                );
                continue;
            };
            let lmeta = self.attrs(sink, &label, Some(meta.version));
            if !lmeta.kinds.multiscales {
                sink.emit(&scope, codes::NGFF_LBL_009, &at, format!("expected {path:?} to be a multiscale label image, found a node without multiscales"));
                continue;
            }
            self.image(sink, &label, &lmeta, Role::Label(image));
        }
    }

    fn plate(&self, sink: &mut Sink<'_>, raw: &RawNode, meta: &NodeMeta<'_>) {
        let scope = Scope::new(&raw.path, raw.attributes_document, meta.version);
        let Some(plate) = meta.get("plate") else {
            return;
        };
        let Some(wells) = plate.get("wells").and_then(Value::as_array) else {
            return;
        };
        let acquisitions: Option<Vec<i128>> = plate
            .get("acquisitions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get("id").and_then(as_int))
                    .collect()
            });
        let pieces: Vec<Sink<'_>> = wells
            .par_iter()
            .enumerate()
            .map(|(i, w)| {
                let mut s = sink.fork();
                let at = ptr(&ptr(&ptr(&meta.base, "plate"), "wells"), i);
                if let Some(path) = w.get("path").and_then(Value::as_str) {
                    self.plate_well(
                        &mut s,
                        &scope,
                        &raw.path,
                        path,
                        &ptr(&at, "path"),
                        meta.version,
                        acquisitions.as_deref(),
                    );
                }
                s
            })
            .collect();
        for p in pieces {
            sink.join(p);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plate_well(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        plate: &str,
        path: &str,
        at: &str,
        version: NgffVersion,
        acquisitions: Option<&[i128]>,
    ) {
        let Some(node) = self.child(sink, scope, plate, path, at) else {
            return;
        };
        let Some(found) = self.read(sink, &node, version) else {
            return;
        };
        let Some(well) = found else {
            sink.emit(
                scope,
                codes::NGFF_PL_013,
                at,
                format!("expected a well group at {path:?}, found nothing"),
            );
            return;
        };
        let wmeta = self.attrs(sink, &well, Some(version));
        if !wmeta.kinds.well {
            sink.emit(
                scope,
                codes::NGFF_PL_013,
                at,
                format!("expected {path:?} to be a well group, found a node without well metadata"),
            );
            return;
        }
        self.well(sink, &well, &wmeta, acquisitions);
    }

    fn well(
        &self,
        sink: &mut Sink<'_>,
        raw: &RawNode,
        meta: &NodeMeta<'_>,
        acquisitions: Option<&[i128]>,
    ) {
        let scope = Scope::new(&raw.path, raw.attributes_document, meta.version);
        let Some(images) = meta
            .get("well")
            .and_then(|w| w.get("images"))
            .and_then(Value::as_array)
        else {
            return;
        };
        let pieces: Vec<Sink<'_>> = images
            .par_iter()
            .enumerate()
            .map(|(i, img)| {
                let mut s = sink.fork();
                let at = ptr(&ptr(&ptr(&meta.base, "well"), "images"), i);
                if let (Some(ids), Some(a)) =
                    (acquisitions, img.get("acquisition").and_then(as_int))
                    && !ids.is_empty()
                    && !ids.contains(&a)
                {
                    s.emit(
                        &scope,
                        codes::NGFF_WL_005,
                        &ptr(&at, "acquisition"),
                        format!("expected one of the plate's acquisition ids {ids:?}, found {a}"),
                    );
                }
                if let Some(path) = img.get("path").and_then(Value::as_str) {
                    self.field(
                        &mut s,
                        &scope,
                        &raw.path,
                        path,
                        &ptr(&at, "path"),
                        meta.version,
                    );
                }
                s
            })
            .collect();
        for p in pieces {
            sink.join(p);
        }
    }

    fn field(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        well: &str,
        path: &str,
        at: &str,
        version: NgffVersion,
    ) {
        self.expect_image(
            sink,
            scope,
            well,
            path,
            at,
            version,
            codes::NGFF_WL_004,
            "field",
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn expect_image(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        parent: &str,
        path: &str,
        at: &str,
        version: NgffVersion,
        code: codes::Code,
        what: &str,
    ) -> bool {
        let Some(node) = self.child(sink, scope, parent, path, at) else {
            return false;
        };
        let Some(found) = self.read(sink, &node, version) else {
            return true;
        };
        let Some(img) = found else {
            sink.emit(
                scope,
                code,
                at,
                format!("expected a {what} image group at {path:?}, found nothing"),
            );
            return false;
        };
        let imeta = self.attrs(sink, &img, Some(version));
        if !imeta.kinds.multiscales {
            sink.emit(
                scope,
                code,
                at,
                format!(
                    "expected {path:?} to be a multiscale image, found a node without multiscales"
                ),
            );
            return true;
        }
        self.image(sink, &img, &imeta, Role::Image);
        true
    }

    fn bf2raw(&self, sink: &mut Sink<'_>, raw: &RawNode, meta: &NodeMeta<'_>) {
        let version = meta.version;
        let scope = Scope::new(&raw.path, raw.attributes_document, version);
        let ome = join(&raw.path, "OME");
        let series = match self.read(sink, &ome, version) {
            Some(Some(node)) => {
                let ometa = self.attrs(sink, &node, Some(version));
                ometa.get("series").and_then(Value::as_array).map(|s| {
                    (
                        node.path.clone(),
                        node.attributes_document,
                        ometa.base.clone(),
                        s.clone(),
                    )
                })
            }
            _ => None,
        };
        if let Some((ome_node, doc, base, list)) = series {
            let oscope = Scope::new(&ome_node, doc, version);
            for (i, s) in list.iter().enumerate() {
                let Some(path) = s.as_str() else { continue };
                let at = ptr(&ptr(&base, "series"), i);
                self.expect_image(
                    sink,
                    &oscope,
                    &raw.path,
                    path,
                    &at,
                    version,
                    codes::NGFF_B2R_002,
                    "series",
                );
            }
            return;
        }
        // Without series: images are consecutively numbered groups from 0.
        let mut index = 0usize;
        while index < self.options.limits.max_list_entries {
            let path = index.to_string();
            let node = join(&raw.path, &path);
            match self.h.node(&node) {
                Ok(Some(_)) | Err(_) => {
                    self.expect_image(
                        sink,
                        &scope,
                        &raw.path,
                        &path,
                        "",
                        version,
                        codes::NGFF_B2R_003,
                        "series",
                    );
                }
                Ok(None) => break,
            }
            index += 1;
        }
        if index == 0 {
            sink.emit(
                &scope,
                codes::NGFF_B2R_003,
                &meta.base,
                "expected an image group \"0\" (or OME/series), found none",
            );
        }
    }
}
