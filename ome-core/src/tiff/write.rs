//! The OME-TIFF writer: tiled classic TIFF or BigTIFF holding one or several images, one IFD
//! per plane (XYZCT order, image after image), the OME-XML in the ImageDescription of IFD 0,
//! pyramid levels as SubIFDs (tag 330) of each plane, largest first, with NewSubFileType = 1.
//! Tiles are compressed in parallel and streamed into a temporary file that is renamed into
//! place at the end.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;

use ndarray::Axis as NdAxis;
use rayon::prelude::*;

use crate::direct_io::{self, AlignedBuf};
use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::image_metadata::ImageMetadata;
use crate::location::Location;
use crate::ome_xml::{ChannelSpec, Color, DimensionOrder, ImageSpec, OmeXml, to_xml};
use crate::pyramid::Downsample;
use crate::source::RegionSource;

use super::decode::{self, code};
use super::ifd::tag;

/// Tile compression of the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TiffCompression {
    /// Uncompressed.
    None,
    /// zlib deflate (TIFF compression 8) at a level 0-9.
    #[default]
    Deflate,
    /// zstd (TIFF compression 50000) at a level 1-22.
    Zstd,
    /// LZW (TIFF compression 5).
    Lzw,
}

impl std::str::FromStr for TiffCompression {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "none" | "raw" => TiffCompression::None,
            "deflate" | "zlib" | "adobe_deflate" => TiffCompression::Deflate,
            "zstd" => TiffCompression::Zstd,
            "lzw" => TiffCompression::Lzw,
            other => {
                return Err(Error::usage(format!(
                    "expected a TIFF compression (none, deflate, zstd, lzw), found {other:?}"
                )));
            }
        })
    }
}

impl TiffCompression {
    fn code(self) -> u16 {
        match self {
            TiffCompression::None => code::NONE,
            TiffCompression::Deflate => code::ADOBE_DEFLATE,
            TiffCompression::Zstd => code::ZSTD,
            TiffCompression::Lzw => code::LZW,
        }
    }
}

/// Options of [`write_ome_tiff`] and [`write_ome_tiff_images`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TiffWriteOptions {
    /// Tile `(height, width)`, multiples of 16 (default 256 x 256).
    pub tile: (u32, u32),
    /// Tile compression.
    pub compression: TiffCompression,
    /// Compression level (deflate 0-9, zstd 1-22); `None` picks 6 for deflate, 3 for zstd.
    pub compression_level: Option<i32>,
    /// Horizontal differencing (predictor 2) for integer types.
    pub predictor: bool,
    /// Pyramid levels in total, level 0 included; `None` adds levels (factor 2 in y and x)
    /// while the level is larger than one tile.
    pub levels: Option<usize>,
    /// Downsampling of the pyramid levels.
    pub downsample: Downsample,
    /// `Some(true)` forces BigTIFF, `Some(false)` classic TIFF; `None` picks BigTIFF when the
    /// file could pass 4 GB.
    pub bigtiff: Option<bool>,
    /// Replace an existing file.
    pub overwrite: bool,
    /// Write around the page cache (`O_DIRECT`, Linux; buffered where the filesystem
    /// refuses it): `None` does so for outputs of 256 MiB or more.
    pub direct_io: Option<bool>,
    /// An OME-XML document to carry into the file instead of one made from the images'
    /// metadata: the images' origin (a bioformats2raw container's `OME/METADATA.ome.xml`, a
    /// source OME-TIFF's XML), with one `Image` per image written, in order. See
    /// [`OmeXml::carry_over`].
    pub ome_xml: Option<OmeXml>,
}

impl Default for TiffWriteOptions {
    fn default() -> Self {
        TiffWriteOptions {
            tile: (256, 256),
            compression: TiffCompression::Deflate,
            compression_level: None,
            predictor: false,
            levels: None,
            downsample: Downsample::Mean,
            bigtiff: None,
            overwrite: false,
            direct_io: None,
            ome_xml: None,
        }
    }
}

/// What [`write_ome_tiff`] or [`write_ome_tiff_images`] wrote.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TiffWriteSummary {
    /// Level shapes `[t, c, z, y, x]` of the first image.
    pub level_shapes: Vec<[u64; 5]>,
    /// Level shapes `[t, c, z, y, x]` of each image.
    pub image_level_shapes: Vec<Vec<[u64; 5]>>,
    /// Whether the file is a BigTIFF.
    pub bigtiff: bool,
    /// Bytes written.
    pub bytes: u64,
}

/// Whether `path` names a TIFF file to write: [`crate::Format::for_output`] says
/// OME-TIFF (it ends in one of [`crate::TIFF_EXTENSIONS`], any case; `.ome.tif` included).
pub fn is_tiff_path(path: &Path) -> bool {
    crate::Format::for_output(path) == crate::Format::OmeTiff
}

/// One value of an IFD entry.
enum Value {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Ascii(Vec<u8>),
    /// Offsets: LONG in classic TIFF, LONG8 in BigTIFF (IFD / IFD8 when `ifd`).
    Offsets {
        values: Vec<u64>,
        ifd: bool,
    },
}

