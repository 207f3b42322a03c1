//! `axes` metadata (0.4 spec, "axes metadata"; 0.3 lists bare axis names) and units.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// The space units of the 0.4 spec ("axes metadata"): UDUNITS-2 length units.
pub const SPACE_UNITS: [&str; 26] = [
    "angstrom",
    "attometer",
    "centimeter",
    "decimeter",
    "exameter",
    "femtometer",
    "foot",
    "gigameter",
    "hectometer",
    "inch",
    "kilometer",
    "megameter",
    "meter",
    "micrometer",
    "mile",
    "millimeter",
    "nanometer",
    "parsec",
    "petameter",
    "picometer",
    "terameter",
    "yard",
    "yoctometer",
    "yottameter",
    "zeptometer",
    "zettameter",
];

/// The time units of the 0.4 spec ("axes metadata"): UDUNITS-2 time units.
pub const TIME_UNITS: [&str; 23] = [
    "attosecond",
    "centisecond",
    "day",
    "decisecond",
    "exasecond",
    "femtosecond",
    "gigasecond",
    "hectosecond",
    "hour",
    "kilosecond",
    "megasecond",
    "microsecond",
    "millisecond",
    "minute",
    "nanosecond",
    "petasecond",
    "picosecond",
    "second",
    "terasecond",
    "yoctosecond",
    "yottasecond",
    "zeptosecond",
    "zettasecond",
];

/// Whether `unit` is one of the space units the spec lists ([`SPACE_UNITS`]).
pub fn is_known_space_unit(unit: &str) -> bool {
    SPACE_UNITS.contains(&unit)
}

/// Whether `unit` is one of the time units the spec lists ([`TIME_UNITS`]).
pub fn is_known_time_unit(unit: &str) -> bool {
    TIME_UNITS.contains(&unit)
}

/// The axis `type` values the spec names: `space`, `time`, `channel`.
pub const AXIS_TYPE_SPACE: &str = "space";
/// See [`AXIS_TYPE_SPACE`].
pub const AXIS_TYPE_TIME: &str = "time";
/// See [`AXIS_TYPE_SPACE`].
pub const AXIS_TYPE_CHANNEL: &str = "channel";

/// The implicit axes of 0.1 and 0.2, whose arrays are always 5-D `t,c,z,y,x` (0.1 spec,
/// "multiscales metadata").
pub const IMPLICIT_AXES: [&str; 5] = ["t", "c", "z", "y", "x"];

/// One entry of `axes`.
///
/// In 0.4+ an axis is an object `{"name", "type", "unit"}`; in 0.3 it is a bare name such as
/// `"x"`. A bare name reads with `bare_name = true` and writes back as a string, so a round
/// trip gives the same JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    /// `name`: unique among the axes.
    pub name: String,
    /// `type`: `space`, `time`, `channel` or a custom string.
    pub axis_type: Option<String>,
    /// `unit`: a UDUNITS-2 unit name (SHOULD be one of [`SPACE_UNITS`] or [`TIME_UNITS`]).
    pub unit: Option<String>,
    /// Keys this crate does not model (0.6 adds `discrete` and `longName`).
    pub extra: Map<String, Value>,
    /// Whether the axis was (and will be) written as a bare string (0.3).
    pub bare_name: bool,
}

impl Axis {
    /// An axis object with a name and optional type and unit.
    pub fn new(name: impl Into<String>, axis_type: Option<&str>, unit: Option<&str>) -> Self {
        Axis {
            name: name.into(),
            axis_type: axis_type.map(str::to_owned),
            unit: unit.map(str::to_owned),
            ..Axis::default()
        }
    }

    /// A `space` axis.
    pub fn space(name: impl Into<String>, unit: Option<&str>) -> Self {
        Axis::new(name, Some(AXIS_TYPE_SPACE), unit)
    }

    /// A `time` axis.
    pub fn time(name: impl Into<String>, unit: Option<&str>) -> Self {
        Axis::new(name, Some(AXIS_TYPE_TIME), unit)
    }

