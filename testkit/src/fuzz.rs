//! The body of every fuzz target. `fuzz/fuzz_targets/NAME.rs` calls `NAME(data)`, and
//! `ome-cli/tests/it/hostile_corpus.rs` replays each saved input of `testdata/fuzz-regressions/`
//! through [`run`], the same function. A body returns normally on any error of the library
//! (bad input is expected) and panics only when an invariant breaks.

use std::fs;
use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use ome_core::metadata::{NgffVersion, OmeAttributes};
use ome_core::ome_xml::{OmeNamespace, XmlLimits, parse, parse_bytes, to_xml};
use ome_core::pyramid::LevelCount;
use ome_core::{
    BloscCompressor, Compression, DynArray, Element, Image, ImageMetadata, Location, Selection,
    Shuffle, WriteOptions,
};
use serde_json::Value;

mod tiff_case;

pub use tiff_case::tiff_tiles;

/// A scratch directory for one execution, in memory (`/dev/shm`) where there is one: the
/// targets go through files, and a disk-backed `/tmp` costs most of an execution.
pub(crate) fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().expect("a temporary directory")
}

/// The body of a target: it takes libFuzzer's bytes.
pub type Body = fn(&[u8]);

/// Every target: its name (as in `fuzz/fuzz_targets/NAME.rs`) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("ome_xml", ome_xml),
    ("ome_xml_roundtrip", ome_xml_roundtrip),
    ("ngff_attributes", ngff_attributes),
    ("plane_map", plane_map),
    ("zarr_chunk", zarr_chunk),
    ("tiff_ifd", tiff_ifd),
    ("chunk_codecs", chunk_codecs),
    ("tiff_tiles", tiff_tiles),
];

/// Runs target `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => {
            body(data);
            true
        }
        None => false,
    }
}

/// OME-XML parsing under the default limits: errors are fine, panics and hangs are not.
pub fn ome_xml(data: &[u8]) {
    let _ = parse_bytes(data, &XmlLimits::default());
}

/// `parse(to_xml(parse(x))) == parse(x)` for every document that parses, except that
/// `to_xml` always writes the 2016-06 namespace (older documents are upgraded), and NaN
/// values compare through their serialisation.
pub fn ome_xml_roundtrip(data: &[u8]) {
    let limits = XmlLimits::default();
    if let Ok(mut first) = parse_bytes(data, &limits) {
        let xml = to_xml(&first);
        first.namespace = OmeNamespace::V2016_06;
        let second = parse(&xml, &limits).expect("written OME-XML parses again");
        // Floats may be NaN (xsd:float allows it, e.g. TimeIncrement), and NaN != NaN:
        // then the second serialisation must equal the first.
        assert!(
            first == second || to_xml(&second) == xml,
            "round trip changed the model:\n{xml}\n{first:?}\n{second:?}"
        );
    }
}

/// NGFF attributes: JSON text → depth check → typed model, and back when it parses; the
/// model written back parses again.
pub fn ngff_attributes(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Documents deeper than the limit are refused by the store before the model sees them.
    if json_depth(&value) > ome_core::Limits::default().max_json_depth {
        return;
    }
    let Value::Object(map) = value else { return };
    let loc = Location::file("zarr.json");
    if let Ok(attrs) = OmeAttributes::from_attributes(&map, &loc) {
        let back = attrs.to_attributes();
        OmeAttributes::from_attributes(&back, &loc)
            .unwrap_or_else(|e| panic!("attributes written by the model do not parse: {e}"));
    }
}

fn json_depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Plane maps from OME-XML (first byte: the IFD count of the file). Whatever the document
/// says, the map holds one entry per plane, and every plane it maps lies inside the IFDs of
/// its file.
pub fn plane_map(data: &[u8]) {
    let Some((&ifds, xml)) = data.split_first() else {
        return;
    };
    let Ok(ome) = parse_bytes(xml, &XmlLimits::default()) else {
        return;
    };
    let ifd_count = u64::from(ifds);
    const MAX_PLANES: u64 = 1 << 16;
    for image in &ome.images {
        let p = &image.pixels;
        let sizes = (p.size_z, p.size_c, p.size_t);
        // Sizes come from the document: the map refuses more planes than its limit before
        // it allocates (the product may overflow 64 bits).
        let map = ome_core::tiff::planes::map_planes(
            p,
            sizes,
            0,
            &|_| Some(0),
            &|_| ifd_count,
            MAX_PLANES,
        );
        let planes = u64::from(sizes.0)
            .checked_mul(u64::from(sizes.1))
            .and_then(|n| n.checked_mul(u64::from(sizes.2)));
        match planes {
            Some(n) if n <= MAX_PLANES => {
                assert_eq!(map.planes.len() as u64, n, "one entry per plane");
            }
            _ => assert!(
                map.planes.is_empty()
                    && map.problems.iter().any(|p| matches!(
                        p,
                        ome_core::tiff::planes::PlaneProblem::TooManyPlanes { .. }
                    )),
                "sizes {sizes:?} past the limit are refused before a plane is mapped"
            ),
        }
        for (i, plane) in map.planes.iter().enumerate() {
            if let Some(r) = plane {
                assert_eq!(r.file, 0, "plane {i}: only file 0 exists");
                assert!(
                    r.ifd < ifd_count,
                    "plane {i} maps to IFD {} of a file with {ifd_count} IFDs",
                    r.ifd
                );
            }
        }
    }
}

