//! `coordinateTransformations` (0.4 spec, "coordinateTransformations metadata"; 0.6 / RFC-5
//! adds many more kinds, kept verbatim).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Adds the keys every transformation may carry (0.6rc0, "coordinateTransformations
/// metadata": `name`, `input`, `output`; `inputAxes` / `outputAxes` inside `byDimension`
/// and in sub-space sequences) to an [`ome_object!`] struct.
macro_rules! transform_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($expecting:literal) { $($body:tt)* }
    ) => {
        ome_object! {
            $(#[$meta])*
            pub struct $name ($expecting) {
                $($body)*
                /// `name` (0.6): a name for this transformation.
                opt "name" => pub name: Option<String>,
                /// `input` (0.6): the coordinate system of the points it takes.
                opt "input" => pub input: Option<CoordinateSystemRef>,
                /// `output` (0.6): the coordinate system of the points it gives.
                opt "output" => pub output: Option<CoordinateSystemRef>,
                /// `inputAxes` (0.6, inside `byDimension` and sub-space sequences).
                opt "inputAxes" => pub input_axes: Option<Vec<AxisRef>>,
                /// `outputAxes` (0.6, inside `byDimension` and sub-space sequences).
                opt "outputAxes" => pub output_axes: Option<Vec<AxisRef>>,
            }
        }
    };
}

ome_object! {
    /// The object form of a coordinate system reference.
    #[derive(Default)]
    struct RefObject ("a coordinate system reference") {
        opt "name" => pub name: Option<Value>,
        opt "path" => pub path: Option<Value>,
    }
}

/// The `input` or `output` of a transformation (0.6rc0, "coordinateTransformations
/// metadata"): a coordinate system by `name`, in the group at `path` (relative to the group
/// holding the transformation; absent or `null` for the same group). Inside
/// `multiscales > datasets`, `input` names the level's array by `path` alone.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CoordinateSystemRef {
    /// `name`: the coordinate system.
    pub name: Option<String>,
    /// `path`: the Zarr group (or, for dataset transformations, array) it lives in.
    pub path: Option<String>,
    /// Written as a bare string (`"input": "in"`, as some 0.6rc0 examples do), which names
    /// a coordinate system; written back the same way.
    pub bare: bool,
    /// Which keys were an explicit JSON `null` (`path` MAY be null), kept for the round trip.
    null_keys: Vec<&'static str>,
    /// Other keys, verbatim.
    pub extra: Map<String, Value>,
}

