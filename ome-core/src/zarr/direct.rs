//! Decoding Blosc chunks straight into the output of a region read.
//!
//! Through `zarrs` 0.23, a chunk read as part of a bigger region is decoded by C blosc into
//! a fresh buffer of the whole decoded chunk (new pages, which the kernel zeroes), and then
//! copied into the output row by row. C blosc 1 also creates and frees a zstd context for
//! every block (32 KiB at level 1). On a full-level read that is most of the time outside
//! the codec itself (the profile of issue 15: 27 % zeroing fresh pages, 12 % the row copy).
//! Here the chunk's Blosc blocks are decoded one at a time into a per-thread buffer that
//! stays in cache ([`super::blosc_tiles`], one zstd context per thread) and each block's
//! bytes are copied straight to where they belong in the output.
//!
//! Only chunks [`super::blosc_tiles`] decodes take this path; every offset is checked
//! against the chunk and the output, and a chunk that does not decode to exactly its size
//! is left to `zarrs`, which decodes it again (overwriting whatever was written) or reports
//! what is wrong.

use unsafe_cell_slice::UnsafeCellSlice;

use super::blosc_tiles::BlockTable;

/// The output of a region read: its bytes (C order), the region's start and shape in the
/// array, and the size of one element.
pub(crate) struct Region<'a, 'b> {
    pub(crate) out: &'a UnsafeCellSlice<'b, u8>,
    pub(crate) start: &'a [u64],
    pub(crate) shape: &'a [u64],
    pub(crate) size: usize,
}

/// Chunks decoded by this path (tests check that a read took it).
#[cfg(test)]
pub(crate) static DECODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A run of bytes of a part of a chunk: its offset in the decoded chunk, its offset in the
/// output, its length.
type Run = (usize, usize, usize);

/// The runs of the part of the chunk at `at` (of shape `chunk`, elements) that lies in
/// `region`, in increasing order of both offsets, merged where they follow one another in
/// both; empty when the chunk and the region do not meet; `None` on a shape that does not
/// match or overflows.
fn runs(at: &[u64], chunk: &[u64], region: &Region) -> Option<Vec<Run>> {
    let n = chunk.len();
    if n == 0 || at.len() != n || region.start.len() != n || region.shape.len() != n {
        return None;
    }
    let mut lo = vec![0u64; n];
    let mut hi = vec![0u64; n];
    for d in 0..n {
        lo[d] = at[d].max(region.start[d]);
        hi[d] = at[d]
            .checked_add(chunk[d])?
            .min(region.start[d].checked_add(region.shape[d])?);
        if lo[d] >= hi[d] {
            return Some(Vec::new());
        }
    }
    let size = region.size as u64;
    let mut chunk_stride = vec![size; n];
    let mut out_stride = vec![size; n];
    for d in (0..n - 1).rev() {
        chunk_stride[d] = chunk_stride[d + 1].checked_mul(chunk[d + 1])?;
        out_stride[d] = out_stride[d + 1].checked_mul(region.shape[d + 1])?;
    }
    let len = usize::try_from((hi[n - 1] - lo[n - 1]).checked_mul(size)?).ok()?;
    let rows = (0..n - 1).try_fold(1u64, |acc, d| acc.checked_mul(hi[d] - lo[d]))?;
    let mut out: Vec<Run> = Vec::new();
    let mut pos = lo.clone();
    for _ in 0..rows {
        let mut c = 0u64;
        let mut o = 0u64;
        for d in 0..n {
            c = c.checked_add((pos[d] - at[d]).checked_mul(chunk_stride[d])?)?;
            o = o.checked_add((pos[d] - region.start[d]).checked_mul(out_stride[d])?)?;
        }
        let (c, o) = (usize::try_from(c).ok()?, usize::try_from(o).ok()?);
        match out.last_mut() {
            Some(last) if last.0 + last.2 == c && last.1 + last.2 == o => last.2 += len,
            _ => out.push((c, o, len)),
        }
        for d in (0..n - 1).rev() {
            pos[d] += 1;
            if pos[d] < hi[d] {
                break;
            }
            pos[d] = lo[d];
        }
    }
    Some(out)
}

