//! Reading part of a Blosc 1 chunk without decompressing all of it: a viewer's tile of a
//! deep chunk (one plane of `1,1,64,256,256`) lies in a few of the chunk's blocks, which
//! Blosc compresses independently. zarrs 0.23's blosc codec is not partially decodable (it
//! decodes and caches whole chunks), so a tile read would decompress the whole chunk.
//!
//! The Blosc 1 format (c-blosc 1.x `README_HEADER.rst` and `blosc.c`): a 16-byte header
//! (version, version of the compressor format, flags, type size, then the uncompressed size,
//! block size and compressed size as little-endian `u32`s); unless the chunk was stored
//! uncompressed (`MEMCPYED`), one little-endian `i32` start offset per block; each block is
//! one stream, or `typesize` streams when it was split (not `DONT_SPLIT`, and the block is
//! not the last, short one), each stream a little-endian `i32` compressed size and the
//! compressed bytes (a size equal to the stream's decoded size means stored as is). Byte
//! shuffle is undone per block.
//!
//! Decoded here: blosclz, lz4 (and lz4hc, the same format), zlib and zstd streams; byte
//! shuffle, bitshuffle or none (snappy, which c-blosc builds without by default, is not).
//! Every offset and size is checked against the chunk and every stream must decode to
//! exactly its size; anything else returns `None` and the caller decodes the whole chunk
//! through zarrs, which reports what is wrong. So this path never yields a pixel that the
//! full decode would not. The same decoder is the whole-chunk Blosc codec of builds without
//! C blosc (WebAssembly, [`super::blosc_codec`]).
//!
//! A [`BlockTable`] (the header and the block starts, a few hundred bytes) is all it takes
//! to know which bytes of the chunk a region needs: a remote store keeps it from the first
//! read of a chunk and then fetches only those blocks (about a sixteenth of a 16-deep
//! chunk for one plane).

use std::io::Read;

const HEADER: usize = 16;
const DOSHUFFLE: u8 = 0x1;
const MEMCPYED: u8 = 0x2;
const DOBITSHUFFLE: u8 = 0x4;
const DONT_SPLIT: u8 = 0x10;
/// c-blosc's `MAX_SPLITS`: blocks are split into at most this many streams.
const MAX_SPLITS: usize = 16;
/// c-blosc's `MIN_BUFFERSIZE` for a split stream.
const MIN_BUFFERSIZE: usize = 128;

fn u32_at(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Where the blocks of a Blosc 1 chunk lie, from its header and block-start table: enough
/// to decode any block from the bytes of that block alone, so that a reader who kept the
/// table (a remote store's tile reads) fetches only the blocks a region touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockTable {
    flags: u8,
    typesize: usize,
    /// Decoded bytes of the chunk.
    nbytes: usize,
    blocksize: usize,
    /// Encoded bytes of the chunk (the header's `cbytes`).
    cbytes: usize,
    /// Byte span `(start, end)` of each block in the chunk: from its start to the next
    /// block start above it, or to the end of the chunk (blocks are stored one after
    /// another, in any order: c-blosc's threads write them as they finish).
    spans: Vec<(usize, usize)>,
}

impl BlockTable {
    /// The table of the chunk whose first bytes are `head` (at least the header and the
    /// block-start table: [`BlockTable::table_len`]); `None` for a chunk this module does
    /// not decode or whose table is not consistent.
    pub(crate) fn parse(head: &[u8]) -> Option<Self> {
        let h = head.get(..HEADER)?;
        let (version, flags, typesize) = (h[0], h[2], h[3] as usize);
        let nbytes = u32_at(head, 4)?;
        let blocksize = u32_at(head, 8)?;
        let cbytes = u32_at(head, 12)?;
        if !(1..=2).contains(&version)
            || typesize == 0
            || blocksize == 0
            || nbytes == 0
            || (flags & DOSHUFFLE != 0 && flags & DOBITSHUFFLE != 0)
        {
            return None;
        }
        let nblocks = nbytes.div_ceil(blocksize);
        let block_len = |i: usize| (nbytes - i * blocksize).min(blocksize);
        let spans = if flags & MEMCPYED != 0 {
            if cbytes != HEADER.checked_add(nbytes)? {
                return None;
            }
            (0..nblocks)
                .map(|i| {
                    (
                        HEADER + i * blocksize,
                        HEADER + i * blocksize + block_len(i),
                    )
                })
                .collect()
        } else {
            let table_end = HEADER.checked_add(nblocks.checked_mul(4)?)?;
            let starts = (0..nblocks)
                .map(|i| u32_at(head, HEADER + 4 * i))
                .collect::<Option<Vec<usize>>>()?;
            if starts.iter().any(|&s| s < table_end || s >= cbytes) {
                return None;
            }
            let mut sorted = starts.clone();
            sorted.sort_unstable();
            starts
                .iter()
                .map(|&s| {
                    let next = sorted.partition_point(|&t| t <= s);
                    (s, sorted.get(next).copied().unwrap_or(cbytes))
                })
                .collect()
        };
        Some(BlockTable {
            flags,
            typesize,
            nbytes,
            blocksize,
            cbytes,
            spans,
        })
    }

