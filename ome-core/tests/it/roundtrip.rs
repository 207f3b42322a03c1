//! Property round trips: write -> read is the identity on level 0, and every other level
//! equals the downsampling kernel applied to the level above, for every dtype, codec,
//! NGFF version, chunk and shard shape, and shapes that are not multiples of the chunks.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use ndarray::{ArrayD, IxDyn};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{
    ArraySource, Compression, DType, DynArray, Element, Image, ImageMetadata, Selection,
    WriteOptions, with_dtype, write_ome_zarr, write_ome_zarr_from_source,
};
use proptest::prelude::*;

const CODECS: [&str; 7] = [
    "none",
    "zstd:3",
    "gzip:1",
    "blosc-lz4:5:shuffle",
    "blosc-zstd:1:bitshuffle",
    "blosc-zlib:1:noshuffle",
    "blosc-blosclz:5",
];

fn sample<T: Element>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut state = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Values that fit every type (uint8 included) and are not all distinct, so the
        // codecs see some redundancy.
        T::from_f64((state % 200) as f64)
    })
}

#[derive(Debug, Clone)]
struct Case {
    dtype: DType,
    codec: &'static str,
    version: NgffVersion,
    shape: Vec<usize>,
    chunks: Vec<u64>,
    shard_factor: Option<Vec<u64>>,
    method: Downsample,
    from_source: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(DType::ALL.to_vec()),
        prop::sample::select(CODECS.to_vec()),
        any::<bool>(),
        prop::collection::vec(1usize..4, 1..3),
        (9usize..70, 9usize..70),
        (1u64..4, 4u64..33, 4u64..33),
        prop::option::of((1u64..3, 1u64..3)),
        prop::sample::select(vec![
            Downsample::Mean,
            Downsample::Nearest,
            Downsample::Mode,
            Downsample::Gaussian,
        ]),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(dtype, codec, v5, outer, (y, x), (cz, cy, cx), shard, method, from_source, seed)| {
                let mut shape = outer.clone();
                shape.push(y);
                shape.push(x);
                let mut chunks: Vec<u64> = outer.iter().map(|_| 1).collect();
                if let Some(first) = chunks.first_mut() {
                    *first = cz.min(outer[0] as u64);
                }
                chunks.push(cy);
                chunks.push(cx);
                let version = if v5 {
                    NgffVersion::V0_5
                } else {
                    NgffVersion::V0_4
                };
                let shard_factor = if v5 {
                    shard.map(|(a, b)| {
                        let mut f: Vec<u64> = outer.iter().map(|_| 1).collect();
                        f.push(a);
                        f.push(b);
                        f
                    })
                } else {
                    None
                };
                Case {
                    dtype,
                    codec,
                    version,
                    shape,
                    chunks,
                    shard_factor,
                    method,
                    from_source,
                    seed,
                }
            },
        )
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    with_dtype!(case.dtype, T => check_typed::<T>(case))
}

