//! `plate` and `well`: high-content screening layout. Spec: §"plate metadata",
//! §"well metadata".

use crate::codes;
use std::collections::HashMap;

use ome_core::metadata::NgffVersion;
use serde_json::{Map, Value};

use crate::context::{Scope, Sink, as_int, first_duplicate, kind, ptr, show};

fn alphanumeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// 0.6 §well-md: a Zarr node name with the recommended character set.
fn node_name(s: &str) -> bool {
    !s.is_empty()
        && !s.bytes().all(|b| b == b'.')
        && !s.starts_with("__")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Checks `rows` or `columns`; returns the names (None where an entry has no name).
fn check_names(
    sink: &mut Sink<'_>,
    scope: &Scope,
    plate: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Vec<Option<String>> {
    let at = ptr(at, key);
    let list = match plate.get(key) {
        Some(Value::Array(l)) if !l.is_empty() => l,
        Some(Value::Array(_)) => {
            sink.emit(
                scope,
                codes::NGFF_PL_002,
                &at,
                format!("expected at least one entry in {key}, found an empty list"),
            );
            return Vec::new();
        }
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_PL_002,
                &at,
                format!("expected {key} to be a list, found {}", kind(v)),
            );
            return Vec::new();
        }
        None => return Vec::new(),
    };
    let mut names = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, entry) in list.iter().enumerate() {
        let at_i = ptr(&at, i);
        let name = match entry.get("name") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                sink.emit(
                    scope,
                    codes::NGFF_PL_002,
                    &ptr(&at_i, "name"),
                    format!("expected the name to be a string, found {}", kind(v)),
                );
                None
            }
            None if entry.is_object() => {
                sink.emit(
                    scope,
                    codes::NGFF_PL_002,
                    &at_i,
                    format!("expected the key name in the {key} entry, found none"),
                );
                None
            }
            None => {
                sink.emit(
                    scope,
                    codes::NGFF_PL_002,
                    &at_i,
                    format!("expected an object, found {}", kind(entry)),
                );
                None
            }
        };
        if let Some(n) = &name {
            if !alphanumeric(n) {
                sink.emit(
                    scope,
                    codes::NGFF_PL_003,
                    &ptr(&at_i, "name"),
                    format!("expected an alphanumeric name, found {n:?}"),
                );
            }
            if let Some(j) = seen.insert(n.clone(), i) {
                sink.emit(
                    scope,
                    codes::NGFF_PL_004,
                    &ptr(&at_i, "name"),
                    format!("expected unique names in {key}, found {n:?} at {j} and {i}"),
                );
            }
        }
        names.push(name);
    }
    if seen.len() == list.len()
        && let Some((a, b)) = first_duplicate(list)
    {
        sink.emit(
            scope,
            codes::NGFF_PL_004,
            &ptr(&at, b),
            format!("expected distinct entries in {key}, found item {b} equal to item {a}"),
        );
    }
    names
}

#[allow(clippy::too_many_arguments)]
fn check_nonneg_int(
    sink: &mut Sink<'_>,
    scope: &Scope,
    code: codes::Code,
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    positive: bool,
    integer: bool,
) {
    let Some(v) = obj.get(key) else { return };
    let ok = if integer {
        as_int(v).is_some_and(|x| if positive { x > 0 } else { x >= 0 })
    } else {
        v.as_f64()
            .is_some_and(|x| if positive { x > 0.0 } else { x >= 0.0 })
    };
    if !ok {
        let what = match (positive, integer) {
            (true, true) => "a positive integer",
            (false, true) => "a non-negative integer",
            (true, false) => "a positive number",
            (false, false) => "a non-negative number",
        };
        sink.emit(
            scope,
            code,
            &ptr(at, key),
            format!("expected {key} to be {what}, found {}", show(v)),
        );
    }
}

