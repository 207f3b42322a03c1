//! The format-neutral model: an [`Image`] has axes, levels and channels, and reads any
//! region of any level through the [`LevelRead`] each level's adapter provides. This file
//! names no adapter: the Zarr and TIFF adapters stand above it and build images with
//! [`Image::from_parts`]; `open.rs` stands above them all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Axis as NdAxis;

use crate::dtype::{DType, DynArray};
use crate::error::{Error, Result};
use crate::metadata::{
    Axis, CoordinateSystem, CoordinateTransformation, NgffVersion, OmeroChannel, TransformError,
    TransformGraph,
};
use crate::selection::Selection;
use crate::source::RegionSource;
use crate::with_dyn_array;

/// One resolution level of an image.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Level {
    /// Path of the level inside its container (the dataset path for OME-Zarr).
    pub path: String,
    /// Shape in array order.
    pub shape: Vec<u64>,
    /// Chunk shape (inner chunk when sharded).
    pub chunks: Vec<u64>,
    /// Shard shape, when the array is sharded.
    pub shards: Option<Vec<u64>>,
    /// Element type.
    pub dtype: DType,
    /// Codecs, briefly (`blosc(zstd:1, shuffle)`).
    pub codecs: Vec<String>,
    /// Physical pixel size per axis, from the coordinate transformations.
    pub scale: Option<Vec<f64>>,
    /// Physical offset per axis, from the coordinate transformations.
    pub translation: Option<Vec<f64>>,
    /// The level's transformation from its array to the intrinsic coordinate system, as
    /// written (0.6: the one `scale` or `sequence`; 0.4/0.5: the scale and translation as
    /// one `sequence`; OME-TIFF: the pixel size as a `scale`). `None` where the format has
    /// none (0.1–0.3).
    pub transform: Option<CoordinateTransformation>,
}

/// Reads regions of one level: what an adapter (a Zarr array, a level of a TIFF series)
/// gives the [`Image`] model.
pub trait LevelRead: Send + Sync + std::fmt::Debug {
    /// Reads `shape` samples at `start` (array order). With `parallel` the reader may
    /// decode chunks on many threads; without, on the calling thread (writers call this
    /// from many threads at once).
    ///
    /// # Errors
    /// Usage errors for regions outside the level, limit errors, format errors for data
    /// that does not decode.
    fn read_level_region(&self, start: &[u64], shape: &[u64], parallel: bool) -> Result<DynArray>;
}

/// What an adapter knows of one image, to build an [`Image`] from.
#[derive(Debug)]
#[non_exhaustive]
pub struct ImageParts {
    /// The path the image was opened at.
    pub path: PathBuf,
    /// The multiscale's (or OME `Image`'s) name.
    pub name: Option<String>,
    /// The NGFF version, for OME-Zarr.
    pub version: Option<NgffVersion>,
    /// Axes in array order.
    pub axes: Vec<Axis>,
    /// Channels (labels, colours).
    pub channels: Vec<OmeroChannel>,
    /// Each level with its reader, full resolution first.
    pub levels: Vec<(Level, Arc<dyn LevelRead>)>,
    /// The version string as written (`0.6.dev3`), for reports.
    pub raw_version: Option<String>,
    /// 0.6: the multiscale's `coordinateSystems`.
    pub coordinate_systems: Vec<CoordinateSystem>,
    /// 0.6: the name of the intrinsic coordinate system (the levels' `output`).
    pub intrinsic_system: Option<String>,
    /// 0.6: the multiscale-level `coordinateTransformations` (from or to the intrinsic
    /// system).
    pub transformations: Vec<CoordinateTransformation>,
}

impl ImageParts {
    /// Parts with no name, version or channels.
    pub fn new(path: PathBuf, axes: Vec<Axis>, levels: Vec<(Level, Arc<dyn LevelRead>)>) -> Self {
        ImageParts {
            path,
            name: None,
            version: None,
            axes,
            channels: Vec::new(),
            levels,
            raw_version: None,
            coordinate_systems: Vec::new(),
            intrinsic_system: None,
            transformations: Vec::new(),
        }
    }
}

