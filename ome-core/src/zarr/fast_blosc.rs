//! Blosc 1 compression with zstd inside, byte for byte what c-blosc 1.21 (which `zarrs`'
//! blosc codec calls) writes, without its per-block costs: c-blosc calls `ZSTD_compress` for
//! every block (32 KiB at level 1), which creates, initialises (with `cpuid`, a VM exit on
//! virtual machines) and frees a zstd context each time. Here one context per thread is
//! reused (`ZSTD_compressCCtx`, whose output does not depend on the context's history) and
//! the output buffer is kept from chunk to chunk.
//!
//! Only the configuration the writers use by default is covered: zstd, level 1-9, no
//! shuffle or byte shuffle, automatic block size, buffers of at least 128 bytes;
//! [`compress_zstd`] returns `None` for anything else and the caller uses `zarrs`.

use std::cell::RefCell;

use zstd::zstd_safe::{self, CCtx};

/// c-blosc `MIN_BUFFERSIZE`: smaller buffers are stored uncompressed ("memcpyed").
const MIN_BUFFERSIZE: usize = 128;
/// c-blosc `BLOSC_MAX_OVERHEAD`: the header.
const MAX_OVERHEAD: usize = 16;
/// c-blosc `BLOSC_MAX_BUFFERSIZE`.
const MAX_BUFFERSIZE: usize = i32::MAX as usize - MAX_OVERHEAD;
/// c-blosc `L1`.
const L1: usize = 32 * 1024;
/// Header flags: byte shuffle, plain copy, "do not split" (always set for zstd in the
/// default forward-compatible split mode), and the zstd format code (4) from bit 5.
const DOSHUFFLE: u8 = 0x1;
const MEMCPYED: u8 = 0x2;
const DONT_SPLIT: u8 = 0x10;
const ZSTD_FORMAT: u8 = 4 << 5;

/// c-blosc `compute_blocksize` for zstd (a "high compression ratio" codec) and no forced
/// block size.
fn blocksize(clevel: u8, typesize: usize, nbytes: usize) -> usize {
    if nbytes < typesize {
        return 1;
    }
    let mut bs = nbytes;
    if nbytes >= L1 {
        bs = L1 * 2;
        match clevel {
            0 => bs /= 4,
            1 => bs /= 2,
            2 => {}
            3 => bs *= 2,
            4 | 5 => bs *= 4,
            6..=8 => bs *= 8,
            _ => bs *= 16,
        }
    }
    if bs > nbytes {
        bs = nbytes;
    }
    if bs > typesize {
        bs = bs / typesize * typesize;
    }
    bs
}

/// c-blosc's byte shuffle of one block (the SIMD versions give the same bytes): byte `j` of
/// every element together, in element order; trailing bytes that do not make a whole
/// element are copied as they are.
fn shuffle(typesize: usize, src: &[u8], dst: &mut [u8]) {
    let n = src.len() / typesize;
    if typesize == 2 {
        let (lo, hi) = dst[..2 * n].split_at_mut(n);
        let done = shuffle2_simd(&src[..2 * n], lo, hi);
        for ((pair, l), h) in src[2 * done..2 * n]
            .chunks_exact(2)
            .zip(&mut lo[done..])
            .zip(&mut hi[done..])
        {
            *l = pair[0];
            *h = pair[1];
        }
    } else {
        for (i, e) in src.chunks_exact(typesize).enumerate() {
            for (j, &b) in e.iter().enumerate() {
                dst[j * n + i] = b;
            }
        }
    }
    dst[n * typesize..src.len()].copy_from_slice(&src[n * typesize..]);
}

