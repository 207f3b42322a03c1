//! `multiscales`: the list, its datasets, axes (0.3+) and coordinate transformations
//! (0.4, 0.5). Spec: 0.4 §"multiscales metadata" and §"axes metadata".

use std::collections::HashMap;

use ome_core::metadata::{NgffVersion, is_known_space_unit, is_known_time_unit};
use serde_json::Value;

use super::coordinates;
use crate::context::{Scope, Sink, first_duplicate, kind, ptr, show};

/// The parts of an axis the order rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AxisType {
    Space,
    Time,
    Channel,
    Custom,
    /// 0.6: an array (index) axis.
    Array,
}

pub(crate) fn check(sink: &mut Sink<'_>, scope: &Scope, ms: &Value, at: &str, namespaced: bool) {
    let Value::Array(items) = ms else {
        sink.emit(
            scope,
            "NGFF-MS-001",
            at,
            format!("expected multiscales to be a list, found {}", kind(ms)),
        );
        return;
    };
    if items.is_empty() {
        sink.emit(
            scope,
            "NGFF-MS-001",
            at,
            "expected at least one multiscale, found an empty list",
        );
        return;
    }
    if let Some((a, b)) = first_duplicate(items) {
        sink.emit(
            scope,
            "NGFF-MS-001",
            &ptr(at, b),
            format!("expected distinct multiscales, found item {b} equal to item {a}"),
        );
    }
    for (i, m) in items.iter().enumerate() {
        let at = ptr(at, i);
        let Value::Object(obj) = m else {
            sink.emit(
                scope,
                "NGFF-MS-001",
                &at,
                format!("expected a multiscale object, found {}", kind(m)),
            );
            continue;
        };
        if !namespaced && !obj.contains_key("version") {
            sink.emit(
                scope,
                "NGFF-VER-003",
                &at,
                "expected the key version in the multiscale, found none",
            );
        }
        match obj.get("name") {
            None => sink.emit(
                scope,
                "NGFF-MS-005",
                &at,
                "expected the key name in the multiscale, found none",
            ),
            Some(Value::String(_)) => {}
            Some(v) => sink.emit(
                scope,
                "NGFF-MS-007",
                &ptr(&at, "name"),
                format!("expected name to be a string, found {}", kind(v)),
            ),
        }
        match obj.get("type") {
            None => sink.emit(
                scope,
                "NGFF-MS-006",
                &at,
                "expected the key type (the downscaling method) in the multiscale, found none",
            ),
            Some(Value::String(_)) => {}
            Some(v) => sink.emit(
                scope,
                "NGFF-MS-007",
                &ptr(&at, "type"),
                format!("expected type to be a string, found {}", kind(v)),
            ),
        }
        match obj.get("metadata") {
            None => sink.emit(
                scope,
                "NGFF-MS-006",
                &at,
                "expected the key metadata (about the downscaling) in the multiscale, found none",
            ),
            Some(Value::Object(_)) => {}
            Some(v) => sink.emit(
                scope,
                "NGFF-MS-007",
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
                        "NGFF-MS-004",
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
                "NGFF-MS-002",
                &at,
                "expected the key datasets in the multiscale, found none",
            ),
            Some(Value::Array(ds)) if ds.is_empty() => {
                sink.emit(
                    scope,
                    "NGFF-MS-002",
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
                "NGFF-MS-002",
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
                "NGFF-CS-001",
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
            "NGFF-MS-002",
            at,
            "expected the key datasets in the multiscale, found none",
        ),
        Some(Value::Array(ds)) if ds.is_empty() => sink.emit(
            scope,
            "NGFF-MS-002",
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
                        "NGFF-CT-001",
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
                        "NGFF-CT-012",
                        &ptr(&ptr(&ptr(&at_ct, 0), "output"), "name"),
                        format!("expected the same output.name for every dataset (the intrinsic system {first:?} at {first_at}), found {out:?}"),
                    ),
                    Some(_) => {}
                }
            }
        }
        Some(v) => sink.emit(
            scope,
            "NGFF-MS-002",
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
            "NGFF-MS-002",
            at,
            format!("expected a dataset object, found {}", kind(d)),
        );
        return;
    };
    match obj.get("path") {
        None => sink.emit(
            scope,
            "NGFF-MS-003",
            at,
            "expected the key path in the dataset, found none",
        ),
        Some(Value::String(_)) => {}
        Some(v) => sink.emit(
            scope,
            "NGFF-MS-003",
            &ptr(at, "path"),
            format!("expected path to be a string, found {}", kind(v)),
        ),
    }
    if matches!(scope.version, NgffVersion::V0_4 | NgffVersion::V0_5) {
        match obj.get("coordinateTransformations") {
            None => sink.emit(
                scope,
                "NGFF-CT-001",
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
            "NGFF-CT-001",
            at,
            format!("expected a list of transformations, found {}", kind(ct)),
        );
        return;
    };
    if list.is_empty() {
        sink.emit(
            scope,
            "NGFF-CT-001",
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
                                "NGFF-CT-005",
                                &ptr(&ptr(&at, name), k),
                                format!(
                                    "expected {name} values to be numbers, found {}",
                                    show(bad)
                                ),
                            );
                        } else if values.len() < 2 {
                            sink.emit(
                                scope,
                                "NGFF-CT-005",
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
                                "NGFF-CT-005",
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
                        "NGFF-CT-005",
                        &at,
                        format!("expected the key {name} with a list of numbers, found none"),
                    ),
                    Some(v) => sink.emit(
                        scope,
                        "NGFF-CT-005",
                        &ptr(&at, name),
                        format!("expected {name} to be a list of numbers, found {}", kind(v)),
                    ),
                }
            }
            Some(other) => sink.emit(
                scope,
                "NGFF-CT-002",
                &ptr(&at, "type"),
                format!("expected type \"scale\" or \"translation\", found {other:?}"),
            ),
            None => match ty {
                Some(v) => sink.emit(
                    scope,
                    "NGFF-CT-002",
                    &ptr(&at, "type"),
                    format!("expected type to be a string, found {}", kind(v)),
                ),
                None if t.is_object() => sink.emit(
                    scope,
                    "NGFF-CT-002",
                    &at,
                    "expected the key type in the transformation, found none",
                ),
                None => sink.emit(
                    scope,
                    "NGFF-CT-002",
                    &at,
                    format!("expected a transformation object, found {}", kind(t)),
                ),
            },
        }
    }
    if scales.len() != 1 {
        sink.emit(
            scope,
            "NGFF-CT-003",
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
            "NGFF-CT-004",
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
        sink.emit(scope, "NGFF-CT-004", &ptr(at, t), format!("expected the translation after the scale, found it at index {t} before the scale at index {s}"));
    }
}

