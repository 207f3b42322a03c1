//! `axes`: the axes of a 0.3–0.5 multiscale and of a 0.6 coordinate system, checked by one
//! function for both (`multiscales.rs` and `coordinates.rs` call it), and where a
//! multiscale's axes are (its own `axes`, or in 0.6 its intrinsic coordinate system), for
//! the hierarchy rules. Spec: 0.4 §"axes metadata"; 0.6rc0 §"axes" metadata under
//! §"coordinateSystems" metadata.

use crate::codes;
use std::collections::HashMap;

use ome_core::metadata::{NgffVersion, is_known_space_unit, is_known_time_unit};
use serde_json::Value;

use crate::context::{Scope, Sink, kind, ptr};

/// The parts of an axis the order rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AxisType {
    Space,
    Time,
    Channel,
    Custom,
    /// 0.6: an array (index) axis.
    Array,
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
            codes::NGFF_AX_001,
            at,
            format!("expected axes to be a list, found {}", kind(axes)),
        );
        return None;
    };
    if multiscale && !(2..=5).contains(&list.len()) {
        sink.emit(
            scope,
            codes::NGFF_AX_002,
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
                codes::NGFF_AX_001,
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
                    codes::NGFF_AX_001,
                    &ptr(&at_i, "name"),
                    "expected a non-empty axis name, found \"\"",
                );
            }
            Some(Value::String(n)) => {
                if let Some(j) = names.insert(n.as_str(), i) {
                    sink.emit(
                        scope,
                        codes::NGFF_AX_003,
                        &ptr(&at_i, "name"),
                        format!("expected unique axis names, found {n:?} at {j} and {i}"),
                    );
                }
            }
            Some(v) => sink.emit(
                scope,
                codes::NGFF_AX_001,
                &ptr(&at_i, "name"),
                format!("expected the axis name to be a string, found {}", kind(v)),
            ),
            None => sink.emit(
                scope,
                codes::NGFF_AX_001,
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
                    codes::NGFF_AX_005,
                    &ptr(&at_i, key),
                    format!("expected the axis {key} to be {want}, found {}", kind(v)),
                );
            }
        }
        let ty = match obj.get("type") {
            None if scope.version >= NgffVersion::V0_6 => {
                sink.emit(
                    scope,
                    codes::NGFF_CS_004,
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
                        sink.emit(scope, codes::NGFF_CS_004, &ptr(&at_i, "type"), format!("expected axis type array, space, time, channel, coordinate or displacement, found the custom type {other:?}"));
                        AxisType::Custom
                    }
                })
            }
            None => {
                sink.emit(
                    scope,
                    codes::NGFF_AX_006,
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
                    sink.emit(scope, codes::NGFF_AX_006, &ptr(&at_i, "type"), format!("expected axis type space, time or channel, found the custom type {other:?}"));
                    AxisType::Custom
                }
            }),
            Some(v) => {
                sink.emit(
                    scope,
                    codes::NGFF_AX_005,
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
                        codes::NGFF_AX_007,
                        &ptr(&at_i, "unit"),
                        format!(
                            "expected a {which} unit from the spec's UDUNITS-2 list, found {u:?}"
                        ),
                    );
                }
            }
            Some(v) => sink.emit(
                scope,
                codes::NGFF_AX_005,
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
                codes::NGFF_CS_005,
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
            codes::NGFF_AX_004,
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
        sink.emit(scope, codes::NGFF_AX_009, at, format!("expected at most one time axis and one channel or custom axis, found {time} time and {other} channel or custom"));
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
                codes::NGFF_AX_008,
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
                codes::NGFF_AX_010,
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
                        codes::NGFF_AX_003,
                        &ptr(at, i),
                        format!("expected unique axis names, found {s:?} twice"),
                    );
                }
                letters.push(s);
            }
            Some(s) => sink.emit(
                scope,
                codes::NGFF_AX_001,
                &ptr(at, i),
                format!("expected one of t, c, z, y, x, found {s:?}"),
            ),
            None => sink.emit(
                scope,
                codes::NGFF_AX_001,
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
            codes::NGFF_AX_008,
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
fn intrinsic_system(m: &Value) -> Option<&Value> {
    m.get("coordinateSystems")?.get(intrinsic_index(m)?)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::context::Filter;

    /// `check_axes` on `axes` at `/axes`: the count it returns and each finding's code and
    /// pointer.
    fn check(
        version: NgffVersion,
        axes: &Value,
        multiscale: bool,
    ) -> (Option<usize>, Vec<(&'static str, String)>) {
        let filter = Filter::default();
        let mut sink = Sink::new(Path::new("case"), &filter);
        let scope = Scope::new("", "zarr.json", version);
        let n = check_axes(&mut sink, &scope, axes, "/axes", multiscale);
        let found = sink
            .findings
            .iter()
            .map(|f| (f.code, f.location.pointer.clone().unwrap_or_default()))
            .collect();
        (n, found)
    }

    fn axis(name: &str, ty: &str) -> Value {
        json!({"name": name, "type": ty})
    }

    #[test]
    fn tczyx_multiscale_axes_pass() {
        let axes = json!([
            {"name": "t", "type": "time", "unit": "second"},
            axis("c", "channel"),
            {"name": "z", "type": "space", "unit": "micrometer"},
            axis("y", "space"),
            axis("x", "space"),
        ]);
        for version in [NgffVersion::V0_4, NgffVersion::V0_5, NgffVersion::V0_6] {
            assert_eq!(
                check(version, &axes, true),
                (Some(5), vec![]),
                "{version:?}"
            );
        }
        let letters = json!(["t", "c", "z", "y", "x"]);
        assert_eq!(check(NgffVersion::V0_3, &letters, true), (Some(5), vec![]));
    }

    #[test]
    fn broken_multiscale_axes_name_their_rules() {
        // A repeated name, one space axis only, and space before time.
        let axes = json!([axis("x", "space"), axis("x", "time")]);
        let (n, found) = check(NgffVersion::V0_4, &axes, true);
        assert_eq!(n, Some(2));
        assert_eq!(
            found,
            vec![
                ("NGFF-AX-003", "/axes/1/name".to_string()),
                ("NGFF-AX-004", "/axes".to_string()),
                ("NGFF-AX-008", "/axes/1".to_string()),
            ]
        );
        // 0.3: letters only, in t, c, z, y, x order.
        let (_, found) = check(NgffVersion::V0_3, &json!(["x", "y", "q"]), true);
        assert_eq!(found, vec![("NGFF-AX-001", "/axes/2".to_string())]);
        let (_, found) = check(NgffVersion::V0_3, &json!(["x", "y"]), true);
        assert_eq!(found, vec![("NGFF-AX-008", "/axes".to_string())]);
        assert_eq!(
            check(NgffVersion::V0_4, &json!({"x": 1}), true),
            (None, vec![("NGFF-AX-001", "/axes".to_string())])
        );
    }

    #[test]
    fn coordinate_system_axes_apply_the_06_rules_only() {
        // Outside a multiscale one axis is fine as far as AX-002/004 go, but the 0.6
        // schema wants 2-3 space axes or at least 2 array axes; a missing type is CS-004.
        let (n, found) = check(NgffVersion::V0_6, &json!([{"name": "x"}]), false);
        assert_eq!(n, Some(1));
        assert_eq!(
            found,
            vec![
                ("NGFF-CS-004", "/axes/0".to_string()),
                ("NGFF-CS-005", "/axes".to_string()),
            ]
        );
        let arrays = json!([axis("i", "array"), axis("j", "array")]);
        assert_eq!(check(NgffVersion::V0_6, &arrays, false), (Some(2), vec![]));
    }

    #[test]
    fn axis_names_come_from_axes_or_the_intrinsic_system() {
        let v03 = json!({"axes": ["y", "x"]});
        let v04 = json!({"axes": [axis("y", "space"), axis("x", "space")]});
        let v06 = json!({
            "coordinateSystems": [
                {"name": "world", "axes": [axis("a", "space"), axis("b", "space")]},
                {"name": "physical", "axes": [axis("y", "space"), axis("x", "space")]}
            ],
            "datasets": [{"path": "s0", "coordinateTransformations": [
                {"type": "scale", "scale": [1, 1], "input": {"path": "s0"}, "output": {"name": "physical"}}
            ]}]
        });
        let yx = Some(vec!["y".to_string(), "x".to_string()]);
        assert_eq!(axis_names(&v03), yx);
        assert_eq!(axis_names(&v04), yx);
        assert_eq!(intrinsic_index(&v06), Some(1));
        assert_eq!(axis_names(&v06), yx);
        assert_eq!(axis_names(&json!({"axes": [axis("y", "space"), {}]})), None);
    }
}
