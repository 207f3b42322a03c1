//! Hierarchy depth for 0.6 (RFC-5): references with a `path` resolved to the groups they
//! name (scene → multiscale images, multiscale → child labels), the dimensionality of the
//! transformations between them, parameters stored in Zarr arrays (their array metadata;
//! at data depth also the values of a stored rotation, one bounded read of at most 5 x 5)
//! and graph connectedness across a scene and its images.
//! Spec: 0.6rc0 §"coordinateTransformations" metadata (constraints, "Graph connectedness",
//! "Transformation types", "coordinates and displacements"), §"scene" metadata.

use crate::codes;
use std::collections::{BTreeMap, HashSet};

use ome_core::zarr::{RawNode, ZarrFormat};
use ome_core::{Element, with_dyn_array};
use serde_json::{Map, Value};

use super::{Role, Walker, join};
use crate::context::{Scope, Sink, ptr, show};
use crate::rule::Depth;
use crate::rules::ngff::NodeMeta;
use crate::rules::ngff::arrays;
use crate::rules::ngff::arrays::Level;
use crate::rules::ngff::axes::intrinsic_index;
use crate::rules::ngff::coordinates::{check_transform, is_rotation};
use crate::rules::ngff::transforms::{self, Dims, EntryAxes, Node};

/// A coordinate system of some group, as far as references need it.
struct Space {
    name: String,
    ndim: usize,
    /// Pointer of the system in its group's document.
    at: String,
}

/// The object holding a node's OME keys and its pointer (`/attributes/ome`, `/attributes`,
/// or `""` for a v2 `.zattrs`).
fn ome_of(raw: &RawNode) -> (&Map<String, Value>, String) {
    let base = if raw.format == ZarrFormat::V3 {
        "/attributes"
    } else {
        ""
    };
    match raw.attributes.get("ome") {
        Some(Value::Object(o)) => (o, ptr(base, "ome")),
        _ => (&raw.attributes, base.to_string()),
    }
}

fn spaces(list: Option<&Value>, at: &str) -> Vec<Space> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, cs)| {
            Some(Space {
                name: cs.get("name")?.as_str()?.to_string(),
                ndim: cs.get("axes")?.as_array()?.len(),
                at: ptr(at, i),
            })
        })
        .collect()
}

/// The coordinate systems of every multiscale of a node; `None` when it is no multiscale
/// image group.
fn image_spaces(raw: &RawNode) -> Option<Vec<Space>> {
    if raw.is_array {
        return None;
    }
    let (ome, base) = ome_of(raw);
    let ms = ome.get("multiscales")?.as_array()?;
    let at_ms = ptr(&base, "multiscales");
    Some(
        ms.iter()
            .enumerate()
            .flat_map(|(i, m)| {
                spaces(
                    m.get("coordinateSystems"),
                    &ptr(&ptr(&at_ms, i), "coordinateSystems"),
                )
            })
            .collect(),
    )
}

/// A parameter `path` found in metadata: the group it is relative to, the path, and the
/// pointer of the `path` key.
struct ParamRef<'a> {
    group: &'a str,
    path: &'a str,
    at_path: String,
}

impl<'a> ParamRef<'a> {
    fn new(group: &'a str, path: &'a str, transform: &str) -> Self {
        ParamRef {
            group,
            path,
            at_path: ptr(transform, "path"),
        }
    }
}

/// `node/document#pointer`, for messages that name a place in another document.
fn place(scope: &Scope, at: &str) -> String {
    if scope.node.is_empty() {
        format!("{}#{at}", scope.document)
    } else {
        format!("{}/{}#{at}", scope.node, scope.document)
    }
}

