//! `labels` (the labels group) and `image-label` (a label image). Spec: §"labels metadata".

use crate::codes;
use std::collections::HashMap;

use serde_json::Value;

use crate::context::{Scope, Sink, as_int, first_duplicate, kind, ptr, show};

pub(crate) fn check_labels_list(sink: &mut Sink<'_>, scope: &Scope, labels: &Value, at: &str) {
    match labels {
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if !v.is_string() {
                    sink.emit(
                        scope,
                        codes::NGFF_LBL_001,
                        &ptr(at, i),
                        format!("expected a label image path string, found {}", kind(v)),
                    );
                }
            }
        }
        v => sink.emit(
            scope,
            codes::NGFF_LBL_001,
            at,
            format!("expected labels to be a list of paths, found {}", kind(v)),
        ),
    }
}

fn check_label_value(
    sink: &mut Sink<'_>,
    scope: &Scope,
    code: codes::Code,
    item: &Value,
    at: &str,
    what: &str,
) -> Option<String> {
    let Value::Object(obj) = item else {
        sink.emit(
            scope,
            code,
            at,
            format!("expected a {what} object, found {}", kind(item)),
        );
        return None;
    };
    match obj.get("label-value") {
        None => {
            sink.emit(
                scope,
                code,
                at,
                format!("expected the key label-value in the {what}, found none"),
            );
            None
        }
        Some(v) if as_int(v).is_some() => Some(crate::context::canonical(v)),
        Some(v) => {
            sink.emit(
                scope,
                code,
                &ptr(at, "label-value"),
                format!("expected label-value to be an integer, found {}", show(v)),
            );
            None
        }
    }
}

pub(crate) fn check_image_label(
    sink: &mut Sink<'_>,
    scope: &Scope,
    il: &Value,
    at: &str,
    namespaced: bool,
) {
    let Value::Object(obj) = il else {
        sink.emit(
            scope,
            codes::NGFF_LBL_002,
            at,
            format!("expected image-label to be an object, found {}", kind(il)),
        );
        return;
    };
    if !namespaced && !obj.contains_key("version") {
        sink.emit(
            scope,
            codes::NGFF_VER_003,
            at,
            "expected the key version in image-label, found none",
        );
    }
    match obj.get("colors") {
        None => sink.emit(
            scope,
            codes::NGFF_LBL_006,
            at,
            "expected the key colors in image-label, found none",
        ),
        Some(Value::Array(colors)) if colors.is_empty() => {
            sink.emit(
                scope,
                codes::NGFF_LBL_003,
                &ptr(at, "colors"),
                "expected at least one color, found an empty list",
            );
        }
        Some(Value::Array(colors)) => {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (i, c) in colors.iter().enumerate() {
                let at_i = ptr(&ptr(at, "colors"), i);
                if let Some(value) =
                    check_label_value(sink, scope, codes::NGFF_LBL_003, c, &at_i, "color")
                    && let Some(j) = seen.insert(value.clone(), i)
                {
                    sink.emit(
                        scope,
                        codes::NGFF_LBL_005,
                        &ptr(&at_i, "label-value"),
                        format!(
                            "expected unique label-value entries, found {value} at {j} and {i}"
                        ),
                    );
                }
                if let Some(rgba) = c.get("rgba") {
                    let ok = rgba.as_array().is_some_and(|a| {
                        a.len() == 4
                            && a.iter()
                                .all(|v| as_int(v).is_some_and(|x| (0..=255).contains(&x)))
                    });
                    if !ok {
                        sink.emit(
                            scope,
                            codes::NGFF_LBL_004,
                            &ptr(&at_i, "rgba"),
                            format!(
                                "expected rgba to be four integers between 0 and 255, found {}",
                                show(rgba)
                            ),
                        );
                    }
                }
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_LBL_003,
            &ptr(at, "colors"),
            format!("expected colors to be a list, found {}", kind(v)),
        ),
    }
    match obj.get("properties") {
        None => {}
        Some(Value::Array(props)) if props.is_empty() => {
            sink.emit(
                scope,
                codes::NGFF_LBL_007,
                &ptr(at, "properties"),
                "expected at least one property, found an empty list",
            );
        }
        Some(Value::Array(props)) => {
            for (i, p) in props.iter().enumerate() {
                check_label_value(
                    sink,
                    scope,
                    codes::NGFF_LBL_007,
                    p,
                    &ptr(&ptr(at, "properties"), i),
                    "property",
                );
            }
            if let Some((a, b)) = first_duplicate(props) {
                sink.emit(
                    scope,
                    codes::NGFF_LBL_007,
                    &ptr(&ptr(at, "properties"), b),
                    format!("expected distinct properties, found item {b} equal to item {a}"),
                );
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_LBL_007,
            &ptr(at, "properties"),
            format!("expected properties to be a list, found {}", kind(v)),
        ),
    }
    match obj.get("source") {
        None => {}
        Some(Value::Object(src)) => {
            if let Some(img) = src.get("image")
                && !img.is_string()
            {
                sink.emit(
                    scope,
                    codes::NGFF_LBL_008,
                    &ptr(&ptr(at, "source"), "image"),
                    format!("expected source image to be a string, found {}", kind(img)),
                );
            }
        }
        Some(v) => sink.emit(
            scope,
            codes::NGFF_LBL_008,
            &ptr(at, "source"),
            format!("expected source to be an object, found {}", kind(v)),
        ),
    }
}

/// The label values that have a color, for the data rules.
pub(crate) fn color_values(il: &Value) -> Option<Vec<i128>> {
    il.get("colors")?
        .as_array()?
        .iter()
        .map(|c| c.get("label-value").and_then(as_int))
        .collect()
}