const ZARR_CHUNK_CODECS: [&str; 6] = [
    r#"[{"name":"bytes","configuration":{"endian":"little"}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"gzip","configuration":{"level":1}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}]"#,
    r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":1,"shuffle":"shuffle","typesize":2,"blocksize":0}}]"#,
    r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[8,8],"codecs":[{"name":"bytes","configuration":{"endian":"little"}}],"index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],"index_location":"end"}}]"#,
    r#"[{"name":"transpose","configuration":{"order":[1,0]}},{"name":"bytes","configuration":{"endian":"big"}},{"name":"crc32c"}]"#,
];

const ZARR_CHUNK_ROOT: &str = r#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[{"axes":[{"name":"y","type":"space"},{"name":"x","type":"space"}],"datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1.0,1.0]}]}]}]}}}"#;

/// Chunk decoding through the read path: the first byte picks a codec chain of a 16x16
/// uint16 array; the rest is the one chunk file. A read that succeeds has the array's shape.
pub fn zarr_chunk(data: &[u8]) {
    let Some((&pick, chunk)) = data.split_first() else {
        return;
    };
    let codecs = ZARR_CHUNK_CODECS[usize::from(pick) % ZARR_CHUNK_CODECS.len()];
    let array = format!(
        r#"{{"zarr_format":3,"node_type":"array","shape":[16,16],"data_type":"uint16","chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[16,16]}}}},"chunk_key_encoding":{{"name":"default","configuration":{{"separator":"/"}}}},"fill_value":0,"codecs":{codecs}}}"#
    );
    let dir = scratch_dir();
    let root = dir.path().join("f.ome.zarr");
    fs::create_dir_all(root.join("0/c/0")).expect("create the array");
    fs::write(root.join("zarr.json"), ZARR_CHUNK_ROOT).expect("write the group");
    fs::write(root.join("0/zarr.json"), array).expect("write the array");
    fs::write(root.join("0/c/0/0"), chunk).expect("write the chunk");
    let image = Image::open(&root).expect("the fixed metadata opens");
    if let Ok(a) = image.read(0, &Selection::all()) {
        assert_eq!(a.shape(), &[16, 16]);
    }
}

/// Any bytes as a TIFF file: header, IFD chain, SubIFDs, OME-XML in IFD 0, and a read of
/// every series' first plane through the `Image` facade, under the default limits.
pub fn tiff_ifd(data: &[u8]) {
    let dir = scratch_dir();
    let path = dir.path().join("f.ome.tif");
    fs::write(&path, data).expect("write the file");
    read_tiff_file(&path);
}

/// Opens a TIFF and reads what it declares (bounded by the default limits); any error is
/// fine. Returns the first series' level 0 when it reads.
fn read_tiff_file(path: &Path) -> Option<DynArray> {
    let tiff = ome_core::tiff::OmeTiff::open(path).ok()?;
    let mut first = None;
    for (i, series) in tiff.series().iter().enumerate() {
        let Some(shape) = series.level_shapes.first() else {
            continue;
        };
        // A one-pixel read at the origin exercises tile lookup and decoding.
        let _ = tiff.read_region(i, 0, &[0; 5], &[1; 5]);
        let plane = [1, 1, 1, shape[3], shape[4]];
        if let Ok(a) = tiff.read_region(i, 0, &[0; 5], &plane) {
            let want: Vec<usize> = plane.iter().map(|&d| d as usize).collect();
            assert_eq!(a.shape(), &want[..], "a read has the shape asked for");
            if i == 0 {
                first = Some(a);
            }
        }
    }
    first
}

