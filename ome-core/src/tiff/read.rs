//! The OME-TIFF reader: files → series → levels (main IFD + SubIFDs) → region reads that
//! decode only the tiles they need, in parallel.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;

use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::ome_xml::{self, OmeXml, Pixels, XmlLimits};
use crate::source::check_region;

use super::decode::{self, compression_name};
use super::ifd::{Ifd, IfdAt, TiffFile, TiffLimits, tag};
use super::planes::{PlaneMap, PlaneProblem, PlaneRef, map_planes};
use super::{bits, jpeg};

/// The geometry and storage of one image IFD (a plane at one level).
#[derive(Debug, Clone)]
pub(crate) struct ImageIfd {
    pub file: usize,
    pub at: IfdAt,
    pub width: u64,
    pub height: u64,
    pub spp: u64,
    pub dtype: DType,
    /// Stored bits per sample: the dtype's width, or fewer for packed samples (1-bit
    /// masks, 10-, 12-, 14-bit cameras; see [`super::bits`]).
    pub bits: u32,
    pub compression: u16,
    pub predictor: u16,
    /// `JPEGTables` (tag 347), shared by every JPEG tile of the IFD.
    pub jpeg_tables: Option<Vec<u8>>,
    pub planar_separate: bool,
    pub tiled: bool,
    pub block_w: u64,
    pub block_h: u64,
    pub offsets: Vec<u64>,
    pub counts: Vec<u64>,
}

impl ImageIfd {
    fn parse(f: &TiffFile, file: usize, ifd: &Ifd, at: IfdAt) -> Result<Self> {
        let need = |t: u16| -> Result<u64> {
            f.uint(ifd, t, &at)?.ok_or_else(|| {
                Error::format(
                    f.loc(at.ifd, at.subifd, Some(t)),
                    format!("expected tag {t}, found none"),
                )
            })
        };
        let width = need(tag::IMAGE_WIDTH)?;
        let height = need(tag::IMAGE_LENGTH)?;
        let spp = f.uint(ifd, tag::SAMPLES_PER_PIXEL, &at)?.unwrap_or(1);
        let bits = f.uint(ifd, tag::BITS_PER_SAMPLE, &at)?.unwrap_or(1);
        let fmt = f.uint(ifd, tag::SAMPLE_FORMAT, &at)?.unwrap_or(1);
        let Some(dtype) = sample_dtype(fmt, bits) else {
            return Err(Error::unsupported(
                f.loc(at.ifd, at.subifd, Some(tag::BITS_PER_SAMPLE)),
                format!(
                    "expected 8, 16, 32 or 64 bits of unsigned, signed or float samples (or 1 to 31 bits of packed unsigned ones), found {bits} bits with SampleFormat {fmt}"
                ),
            ));
        };
        if spp == 0 || spp > 64 {
            return Err(Error::format(
                f.loc(at.ifd, at.subifd, Some(tag::SAMPLES_PER_PIXEL)),
                format!("expected 1 to 64 samples per pixel, found {spp}"),
            ));
        }
        let overflow = width
            .checked_mul(height)
            .and_then(|v| v.checked_mul(spp))
            .and_then(|v| v.checked_mul(dtype.size() as u64))
            .is_none();
        if overflow || width == 0 || height == 0 {
            return Err(Error::format(
                f.loc(at.ifd, at.subifd, Some(tag::IMAGE_WIDTH)),
                format!(
                    "expected a width x height x samples that fits in 64 bits and is not 0, found {width} x {height} x {spp}"
                ),
            ));
        }
        let compression = f.uint(ifd, tag::COMPRESSION, &at)?.unwrap_or(1) as u16;
        let predictor = f.uint(ifd, tag::PREDICTOR, &at)?.unwrap_or(1) as u16;
        let planar_separate = f.uint(ifd, tag::PLANAR_CONFIGURATION, &at)?.unwrap_or(1) == 2;
        let tiled = ifd.entries.contains_key(&tag::TILE_WIDTH);
        let (block_w, block_h, off_tag, cnt_tag) = if tiled {
            (
                need(tag::TILE_WIDTH)?,
                need(tag::TILE_LENGTH)?,
                tag::TILE_OFFSETS,
                tag::TILE_BYTE_COUNTS,
            )
        } else {
            let rps = f.uint(ifd, tag::ROWS_PER_STRIP, &at)?.unwrap_or(height);
            (
                width,
                rps.clamp(1, height),
                tag::STRIP_OFFSETS,
                tag::STRIP_BYTE_COUNTS,
            )
        };
        if block_w == 0 || block_h == 0 {
            return Err(Error::format(
                f.loc(at.ifd, at.subifd, Some(tag::TILE_WIDTH)),
                format!("expected a tile size above 0, found {block_w} x {block_h}"),
            ));
        }
        let block_bytes = block_w
            .checked_mul(block_h)
            .and_then(|v| v.checked_mul(if planar_separate { 1 } else { spp }))
            .and_then(|v| v.checked_mul(dtype.size() as u64));
        if block_bytes.is_none_or(|b| b > f.limits.max_tile_bytes) {
            return Err(Error::limits(
                f.loc(
                    at.ifd,
                    at.subifd,
                    Some(if tiled {
                        tag::TILE_WIDTH
                    } else {
                        tag::ROWS_PER_STRIP
                    }),
                ),
                format!(
                    "expected a decoded tile of at most {} bytes, found {block_w} x {block_h} x {spp} samples",
                    f.limits.max_tile_bytes
                ),
            ));
        }
        let offsets = f.uints(ifd, off_tag, &at)?.ok_or_else(|| {
            Error::format(
                f.loc(at.ifd, at.subifd, Some(off_tag)),
                format!("expected tag {off_tag}, found none"),
            )
        })?;
        let counts = f.uints(ifd, cnt_tag, &at)?.ok_or_else(|| {
            Error::format(
                f.loc(at.ifd, at.subifd, Some(cnt_tag)),
                format!("expected tag {cnt_tag}, found none"),
            )
        })?;
        let blocks = width.div_ceil(block_w)
            * height.div_ceil(block_h)
            * if planar_separate { spp } else { 1 };
        if (offsets.len() as u64) < blocks || (counts.len() as u64) < blocks {
            return Err(Error::format(
                f.loc(at.ifd, at.subifd, Some(off_tag)),
                format!(
                    "expected {blocks} offsets and byte counts, found {} and {}",
                    offsets.len(),
                    counts.len()
                ),
            ));
        }
        if !matches!(
            compression,
            decode::code::NONE
                | decode::code::LZW
                | decode::code::ADOBE_DEFLATE
                | decode::code::DEFLATE
                | decode::code::PACKBITS
                | decode::code::ZSTD
                | decode::code::ZSTD_OLD
                | decode::code::JPEG
        ) {
            return Err(Error::unsupported(
                f.loc(at.ifd, at.subifd, Some(tag::COMPRESSION)),
                if compression == decode::code::OLD_JPEG {
                    "expected new-style JPEG (Compression 7), found old-style JPEG (6), which TIFF Technical Note 2 withdrew".to_string()
                } else {
                    format!(
                        "expected compression none, LZW, deflate, zstd, PackBits or JPEG, found {compression}"
                    )
                },
            ));
        }
        if !matches!(predictor, 1..=3) {
            return Err(Error::unsupported(
                f.loc(at.ifd, at.subifd, Some(tag::PREDICTOR)),
                format!("expected predictor 1, 2 or 3, found {predictor}"),
            ));
        }
        let bits = bits as u32;
        let spp_in = if planar_separate { 1 } else { spp };
        if bits as usize != dtype.size() * 8 && predictor != 1 {
            // TIFF 6.0 section 14 defines the predictor on whole-byte samples only.
            return Err(Error::unsupported(
                f.loc(at.ifd, at.subifd, Some(tag::PREDICTOR)),
                format!(
                    "expected no predictor with {bits}-bit packed samples, found predictor {predictor}"
                ),
            ));
        }
        let photometric = f.uint(ifd, tag::PHOTOMETRIC, &at)?.unwrap_or(1);
        let mut jpeg_tables = None;
        if compression == decode::code::JPEG {
            if bits != 8 || !matches!(spp_in, 1 | 3) || predictor != 1 {
                return Err(Error::unsupported(
                    f.loc(at.ifd, at.subifd, Some(tag::COMPRESSION)),
                    format!(
                        "expected JPEG tiles of 8-bit grey or RGB samples without a predictor, found {bits}-bit samples, {spp_in} per pixel, predictor {predictor}"
                    ),
                ));
            }
            jpeg_tables = f
                .uints(ifd, tag::JPEG_TABLES, &at)?
                .map(|v| v.into_iter().map(|b| b as u8).collect());
        } else if photometric == 6 {
            // YCbCr outside JPEG means chroma subsampling (YCbCrSubSampling), which
            // microscopy files do not use.
            return Err(Error::unsupported(
                f.loc(at.ifd, at.subifd, Some(tag::PHOTOMETRIC)),
                "expected YCbCr samples only inside JPEG tiles, found uncompressed or losslessly compressed YCbCr",
            ));
        }
        Ok(ImageIfd {
            file,
            at,
            width,
            height,
            spp,
            dtype,
            bits,
            compression,
            predictor,
            jpeg_tables,
            planar_separate,
            tiled,
            block_w,
            block_h,
            offsets,
            counts,
        })
    }

