//! The checks, by family. Each check function emits the codes of one area; the rule data
//! (severity per version, spec section, page) lives in [`crate::registry`].
//! `tiff` holds the `OMETIFF-*` family, `omexml` the `OMEXML-*` family.

pub(crate) mod ngff;
pub(crate) mod omexml;
pub(crate) mod tiff;
