//! Downsampling kernels: one level of a pyramid from the previous one.
//!
//! All public functions funnel into one geometry ([`Geometry`]: the input with optional
//! halos, the core that is downsampled, the factors) and one monomorphised kernel per
//! element type. Mean, nearest and mode work row by row on a C-contiguous input: an output
//! row is computed from the input rows of its block, addressed as offsets into one slice,
//! so the common "2 × 2 in the last two axes" case reads two contiguous rows and writes
//! one. The gaussian lives in `gaussian.rs`.

use std::any::Any;
use std::cmp::Ordering;
use std::ops::Add;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use rayon::prelude::*;

use super::Downsample;
use super::gaussian;
use crate::{Element, Error, Location, Result};

/// Input elements one parallel task should read: large enough that rayon's per-task cost
/// vanishes, small enough that two cores share the work of a single 2048² plane.
const TASK_INPUT_ELEMENTS: usize = 1 << 16;

/// The largest block (product of the factors, clipped to the image) mean and mode accept:
/// the exact integer accumulators (`u64` for 32-bit values) cannot overflow below it.
const MAX_BLOCK_ELEMENTS: usize = 1 << 31;

/// The shapes of one downsampling call. All vectors have the rank of the input.
#[derive(Debug)]
pub(super) struct Geometry {
    /// Shape of the input slice, halos included (C order).
    pub(super) full_shape: Vec<usize>,
    /// Halo before the core on each axis.
    pub(super) halo_before: Vec<usize>,
    /// Shape of the part that is downsampled.
    pub(super) core_shape: Vec<usize>,
    /// Downsampling factor per axis (at least 1).
    pub(super) factors: Vec<usize>,
    /// `ceil(core / factor)` per axis.
    pub(super) out_shape: Vec<usize>,
    /// The method.
    pub(super) method: Downsample,
}

/// Downsamples `input` by `factors` with `method` into a new array of shape
/// `ceil(input.shape / factors)`.
///
/// Blocks of `factors` pixels become one pixel; blocks cut by the end of an axis use only
/// the pixels present. Per method:
///
/// * [`Downsample::Mean`]: correctly rounded. Integers are summed exactly in a wider
///   integer (`u64`/`i64` for types up to 32 bits, `u128`/`i128` for 64-bit types) and the
///   quotient is rounded half away from zero (the mean of `[1, 2]` is 2, of `[-1, -2]` is
///   -2), so even `u64` loses nothing to `f64`. Floats are summed in `f64`.
/// * [`Downsample::Nearest`]: the element at `min(f * i + f / 2, n - 1)` on each axis; for
///   `f = 2` that is `2 i + 1`, what ome-zarr-py writes (`s1 = s0[..., 1::2, 1::2]`).
/// * [`Downsample::Mode`]: the most frequent value, ties to the smallest; floats compare by
///   IEEE total order, so `-0.0` and `0.0` (and NaN payloads) are distinct values.
/// * [`Downsample::Gaussian`]: see [`required_halo`] for the kernel; the blurred image is
///   sampled at the centre of each block (for even `f`, the mean of the two middle blurred
///   samples, i.e. linear interpolation at the centre as scikit-image's `pyramid_reduce`);
///   the image is mirrored at its border (scipy's `reflect`: `d c b a | a b c d`), and
///   integer results are rounded half away from zero and saturated.
///
/// Runs in parallel on the global rayon pool.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when `factors` does not have one entry per axis, a
/// factor is 0, or a mean or mode block would exceed 2^31 elements.
pub fn downsample<T: Element>(
    input: ArrayViewD<'_, T>,
    factors: &[usize],
    method: Downsample,
) -> Result<ArrayD<T>> {
    let zeros = vec![0; input.ndim()];
    downsample_region(input, &zeros, &zeros, factors, method)
}

/// [`downsample`] into a caller's buffer, which must have shape
/// `ceil(input.shape / factors)`; any memory layout works, C order is fastest.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when `output` has the wrong shape, and the errors
/// of [`downsample`].
pub fn downsample_into<T: Element>(
    input: ArrayViewD<'_, T>,
    mut output: ArrayViewMutD<'_, T>,
    factors: &[usize],
    method: Downsample,
) -> Result<()> {
    let zeros = vec![0; input.ndim()];
    let geometry = Geometry::new(input.shape(), &zeros, &zeros, factors, method)?;
    if output.shape() != geometry.out_shape.as_slice() {
        return Err(Error::usage(format!(
            "expected an output of shape {:?} (input {:?} / factors {factors:?}), found {:?}",
            geometry.out_shape,
            input.shape(),
            output.shape()
        )));
    }
    let input = input.as_standard_layout();
    let input = input.as_slice().ok_or_else(not_contiguous)?;
    let kernel = kernel_for::<T>()?;
    if let Some(out) = output.as_slice_mut() {
        return kernel(input, out, &geometry);
    }
    // A strided or transposed output: compute in C order, then copy.
    let mut out = vec![T::default(); geometry.out_len()];
    kernel(input, &mut out, &geometry)?;
    let out = ArrayViewD::from_shape(IxDyn(&geometry.out_shape), &out)
        .map_err(|e| Error::usage(format!("expected a consistent output shape: {e}")))?;
    output.assign(&out);
    Ok(())
}

