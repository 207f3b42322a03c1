//! Tile and strip codecs: decompression (none, LZW, deflate, zstd, PackBits) with an
//! output bound, compression for the writer, and the horizontal and floating-point
//! predictors (TIFF 6.0 section 14, Adobe Technical Note 3).

use std::io::{Read, Write};

/// TIFF `Compression` values we read.
pub(crate) mod code {
    pub const NONE: u16 = 1;
    pub const LZW: u16 = 5;
    pub const OLD_JPEG: u16 = 6;
    pub const JPEG: u16 = 7;
    pub const ADOBE_DEFLATE: u16 = 8;
    pub const PACKBITS: u16 = 32773;
    pub const DEFLATE: u16 = 32946;
    pub const ZSTD_OLD: u16 = 34926;
    pub const ZSTD: u16 = 50000;
}

/// A short name for a `Compression` value.
pub(crate) fn compression_name(c: u16) -> String {
    match c {
        code::NONE => "none".into(),
        code::LZW => "lzw".into(),
        code::ADOBE_DEFLATE | code::DEFLATE => "deflate".into(),
        code::PACKBITS => "packbits".into(),
        code::JPEG => "jpeg".into(),
        code::ZSTD | code::ZSTD_OLD => "zstd".into(),
        other => format!("compression {other}"),
    }
}

/// Decompresses `data` into at most `max` bytes; `Err(message)` says what went wrong.
#[cfg(test)]
pub(crate) fn decompress(compression: u16, data: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    decompress_into(compression, data, max, &mut out)?;
    Ok(out)
}

thread_local! {
    /// One zstd and one zlib context per thread, reused across tiles: creating a context
    /// per tile costs as much as decoding a small tile.
    static ZSTD_DCTX: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static ZLIB: std::cell::RefCell<Option<flate2::Decompress>> =
        const { std::cell::RefCell::new(None) };
}

/// [`decompress`] into `out` (cleared first), reusing its allocation and this thread's
/// codec contexts. The fast paths decode straight into `out`; anything they refuse
/// (frames larger than `max`, malformed streams) goes through the streaming decoders,
/// which truncate at `max` and give the error message.
/// Decodes a zstd block straight into `out` when it decodes to exactly `out.len()` bytes;
/// `false` otherwise (the caller then goes the general way, which reports what is wrong).
pub(crate) fn zstd_exact_into(data: &[u8], out: &mut [u8]) -> bool {
    ZSTD_DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        slot.as_mut().is_some_and(
            |d| matches!(d.decompress_to_buffer(data, &mut *out), Ok(n) if n == out.len()),
        )
    })
}

/// The most bytes `data` can decode to under `compression`, capped at `max`: what a
/// decoder may reserve up front. A block's declared size is only a claim (a 30-byte strip of
/// a file that says 500 MiB), and reserving it would take that much address space before a
/// byte is decoded; the codec's own expansion bound caps it by the bytes actually there.
fn reserve_bound(compression: u16, data: &[u8], max: usize) -> usize {
    let ratio: usize = match compression {
        code::NONE => 1,
        // Deflate: a 258-byte match per 2-bit code at best (RFC 1951), about 1032:1.
        code::ADOBE_DEFLATE | code::DEFLATE => 1032,
        // LZW: a code of 9 or more bits yields at most a 4096-byte string.
        code::LZW => 4096 * 8 / 9 + 1,
        // PackBits: 2 bytes yield at most 128.
        code::PACKBITS => 64,
        // zstd: RLE blocks expand 2^17 bytes from 4; the frame header is used instead.
        code::ZSTD | code::ZSTD_OLD => {
            return zstd::bulk::Decompressor::upper_bound(data)
                .unwrap_or(data.len().saturating_mul(4))
                .min(max);
        }
        _ => 4,
    };
    data.len().saturating_mul(ratio).saturating_add(64).min(max)
}

