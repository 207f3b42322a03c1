//! The 0.6 (RFC-5) transformation tree, walked once for the attribute rules
//! (`coordinates.rs`, which check every transformation in it) and the hierarchy rules
//! (`hierarchy/rfc5.rs`, which read the parameter arrays its transformations name).
//!
//! Three types wrap other transformations: the wrapper transforms of 0.6rc0
//! §"coordinateTransformations" metadata ("`input` … required … unless part of a wrapper
//! transform (`sequence`, `bijection`, `byDimension`)"), each defined under
//! §"Transformation types" (`coordinate_transformations.schema`: `$defs/sequence`,
//! `bijection`, `byDimension`). rc0 removed `inverseOf` (`version_history.md`), so it is
//! no wrapper here.
//! - §"sequence": `transformations`, applied in order; "the output of the last
//!   transformation is the result of the sequence". Only the ends touch the named spaces;
//!   the spaces in between are implicit, so only the first item's input and the last
//!   item's output dimensionality are known.
//! - §"bijection": `forward` and `inverse`; "the `forward` transformation's `input` and
//!   `output` are understood to match the bijection's, and the `inverse` transformation's
//!   `input` (`output`) matches the bijection's `output` (`input`)".
//! - §"byDimension": `transformations`, entries with `inputAxes`, `outputAxes` and
//!   `transformation`; the axis lists index the parent's input and output systems, so
//!   their lengths are the dimensionality of the entry's transformation.
//!
//! The walk keeps its own stack, so a hostile nesting costs heap, not call stack. It
//! adds no depth limit of its own: documents read from disk are bounded by the parser
//! (serde_json refuses nesting deeper than 128 levels; a Zarr store also applies
//! `ome_core::Limits::max_json_depth`), as they were when the two rule files recursed.

use serde_json::{Map, Value};

use crate::context::{as_int, ptr};

/// Known input and output dimensionality of a transformation.
pub(crate) type Dims = (Option<usize>, Option<usize>);

/// How a `byDimension` entry's `inputAxes` and `outputAxes` give the dimensionality of its
/// transformation. The two differ only for a list that holds something other than axis
/// indices, which the attribute rules report (NGFF-CT-008).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryAxes {
    /// The length of each list, whatever it holds: the hierarchy rules, sizing the
    /// parameter arrays a wrapped transformation names.
    Listed,
    /// The length of each list when every item is an axis index (a non-negative integer),
    /// unknown otherwise: the attribute rules, which check nothing against a list they
    /// reported.
    Indices,
}

/// One transformation of the tree.
#[derive(Debug, Clone)]
pub(crate) struct Node<'v> {
    pub(crate) t: &'v Value,
    /// Its JSON Pointer.
    pub(crate) at: String,
    pub(crate) dims: Dims,
    /// Inside a wrapper: `input` and `output` may be omitted.
    pub(crate) nested: bool,
}

/// Every transformation of the tree under `t` (at `at`, with `dims`), `t` first, each
/// before the ones it wraps, in document order.
pub(crate) fn walk<'v>(t: &'v Value, at: &str, dims: Dims, axes: EntryAxes) -> Walk<'v> {
    Walk {
        pending: vec![Node {
            t,
            at: at.to_string(),
            dims,
            nested: false,
        }],
        axes,
    }
}

/// The iterator of [`walk`].
#[derive(Debug)]
pub(crate) struct Walk<'v> {
    /// Transformations still to visit, the next one last.
    pending: Vec<Node<'v>>,
    axes: EntryAxes,
}

impl<'v> Iterator for Walk<'v> {
    type Item = Node<'v>;

    fn next(&mut self) -> Option<Node<'v>> {
        let node = self.pending.pop()?;
        let start = self.pending.len();
        wrapped(&node, self.axes, &mut self.pending);
        // Children were pushed in document order; the first must come out first.
        self.pending[start..].reverse();
        Some(node)
    }
}

/// Pushes the transformations `parent` wraps directly, in document order.
fn wrapped<'v>(parent: &Node<'v>, axes: EntryAxes, out: &mut Vec<Node<'v>>) {
    let (t, at, (din, dout)) = (parent.t, parent.at.as_str(), parent.dims);
    let mut push = |t: &'v Value, at: String, dims: Dims| {
        out.push(Node {
            t,
            at,
            dims,
            nested: true,
        });
    };
    match t.get("type").and_then(Value::as_str) {
        Some("sequence") => {
            let Some(list) = t.get("transformations").and_then(Value::as_array) else {
                return;
            };
            let n = list.len();
            for (i, child) in list.iter().enumerate() {
                // Only the ends touch named spaces.
                let dims = (
                    if i == 0 { din } else { None },
                    if i + 1 == n { dout } else { None },
                );
                push(child, ptr(&ptr(at, "transformations"), i), dims);
            }
        }
        Some("bijection") => {
            for (key, dims) in [("forward", (din, dout)), ("inverse", (dout, din))] {
                if let Some(child) = t.get(key) {
                    push(child, ptr(at, key), dims);
                }
            }
        }
        Some("byDimension") => {
            let Some(list) = t.get("transformations").and_then(Value::as_array) else {
                return;
            };
            for (i, entry) in list.iter().enumerate() {
                let Value::Object(entry) = entry else {
                    continue;
                };
                let Some(child) = entry.get("transformation") else {
                    continue;
                };
                let dims = (
                    axes_len(entry, "inputAxes", axes),
                    axes_len(entry, "outputAxes", axes),
                );
                let at = ptr(&ptr(&ptr(at, "transformations"), i), "transformation");
                push(child, at, dims);
            }
        }
        _ => {}
    }
}