/// The halo, per axis, that [`downsample_region`] needs around a region for its result to
/// equal the whole-image result: 0 for mean, nearest and mode, the gaussian kernel radius
/// `ceil(4 sigma)` with `sigma = 2 f / 6` on axes with factor `f > 1` for gaussian.
///
/// A factor of 0 gets a halo of 0 (the kernels reject it).
pub fn required_halo(method: Downsample, factors: &[usize]) -> Vec<usize> {
    match method {
        Downsample::Gaussian => factors.iter().map(|&f| gaussian::radius(f)).collect(),
        Downsample::Mean | Downsample::Nearest | Downsample::Mode => vec![0; factors.len()],
    }
}

/// Downsamples the core of `input_with_halo` (the array minus `halo_before` and
/// `halo_after` on each axis), using the halo pixels only as context for the gaussian blur.
///
/// This is how an image larger than memory is processed region by region: when every
/// region's core starts at a multiple of the factors (and only the last region on an axis
/// ends in a partial block), and each region carries the halo of [`required_halo`] or as
/// much as the image has before its border, the outputs placed side by side are
/// bit-identical to [`downsample`] of the whole image. A halo shorter than required away
/// from the image border gives different (mirrored) values near the region edge.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when the halos or `factors` do not have one entry
/// per axis, the halos are larger than the input, and the errors of [`downsample`].
pub fn downsample_region<T: Element>(
    input_with_halo: ArrayViewD<'_, T>,
    halo_before: &[usize],
    halo_after: &[usize],
    factors: &[usize],
    method: Downsample,
) -> Result<ArrayD<T>> {
    let geometry = Geometry::new(
        input_with_halo.shape(),
        halo_before,
        halo_after,
        factors,
        method,
    )?;
    let input = input_with_halo.as_standard_layout();
    let input = input.as_slice().ok_or_else(not_contiguous)?;
    let mut out = vec![T::default(); geometry.out_len()];
    kernel_for::<T>()?(input, &mut out, &geometry)?;
    ArrayD::from_shape_vec(IxDyn(&geometry.out_shape), out)
        .map_err(|e| Error::usage(format!("expected a consistent output shape: {e}")))
}

fn not_contiguous() -> Error {
    // `as_standard_layout` always yields a contiguous array; this is unreachable.
    Error::usage("expected a contiguous input after conversion to C order")
}

impl Geometry {
    fn new(
        shape: &[usize],
        halo_before: &[usize],
        halo_after: &[usize],
        factors: &[usize],
        method: Downsample,
    ) -> Result<Self> {
        let nd = shape.len();
        for (what, len) in [
            ("factors", factors.len()),
            ("halo_before", halo_before.len()),
            ("halo_after", halo_after.len()),
        ] {
            if len != nd {
                return Err(Error::usage(format!(
                    "expected {what} with one entry per axis ({nd}), found {len}"
                )));
            }
        }
        if let Some(axis) = factors.iter().position(|&f| f == 0) {
            return Err(Error::usage(format!(
                "expected downsampling factors of at least 1, found 0 for axis {axis}"
            )));
        }
        let mut core_shape = Vec::with_capacity(nd);
        for axis in 0..nd {
            let halo = halo_before[axis].checked_add(halo_after[axis]);
            match halo.and_then(|h| shape[axis].checked_sub(h)) {
                Some(core) => core_shape.push(core),
                None => {
                    return Err(Error::usage(format!(
                        "expected halos of at most {} on axis {axis}, found {} + {}",
                        shape[axis], halo_before[axis], halo_after[axis]
                    )));
                }
            }
        }
        if matches!(method, Downsample::Mean | Downsample::Mode) {
            let block = core_shape
                .iter()
                .zip(factors)
                .try_fold(1usize, |acc, (&n, &f)| acc.checked_mul(f.min(n).max(1)));
            if block.is_none_or(|b| b > MAX_BLOCK_ELEMENTS) {
                return Err(Error::usage(format!(
                    "expected a block of at most {MAX_BLOCK_ELEMENTS} elements, found factors \
                     {factors:?} on shape {core_shape:?}"
                )));
            }
        }
        let out_shape = core_shape
            .iter()
            .zip(factors)
            .map(|(&n, &f)| n.div_ceil(f))
            .collect();
        Ok(Geometry {
            full_shape: shape.to_vec(),
            halo_before: halo_before.to_vec(),
            core_shape,
            factors: factors.to_vec(),
            out_shape,
            method,
        })
    }

    pub(super) fn out_len(&self) -> usize {
        self.out_shape.iter().product()
    }
}

/// C-order strides (in elements) of `shape`.
pub(super) fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for axis in (0..shape.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    strides
}

/// What the exact kernels need beyond [`Element`]: an exact accumulator and total order.
///
/// `Element` is sealed in `dtype.rs`; this private trait is implemented for the same ten
/// types and reached from generic `T: Element` code through [`kernel_for`].
trait Px: Element {
    /// A sum of up to [`MAX_BLOCK_ELEMENTS`] values that cannot overflow.
    type Acc: Copy + Send + Sync + Add<Output = Self::Acc>;
    /// The additive identity. `-0.0` for floats, so that `ZERO + x` is `x` bit for bit.
    const ZERO: Self::Acc;
    fn widen(self) -> Self::Acc;
    /// `sum / n` rounded half away from zero (integers) or to nearest (floats).
    fn div_round(sum: Self::Acc, n: usize) -> Self;
    /// `div_round(a + b, 2)` in the narrowest exact type, for the vectorised fast path.
    fn mean2(a: Self, b: Self) -> Self;
    /// `div_round(a + b + c + d, 4)` in the narrowest exact type.
    fn mean4(a: Self, b: Self, c: Self, d: Self) -> Self;
    /// A total order (IEEE total order for floats).
    fn order(&self, other: &Self) -> Ordering;
}

