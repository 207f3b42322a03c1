//! Writing a 0.6 scene (0.6rc0, "Scene" layout and "scene metadata"): the `scene` object
//! of a group that relates the 0.6 images already written below it. Every reference is
//! resolved before anything is written, and the group's `zarr.json` is the only file
//! written, so a refused scene leaves the hierarchy as it was.

use std::collections::BTreeMap;
use std::path::Path;

use super::hierarchy::OmeZarr;
use super::write::write_group;
use crate::error::{Error, Result};
use crate::metadata::{
    AttributeLayout, CoordinateSystemRef, CoordinateTransformation, NgffVersion, NodeKind,
    OmeAttributes, Scene, TransformError,
};

/// A coordinate system the scene can reference: its number of axes.
type Systems = BTreeMap<String, usize>;

/// The images of a scene, by path: the version string they carry and their systems.
struct SceneImages {
    version: Option<String>,
    images: BTreeMap<String, Systems>,
}

/// Writes `scene` as the `scene` metadata of the group at `path`, which holds (below it)
/// the 0.6 images its transformations reference.
///
/// Before writing, every `input` / `output` is resolved as a reader would (0.6rc0 §"scene"
/// metadata: "MUST contain the field `name`"; with `path`, a coordinate system of the
/// multiscale image at that path, relative to the scene; without, one of the scene's own
/// `coordinateSystems`), inline parameters are checked against the dimensions of the
/// systems they join, parameter arrays named by `path` must exist, and the scene's systems
/// and images must form one connected graph (§"Graph connectedness"). The scene carries
/// the images' version string (the version "MUST be consistent within a hierarchy").
///
/// An existing group at `path` keeps its other attributes; one that already holds a
/// scene gets the new one.
///
/// # Errors
/// A usage error when a reference does not resolve, a transformation does not fit the
/// systems it joins, the graph is not connected, the images are not all 0.6 with the same
/// version string, or the group at `path` is an image, plate or other OME node; storage
/// errors.
pub fn write_scene(path: impl AsRef<Path>, scene: &Scene) -> Result<()> {
    let path = path.as_ref();
    let has_metadata = ["zarr.json", ".zgroup", ".zattrs", ".zarray"]
        .iter()
        .any(|f| path.join(f).exists());
    let root = if has_metadata {
        Some(OmeZarr::open(path)?)
    } else {
        None
    };
    let existing = match &root {
        Some(node) => {
            if node.zarr_format() != super::ZarrFormat::V3 || node.is_array() {
                return Err(Error::usage(format!(
                    "expected a Zarr v3 group (or nothing) at {} for a 0.6 scene, found {}",
                    path.display(),
                    if node.is_array() {
                        "an array"
                    } else {
                        "a Zarr v2 group"
                    }
                )));
            }
            match node.kind() {
                NodeKind::Scene | NodeKind::Unknown => Some(node.attributes().clone()),
                other => {
                    return Err(Error::usage(format!(
                        "expected a group without OME metadata (or with a scene) at {}, found {}",
                        path.display(),
                        other.describe()
                    )));
                }
            }
        }
        None => None,
    };
    if scene.coordinate_transformations.is_empty() {
        return Err(Error::usage(
            "expected at least one scene transformation (a scene relates images), found none",
        ));
    }
    let own = own_systems(scene)?;
    let found = resolve_images(path, scene)?;
    for (i, t) in scene.coordinate_transformations.iter().enumerate() {
        let at = format!("scene transformation {i} ({})", t.type_name());
        let din = endpoint_dims(t.input(), "input", &at, &own, &found)?;
        let dout = endpoint_dims(t.output(), "output", &at, &own, &found)?;
        check_dims(t, din, dout, &at)?;
        for p in t.parameter_paths() {
            if open_below(path, p).is_err() {
                return Err(Error::usage(format!(
                    "expected the parameter array of {at} at {p:?} below the scene, found nothing"
                )));
            }
        }
    }
    check_connected(scene, &found)?;
    let version = found
        .version
        .unwrap_or_else(|| NgffVersion::V0_6.as_str().to_owned());
    let mut attrs = existing.unwrap_or_else(|| OmeAttributes::empty(NgffVersion::V0_6));
    attrs.layout = AttributeLayout::Nested;
    attrs.container_version = Some(version);
    attrs.scene = Some(scene.clone());
    write_group(path, NgffVersion::V0_6, attrs.to_attributes())
}