/// Checks `axes`; returns the number of axes when the list is a list.
pub(crate) fn check_axes(
    sink: &mut Sink<'_>,
    scope: &Scope,
    axes: &Value,
    at: &str,
    multiscale: bool,
) -> Option<usize> {
    let Value::Array(list) = axes else {
        sink.emit(
            scope,
            "NGFF-AX-001",
            at,
            format!("expected axes to be a list, found {}", kind(axes)),
        );
        return None;
    };
    if multiscale && !(2..=5).contains(&list.len()) {
        sink.emit(
            scope,
            "NGFF-AX-002",
            at,
            format!("expected between 2 and 5 axes, found {}", list.len()),
        );
    }
    if scope.version == NgffVersion::V0_3 {
        check_axes_03(sink, scope, list, at);
        return Some(list.len());
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut types = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let at_i = ptr(at, i);
        let Value::Object(obj) = a else {
            sink.emit(
                scope,
                "NGFF-AX-001",
                &at_i,
                format!("expected an axis object, found {}", kind(a)),
            );
            types.push(None);
            continue;
        };
        match obj.get("name") {
            Some(Value::String(n)) if n.is_empty() && scope.version >= NgffVersion::V0_6 => {
                sink.emit(
                    scope,
                    "NGFF-AX-001",
                    &ptr(&at_i, "name"),
                    "expected a non-empty axis name, found \"\"",
                );
            }
            Some(Value::String(n)) => {
                if let Some(j) = names.insert(n.as_str(), i) {
                    sink.emit(
                        scope,
                        "NGFF-AX-003",
                        &ptr(&at_i, "name"),
                        format!("expected unique axis names, found {n:?} at {j} and {i}"),
                    );
                }
            }
            Some(v) => sink.emit(
                scope,
                "NGFF-AX-001",
                &ptr(&at_i, "name"),
                format!("expected the axis name to be a string, found {}", kind(v)),
            ),
            None => sink.emit(
                scope,
                "NGFF-AX-001",
                &at_i,
                "expected the key name in the axis, found none",
            ),
        }
        for key in ["longName", "discrete"] {
            let Some(v) = obj.get(key) else { continue };
            let ok = if key == "discrete" {
                v.is_boolean()
            } else {
                v.is_string()
            };
            if scope.version >= NgffVersion::V0_6 && !ok {
                let want = if key == "discrete" {
                    "a boolean"
                } else {
                    "a string"
                };
                sink.emit(
                    scope,
                    "NGFF-AX-005",
                    &ptr(&at_i, key),
                    format!("expected the axis {key} to be {want}, found {}", kind(v)),
                );
            }
        }
        let ty = match obj.get("type") {
            None if scope.version >= NgffVersion::V0_6 => {
                sink.emit(
                    scope,
                    "NGFF-CS-004",
                    &at_i,
                    "expected the key type (array, space, time, channel, coordinate or displacement) in the axis, found none",
                );
                Some(AxisType::Custom)
            }
            Some(Value::String(t)) if scope.version >= NgffVersion::V0_6 => {
                Some(match t.as_str() {
                    "space" => AxisType::Space,
                    "time" => AxisType::Time,
                    "channel" => AxisType::Channel,
                    "array" => AxisType::Array,
                    "coordinate" | "displacement" => AxisType::Custom,
                    other => {
                        sink.emit(scope, "NGFF-CS-004", &ptr(&at_i, "type"), format!("expected axis type array, space, time, channel, coordinate or displacement, found the custom type {other:?}"));
                        AxisType::Custom
                    }
                })
            }
            None => {
                sink.emit(
                    scope,
                    "NGFF-AX-006",
                    &at_i,
                    "expected the key type (space, time or channel) in the axis, found none",
                );
                Some(AxisType::Custom)
            }
            Some(Value::String(t)) => Some(match t.as_str() {
                "space" => AxisType::Space,
                "time" => AxisType::Time,
                "channel" => AxisType::Channel,
                other => {
                    sink.emit(scope, "NGFF-AX-006", &ptr(&at_i, "type"), format!("expected axis type space, time or channel, found the custom type {other:?}"));
                    AxisType::Custom
                }
            }),
            Some(v) => {
                sink.emit(
                    scope,
                    "NGFF-AX-005",
                    &ptr(&at_i, "type"),
                    format!("expected the axis type to be a string, found {}", kind(v)),
                );
                None
            }
        };
        match obj.get("unit") {
            None => {}
            Some(Value::String(u)) => {
                let known = match ty {
                    Some(AxisType::Space) => Some(is_known_space_unit(u)),
                    Some(AxisType::Time) => Some(is_known_time_unit(u)),
                    _ => None,
                };
                if known == Some(false) {
                    let which = if ty == Some(AxisType::Space) {
                        "space"
                    } else {
                        "time"
                    };
                    sink.emit(
                        scope,
                        "NGFF-AX-007",
                        &ptr(&at_i, "unit"),
                        format!(
                            "expected a {which} unit from the spec's UDUNITS-2 list, found {u:?}"
                        ),
                    );
                }
            }
            Some(v) => sink.emit(
                scope,
                "NGFF-AX-005",
                &ptr(&at_i, "unit"),
                format!("expected the axis unit to be a string, found {}", kind(v)),
            ),
        }
        types.push(ty);
    }
    let space = types
        .iter()
        .filter(|t| **t == Some(AxisType::Space))
        .count();
    let array = types
        .iter()
        .filter(|t| **t == Some(AxisType::Array))
        .count();
    if scope.version >= NgffVersion::V0_6 {
        // axes.schema: 1 to 5 axes, and either 2-3 space axes or at least 2 array axes
        // (exactly one of the two). In a multiscale the space count is NGFF-AX-004's.
        let space_ok = (2..=3).contains(&space);
        let schema_ok = (1..=5).contains(&list.len()) && (space_ok != (array >= 2));
        if !schema_ok && (!multiscale || (space_ok && array >= 2)) {
            sink.emit(
                scope,
                "NGFF-CS-005",
                at,
                format!("expected 1 to 5 axes with either 2 or 3 space axes or at least 2 array axes, found {} axes ({space} space, {array} array)", list.len()),
            );
        }
    }
    if !multiscale {
        return Some(list.len());
    }
    if !(2..=3).contains(&space) {
        sink.emit(
            scope,
            "NGFF-AX-004",
            at,
            format!("expected 2 or 3 axes of type space, found {space}"),
        );
    }
    let time = types.iter().filter(|t| **t == Some(AxisType::Time)).count();
    let other = types
        .iter()
        .filter(|t| {
            matches!(
                t,
                Some(AxisType::Channel | AxisType::Custom | AxisType::Array)
            )
        })
        .count();
    if time > 1 || other > 1 {
        sink.emit(scope, "NGFF-AX-009", at, format!("expected at most one time axis and one channel or custom axis, found {time} time and {other} channel or custom"));
    }
    // Order: time, then channel/custom, then space (rank must not decrease).
    let rank = |t: &AxisType| match t {
        AxisType::Time => 0,
        AxisType::Channel | AxisType::Custom | AxisType::Array => 1,
        AxisType::Space => 2,
    };
    let mut last = 0;
    for (i, t) in types.iter().enumerate() {
        let Some(t) = t else { continue };
        if rank(t) < last {
            let names: Vec<String> = list
                .iter()
                .map(|a| {
                    a.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect();
            sink.emit(
                scope,
                "NGFF-AX-008",
                &ptr(at, i),
                format!(
                    "expected axes ordered time, channel or custom, then space, found [{}]",
                    names.join(", ")
                ),
            );
            break;
        }
        last = rank(t);
    }
    let space_names: Vec<&str> = list
        .iter()
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("space"))
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .collect();
    if space_names.len() == 3 {
        let mut sorted = space_names.clone();
        sorted.sort_unstable();
        if sorted == ["x", "y", "z"] && space_names != ["z", "y", "x"] {
            sink.emit(
                scope,
                "NGFF-AX-010",
                at,
                format!(
                    "expected the space axes ordered z, y, x, found {}",
                    space_names.join(", ")
                ),
            );
        }
    }
    Some(list.len())
}

/// 0.3: axes are letters from `t, c, z, y, x`, in that relative order, ending in `y, x`.
fn check_axes_03(sink: &mut Sink<'_>, scope: &Scope, list: &[Value], at: &str) {
    const ORDER: [&str; 5] = ["t", "c", "z", "y", "x"];
    let mut letters = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match a.as_str() {
            Some(s) if ORDER.contains(&s) => {
                if letters.contains(&s) {
                    sink.emit(
                        scope,
                        "NGFF-AX-003",
                        &ptr(at, i),
                        format!("expected unique axis names, found {s:?} twice"),
                    );
                }
                letters.push(s);
            }
            Some(s) => sink.emit(
                scope,
                "NGFF-AX-001",
                &ptr(at, i),
                format!("expected one of t, c, z, y, x, found {s:?}"),
            ),
            None => sink.emit(
                scope,
                "NGFF-AX-001",
                &ptr(at, i),
                format!("expected an axis name string, found {}", kind(a)),
            ),
        }
    }
    let positions: Vec<usize> = letters
        .iter()
        .filter_map(|l| ORDER.iter().position(|o| o == l))
        .collect();
    let ordered = positions.windows(2).all(|w| w[0] < w[1]);
    let ends_yx = letters.len() >= 2 && letters[letters.len() - 2..] == ["y", "x"];
    if letters.len() == list.len() && (!ordered || !ends_yx) {
        sink.emit(
            scope,
            "NGFF-AX-008",
            at,
            format!(
                "expected axes in the order t, c, z, y, x ending with y, x, found [{}]",
                letters.join(", ")
            ),
        );
    }
}

