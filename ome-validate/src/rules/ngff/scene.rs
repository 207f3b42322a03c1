//! 0.6 `scene`: coordinate systems and transformations between images.
//! Spec: 0.6rc0 §"scene" metadata, §"coordinateTransformations" constraints.

use crate::codes;
use serde_json::Value;

use super::coordinates::{check_systems, check_transform, dims_of};
use crate::context::{Scope, Sink, kind, ptr, show};

pub(crate) fn check(sink: &mut Sink<'_>, scope: &Scope, scene: &Value, at: &str) {
    let Value::Object(obj) = scene else {
        sink.emit(
            scope,
            codes::NGFF_SC_001,
            at,
            format!("expected scene to be an object, found {}", kind(scene)),
        );
        return;
    };
    let systems = match obj.get("coordinateSystems") {
        Some(cs) => check_systems(sink, scope, cs, &ptr(at, "coordinateSystems"), false),
        None => Vec::new(),
    };
    let at_ct = ptr(at, "coordinateTransformations");
    let list = match obj.get("coordinateTransformations") {
        None => {
            sink.emit(
                scope,
                codes::NGFF_SC_001,
                at,
                "expected the key coordinateTransformations in the scene, found none",
            );
            return;
        }
        Some(Value::Array(list)) if list.is_empty() => {
            sink.emit(
                scope,
                codes::NGFF_SC_001,
                &at_ct,
                "expected at least one transformation, found an empty list",
            );
            return;
        }
        Some(Value::Array(list)) => list,
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_SC_001,
                &at_ct,
                format!(
                    "expected coordinateTransformations to be a list, found {}",
                    kind(v)
                ),
            );
            return;
        }
    };
    for (i, t) in list.iter().enumerate() {
        let at_i = ptr(&at_ct, i);
        let dims = (
            dims_of(t.get("input"), &systems),
            dims_of(t.get("output"), &systems),
        );
        check_transform(sink, scope, t, &at_i, dims);
        for key in ["input", "output"] {
            let Some(Value::Object(io)) = t.get(key) else {
                continue; // CT-007 reported the shape
            };
            let at_io = ptr(&at_i, key);
            for extra in io.keys().filter(|k| *k != "name" && *k != "path") {
                sink.emit(
                    scope,
                    codes::NGFF_SC_002,
                    &ptr(&at_io, extra),
                    format!("expected only name and path in a scene {key}, found {extra:?}"),
                );
            }
            let Some(name) = io.get("name") else {
                sink.emit(
                    scope,
                    codes::NGFF_SC_002,
                    &at_io,
                    format!("expected {key}.name (a coordinate system name), found none"),
                );
                continue;
            };
            let Some(name) = name.as_str() else { continue }; // CT-007
            match io.get("path") {
                None | Some(Value::Null) => {
                    if !systems.iter().any(|s| s.name == name) {
                        let known: Vec<&str> = systems.iter().map(|s| s.name.as_str()).collect();
                        sink.emit(
                            scope,
                            codes::NGFF_SC_003,
                            &ptr(&at_io, "name"),
                            format!(
                                "expected {key}.name without a path to name a coordinate system of the scene ([{}]), found {name:?}",
                                known.join(", ")
                            ),
                        );
                    }
                }
                Some(Value::String(p)) if p.is_empty() => sink.emit(
                    scope,
                    codes::NGFF_SC_002,
                    &ptr(&at_io, "path"),
                    format!(
                        "expected {key}.path to name a multiscale image subgroup, found {}",
                        show(&Value::String(p.clone()))
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}