    /// The bytes at the start of a chunk that [`BlockTable::parse`] reads: the header and,
    /// unless the chunk was stored uncompressed, one `i32` per block (`None` before the
    /// header is known: `head` shorter than it).
    #[cfg(test)]
    pub(crate) fn table_len(head: &[u8]) -> Option<usize> {
        let flags = *head.get(2)?;
        let nbytes = u32_at(head, 4)?;
        let blocksize = u32_at(head, 8)?;
        if flags & MEMCPYED != 0 || blocksize == 0 {
            return Some(HEADER);
        }
        HEADER.checked_add(nbytes.div_ceil(blocksize).checked_mul(4)?)
    }

    /// Encoded bytes of the whole chunk.
    pub(crate) fn chunk_len(&self) -> usize {
        self.cbytes
    }

    /// Bytes this table takes in memory (for caches that bound what they keep).
    pub(crate) fn footprint(&self) -> usize {
        size_of::<Self>() + self.spans.len() * size_of::<(usize, usize)>()
    }

    /// The decoded size of block `i`.
    fn block_len(&self, i: usize) -> usize {
        (self.nbytes - i * self.blocksize).min(self.blocksize)
    }

    /// The byte span `(start, end)` in the chunk of block `i`.
    pub(crate) fn span(&self, i: usize) -> (usize, usize) {
        self.spans[i]
    }

    /// The blocks (in increasing order) that the byte `runs` (`(offset, length)` in the
    /// decoded chunk) touch; `None` when a run lies outside the chunk.
    pub(crate) fn blocks_for(&self, runs: &[(usize, usize)]) -> Option<Vec<usize>> {
        let mut needed = std::collections::BTreeSet::new();
        for &(off, len) in runs {
            if len == 0 {
                continue;
            }
            let end = off.checked_add(len)?;
            if end > self.nbytes {
                return None;
            }
            needed.extend(off / self.blocksize..=(end - 1) / self.blocksize);
        }
        Some(needed.into_iter().collect())
    }

    /// Decodes block `i` from `src`, the bytes of its span ([`BlockTable::span`]), into
    /// `out` (exactly [`BlockTable::block_len`] bytes).
    fn block(&self, i: usize, src: &[u8], out: &mut Vec<u8>) -> Option<()> {
        let mut raw = Vec::new();
        self.block_with(i, src, &mut raw, out)
    }