    /// Decodes block `index` straight into `out` (`rows x block_w` whole samples, one per
    /// pixel) where nothing is left to do after decompression: zstd, no predictor, whole-byte
    /// samples in the host's (little-endian) order. `false` when it did not (the caller
    /// then takes [`Self::decode_block`], which reports any error).
    fn decode_block_direct(&self, f: &TiffFile, index: usize, out: &mut [u8]) -> bool {
        if !matches!(
            self.compression,
            decode::code::ZSTD | decode::code::ZSTD_OLD
        ) || self.predictor != 1
            || self.bits as usize != self.dtype.size() * 8
            || !(self.planar_separate || self.spp == 1)
            || !f.little_endian
            || !cfg!(target_endian = "little")
        {
            return false;
        }
        let tag_off = if self.tiled {
            tag::TILE_OFFSETS
        } else {
            tag::STRIP_OFFSETS
        };
        match f.bytes(
            self.offsets[index],
            self.counts[index],
            &self.at,
            Some(tag_off),
        ) {
            Ok(raw) => decode::zstd_exact_into(&raw, out),
            Err(_) => false,
        }
    }

    /// Decodes block `index` into little-endian samples (`rows x block_w x spp_in_block`).
    /// `buf` is the caller's scratch buffer, reused from block to block.
    fn decode_block(&self, f: &TiffFile, index: usize, rows: u64, buf: &mut Vec<u8>) -> Result<()> {
        let bps = self.dtype.size();
        let spp_in = if self.planar_separate {
            1
        } else {
            self.spp as usize
        };
        let samples = self.block_w as usize * spp_in;
        let packed = self.bits as usize != bps * 8;
        let expected = if packed {
            rows as usize * bits::packed_row_bytes(samples, self.bits)
        } else {
            rows as usize * samples * bps
        };
        let tag_off = if self.tiled {
            tag::TILE_OFFSETS
        } else {
            tag::STRIP_OFFSETS
        };
        let raw = f.bytes(
            self.offsets[index],
            self.counts[index],
            &self.at,
            Some(tag_off),
        )?;
        let wrap = |m: String| {
            Error::format(
                f.loc(self.at.ifd, self.at.subifd, Some(tag_off)),
                format!("block {index}: {m}"),
            )
        };
        if self.compression == decode::code::JPEG {
            let rows = rows as usize;
            *buf = jpeg::decode(
                self.jpeg_tables.as_deref(),
                &raw,
                self.block_w as usize,
                rows,
                self.block_h as usize,
                spp_in,
            )
            .map_err(wrap)?;
            return Ok(());
        }
        decode::decompress_into(self.compression, &raw, expected, buf).map_err(wrap)?;
        if buf.len() < expected {
            return Err(Error::format(
                f.loc(self.at.ifd, self.at.subifd, Some(tag_off)),
                format!(
                    "block {index}: expected {expected} decoded bytes, found {} (truncated tile or strip)",
                    buf.len()
                ),
            ));
        }
        if packed {
            // Packed samples are a big-endian bit stream whatever the byte order.
            *buf = bits::unpack(buf, samples, rows as usize, self.bits, bps);
            return Ok(());
        }
        let w = self.block_w as usize;
        match self.predictor {
            2 => decode::undo_horizontal(buf, w, spp_in, bps, f.little_endian),
            3 => {
                decode::undo_float(buf, w, spp_in, bps);
                return Ok(());
            }
            _ => {}
        }
        if !f.little_endian && bps > 1 {
            for s in buf.chunks_exact_mut(bps) {
                s.reverse();
            }
        }
        Ok(())
    }
}