macro_rules! px_unsigned {
    ($t:ty, $small:ty, $acc:ty) => {
        impl Px for $t {
            type Acc = $acc;
            const ZERO: $acc = 0;
            #[inline]
            fn widen(self) -> $acc {
                <$acc>::from(self)
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn div_round(sum: $acc, n: usize) -> Self {
                let n = n as $acc;
                // (sum + n/2) / n rounds half up, which is away from zero here; the
                // quotient is a mean of values of this type, so it fits.
                ((sum + n / 2) / n) as $t
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn mean2(a: Self, b: Self) -> Self {
                ((<$small>::from(a) + <$small>::from(b) + 1) >> 1) as $t
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn mean4(a: Self, b: Self, c: Self, d: Self) -> Self {
                let s =
                    <$small>::from(a) + <$small>::from(b) + <$small>::from(c) + <$small>::from(d);
                ((s + 2) >> 2) as $t
            }
            #[inline]
            fn order(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    };
}

macro_rules! px_signed {
    ($t:ty, $small:ty, $acc:ty) => {
        impl Px for $t {
            type Acc = $acc;
            const ZERO: $acc = 0;
            #[inline]
            fn widen(self) -> $acc {
                <$acc>::from(self)
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn div_round(sum: $acc, n: usize) -> Self {
                let n = n as $acc;
                let q = if sum >= 0 {
                    (sum + n / 2) / n
                } else {
                    -((n / 2 - sum) / n)
                };
                q as $t
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn mean2(a: Self, b: Self) -> Self {
                // An arithmetic shift floors; adding 1 (0 for negative sums) turns that
                // into rounding half away from zero.
                let s = <$small>::from(a) + <$small>::from(b);
                ((s + 1 - <$small>::from(s < 0)) >> 1) as $t
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation)]
            fn mean4(a: Self, b: Self, c: Self, d: Self) -> Self {
                let s =
                    <$small>::from(a) + <$small>::from(b) + <$small>::from(c) + <$small>::from(d);
                ((s + 2 - <$small>::from(s < 0)) >> 2) as $t
            }
            #[inline]
            fn order(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    };
}

macro_rules! px_float {
    ($t:ty) => {
        impl Px for $t {
            type Acc = f64;
            const ZERO: f64 = -0.0;
            #[inline]
            fn widen(self) -> f64 {
                f64::from(self)
            }
            #[inline]
            #[allow(clippy::cast_precision_loss)]
            fn div_round(sum: f64, n: usize) -> Self {
                <$t>::from_f64(sum / n as f64)
            }
            #[inline]
            fn mean2(a: Self, b: Self) -> Self {
                <$t>::from_f64((f64::from(a) + f64::from(b)) / 2.0)
            }
            #[inline]
            fn mean4(a: Self, b: Self, c: Self, d: Self) -> Self {
                <$t>::from_f64((f64::from(a) + f64::from(b) + f64::from(c) + f64::from(d)) / 4.0)
            }
            #[inline]
            fn order(&self, other: &Self) -> Ordering {
                self.total_cmp(other)
            }
        }
    };
}

px_unsigned!(u8, u32, u64);
px_unsigned!(u16, u32, u64);
px_unsigned!(u32, u64, u64);
px_unsigned!(u64, u128, u128);
px_signed!(i8, i32, i64);
px_signed!(i16, i32, i64);
px_signed!(i32, i64, i64);
px_signed!(i64, i128, i128);
px_float!(f32);
px_float!(f64);

/// A kernel: C-order input (halos included), C-order output, geometry.
type KernelFn<T> = for<'a, 'b, 'c> fn(&'a [T], &'b mut [T], &'c Geometry) -> Result<()>;

/// The [`Px`] kernel for `T`, found without `unsafe`: a higher-ranked `fn` pointer over a
/// `'static` element type is itself `'static`, so `Any` can downcast `run::<u16>` to
/// `KernelFn<T>` exactly when `T` is `u16`. The lookup costs ten `TypeId` compares per call.
fn kernel_for<T: Element>() -> Result<KernelFn<T>> {
    macro_rules! probe {
        ($($t:ty),*) => {$(
            let candidate: KernelFn<$t> = run::<$t>;
            if let Some(kernel) = (&candidate as &dyn Any).downcast_ref::<KernelFn<T>>() {
                return Ok(*kernel);
            }
        )*};
    }
    probe!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);
    Err(Error::unsupported(
        Location::None,
        format!("expected a supported element type, found {}", T::DTYPE),
    ))
}

fn run<T: Px>(input: &[T], out: &mut [T], g: &Geometry) -> Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    if g.out_shape.is_empty() {
        // A 0-d array is its own downsampling.
        out[0] = input[0];
        return Ok(());
    }
    match g.method {
        Downsample::Gaussian => gaussian::run(input, out, g),
        Downsample::Mean | Downsample::Nearest | Downsample::Mode => {
            rows(input, out, g);
            Ok(())
        }
    }
}

/// Per-task scratch space, so that no output element allocates.
struct Scratch<T: Px> {
    /// Input offsets of the rows of the current output row's block.
    bases: Vec<usize>,
    /// Odometer over the outer axes of the block.
    index: Vec<usize>,
    lo: Vec<usize>,
    hi: Vec<usize>,
    /// Row sums for the general mean.
    acc: Vec<T::Acc>,
    /// Block values for the mode.
    values: Vec<T>,
}

impl<T: Px> Scratch<T> {
    fn new() -> Self {
        Scratch {
            bases: Vec::new(),
            index: Vec::new(),
            lo: Vec::new(),
            hi: Vec::new(),
            acc: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// Mean, nearest and mode: parallel over chunks of output rows (last axis).
fn rows<T: Px>(input: &[T], out: &mut [T], g: &Geometry) {
    let last = g.out_shape.len() - 1;
    let out_w = g.out_shape[last];
    let strides = c_strides(&g.full_shape);
    let block_rows: usize = g.factors[..last]
        .iter()
        .zip(&g.core_shape[..last])
        .map(|(&f, &n)| f.min(n))
        .product();
    let input_per_row = (g.core_shape[last] * block_rows).max(1);
    let rows_per_task = (TASK_INPUT_ELEMENTS / input_per_row).max(1);
    out.par_chunks_mut(out_w * rows_per_task)
        .enumerate()
        .for_each_init(Scratch::<T>::new, |scratch, (chunk_index, chunk)| {
            for (k, out_row) in chunk.chunks_exact_mut(out_w).enumerate() {
                let row = chunk_index * rows_per_task + k;
                block_bases(row, g, &strides, scratch);
                match g.method {
                    Downsample::Nearest => nearest_row(input, g, scratch, out_row),
                    Downsample::Mode => mode_row(input, g, scratch, out_row),
                    Downsample::Mean | Downsample::Gaussian => mean_row(input, g, scratch, out_row),
                }
            }
        });
}

/// Fills `scratch.bases` with the input offsets of the first core element of every input
/// row that output row `row` reads (one row for nearest), in C order.
fn block_bases<T: Px>(row: usize, g: &Geometry, strides: &[usize], scratch: &mut Scratch<T>) {
    let last = g.out_shape.len() - 1;
    let x0 = g.halo_before[last];
    scratch.lo.clear();
    scratch.hi.clear();
    let mut rest = row;
    // Decompose the row number into the output index of the outer axes, last axis first.
    for axis in (0..last).rev() {
        let o = rest % g.out_shape[axis];
        rest /= g.out_shape[axis];
        let (f, n, h) = (g.factors[axis], g.core_shape[axis], g.halo_before[axis]);
        if g.method == Downsample::Nearest {
            let i = h + (f * o + f / 2).min(n - 1);
            scratch.lo.push(i);
            scratch.hi.push(i + 1);
        } else {
            scratch.lo.push(h + f * o);
            scratch.hi.push(h + (f * o + f).min(n));
        }
    }
    scratch.lo.reverse();
    scratch.hi.reverse();
    scratch.bases.clear();
    scratch.index.clear();
    scratch.index.extend_from_slice(&scratch.lo);
    loop {
        let offset: usize = scratch
            .index
            .iter()
            .zip(strides)
            .map(|(&i, &s)| i * s)
            .sum::<usize>()
            + x0;
        scratch.bases.push(offset);
        // Odometer increment over the block, last outer axis fastest (C order).
        let mut axis = last;
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            scratch.index[axis] += 1;
            if scratch.index[axis] < scratch.hi[axis] {
                break;
            }
            scratch.index[axis] = scratch.lo[axis];
        }
    }
}

fn mean_row<T: Px>(input: &[T], g: &Geometry, scratch: &mut Scratch<T>, out_row: &mut [T]) {
    let last = g.out_shape.len() - 1;
    let (w, fx) = (g.core_shape[last], g.factors[last]);
    let bases = &scratch.bases;
    let full = w / 2;
    // Fast paths: 2 × 2 and 1 × 2 blocks, written so that LLVM vectorises them.
    if fx == 2 && bases.len() == 2 {
        let r0 = &input[bases[0]..bases[0] + w];
        let r1 = &input[bases[1]..bases[1] + w];
        for ((o, a), b) in out_row
            .iter_mut()
            .zip(r0.chunks_exact(2))
            .zip(r1.chunks_exact(2))
        {
            *o = T::mean4(a[0], a[1], b[0], b[1]);
        }
        if w % 2 == 1 {
            out_row[full] = T::mean2(r0[w - 1], r1[w - 1]);
        }
        return;
    }
    if fx == 2 && bases.len() == 1 {
        let r0 = &input[bases[0]..bases[0] + w];
        for (o, a) in out_row.iter_mut().zip(r0.chunks_exact(2)) {
            *o = T::mean2(a[0], a[1]);
        }
        if w % 2 == 1 {
            out_row[full] = r0[w - 1];
        }
        return;
    }
    let acc = &mut scratch.acc;
    acc.clear();
    acc.resize(out_row.len(), T::ZERO);
    for &base in bases {
        let row = &input[base..base + w];
        if fx == 1 {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = *a + v.widen();
            }
        } else {
            for (a, block) in acc.iter_mut().zip(row.chunks(fx)) {
                *a = block.iter().fold(*a, |s, &v| s + v.widen());
            }
        }
    }
    let n_rows = bases.len();
    for (j, (o, &a)) in out_row.iter_mut().zip(acc.iter()).enumerate() {
        let nx = fx.min(w - j * fx);
        *o = T::div_round(a, n_rows * nx);
    }
}

fn nearest_row<T: Px>(input: &[T], g: &Geometry, scratch: &Scratch<T>, out_row: &mut [T]) {
    let last = g.out_shape.len() - 1;
    let (w, fx) = (g.core_shape[last], g.factors[last]);
    let base = scratch.bases[0];
    let row = &input[base..base + w];
    if fx == 2 {
        for (o, pair) in out_row.iter_mut().zip(row.chunks_exact(2)) {
            *o = pair[1];
        }
        if w % 2 == 1 {
            out_row[w / 2] = row[w - 1];
        }
        return;
    }
    for (j, o) in out_row.iter_mut().enumerate() {
        *o = row[(fx * j + fx / 2).min(w - 1)];
    }
}

/// Sorts by [`Px::order`]; insertion sort for the few values of typical blocks (2 × 2 is
/// four), where it beats the general sort's setup cost.
fn sort_small<T: Px>(values: &mut [T]) {
    if values.len() > 16 {
        values.sort_unstable_by(T::order);
        return;
    }
    for i in 1..values.len() {
        let v = values[i];
        let mut j = i;
        while j > 0 && values[j - 1].order(&v) == Ordering::Greater {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = v;
    }
}

fn mode_row<T: Px>(input: &[T], g: &Geometry, scratch: &mut Scratch<T>, out_row: &mut [T]) {
    let last = g.out_shape.len() - 1;
    let (w, fx) = (g.core_shape[last], g.factors[last]);
    let mut done = 0;
    if fx == 2 && scratch.bases.len() == 2 {
        // 2 × 2 blocks, the label-pyramid case: a sorting network, no scratch buffer.
        let (b0, b1) = (scratch.bases[0], scratch.bases[1]);
        let r0 = &input[b0..b0 + w];
        let r1 = &input[b1..b1 + w];
        for ((o, a), b) in out_row
            .iter_mut()
            .zip(r0.chunks_exact(2))
            .zip(r1.chunks_exact(2))
        {
            let mut v = [a[0], a[1], b[0], b[1]];
            for (x, y) in [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)] {
                if v[x].order(&v[y]) == Ordering::Greater {
                    v.swap(x, y);
                }
            }
            *o = mode_of_sorted(&v);
        }
        done = w / 2;
    }
    for (j, o) in out_row.iter_mut().enumerate().skip(done) {
        let (start, end) = (fx * j, (fx * j + fx).min(w));
        scratch.values.clear();
        for &base in &scratch.bases {
            scratch
                .values
                .extend_from_slice(&input[base + start..base + end]);
        }
        sort_small(&mut scratch.values);
        *o = mode_of_sorted(&scratch.values);
    }
}

/// The value of the longest run of a sorted, non-empty slice; a strictly longer run is
/// needed to replace the current best, so ties go to the smallest value.
fn mode_of_sorted<T: Px>(values: &[T]) -> T {
    let mut best = values[0];
    let (mut best_len, mut run_len) = (0usize, 0usize);
    for (k, &v) in values.iter().enumerate() {
        run_len = if k > 0 && v.order(&values[k - 1]) == Ordering::Equal {
            run_len + 1
        } else {
            1
        };
        if run_len > best_len {
            best_len = run_len;
            best = v;
        }
    }
    best
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use ndarray::{ArrayD, IxDyn, Slice};
    use proptest::prelude::*;

    use super::*;
    use ndarray::Dimension;

    /// Deterministic values in `[lo, hi]`, converted with `from_f64`.
    fn values<T: Element>(len: usize, seed: u64, lo: f64, hi: f64) -> Vec<T> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                T::from_f64(lo + (hi - lo) * u)
            })
            .collect()
    }

    fn array<T: Element>(shape: &[usize], seed: u64, lo: f64, hi: f64) -> ArrayD<T> {
        let len = shape.iter().product();
        ArrayD::from_shape_vec(IxDyn(shape), values(len, seed, lo, hi)).unwrap()
    }

    /// The input block of output index `out` (all of it, edge blocks clipped).
    fn block<'a, T>(input: &'a ArrayD<T>, factors: &[usize], out: &[usize]) -> ArrayViewD<'a, T> {
        input.slice_each_axis(|ax| {
            let a = ax.axis.index();
            let start = out[a] * factors[a];
            Slice::from(start..(start + factors[a]).min(ax.len))
        })
    }

    fn out_shape(shape: &[usize], factors: &[usize]) -> Vec<usize> {
        shape
            .iter()
            .zip(factors)
            .map(|(&n, &f)| n.div_ceil(f))
            .collect()
    }

    /// Naive reference: loops over f64 (values below 2^40, so the sums are exact).
    fn reference<T: Element>(
        input: &ArrayD<T>,
        factors: &[usize],
        method: Downsample,
    ) -> ArrayD<T> {
        let shape = out_shape(input.shape(), factors);
        ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
            let out: Vec<usize> = idx.slice().to_vec();
            match method {
                Downsample::Mean => {
                    let b = block(input, factors, &out);
                    let sum: f64 = b.iter().map(|v| v.to_f64()).sum();
                    T::from_f64(sum / b.len() as f64)
                }
                Downsample::Nearest => {
                    let at: Vec<usize> = (0..out.len())
                        .map(|a| (factors[a] * out[a] + factors[a] / 2).min(input.shape()[a] - 1))
                        .collect();
                    input[IxDyn(&at)]
                }
                Downsample::Mode => {
                    let b = block(input, factors, &out);
                    let mut best = (0usize, T::default());
                    for &v in &b {
                        let count = b.iter().filter(|&&x| x == v).count();
                        if count > best.0 || (count == best.0 && v < best.1) {
                            best = (count, v);
                        }
                    }
                    best.1
                }
                Downsample::Gaussian => T::from_f64(reference_gaussian(input, factors, &out)),
            }
        })
    }

    fn reflect(i: isize, n: usize) -> usize {
        let p = 2 * n as isize;
        let m = i.rem_euclid(p);
        if m < n as isize {
            m as usize
        } else {
            (p - 1 - m) as usize
        }
    }

    /// Direct (not separable) n-d gaussian at the block centre, from the definition.
    fn reference_gaussian<T: Element>(input: &ArrayD<T>, factors: &[usize], out: &[usize]) -> f64 {
        // Per axis: (index, weight) list of the 1-d blur-then-sample operator.
        let per_axis: Vec<Vec<(usize, f64)>> = (0..out.len())
            .map(|a| {
                let (f, n) = (factors[a], input.shape()[a]);
                if f == 1 {
                    return vec![(out[a], 1.0)];
                }
                let sigma = 2.0 * f as f64 / 6.0;
                let r = (4.0 * sigma).ceil() as isize;
                let norm: f64 = (-r..=r)
                    .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
                    .sum();
                let (lo, hi) = (f * out[a], (f * out[a] + f).min(n));
                let centres: Vec<isize> = if (lo + hi - 1) % 2 == 0 {
                    vec![((lo + hi - 1) / 2) as isize]
                } else {
                    vec![((lo + hi - 2) / 2) as isize, ((lo + hi) / 2) as isize]
                };
                let mut taps = Vec::new();
                for &c in &centres {
                    for k in -r..=r {
                        let w = (-(k * k) as f64 / (2.0 * sigma * sigma)).exp() / norm;
                        taps.push((reflect(c + k, n), w / centres.len() as f64));
                    }
                }
                taps
            })
            .collect();
        let mut total = 0.0;
        let mut pos = vec![0usize; out.len()];
        'outer: loop {
            let mut w = 1.0;
            let mut at = Vec::with_capacity(out.len());
            for a in 0..out.len() {
                let (i, wa) = per_axis[a][pos[a]];
                w *= wa;
                at.push(i);
            }
            total += w * input[IxDyn(&at)].to_f64();
            for a in (0..out.len()).rev() {
                pos[a] += 1;
                if pos[a] < per_axis[a].len() {
                    continue 'outer;
                }
                pos[a] = 0;
            }
            break;
        }
        total
    }

    const CASES: &[(&[usize], &[usize])] = &[
        (&[8, 8], &[2, 2]),
        (&[7, 9], &[2, 2]),
        (&[2, 3, 7, 9], &[1, 1, 2, 2]),
        (&[5, 6, 7], &[2, 3, 2]),
        (&[3, 10, 11], &[3, 1, 4]),
        (&[13], &[3]),
        (&[9, 5], &[2, 1]),
        (&[4, 7], &[1, 2]),
        (&[6, 6], &[1, 1]),
        (&[2, 5, 6], &[2, 2, 1]),
        (&[1, 1], &[2, 2]),
    ];

    fn check_dtype<T: Element>(lo: f64, hi: f64) {
        for (seed, &(shape, factors)) in CASES.iter().enumerate() {
            for method in Downsample::ALL {
                // Small value ranges make modes (and ties) meaningful.
                let (l, h) = if method == Downsample::Mode {
                    (lo.max(-3.0), 3.0)
                } else {
                    (lo, hi)
                };
                let input = array::<T>(shape, seed as u64 + 1, l, h);
                let got = downsample(input.view(), factors, method).unwrap();
                let want = reference(&input, factors, method);
                assert_eq!(got.shape(), want.shape());
                for (g, w) in got.iter().zip(&want) {
                    let ok = if method == Downsample::Gaussian {
                        // The reference sums in another order: allow one rounding step.
                        let tol = if T::DTYPE.is_float() {
                            1e-4 * (1.0 + w.to_f64().abs())
                        } else {
                            1.0
                        };
                        (g.to_f64() - w.to_f64()).abs() <= tol
                    } else {
                        g == w
                    };
                    assert!(
                        ok,
                        "{} {method} {shape:?} / {factors:?}: {got:?} != {want:?}",
                        T::DTYPE
                    );
                }
            }
        }
    }

    macro_rules! for_each_dtype {
        ($check:ident) => {
            $check::<u8>(0.0, 255.0);
            $check::<u16>(0.0, 65535.0);
            $check::<u32>(0.0, 4.0e9);
            $check::<u64>(0.0, 1.0e12);
            $check::<i8>(-128.0, 127.0);
            $check::<i16>(-32768.0, 32767.0);
            $check::<i32>(-2.0e9, 2.0e9);
            $check::<i64>(-1.0e12, 1.0e12);
            $check::<f32>(-1000.0, 1000.0);
            $check::<f64>(-1.0e6, 1.0e6);
        };
    }

    #[test]
    fn every_method_on_every_dtype_matches_the_reference() {
        for_each_dtype!(check_dtype);
    }

    fn check_constant<T: Element>(lo: f64, hi: f64) {
        for v in [lo, hi, (lo + hi) / 2.0] {
            let value = T::from_f64(v);
            let input = ArrayD::from_elem(IxDyn(&[5, 7, 9]), value);
            for method in Downsample::ALL {
                let out = downsample(input.view(), &[2, 3, 2], method).unwrap();
                assert_eq!(out.shape(), &[3, 3, 5]);
                if method == Downsample::Gaussian && T::DTYPE.is_float() {
                    // The weights sum to 1 up to rounding.
                    let tol = 1e-6 * value.to_f64().abs().max(1.0);
                    assert!(
                        out.iter()
                            .all(|x| (x.to_f64() - value.to_f64()).abs() <= tol)
                    );
                } else {
                    assert!(out.iter().all(|&x| x == value), "{} {method}", T::DTYPE);
                }
            }
        }
    }

    #[test]
    fn mean_of_a_constant_is_the_constant() {
        for_each_dtype!(check_constant);
    }

    #[test]
    fn mean_rounds_half_away_from_zero_exactly() {
        let a = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1u8, 2]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2], Downsample::Mean).unwrap()[[0]],
            2
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[2]), vec![-1i8, -2]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2], Downsample::Mean).unwrap()[[0]],
            -2
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![-1i16, -2, -2, -2]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2, 2], Downsample::Mean).unwrap()[[0, 0]],
            -2
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![-1i16, -1, -1, -2]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2, 2], Downsample::Mean).unwrap()[[0, 0]],
            -1
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[3]), vec![-1i32, -1, 0]).unwrap();
        assert_eq!(
            downsample(a.view(), &[3], Downsample::Mean).unwrap()[[0]],
            -1
        );
        // u64 near the top: f64 would lose the low bits.
        let big = u64::MAX - 1;
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![big, big, big, u64::MAX]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2, 2], Downsample::Mean).unwrap()[[0, 0]],
            big
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[3]), vec![big, big, u64::MAX]).unwrap();
        assert_eq!(
            downsample(a.view(), &[3], Downsample::Mean).unwrap()[[0]],
            big
        );
        // MIN + 0.5 rounds away from zero, to MIN, without overflowing.
        let a = ArrayD::from_shape_vec(IxDyn(&[2]), vec![i64::MIN, i64::MIN + 1]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2], Downsample::Mean).unwrap()[[0]],
            i64::MIN
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[2]), vec![i64::MAX, i64::MAX - 1]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2], Downsample::Mean).unwrap()[[0]],
            i64::MAX
        );
    }

    #[test]
    fn nearest_matches_ome_zarr_py() {
        let a = ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 10 + i[1]) as u16);
        let out = downsample(a.view(), &[2, 2], Downsample::Nearest).unwrap();
        // s1 = s0[1::2, 1::2]
        assert_eq!(out.into_raw_vec_and_offset().0, [11, 13, 15, 31, 33, 35]);
    }

    #[test]
    fn mode_keeps_the_label_set() {
        let labels = array::<u32>(&[3, 17, 19], 7, 0.0, 5.0).mapv(|v| v * 1000);
        let out = downsample(labels.view(), &[1, 2, 2], Downsample::Mode).unwrap();
        let input: std::collections::BTreeSet<u32> = labels.iter().copied().collect();
        assert!(out.iter().all(|v| input.contains(v)));
        // A tie goes to the smaller label.
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![7u16, 3, 3, 7]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2, 2], Downsample::Mode).unwrap()[[0, 0]],
            3
        );
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![7u16, 3, 7, 9]).unwrap();
        assert_eq!(
            downsample(a.view(), &[2, 2], Downsample::Mode).unwrap()[[0, 0]],
            7
        );
    }

    #[test]
    fn into_checks_the_shape_and_accepts_any_layout() {
        let a = array::<i16>(&[6, 10], 3, -500.0, 500.0);
        let mut wrong = ArrayD::<i16>::zeros(IxDyn(&[3, 4]));
        let err =
            downsample_into(a.view(), wrong.view_mut(), &[2, 2], Downsample::Mean).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Usage);
        assert!(err.message().contains("[3, 5]"), "{err}");
        for method in Downsample::ALL {
            let want = downsample(a.view(), &[2, 2], method).unwrap();
            let mut t = ArrayD::<i16>::zeros(IxDyn(&[5, 3]));
            let mut out = t.view_mut().reversed_axes();
            downsample_into(a.view(), out.view_mut(), &[2, 2], method).unwrap();
            assert_eq!(out, want);
            // A transposed input gives the transposed result of mean and nearest.
            let tr = downsample(a.t(), &[2, 2], method).unwrap();
            assert_eq!(tr.shape(), &[5, 3]);
        }
    }

    #[test]
    fn usage_errors() {
        let a = ArrayD::<u8>::zeros(IxDyn(&[4, 4]));
        assert!(downsample(a.view(), &[2], Downsample::Mean).is_err());
        assert!(downsample(a.view(), &[2, 0], Downsample::Mean).is_err());
        assert!(downsample_region(a.view(), &[3, 0], &[2, 0], &[2, 2], Downsample::Mean).is_err());
        assert!(downsample_region(a.view(), &[0], &[0, 0], &[2, 2], Downsample::Mean).is_err());
        let empty = ArrayD::<u8>::zeros(IxDyn(&[0, 4]));
        assert_eq!(
            downsample(empty.view(), &[2, 2], Downsample::Gaussian)
                .unwrap()
                .shape(),
            &[0, 2]
        );
        let scalar = ArrayD::from_elem(IxDyn(&[]), 5u8);
        assert_eq!(
            downsample(scalar.view(), &[], Downsample::Mode).unwrap(),
            scalar
        );
    }

    #[test]
    fn required_halo_is_the_kernel_radius() {
        assert_eq!(required_halo(Downsample::Mean, &[1, 2, 2]), [0, 0, 0]);
        assert_eq!(required_halo(Downsample::Gaussian, &[1, 2, 3]), [0, 3, 4]);
    }

    /// Downsamples `input` region by region: cuts on each axis at the given multiples of
    /// the factor, halos as required (clipped at the image border).
    fn by_regions<T: Element>(
        input: &ArrayD<T>,
        factors: &[usize],
        cuts: &[Vec<usize>],
        method: Downsample,
    ) -> ArrayD<T> {
        let nd = input.ndim();
        let halo = required_halo(method, factors);
        let mut out =
            ArrayD::<T>::from_elem(IxDyn(&out_shape(input.shape(), factors)), T::default());
        // Region boundaries per axis, in input pixels.
        let bounds: Vec<Vec<usize>> = (0..nd)
            .map(|a| {
                let n = input.shape()[a];
                let mut b: Vec<usize> = cuts[a].iter().map(|&c| (c * factors[a]).min(n)).collect();
                b.push(0);
                b.push(n);
                b.sort_unstable();
                b.dedup();
                b
            })
            .collect();
        let counts: Vec<usize> = bounds.iter().map(|b| b.len() - 1).collect();
        for region in ndarray::indices(IxDyn(&counts)) {
            let r: Vec<usize> = region.slice().to_vec();
            let (mut before, mut after) = (vec![0; nd], vec![0; nd]);
            let mut with_halo = input.view();
            for a in 0..nd {
                let (s, e) = (bounds[a][r[a]], bounds[a][r[a] + 1]);
                before[a] = halo[a].min(s);
                after[a] = halo[a].min(input.shape()[a] - e);
                with_halo
                    .slice_axis_inplace(ndarray::Axis(a), Slice::from(s - before[a]..e + after[a]));
            }
            let part = downsample_region(with_halo, &before, &after, factors, method).unwrap();
            let mut dst = out.view_mut();
            for a in 0..nd {
                let s = bounds[a][r[a]] / factors[a];
                dst.slice_axis_inplace(ndarray::Axis(a), Slice::from(s..s + part.shape()[a]));
            }
            dst.assign(&part);
        }
        out
    }

    fn case() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<Vec<usize>>, Downsample, u64)> {
        (1usize..=4)
            .prop_flat_map(|nd| {
                (
                    proptest::collection::vec(1usize..=14, nd),
                    proptest::collection::vec(1usize..=4, nd),
                    proptest::collection::vec(proptest::collection::vec(1usize..=6, 0..=2), nd),
                    proptest::sample::select(Downsample::ALL.to_vec()),
                    any::<u64>(),
                )
            })
            .prop_filter("small", |(s, ..)| s.iter().product::<usize>() <= 4000)
    }

    #[test]
    fn gaussian_regions_need_their_halo() {
        let input = array::<f64>(&[9, 40], 11, -100.0, 100.0);
        let whole = downsample(input.view(), &[1, 2], Downsample::Gaussian).unwrap();
        let cuts = [vec![], vec![3, 7, 12]];
        assert_eq!(
            by_regions(&input, &[1, 2], &cuts, Downsample::Gaussian),
            whole
        );
        // Without the halo the region edges are mirrored and differ: the check has teeth.
        let left = input.slice_axis(ndarray::Axis(1), Slice::from(..24));
        let part = downsample_region(
            left.into_dyn(),
            &[0, 0],
            &[0, 0],
            &[1, 2],
            Downsample::Gaussian,
        );
        let part = part.unwrap();
        let whole_left = whole.slice_axis(ndarray::Axis(1), Slice::from(..12));
        assert_ne!(part, whole_left);
        let left = input.slice_axis(ndarray::Axis(1), Slice::from(..27));
        let part = downsample_region(
            left.into_dyn(),
            &[0, 0],
            &[0, 3],
            &[1, 2],
            Downsample::Gaussian,
        );
        assert_eq!(part.unwrap(), whole_left);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn regions_with_halos_equal_the_whole_image(
            (shape, factors, cuts, method, seed) in case()
        ) {
            let input = array::<f64>(&shape, seed, -100.0, 100.0);
            let whole = downsample(input.view(), &factors, method).unwrap();
            let parts = by_regions(&input, &factors, &cuts, method);
            // Bit-identical, not approximately equal.
            let bits = |a: &ArrayD<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&whole), bits(&parts));

            let input = array::<u16>(&shape, seed, 0.0, 65535.0);
            let whole = downsample(input.view(), &factors, method).unwrap();
            prop_assert_eq!(whole, by_regions(&input, &factors, &cuts, method));
        }

        #[test]
        fn mean_and_mode_match_the_reference(
            (shape, factors, _cuts, method, seed) in case()
        ) {
            let method = if method == Downsample::Gaussian { Downsample::Mean } else { method };
            let input = array::<i64>(&shape, seed, -1.0e12, 1.0e12);
            prop_assert_eq!(
                downsample(input.view(), &factors, method).unwrap(),
                reference(&input, &factors, method)
            );
            let input = array::<u8>(&shape, seed, 0.0, 3.0);
            prop_assert_eq!(
                downsample(input.view(), &factors, method).unwrap(),
                reference(&input, &factors, method)
            );
        }
    }
}