/// A multiscale image opened for reading.
#[derive(Debug)]
pub struct Image {
    path: PathBuf,
    name: Option<String>,
    version: Option<NgffVersion>,
    axes: Vec<Axis>,
    levels: Vec<Level>,
    channels: Vec<OmeroChannel>,
    readers: Vec<Arc<dyn LevelRead>>,
    raw_version: Option<String>,
    coordinate_systems: Vec<CoordinateSystem>,
    intrinsic_system: Option<String>,
    transformations: Vec<CoordinateTransformation>,
}

impl Image {
    /// The image an adapter describes.
    ///
    /// # Errors
    /// A usage error for no levels, or a level whose dimension count differs from the
    /// axes'.
    pub fn from_parts(parts: ImageParts) -> Result<Self> {
        let n = parts.axes.len();
        if parts.levels.is_empty() {
            return Err(Error::usage(format!(
                "expected at least one level for the image at {}",
                parts.path.display()
            )));
        }
        if let Some((k, (l, _))) = parts
            .levels
            .iter()
            .enumerate()
            .find(|(_, (l, _))| l.shape.len() != n)
        {
            return Err(Error::usage(format!(
                "expected level {k} of {} to have {n} dimensions like the axes, found {}",
                parts.path.display(),
                l.shape.len()
            )));
        }
        let (levels, readers) = parts.levels.into_iter().unzip();
        Ok(Image {
            path: parts.path,
            name: parts.name,
            version: parts.version,
            axes: parts.axes,
            levels,
            channels: parts.channels,
            readers,
            raw_version: parts.raw_version,
            coordinate_systems: parts.coordinate_systems,
            intrinsic_system: parts.intrinsic_system,
            transformations: parts.transformations,
        })
    }

    /// Where the image was opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The multiscale's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The NGFF version of the metadata, when known.
    pub fn version(&self) -> Option<NgffVersion> {
        self.version
    }

    /// The version string as written (`"0.6.dev3"`), when known.
    pub fn raw_version(&self) -> Option<&str> {
        self.raw_version.as_deref()
    }

    /// 0.6: the coordinate systems of the multiscale (empty for other versions).
    pub fn coordinate_systems(&self) -> &[CoordinateSystem] {
        &self.coordinate_systems
    }

    /// 0.6: the name of the intrinsic coordinate system, the one every level maps to.
    pub fn intrinsic_system(&self) -> Option<&str> {
        self.intrinsic_system.as_deref()
    }

    /// 0.6: the multiscale-level transformations between the intrinsic system and others.
    pub fn transformations(&self) -> &[CoordinateTransformation] {
        &self.transformations
    }

    /// Maps `point`, in array coordinates of level `level`, to the coordinate system
    /// `system`: the level's transformation to the intrinsic system, then (for another
    /// system) the multiscale's transformations along the shortest route, inverted where
    /// the route runs against their direction.
    ///
    /// # Errors
    /// A [`TransformError`] for a level without a transformation, a system no route
    /// reaches, or a transformation that cannot be evaluated (or inverted) on the way.
    pub fn map_point(
        &self,
        level: usize,
        point: &[f64],
        system: &str,
    ) -> std::result::Result<Vec<f64>, TransformError> {
        self.map_point_with(level, point, system, None)
    }

    /// [`Image::map_point`] through `displacements` and `coordinates` transformations too,
    /// their vector fields read through `fields` (for an OME-Zarr image:
    /// `ome_core::zarr::FieldArrays::new(path)`).
    ///
    /// # Errors
    /// As [`Image::map_point`], and the errors of reading a field.
    pub fn map_point_with(
        &self,
        level: usize,
        point: &[f64],
        system: &str,
        fields: Option<&dyn crate::metadata::VectorFields>,
    ) -> std::result::Result<Vec<f64>, TransformError> {
        let no_route = || TransformError::Disconnected {
            from: format!("level {level}"),
            to: system.to_owned(),
        };
        let transform = self
            .levels
            .get(level)
            .and_then(|l| l.transform.as_ref())
            .ok_or_else(no_route)?;
        let intrinsic = transform.apply(point)?;
        let from = self.intrinsic_system.as_deref().ok_or_else(no_route)?;
        TransformGraph::new(&self.transformations).map_point_with(
            &(None, from.to_owned()),
            &(None, system.to_owned()),
            &intrinsic,
            fields,
        )
    }

