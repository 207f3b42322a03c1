//! Opening an [`Image`] from a path: the one place that names both adapters. The format
//! comes from [`Format::detect`].

use std::path::Path;
use std::sync::Arc;

use super::model::Image;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::NodeKind;
use crate::options::Limits;
use crate::tiff::OmeTiff;
use crate::zarr::OmeZarr;

/// Whether `path` opens through the OME-TIFF reader (see [`Format::opens_as_tiff`]):
/// a TIFF file, or an OME-XML document, which the reader follows to its TIFF files.
/// Everything else is tried as an OME-Zarr hierarchy.
pub fn is_tiff_input(path: &Path) -> bool {
    Format::detect(path).is_ok_and(Format::opens_as_tiff)
}

/// The format `path` opens in: [`Format::detect`], with a `.npy` or a lone JSON document
/// refused (they are not images with levels), and anything missing left to the Zarr
/// reader, which names the absent node.
fn image_format(path: &Path) -> Result<Format> {
    match Format::detect(path) {
        Ok(f @ (Format::Npy | Format::AttributesJson)) => Err(Error::usage(format!(
            "{} is {} {}, not an OME-Zarr or OME-TIFF image",
            path.display(),
            if f == Format::Npy { "an" } else { "a" },
            f
        ))),
        Ok(f) => Ok(f),
        // A remote address that names no OME-Zarr says so (OME-TIFF over HTTP/S3).
        Err(e) if e.kind() == crate::ErrorKind::Unsupported => Err(e),
        Err(_) => Ok(Format::OmeZarr),
    }
}

impl Image {
    /// Opens the image at `path`: an OME-TIFF (its first image), an OME-XML companion
    /// file, or an OME-Zarr image group, label image, or field of a plate such as
    /// `plate.zarr/A/1/0`.
    ///
    /// # Errors
    /// Storage errors, format errors naming the node and key, or a usage error when the
    /// path holds no image (a plate, a well, a labels group, a `.npy`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if image_format(path)?.opens_as_tiff() {
            return Arc::new(OmeTiff::open(path)?).image(0);
        }
        OmeZarr::open(path)?.image()
    }

    /// Image `series` of `path` under `limits`: that image of an OME-TIFF (or companion
    /// file), that series of a bioformats2raw container (the `series` list of its `OME`
    /// group, else its numbered groups; NGFF "bioformats2raw.layout"), and for any other
    /// input only series 0, the image [`Image::open`] opens.
    ///
    /// # Errors
    /// A usage error for a series that does not exist; the errors of opening the input.
    pub fn open_series(path: impl AsRef<Path>, series: usize, limits: &Limits) -> Result<Self> {
        let path = path.as_ref();
        if image_format(path)?.opens_as_tiff() {
            return Arc::new(OmeTiff::open_with(path, limits.into())?).image(series);
        }
        let node = OmeZarr::open_with_limits(path, *limits)?;
        if node.kind() == NodeKind::Bioformats2raw {
            let names = node.series()?;
            let name = names.get(series).ok_or_else(|| {
                Error::usage(format!(
                    "series {series} does not exist; {} has {}",
                    path.display(),
                    names.len()
                ))
            })?;
            return node.child(name)?.image();
        }
        if series != 0 {
            return Err(Error::usage(format!(
                "series {series} does not exist; {} is one image (series 0)",
                path.display()
            )));
        }
        node.image()
    }
}