/// The axis names of a multiscale (0.3 strings or 0.4+ objects; 0.6: the axes of the
/// intrinsic coordinate system), for the hierarchy rules.
pub(crate) fn axis_names(m: &Value) -> Option<Vec<String>> {
    let axes = match m.get("axes") {
        Some(axes) => axes.as_array()?,
        None => intrinsic_system(m)?.get("axes")?.as_array()?,
    };
    axes.iter()
        .map(|a| {
            a.as_str()
                .or_else(|| a.get("name").and_then(Value::as_str))
                .map(str::to_string)
        })
        .collect()
}

/// 0.6: the intrinsic coordinate system of a multiscale (the `output.name` of its first
/// dataset transformation) and its index in `coordinateSystems`.
pub(crate) fn intrinsic_index(m: &Value) -> Option<usize> {
    let name = m
        .get("datasets")?
        .get(0)?
        .get("coordinateTransformations")?
        .get(0)?
        .get("output")?
        .get("name")?
        .as_str()?;
    m.get("coordinateSystems")?
        .as_array()?
        .iter()
        .position(|s| s.get("name").and_then(Value::as_str) == Some(name))
}

/// 0.6: the intrinsic coordinate system object of a multiscale.
pub(crate) fn intrinsic_system(m: &Value) -> Option<&Value> {
    m.get("coordinateSystems")?.get(intrinsic_index(m)?)
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