/// The file being written: an aligned staging buffer flushed in whole buffers at
/// increasing offsets, around the page cache when asked and the filesystem allows
/// ([`crate::direct_io`]).
struct Output {
    file: File,
    buf: AlignedBuf,
    len: usize,
    /// Bytes already in the file.
    flushed: u64,
    direct: bool,
}

impl Output {
    const CAP: usize = 8 << 20;

    fn create(path: &Path, direct: bool) -> std::io::Result<Output> {
        let (file, direct) = direct_io::create(path, direct)?;
        Ok(Output {
            file,
            buf: AlignedBuf::new(Self::CAP),
            len: 0,
            flushed: 0,
            direct,
        })
    }

    fn put(&mut self, mut b: &[u8]) -> std::io::Result<()> {
        while !b.is_empty() {
            let n = (Self::CAP - self.len).min(b.len());
            self.buf.as_mut_slice()[self.len..self.len + n].copy_from_slice(&b[..n]);
            self.len += n;
            b = &b[n..];
            if self.len == Self::CAP {
                self.flush_buffer(Self::CAP)?;
            }
        }
        Ok(())
    }

    /// Writes the first `n` buffered bytes (whole aligned blocks when direct) at `flushed`.
    fn flush_buffer(&mut self, n: usize) -> std::io::Result<()> {
        let data = &self.buf.as_slice()[..n];
        direct_io::write_at(&self.file, &mut self.direct, data, self.flushed)?;
        self.flushed += self.len as u64;
        self.len = 0;
        Ok(())
    }

    /// Writes what is buffered; the file is then exactly `len` bytes long and takes
    /// ordinary (buffered) writes at any offset.
    fn finish(&mut self, len: u64) -> std::io::Result<()> {
        if self.direct {
            // O_DIRECT writes whole blocks: pad, write, then cut the file to length.
            let n = self.len.next_multiple_of(direct_io::ALIGN);
            self.buf.as_mut_slice()[self.len..n].fill(0);
            self.flush_buffer(n)?;
            direct_io::set_buffered(&self.file)?;
            self.direct = false;
            self.file.set_len(len)?;
        } else {
            self.flush_buffer(self.len)?;
        }
        Ok(())
    }

    fn write_at(&self, b: &[u8], offset: u64) -> std::io::Result<()> {
        direct_io::write_all_at(&self.file, b, offset)
    }
}

struct Writer {
    out: Output,
    pos: u64,
    big: bool,
    path: PathBuf,
}

impl Writer {
    fn io(&self, e: std::io::Error) -> Error {
        Error::io(Location::file(&self.path), e)
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.out.put(b).map_err(|e| self.io(e))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn align(&mut self) -> Result<()> {
        if self.pos % 2 == 1 {
            self.put(&[0])?;
        }
        Ok(())
    }

    fn offset_bytes(&self, v: u64) -> Result<Vec<u8>> {
        if self.big {
            Ok(v.to_le_bytes().to_vec())
        } else {
            let v = u32::try_from(v).map_err(|_| {
                Error::usage(format!(
                    "expected a classic TIFF below 4 GiB, found an offset of {v} bytes; write a BigTIFF"
                ))
            })?;
            Ok(v.to_le_bytes().to_vec())
        }
    }

    /// Writes an IFD (values first, then the table); returns its offset and the position
    /// of its next-IFD field.
    fn write_ifd(&mut self, mut entries: Vec<(u16, Value)>) -> Result<(u64, u64)> {
        entries.sort_by_key(|e| e.0);
        let inline = if self.big { 8 } else { 4 };
        let mut encoded: Vec<(u16, u16, u64, Vec<u8>)> = Vec::new();
        for (t, v) in entries {
            let (typ, count, bytes): (u16, u64, Vec<u8>) = match v {
                Value::Short(v) => (
                    3,
                    v.len() as u64,
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
                Value::Long(v) => (
                    4,
                    v.len() as u64,
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
                Value::Ascii(mut v) => {
                    v.push(0);
                    (2, v.len() as u64, v)
                }
                Value::Offsets { values, ifd } => {
                    let mut b = Vec::new();
                    for x in &values {
                        b.extend(self.offset_bytes(*x)?);
                    }
                    let typ = match (self.big, ifd) {
                        (true, true) => 18,
                        (true, false) => 16,
                        (false, true) => 13,
                        (false, false) => 4,
                    };
                    (typ, values.len() as u64, b)
                }
            };
            encoded.push((t, typ, count, bytes));
        }
        // Out-of-line values first.
        let mut value_pos = Vec::new();
        for e in &encoded {
            if e.3.len() > inline {
                self.align()?;
                value_pos.push(Some(self.pos));
                self.put(&e.3)?;
            } else {
                value_pos.push(None);
            }
        }
        self.align()?;
        let at = self.pos;
        let mut table = Vec::new();
        if self.big {
            table.extend((encoded.len() as u64).to_le_bytes());
        } else {
            table.extend((encoded.len() as u16).to_le_bytes());
        }
        for (e, vp) in encoded.iter().zip(&value_pos) {
            table.extend(e.0.to_le_bytes());
            table.extend(e.1.to_le_bytes());
            if self.big {
                table.extend(e.2.to_le_bytes());
            } else {
                table.extend((e.2 as u32).to_le_bytes());
            }
            match vp {
                Some(p) => table.extend(self.offset_bytes(*p)?),
                None => {
                    let mut f = e.3.clone();
                    f.resize(inline, 0);
                    table.extend(f);
                }
            }
        }
        let next_at = at + table.len() as u64;
        table.extend(vec![0u8; inline]);
        self.put(&table)?;
        Ok((at, next_at))
    }
}

fn axis_index(meta: &ImageMetadata, name: &str) -> Option<usize> {
    meta.axes.iter().position(|a| a.name == name)
}

/// One image of an OME-TIFF: its pixels, and the metadata naming their axes (any of `t`,
/// `c`, `z` and both `y` and `x`), physical sizes, name and channels.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct TiffImage<'a> {
    /// The pixels.
    pub source: &'a dyn RegionSource,
    /// Axes, scale, name and channels of `source`.
    pub meta: &'a ImageMetadata,
    /// The pyramid levels below `source`, written as they are (as SubIFDs) instead of
    /// being downsampled from it: a source's own levels, kept. Empty: the writer makes
    /// the levels ([`TiffWriteOptions::levels`]).
    pub levels: &'a [&'a dyn RegionSource],
}

impl std::fmt::Debug for TiffImage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiffImage")
            .field("shape", &self.source.shape())
            .field("dtype", &self.source.dtype())
            .field("meta", self.meta)
            .field("levels", &self.levels.len())
            .finish()
    }
}

