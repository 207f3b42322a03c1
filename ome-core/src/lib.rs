//! # ome-core
//!
//! Read and write the two open bioimaging formats, **OME-Zarr** (OME-NGFF 0.1 to 0.6, the
//! last with RFC-5 coordinate systems and transformations) and OME-TIFF, in Rust: a typed
//! metadata model for every NGFF object, parallel chunked reads of any region of any level,
//! and pyramid writing that is bounded in memory.
//!
//! ```no_run
//! use ome_core::{Image, ImageMetadata, Selection, WriteOptions, write_ome_zarr};
//! use ndarray::ArrayD;
//!
//! # fn main() -> ome_core::Result<()> {
//! // Write a 4-D (c, z, y, x) uint16 array as an OME-Zarr 0.5 pyramid.
//! let data = ArrayD::<u16>::zeros(vec![2, 16, 1024, 1024]);
//! let meta = ImageMetadata::from_axis_letters("czyx")?;
//! write_ome_zarr("out.ome.zarr", data.view(), &meta, &WriteOptions::default(), None)?;
//!
//! // Read channel 1 of level 1 back.
//! let image = Image::open("out.ome.zarr")?;
//! let plane = image.read(1, &"c=1".parse::<Selection>()?)?;
//! assert_eq!(plane.shape(), &[16, 512, 512]);
//! # Ok(()) }
//! ```
//!
//! ## Layers
//! Dependencies point one way, from the ground up: `metadata` (pure serde), `pyramid`
//! (planning and downsampling kernels) and the image model (`image/model.rs`: [`Image`],
//! [`Level`], the [`LevelRead`] trait) → the I/O adapters (`zarr`, `tiff`, `npy`), which
//! implement [`LevelRead`] and build images with [`Image::from_parts`] → [`Format`]
//! detection and `image/open.rs` ([`Image::open`], the one place naming both adapters) →
//! [`convert`], the one place that decides what a conversion reads, writes and keeps.
//! Under the Zarr adapter, [`storage`] holds the one trait for reading a dataset's keys,
//! with the filesystem and (feature `remote`) HTTP(S) and S3 stores as implementations.
//! Libraries never print; the `ome` CLI renders.
//!
//! ## Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `remote` | yes | `https://` and `s3://` datasets ([`storage`]): `object_store`, one tokio runtime |
//! | `native` | yes | blosc chunks (the C library, through zarrs) and zarrs' filesystem store; off for the `wasm32-unknown-unknown` build of the browser page (`web/`), where a blosc array is an error naming the codec |
//!
//! ## Where data lives
//! A path may be a URL: `Image::open("s3://bucket/img.ome.zarr")` and
//! `Image::open("https://host/img.ome.zarr")` read through the remote store, and writers
//! given `s3://bucket/prefix` upload the finished dataset with its root metadata last.
//! Endpoint, credentials and concurrency: [`storage::RemoteOptions`].
//!
//! ## Hostile input
//! Every document read is size-limited, every path from metadata is checked to stay inside
//! the dataset root, and decoded sizes are bounded by [`Limits`]; bad input gives an
//! [`Error`] whose [`Location`] names the file, node and JSON Pointer.

pub mod convert;
mod direct_io;
mod dtype;
mod error;
mod format;
mod image;
mod image_metadata;
mod location;
pub mod metadata;
mod npy;
pub mod ome_xml;
mod options;
mod output;
pub mod pyramid;
mod regular_file;
mod selection;
mod single_thread;
mod source;
pub mod storage;
pub mod tiff;
pub mod zarr;

pub use dtype::{DType, DynArray, Element};
pub use error::{Error, ErrorKind, Result};
pub use format::{Format, TIFF_EXTENSIONS};
pub use image::{Image, ImageParts, Level, LevelRead, LevelSource, is_tiff_input};
pub use location::Location;
pub use npy::{NpyReader, write_npy};
pub use options::{BloscCompressor, Compression, Limits, NoProgress, Progress, Shuffle};
pub use regular_file::open_regular;
pub use selection::{AxisSelection, Region, Selection};
pub use source::{ArraySource, RegionSource};
pub use zarr::{
    ImageMetadata, LabelOptions, OmeZarr, PlateWriter, RegionWriter, SceneView, WriteOptions,
    WriteSummary, ZarrFormat, write_labels, write_ome_zarr, write_ome_zarr_from_source,
    write_scene,
};
