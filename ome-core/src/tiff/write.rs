//! The OME-TIFF writer: tiled classic TIFF or BigTIFF, one IFD per plane (XYZCT order), the
//! OME-XML in the ImageDescription of IFD 0, pyramid levels as SubIFDs (tag 330) of each
//! plane, largest first, with NewSubFileType = 1. Tiles are compressed in parallel and
//! streamed in order into a temporary file that is renamed into place at the end.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, Axis as NdAxis};
use rayon::prelude::*;

use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::image_metadata::ImageMetadata;
use crate::location::Location;
use crate::ome_xml::{ChannelSpec, Color, DimensionOrder, ImageSpec, OmeXml, UnitsLength, to_xml};
use crate::pyramid::Downsample;
use crate::source::RegionSource;
use crate::with_dyn_array;

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

/// Options of [`write_ome_tiff`].
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
        }
    }
}

/// What [`write_ome_tiff`] wrote.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TiffWriteSummary {
    /// Level shapes `[t, c, z, y, x]`.
    pub level_shapes: Vec<[u64; 5]>,
    /// Whether the file is a BigTIFF.
    pub bigtiff: bool,
    /// Bytes written.
    pub bytes: u64,
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

struct Writer {
    out: BufWriter<File>,
    pos: u64,
    big: bool,
    path: PathBuf,
}