impl<'a> TiffImage<'a> {
    /// An image from its pixels and their metadata.
    pub fn new(source: &'a dyn RegionSource, meta: &'a ImageMetadata) -> Self {
        TiffImage {
            source,
            meta,
            levels: &[],
        }
    }

    /// The image with `levels` (level 1 first) as its pyramid, copied as they are. Each
    /// must have the element type and the `t`, `c` and `z` sizes of `source`, and `y` and
    /// `x` sizes that do not grow (OME-TIFF spec "Sub-resolutions": every plane's SubIFDs
    /// hold the same plane at lower resolutions).
    pub fn with_levels(mut self, levels: &'a [&'a dyn RegionSource]) -> Self {
        self.levels = levels;
        self
    }
}

/// What the writer needs to know of one image before the file is created.
struct ImagePlan<'a> {
    source: &'a dyn RegionSource,
    /// Levels 1.. given as they are (empty: downsampled from `source`).
    given: &'a [&'a dyn RegionSource],
    ndim: usize,
    /// Source axis of t, c, z, y, x.
    idx: [Option<usize>; 5],
    iy: usize,
    ix: usize,
    /// Sizes t, c, z.
    tcz: [u64; 3],
    /// Level shapes (y, x), level 0 first.
    lv: Vec<(u64, u64)>,
    dtype: DType,
    /// Horizontal differencing applies (integer samples, compressed).
    predictor: bool,
    spec: ImageSpec,
}

impl ImagePlan<'_> {
    fn planes(&self) -> u64 {
        self.tcz.iter().product()
    }

    /// Bytes of every padded tile of every level and plane, uncompressed.
    fn raw_bytes(&self, th: u64, tw: u64) -> u64 {
        let per_plane: u64 = self
            .lv
            .iter()
            .map(|(h, w)| h.div_ceil(th) * th * w.div_ceil(tw) * tw * self.dtype.size() as u64)
            .sum();
        per_plane.saturating_mul(self.planes())
    }
}