fn names(spaces: &[Space]) -> String {
    spaces
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reruns the dimensionality checks (CT-009, CT-010) of a transformation now that the
/// dimensions of the systems it references by path are known; the attribute rules have
/// reported everything else, so only new dimension findings are kept.
fn recheck_dims(sink: &mut Sink<'_>, scope: &Scope, t: &Value, at: &str, dims: Dims) {
    let mut scratch = sink.fork();
    check_transform(&mut scratch, scope, t, at, dims);
    for f in scratch.findings {
        if f.code != codes::NGFF_CT_009.as_str() && f.code != codes::NGFF_CT_010.as_str() {
            continue;
        }
        let seen = sink
            .findings
            .iter()
            .any(|g| g.code == f.code && g.location == f.location && g.message == f.message);
        if !seen {
            sink.findings.push(f);
        }
    }
}

impl Walker<'_> {
    /// `scene`: resolves every reference with a path to a multiscale image subgroup (walked
    /// once), checks that it names a system there, rechecks dimensions, reads parameter
    /// arrays, and checks that the scene's systems and images form one connected graph.
    pub(super) fn scene(&self, sink: &mut Sink<'_>, raw: &RawNode, meta: &NodeMeta<'_>) {
        let version = meta.version;
        let scope = Scope::new(&raw.path, raw.attributes_document, version);
        let Some(scene) = meta.get("scene") else {
            return;
        };
        let at_sc = ptr(&meta.base, "scene");
        let own = spaces(
            scene.get("coordinateSystems"),
            &ptr(&at_sc, "coordinateSystems"),
        );
        let Some(list) = scene
            .get("coordinateTransformations")
            .and_then(Value::as_array)
        else {
            return;
        };
        let at_ct = ptr(&at_sc, "coordinateTransformations");
        // Graph nodes: "cs:<name>" for the scene's own systems, "img:<node>" for images
        // (each image's own systems are linked inside it: NGFF-CS-003 per multiscale).
        let mut images: BTreeMap<String, Option<Vec<Space>>> = BTreeMap::new();
        let mut first_ref: Vec<(String, String)> = Vec::new();
        let mut edges: Vec<(String, String)> = Vec::new();
        for (i, t) in list.iter().enumerate() {
            let at_i = ptr(&at_ct, i);
            let mut dims = [None, None];
            let mut keys: [Option<String>; 2] = [None, None];
            let mut by_path = false;
            for (slot, key) in ["input", "output"].into_iter().enumerate() {
                let Some(io) = t.get(key).and_then(Value::as_object) else {
                    continue; // CT-007
                };
                let Some(name) = io.get("name").and_then(Value::as_str) else {
                    continue; // SC-002
                };
                let at_io = ptr(&at_i, key);
                match io.get("path").and_then(Value::as_str) {
                    None => {
                        dims[slot] = own.iter().find(|s| s.name == name).map(|s| s.ndim);
                        keys[slot] = Some(format!("cs:{name}"));
                    }
                    Some("") => {} // SC-002
                    Some(p) => {
                        let at_p = ptr(&at_io, "path");
                        let Some(node) = self.child(sink, &scope, &raw.path, p, &at_p) else {
                            continue;
                        };
                        let k = format!("img:{node}");
                        if !first_ref.iter().any(|(x, _)| *x == k) {
                            first_ref.push((k.clone(), at_p.clone()));
                        }
                        keys[slot] = Some(k);
                        if !images.contains_key(&node) {
                            let found = self.scene_image(sink, &scope, &node, p, &at_p);
                            images.insert(node.clone(), found);
                        }
                        let Some(Some(found)) = images.get(&node) else {
                            continue;
                        };
                        match found.iter().find(|s| s.name == name) {
                            Some(s) => {
                                dims[slot] = Some(s.ndim);
                                by_path = true;
                            }
                            None => sink.emit(
                                &scope,
                                codes::NGFF_SC_004,
                                &ptr(&at_io, "name"),
                                format!(
                                    "expected {key}.name to name a coordinate system of the image {p:?} ([{}]), found {name:?}",
                                    names(found)
                                ),
                            ),
                        }
                    }
                }
            }
            let dims = (dims[0], dims[1]);
            if by_path {
                recheck_dims(sink, &scope, t, &at_i, dims);
            }
            self.params(sink, &scope, &raw.path, t, &at_i, dims);
            if let [Some(a), Some(b)] = keys {
                edges.push((a, b));
            }
        }
        // Images under the scene that no transformation references are part of the scene
        // (§"Scene": "the group above the images defines a scene"), so they are walked
        // and must be linked too.
        let mut unreferenced = Vec::new();
        if let Ok(children) = self.h.list_children(&raw.path) {
            for child in children
                .into_iter()
                .take(self.options.limits.max_list_entries)
            {
                if child == "coordinateTransformations" || child == "labels" {
                    continue;
                }
                let node = join(&raw.path, &child);
                if images.contains_key(&node) {
                    continue;
                }
                let Some(Some(found)) = self.read(sink, &node, version) else {
                    continue;
                };
                if image_spaces(&found).is_none() {
                    continue;
                }
                let imeta = self.attrs(sink, &found, Some(version));
                self.image(sink, &found, &imeta, Role::Image);
                unreferenced.push(node);
            }
        }
        let mut nodes: Vec<(String, String, String)> = own
            .iter()
            .map(|s| {
                (
                    format!("cs:{}", s.name),
                    s.at.clone(),
                    format!("coordinate system {:?}", s.name),
                )
            })
            .collect();
        for (k, at) in &first_ref {
            let node = k.trim_start_matches("img:");
            if matches!(images.get(node), Some(Some(_))) {
                nodes.push((k.clone(), at.clone(), format!("image {node:?}")));
            }
        }
        for node in &unreferenced {
            nodes.push((
                format!("img:{node}"),
                at_ct.clone(),
                format!("image {node:?} (in the scene, referenced by no transformation)"),
            ));
        }
        let Some((root, _, root_what)) = nodes.first().cloned() else {
            return;
        };
        let mut reached: HashSet<&str> = HashSet::from([root.as_str()]);
        loop {
            let before = reached.len();
            for (a, b) in &edges {
                if reached.contains(a.as_str()) || reached.contains(b.as_str()) {
                    reached.insert(a);
                    reached.insert(b);
                }
            }
            if reached.len() == before {
                break;
            }
        }
        for (k, at, what) in &nodes {
            if !reached.contains(k.as_str()) {
                sink.emit(
                    &scope,
                    codes::NGFF_CS_003,
                    at,
                    format!("expected the {what} to be linked to the {root_what} by scene transformations, found no path"),
                );
            }
        }
    }

    /// A scene reference's image: walked once; `None` when it is no multiscale image (an
    /// SC-004 finding) or unreadable (HIER-001).
    fn scene_image(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        node: &str,
        path: &str,
        at: &str,
    ) -> Option<Vec<Space>> {
        let found = self.read(sink, node, scope.version)?;
        let Some(img) = found else {
            sink.emit(
                scope,
                codes::NGFF_SC_004,
                at,
                format!("expected a multiscale image group at {path:?}, found nothing"),
            );
            return None;
        };
        let Some(found) = image_spaces(&img) else {
            sink.emit(
                scope,
                codes::NGFF_SC_004,
                at,
                format!(
                    "expected {path:?} to be a multiscale image group, found {} without multiscales",
                    if img.is_array { "an array" } else { "a group" }
                ),
            );
            return None;
        };
        let imeta = self.attrs(sink, &img, Some(scope.version));
        self.image(sink, &img, &imeta, Role::Image);
        Some(found)
    }

    /// 0.6 `multiscales > coordinateTransformations` of one multiscale at `image`:
    /// references into child labels groups, dimensions, parameter arrays.
    pub(super) fn multiscale_refs(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        image: &str,
        m: &Value,
        at_m: &str,
    ) {
        let own = spaces(m.get("coordinateSystems"), &ptr(at_m, "coordinateSystems"));
        let Some(list) = m.get("coordinateTransformations").and_then(Value::as_array) else {
            return;
        };
        let at_ct = ptr(at_m, "coordinateTransformations");
        for (i, t) in list.iter().enumerate() {
            let at_i = ptr(&at_ct, i);
            let mut dims = [None, None];
            let mut by_path = false;
            for (slot, key) in ["input", "output"].into_iter().enumerate() {
                let Some(io) = t.get(key).and_then(Value::as_object) else {
                    continue;
                };
                let Some(name) = io.get("name").and_then(Value::as_str) else {
                    continue; // CT-014
                };
                let at_io = ptr(&at_i, key);
                let Some(p) = io.get("path").and_then(Value::as_str) else {
                    dims[slot] = own.iter().find(|s| s.name == name).map(|s| s.ndim);
                    continue;
                };
                let at_p = ptr(&at_io, "path");
                let Some(node) = self.child(sink, scope, image, p, &at_p) else {
                    continue;
                };
                let Some(found) = self.read(sink, &node, scope.version) else {
                    continue;
                };
                let Some(label) = found else {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_014,
                        &at_p,
                        format!("expected a label image group at {p:?}, found nothing"),
                    );
                    continue;
                };
                let Some(found) = image_spaces(&label) else {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_014,
                        &at_p,
                        format!("expected {p:?} to be a multiscale label image group, found a node without multiscales"),
                    );
                    continue;
                };
                match found.iter().find(|s| s.name == name) {
                    Some(s) => {
                        dims[slot] = Some(s.ndim);
                        by_path = true;
                    }
                    None => sink.emit(
                        scope,
                        codes::NGFF_CT_014,
                        &ptr(&at_io, "name"),
                        format!(
                            "expected {key}.name to name a coordinate system of the label image {p:?} ([{}]), found {name:?}",
                            names(&found)
                        ),
                    ),
                }
            }
            let dims = (dims[0], dims[1]);
            if by_path {
                recheck_dims(sink, scope, t, &at_i, dims);
            }
            self.params(sink, scope, image, t, &at_i, dims);
        }
    }

    /// Parameters stored in Zarr arrays, through wrapper transformations; `group` is the
    /// node whose metadata holds `t` (paths are relative to it).
    fn params(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        group: &str,
        t: &Value,
        at: &str,
        dims: Dims,
    ) {
        for node in transforms::walk(t, at, dims, EntryAxes::Listed) {
            self.own_params(sink, scope, group, &node);
        }
    }

    /// The parameter arrays of one transformation, not of the ones it wraps.
    fn own_params(&self, sink: &mut Sink<'_>, scope: &Scope, group: &str, node: &Node<'_>) {
        let (t, at, (din, dout)) = (node.t, node.at.as_str(), node.dims);
        let Some(ty) = t.get("type").and_then(Value::as_str) else {
            return;
        };
        let path = t.get("path").and_then(Value::as_str);
        match ty {
            "affine" | "rotation" if t.get(ty).is_none() => {
                if let Some(p) = path {
                    let r = ParamRef::new(group, p, at);
                    self.matrix_array(sink, scope, ty, at, &r, (din, dout));
                }
            }
            "displacements" | "coordinates" => {
                if let (Some(i), Some(o)) = (din, dout)
                    && ty == "displacements"
                    && i != o
                {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_017,
                        at,
                        format!("expected displacements between spaces of equal dimension (M = N), found input {i} and output {o} dimensions"),
                    );
                }
                if let Some(p) = path {
                    let r = ParamRef::new(group, p, at);
                    self.vector_field(sink, scope, ty, at, &r, (din, dout));
                }
            }
            _ => {}
        }
    }

    /// Reads the node at a parameter `path`; reports `code` when nothing is there.
    fn param_node(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        r: &ParamRef<'_>,
        code: codes::Code,
        what: &str,
    ) -> Option<RawNode> {
        let node = self.child(sink, scope, r.group, r.path, &r.at_path)?;
        match self.read(sink, &node, scope.version)? {
            Some(raw) => Some(raw),
            None => {
                sink.emit(
                    scope,
                    code,
                    &r.at_path,
                    format!("expected {what} at {:?}, found nothing", r.path),
                );
                None
            }
        }
    }

    /// `affine` / `rotation` with `path`: a 2D array of shape M x (N+1) / N x N
    /// (§affine-md, §rotation-md: "The array at this path MUST be 2D whose shape MUST be").
    fn matrix_array(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        ty: &str,
        at: &str,
        r: &ParamRef<'_>,
        (din, dout): Dims,
    ) {
        let (path, at_p) = (r.path, r.at_path.as_str());
        let what = format!("a Zarr array holding the {ty} matrix");
        let Some(raw) = self.param_node(sink, scope, r, codes::NGFF_CT_016, &what) else {
            return;
        };
        if !raw.is_array {
            sink.emit(
                scope,
                codes::NGFF_CT_016,
                at_p,
                format!("expected {path:?} to be {what}, found a group"),
            );
            return;
        }
        let Some(level) = arrays::level(sink, scope, raw) else {
            return; // ARR-009
        };
        let s = Scope::new(&level.node, level.document(), scope.version);
        let shape = &level.shape;
        let of = format!("the {ty} at {}", place(scope, at));
        let [rows, cols] = shape.as_slice() else {
            sink.emit(
                &s,
                codes::NGFF_CT_016,
                "/shape",
                format!(
                    "expected a 2D array for {of}, found {} dimensions {shape:?}",
                    shape.len()
                ),
            );
            return;
        };
        let (rows, cols) = (*rows as usize, *cols as usize);
        let (want_rows, want_cols) = if ty == "rotation" {
            let n = din.or(dout);
            if rows != cols {
                sink.emit(
                    &s,
                    codes::NGFF_CT_016,
                    "/shape",
                    format!("expected a square N x N array for {of}, found {rows} x {cols}"),
                );
                return;
            }
            if self.options.depth == Depth::Data && (2..=5).contains(&rows) {
                self.rotation_values(sink, &s, &level, rows, &of);
            }
            (n, n)
        } else {
            (dout, din.map(|n| n + 1))
        };
        if want_rows.is_some_and(|r| r != rows) || want_cols.is_some_and(|c| c != cols) {
            let r = want_rows.map_or("M".to_string(), |r| r.to_string());
            let c = want_cols.map_or("N+1".to_string(), |c| c.to_string());
            let layout = if ty == "rotation" {
                "N x N"
            } else {
                "M x (N+1): output dimensions x input dimensions + 1"
            };
            sink.emit(
                &s,
                codes::NGFF_CT_016,
                "/shape",
                format!("expected a {r} x {c} array ({layout}) for {of}, found {rows} x {cols}"),
            );
        }
    }

    /// Data depth: a rotation stored in an array (at most 5 x 5 values, one bounded
    /// region read) is orthonormal with determinant 1 (NGFF-CT-015, as for inline ones).
    fn rotation_values(&self, sink: &mut Sink<'_>, s: &Scope, level: &Level, n: usize, of: &str) {
        let read = self
            .h
            .array(&level.raw)
            .and_then(|a| a.read_region(&[0, 0], &[n as u64, n as u64]));
        let values: Vec<f64> = match read {
            Ok(arr) => with_dyn_array!(&arr, a, T => a.iter().map(|v| T::to_f64(*v)).collect()),
            Err(e) => {
                sink.emit_in(
                    s,
                    None,
                    codes::NGFF_DATA_001,
                    "",
                    format!(
                        "expected the {n} x {n} matrix of {of} to decode, found: {}",
                        e.message()
                    ),
                );
                return;
            }
        };
        if values.len() != n * n {
            return;
        }
        let rows: Vec<Vec<f64>> = values.chunks(n).map(<[f64]>::to_vec).collect();
        if !is_rotation(&rows) {
            sink.emit_in(
                s,
                None,
                codes::NGFF_CT_015,
                "",
                format!("expected an orthonormal rotation matrix with determinant 1 for {of}, found {rows:?}"),
            );
        }
    }

    /// `coordinates` / `displacements`: the field at `path` is a multiscale group whose
    /// intrinsic system has the N input axes plus one `coordinate` / `displacement` axis
    /// (discrete, after time and before space), and whose arrays hold M (coordinates) or
    /// N (displacements) components along it (§coordinates-displacements-md).
    fn vector_field(
        &self,
        sink: &mut Sink<'_>,
        scope: &Scope,
        ty: &str,
        at: &str,
        r: &ParamRef<'_>,
        (din, dout): Dims,
    ) {
        let (path, at_p) = (r.path, r.at_path.as_str());
        let what = format!("a multiscale group holding the {ty} field");
        let Some(raw) = self.param_node(sink, scope, r, codes::NGFF_CT_017, &what) else {
            return;
        };
        let (ome, base) = ome_of(&raw);
        let m = ome
            .get("multiscales")
            .and_then(Value::as_array)
            .and_then(|ms| ms.first());
        let Some(m) = m.filter(|_| !raw.is_array) else {
            sink.emit(
                scope,
                codes::NGFF_CT_017,
                at_p,
                format!(
                    "expected {path:?} to be {what}, found {} without multiscales",
                    if raw.is_array { "an array" } else { "a group" }
                ),
            );
            return;
        };
        let fscope = Scope::new(&raw.path, raw.attributes_document, scope.version);
        let at_m = ptr(&ptr(&base, "multiscales"), 0);
        let index = intrinsic_index(m).unwrap_or(0);
        let Some(axes) = m
            .get("coordinateSystems")
            .and_then(|c| c.get(index))
            .and_then(|c| c.get("axes"))
            .and_then(Value::as_array)
        else {
            return; // the field's own attribute rules (CS-001) say what is missing
        };
        let at_axes = ptr(&ptr(&ptr(&at_m, "coordinateSystems"), index), "axes");
        let of = format!("the {ty} at {}", place(scope, at));
        let want = if ty == "displacements" {
            "displacement"
        } else {
            "coordinate"
        };
        if let Some(n) = din
            && axes.len() != n + 1
        {
            sink.emit(
                &fscope,
                codes::NGFF_CT_017,
                &at_axes,
                format!(
                    "expected {} axes (the {n} input axes and one {want} axis) for {of}, found {}",
                    n + 1,
                    axes.len()
                ),
            );
        }
        let ty_of = |a: &Value| a.get("type").and_then(Value::as_str).map(str::to_string);
        let vector: Vec<usize> = axes
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(ty_of(a).as_deref(), Some("displacement" | "coordinate")))
            .map(|(i, _)| i)
            .collect();
        let k = match vector.as_slice() {
            [] => {
                sink.emit(
                    &fscope,
                    codes::NGFF_CT_017,
                    &at_axes,
                    format!("expected one axis of type {want:?} for {of}, found none"),
                );
                return;
            }
            [k] => *k,
            [_, second, ..] => {
                sink.emit(
                    &fscope,
                    codes::NGFF_CT_017,
                    &ptr(&at_axes, second),
                    format!("expected one {want} axis for {of}, found {}", vector.len()),
                );
                return;
            }
        };
        let at_k = ptr(&at_axes, k);
        let axis = &axes[k];
        if ty_of(axis).as_deref() != Some(want) {
            sink.emit(
                &fscope,
                codes::NGFF_CT_017,
                &ptr(&at_k, "type"),
                format!(
                    "expected type {want:?} for {of}, found {}",
                    axis.get("type").map_or("none".into(), show)
                ),
            );
        }
        if axis.get("discrete") != Some(&Value::Bool(true)) {
            sink.emit(
                &fscope,
                codes::NGFF_CT_017,
                &at_k,
                format!(
                    "expected \"discrete\": true on the {want} axis, found {}",
                    axis.get("discrete").map_or("none".into(), show)
                ),
            );
        }
        let misplaced = axes[..k]
            .iter()
            .any(|a| ty_of(a).as_deref() == Some("space"))
            || axes[k + 1..]
                .iter()
                .any(|a| ty_of(a).as_deref() == Some("time"));
        if misplaced {
            let types: Vec<String> = axes
                .iter()
                .map(|a| ty_of(a).unwrap_or_else(|| "?".into()))
                .collect();
            sink.emit(
                &fscope,
                codes::NGFF_CT_017,
                &at_k,
                format!(
                    "expected the {want} axis after a time axis (if any) and before the space axes, found axis types [{}]",
                    types.join(", ")
                ),
            );
        }
        // Vector component count, from the first level's array metadata.
        let length = if ty == "displacements" { din } else { dout };
        let Some(length) = length else { return };
        let Some(dpath) = m
            .get("datasets")
            .and_then(|d| d.get(0))
            .and_then(|d| d.get("path"))
            .and_then(Value::as_str)
        else {
            return;
        };
        let level_ref = ParamRef {
            group: &raw.path,
            path: dpath,
            at_path: ptr(&ptr(&ptr(&at_m, "datasets"), 0), "path"),
        };
        let array = "the field's first level array";
        let Some(level_raw) = self.param_node(sink, &fscope, &level_ref, codes::NGFF_CT_017, array)
        else {
            return;
        };
        if !level_raw.is_array {
            return;
        }
        let Some(level) = arrays::level(sink, &fscope, level_raw) else {
            return;
        };
        if level.shape.len() == axes.len() && level.shape[k] as usize != length {
            let s = Scope::new(&level.node, level.document(), scope.version);
            let side = if ty == "displacements" {
                "input"
            } else {
                "output"
            };
            sink.emit(
                &s,
                codes::NGFF_CT_017,
                "/shape",
                format!(
                    "expected length {length} (the number of {side} axes) along the {want} axis {k} for {of}, found {} in shape {:?}",
                    level.shape[k], level.shape
                ),
            );
        }
    }
}
