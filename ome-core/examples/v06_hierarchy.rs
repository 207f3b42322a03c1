//! Writes one OME-Zarr 0.6 hierarchy of each kind with the `ome-core` API, for the
//! interop tests (`tests/interop/test_v06.py`) and as a worked example:
//!
//! - `OUT/image.ome.zarr`: a 3-level `cyx` uint16 image whose intrinsic system `physical`
//!   is linked by an affine to a second system `aligned`, with the label image
//!   `labels/cells`;
//! - `OUT/plate.ome.zarr`: a 2 x 2 plate with one `yx` uint8 field in wells A/1 and B/2;
//! - `OUT/scene.ome.zarr`: two `yx` uint16 tiles and the scene placing them side by side
//!   in the system `world` ([`ome_core::write_scene`]).
//!
//! Pixels follow formulas the tests recompute: image `(c * 1000 + y * 7 + x) % 4093`,
//! labels `1 + (y / 16) * 3 + x / 16`, field `(well index * 50 + y + x) % 256`, tile
//! `t * 10000 + y * 100 + x`.
//!
//! Usage: `v06_hierarchy OUT [VERSION]`, VERSION the version string written (default the
//! library's, `0.6rc0`; `0.6` for readers that know no release candidate).

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::{
    Axis, CoordinateSystem, CoordinateSystemRef, CoordinateTransformation, NgffVersion, Scene,
};
use ome_core::pyramid::LevelCount;
use ome_core::{
    ImageMetadata, LabelOptions, PlateWriter, WriteOptions, write_labels, write_ome_zarr,
    write_scene,
};

fn options(tag: Option<&str>, levels: usize) -> WriteOptions {
    let mut o = WriteOptions::default();
    o.version = NgffVersion::V0_6;
    o.version_tag = tag.map(str::to_owned);
    o.levels = LevelCount::Exactly(levels);
    o.chunks = Some(vec![16, 16]);
    o.overwrite = true;
    o
}

fn space(names: &[&str]) -> Vec<Axis> {
    names
        .iter()
        .map(|n| Axis::space(*n, Some("micrometer")))
        .collect()
}

fn image(out: &Path, tag: Option<&str>) -> ome_core::Result<()> {
    let path = out.join("image.ome.zarr");
    let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[2, 64, 48]), |ix| {
        ((ix[0] * 1000 + ix[1] * 7 + ix[2]) % 4093) as u16
    });
    let mut meta = ImageMetadata::from_axis_letters("cyx")?;
    meta.axes[1] = Axis::space("y", Some("micrometer"));
    meta.axes[2] = Axis::space("x", Some("micrometer"));
    meta.scale = Some(vec![1.0, 0.5, 0.25]);
    meta.name = Some("cells".into());
    meta.intrinsic_system = Some("physical".into());
    let mut aligned_axes = vec![Axis::channel("c")];
    aligned_axes.extend(space(&["y", "x"]));
    meta.coordinate_systems = vec![CoordinateSystem::new("aligned", aligned_axes)];
    // A shear and a shift on (y, x), the channel axis kept: rows of [c y x | offset].
    meta.transformations = vec![
        CoordinateTransformation::affine(vec![
            vec![1.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.1, 3.0],
            vec![0.0, 0.0, 1.0, -2.0],
        ])
        .with_endpoints(
            CoordinateSystemRef::named("physical"),
            CoordinateSystemRef::named("aligned"),
        ),
    ];
    let mut o = options(tag, 3);
    o.chunks = Some(vec![1, 16, 16]);
    write_ome_zarr(&path, data.view(), &meta, &o, None)?;

    let labels = ArrayD::<u32>::from_shape_fn(IxDyn(&[1, 64, 48]), |ix| {
        (1 + (ix[1] / 16) * 3 + ix[2] / 16) as u32
    });
    let mut lo = LabelOptions::default();
    lo.write.levels = LevelCount::Exactly(3);
    lo.write.chunks = Some(vec![1, 16, 16]);
    write_labels(&path, "cells", labels.view(), &lo)?;
    Ok(())
}

fn plate(out: &Path, tag: Option<&str>) -> ome_core::Result<()> {
    let o = options(tag, 2);
    let mut plate = PlateWriter::create(
        out.join("plate.ome.zarr"),
        Some("screen"),
        &["A", "B"],
        &["1", "2"],
        &o,
    )?;
    let mut meta = ImageMetadata::from_axis_letters("yx")?;
    meta.scale = Some(vec![0.5, 0.5]);
    for (k, (row, column)) in [("A", "1"), ("B", "2")].into_iter().enumerate() {
        let data = ArrayD::<u8>::from_shape_fn(IxDyn(&[32, 32]), |ix| {
            ((k * 50 + ix[0] + ix[1]) % 256) as u8
        });
        meta.name = Some(format!("{row}{column} field 0"));
        plate.write_field(row, column, data.view(), &meta)?;
    }
    plate.finish()
}

fn scene(out: &Path, tag: Option<&str>) -> ome_core::Result<()> {
    let path = out.join("scene.ome.zarr");
    if path.exists() {
        std::fs::remove_dir_all(&path).map_err(|e| {
            ome_core::Error::usage(format!("cannot replace {}: {e}", path.display()))
        })?;
    }
    let mut meta = ImageMetadata::default();
    meta.axes = space(&["y", "x"]);
    meta.scale = Some(vec![0.5, 0.5]);
    meta.intrinsic_system = Some("physical".into());
    let mut transformations = Vec::new();
    for t in 0..2 {
        let name = format!("tile_{t}");
        let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[32, 48]), |ix| {
            (t * 10000 + ix[0] * 100 + ix[1]) as u16
        });
        meta.name = Some(name.clone());
        write_ome_zarr(path.join(&name), data.view(), &meta, &options(tag, 2), None)?;
        // Tiles side by side along x: 48 pixels of 0.5 micrometer apart.
        transformations.push(
            CoordinateTransformation::translation(vec![0.0, 24.0 * t as f64]).with_endpoints(
                CoordinateSystemRef::in_group("physical", name),
                CoordinateSystemRef::named("world"),
            ),
        );
    }
    let scene = Scene {
        coordinate_transformations: transformations,
        coordinate_systems: Some(vec![CoordinateSystem::new("world", space(&["y", "x"]))]),
        extra: serde_json::Map::new(),
    };
    write_scene(&path, &scene)
}

fn main() -> ome_core::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        return Err(ome_core::Error::usage("usage: v06_hierarchy OUT [VERSION]"));
    };
    let tag = args.next();
    let out = Path::new(&out);
    image(out, tag.as_deref())?;
    plate(out, tag.as_deref())?;
    scene(out, tag.as_deref())
}
