//! The gaussian kernel: a separable blur sampled at block centres.
//!
//! Each axis with factor `f > 1` is reduced in turn, in axis order, by a 1-d filter that
//! blurs with sigma `2 f / 6` (scikit-image `pyramid_reduce`: `sigma = 2 * downscale / 6`)
//! truncated at `ceil(4 sigma)` and samples the result at the block centre. Blur and
//! sampling are fused into one tap list per output index, so only the samples that are
//! kept are computed. Work is in `f64`, in C order.
//!
//! Region processing is bit-identical to whole-image processing because every output value
//! is the same sequence of `f64` operations on the same pixels: taps are listed in the same
//! order, mirrored indices resolve to the same pixels when the halo covers the kernel
//! radius (or the data ends at the image border), and the axes are reduced in the same
//! order with halo rows of later axes computed like any other row.

use ndarray::{ArrayView, ArrayViewMut, IxDyn, Slice, Zip};
use rayon::prelude::*;

use super::downsample::{Geometry, c_strides};
use crate::{Element, Error, Result};

/// Output elements one parallel task computes.
const TASK_OUTPUT_ELEMENTS: usize = 1 << 12;

/// Sigma of the blur for factor `f`: `2 f / 6`, scikit-image's choice for anti-aliasing.
#[allow(clippy::cast_precision_loss)]
fn sigma(f: usize) -> f64 {
    2.0 * f as f64 / 6.0
}

/// The kernel radius for factor `f`: `ceil(4 sigma)`, 0 when the axis is not reduced.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(super) fn radius(f: usize) -> usize {
    if f <= 1 {
        0
    } else {
        (4.0 * sigma(f)).ceil() as usize
    }
}

/// Normalised gaussian weights for offsets `-r..=r`.
#[allow(clippy::cast_precision_loss)]
fn weights(f: usize) -> Vec<f64> {
    let (s, r) = (sigma(f), radius(f));
    let raw: Vec<f64> = (0..=2 * r)
        .map(|k| {
            let x = k as f64 - r as f64;
            (-x * x / (2.0 * s * s)).exp()
        })
        .collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|w| w / total).collect()
}

/// Index of position `i` in an axis of length `n` mirrored at both ends with the edge
/// pixel repeated (scipy `reflect`, `d c b a | a b c d | d c b a`), for any distance.
#[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
fn reflect(i: isize, n: usize) -> usize {
    let period = 2 * n as isize;
    let m = i.rem_euclid(period);
    if m < n as isize {
        m as usize
    } else {
        (period - 1 - m) as usize
    }
}

/// For one axis: the taps `(input index, weight)` of each output index, flattened, and
/// where each output index's taps start.
struct Taps {
    start: Vec<usize>,
    index: Vec<usize>,
    weight: Vec<f64>,
}

/// The taps of an axis with `len` samples (halos included), a core of `core` samples
/// starting at `halo`, factor `f` and `out_n` outputs.
#[allow(clippy::cast_possible_wrap)]
fn taps(len: usize, halo: usize, core: usize, f: usize, out_n: usize) -> Taps {
    let w = weights(f);
    let r = radius(f) as isize;
    // Sampling halfway between two pixels is the mean of the blur at both; its taps are
    // the kernel and the kernel shifted by one, averaged (offsets -r..=r+1).
    let half: Vec<f64> = (0..w.len() + 1)
        .map(|k| {
            let a = w.get(k).copied().unwrap_or(0.0);
            let b = if k > 0 { w[k - 1] } else { 0.0 };
            0.5 * (a + b)
        })
        .collect();
    let mut t = Taps {
        start: Vec::with_capacity(out_n + 1),
        index: Vec::new(),
        weight: Vec::new(),
    };
    for i in 0..out_n {
        t.start.push(t.index.len());
        // Centre of the pixels the block has (a partial last block is centred on what it
        // has, like the mean), doubled to stay integral.
        let (lo, hi) = (halo + f * i, halo + (f * i + f).min(core));
        let twice_centre = lo + hi - 1;
        let base = (twice_centre / 2) as isize;
        let kernel = if twice_centre % 2 == 0 { &w } else { &half };
        for (k, &weight) in kernel.iter().enumerate() {
            t.index.push(reflect(base - r + k as isize, len));
            t.weight.push(weight);
        }
    }
    t.start.push(t.index.len());
    t
}