    /// A `channel` axis.
    pub fn channel(name: impl Into<String>) -> Self {
        Axis::new(name, Some(AXIS_TYPE_CHANNEL), None)
    }

    /// An axis named by one of the conventional letters, with the type the 0.3 spec implies
    /// for it: `t` time, `c` channel, `z`/`y`/`x` space, anything else no type.
    pub fn inferred(name: &str) -> Self {
        match name {
            "t" => Axis::time(name, None),
            "c" => Axis::channel(name),
            "z" | "y" | "x" => Axis::space(name, None),
            _ => Axis::new(name, None, None),
        }
    }

    /// Whether `type` is `space`.
    pub fn is_space(&self) -> bool {
        self.axis_type.as_deref() == Some(AXIS_TYPE_SPACE)
    }

    /// Whether `type` is `time`.
    pub fn is_time(&self) -> bool {
        self.axis_type.as_deref() == Some(AXIS_TYPE_TIME)
    }

    /// Whether `type` is `channel`.
    pub fn is_channel(&self) -> bool {
        self.axis_type.as_deref() == Some(AXIS_TYPE_CHANNEL)
    }
}

/// The implicit 0.1/0.2 axes for an `ndim`-dimensional array: the last `ndim` of
/// `t,c,z,y,x`, typed as [`Axis::inferred`] says (all five when `ndim > 5`).
pub fn implicit_axes(ndim: usize) -> Vec<Axis> {
    let skip = IMPLICIT_AXES.len().saturating_sub(ndim);
    IMPLICIT_AXES[skip..]
        .iter()
        .map(|n| Axis::inferred(n))
        .collect()
}

impl Serialize for Axis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.bare_name {
            return serializer.serialize_str(&self.name);
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        if let Some(t) = &self.axis_type {
            map.serialize_entry("type", t)?;
        }
        if let Some(u) = &self.unit {
            map.serialize_entry("unit", u)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

ome_object! {
    /// The object form of an axis, read through the macro so errors keep their key.
    struct AxisObject ("an axis object or an axis name") {
        req "name" => pub name: String,
        opt "type" => pub axis_type: Option<String>,
        opt "unit" => pub unit: Option<String>,
    }
}

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AxisVisitor;

        impl<'de> Visitor<'de> for AxisVisitor {
            type Value = Axis;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an axis object or an axis name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Axis, E> {
                Ok(Axis {
                    name: v.to_owned(),
                    bare_name: true,
                    ..Axis::default()
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Axis, A::Error> {
                let o = AxisObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Axis {
                    name: o.name,
                    axis_type: o.axis_type,
                    unit: o.unit,
                    extra: o.extra,
                    bare_name: false,
                })
            }
        }

        deserializer.deserialize_any(AxisVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_and_object_axes_round_trip() {
        let v = json!(["t", {"name": "x", "type": "space", "unit": "micrometer", "longName": "X"}]);
        let axes: Vec<Axis> = serde_json::from_value(v.clone()).unwrap();
        assert!(axes[0].bare_name);
        assert_eq!(axes[1].unit.as_deref(), Some("micrometer"));
        assert_eq!(axes[1].extra["longName"], "X");
        assert_eq!(serde_json::to_value(&axes).unwrap(), v);
    }

    #[test]
    fn units_and_types() {
        assert!(is_known_space_unit("micrometer"));
        assert!(!is_known_space_unit("second"));
        assert!(is_known_time_unit("millisecond"));
        assert!(Axis::inferred("t").is_time());
        assert!(Axis::inferred("c").is_channel());
        assert!(Axis::inferred("y").is_space());
        let names: Vec<_> = implicit_axes(3).into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["z", "y", "x"]);
    }

    #[test]
    fn axis_name_must_be_a_string() {
        let err = serde_json::from_value::<Axis>(json!({"name": 3})).unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
        assert!(serde_json::from_value::<Axis>(json!(3)).is_err());
    }
}