/// The sample type the reader returns for an IFD's `SampleFormat` and `BitsPerSample`
/// (TIFF 6.0 section 2 and SampleFormat), `None` when it does not read them. Packed
/// unsigned samples (1-7, 9-15, 17-31 bits) widen to the next byte size.
pub fn sample_dtype(sample_format: u64, bits_per_sample: u64) -> Option<DType> {
    Some(match (sample_format, bits_per_sample) {
        (1, 8) => DType::U8,
        (1, 16) => DType::U16,
        (1, 32) => DType::U32,
        (1, 64) => DType::U64,
        (2, 8) => DType::I8,
        (2, 16) => DType::I16,
        (2, 32) => DType::I32,
        (2, 64) => DType::I64,
        (3, 32) => DType::F32,
        (3, 64) => DType::F64,
        (1, 1..=7) => DType::U8,
        (1, 9..=15) => DType::U16,
        (1, 17..=31) => DType::U32,
        _ => return None,
    })
}

/// One series (OME `Image`) of an OME-TIFF.
#[derive(Debug, Clone)]
pub struct Series {
    /// `Image/@Name`.
    pub name: Option<String>,
    /// Pixel type.
    pub dtype: DType,
    /// `(size_t, size_c, size_z)`.
    pub tcz: (u64, u64, u64),
    /// Level shapes `[t, c, z, y, x]`, full resolution first.
    pub level_shapes: Vec<[u64; 5]>,
    /// Tile (or strip) shape `(height, width)` per level.
    pub level_blocks: Vec<(u64, u64)>,
    /// Compression name of level 0.
    pub compression: String,
    /// The OME `Pixels` (synthesised for plain TIFF).
    pub pixels: Pixels,
    /// Problems that do not stop reading (planes missing or mapped twice).
    pub warnings: Vec<String>,
    plane_map: PlaneMap,
    /// `slots[ifd_plane]`: the index in `ifds` of the IFD holding plane `ifd_plane`
    /// ([`NO_IFD`] for a plane read as zeros). One `u32` per plane, the IFDs once each:
    /// a plane table of IFD handles per level would take 8 bytes per plane and level.
    slots: Vec<u32>,
    /// `ifds[j][k]`: level `k` of the `j`-th distinct IFD (level 0 the IFD itself, level
    /// `k` its SubIFD `k - 1`).
    ifds: Vec<Vec<Arc<ImageIfd>>>,
    spp: u64,
}

/// The slot of a plane without an IFD.
const NO_IFD: u32 = u32::MAX;

impl Series {
    /// The IFD of plane `ifd_plane` at `level`, when the plane has pixel data.
    fn ifd_at(&self, ifd_plane: usize, level: usize) -> Option<&Arc<ImageIfd>> {
        let j = *self.slots.get(ifd_plane)?;
        self.ifds.get(j as usize)?.get(level)
    }
}

/// An OME-TIFF (single file, multi-file set or companion) or plain TIFF opened for reading.
#[derive(Debug)]
pub struct OmeTiff {
    path: PathBuf,
    files: Vec<TiffFile>,
    ome: Option<OmeXml>,
    series: Vec<Series>,
}

/// A TIFF of a set: its UUID (from its own OME-XML), the file and its main IFD chain.
type OpenedFile = (Option<String>, TiffFile, Vec<(u64, Ifd)>);

fn xml_loc(path: &Path) -> Location {
    Location::Tiff {
        file: path.to_path_buf(),
        ifd: Some(0),
        subifd: None,
        tag: Some(tag::IMAGE_DESCRIPTION),
    }
}

/// Resolves a `FileName` from OME-XML next to `dir`, refusing paths that escape it.
fn resolve_name(dir: &Path, name: &str, at: &Path) -> Result<PathBuf> {
    let p = Path::new(name);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::format(
            Location::file(at),
            format!("expected a file name inside the data set's folder, found {name:?}"),
        ));
    }
    Ok(dir.join(p))
}

