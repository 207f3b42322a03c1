//! The structure-aware TIFF tile target: a small classic or BigTIFF file, either byte order,
//! tiled or stripped, built tag by tag from the case, with its tiles encoded by the real
//! codecs (deflate, zstd) or given as hostile streams (LZW, PackBits, JPEG, unknown codes),
//! optional OME-XML in IFD 0, and then lies told in its tags and damage done to its tiles.
//! It is read back through the reader and its real decoders.

use std::fs;

use arbitrary::{Arbitrary, Unstructured};
use std::io::Write;

#[derive(Arbitrary, Debug)]
struct TiffCase {
    width: u8,
    height: u8,
    /// Tiled (16-multiple tile sides) or stripped (rows per strip).
    layout: Layout,
    sample: Sample,
    rgb: bool,
    planar_separate: bool,
    codec: TiffCodec,
    predictor: u8,
    bigtiff: bool,
    big_endian: bool,
    xml: Option<Xml>,
    seed: u8,
    lies: Vec<Lie>,
    damage: Vec<(u32, u8)>,
    truncate: Option<u32>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Layout {
    Tiles(u8, u8),
    Strips(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Sample {
    U8,
    U16,
    I16,
    U32,
    F32,
    F64,
    /// Packed unsigned samples of 1-31 bits.
    Packed(u8),
}

#[derive(Arbitrary, Debug)]
enum TiffCodec {
    None,
    Deflate,
    AdobeDeflate,
    Zstd,
    /// Compression 5 with these bytes as every segment.
    Lzw(Vec<u8>),
    /// Compression 32773 with these bytes as every segment.
    PackBits(Vec<u8>),
    /// Compression 7 with these bytes as every segment.
    Jpeg(Vec<u8>),
    /// Any other code.
    Other(u16, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Xml {
    /// An OME-XML document that describes the file.
    Matching,
    /// One that claims other sizes (SizeZ, SizeC, SizeT) and a PlaneCount.
    Sizes {
        z: u32,
        c: u32,
        t: u32,
        plane_count: Option<u32>,
        ifd: Option<u32>,
    },
}

#[derive(Arbitrary, Debug)]
enum Lie {
    Width(u32),
    Height(u32),
    TileWidth(u32),
    TileLength(u32),
    RowsPerStrip(u32),
    BitsPerSample(u16),
    SampleFormat(u16),
    SamplesPerPixel(u16),
    Offset { index: u16, value: u64 },
    ByteCount { index: u16, value: u64 },
    SubIfd(u64),
    NextIfd(u64),
}

const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const IMAGE_DESCRIPTION: u16 = 270;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
const PLANAR_CONFIGURATION: u16 = 284;
const PREDICTOR: u16 = 317;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const SUB_IFDS: u16 = 330;
const SAMPLE_FORMAT: u16 = 339;

/// One tag value: ASCII, SHORTs or LONG/LONG8 offsets.
enum TagValue {
    Ascii(Vec<u8>),
    Short(Vec<u16>),
    Long(Vec<u64>),
}

/// The bytes of a file being assembled, in the case's byte order.
struct Out {
    bytes: Vec<u8>,
    big_endian: bool,
    bigtiff: bool,
}

impl Out {
    fn u16(&mut self, v: u16) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    fn u64(&mut self, v: u64) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    /// A classic offset is 32 bits; a lie that does not fit is cut, as a real file's would be.
    fn offset(&mut self, v: u64) {
        if self.bigtiff {
            self.u64(v);
        } else {
            self.u32(v as u32);
        }
    }
    fn pad_to_word(&mut self) {
        if self.bytes.len() % 2 == 1 {
            self.bytes.push(0);
        }
    }
}

/// The TIFF tile target: see the module docs.
pub fn tiff_tiles(data: &[u8]) {
    let Ok(case) = TiffCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let (file, expect) = build(&case);
    let dir = super::scratch_dir();
    let path = dir.path().join("t.ome.tif");
    fs::write(&path, file).expect("write the file");
    let read = super::read_tiff_file(&path);
    // The read path through the format-neutral facade, as `ome convert` takes it.
    if let Ok(image) = ome_core::Image::open(&path) {
        let _ = image.read(0, &ome_core::Selection::all());
    }
    if let Some(expect) = expect {
        let got = read.unwrap_or_else(|| panic!("a well-formed file does not read: {case:?}"));
        assert!(
            same_pixels(&got, &expect),
            "a well-formed file reads back other pixels: {case:?}"
        );
    }
}

/// Equal pixels, floats compared by their bits (any bytes make a float, NaN included).
fn same_pixels(a: &ome_core::DynArray, b: &ome_core::DynArray) -> bool {
    use ome_core::DynArray;
    match (a, b) {
        (DynArray::F32(x), DynArray::F32(y)) => {
            x.shape() == y.shape() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (DynArray::F64(x), DynArray::F64(y)) => {
            x.shape() == y.shape() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => a == b,
    }
}

/// The bytes of the file, and the first plane it must read back as when no lie or damage
/// makes it ill-formed (lossless codec, no predictor, whole bytes per sample, grey).
fn build(case: &TiffCase) -> (Vec<u8>, Option<ome_core::DynArray>) {
    let w = 1 + u64::from(case.width) % 48;
    let h = 1 + u64::from(case.height) % 48;
    let spp: u64 = if case.rgb { 3 } else { 1 };
    let (bits, format): (u16, u16) = match case.sample {
        Sample::U8 => (8, 1),
        Sample::U16 => (16, 1),
        Sample::I16 => (16, 2),
        Sample::U32 => (32, 1),
        Sample::F32 => (32, 3),
        Sample::F64 => (64, 3),
        Sample::Packed(b) => (1 + u16::from(b) % 31, 1),
    };
    let (seg_w, seg_h, tiled) = match case.layout {
        Layout::Tiles(a, b) => (
            16 * (1 + u64::from(a) % 4),
            16 * (1 + u64::from(b) % 4),
            true,
        ),
        Layout::Strips(r) => (w, 1 + u64::from(r) % h, false),
    };
    let planes_sep = case.rgb && case.planar_separate;
    let samples_in_seg = if planes_sep { 1 } else { spp };
    let across = w.div_ceil(seg_w);
    let down = h.div_ceil(seg_h);
    let segments = across * down * if planes_sep { spp } else { 1 };
    let row_bytes = (seg_w * samples_in_seg * u64::from(bits)).div_ceil(8);
    let seg_bytes = (row_bytes * seg_h) as usize;

    // Pixel bytes of every segment: whole samples of the case's type, native values
    // written in the file's byte order.
    let sample_bytes = usize::from(bits / 8).max(1);
    // Samples the reader returns as they are stored (24-bit samples are packed and widened).
    let whole_samples = matches!(bits, 8 | 16 | 32 | 64);
    let mut raw_segments = Vec::new();
    let mut plane = vec![0u8; (w * h) as usize * sample_bytes];
    for s in 0..segments {
        let mut seg = vec![0u8; seg_bytes];
        for (i, b) in seg.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(7).wrapping_add(case.seed) ^ (s as u8);
        }
        if whole_samples && !case.rgb {
            // Keep what this segment puts in the image (the parts inside w x h), as native
            // samples, to compare with the read.
            let (sx, sy) = (s % across, s / across);
            for y in 0..seg_h {
                for x in 0..seg_w {
                    let (gx, gy) = (sx * seg_w + x, sy * seg_h + y);
                    if gx >= w || gy >= h {
                        continue;
                    }
                    let src = ((y * seg_w + x) as usize) * sample_bytes;
                    let dst = ((gy * w + gx) as usize) * sample_bytes;
                    let mut v = seg[src..src + sample_bytes].to_vec();
                    if case.big_endian {
                        v.reverse();
                    }
                    plane[dst..dst + sample_bytes].copy_from_slice(&v);
                }
            }
        }
        raw_segments.push(seg);
    }
    let (code, encoded): (u16, Vec<Vec<u8>>) = match &case.codec {
        TiffCodec::None => (1, raw_segments),
        TiffCodec::Deflate | TiffCodec::AdobeDeflate => {
            let code = if matches!(case.codec, TiffCodec::Deflate) {
                32946
            } else {
                8
            };
            let enc = raw_segments
                .iter()
                .map(|s| {
                    let mut z =
                        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                    z.write_all(s).expect("deflate into memory");
                    z.finish().expect("deflate into memory")
                })
                .collect();
            (code, enc)
        }
        TiffCodec::Zstd => (
            50000,
            raw_segments
                .iter()
                .map(|s| zstd::bulk::compress(s, 1).expect("zstd into memory"))
                .collect(),
        ),
        TiffCodec::Lzw(b) => (5, vec![b.clone(); segments as usize]),
        TiffCodec::PackBits(b) => (32773, vec![b.clone(); segments as usize]),
        TiffCodec::Jpeg(b) => (7, vec![b.clone(); segments as usize]),
        TiffCodec::Other(c, b) => (*c, vec![b.clone(); segments as usize]),
    };
    let predictor = u16::from(1 + case.predictor % 3);
    let well_formed = case.lies.is_empty()
        && case.damage.is_empty()
        && case.truncate.is_none()
        && matches!(
            case.codec,
            TiffCodec::None | TiffCodec::Deflate | TiffCodec::AdobeDeflate | TiffCodec::Zstd
        )
        && predictor == 1
        && whole_samples
        && !case.rgb
        && !matches!(case.xml, Some(Xml::Sizes { .. }));

    let mut out = Out {
        bytes: Vec::new(),
        big_endian: case.big_endian,
        bigtiff: case.bigtiff,
    };
    out.bytes
        .extend_from_slice(if case.big_endian { b"MM" } else { b"II" });
    if case.bigtiff {
        out.u16(43);
        out.u16(8);
        out.u16(0);
        out.u64(0); // first IFD, patched below
    } else {
        out.u16(42);
        out.u32(0);
    }
    let mut offsets = Vec::new();
    let mut counts = Vec::new();
    for seg in &encoded {
        offsets.push(out.bytes.len() as u64);
        counts.push(seg.len() as u64);
        out.bytes.extend_from_slice(seg);
        out.pad_to_word();
    }

    let mut tags: Vec<(u16, TagValue)> = vec![
        (IMAGE_WIDTH, TagValue::Long(vec![w])),
        (IMAGE_LENGTH, TagValue::Long(vec![h])),
        (BITS_PER_SAMPLE, TagValue::Short(vec![bits; spp as usize])),
        (COMPRESSION, TagValue::Short(vec![code])),
        (
            PHOTOMETRIC,
            TagValue::Short(vec![if case.rgb { 2 } else { 1 }]),
        ),
        (SAMPLES_PER_PIXEL, TagValue::Short(vec![spp as u16])),
        (
            PLANAR_CONFIGURATION,
            TagValue::Short(vec![if planes_sep { 2 } else { 1 }]),
        ),
        (PREDICTOR, TagValue::Short(vec![predictor])),
        (SAMPLE_FORMAT, TagValue::Short(vec![format; spp as usize])),
    ];
    if let Some(xml) = &case.xml {
        tags.push((
            IMAGE_DESCRIPTION,
            TagValue::Ascii(ome_xml(xml, w, h, bits, format)),
        ));
    }
    if tiled {
        tags.push((TILE_WIDTH, TagValue::Long(vec![seg_w])));
        tags.push((TILE_LENGTH, TagValue::Long(vec![seg_h])));
        tags.push((TILE_OFFSETS, TagValue::Long(offsets)));
        tags.push((TILE_BYTE_COUNTS, TagValue::Long(counts)));
    } else {
        tags.push((ROWS_PER_STRIP, TagValue::Long(vec![seg_h])));
        tags.push((STRIP_OFFSETS, TagValue::Long(offsets)));
        tags.push((STRIP_BYTE_COUNTS, TagValue::Long(counts)));
    }
    let mut next_ifd = 0u64;
    for lie in &case.lies {
        apply_lie(&mut tags, lie, tiled, &mut next_ifd);
    }
    tags.sort_by_key(|(t, _)| *t);
    write_ifd(&mut out, &tags, next_ifd);

    for (at, xor) in &case.damage {
        if !out.bytes.is_empty() {
            let i = *at as usize % out.bytes.len();
            out.bytes[i] ^= xor;
        }
    }
    if let Some(at) = case.truncate {
        let keep = at as usize % (out.bytes.len() + 1);
        out.bytes.truncate(keep);
    }
    let expect = well_formed.then(|| plane_array(&plane, h, w, bits, format));
    (out.bytes, expect)
}

fn apply_lie(tags: &mut Vec<(u16, TagValue)>, lie: &Lie, tiled: bool, next_ifd: &mut u64) {
    let set = |tags: &mut Vec<(u16, TagValue)>, tag: u16, v: TagValue| {
        tags.retain(|(t, _)| *t != tag);
        tags.push((tag, v));
    };
    let list = |tags: &mut Vec<(u16, TagValue)>, tag: u16, index: u16, value: u64| {
        if let Some((_, TagValue::Long(v))) = tags.iter_mut().find(|(t, _)| *t == tag)
            && !v.is_empty()
        {
            let n = v.len();
            v[usize::from(index) % n] = value;
        }
    };
    let (offsets, counts) = if tiled {
        (TILE_OFFSETS, TILE_BYTE_COUNTS)
    } else {
        (STRIP_OFFSETS, STRIP_BYTE_COUNTS)
    };
    match lie {
        Lie::Width(v) => set(tags, IMAGE_WIDTH, TagValue::Long(vec![u64::from(*v)])),
        Lie::Height(v) => set(tags, IMAGE_LENGTH, TagValue::Long(vec![u64::from(*v)])),
        Lie::TileWidth(v) => set(tags, TILE_WIDTH, TagValue::Long(vec![u64::from(*v)])),
        Lie::TileLength(v) => set(tags, TILE_LENGTH, TagValue::Long(vec![u64::from(*v)])),
        Lie::RowsPerStrip(v) => set(tags, ROWS_PER_STRIP, TagValue::Long(vec![u64::from(*v)])),
        Lie::BitsPerSample(v) => set(tags, BITS_PER_SAMPLE, TagValue::Short(vec![*v])),
        Lie::SampleFormat(v) => set(tags, SAMPLE_FORMAT, TagValue::Short(vec![*v])),
        Lie::SamplesPerPixel(v) => set(tags, SAMPLES_PER_PIXEL, TagValue::Short(vec![*v])),
        Lie::Offset { index, value } => list(tags, offsets, *index, *value),
        Lie::ByteCount { index, value } => list(tags, counts, *index, *value),
        Lie::SubIfd(v) => set(tags, SUB_IFDS, TagValue::Long(vec![*v])),
        Lie::NextIfd(v) => *next_ifd = *v,
    }
}

/// Writes the value blobs that do not fit in an entry, then the IFD, and points the header
/// at it.
fn write_ifd(out: &mut Out, tags: &[(u16, TagValue)], next_ifd: u64) {
    let inline = if out.bigtiff { 8 } else { 4 };
    // (tag, type, count, payload bytes)
    let mut entries = Vec::new();
    for (tag, value) in tags {
        let mut payload = Out {
            bytes: Vec::new(),
            big_endian: out.big_endian,
            bigtiff: out.bigtiff,
        };
        let (ty, count) = match value {
            TagValue::Ascii(s) => {
                payload.bytes.extend_from_slice(s);
                payload.bytes.push(0);
                (2u16, s.len() as u64 + 1)
            }
            TagValue::Short(v) => {
                v.iter().for_each(|&x| payload.u16(x));
                (3, v.len() as u64)
            }
            TagValue::Long(v) => {
                v.iter().for_each(|&x| payload.offset(x));
                (if out.bigtiff { 16 } else { 4 }, v.len() as u64)
            }
        };
        let bytes = if payload.bytes.len() > inline {
            out.pad_to_word();
            let at = out.bytes.len() as u64;
            out.bytes.extend_from_slice(&payload.bytes);
            let mut ptr = Out {
                bytes: Vec::new(),
                big_endian: out.big_endian,
                bigtiff: out.bigtiff,
            };
            ptr.offset(at);
            ptr.bytes
        } else {
            let mut b = payload.bytes;
            b.resize(inline, 0);
            b
        };
        entries.push((*tag, ty, count, bytes));
    }
    out.pad_to_word();
    let ifd_at = out.bytes.len() as u64;
    if out.bigtiff {
        out.u64(entries.len() as u64);
    } else {
        out.u16(entries.len() as u16);
    }
    for (tag, ty, count, bytes) in entries {
        out.u16(tag);
        out.u16(ty);
        if out.bigtiff {
            out.u64(count);
        } else {
            out.u32(count as u32);
        }
        out.bytes.extend_from_slice(&bytes);
    }
    out.offset(next_ifd);
    let mut header = Out {
        bytes: Vec::new(),
        big_endian: out.big_endian,
        bigtiff: out.bigtiff,
    };
    header.offset(ifd_at);
    let at = if out.bigtiff { 8 } else { 4 };
    out.bytes[at..at + header.bytes.len()].copy_from_slice(&header.bytes);
}

/// An OME-XML document for one grey (or claimed) image.
fn ome_xml(xml: &Xml, w: u64, h: u64, bits: u16, format: u16) -> Vec<u8> {
    let ty = match (format, bits) {
        (1, 8) => "uint8",
        (1, 16) => "uint16",
        (2, 16) => "int16",
        (1, 32) => "uint32",
        (3, 32) => "float",
        (3, 64) => "double",
        _ => "uint16",
    };
    let (z, c, t, tiff_data) = match xml {
        Xml::Matching => (1, 1, 1, r#"<TiffData IFD="0" PlaneCount="1"/>"#.to_string()),
        Xml::Sizes {
            z,
            c,
            t,
            plane_count,
            ifd,
        } => {
            let mut td = String::from("<TiffData");
            if let Some(i) = ifd {
                td.push_str(&format!(r#" IFD="{i}""#));
            }
            if let Some(p) = plane_count {
                td.push_str(&format!(r#" PlaneCount="{p}""#));
            }
            td.push_str("/>");
            (*z, *c, *t, td)
        }
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="{ty}" SizeX="{w}" SizeY="{h}" SizeZ="{z}" SizeC="{c}" SizeT="{t}"><Channel ID="Channel:0:0" SamplesPerPixel="1"/>{tiff_data}</Pixels></Image></OME>"#
    )
    .into_bytes()
}

/// The expected first plane `[1, 1, 1, h, w]` from native-order sample bytes.
fn plane_array(bytes: &[u8], h: u64, w: u64, bits: u16, format: u16) -> ome_core::DynArray {
    use ome_core::DynArray;
    let shape = vec![1, 1, 1, h as usize, w as usize];
    macro_rules! typed {
        ($t:ty, $v:ident) => {{
            let n = std::mem::size_of::<$t>();
            let vals: Vec<$t> = bytes
                .chunks_exact(n)
                .map(|c| <$t>::from_le_bytes(c.try_into().expect("sample width")))
                .collect();
            DynArray::$v(ndarray::ArrayD::from_shape_vec(shape, vals).expect("plane shape"))
        }};
    }
    match (format, bits) {
        (1, 8) => typed!(u8, U8),
        (2, 16) => typed!(i16, I16),
        (1, 32) => typed!(u32, U32),
        (3, 32) => typed!(f32, F32),
        (3, 64) => typed!(f64, F64),
        _ => typed!(u16, U16),
    }
}