/// Byte shuffle of 2-byte elements, 16 at a time (SSE2, part of x86-64): the elements
/// done, a multiple of 16.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn shuffle2_simd(src: &[u8], lo: &mut [u8], hi: &mut [u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_loadu_si128, _mm_packus_epi16, _mm_set1_epi16, _mm_srli_epi16,
        _mm_storeu_si128,
    };
    let groups = (src.len() / 32).min(lo.len() / 16).min(hi.len() / 16);
    // SAFETY: SSE2 is part of x86-64; every load reads 32 bytes inside `src` and every
    // store writes 16 bytes inside `lo` / `hi` (bounded by `groups` above); unaligned
    // loads and stores.
    unsafe {
        let mask = _mm_set1_epi16(0x00FF);
        for g in 0..groups {
            let a = _mm_loadu_si128(src.as_ptr().add(32 * g).cast::<__m128i>());
            let b = _mm_loadu_si128(src.as_ptr().add(32 * g + 16).cast::<__m128i>());
            let l = _mm_packus_epi16(_mm_and_si128(a, mask), _mm_and_si128(b, mask));
            let h = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
            _mm_storeu_si128(lo.as_mut_ptr().add(16 * g).cast::<__m128i>(), l);
            _mm_storeu_si128(hi.as_mut_ptr().add(16 * g).cast::<__m128i>(), h);
        }
    }
    groups * 16
}

#[cfg(not(target_arch = "x86_64"))]
fn shuffle2_simd(_src: &[u8], _lo: &mut [u8], _hi: &mut [u8]) -> usize {
    0
}

struct Scratch {
    cctx: CCtx<'static>,
    /// The whole output of one buffer (reused).
    out: Vec<u8>,
    /// One shuffled block.
    tmp: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Compresses `src` (elements of `typesize` bytes) as c-blosc 1.21 `blosc_compress_ctx`
/// with compressor zstd, level `clevel`, byte shuffle when `byte_shuffle`, block size 0 and
/// a destination of `src.len() + 16` bytes would. `None` where that is not covered here.
pub(crate) fn compress_zstd(
    src: &[u8],
    clevel: u8,
    byte_shuffle: bool,
    typesize: usize,
) -> Option<Vec<u8>> {
    let nbytes = src.len();
    if !(1..=9).contains(&clevel)
        || !(1..=255).contains(&typesize)
        || !(MIN_BUFFERSIZE..=MAX_BUFFERSIZE).contains(&nbytes)
    {
        return None;
    }
    let level = if clevel < 9 {
        i32::from(clevel) * 2 - 1
    } else {
        zstd_safe::max_c_level()
    };
    let bs = blocksize(clevel, typesize, nbytes);
    let nblocks = nbytes.div_ceil(bs);
    let maxbytes = nbytes + MAX_OVERHEAD;
    let mut flags = DONT_SPLIT | ZSTD_FORMAT;
    if byte_shuffle {
        flags |= DOSHUFFLE;
    }
    let header = |out: &mut [u8], flags: u8, total: usize| {
        out[0] = 2; // blosc format version
        out[1] = 1; // zstd format version
        out[2] = flags;
        out[3] = typesize as u8;
        out[4..8].copy_from_slice(&(nbytes as u32).to_le_bytes());
        out[8..12].copy_from_slice(&(bs as u32).to_le_bytes());
        out[12..16].copy_from_slice(&(total as u32).to_le_bytes());
    };
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        if guard.is_none() {
            *guard = Some(Scratch {
                cctx: CCtx::try_create()?,
                out: Vec::new(),
                tmp: Vec::new(),
            });
        }
        let s = guard.as_mut()?;
        if s.out.len() < maxbytes {
            s.out.resize(maxbytes, 0);
        }
        if s.tmp.len() < bs {
            s.tmp.resize(bs, 0);
        }
        let out = &mut s.out[..maxbytes];
        let mut ntbytes = MAX_OVERHEAD + 4 * nblocks;
        let mut compressed = ntbytes <= maxbytes;
        if compressed {
            for j in 0..nblocks {
                let block = &src[j * bs..((j + 1) * bs).min(nbytes)];
                let neblock = block.len();
                out[MAX_OVERHEAD + 4 * j..MAX_OVERHEAD + 4 * j + 4]
                    .copy_from_slice(&(ntbytes as u32).to_le_bytes());
                let data: &[u8] = if byte_shuffle && typesize > 1 {
                    shuffle(typesize, block, &mut s.tmp[..neblock]);
                    &s.tmp[..neblock]
                } else {
                    block
                };
                let size_at = ntbytes;
                ntbytes += 4;
                let maxout = neblock.min(maxbytes.saturating_sub(ntbytes));
                if maxout == 0 {
                    compressed = false;
                    break;
                }
                let cbytes = s
                    .cctx
                    .compress(&mut out[ntbytes..ntbytes + maxout], data, level)
                    .unwrap_or(0);
                let cbytes = if cbytes == 0 || cbytes == neblock {
                    // Not compressible: the (shuffled) block as it is.
                    if ntbytes + neblock > maxbytes {
                        compressed = false;
                        break;
                    }
                    out[ntbytes..ntbytes + neblock].copy_from_slice(data);
                    neblock
                } else {
                    cbytes
                };
                out[size_at..size_at + 4].copy_from_slice(&(cbytes as u32).to_le_bytes());
                ntbytes += cbytes;
            }
        }
        if !compressed {
            // c-blosc's last resort: the buffer copied after the header.
            ntbytes = maxbytes;
            out[MAX_OVERHEAD..].copy_from_slice(src);
            flags |= MEMCPYED;
        }
        header(out, flags, ntbytes);
        Some(out[..ntbytes].to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use zarrs::array::BytesToBytesCodecTraits;
    use zarrs::array::CodecOptions;
    use zarrs::array::codec::{
        BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode,
    };

    fn reference(src: &[u8], clevel: u8, shuffle: bool, typesize: usize) -> Vec<u8> {
        let codec = BloscCodec::new(
            BloscCompressor::Zstd,
            BloscCompressionLevel::try_from(clevel).unwrap(),
            None,
            if shuffle {
                BloscShuffleMode::Shuffle
            } else {
                BloscShuffleMode::NoShuffle
            },
            Some(typesize),
        )
        .unwrap();
        codec
            .encode(Cow::Borrowed(src), &CodecOptions::default())
            .unwrap()
            .into_owned()
    }

    fn data(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Smooth, noisy 16-bit-like values: compressible but not trivially.
                if i % 2 == 0 {
                    ((x % 7) as u8).wrapping_add((i / 512) as u8)
                } else {
                    (i / 40_000) as u8
                }
            })
            .collect()
    }