    /// [`BlockTable::block`] with the scratch buffer `raw` for the streams before they
    /// are unshuffled (kept by the caller from block to block: no allocation per block).
    fn block_with(&self, i: usize, src: &[u8], raw: &mut Vec<u8>, out: &mut Vec<u8>) -> Option<()> {
        let bsize = self.block_len(i);
        let (start, end) = self.spans[i];
        if src.len() != end - start {
            return None;
        }
        out.clear();
        if self.flags & MEMCPYED != 0 {
            out.extend_from_slice(src);
            return Some(());
        }
        let leftover = bsize < self.blocksize;
        let split = self.flags & DONT_SPLIT == 0
            && !leftover
            && self.typesize <= MAX_SPLITS
            && bsize / self.typesize >= MIN_BUFFERSIZE;
        let nsplits = if split { self.typesize } else { 1 };
        if !bsize.is_multiple_of(nsplits) {
            return None;
        }
        let neblock = bsize / nsplits;
        let shuffled = self.flags & (DOBITSHUFFLE | DOSHUFFLE) != 0 && self.typesize > 1
            || self.flags & DOBITSHUFFLE != 0;
        // Unshuffled blocks decode straight into `out`.
        let target: &mut Vec<u8> = if shuffled { &mut *raw } else { &mut *out };
        target.clear();
        let mut at = 0usize;
        let compressor = self.flags >> 5;
        for _ in 0..nsplits {
            let csize = u32_at(src, at)?;
            at += 4;
            let stream = src.get(at..at.checked_add(csize)?)?;
            at += csize;
            let before = target.len();
            if csize == neblock {
                target.extend_from_slice(stream);
            } else {
                match compressor {
                    // blosclz
                    0 => blosclz_decode(stream, neblock, target)?,
                    // lz4, lz4hc: LZ4 block format
                    1 => {
                        target.resize(before + neblock, 0);
                        let n =
                            lz4_flex::block::decompress_into(stream, &mut target[before..]).ok()?;
                        target.truncate(before + n);
                    }
                    // zlib
                    3 => {
                        flate2::read::ZlibDecoder::new(stream)
                            .take(neblock as u64 + 1)
                            .read_to_end(target)
                            .ok()?;
                    }
                    // zstd
                    4 => {
                        target.resize(before + neblock, 0);
                        let n = zstd_into(stream, &mut target[before..])?;
                        target.truncate(before + n);
                    }
                    _ => return None,
                }
            }
            if target.len() - before != neblock {
                return None;
            }
        }
        if self.flags & DOBITSHUFFLE != 0 {
            bitunshuffle(raw, self.typesize, out);
        } else if shuffled {
            unshuffle(raw, self.typesize, out);
        }
        Some(())
    }

    /// Decodes every block of the chunk `data` (the whole chunk this table was read from),
    /// in order, handing each to `sink(offset in the decoded chunk, bytes)`; `None` when a
    /// block does not decode to exactly its size (the blocks before it were handed over).
    /// Scratch buffers are kept per thread.
    pub(crate) fn for_each_block(
        &self,
        data: &[u8],
        sink: &mut dyn FnMut(usize, &[u8]) -> Option<()>,
    ) -> Option<()> {
        if data.len() != self.cbytes {
            return None;
        }
        SCRATCH.with(|scratch| {
            let mut fresh = (Vec::new(), Vec::new());
            let mut held = scratch.try_borrow_mut();
            let (raw, out) = match held.as_deref_mut() {
                Ok(s) => (&mut s.0, &mut s.1),
                Err(_) => (&mut fresh.0, &mut fresh.1),
            };
            for i in 0..self.spans.len() {
                let (s, e) = self.spans[i];
                self.block_with(i, data.get(s..e)?, raw, out)?;
                sink(i * self.blocksize, out)?;
            }
            Some(())
        })
    }

    /// Decoded bytes of the chunk.
    pub(crate) fn decoded_len(&self) -> usize {
        self.nbytes
    }

    /// Copies the byte `runs` (`(offset, length)` in the decoded chunk, in order) into
    /// `dst`, one after another, decoding each block they touch from `bytes_of(i)`, the
    /// bytes of the span of block `i`; `None` (nothing to rely on in `dst`) when a block
    /// is missing or does not decode to exactly its size.
    pub(crate) fn read_runs<'a>(
        &self,
        bytes_of: impl Fn(usize) -> Option<&'a [u8]>,
        runs: &[(usize, usize)],
        dst: &mut [u8],
    ) -> Option<()> {
        let mut blocks = std::collections::HashMap::new();
        for i in self.blocks_for(runs)? {
            let mut b = Vec::new();
            self.block(i, bytes_of(i)?, &mut b)?;
            blocks.insert(i, b);
        }
        let mut pos = 0;
        for &(off, len) in runs {
            let mut done = 0;
            while done < len {
                let at = off + done;
                let i = at / self.blocksize;
                let block = blocks.get(&i)?;
                let inner = at - i * self.blocksize;
                let n = (len - done).min(block.len() - inner);
                dst.get_mut(pos..pos + n)?
                    .copy_from_slice(block.get(inner..inner + n)?);
                pos += n;
                done += n;
            }
        }
        (pos == dst.len()).then_some(())
    }
}