/// The number of axes a `byDimension` entry lists under `key`.
fn axes_len(entry: &Map<String, Value>, key: &str, axes: EntryAxes) -> Option<usize> {
    let list = entry.get(key)?.as_array()?;
    match axes {
        EntryAxes::Listed => Some(list.len()),
        EntryAxes::Indices => list
            .iter()
            .all(|v| as_int(v).is_some_and(|i| usize::try_from(i).is_ok()))
            .then_some(list.len()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Each node's pointer, dimensions and nesting, in walk order.
    fn nodes(t: &Value, dims: Dims, axes: EntryAxes) -> Vec<(String, Dims, bool)> {
        walk(t, "/t", dims, axes)
            .map(|n| (n.at, n.dims, n.nested))
            .collect()
    }

    fn at(s: &str) -> String {
        format!("/t{s}")
    }

    #[test]
    fn a_sequence_inside_a_by_dimension_gets_the_entry_dims_at_its_ends() {
        let t = json!({"type": "byDimension", "transformations": [
            {"inputAxes": [0, 1], "outputAxes": [0, 1], "transformation": {
                "type": "sequence", "transformations": [
                    {"type": "scale", "scale": [2, 2]},
                    {"type": "identity"},
                    {"type": "translation", "translation": [1, 1]}
                ]}},
            {"inputAxes": [2], "outputAxes": [2], "transformation": {"type": "scale", "scale": [3]}}
        ]});
        let seq = "/transformations/0/transformation";
        let want = vec![
            (at(""), (Some(3), Some(3)), false),
            (at(seq), (Some(2), Some(2)), true),
            (
                at(&format!("{seq}/transformations/0")),
                (Some(2), None),
                true,
            ),
            (at(&format!("{seq}/transformations/1")), (None, None), true),
            (
                at(&format!("{seq}/transformations/2")),
                (None, Some(2)),
                true,
            ),
            (
                at("/transformations/1/transformation"),
                (Some(1), Some(1)),
                true,
            ),
        ];
        for axes in [EntryAxes::Listed, EntryAxes::Indices] {
            assert_eq!(nodes(&t, (Some(3), Some(3)), axes), want, "{axes:?}");
        }
    }

    #[test]
    fn a_bijection_inverse_runs_from_output_to_input() {
        let t = json!({"type": "bijection",
            "forward": {"type": "affine", "path": "f"},
            "inverse": {"type": "sequence", "transformations": [{"type": "affine", "path": "i"}]}});
        assert_eq!(
            nodes(&t, (Some(2), Some(3)), EntryAxes::Indices),
            vec![
                (at(""), (Some(2), Some(3)), false),
                (at("/forward"), (Some(2), Some(3)), true),
                (at("/inverse"), (Some(3), Some(2)), true),
                (at("/inverse/transformations/0"), (Some(3), Some(2)), true),
            ]
        );
    }

    #[test]
    fn entry_axes_that_are_not_indices_count_only_when_listed() {
        let t = json!({"type": "byDimension", "transformations": [
            {"inputAxes": [0, "y", -1], "outputAxes": [0, 1.0], "transformation": {"type": "identity"}}
        ]});
        let child = |axes| nodes(&t, (None, None), axes)[1].1;
        assert_eq!(child(EntryAxes::Listed), (Some(3), Some(2)));
        assert_eq!(child(EntryAxes::Indices), (None, Some(2)));
    }

    #[test]
    fn malformed_wrappers_wrap_nothing() {
        for t in [
            json!({"type": "sequence"}),
            json!({"type": "sequence", "transformations": {"type": "scale"}}),
            json!({"type": "bijection"}),
            json!({"type": "byDimension", "transformations": [
                3, {"inputAxes": [0], "outputAxes": [0]}, null
            ]}),
            json!({"type": "Sequence", "transformations": [{"type": "identity"}]}),
            json!({"transformations": [{"type": "identity"}]}),
            json!([{"type": "identity"}]),
        ] {
            assert_eq!(nodes(&t, (None, None), EntryAxes::Listed).len(), 1, "{t}");
        }
    }

    #[test]
    fn hostile_nesting_does_not_grow_the_call_stack() {
        const DEPTH: usize = 2_000;
        // Building and dropping a value this deep recurses in serde_json itself: give
        // that a large stack, and the walk a small one that a recursion would overflow.
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(|| {
                let mut t = json!({"type": "scale", "scale": [1, 1]});
                for i in 0..DEPTH {
                    // Moved in by index: `json!` would copy `t` (it serializes what it
                    // interpolates), which is quadratic here.
                    let (mut wrapper, slot) = match i % 3 {
                        0 => (json!({"type": "sequence", "transformations": [null]}), "/transformations/0"),
                        1 => (json!({"type": "bijection", "forward": null, "inverse": {"type": "identity"}}), "/forward"),
                        _ => (json!({"type": "byDimension", "transformations": [
                            {"inputAxes": [0, 1], "outputAxes": [0, 1], "transformation": null}
                        ]}), "/transformations/0/transformation"),
                    };
                    *wrapper.pointer_mut(slot).expect("slot") = t;
                    t = wrapper;
                }
                let visited = std::thread::scope(|s| {
                    std::thread::Builder::new()
                        .stack_size(64 << 10)
                        .spawn_scoped(s, || walk(&t, "", (Some(2), Some(2)), EntryAxes::Indices).count())
                        .expect("spawn")
                        .join()
                        .expect("the walk did not overflow")
                });
                // Every level, plus each bijection's inverse and the innermost scale.
                assert_eq!(visited, DEPTH + DEPTH.div_ceil(3) + 1);
            })
            .expect("spawn")
            .join()
            .expect("no panic");
    }
}
