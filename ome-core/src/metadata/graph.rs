//! The transformation graph (0.6rc0, "coordinateTransformations metadata", "Graph
//! connectedness"): coordinate systems are nodes, transformations edges. Routes may run
//! against an edge's direction, through its closed-form inverse.

use std::collections::{BTreeSet, VecDeque};

use super::evaluate::TransformError;
use super::transforms::CoordinateTransformation;

/// A coordinate system in a graph: the group it is declared in (`None` for the group holding
/// the transformations) and its name.
pub type SystemKey = (Option<String>, String);

/// One step of a route: the index of a transformation and whether it is taken backwards
/// (through its inverse).
pub type Step = (usize, bool);

/// The coordinate systems and transformations of one group (a multiscale or a scene).
#[derive(Debug, Clone)]
pub struct TransformGraph<'a> {
    transforms: &'a [CoordinateTransformation],
    edges: Vec<(SystemKey, SystemKey)>,
}

fn key_of(end: Option<&super::transforms::CoordinateSystemRef>) -> Option<SystemKey> {
    let end = end?;
    Some((end.path.clone(), end.name.clone()?))
}

impl<'a> TransformGraph<'a> {
    /// The graph of `transforms`; those without a named `input` and `output` are no edge.
    pub fn new(transforms: &'a [CoordinateTransformation]) -> Self {
        let edges = transforms
            .iter()
            .map(|t| {
                key_of(t.input())
                    .zip(key_of(t.output()))
                    .unwrap_or_else(|| ((None, String::new()), (None, String::new())))
            })
            .collect();
        TransformGraph { transforms, edges }
    }

    /// Every coordinate system an edge touches, sorted.
    pub fn systems(&self) -> Vec<SystemKey> {
        let set: BTreeSet<SystemKey> = self
            .edges
            .iter()
            .filter(|(a, _)| !a.1.is_empty())
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        set.into_iter().collect()
    }

    /// The edges: input system, output system and transformation, in metadata order.
    pub fn edges(
        &self,
    ) -> impl Iterator<Item = (&SystemKey, &SystemKey, &CoordinateTransformation)> {
        self.edges
            .iter()
            .zip(self.transforms)
            .filter(|((a, _), _)| !a.1.is_empty())
            .map(|((a, b), t)| (a, b, t))
    }

    /// The shortest route from `from` to `to` (breadth first; forward edges before backward
    /// ones at each system), `Some(vec![])` when they are the same system.
    pub fn route(&self, from: &SystemKey, to: &SystemKey) -> Option<Vec<Step>> {
        let mut queue = VecDeque::from([(from.clone(), Vec::<Step>::new())]);
        let mut seen = BTreeSet::from([from.clone()]);
        while let Some((at, steps)) = queue.pop_front() {
            if &at == to {
                return Some(steps);
            }
            for (i, (a, b)) in self.edges.iter().enumerate() {
                if a.1.is_empty() {
                    continue;
                }
                for (start, end, backwards) in [(a, b, false), (b, a, true)] {
                    if start == &at && seen.insert(end.clone()) {
                        let mut next = steps.clone();
                        next.push((i, backwards));
                        queue.push_back((end.clone(), next));
                    }
                }
            }
        }
        None
    }

    /// Maps `point` from the system `from` to the system `to` along [`Self::route`].
    ///
    /// # Errors
    /// [`TransformError::Disconnected`] when no route exists; the errors of evaluating or
    /// inverting a transformation on the way.
    pub fn map_point(
        &self,
        from: &SystemKey,
        to: &SystemKey,
        point: &[f64],
    ) -> Result<Vec<f64>, TransformError> {
        self.map_point_with(from, to, point, None)
    }

    /// [`Self::map_point`], reading the vector fields of `displacements` and
    /// `coordinates` transformations on the way through `fields`.
    ///
    /// # Errors
    /// As [`Self::map_point`].
    pub fn map_point_with(
        &self,
        from: &SystemKey,
        to: &SystemKey,
        point: &[f64],
        fields: Option<&dyn super::evaluate::VectorFields>,
    ) -> Result<Vec<f64>, TransformError> {
        let steps = self
            .route(from, to)
            .ok_or_else(|| TransformError::Disconnected {
                from: label(from),
                to: label(to),
            })?;
        let mut p = point.to_vec();
        for (i, backwards) in steps {
            let t = &self.transforms[i];
            p = if backwards {
                t.inverse()?.apply_with(&p, fields)?
            } else {
                t.apply_with(&p, fields)?
            };
        }
        Ok(p)
    }
}

/// `name`, or `path#name` for a system of another group.
pub fn label(key: &SystemKey) -> String {
    match &key.0 {
        Some(path) => format!("{path}#{}", key.1),
        None => key.1.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_run_both_ways_through_inverses() {
        let ts: Vec<CoordinateTransformation> = serde_json::from_value(json!([
            {"type": "translation", "translation": [0, 348], "input": {"path": "tile_1", "name": "physical"}, "output": {"name": "world"}},
            {"type": "translation", "translation": [276, 0], "input": {"path": "tile_2", "name": "physical"}, "output": {"name": "world"}},
            {"type": "displacements", "path": "d", "input": {"name": "world"}, "output": {"name": "warped"}}
        ]))
        .unwrap();
        let g = TransformGraph::new(&ts);
        let t1 = (Some("tile_1".to_owned()), "physical".to_owned());
        let t2 = (Some("tile_2".to_owned()), "physical".to_owned());
        assert_eq!(g.route(&t1, &t2), Some(vec![(0, false), (1, true)]));
        assert_eq!(g.map_point(&t1, &t2, &[1.0, 1.0]).unwrap(), [-275.0, 349.0]);
        assert_eq!(g.systems().len(), 4);
        let warped = (None, "warped".to_owned());
        let err = g.map_point(&warped, &t1, &[0.0, 0.0]).unwrap_err();
        assert_eq!(err.transformation_type(), Some("displacements"));
        let nowhere = (None, "nowhere".to_owned());
        assert!(matches!(
            g.map_point(&t1, &nowhere, &[0.0, 0.0]),
            Err(TransformError::Disconnected { .. })
        ));
    }
}
