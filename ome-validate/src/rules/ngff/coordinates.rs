//! OME-NGFF 0.6 (RFC-5): coordinate systems and coordinate transformations, in the three
//! places they occur: `multiscales > datasets`, `multiscales > coordinateTransformations`
//! and `scene` (the scene object itself is in `scene.rs`).
//! Spec: 0.6rc0 §"coordinateSystems" metadata, §"coordinateTransformations" metadata,
//! §"multiscales" metadata.

use crate::codes;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::axes::check_axes;
use super::transforms::{self, Dims, EntryAxes};
use crate::context::{Scope, Sink, as_int, first_duplicate, kind, ptr, show};

/// A coordinate system found in a `coordinateSystems` list.
#[derive(Debug, Clone)]
pub(crate) struct System {
    /// Index in its `coordinateSystems` list.
    pub(crate) index: usize,
    pub(crate) name: String,
    /// Number of axes, when `axes` is a list.
    pub(crate) ndim: Option<usize>,
}

// The transformation types of 0.6rc0 (§"Transformation types", `coordinate_transformations.schema`):
// the metadata model's list, so that the validator and the reader agree.
use ome_core::metadata::TRANSFORMATION_TYPES as TYPES;

/// Checks a `coordinateSystems` list; returns the systems it names. `multiscale` applies
/// the multiscales-only axis rules (2–5 axes, 2–3 space axes, order).
pub(crate) fn check_systems(
    sink: &mut Sink<'_>,
    scope: &Scope,
    v: &Value,
    at: &str,
    multiscale: bool,
) -> Vec<System> {
    let mut out = Vec::new();
    let Value::Array(list) = v else {
        sink.emit(
            scope,
            codes::NGFF_CS_001,
            at,
            format!("expected coordinateSystems to be a list, found {}", kind(v)),
        );
        return out;
    };
    if list.is_empty() && multiscale {
        sink.emit(
            scope,
            codes::NGFF_CS_001,
            at,
            "expected at least one coordinate system, found an empty list",
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, cs) in list.iter().enumerate() {
        let at_i = ptr(at, i);
        let Value::Object(obj) = cs else {
            sink.emit(
                scope,
                codes::NGFF_CS_001,
                &at_i,
                format!("expected a coordinate system object, found {}", kind(cs)),
            );
            continue;
        };
        let name = match obj.get("name") {
            Some(Value::String(n)) if !n.is_empty() => {
                if let Some(j) = names.insert(n.as_str(), i) {
                    sink.emit(
                        scope,
                        codes::NGFF_CS_002,
                        &ptr(&at_i, "name"),
                        format!(
                            "expected unique coordinate system names, found {n:?} at {j} and {i}"
                        ),
                    );
                }
                Some(n.clone())
            }
            Some(Value::String(_)) => {
                sink.emit(
                    scope,
                    codes::NGFF_CS_001,
                    &ptr(&at_i, "name"),
                    "expected a non-empty coordinate system name, found \"\"",
                );
                None
            }
            Some(other) => {
                sink.emit(
                    scope,
                    codes::NGFF_CS_001,
                    &ptr(&at_i, "name"),
                    format!(
                        "expected the coordinate system name to be a string, found {}",
                        kind(other)
                    ),
                );
                None
            }
            None => {
                sink.emit(
                    scope,
                    codes::NGFF_CS_001,
                    &at_i,
                    "expected the key name in the coordinate system, found none",
                );
                None
            }
        };
        let ndim = match obj.get("axes") {
            Some(axes) => check_axes(sink, scope, axes, &ptr(&at_i, "axes"), multiscale),
            None => {
                sink.emit(
                    scope,
                    codes::NGFF_CS_001,
                    &at_i,
                    "expected the key axes in the coordinate system, found none",
                );
                None
            }
        };
        if let Some(name) = name {
            out.push(System {
                index: i,
                name,
                ndim,
            });
        }
    }
    out
}

/// The dimensionality of a reference `{name, path}`, when it names a system of `systems`
/// (a reference with a path points at another group or an array: unknown here).
pub(crate) fn dims_of(io: Option<&Value>, systems: &[System]) -> Option<usize> {
    let io = io?.as_object()?;
    if io.get("path").is_some_and(|p| !p.is_null()) {
        return None;
    }
    let name = io.get("name")?.as_str()?;
    systems.iter().find(|s| s.name == name)?.ndim
}

/// Checks one transformation and every one it wraps (`transforms::walk`). `dims` are the
/// input and output dimensionalities when known.
pub(crate) fn check_transform(sink: &mut Sink<'_>, scope: &Scope, t: &Value, at: &str, dims: Dims) {
    for node in transforms::walk(t, at, dims, EntryAxes::Indices) {
        check_one(sink, scope, node.t, &node.at, node.dims, node.nested);
    }
}

/// Checks one transformation, not the ones it wraps; `nested` transformations (inside
/// `sequence`, `bijection`, `byDimension`) may omit `input` and `output`.
fn check_one(sink: &mut Sink<'_>, scope: &Scope, t: &Value, at: &str, dims: Dims, nested: bool) {
    let Value::Object(obj) = t else {
        sink.emit(
            scope,
            codes::NGFF_CT_006,
            at,
            format!("expected a transformation object, found {}", kind(t)),
        );
        return;
    };
    if let Some(n) = obj.get("name")
        && !n.is_string()
    {
        sink.emit(
            scope,
            codes::NGFF_CT_006,
            &ptr(at, "name"),
            format!(
                "expected the transformation name to be a string, found {}",
                kind(n)
            ),
        );
    }
    for key in ["input", "output"] {
        match obj.get(key) {
            None if !nested => sink.emit(
                scope,
                codes::NGFF_CT_007,
                at,
                format!("expected the key {key} (an object with name and/or path) in the transformation, found none"),
            ),
            None => {}
            Some(Value::Object(io)) => {
                for field in ["name", "path"] {
                    if let Some(v) = io.get(field)
                        && !v.is_string()
                        && !(field == "path" && v.is_null())
                    {
                        sink.emit(
                            scope,
                            codes::NGFF_CT_007,
                            &ptr(&ptr(at, key), field),
                            format!("expected {key}.{field} to be a string, found {}", kind(v)),
                        );
                    }
                }
            }
            Some(other) => sink.emit(
                scope,
                codes::NGFF_CT_007,
                &ptr(at, key),
                format!(
                    "expected {key} to be an object {{\"name\": ..., \"path\": ...}}, found {}",
                    show(other)
                ),
            ),
        }
    }
    let ty = match obj.get("type") {
        Some(Value::String(s)) if TYPES.contains(&s.as_str()) => s.as_str(),
        Some(Value::String(s)) => {
            sink.emit(
                scope,
                codes::NGFF_CT_006,
                &ptr(at, "type"),
                format!(
                    "expected a transformation type ({}), found {s:?}",
                    TYPES.join(", ")
                ),
            );
            return;
        }
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_CT_006,
                &ptr(at, "type"),
                format!(
                    "expected the transformation type to be a string, found {}",
                    kind(v)
                ),
            );
            return;
        }
        None => {
            sink.emit(
                scope,
                codes::NGFF_CT_006,
                at,
                "expected the key type in the transformation, found none",
            );
            return;
        }
    };
    match ty {
        "identity" => same_dims(sink, scope, at, ty, dims),
        "scale" | "translation" => check_vector(sink, scope, obj, at, ty, dims),
        "mapAxis" => check_map_axis(sink, scope, obj, at, dims),
        "projectAxis" => check_project_axis(sink, scope, obj, at, dims),
        "affine" | "rotation" => check_matrix(sink, scope, obj, at, ty, dims),
        // The wrapped transformations are checked by `check_transform`'s walk; here only
        // that they are there.
        "sequence" => {
            param_list(sink, scope, obj, at, "transformations");
        }
        "bijection" => {
            same_dims(sink, scope, at, ty, dims);
            for key in ["forward", "inverse"] {
                if !obj.contains_key(key) {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_008,
                        at,
                        format!(
                            "expected the key {key} (a transformation) in the bijection, found none"
                        ),
                    );
                }
            }
        }
        "byDimension" => check_by_dimension(sink, scope, obj, at, dims),
        _ => {
            // displacements, coordinates: parameters in a Zarr array at `path`.
            match obj.get("path") {
                Some(Value::String(_)) => {}
                Some(v) => sink.emit(
                    scope,
                    codes::NGFF_CT_008,
                    &ptr(at, "path"),
                    format!("expected path to be a string, found {}", kind(v)),
                ),
                None => sink.emit(
                    scope,
                    codes::NGFF_CT_008,
                    at,
                    format!("expected the key path (the Zarr array holding the {ty} field) in the transformation, found none"),
                ),
            }
            if let Some(i) = obj.get("interpolation")
                && !matches!(i.as_str(), Some("nearest" | "linear" | "cubic"))
            {
                sink.emit(
                    scope,
                    codes::NGFF_CT_008,
                    &ptr(at, "interpolation"),
                    format!(
                        "expected interpolation nearest, linear or cubic, found {}",
                        show(i)
                    ),
                );
            }
        }
    }
}

