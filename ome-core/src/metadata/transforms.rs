//! `coordinateTransformations` (0.4 spec, "coordinateTransformations metadata"; 0.6 / RFC-5
//! adds many more kinds, kept verbatim).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

ome_object! {
    /// An `identity` transformation.
    #[derive(Default)]
    pub struct IdentityTransform ("an identity transformation") {}
}

ome_object! {
    /// A `scale` transformation: a vector inline (`scale`) or stored in an array (`path`).
    /// 0.6 adds `input`, `output` and `name`, which stay in `extra`.
    #[derive(Default)]
    pub struct ScaleTransform ("a scale transformation") {
        /// `scale`: one factor per axis. Numbers are kept as `f64` (an integer `2` writes back
        /// as `2.0`, which is the same JSON number).
        opt "scale" => pub scale: Option<Vec<f64>>,
        /// `path`: an array holding the vector.
        opt "path" => pub path: Option<String>,
    }
}

ome_object! {
    /// A `translation` transformation: a vector inline (`translation`) or in an array
    /// (`path`).
    #[derive(Default)]
    pub struct TranslationTransform ("a translation transformation") {
        /// `translation`: one offset per axis.
        opt "translation" => pub translation: Option<Vec<f64>>,
        /// `path`: an array holding the vector.
        opt "path" => pub path: Option<String>,
    }
}

/// One entry of a `coordinateTransformations` list, tagged by its `type`.
///
/// The 0.4 kinds are typed; every other kind (0.6 `affine`, `sequence`, `rotation`,
/// `mapAxis`, `byDimension`, `displacements`, ...) is kept as [`Self::Other`], the whole
/// object including `type`, so a round trip is exact.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CoordinateTransformation {
    /// `"type": "identity"`.
    Identity(IdentityTransform),
    /// `"type": "scale"`.
    Scale(ScaleTransform),
    /// `"type": "translation"`.
    Translation(TranslationTransform),
    /// Any other type, verbatim (the map still holds `type`).
    Other(Map<String, Value>),
}

impl CoordinateTransformation {
    /// A `scale` transformation with an inline vector.
    pub fn scale(scale: Vec<f64>) -> Self {
        CoordinateTransformation::Scale(ScaleTransform {
            scale: Some(scale),
            ..Default::default()
        })
    }

    /// A `translation` transformation with an inline vector.
    pub fn translation(translation: Vec<f64>) -> Self {
        CoordinateTransformation::Translation(TranslationTransform {
            translation: Some(translation),
            ..Default::default()
        })
    }

    /// The `type` string.
    pub fn type_name(&self) -> &str {
        match self {
            CoordinateTransformation::Identity(_) => "identity",
            CoordinateTransformation::Scale(_) => "scale",
            CoordinateTransformation::Translation(_) => "translation",
            CoordinateTransformation::Other(map) => {
                map.get("type").and_then(Value::as_str).unwrap_or_default()
            }
        }
    }

    /// The inline scale vector, if this is a `scale` with one.
    pub fn as_scale(&self) -> Option<&[f64]> {
        match self {
            CoordinateTransformation::Scale(s) => s.scale.as_deref(),
            _ => None,
        }
    }

    /// The inline translation vector, if this is a `translation` with one.
    pub fn as_translation(&self) -> Option<&[f64]> {
        match self {
            CoordinateTransformation::Translation(t) => t.translation.as_deref(),
            _ => None,
        }
    }
}

fn tagged<T: Serialize, E: serde::ser::Error>(
    kind: &str,
    body: &T,
) -> Result<Map<String, Value>, E> {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String(kind.to_owned()));
    match serde_json::to_value(body).map_err(E::custom)? {
        Value::Object(fields) => map.extend(fields),
        other => return Err(E::custom(format!("expected an object, found {other}"))),
    }
    Ok(map)
}

impl Serialize for CoordinateTransformation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map = match self {
            CoordinateTransformation::Identity(t) => tagged::<_, S::Error>("identity", t)?,
            CoordinateTransformation::Scale(t) => tagged::<_, S::Error>("scale", t)?,
            CoordinateTransformation::Translation(t) => tagged::<_, S::Error>("translation", t)?,
            CoordinateTransformation::Other(map) => return map.serialize(serializer),
        };
        map.serialize(serializer)
    }
}

/// Deserialises the body of a typed transformation, naming the key inside it that failed.
fn body<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    map: Map<String, Value>,
) -> Result<T, E> {
    serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let inner = super::describe_serde_error(&e.into_inner().to_string());
        E::custom(format!("in `{path}`: {inner}"))
    })
}

impl<'de> Deserialize<'de> for CoordinateTransformation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match map.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "expected a string transformation \"type\", found {other}"
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "expected a transformation with a \"type\", found none",
                ));
            }
        };
        match kind.as_str() {
            "identity" | "scale" | "translation" => {
                map.remove("type");
                Ok(match kind.as_str() {
                    "identity" => CoordinateTransformation::Identity(body(map)?),
                    "scale" => CoordinateTransformation::Scale(body(map)?),
                    _ => CoordinateTransformation::Translation(body(map)?),
                })
            }
            _ => Ok(CoordinateTransformation::Other(map)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_and_other_round_trip() {
        let v = json!([
            {"type": "scale", "scale": [1.0, 0.5], "input": {"path": "s0"}, "output": {"name": "a"}},
            {"type": "translation", "translation": [0.0, 0.25]},
            {"type": "identity"},
            {"type": "scale", "path": "scaleArray"},
            {"type": "sequence", "transformations": [{"type": "affine", "affine": [[1, 0]]}]}
        ]);
        let ts: Vec<CoordinateTransformation> = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(ts[0].as_scale(), Some(&[1.0, 0.5][..]));
        assert_eq!(ts[1].as_translation(), Some(&[0.0, 0.25][..]));
        assert_eq!(ts[4].type_name(), "sequence");
        assert!(matches!(ts[4], CoordinateTransformation::Other(_)));
        assert_eq!(serde_json::to_value(&ts).unwrap(), v);
    }

    #[test]
    fn bad_transformations_are_errors() {
        let e = serde_json::from_value::<CoordinateTransformation>(json!({"scale": [1]}));
        assert!(e.unwrap_err().to_string().contains("\"type\""));
        let e = serde_json::from_value::<CoordinateTransformation>(
            json!({"type": "scale", "scale": [1, "a"]}),
        );
        let msg = e.unwrap_err().to_string();
        assert!(msg.contains("in `scale[1]`"), "{msg}");
    }
}
