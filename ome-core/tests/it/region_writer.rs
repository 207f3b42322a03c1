//! The region writer: regions from many threads in any order give the same dataset as
//! writing the whole array at once; unaligned regions and missing regions are errors.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use ndarray::{ArrayD, IxDyn, Slice};
use ome_core::pyramid::LevelCount;
use ome_core::{
    DType, DynArray, Element, ErrorKind, Image, ImageMetadata, RegionWriter, Selection,
    WriteOptions, write_ome_zarr,
};

fn image() -> ArrayD<u16> {
    ArrayD::from_shape_fn(IxDyn(&[2, 3, 70, 90]), |ix| {
        ((ix[0] * 7 + ix[1] * 13 + ix[2] * 3 + ix[3] * 5) % 1000) as u16
    })
}

fn options(shards: bool) -> WriteOptions {
    let mut o = WriteOptions::default();
    o.chunks = Some(vec![1, 1, 16, 16]);
    if shards {
        o.shards = Some(vec![1, 3, 32, 32]);
    }
    o.levels = LevelCount::Exactly(3);
    o
}

fn read_all(path: &Path) -> Vec<DynArray> {
    let img = Image::open(path).unwrap();
    (0..img.levels().len())
        .map(|k| img.read(k, &Selection::all()).unwrap())
        .collect()
}

fn regions(shape: &[u64], grid: &[u64]) -> Vec<Vec<u64>> {
    let mut out = vec![vec![]];
    for d in 0..shape.len() {
        let mut next = Vec::new();
        for prefix in &out {
            let mut s = 0;
            while s < shape[d] {
                let mut p = prefix.clone();
                p.push(s);
                next.push(p);
                s += grid[d];
            }
        }
        out = next;
    }
    out
}

fn block(data: &ArrayD<u16>, start: &[u64], grid: &[u64]) -> ArrayD<u16> {
    data.slice_each_axis(|ax| {
        let d = ax.axis.index();
        let lo = start[d] as usize;
        Slice::from(lo..(lo + grid[d] as usize).min(data.shape()[d]))
    })
    .to_owned()
}

#[test]
fn regions_from_threads_in_any_order_equal_a_whole_write() {
    for shards in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let data = image();
        let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
        let whole = dir.path().join("whole.ome.zarr");
        write_ome_zarr(&whole, data.view(), &meta, &options(shards), None).unwrap();

        let target = dir.path().join("regions.ome.zarr");
        let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        let w = RegionWriter::create(&target, &shape, DType::U16, &meta, &options(shards)).unwrap();
        let grid = w.region_grid().to_vec();
        let mut starts = regions(&shape, &grid);
        // A fixed shuffle: reverse, then interleave.
        starts.reverse();
        let (a, b): (Vec<_>, Vec<_>) = starts
            .iter()
            .cloned()
            .enumerate()
            .partition(|(i, _)| i % 2 == 0);
        let order: Vec<Vec<u64>> = b.into_iter().chain(a).map(|(_, s)| s).collect();
        std::thread::scope(|scope| {
            for part in order.chunks(order.len().div_ceil(4)) {
                let data = &data;
                let grid = &grid;
                let target = &target;
                scope.spawn(move || {
                    let w = RegionWriter::open(target).unwrap();
                    for s in part {
                        let blk = u16::into_dyn_array(block(data, s, grid));
                        w.write_region(s, &blk).unwrap();
                    }
                });
            }
        });
        let summary = RegionWriter::open(&target).unwrap().finish().unwrap();
        assert_eq!(summary.level_shapes.len(), 3);
        assert_eq!(read_all(&whole), read_all(&target));
        assert!(!w.staging_dir().exists());
    }
}

#[test]
fn unaligned_regions_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
    let target = dir.path().join("x.ome.zarr");
    let w =
        RegionWriter::create(&target, &[2, 3, 70, 90], DType::U16, &meta, &options(false)).unwrap();
    let blk = u16::into_dyn_array(ArrayD::zeros(IxDyn(&[1, 1, 16, 16])));
    let err = w.write_region(&[0, 0, 8, 0], &blk).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    let short = u16::into_dyn_array(ArrayD::zeros(IxDyn(&[1, 1, 10, 16])));
    assert_eq!(
        w.write_region(&[0, 0, 0, 0], &short).unwrap_err().kind(),
        ErrorKind::Usage
    );
    // The edge chunk may be partial at the array end.
    let edge = u16::into_dyn_array(ArrayD::zeros(IxDyn(&[1, 1, 6, 10])));
    w.write_region(&[0, 0, 64, 80], &edge).unwrap();
    let wrong = u8::into_dyn_array(ArrayD::zeros(IxDyn(&[1, 1, 16, 16])));
    assert_eq!(
        w.write_region(&[0, 0, 0, 0], &wrong).unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn finish_with_a_missing_region_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let meta = ImageMetadata::from_axis_letters("czyx").unwrap();
    let target = dir.path().join("x.ome.zarr");
    let data = image();
    let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
    let w = RegionWriter::create(&target, &shape, DType::U16, &meta, &options(false)).unwrap();
    let grid = w.region_grid().to_vec();
    for s in regions(&shape, &grid).into_iter().skip(1) {
        w.write_region(&s, &u16::into_dyn_array(block(&data, &s, &grid)))
            .unwrap();
    }
    let err = w.finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.message().contains("1 of"), "{}", err.message());
    assert!(!target.exists());
    // The missing region can still be written and finish retried.
    let s = vec![0, 0, 0, 0];
    w.write_region(&s, &u16::into_dyn_array(block(&data, &s, &grid)))
        .unwrap();
    w.finish().unwrap();
    assert!(target.exists());
}
