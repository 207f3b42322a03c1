//! NumPy `.npy` files: a memory-mapped reader that serves regions (so `ome convert` can
//! turn a `.npy` larger than memory into a pyramid) and a streaming writer.
//!
//! Format: <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>
//! (magic `\x93NUMPY`, version 1.0 / 2.0 / 3.0, a Python dict literal header with `descr`,
//! `fortran_order` and `shape`, padded so the data starts 64-byte aligned).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use ndarray::{ArrayD, IxDyn};

use crate::dtype::{DType, DynArray, Element};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::source::{RegionSource, check_region};
use crate::with_dyn_array;

const MAGIC: &[u8] = b"\x93NUMPY";
const MAX_HEADER: usize = 1 << 16;

/// A `.npy` file opened for region reads.
#[derive(Debug)]
pub struct NpyReader {
    path: PathBuf,
    map: Mmap,
    offset: usize,
    shape: Vec<u64>,
    dtype: DType,
    big_endian: bool,
}

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let i = header.find(&pat)? + pat.len();
    Some(header[i..].trim_start())
}

fn parse_header(header: &str, loc: &Location) -> Result<(DType, bool, Vec<u64>)> {
    let bad =
        |what: &str| Error::format(loc.clone(), format!("npy header: {what}, found {header:?}"));
    let descr = header_value(header, "descr").ok_or_else(|| bad("expected a 'descr' key"))?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| bad("expected 'descr' to be a string"))?;
    let (dtype, big_endian) = DType::from_numpy_str(descr).ok_or_else(|| {
        Error::unsupported(
            loc.clone(),
            format!("npy dtype {descr:?} is not an integer or float type this library reads"),
        )
    })?;
    let fortran = header_value(header, "fortran_order")
        .ok_or_else(|| bad("expected a 'fortran_order' key"))?;
    if fortran.starts_with("True") {
        return Err(Error::unsupported(
            loc.clone(),
            "Fortran-ordered npy files are not supported; save with C order",
        ));
    }
    if !fortran.starts_with("False") {
        return Err(bad("expected fortran_order True or False"));
    }
    let shape = header_value(header, "shape").ok_or_else(|| bad("expected a 'shape' key"))?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("expected a shape tuple"))?;
    let dims = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<u64>()
                .map_err(|_| bad("expected non-negative integer dimensions"))
        })
        .collect::<Result<Vec<u64>>>()?;
    Ok((dtype, big_endian, dims))
}

