//! Everything OME that a Zarr group's attributes hold, in one version-normalised struct.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::labels::ImageLabel;
use super::multiscales::Multiscale;
use super::omero::Omero;
use super::plate::{Plate, Well};
use super::scene::Scene;
use super::version::NgffVersion;
use super::{describe_serde_error, pointer_of};
use crate::location::{Location, escape_pointer_token};
use crate::{Error, Result};

/// The attribute key of the bioformats2raw layout version (0.4 spec, "bioformats2raw.layout").
pub const BIOFORMATS2RAW_LAYOUT_KEY: &str = "bioformats2raw.layout";

/// The only bioformats2raw layout version the spec defines.
pub const BIOFORMATS2RAW_LAYOUT_VERSION: u64 = 3;

/// The keys that mark a Zarr group as OME metadata.
pub const OME_KEYS: [&str; 9] = [
    "multiscales",
    "scene",
    "omero",
    "labels",
    "image-label",
    "plate",
    "well",
    BIOFORMATS2RAW_LAYOUT_KEY,
    "series",
];

/// Where in the attributes the OME metadata lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttributeLayout {
    /// 0.1–0.4: OME keys directly in `.zattrs`, each object with its own `version`.
    #[default]
    TopLevel,
    /// 0.5+: everything under the `ome` key, with one `ome.version` (0.5 spec, "OME-Zarr
    /// Metadata").
    Nested,
}

impl AttributeLayout {
    /// The layout `version` writes.
    pub fn for_version(version: NgffVersion) -> Self {
        if version.is_nested() {
            AttributeLayout::Nested
        } else {
            AttributeLayout::TopLevel
        }
    }
}

/// What an OME-Zarr group is, judged from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeKind {
    /// `multiscales`: an image (a label image also has `image-label`).
    Image,
    /// `plate`.
    Plate,
    /// `well`.
    Well,
    /// `labels`: the group listing the label images of an image.
    Labels,
    /// `bioformats2raw.layout`: the root of a bioformats2raw hierarchy.
    Bioformats2raw,
    /// `scene` (0.6): a group relating the coordinate systems of the images below it.
    Scene,
    /// `series` alone: the `OME` group of a bioformats2raw hierarchy.
    Series,
    /// No OME metadata.
    Unknown,
}

impl NodeKind {
    /// A short lowercase name: `image`, `plate`, `well`, `labels`, `bioformats2raw`,
    /// `series`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Image => "image",
            NodeKind::Plate => "plate",
            NodeKind::Well => "well",
            NodeKind::Labels => "labels",
            NodeKind::Bioformats2raw => "bioformats2raw",
            NodeKind::Series => "series",
            NodeKind::Scene => "scene",
            NodeKind::Unknown => "unknown",
        }
    }

    /// A phrase for messages: "a plate", "no OME metadata".
    pub fn describe(self) -> &'static str {
        match self {
            NodeKind::Image => "an image",
            NodeKind::Plate => "a plate",
            NodeKind::Well => "a well",
            NodeKind::Labels => "a labels group",
            NodeKind::Bioformats2raw => "a bioformats2raw container",
            NodeKind::Series => "a bioformats2raw OME group",
            NodeKind::Scene => "a scene",
            NodeKind::Unknown => "no OME metadata",
        }
    }
}

/// The OME metadata of one Zarr group's attributes, the same shape for every version.
///
/// [`OmeAttributes::from_attributes`] then [`OmeAttributes::to_attributes`] gives back the
/// same JSON (numbers compared as numbers: an integer `2` where this crate stores `f64` writes
/// back as `2.0`). Keys this crate does not model are kept in `extra` (inside `ome`) and
/// `other_attributes` (outside the OME objects).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OmeAttributes {
    /// Where the metadata lives (and will be written).
    pub layout: AttributeLayout,
    /// `ome.version` (0.5+), as written, even when it names no known version. See
    /// [`OmeAttributes::version`].
    pub container_version: Option<String>,
    /// `multiscales`.
    pub multiscales: Option<Vec<Multiscale>>,
    /// `omero`.
    pub omero: Option<Omero>,
    /// `labels`: names of the label images of a labels group.
    pub labels: Option<Vec<String>>,
    /// `image-label`.
    pub image_label: Option<ImageLabel>,
    /// `plate`.
    pub plate: Option<Plate>,
    /// `well`.
    pub well: Option<Well>,
    /// `bioformats2raw.layout` (3).
    pub bioformats2raw_layout: Option<u64>,
    /// `series`: image group paths listed by the bioformats2raw `OME` group.
    pub series: Option<Vec<String>>,
    /// `scene` (0.6): transformations between the images below this group.
    pub scene: Option<Scene>,
    /// Other keys inside `ome` (0.5+). Always empty after reading
    /// the top-level layout; if set there, written at the top level.
    pub extra: Map<String, Value>,
    /// Attributes outside the OME metadata, kept verbatim.
    pub other_attributes: Map<String, Value>,
}