impl CoordinateSystemRef {
    /// A reference to the coordinate system `name` in the same group.
    pub fn named(name: impl Into<String>) -> Self {
        CoordinateSystemRef {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// A reference to the array (or group) at `path` (a dataset transformation's `input`).
    pub fn array(path: impl Into<String>) -> Self {
        CoordinateSystemRef {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// A reference to the coordinate system `name` of the group at `path`.
    pub fn in_group(name: impl Into<String>, path: impl Into<String>) -> Self {
        CoordinateSystemRef {
            name: Some(name.into()),
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// `name`, or `path/name` when the system lives in another group: a label for reports.
    pub fn label(&self) -> String {
        match (&self.path, &self.name) {
            (Some(p), Some(n)) => format!("{p}#{n}"),
            (Some(p), None) => format!("array {p}"),
            (None, Some(n)) => n.clone(),
            (None, None) => "(unnamed)".to_owned(),
        }
    }
}

impl Serialize for CoordinateSystemRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.bare
            && self.path.is_none()
            && self.extra.is_empty()
            && let Some(name) = &self.name
        {
            return serializer.serialize_str(name);
        }
        let value = |key: &'static str, v: &Option<String>| match v {
            Some(s) => Some(Value::String(s.clone())),
            None => self.null_keys.contains(&key).then_some(Value::Null),
        };
        RefObject {
            name: value("name", &self.name),
            path: value("path", &self.path),
            extra: self.extra.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CoordinateSystemRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(name) => Ok(CoordinateSystemRef {
                name: Some(name),
                bare: true,
                ..Self::default()
            }),
            Value::Object(map) => {
                let mut null_keys = Vec::new();
                let mut text = |key: &'static str, v: Option<&Value>| match v {
                    None => Ok(None),
                    Some(Value::Null) => {
                        null_keys.push(key);
                        Ok(None)
                    }
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(other) => Err(D::Error::custom(format!(
                        "expected a string `{key}`, found {other}"
                    ))),
                };
                let name = text("name", map.get("name"))?;
                let path = text("path", map.get("path"))?;
                let extra = map
                    .into_iter()
                    .filter(|(k, _)| k != "name" && k != "path")
                    .collect();
                Ok(CoordinateSystemRef {
                    name,
                    path,
                    bare: false,
                    null_keys,
                    extra,
                })
            }
            other => Err(D::Error::custom(format!(
                "expected a coordinate system reference (an object with `name` and/or `path`), found {other}"
            ))),
        }
    }
}

/// One entry of `inputAxes` / `outputAxes`: an axis index (0.6rc0) or, in some examples, an
/// axis name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisRef {
    /// An index into the coordinate system's axes.
    Index(usize),
    /// An axis name.
    Name(String),
}

transform_object! {
    /// An `identity` transformation: output equals input (0.6rc0, "identity").
    #[derive(Default)]
    pub struct IdentityTransform ("an identity transformation") {}
}

transform_object! {
    /// A `mapAxis` transformation: output axis `i` is input axis `mapAxis[i]` (0.6rc0,
    /// "mapAxis").
    #[derive(Default)]
    pub struct MapAxisTransform ("a mapAxis transformation") {
        /// `mapAxis`: for each output axis, the index of the input axis it takes.
        req "mapAxis" => pub map_axis: Vec<usize>,
    }
}

transform_object! {
    /// A `projectAxis` transformation: drops input dimensions and creates output dimensions
    /// (at zero) (0.6rc0, "projectAxis").
    #[derive(Default)]
    pub struct ProjectAxisTransform ("a projectAxis transformation") {
        /// `createdOutputs`: output indices of the new dimensions.
        opt "createdOutputs" => pub created_outputs: Option<Vec<usize>>,
        /// `droppedInputs`: input indices of the dropped dimensions.
        opt "droppedInputs" => pub dropped_inputs: Option<Vec<usize>>,
    }
}

transform_object! {
    /// A `scale` transformation: a vector inline (`scale`) or stored in an array (`path`;
    /// 0.4 only, 0.6 forbids it).
    #[derive(Default)]
    pub struct ScaleTransform ("a scale transformation") {
        /// `scale`: one factor per axis. Numbers are kept as `f64` (an integer `2` writes back
        /// as `2.0`, which is the same JSON number).
        opt "scale" => pub scale: Option<Vec<f64>>,
        /// `path`: an array holding the vector.
        opt "path" => pub path: Option<String>,
    }
}

transform_object! {
    /// A `translation` transformation: a vector inline (`translation`) or in an array
    /// (`path`; 0.4 only).
    #[derive(Default)]
    pub struct TranslationTransform ("a translation transformation") {
        /// `translation`: one offset per axis.
        opt "translation" => pub translation: Option<Vec<f64>>,
        /// `path`: an array holding the vector.
        opt "path" => pub path: Option<String>,
    }
}

transform_object! {
    /// An `affine` transformation: the upper `M x (N+1)` rows of a homogeneous matrix,
    /// inline (`affine`, a list of rows) or in a 2-D array (`path`) (0.6rc0, "affine").
    #[derive(Default)]
    pub struct AffineTransform ("an affine transformation") {
        /// `affine`: `M` rows of `N + 1` numbers.
        opt "affine" => pub affine: Option<Vec<Vec<f64>>>,
        /// `path`: a 2-D array holding the matrix.
        opt "path" => pub path: Option<String>,
    }
}

transform_object! {
    /// A `rotation` transformation: an `N x N` orthonormal matrix, inline (`rotation`) or
    /// in an array (`path`) (0.6rc0, "rotation").
    #[derive(Default)]
    pub struct RotationTransform ("a rotation transformation") {
        /// `rotation`: `N` rows of `N` numbers.
        opt "rotation" => pub rotation: Option<Vec<Vec<f64>>>,
        /// `path`: a 2-D array holding the matrix.
        opt "path" => pub path: Option<String>,
    }
}

transform_object! {
    /// A `sequence` transformation: its `transformations` applied in order (0.6rc0,
    /// "sequence").
    #[derive(Default)]
    pub struct SequenceTransform ("a sequence transformation") {
        /// `transformations`: applied first to last.
        req "transformations" => pub transformations: Vec<CoordinateTransformation>,
    }
}

transform_object! {
    /// A `displacements` or `coordinates` transformation: a vector field stored in the
    /// multiscale group at `path` (0.6rc0, "coordinates and displacements").
    #[derive(Default)]
    pub struct FieldTransform ("a displacements or coordinates transformation") {
        /// `path`: the multiscale group holding the field.
        req "path" => pub path: String,
        /// `interpolation`: `nearest`, `linear` (default) or `bspline-cubic`.
        opt "interpolation" => pub interpolation: Option<String>,
    }
}

transform_object! {
    /// A `bijection`: an explicit `forward` transformation and its `inverse` (0.6rc0,
    /// "bijection").
    pub struct BijectionTransform ("a bijection transformation") {
        /// `forward`: from `input` to `output`.
        req "forward" => pub forward: Box<CoordinateTransformation>,
        /// `inverse`: from `output` to `input`.
        req "inverse" => pub inverse: Box<CoordinateTransformation>,
    }
}

transform_object! {
    /// A `byDimension` transformation: lower-dimensional transformations on subsets of the
    /// axes (0.6rc0, "byDimension").
    #[derive(Default)]
    pub struct ByDimensionTransform ("a byDimension transformation") {
        /// `transformations`: each with the input and output axes it acts on.
        req "transformations" => pub transformations: Vec<ByDimensionEntry>,
    }
}

ome_object! {
    /// The 0.6rc0 form of a `byDimension` entry: `{"transformation": ..., "inputAxes": [..],
    /// "outputAxes": [..]}` (0.6 development versions spelled the keys `input_axes` and
    /// `output_axes`; both spellings read and write back as found).
    pub struct ByDimensionItem ("a byDimension entry") {
        /// `transformation`: the lower-dimensional transformation.
        req "transformation" => pub transformation: CoordinateTransformation,
        /// `inputAxes`: indices of the parent's input axes it takes.
        opt "inputAxes" => pub input_axes: Option<Vec<AxisRef>>,
        /// `outputAxes`: indices of the parent's output axes it gives.
        opt "outputAxes" => pub output_axes: Option<Vec<AxisRef>>,
        /// `input_axes`: the 0.6.dev spelling of `inputAxes`.
        opt "input_axes" => pub input_axes_dev: Option<Vec<AxisRef>>,
        /// `output_axes`: the 0.6.dev spelling of `outputAxes`.
        opt "output_axes" => pub output_axes_dev: Option<Vec<AxisRef>>,
    }
}

impl ByDimensionItem {
    /// An entry applying `transformation` to `inputs`, giving `outputs`.
    pub fn new(
        transformation: CoordinateTransformation,
        inputs: Vec<AxisRef>,
        outputs: Vec<AxisRef>,
    ) -> Self {
        ByDimensionItem {
            transformation,
            input_axes: Some(inputs),
            output_axes: Some(outputs),
            input_axes_dev: None,
            output_axes_dev: None,
            extra: Map::new(),
        }
    }