/// Decodes the Blosc chunk `data`, whose decoded shape is `chunk` (elements) and whose
/// first element is at `at` in the array, into its part of `region`. `None` when the chunk
/// is not one [`super::blosc_tiles`] decodes, does not hold exactly `chunk`'s bytes, or is
/// malformed: its part of the output may then be partly written.
///
/// # Safety
///
/// No other thread writes the part of `region.out` that this chunk covers while this runs
/// (the chunks of one region are disjoint, so each chunk is decoded by one thread).
pub(crate) unsafe fn blosc_chunk_into(
    data: &[u8],
    at: &[u64],
    chunk: &[u64],
    region: &Region,
) -> Option<()> {
    let table = BlockTable::parse(data)?;
    let decoded = chunk
        .iter()
        .try_fold(region.size as u64, |acc, &d| acc.checked_mul(d))?;
    if table.decoded_len() as u64 != decoded {
        return None;
    }
    let runs = runs(at, chunk, region)?;
    if runs.is_empty() {
        return Some(());
    }
    let total = region.out.len();
    if runs.iter().any(|&(c, o, l)| {
        c.checked_add(l).is_none_or(|e| e as u64 > decoded)
            || o.checked_add(l).is_none_or(|e| e > total)
    }) {
        return None;
    }
    let mut first = 0usize;
    let done = table.for_each_block(data, &mut |start, bytes| {
        let end = start + bytes.len();
        while first < runs.len() && runs[first].0 + runs[first].2 <= start {
            first += 1;
        }
        for &(c, o, l) in &runs[first..] {
            if c >= end {
                break;
            }
            let (s, e) = (c.max(start), (c + l).min(end));
            // SAFETY: the runs lie inside the output (checked above) and inside this
            // chunk's part of it, which no other thread writes (the caller's promise).
            let dst = unsafe { region.out.index_mut(o + (s - c)..o + (e - c)) };
            dst.copy_from_slice(&bytes[s - start..e - start]);
        }
        Some(())
    });
    #[cfg(test)]
    if done.is_some() {
        DECODED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    done
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Region, runs};
    use crate::dtype::Element;
    use crate::metadata::NgffVersion;
    use crate::{Image, ImageMetadata, Selection, WriteOptions, write_ome_zarr};
    use ndarray::{ArrayD, Slice};
    use unsafe_cell_slice::UnsafeCellSlice;

    /// Writes `data` (czyx) in every layout and Blosc flavour, reads it whole and in regions
    /// across chunks, and compares with `data`.
    fn regions_equal_the_data<T: Element + std::fmt::Debug + PartialEq>(data: &ArrayD<T>) {
        let dir = tempfile::tempdir().unwrap();
        let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
        let layouts: [(NgffVersion, &str, Option<Vec<u64>>); 6] = [
            (NgffVersion::V0_4, "blosc-zstd:1:shuffle", None),
            (NgffVersion::V0_5, "blosc-zstd:1:shuffle", None),
            (NgffVersion::V0_5, "blosc-lz4:5:bitshuffle", None),
            (NgffVersion::V0_4, "blosc-blosclz:5:shuffle", None),
            (
                NgffVersion::V0_5,
                "blosc-zlib:1:noshuffle",
                Some(vec![1, 4, 64, 64]),
            ),
            (
                NgffVersion::V0_5,
                "blosc-zstd:3:shuffle",
                Some(vec![2, 8, 128, 64]),
            ),
        ];
        for (version, compression, shards) in layouts {
            let path = dir.path().join(format!(
                "{version:?}-{compression}-{}.ome.zarr",
                shards.is_some()
            ));
            let o = WriteOptions {
                version,
                chunks: Some(vec![1, 4, 32, 32]),
                shards: shards.clone(),
                compression: compression.parse().unwrap(),
                levels: crate::pyramid::LevelCount::Exactly(1),
                ..WriteOptions::default()
            };
            write_ome_zarr(&path, data.view(), &meta, &o, None).unwrap();
            let image = Image::open(&path).unwrap();
            let before = super::DECODED.load(std::sync::atomic::Ordering::Relaxed);
            let read =
                |sel: &Selection| T::from_dyn_array_owned(image.read(0, sel).unwrap()).unwrap();
            assert_eq!(
                &read(&Selection::default()),
                data,
                "{compression} {shards:?}"
            );
            assert!(
                super::DECODED.load(std::sync::atomic::Ordering::Relaxed) > before,
                "{compression} {shards:?}: the chunks were not decoded straight into the output"
            );
            let before_tiles = super::DECODED.load(std::sync::atomic::Ordering::Relaxed);
            for (c, z, y, x, d, h, w) in [
                (0, 1, 3, 5, 5, 61, 40),
                (1, 0, 30, 0, 9, 3, 99),
                (0, 7, 0, 31, 2, 70, 2),
                // Inside one shard: one inner chunk, then four.
                (1, 2, 33, 40, 1, 20, 20),
                (0, 5, 10, 20, 2, 40, 30),
            ] {
                let sel: Selection =
                    format!("c={c},z={z}:{},y={y}:{},x={x}:{}", z + d, y + h, x + w)
                        .parse()
                        .unwrap();
                let want = data.slice_each_axis(|ax| match ax.axis.index() {
                    0 => Slice::from(c..c + 1),
                    1 => Slice::from(z..z + d),
                    2 => Slice::from(y..y + h),
                    _ => Slice::from(x..x + w),
                });
                let got = read(&sel);
                assert_eq!(
                    got.iter().collect::<Vec<_>>(),
                    want.iter().collect::<Vec<_>>(),
                    "{compression} {shards:?} c={c} z={z} y={y} x={x}"
                );
            }
            assert!(
                super::DECODED.load(std::sync::atomic::Ordering::Relaxed) > before_tiles + 3,
                "{compression} {shards:?}: regions were not decoded straight into the output"
            );
        }
    }

    #[test]
    fn regions_decoded_straight_from_blosc_blocks_equal_the_data() {
        let shape = vec![2usize, 9, 70, 99];
        let key = |i: &ndarray::IxDyn| i[0] * 50_021 + i[1] * 7919 + i[2] * 263 + i[3] * 31;
        regions_equal_the_data(&ArrayD::from_shape_fn(shape.clone(), |i| {
            (key(&i) % 251) as u8
        }));
        regions_equal_the_data(&ArrayD::from_shape_fn(shape.clone(), |i| {
            (key(&i) % 65_521) as u16
        }));
        regions_equal_the_data(&ArrayD::from_shape_fn(shape.clone(), |i| {
            key(&i) as f32 * 0.25 - 100.0
        }));
        regions_equal_the_data(&ArrayD::from_shape_fn(shape, |i| key(&i) as f64 / 3.0));
    }

    #[test]
    fn runs_map_a_chunk_part_to_the_output_and_merge_where_both_follow() {
        let mut buf = [0u8; 4 * 6 * 2];
        let out = UnsafeCellSlice::new(&mut buf[..]);
        // A 4 x 6 region at (2, 1), u16; chunks of 4 x 4.
        let region = Region {
            out: &out,
            start: &[2, 1],
            shape: &[4, 6],
            size: 2,
        };
        // Chunk (0, 0) covers rows 2..4, columns 1..4 of the region.
        assert_eq!(
            runs(&[0, 0], &[4, 4], &region).unwrap(),
            vec![(2 * 8 + 2, 0, 6), (3 * 8 + 2, 12, 6)]
        );
        // Chunk (1, 1) covers rows 4..6, columns 4..7: region rows 2..4, columns 3..6.
        assert_eq!(
            runs(&[4, 4], &[4, 4], &region).unwrap(),
            vec![(0, 2 * 12 + 6, 6), (8, 3 * 12 + 6, 6)]
        );
        // A region as wide as the chunk: its rows follow one another in both.
        let whole = Region {
            out: &out,
            start: &[0, 0],
            shape: &[4, 4],
            size: 2,
        };
        assert_eq!(runs(&[0, 0], &[4, 4], &whole).unwrap(), vec![(0, 0, 32)]);
        // A chunk outside the region.
        assert!(runs(&[8, 8], &[4, 4], &region).unwrap().is_empty());
    }
}
