//! Array metadata of the levels of one multiscale: existence, dimensionality, data type,
//! order, `dimension_names` (0.5+), `dimension_separator` (0.2–0.4), scale vs shape.

use crate::codes;
use ome_core::metadata::NgffVersion;
use ome_core::zarr::{RawNode, ZarrFormat};
use serde_json::Value;

use crate::context::{Scope, Sink, show};

/// One level's array metadata, read raw.
#[derive(Debug, Clone)]
pub(crate) struct Level {
    /// Node path of the array.
    pub(crate) node: String,
    pub(crate) format: ZarrFormat,
    pub(crate) shape: Vec<u64>,
    /// Data type, normalised (`uint16`, `float32`; v2 byte order dropped).
    pub(crate) dtype: String,
    /// The stored chunk shape (outer chunks, i.e. shards, when sharded).
    pub(crate) chunks: Vec<u64>,
    pub(crate) raw: RawNode,
}

impl Level {
    pub(crate) fn document(&self) -> &'static str {
        match self.format {
            ZarrFormat::V2 => ".zarray",
            ZarrFormat::V3 => "zarr.json",
        }
    }

    pub(crate) fn meta(&self) -> &Value {
        self.raw.array_metadata.as_ref().unwrap_or(&Value::Null)
    }

    pub(crate) fn is_integer(&self) -> bool {
        self.dtype.starts_with("int") || self.dtype.starts_with("uint")
    }
}

/// Maps a Zarr v2 numpy type string to the v3 name (`<u2` → `uint16`).
fn v2_dtype(s: &str) -> String {
    let body = s.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = body.split_at(body.len().min(1));
    let bits = size.parse::<u32>().map(|b| b * 8).unwrap_or(0);
    match kind {
        "u" => format!("uint{bits}"),
        "i" => format!("int{bits}"),
        "f" => format!("float{bits}"),
        "c" => format!("complex{bits}"),
        "b" => "bool".into(),
        _ => s.to_string(),
    }
}

fn u64_list(v: Option<&Value>) -> Option<Vec<u64>> {
    v?.as_array()?.iter().map(Value::as_u64).collect()
}

/// Reads the shape, data type and chunk shape of an array node; `None` (with an
/// ARR-009 finding) when they are missing or malformed.
pub(crate) fn level(sink: &mut Sink<'_>, scope: &Scope, raw: RawNode) -> Option<Level> {
    let meta = raw.array_metadata.as_ref()?;
    let (doc, dtype, chunks) = match raw.format {
        ZarrFormat::V2 => (
            ".zarray",
            meta.get("dtype").and_then(Value::as_str).map(v2_dtype),
            u64_list(meta.get("chunks")),
        ),
        ZarrFormat::V3 => (
            "zarr.json",
            meta.get("data_type")
                .and_then(Value::as_str)
                .map(str::to_string),
            u64_list(meta.pointer("/chunk_grid/configuration/chunk_shape")),
        ),
    };
    let scope = Scope::new(&raw.path, doc, scope.version);
    let Some(shape) = u64_list(meta.get("shape")) else {
        sink.emit(
            &scope,
            codes::NGFF_ARR_009,
            "/shape",
            format!(
                "expected shape to be a list of non-negative integers, found {}",
                meta.get("shape").map_or("none".into(), show)
            ),
        );
        return None;
    };
    let Some(dtype) = dtype else {
        let key = if raw.format == ZarrFormat::V2 {
            "dtype"
        } else {
            "data_type"
        };
        sink.emit(
            &scope,
            codes::NGFF_ARR_009,
            &format!("/{key}"),
            format!(
                "expected {key} to be a string, found {}",
                meta.get(key).map_or("none".into(), show)
            ),
        );
        return None;
    };
    let chunks = chunks
        .filter(|c| c.len() == shape.len() && c.iter().all(|x| *x > 0))
        .unwrap_or_else(|| shape.iter().map(|s| (*s).max(1)).collect());
    Some(Level {
        node: raw.path.clone(),
        format: raw.format,
        shape,
        dtype,
        chunks,
        raw,
    })
}