// ---------------------------------------------------------------- chunk_codecs

/// A structure-aware chunk case: a small image written by our own writer with one codec
/// chain (blosc, zstd, gzip, raw; sharded or not; Zarr v2 or v3), whose chunk and shard
/// files are then damaged where their structure lives (blosc header fields, shard index
/// entries with a recomputed checksum, truncation, flipped bytes).
#[derive(Arbitrary, Debug)]
pub struct ChunkCase {
    dtype: SmallDtype,
    height: u8,
    width: u8,
    chunk: (u8, u8),
    shard: Option<(u8, u8)>,
    v2: bool,
    codec: Codec,
    seed: u8,
    mutations: Vec<Mutation>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum SmallDtype {
    U8,
    U16,
    I32,
    F32,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Codec {
    Raw,
    Gzip(u8),
    Zstd(u8),
    Blosc { cname: u8, clevel: u8, shuffle: u8 },
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    /// XOR one byte.
    Flip { file: u8, at: u32, xor: u8 },
    /// Cut the file.
    Truncate { file: u8, at: u32 },
    /// Add bytes at the end.
    Append { file: u8, bytes: Vec<u8> },
    /// Replace the whole file.
    Replace { file: u8, bytes: Vec<u8> },
    /// Overwrite a 32-bit field of the blosc header of a chunk (or of inner chunk `inner`
    /// of a shard): 0 flags/typesize, 1 nbytes, 2 blocksize, 3 cbytes.
    BloscField {
        file: u8,
        inner: u16,
        field: u8,
        value: u32,
    },
    /// Overwrite entry `entry` of a shard index, then recompute the index checksum so the
    /// reader has to look at the entry itself.
    ShardEntry {
        file: u8,
        entry: u16,
        offset: u64,
        nbytes: u64,
    },
}

/// The chunk-decode target: see [`ChunkCase`].
pub fn chunk_codecs(data: &[u8]) {
    let Ok(case) = ChunkCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    match case.dtype {
        SmallDtype::U8 => chunk_case::<u8>(&case, |v| v),
        SmallDtype::U16 => chunk_case::<u16>(&case, |v| u16::from(v) * 257),
        SmallDtype::I32 => chunk_case::<i32>(&case, |v| i32::from(v) - 100),
        SmallDtype::F32 => chunk_case::<f32>(&case, |v| f32::from(v) * 0.5),
    }
}

fn clamp(v: u8, max: u64) -> u64 {
    1 + u64::from(v) % max
}

fn chunk_case<T: Element>(case: &ChunkCase, value: fn(u8) -> T) {
    let (h, w) = (clamp(case.height, 40), clamp(case.width, 40));
    let chunks = vec![clamp(case.chunk.0, h), clamp(case.chunk.1, w)];
    let n = (h * w) as usize;
    // Runs of equal values and a ramp: compressible, and every pixel known.
    let pixels: Vec<T> = (0..n)
        .map(|i| value(((i / 7) as u8).wrapping_mul(31).wrapping_add(case.seed)))
        .collect();
    let data = ndarray::ArrayD::from_shape_vec(vec![h as usize, w as usize], pixels)
        .expect("the shape holds the pixels");
    let meta = ImageMetadata::from_axis_letters("yx").expect("yx axes");
    let mut options = WriteOptions::default();
    options.levels = LevelCount::Exactly(1);
    options.jobs = Some(1);
    options.version = if case.v2 {
        NgffVersion::V0_4
    } else {
        NgffVersion::V0_5
    };
    if !case.v2
        && let Some((a, b)) = case.shard
    {
        options.shards = Some(vec![
            chunks[0] * clamp(a, 3).min(h.div_ceil(chunks[0])),
            chunks[1] * clamp(b, 3).min(w.div_ceil(chunks[1])),
        ]);
    }
    options.chunks = Some(chunks.clone());
    options.compression = match case.codec {
        Codec::Raw => Compression::None,
        Codec::Gzip(l) => Compression::Gzip {
            level: u32::from(l % 10),
        },
        Codec::Zstd(l) => Compression::Zstd {
            level: 1 + i32::from(l % 5),
        },
        Codec::Blosc {
            cname,
            clevel,
            shuffle,
        } => Compression::Blosc {
            cname: [
                BloscCompressor::BloscLz,
                BloscCompressor::Lz4,
                BloscCompressor::Lz4Hc,
                BloscCompressor::Zlib,
                BloscCompressor::Zstd,
            ][usize::from(cname % 5)],
            clevel: clevel % 10,
            shuffle: [Shuffle::None, Shuffle::Byte, Shuffle::Bit][usize::from(shuffle % 3)],
        },
    };
    let dir = scratch_dir();
    let root = dir.path().join("c.ome.zarr");
    ome_core::write_ome_zarr(&root, data.view(), &meta, &options, None)
        .unwrap_or_else(|e| panic!("our writer refused a valid image ({options:?}): {e}"));

    let mut files = chunk_files(&root.join("0"));
    files.sort();
    let inner_per_shard = options
        .shards
        .as_ref()
        .map(|s| (s[0] / chunks[0]) as usize * (s[1] / chunks[1]) as usize);
    for m in &case.mutations {
        if files.is_empty() {
            break;
        }
        mutate(&files, m, inner_per_shard);
    }

    let image = Image::open(&root).expect("metadata the writer wrote opens");
    let read = image.read(0, &Selection::all());
    if case.mutations.is_empty() {
        let back = read.unwrap_or_else(|e| panic!("our own undamaged chunks do not read: {e}"));
        assert!(
            back == T::into_dyn_array(data),
            "undamaged chunks read back different pixels ({options:?})"
        );
    } else if let Ok(a) = read {
        assert_eq!(a.shape(), &[h as usize, w as usize]);
    }
}

/// The chunk (or shard) files of the array at `dir`.
fn chunk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                stack.push(p);
            } else if ![".zarray", ".zattrs", "zarr.json"]
                .iter()
                .any(|m| name == *m)
            {
                out.push(p);
            }
        }
    }
    out
}