/// Decodes a blosclz stream (c-blosc's LZ77 codec, derived from FastLZ level 2) of
/// `size` decoded bytes onto the end of `out`; `None` when the stream is malformed (a
/// match before the start, a length past the end, a stream cut short).
///
/// The stream is a run of instructions, each led by a control byte `ctrl`:
/// - `ctrl < 32`: a literal of `ctrl + 1` bytes, which follow.
/// - else a match: length `(ctrl >> 5) + 2`, where the 3-bit field 7 means more length in
///   the following bytes (each added, until one is not 255); then one byte `code`; the
///   distance back is `((ctrl & 31) << 8) + code + 1`, except when `ctrl & 31 == 31` and
///   `code == 255`: then two bytes (big-endian) give the distance minus 8192.
///
/// The first control byte is masked to 5 bits (it is always a literal; its top bits mark
/// the level in FastLZ). The instruction after a match is read before the match is copied.
fn blosclz_decode(src: &[u8], size: usize, out: &mut Vec<u8>) -> Option<()> {
    const MAX_DISTANCE: usize = 8191;
    let base = out.len();
    let end = base + size;
    let mut ip = 0usize;
    let byte = |ip: &mut usize| -> Option<usize> {
        let b = *src.get(*ip)?;
        *ip += 1;
        Some(b as usize)
    };
    if src.is_empty() {
        return (size == 0).then_some(());
    }
    let mut ctrl = byte(&mut ip)? & 31;
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let mut ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    let code = byte(&mut ip)?;
                    len += code;
                    if code != 255 {
                        break;
                    }
                }
            }
            let code = byte(&mut ip)?;
            len += 3;
            let mut back = ofs + code + 1;
            if code == 255 && ofs == 31 << 8 {
                ofs = (byte(&mut ip)? << 8) + byte(&mut ip)?;
                back = ofs + MAX_DISTANCE + 1;
            }
            let op = out.len();
            if op + len > end || back > op - base {
                return None;
            }
            // Byte by byte: a match may overlap what it writes (a run).
            let from = op - back;
            for k in 0..len {
                let b = out[from + k];
                out.push(b);
            }
        } else {
            let len = ctrl + 1;
            if out.len() + len > end {
                return None;
            }
            out.extend_from_slice(src.get(ip..ip + len)?);
            ip += len;
        }
        if ip >= src.len() {
            break;
        }
        ctrl = byte(&mut ip)?;
    }
    (out.len() == end).then_some(())
}

/// Undoes c-blosc 1's bitshuffle of one decoded block (`raw`, `typesize`-byte elements)
/// into `out`. A block of `n` elements, `n` a multiple of 8, was stored as `8 * typesize`
/// rows of `n / 8` bytes: row `8 * j + k` holds bit `k` of byte `j` of every element,
/// element `i` at bit `i % 8` of the row's byte `i / 8`. A block whose element count is
/// not a multiple of 8 was stored as it is (Blosc format versions 1 and 2, the only ones
/// [`BlockTable::parse`] accepts; version 3 would shuffle the leading multiple of 8).
fn bitunshuffle(raw: &[u8], typesize: usize, out: &mut Vec<u8>) {
    let count = raw.len() / typesize;
    let n = if count.is_multiple_of(8) { count } else { 0 };
    out.clear();
    out.resize(raw.len(), 0);
    let row = n / 8;
    for j in 0..typesize {
        for k in 0..8 {
            let bits = &raw[(8 * j + k) * row..(8 * j + k + 1) * row];
            for (g, &b) in bits.iter().enumerate() {
                if b == 0 {
                    continue;
                }
                for bit in 0..8 {
                    if b >> bit & 1 != 0 {
                        out[(8 * g + bit) * typesize + j] |= 1 << k;
                    }
                }
            }
        }
    }
    out[n * typesize..].copy_from_slice(&raw[n * typesize..]);
}

