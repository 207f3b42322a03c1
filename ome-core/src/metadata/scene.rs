//! `scene` metadata (0.6rc0, "scene metadata"): transformations between the coordinate
//! systems of several multiscale images below one group.

use super::multiscales::CoordinateSystem;
use super::transforms::CoordinateTransformation;

ome_object! {
    /// The `scene` object of a group holding several related images.
    #[derive(Default)]
    pub struct Scene ("a scene object") {
        /// `coordinateTransformations` (MUST): each `input` / `output` names a coordinate
        /// system, with `path` the image group holding it (absent for the scene's own).
        req "coordinateTransformations" => pub coordinate_transformations: Vec<CoordinateTransformation>,
        /// `coordinateSystems` (MAY): the scene's own systems; the first is the default for
        /// display (0.6rc0 RECOMMENDS it).
        opt "coordinateSystems" => pub coordinate_systems: Option<Vec<CoordinateSystem>>,
    }
}

impl Scene {
    /// The image groups the scene's transformations reference (`input.path` /
    /// `output.path`), each once, in order of first mention.
    pub fn image_paths(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.coordinate_transformations {
            for end in [t.input(), t.output()].into_iter().flatten() {
                if let Some(p) = end.path.as_deref()
                    && !out.contains(&p)
                {
                    out.push(p);
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scene_lists_its_images() {
        let v = json!({
            "coordinateTransformations": [
                {"type": "translation", "translation": [0.0, 1.0], "input": {"path": "a", "name": "physical"}, "output": {"name": "world"}},
                {"type": "translation", "translation": [2.0, 1.0], "input": {"path": "b", "name": "physical"}, "output": {"name": "world"}},
                {"type": "identity", "input": {"path": "a", "name": "physical"}, "output": {"path": "b", "name": "physical"}}
            ],
            "coordinateSystems": [{"name": "world", "axes": [{"name": "y"}, {"name": "x"}]}]
        });
        let scene: Scene = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(scene.image_paths(), ["a", "b"]);
        assert_eq!(serde_json::to_value(&scene).unwrap(), v);
    }
}
