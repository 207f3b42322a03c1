//! Opening a 0.6 scene (0.6rc0, "scene metadata"): the images below a group with `scene`
//! metadata, and one transformation graph that joins the scene's transformations with each
//! image's own, so a point moves from any coordinate system to any other it is linked to.

use super::hierarchy::OmeZarr;
use crate::error::{Error, Result};
use crate::image::model::Image;
use crate::metadata::{
    CoordinateSystemRef, CoordinateTransformation, Scene, SystemKey, TransformError, TransformGraph,
};

/// A scene group with its images opened.
#[derive(Debug)]
#[non_exhaustive]
pub struct SceneView {
    scene: Scene,
    images: Vec<(String, Image)>,
    /// The scene's transformations, then every image's multiscale transformations with
    /// their endpoints qualified by the image path.
    all: Vec<CoordinateTransformation>,
}

impl SceneView {
    /// The `scene` metadata.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The images the scene references, by path, in order of first mention.
    pub fn images(&self) -> &[(String, Image)] {
        &self.images
    }

    /// The image at `path`, if the scene references it.
    pub fn image(&self, path: &str) -> Option<&Image> {
        self.images.iter().find(|(p, _)| p == path).map(|(_, i)| i)
    }

    /// The whole graph: the scene's transformations and every image's own (systems of an
    /// image are keyed by its path).
    pub fn graph(&self) -> TransformGraph<'_> {
        TransformGraph::new(&self.all)
    }

    /// Maps `point` between two coordinate systems of the scene or its images.
    ///
    /// # Errors
    /// As [`TransformGraph::map_point`].
    pub fn map_point(
        &self,
        from: &SystemKey,
        to: &SystemKey,
        point: &[f64],
    ) -> std::result::Result<Vec<f64>, TransformError> {
        self.graph().map_point(from, to, point)
    }

    /// Maps `point`, in array coordinates of level `level` of the image at `path`, to the
    /// system `to`.
    ///
    /// # Errors
    /// As [`Image::map_point`] and [`TransformGraph::map_point`].
    pub fn map_level_point(
        &self,
        path: &str,
        level: usize,
        point: &[f64],
        to: &SystemKey,
    ) -> std::result::Result<Vec<f64>, TransformError> {
        let missing = || TransformError::Disconnected {
            from: format!("{path} level {level}"),
            to: crate::metadata::system_label(to),
        };
        let image = self.image(path).ok_or_else(missing)?;
        let intrinsic = image.intrinsic_system().ok_or_else(missing)?;
        let p = image.map_point(level, point, intrinsic)?;
        self.map_point(&(Some(path.to_owned()), intrinsic.to_owned()), to, &p)
    }
}

/// `end` with `path` set to the image path when it names a system of that image.
fn qualify(end: Option<&CoordinateSystemRef>, image: &str) -> Option<CoordinateSystemRef> {
    let mut end = end?.clone();
    end.path = Some(match end.path.take() {
        Some(p) => format!("{image}/{p}"),
        None => image.to_owned(),
    });
    Some(end)
}

impl OmeZarr {
    /// Opens the scene of this group: its `scene` metadata and every image a scene
    /// transformation references by `path`.
    ///
    /// # Errors
    /// A usage error when the group has no `scene`; the errors of opening each image
    /// (a path that leaves the hierarchy, a node without an image).
    pub fn scene(&self) -> Result<SceneView> {
        let scene = self.attributes().scene.clone().ok_or_else(|| {
            Error::usage(format!(
                "expected a scene (scene metadata) at {}, found {}",
                self.path().display(),
                self.kind().describe()
            ))
        })?;
        let mut images = Vec::new();
        let mut all = scene.coordinate_transformations.clone();
        for path in scene.image_paths() {
            let image = self.child(path)?.image()?;
            for t in image.transformations() {
                let mut t = t.clone();
                let (input, output) = (qualify(t.input(), path), qualify(t.output(), path));
                t.set_endpoints(input, output);
                all.push(t);
            }
            images.push((path.to_owned(), image));
        }
        Ok(SceneView { scene, images, all })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The RFC-5 stitching sample (0.6.dev3 scene, 0.6.dev1 tiles with bare-string
    /// references): four tiles placed in `world` by translations.
    #[test]
    fn the_rfc5_stitching_sample_opens_as_a_scene() {
        let Some(spec) = testkit::spec_data() else {
            return;
        };
        let path = spec.join("ngff/samples/rfc5-examples/user_stories/stitched_tiles_2d.zarr");
        let node = OmeZarr::open(&path).unwrap();
        assert_eq!(node.kind(), crate::metadata::NodeKind::Scene);
        assert_eq!(node.attributes().raw_version(), Some("0.6.dev3"));
        let view = node.scene().unwrap();
        let paths: Vec<&str> = view.images().iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["tile_0", "tile_1", "tile_2", "tile_3"]);
        let tile = view.image("tile_1").unwrap();
        assert_eq!(tile.intrinsic_system(), Some("physical"));
        assert_eq!(tile.levels()[0].shape, [300, 372]);
        let world = (None, "world".to_owned());
        let p = view
            .map_level_point("tile_1", 0, &[1.0, 2.0], &world)
            .unwrap();
        assert_eq!(p, [1.0, 350.0]);
        // From one tile to another through the shared `world`.
        let t1 = (Some("tile_1".to_owned()), "physical".to_owned());
        let t3 = (Some("tile_3".to_owned()), "physical".to_owned());
        assert_eq!(
            view.map_point(&t1, &t3, &[0.0, 0.0]).unwrap(),
            [-276.0, 0.0]
        );
        assert!(OmeZarr::open(path.join("tile_0")).unwrap().scene().is_err());
    }
}
