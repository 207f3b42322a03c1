//! The IFD chain parser for classic TIFF and BigTIFF, in both byte orders.
//!
//! This is the hostile-input boundary of the TIFF reader: every offset is checked against
//! the file length, IFD chains are walked with loop detection and a count limit, tag value
//! counts are bounded, and SubIFD (tag 330) trees are bounded in depth and number.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::location::Location;

/// Tag numbers used by the reader and writer.
#[allow(missing_docs)]
pub(crate) mod tag {
    pub const NEW_SUBFILE_TYPE: u16 = 254;
    pub const IMAGE_WIDTH: u16 = 256;
    pub const IMAGE_LENGTH: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const PHOTOMETRIC: u16 = 262;
    pub const IMAGE_DESCRIPTION: u16 = 270;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const ROWS_PER_STRIP: u16 = 278;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const PLANAR_CONFIGURATION: u16 = 284;
    pub const SOFTWARE: u16 = 305;
    pub const PREDICTOR: u16 = 317;
    pub const TILE_WIDTH: u16 = 322;
    pub const TILE_LENGTH: u16 = 323;
    pub const TILE_OFFSETS: u16 = 324;
    pub const TILE_BYTE_COUNTS: u16 = 325;
    pub const SUB_IFDS: u16 = 330;
    pub const SAMPLE_FORMAT: u16 = 339;
    pub const JPEG_TABLES: u16 = 347;
}

/// Limits of the IFD parser, safe for untrusted files by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TiffLimits {
    /// Most IFDs in the main chain; also the most planes (SizeZ × SizeC × SizeT) one
    /// OME-XML image may declare, since the reader keeps an entry per plane.
    pub max_ifds: usize,
    /// Most entries in one IFD.
    pub max_entries: u64,
    /// Most bytes one tag value may take.
    pub max_tag_bytes: u64,
    /// Most SubIFDs per IFD.
    pub max_subifds: usize,
    /// Largest ImageDescription read, in bytes.
    pub max_description_bytes: u64,
    /// Largest decoded tile or strip, in bytes.
    pub max_tile_bytes: u64,
    /// Largest decoded region one read may return, in bytes (checked before the output
    /// is allocated).
    pub max_read_bytes: u64,
    /// Deepest element nesting accepted in the OME-XML (ImageDescription or companion
    /// file); the other XML limits are [`crate::ome_xml::XmlLimits`]'s defaults.
    pub max_xml_depth: usize,
    /// Most elements (SizeX × SizeY × SizeZ × SizeC × SizeT) one image may declare.
    pub max_array_elements: u64,
}

impl Default for TiffLimits {
    fn default() -> Self {
        TiffLimits {
            max_ifds: 1 << 20,
            max_entries: 4096,
            max_tag_bytes: 1 << 30,
            max_subifds: 64,
            max_description_bytes: 64 << 20,
            max_tile_bytes: 1 << 30,
            max_read_bytes: crate::Limits::default().max_read_bytes,
            max_xml_depth: crate::ome_xml::XmlLimits::default().max_depth,
            max_array_elements: crate::Limits::default().max_array_elements,
        }
    }
}

impl From<&crate::Limits> for TiffLimits {
    /// The TIFF limits implied by the crate-wide [`crate::Limits`]: IFD count, decoded
    /// tile bytes (as chunk bytes), region bytes (as read bytes), ImageDescription size
    /// (as OME-XML bytes), OME-XML depth and elements per image.
    fn from(limits: &crate::Limits) -> Self {
        TiffLimits {
            max_ifds: limits.max_tiff_ifds,
            max_tile_bytes: limits.max_chunk_bytes,
            max_read_bytes: limits.max_read_bytes,
            max_description_bytes: limits.max_xml_bytes as u64,
            max_xml_depth: limits.max_xml_depth,
            max_array_elements: limits.max_array_elements,
            ..TiffLimits::default()
        }
    }
}

/// One IFD entry: the type, count and where its value lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub typ: u16,
    pub count: u64,
    /// Offset of the value bytes in the file (the inline field when the value fits).
    pub value_at: u64,
}

