//! The data depth: decode a bounded, evenly spread sample of chunks per level, check
//! chunk keys against the grid, label values against colors, and value ranges of lower
//! levels against level 0.

use crate::codes;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ome_core::zarr::{Hierarchy, ZarrFormat};
use ome_core::{Element, with_dyn_array};
use rayon::prelude::*;
use serde_json::Value;

use super::arrays::Level;
use crate::context::{Scope, Sink};
use crate::options::Options;

/// Per sampled region: value range and distinct label values, or a finding message.
type RegionStats = Result<(f64, f64, BTreeSet<i128>), String>;

/// Most distinct label values tracked per label image.
const MAX_DISTINCT_LABELS: usize = 65_536;

struct LevelStats {
    min: f64,
    max: f64,
    complete: bool,
    labels: BTreeSet<i128>,
}

pub(crate) fn check_levels(
    sink: &mut Sink<'_>,
    h: &Hierarchy,
    scope: &Scope,
    levels: &[Option<Level>],
    colors: Option<&[i128]>,
    options: &Options,
) {
    let mut stats: Vec<Option<LevelStats>> = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        let Some(level) = level else {
            stats.push(None);
            continue;
        };
        check_keys(sink, h, scope, level, options);
        let want_labels = colors.is_some() && i == 0;
        stats.push(decode(sink, h, scope, level, options, want_labels));
    }
    if let (Some(colors), Some(Some(s0))) = (colors, stats.first()) {
        let missing: Vec<i128> = s0
            .labels
            .iter()
            .filter(|v| **v != 0 && !colors.contains(v))
            .copied()
            .collect();
        if !missing.is_empty()
            && let Some(Some(l0)) = levels.first()
        {
            let s = Scope::new(&scope.node, &scope.document, scope.version);
            let shown: Vec<String> = missing.iter().take(10).map(ToString::to_string).collect();
            sink.emit(&s, codes::NGFF_DATA_003, "", format!(
                    "expected every non-zero label value in {} to have a color, found {} without: {}{}",
                    l0.node, missing.len(), shown.join(", "), if missing.len() > 10 { ", ..." } else { "" }
                ));
        }
    }
    if let Some(Some(s0)) = stats.first()
        && s0.complete
    {
        for (level, st) in levels.iter().zip(&stats).skip(1) {
            let (Some(level), Some(st)) = (level, st) else {
                continue;
            };
            if st.min < s0.min || st.max > s0.max {
                let s = Scope::new(&level.node, level.document(), scope.version);
                sink.emit_in(
                    &s,
                    None,
                    codes::NGFF_DATA_004,
                    "",
                    format!(
                        "expected values within level 0's range [{}, {}], found [{}, {}]",
                        s0.min, s0.max, st.min, st.max
                    ),
                );
            }
        }
    }
}

/// Decodes a sample of chunk regions of one level.
fn decode(
    sink: &mut Sink<'_>,
    h: &Hierarchy,
    scope: &Scope,
    level: &Level,
    options: &Options,
    want_labels: bool,
) -> Option<LevelStats> {
    let s = Scope::new(&level.node, level.document(), scope.version);
    let array = match h.array(&level.raw) {
        Ok(a) => a,
        Err(e) => {
            sink.emit_in(
                &s,
                None,
                codes::NGFF_DATA_001,
                "",
                format!(
                    "expected an array whose chunks can be read, found: {}",
                    e.message()
                ),
            );
            return None;
        }
    };
    let shape = level.shape.clone();
    let unit: Vec<u64> = level.chunks.clone();
    if shape.contains(&0) {
        return None;
    }
    let grid: Vec<u64> = shape
        .iter()
        .zip(&unit)
        .map(|(s, c)| s.div_ceil(*c))
        .collect();
    let total: u128 = grid
        .iter()
        .try_fold(1u128, |a, b| a.checked_mul(u128::from(*b)))
        .unwrap_or(u128::MAX);
    let max = options.data.max_chunks_per_array.max(1) as u128;
    let picks: Vec<u128> = if total <= max {
        (0..total).collect()
    } else {
        (0..max).map(|i| i.saturating_mul(total / max)).collect()
    };
    let complete = total <= max;
    let results: Vec<RegionStats> = picks
        .par_iter()
        .map(|&linear| {
            let mut idx = vec![0u64; grid.len()];
            let mut rest = linear;
            for d in (0..grid.len()).rev() {
                let g = u128::from(grid[d].max(1));
                idx[d] = u64::try_from(rest % g).unwrap_or(0);
                rest /= g;
            }
            let start: Vec<u64> = idx
                .iter()
                .zip(&unit)
                .map(|(i, c)| i.saturating_mul(*c))
                .collect();
            let size: Vec<u64> = start
                .iter()
                .zip(&unit)
                .zip(&shape)
                .map(|((s, c), n)| (*c).min(n - s))
                .collect();
            let arr = array.read_region(&start, &size).map_err(|e| {
                format!(
                    "expected the chunk region at {start:?} to decode, found: {}",
                    e.message()
                )
            })?;
            let mut min = f64::INFINITY;
            let mut max = f64::NEG_INFINITY;
            let mut labels = BTreeSet::new();
            with_dyn_array!(&arr, a, T => {
                for v in a.iter() {
                    let f = T::to_f64(*v);
                    if f < min { min = f; }
                    if f > max { max = f; }
                    if want_labels && labels.len() < MAX_DISTINCT_LABELS {
                        labels.insert(f as i128);
                    }
                }
            });
            Ok((min, max, labels))
        })
        .collect();
    let mut stats = LevelStats {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        complete,
        labels: BTreeSet::new(),
    };
    for r in results {
        match r {
            Ok((lo, hi, labels)) => {
                stats.min = stats.min.min(lo);
                stats.max = stats.max.max(hi);
                stats.labels.extend(labels);
            }
            Err(message) => {
                stats.complete = false;
                sink.emit_in(&s, None, codes::NGFF_DATA_001, "", message);
            }
        }
    }
    Some(stats)
}