/// The scene's own coordinate systems; names must be unique (0.6rc0 §"coordinateSystems":
/// "a non-empty string that is unique among all entries in a `coordinateSystems` array").
fn own_systems(scene: &Scene) -> Result<Systems> {
    let mut own = Systems::new();
    for cs in scene.coordinate_systems.iter().flatten() {
        if own.insert(cs.name.clone(), cs.axes.len()).is_some() {
            return Err(Error::usage(format!(
                "expected unique names of the scene's coordinate systems, found {:?} twice",
                cs.name
            )));
        }
    }
    Ok(own)
}

/// Opens every image a scene transformation references by `path`: each must be a 0.6
/// multiscale image below the scene, all with the same version string.
fn resolve_images(path: &Path, scene: &Scene) -> Result<SceneImages> {
    let mut out = SceneImages {
        version: None,
        images: BTreeMap::new(),
    };
    for p in scene.image_paths() {
        let image = open_below(path, p)
            .and_then(|node| node.image())
            .map_err(|e| {
                Error::usage(format!(
                    "expected a multiscale image at {p:?} below the scene, found: {}",
                    e.message()
                ))
            })?;
        let raw = image.raw_version().unwrap_or_default().to_owned();
        if NgffVersion::parse(&raw) != Some(NgffVersion::V0_6) {
            return Err(Error::usage(format!(
                "expected the image {p:?} to be OME-Zarr 0.6 (a scene is 0.6), found version {raw:?}"
            )));
        }
        match &out.version {
            Some(v) if *v != raw => {
                return Err(Error::usage(format!(
                    "expected one version string in the hierarchy (0.6rc0: \"MUST be consistent within a hierarchy\"), found {v:?} and {raw:?} (image {p:?})"
                )));
            }
            _ => out.version = Some(raw),
        }
        let systems = image
            .coordinate_systems()
            .iter()
            .map(|cs| (cs.name.clone(), cs.axes.len()))
            .collect();
        out.images.insert(p.to_owned(), systems);
    }
    if out.images.is_empty() {
        return Err(Error::usage(
            "expected a scene transformation referencing an image by path, found none",
        ));
    }
    Ok(out)
}

/// The node at `relative` below the scene group (which need not have metadata yet): a
/// path of plain names, never leaving the scene (0.6rc0 §"scene" metadata: "the path of a
/// multiscale image subgroup").
fn open_below(scene: &Path, relative: &str) -> Result<OmeZarr> {
    let plain = !relative.is_empty()
        && relative
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'));
    if !plain {
        return Err(Error::usage(format!(
            "expected a relative path of names below the scene, found {relative:?}"
        )));
    }
    OmeZarr::open(scene.join(relative))
}

/// The number of axes of the system an `input` / `output` names.
fn endpoint_dims(
    end: Option<&CoordinateSystemRef>,
    key: &str,
    at: &str,
    own: &Systems,
    found: &SceneImages,
) -> Result<usize> {
    let Some(end) = end else {
        return Err(Error::usage(format!(
            "expected an {key} on {at} (0.6rc0 §\"scene\" metadata), found none"
        )));
    };
    let Some(name) = end.name.as_deref() else {
        return Err(Error::usage(format!(
            "expected {key}.name on {at} (0.6rc0: \"MUST contain the field `name`\"), found none"
        )));
    };
    match end.path.as_deref() {
        None => own.get(name).copied().ok_or_else(|| {
            Error::usage(format!(
                "expected {key}.name {name:?} on {at} to be one of the scene's coordinate systems {:?} (or a path to the image holding it)",
                own.keys().collect::<Vec<_>>()
            ))
        }),
        Some(p) => {
            let systems = found.images.get(p).ok_or_else(|| {
                Error::usage(format!("expected the image {p:?} of {at} to be resolved"))
            })?;
            systems.get(name).copied().ok_or_else(|| {
                Error::usage(format!(
                    "expected {key}.name {name:?} on {at} to be a coordinate system of the image {p:?} {:?}",
                    systems.keys().collect::<Vec<_>>()
                ))
            })
        }
    }
}

/// Inline parameters must fit the systems a transformation joins (0.6rc0: "The parameter
/// values ... MUST be compatible with input and output space dimensionality"): a point of
/// the input's dimension maps to one of the output's. Parameters stored in arrays are not
/// read here.
fn check_dims(t: &CoordinateTransformation, din: usize, dout: usize, at: &str) -> Result<()> {
    match t.apply(&vec![0.0; din]) {
        Ok(out) if out.len() == dout => Ok(()),
        Ok(out) => Err(Error::usage(format!(
            "expected {at} to map the {din} input axes to the {dout} output axes, found {} output coordinates",
            out.len()
        ))),
        Err(
            e @ (TransformError::Dimension { .. }
            | TransformError::Malformed { .. }
            | TransformError::Unknown { .. }),
        ) => Err(Error::usage(format!(
            "expected {at} to fit {din} input and {dout} output axes, found: {e}"
        ))),
        Err(_) => Ok(()),
    }
}