/// A parsed IFD: its entries by tag.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ifd {
    pub entries: BTreeMap<u16, Entry>,
}

/// A TIFF file mapped into memory with its header decoded.
pub(crate) struct TiffFile {
    pub path: PathBuf,
    pub data: TiffBytes,
    pub big: bool,
    pub little_endian: bool,
    pub limits: TiffLimits,
}

/// The bytes of a TIFF file: a memory map, a vector (empty files cannot be mapped), or a
/// remote file read by byte ranges.
pub(crate) enum TiffBytes {
    Map(memmap2::Mmap),
    Vec(Vec<u8>),
    Remote(super::remote_file::RemoteFile),
}

impl TiffBytes {
    fn len(&self) -> u64 {
        match self {
            TiffBytes::Map(m) => m.len() as u64,
            TiffBytes::Vec(v) => v.len() as u64,
            TiffBytes::Remote(r) => r.len(),
        }
    }
}

/// Bytes of a TIFF file: borrowed from a map or vector, or fetched from a remote file.
pub(crate) enum Raw<'a> {
    Borrowed(&'a [u8]),
    Fetched(zarrs::storage::Bytes),
}

impl std::ops::Deref for Raw<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Raw::Borrowed(b) => b,
            Raw::Fetched(b) => b,
        }
    }
}

impl std::fmt::Debug for TiffFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TiffFile")
            .field("path", &self.path)
            .field("len", &self.data.len())
            .field("remote", &matches!(self.data, TiffBytes::Remote(_)))
            .field("big", &self.big)
            .field("little_endian", &self.little_endian)
            .finish()
    }
}

/// Whether `head` starts with a TIFF or BigTIFF magic number (either byte order).
pub fn is_tiff_magic(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+")
    )
}

fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

impl TiffFile {
    /// Opens and maps `path` (or, for a URL, opens the remote file) and decodes the header.
    pub fn open(path: &Path, limits: TiffLimits) -> Result<Self> {
        if crate::storage::Address::of_path(path).is_remote() {
            let remote = super::remote_file::RemoteFile::open(path)?;
            return Self::from_bytes(path.to_path_buf(), TiffBytes::Remote(remote), limits);
        }
        let file = crate::open_regular(path).map_err(|e| Error::io(Location::file(path), e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(Location::file(path), e))?
            .len();
        let data = if len == 0 {
            TiffBytes::Vec(Vec::new())
        } else {
            // SAFETY: the file is opened read-only; a concurrent truncation by another
            // process is outside what this library can defend against.
            #[allow(unsafe_code)]
            let map = unsafe { memmap2::Mmap::map(&file) }
                .map_err(|e| Error::io(Location::file(path), e))?;
            TiffBytes::Map(map)
        };
        Self::from_bytes(path.to_path_buf(), data, limits)
    }

    pub fn from_bytes(path: PathBuf, data: TiffBytes, limits: TiffLimits) -> Result<Self> {
        let mut f = TiffFile {
            path,
            data,
            big: false,
            little_endian: true,
            limits,
        };
        let head = f
            .bytes(0, f.len().min(4), &IfdAt::default(), None)?
            .to_vec();
        let (little_endian, big) = match &head[..] {
            b"II*\0" => (true, false),
            b"MM\0*" => (false, false),
            b"II+\0" => (true, true),
            b"MM\0+" => (false, true),
            _ => {
                return Err(Error::format(
                    Location::file(&f.path),
                    format!(
                        "expected a TIFF header (II*\\0, MM\\0*, II+\\0 or MM\\0+), found {:?}",
                        String::from_utf8_lossy(&head)
                    ),
                ));
            }
        };
        f.big = big;
        f.little_endian = little_endian;
        if big {
            let bytesize = f.u16_at(4, None, None)?;
            let zero = f.u16_at(6, None, None)?;
            if bytesize != 8 || zero != 0 {
                return Err(Error::format(
                    f.loc(None, None, None),
                    format!("expected BigTIFF offset size 8 and 0, found {bytesize} and {zero}"),
                ));
            }
        }
        Ok(f)
    }

    pub fn len(&self) -> u64 {
        self.data.len()
    }

    pub fn loc(&self, ifd: Option<u64>, subifd: Option<u64>, tag: Option<u16>) -> Location {
        Location::Tiff {
            file: self.path.clone(),
            ifd,
            subifd,
            tag,
        }
    }

    /// The bytes `[offset, offset + n)`, or a format error naming the location.
    pub fn bytes(&self, offset: u64, n: u64, at: &IfdAt, tag: Option<u16>) -> Result<Raw<'_>> {
        let end = offset.checked_add(n);
        match end {
            Some(end) if end <= self.len() => {
                let (s, e) = (
                    usize::try_from(offset).unwrap_or(usize::MAX),
                    usize::try_from(end).unwrap_or(usize::MAX),
                );
                match &self.data {
                    TiffBytes::Map(m) => Ok(Raw::Borrowed(&m[s..e])),
                    TiffBytes::Vec(v) => Ok(Raw::Borrowed(&v[s..e])),
                    TiffBytes::Remote(r) => r.read(offset, n).map(Raw::Fetched).map_err(|m| {
                        Error::storage(
                            self.loc(at.ifd, at.subifd, tag),
                            format!("bytes {offset}..{end}: {m}"),
                        )
                    }),
                }
            }
            _ => Err(Error::format(
                self.loc(at.ifd, at.subifd, tag),
                format!(
                    "expected {n} bytes at offset {offset} inside the file, found a file of {} bytes",
                    self.len()
                ),
            )),
        }
    }

