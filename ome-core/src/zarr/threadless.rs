//! The zarr adapter's types that hold zarrs arrays and codec chains, asserted `Send + Sync`
//! on `wasm32-unknown-unknown` without threads (see `crate::single_thread` for why this is
//! sound there; this module is compiled nowhere else).

// SAFETY: no threads on this target (`crate::single_thread`).
unsafe impl Send for super::array::ZarrArray {}
// SAFETY: as above.
unsafe impl Sync for super::array::ZarrArray {}
// SAFETY: as above.
unsafe impl Send for super::shard::InnerCodecs {}
// SAFETY: as above.
unsafe impl Sync for super::shard::InnerCodecs {}
