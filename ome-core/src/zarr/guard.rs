//! Checks on encoded chunk bytes before `zarrs` decodes them, so that hostile chunks end in
//! an error instead of an unbounded allocation, a decompression bomb or a panic.
//!
//! `zarrs` trusts what it reads: the blosc codec allocates what the 16-byte blosc header
//! claims (c-blosc's `blosc_cbuffer_validate` accepts up to 2 GiB), zstd, gzip and zlib
//! decode without a bound, and the sharding codec slices the shard with the offsets of its
//! index unchecked (`encoded_shard[offset..offset + size]`, which panics or overflows for
//! entries past the end). [`GuardedStore`] sits between `zarrs` and the dataset's store ([`KeyRead`]) and,
//! for every read:
//!
//! - bounds the file: an encoded chunk or shard can be at most about twice its decoded size;
//! - for a shard (`sharding_indexed` as the only codec), reads its index from the same file
//!   descriptor and validates it against the file length, the index position and the index
//!   codecs (bytes + optional crc32c) before `zarrs` sees any of it;
//! - checks the outermost compressor of every chunk (or inner chunk of a shard) that is
//!   read whole against its decoded size: the blosc header fields, the zstd frame size, and
//!   a bounded trial decode for gzip and zlib.
//!
//! Which blosc decoder runs: always `zarrs`' blosc codec over c-blosc 1 (`blosc-src`), for
//! Zarr v2 and v3, sharded or not, whole-chunk (`blosc_decompress_ctx`) or partial
//! (`blosc_getitem`); our `fast_blosc` only compresses. Every path reads its bytes through
//! this store, so the header check covers all of them.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{Bytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey};

use super::blosc_tiles::BlockTable;
use super::store::ZarrFormat;
use crate::storage::{Got, Head, KeyRead, Stamp};

/// Encoded chunk bytes may exceed the decoded size by this much plus the decoded size
/// (compressor overheads are far smaller: zstd and gzip add under 1 %, blosc 16 bytes).
const ENCODED_SLACK: u64 = 64 << 10;
/// Per inner chunk of a shard: room for tiny inner chunks whose codec headers dominate.
const INNER_CHUNK_SLACK: u64 = 128;
/// Largest shard index accepted (4 Mi inner chunks per shard).
pub(crate) const MAX_SHARD_INDEX_BYTES: u64 = 64 << 20;
/// Shard indexes kept (validated) per array.
const INDEX_CACHE_ENTRIES: usize = 256;

/// A compressor that allocates or decodes without a bound of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compressor {
    Zstd,
    Gzip,
    Zlib,
    Blosc,
}

impl Compressor {
    fn from_name(name: &str) -> Option<Self> {
        match name.strip_prefix("numcodecs.").unwrap_or(name) {
            "zstd" => Some(Self::Zstd),
            "gzip" => Some(Self::Gzip),
            "zlib" => Some(Self::Zlib),
            "blosc" => Some(Self::Blosc),
            _ => None,
        }
    }
}

/// The check on one encoded chunk read whole: its outermost compressor (after any trailing
/// crc32c checksums) and its decoded size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkGuard {
    compressor: Option<Compressor>,
    /// Bytes of trailing crc32c checksums to skip before the compressed stream.
    checksum_bytes: usize,
    /// The decoded size of the chunk, the most any stage may produce.
    decoded: u64,
}

impl ChunkGuard {
    /// From a v3 codec list (outermost last).
    fn from_v3_codecs(codecs: &[Value], decoded: u64) -> Self {
        let mut checksum_bytes = 0;
        let mut compressor = None;
        for codec in codecs.iter().rev() {
            match codec.get("name").and_then(Value::as_str) {
                Some("crc32c") => checksum_bytes += 4,
                Some(name) => {
                    compressor = Compressor::from_name(name);
                    break;
                }
                None => break,
            }
        }
        ChunkGuard {
            compressor,
            checksum_bytes,
            decoded,
        }
    }

    /// Checks one encoded chunk; the error says what is wrong (the caller adds the key).
    pub(crate) fn check(&self, bytes: &[u8]) -> Result<(), String> {
        let Some(compressor) = self.compressor else {
            return Ok(());
        };
        let Some(bytes) = bytes.get(..bytes.len().saturating_sub(self.checksum_bytes)) else {
            return Ok(());
        };
        let max = self.decoded;
        let too_big = |n: u64| {
            format!(
                "expected a chunk that decompresses to at most its decoded size of {max} bytes, found one that decompresses to {n} bytes or more"
            )
        };
        let budget = |mut reader: Box<dyn Read + '_>| -> Result<(), String> {
            let n = std::io::copy(
                &mut (&mut reader).take(max.saturating_add(1)),
                &mut std::io::sink(),
            )
            .unwrap_or(0);
            if n > max { Err(too_big(n)) } else { Ok(()) }
        };
        match compressor {
            Compressor::Zstd => match zstd::bulk::Decompressor::upper_bound(bytes) {
                Some(n) if n as u64 > max => Err(too_big(n as u64)),
                Some(_) => Ok(()),
                None => match zstd::stream::read::Decoder::new(bytes) {
                    Ok(d) => budget(Box::new(d)),
                    Err(_) => Ok(()), // not a frame: zarrs reports the decoding error
                },
            },
            Compressor::Gzip => budget(Box::new(flate2::read::MultiGzDecoder::new(bytes))),
            Compressor::Zlib => budget(Box::new(flate2::read::ZlibDecoder::new(bytes))),
            Compressor::Blosc => check_blosc(bytes, max),
        }
    }
}

