//! `omero` rendering metadata (transitional; 0.4 spec, "omero metadata").
//!
//! Window values are kept as `f64`: files write both `255` and `255.0`, which are the same
//! JSON number, and a round trip writes them back as floats (compare numerically).

ome_object! {
    /// The `omero` object of an image group.
    #[derive(Default)]
    pub struct Omero ("an omero object") {
        /// `id`: the OMERO image id.
        opt "id" => pub id: Option<i64>,
        /// `name`.
        opt "name" => pub name: Option<String>,
        /// `version`.
        opt "version" => pub version: Option<String>,
        /// `channels`: one entry per channel of the image.
        req "channels" => pub channels: Vec<OmeroChannel>,
        /// `rdefs`: rendering defaults.
        opt "rdefs" => pub rdefs: Option<Rdefs>,
    }
}

ome_object! {
    /// One entry of `omero.channels`.
    #[derive(Default)]
    pub struct OmeroChannel ("an omero channel object") {
        /// `label`.
        opt "label" => pub label: Option<String>,
        /// `color`: hex RGB such as `"FF0000"`.
        opt "color" => pub color: Option<String>,
        /// `window`: the display range.
        opt "window" => pub window: Option<Window>,
        /// `active`.
        opt "active" => pub active: Option<bool>,
        /// `coefficient`.
        opt "coefficient" => pub coefficient: Option<f64>,
        /// `family`: `linear`, ...
        opt "family" => pub family: Option<String>,
        /// `inverted`.
        opt "inverted" => pub inverted: Option<bool>,
    }
}

ome_object! {
    /// `omero.channels[].window`: data range (`min`, `max`) and display range (`start`,
    /// `end`); 0.4 requires all four, the validator samples show files missing some.
    #[derive(Default)]
    pub struct Window ("a window object") {
        /// `min`.
        opt "min" => pub min: Option<f64>,
        /// `max`.
        opt "max" => pub max: Option<f64>,
        /// `start`.
        opt "start" => pub start: Option<f64>,
        /// `end`.
        opt "end" => pub end: Option<f64>,
    }
}

ome_object! {
    /// `omero.rdefs`.
    #[derive(Default)]
    pub struct Rdefs ("an rdefs object") {
        /// `defaultT`.
        opt "defaultT" => pub default_t: Option<i64>,
        /// `defaultZ`.
        opt "defaultZ" => pub default_z: Option<i64>,
        /// `model`: `color` or `greyscale`.
        opt "model" => pub model: Option<String>,
    }
}

impl OmeroChannel {
    /// The `color` as RGB bytes, when it is six hex digits.
    pub fn rgb(&self) -> Option<[u8; 3]> {
        let color = self.color.as_deref()?;
        if color.len() != 6 || !color.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&color[i..i + 2], 16).ok();
        Some([byte(0)?, byte(2)?, byte(4)?])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_fields_and_colour() {
        let o: Omero = serde_json::from_value(json!({
            "channels": [{"color": "FF0080", "window": {"start": 0, "end": 255}, "x": 1}],
            "rdefs": {"model": "greyscale", "defaultZ": 3}
        }))
        .unwrap();
        let c = &o.channels[0];
        assert_eq!(c.rgb(), Some([255, 0, 128]));
        assert_eq!(c.window.as_ref().unwrap().end, Some(255.0));
        assert_eq!(c.extra["x"], 1);
        assert_eq!(o.rdefs.unwrap().default_z, Some(3));
    }
}
