//! Samples that are not a whole number of bytes: BitsPerSample 1 to 7, 9 to 15 and 17 to 31
//! of unsigned integers (bilevel masks, 12-bit cameras, 10- and 14-bit sensors).
//!
//! TIFF 6.0 section 2 (BitsPerSample, FillOrder) and the OME-TIFF convention: the samples
//! of a row form one bit stream, most significant bit first (FillOrder = 1, the only order
//! the baseline requires), and every row starts on a byte boundary ("rows are padded to
//! byte boundaries", TIFF 6.0 section 3, StripByteCounts). A 12-bit plane is stored this
//! way whatever the file's byte order. OME-XML describes such data as Pixels Type uint8 /
//! uint16 / uint32 with `SignificantBits` (or Type "bit" for 1-bit masks), so each sample
//! widens to the next byte size, unsigned, little-endian.

/// Bytes one packed row of `samples` samples of `bits` bits takes.
pub(crate) fn packed_row_bytes(samples: usize, bits: u32) -> usize {
    (samples * bits as usize).div_ceil(8)
}

/// Widens `rows` packed rows of `samples` samples of `bits` bits each into little-endian
/// samples of `out_bytes` bytes (1, 2 or 4). `packed` holds at least
/// `rows * packed_row_bytes(samples, bits)` bytes.
pub(crate) fn unpack(
    packed: &[u8],
    samples: usize,
    rows: usize,
    bits: u32,
    out_bytes: usize,
) -> Vec<u8> {
    let row_bytes = packed_row_bytes(samples, bits);
    let mut out = vec![0u8; samples * rows * out_bytes];
    for (r, dst_row) in out
        .chunks_exact_mut(samples * out_bytes)
        .enumerate()
        .take(rows)
    {
        let Some(src) = packed.get(r * row_bytes..(r + 1) * row_bytes) else {
            break;
        };
        if bits == 1 && out_bytes == 1 {
            for (i, d) in dst_row.iter_mut().enumerate() {
                *d = (src[i >> 3] >> (7 - (i & 7))) & 1;
            }
            continue;
        }
        // A 64-bit window refilled a byte at a time: at most 31 bits per sample, so the
        // window always holds a whole sample after refilling.
        let mut acc: u64 = 0;
        let mut have: u32 = 0;
        let mut next = src.iter();
        let mask = (1u64 << bits) - 1;
        for d in dst_row.chunks_exact_mut(out_bytes) {
            while have < bits {
                acc = (acc << 8) | u64::from(next.next().copied().unwrap_or(0));
                have += 8;
            }
            let v = ((acc >> (have - bits)) & mask) as u32;
            have -= bits;
            d.copy_from_slice(&v.to_le_bytes()[..out_bytes]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs samples MSB-first with byte-aligned rows: the reference the unpacker must undo.
    fn pack(values: &[u32], samples: usize, bits: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for row in values.chunks(samples) {
            let mut acc: u64 = 0;
            let mut have = 0;
            for &v in row {
                acc = (acc << bits) | u64::from(v);
                have += bits;
                while have >= 8 {
                    out.push((acc >> (have - 8)) as u8);
                    have -= 8;
                }
            }
            if have > 0 {
                out.push((acc << (8 - have)) as u8);
            }
        }
        out
    }

    #[test]
    fn twelve_bit_rows_round_trip() {
        // 5 samples per row: rows of 7.5 bytes padded to 8.
        let vals: Vec<u32> = (0..15).map(|i| (i * 273 + 7) % 4096).collect();
        let packed = pack(&vals, 5, 12);
        assert_eq!(packed.len(), 3 * packed_row_bytes(5, 12));
        assert_eq!(packed_row_bytes(5, 12), 8);
        let out = unpack(&packed, 5, 3, 12, 2);
        let got: Vec<u32> = out
            .chunks_exact(2)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
            .collect();
        assert_eq!(got, vals);
    }

    #[test]
    fn one_bit_masks_and_odd_widths() {
        let vals: Vec<u32> = (0..22).map(|i| u32::from(i % 3 == 0)).collect();
        let out = unpack(&pack(&vals, 11, 1), 11, 2, 1, 1);
        assert_eq!(out, vals.iter().map(|&v| v as u8).collect::<Vec<_>>());
        for bits in [2, 4, 10, 14, 24] {
            let vals: Vec<u32> = (0..21).map(|i| (i * 977) % (1 << bits)).collect();
            let ob = if bits <= 8 {
                1
            } else if bits <= 16 {
                2
            } else {
                4
            };
            let out = unpack(&pack(&vals, 7, bits), 7, 3, bits, ob);
            let got: Vec<u32> = out
                .chunks_exact(ob)
                .map(|b| {
                    let mut w = [0u8; 4];
                    w[..ob].copy_from_slice(b);
                    u32::from_le_bytes(w)
                })
                .collect();
            assert_eq!(got, vals, "{bits} bits");
        }
    }

    #[test]
    fn short_input_leaves_zeros_instead_of_panicking() {
        let out = unpack(&[0xFF], 4, 4, 12, 2);
        assert_eq!(out.len(), 32);
    }
}