/// c-blosc 1 header flags.
const BLOSC_MEMCPYED: u8 = 0x2;
const BLOSC_HEADER: usize = 16;

/// Validates a c-blosc 1 header against the bytes present and the decoded size `max`
/// before c-blosc allocates `nbytes` and walks the block table: `nbytes` at most `max`,
/// `cbytes` equal to the length, a block size in `1..=nbytes`, a plain copy exactly
/// `nbytes + 16` bytes, and a block-start table inside the buffer pointing inside it.
pub(crate) fn check_blosc(bytes: &[u8], max: u64) -> Result<(), String> {
    let len = bytes.len() as u64;
    let Some(header) = bytes.get(..BLOSC_HEADER) else {
        return Err(format!(
            "expected a blosc header of {BLOSC_HEADER} bytes, found a chunk of {len} bytes"
        ));
    };
    let u32_at = |i: usize| {
        u64::from(u32::from_le_bytes([
            bytes[i],
            bytes[i + 1],
            bytes[i + 2],
            bytes[i + 3],
        ]))
    };
    let (version, flags, typesize) = (header[0], header[2], header[3]);
    let (nbytes, blocksize, cbytes) = (u32_at(4), u32_at(8), u32_at(12));
    if version == 0 || version > 2 {
        return Err(format!(
            "expected a blosc 1 header (format version 1 or 2), found version {version}"
        ));
    }
    if cbytes != len {
        return Err(format!(
            "blosc header claims {cbytes} compressed bytes, expected the {len} bytes of the chunk"
        ));
    }
    if nbytes > max {
        return Err(format!(
            "blosc header claims {nbytes} decoded bytes, expected at most the decoded chunk size of {max} bytes"
        ));
    }
    if typesize == 0 {
        return Err("blosc header claims a type size of 0, expected 1 to 255".into());
    }
    if nbytes == 0 {
        return Ok(());
    }
    if blocksize == 0 || blocksize > nbytes {
        return Err(format!(
            "blosc header claims a block size of {blocksize} bytes, expected 1 to the {nbytes} decoded bytes"
        ));
    }
    if flags & BLOSC_MEMCPYED != 0 {
        let expected = nbytes + BLOSC_HEADER as u64;
        if cbytes != expected {
            return Err(format!(
                "blosc header marks a plain copy of {nbytes} bytes, expected {expected} bytes, found {cbytes}"
            ));
        }
        return Ok(());
    }
    let nblocks = nbytes.div_ceil(blocksize);
    let table_end = nblocks
        .checked_mul(4)
        .and_then(|t| t.checked_add(BLOSC_HEADER as u64))
        .filter(|&end| end <= len)
        .ok_or_else(|| {
            format!(
                "blosc header claims {nblocks} blocks, expected a block table that fits in the {len} bytes of the chunk"
            )
        })?;
    for b in 0..nblocks {
        let start = u32_at(BLOSC_HEADER + 4 * b as usize);
        if start < table_end || start.saturating_add(4) > len {
            return Err(format!(
                "blosc block {b} starts at byte {start}, expected a start between {table_end} and {} (the chunk is {len} bytes)",
                len.saturating_sub(4)
            ));
        }
    }
    Ok(())
}

/// Where the index of a shard lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexLocation {
    Start,
    End,
}

/// The layout of a shard index (`sharding_indexed` configuration).
#[derive(Debug, Clone, Copy)]
struct ShardSpec {
    location: IndexLocation,
    /// Inner chunks per shard.
    chunks: u64,
    /// Encoded index size: 16 bytes per inner chunk plus 4 for a crc32c.
    index_bytes: u64,
    crc32c: bool,
    big_endian: bool,
}