pub(super) fn run<T: Element>(input: &[T], out: &mut [T], g: &Geometry) -> Result<()> {
    let full = ArrayView::from_shape(IxDyn(&g.full_shape), input)
        .map_err(|e| Error::usage(format!("expected an input matching its shape: {e}")))?;
    // Axes that are not reduced need no context: crop them to the core first.
    let cropped = full.slice_each_axis(|ax| {
        let a = ax.axis.index();
        if g.factors[a] > 1 {
            Slice::from(..)
        } else {
            Slice::from(g.halo_before[a]..g.halo_before[a] + g.core_shape[a])
        }
    });
    let mut shape = cropped.shape().to_vec();
    let mut current = vec![0.0; cropped.len()];
    let mut current_view = ArrayViewMut::from_shape(IxDyn(&shape), &mut current)
        .map_err(|e| Error::usage(format!("expected a consistent cropped shape: {e}")))?;
    Zip::from(&mut current_view)
        .and(&cropped)
        .par_for_each(|o, v| *o = v.to_f64());
    for axis in 0..shape.len() {
        let f = g.factors[axis];
        if f <= 1 {
            continue;
        }
        let t = taps(
            shape[axis],
            g.halo_before[axis],
            g.core_shape[axis],
            f,
            g.out_shape[axis],
        );
        let (n, out_n) = (shape[axis], g.out_shape[axis]);
        // View the array as (pre, n, post): an output row (p, i) is a weighted sum of
        // contiguous input rows (p, tap) of length `post`.
        let post = c_strides(&shape)[axis];
        let pre: usize = shape[..axis].iter().product();
        let mut next = vec![0.0; pre * out_n * post];
        let rows_per_task = (TASK_OUTPUT_ELEMENTS / post.max(1)).max(1);
        next.par_chunks_mut(post * rows_per_task)
            .enumerate()
            .for_each(|(chunk_index, chunk)| {
                for (k, out_row) in chunk.chunks_exact_mut(post).enumerate() {
                    let q = chunk_index * rows_per_task + k;
                    let (p, i) = (q / out_n, q % out_n);
                    if post == 1 {
                        // The last axis: a dot product, the same operations as the row loop.
                        let row = &current[p * n..(p + 1) * n];
                        out_row[0] = (t.start[i]..t.start[i + 1])
                            .fold(-0.0, |acc, tap| acc + t.weight[tap] * row[t.index[tap]]);
                        continue;
                    }
                    // -0.0 is the identity of addition, so the first tap is added exactly.
                    out_row.fill(-0.0);
                    for tap in t.start[i]..t.start[i + 1] {
                        let src = (p * n + t.index[tap]) * post;
                        let weight = t.weight[tap];
                        for (o, &x) in out_row.iter_mut().zip(&current[src..src + post]) {
                            *o += weight * x;
                        }
                    }
                }
            });
        current = next;
        shape[axis] = out_n;
    }
    out.par_iter_mut()
        .zip(current.par_iter())
        .for_each(|(o, &v)| *o = T::from_f64(v));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn radius_and_weights() {
        assert_eq!(radius(1), 0);
        assert_eq!(radius(2), 3);
        assert_eq!(radius(3), 4);
        assert_eq!(radius(4), 6);
        let w = weights(2);
        assert_eq!(w.len(), 7);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w[3] > w[2] && (w[2] - w[4]).abs() < 1e-15);
    }

    #[test]
    fn reflect_repeats_the_edge() {
        let got: Vec<usize> = (-5..9).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, [3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0]);
        assert!((-7..7).all(|i| reflect(i, 1) == 0));
    }

    #[test]
    fn half_kernel_sums_to_one() {
        let t = taps(10, 0, 10, 2, 5);
        for i in 0..5 {
            let s: f64 = t.weight[t.start[i]..t.start[i + 1]].iter().sum();
            assert!((s - 1.0).abs() < 1e-12);
            assert_eq!(t.start[i + 1] - t.start[i], 8);
        }
    }
}
