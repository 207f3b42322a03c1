//! Resource limits and the small option types shared by the readers and writers.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ome_xml::XmlLimits;

/// Resource limits applied to every input. The defaults are safe for untrusted data
/// (uploads to a repository); raise them for trusted data sets with larger chunks.
///
/// The fields are public and the struct is `#[non_exhaustive]`: start from
/// [`Limits::default()`] and assign the fields to change. The `ome` CLI sets every field
/// from a `--max-...` flag; `README.md` ("Limits for untrusted input") lists them.
///
/// ```
/// let mut limits = ome_core::Limits::default();
/// limits.max_chunk_bytes = 2 << 30; // trusted data with 2 GiB shards
/// assert_eq!(limits.xml_limits().max_depth, limits.max_xml_depth);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest metadata document (`zarr.json`, `.zattrs`, `.zarray`, `.zgroup`) read, in bytes.
    pub max_metadata_bytes: u64,
    /// Largest decoded chunk (or shard, or inner chunk, or TIFF tile or strip) in bytes.
    pub max_chunk_bytes: u64,
    /// Largest decoded region one read may return, in bytes.
    pub max_read_bytes: u64,
    /// Most dimensions an array may have.
    pub max_dimensions: usize,
    /// Most pyramid levels, labels, wells or fields listed by one document.
    pub max_list_entries: usize,
    /// Deepest nesting of arrays and objects in a JSON metadata document (the document
    /// itself is depth 1). NGFF metadata needs 7 (`attributes/ome/multiscales/[]/datasets/
    /// []/coordinateTransformations/[]/scale`); deeper documents are what a parser's stack
    /// and a validator's walk must not be handed unbounded.
    pub max_json_depth: usize,
    /// Most elements an array (or a TIFF image) may declare. Chunks that are never written
    /// read as the fill value, so a tiny dataset can declare an exabyte; this bounds the work
    /// a full read or a conversion is asked to do.
    pub max_array_elements: u64,
    /// Most IFDs in the main chain of a TIFF file (SubIFDs not counted).
    pub max_tiff_ifds: usize,
    /// Largest OME-XML document (TIFF ImageDescription or companion file), in bytes.
    pub max_xml_bytes: usize,
    /// Deepest element nesting in an OME-XML document (the root element is depth 1).
    pub max_xml_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let xml = XmlLimits::default();
        Limits {
            max_metadata_bytes: 64 << 20,
            max_chunk_bytes: 1 << 30,
            max_read_bytes: 16 << 30,
            max_dimensions: 32,
            max_list_entries: 1 << 20,
            max_json_depth: 64,
            // 4 Ti elements: a 2 000 000 x 2 000 000 slide, or 16 384^3 with 1 000 time points.
            max_array_elements: 1 << 42,
            max_tiff_ifds: 1 << 20,
            max_xml_bytes: xml.max_bytes,
            max_xml_depth: xml.max_depth,
        }
    }
}

impl Limits {
    /// The limits for the OME-XML parser: [`Limits::max_xml_bytes`] and
    /// [`Limits::max_xml_depth`], the other XML limits at their defaults.
    pub fn xml_limits(&self) -> XmlLimits {
        XmlLimits {
            max_bytes: self.max_xml_bytes,
            max_depth: self.max_xml_depth,
            ..XmlLimits::default()
        }
    }
}

/// Byte shuffle applied before blosc compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shuffle {
    /// No shuffle.
    None,
    /// Byte shuffle (the usual choice for integer images).
    #[default]
    Byte,
    /// Bit shuffle.
    Bit,
}

/// The compressor blosc runs inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BloscCompressor {
    BloscLz,
    Lz4,
    Lz4Hc,
    Zlib,
    Zstd,
}

impl BloscCompressor {
    /// The `cname` as written in Zarr metadata.
    pub fn name(self) -> &'static str {
        match self {
            BloscCompressor::BloscLz => "blosclz",
            BloscCompressor::Lz4 => "lz4",
            BloscCompressor::Lz4Hc => "lz4hc",
            BloscCompressor::Zlib => "zlib",
            BloscCompressor::Zstd => "zstd",
        }
    }
}

/// How chunks are compressed when writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Stored raw.
    None,
    /// Blosc with an inner compressor, level 0-9 and a shuffle.
    Blosc {
        /// Inner compressor.
        cname: BloscCompressor,
        /// Level 0-9.
        clevel: u8,
        /// Shuffle filter.
        shuffle: Shuffle,
    },
    /// Plain zstd, level 1-22 (negative levels are not offered).
    Zstd {
        /// Level.
        level: i32,
    },
    /// gzip, level 0-9.
    Gzip {
        /// Level.
        level: u32,
    },
}

impl Default for Compression {
    /// Blosc with zstd level 1 and byte shuffle: within a few percent of the ratio of higher
    /// levels on microscopy data at a fraction of the time.
    fn default() -> Self {
        Compression::Blosc {
            cname: BloscCompressor::Zstd,
            clevel: 1,
            shuffle: Shuffle::Byte,
        }
    }
}

