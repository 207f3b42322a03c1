//! OME-NGFF (OME-Zarr) rules: attribute rules per object, hierarchy rules per node kind,
//! data rules per array.

pub(crate) mod arrays;
mod axes;
mod coordinates;
pub(crate) mod data;
pub(crate) mod hierarchy;
mod labels;
mod multiscales;
mod omero;
mod plate;
mod scene;
mod transforms;

use crate::codes;
use ome_core::metadata::NgffVersion;
use serde_json::{Map, Value};

use crate::context::{Scope, Sink, kind, ptr, show};
use crate::rule::version_str;

/// The OME objects a node's attributes hold.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Kinds {
    pub(crate) multiscales: bool,
    pub(crate) labels: bool,
    pub(crate) image_label: bool,
    pub(crate) plate: bool,
    pub(crate) well: bool,
    pub(crate) bf2raw: bool,
    pub(crate) series: bool,
    /// 0.6 `scene`.
    pub(crate) scene: bool,
}

impl Kinds {
    pub(crate) fn any(&self) -> bool {
        self.multiscales
            || self.labels
            || self.image_label
            || self.plate
            || self.well
            || self.bf2raw
            || self.series
            || self.scene
    }
}

/// What the attribute rules learned about a node, for the hierarchy rules.
#[derive(Debug, Clone)]
pub(crate) struct NodeMeta<'v> {
    /// The version that governs the node.
    pub(crate) version: NgffVersion,
    /// The version the node declares, when it declares a known one.
    pub(crate) declared: Option<NgffVersion>,
    /// Metadata under `ome` (0.5+ layout).
    pub(crate) namespaced: bool,
    /// The object holding the OME keys (`attributes` or `attributes.ome`).
    pub(crate) ome: &'v Map<String, Value>,
    /// JSON Pointer of that object in the document.
    pub(crate) base: String,
    pub(crate) kinds: Kinds,
}

impl NodeMeta<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.ome.get(key)
    }
}

/// Inputs of the attribute rules for one document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrInput<'v, 'p> {
    pub(crate) attrs: &'v Map<String, Value>,
    /// Pointer of `attrs` in its document (`""`, or `/attributes` in a `zarr.json`).
    pub(crate) base: &'p str,
    /// The version the caller requires (`--ngff-version`).
    pub(crate) required: Option<NgffVersion>,
    /// The version of the parent node, when walking a hierarchy.
    pub(crate) parent: Option<NgffVersion>,
}

/// Every `version` key of a legacy (0.1–0.4) document, with its pointer.
fn legacy_versions<'v>(attrs: &'v Map<String, Value>, base: &str) -> Vec<(String, &'v Value)> {
    let mut out = Vec::new();
    if let Some(Value::Array(ms)) = attrs.get("multiscales") {
        for (i, m) in ms.iter().enumerate() {
            if let Some(v) = m.get("version") {
                out.push((ptr(&ptr(&ptr(base, "multiscales"), i), "version"), v));
            }
        }
    }
    for key in ["plate", "well", "image-label"] {
        if let Some(v) = attrs.get(key).and_then(|o| o.get("version")) {
            out.push((ptr(&ptr(base, key), "version"), v));
        }
    }
    out
}

/// Guesses the version of a document that declares none, from its shape.
fn infer_version(ome: &Map<String, Value>, namespaced: bool) -> NgffVersion {
    if namespaced {
        if ome.contains_key("coordinateSystems") || ome.contains_key("scene") {
            return NgffVersion::V0_6;
        }
        return NgffVersion::V0_5;
    }
    if let Some(Value::Array(ms)) = ome.get("multiscales")
        && let Some(m) = ms.first()
    {
        return match m.get("axes") {
            Some(Value::Array(axes)) if axes.iter().all(Value::is_string) => NgffVersion::V0_3,
            Some(_) => NgffVersion::V0_4,
            None => {
                let transforms = m
                    .get("datasets")
                    .and_then(Value::as_array)
                    .is_some_and(|d| {
                        d.iter()
                            .any(|d| d.get("coordinateTransformations").is_some())
                    });
                if transforms {
                    NgffVersion::V0_4
                } else {
                    NgffVersion::V0_2
                }
            }
        };
    }
    NgffVersion::V0_4
}

fn parse_version(v: &Value) -> Option<NgffVersion> {
    v.as_str().and_then(NgffVersion::parse)
}