pub(crate) fn decompress_into(
    compression: u16,
    data: &[u8],
    max: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    match compression {
        code::ZSTD | code::ZSTD_OLD => {
            out.reserve(reserve_bound(compression, data, max));
            let fast = ZSTD_DCTX.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    *slot = zstd::bulk::Decompressor::new().ok();
                }
                slot.as_mut()
                    .is_some_and(|d| d.decompress_to_buffer(data, out).is_ok())
            });
            if fast && out.len() <= max {
                return Ok(());
            }
            out.clear();
        }
        code::ADOBE_DEFLATE | code::DEFLATE => {
            out.reserve(reserve_bound(compression, data, max));
            let fast = ZLIB.with(|cell| {
                let mut slot = cell.borrow_mut();
                let d = slot.get_or_insert_with(|| flate2::Decompress::new(true));
                d.reset(true);
                matches!(
                    d.decompress_vec(data, out, flate2::FlushDecompress::Finish),
                    Ok(flate2::Status::StreamEnd)
                )
            });
            if fast && out.len() <= max {
                return Ok(());
            }
            out.clear();
        }
        _ => {}
    }
    *out = decompress_stream(compression, data, max)?;
    Ok(())
}

/// The streaming decoders behind [`decompress_into`]: each output grows as bytes are
/// decoded, from the codec's bound, never past `max`.
fn decompress_stream(compression: u16, data: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let initial = reserve_bound(compression, data, max);
    let out = match compression {
        code::NONE => data[..data.len().min(max)].to_vec(),
        code::ADOBE_DEFLATE | code::DEFLATE => {
            let mut out = Vec::with_capacity(initial);
            flate2::read::ZlibDecoder::new(data)
                .take(max as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("expected a deflate stream, found one that fails: {e}"))?;
            out
        }
        code::ZSTD | code::ZSTD_OLD => {
            let mut out = Vec::with_capacity(initial);
            zstd::stream::read::Decoder::new(data)
                .map_err(|e| format!("expected a zstd stream: {e}"))?
                .take(max as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("expected a zstd stream, found one that fails: {e}"))?;
            out
        }
        code::LZW => lzw_decode(data, max)?,
        code::PACKBITS => packbits_decode(data, max),
        other => return Err(format!("unsupported compression {other}")),
    };
    Ok(out)
}

/// TIFF LZW (MSB-first codes, early change), bounded to `max` output bytes.
fn lzw_decode(data: &[u8], max: usize) -> Result<Vec<u8>, String> {
    const CLEAR: u16 = 256;
    const EOI: u16 = 257;
    let mut out: Vec<u8> = Vec::with_capacity(reserve_bound(code::LZW, data, max));
    // Table entries as (prefix code, last byte, length); strings are rebuilt backwards.
    let mut prefix = vec![0u16; 4096];
    let mut suffix = vec![0u8; 4096];
    let mut length = vec![0u16; 4096];
    for i in 0..256 {
        suffix[i] = i as u8;
        length[i] = 1;
    }
    let mut next = 258usize;
    let mut width = 9u32;
    let mut bitbuf = 0u64;
    let mut nbits = 0u32;
    let mut pos = 0usize;
    let mut old: Option<u16> = None;
    let mut scratch = Vec::with_capacity(4096);
    let emit = |code: u16,
                out: &mut Vec<u8>,
                scratch: &mut Vec<u8>,
                prefix: &[u16],
                suffix: &[u8],
                length: &[u16]| {
        scratch.clear();
        let mut c = code;
        for _ in 0..length[c as usize] {
            scratch.push(suffix[c as usize]);
            c = prefix[c as usize];
        }
        scratch.reverse();
        out.extend_from_slice(scratch);
        scratch[0]
    };
    loop {
        while nbits < width {
            if pos >= data.len() {
                return Ok(out);
            }
            bitbuf = (bitbuf << 8) | u64::from(data[pos]);
            pos += 1;
            nbits += 8;
        }
        let code = ((bitbuf >> (nbits - width)) & ((1 << width) - 1)) as u16;
        nbits -= width;
        if code == EOI {
            break;
        }
        if code == CLEAR {
            next = 258;
            width = 9;
            old = None;
            continue;
        }
        match old {
            None => {
                if code > 255 {
                    return Err(format!(
                        "expected a literal LZW code after clear, found {code}"
                    ));
                }
                out.push(code as u8);
            }
            Some(o) => {
                if (code as usize) < next {
                    let first = emit(code, &mut out, &mut scratch, &prefix, &suffix, &length);
                    if next < 4096 {
                        prefix[next] = o;
                        suffix[next] = first;
                        length[next] = length[o as usize] + 1;
                        next += 1;
                    }
                } else if code as usize == next && next < 4096 {
                    let first = {
                        let mut c = o;
                        while length[c as usize] > 1 {
                            c = prefix[c as usize];
                        }
                        suffix[c as usize]
                    };
                    prefix[next] = o;
                    suffix[next] = first;
                    length[next] = length[o as usize] + 1;
                    next += 1;
                    emit(code, &mut out, &mut scratch, &prefix, &suffix, &length);
                } else {
                    return Err(format!("expected an LZW code below {next}, found {code}"));
                }
            }
        }
        old = Some(code);
        if out.len() >= max {
            out.truncate(max);
            break;
        }
        // Early change: the width grows one code before the table fills.
        width = match next + 1 {
            n if n >= 2048 => 12,
            n if n >= 1024 => 11,
            n if n >= 512 => 10,
            _ => 9,
        };
    }
    Ok(out)
}