impl ShardSpec {
    fn from_configuration(conf: &Value, chunks: u64) -> Result<Self, String> {
        let location = match conf.get("index_location").and_then(Value::as_str) {
            None | Some("end") => IndexLocation::End,
            Some("start") => IndexLocation::Start,
            Some(other) => {
                return Err(format!(
                    "expected index_location \"start\" or \"end\", found {other:?}"
                ));
            }
        };
        let codecs = conf
            .get("index_codecs")
            .and_then(Value::as_array)
            .ok_or("expected a list of index_codecs, found none")?;
        let names: Vec<&str> = codecs
            .iter()
            .map(|c| c.get("name").and_then(Value::as_str).unwrap_or("?"))
            .collect();
        let crc32c = match names.as_slice() {
            ["bytes"] => false,
            ["bytes", "crc32c"] => true,
            other => {
                return Err(format!(
                    "expected index_codecs bytes or bytes + crc32c, found {}",
                    other.join(" + ")
                ));
            }
        };
        let big_endian = codecs[0]
            .pointer("/configuration/endian")
            .and_then(Value::as_str)
            == Some("big");
        let index_bytes = chunks
            .checked_mul(16)
            .map(|b| b + if crc32c { 4 } else { 0 })
            .filter(|&b| b <= MAX_SHARD_INDEX_BYTES)
            .ok_or_else(|| {
                format!(
                    "expected a shard index of at most {MAX_SHARD_INDEX_BYTES} bytes, found {chunks} inner chunks per shard"
                )
            })?;
        Ok(ShardSpec {
            location,
            chunks,
            index_bytes,
            crc32c,
            big_endian,
        })
    }

    /// The byte range of the index in a shard of `len` bytes (checked by the caller).
    fn index_range(&self, len: u64) -> (u64, u64) {
        match self.location {
            IndexLocation::Start => (0, self.index_bytes),
            IndexLocation::End => (len - self.index_bytes, len),
        }
    }