fn param_list<'v>(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &'v Map<String, Value>,
    at: &str,
    key: &str,
) -> Option<&'v Vec<Value>> {
    match obj.get(key) {
        Some(Value::Array(list)) => Some(list),
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &ptr(at, key),
                format!("expected {key} to be a list, found {}", kind(v)),
            );
            None
        }
        None => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                at,
                format!("expected the key {key} in the transformation, found none"),
            );
            None
        }
    }
}

fn same_dims(
    sink: &mut Sink<'_>,
    scope: &Scope,
    at: &str,
    ty: &str,
    (din, dout): (Option<usize>, Option<usize>),
) {
    if let (Some(i), Some(o)) = (din, dout)
        && i != o
    {
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            at,
            format!("expected a {ty} between spaces of equal dimension, found input {i} and output {o} dimensions"),
        );
    }
}

/// `scale` and `translation`: a list of numbers as long as the (equal) input and output
/// dimensionality; scale factors positive (`coordinate_transformations.schema`).
fn check_vector(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &Map<String, Value>,
    at: &str,
    ty: &str,
    dims: (Option<usize>, Option<usize>),
) {
    same_dims(sink, scope, at, ty, dims);
    let values = match obj.get(ty) {
        Some(Value::Array(values)) => values,
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &ptr(at, ty),
                format!("expected {ty} to be a list of numbers, found {}", kind(v)),
            );
            return;
        }
        None => {
            let hint = if obj.contains_key("path") {
                " (0.6rc0 gives scale and translation inline only, not by path)"
            } else {
                ""
            };
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                at,
                format!("expected the key {ty} with a list of numbers, found none{hint}"),
            );
            return;
        }
    };
    for (k, v) in values.iter().enumerate() {
        let ok = match v.as_f64() {
            Some(f) => ty != "scale" || f > 0.0,
            None => false,
        };
        if !ok {
            let what = if ty == "scale" {
                "positive numbers"
            } else {
                "numbers"
            };
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &ptr(&ptr(at, ty), k),
                format!("expected {ty} values to be {what}, found {}", show(v)),
            );
            return;
        }
    }
    if let Some(n) = dims.0.or(dims.1)
        && values.len() != n
    {
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            &ptr(at, ty),
            format!(
                "expected {n} {ty} values (one per dimension), found {}",
                values.len()
            ),
        );
    }
}

