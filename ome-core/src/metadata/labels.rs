//! `labels` and `image-label` metadata (0.4 spec, "labels metadata", "image-label metadata").

use serde_json::{Map, Number, Value};

ome_object! {
    /// The `image-label` object of a label image.
    #[derive(Default)]
    pub struct ImageLabel ("an image-label object") {
        /// `version` (0.4 and earlier only).
        opt "version" => pub version: Option<String>,
        /// `colors`: display colours per label value.
        opt "colors" => pub colors: Option<Vec<LabelColor>>,
        /// `properties`: free-form properties per label value (each has `label-value`).
        opt "properties" => pub properties: Option<Vec<Map<String, Value>>>,
        /// `source`: the image the labels belong to.
        opt "source" => pub source: Option<LabelSource>,
    }
}

ome_object! {
    /// One entry of `image-label.colors`.
    pub struct LabelColor ("a label colour object") {
        /// `label-value`: the pixel value. A JSON number kept exactly (integers stay
        /// integers).
        req "label-value" => pub label_value: Number,
        /// `rgba`: four integers 0–255.
        opt "rgba" => pub rgba: Option<Vec<u8>>,
    }
}

ome_object! {
    /// `image-label.source`.
    #[derive(Default)]
    pub struct LabelSource ("a label source object") {
        /// `image`: relative path to the image group (default `../../`).
        opt "image" => pub image: Option<String>,
    }
}

impl LabelColor {
    /// A colour entry for an integer label value.
    pub fn new(label_value: u64, rgba: [u8; 4]) -> Self {
        LabelColor {
            label_value: label_value.into(),
            rgba: Some(rgba.to_vec()),
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_label_round_trip() {
        let v = json!({
            "version": "0.4",
            "colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}, {"label-value": 2.5}],
            "properties": [{"label-value": 1, "area": 5}],
            "source": {"image": "../../"}
        });
        let l: ImageLabel = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(l.colors.as_ref().unwrap()[0].label_value.as_u64(), Some(1));
        assert_eq!(serde_json::to_value(&l).unwrap(), v);
        assert!(
            serde_json::from_value::<LabelColor>(json!({"label-value": 1, "rgba": [256]})).is_err()
        );
    }
}