impl OmeTiff {
    /// Opens an OME-TIFF (or a `.companion.ome` file, or a plain TIFF) with default limits.
    ///
    /// # Errors
    /// Storage errors, format errors naming file, IFD and tag, limit errors.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, TiffLimits::default())
    }

    /// Opens with explicit limits.
    ///
    /// # Errors
    /// As [`OmeTiff::open`].
    pub fn open_with(path: impl AsRef<Path>, limits: TiffLimits) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // The OME-XML obeys the caller's limits (CLI --max-xml-bytes / --max-xml-depth).
        let xml_limits = XmlLimits {
            max_bytes: usize::try_from(limits.max_description_bytes).unwrap_or(usize::MAX),
            max_depth: limits.max_xml_depth,
            ..XmlLimits::default()
        };
        let head = crate::storage::read_file_head(&path, 4)?;
        if !super::ifd::is_tiff_magic(&head) {
            // A companion file: OME-XML only.
            let text = read_bounded(&path, limits.max_description_bytes)?;
            let ome = ome_xml::parse(&text, &xml_limits)
                .map_err(|e| e.or_location(|| Location::file(&path)))?;
            return Self::from_set(path.clone(), &dir, ome, Vec::new(), None, limits);
        }
        let first = TiffFile::open(&path, limits)?;
        let chain = first.main_chain()?;
        let desc = match chain.first() {
            Some((_, ifd)) => first.ascii(
                ifd,
                tag::IMAGE_DESCRIPTION,
                &IfdAt {
                    ifd: Some(0),
                    subifd: None,
                },
                limits.max_description_bytes,
            )?,
            None => {
                return Err(Error::format(
                    first.loc(None, None, None),
                    "expected at least one IFD, found none",
                ));
            }
        };
        let looks_ome = desc.as_deref().is_some_and(|d| {
            let t = d.trim_start();
            t.starts_with("<?xml")
                || t.starts_with("<OME")
                || t.contains("<OME ")
                || t.contains(":OME ")
        });
        if !looks_ome {
            let later_ome = chain.iter().skip(1).take(4).any(|(_, ifd)| {
                first
                    .ascii(
                        ifd,
                        tag::IMAGE_DESCRIPTION,
                        &IfdAt::default(),
                        limits.max_description_bytes,
                    )
                    .ok()
                    .flatten()
                    .is_some_and(|d| d.contains("<OME"))
            });
            if later_ome && path.to_string_lossy().contains(".ome.") {
                return Err(Error::format(
                    first.loc(Some(0), None, Some(tag::IMAGE_DESCRIPTION)),
                    "expected the OME-XML in the ImageDescription of IFD 0, found it only in a later IFD",
                ));
            }
            return Self::plain(path, first, chain, desc.as_deref());
        }
        let text = desc.unwrap_or_default();
        let ome = ome_xml::parse(&text, &xml_limits).map_err(|e| {
            let loc = xml_loc(&path);
            Error::new(e.kind(), loc, format!("{}: {}", e.location(), e.message()))
        })?;
        if let Some(bo) = &ome.binary_only {
            let companion = resolve_name(&dir, &bo.metadata_file, &path)?;
            let ctext = read_bounded(&companion, limits.max_description_bytes)?;
            let cxml = ome_xml::parse(&ctext, &xml_limits)
                .map_err(|e| e.or_location(|| Location::file(&companion)))?;
            let own_uuid = ome.uuid.clone();
            return Self::from_set(
                companion,
                &dir,
                cxml,
                vec![(own_uuid, first, chain)],
                None,
                limits,
            );
        }
        let own_uuid = ome.uuid.clone();
        Self::from_set(
            path,
            &dir,
            ome,
            vec![(own_uuid, first, chain)],
            Some(0),
            limits,
        )
    }

    fn from_set(
        path: PathBuf,
        dir: &Path,
        ome: OmeXml,
        opened: Vec<OpenedFile>,
        this_file: Option<usize>,
        limits: TiffLimits,
    ) -> Result<Self> {
        // The declared sizes bound what is allocated per plane and per pixel: check them
        // before a member file is opened or a plane mapped.
        let max_planes = limits.max_ifds as u64;
        for (i, img) in ome.images.iter().enumerate() {
            if let Some(problem) = img
                .pixels
                .size_limit_problem(limits.max_array_elements, max_planes)
            {
                return Err(Error::limits(
                    Location::Xml {
                        file: Some(path.clone()),
                        path: format!("/OME/Image[{i}]/Pixels"),
                    },
                    format!("Image {i}: {problem}"),
                ));
            }
        }
        let mut uuids: Vec<Option<String>> = Vec::new();
        let mut files = Vec::new();
        let mut chains = Vec::new();
        for (u, f, c) in opened {
            uuids.push(u);
            files.push(f);
            chains.push(c);
        }
        // Open every file named by a TiffData UUID.
        for img in &ome.images {
            for td in &img.pixels.tiff_data {
                let Some(u) = &td.uuid else { continue };
                if uuids.iter().any(|x| x.as_deref() == Some(u.value.as_str())) {
                    continue;
                }
                let Some(name) = &u.file_name else { continue };
                let p = resolve_name(dir, name, &path)?;
                if files.iter().any(|f: &TiffFile| f.path == p) {
                    // The file is open already but carries another UUID: trust the name.
                    let i = files.iter().position(|f| f.path == p).unwrap_or(0);
                    if uuids[i].is_none() {
                        uuids[i] = Some(u.value.clone());
                    }
                    continue;
                }
                let f = TiffFile::open(&p, limits)?;
                let c = f.main_chain()?;
                uuids.push(Some(u.value.clone()));
                files.push(f);
                chains.push(c);
            }
        }
        let this = this_file.unwrap_or(0);
        if files.is_empty() {
            return Err(Error::format(
                Location::file(&path),
                "expected TiffData naming at least one TIFF file, found none",
            ));
        }
        let mut series = Vec::new();
        for (i, img) in ome.images.iter().enumerate() {
            let px = &img.pixels;
            let file_of = |u: &str| uuids.iter().position(|x| x.as_deref() == Some(u));
            let ifds_in = |f: usize| chains.get(f).map_or(0, |c| c.len() as u64);
            let first_ifd = {
                // The IFD of the first mapped plane gives the samples per pixel.
                let guess = map_planes(px, px.zct_sizes(), this, &file_of, &ifds_in, max_planes);
                guess.planes.iter().flatten().next().copied()
            };
            let Some(first_ref) = first_ifd else {
                let m = map_planes(px, px.zct_sizes(), this, &file_of, &ifds_in, max_planes);
                let msg = m.problems.iter().find(|p| p.is_error()).map_or_else(
                    || "expected at least one plane with pixel data, found none".to_string(),
                    PlaneProblem::message,
                );
                return Err(Error::format(
                    Location::Xml {
                        file: Some(path.clone()),
                        path: format!("/OME/Image[{i}]/Pixels/TiffData"),
                    },
                    msg,
                ));
            };
            let f0 = &files[first_ref.file];
            let at0 = IfdAt {
                ifd: Some(first_ref.ifd),
                subifd: None,
            };
            let spp = f0
                .uint(
                    &chains[first_ref.file][first_ref.ifd as usize].1,
                    tag::SAMPLES_PER_PIXEL,
                    &at0,
                )?
                .unwrap_or(1)
                .max(1);
            let (sz, sc, st) = px.zct_sizes();
            let sc_ifd = u32::try_from(u64::from(sc).div_ceil(spp))
                .unwrap_or(1)
                .max(1);
            let map = map_planes(px, (sz, sc_ifd, st), this, &file_of, &ifds_in, max_planes);
            if let Some(p) = map.problems.iter().find(|p| p.is_error()) {
                return Err(Error::format(
                    Location::Xml {
                        file: Some(path.clone()),
                        path: format!("/OME/Image[{i}]/Pixels/TiffData"),
                    },
                    p.message(),
                ));
            }
            let s = Self::build_series(
                &files,
                &chains,
                img.name.clone(),
                px.clone(),
                map,
                spp,
                &path,
                i,
            )?;
            series.push(s);
        }
        Ok(OmeTiff {
            path,
            files,
            ome: Some(ome),
            series,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn build_series(
        files: &[TiffFile],
        chains: &[Vec<(u64, Ifd)>],
        name: Option<String>,
        pixels: Pixels,
        map: PlaneMap,
        spp: u64,
        path: &Path,
        image_index: usize,
    ) -> Result<Series> {
        // `map.planes` was allocated after its size was checked against the limits; the
        // slots follow it, and the IFDs are those of the files, each parsed once.
        let mut slots: Vec<u32> = Vec::with_capacity(map.planes.len());
        let mut ifds: Vec<Vec<Arc<ImageIfd>>> = Vec::new();
        let mut parsed: std::collections::HashMap<PlaneRef, u32> = std::collections::HashMap::new();
        for p in &map.planes {
            let Some(r) = p else {
                slots.push(NO_IFD);
                continue;
            };
            if let Some(&j) = parsed.get(r) {
                slots.push(j);
                continue;
            }
            let f = &files[r.file];
            let ifd = &chains[r.file][r.ifd as usize].1;
            let at = IfdAt {
                ifd: Some(r.ifd),
                subifd: None,
            };
            let mut levels = vec![Arc::new(ImageIfd::parse(f, r.file, ifd, at)?)];
            for (k, sub) in f.sub_ifds(ifd, r.ifd)?.iter().enumerate() {
                let at = IfdAt {
                    ifd: Some(r.ifd),
                    subifd: Some(k as u64),
                };
                levels.push(Arc::new(ImageIfd::parse(f, r.file, sub, at)?));
            }
            let j = u32::try_from(ifds.len()).unwrap_or(NO_IFD);
            parsed.insert(*r, j);
            ifds.push(levels);
            slots.push(j);
        }
        let first = ifds
            .first()
            .and_then(|l| l.first())
            .cloned()
            .ok_or_else(|| {
                Error::format(
                    Location::file(path),
                    "expected at least one plane with pixel data, found none",
                )
            })?;
        // Check the IFDs against Pixels, and their SubIFD levels against them: a level
        // whose samples differ from the series' would be read into the wrong type.
        let px_dtype = pixels.pixel_type.to_dtype();
        for levels in &ifds {
            let Some(im) = levels.first() else { continue };
            let f = &files[im.file];
            if (im.width, im.height) != (u64::from(pixels.size_x), u64::from(pixels.size_y)) {
                return Err(Error::format(
                    f.loc(
                        im.at.ifd,
                        None,
                        Some(if im.width != u64::from(pixels.size_x) {
                            tag::IMAGE_WIDTH
                        } else {
                            tag::IMAGE_LENGTH
                        }),
                    ),
                    format!(
                        "expected {} x {} pixels (Pixels SizeX x SizeY of Image {image_index}), found {} x {}",
                        pixels.size_x, pixels.size_y, im.width, im.height
                    ),
                ));
            }
            if px_dtype.is_some_and(|d| d != im.dtype) {
                return Err(Error::format(
                    f.loc(im.at.ifd, None, Some(tag::BITS_PER_SAMPLE)),
                    format!(
                        "expected samples of Pixels Type {} (Image {image_index}), found {}",
                        pixels.pixel_type.as_str(),
                        im.dtype.name()
                    ),
                ));
            }
            if im.spp != spp {
                return Err(Error::format(
                    f.loc(im.at.ifd, None, Some(tag::SAMPLES_PER_PIXEL)),
                    format!(
                        "expected {spp} samples per pixel in every IFD, found {}",
                        im.spp
                    ),
                ));
            }
            if im.dtype != first.dtype {
                return Err(Error::format(
                    f.loc(im.at.ifd, None, Some(tag::BITS_PER_SAMPLE)),
                    format!(
                        "expected the samples of the first plane's IFD ({}) in every IFD of Image {image_index}, found {}",
                        first.dtype.name(),
                        im.dtype.name()
                    ),
                ));
            }
            for sub in &levels[1..] {
                if (sub.dtype, sub.spp) != (im.dtype, im.spp) {
                    return Err(Error::format(
                        f.loc(
                            sub.at.ifd,
                            sub.at.subifd,
                            Some(if sub.spp != im.spp {
                                tag::SAMPLES_PER_PIXEL
                            } else {
                                tag::BITS_PER_SAMPLE
                            }),
                        ),
                        format!(
                            "expected the samples of its IFD ({} x {}) in SubIFD {} of Image {image_index}, found {} x {}",
                            im.spp,
                            im.dtype.name(),
                            sub.at.subifd.unwrap_or(0),
                            sub.spp,
                            sub.dtype.name()
                        ),
                    ));
                }
            }
        }
        // Levels: as many as every IFD has, up to the first whose planes disagree in size.
        let mut n_levels = ifds.iter().map(Vec::len).min().unwrap_or(1);
        for k in 1..n_levels {
            let g = &ifds[0][k];
            if ifds
                .iter()
                .any(|l| (l[k].width, l[k].height, l[k].dtype) != (g.width, g.height, g.dtype))
            {
                n_levels = k;
                break;
            }
        }
        for levels in &mut ifds {
            levels.truncate(n_levels);
        }
        let (sz, sc, st) = pixels.zct_sizes();
        let tcz = (u64::from(st), u64::from(sc), u64::from(sz));
        let mut level_shapes = Vec::new();
        let mut level_blocks = Vec::new();
        for g in &ifds[0] {
            level_shapes.push([tcz.0, tcz.1, tcz.2, g.height, g.width]);
            level_blocks.push((g.block_h, g.block_w));
        }
        let warnings = map.problems.iter().map(PlaneProblem::message).collect();
        Ok(Series {
            name,
            dtype: first.dtype,
            tcz,
            level_shapes,
            level_blocks,
            compression: compression_name(first.compression),
            pixels,
            warnings,
            plane_map: map,
            slots,
            ifds,
            spp,
        })
    }

    fn plain(
        path: PathBuf,
        file: TiffFile,
        chain: Vec<(u64, Ifd)>,
        desc: Option<&str>,
    ) -> Result<Self> {
        // Plain TIFF: the IFDs shaped like IFD 0 are planes; ImageJ hyperstacks say how
        // many slices, channels and frames (ImageJ order: c fastest, then z, then t).
        let at = IfdAt {
            ifd: Some(0),
            subifd: None,
        };
        let first = ImageIfd::parse(&file, 0, &chain[0].1, at)?;
        let mut n = 1u64;
        for (i, (_, ifd)) in chain.iter().enumerate().skip(1) {
            let at = IfdAt {
                ifd: Some(i as u64),
                subifd: None,
            };
            let w = file.uint(ifd, tag::IMAGE_WIDTH, &at)?;
            let h = file.uint(ifd, tag::IMAGE_LENGTH, &at)?;
            let sft = file.uint(ifd, tag::NEW_SUBFILE_TYPE, &at)?.unwrap_or(0);
            if (w, h) != (Some(first.width), Some(first.height)) || sft & 1 == 1 {
                break;
            }
            n += 1;
        }
        let (mut z, mut c, mut t) = (n, 1u64, 1u64);
        let mut order = ome_xml::DimensionOrder::XYZCT;
        if let Some(d) = desc.filter(|d| d.starts_with("ImageJ=")) {
            let get = |k: &str| {
                d.lines()
                    .find_map(|l| l.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let (cc, zz, tt) = (
                get("channels").unwrap_or(1),
                get("slices").unwrap_or(1),
                get("frames").unwrap_or(1),
            );
            if cc.saturating_mul(zz).saturating_mul(tt) == n {
                (z, c, t) = (zz, cc, tt);
                order = ome_xml::DimensionOrder::XYCZT;
            }
        }
        let spp = first.spp;
        let mut pixels = Pixels {
            dimension_order: order,
            size_x: u32::try_from(first.width).unwrap_or(u32::MAX),
            size_y: u32::try_from(first.height).unwrap_or(u32::MAX),
            size_z: z as u32,
            size_c: (c * spp) as u32,
            size_t: t as u32,
            ..Pixels::default()
        };
        if let Some(pt) = ome_xml::PixelType::from_dtype(first.dtype) {
            pixels.pixel_type = pt;
        }
        let chains = vec![chain];
        let files = vec![file];
        pixels.tiff_data = vec![ome_xml::TiffData {
            plane_count: Some(n as u32),
            ..ome_xml::TiffData::default()
        }];
        let map = map_planes(
            &pixels,
            (z as u32, c as u32, t as u32),
            0,
            &|_| None,
            &|_| n,
            // z x c x t is n, the planes in the chain, which its limit bounds.
            n,
        );
        let mut s = Self::build_series(&files, &chains, None, pixels.clone(), map, spp, &path, 0)?;
        s.pixels.tiff_data.clear();
        Ok(OmeTiff {
            path,
            files,
            ome: None,
            series: vec![s],
        })
    }

    /// The file or companion this set was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The OME-XML (none for plain TIFF).
    pub fn ome_xml(&self) -> Option<&OmeXml> {
        self.ome.as_ref()
    }

    /// How many series (OME `Image`s).
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// All series.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// The paths of the TIFF files of the set.
    pub fn files(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.path.as_path()).collect()
    }

    /// Whether file 0 is a BigTIFF.
    pub fn is_bigtiff(&self) -> bool {
        self.files.first().is_some_and(|f| f.big)
    }

    /// Reads region `[t, c, z, y, x]` of `level` of `series`; tiles decode in parallel.
    ///
    /// # Errors
    /// Usage errors for regions outside the level; format errors for tiles that do not
    /// decode, naming file, IFD and tag.
    pub fn read_region(
        &self,
        series: usize,
        level: usize,
        start: &[u64],
        shape: &[u64],
    ) -> Result<DynArray> {
        self.read_region_par(series, level, start, shape, true)
    }

    pub(crate) fn read_region_par(
        &self,
        series: usize,
        level: usize,
        start: &[u64],
        shape: &[u64],
        parallel: bool,
    ) -> Result<DynArray> {
        let s = self.series.get(series).ok_or_else(|| {
            Error::usage(format!(
                "series {series} does not exist; the file has {}",
                self.series.len()
            ))
        })?;
        let full = s.level_shapes.get(level).ok_or_else(|| {
            Error::usage(format!(
                "level {level} does not exist; the series has {} levels",
                s.level_shapes.len()
            ))
        })?;
        check_region(full, start, shape)?;
        // The output is allocated whole: refuse reads larger than the limit first.
        let max = self
            .files
            .first()
            .map_or(TiffLimits::default().max_read_bytes, |f| {
                f.limits.max_read_bytes
            });
        let bytes = shape
            .iter()
            .try_fold(s.dtype.size() as u64, |acc, &d| acc.checked_mul(d));
        if bytes.is_none_or(|b| b > max) {
            return Err(Error::limits(
                Location::file(&self.path),
                format!(
                    "expected a read of at most {max} bytes, found a region {shape:?} of {} bytes",
                    bytes.map_or_else(|| "more than 2^64".to_string(), |b| b.to_string())
                ),
            ));
        }
        crate::with_dtype!(s.dtype, T => {
            read_typed::<T>(self, s, level, start, shape, parallel).map(T::into_dyn_array)
        })
    }
}

fn read_bounded(path: &Path, max: u64) -> Result<String> {
    let buf = crate::storage::read_file(path, max).map_err(|e| {
        if e.kind() == crate::ErrorKind::LimitsExceeded {
            Error::limits(
                Location::file(path),
                format!("expected at most {max} bytes of OME-XML, found more"),
            )
        } else {
            e
        }
    })?;
    String::from_utf8(buf)
        .map_err(|e| Error::format(Location::file(path), format!("expected UTF-8 OME-XML: {e}")))
}

struct Unit {
    /// Index into output planes (t, c, z flattened in the region).
    out_plane: usize,
    ifd: Arc<ImageIfd>,
    sample: u64,
    block: usize,
    bx: u64,
    by: u64,
}

/// Compressed bytes of remote blocks in one batch of a region read (two batches are held
/// at once: one decoding, the next arriving).
const REMOTE_BATCH_BYTES: u64 = 32 << 20;

/// The units of a region read in batches of at most [`REMOTE_BATCH_BYTES`] of stored
/// blocks (a batch holds at least one unit).
fn remote_batches(units: &[Unit]) -> Vec<&[Unit]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, u) in units.iter().enumerate() {
        let n = u.ifd.counts.get(u.block).copied().unwrap_or(0);
        if i > start && bytes.saturating_add(n) > REMOTE_BATCH_BYTES {
            out.push(&units[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(n);
    }
    if start < units.len() {
        out.push(&units[start..]);
    }
    out
}

/// Stored spans `(offset, length)` by file (see [`block_spans`]).
type Spans = Vec<(usize, Vec<(u64, u64)>)>;

/// The stored spans `(offset, length)` of the blocks of `units`, by file, each once.
fn block_spans(tiff: &OmeTiff, units: &[Unit]) -> Spans {
    let mut by_file: std::collections::BTreeMap<usize, Vec<(u64, u64)>> = Default::default();
    for u in units {
        if let (Some(&o), Some(&n)) = (u.ifd.offsets.get(u.block), u.ifd.counts.get(u.block)) {
            by_file.entry(u.ifd.file).or_default().push((o, n));
        }
    }
    by_file
        .into_iter()
        .filter(|(f, _)| tiff.files.get(*f).is_some_and(TiffFile::is_remote))
        .map(|(f, mut s)| {
            s.sort_unstable();
            s.dedup();
            (f, s)
        })
        .collect()
}

fn read_typed<T: Element>(
    tiff: &OmeTiff,
    s: &Series,
    level: usize,
    start: &[u64],
    shape: &[u64],
    parallel: bool,
) -> Result<ndarray::ArrayD<T>> {
    let total: usize = shape.iter().map(|&d| d as usize).product();
    let mut out = crate::dtype::zeroed_output::<T>(total).ok_or_else(|| {
        crate::dtype::output_alloc_error(
            Location::file(&tiff.path),
            shape,
            (total as u64).saturating_mul(size_of::<T>() as u64),
        )
    })?;
    let (ry0, rx0, rh, rw) = (start[3], start[4], shape[3], shape[4]);
    let plane_len = (rh * rw) as usize;
    let mut units = Vec::new();
    let mut out_plane = 0usize;
    for t in start[0]..start[0] + shape[0] {
        for c in start[1]..start[1] + shape[1] {
            for z in start[2]..start[2] + shape[2] {
                let c_ifd = c / s.spp;
                let sample = c % s.spp;
                let idx = ((t * u64::from(s.plane_map.sizes.1) + c_ifd)
                    * u64::from(s.plane_map.sizes.0)
                    + z) as usize;
                if let Some(ifd) = s.ifd_at(idx, level) {
                    let bw = ifd.block_w;
                    let bh = ifd.block_h;
                    let across = ifd.width.div_ceil(bw);
                    let down = ifd.height.div_ceil(bh);
                    if rh > 0 && rw > 0 {
                        for by in ry0 / bh..=(ry0 + rh - 1) / bh {
                            for bx in rx0 / bw..=(rx0 + rw - 1) / bw {
                                let mut block = (by * across + bx) as usize;
                                if ifd.planar_separate {
                                    block += (sample * across * down) as usize;
                                }
                                units.push(Unit {
                                    out_plane,
                                    ifd: ifd.clone(),
                                    sample,
                                    block,
                                    bx,
                                    by,
                                });
                            }
                        }
                    }
                }
                out_plane += 1;
            }
        }
    }
    {
        let cells = UnsafeCellSlice::new(out.as_mut_slice());
        let run = |u: &Unit| -> Result<()> {
            let f = &tiff.files[u.ifd.file];
            let ifd = &u.ifd;
            let y0 = u.by * ifd.block_h;
            let rows = if ifd.tiled {
                ifd.block_h
            } else {
                ifd.block_h.min(ifd.height - y0)
            };
            // One scratch buffer per thread: no allocation (and no page faults on fresh
            // memory) per tile.
            thread_local! {
                static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            // A tile whose rows are whole rows of the region: decoded in place, no copy.
            let x0 = u.bx * ifd.block_w;
            if ifd.tiled
                && x0 == rx0
                && ifd.block_w == rw
                && x0 + ifd.block_w <= ifd.width
                && y0 >= ry0
                && y0 + rows <= (ry0 + rh).min(ifd.height)
            {
                let d0 = u.out_plane * plane_len + ((y0 - ry0) * rw) as usize;
                let n = (rows * rw) as usize;
                // SAFETY: as below, units write disjoint rectangles.
                #[allow(unsafe_code)]
                let dst: &mut [T] = unsafe { cells.index_mut(d0..d0 + n) };
                if ifd.decode_block_direct(f, u.block, bytemuck::cast_slice_mut::<T, u8>(dst)) {
                    return Ok(());
                }
            }
            SCRATCH.with(|cell| -> Result<()> {
                let mut guard = cell.borrow_mut();
                let buf: &mut Vec<u8> = &mut guard;
                ifd.decode_block(f, u.block, rows, buf)?;
                let spp_in = if ifd.planar_separate {
                    1
                } else {
                    ifd.spp as usize
                };
                let x0 = u.bx * ifd.block_w;
                let ys = y0.max(ry0);
                let ye = (y0 + rows).min(ry0 + rh).min(ifd.height);
                let xs = x0.max(rx0);
                let xe = (x0 + ifd.block_w).min(rx0 + rw).min(ifd.width);
                let bps = size_of::<T>();
                let smp = if ifd.planar_separate {
                    0
                } else {
                    u.sample as usize
                };
                for y in ys..ye {
                    let src_row = ((y - y0) * ifd.block_w) as usize * spp_in;
                    let dst_row = u.out_plane * plane_len + ((y - ry0) * rw) as usize;
                    if spp_in == 1 && cfg!(target_endian = "little") && xe > xs {
                        // Whole rows at once: the decoded block is little-endian already.
                        let si = (src_row + (xs - x0) as usize) * bps;
                        let n = (xe - xs) as usize;
                        let d0 = dst_row + (xs - rx0) as usize;
                        // SAFETY: as below, units write disjoint rectangles.
                        #[allow(unsafe_code)]
                        let dst: &mut [T] = unsafe { cells.index_mut(d0..d0 + n) };
                        bytemuck::cast_slice_mut::<T, u8>(dst)
                            .copy_from_slice(&buf[si..si + n * bps]);
                        continue;
                    }
                    for x in xs..xe {
                        let si = (src_row + (x - x0) as usize * spp_in + smp) * bps;
                        let v: T = bytemuck::pod_read_unaligned(&buf[si..si + bps]);
                        let v = T::read_le(bytemuck::bytes_of(&v));
                        // SAFETY: units of one read write disjoint (plane, tile) rectangles.
                        #[allow(unsafe_code)]
                        unsafe {
                            *cells.index_mut(dst_row + (x - rx0) as usize) = v;
                        }
                    }
                }
                Ok(())
            })
        };
        let run_all = |units: &[Unit]| -> Result<()> {
            if parallel {
                units.par_iter().try_for_each(run)
            } else {
                units.iter().try_for_each(run)
            }
        };
        if tiff.files.iter().any(TiffFile::is_remote) {
            // Remote blocks are fetched a batch at a time, all of a batch at once (merged
            // ranges, many requests in flight), then decoded from memory; the next batch is
            // fetched while this one decodes (at most two batches held).
            let fetch = |batch: &[Unit]| -> (Spans, Result<()>) {
                let spans = block_spans(tiff, batch);
                let mut fetched = Vec::with_capacity(spans.len());
                for (file, s) in spans {
                    if let Err(e) = tiff.files[file].prefetch(&s) {
                        return (fetched, Err(e));
                    }
                    fetched.push((file, s));
                }
                (fetched, Ok(()))
            };
            let release = |spans: &Spans| {
                for (file, s) in spans {
                    tiff.files[*file].release(s);
                }
            };
            let batches = remote_batches(&units);
            let mut next = batches.first().map(|b| fetch(b));
            for (i, batch) in batches.iter().enumerate() {
                let Some((spans, fetched)) = next.take() else {
                    break;
                };
                if let Err(e) = fetched {
                    release(&spans);
                    return Err(e);
                }
                let (done, ahead) = std::thread::scope(|scope| {
                    let ahead = batches.get(i + 1).map(|b| scope.spawn(|| fetch(b)));
                    let done = run_all(batch);
                    (done, ahead.map(|h| h.join()))
                });
                release(&spans);
                next = match ahead {
                    Some(Ok(n)) => Some(n),
                    Some(Err(_)) => {
                        return Err(Error::format(
                            tiff.files[0].loc(None, None, None),
                            "a fetch of TIFF blocks panicked",
                        ));
                    }
                    None => None,
                };
                if let Err(e) = done {
                    if let Some((spans, _)) = &next {
                        release(spans);
                    }
                    return Err(e);
                }
            }
        } else {
            run_all(&units)?;
        }
    }
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&dims), out)
        .map_err(|e| Error::usage(format!("expected a region shape matching its size: {e}")))
}
