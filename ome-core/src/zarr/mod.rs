//! The OME-Zarr adapter: Zarr v2 and v3 hierarchies on a local filesystem, read through
//! `zarrs`, written with chunks encoded in parallel and metadata last.

mod array;
mod blosc_codec;
mod blosc_tiles;
mod cascade;
mod codecs;
mod direct;
mod fast_blosc;
mod fields;
mod guard;
mod hierarchy;
mod labels;
mod plate;
mod raw;
mod region_writer;
mod scene;
mod scene_write;
mod shard;
mod staging;
mod store;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod threadless;
mod write;

pub use fields::FieldArrays;
pub use hierarchy::OmeZarr;
pub use labels::{LabelOptions, write_labels};
pub use plate::PlateWriter;
pub use raw::{Hierarchy, RawArray, RawNode};
pub use region_writer::RegionWriter;
pub use scene::SceneView;
pub use scene_write::write_scene;
pub use store::ZarrFormat;
pub use write::{
    INTRINSIC_SYSTEM, ImageMetadata, WriteOptions, WriteSummary, write_ome_zarr,
    write_ome_zarr_from_source,
};
pub(crate) use write::{retag, write_group};
