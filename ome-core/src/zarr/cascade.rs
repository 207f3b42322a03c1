//! The one-pass pyramid of an image streamed from a region source.
//!
//! Each level-0 storage chunk (shard, when sharded) is read once, encoded, and downsampled
//! straight away into the levels computed from it. A lower level is carried in partial
//! storage chunks: each piece that arrives is copied into its chunk, and the task that
//! completes a chunk encodes it and downsamples it in turn into the levels below. Level-0
//! chunks are taken in C order over the grid, a few at a time (one per worker), so the
//! partial chunks alive at any time are those of the current row (or plane) of chunks of
//! each level: memory is bounded by the chunk shapes and the extent of the last axes, not
//! by the image size, and no level is read back and decoded, which is the work the
//! in-memory writer does.
//!
//! The result is the one of the in-memory writer, value for value: a block kernel (mean,
//! nearest, mode) gives the same output for a region whose start is a multiple of the
//! factors as for the whole image ([`crate::pyramid::downsample_region`]). That holds when
//! every storage chunk of a source level is a multiple of the factors on each axis (or
//! spans the axis). Otherwise, and for the gaussian kernel, which needs a halo from the
//! neighbouring chunks, [`Cascade::new`] declines and the writer reads levels back.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use rayon::iter::{ParallelBridge, ParallelIterator};

use super::write::{ChannelRange, LevelSink, Producer, check_block, grid_indices};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::options::Progress;
use crate::pyramid::{self, Downsample};

/// Per level: the levels computed from it, with their per-axis factors.
type Children = Vec<Vec<(usize, Vec<usize>)>>;

/// The levels of one pyramid and how each is computed from another.
pub(super) struct Cascade<'s, 'a> {
    sinks: &'s [LevelSink<'a>],
    children: Children,
    method: Downsample,
}

/// A storage chunk of a lower level being filled.
struct Partial<T> {
    data: ArrayD<T>,
    filled: u64,
}

/// Partial chunks of one level, by chunk index.
type Pending<T> = Mutex<HashMap<Vec<u64>, Partial<T>>>;

/// A completed storage chunk: level, chunk index, start, data.
type Completed<T> = (usize, Vec<u64>, Vec<u64>, ArrayD<T>);

/// Per level, the levels computed from it and their factors, when every level can be
/// computed chunk by chunk from its source level's storage chunks (`chunks`, on levels of
/// `shapes`) with the whole-image result; `None` otherwise.
fn one_pass_children(
    steps: &[(usize, Vec<u64>)],
    chunks: &[&[u64]],
    shapes: &[&[u64]],
    method: Downsample,
) -> Option<Children> {
    let levels = shapes.len();
    if steps.len() + 1 != levels || chunks.len() != levels {
        return None;
    }
    let mut children = vec![Vec::new(); levels];
    for (i, (source, step)) in steps.iter().enumerate() {
        let k = i + 1;
        if *source >= k {
            return None;
        }
        let (chunk, shape) = (chunks[*source], shapes[*source]);
        let n = shape.len();
        if step.len() != n || chunk.len() != n || shapes[k].len() != n {
            return None;
        }
        let factors: Vec<usize> = step
            .iter()
            .map(|&f| usize::try_from(f).ok().filter(|&f| f > 0))
            .collect::<Option<_>>()?;
        if pyramid::required_halo(method, &factors)
            .iter()
            .any(|&h| h > 0)
        {
            return None;
        }
        if !(0..n).all(|d| chunk[d] % step[d] == 0 || chunk[d] >= shape[d]) {
            return None;
        }
        children[*source].push((k, factors));
    }
    Some(children)
}