impl Writer {
    fn io(&self, e: std::io::Error) -> Error {
        Error::io(Location::file(&self.path), e)
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b).map_err(|e| self.io(e))?;
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

/// One plane at one level, as little-endian bytes, row-major `height x width`.
struct PlaneData {
    bytes: Vec<u8>,
    height: u64,
    width: u64,
}

fn axis_index(meta: &ImageMetadata, name: &str) -> Option<usize> {
    meta.axes.iter().position(|a| a.name == name)
}

/// Writes `source` (axes named by `meta`: any of `t`, `c`, `z` and both `y` and `x`) as an
/// OME-TIFF at `path`, one plane at a time, so memory is bounded by a plane and its levels.
///
/// # Errors
/// Usage errors for axes the OME model cannot hold or an existing file without
/// `overwrite`; storage errors; the source's errors.
pub fn write_ome_tiff(
    path: impl AsRef<Path>,
    source: &dyn RegionSource,
    meta: &ImageMetadata,
    opts: &TiffWriteOptions,
) -> Result<TiffWriteSummary> {
    let path = path.as_ref();
    let shape = source.shape().to_vec();
    if meta.axes.len() != shape.len() {
        return Err(Error::usage(format!(
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
        return Err(Error::usage(format!(
            "expected axes named t, c, z, y and x for OME-TIFF, found {:?}",
            a.name
        )));
    }
    let (Some(iy), Some(ix)) = (idx[3], idx[4]) else {
        return Err(Error::usage("expected y and x axes for OME-TIFF"));
    };
    let size = |k: usize| idx[k].map_or(1, |i| shape[i]);
    let (st, sc, sz, sy, sx) = (size(0), size(1), size(2), size(3), size(4));
    let to32 = |v: u64, what: &str| {
        u32::try_from(v).map_err(|_| Error::usage(format!("expected {what} below 2^32, found {v}")))
    };
    let dtype = source.dtype();
    if path.exists() && !opts.overwrite {
        return Err(Error::usage(format!(
            "{} exists; pass overwrite to replace it",
            path.display()
        )));
    }
    let (th, tw) = (u64::from(opts.tile.0), u64::from(opts.tile.1));
    if th == 0 || tw == 0 || th % 16 != 0 || tw % 16 != 0 {
        return Err(Error::usage(format!(
            "expected tile sides that are multiples of 16, found {th} x {tw}"
        )));
    }
    // Level shapes (y, x).
    let mut lv = vec![(sy, sx)];
    loop {
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
    let bps = dtype.size() as u64;
    let raw_total: u64 = lv
        .iter()
        .map(|(h, w)| h.div_ceil(th) * th * w.div_ceil(tw) * tw * bps)
        .sum::<u64>()
        * st
        * sc
        * sz;
    let big = opts.bigtiff.unwrap_or(raw_total > (1u64 << 32) - (1 << 26));

    // OME-XML.
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut spec = ImageSpec::new(
        meta.name.clone().unwrap_or_else(|| {
            file_name
                .trim_end_matches(".ome.tif")
                .trim_end_matches(".ome.tiff")
                .to_string()
        }),
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
    spec.file_name = file_name;
    if let Some(scale) = &meta.scale {
        let get = |k: usize| {
            idx[k]
                .and_then(|i| scale.get(i).copied())
                .filter(|v| *v > 0.0)
        };
        spec.physical_size = [get(4), get(3), get(2)];
        spec.time_increment = get(0);
        let unit = idx[4].and_then(|i| meta.axes[i].unit.clone());
        spec.physical_size_unit = unit.as_deref().and_then(unit_from_name);
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
    let ome = OmeXml::for_image(&spec)?;
    let xml = to_xml(&ome);

    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = parent.join(format!(
        ".{}.{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let file = File::create(&tmp).map_err(|e| Error::io(Location::file(&tmp), e))?;
    let mut w = Writer {
        out: BufWriter::with_capacity(8 << 20, file),
        pos: 0,
        big,
        path: tmp.clone(),
    };
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
        let first_ptr = 4u64;
        let mut prev_next: Option<u64> = None;
        let mut patches: Vec<(u64, u64)> = Vec::new();
        let level_count = opts.compression_level.unwrap_or(match opts.compression {
            TiffCompression::Zstd => 3,
            _ => 6,
        });
        let comp = opts.compression.code();
        let predictor = opts.predictor && !dtype.is_float() && comp != code::NONE;
        let mut plane_index = 0u64;
        for t in 0..st {
            for c in 0..sc {
                for z in 0..sz {
                    let mut start = vec![0u64; shape.len()];
                    let mut ext = vec![1u64; shape.len()];
                    for (k, v) in [(0, t), (1, c), (2, z)] {
                        if let Some(i) = idx[k] {
                            start[i] = v;
                        }
                    }
                    ext[iy] = sy;
                    ext[ix] = sx;
                    let region = source.read_region(&start, &ext)?;
                    let planes = plane_levels(region, iy, ix, &lv, opts.downsample)?;
                    let mut level_ifds: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
                    for p in &planes {
                        let tiles =
                            compress_tiles(p, th, tw, bps as usize, comp, level_count, predictor)
                                .map_err(|e| w.io(e))?;
                        let mut offs = Vec::with_capacity(tiles.len());
                        let mut counts = Vec::with_capacity(tiles.len());
                        for tdata in tiles {
                            offs.push(w.pos);
                            counts.push(tdata.len() as u64);
                            w.put(&tdata)?;
                        }
                        level_ifds.push((offs, counts));
                    }
                    // SubIFDs first (their offsets go into the main IFD).
                    let mut sub_offsets = Vec::new();
                    for (k, (offs, counts)) in level_ifds.iter().enumerate().skip(1) {
                        let (at, _) = w.write_ifd(ifd_entries(
                            &planes[k],
                            th,
                            tw,
                            dtype,
                            comp,
                            predictor,
                            offs,
                            counts,
                            1,
                            None,
                            Vec::new(),
                        ))?;
                        sub_offsets.push(at);
                    }
                    let desc = if plane_index == 0 {
                        Some(xml.as_bytes().to_vec())
                    } else {
                        None
                    };
                    let (at, next_at) = w.write_ifd(ifd_entries(
                        &planes[0],
                        th,
                        tw,
                        dtype,
                        comp,
                        predictor,
                        &level_ifds[0].0,
                        &level_ifds[0].1,
                        0,
                        desc,
                        sub_offsets,
                    ))?;
                    patches.push((prev_next.unwrap_or(first_ptr), at));
                    prev_next = Some(next_at);
                    plane_index += 1;
                }
            }
        }
        if big {
            // The BigTIFF header's first-IFD field is at 8, not 4.
            if let Some(p) = patches.first_mut() {
                p.0 = 8;
            }
        }
        w.out.flush().map_err(|e| w.io(e))?;
        let mut file = w.out.get_ref().try_clone().map_err(|e| w.io(e))?;
        for (field, value) in patches {
            file.seek(SeekFrom::Start(field)).map_err(|e| w.io(e))?;
            let b = w.offset_bytes(value)?;
            file.write_all(&b).map_err(|e| w.io(e))?;
        }
        file.sync_all().map_err(|e| w.io(e))?;
        Ok(())
    })();
    let bytes = w.pos;
    drop(w);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(Location::file(path), e))?;
    Ok(TiffWriteSummary {
        level_shapes: lv.iter().map(|&(h, w)| [st, sc, sz, h, w]).collect(),
        bigtiff: big,
        bytes,
    })
}

fn unit_from_name(name: &str) -> Option<UnitsLength> {
    let sym = match name {
        "micrometer" => "µm",
        "nanometer" => "nm",
        "millimeter" => "mm",
        "centimeter" => "cm",
        "meter" => "m",
        "picometer" => "pm",
        "angstrom" => "Å",
        "kilometer" => "km",
        "inch" => "in",
        "foot" => "ft",
        _ => return None,
    };
    UnitsLength::from_symbol(sym)
}

#[allow(clippy::too_many_arguments)]
fn ifd_entries(
    p: &PlaneData,
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
        (tag::IMAGE_WIDTH, Value::Long(vec![p.width as u32])),
        (tag::IMAGE_LENGTH, Value::Long(vec![p.height as u32])),
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

/// The plane and its downsampled levels as little-endian bytes.
fn plane_levels(
    region: DynArray,
    iy: usize,
    ix: usize,
    lv: &[(u64, u64)],
    method: Downsample,
) -> Result<Vec<PlaneData>> {
    with_dyn_array!(region, a, T => {
        let mut a: ArrayD<T> = a;
        // Drop the size-1 plane axes, keeping y and x in order.
        let (mut py, mut px) = (iy, ix);
        for d in (0..a.ndim()).rev() {
            if d != iy && d != ix {
                a = a.index_axis_move(NdAxis(d), 0);
                if d < py { py -= 1; }
                if d < px { px -= 1; }
            }
        }
        if py > px {
            a = a.reversed_axes();
        }
        let mut out = Vec::with_capacity(lv.len());
        let mut cur: ArrayD<T> = a.as_standard_layout().into_owned();
        for (k, &(h, w)) in lv.iter().enumerate() {
            if k > 0 {
                cur = crate::pyramid::downsample(cur.view(), &[2, 2], method)?;
            }
            debug_assert_eq!(cur.shape(), &[h as usize, w as usize]);
            out.push(PlaneData { bytes: to_le_bytes::<T>(&cur), height: h, width: w });
        }
        Ok(out)
    })
}

fn to_le_bytes<T: Element>(a: &ArrayD<T>) -> Vec<u8> {
    let mut v = Vec::with_capacity(a.len() * size_of::<T>());
    if cfg!(target_endian = "little")
        && let Some(s) = a.as_slice()
    {
        v.extend_from_slice(bytemuck::cast_slice(s));
        return v;
    }
    for &x in a.iter() {
        x.write_le(&mut v);
    }
    v
}

/// Splits a plane into padded tiles and compresses them in parallel, in tile order.
fn compress_tiles(
    p: &PlaneData,
    th: u64,
    tw: u64,
    bps: usize,
    comp: u16,
    level: i32,
    predictor: bool,
) -> std::io::Result<Vec<Vec<u8>>> {
    let across = p.width.div_ceil(tw);
    let down = p.height.div_ceil(th);
    (0..across * down)
        .into_par_iter()
        .map(|i| {
            let (by, bx) = (i / across, i % across);
            let mut tile = vec![0u8; (th * tw) as usize * bps];
            let y0 = by * th;
            let x0 = bx * tw;
            let rows = th.min(p.height - y0);
            let cols = tw.min(p.width - x0) as usize;
            for r in 0..rows {
                let src = (((y0 + r) * p.width + x0) as usize) * bps;
                let dst = (r * tw) as usize * bps;
                tile[dst..dst + cols * bps].copy_from_slice(&p.bytes[src..src + cols * bps]);
            }
            if predictor {
                decode::apply_horizontal(&mut tile, tw as usize, bps);
            }
            decode::compress(comp, &tile, level)
        })
        .collect()
}
