//! `multiscales`: the list, its datasets, axes (0.3+, checked by `axes.rs`) and coordinate
//! transformations (0.4, 0.5; 0.6 through `coordinates.rs`). Spec: 0.4 §"multiscales
//! metadata" and §"axes metadata".

use crate::codes;
use ome_core::metadata::NgffVersion;
use serde_json::Value;

use super::axes::check_axes;
use super::coordinates;
use crate::context::{Scope, Sink, first_duplicate, kind, ptr, show};

pub(crate) fn check(sink: &mut Sink<'_>, scope: &Scope, ms: &Value, at: &str, namespaced: bool) {
    let Value::Array(items) = ms else {
        sink.emit(
            scope,
            codes::NGFF_MS_001,
            at,
            format!("expected multiscales to be a list, found {}", kind(ms)),
        );
        return;
    };
    if items.is_empty() {
        sink.emit(
            scope,
            codes::NGFF_MS_001,
            at,
            "expected at least one multiscale, found an empty list",
        );
        return;
    }
    if let Some((a, b)) = first_duplicate(items) {
        sink.emit(
            scope,
            codes::NGFF_MS_001,
            &ptr(at, b),
            format!("expected distinct multiscales, found item {b} equal to item {a}"),
        );
    }
    for (i, m) in items.iter().enumerate() {
        let at = ptr(at, i);
        let Value::Object(obj) = m else {
            sink.emit(
                scope,
                codes::NGFF_MS_001,
                &at,
                format!("expected a multiscale object, found {}", kind(m)),
            );
            continue;
        };
        if !namespaced && !obj.contains_key("version") {
            sink.emit(
                scope,
                codes::NGFF_VER_003,
                &at,
                "expected the key version in the multiscale, found none",
            );
        }
        match obj.get("name") {
            None => sink.emit(
                scope,
                codes::NGFF_MS_005,
                &at,
                "expected the key name in the multiscale, found none",
            ),
            Some(Value::String(_)) => {}
            Some(v) => sink.emit(
                scope,
                codes::NGFF_MS_007,
                &ptr(&at, "name"),
                format!("expected name to be a string, found {}", kind(v)),
            ),
        }
        match obj.get("type") {
            None => sink.emit(
                scope,
                codes::NGFF_MS_006,
                &at,
                "expected the key type (the downscaling method) in the multiscale, found none",
            ),
            Some(Value::String(_)) => {}
            Some(v) => sink.emit(
                scope,
                codes::NGFF_MS_007,
                &ptr(&at, "type"),
                format!("expected type to be a string, found {}", kind(v)),
            ),
        }
        match obj.get("metadata") {
            None => sink.emit(
                scope,
                codes::NGFF_MS_006,
                &at,
                "expected the key metadata (about the downscaling) in the multiscale, found none",
            ),
            Some(Value::Object(_)) => {}
            Some(v) => sink.emit(
                scope,
                codes::NGFF_MS_007,
                &ptr(&at, "metadata"),
                format!("expected metadata to be an object, found {}", kind(v)),
            ),
        }
        if scope.version >= NgffVersion::V0_6 {
            check_multiscale_06(sink, scope, obj, &at);
            continue;
        }
        let naxes = if scope.version >= NgffVersion::V0_3 {
            match obj.get("axes") {
                None => {
                    sink.emit(
                        scope,
                        codes::NGFF_MS_004,
                        &at,
                        "expected the key axes in the multiscale, found none",
                    );
                    None
                }
                Some(axes) => check_axes(sink, scope, axes, &ptr(&at, "axes"), true),
            }
        } else {
            None
        };
        match obj.get("datasets") {
            None => sink.emit(
                scope,
                codes::NGFF_MS_002,
                &at,
                "expected the key datasets in the multiscale, found none",
            ),
            Some(Value::Array(ds)) if ds.is_empty() => {
                sink.emit(
                    scope,
                    codes::NGFF_MS_002,
                    &ptr(&at, "datasets"),
                    "expected at least one dataset, found an empty list",
                );
            }
            Some(Value::Array(ds)) => {
                for (j, d) in ds.iter().enumerate() {
                    check_dataset(sink, scope, d, &ptr(&ptr(&at, "datasets"), j), naxes);
                }
            }
            Some(v) => sink.emit(
                scope,
                codes::NGFF_MS_002,
                &ptr(&at, "datasets"),
                format!("expected datasets to be a list, found {}", kind(v)),
            ),
        }
        if let Some(ct) = obj.get("coordinateTransformations")
            && matches!(scope.version, NgffVersion::V0_4 | NgffVersion::V0_5)
        {
            check_transforms(
                sink,
                scope,
                ct,
                &ptr(&at, "coordinateTransformations"),
                naxes,
            );
        }
    }
}