/// Where inner chunk `k` of a shard starts (index at the end: `n` entries of two u64 and a
/// crc32c), or `None` when the index is not readable.
fn shard_entry_offset(bytes: &[u8], n: usize, k: usize) -> Option<usize> {
    let index_len = n * 16 + 4;
    let start = bytes.len().checked_sub(index_len)?;
    let e = start + (k % n) * 16;
    let off = u64::from_le_bytes(bytes.get(e..e + 8)?.try_into().ok()?);
    usize::try_from(off).ok()
}

fn mutate(files: &[std::path::PathBuf], m: &Mutation, inner_per_shard: Option<usize>) {
    let pick = |f: u8| &files[usize::from(f) % files.len()];
    let edit = |f: u8, change: &dyn Fn(&mut Vec<u8>)| {
        let path = pick(f);
        let mut bytes = fs::read(path).expect("read a chunk file");
        change(&mut bytes);
        fs::write(path, bytes).expect("write a chunk file");
    };
    match m {
        Mutation::Flip { file, at, xor } => edit(*file, &|b| {
            if !b.is_empty() {
                let i = *at as usize % b.len();
                b[i] ^= xor;
            }
        }),
        Mutation::Truncate { file, at } => edit(*file, &|b| {
            let keep = *at as usize % (b.len() + 1);
            b.truncate(keep);
        }),
        Mutation::Append { file, bytes } => edit(*file, &|b| b.extend_from_slice(bytes)),
        Mutation::Replace { file, bytes } => edit(*file, &|b| b.clone_from(bytes)),
        Mutation::BloscField {
            file,
            inner,
            field,
            value,
        } => edit(*file, &|b| {
            let base = match inner_per_shard {
                Some(n) => match shard_entry_offset(b, n, usize::from(*inner)) {
                    Some(o) => o,
                    None => return,
                },
                None => 0,
            };
            // Blosc header: version, versionlz, flags, typesize, nbytes, blocksize, cbytes.
            let Some(at) = base.checked_add([2, 4, 8, 12][usize::from(field % 4)]) else {
                return;
            };
            if let Some(slot) = at.checked_add(4).and_then(|end| b.get_mut(at..end)) {
                slot.copy_from_slice(&value.to_le_bytes());
            }
        }),
        Mutation::ShardEntry {
            file,
            entry,
            offset,
            nbytes,
        } => edit(*file, &|b| {
            let Some(n) = inner_per_shard else { return };
            let index_len = n * 16 + 4;
            let Some(start) = b.len().checked_sub(index_len) else {
                return;
            };
            let e = start + (usize::from(*entry) % n) * 16;
            b[e..e + 8].copy_from_slice(&offset.to_le_bytes());
            b[e + 8..e + 16].copy_from_slice(&nbytes.to_le_bytes());
            let crc = crc32c::crc32c(&b[start..start + n * 16]);
            let end = b.len();
            b[end - 4..].copy_from_slice(&crc.to_le_bytes());
        }),
    }
}