pub(crate) fn check_plate(
    sink: &mut Sink<'_>,
    scope: &Scope,
    plate: &Value,
    at: &str,
    namespaced: bool,
) {
    let Value::Object(obj) = plate else {
        sink.emit(
            scope,
            codes::NGFF_PL_001,
            at,
            format!("expected plate to be an object, found {}", kind(plate)),
        );
        return;
    };
    let v04 = scope.version >= NgffVersion::V0_4;
    if !namespaced && !obj.contains_key("version") {
        sink.emit(
            scope,
            codes::NGFF_VER_004,
            at,
            "expected the key version in the plate, found none",
        );
    }
    for key in ["rows", "columns", "wells"] {
        if !obj.contains_key(key) {
            sink.emit(
                scope,
                codes::NGFF_PL_001,
                at,
                format!("expected the key {key} in the plate, found none"),
            );
        }
    }
    match obj.get("name") {
        None => sink.emit(
            scope,
            codes::NGFF_PL_011,
            at,
            "expected the key name in the plate, found none",
        ),
        Some(Value::String(_)) => {}
        Some(v) => sink.emit(
            scope,
            codes::NGFF_PL_001,
            &ptr(at, "name"),
            format!("expected the plate name to be a string, found {}", kind(v)),
        ),
    }
    let rows = check_names(sink, scope, obj, "rows", at);
    let columns = check_names(sink, scope, obj, "columns", at);
    check_nonneg_int(
        sink,
        scope,
        codes::NGFF_PL_010,
        obj,
        "field_count",
        at,
        true,
        v04,
    );
    match obj.get("wells") {
        None => {}
        Some(Value::Array(wells)) if wells.is_empty() => {
            sink.emit(
                scope,
                codes::NGFF_PL_005,
                &ptr(at, "wells"),
                "expected at least one well, found an empty list",
            );
        }
        Some(Value::Array(wells)) => {
            let mut paths: HashMap<&str, usize> = HashMap::new();
            for (i, w) in wells.iter().enumerate() {
                let at_i = ptr(&ptr(at, "wells"), i);
                let Value::Object(well) = w else {
                    sink.emit(
                        scope,
                        codes::NGFF_PL_005,
                        &at_i,
                        format!("expected a well object, found {}", kind(w)),
                    );
                    continue;
                };
                let path = match well.get("path") {
                    Some(Value::String(p)) => Some(p.as_str()),
                    Some(v) => {
                        sink.emit(
                            scope,
                            codes::NGFF_PL_005,
                            &ptr(&at_i, "path"),
                            format!("expected the well path to be a string, found {}", kind(v)),
                        );
                        None
                    }
                    None => {
                        sink.emit(
                            scope,
                            codes::NGFF_PL_005,
                            &at_i,
                            "expected the key path in the well, found none",
                        );
                        None
                    }
                };
                if let Some(p) = path
                    && let Some(j) = paths.insert(p, i)
                {
                    sink.emit(
                        scope,
                        codes::NGFF_PL_005,
                        &ptr(&at_i, "path"),
                        format!("expected unique well paths, found {p:?} at {j} and {i}"),
                    );
                }
                let mut index = |key: &str| -> Option<usize> {
                    match well.get(key) {
                        None => {
                            sink.emit(
                                scope,
                                codes::NGFF_PL_006,
                                &at_i,
                                format!("expected the key {key} in the well, found none"),
                            );
                            None
                        }
                        Some(v) => match as_int(v) {
                            Some(x) if x >= 0 => usize::try_from(x).ok(),
                            _ => {
                                sink.emit(
                                    scope,
                                    codes::NGFF_PL_006,
                                    &ptr(&at_i, key),
                                    format!(
                                        "expected {key} to be a non-negative integer, found {}",
                                        show(v)
                                    ),
                                );
                                None
                            }
                        },
                    }
                };
                let (ri, ci) = (index("rowIndex"), index("columnIndex"));
                if let Some(p) = path {
                    check_well_path(sink, scope, p, ri, ci, &rows, &columns, &at_i);
                }
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_PL_005,
            &ptr(at, "wells"),
            format!("expected wells to be a list, found {}", kind(v)),
        ),
    }
    match obj.get("acquisitions") {
        None => {}
        Some(Value::Array(acqs)) => {
            let mut ids: HashMap<i128, usize> = HashMap::new();
            for (i, a) in acqs.iter().enumerate() {
                let at_i = ptr(&ptr(at, "acquisitions"), i);
                let Value::Object(acq) = a else {
                    sink.emit(
                        scope,
                        codes::NGFF_PL_008,
                        &at_i,
                        format!("expected an acquisition object, found {}", kind(a)),
                    );
                    continue;
                };
                match acq.get("id") {
                    None => sink.emit(
                        scope,
                        codes::NGFF_PL_008,
                        &at_i,
                        "expected the key id in the acquisition, found none",
                    ),
                    Some(v) => {
                        let id = if v04 {
                            as_int(v).filter(|x| *x >= 0)
                        } else {
                            v.as_f64().map(|f| f as i128)
                        };
                        match id {
                            Some(id) => {
                                if let Some(j) = ids.insert(id, i) {
                                    sink.emit(scope, codes::NGFF_PL_008, &ptr(&at_i, "id"), format!("expected unique acquisition ids, found {id} at {j} and {i}"));
                                }
                            }
                            None => sink.emit(
                                scope,
                                codes::NGFF_PL_008,
                                &ptr(&at_i, "id"),
                                format!(
                                    "expected id to be a non-negative integer, found {}",
                                    show(v)
                                ),
                            ),
                        }
                    }
                }
                check_nonneg_int(
                    sink,
                    scope,
                    codes::NGFF_PL_009,
                    acq,
                    "maximumfieldcount",
                    &at_i,
                    true,
                    v04,
                );
                check_nonneg_int(
                    sink,
                    scope,
                    codes::NGFF_PL_009,
                    acq,
                    "starttime",
                    &at_i,
                    false,
                    v04,
                );
                check_nonneg_int(
                    sink,
                    scope,
                    codes::NGFF_PL_009,
                    acq,
                    "endtime",
                    &at_i,
                    false,
                    v04,
                );
                for key in ["name", "description"] {
                    if let Some(v) = acq.get(key).filter(|v| !v.is_string()) {
                        sink.emit(
                            scope,
                            codes::NGFF_PL_009,
                            &ptr(&at_i, key),
                            format!("expected {key} to be a string, found {}", kind(v)),
                        );
                    }
                }
                for key in ["name", "maximumfieldcount"] {
                    if !acq.contains_key(key) {
                        sink.emit(
                            scope,
                            codes::NGFF_PL_012,
                            &at_i,
                            format!("expected the key {key} in the acquisition, found none"),
                        );
                    }
                }
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_PL_008,
            &ptr(at, "acquisitions"),
            format!("expected acquisitions to be a list, found {}", kind(v)),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_well_path(
    sink: &mut Sink<'_>,
    scope: &Scope,
    path: &str,
    ri: Option<usize>,
    ci: Option<usize>,
    rows: &[Option<String>],
    columns: &[Option<String>],
    at: &str,
) {
    let at_path = ptr(at, "path");
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() != 2 || !parts.iter().all(|p| alphanumeric(p)) {
        // 0.1-0.3 have no path grammar; 0.4+ MUST be "<row>/<column>".
        sink.emit(
            scope,
            codes::NGFF_PL_007,
            &at_path,
            format!("expected the well path as <row name>/<column name>, found {path:?}"),
        );
        return;
    }
    let row = ri.map(|i| rows.get(i).cloned().flatten());
    let col = ci.map(|i| columns.get(i).cloned().flatten());
    if let (Some(i), Some(None)) = (ri, &row)
        && rows.len() <= i
        && !rows.is_empty()
    {
        sink.emit(
            scope,
            codes::NGFF_PL_007,
            &ptr(at, "rowIndex"),
            format!("expected rowIndex below {}, found {i}", rows.len()),
        );
    }
    if let (Some(i), Some(None)) = (ci, &col)
        && columns.len() <= i
        && !columns.is_empty()
    {
        sink.emit(
            scope,
            codes::NGFF_PL_007,
            &ptr(at, "columnIndex"),
            format!("expected columnIndex below {}, found {i}", columns.len()),
        );
    }
    if let (Some(Some(r)), Some(Some(c))) = (&row, &col) {
        let want = format!("{r}/{c}");
        if want != path {
            sink.emit(
                scope,
                codes::NGFF_PL_007,
                &at_path,
                format!(
                    "expected path {want:?} (rows[{}] / columns[{}]), found {path:?}",
                    ri.unwrap_or(0),
                    ci.unwrap_or(0)
                ),
            );
        }
    }
}

pub(crate) fn check_well(
    sink: &mut Sink<'_>,
    scope: &Scope,
    well: &Value,
    at: &str,
    namespaced: bool,
) {
    let Value::Object(obj) = well else {
        sink.emit(
            scope,
            codes::NGFF_WL_001,
            at,
            format!("expected well to be an object, found {}", kind(well)),
        );
        return;
    };
    if !namespaced && !obj.contains_key("version") {
        sink.emit(
            scope,
            codes::NGFF_VER_003,
            at,
            "expected the key version in the well, found none",
        );
    }
    let images = match obj.get("images") {
        Some(Value::Array(i)) if !i.is_empty() => i,
        Some(Value::Array(_)) => {
            sink.emit(
                scope,
                codes::NGFF_WL_001,
                &ptr(at, "images"),
                "expected at least one image, found an empty list",
            );
            return;
        }
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_WL_001,
                &ptr(at, "images"),
                format!("expected images to be a list, found {}", kind(v)),
            );
            return;
        }
        None => {
            sink.emit(
                scope,
                codes::NGFF_WL_001,
                at,
                "expected the key images in the well, found none",
            );
            return;
        }
    };
    let mut paths: HashMap<&str, usize> = HashMap::new();
    for (i, img) in images.iter().enumerate() {
        let at_i = ptr(&ptr(at, "images"), i);
        let Value::Object(im) = img else {
            sink.emit(
                scope,
                codes::NGFF_WL_001,
                &at_i,
                format!("expected an image object, found {}", kind(img)),
            );
            continue;
        };
        match im.get("path") {
            Some(Value::String(p)) => {
                if scope.version >= NgffVersion::V0_6 {
                    if !node_name(p) {
                        sink.emit(
                            scope,
                            codes::NGFF_WL_002,
                            &ptr(&at_i, "path"),
                            format!("expected a field path of characters a-z, A-Z, 0-9, -, _ and . (not only periods, not starting with __), found {p:?}"),
                        );
                    }
                } else if !alphanumeric(p) {
                    sink.emit(
                        scope,
                        codes::NGFF_WL_002,
                        &ptr(&at_i, "path"),
                        format!("expected an alphanumeric field path, found {p:?}"),
                    );
                }
                if let Some(j) = paths.insert(p.as_str(), i) {
                    sink.emit(
                        scope,
                        codes::NGFF_WL_001,
                        &ptr(&at_i, "path"),
                        format!("expected unique image paths, found {p:?} at {j} and {i}"),
                    );
                }
            }
            Some(v) => sink.emit(
                scope,
                codes::NGFF_WL_002,
                &ptr(&at_i, "path"),
                format!("expected the path to be a string, found {}", kind(v)),
            ),
            None => sink.emit(
                scope,
                codes::NGFF_WL_002,
                &at_i,
                "expected the key path in the image, found none",
            ),
        }
        if let Some(a) = im.get("acquisition")
            && as_int(a).is_none()
        {
            sink.emit(
                scope,
                codes::NGFF_WL_003,
                &ptr(&at_i, "acquisition"),
                format!("expected acquisition to be an integer, found {}", show(a)),
            );
        }
    }
    if paths.len() == images.len()
        && let Some((a, b)) = first_duplicate(images)
    {
        sink.emit(
            scope,
            codes::NGFF_WL_001,
            &ptr(&ptr(at, "images"), b),
            format!("expected distinct images, found item {b} equal to item {a}"),
        );
    }
}