impl NpyReader {
    /// Opens and checks a `.npy` file; the data is mapped, not read.
    ///
    /// # Errors
    /// Storage errors; format errors for a bad magic, header or a file shorter than the
    /// header says; unsupported for Fortran order and non-numeric dtypes.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let loc = Location::file(&path);
        let mut file = crate::open_regular(&path).map_err(|e| Error::io(loc.clone(), e))?;
        let mut head = [0u8; 12];
        let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(loc.clone(), e))?;
        if n < 10 || &head[..6] != MAGIC {
            return Err(Error::format(
                loc,
                "expected a .npy file starting with \\x93NUMPY, found other bytes",
            ));
        }
        let (header_len, prefix) = match head[6] {
            1 => (usize::from(u16::from_le_bytes([head[8], head[9]])), 10),
            2 | 3 if n == 12 => (
                u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
                12,
            ),
            v => {
                return Err(Error::unsupported(
                    loc,
                    format!("npy format version {v} is not supported (1, 2, 3 are)"),
                ));
            }
        };
        if header_len > MAX_HEADER {
            return Err(Error::limits(
                loc,
                format!("npy header of {header_len} bytes exceeds {MAX_HEADER}"),
            ));
        }
        // SAFETY: the map is read-only; a file truncated by another process while mapped
        // would fault, which is the documented hazard of memory-mapping input files.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(loc.clone(), e))?;
        let offset = prefix + header_len;
        let header = map
            .get(prefix..offset)
            .ok_or_else(|| Error::format(loc.clone(), "npy header is truncated"))?;
        let header = std::str::from_utf8(header)
            .map_err(|_| Error::format(loc.clone(), "npy header is not text"))?;
        let (dtype, big_endian, shape) = parse_header(header, &loc)?;
        let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        let bytes = elements.and_then(|e| e.checked_mul(dtype.size() as u64));
        let available = (map.len() - offset) as u64;
        match bytes {
            Some(b) if b <= available => {}
            _ => {
                return Err(Error::format(
                    loc,
                    format!(
                        "npy header declares shape {shape:?} of {dtype} but the file holds only {available} data bytes"
                    ),
                ));
            }
        }
        Ok(NpyReader {
            path,
            map,
            offset,
            shape,
            dtype,
            big_endian,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the whole array.
    ///
    /// # Errors
    /// As [`RegionSource::read_region`].
    pub fn read_all(&self) -> Result<DynArray> {
        let zeros = vec![0; self.shape.len()];
        self.read_region(&zeros, &self.shape.clone())
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn region_from_bytes<T: Element>(
    data: &[u8],
    full: &[u64],
    start: &[u64],
    shape: &[u64],
    big: bool,
) -> ArrayD<T> {
    let size = size_of::<T>();
    let nd = full.len();
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let total: usize = dims.iter().product();
    let mut out: Vec<T> = Vec::with_capacity(total);
    if nd == 0 {
        out.push(T::read_le(&data[..size]));
    } else if total > 0 {
        let row = dims[nd - 1];
        let rows = total / row;
        let mut strides = vec![1u64; nd];
        for d in (0..nd - 1).rev() {
            strides[d] = strides[d + 1] * full[d + 1];
        }
        let mut idx = vec![0u64; nd - 1];
        for _ in 0..rows {
            let mut off = start[nd - 1];
            for d in 0..nd - 1 {
                off += (start[d] + idx[d]) * strides[d];
            }
            let b = off as usize * size;
            let bytes = &data[b..b + row * size];
            if big {
                out.extend(bytes.chunks_exact(size).map(|c| {
                    let mut le = c.to_vec();
                    le.reverse();
                    T::read_le(&le)
                }));
            } else {
                // Rows of a mapped file are aligned to the element unless the header is
                // not; only then is a row collected into an aligned buffer first.
                match bytemuck::try_cast_slice::<u8, T>(bytes) {
                    Ok(row) => out.extend_from_slice(row),
                    Err(_) => out.extend_from_slice(&bytemuck::pod_collect_to_vec::<u8, T>(bytes)),
                }
            }
            for d in (0..nd - 1).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&dims), out).unwrap_or_else(|_| ArrayD::default(IxDyn(&dims)))
}

impl RegionSource for NpyReader {
    fn shape(&self) -> &[u64] {
        &self.shape
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn read_region(&self, start: &[u64], shape: &[u64]) -> Result<DynArray> {
        check_region(&self.shape, start, shape)?;
        let data = &self.map[self.offset..];
        Ok(
            crate::with_dtype!(self.dtype, T => T::into_dyn_array(region_from_bytes::<T>(data, &self.shape, start, shape, self.big_endian))),
        )
    }
}

/// Writes an array as a version 1.0 `.npy` file (little-endian, C order).
///
/// # Errors
/// Storage errors.
pub fn write_npy(path: impl AsRef<Path>, array: &DynArray) -> Result<()> {
    let path = path.as_ref();
    let loc = || Location::file(path);
    let shape = array.shape();
    let shape_str = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_str}, }}",
        array.dtype().numpy_str()
    );
    // Pad with spaces so the data starts 64-byte aligned; the header ends with a newline.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len()).map_err(|_| {
        Error::usage(format!(
            "npy header too long for {} dimensions",
            shape.len()
        ))
    })?;
    let tmp = path.with_extension("npy.partial");
    let file = File::create(&tmp).map_err(|e| Error::io(loc(), e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let io = |e| Error::io(loc(), e);
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&[1, 0]).map_err(io)?;
    w.write_all(&header_len.to_le_bytes()).map_err(io)?;
    w.write_all(header.as_bytes()).map_err(io)?;
    with_dyn_array!(array, a, _T => {
        let a = a.as_standard_layout();
        match a.as_slice() {
            Some(s) => w.write_all(bytemuck::cast_slice(s)).map_err(io)?,
            None => return Err(Error::format(loc(), "array is not contiguous")),
        }
    });
    w.flush().map_err(io)?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(loc(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_regions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let a = ArrayD::from_shape_fn(IxDyn(&[2, 3, 5]), |ix| {
            (ix[0] * 100 + ix[1] * 10 + ix[2]) as i32 - 50
        });
        write_npy(&p, &DynArray::I32(a.clone())).unwrap();
        let r = NpyReader::open(&p).unwrap();
        assert_eq!(r.shape(), &[2, 3, 5]);
        assert_eq!(r.read_all().unwrap(), DynArray::I32(a.clone()));
        let DynArray::I32(sub) = r.read_region(&[1, 1, 2], &[1, 2, 3]).unwrap() else {
            panic!()
        };
        assert_eq!(sub, a.slice(ndarray::s![1..2, 1..3, 2..5]).into_dyn());
    }

    #[test]
    fn hostile_headers_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.npy");
        std::fs::write(&p, b"not numpy at all").unwrap();
        assert!(
            NpyReader::open(&p)
                .unwrap_err()
                .to_string()
                .contains("NUMPY")
        );
        let mut f = MAGIC.to_vec();
        f.extend_from_slice(&[1, 0]);
        let h = b"{'descr': '<u2', 'fortran_order': False, 'shape': (1000000, 1000000), }\n";
        f.extend_from_slice(&(h.len() as u16).to_le_bytes());
        f.extend_from_slice(h);
        std::fs::write(&p, &f).unwrap();
        let e = NpyReader::open(&p).unwrap_err();
        assert!(e.to_string().contains("holds only"), "{e}");
    }
}