/// 0.6: coordinate systems, dataset transformations to the intrinsic system, additional
/// transformations, and the graph they form.
fn check_multiscale_06(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &serde_json::Map<String, Value>,
    at: &str,
) {
    let at_cs = ptr(at, "coordinateSystems");
    let systems = match obj.get("coordinateSystems") {
        Some(cs) => coordinates::check_systems(sink, scope, cs, &at_cs, true),
        None => {
            sink.emit(
                scope,
                codes::NGFF_CS_001,
                at,
                "expected the key coordinateSystems in the multiscale, found none",
            );
            Vec::new()
        }
    };
    let mut intrinsic: Option<(String, String)> = None;
    let mut edges = Vec::new();
    match obj.get("datasets") {
        None => sink.emit(
            scope,
            codes::NGFF_MS_002,
            at,
            "expected the key datasets in the multiscale, found none",
        ),
        Some(Value::Array(ds)) if ds.is_empty() => sink.emit(
            scope,
            codes::NGFF_MS_002,
            &ptr(at, "datasets"),
            "expected at least one dataset, found an empty list",
        ),
        Some(Value::Array(ds)) => {
            for (j, d) in ds.iter().enumerate() {
                let at_d = ptr(&ptr(at, "datasets"), j);
                check_dataset(sink, scope, d, &at_d, None);
                let Value::Object(dobj) = d else { continue };
                let Some(ct) = dobj.get("coordinateTransformations") else {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_001,
                        &at_d,
                        "expected the key coordinateTransformations in the dataset, found none",
                    );
                    continue;
                };
                let path = dobj.get("path").and_then(Value::as_str);
                let at_ct = ptr(&at_d, "coordinateTransformations");
                let Some(out) =
                    coordinates::check_dataset_transforms(sink, scope, ct, &at_ct, path, &systems)
                else {
                    continue;
                };
                match &intrinsic {
                    None => intrinsic = Some((out, at_ct)),
                    Some((first, first_at)) if *first != out => sink.emit(
                        scope,
                        codes::NGFF_CT_012,
                        &ptr(&ptr(&ptr(&at_ct, 0), "output"), "name"),
                        format!("expected the same output.name for every dataset (the intrinsic system {first:?} at {first_at}), found {out:?}"),
                    ),
                    Some(_) => {}
                }
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_MS_002,
            &ptr(at, "datasets"),
            format!("expected datasets to be a list, found {}", kind(v)),
        ),
    }
    if let Some(ct) = obj.get("coordinateTransformations") {
        let at_ct = ptr(at, "coordinateTransformations");
        coordinates::check_multiscale_transforms(
            sink,
            scope,
            ct,
            &at_ct,
            intrinsic.as_ref().map(|(n, _)| n.as_str()),
            &systems,
        );
        for t in ct.as_array().map(Vec::as_slice).unwrap_or_default() {
            let name = |key: &str| {
                let io = t.get(key)?;
                if io.get("path").is_some_and(|p| !p.is_null()) {
                    return None;
                }
                io.get("name")?.as_str().map(str::to_string)
            };
            if let (Some(a), Some(b)) = (name("input"), name("output")) {
                edges.push((a, b));
            }
        }
    }
    if let Some((name, _)) = &intrinsic
        && systems.iter().any(|s| &s.name == name)
    {
        coordinates::check_connected(sink, scope, &at_cs, &systems, name, &edges);
    }
}

fn check_dataset(sink: &mut Sink<'_>, scope: &Scope, d: &Value, at: &str, naxes: Option<usize>) {
    let Value::Object(obj) = d else {
        sink.emit(
            scope,
            codes::NGFF_MS_002,
            at,
            format!("expected a dataset object, found {}", kind(d)),
        );
        return;
    };
    match obj.get("path") {
        None => sink.emit(
            scope,
            codes::NGFF_MS_003,
            at,
            "expected the key path in the dataset, found none",
        ),
        Some(Value::String(_)) => {}
        Some(v) => sink.emit(
            scope,
            codes::NGFF_MS_003,
            &ptr(at, "path"),
            format!("expected path to be a string, found {}", kind(v)),
        ),
    }
    if matches!(scope.version, NgffVersion::V0_4 | NgffVersion::V0_5) {
        match obj.get("coordinateTransformations") {
            None => sink.emit(
                scope,
                codes::NGFF_CT_001,
                at,
                "expected the key coordinateTransformations in the dataset, found none",
            ),
            Some(ct) => check_transforms(
                sink,
                scope,
                ct,
                &ptr(at, "coordinateTransformations"),
                naxes,
            ),
        }
    }
}