impl FromStr for Compression {
    type Err = Error;

    /// Parses `none`, `zstd[:LEVEL]`, `gzip[:LEVEL]`,
    /// `blosc-CNAME[:LEVEL][:noshuffle|shuffle|bitshuffle]` (CNAME one of zstd, lz4, lz4hc,
    /// zlib, blosclz).
    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let level = parts.next();
        let extra = parts.next();
        if parts.next().is_some() {
            return Err(Error::usage(format!(
                "expected at most NAME:LEVEL:SHUFFLE, found {s:?}"
            )));
        }
        let parse_level = |default: i64, lo: i64, hi: i64| -> Result<i64> {
            match level {
                None | Some("") => Ok(default),
                Some(l) => match l.parse::<i64>() {
                    Ok(v) if (lo..=hi).contains(&v) => Ok(v),
                    _ => Err(Error::usage(format!(
                        "expected a compression level from {lo} to {hi} in {s:?}, found {l:?}"
                    ))),
                },
            }
        };
        let no_extra = |c: Compression| -> Result<Compression> {
            match extra {
                None => Ok(c),
                Some(e) => Err(Error::usage(format!(
                    "a shuffle ({e:?}) is only valid for blosc compression, found {s:?}"
                ))),
            }
        };
        match name.as_str() {
            "none" | "raw" => no_extra(Compression::None),
            "zstd" => {
                let level = i32::try_from(parse_level(1, 1, 22)?).unwrap_or(1);
                no_extra(Compression::Zstd { level })
            }
            "gzip" => {
                let level = u32::try_from(parse_level(5, 0, 9)?).unwrap_or(5);
                no_extra(Compression::Gzip { level })
            }
            blosc if blosc.starts_with("blosc") => {
                let cname = match blosc
                    .strip_prefix("blosc")
                    .unwrap_or_default()
                    .trim_start_matches('-')
                {
                    "" | "zstd" => BloscCompressor::Zstd,
                    "lz4" => BloscCompressor::Lz4,
                    "lz4hc" => BloscCompressor::Lz4Hc,
                    "zlib" => BloscCompressor::Zlib,
                    "blosclz" => BloscCompressor::BloscLz,
                    other => {
                        return Err(Error::usage(format!(
                            "expected a blosc compressor zstd, lz4, lz4hc, zlib or blosclz, found {other:?}"
                        )));
                    }
                };
                let clevel = u8::try_from(parse_level(1, 0, 9)?).unwrap_or(1);
                let shuffle = match extra {
                    None | Some("shuffle") => Shuffle::Byte,
                    Some("noshuffle") => Shuffle::None,
                    Some("bitshuffle") => Shuffle::Bit,
                    Some(other) => {
                        return Err(Error::usage(format!(
                            "expected shuffle, noshuffle or bitshuffle, found {other:?}"
                        )));
                    }
                };
                Ok(Compression::Blosc {
                    cname,
                    clevel,
                    shuffle,
                })
            }
            _ => Err(Error::usage(format!(
                "expected a compression none, zstd, gzip or blosc-<cname>, found {s:?}"
            ))),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Zstd { level } => write!(f, "zstd:{level}"),
            Compression::Gzip { level } => write!(f, "gzip:{level}"),
            Compression::Blosc {
                cname,
                clevel,
                shuffle,
            } => {
                let sh = match shuffle {
                    Shuffle::None => "noshuffle",
                    Shuffle::Byte => "shuffle",
                    Shuffle::Bit => "bitshuffle",
                };
                write!(f, "blosc-{}:{clevel}:{sh}", cname.name())
            }
        }
    }
}

/// Receives progress of long operations. Libraries never print: the CLI draws a bar from this.
pub trait Progress: Send + Sync {
    /// Announces the total amount of work in bytes of decoded pixels.
    fn set_total(&self, total: u64);
    /// Reports that `done` more bytes of decoded pixels were processed.
    fn advance(&self, done: u64);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_total(&self, _total: u64) {}
    fn advance(&self, _done: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_safe_and_consistent() {
        let l = Limits::default();
        assert_eq!(l.xml_limits(), XmlLimits::default());
        // Every NGFF document needs depth 7; leave room for extensions, not for stack bombs.
        assert!((8..=128).contains(&l.max_json_depth));
        assert!(l.max_array_elements < u64::MAX / 8);
        assert!(l.max_chunk_bytes <= l.max_read_bytes);
    }

    #[test]
    fn compression_strings_round_trip() {
        for s in [
            "none",
            "zstd:3",
            "gzip:5",
            "blosc-lz4:5:bitshuffle",
            "blosc-zstd:1:shuffle",
        ] {
            let c: Compression = s.parse().unwrap();
            assert_eq!(c.to_string(), s);
        }
        assert_eq!(
            "blosc".parse::<Compression>().unwrap(),
            Compression::default()
        );
        assert!("zstd:99".parse::<Compression>().is_err());
        assert!("lzma".parse::<Compression>().is_err());
        assert!("zstd:1:shuffle".parse::<Compression>().is_err());
    }
}