/// Cross-level rules for the levels of one multiscale (`None` where a dataset did not
/// resolve to an array).
pub(crate) fn check_levels(
    sink: &mut Sink<'_>,
    scope: &Scope,
    levels: &[Option<Level>],
    axes: Option<&[String]>,
    scales: &[Option<Vec<f64>>],
) {
    let version = scope.version;
    for level in levels.iter().flatten() {
        let s = Scope::new(&level.node, level.document(), version);
        if let Some(axes) = axes {
            if level.shape.len() != axes.len() && version >= NgffVersion::V0_3 {
                sink.emit(
                    &s,
                    codes::NGFF_ARR_002,
                    "/shape",
                    format!(
                        "expected {} dimensions (one per axis), found {}",
                        axes.len(),
                        level.shape.len()
                    ),
                );
            }
            // 0.6rc0 no longer states the dimension_names clause (RFC-5 axes live in
            // coordinate systems), so ARR-005 stays a 0.5 rule.
            if level.format == ZarrFormat::V3 && version == NgffVersion::V0_5 {
                match level.meta().get("dimension_names") {
                    Some(Value::Array(names)) => {
                        let found: Vec<Option<&str>> = names.iter().map(Value::as_str).collect();
                        let want: Vec<Option<&str>> =
                            axes.iter().map(|a| Some(a.as_str())).collect();
                        if found != want {
                            sink.emit(
                                &s,
                                codes::NGFF_ARR_005,
                                "/dimension_names",
                                format!(
                                    "expected dimension_names [{}], found {}",
                                    axes.join(", "),
                                    show(&Value::Array(names.clone()))
                                ),
                            );
                        }
                    }
                    _ => sink.emit(
                        &s,
                        codes::NGFF_ARR_005,
                        "",
                        format!("expected dimension_names [{}], found none", axes.join(", ")),
                    ),
                }
            }
        }
        if level.format == ZarrFormat::V2 {
            let sep = level
                .meta()
                .get("dimension_separator")
                .and_then(Value::as_str)
                .unwrap_or(".");
            if sep != "/" {
                sink.emit(
                    &s,
                    codes::NGFF_ARR_006,
                    "/dimension_separator",
                    format!("expected dimension_separator \"/\", found {sep:?}"),
                );
            }
        }
    }
    let present: Vec<&Level> = levels.iter().flatten().collect();
    let Some(first) = present.first() else { return };
    for level in &present[1..] {
        let s = Scope::new(&level.node, level.document(), version);
        if level.dtype != first.dtype {
            let key = if level.format == ZarrFormat::V2 {
                "/dtype"
            } else {
                "/data_type"
            };
            sink.emit(
                &s,
                codes::NGFF_ARR_003,
                key,
                format!(
                    "expected data type {} (as {}), found {}",
                    first.dtype, first.node, level.dtype
                ),
            );
        }
        if level.shape.len() != first.shape.len() {
            sink.emit(
                &s,
                codes::NGFF_ARR_008,
                "/shape",
                format!(
                    "expected {} dimensions (as {}), found {}",
                    first.shape.len(),
                    first.node,
                    level.shape.len()
                ),
            );
        }
    }
    for pair in present.windows(2) {
        let (big, small) = (pair[0], pair[1]);
        if big.shape.len() == small.shape.len()
            && big.shape.iter().zip(&small.shape).any(|(b, s)| s > b)
        {
            let s = Scope::new(&small.node, small.document(), version);
            sink.emit(
                &s,
                codes::NGFF_ARR_004,
                "/shape",
                format!(
                    "expected a shape no larger than {:?} of the previous level {}, found {:?}",
                    big.shape, big.node, small.shape
                ),
            );
        }
    }
    // Scale ratios should follow shape ratios (a consistency hint, not a MUST).
    for i in 1..levels.len() {
        let (Some(Some(a)), Some(Some(b))) = (levels.get(i - 1), levels.get(i)) else {
            continue;
        };
        let (Some(Some(sa)), Some(Some(sb))) = (scales.get(i - 1), scales.get(i)) else {
            continue;
        };
        if a.shape.len() != b.shape.len() || sa.len() != a.shape.len() || sb.len() != a.shape.len()
        {
            continue;
        }
        for d in 0..a.shape.len() {
            if b.shape[d] == 0 || sa[d] == 0.0 {
                continue;
            }
            let shape_ratio = a.shape[d] as f64 / b.shape[d] as f64;
            let scale_ratio = sb[d] / sa[d];
            if (scale_ratio / shape_ratio - 1.0).abs() > 0.25 {
                let s = Scope::new(&scope.node, &scope.document, version);
                let name = axes
                    .and_then(|a| a.get(d))
                    .map_or_else(|| d.to_string(), Clone::clone);
                sink.emit(&s, codes::NGFF_ARR_007, "", format!(
                    "expected the scale of {} along {name} to grow by the shape ratio {shape_ratio:.3} from {}, found a ratio of {scale_ratio:.3}",
                    b.node, a.node
                ));
                break;
            }
        }
    }
}
