//! `multiscales` metadata (0.4 spec, "multiscales metadata"; 0.6 adds `coordinateSystems`).

use serde_json::{Map, Value};

use super::axes::{Axis, implicit_axes};
use super::evaluate::scale_translation_of;
use super::transforms::{CoordinateSystemRef, CoordinateTransformation};

ome_object! {
    /// One resolution level of a multiscale image.
    #[derive(Default)]
    pub struct Dataset ("a dataset object") {
        /// `path`: the array, relative to the image group.
        req "path" => pub path: String,
        /// `coordinateTransformations` (0.4+): exactly one `scale`, optionally followed by one
        /// `translation` (0.4 spec, "multiscales metadata").
        opt "coordinateTransformations" => pub coordinate_transformations: Option<Vec<CoordinateTransformation>>,
    }
}

impl Dataset {
    /// A dataset at `path` with a scale and an optional translation, as 0.4/0.5 write it.
    pub fn new(path: impl Into<String>, scale: Vec<f64>, translation: Option<Vec<f64>>) -> Self {
        let mut transforms = vec![CoordinateTransformation::scale(scale)];
        transforms.extend(translation.map(CoordinateTransformation::translation));
        Dataset {
            path: path.into(),
            coordinate_transformations: Some(transforms),
            extra: Map::new(),
        }
    }
}

ome_object! {
    /// A named coordinate system (0.6 / RFC-5 `coordinateSystems`).
    #[derive(Default)]
    pub struct CoordinateSystem ("a coordinate system object") {
        /// `name`: unique within the multiscale.
        req "name" => pub name: String,
        /// `axes` of the system.
        req "axes" => pub axes: Vec<Axis>,
    }
}

ome_object! {
    /// One entry of `multiscales`: a multi-resolution image.
    #[derive(Default)]
    pub struct Multiscale ("a multiscale object") {
        /// `version` (0.1–0.4 only; 0.5+ has one container version in `ome.version`). Kept as
        /// written, even when it names no known version.
        opt "version" => pub version: Option<String>,
        /// `name` (SHOULD).
        opt "name" => pub name: Option<String>,
        /// `axes` (0.3+; MUST in 0.4 and 0.5; 0.6 moves them into `coordinateSystems`).
        opt "axes" => pub axes: Option<Vec<Axis>>,
        /// `coordinateSystems` (0.6).
        opt "coordinateSystems" => pub coordinate_systems: Option<Vec<CoordinateSystem>>,
        /// `datasets`: the levels, highest resolution first.
        req "datasets" => pub datasets: Vec<Dataset>,
        /// `coordinateTransformations` applied to every level after the level's own ones.
        opt "coordinateTransformations" => pub coordinate_transformations: Option<Vec<CoordinateTransformation>>,
        /// `type`: the downscaling method (SHOULD).
        opt "type" => pub r#type: Option<String>,
        /// `metadata`: details of the downscaling method (SHOULD).
        opt "metadata" => pub metadata: Option<Value>,
    }
}

/// The first inline vector a list of transformations holds for `pick`.
fn find_vector(
    transforms: Option<&[CoordinateTransformation]>,
    pick: fn(&CoordinateTransformation) -> Option<&[f64]>,
) -> Option<&[f64]> {
    transforms?.iter().find_map(pick)
}

impl CoordinateSystem {
    /// A coordinate system named `name` with `axes`.
    pub fn new(name: impl Into<String>, axes: Vec<Axis>) -> Self {
        CoordinateSystem {
            name: name.into(),
            axes,
            extra: Map::new(),
        }
    }
}

impl Dataset {
    /// A 0.6 dataset at `path`: one `scale`, or a `sequence` of the scale and a translation
    /// when the translation is not zero, from the array (`input.path`) to the intrinsic
    /// coordinate system `intrinsic` (0.6rc0, "multiscales metadata").
    pub fn new_v06(
        path: impl Into<String>,
        intrinsic: &str,
        scale: Vec<f64>,
        translation: Option<Vec<f64>>,
    ) -> Self {
        let path = path.into();
        let transform = match translation.filter(|t| t.iter().any(|&x| x != 0.0)) {
            Some(t) => CoordinateTransformation::sequence(vec![
                CoordinateTransformation::scale(scale),
                CoordinateTransformation::translation(t),
            ]),
            None => CoordinateTransformation::scale(scale),
        }
        .with_endpoints(
            CoordinateSystemRef::array(path.clone()),
            CoordinateSystemRef::named(intrinsic),
        );
        Dataset {
            path,
            coordinate_transformations: Some(vec![transform]),
            extra: Map::new(),
        }
    }

