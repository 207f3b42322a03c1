//! The format-neutral facade. `model.rs` holds [`Image`] and the [`LevelRead`] trait the
//! adapters implement (it names no adapter and stands below them); `open.rs` opens a path
//! through [`crate::Format`] and the adapter it picks (it stands above them).

pub(crate) mod model;
mod open;

pub use model::{Image, ImageParts, Level, LevelRead, LevelSource};
pub use open::is_tiff_input;