/// TIFF LZW encoder (the inverse of [`lzw_decode`]).
pub(crate) fn lzw_encode(data: &[u8]) -> Vec<u8> {
    use std::collections::HashMap;
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    let mut bits = (0u64, 0u32);
    let mut put = |code: u16, width: u32, out: &mut Vec<u8>| {
        bits.0 = (bits.0 << width) | u64::from(code);
        bits.1 += width;
        while bits.1 >= 8 {
            out.push((bits.0 >> (bits.1 - 8)) as u8);
            bits.1 -= 8;
        }
        bits.1
    };
    let mut table: HashMap<(u16, u8), u16> = HashMap::new();
    let mut next = 258u16;
    let mut width = 9u32;
    put(256, width, &mut out);
    let mut cur: Option<u16> = None;
    for &b in data {
        match cur {
            None => cur = Some(u16::from(b)),
            Some(c) => {
                if let Some(&code) = table.get(&(c, b)) {
                    cur = Some(code);
                } else {
                    put(c, width, &mut out);
                    table.insert((c, b), next);
                    next += 1;
                    cur = Some(u16::from(b));
                    if next + 1 >= 4094 {
                        put(256, width, &mut out);
                        table.clear();
                        next = 258;
                        width = 9;
                        continue;
                    }
                    width = match next {
                        n if n >= 2048 => 12,
                        n if n >= 1024 => 11,
                        n if n >= 512 => 10,
                        _ => 9,
                    };
                }
            }
        }
    }
    if let Some(c) = cur {
        put(c, width, &mut out);
        next += 1;
        width = match next {
            n if n >= 2048 => 12,
            n if n >= 1024 => 11,
            n if n >= 512 => 10,
            _ => 9,
        };
    }
    let left = put(257, width, &mut out);
    if left > 0 {
        put(0, 8 - left, &mut out);
    }
    out
}

fn packbits_decode(data: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(reserve_bound(code::PACKBITS, data, max));
    let mut i = 0;
    while i < data.len() && out.len() < max {
        let n = data[i] as i8;
        i += 1;
        if n >= 0 {
            let k = n as usize + 1;
            let end = (i + k).min(data.len());
            out.extend_from_slice(&data[i..end]);
            i = end;
        } else if n != -128 {
            let k = (1 - i32::from(n)) as usize;
            if let Some(&b) = data.get(i) {
                out.extend(std::iter::repeat_n(b, k));
            }
            i += 1;
        }
    }
    out.truncate(max);
    out
}

/// Compresses one tile for the writer.
pub(crate) fn compress(compression: u16, data: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    match compression {
        code::ADOBE_DEFLATE | code::DEFLATE => {
            let lvl = flate2::Compression::new(level.clamp(0, 9) as u32);
            let mut e = flate2::write::ZlibEncoder::new(Vec::with_capacity(data.len() / 2), lvl);
            e.write_all(data)?;
            e.finish()
        }
        code::ZSTD | code::ZSTD_OLD => {
            // One compression context per thread and level, reused across tiles.
            thread_local! {
                static CCTX: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
                    const { std::cell::RefCell::new(None) };
            }
            CCTX.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.as_ref().is_none_or(|(l, _)| *l != level) {
                    *slot = Some((level, zstd::bulk::Compressor::new(level)?));
                }
                match slot.as_mut() {
                    Some((_, c)) => c.compress(data),
                    None => zstd::bulk::compress(data, level),
                }
            })
        }
        code::LZW => Ok(lzw_encode(data)),
        _ => Ok(data.to_vec()),
    }
}