/// A list of unique integers in `0..=4` with a length in `len`; returns them when so.
fn index_list(
    sink: &mut Sink<'_>,
    scope: &Scope,
    v: &Value,
    at: &str,
    key: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Option<Vec<usize>> {
    let Value::Array(items) = v else {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            at,
            format!("expected {key} to be a list of integers, found {}", kind(v)),
        );
        return None;
    };
    let mut out = Vec::new();
    for (k, item) in items.iter().enumerate() {
        match as_int(item) {
            Some(i) if (0..=4).contains(&i) => out.push(i as usize),
            _ => {
                sink.emit(
                    scope,
                    codes::NGFF_CT_008,
                    &ptr(at, k),
                    format!(
                        "expected {key} entries to be axis indices from 0 to 4, found {}",
                        show(item)
                    ),
                );
                return None;
            }
        }
    }
    if !len.contains(&out.len()) {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            at,
            format!(
                "expected {} to {} entries in {key}, found {}",
                len.start(),
                len.end(),
                out.len()
            ),
        );
        return None;
    }
    if let Some((a, b)) = first_duplicate(items) {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            &ptr(at, b),
            format!(
                "expected unique indices in {key}, found {} at {a} and {b}",
                show(&items[b])
            ),
        );
        return None;
    }
    Some(out)
}