/// Runs every attribute rule on one document and says what it holds.
pub(crate) fn check_attributes<'v>(
    sink: &mut Sink<'_>,
    node: &str,
    document: &str,
    input: AttrInput<'v, '_>,
) -> NodeMeta<'v> {
    let attrs = input.attrs;
    let (ome, base, namespaced) = match attrs.get("ome") {
        Some(Value::Object(o)) => (o, ptr(input.base, "ome"), true),
        _ => (attrs, input.base.to_string(), false),
    };
    // Resolve the version first: every severity depends on it.
    let mut declared = None;
    let mut declared_strings: Vec<(String, &Value)> = Vec::new();
    if namespaced {
        if let Some(v) = ome.get("version") {
            declared_strings.push((ptr(&base, "version"), v));
        }
    } else {
        declared_strings = legacy_versions(ome, &base);
    }
    for (_, v) in &declared_strings {
        if let Some(parsed) = parse_version(v) {
            declared.get_or_insert(parsed);
        }
    }
    let version = declared
        .or(input.required)
        .or(input.parent)
        .unwrap_or_else(|| infer_version(ome, namespaced));
    let scope = Scope::new(node, document, version);

    if let Some(
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Null,
    ) = attrs.get("ome")
    {
        let found = attrs.get("ome").map(kind).unwrap_or("nothing");
        sink.emit(
            &scope,
            codes::NGFF_HIER_002,
            &ptr(input.base, "ome"),
            format!("expected ome to be an object, found {found}"),
        );
    }
    for (p, v) in &declared_strings {
        match v {
            Value::String(s) if NgffVersion::parse(s).is_some() => {
                if let Some(d) = declared
                    && NgffVersion::parse(s) != Some(d)
                {
                    sink.emit(
                        &scope,
                        codes::NGFF_VER_005,
                        p,
                        format!(
                            "expected version {}, as declared first in the document, found {s:?}",
                            version_str(d)
                        ),
                    );
                }
            }
            Value::String(s) => sink.emit(
                &scope,
                codes::NGFF_VER_001,
                p,
                format!("expected a known OME-NGFF version (0.1 to 0.6rc0), found {s:?}"),
            ),
            other => sink.emit(
                &scope,
                codes::NGFF_VER_001,
                p,
                format!("expected the version as a string, found {}", kind(other)),
            ),
        }
    }
    if let (Some(req), Some(d)) = (input.required, declared)
        && req != d
    {
        let at = declared_strings
            .first()
            .map(|(p, _)| p.clone())
            .unwrap_or_default();
        sink.emit(
            &scope,
            codes::NGFF_VER_006,
            &at,
            format!(
                "expected version {}, found {}",
                version_str(req),
                version_str(d)
            ),
        );
    }
    if namespaced && !ome.contains_key("version") {
        sink.emit(
            &scope,
            codes::NGFF_VER_002,
            &base,
            "expected the key version in the ome object, found none",
        );
    }
    if !namespaced && version >= NgffVersion::V0_5 && declared.is_some() {
        sink.emit(
            &scope,
            codes::NGFF_HIER_003,
            input.base,
            format!(
                "expected version {} metadata under the ome key, found it at the top level",
                version_str(version)
            ),
        );
    }
    if namespaced && version <= NgffVersion::V0_4 {
        sink.emit(&scope, codes::NGFF_HIER_003, &base, format!("expected version {} metadata at the top level of the attributes, found an ome object", version_str(version)));
    }

    let kinds = Kinds {
        multiscales: ome.contains_key("multiscales"),
        labels: ome.contains_key("labels"),
        image_label: ome.contains_key("image-label"),
        plate: ome.contains_key("plate"),
        well: ome.contains_key("well"),
        bf2raw: ome.contains_key("bioformats2raw.layout"),
        series: ome.contains_key("series"),
        scene: version >= NgffVersion::V0_6 && ome.contains_key("scene"),
    };
    if let Some(ms) = ome.get("multiscales") {
        multiscales::check(sink, &scope, ms, &ptr(&base, "multiscales"), namespaced);
    }
    if let Some(sc) = ome.get("scene")
        && version >= NgffVersion::V0_6
    {
        scene::check(sink, &scope, sc, &ptr(&base, "scene"));
    }
    if let Some(om) = ome.get("omero") {
        omero::check(sink, &scope, om, &ptr(&base, "omero"));
    }
    if let Some(l) = ome.get("labels") {
        labels::check_labels_list(sink, &scope, l, &ptr(&base, "labels"));
    }
    if let Some(il) = ome.get("image-label") {
        labels::check_image_label(sink, &scope, il, &ptr(&base, "image-label"), namespaced);
    }
    if let Some(p) = ome.get("plate") {
        plate::check_plate(sink, &scope, p, &ptr(&base, "plate"), namespaced);
    }
    if let Some(w) = ome.get("well") {
        plate::check_well(sink, &scope, w, &ptr(&base, "well"), namespaced);
    }
    if let Some(layout) = ome.get("bioformats2raw.layout")
        && layout.as_f64() != Some(3.0)
    {
        sink.emit(
            &scope,
            codes::NGFF_B2R_001,
            &ptr(&base, "bioformats2raw.layout"),
            format!("expected bioformats2raw.layout 3, found {}", show(layout)),
        );
    }
    if let Some(series) = ome.get("series") {
        let ok = series
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            sink.emit(
                &scope,
                codes::NGFF_B2R_002,
                &ptr(&base, "series"),
                format!(
                    "expected series to be a list of strings, found {}",
                    show(series)
                ),
            );
        }
    }
    NodeMeta {
        version,
        declared,
        namespaced,
        ome: if kinds.any() || namespaced {
            ome
        } else {
            attrs
        },
        base,
        kinds,
    }
}