/// Every scene system and every image must be linked (0.6rc0 §"Graph connectedness": "any
/// two coordinate systems in the metadata MUST be linked by a path"). An image counts as
/// one node: its own systems are linked inside it.
fn check_connected(scene: &Scene, found: &SceneImages) -> Result<()> {
    let key = |end: Option<&CoordinateSystemRef>| -> Option<String> {
        let end = end?;
        Some(match end.path.as_deref() {
            Some(p) => format!("image {p:?}"),
            None => format!("coordinate system {:?}", end.name.as_deref()?),
        })
    };
    // The scene's first system leads (the RECOMMENDED common reference), then the images.
    let mut nodes: Vec<String> = scene
        .coordinate_systems
        .iter()
        .flatten()
        .map(|cs| format!("coordinate system {:?}", cs.name))
        .collect();
    nodes.extend(found.images.keys().map(|p| format!("image {p:?}")));
    let edges: Vec<(String, String)> = scene
        .coordinate_transformations
        .iter()
        .filter_map(|t| Some((key(t.input())?, key(t.output())?)))
        .collect();
    let Some(first) = nodes.first().cloned() else {
        return Ok(());
    };
    let mut reached = vec![first.clone()];
    loop {
        let before = reached.len();
        for (a, b) in &edges {
            let (ra, rb) = (reached.contains(a), reached.contains(b));
            if ra && !rb {
                reached.push(b.clone());
            } else if rb && !ra {
                reached.push(a.clone());
            }
        }
        if reached.len() == before {
            break;
        }
    }
    match nodes.iter().find(|n| !reached.contains(n)) {
        None => Ok(()),
        Some(n) => Err(Error::usage(format!(
            "expected every coordinate system and image of the scene to be linked (0.6rc0 \"Graph connectedness\"), found the {n} not linked to the {first}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::metadata::schema_testing::{assert_valid, validator};
    use crate::metadata::{Axis, CoordinateSystem, SystemKey};
    use crate::pyramid::LevelCount;
    use crate::zarr::{ImageMetadata, WriteOptions, write_ome_zarr};
    use ndarray::{ArrayD, IxDyn};

    /// A 2-level 0.6 tile (y, x) with pixel size 0.5 and the intrinsic system `physical`.
    fn tile(scene: &Path, name: &str, tag: Option<&str>) {
        let data = ArrayD::<u8>::from_shape_fn(IxDyn(&[32, 48]), |ix| (ix[0] + ix[1]) as u8);
        let mut meta = ImageMetadata::from_axis_letters("yx").unwrap();
        meta.scale = Some(vec![0.5, 0.5]);
        meta.intrinsic_system = Some("physical".into());
        let opts = WriteOptions {
            version: NgffVersion::V0_6,
            version_tag: tag.map(str::to_owned),
            levels: LevelCount::Exactly(2),
            ..WriteOptions::default()
        };
        write_ome_zarr(scene.join(name), data.view(), &meta, &opts, None).unwrap();
    }

    fn world(name: &str) -> CoordinateSystem {
        CoordinateSystem::new(
            name,
            vec![
                Axis::space("y", Some("micrometer")),
                Axis::space("x", Some("micrometer")),
            ],
        )
    }

    fn to_world(tile: &str, offset: Vec<f64>) -> CoordinateTransformation {
        CoordinateTransformation::translation(offset).with_endpoints(
            CoordinateSystemRef::in_group("physical", tile),
            CoordinateSystemRef::named("world"),
        )
    }

    fn stitched() -> Scene {
        Scene {
            coordinate_transformations: vec![
                to_world("tile_0", vec![0.0, 0.0]),
                to_world("tile_1", vec![0.0, 24.0]),
            ],
            coordinate_systems: Some(vec![world("world")]),
            extra: serde_json::Map::new(),
        }
    }

    fn two_tiles() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        tile(dir.path(), "tile_0", None);
        tile(dir.path(), "tile_1", None);
        dir
    }

    /// The scene written over two tiles opens as one, maps a pixel of either tile into the
    /// scene's system, and passes the 0.6rc0 `scene.schema`.
    #[test]
    fn a_scene_links_existing_images() {
        let dir = two_tiles();
        write_scene(dir.path(), &stitched()).unwrap();
        let node = OmeZarr::open(dir.path()).unwrap();
        assert_eq!(node.kind(), NodeKind::Scene);
        assert_eq!(node.attributes().raw_version(), Some("0.6rc0"));
        let view = node.scene().unwrap();
        let paths: Vec<&str> = view.images().iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["tile_0", "tile_1"]);
        let to: SystemKey = (None, "world".into());
        // Level 0 pixel (2, 4) is (1, 2) in `physical`, then shifted by the tile's offset;
        // a level 1 pixel is twice the size.
        assert_eq!(
            view.map_level_point("tile_1", 0, &[2.0, 4.0], &to).unwrap(),
            [1.0, 26.0]
        );
        assert_eq!(
            view.map_level_point("tile_0", 1, &[2.0, 4.0], &to).unwrap(),
            [2.25, 4.25]
        );
        if let Some(schema) = validator("0.6rc0", "scene.schema") {
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.path().join("zarr.json")).unwrap())
                    .unwrap();
            assert_valid(&schema, &doc["attributes"], "written scene");
        }
        // Written again, the scene replaces the one there.
        let mut again = stitched();
        again.coordinate_transformations[1] = to_world("tile_1", vec![0.0, 25.0]);
        write_scene(dir.path(), &again).unwrap();
        let view = OmeZarr::open(dir.path()).unwrap().scene().unwrap();
        assert_eq!(
            view.map_level_point("tile_1", 0, &[0.0, 0.0], &to).unwrap(),
            [0.0, 25.0]
        );
    }

    /// The scene carries the images' version string, as written (`0.6` here).
    #[test]
    fn the_scene_carries_the_version_string_of_its_images() {
        let dir = tempfile::tempdir().unwrap();
        tile(dir.path(), "tile_0", Some("0.6"));
        tile(dir.path(), "tile_1", Some("0.6"));
        write_scene(dir.path(), &stitched()).unwrap();
        let node = OmeZarr::open(dir.path()).unwrap();
        assert_eq!(node.attributes().raw_version(), Some("0.6"));

        // Mixed strings are refused.
        let dir = tempfile::tempdir().unwrap();
        tile(dir.path(), "tile_0", Some("0.6"));
        tile(dir.path(), "tile_1", None);
        let e = write_scene(dir.path(), &stitched()).unwrap_err();
        assert!(e.message().contains("consistent"), "{e}");
    }

    fn refused(scene: &Scene, needle: &str) {
        let dir = two_tiles();
        let e = write_scene(dir.path(), scene).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Usage, "{e}");
        assert!(e.message().contains(needle), "{needle:?} not in: {e}");
        assert!(
            !dir.path().join("zarr.json").exists(),
            "a refused scene writes nothing"
        );
    }

    #[test]
    fn references_must_resolve() {
        let mut s = stitched();
        s.coordinate_transformations[1] = to_world("tile_9", vec![0.0, 24.0]);
        refused(&s, "\"tile_9\"");

        let mut s = stitched();
        s.coordinate_transformations[1] = to_world("tile_1/0", vec![0.0, 24.0]);
        refused(&s, "multiscale image");

        let mut s = stitched();
        s.coordinate_transformations[1] = to_world("../tile_1", vec![0.0, 24.0]);
        refused(&s, "relative path");

        let mut s = stitched();
        s.coordinate_transformations[1] = CoordinateTransformation::translation(vec![0.0, 1.0])
            .with_endpoints(
                CoordinateSystemRef::in_group("nope", "tile_1"),
                CoordinateSystemRef::named("world"),
            );
        refused(&s, "\"nope\"");

        let mut s = stitched();
        s.coordinate_systems = Some(vec![world("elsewhere")]);
        refused(&s, "scene's coordinate systems");
    }

    #[test]
    fn transformations_must_fit_and_connect() {
        let mut s = stitched();
        s.coordinate_transformations[1] = to_world("tile_1", vec![0.0, 0.0, 24.0]);
        refused(&s, "fit 2 input and 2 output axes");

        // A second scene system nothing links.
        let mut s = stitched();
        s.coordinate_systems = Some(vec![world("world"), world("atlas")]);
        refused(&s, "not linked");

        // tile_1 linked only to a system of its own, never to the rest.
        let mut s = stitched();
        s.coordinate_systems = Some(vec![world("world"), world("atlas")]);
        s.coordinate_transformations[1] = CoordinateTransformation::identity().with_endpoints(
            CoordinateSystemRef::in_group("physical", "tile_1"),
            CoordinateSystemRef::named("atlas"),
        );
        refused(&s, "not linked");

        let mut s = stitched();
        s.coordinate_transformations.clear();
        refused(&s, "at least one");
    }

    #[test]
    fn an_image_is_no_scene_group() {
        let dir = two_tiles();
        let e = write_scene(dir.path().join("tile_0"), &stitched()).unwrap_err();
        assert!(e.message().contains("found an image"), "{e}");
    }
}
