//! Region sources: producers of array regions, so that writers never need a whole image
//! in memory.

use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};

use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::with_dyn_array;

/// Something that can hand out any rectangular region of an n-dimensional array.
///
/// Writers call [`RegionSource::read_region`] from several threads at once with regions
/// aligned to the chunks they write, so an implementation must be cheap to call
/// concurrently and should not cache whole images.
pub trait RegionSource: Sync {
    /// Shape of the whole array.
    fn shape(&self) -> &[u64];
    /// Element type.
    fn dtype(&self) -> DType;
    /// Reads the region starting at `start` with extent `shape` (both in elements).
    ///
    /// # Errors
    /// An error of the source (I/O, decoding); the region is always inside [`Self::shape`].
    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray>;
}

/// Copies a region out of an in-memory array into a new standard-layout array.
pub(crate) fn copy_region<T: Element>(
    array: &ArrayViewD<'_, T>,
    start: &[u64],
    shape: &[u64],
) -> ArrayD<T> {
    let view = array.slice_each_axis(|ax| {
        let i = ax.axis.index();
        let s = usize::try_from(start[i]).unwrap_or(usize::MAX);
        let e = s.saturating_add(usize::try_from(shape[i]).unwrap_or(usize::MAX));
        Slice::from(s..e)
    });
    let dims: Vec<usize> = view.shape().to_vec();
    let mut out = Vec::with_capacity(view.len());
    // Copy whole innermost rows at a time: a plain element iterator over a 5-D view costs
    // several times more than memcpy of contiguous rows.
    if view.ndim() == 0 {
        out.extend(view.iter().copied());
    } else {
        for row in view.rows() {
            match row.as_slice() {
                Some(s) => out.extend_from_slice(s),
                None => out.extend(row.iter().copied()),
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&dims), out).unwrap_or_else(|_| ArrayD::default(IxDyn(&dims)))
}

/// An in-memory array seen as a region source.
#[derive(Debug)]
pub struct ArraySource<'a, T: Element> {
    view: ArrayViewD<'a, T>,
    shape: Vec<u64>,
}

impl<'a, T: Element> ArraySource<'a, T> {
    /// Wraps a view.
    pub fn new(view: ArrayViewD<'a, T>) -> Self {
        let shape = view.shape().iter().map(|&d| d as u64).collect();
        ArraySource { view, shape }
    }

    /// The wrapped view.
    pub fn view(&self) -> &ArrayViewD<'a, T> {
        &self.view
    }
}

impl<T: Element> RegionSource for ArraySource<'_, T> {
    fn shape(&self) -> &[u64] {
        &self.shape
    }

    fn dtype(&self) -> DType {
        T::DTYPE
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        check_region(&self.shape, start, shape)?;
        Ok(T::into_dyn_array(copy_region(&self.view, start, shape)))
    }
}

impl RegionSource for (Vec<u64>, &DynArray) {
    fn shape(&self) -> &[u64] {
        &self.0
    }

    fn dtype(&self) -> DType {
        self.1.dtype()
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        check_region(&self.0, start, shape)?;
        Ok(with_dyn_array!(self.1, a, T => T::into_dyn_array(copy_region(&a.view(), start, shape))))
    }
}

/// Checks that a region lies inside an array of `full` shape.
///
/// # Errors
/// A usage error naming the first axis that is out of range.
pub(crate) fn check_region(full: &[u64], start: &[u64], shape: &[u64]) -> Result<()> {
    if start.len() != full.len() || shape.len() != full.len() {
        return Err(Error::usage(format!(
            "expected a region with {} dimensions, found start {:?} and shape {:?}",
            full.len(),
            start,
            shape
        )));
    }
    for (i, ((&s, &n), &f)) in start.iter().zip(shape).zip(full).enumerate() {
        if s.checked_add(n).is_none_or(|e| e > f) {
            return Err(Error::usage(format!(
                "region {s}..{} on axis {i} lies outside the array extent {f}",
                s.saturating_add(n)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_region_matches_slicing() {
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 5, 7]), |ix| {
            (ix[0] * 100 + ix[1] * 10 + ix[2]) as u16
        });
        let src = ArraySource::new(a.view());
        let r = src.read_region(&[1, 2, 3], &[2, 2, 4]).unwrap();
        let DynArray::U16(r) = r else {
            panic!("wrong type")
        };
        assert_eq!(r.shape(), &[2, 2, 4]);
        assert_eq!(r[[0, 0, 0]], 123);
        assert_eq!(r[[1, 1, 3]], 236);
        assert!(src.read_region(&[2, 0, 0], &[2, 1, 1]).is_err());
    }
}