    /// Whether the file is read by byte ranges from a remote store.
    pub fn is_remote(&self) -> bool {
        matches!(self.data, TiffBytes::Remote(_))
    }

    /// For a remote file, fetches `spans` (`(offset, length)`) at once so that the
    /// [`TiffFile::bytes`] of exactly those spans come from memory until
    /// [`TiffFile::release`]; nothing for a local file. Spans outside the file are left to
    /// the reads that follow, which report them.
    pub fn prefetch(&self, spans: &[(u64, u64)]) -> Result<()> {
        let TiffBytes::Remote(r) = &self.data else {
            return Ok(());
        };
        r.prefetch(&self.inside(spans))
            .map_err(|m| Error::storage(self.loc(None, None, None), m))
    }

    /// Ends a [`TiffFile::prefetch`] of the same `spans`.
    pub fn release(&self, spans: &[(u64, u64)]) {
        if let TiffBytes::Remote(r) = &self.data {
            r.release(&self.inside(spans));
        }
    }

    /// The spans `(offset, length)` that lie inside the file.
    fn inside(&self, spans: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let len = self.len();
        spans
            .iter()
            .copied()
            .filter(|&(o, n)| o.checked_add(n).is_some_and(|e| e <= len))
            .collect()
    }

    fn u16_at(&self, offset: u64, ifd: Option<u64>, tag: Option<u16>) -> Result<u16> {
        let b = self.bytes(offset, 2, &IfdAt { ifd, subifd: None }, tag)?;
        let a = [b[0], b[1]];
        Ok(if self.little_endian {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }

    pub fn read_uint(&self, b: &[u8]) -> u64 {
        let mut v = 0u64;
        if self.little_endian {
            for (i, &x) in b.iter().enumerate() {
                v |= u64::from(x) << (8 * i);
            }
        } else {
            for &x in b {
                v = (v << 8) | u64::from(x);
            }
        }
        v
    }

    fn offset_size(&self) -> u64 {
        if self.big { 8 } else { 4 }
    }

    /// The offset of the first IFD.
    pub fn first_ifd_offset(&self) -> Result<u64> {
        let at = IfdAt::default();
        if self.big {
            Ok(self.read_uint(&self.bytes(8, 8, &at, None)?))
        } else {
            Ok(self.read_uint(&self.bytes(4, 4, &at, None)?))
        }
    }

    /// Parses the IFD at `offset`; returns it and the offset of the next IFD (0 at the end).
    pub fn read_ifd(&self, offset: u64, at: &IfdAt) -> Result<(Ifd, u64)> {
        let (count_size, entry_size) = if self.big { (8, 20) } else { (2, 12) };
        let count = self.read_uint(&self.bytes(offset, count_size, at, None)?);
        if count > self.limits.max_entries {
            return Err(Error::limits(
                self.loc(at.ifd, at.subifd, None),
                format!(
                    "expected at most {} IFD entries, found {count}",
                    self.limits.max_entries
                ),
            ));
        }
        let table = self.bytes(offset + count_size, count * entry_size, at, None)?;
        let mut ifd = Ifd::default();
        let os = self.offset_size();
        for k in 0..count as usize {
            let e = &table[k * entry_size as usize..(k + 1) * entry_size as usize];
            let tag = self.read_uint(&e[0..2]) as u16;
            let typ = self.read_uint(&e[2..4]) as u16;
            let (n, field_at) = if self.big {
                (self.read_uint(&e[4..12]), 12u64)
            } else {
                (self.read_uint(&e[4..8]), 8u64)
            };
            let Some(size) = type_size(typ) else {
                // Unknown types are skipped, as TIFF 6.0 section 2 asks of readers.
                continue;
            };
            let bytes = n
                .checked_mul(size)
                .filter(|&b| b <= self.limits.max_tag_bytes);
            let Some(bytes) = bytes else {
                return Err(Error::limits(
                    self.loc(at.ifd, at.subifd, Some(tag)),
                    format!(
                        "expected a tag value of at most {} bytes, found {n} values of {size} bytes",
                        self.limits.max_tag_bytes
                    ),
                ));
            };
            let field = offset + count_size + k as u64 * entry_size + field_at;
            let value_at = if bytes <= os {
                field
            } else {
                self.read_uint(&e[field_at as usize..field_at as usize + os as usize])
            };
            if value_at
                .checked_add(bytes)
                .is_none_or(|end| end > self.len())
            {
                return Err(Error::format(
                    self.loc(at.ifd, at.subifd, Some(tag)),
                    format!(
                        "expected the tag value ({bytes} bytes at offset {value_at}) inside the file, found a file of {} bytes",
                        self.len()
                    ),
                ));
            }
            ifd.entries.insert(
                tag,
                Entry {
                    typ,
                    count: n,
                    value_at,
                },
            );
        }
        let next_at = offset + count_size + count * entry_size;
        let next = self.read_uint(&self.bytes(next_at, os, at, None)?);
        Ok((ifd, next))
    }

    /// The values of an integer tag as `u64`s.
    pub fn uints(&self, ifd: &Ifd, tag: u16, at: &IfdAt) -> Result<Option<Vec<u64>>> {
        let Some(e) = ifd.entries.get(&tag) else {
            return Ok(None);
        };
        let size = match e.typ {
            1 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 13 => 4,
            16..=18 => 8,
            t => {
                return Err(Error::format(
                    self.loc(at.ifd, at.subifd, Some(tag)),
                    format!("expected an integer tag type, found type {t}"),
                ));
            }
        };
        let raw = self.bytes(e.value_at, e.count * size, at, Some(tag))?;
        Ok(Some(
            raw.chunks_exact(size as usize)
                .map(|c| self.read_uint(c))
                .collect(),
        ))
    }

    /// The first value of an integer tag.
    pub fn uint(&self, ifd: &Ifd, tag: u16, at: &IfdAt) -> Result<Option<u64>> {
        let Some(e) = ifd.entries.get(&tag) else {
            return Ok(None);
        };
        if e.count == 0 {
            return Ok(None);
        }
        let one = Ifd {
            entries: BTreeMap::from([(tag, Entry { count: 1, ..*e })]),
        };
        Ok(self.uints(&one, tag, at)?.and_then(|v| v.first().copied()))
    }

    /// An ASCII tag as a string (up to the first NUL), bounded by `max`.
    pub fn ascii(&self, ifd: &Ifd, tag: u16, at: &IfdAt, max: u64) -> Result<Option<String>> {
        let Some(e) = ifd.entries.get(&tag) else {
            return Ok(None);
        };
        if e.count > max {
            return Err(Error::limits(
                self.loc(at.ifd, at.subifd, Some(tag)),
                format!("expected at most {max} bytes of text, found {}", e.count),
            ));
        }
        let raw = self.bytes(e.value_at, e.count, at, Some(tag))?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(Some(String::from_utf8_lossy(&raw[..end]).into_owned()))
    }

    /// Walks the main IFD chain, with loop detection and the IFD count limit.
    pub fn main_chain(&self) -> Result<Vec<(u64, Ifd)>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut offset = self.first_ifd_offset()?;
        while offset != 0 {
            let idx = out.len() as u64;
            if out.len() >= self.limits.max_ifds {
                return Err(Error::limits(
                    self.loc(Some(idx), None, None),
                    format!("expected at most {} IFDs, found more", self.limits.max_ifds),
                ));
            }
            if !seen.insert(offset) {
                return Err(Error::format(
                    self.loc(Some(idx), None, None),
                    format!(
                        "expected an IFD chain without loops, found IFD offset {offset} a second time"
                    ),
                ));
            }
            let at = IfdAt {
                ifd: Some(idx),
                subifd: None,
            };
            let (ifd, next) = self.read_ifd(offset, &at)?;
            out.push((offset, ifd));
            offset = next;
        }
        Ok(out)
    }

    /// The SubIFDs of `ifd` (tag 330), in order.
    pub fn sub_ifds(&self, ifd: &Ifd, index: u64) -> Result<Vec<Ifd>> {
        let at = IfdAt {
            ifd: Some(index),
            subifd: None,
        };
        let Some(offsets) = self.uints(ifd, tag::SUB_IFDS, &at)? else {
            return Ok(Vec::new());
        };
        if offsets.len() > self.limits.max_subifds {
            return Err(Error::limits(
                self.loc(Some(index), None, Some(tag::SUB_IFDS)),
                format!(
                    "expected at most {} SubIFDs, found {}",
                    self.limits.max_subifds,
                    offsets.len()
                ),
            ));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (k, &off) in offsets.iter().enumerate() {
            if !seen.insert(off) {
                return Err(Error::format(
                    self.loc(Some(index), Some(k as u64), Some(tag::SUB_IFDS)),
                    format!("expected distinct SubIFD offsets, found {off} twice"),
                ));
            }
            let at = IfdAt {
                ifd: Some(index),
                subifd: Some(k as u64),
            };
            out.push(self.read_ifd(off, &at)?.0);
        }
        Ok(out)
    }
}

/// Which IFD an operation is about, for error locations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IfdAt {
    pub ifd: Option<u64>,
    pub subifd: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic(entries: &[(u16, u16, u32, u32)], next: u32) -> Vec<u8> {
        let mut v = b"II*\0".to_vec();
        v.extend_from_slice(&8u32.to_le_bytes());
        v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(t, ty, n, val) in entries {
            v.extend_from_slice(&t.to_le_bytes());
            v.extend_from_slice(&ty.to_le_bytes());
            v.extend_from_slice(&n.to_le_bytes());
            v.extend_from_slice(&val.to_le_bytes());
        }
        v.extend_from_slice(&next.to_le_bytes());
        v
    }

    fn open(bytes: Vec<u8>) -> TiffFile {
        TiffFile::from_bytes("t.tif".into(), TiffBytes::Vec(bytes), TiffLimits::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn loop_is_detected() {
        let f = open(classic(&[(256, 3, 1, 4)], 8));
        let e = f.main_chain().unwrap_err();
        assert!(e.to_string().contains("IFD 1"), "{e}");
        assert!(e.to_string().contains("loops"), "{e}");
    }

    #[test]
    fn value_past_the_end() {
        let f = open(classic(&[(273, 4, 4, 9999)], 0));
        let e = f.main_chain().unwrap_err();
        assert!(e.to_string().contains("IFD 0 tag 273"), "{e}");
    }

    #[test]
    fn huge_count() {
        let f = open(classic(&[(273, 4, u32::MAX, 8)], 0));
        let e = f.main_chain().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::LimitsExceeded);
        assert!(e.to_string().contains("tag 273"), "{e}");
    }

    #[test]
    fn bad_magic() {
        assert!(
            TiffFile::from_bytes(
                "x".into(),
                TiffBytes::Vec(b"GIF89a".to_vec()),
                TiffLimits::default()
            )
            .is_err()
        );
    }
}