/// Checks image `index` of a file named `file_name` and works out its levels and OME-XML.
fn plan_image<'a>(
    index: usize,
    image: &TiffImage<'a>,
    opts: &TiffWriteOptions,
    file_name: &str,
) -> Result<ImagePlan<'a>> {
    let (source, meta) = (image.source, image.meta);
    let shape = source.shape().to_vec();
    let which = |msg: String| Error::usage(format!("image {index}: {msg}"));
    if meta.axes.len() != shape.len() {
        return Err(which(format!(
            "expected {} axes for a source of shape {shape:?}, found {}",
            shape.len(),
            meta.axes.len()
        )));
    }
    let mut idx = [None; 5];
    for (k, n) in ["t", "c", "z", "y", "x"].iter().enumerate() {
        idx[k] = axis_index(meta, n);
    }
    if let Some(a) = meta
        .axes
        .iter()
        .find(|a| !["t", "c", "z", "y", "x"].contains(&a.name.as_str()))
    {
        return Err(which(format!(
            "expected axes named t, c, z, y and x for OME-TIFF, found {:?}",
            a.name
        )));
    }
    let (Some(iy), Some(ix)) = (idx[3], idx[4]) else {
        return Err(which("expected y and x axes for OME-TIFF".to_string()));
    };
    let size = |k: usize| idx[k].map_or(1, |i| shape[i]);
    let (st, sc, sz, sy, sx) = (size(0), size(1), size(2), size(3), size(4));
    let to32 = |v: u64, what: &str| {
        u32::try_from(v).map_err(|_| which(format!("expected {what} below 2^32, found {v}")))
    };
    let (th, tw) = (u64::from(opts.tile.0), u64::from(opts.tile.1));
    // Level shapes (y, x).
    let mut lv = vec![(sy, sx)];
    for (k, level) in image.levels.iter().enumerate() {
        let k = k + 1;
        let ls = level.shape();
        let same_planes = ls.len() == shape.len()
            && (0..shape.len()).all(|d| d == iy || d == ix || ls[d] == shape[d]);
        if !same_planes {
            return Err(which(format!(
                "level {k} has shape {ls:?}, level 0 {shape:?}: OME-TIFF levels keep every \
                 axis but y and x (SubIFDs hold the same planes at lower resolutions)"
            )));
        }
        if level.dtype() != source.dtype() {
            return Err(which(format!(
                "level {k} holds {}, level 0 {}",
                level.dtype(),
                source.dtype()
            )));
        }
        let &(ph, pw) = lv.last().unwrap_or(&(sy, sx));
        if ls[iy] > ph || ls[ix] > pw || ls[iy] == 0 || ls[ix] == 0 {
            return Err(which(format!(
                "level {k} is {} x {} (y x), larger than the level above ({ph} x {pw}) or empty",
                ls[iy], ls[ix]
            )));
        }
        lv.push((ls[iy], ls[ix]));
    }
    while image.levels.is_empty() {
        let &(h, w) = lv.last().unwrap_or(&(sy, sx));
        let more = match opts.levels {
            Some(n) => lv.len() < n,
            None => h > th || w > tw,
        };
        if !more || (h == 1 && w == 1) {
            break;
        }
        lv.push((h.div_ceil(2), w.div_ceil(2)));
    }
    let stem = file_name
        .trim_end_matches(".ome.tif")
        .trim_end_matches(".ome.tiff");
    let name = meta.name.clone().unwrap_or_else(|| {
        if index == 0 {
            stem.to_string()
        } else {
            format!("{stem} #{}", index + 1)
        }
    });
    let dtype = source.dtype();
    let mut spec = ImageSpec::new(
        name,
        [
            to32(sx, "SizeX")?,
            to32(sy, "SizeY")?,
            to32(sz, "SizeZ")?,
            to32(sc, "SizeC")?,
            to32(st, "SizeT")?,
        ],
        dtype,
    );
    spec.dimension_order = DimensionOrder::XYZCT;
    spec.file_name = file_name.to_string();
    if let Some(scale) = &meta.scale {
        // A scale of exactly 1 on an axis without a unit is NGFF's "not calibrated" (the
        // default transformation), not a physical size of 1 µm or 1 s.
        let get = |k: usize| {
            idx[k].and_then(|i| {
                let v = scale.get(i).copied().filter(|v| *v > 0.0)?;
                (v != 1.0 || meta.axes[i].unit.is_some()).then_some(v)
            })
        };
        let unit = |k: usize| idx[k].and_then(|i| meta.axes[i].unit.as_deref());
        // OME-XML gives each of x, y, z its own unit attribute, but one unit reads best:
        // that of x (else y, else z); a size in another known unit is converted to it.
        let units = [4, 3, 2].map(|k| unit(k).and_then(super::facade::length_unit));
        let common = units.iter().flatten().next().copied();
        let mut sizes = [get(4), get(3), get(2)];
        for (size, from) in sizes.iter_mut().zip(units) {
            if let (Some(v), Some(from), Some(to)) = (*size, from, common) {
                // 15 significant digits: 2 µm is 2000 nm, not 1999.9999999999998.
                *size = from
                    .convert(v, to)
                    .and_then(|c| format!("{c:.14e}").parse().ok())
                    .or(Some(v));
            }
        }
        spec.physical_size = sizes;
        spec.physical_size_unit = common;
        spec.time_increment = get(0);
        spec.time_increment_unit = unit(0).and_then(super::facade::time_unit);
    }
    if !meta.channel_names.is_empty() || !meta.channel_colors.is_empty() {
        spec.channels = (0..sc as usize)
            .map(|c| {
                ChannelSpec::new(
                    meta.channel_names.get(c).cloned(),
                    meta.channel_colors
                        .get(c)
                        .and_then(|h| Color::from_hex(h).ok()),
                )
            })
            .collect();
    }
    Ok(ImagePlan {
        source,
        given: image.levels,
        ndim: shape.len(),
        idx,
        iy,
        ix,
        tcz: [st, sc, sz],
        lv,
        dtype,
        predictor: opts.predictor && !dtype.is_float() && opts.compression != TiffCompression::None,
        spec,
    })
}

/// Tile offsets and byte counts of each plane, each level.
type Tables = Vec<Vec<(Vec<u64>, Vec<u64>)>>;