fn check_typed<T: Element>(case: &Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.ome.zarr");
    let data = sample::<T>(&case.shape, case.seed);
    let letters = &"tczyx"[5 - case.shape.len()..];
    let mut meta = ImageMetadata::from_axis_letters(letters).unwrap();
    // Only the last two axes are spatial for the default factors; make the rest channel-like.
    meta.scale = Some((0..case.shape.len()).map(|i| 0.5 + i as f64).collect());
    let mut opts = WriteOptions::default();
    opts.version = case.version;
    opts.compression = case.codec.parse::<Compression>().unwrap();
    opts.chunks = Some(case.chunks.clone());
    opts.shards = case
        .shard_factor
        .as_ref()
        .map(|f| case.chunks.iter().zip(f).map(|(c, f)| c * f).collect());
    opts.levels = LevelCount::MinSize(8);
    opts.downsample = case.method;
    let summary = if case.from_source {
        write_ome_zarr_from_source(&path, &ArraySource::new(data.view()), &meta, &opts, None)
    } else {
        write_ome_zarr(&path, data.view(), &meta, &opts, None)
    }
    .map_err(|e| TestCaseError::fail(format!("write failed: {e}")))?;
    let image = Image::open(&path).map_err(|e| TestCaseError::fail(format!("open failed: {e}")))?;
    prop_assert_eq!(image.levels().len(), summary.level_shapes.len());
    let factors: Vec<usize> = (0..case.shape.len())
        .map(|i| if i + 2 >= case.shape.len() { 2 } else { 1 })
        .collect();
    let mut expected = data.clone();
    for (k, level) in image.levels().iter().enumerate() {
        if k > 0 {
            expected =
                ome_core::pyramid::downsample(expected.view(), &factors, case.method).unwrap();
        }
        let got = image
            .read(k, &Selection::all())
            .map_err(|e| TestCaseError::fail(format!("read level {k}: {e}")))?;
        let got = T::from_dyn_array_owned(got).map_err(|_| TestCaseError::fail("wrong dtype"))?;
        prop_assert_eq!(
            level.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
            expected.shape().to_vec()
        );
        prop_assert!(got == expected, "level {} differs", k);
        prop_assert_eq!(level.dtype, T::DTYPE);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn write_read_round_trip(case in case()) {
        check_case(&case)?;
    }
}

#[test]
fn every_dtype_and_codec_round_trips_in_both_versions() {
    // The exhaustive grid the property test samples from, on one small odd shape.
    for dtype in DType::ALL {
        for codec in CODECS {
            for (version, shards) in [
                (NgffVersion::V0_4, None),
                (NgffVersion::V0_5, None),
                (NgffVersion::V0_5, Some(vec![1, 2, 2])),
            ] {
                let case = Case {
                    dtype,
                    codec,
                    version,
                    shape: vec![2, 37, 45],
                    chunks: vec![1, 16, 16],
                    shard_factor: shards,
                    method: Downsample::Mean,
                    from_source: false,
                    seed: 7,
                };
                check_case(&case).unwrap_or_else(|e| panic!("{dtype} {codec} {version:?}: {e}"));
            }
        }
    }
}

#[test]
fn existing_output_is_refused_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.ome.zarr");
    let data = sample::<u8>(&[20, 20], 1);
    let meta = ImageMetadata::from_axis_letters("yx").unwrap();
    let opts = WriteOptions::default();
    write_ome_zarr(&path, data.view(), &meta, &opts, None).unwrap();
    let err = write_ome_zarr(&path, data.view(), &meta, &opts, None).unwrap_err();
    assert_eq!(err.kind(), ome_core::ErrorKind::Usage);
    assert!(err.to_string().contains("overwrite"), "{err}");
    let mut opts = WriteOptions::default();
    opts.overwrite = true;
    let other = sample::<u8>(&[20, 20], 2);
    write_ome_zarr(&path, other.view(), &meta, &opts, None).unwrap();
    let back = Image::open(&path)
        .unwrap()
        .read(0, &Selection::all())
        .unwrap();
    assert_eq!(back, DynArray::U8(other));
    // No staging directories are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn failed_write_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.ome.zarr");
    let data = sample::<u8>(&[20, 20], 1);
    let meta = ImageMetadata::from_axis_letters("yx").unwrap();
    let mut opts = WriteOptions::default();
    opts.version = NgffVersion::V0_4;
    opts.shards = Some(vec![32, 32]);
    assert!(write_ome_zarr(&path, data.view(), &meta, &opts, None).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Every file under `dir`, by relative path.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The streaming writer (one pass: each level-0 chunk downsampled as it streams through,
/// or levels read back where that does not apply) writes the same bytes as the in-memory
/// writer, file for file, at every level.
#[test]
fn streamed_pyramid_is_the_in_memory_pyramid_file_for_file() {
    struct Layout {
        shape: Vec<usize>,
        chunks: Vec<u64>,
        shards: Option<Vec<u64>>,
        factors: Option<Vec<u64>>,
        level_factors: Option<Vec<Vec<u64>>>,
        version: NgffVersion,
    }
    let v4 = NgffVersion::V0_4;
    let v5 = NgffVersion::V0_5;
    let layouts = [
        // 2-D, odd sides, chunks that are multiples of the factors.
        Layout {
            shape: vec![37, 45],
            chunks: vec![8, 16],
            shards: None,
            factors: None,
            level_factors: None,
            version: v5,
        },
        // 3-D, downsampled in z too: lower levels are carried as partial planes.
        Layout {
            shape: vec![9, 70, 33],
            chunks: vec![2, 16, 8],
            shards: None,
            factors: Some(vec![2, 2, 2]),
            level_factors: None,
            version: v4,
        },
        // 4-D, sharded.
        Layout {
            shape: vec![2, 3, 41, 67],
            chunks: vec![1, 2, 8, 8],
            shards: Some(vec![1, 2, 16, 32]),
            factors: None,
            level_factors: None,
            version: v5,
        },
        // 5-D, a chunk spanning an odd z extent.
        Layout {
            shape: vec![1, 2, 9, 53, 61],
            chunks: vec![1, 1, 9, 16, 32],
            shards: None,
            factors: Some(vec![1, 1, 2, 2, 2]),
            level_factors: None,
            version: v5,
        },
        // Absolute level factors: a level computed from level 0, sides floored.
        Layout {
            shape: vec![3, 50, 71],
            chunks: vec![1, 12, 12],
            shards: None,
            factors: None,
            level_factors: Some(vec![vec![1, 2, 2], vec![1, 4, 4], vec![1, 6, 6]]),
            version: v5,
        },
        // Chunks that split a 2x2 block: levels are read back instead.
        Layout {
            shape: vec![2, 40, 41],
            chunks: vec![1, 9, 7],
            shards: None,
            factors: None,
            level_factors: None,
            version: v5,
        },
    ];
    let dtypes = [DType::U8, DType::U16, DType::I32, DType::F32, DType::F64];
    let methods = [
        Downsample::Mean,
        Downsample::Nearest,
        Downsample::Mode,
        Downsample::Gaussian,
    ];
    let dir = tempfile::tempdir().unwrap();
    for (li, l) in layouts.iter().enumerate() {
        for (di, &dtype) in dtypes.iter().enumerate() {
            // Every method on the first dtype, the mean on the rest.
            let ms: &[Downsample] = if di == 0 { &methods } else { &methods[..1] };
            for &method in ms {
                let mut meta = ImageMetadata::default_for_ndim(l.shape.len()).unwrap();
                meta.scale = Some((0..l.shape.len()).map(|i| 0.5 + i as f64).collect());
                let mut opts = WriteOptions::default();
                opts.version = l.version;
                opts.chunks = Some(l.chunks.clone());
                opts.shards = l.shards.clone();
                opts.factors = l.factors.clone();
                opts.downsample = method;
                opts.compression = "blosc-zstd:1:shuffle".parse::<Compression>().unwrap();
                if let Some(lf) = &l.level_factors {
                    opts.level_factors = Some(lf.clone());
                    opts.levels = LevelCount::Exactly(lf.len() + 1);
                } else {
                    opts.levels = LevelCount::MinSize(4);
                }
                let what = format!("layout {li} {dtype} {method}");
                let mem = dir.path().join(format!("{li}-{dtype}-{method}-mem.zarr"));
                let src = dir.path().join(format!("{li}-{dtype}-{method}-src.zarr"));
                with_dtype!(dtype, T => {
                    let data = sample::<T>(&l.shape, 11 + li as u64);
                    let a = write_ome_zarr(&mem, data.view(), &meta, &opts, None).unwrap();
                    let b = write_ome_zarr_from_source(&src, &ArraySource::new(data.view()), &meta, &opts, None)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(a.level_shapes, b.level_shapes, "{what}");
                    assert!(a.level_shapes.len() >= 3, "{what}: {:?}", a.level_shapes);
                });
                let (ta, tb) = (tree(&mem), tree(&src));
                assert_eq!(
                    ta.keys().collect::<Vec<_>>(),
                    tb.keys().collect::<Vec<_>>(),
                    "{what}"
                );
                for (name, bytes) in &ta {
                    assert!(bytes == &tb[name], "{what}: {name} differs");
                }
                std::fs::remove_dir_all(&mem).unwrap();
                std::fs::remove_dir_all(&src).unwrap();
            }
        }
    }
}
