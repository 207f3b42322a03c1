//! JPEG-compressed tiles and strips (TIFF 6.0 Technical Note 2, "new-style" JPEG,
//! Compression = 7), decoded with `zune-jpeg`.
//!
//! A TIFF may keep the quantisation and Huffman tables shared by every tile in the
//! `JPEGTables` tag (347) as an "abbreviated table specification": SOI, tables, EOI. Each
//! tile is then an abbreviated image stream: SOI, frame, scans, EOI. Technote 2 says the
//! decoder reads the tables stream first and the tile stream after it; here the two are
//! joined into one interchange stream (the tables without their EOI, the tile without its
//! SOI), which any baseline decoder reads.
//!
//! Old-style JPEG (Compression = 6) is not read: Technote 2 calls it obsolete.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

const SOI: [u8; 2] = [0xFF, 0xD8];
const EOI: [u8; 2] = [0xFF, 0xD9];

/// Decodes one JPEG tile or strip of `width` x `rows` pixels with `spp` 8-bit samples
/// (1: grey, 3: RGB after the decoder's YCbCr conversion) into interleaved bytes, row by
/// row. `tables` is the `JPEGTables` tag when the file has one. The frame must be exactly
/// `width` wide, at least `rows` and at most `max_rows` high (TIFF pads tiles to the full
/// tile size; a strip's frame may be the strip or the full RowsPerStrip).
///
/// # Errors
/// A message for the caller to wrap with file, IFD and tag: a stream that does not decode,
/// a frame of another size or component count, or a decoder panic.
pub(crate) fn decode(
    tables: Option<&[u8]>,
    data: &[u8],
    width: usize,
    rows: usize,
    max_rows: usize,
    spp: usize,
) -> Result<Vec<u8>, String> {
    let joined;
    let stream = match tables {
        Some(t) if t.len() > 4 && t.starts_with(&SOI) && data.starts_with(&SOI) => {
            let t = t.strip_suffix(&EOI).unwrap_or(t);
            let mut j = Vec::with_capacity(t.len() + data.len());
            j.extend_from_slice(t);
            j.extend_from_slice(&data[2..]);
            joined = j;
            joined.as_slice()
        }
        _ => data,
    };
    let out_space = match spp {
        1 => ColorSpace::Luma,
        3 => ColorSpace::RGB,
        _ => {
            return Err(format!(
                "expected JPEG with 1 or 3 samples per pixel, found {spp}"
            ));
        }
    };
    // The frame may not claim more than the tile: a hostile stream cannot make the decoder
    // allocate beyond one tile.
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(out_space)
        .set_max_width(width.max(1))
        .set_max_height(max_rows.max(rows).max(1));
    let decoded = std::panic::catch_unwind(|| -> Result<Vec<u8>, String> {
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(stream), options);
        dec.decode_headers().map_err(undecodable)?;
        let info = dec
            .info()
            .ok_or_else(|| "expected JPEG headers, found none".to_string())?;
        let (w, h) = (usize::from(info.width), usize::from(info.height));
        let comps = usize::from(info.components);
        if w != width || h < rows || h > max_rows.max(rows) {
            return Err(format!(
                "expected a JPEG frame {width} pixels wide and {rows} to {max_rows} high, found {w} x {h}"
            ));
        }
        if comps != spp {
            return Err(format!(
                "expected a JPEG frame with {spp} components, found {comps}"
            ));
        }
        let mut out = vec![0u8; w * h * spp];
        dec.decode_into(&mut out).map_err(undecodable)?;
        out.truncate(width * rows * spp);
        Ok(out)
    });
    decoded.unwrap_or_else(|_| Err("the JPEG decoder failed on this stream (it panicked)".into()))
}

/// The decoder's error, on one line.
fn undecodable(e: zune_jpeg::errors::DecodeErrors) -> String {
    let detail = format!("{e:?}");
    format!(
        "expected a JPEG stream, found one that does not decode ({})",
        detail.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for data in [
            &b""[..],
            &[0xFF, 0xD8][..],
            &[0xFF, 0xD8, 0xFF, 0xC0, 0, 2][..],
        ] {
            assert!(decode(None, data, 8, 8, 8, 1).is_err());
            assert!(decode(Some(&[0xFF, 0xD8, 0xFF, 0xD9]), data, 8, 8, 8, 1).is_err());
        }
        assert!(decode(None, &[0xFF, 0xD8], 8, 8, 8, 2).is_err());
    }
}