fn check_map_axis(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &Map<String, Value>,
    at: &str,
    dims: (Option<usize>, Option<usize>),
) {
    same_dims(sink, scope, at, "mapAxis", dims);
    let Some(v) = obj.get("mapAxis") else {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            at,
            "expected the key mapAxis (a permutation of axis indices) in the transformation, found none",
        );
        return;
    };
    let Some(perm) = index_list(sink, scope, v, &ptr(at, "mapAxis"), "mapAxis", 2..=5) else {
        return;
    };
    if let Some(n) = dims.0.or(dims.1) {
        if perm.len() != n {
            sink.emit(
                scope,
                codes::NGFF_CT_009,
                &ptr(at, "mapAxis"),
                format!(
                    "expected {n} entries in mapAxis (one per dimension), found {}",
                    perm.len()
                ),
            );
        } else if let Some((k, i)) = perm.iter().enumerate().find(|(_, i)| **i >= n) {
            sink.emit(
                scope,
                codes::NGFF_CT_009,
                &ptr(&ptr(at, "mapAxis"), k),
                format!("expected an input axis index below {n}, found {i}"),
            );
        }
    }
}

fn check_project_axis(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &Map<String, Value>,
    at: &str,
    (din, dout): (Option<usize>, Option<usize>),
) {
    let dropped = obj.get("droppedInputs");
    let created = obj.get("createdOutputs");
    if dropped.is_none() && created.is_none() {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            at,
            "expected droppedInputs or createdOutputs in the projectAxis, found neither",
        );
        return;
    }
    let d = dropped.map(|v| {
        index_list(
            sink,
            scope,
            v,
            &ptr(at, "droppedInputs"),
            "droppedInputs",
            1..=3,
        )
    });
    let c = created.map(|v| {
        index_list(
            sink,
            scope,
            v,
            &ptr(at, "createdOutputs"),
            "createdOutputs",
            1..=3,
        )
    });
    if matches!(d, Some(None)) || matches!(c, Some(None)) {
        return;
    }
    let d = d.flatten().unwrap_or_default();
    let c = c.flatten().unwrap_or_default();
    if let Some(n) = din
        && let Some(i) = d.iter().find(|i| **i >= n)
    {
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            &ptr(at, "droppedInputs"),
            format!("expected input axis indices below {n}, found {i}"),
        );
        return;
    }
    if let Some(m) = dout
        && let Some(i) = c.iter().find(|i| **i >= m)
    {
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            &ptr(at, "createdOutputs"),
            format!("expected output axis indices below {m}, found {i}"),
        );
        return;
    }
    if let (Some(n), Some(m)) = (din, dout)
        && n + c.len() != m + d.len()
    {
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            at,
            format!(
                "expected {n} input dimensions - {} dropped + {} created = {m} output dimensions, found {}",
                d.len(),
                c.len(),
                (n + c.len()).saturating_sub(d.len())
            ),
        );
    }
}