/// Predictor 2 on one row of `$t` samples in the file's byte order: each sample adds the
/// one `spp` samples before it (wrapping).
macro_rules! undo_horizontal_row {
    ($row:expr, $width:expr, $spp:expr, $little:expr, $t:ty) => {{
        const N: usize = std::mem::size_of::<$t>();
        let read = |r: &[u8], i: usize| {
            let mut a = [0u8; N];
            a.copy_from_slice(&r[N * i..N * i + N]);
            if $little {
                <$t>::from_le_bytes(a)
            } else {
                <$t>::from_be_bytes(a)
            }
        };
        for i in $spp..$width * $spp {
            let v = read($row, i).wrapping_add(read($row, i - $spp));
            let b = if $little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            $row[N * i..N * i + N].copy_from_slice(&b);
        }
    }};
}

/// Undoes predictor 2 in place on one row-major block of `rows` rows of `width` pixels with
/// `spp` samples of `bytes` bytes each, in the file's byte order.
pub(crate) fn undo_horizontal(
    buf: &mut [u8],
    width: usize,
    spp: usize,
    bytes: usize,
    little: bool,
) {
    let row_len = width * spp * bytes;
    if row_len == 0 {
        return;
    }
    for row in buf.chunks_exact_mut(row_len) {
        match bytes {
            1 => {
                for i in spp..row.len() {
                    row[i] = row[i].wrapping_add(row[i - spp]);
                }
            }
            2 => undo_horizontal_row!(row, width, spp, little, u16),
            4 => undo_horizontal_row!(row, width, spp, little, u32),
            _ => undo_horizontal_row!(row, width, spp, little, u64),
        }
    }
}

/// Undoes predictor 3 in place; the result is in little-endian byte order.
pub(crate) fn undo_float(buf: &mut [u8], width: usize, spp: usize, bytes: usize) {
    let n = width * spp;
    let row_len = n * bytes;
    if row_len == 0 {
        return;
    }
    let mut tmp = vec![0u8; row_len];
    for row in buf.chunks_exact_mut(row_len) {
        for i in spp..row_len {
            row[i] = row[i].wrapping_add(row[i - spp]);
        }
        tmp.copy_from_slice(row);
        for i in 0..n {
            for b in 0..bytes {
                // Byte planes are stored most significant first.
                row[i * bytes + b] = tmp[(bytes - 1 - b) * n + i];
            }
        }
    }
}

/// Applies predictor 2 to little-endian samples (the writer's inverse of
/// [`undo_horizontal`]).
pub(crate) fn apply_horizontal(buf: &mut [u8], width: usize, bytes: usize) {
    let row_len = width * bytes;
    if row_len == 0 {
        return;
    }
    for row in buf.chunks_exact_mut(row_len) {
        for i in (1..width).rev() {
            let mut a = [0u8; 8];
            let mut p = [0u8; 8];
            a[..bytes].copy_from_slice(&row[i * bytes..(i + 1) * bytes]);
            p[..bytes].copy_from_slice(&row[(i - 1) * bytes..i * bytes]);
            let v = u64::from_le_bytes(a).wrapping_sub(u64::from_le_bytes(p));
            row[i * bytes..(i + 1) * bytes].copy_from_slice(&v.to_le_bytes()[..bytes]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzw_round_trip() {
        for data in [
            Vec::new(),
            b"TOBEORNOTTOBEORTOBEORNOT".to_vec(),
            (0..200_000u32)
                .map(|i| (i * 7 % 251) as u8)
                .collect::<Vec<_>>(),
            vec![0u8; 100_000],
        ] {
            let enc = lzw_encode(&data);
            let dec = lzw_decode(&enc, data.len()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(dec, data);
        }
    }

    #[test]
    fn packbits_example() {
        // The example from TIFF 6.0 section 9.
        let enc = [
            0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7,
            0xAA,
        ];
        let dec = packbits_decode(&enc, 100);
        assert_eq!(dec.len(), 24);
        assert_eq!(&dec[..3], &[0xAA, 0xAA, 0xAA]);
    }

    #[test]
    fn horizontal_round_trip() {
        let orig: Vec<u8> = (0..64u16).flat_map(|v| (v * 1000).to_le_bytes()).collect();
        let mut b = orig.clone();
        apply_horizontal(&mut b, 8, 2);
        undo_horizontal(&mut b, 8, 1, 2, true);
        assert_eq!(b, orig);
    }

    #[test]
    fn bounded_deflate() {
        let big = vec![0u8; 1 << 20];
        let c = compress(code::DEFLATE, &big, 6).unwrap_or_default();
        assert_eq!(
            decompress(code::DEFLATE, &c, 1000).map(|v| v.len()),
            Ok(1000)
        );
    }
}