    /// The input axes, whichever spelling holds them (empty when neither does).
    pub fn inputs(&self) -> &[AxisRef] {
        self.input_axes
            .as_deref()
            .or(self.input_axes_dev.as_deref())
            .unwrap_or(&[])
    }

    /// The output axes, whichever spelling holds them (empty when neither does).
    pub fn outputs(&self) -> &[AxisRef] {
        self.output_axes
            .as_deref()
            .or(self.output_axes_dev.as_deref())
            .unwrap_or(&[])
    }
}

/// One entry of `byDimension.transformations`: the spec's wrapped form, or (as some
/// examples write it) a transformation carrying `inputAxes` / `outputAxes` itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ByDimensionEntry {
    /// `{"transformation": ..., "inputAxes": .., "outputAxes": ..}`.
    Wrapped(ByDimensionItem),
    /// A transformation object with its own `inputAxes` / `outputAxes`.
    Inline(CoordinateTransformation),
}

impl ByDimensionEntry {
    /// The transformation, its input axes and its output axes (empty when absent).
    pub fn parts(&self) -> (&CoordinateTransformation, &[AxisRef], &[AxisRef]) {
        match self {
            ByDimensionEntry::Wrapped(item) => {
                (&item.transformation, item.inputs(), item.outputs())
            }
            ByDimensionEntry::Inline(t) => {
                let (i, o) = t.axes_subset();
                (t, i, o)
            }
        }
    }
}