    /// Validates an encoded index read from a shard of `len` bytes; returns the non-empty
    /// entries sorted by offset.
    fn parse(&self, index: &[u8], len: u64) -> Result<Vec<InnerChunk>, String> {
        let data_len = (self.chunks * 16) as usize;
        let (entries, crc) = index.split_at(data_len.min(index.len()));
        if self.crc32c {
            let stored = u32::from_le_bytes(crc.try_into().map_err(|_| "index too short")?);
            let actual = crc32c::crc32c(entries);
            if stored != actual {
                return Err(format!(
                    "expected a shard index with crc32c {actual:#010x}, found {stored:#010x}"
                ));
            }
        }
        let (lo, hi) = match self.location {
            IndexLocation::Start => (self.index_bytes, len),
            IndexLocation::End => (0, len - self.index_bytes),
        };
        let word = |b: &[u8]| {
            let a: [u8; 8] = b.try_into().unwrap_or([0; 8]);
            if self.big_endian {
                u64::from_be_bytes(a)
            } else {
                u64::from_le_bytes(a)
            }
        };
        let mut out = Vec::new();
        for (i, pair) in entries.chunks_exact(16).enumerate() {
            let (offset, nbytes) = (word(&pair[..8]), word(&pair[8..]));
            if offset == u64::MAX && nbytes == u64::MAX {
                continue; // an empty inner chunk (the fill value)
            }
            let end = offset.checked_add(nbytes).ok_or_else(|| {
                format!(
                    "inner chunk {i}: expected an offset and a length inside the shard, found offset {offset} + length {nbytes}, which overflows 64 bits"
                )
            })?;
            if offset < lo || end > hi {
                let place = match self.location {
                    IndexLocation::Start => "start",
                    IndexLocation::End => "end",
                };
                return Err(format!(
                    "inner chunk {i}: expected bytes inside the data of the shard ({lo}..{hi} of {len} bytes, index at the {place}), found bytes {offset}..{end}"
                ));
            }
            out.push(InnerChunk {
                offset,
                nbytes,
                number: i,
            });
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// One non-empty entry of a shard index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct InnerChunk {
    offset: u64,
    nbytes: u64,
    /// Its position in the index (C order of the inner chunk grid).
    number: usize,
}

/// A validated shard index, its encoded bytes (`zarrs` asks for them once per read; a
/// remote store would pay a request each time) and the version of the value it was read from.
type CachedIndex = (Stamp, Arc<Vec<InnerChunk>>, Bytes);

/// The store an array reads through: the dataset's store plus the checks of this module.
#[derive(Debug)]
pub(crate) struct GuardedStore {
    inner: Arc<dyn KeyRead>,
    /// For each chunk (or inner chunk of a shard) read whole.
    guard: ChunkGuard,
    shard: Option<ShardSpec>,
    /// Largest file accepted for one chunk or shard.
    max_encoded: u64,
    /// Validated shard indexes, by key and file version: `zarrs` reads a shard index
    /// once and then each inner chunk in a separate call.
    indexes: Mutex<HashMap<String, CachedIndex>>,
    /// Remote stores: the last few whole chunks that a partial read asked for. A partial
    /// decoder reads a chunk's header, then its block offsets, then the blocks it needs;
    /// over a network each is a round trip, so the chunk is fetched once, whole, instead.
    recent: Mutex<Vec<(String, Bytes)>>,
    /// The block tables of unsharded Blosc chunks read whole before, with the head of the
    /// chunk each came from and the bytes they take (bounded by
    /// [`BLOSC_TABLE_BYTES`]), so that a later tile of the same chunk fetches only the
    /// blocks it touches ([`GuardedStore::read_spans`]).
    blosc_tables: Mutex<(HashMap<String, KeptTable>, usize)>,
}

/// A shard read whole and its non-empty inner chunks: (position in the index, byte range).
pub(crate) type ShardParts = (Bytes, Vec<(usize, std::ops::Range<usize>)>);

/// A Blosc block table kept for a chunk, with the head of the chunk it was read from.
type KeptTable = (Head, Arc<BlockTable>);

/// Bytes of Blosc block tables kept per array (about 600 bytes for a chunk of 64 blocks).
const BLOSC_TABLE_BYTES: usize = 4 << 20;

/// Whole chunks kept for partial reads of a remote store (per array).
const RECENT_CHUNKS: usize = 8;

/// Product of a shape, `None` on overflow.
fn product(shape: &[u64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
}

impl GuardedStore {
    /// Fetches the chunks (shards) `keys` whole, ahead of a region read that needs all of
    /// them, calling `ready(i)` as soon as `keys[i]` arrived, so that its decode overlaps
    /// the fetches still in flight (see [`KeyRead::prefetch_each`]); the checks of this
    /// module still apply to every read, which then comes from memory.
    pub(crate) fn prefetch_each(&self, keys: &[String], ready: &(dyn Fn(usize) -> bool + Sync)) {
        self.inner.prefetch_each(keys, self.max_encoded, ready);
    }

    /// Ends [`GuardedStore::prefetch_each`] of `keys`.
    pub(crate) fn release(&self, keys: &[String]) {
        self.inner.release(keys);
    }

    /// The block table kept for the Blosc chunk `key` (see [`GuardedStore::keep_blosc_table`])
    /// and the head of the chunk it was read from.
    pub(crate) fn blosc_table(&self, key: &str) -> Option<(Head, Arc<BlockTable>)> {
        let tables = self.blosc_tables.lock().ok()?;
        tables.0.get(key).map(|(h, t)| (*h, Arc::clone(t)))
    }

    /// Drops the block table kept for `key` (its chunk changed).
    pub(crate) fn forget_blosc_table(&self, key: &str) {
        if let Ok(mut tables) = self.blosc_tables.lock()
            && let Some((_, table)) = tables.0.remove(key)
        {
            tables.1 = tables.1.saturating_sub(table.footprint() + key.len());
        }
    }

    /// Keeps the block table of the unsharded Blosc chunk `key`, read whole and checked as
    /// `data`: a later read of part of the chunk then reads only the blocks it needs (one
    /// request on a remote store; on a local one, a few small reads instead of the whole
    /// file, a viewer's tile of a 64-deep chunk being a sixteenth of it or less). Nothing for
    /// a sharded array or a chunk whose table does not parse.
    pub(crate) fn keep_blosc_table(&self, key: &str, data: &[u8]) {
        if self.shard.is_some() {
            return;
        }
        let Some(table) = BlockTable::parse(data).filter(|t| t.chunk_len() == data.len()) else {
            return;
        };
        // The value was just read: a remote head comes from the store's cache, not a
        // request; a local one is a stat.
        let Ok(Some(head)) = self.inner.head(key) else {
            return;
        };
        if head.len != data.len() as u64 {
            return;
        }
        let size = table.footprint() + key.len();
        if let Ok(mut tables) = self.blosc_tables.lock() {
            if tables.1 + size > BLOSC_TABLE_BYTES {
                tables.0.clear();
                tables.1 = 0;
            }
            if size <= BLOSC_TABLE_BYTES
                && tables
                    .0
                    .insert(key.to_string(), (head, Arc::new(table)))
                    .is_none()
            {
                tables.1 += size;
            }
        }
    }

    /// Reads the byte `spans` (`(start, end)`) of the unsharded chunk `key` whose head is
    /// `head`: exactly those bytes (close spans in one request), or an error naming the key;
    /// `None` when the chunk is gone.
    pub(crate) fn read_spans(
        &self,
        key: &str,
        head: &Head,
        spans: &[(usize, usize)],
    ) -> Result<Option<Vec<Bytes>>, StorageError> {
        if head.len > self.max_encoded {
            return Err(self.too_big("chunk", key, head.len));
        }
        let ranges: Vec<ByteRange> = spans
            .iter()
            .map(|&(s, e)| ByteRange::FromStart(s as u64, Some(e.saturating_sub(s) as u64)))
            .collect();
        self.inner.read_ranges(key, head, &ranges)
    }

    /// The shard spec and the size and version of the shard `key`, within the bound of a
    /// shard; `None` when the array is not sharded or the shard is absent.
    fn shard_head(&self, key: &str) -> Result<Option<(&ShardSpec, Head)>, StorageError> {
        let Some(spec) = &self.shard else {
            return Ok(None);
        };
        let Some(head) = self.inner.head(key)? else {
            return Ok(None);
        };
        if head.len > self.max_encoded {
            return Err(self.too_big("shard", key, head.len));
        }
        Ok(Some((spec, head)))
    }

    /// The shard `key` read whole, with every inner chunk checked as a read through `zarrs`
    /// checks it, and the non-empty inner chunks as (position in the index, byte range in
    /// the shard); `None` when the shard is absent or the array is not sharded.
    pub(crate) fn shard_parts(&self, key: &str) -> Result<Option<ShardParts>, StorageError> {
        let Some((spec, head)) = self.shard_head(key)? else {
            return Ok(None);
        };
        let store_key = StoreKey::new(key).map_err(|e| StorageError::Other(e.to_string()))?;
        let whole = [ByteRange::FromStart(0, None)];
        let Some(mut parts) = self.get_partial_many(&store_key, Box::new(whole.into_iter()))?
        else {
            return Ok(None);
        };
        let bytes = parts.next().transpose()?.unwrap_or_default();
        // The index was validated and cached by that read, for this version of the shard.
        let (entries, _) = self.shard_index(spec, key, &head)?;
        if bytes.len() as u64 != head.len {
            return Err(StorageError::Other(format!(
                "shard {key}: expected {} bytes, read {}",
                head.len,
                bytes.len()
            )));
        }
        let inner = entries
            .iter()
            .map(|c| (c.number, c.offset as usize..(c.offset + c.nbytes) as usize))
            .collect();
        Ok(Some((bytes, inner)))
    }

    /// The inner chunks `numbers` (positions in the index) of the shard `key`, each read by
    /// range (one request for close ones on a remote store) and checked; `None` for an
    /// empty inner chunk (the fill value), and `None` for all when the shard is absent or
    /// the array is not sharded. The shard's index is read once per version and kept.
    pub(crate) fn shard_inner(
        &self,
        key: &str,
        numbers: &[usize],
    ) -> Result<Option<Vec<Option<Bytes>>>, StorageError> {
        let Some((spec, head)) = self.shard_head(key)? else {
            return Ok(None);
        };
        let (entries, _) = self
            .shard_index(spec, key, &head)
            .map_err(|e| StorageError::Other(format!("shard {key}: {e}")))?;
        let found: Vec<Option<InnerChunk>> = numbers
            .iter()
            .map(|&n| entries.iter().find(|c| c.number == n).copied())
            .collect();
        let ranges: Vec<ByteRange> = found
            .iter()
            .flatten()
            .map(|c| ByteRange::FromStart(c.offset, Some(c.nbytes)))
            .collect();
        let parts = if ranges.is_empty() {
            Vec::new()
        } else {
            match self.inner.read_ranges(key, &head, &ranges)? {
                Some(parts) => parts,
                None => return Ok(None),
            }
        };
        let mut parts = parts.into_iter();
        let mut out = Vec::with_capacity(numbers.len());
        for c in found {
            let Some(c) = c else {
                out.push(None);
                continue;
            };
            let bytes = parts.next().unwrap_or_default();
            self.guard.check(&bytes).map_err(|e| {
                StorageError::Other(format!(
                    "shard {key}: inner chunk {} (bytes {}..{}): {e}",
                    c.number,
                    c.offset,
                    c.offset + c.nbytes
                ))
            })?;
            out.push(Some(bytes));
        }
        Ok(Some(out))
    }

    /// The store for the array document `doc` whose chunk (inner chunk when sharded) shape
    /// is `chunks` and shard shape `shards`, of elements of `element_size` bytes. The error
    /// says what in the document is not supported.
    pub(crate) fn new(
        inner: Arc<dyn KeyRead>,
        doc: &Value,
        format: ZarrFormat,
        chunks: &[u64],
        shards: Option<&[u64]>,
        element_size: u64,
    ) -> Result<Self, String> {
        let chunk_bytes = product(chunks)
            .and_then(|n| n.checked_mul(element_size))
            .ok_or("chunk size overflows 64 bits")?;
        let slack = |decoded: u64| decoded.saturating_mul(2).saturating_add(ENCODED_SLACK);
        let (guard, shard, max_encoded) = match (format, shards) {
            (ZarrFormat::V2, _) => {
                let compressor = doc
                    .get("compressor")
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_str)
                    .and_then(Compressor::from_name);
                let guard = ChunkGuard {
                    compressor,
                    checksum_bytes: 0,
                    decoded: chunk_bytes,
                };
                (guard, None, slack(chunk_bytes))
            }
            (ZarrFormat::V3, None) => {
                let codecs = doc
                    .get("codecs")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                (
                    ChunkGuard::from_v3_codecs(codecs, chunk_bytes),
                    None,
                    slack(chunk_bytes),
                )
            }
            (ZarrFormat::V3, Some(shards)) => {
                let conf = doc
                    .pointer("/codecs/0/configuration")
                    .ok_or("expected a sharding_indexed configuration, found none")?;
                let inner_codecs = conf
                    .get("codecs")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                let count = shards
                    .iter()
                    .zip(chunks)
                    .try_fold(1u64, |acc, (&s, &c)| acc.checked_mul(s.checked_div(c)?))
                    .ok_or("inner chunk count overflows 64 bits")?;
                let spec = ShardSpec::from_configuration(conf, count)?;
                let shard_bytes = product(shards)
                    .and_then(|n| n.checked_mul(element_size))
                    .ok_or("shard size overflows 64 bits")?;
                let max = slack(shard_bytes)
                    .saturating_add(count.saturating_mul(INNER_CHUNK_SLACK))
                    .saturating_add(spec.index_bytes);
                (
                    ChunkGuard::from_v3_codecs(inner_codecs, chunk_bytes),
                    Some(spec),
                    max,
                )
            }
        };
        Ok(GuardedStore {
            inner,
            guard,
            shard,
            max_encoded,
            indexes: Mutex::new(HashMap::new()),
            recent: Mutex::new(Vec::new()),
            blosc_tables: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// The validated index of the shard `key` whose size and version are `head`.
    fn shard_index(
        &self,
        spec: &ShardSpec,
        key: &str,
        head: &Head,
    ) -> Result<(Arc<Vec<InnerChunk>>, Bytes), StorageError> {
        if let Ok(cache) = self.indexes.lock()
            && let Some((s, entries, raw)) = cache.get(key)
            && *s == head.stamp
        {
            return Ok((Arc::clone(entries), raw.clone()));
        }
        let len = head.len;
        if len < spec.index_bytes {
            return Err(StorageError::Other(format!(
                "expected a shard of at least its index of {} bytes, found {len} bytes",
                spec.index_bytes
            )));
        }
        let (start, end) = spec.index_range(len);
        let index = self
            .inner
            .read_ranges(key, head, &[ByteRange::FromStart(start, Some(end - start))])?
            .ok_or_else(|| StorageError::Other(format!("{key}: the shard disappeared")))?;
        let raw = index.into_iter().next().unwrap_or_default();
        let entries = Arc::new(spec.parse(&raw, len).map_err(StorageError::Other)?);
        if let Ok(mut cache) = self.indexes.lock() {
            if cache.len() >= INDEX_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(
                key.to_string(),
                (head.stamp, Arc::clone(&entries), raw.clone()),
            );
        }
        Ok((entries, raw))
    }
}

impl GuardedStore {
    /// The error for a chunk or shard of `len` encoded bytes, more than it can hold.
    fn too_big(&self, what: &str, key: &str, len: u64) -> StorageError {
        StorageError::Other(format!(
            "{what} {key}: expected at most {} encoded bytes (about twice the decoded size), found {len} bytes",
            self.max_encoded
        ))
    }

    /// A whole unsharded chunk, read with its size bound and checked; `None` when absent.
    fn whole_chunk(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        match self.inner.get_bounded(key, self.max_encoded)? {
            Got::Absent => Ok(None),
            Got::TooBig(len) => Err(self.too_big("chunk", key, len)),
            Got::Bytes(b) => {
                self.guard
                    .check(&b)
                    .map_err(|e| StorageError::Other(format!("chunk {key}: {e}")))?;
                Ok(Some(b))
            }
        }
    }

    /// Ranges of a whole (unsharded) chunk of a remote store, fetched whole and checked once
    /// (see [`GuardedStore::recent`]).
    fn partial_from_whole<'a>(
        &'a self,
        key: &str,
        ranges: &[ByteRange],
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let cached = self
            .recent
            .lock()
            .ok()
            .and_then(|r| r.iter().find(|(k, _)| k == key).map(|(_, b)| b.clone()));
        let whole = match cached {
            Some(b) => b,
            None => {
                let Some(b) = self.whole_chunk(key)? else {
                    return Ok(None);
                };
                if let Ok(mut r) = self.recent.lock() {
                    if r.len() >= RECENT_CHUNKS {
                        r.remove(0);
                    }
                    r.push((key.to_string(), b.clone()));
                }
                b
            }
        };
        let len = whole.len() as u64;
        let parts = ranges
            .iter()
            .map(|r| {
                crate::storage::range_in(r, len)
                    .map(|(s, e)| whole.slice(s as usize..e as usize))
                    .ok_or_else(|| crate::storage::outside(key, len, r))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Box::new(
            parts.into_iter().map(Ok::<Bytes, StorageError>),
        )))
    }
}

impl ReadableStorageTraits for GuardedStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let key = key.as_str();
        let fail = |what: &str, e: String| StorageError::Other(format!("{what} {key}: {e}"));
        let what = if self.shard.is_some() {
            "shard"
        } else {
            "chunk"
        };
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        // A whole chunk: one bounded read (one request on a remote store).
        if self.shard.is_none() && matches!(ranges[..], [ByteRange::FromStart(0, None)]) {
            return Ok(self
                .whole_chunk(key)?
                .map(|part| Box::new(std::iter::once(Ok::<Bytes, StorageError>(part))) as Box<_>));
        }
        if self.shard.is_none() && self.inner.is_remote() {
            return self.partial_from_whole(key, &ranges);
        }
        let Some(head) = self.inner.head(key)? else {
            return Ok(None);
        };
        let len = head.len;
        if len > self.max_encoded {
            return Err(self.too_big(what, key, len));
        }
        let (index, index_bytes) = match &self.shard {
            Some(spec) => {
                let (entries, raw) = self
                    .shard_index(spec, key, &head)
                    .map_err(|e| fail(what, e.to_string()))?;
                (Some(entries), Some((spec.index_range(len), raw)))
            }
            None => (None, None),
        };
        // The index comes from the cache; only the other ranges are read.
        let is_index = |r: &ByteRange| {
            index_bytes
                .as_ref()
                .is_some_and(|(span, _)| crate::storage::range_in(r, len) == Some(*span))
        };
        let to_read: Vec<ByteRange> = ranges.iter().copied().filter(|r| !is_index(r)).collect();
        let read = if to_read.is_empty() {
            Vec::new()
        } else {
            let Some(parts) = self.inner.read_ranges(key, &head, &to_read)? else {
                return Ok(None);
            };
            parts
        };
        let mut read = read.into_iter();
        let parts: Vec<Bytes> = ranges
            .iter()
            .map(|r| match &index_bytes {
                Some((_, raw)) if is_index(r) => raw.clone(),
                _ => read.next().unwrap_or_default(),
            })
            .collect();
        for (range, part) in ranges.iter().zip(&parts) {
            let start = range.start(len);
            let end = start + part.len() as u64;
            match &index {
                None if start == 0 && end == len => {
                    self.guard.check(part).map_err(|e| fail(what, e))?;
                }
                None => {}
                Some(entries) => {
                    // Every inner chunk wholly inside this range: one for an inner-chunk
                    // read, all of them for a whole-shard read, none for the index.
                    let first = entries.partition_point(|c| c.offset < start);
                    for c in &entries[first..] {
                        let (o, e) = (c.offset, c.offset + c.nbytes);
                        if o >= end {
                            break;
                        }
                        if e <= end {
                            let bytes = &part[(o - start) as usize..(e - start) as usize];
                            self.guard.check(bytes).map_err(|err| {
                                fail(
                                    what,
                                    format!("inner chunk {} (bytes {o}..{e}): {err}", c.number),
                                )
                            })?;
                        }
                    }
                }
            }
        }
        Ok(Some(Box::new(
            parts.into_iter().map(Ok::<Bytes, StorageError>),
        )))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        Ok(self.inner.head(key.as_str())?.map(|h| h.len))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blosc(nbytes: u32, blocksize: u32, flags: u8, body: &[u8]) -> Vec<u8> {
        let cbytes = (16 + body.len()) as u32;
        let mut out = vec![2, 1, flags, 1];
        out.extend_from_slice(&nbytes.to_le_bytes());
        out.extend_from_slice(&blocksize.to_le_bytes());
        out.extend_from_slice(&cbytes.to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn blosc_headers_are_checked_against_the_chunk() {
        // A real chunk passes.
        let real = super::super::fast_blosc::compress_zstd(&[7u8; 4096], 1, false, 1).unwrap();
        assert!(check_blosc(&real, 4096).is_ok());
        // nbytes past the decoded size.
        let e = check_blosc(&blosc(0x7FFF_FFFF, 0x7FFF_FFFF, 2, &[0; 8]), 4096).unwrap_err();
        assert!(e.contains("2147483647 decoded bytes"), "{e}");
        // cbytes not the length.
        let mut lie = blosc(4096, 4096, 2, &[0; 100]);
        lie[12..16].copy_from_slice(&4112u32.to_le_bytes());
        let e = check_blosc(&lie, 4096).unwrap_err();
        assert!(e.contains("4112 compressed bytes"), "{e}");
        // blocksize past nbytes, and zero.
        let e = check_blosc(&blosc(4096, 8192, 0, &[0; 64]), 4096).unwrap_err();
        assert!(e.contains("block size of 8192"), "{e}");
        assert!(check_blosc(&blosc(4096, 0, 0, &[0; 64]), 4096).is_err());
        // A plain copy that is short.
        assert!(check_blosc(&blosc(4096, 4096, 2, &[0; 100]), 4096).is_err());
        // A block table past the end, and a block start outside the buffer.
        assert!(check_blosc(&blosc(4096, 1, 0, &[0; 64]), 4096).is_err());
        let mut body = 10_000u32.to_le_bytes().to_vec();
        body.extend_from_slice(&[0; 60]);
        let e = check_blosc(&blosc(4096, 4096, 0, &body), 4096).unwrap_err();
        assert!(e.contains("block 0 starts at byte 10000"), "{e}");
        assert!(check_blosc(&[2, 1, 0], 4096).is_err());
    }

    #[test]
    fn bombs_are_bounded_by_the_decoded_size() {
        let zeros = vec![0u8; 1 << 20];
        for (name, bytes) in [
            ("zstd", zstd::bulk::compress(&zeros, 1).unwrap()),
            ("gzip", {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut e, &zeros).unwrap();
                e.finish().unwrap()
            }),
        ] {
            let codecs = serde_json::json!([{"name": "bytes"}, {"name": name}, {"name": "crc32c"}]);
            let mut framed = bytes.clone();
            framed.extend_from_slice(&[0; 4]);
            let ok = ChunkGuard::from_v3_codecs(codecs.as_array().unwrap(), 1 << 20);
            assert!(ok.check(&framed).is_ok(), "{name}");
            let small = ChunkGuard::from_v3_codecs(codecs.as_array().unwrap(), 4096);
            let e = small.check(&framed).unwrap_err();
            assert!(e.contains("decoded size of 4096"), "{name}: {e}");
        }
    }

    fn spec(location: IndexLocation, crc32c: bool) -> ShardSpec {
        ShardSpec {
            location,
            chunks: 2,
            index_bytes: 32 + if crc32c { 4 } else { 0 },
            crc32c,
            big_endian: false,
        }
    }

    fn index(entries: &[(u64, u64)], crc: bool) -> Vec<u8> {
        let mut out: Vec<u8> = entries
            .iter()
            .flat_map(|&(o, n)| [o.to_le_bytes(), n.to_le_bytes()])
            .flatten()
            .collect();
        if crc {
            let c = crc32c::crc32c(&out);
            out.extend_from_slice(&c.to_le_bytes());
        }
        out
    }

    #[test]
    fn shard_indexes_are_validated() {
        let end = spec(IndexLocation::End, true);
        let len = 100 + 36;
        let good = index(&[(50, 50), (u64::MAX, u64::MAX)], true);
        let parsed = end.parse(&good, len).unwrap();
        assert_eq!(
            (parsed.len(), parsed[0].offset, parsed[0].nbytes),
            (1, 50, 50)
        );
        // Past the data (into the index at the end).
        let e = end
            .parse(&index(&[(90, 20), (0, 1)], true), len)
            .unwrap_err();
        assert!(e.contains("inner chunk 0") && e.contains("90..110"), "{e}");
        // Overflowing 64 bits.
        let e = end
            .parse(&index(&[(u64::MAX - 1, 5), (0, 1)], true), len)
            .unwrap_err();
        assert!(e.contains("overflows"), "{e}");
        // Only one of the two empty markers.
        assert!(
            end.parse(&index(&[(u64::MAX, 0), (0, 1)], true), len)
                .is_err()
        );
        // Wrong checksum.
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(end.parse(&bad, len).unwrap_err().contains("crc32c"));
        // Index at the start: data may not overlap it.
        let start = spec(IndexLocation::Start, false);
        assert!(
            start
                .parse(&index(&[(32, 10), (42, 10)], false), 52)
                .is_ok()
        );
        let e = start
            .parse(&index(&[(0, 10), (42, 10)], false), 52)
            .unwrap_err();
        assert!(e.contains("index at the start"), "{e}");
    }

    #[test]
    fn index_codecs_are_understood_or_refused() {
        let conf = serde_json::json!({
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "start"
        });
        let s = ShardSpec::from_configuration(&conf, 16).unwrap();
        assert_eq!(
            (s.index_bytes, s.location),
            (16 * 16 + 4, IndexLocation::Start)
        );
        let conf = serde_json::json!({"index_codecs": [{"name": "bytes"}, {"name": "zstd"}]});
        assert!(ShardSpec::from_configuration(&conf, 16).is_err());
        let conf = serde_json::json!({"index_codecs": [{"name": "bytes"}]});
        assert!(ShardSpec::from_configuration(&conf, 1 << 40).is_err());
    }
}