impl<'s, 'a> Cascade<'s, 'a> {
    /// The cascade of a pyramid whose level `k` (from 1) is computed from level
    /// `steps[k - 1].0` by the factors `steps[k - 1].1`; `None` when some level cannot be
    /// computed chunk by chunk with a result equal to the whole-image one (see the module
    /// documentation).
    pub(super) fn new(
        sinks: &'s [LevelSink<'a>],
        steps: &[(usize, Vec<u64>)],
        method: Downsample,
    ) -> Option<Self> {
        let chunks: Vec<&[u64]> = sinks.iter().map(|s| s.storage_chunk.as_slice()).collect();
        let shapes: Vec<&[u64]> = sinks.iter().map(|s| s.level_shape).collect();
        let children = one_pass_children(steps, &chunks, &shapes, method)?;
        Some(Cascade {
            sinks,
            children,
            method,
        })
    }

    /// Writes every level: level-0 chunks from `produce` (their values folded into
    /// `range`), every other level from them.
    ///
    /// # Errors
    /// The errors of the source, the codecs and the store.
    pub(super) fn run<T: Element>(
        &self,
        produce: &Producer<'_, T>,
        range: &ChannelRange,
        progress: &dyn Progress,
    ) -> Result<()> {
        let pending: Vec<Pending<T>> = self
            .sinks
            .iter()
            .map(|_| Mutex::new(HashMap::new()))
            .collect();
        let root = &self.sinks[0];
        // zarrs arrays are not `Send + Sync` on wasm32 (`crate::single_thread`).
        let this = crate::single_thread::OneThread::new(self);
        // `par_bridge` hands the indices out in order to whichever worker is free, so the
        // chunks in flight are neighbours and the partial chunks few.
        grid_indices(root.level_shape, &root.storage_chunk)
            .into_iter()
            .par_bridge()
            .try_for_each(|idx| {
                let this = *this.get();
                let root = &this.sinks[0];
                let (start, shape) = root.region(&idx);
                let block = produce(&start, &shape)?;
                check_block(&block, &shape, &root.location)?;
                range.update(&start, &block.view());
                this.complete(0, &idx, &start, block, &pending, progress)
            })?;
        for (k, p) in pending.iter().enumerate() {
            let left = p.lock().unwrap_or_else(PoisonError::into_inner).len();
            if left > 0 {
                return Err(Error::format(
                    self.sinks[k].location.clone(),
                    format!(
                        "expected every chunk of the level to be complete, found {left} partial"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Stores the complete chunk `idx` of `level` and feeds it to the levels computed from
    /// it; stores (recursively) every chunk of theirs that this completes.
    fn complete<T: Element>(
        &self,
        level: usize,
        idx: &[u64],
        start: &[u64],
        block: ArrayD<T>,
        pending: &[Pending<T>],
        progress: &dyn Progress,
    ) -> Result<()> {
        let mut done = Vec::new();
        for (k, factors) in &self.children[level] {
            let piece = pyramid::downsample(block.view(), factors, self.method)?;
            let piece_start: Vec<u64> = start
                .iter()
                .zip(factors)
                .map(|(&s, &f)| s / f as u64)
                .collect();
            self.deposit(*k, &piece_start, piece.view(), &pending[*k], &mut done)?;
        }
        self.sinks[level].store(idx, &block, progress)?;
        drop(block);
        for (k, idx, start, data) in done {
            self.complete(k, &idx, &start, data, pending, progress)?;
        }
        Ok(())
    }

    /// Copies `piece` (a region of level `k` at `piece_start`, possibly past the level's
    /// end when its sides are floored) into the partial chunks it overlaps; the chunks it
    /// completes go to `done`.
    fn deposit<T: Element>(
        &self,
        k: usize,
        piece_start: &[u64],
        piece: ArrayViewD<'_, T>,
        pending: &Pending<T>,
        done: &mut Vec<Completed<T>>,
    ) -> Result<()> {
        let sink = &self.sinks[k];
        let n = piece_start.len();
        let chunk = &sink.storage_chunk;
        let end: Vec<u64> = (0..n)
            .map(|d| (piece_start[d] + piece.shape()[d] as u64).min(sink.level_shape[d]))
            .collect();
        if (0..n).any(|d| piece_start[d] >= end[d]) {
            return Ok(());
        }
        let first: Vec<u64> = (0..n).map(|d| piece_start[d] / chunk[d]).collect();
        let last: Vec<u64> = (0..n).map(|d| (end[d] - 1) / chunk[d]).collect();
        let mut idx = first.clone();
        loop {
            let (c_start, c_shape) = sink.region(&idx);
            let lo: Vec<u64> = (0..n).map(|d| piece_start[d].max(c_start[d])).collect();
            let hi: Vec<u64> = (0..n)
                .map(|d| end[d].min(c_start[d] + c_shape[d]))
                .collect();
            let src = piece.slice_each_axis(|ax| {
                let d = ax.axis.index();
                Slice::from((lo[d] - piece_start[d]) as usize..(hi[d] - piece_start[d]) as usize)
            });
            let total: u64 = c_shape.iter().product();
            let mut map = pending.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = map.entry(idx.clone()).or_insert_with(|| {
                let dims: Vec<usize> = c_shape.iter().map(|&c| c as usize).collect();
                Partial {
                    data: ArrayD::default(IxDyn(&dims)),
                    filled: 0,
                }
            });
            entry
                .data
                .slice_each_axis_mut(|ax| {
                    let d = ax.axis.index();
                    Slice::from((lo[d] - c_start[d]) as usize..(hi[d] - c_start[d]) as usize)
                })
                .assign(&src);
            entry.filled += src.len() as u64;
            if entry.filled > total {
                return Err(Error::format(
                    sink.location.clone(),
                    format!("expected {total} values for chunk {idx:?}, found more"),
                ));
            }
            if entry.filled == total
                && let Some(p) = map.remove(&idx)
            {
                done.push((k, idx.clone(), c_start, p.data));
            }
            drop(map);
            // Next chunk index in C order within [first, last].
            let mut d = n;
            loop {
                if d == 0 {
                    return Ok(());
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] <= last[d] {
                    break;
                }
                idx[d] = first[d];
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_needs_block_kernels_and_chunks_that_are_multiples_of_the_factors() {
        let shapes: [&[u64]; 3] = [&[3, 100, 90], &[3, 50, 45], &[3, 25, 23]];
        let steps = vec![(0, vec![1, 2, 2]), (1, vec![1, 2, 2])];
        let even: [&[u64]; 3] = [&[1, 32, 32], &[1, 32, 32], &[1, 25, 23]];
        let c = one_pass_children(&steps, &even, &shapes, Downsample::Mean).unwrap();
        assert_eq!(c[0], vec![(1, vec![1, 2, 2])]);
        assert_eq!(c[1], vec![(2, vec![1, 2, 2])]);
        assert!(c[2].is_empty());
        for m in [Downsample::Nearest, Downsample::Mode] {
            assert!(one_pass_children(&steps, &even, &shapes, m).is_some());
        }
        // The gaussian kernel needs a halo from the neighbouring chunks.
        assert!(one_pass_children(&steps, &even, &shapes, Downsample::Gaussian).is_none());
        // An odd chunk splits a 2x2 block between two chunks...
        let odd: [&[u64]; 3] = [&[1, 33, 32], &[1, 33, 32], &[1, 25, 23]];
        assert!(one_pass_children(&steps, &odd, &shapes, Downsample::Mean).is_none());
        // ...unless it spans the axis: then the block is in one chunk.
        let whole: [&[u64]; 3] = [&[1, 100, 90], &[1, 50, 45], &[1, 25, 23]];
        assert!(one_pass_children(&steps, &whole, &shapes, Downsample::Mean).is_some());
        // Levels computed from level 0 (absolute factors) are children of level 0.
        let abs = vec![(0, vec![1, 2, 2]), (0, vec![1, 4, 4])];
        let c = one_pass_children(&abs, &even, &shapes, Downsample::Mean).unwrap();
        assert_eq!(c[0].len(), 2);
        // A step from a level that is not above it is refused, not looped over.
        let bad = vec![(0, vec![1, 2, 2]), (2, vec![1, 2, 2])];
        assert!(one_pass_children(&bad, &even, &shapes, Downsample::Mean).is_none());
    }
}
