//! OME-TIFF: read (classic and BigTIFF, strips or tiles, SubIFD pyramids, multi-file sets,
//! companion files, plain TIFF and ImageJ hyperstacks) and write (tiled BigTIFF or classic
//! TIFF with SubIFD pyramid levels and OME-XML in IFD 0, one or several images per file).
//!
//! Every file is treated as hostile: the IFD parser checks every offset against the file
//! length, detects loops, and bounds tag counts, SubIFDs and decoded tile sizes
//! ([`TiffLimits`]); errors carry a [`crate::Location::Tiff`] naming file, IFD and tag.
//!
//! A file may be a URL (`https://…/x.ome.tif`, `s3://bucket/…/x.ome.tif`): it is then read
//! by byte ranges (IFDs from cached pages, the tiles of a region fetched at once), and
//! the files of a multi-file set or a companion file are found next to it.

mod bits;
mod decode;
mod facade;
mod ifd;
pub mod inspect;
mod jpeg;
pub mod planes;
mod read;
mod remote_file;
mod write;

pub use ifd::TiffLimits;
pub use read::{OmeTiff, Series, sample_dtype};
pub use write::{
    TiffCompression, TiffImage, TiffWriteOptions, TiffWriteSummary, is_tiff_path, ome_xml_for,
    write_ome_tiff, write_ome_tiff_images,
};

pub use ifd::is_tiff_magic;