/// The file name, the plan of each image and the OME-XML of a file at `path`.
fn plan_file<'a>(
    path: &Path,
    images: &[TiffImage<'a>],
    opts: &TiffWriteOptions,
) -> Result<(String, Vec<ImagePlan<'a>>, OmeXml)> {
    if images.is_empty() {
        return Err(Error::usage("expected at least one image to write"));
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plans = images
        .iter()
        .enumerate()
        .map(|(i, image)| plan_image(i, image, opts, &file_name))
        .collect::<Result<Vec<_>>>()?;
    let specs: Vec<ImageSpec> = plans.iter().map(|p| p.spec.clone()).collect();
    let mut ome = OmeXml::for_images(&specs)?;
    if let Some(template) = &opts.ome_xml {
        ome = template.carry_over(ome)?;
    }
    Ok((file_name, plans, ome))
}

/// The OME-XML [`write_ome_tiff_images`] would write at `path` (with a fresh UUID), with no
/// pixels read and no file made: to preview it, or to check beforehand that
/// [`TiffWriteOptions::ome_xml`] describes the images.
///
/// # Errors
/// As [`write_ome_tiff_images`], less the storage and source errors.
pub fn ome_xml_for(
    path: impl AsRef<Path>,
    images: &[TiffImage<'_>],
    opts: &TiffWriteOptions,
) -> Result<OmeXml> {
    plan_file(path.as_ref(), images, opts).map(|(_, _, ome)| ome)
}

/// Writes `source` (axes named by `meta`: any of `t`, `c`, `z` and both `y` and `x`) as an
/// OME-TIFF at `path`: [`write_ome_tiff_images`] with one image.
///
/// # Errors
/// As [`write_ome_tiff_images`].
pub fn write_ome_tiff(
    path: impl AsRef<Path>,
    source: &dyn RegionSource,
    meta: &ImageMetadata,
    opts: &TiffWriteOptions,
) -> Result<TiffWriteSummary> {
    write_ome_tiff_images(path, &[TiffImage::new(source, meta)], opts)
}

/// Writes `images` as one OME-TIFF at `path`: image `i` is `Image:i` of the OME-XML (which
/// goes in the ImageDescription of IFD 0), its planes (XYZCT order) follow those of the
/// images before it in the IFD chain, each plane with its pyramid levels as SubIFDs. With
/// [`TiffWriteOptions::ome_xml`], that document is carried (see [`OmeXml::carry_over`]).
///
/// Planes stream through the pyramid in bands of one tile row, tiles are compressed in
/// parallel and written as they come, so memory is bounded by a few tile rows per thread,
/// not by a plane or the image. The file is written under a temporary name next to `path`
/// and renamed into place once complete; on error the temporary file is removed.
///
/// # Errors
/// Usage errors for no images, axes the OME model cannot hold, an OME-XML to carry that
/// does not describe the images, or an existing file without `overwrite`; storage errors;
/// the sources' errors.
pub fn write_ome_tiff_images(
    path: impl AsRef<Path>,
    images: &[TiffImage<'_>],
    opts: &TiffWriteOptions,
) -> Result<TiffWriteSummary> {
    let path = path.as_ref();
    // Removed on every early return; moved into place only when whole.
    let staged = crate::output::Staged::file(path, opts.overwrite)?;
    let (th, tw) = (u64::from(opts.tile.0), u64::from(opts.tile.1));
    if th == 0 || tw == 0 || th % 16 != 0 || tw % 16 != 0 {
        return Err(Error::usage(format!(
            "expected tile sides that are multiples of 16, found {th} x {tw}"
        )));
    }
    let (_, plans, ome) = plan_file(path, images, opts)?;
    let raw_total = plans
        .iter()
        .fold(0u64, |acc, p| acc.saturating_add(p.raw_bytes(th, tw)));
    let big = opts.bigtiff.unwrap_or(raw_total > (1u64 << 32) - (1 << 26));
    let xml = to_xml(&ome);

    // Unique per writer (two threads of one process may write one output), and moved
    // into place without replacing an output another writer committed meanwhile.
    let tmp = staged.path().to_path_buf();
    // Large outputs skip the page cache (O_DIRECT): the file is not read back soon, and on
    // virtual machines filling fresh page-cache pages can cost more than compressing
    // (0.43 GB/s buffered against 3 GB/s direct for 755 MB on the benchmark machine).
    let direct = opts.direct_io.unwrap_or(raw_total >= 256 << 20);
    let file = Output::create(&tmp, direct).map_err(|e| Error::io(Location::file(&tmp), e))?;
    let mut w = Writer {
        out: file,
        pos: 0,
        big,
        path: tmp.clone(),
    };
    let comp = opts.compression.code();
    let level = opts.compression_level.unwrap_or(match opts.compression {
        TiffCompression::Zstd => 3,
        _ => 6,
    });
    let result = (|| -> Result<()> {
        if big {
            w.put(b"II+\0")?;
            w.put(&8u16.to_le_bytes())?;
            w.put(&0u16.to_le_bytes())?;
            w.put(&0u64.to_le_bytes())?;
        } else {
            w.put(b"II*\0")?;
            w.put(&0u32.to_le_bytes())?;
        }
        // Every image's tiles first, then every IFD: the pixel data of all images, then
        // the chain of IFDs, image after image, which the OME-XML's TiffData count along.
        let mut tables = Vec::with_capacity(plans.len());
        for plan in &plans {
            let enc = BandEncoder {
                path: &tmp,
                source: plan.source,
                given: plan.given,
                ndim: plan.ndim,
                idx: plan.idx,
                iy: plan.iy,
                ix: plan.ix,
                lv: &plan.lv,
                th,
                tw,
                comp,
                level,
                predictor: plan.predictor,
                method: opts.downsample,
            };
            tables.push(enc.encode_into(&mut w, plan.dtype, plan.tcz)?);
        }
        // The BigTIFF header's first-IFD field is at 8, the classic one's at 4.
        let mut prev_next = if big { 8 } else { 4 };
        let mut patches: Vec<(u64, u64)> = Vec::new();
        let mut desc = Some(xml.into_bytes());
        for (plan, planes) in plans.iter().zip(&tables) {
            for levels in planes {
                // SubIFDs first (their offsets go into the main IFD).
                let mut sub_offsets = Vec::new();
                for (k, (offs, counts)) in levels.iter().enumerate().skip(1) {
                    let (at, _) = w.write_ifd(ifd_entries(
                        plan.lv[k],
                        th,
                        tw,
                        plan.dtype,
                        comp,
                        plan.predictor,
                        offs,
                        counts,
                        1,
                        None,
                        Vec::new(),
                    ))?;
                    sub_offsets.push(at);
                }
                let (at, next_at) = w.write_ifd(ifd_entries(
                    plan.lv[0],
                    th,
                    tw,
                    plan.dtype,
                    comp,
                    plan.predictor,
                    &levels[0].0,
                    &levels[0].1,
                    0,
                    desc.take(),
                    sub_offsets,
                ))?;
                patches.push((prev_next, at));
                prev_next = next_at;
            }
        }
        let len = w.pos;
        w.out.finish(len).map_err(|e| w.io(e))?;
        for (field, value) in patches {
            let b = w.offset_bytes(value)?;
            w.out.write_at(&b, field).map_err(|e| w.io(e))?;
        }
        // No fsync, as for the Zarr writer: the rename below makes the file appear whole
        // or not at all to other readers; durability across a power loss is the caller's
        // (an fsync here cost 0.2-1 s per GB on the benchmark machine).
        Ok(())
    })();
    let bytes = w.pos;
    drop(w);
    result?;
    staged.commit()?;
    let image_level_shapes: Vec<Vec<[u64; 5]>> = plans
        .iter()
        .map(|p| {
            let [st, sc, sz] = p.tcz;
            p.lv.iter().map(|&(h, w)| [st, sc, sz, h, w]).collect()
        })
        .collect();
    Ok(TiffWriteSummary {
        level_shapes: image_level_shapes[0].clone(),
        image_level_shapes,
        bigtiff: big,
        bytes,
    })
}

#[allow(clippy::too_many_arguments)]
fn ifd_entries(
    (height, width): (u64, u64),
    th: u64,
    tw: u64,
    dtype: DType,
    comp: u16,
    predictor: bool,
    offs: &[u64],
    counts: &[u64],
    subfile: u32,
    desc: Option<Vec<u8>>,
    sub_offsets: Vec<u64>,
) -> Vec<(u16, Value)> {
    let fmt = if dtype.is_float() {
        3
    } else if dtype.is_signed_int() {
        2
    } else {
        1
    };
    let mut e = vec![
        (tag::NEW_SUBFILE_TYPE, Value::Long(vec![subfile])),
        (tag::IMAGE_WIDTH, Value::Long(vec![width as u32])),
        (tag::IMAGE_LENGTH, Value::Long(vec![height as u32])),
        (
            tag::BITS_PER_SAMPLE,
            Value::Short(vec![(dtype.size() * 8) as u16]),
        ),
        (tag::COMPRESSION, Value::Short(vec![comp])),
        (tag::PHOTOMETRIC, Value::Short(vec![1])),
        (tag::SAMPLES_PER_PIXEL, Value::Short(vec![1])),
        (tag::PLANAR_CONFIGURATION, Value::Short(vec![1])),
        (tag::SOFTWARE, Value::Ascii(b"ome-core".to_vec())),
        (tag::TILE_WIDTH, Value::Long(vec![tw as u32])),
        (tag::TILE_LENGTH, Value::Long(vec![th as u32])),
        (
            tag::TILE_OFFSETS,
            Value::Offsets {
                values: offs.to_vec(),
                ifd: false,
            },
        ),
        (
            tag::TILE_BYTE_COUNTS,
            Value::Offsets {
                values: counts.to_vec(),
                ifd: false,
            },
        ),
        (tag::SAMPLE_FORMAT, Value::Short(vec![fmt])),
    ];
    if predictor {
        e.push((tag::PREDICTOR, Value::Short(vec![2])));
    }
    if let Some(d) = desc {
        e.push((tag::IMAGE_DESCRIPTION, Value::Ascii(d)));
    }
    if !sub_offsets.is_empty() {
        e.push((
            tag::SUB_IFDS,
            Value::Offsets {
                values: sub_offsets,
                ifd: true,
            },
        ));
    }
    e
}

/// One compressed tile on its way to the writer thread.
struct EncodedTile {
    plane: usize,
    level: usize,
    index: usize,
    bytes: Vec<u8>,
}

/// Streams planes through the pyramid in bands of one tile row: a band of level 0 is read
/// from the source, its tiles are compressed, and it is downsampled into the pending rows
/// of level 1, which emits a band whenever it holds a full tile row, and so on down. Each
/// plane holds at most one tile row per level, so memory does not grow with the image.
struct BandEncoder<'a> {
    /// The file being written, for error locations.
    path: &'a Path,
    source: &'a dyn RegionSource,
    /// Levels 1.. read from these instead of downsampled (empty: downsampled).
    given: &'a [&'a dyn RegionSource],
    ndim: usize,
    idx: [Option<usize>; 5],
    iy: usize,
    ix: usize,
    lv: &'a [(u64, u64)],
    th: u64,
    tw: u64,
    comp: u16,
    level: i32,
    predictor: bool,
    method: Downsample,
}

/// Rows of one level waiting for a full tile row, and how many rows it has emitted.
struct Pending<T> {
    rows: Vec<T>,
    done: u64,
}

impl BandEncoder<'_> {
    /// Streams every plane (XYZCT order, OME-TIFF spec "DimensionOrder") of sizes `tcz`
    /// through the encoder into `w`; returns each plane's tile offsets and byte counts per
    /// level. Compressed tiles arrive at the writer thread in any order, which TIFF allows
    /// (TIFF 6.0 section 2: only the IFD's offsets locate the tiles).
    fn encode_into(&self, w: &mut Writer, dtype: DType, tcz: [u64; 3]) -> Result<Tables> {
        let [st, sc, sz] = tcz;
        let mut planes: Vec<[u64; 3]> = Vec::new();
        for t in 0..st {
            for c in 0..sc {
                for z in 0..sz {
                    planes.push([t, c, z]);
                }
            }
        }
        let tiles_per_level: Vec<usize> = self
            .lv
            .iter()
            .map(|&(h, wd)| (h.div_ceil(self.th) * wd.div_ceil(self.tw)) as usize)
            .collect();
        let mut tables: Tables = planes
            .iter()
            .map(|_| {
                tiles_per_level
                    .iter()
                    .map(|&n| (vec![0u64; n], vec![0u64; n]))
                    .collect()
            })
            .collect();
        // A bounded queue: at most this many compressed tiles wait for the writer, so
        // memory is a few tile bands whatever the image size.
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<EncodedTile>(4 * rayon::current_num_threads() + 8);
        let (written, produced) = std::thread::scope(|scope| {
            let tables_ref = &mut tables;
            let writer = scope.spawn(move || -> Result<()> {
                for tile in rx {
                    let (offs, counts) = &mut tables_ref[tile.plane][tile.level];
                    offs[tile.index] = w.pos;
                    counts[tile.index] = tile.bytes.len() as u64;
                    w.put(&tile.bytes)?;
                }
                Ok(())
            });
            let produced = self.run(dtype, &planes, tx);
            let written = writer.join().unwrap_or_else(|_| {
                Err(Error::io(
                    Location::file(self.path),
                    std::io::Error::other("the TIFF writer thread panicked"),
                ))
            });
            (written, produced)
        });
        // A writer failure stops the producers too; its error is the cause.
        written?;
        produced?;
        Ok(tables)
    }

    fn run(&self, dtype: DType, planes: &[[u64; 3]], tx: SyncSender<EncodedTile>) -> Result<()> {
        crate::with_dtype!(dtype, T => self.run_typed::<T>(planes, &tx))
    }

    fn run_typed<T: Element>(
        &self,
        planes: &[[u64; 3]],
        tx: &SyncSender<EncodedTile>,
    ) -> Result<()> {
        // Enough planes to keep every thread busy: one plane per task, its bands in order
        // (reading, downsampling and compressing all run in parallel across planes).
        // Otherwise planes one by one and the tiles of each band in parallel.
        if planes.len() >= 2 * rayon::current_num_threads() {
            planes
                .par_iter()
                .enumerate()
                .try_for_each(|(i, p)| self.plane::<T>(i, *p, tx, false))
        } else {
            planes
                .iter()
                .enumerate()
                .try_for_each(|(i, p)| self.plane::<T>(i, *p, tx, true))
        }
    }

    fn plane<T: Element>(
        &self,
        plane: usize,
        tcz: [u64; 3],
        tx: &SyncSender<EncodedTile>,
        par: bool,
    ) -> Result<()> {
        let mut pending: Vec<Pending<T>> = self
            .lv
            .iter()
            .map(|_| Pending {
                rows: Vec::new(),
                done: 0,
            })
            .collect();
        // Level 0 streams through the pyramid; given levels each stream from their own
        // source, with nothing downsampled.
        let streamed = if self.given.is_empty() {
            1
        } else {
            self.lv.len()
        };
        for level in 0..streamed {
            let source = match level {
                0 => self.source,
                k => self.given[k - 1],
            };
            let (h0, w0) = self.lv[level];
            // Mean, nearest and mode see only their own 2x2 block, so tile-row bands give
            // the same levels as whole planes; the gaussian reaches across blocks and gets
            // the whole plane in one band.
            let band = if self.method == Downsample::Gaussian && self.given.is_empty() {
                h0.max(1)
            } else {
                self.th
            };
            let mut y = 0;
            while y < h0 {
                let n = band.min(h0 - y);
                let mut start = vec![0u64; self.ndim];
                let mut ext = vec![1u64; self.ndim];
                for (k, v) in [(0, tcz[0]), (1, tcz[1]), (2, tcz[2])] {
                    if let Some(i) = self.idx[k] {
                        start[i] = v;
                    }
                }
                start[self.iy] = y;
                ext[self.iy] = n;
                ext[self.ix] = w0;
                let region = source.read_region(&start, &ext)?;
                let rows = self.rows_of::<T>(region)?;
                self.push(plane, level, rows, y + n == h0, &mut pending, tx, par)?;
                y += n;
            }
        }
        Ok(())
    }

    /// The band as row-major `rows x width` samples (the size-1 plane axes dropped).
    fn rows_of<T: Element>(&self, region: DynArray) -> Result<Vec<T>> {
        let found = region.dtype();
        let mut a = T::from_dyn_array_owned(region).map_err(|_| {
            Error::usage(format!(
                "expected the source to return {:?} regions, found {found:?}",
                T::DTYPE
            ))
        })?;
        let (mut py, mut px) = (self.iy, self.ix);
        for d in (0..a.ndim()).rev() {
            if d != self.iy && d != self.ix {
                a = a.index_axis_move(NdAxis(d), 0);
                if d < py {
                    py -= 1;
                }
                if d < px {
                    px -= 1;
                }
            }
        }
        if py > px {
            a = a.reversed_axes();
        }
        if a.is_standard_layout() {
            let (v, off) = a.into_raw_vec_and_offset();
            if off.unwrap_or(0) == 0 {
                return Ok(v);
            }
            let n = v.len();
            return Ok(v[off.unwrap_or(0).min(n)..].to_vec());
        }
        Ok(a.iter().copied().collect())
    }

    /// Adds `rows` to level `k`; emits and downsamples every full tile row (all rows when
    /// `last`), recursing into the next level.
    #[allow(clippy::too_many_arguments)]
    fn push<T: Element>(
        &self,
        plane: usize,
        k: usize,
        rows: Vec<T>,
        last: bool,
        pending: &mut [Pending<T>],
        tx: &SyncSender<EncodedTile>,
        par: bool,
    ) -> Result<()> {
        let w = self.lv[k].1 as usize;
        let p = &mut pending[k];
        if p.rows.is_empty() {
            p.rows = rows;
        } else {
            p.rows.extend_from_slice(&rows);
        }
        let have = p.rows.len().checked_div(w).unwrap_or(0);
        let ready = if last {
            have
        } else {
            have / self.th as usize * self.th as usize
        };
        if ready == 0 && !last {
            return Ok(());
        }
        let rest = p.rows.split_off(ready * w);
        let chunk = std::mem::replace(&mut p.rows, rest);
        let y0 = p.done;
        p.done += ready as u64;
        if ready > 0 {
            self.compress_band::<T>(plane, k, &chunk, ready, w, y0, tx, par)?;
        }
        if self.given.is_empty() && k + 1 < self.lv.len() {
            let down = if ready > 0 && w > 0 {
                let view = ndarray::ArrayViewD::from_shape(ndarray::IxDyn(&[ready, w]), &chunk)
                    .map_err(|e| Error::usage(format!("expected a consistent band: {e}")))?;
                let d = crate::pyramid::downsample(view, &[2, 2], self.method)?;
                let (v, off) = d.into_raw_vec_and_offset();
                let off = off.unwrap_or(0).min(v.len());
                if off == 0 { v } else { v[off..].to_vec() }
            } else {
                Vec::new()
            };
            drop(chunk);
            self.push(plane, k + 1, down, last, pending, tx, par)?;
        }
        Ok(())
    }

    /// Cuts `rows x w` samples starting at row `y0` (a multiple of the tile height) of level
    /// `k` into zero-padded tiles (TIFF 6.0 section 15: tiles at the edges are padded) and
    /// compresses them.
    #[allow(clippy::too_many_arguments)]
    fn compress_band<T: Element>(
        &self,
        plane: usize,
        k: usize,
        chunk: &[T],
        rows: usize,
        w: usize,
        y0: u64,
        tx: &SyncSender<EncodedTile>,
        par: bool,
    ) -> Result<()> {
        let (th, tw) = (self.th as usize, self.tw as usize);
        let across = w.div_ceil(tw);
        let down = rows.div_ceil(th);
        let first = (y0 / self.th) as usize * across;
        let bps = size_of::<T>();
        let one = |i: usize| -> Result<()> {
            let (by, bx) = (i / across, i % across);
            let (r0, x0) = (by * th, bx * tw);
            let nr = th.min(rows - r0);
            let nc = tw.min(w - x0);
            thread_local! {
                static TILE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            let bytes = TILE.with(|cell| {
                let mut tile = cell.borrow_mut();
                tile.clear();
                tile.resize(th * tw * bps, 0);
                for r in 0..nr {
                    let src = &chunk[(r0 + r) * w + x0..(r0 + r) * w + x0 + nc];
                    let dst = &mut tile[r * tw * bps..(r * tw + nc) * bps];
                    if cfg!(target_endian = "little") {
                        dst.copy_from_slice(bytemuck::cast_slice(src));
                    } else {
                        let mut le = Vec::with_capacity(nc * bps);
                        for &v in src {
                            v.write_le(&mut le);
                        }
                        dst.copy_from_slice(&le);
                    }
                }
                if self.predictor {
                    decode::apply_horizontal(&mut tile, tw, bps);
                }
                decode::compress(self.comp, &tile, self.level)
            });
            let bytes = bytes.map_err(|e| Error::io(Location::file(self.path), e))?;
            tx.send(EncodedTile {
                plane,
                level: k,
                index: first + i,
                bytes,
            })
            .map_err(|_| {
                Error::io(
                    Location::file(self.path),
                    std::io::Error::other("the TIFF writer stopped"),
                )
            })
        };
        if par {
            (0..across * down).into_par_iter().try_for_each(one)
        } else {
            (0..across * down).try_for_each(one)
        }
    }
}