    /// Axes in array order (implicit `t,c,z,y,x` for NGFF 0.1 / 0.2).
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Axis names in array order.
    pub fn axis_names(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.name.clone()).collect()
    }

    /// Levels, full resolution first.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Channels from the `omero` metadata (empty when there is none).
    pub fn channels(&self) -> &[OmeroChannel] {
        &self.channels
    }

    /// The metadata to write a copy of this image whose level 0 is `level`: axes, that
    /// level's scale and translation, the name, and the channel names and colours (kept
    /// only when every channel has one).
    pub fn metadata(&self, level: usize) -> crate::ImageMetadata {
        let all = |v: Vec<String>| {
            if v.len() == self.channels.len() {
                v
            } else {
                Vec::new()
            }
        };
        let level0 = self.levels.get(level);
        // 0.6: the other coordinate systems and the transformations between named systems
        // (not the links into label images, which name paths) travel with the image; the
        // intrinsic system keeps its name, which they refer to.
        let others: Vec<_> = self
            .coordinate_systems
            .iter()
            .filter(|c| Some(c.name.as_str()) != self.intrinsic_system.as_deref())
            .cloned()
            .collect();
        let named = |r: Option<&crate::metadata::CoordinateSystemRef>| {
            r.is_some_and(|r| r.path.is_none() && r.name.is_some())
        };
        let transformations: Vec<_> = self
            .transformations
            .iter()
            .filter(|t| named(t.input()) && named(t.output()))
            .cloned()
            .collect();
        crate::ImageMetadata {
            intrinsic_system: self.intrinsic_system.clone(),
            coordinate_systems: others,
            transformations,
            axes: self.axes.clone(),
            scale: level0.and_then(|l| l.scale.clone()),
            translation: level0.and_then(|l| l.translation.clone()),
            name: self.name.clone(),
            channel_names: all(self
                .channels
                .iter()
                .filter_map(|c| c.label.clone())
                .collect()),
            channel_colors: all(self
                .channels
                .iter()
                .filter_map(|c| c.color.clone())
                .collect()),
        }
    }

    fn reader(&self, level: usize) -> Result<&dyn LevelRead> {
        self.readers.get(level).map(|r| &**r).ok_or_else(|| {
            Error::usage(format!(
                "level {level} does not exist; the image has {} levels",
                self.levels.len()
            ))
        })
    }

    /// Reads a region of `level`; chunks are decoded in parallel.
    ///
    /// # Errors
    /// Usage errors for regions outside the level, limit errors for reads larger than the
    /// limits allow, format errors for chunks that do not decode.
    pub fn read_region(&self, level: usize, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        self.reader(level)?.read_level_region(start, shape, true)
    }

    /// Reads a selection by axis name of `level`; axes selected by a single index are
    /// dropped from the result.
    ///
    /// # Errors
    /// As [`Image::read_region`], plus usage errors for unknown axes.
    pub fn read(&self, level: usize, selection: &Selection) -> Result<DynArray> {
        let shape = &self
            .levels
            .get(level)
            .ok_or_else(|| {
                Error::usage(format!(
                    "level {level} does not exist; the image has {} levels",
                    self.levels.len()
                ))
            })?
            .shape;
        let region = selection.resolve(&self.axis_names(), shape)?;
        let data = self.read_region(level, &region.start, &region.shape)?;
        if region.dropped.is_empty() {
            return Ok(data);
        }
        Ok(with_dyn_array!(data, a, T => {
            let mut a = a;
            for &d in region.dropped.iter().rev() {
                a = a.index_axis_move(NdAxis(d), 0);
            }
            <T as crate::Element>::into_dyn_array(a)
        }))
    }

    /// One level as a [`RegionSource`], to convert or re-chunk without loading it whole.
    ///
    /// # Errors
    /// A usage error when the level does not exist.
    pub fn level_source(&self, level: usize) -> Result<LevelSource<'_>> {
        self.reader(level)?;
        Ok(LevelSource { image: self, level })
    }
}

/// A level of an [`Image`] seen as a [`RegionSource`].
#[derive(Debug)]
pub struct LevelSource<'a> {
    image: &'a Image,
    level: usize,
}

impl RegionSource for LevelSource<'_> {
    fn shape(&self) -> &[u64] {
        &self.image.levels[self.level].shape
    }

    fn dtype(&self) -> DType {
        self.image.levels[self.level].dtype
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        // Writers call this from many threads at once: decode each region on one.
        self.image.readers[self.level].read_level_region(start, shape, false)
    }
}