impl Serialize for ByDimensionEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ByDimensionEntry::Wrapped(item) => item.serialize(serializer),
            ByDimensionEntry::Inline(t) => t.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ByDimensionEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        if map.contains_key("transformation") {
            body(map).map(ByDimensionEntry::Wrapped)
        } else {
            body(map).map(ByDimensionEntry::Inline)
        }
    }
}

/// One entry of a `coordinateTransformations` list, tagged by its `type`.
///
/// Every type of 0.4 and 0.6rc0 is typed; a type this crate does not know is kept as
/// [`Self::Other`], the whole object including `type`, so a round trip is exact.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CoordinateTransformation {
    /// `"type": "identity"`.
    Identity(IdentityTransform),
    /// `"type": "mapAxis"` (0.6).
    MapAxis(MapAxisTransform),
    /// `"type": "projectAxis"` (0.6).
    ProjectAxis(ProjectAxisTransform),
    /// `"type": "scale"`.
    Scale(ScaleTransform),
    /// `"type": "translation"`.
    Translation(TranslationTransform),
    /// `"type": "affine"` (0.6).
    Affine(AffineTransform),
    /// `"type": "rotation"` (0.6).
    Rotation(RotationTransform),
    /// `"type": "sequence"` (0.6).
    Sequence(SequenceTransform),
    /// `"type": "displacements"` (0.6).
    Displacements(FieldTransform),
    /// `"type": "coordinates"` (0.6).
    Coordinates(FieldTransform),
    /// `"type": "bijection"` (0.6).
    Bijection(BijectionTransform),
    /// `"type": "byDimension"` (0.6).
    ByDimension(ByDimensionTransform),
    /// Any other type, verbatim (the map still holds `type`).
    Other(Map<String, Value>),
}

/// Applies `$body` to the typed struct of any variant but [`CoordinateTransformation::Other`].
macro_rules! with_typed {
    ($t:expr, $s:ident => $body:expr, other $m:ident => $other:expr) => {
        match $t {
            CoordinateTransformation::Identity($s) => $body,
            CoordinateTransformation::MapAxis($s) => $body,
            CoordinateTransformation::ProjectAxis($s) => $body,
            CoordinateTransformation::Scale($s) => $body,
            CoordinateTransformation::Translation($s) => $body,
            CoordinateTransformation::Affine($s) => $body,
            CoordinateTransformation::Rotation($s) => $body,
            CoordinateTransformation::Sequence($s) => $body,
            CoordinateTransformation::Displacements($s) => $body,
            CoordinateTransformation::Coordinates($s) => $body,
            CoordinateTransformation::Bijection($s) => $body,
            CoordinateTransformation::ByDimension($s) => $body,
            CoordinateTransformation::Other($m) => $other,
        }
    };
}