/// Chunk files whose key lies outside the grid.
fn check_keys(sink: &mut Sink<'_>, h: &Hierarchy, scope: &Scope, level: &Level, options: &Options) {
    let root = h.root();
    let dir = if level.node.is_empty() {
        root.to_path_buf()
    } else {
        root.join(&level.node)
    };
    let grid: Vec<u64> = level
        .shape
        .iter()
        .zip(&level.chunks)
        .map(|(s, c)| s.div_ceil(*c))
        .collect();
    let meta = level.meta();
    let (prefix, sep) = match level.format {
        ZarrFormat::V2 => (
            None,
            meta.get("dimension_separator")
                .and_then(Value::as_str)
                .unwrap_or(".")
                .to_string(),
        ),
        ZarrFormat::V3 => {
            let enc = meta
                .pointer("/chunk_key_encoding/name")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let sep = meta
                .pointer("/chunk_key_encoding/configuration/separator")
                .and_then(Value::as_str)
                .unwrap_or(if enc == "v2" { "." } else { "/" });
            (if enc == "v2" { None } else { Some("c") }, sep.to_string())
        }
    };
    let max = options.data.max_listed_keys;
    let keys: Vec<String> = if ome_core::storage::Address::of_path(root).is_remote() {
        // An object store lists the keys itself; plain HTTP cannot list, and the rule is
        // not checked there.
        match h.list_keys(&level.node, max) {
            Ok(Some(keys)) => chunk_keys_of(keys, max),
            Ok(None) | Err(_) => return,
        }
    } else if h.local_root().is_none() {
        // A caller's source (the browser page): nothing to list.
        return;
    } else {
        let mut files = Vec::new();
        list_files(&dir, &dir, &mut files, max, 0, grid.len() + 2);
        files
            .iter()
            .map(|rel| rel.to_string_lossy().replace('\\', "/"))
            .collect()
    };
    let s = Scope::new(&level.node, level.document(), scope.version);
    let mut outside = Vec::new();
    for key in keys {
        if key.starts_with('.') || key == "zarr.json" {
            continue;
        }
        let body = match prefix {
            Some(p) => match key.strip_prefix(p) {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(sep.as_str()) {
                    Some(r) => r,
                    None => continue,
                },
                None => continue,
            },
            None => key.as_str(),
        };
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split(sep.as_str()).collect()
        };
        let Ok(idx) = parts
            .iter()
            .map(|p| p.parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let inside = idx.len() == grid.len() && idx.iter().zip(&grid).all(|(i, g)| i < g);
        if !inside {
            outside.push(key);
        }
    }
    if !outside.is_empty() {
        outside.sort();
        let shown: Vec<&str> = outside.iter().take(5).map(String::as_str).collect();
        sink.emit_in(
            &s,
            None,
            codes::NGFF_DATA_002,
            "",
            format!(
                "expected chunk keys inside the grid {grid:?}, found {} outside: {}{}",
                outside.len(),
                shown.join(", "),
                if outside.len() > 5 { ", ..." } else { "" }
            ),
        );
    }
}

/// The keys of a listing below an array that are not in a child node: a key under a
/// folder that holds Zarr metadata (`zarr.json`, `.zarray`, `.zgroup`) belongs to that node,
/// as a sub-directory with metadata does in the local walk. At most `max` keys.
fn chunk_keys_of(keys: Vec<String>, max: usize) -> Vec<String> {
    let nodes: BTreeSet<&str> = keys
        .iter()
        .filter_map(|k| {
            let (dir, name) = k.rsplit_once('/')?;
            matches!(name, "zarr.json" | ".zarray" | ".zgroup").then_some(dir)
        })
        .collect();
    let in_child = |k: &str| {
        let mut at = k;
        while let Some((dir, _)) = at.rsplit_once('/') {
            if nodes.contains(dir) {
                return true;
            }
            at = dir;
        }
        false
    };
    keys.iter()
        .filter(|k| !in_child(k))
        .take(max)
        .cloned()
        .collect()
}

fn list_files(
    base: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    max: usize,
    depth: usize,
    max_depth: usize,
) {
    if depth > max_depth || out.len() >= max {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= max {
            return;
        }
        let Ok(ft) = entry.file_type() else { continue };
        let path = entry.path();
        if ft.is_dir() {
            // A sub-directory holding zarr metadata is a child node, not chunks.
            if path.join(".zarray").exists()
                || path.join("zarr.json").exists()
                || path.join(".zgroup").exists()
            {
                continue;
            }
            list_files(base, &path, out, max, depth + 1, max_depth);
        } else if ft.is_file()
            && let Ok(rel) = path.strip_prefix(base)
        {
            out.push(rel.to_path_buf());
        }
    }
}
