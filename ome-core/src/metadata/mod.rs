//! The typed OME-NGFF (OME-Zarr) metadata model, versions 0.1 to 0.6: pure serde, no I/O.
//!
//! [`OmeAttributes`] holds everything OME that a Zarr group's attributes carry, the same
//! shape for every version: 0.1–0.4 keep their objects at the top level of `.zattrs`, 0.5+
//! under `attributes.ome` of `zarr.json` ([`AttributeLayout`]). Every object keeps the keys
//! this crate does not model in an `extra` map, so reading then writing gives back the same
//! JSON.
//!
//! Numbers: vectors and ranges (`scale`, `translation`, `window`) are `f64`, so an integer
//! written as `2` comes back as `2.0`, the same JSON number; values that are integers by
//! nature (`rowIndex`, `acquisition`, `id`) are integers, and `label-value` keeps the exact
//! [`serde_json::Number`].
//!
//! ```
//! # use ome_core::metadata::{OmeAttributes, NodeKind, NgffVersion};
//! # use ome_core::Location;
//! let attrs = serde_json::json!({"ome": {"version": "0.5", "labels": ["cells"]}});
//! let attrs = attrs.as_object().cloned().unwrap_or_default();
//! let ome = OmeAttributes::from_attributes(&attrs, &Location::None)?;
//! assert_eq!(ome.kind(), NodeKind::Labels);
//! assert_eq!(ome.version(), Some(NgffVersion::V0_5));
//! assert_eq!(ome.to_attributes(), attrs);
//! # Ok::<(), ome_core::Error>(())
//! ```

#[macro_use]
mod object;

mod attributes;
mod axes;
mod evaluate;
mod graph;
mod labels;
mod multiscales;
mod omero;
mod plate;
mod scene;
mod transforms;
mod version;

#[cfg(test)]
pub(crate) mod schema_testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v06;

pub use attributes::{
    AttributeLayout, BIOFORMATS2RAW_LAYOUT_KEY, BIOFORMATS2RAW_LAYOUT_VERSION, NodeKind, OME_KEYS,
    OmeAttributes,
};
pub use axes::{
    AXIS_TYPE_CHANNEL, AXIS_TYPE_SPACE, AXIS_TYPE_TIME, Axis, IMPLICIT_AXES, SPACE_UNITS,
    TIME_UNITS, implicit_axes, is_known_space_unit, is_known_time_unit,
};
pub use evaluate::{TransformError, VectorFields, matrix_of, scale_translation_of};
pub use graph::{Step, SystemKey, TransformGraph, label as system_label};
pub use labels::{ImageLabel, LabelColor, LabelSource};
pub use multiscales::{CoordinateSystem, Dataset, Multiscale};
pub use omero::{Omero, OmeroChannel, Rdefs, Window};
pub use plate::{Acquisition, NamedEntry, Plate, PlateWell, Well, WellImage};
pub use scene::Scene;
pub use transforms::{
    AffineTransform, AxisRef, BijectionTransform, ByDimensionEntry, ByDimensionItem,
    ByDimensionTransform, CoordinateSystemRef, CoordinateTransformation, FieldTransform,
    IdentityTransform, MapAxisTransform, ProjectAxisTransform, RotationTransform, ScaleTransform,
    SequenceTransform, TRANSFORMATION_TYPES, TranslationTransform,
};
pub use version::NgffVersion;

/// Rewrites a serde message ("invalid type: integer `3`, expected a string") into the house
/// form: "expected a string, found integer `3`".
pub(crate) fn describe_serde_error(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.split_once(", expected ")
        {
            return format!("expected {expected}, found {found}");
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {expected}, found length {found}");
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("expected key {field}, found none");
    }
    message.to_owned()
}

/// The JSON Pointer (RFC 6901) of a `serde_path_to_error` path, `""` for the root.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&crate::location::escape_pointer_token(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}