    /// The transformation of this level's array to the intrinsic coordinate system as one
    /// transformation: the single entry, or a `sequence` of several (0.4/0.5 list a scale
    /// and a translation). `None` without `coordinateTransformations`.
    pub fn transform(&self) -> Option<CoordinateTransformation> {
        match self.coordinate_transformations.as_deref()? {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(CoordinateTransformation::sequence(many.to_vec())),
        }
    }
}

impl Multiscale {
    /// Whether this multiscale is in the 0.6 (RFC-5) shape: it has `coordinateSystems`.
    pub fn has_coordinate_systems(&self) -> bool {
        self.coordinate_systems.is_some()
    }

    /// The name of the intrinsic coordinate system (0.6rc0, "multiscales metadata": the
    /// `output` of the dataset transformations), else the first coordinate system's.
    pub fn intrinsic_name(&self) -> Option<&str> {
        let from_datasets = self.datasets.iter().find_map(|d| {
            d.coordinate_transformations
                .as_deref()?
                .iter()
                .find_map(|t| t.output()?.name.as_deref())
        });
        from_datasets.or_else(|| {
            self.coordinate_systems
                .as_deref()?
                .first()
                .map(|c| c.name.as_str())
        })
    }

    /// The intrinsic coordinate system (see [`Self::intrinsic_name`]), when declared.
    pub fn intrinsic_system(&self) -> Option<&CoordinateSystem> {
        let name = self.intrinsic_name()?;
        self.coordinate_system(name)
    }

    /// The coordinate system called `name`.
    pub fn coordinate_system(&self, name: &str) -> Option<&CoordinateSystem> {
        self.coordinate_systems
            .as_deref()?
            .iter()
            .find(|c| c.name == name)
    }

    fn level_transforms(&self, level: usize) -> Option<Option<&[CoordinateTransformation]>> {
        let dataset = self.datasets.get(level)?;
        Some(dataset.coordinate_transformations.as_deref())
    }

    /// The physical scale of level `level`: its dataset `scale` times the multiscale-level
    /// `scale`, which applies after the dataset transformations (0.4 spec, "multiscales
    /// metadata"). `None` when the level does not exist, has no inline scale vector, or the
    /// two vectors differ in length.
    ///
    /// 0.6: the scale of the level's transformation to the intrinsic coordinate system
    /// (the multiscale-level transformations there lead to *other* coordinate systems).
    pub fn level_scale(&self, level: usize) -> Option<Vec<f64>> {
        if self.has_coordinate_systems() {
            return self.level_scale_translation_v06(level).map(|(s, _)| s);
        }
        let own = find_vector(
            self.level_transforms(level)?,
            CoordinateTransformation::as_scale,
        )?;
        match find_vector(
            self.coordinate_transformations.as_deref(),
            CoordinateTransformation::as_scale,
        ) {
            None => Some(own.to_vec()),
            Some(outer) if outer.len() == own.len() => {
                Some(own.iter().zip(outer).map(|(a, b)| a * b).collect())
            }
            Some(_) => None,
        }
    }

    /// The physical translation of level `level`: with dataset scale `S_d`, translation
    /// `t_d` and multiscale-level scale `S_m` and translation `t_m`, a point maps to
    /// `S_m (S_d x + t_d) + t_m`, so the translation is `S_m t_d + t_m`. Missing parts count
    /// as zero (translation) or one (scale). `None` when the level does not exist, neither
    /// level has an inline translation, or the vectors differ in length.
    ///
    /// 0.6: the translation of the level's transformation to the intrinsic system, `None`
    /// when it is zero.
    pub fn level_translation(&self, level: usize) -> Option<Vec<f64>> {
        if self.has_coordinate_systems() {
            return self
                .level_scale_translation_v06(level)
                .map(|(_, t)| t)
                .filter(|t| t.iter().any(|&x| x != 0.0));
        }
        let own_transforms = self.level_transforms(level)?;
        let outer_transforms = self.coordinate_transformations.as_deref();
        let own = find_vector(own_transforms, CoordinateTransformation::as_translation);
        let outer = find_vector(outer_transforms, CoordinateTransformation::as_translation);
        let outer_scale = find_vector(outer_transforms, CoordinateTransformation::as_scale);
        let n = own.or(outer)?.len();
        let zeros = vec![0.0; n];
        let ones = vec![1.0; n];
        let (own, outer, outer_scale) = (
            own.unwrap_or(&zeros),
            outer.unwrap_or(&zeros),
            outer_scale.unwrap_or(&ones),
        );
        if own.len() != n || outer.len() != n || outer_scale.len() != n {
            return None;
        }
        Some((0..n).map(|i| outer_scale[i] * own[i] + outer[i]).collect())
    }