/// Deserialises `map[key]`, turning a failure into a format error at its JSON Pointer.
fn parse_key<T: DeserializeOwned>(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
    base: &Location,
) -> Result<Option<T>> {
    let Some(value) = map.get(key) else {
        return Ok(None);
    };
    serde_path_to_error::deserialize(value)
        .map(Some)
        .map_err(|e| {
            let pointer = format!(
                "{prefix}/{}{}",
                escape_pointer_token(key),
                pointer_of(e.path())
            );
            let message = describe_serde_error(&e.into_inner().to_string());
            Error::format(base.clone().with_pointer(&pointer), message)
        })
}

fn to_json<T: Serialize>(value: &T) -> Value {
    // Every metadata type serialises to JSON: string keys only, no failing impls.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl OmeAttributes {
    /// Reads the OME metadata from a group's attributes.
    ///
    /// An object under `ome` that holds `version` or any OME key means the 0.5+ nested
    /// layout; otherwise the OME keys are read from the top level (0.1–0.4). A version string
    /// that names no known version is not an error here (see [`Self::raw_version`]).
    ///
    /// # Errors
    ///
    /// A [`crate::ErrorKind::Format`] error when an OME object does not have the shape the
    /// spec gives it; its location is `base` with the JSON Pointer of the offending value
    /// appended (prefixed by `/ome` in the nested layout).
    pub fn from_attributes(attrs: &Map<String, Value>, base: &Location) -> Result<Self> {
        let nested = match attrs.get("ome") {
            Some(Value::Object(ome))
                if ome.contains_key("version") || OME_KEYS.iter().any(|k| ome.contains_key(*k)) =>
            {
                Some(ome)
            }
            _ => None,
        };
        let (layout, map, prefix) = match nested {
            Some(ome) => (AttributeLayout::Nested, ome, "/ome"),
            None => (AttributeLayout::TopLevel, attrs, ""),
        };
        let container_version = match (layout, map.get("version")) {
            (AttributeLayout::Nested, Some(Value::String(v))) => Some(v.clone()),
            (AttributeLayout::Nested, Some(other)) => {
                return Err(Error::format(
                    base.clone().with_pointer("/ome/version"),
                    format!("expected a version string, found {other}"),
                ));
            }
            _ => None,
        };
        let known = |k: &str| OME_KEYS.contains(&k) || (nested.is_some() && k == "version");
        let extra = match layout {
            AttributeLayout::Nested => map
                .iter()
                .filter(|(k, _)| !known(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            AttributeLayout::TopLevel => Map::new(),
        };
        let other_attributes = attrs
            .iter()
            .filter(|(k, _)| match layout {
                AttributeLayout::Nested => k.as_str() != "ome",
                AttributeLayout::TopLevel => !known(k),
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(OmeAttributes {
            layout,
            container_version,
            multiscales: parse_key(map, "multiscales", prefix, base)?,
            omero: parse_key(map, "omero", prefix, base)?,
            labels: parse_key(map, "labels", prefix, base)?,
            image_label: parse_key(map, "image-label", prefix, base)?,
            plate: parse_key(map, "plate", prefix, base)?,
            well: parse_key(map, "well", prefix, base)?,
            bioformats2raw_layout: parse_key(map, BIOFORMATS2RAW_LAYOUT_KEY, prefix, base)?,
            series: parse_key(map, "series", prefix, base)?,
            scene: parse_key(map, "scene", prefix, base)?,
            extra,
            other_attributes,
        })
    }

    /// Writes the attributes back: the inverse of [`Self::from_attributes`].
    pub fn to_attributes(&self) -> Map<String, Value> {
        let mut ome = Map::new();
        if self.layout == AttributeLayout::Nested
            && let Some(v) = &self.container_version
        {
            ome.insert("version".to_owned(), Value::String(v.clone()));
        }
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                ome.insert(key.to_owned(), value);
            }
        };
        put("multiscales", self.multiscales.as_ref().map(to_json));
        put("omero", self.omero.as_ref().map(to_json));
        put("labels", self.labels.as_ref().map(to_json));
        put("image-label", self.image_label.as_ref().map(to_json));
        put("plate", self.plate.as_ref().map(to_json));
        put("well", self.well.as_ref().map(to_json));
        put(
            BIOFORMATS2RAW_LAYOUT_KEY,
            self.bioformats2raw_layout.map(Value::from),
        );
        put("series", self.series.as_ref().map(to_json));
        put("scene", self.scene.as_ref().map(to_json));
        ome.extend(self.extra.clone());
        match self.layout {
            AttributeLayout::Nested => {
                let mut out = Map::new();
                out.insert("ome".to_owned(), Value::Object(ome));
                out.extend(self.other_attributes.clone());
                out
            }
            AttributeLayout::TopLevel => {
                ome.extend(self.other_attributes.clone());
                ome
            }
        }
    }

    /// The version string as written: `ome.version` (0.5+), else the first per-object
    /// `version` (multiscales, plate, well, image-label). `None` for 0.1/0.2 data without one
    /// and for 0.5-style data that lacks `ome.version`.
    pub fn raw_version(&self) -> Option<&str> {
        if let Some(v) = &self.container_version {
            return Some(v);
        }
        let multiscale = self
            .multiscales
            .iter()
            .flatten()
            .find_map(|m| m.version.as_deref());
        multiscale
            .or_else(|| self.plate.as_ref().and_then(|p| p.version.as_deref()))
            .or_else(|| self.well.as_ref().and_then(|w| w.version.as_deref()))
            .or_else(|| self.image_label.as_ref().and_then(|l| l.version.as_deref()))
    }

    /// The NGFF version of this metadata (see [`Self::raw_version`]); `None` also when the
    /// string names no known version.
    pub fn version(&self) -> Option<NgffVersion> {
        self.raw_version().and_then(NgffVersion::parse)
    }

    /// What kind of node these attributes describe.
    pub fn kind(&self) -> NodeKind {
        if self.multiscales.is_some() {
            NodeKind::Image
        } else if self.plate.is_some() {
            NodeKind::Plate
        } else if self.well.is_some() {
            NodeKind::Well
        } else if self.labels.is_some() {
            NodeKind::Labels
        } else if self.bioformats2raw_layout.is_some() {
            NodeKind::Bioformats2raw
        } else if self.series.is_some() {
            NodeKind::Series
        } else if self.scene.is_some() {
            NodeKind::Scene
        } else {
            NodeKind::Unknown
        }
    }

    /// Empty attributes in the layout of `version` (with `ome.version` for 0.5+).
    pub fn empty(version: NgffVersion) -> Self {
        let layout = AttributeLayout::for_version(version);
        OmeAttributes {
            layout,
            container_version: (layout == AttributeLayout::Nested)
                .then(|| version.as_str().to_owned()),
            ..OmeAttributes::default()
        }
    }

    /// An object's own `version`: set for 0.1–0.4, removed for 0.5+ (where only
    /// `ome.version` exists).
    fn object_version(version: NgffVersion) -> Option<String> {
        (!version.is_nested()).then(|| version.as_str().to_owned())
    }

    /// The attributes of an image group (a label image when `image_label` is given).
    pub fn new_image(
        version: NgffVersion,
        mut multiscale: Multiscale,
        omero: Option<Omero>,
        image_label: Option<ImageLabel>,
    ) -> Self {
        multiscale.version = Self::object_version(version);
        let image_label = image_label.map(|mut l| {
            l.version = Self::object_version(version);
            l
        });
        OmeAttributes {
            multiscales: Some(vec![multiscale]),
            omero,
            image_label,
            ..Self::empty(version)
        }
    }

    /// The attributes of a labels group listing the label images `names`.
    pub fn new_labels(version: NgffVersion, names: Vec<String>) -> Self {
        OmeAttributes {
            labels: Some(names),
            ..Self::empty(version)
        }
    }

    /// The attributes of a plate group.
    pub fn new_plate(version: NgffVersion, mut plate: Plate) -> Self {
        plate.version = Self::object_version(version);
        OmeAttributes {
            plate: Some(plate),
            ..Self::empty(version)
        }
    }

    /// The attributes of a well group.
    pub fn new_well(version: NgffVersion, mut well: Well) -> Self {
        well.version = Self::object_version(version);
        OmeAttributes {
            well: Some(well),
            ..Self::empty(version)
        }
    }

    /// The attributes of a bioformats2raw root group (`"bioformats2raw.layout": 3`).
    pub fn new_bioformats2raw(version: NgffVersion) -> Self {
        OmeAttributes {
            bioformats2raw_layout: Some(BIOFORMATS2RAW_LAYOUT_VERSION),
            ..Self::empty(version)
        }
    }

    /// The attributes of a bioformats2raw `OME` group listing its image groups.
    pub fn new_series(version: NgffVersion, series: Vec<String>) -> Self {
        OmeAttributes {
            series: Some(series),
            ..Self::empty(version)
        }
    }
}
