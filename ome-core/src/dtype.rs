//! Pixel data types: the [`DType`] tag, the [`Element`] trait that generic kernels use,
//! and [`DynArray`], an n-dimensional array whose type is known only at run time.

use std::fmt;

use ndarray::ArrayD;

/// The pixel types OME-Zarr and OME-TIFF images use here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `uint8`
    U8,
    /// `uint16`
    U16,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `int8`
    I8,
    /// `int16`
    I16,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `float32`
    F32,
    /// `float64`
    F64,
}

impl DType {
    /// All supported types.
    pub const ALL: [DType; 10] = [
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::U8 | DType::I8 => 1,
            DType::U16 | DType::I16 => 2,
            DType::U32 | DType::I32 | DType::F32 => 4,
            DType::U64 | DType::I64 | DType::F64 => 8,
        }
    }

    /// The Zarr v3 / NumPy name: `uint16`, `float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses a Zarr v3 / NumPy name (`uint16`).
    pub fn from_name(name: &str) -> Option<Self> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The little-endian NumPy type string used by Zarr v2 and `.npy`: `<u2`, `|u1`, `<f4`.
    pub fn numpy_str(self) -> &'static str {
        match self {
            DType::U8 => "|u1",
            DType::U16 => "<u2",
            DType::U32 => "<u4",
            DType::U64 => "<u8",
            DType::I8 => "|i1",
            DType::I16 => "<i2",
            DType::I32 => "<i4",
            DType::I64 => "<i8",
            DType::F32 => "<f4",
            DType::F64 => "<f8",
        }
    }

    /// Parses a NumPy type string; returns the type and whether it is big-endian.
    /// One-byte types accept `|`, `<`, `>` and `=`.
    pub fn from_numpy_str(s: &str) -> Option<(Self, bool)> {
        let (order, code) = s.split_at_checked(1)?;
        let big = match order {
            "<" | "|" | "=" => false,
            ">" => true,
            _ => return None,
        };
        let dtype = match code {
            "u1" => DType::U8,
            "u2" => DType::U16,
            "u4" => DType::U32,
            "u8" => DType::U64,
            "i1" => DType::I8,
            "i2" => DType::I16,
            "i4" => DType::I32,
            "i8" => DType::I64,
            "f4" => DType::F32,
            "f8" => DType::F64,
            _ => return None,
        };
        Some((dtype, big && dtype.size() > 1))
    }

    /// Whether this is `float32` or `float64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Whether this is a signed integer type.
    pub fn is_signed_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A pixel type: implemented for `u8`..`u64`, `i8`..`i64`, `f32`, `f64`.