    fn level_scale_translation_v06(&self, level: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        let n = self.intrinsic_system()?.axes.len();
        let t = self.datasets.get(level)?.transform()?;
        scale_translation_of(&t, n).ok()
    }

    /// The axes of an `ndim`-dimensional image, whatever the version wrote: 0.4+ axes as
    /// they are; 0.3 bare names with the types their letters imply (`t` time, `c` channel,
    /// `z`/`y`/`x` space); 0.1/0.2 (no `axes`) the last `ndim` of `t,c,z,y,x`; 0.6 the axes
    /// of the intrinsic coordinate system (else the first) when `axes` is absent.
    pub fn effective_axes(&self, ndim: usize) -> Vec<Axis> {
        if let Some(axes) = &self.axes {
            return axes
                .iter()
                .map(|a| {
                    if a.bare_name {
                        Axis::inferred(&a.name)
                    } else {
                        a.clone()
                    }
                })
                .collect();
        }
        if let Some(system) = self
            .intrinsic_system()
            .or_else(|| self.coordinate_systems.as_ref().and_then(|s| s.first()))
        {
            return system.axes.clone();
        }
        implicit_axes(ndim)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Multiscale {
        serde_json::from_value(json!({
            "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
            "datasets": [
                {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 2]}]},
                {"path": "1", "coordinateTransformations": [
                    {"type": "scale", "scale": [2, 4]},
                    {"type": "translation", "translation": [0.5, 1]}
                ]}
            ],
            "coordinateTransformations": [{"type": "scale", "scale": [10, 1]}],
            "version": "0.4"
        }))
        .unwrap()
    }

    #[test]
    fn level_scale_and_translation_combine_both_levels() {
        let m = sample();
        assert_eq!(m.level_scale(0), Some(vec![10.0, 2.0]));
        assert_eq!(m.level_scale(1), Some(vec![20.0, 4.0]));
        assert_eq!(m.level_translation(0), None);
        assert_eq!(m.level_translation(1), Some(vec![5.0, 1.0]));
        assert_eq!(m.level_scale(2), None);
    }

    #[test]
    fn effective_axes_per_version() {
        let m: Multiscale =
            serde_json::from_value(json!({"datasets": [{"path": "0"}], "version": "0.1"})).unwrap();
        let names: Vec<_> = m.effective_axes(5).into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["t", "c", "z", "y", "x"]);
        let m: Multiscale =
            serde_json::from_value(json!({"axes": ["c", "y", "x"], "datasets": []})).unwrap();
        let axes = m.effective_axes(3);
        assert!(axes[0].is_channel() && axes[2].is_space() && !axes[2].bare_name);
        assert_eq!(sample().effective_axes(2)[1].name, "x");
    }

    #[test]
    fn v06_levels_map_to_the_intrinsic_system() {
        let m: Multiscale = serde_json::from_value(json!({
            "coordinateSystems": [
                {"name": "physical", "axes": [{"name": "y"}, {"name": "x"}]},
                {"name": "intrinsic", "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]}
            ],
            "datasets": [
                {"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [0.5, 0.5],
                    "input": {"path": "s0"}, "output": {"name": "intrinsic"}}]},
                {"path": "s1", "coordinateTransformations": [{"type": "sequence",
                    "input": {"path": "s1"}, "output": {"name": "intrinsic"}, "transformations": [
                    {"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0.25, 0.25]}]}]}
            ],
            "coordinateTransformations": [{"type": "scale", "scale": [10, 10],
                "input": {"name": "intrinsic"}, "output": {"name": "physical"}}]
        }))
        .unwrap();
        assert_eq!(m.intrinsic_name(), Some("intrinsic"));
        assert_eq!(m.effective_axes(2)[0].axis_type.as_deref(), Some("space"));
        assert_eq!(m.level_scale(0), Some(vec![0.5, 0.5]));
        assert_eq!(m.level_translation(0), None);
        assert_eq!(m.level_scale(1), Some(vec![1.0, 1.0]));
        assert_eq!(m.level_translation(1), Some(vec![0.25, 0.25]));
        let d = Dataset::new_v06("s1", "intrinsic", vec![1.0, 1.0], Some(vec![0.25, 0.25]));
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::to_value(&m.datasets[1]).unwrap()
        );
    }
}