thread_local! {
    /// Per thread: a zstd decompression context, reused from block to block (creating one
    /// per block, as c-blosc 1 does, costs as much as decoding a small block).
    static ZSTD: std::cell::RefCell<Option<zstd::zstd_safe::DCtx<'static>>> =
        const { std::cell::RefCell::new(None) };
    /// Per thread: the scratch buffers of [`BlockTable::for_each_block`].
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Decodes the zstd frame `stream` into `dst`; the number of bytes written, `None` when the
/// frame is malformed or does not fit.
fn zstd_into(stream: &[u8], dst: &mut [u8]) -> Option<usize> {
    ZSTD.with(|cell| {
        let Ok(mut held) = cell.try_borrow_mut() else {
            return zstd::zstd_safe::decompress(dst, stream).ok();
        };
        if held.is_none() {
            *held = zstd::zstd_safe::DCtx::try_create();
        }
        held.as_mut()?.decompress(dst, stream).ok()
    })
}

/// Undoes c-blosc's byte shuffle of one decoded block (`raw`, `typesize`-byte elements:
/// byte `j` of every element together) into `out`; trailing bytes that do not make a whole
/// element were stored as they are.
fn unshuffle(raw: &[u8], typesize: usize, out: &mut Vec<u8>) {
    let n = raw.len() / typesize;
    out.clear();
    out.resize(raw.len(), 0);
    let whole = n * typesize;
    match typesize {
        2 => {
            let (lo, hi) = raw[..whole].split_at(n);
            for ((o, &l), &h) in out[..whole].chunks_exact_mut(2).zip(lo).zip(hi) {
                o[0] = l;
                o[1] = h;
            }
        }
        4 => {
            let (p0, rest) = raw[..whole].split_at(n);
            let (p1, rest) = rest.split_at(n);
            let (p2, p3) = rest.split_at(n);
            for (e, o) in out[..whole].chunks_exact_mut(4).enumerate() {
                o.copy_from_slice(&[p0[e], p1[e], p2[e], p3[e]]);
            }
        }
        _ => {
            for (e, o) in out[..whole].chunks_exact_mut(typesize).enumerate() {
                for (b, v) in o.iter_mut().enumerate() {
                    *v = raw[b * n + e];
                }
            }
        }
    }
    out[whole..].copy_from_slice(&raw[whole..]);
}

/// The whole decoded chunk (a codec's decode, where C blosc is not built); `None` as for
/// [`read_runs`].
pub(crate) fn decode(data: &[u8]) -> Option<Vec<u8>> {
    let table = BlockTable::parse(data)?;
    let mut out = vec![0u8; table.nbytes];
    read_runs(data, &[(0, table.nbytes)], &mut out)?;
    Some(out)
}

/// Copies the byte `runs` (`(offset, length)` in the decoded chunk, in order) of the Blosc
/// chunk `data` into `dst`, one after another, decoding only the blocks they touch (all of
/// them, at worst: the work of a full decode); `None` (nothing to rely on in `dst`) when
/// the chunk is not one this module decodes or is malformed.
pub(crate) fn read_runs(data: &[u8], runs: &[(usize, usize)], dst: &mut [u8]) -> Option<()> {
    let table = BlockTable::parse(data)?;
    if table.cbytes != data.len() {
        return None;
    }
    table.read_runs(
        |i| {
            let (s, e) = table.span(i);
            data.get(s..e)
        },
        runs,
        dst,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::{BlockTable, HEADER, read_runs};
    use crate::{DynArray, Image, ImageMetadata, Selection, WriteOptions, write_ome_zarr};
    use ndarray::ArrayD;
    use std::collections::HashMap;

    /// `chunk` with its compressed blocks stored last first, the start table rewritten.
    fn reverse_blocks(chunk: &[u8], table: &BlockTable) -> Vec<u8> {
        if table.flags & super::MEMCPYED != 0 {
            return chunk.to_vec();
        }
        let n = table.spans.len();
        let table_end = HEADER + 4 * n;
        let mut out = chunk[..table_end].to_vec();
        for i in (0..n).rev() {
            let (s, e) = table.span(i);
            let at = u32::try_from(out.len()).unwrap();
            out[HEADER + 4 * i..HEADER + 4 * i + 4].copy_from_slice(&at.to_le_bytes());
            out.extend_from_slice(&chunk[s..e]);
        }
        assert_eq!(out.len(), chunk.len());
        out
    }

    /// Chunks written by the writers (our zstd encoder, c-blosc through zarrs for the
    /// others), read back by runs: equal to the same bytes of the whole decoded chunk, for
    /// every type size, every compressor, byte shuffle, bitshuffle and none, whole and short
    /// last blocks.
    #[test]
    fn runs_of_written_chunks_equal_the_decoded_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("u8", "blosc-zstd:1:shuffle"),
            ("u16", "blosc-zstd:1:shuffle"),
            ("u16", "blosc-zstd:5:noshuffle"),
            ("u16", "blosc-zlib:3:shuffle"),
            ("f32", "blosc-zstd:3:shuffle"),
            ("f64", "blosc-zlib:1:shuffle"),
            ("u16", "blosc-lz4:5:shuffle"),
            ("u8", "blosc-lz4hc:5:noshuffle"),
            ("f32", "blosc-blosclz:5:shuffle"),
            ("u16", "blosc-blosclz:9:noshuffle"),
            ("u8", "blosc-blosclz:1:bitshuffle"),
            ("u16", "blosc-zstd:1:bitshuffle"),
            ("f64", "blosc-lz4:5:bitshuffle"),
        ];
        // 16 x 200 x 201 elements: many blocks of c-blosc's own size, a short last block.
        let shape = [16usize, 200, 201];
        for (k, (dtype, compression)) in cases.into_iter().enumerate() {
            let v = |i: ndarray::IxDyn| ((i[0] * 7919 + i[1] * 263 + i[2] * 31) % 4099) as f64;
            let data: DynArray = match dtype {
                "u8" => DynArray::U8(ArrayD::from_shape_fn(shape.to_vec(), |i| v(i) as u8)),
                "u16" => DynArray::U16(ArrayD::from_shape_fn(shape.to_vec(), |i| v(i) as u16)),
                "f32" => {
                    DynArray::F32(ArrayD::from_shape_fn(shape.to_vec(), |i| v(i) as f32 / 3.0))
                }
                _ => DynArray::F64(ArrayD::from_shape_fn(shape.to_vec(), |i| v(i) / 7.0)),
            };
            let path = dir.path().join(format!("{k}.ome.zarr"));
            let meta = ImageMetadata::from_axis_letters("zyx").unwrap();
            let o = WriteOptions {
                chunks: Some(shape.iter().map(|&d| d as u64).collect()),
                compression: compression.parse().unwrap(),
                levels: crate::pyramid::LevelCount::Exactly(1),
                ..WriteOptions::default()
            };
            crate::with_dyn_array!(&data, a, T => {
                let _: &ArrayD<T> = a;
                write_ome_zarr(&path, a.view(), &meta, &o, None).unwrap();
            });
            let image = Image::open(&path).unwrap();
            let whole = image.read(0, &Selection::default()).unwrap();
            let decoded: Vec<u8> = crate::with_dyn_array!(whole, a, T => {
                bytemuck::cast_slice::<T, u8>(a.as_slice().unwrap()).to_vec()
            });
            let chunk = std::fs::read(path.join("0/c/0/0/0")).unwrap();
            let size = decoded.len() / (shape.iter().product::<usize>());
            // One plane, a row, and rows of a sub-tile.
            let plane = shape[1] * shape[2] * size;
            let row = shape[2] * size;
            let tile: Vec<(usize, usize)> = (5..30)
                .map(|y| (plane * 9 + y * row + 3 * size, 40 * size))
                .collect();
            for runs in [vec![(plane * 15, plane)], vec![(7 * row, row)], tile] {
                let want: Vec<u8> = runs
                    .iter()
                    .flat_map(|&(o, n)| decoded[o..o + n].to_vec())
                    .collect();
                let mut got = vec![0u8; want.len()];
                let r = read_runs(&chunk, &runs, &mut got);
                assert!(r.is_some(), "{dtype} {compression}: not decoded");
                assert_eq!(got, want, "{dtype} {compression}");
                // From the table (the chunk's first bytes) and the bytes of the blocks
                // the runs touch, each alone (as range reads return them).
                let head = &chunk[..BlockTable::table_len(&chunk).unwrap()];
                let table = BlockTable::parse(head).unwrap();
                assert_eq!(table.chunk_len(), chunk.len());
                let needed = table.blocks_for(&runs).unwrap();
                let parts: HashMap<usize, Vec<u8>> = needed
                    .iter()
                    .map(|&i| {
                        let (s, e) = table.span(i);
                        (i, chunk[s..e].to_vec())
                    })
                    .collect();
                let mut from_parts = vec![0u8; want.len()];
                table
                    .read_runs(|i| parts.get(&i).map(Vec::as_slice), &runs, &mut from_parts)
                    .unwrap();
                assert_eq!(from_parts, want, "{dtype} {compression}: from the blocks");
                // The same chunk with its blocks stored in reverse order (as c-blosc's
                // threads may write them) decodes to the same bytes.
                let reversed = reverse_blocks(&chunk, &table);
                let mut from_reversed = vec![0u8; want.len()];
                read_runs(&reversed, &runs, &mut from_reversed).unwrap();
                assert_eq!(from_reversed, want, "{dtype} {compression}: reversed");
            }
            // The whole chunk (the codec of builds without C blosc).
            assert!(
                super::decode(&chunk).unwrap() == decoded,
                "{dtype} {compression}"
            );
            // A corrupted chunk is never decoded here (the full decode reports it).
            let mut bad = chunk.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0xff;
            bad.truncate(bad.len() - 3);
            let mut sink = vec![0u8; plane];
            assert!(read_runs(&bad, &[(plane, plane)], &mut sink).is_none());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod region_tests {
    use crate::{DynArray, Image, ImageMetadata, Selection, WriteOptions, write_ome_zarr};
    use ndarray::{ArrayD, Slice};

    /// Regions inside one chunk (the block path) equal the same part of the whole level
    /// (the full decode), in every chunk of a grid with edge chunks, zarr v2 and v3.
    #[test]
    fn tiles_read_from_blocks_equal_the_full_decode() {
        let dir = tempfile::tempdir().unwrap();
        let shape = [2usize, 16, 300, 201];
        let data = ArrayD::<u16>::from_shape_fn(shape.to_vec(), |i| {
            ((i[0] * 50_021 + i[1] * 7919 + i[2] * 263 + i[3] * 31) % 65_521) as u16
        });
        let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
        for (version, compression) in [
            (crate::metadata::NgffVersion::V0_4, "blosc-zstd:1:shuffle"),
            (crate::metadata::NgffVersion::V0_5, "blosc-zstd:1:shuffle"),
            (crate::metadata::NgffVersion::V0_4, "blosc-lz4:5:bitshuffle"),
            (
                crate::metadata::NgffVersion::V0_5,
                "blosc-blosclz:5:shuffle",
            ),
        ] {
            let path = dir
                .path()
                .join(format!("{version:?}-{compression}.ome.zarr"));
            let o = WriteOptions {
                version,
                chunks: Some(vec![1, 16, 128, 128]),
                compression: compression.parse().unwrap(),
                levels: crate::pyramid::LevelCount::Exactly(1),
                ..WriteOptions::default()
            };
            write_ome_zarr(&path, data.view(), &meta, &o, None).unwrap();
            let image = Image::open(&path).unwrap();
            let whole = match image.read(0, &Selection::default()).unwrap() {
                DynArray::U16(a) => a,
                _ => panic!("expected uint16"),
            };
            assert_eq!(whole, data);
            for (c, z, y, x, h, w) in [
                (0, 0, 0, 0, 128, 128),
                (1, 15, 256, 128, 44, 73),
                (0, 7, 130, 3, 100, 60),
                (1, 3, 5, 190, 1, 11),
            ] {
                let sel: Selection = format!("c={c},z={z},y={y}:{},x={x}:{}", y + h, x + w)
                    .parse()
                    .unwrap();
                let got = match image.read(0, &sel).unwrap() {
                    DynArray::U16(a) => a,
                    _ => panic!("expected uint16"),
                };
                let want = whole.slice_each_axis(|ax| match ax.axis.index() {
                    0 => Slice::from(c..c + 1),
                    1 => Slice::from(z..z + 1),
                    2 => Slice::from(y..y + h),
                    _ => Slice::from(x..x + w),
                });
                assert_eq!(
                    got.iter().copied().collect::<Vec<_>>(),
                    want.iter().copied().collect::<Vec<_>>(),
                    "{version:?} c={c} z={z} y={y} x={x}"
                );
            }
            // A second tile of a chunk read before comes from its kept block table (a few
            // small reads); after the dataset is rewritten under the open image, the stale
            // table is dropped and the tile is the new data, never an error or old pixels.
            let sel: Selection = "c=1,z=9,y=0:64,x=0:64".parse().unwrap();
            let tile = |image: &Image| match image.read(0, &sel).unwrap() {
                DynArray::U16(a) => a.iter().copied().collect::<Vec<_>>(),
                _ => panic!("expected uint16"),
            };
            let before = tile(&image);
            assert_eq!(before, tile(&image));
            std::thread::sleep(std::time::Duration::from_millis(20));
            let other = data.mapv(|v| v ^ 0x5a5a);
            let o = WriteOptions {
                overwrite: true,
                ..o
            };
            write_ome_zarr(&path, other.view(), &meta, &o, None).unwrap();
            let after = tile(&image);
            let want: Vec<u16> = before.iter().map(|v| v ^ 0x5a5a).collect();
            assert_eq!(after, want, "{version:?} {compression}: rewritten chunk");
        }
    }
}