    #[test]
    fn byte_identical_to_c_blosc() {
        let random: Vec<u8> = {
            let mut x = 88172645463325252u64;
            (0..300_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        };
        let zeros = vec![0u8; 1 << 20];
        let smooth = data((1 << 20) + (3 << 10) + 2 * 333, 3);
        let cases: Vec<&[u8]> = vec![
            &smooth,
            &smooth[..1000],
            &smooth[..128],
            &smooth[..(32 << 10) + 6],
            &random,
            &random[..4097],
            &zeros,
        ];
        for src in cases {
            for clevel in [1u8, 2, 3, 5, 9] {
                for shuffle in [false, true] {
                    for typesize in [1usize, 2, 4, 8] {
                        if clevel == 9 && src.len() > (1 << 16) {
                            continue; // slow
                        }
                        let ours = compress_zstd(src, clevel, shuffle, typesize).unwrap();
                        let theirs = reference(src, clevel, shuffle, typesize);
                        assert!(
                            ours == theirs,
                            "differs: {} bytes, clevel {clevel}, shuffle {shuffle}, typesize {typesize}",
                            src.len()
                        );
                    }
                }
            }
        }
        assert!(compress_zstd(&smooth[..100], 1, true, 2).is_none());
        assert!(compress_zstd(&smooth[..1000], 0, true, 2).is_none());
    }
}
