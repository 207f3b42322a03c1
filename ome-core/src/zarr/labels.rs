//! Adding label images to an existing OME-Zarr image (NGFF 0.4 / 0.5 "labels" and
//! "image-label"): the label pyramid is staged and renamed into `labels/<name>`, and only
//! then is the `labels` group's list updated.

use std::collections::BTreeSet;
use std::path::Path;

use ndarray::ArrayViewD;

use super::hierarchy::OmeZarr;
use super::write::{
    ImageMetadata, Level0, WriteOptions, WriteSummary, write_group, write_image_into,
};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::location::Location;
use crate::metadata::{ImageLabel, LabelColor, LabelSource, NgffVersion, OmeAttributes};
use crate::options::NoProgress;
use crate::output::staged;
use crate::pyramid::Downsample;

/// Most distinct label values given automatic colours; beyond that no `colors` are written.
const MAX_AUTO_COLORS: usize = 4096;

/// How to write a label image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LabelOptions {
    /// Chunking, compression, levels; the NGFF version is taken from the image.
    /// Default downsampling is [`Downsample::Mode`], which keeps the label set.
    pub write: WriteOptions,
    /// `image-label` colours; `None` gives every label value found a distinct colour.
    pub colors: Option<Vec<LabelColor>>,
    /// `image-label` properties (one object per label value with `label-value`).
    pub properties: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

impl Default for LabelOptions {
    fn default() -> Self {
        let write = WriteOptions {
            downsample: Downsample::Mode,
            ..WriteOptions::default()
        };
        LabelOptions {
            write,
            colors: None,
            properties: None,
        }
    }
}

/// A colour for a label value, spread around the hue circle so neighbours differ.
fn auto_color(value: u64) -> [u8; 4] {
    // Golden-ratio hue steps, full saturation and value.
    let h = (value as f64 * 0.618_033_988_749_895).fract() * 6.0;
    let x = 1.0 - ((h % 2.0) - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    let c = |v: f64| (v * 255.0).round() as u8;
    [c(r), c(g), c(b), 255]
}

fn auto_colors<T: Element>(data: &ArrayViewD<'_, T>) -> Option<Vec<LabelColor>> {
    if T::DTYPE.is_float() {
        return None;
    }
    let mut values = BTreeSet::new();
    for &v in data {
        let v = v.to_f64();
        if v != 0.0 {
            values.insert(v as i128);
            if values.len() > MAX_AUTO_COLORS {
                return None;
            }
        }
    }
    Some(
        values
            .into_iter()
            .filter_map(|v| u64::try_from(v).ok())
            .map(|v| LabelColor::new(v, auto_color(v)))
            .collect(),
    )
}

/// Writes `data` as the label image `name` of the image at `image_path`, and lists it in
/// the image's `labels` group.
///
/// # Errors
/// A usage error when `image_path` is not an image, the label has a different number of
/// dimensions, or a label of that name exists (without `overwrite`); storage errors.
pub fn write_labels<T: Element>(
    image_path: impl AsRef<Path>,
    name: &str,
    data: ArrayViewD<'_, T>,
    opts: &LabelOptions,
) -> Result<WriteSummary> {
    let image_path = image_path.as_ref();
    let node = OmeZarr::open(image_path)?;
    let image = node.image()?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(Error::usage(format!(
            "expected a label name without '/' or a leading '.', found {name:?}"
        )));
    }
    if data.ndim() != image.axes().len() {
        return Err(Error::usage(format!(
            "the label image has {} dimensions, the image has {}: NGFF requires the same",
            data.ndim(),
            image.axes().len()
        )));
    }
    let version = match node.version() {
        Some(NgffVersion::V0_4) => NgffVersion::V0_4,
        Some(NgffVersion::V0_5) => NgffVersion::V0_5,
        Some(NgffVersion::V0_6) => NgffVersion::V0_6,
        other => {
            return Err(Error::unsupported(
                Location::file(image_path),
                format!(
                    "can add labels to NGFF 0.4, 0.5 or 0.6 images, found {}",
                    other.map_or("no version", |v| v.as_str())
                ),
            ));
        }
    };
    let meta = ImageMetadata {
        axes: image.axes().to_vec(),
        scale: image.levels().first().and_then(|l| l.scale.clone()),
        translation: image.levels().first().and_then(|l| l.translation.clone()),
        name: Some(name.to_string()),
        ..ImageMetadata::default()
    };
    let mut write = opts.write.clone();
    write.version = version;
    // The label image and the labels group carry the image's version string as written
    // (the version MUST be consistent within a hierarchy).
    if version.is_nested() && write.version_tag.is_none() {
        write.version_tag = node.attributes().raw_version().map(str::to_owned);
    }
    let colors = match &opts.colors {
        Some(c) => Some(c.clone()),
        None => auto_colors(&data),
    };
    let image_label = ImageLabel {
        colors,
        properties: opts.properties.clone(),
        source: Some(LabelSource {
            image: Some("../../".to_string()),
            ..LabelSource::default()
        }),
        ..ImageLabel::default()
    };
    let labels_dir = image_path.join("labels");
    let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
    let summary = staged(&labels_dir.join(name), write.overwrite, |dir| {
        write_image_into(
            dir,
            Level0::Memory(data),
            &shape,
            &meta,
            &write,
            Some(image_label),
            &NoProgress,
        )
    })?;
    // The list is updated last, once the label image is complete.
    let mut names = node.label_names()?;
    if !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
    let attrs = match node.child("labels") {
        Ok(group) => {
            let mut a = group.attributes().clone();
            a.labels = Some(names);
            a
        }
        Err(_) => super::retag(OmeAttributes::new_labels(version, names), &write),
    };
    write_group(&labels_dir, version, attrs.to_attributes())?;
    Ok(summary)
}