/// `affine` (M × (N+1)) and `rotation` (N × N): a JSON matrix of numbers or a `path`.
fn check_matrix(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &Map<String, Value>,
    at: &str,
    ty: &str,
    (din, dout): (Option<usize>, Option<usize>),
) {
    if ty == "rotation" {
        same_dims(sink, scope, at, ty, (din, dout));
    }
    let inline = obj.get(ty);
    match (inline, obj.get("path")) {
        (Some(_), Some(_)) => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                at,
                format!("expected either {ty} or path in the transformation, found both"),
            );
            return;
        }
        (None, Some(Value::String(_))) => return,
        (None, Some(p)) => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &ptr(at, "path"),
                format!("expected path to be a string, found {}", kind(p)),
            );
            return;
        }
        (None, None) => {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                at,
                format!("expected the key {ty} (a matrix as a list of rows) or path in the transformation, found neither"),
            );
            return;
        }
        (Some(_), None) => {}
    }
    let Some(m) = inline else { return };
    let at_m = ptr(at, ty);
    let Some(rows) = matrix(m) else {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            &at_m,
            format!(
                "expected {ty} to be a list of rows, each a list of numbers, found {}",
                show(m)
            ),
        );
        return;
    };
    let ncols = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || rows.iter().any(|r| r.len() != ncols) {
        sink.emit(
            scope,
            codes::NGFF_CT_008,
            &at_m,
            format!(
                "expected {ty} to be a non-empty matrix with rows of equal length, found {}",
                show(m)
            ),
        );
        return;
    }
    let nrows = rows.len();
    if ty == "rotation" {
        if nrows != ncols || !(2..=5).contains(&nrows) {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &at_m,
                format!("expected rotation to be a square matrix of size 2 to 5, found {nrows} x {ncols}"),
            );
            return;
        }
        if let Some(n) = din.or(dout)
            && nrows != n
        {
            sink.emit(
                scope,
                codes::NGFF_CT_009,
                &at_m,
                format!("expected a {n} x {n} rotation matrix, found {nrows} x {ncols}"),
            );
            return;
        }
        if !is_rotation(&rows) {
            sink.emit(
                scope,
                codes::NGFF_CT_015,
                &at_m,
                format!(
                    "expected an orthonormal rotation matrix with determinant 1, found {}",
                    show(m)
                ),
            );
        }
        return;
    }
    let expected_rows = dout;
    let expected_cols = din.map(|n| n + 1);
    if expected_rows.is_some_and(|r| r != nrows) || expected_cols.is_some_and(|c| c != ncols) {
        let r = expected_rows.map_or("M".to_string(), |r| r.to_string());
        let c = expected_cols.map_or("N+1".to_string(), |c| c.to_string());
        sink.emit(
            scope,
            codes::NGFF_CT_009,
            &at_m,
            format!("expected a {r} x {c} affine matrix (output dimensions x input dimensions + 1), found {nrows} x {ncols}"),
        );
    }
}

fn matrix(v: &Value) -> Option<Vec<Vec<f64>>> {
    v.as_array()?
        .iter()
        .map(|row| row.as_array()?.iter().map(Value::as_f64).collect())
        .collect()
}

/// Whether a square matrix is orthonormal with determinant +1 (tolerance 1e-6).
pub(crate) fn is_rotation(rows: &[Vec<f64>]) -> bool {
    let n = rows.len();
    for i in 0..n {
        for j in 0..n {
            let dot: f64 = (0..n).map(|k| rows[i][k] * rows[j][k]).sum();
            let want = if i == j { 1.0 } else { 0.0 };
            if (dot - want).abs() > 1e-6 {
                return false;
            }
        }
    }
    determinant(rows) > 0.0
}

fn determinant(rows: &[Vec<f64>]) -> f64 {
    let mut a: Vec<Vec<f64>> = rows.to_vec();
    let n = a.len();
    let mut det = 1.0;
    for col in 0..n {
        let Some(pivot) = (col..n).max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))
        else {
            return 0.0;
        };
        if a[pivot][col].abs() < 1e-12 {
            return 0.0;
        }
        if pivot != col {
            a.swap(pivot, col);
            det = -det;
        }
        det *= a[col][col];
        let pivot_row = a[col].clone();
        for row in a.iter_mut().skip(col + 1) {
            let f = row[col] / pivot_row[col];
            for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
        }
    }
    det
}

/// The length of a transformation's parameter vector, for `byDimension` children.
fn param_len(t: &Value) -> Option<usize> {
    let ty = t.get("type")?.as_str()?;
    match ty {
        "scale" | "translation" | "mapAxis" => t.get(ty)?.as_array().map(Vec::len),
        "rotation" => t.get(ty)?.as_array().map(Vec::len),
        _ => None,
    }
}