///
/// Kernels that downsample or convert are generic over it; the conversions to and from
/// `f64` are what a mean or a gaussian needs.
pub trait Element:
    sealed::Sealed
    + bytemuck::Pod
    + Send
    + Sync
    + PartialEq
    + PartialOrd
    + Default
    + fmt::Debug
    + 'static
{
    /// The run-time tag of this type.
    const DTYPE: DType;
    /// The value as `f64` (exact for every type but `u64`/`i64` beyond 2^53).
    fn to_f64(self) -> f64;
    /// The nearest representable value: rounds half away from zero for integer types,
    /// saturates at the type's range, maps NaN to 0 for integer types.
    fn from_f64(v: f64) -> Self;
    /// Wraps a typed array into a [`DynArray`].
    fn into_dyn_array(array: ArrayD<Self>) -> DynArray;
    /// Borrows the typed array out of a [`DynArray`] when the types agree.
    fn from_dyn_array(array: &DynArray) -> Option<&ArrayD<Self>>;
    /// Takes the typed array out of a [`DynArray`] when the types agree.
    fn from_dyn_array_owned(array: DynArray) -> Result<ArrayD<Self>, DynArray>;
    /// Little-endian bytes of one value.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads one value from exactly `size_of::<Self>()` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! impl_element {
    ($t:ty, $variant:ident, $is_float:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::float_cmp
            )]
            fn from_f64(v: f64) -> Self {
                if $is_float {
                    v as $t
                } else {
                    // `as` saturates and maps NaN to 0; round() is half away from zero.
                    v.round() as $t
                }
            }
            fn into_dyn_array(array: ArrayD<Self>) -> DynArray {
                DynArray::$variant(array)
            }
            fn from_dyn_array(array: &DynArray) -> Option<&ArrayD<Self>> {
                match array {
                    DynArray::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn from_dyn_array_owned(array: DynArray) -> Result<ArrayD<Self>, DynArray> {
                match array {
                    DynArray::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
            #[inline]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                let mut buf = [0u8; std::mem::size_of::<$t>()];
                buf.copy_from_slice(&bytes[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(buf)
            }
        }
    };
}

impl_element!(u8, U8, false);
impl_element!(u16, U16, false);
impl_element!(u32, U32, false);
impl_element!(u64, U64, false);
impl_element!(i8, I8, false);
impl_element!(i16, I16, false);
impl_element!(i32, I32, false);
impl_element!(i64, I64, false);
impl_element!(f32, F32, true);
impl_element!(f64, F64, true);

/// An n-dimensional array whose element type is known at run time.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum DynArray {
    U8(ArrayD<u8>),
    U16(ArrayD<u16>),
    U32(ArrayD<u32>),
    U64(ArrayD<u64>),
    I8(ArrayD<i8>),
    I16(ArrayD<i16>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
}

/// Runs `$body` with `$a` bound to the typed array inside a [`DynArray`] (by the pattern
/// binding mode of `$e`), and the type alias `$T` naming its element type.
#[macro_export]
macro_rules! with_dyn_array {
    ($e:expr, $a:ident, $T:ident => $body:expr) => {
        match $e {
            $crate::DynArray::U8($a) => {
                type $T = u8;
                $body
            }
            $crate::DynArray::U16($a) => {
                type $T = u16;
                $body
            }
            $crate::DynArray::U32($a) => {
                type $T = u32;
                $body
            }
            $crate::DynArray::U64($a) => {
                type $T = u64;
                $body
            }
            $crate::DynArray::I8($a) => {
                type $T = i8;
                $body
            }
            $crate::DynArray::I16($a) => {
                type $T = i16;
                $body
            }
            $crate::DynArray::I32($a) => {
                type $T = i32;
                $body
            }
            $crate::DynArray::I64($a) => {
                type $T = i64;
                $body
            }
            $crate::DynArray::F32($a) => {
                type $T = f32;
                $body
            }
            $crate::DynArray::F64($a) => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Runs `$body` with the type alias `$T` set to the Rust type of a [`DType`] value.
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::U16 => {
                type $T = u16;
                $body
            }
            $crate::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::DType::U64 => {
                type $T = u64;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}

impl DynArray {
    /// The element type.
    pub fn dtype(&self) -> DType {
        with_dyn_array!(self, _a, T => T::DTYPE)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_dyn_array!(self, a, _T => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_dyn_array!(self, a, _T => a.len())
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A zero-filled buffer of `len` elements for a large output (a whole-region read) that is
/// about to be filled in parallel. Above 4 MiB it asks Linux for transparent huge pages
/// before the first write (`madvise(MADV_HUGEPAGE)`, as NumPy does for its large arrays),
/// so filling a GiB takes ~500 page faults instead of ~260 000, each a VM exit on a guest.
///
/// `None` when the memory cannot be had (more than the address space allows, as under
/// `prlimit --as`): the caller reports that as an error instead of the process aborting.
pub(crate) fn zeroed_output<T: Element>(len: usize) -> Option<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(len).ok()?;
    let mut v: Vec<T> = if layout.size() == 0 {
        Vec::new()
    } else {
        // SAFETY: the layout has a non-zero size. Every `Element` is a plain integer or
        // float whose all-zero bit pattern is the value zero, so zeroed memory holds `len`
        // initialised elements, and the allocation is made with `T`'s layout for `len`.
        unsafe {
            let ptr = std::alloc::alloc_zeroed(layout).cast::<T>();
            if ptr.is_null() {
                return None;
            }
            Vec::from_raw_parts(ptr, len, len)
        }
    };
    // SAFETY: `len` elements of `T` are `v`'s allocation.
    unsafe { ask_huge_pages(v.as_mut_ptr().cast(), len.saturating_mul(size_of::<T>())) };
    Some(v)
}

/// An empty byte buffer with room for `capacity` bytes, backed by transparent huge pages
/// above 4 MiB as [`zeroed_output`] is (a fetched chunk or shard, filled once as its body
/// arrives); `None` when the memory cannot be had.
pub(crate) fn byte_buffer(capacity: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity).ok()?;
    // SAFETY: `v.capacity()` bytes are `v`'s allocation.
    unsafe { ask_huge_pages(v.as_mut_ptr(), v.capacity()) };
    Some(v)
}

/// Asks Linux to back the whole pages of `bytes` bytes at `start` with transparent huge
/// pages when they are 4 MiB or more, before the first write: on a VM each 4 KiB page
/// fault is an exit, which costs more than decoding the page's data.
///
/// # Safety
///
/// `start..start + bytes` lies inside one allocation.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
unsafe fn ask_huge_pages(start: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    if bytes >= 4 << 20 {
        let page = 4096usize;
        let first = (start as usize).next_multiple_of(page);
        let end = (start as usize + bytes) / page * page;
        if end > first {
            // SAFETY: the range lies inside the allocation (rounded inward to whole pages);
            // MADV_HUGEPAGE only changes how the kernel backs those pages, never their
            // content.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
}

/// The error of a region whose output buffer could not be allocated.
pub(crate) fn output_alloc_error(
    location: crate::Location,
    shape: &[u64],
    bytes: u64,
) -> crate::Error {
    crate::Error::limits(
        location,
        format!(
            "expected memory for a region of shape {shape:?} ({bytes} bytes), found the allocation refused (out of memory or address space)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_strings_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_numpy_str(d.numpy_str()), Some((d, false)));
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        assert_eq!(DType::from_numpy_str(">u2"), Some((DType::U16, true)));
        assert_eq!(DType::from_numpy_str("<c8"), None);
    }

    #[test]
    fn from_f64_rounds_and_saturates() {
        assert_eq!(u8::from_f64(2.5), 3);
        assert_eq!(u8::from_f64(300.0), 255);
        assert_eq!(i8::from_f64(-2.5), -3);
        assert_eq!(u16::from_f64(f64::NAN), 0);
        assert!((f32::from_f64(0.25) - 0.25).abs() < f32::EPSILON);
    }
}