/// The `type` strings of 0.6rc0, in the order of its "Transformation types" table.
pub const TRANSFORMATION_TYPES: [&str; 12] = [
    "identity",
    "mapAxis",
    "projectAxis",
    "translation",
    "scale",
    "affine",
    "rotation",
    "sequence",
    "displacements",
    "coordinates",
    "bijection",
    "byDimension",
];

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

    /// An `identity` transformation.
    pub fn identity() -> Self {
        CoordinateTransformation::Identity(IdentityTransform::default())
    }

    /// A `sequence` of `transformations`.
    pub fn sequence(transformations: Vec<CoordinateTransformation>) -> Self {
        CoordinateTransformation::Sequence(SequenceTransform {
            transformations,
            ..Default::default()
        })
    }

    /// An `affine` transformation with an inline matrix (`M` rows of `N + 1`).
    pub fn affine(rows: Vec<Vec<f64>>) -> Self {
        CoordinateTransformation::Affine(AffineTransform {
            affine: Some(rows),
            ..Default::default()
        })
    }

    /// A `mapAxis` transformation.
    pub fn map_axis(map_axis: Vec<usize>) -> Self {
        CoordinateTransformation::MapAxis(MapAxisTransform {
            map_axis,
            ..Default::default()
        })
    }

    /// This transformation with `input` and `output` set.
    #[must_use]
    pub fn with_endpoints(
        mut self,
        input: CoordinateSystemRef,
        output: CoordinateSystemRef,
    ) -> Self {
        self.set_endpoints(Some(input), Some(output));
        self
    }

    /// The `type` string.
    pub fn type_name(&self) -> &str {
        match self {
            CoordinateTransformation::Identity(_) => "identity",
            CoordinateTransformation::MapAxis(_) => "mapAxis",
            CoordinateTransformation::ProjectAxis(_) => "projectAxis",
            CoordinateTransformation::Scale(_) => "scale",
            CoordinateTransformation::Translation(_) => "translation",
            CoordinateTransformation::Affine(_) => "affine",
            CoordinateTransformation::Rotation(_) => "rotation",
            CoordinateTransformation::Sequence(_) => "sequence",
            CoordinateTransformation::Displacements(_) => "displacements",
            CoordinateTransformation::Coordinates(_) => "coordinates",
            CoordinateTransformation::Bijection(_) => "bijection",
            CoordinateTransformation::ByDimension(_) => "byDimension",
            CoordinateTransformation::Other(map) => {
                map.get("type").and_then(Value::as_str).unwrap_or_default()
            }
        }
    }

    /// `name`, when set.
    pub fn name(&self) -> Option<&str> {
        with_typed!(self, t => t.name.as_deref(), other m => m.get("name").and_then(Value::as_str))
    }

    /// `input`, when set (never for [`Self::Other`]).
    pub fn input(&self) -> Option<&CoordinateSystemRef> {
        with_typed!(self, t => t.input.as_ref(), other _m => None)
    }

    /// `output`, when set (never for [`Self::Other`]).
    pub fn output(&self) -> Option<&CoordinateSystemRef> {
        with_typed!(self, t => t.output.as_ref(), other _m => None)
    }

    /// Sets (or clears) `input` and `output`; no effect on [`Self::Other`].
    pub fn set_endpoints(
        &mut self,
        input: Option<CoordinateSystemRef>,
        output: Option<CoordinateSystemRef>,
    ) {
        with_typed!(self, t => { t.input = input; t.output = output; }, other _m => {});
    }

    /// `inputAxes` and `outputAxes` (empty when absent).
    pub fn axes_subset(&self) -> (&[AxisRef], &[AxisRef]) {
        with_typed!(
            self,
            t => (t.input_axes.as_deref().unwrap_or(&[]), t.output_axes.as_deref().unwrap_or(&[])),
            other _m => (&[], &[])
        )
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

    /// The transformations nested in this one (`sequence` and `byDimension` members,
    /// `bijection` forward then inverse).
    pub fn children(&self) -> Vec<&CoordinateTransformation> {
        match self {
            CoordinateTransformation::Sequence(s) => s.transformations.iter().collect(),
            CoordinateTransformation::ByDimension(b) => {
                b.transformations.iter().map(|e| e.parts().0).collect()
            }
            CoordinateTransformation::Bijection(b) => vec![&*b.forward, &*b.inverse],
            _ => Vec::new(),
        }
    }

    /// The array paths this transformation (or one nested in it) reads its parameters from.
    pub fn parameter_paths(&self) -> Vec<&str> {
        let own = match self {
            CoordinateTransformation::Scale(t) => t.path.as_deref(),
            CoordinateTransformation::Translation(t) => t.path.as_deref(),
            CoordinateTransformation::Affine(t) => t.path.as_deref(),
            CoordinateTransformation::Rotation(t) => t.path.as_deref(),
            CoordinateTransformation::Displacements(t)
            | CoordinateTransformation::Coordinates(t) => Some(t.path.as_str()),
            _ => None,
        };
        let mut out: Vec<&str> = own.into_iter().collect();
        for child in self.children() {
            out.extend(child.parameter_paths());
        }
        out
    }
}