fn check_by_dimension(
    sink: &mut Sink<'_>,
    scope: &Scope,
    obj: &Map<String, Value>,
    at: &str,
    (din, dout): (Option<usize>, Option<usize>),
) {
    let Some(list) = param_list(sink, scope, obj, at, "transformations") else {
        return;
    };
    let at_list = ptr(at, "transformations");
    let mut covered: HashMap<usize, usize> = HashMap::new();
    let mut complete = true;
    for (i, item) in list.iter().enumerate() {
        let at_i = ptr(&at_list, i);
        let Value::Object(entry) = item else {
            sink.emit(
                scope,
                codes::NGFF_CT_008,
                &at_i,
                format!("expected a byDimension entry object with transformation, inputAxes and outputAxes, found {}", kind(item)),
            );
            complete = false;
            continue;
        };
        let mut axes = [None, None];
        for (slot, (key, bound)) in [("inputAxes", din), ("outputAxes", dout)]
            .into_iter()
            .enumerate()
        {
            match entry.get(key) {
                None => {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_008,
                        &at_i,
                        format!("expected the key {key} (a list of axis indices) in the byDimension entry, found none"),
                    );
                }
                Some(Value::Array(values)) => {
                    let ints: Option<Vec<usize>> = values
                        .iter()
                        .map(|v| as_int(v).and_then(|i| usize::try_from(i).ok()))
                        .collect();
                    match ints {
                        None => sink.emit(
                            scope,
                            codes::NGFF_CT_008,
                            &ptr(&at_i, key),
                            format!(
                                "expected {key} to be a list of axis indices (integers), found {}",
                                show(&Value::Array(values.clone()))
                            ),
                        ),
                        Some(ints) => {
                            if let Some(n) = bound
                                && let Some(bad) = ints.iter().find(|x| **x >= n)
                            {
                                sink.emit(
                                    scope,
                                    codes::NGFF_CT_010,
                                    &ptr(&at_i, key),
                                    format!("expected axis indices below {n}, found {bad}"),
                                );
                            }
                            axes[slot] = Some(ints);
                        }
                    }
                }
                Some(v) => sink.emit(
                    scope,
                    codes::NGFF_CT_008,
                    &ptr(&at_i, key),
                    format!(
                        "expected {key} to be a list of axis indices, found {}",
                        kind(v)
                    ),
                ),
            }
        }
        let [inputs, outputs] = axes;
        match &outputs {
            Some(o) => {
                for a in o {
                    *covered.entry(*a).or_default() += 1;
                }
            }
            None => complete = false,
        }
        match entry.get("transformation") {
            None => sink.emit(
                scope,
                codes::NGFF_CT_008,
                &at_i,
                "expected the key transformation in the byDimension entry, found none",
            ),
            // `check_transform`'s walk checks the transformation itself, with the lengths
            // of `inputAxes` and `outputAxes` as its dimensions when both are lists of
            // axis indices (`EntryAxes::Indices`).
            Some(child) => {
                if let Some(len) = param_len(child) {
                    for (key, ax) in [("inputAxes", &inputs), ("outputAxes", &outputs)] {
                        if let Some(ax) = ax
                            && ax.len() != len
                        {
                            sink.emit(
                                scope,
                                codes::NGFF_CT_010,
                                &ptr(&at_i, key),
                                format!("expected {len} entries in {key} (the length of the transformation's parameters), found {}", ax.len()),
                            );
                        }
                    }
                }
            }
        }
    }
    if complete && let Some(m) = dout {
        for axis in 0..m {
            match covered.get(&axis).copied().unwrap_or(0) {
                1 => {}
                count => sink.emit(
                    scope,
                    codes::NGFF_CT_010,
                    &at_list,
                    format!("expected output axis {axis} in exactly one outputAxes list, found it in {count}"),
                ),
            }
        }
    }
}

