//! The format-neutral facade: an [`Image`] has axes, levels and channels, and reads any
//! region of any level, whatever format holds it.

use std::path::{Path, PathBuf};

use ndarray::Axis as NdAxis;

use crate::dtype::{DType, DynArray};
use crate::error::{Error, Result};
use crate::metadata::{Axis, NgffVersion, OmeroChannel};
use crate::selection::Selection;
use crate::source::RegionSource;
use crate::with_dyn_array;
use crate::zarr::ZarrArray;

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
}

#[allow(clippy::large_enum_variant)] // one reader per level; few levels
pub(crate) enum LevelReader {
    Zarr(ZarrArray),
    Tiff(crate::tiff::TiffLevel),
}

impl std::fmt::Debug for LevelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LevelReader::Zarr(a) => a.fmt(f),
            LevelReader::Tiff(t) => t.fmt(f),
        }
    }
}

/// A multiscale image opened for reading.
#[derive(Debug)]
pub struct Image {
    pub(crate) path: PathBuf,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<NgffVersion>,
    pub(crate) axes: Vec<Axis>,
    pub(crate) levels: Vec<Level>,
    pub(crate) channels: Vec<OmeroChannel>,
    pub(crate) readers: Vec<LevelReader>,
}

impl Image {
    /// Opens the image at `path` (an OME-Zarr image group, a label image, or a field of a
    /// plate such as `plate.zarr/A/1/0`).
    ///
    /// # Errors
    /// Storage errors, format errors naming the node and key, or a usage error when the
    /// path holds no image (a plate, a well, a labels group).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if is_tiff_input(path) {
            return std::sync::Arc::new(crate::tiff::OmeTiff::open(path)?).image(0);
        }
        crate::zarr::OmeZarr::open(path)?.image()
    }

    /// Image `series` of `path` under `limits`: that image of an OME-TIFF (or companion
    /// file), that series of a bioformats2raw container (the `series` list of its `OME`
    /// group, else its numbered groups; NGFF "bioformats2raw.layout"), and for any other
    /// input only series 0, the image [`Image::open`] opens.
    ///
    /// # Errors
    /// A usage error for a series that does not exist; the errors of opening the input.
    pub fn open_series(
        path: impl AsRef<Path>,
        series: usize,
        limits: &crate::Limits,
    ) -> Result<Self> {
        let path = path.as_ref();
        if is_tiff_input(path) {
            return std::sync::Arc::new(crate::tiff::OmeTiff::open_with(path, limits.into())?)
                .image(series);
        }
        let node = crate::zarr::OmeZarr::open_with_limits(path, *limits)?;
        if node.kind() == crate::metadata::NodeKind::Bioformats2raw {
            let names = node.series()?;
            let name = names.get(series).ok_or_else(|| {
                Error::usage(format!(
                    "series {series} does not exist; {} has {}",
                    path.display(),
                    names.len()
                ))
            })?;
            return node.child(name)?.image();
        }
        if series != 0 {
            return Err(Error::usage(format!(
                "series {series} does not exist; {} is one image (series 0)",
                path.display()
            )));
        }
        node.image()
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
        crate::ImageMetadata {
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

    fn reader(&self, level: usize) -> Result<&LevelReader> {
        self.readers.get(level).ok_or_else(|| {
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
        match self.reader(level)? {
            LevelReader::Zarr(a) => a.read_region(start, shape),
            LevelReader::Tiff(t) => t.read_region(start, shape, true),
        }
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

/// Whether `path` starts with a TIFF or BigTIFF magic number.
fn is_tiff_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    crate::open_regular(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && crate::tiff::is_tiff_magic(&head)
}

/// Whether `path` opens through the OME-TIFF reader: a regular file that starts with a TIFF
/// or BigTIFF magic number, or an OME-XML document (see [`is_companion`]). Everything else
/// is tried as an OME-Zarr hierarchy.
pub fn is_tiff_input(path: &Path) -> bool {
    path.is_file() && (is_tiff_file(path) || is_companion(path))
}

/// Whether `path` is an OME-XML document: a companion file (`*.companion.ome`, OME-TIFF
/// spec "Companion files"), a `.ome.xml`/`.xml` file, or any file whose first non-blank
/// byte (after a UTF-8 byte-order mark) is `<`. Such a file opens through the OME-TIFF
/// reader, which follows its TiffData/UUID references to the pixel files.
fn is_companion(path: &Path) -> bool {
    use std::io::Read;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".companion.ome") || name.ends_with(".xml") {
        return true;
    }
    let mut head = [0u8; 64];
    let n = crate::open_regular(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    crate::ome_xml::starts_like_xml(&head[..n])
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
        match &self.image.readers[self.level] {
            LevelReader::Zarr(a) => {
                // Writers call this from many threads at once: decode each region on one.
                let single = zarrs::array::CodecOptions::default().with_concurrent_target(1);
                a.read_region_opt(start, shape, &single)
            }
            LevelReader::Tiff(t) => t.read_region(start, shape, false),
        }
    }
}