fn numbers(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(f64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn matrix(rows: &[Vec<f64>]) -> String {
    let parts: Vec<String> = rows.iter().map(|r| numbers(r)).collect();
    format!("[{}]", parts.join(", "))
}

/// A short form for reports: the type and its parameters, without `input` / `output`
/// (`scale [0.5, 0.5]`, `sequence(scale [1, 1], translation [0.25, 0.25])`).
impl std::fmt::Display for CoordinateTransformation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use CoordinateTransformation as T;
        let kind = self.type_name();
        let from_path = |p: &Option<String>| p.as_ref().map(|p| format!("<array {p}>"));
        match self {
            T::Identity(_) => write!(f, "identity"),
            T::MapAxis(m) => write!(f, "mapAxis {:?}", m.map_axis),
            T::ProjectAxis(p) => write!(
                f,
                "projectAxis dropped {:?} created {:?}",
                p.dropped_inputs.as_deref().unwrap_or(&[]),
                p.created_outputs.as_deref().unwrap_or(&[])
            ),
            T::Scale(s) => {
                let v = s
                    .scale
                    .as_deref()
                    .map(numbers)
                    .or_else(|| from_path(&s.path));
                write!(f, "{kind} {}", v.unwrap_or_default())
            }
            T::Translation(s) => {
                let v = s
                    .translation
                    .as_deref()
                    .map(numbers)
                    .or_else(|| from_path(&s.path));
                write!(f, "{kind} {}", v.unwrap_or_default())
            }
            T::Affine(a) => {
                let v = a
                    .affine
                    .as_deref()
                    .map(matrix)
                    .or_else(|| from_path(&a.path));
                write!(f, "{kind} {}", v.unwrap_or_default())
            }
            T::Rotation(a) => {
                let v = a
                    .rotation
                    .as_deref()
                    .map(matrix)
                    .or_else(|| from_path(&a.path));
                write!(f, "{kind} {}", v.unwrap_or_default())
            }
            T::Displacements(d) | T::Coordinates(d) => write!(f, "{kind} <field {}>", d.path),
            T::Sequence(_) | T::Bijection(_) | T::ByDimension(_) => {
                let parts: Vec<String> = self.children().iter().map(ToString::to_string).collect();
                write!(f, "{kind}({})", parts.join(", "))
            }
            T::Other(_) => write!(f, "{kind} (not understood)"),
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
        let kind = self.type_name();
        let map = with_typed!(
            self,
            t => tagged::<_, S::Error>(kind, t)?,
            other map => return map.serialize(serializer)
        );
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
        if !TRANSFORMATION_TYPES.contains(&kind.as_str()) {
            return Ok(CoordinateTransformation::Other(map));
        }
        map.remove("type");
        Ok(match kind.as_str() {
            "identity" => CoordinateTransformation::Identity(body(map)?),
            "mapAxis" => CoordinateTransformation::MapAxis(body(map)?),
            "projectAxis" => CoordinateTransformation::ProjectAxis(body(map)?),
            "scale" => CoordinateTransformation::Scale(body(map)?),
            "translation" => CoordinateTransformation::Translation(body(map)?),
            "affine" => CoordinateTransformation::Affine(body(map)?),
            "rotation" => CoordinateTransformation::Rotation(body(map)?),
            "sequence" => CoordinateTransformation::Sequence(body(map)?),
            "displacements" => CoordinateTransformation::Displacements(body(map)?),
            "coordinates" => CoordinateTransformation::Coordinates(body(map)?),
            "bijection" => CoordinateTransformation::Bijection(body(map)?),
            _ => CoordinateTransformation::ByDimension(body(map)?),
        })
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
            {"type": "sequence", "transformations": [{"type": "affine", "affine": [[1.0, 0.0]]}]}
        ]);
        let ts: Vec<CoordinateTransformation> = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(ts[0].as_scale(), Some(&[1.0, 0.5][..]));
        assert_eq!(ts[1].as_translation(), Some(&[0.0, 0.25][..]));
        assert_eq!(ts[4].type_name(), "sequence");
        assert!(matches!(ts[4], CoordinateTransformation::Sequence(_)));
        assert_eq!(ts[0].input(), Some(&CoordinateSystemRef::array("s0")));
        assert_eq!(ts[0].output().and_then(|o| o.name.as_deref()), Some("a"));
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

    #[test]
    fn unknown_types_stay_verbatim_and_references_keep_their_form() {
        let v = json!([
            {"type": "warp", "k": 1},
            {"type": "mapAxis", "mapAxis": [1, 0], "input": "in", "output": {"name": "o", "path": null}},
            {"type": "byDimension", "input": {"name": "a"}, "output": {"name": "b"}, "transformations": [
                {"transformation": {"type": "scale", "scale": [2.0]}, "inputAxes": [0], "outputAxes": [0]},
                {"type": "coordinates", "path": "c", "inputAxes": ["j"], "outputAxes": ["y"]}
            ]}
        ]);
        let ts: Vec<CoordinateTransformation> = serde_json::from_value(v.clone()).unwrap();
        assert!(matches!(ts[0], CoordinateTransformation::Other(_)));
        assert!(ts[1].input().unwrap().bare);
        assert_eq!(ts[2].children().len(), 2);
        assert_eq!(ts[2].parameter_paths(), ["c"]);
        assert_eq!(serde_json::to_value(&ts).unwrap(), v);
    }
}