/// 0.6 `multiscales > datasets > coordinateTransformations`: one scale, identity or
/// sequence[scale, translation] from the dataset's array to the intrinsic system.
/// Returns the output name (the intrinsic system) when there is one.
pub(crate) fn check_dataset_transforms(
    sink: &mut Sink<'_>,
    scope: &Scope,
    ct: &Value,
    at: &str,
    dataset_path: Option<&str>,
    systems: &[System],
) -> Option<String> {
    let Value::Array(list) = ct else {
        sink.emit(
            scope,
            codes::NGFF_CT_001,
            at,
            format!("expected a list of transformations, found {}", kind(ct)),
        );
        return None;
    };
    if list.is_empty() {
        sink.emit(
            scope,
            codes::NGFF_CT_001,
            at,
            "expected one transformation, found an empty list",
        );
        return None;
    }
    if list.len() > 1 {
        sink.emit(
            scope,
            codes::NGFF_CT_011,
            at,
            format!("expected exactly one transformation (scale, identity or sequence of scale and translation), found {}", list.len()),
        );
    }
    let t = &list[0];
    let at = ptr(at, 0);
    let out_dims = dims_of(t.get("output"), systems);
    check_transform(sink, scope, t, &at, (None, out_dims));
    match t.get("type").and_then(Value::as_str) {
        Some("scale" | "identity") | None => {}
        Some("sequence") => {
            let types: Option<Vec<&str>> = t
                .get("transformations")
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|c| c.get("type").and_then(Value::as_str).unwrap_or("?")).collect());
            if let Some(types) = types
                && types != ["scale", "translation"]
            {
                sink.emit(
                    scope,
                    codes::NGFF_CT_011,
                    &ptr(&at, "transformations"),
                    format!("expected a sequence of one scale followed by one translation, found [{}]", types.join(", ")),
                );
            }
        }
        Some(other) => sink.emit(
            scope,
            codes::NGFF_CT_011,
            &ptr(&at, "type"),
            format!("expected a scale, identity or sequence transformation for a dataset, found {other:?}"),
        ),
    }
    if let Some(Value::Object(input)) = t.get("input") {
        match input.get("path") {
            Some(Value::String(p)) => {
                if let Some(dp) = dataset_path
                    && p != dp
                {
                    sink.emit(
                        scope,
                        codes::NGFF_CT_012,
                        &ptr(&ptr(&at, "input"), "path"),
                        format!("expected input.path to be the dataset path {dp:?}, found {p:?}"),
                    );
                }
            }
            Some(_) => {}
            None => sink.emit(
                scope,
                codes::NGFF_CT_012,
                &ptr(&at, "input"),
                match dataset_path {
                    Some(dp) => {
                        format!("expected input.path {dp:?} (the dataset's array), found none")
                    }
                    None => "expected input.path (the dataset's array), found none".to_string(),
                },
            ),
        }
        if input.contains_key("name") {
            sink.emit(
                scope,
                codes::NGFF_CT_013,
                &ptr(&ptr(&at, "input"), "name"),
                "expected no input.name in a dataset transformation (the input is the array at input.path), found one",
            );
        }
    }
    let mut intrinsic = None;
    if let Some(Value::Object(output)) = t.get("output") {
        match output.get("name") {
            Some(Value::String(n)) => {
                if !systems.iter().any(|s| &s.name == n) {
                    let known: Vec<&str> = systems.iter().map(|s| s.name.as_str()).collect();
                    sink.emit(
                        scope,
                        codes::NGFF_CT_012,
                        &ptr(&ptr(&at, "output"), "name"),
                        format!("expected output.name to name a coordinate system of the multiscale ({}), found {n:?}", known.join(", ")),
                    );
                }
                intrinsic = Some(n.clone());
            }
            Some(_) => {}
            None => sink.emit(
                scope,
                codes::NGFF_CT_012,
                &ptr(&at, "output"),
                "expected output.name (the multiscale's intrinsic coordinate system), found none",
            ),
        }
        if output.get("path").is_some_and(|p| !p.is_null()) {
            sink.emit(
                scope,
                codes::NGFF_CT_013,
                &ptr(&ptr(&at, "output"), "path"),
                "expected no output.path in a dataset transformation (the intrinsic system is in the same group), found one",
            );
        }
    }
    intrinsic
}