/// 0.4/0.5 transformation lists: scale and translation only, exactly one scale, at most
/// one translation after it, each as long as the axes.
fn check_transforms(
    sink: &mut Sink<'_>,
    scope: &Scope,
    ct: &Value,
    at: &str,
    naxes: Option<usize>,
) {
    let Value::Array(list) = ct else {
        sink.emit(
            scope,
            codes::NGFF_CT_001,
            at,
            format!("expected a list of transformations, found {}", kind(ct)),
        );
        return;
    };
    if list.is_empty() {
        sink.emit(
            scope,
            codes::NGFF_CT_001,
            at,
            "expected at least one transformation, found an empty list",
        );
        return;
    }
    let mut scales = Vec::new();
    let mut translations = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let at = ptr(at, i);
        let ty = t.get("type");
        match ty.and_then(Value::as_str) {
            Some(name @ ("scale" | "translation")) => {
                if name == "scale" {
                    scales.push(i)
                } else {
                    translations.push(i)
                }
                match t.get(name) {
                    Some(Value::Array(values)) => {
                        if let Some((k, bad)) =
                            values.iter().enumerate().find(|(_, v)| !v.is_number())
                        {
                            sink.emit(
                                scope,
                                codes::NGFF_CT_005,
                                &ptr(&ptr(&at, name), k),
                                format!(
                                    "expected {name} values to be numbers, found {}",
                                    show(bad)
                                ),
                            );
                        } else if values.len() < 2 {
                            sink.emit(
                                scope,
                                codes::NGFF_CT_005,
                                &ptr(&at, name),
                                format!(
                                    "expected at least 2 {name} values, found {}",
                                    values.len()
                                ),
                            );
                        } else if let Some(n) = naxes
                            && values.len() != n
                        {
                            sink.emit(
                                scope,
                                codes::NGFF_CT_005,
                                &ptr(&at, name),
                                format!(
                                    "expected {n} {name} values (one per axis), found {}",
                                    values.len()
                                ),
                            );
                        }
                    }
                    // 0.4 allows the values in a binary file named by `path`.
                    None if t.get("path").is_some_and(Value::is_string) => {}
                    None => sink.emit(
                        scope,
                        codes::NGFF_CT_005,
                        &at,
                        format!("expected the key {name} with a list of numbers, found none"),
                    ),
                    Some(v) => sink.emit(
                        scope,
                        codes::NGFF_CT_005,
                        &ptr(&at, name),
                        format!("expected {name} to be a list of numbers, found {}", kind(v)),
                    ),
                }
            }
            Some(other) => sink.emit(
                scope,
                codes::NGFF_CT_002,
                &ptr(&at, "type"),
                format!("expected type \"scale\" or \"translation\", found {other:?}"),
            ),
            None => match ty {
                Some(v) => sink.emit(
                    scope,
                    codes::NGFF_CT_002,
                    &ptr(&at, "type"),
                    format!("expected type to be a string, found {}", kind(v)),
                ),
                None if t.is_object() => sink.emit(
                    scope,
                    codes::NGFF_CT_002,
                    &at,
                    "expected the key type in the transformation, found none",
                ),
                None => sink.emit(
                    scope,
                    codes::NGFF_CT_002,
                    &at,
                    format!("expected a transformation object, found {}", kind(t)),
                ),
            },
        }
    }
    if scales.len() != 1 {
        sink.emit(
            scope,
            codes::NGFF_CT_003,
            at,
            format!(
                "expected exactly one scale transformation, found {}",
                scales.len()
            ),
        );
    }
    if translations.len() > 1 {
        sink.emit(
            scope,
            codes::NGFF_CT_004,
            at,
            format!(
                "expected at most one translation, found {}",
                translations.len()
            ),
        );
    }
    if let (Some(&s), Some(&t)) = (scales.first(), translations.first())
        && t < s
    {
        sink.emit(scope, codes::NGFF_CT_004, &ptr(at, t), format!("expected the translation after the scale, found it at index {t} before the scale at index {s}"));
    }
}

/// The scale vector of a dataset (first scale transformation, also inside a 0.6
/// `sequence`), for the hierarchy rules.
pub(crate) fn dataset_scale(d: &Value) -> Option<Vec<f64>> {
    let list = d.get("coordinateTransformations")?.as_array()?;
    let is_scale = |t: &&Value| t.get("type").and_then(Value::as_str) == Some("scale");
    let scale = list.iter().find(is_scale).or_else(|| {
        list.iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("sequence"))
            .filter_map(|t| t.get("transformations")?.as_array())
            .flatten()
            .find(is_scale)
    })?;
    scale
        .get("scale")?
        .as_array()?
        .iter()
        .map(Value::as_f64)
        .collect()
}
