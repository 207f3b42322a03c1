//! The checks, by family. Each check function emits the codes of one area; the rule data
//! (severity per version, spec section, page) lives in [`crate::registry`].
//! `tiff/` slots in beside `ngff/` with the `OMETIFF-*` family.

pub(crate) mod ngff;