/// 0.6 `multiscales > coordinateTransformations`: between the intrinsic system and another
/// system of the multiscale, or one of a child labels group.
pub(crate) fn check_multiscale_transforms(
    sink: &mut Sink<'_>,
    scope: &Scope,
    ct: &Value,
    at: &str,
    intrinsic: Option<&str>,
    systems: &[System],
) {
    let Value::Array(list) = ct else {
        sink.emit(
            scope,
            codes::NGFF_CT_006,
            at,
            format!(
                "expected coordinateTransformations to be a list, found {}",
                kind(ct)
            ),
        );
        return;
    };
    if list.is_empty() {
        sink.emit(
            scope,
            codes::NGFF_CT_006,
            at,
            "expected at least one transformation, found an empty list",
        );
    }
    for (i, t) in list.iter().enumerate() {
        let at_i = ptr(at, i);
        let dims = (
            dims_of(t.get("input"), systems),
            dims_of(t.get("output"), systems),
        );
        check_transform(sink, scope, t, &at_i, dims);
        let refs: Vec<(&str, Option<&str>, Option<&str>)> = ["input", "output"]
            .into_iter()
            .filter_map(|key| {
                let io = t.get(key)?.as_object()?;
                Some((
                    key,
                    io.get("name").and_then(Value::as_str),
                    io.get("path").and_then(Value::as_str),
                ))
            })
            .collect();
        if refs.len() < 2 {
            continue; // CT-007 reported the shape
        }
        let mut names_ok = true;
        for (key, name, _) in &refs {
            if name.is_none() {
                names_ok = false;
                sink.emit(
                    scope,
                    codes::NGFF_CT_014,
                    &ptr(&at_i, key),
                    format!("expected {key}.name (a coordinate system name), found none"),
                );
            }
        }
        if !names_ok {
            continue;
        }
        let is_intrinsic =
            |r: &(&str, Option<&str>, Option<&str>)| r.2.is_none() && r.1 == intrinsic;
        if let Some(intr) = intrinsic
            && !refs.iter().any(is_intrinsic)
        {
            sink.emit(
                scope,
                codes::NGFF_CT_014,
                &at_i,
                format!("expected input or output to be the intrinsic coordinate system {intr:?} (without path), found neither"),
            );
            continue;
        }
        for r in &refs {
            if intrinsic.is_some()
                && is_intrinsic(r)
                && refs.iter().filter(|x| is_intrinsic(x)).count() == 1
            {
                continue;
            }
            let (key, Some(name), path) = *r else {
                continue;
            };
            match path {
                None => {
                    if !systems.iter().any(|s| s.name == name) {
                        sink.emit(
                            scope,
                            codes::NGFF_CT_014,
                            &ptr(&ptr(&at_i, key), "name"),
                            format!("expected {key}.name to name a coordinate system of the multiscale, found {name:?}"),
                        );
                    }
                }
                Some(p) => {
                    let ty = t.get("type").and_then(Value::as_str).unwrap_or("");
                    if !matches!(ty, "identity" | "scale" | "translation") {
                        sink.emit(
                            scope,
                            codes::NGFF_CT_014,
                            &ptr(&at_i, "type"),
                            format!("expected an identity, scale or translation to the labels group {p:?}, found {ty:?}"),
                        );
                    }
                }
            }
        }
    }
}

/// Graph connectedness (§"Additional details"): every coordinate system of a multiscale
/// is linked to the intrinsic one by transformations. `edges` are pairs of names.
pub(crate) fn check_connected(
    sink: &mut Sink<'_>,
    scope: &Scope,
    at: &str,
    systems: &[System],
    intrinsic: &str,
    edges: &[(String, String)],
) {
    let mut reached: HashSet<&str> = HashSet::from([intrinsic]);
    loop {
        let before = reached.len();
        for (a, b) in edges {
            if reached.contains(a.as_str()) {
                reached.insert(b.as_str());
            }
            if reached.contains(b.as_str()) {
                reached.insert(a.as_str());
            }
        }
        if reached.len() == before {
            break;
        }
    }
    for s in systems {
        if !reached.contains(s.name.as_str()) {
            sink.emit(
                scope,
                codes::NGFF_CS_003,
                &ptr(at, s.index),
                format!("expected coordinate system {:?} to be linked to the intrinsic system {intrinsic:?} by transformations, found no path", s.name),
            );
        }
    }
}
