//! An OME-TIFF series as a format-neutral [`crate::Image`].

use std::sync::Arc;

use crate::dtype::DynArray;
use crate::error::{Error, Result};
use crate::image::model::{Image, ImageParts, Level, LevelRead};
use crate::metadata::{Axis, OmeroChannel};

use super::read::OmeTiff;

/// One level of one series of an open OME-TIFF.
#[derive(Debug, Clone)]
pub(crate) struct TiffLevel {
    pub tiff: Arc<OmeTiff>,
    pub series: usize,
    pub level: usize,
}

impl LevelRead for TiffLevel {
    fn read_level_region(&self, start: &[u64], shape: &[u64], parallel: bool) -> Result<DynArray> {
        self.tiff
            .read_region_par(self.series, self.level, start, shape, parallel)
    }
}

impl OmeTiff {
    /// Builds the format-neutral [`crate::Image`] of `series`.
    ///
    /// # Errors
    /// A usage error when the series does not exist.
    pub fn image(self: Arc<Self>, series: usize) -> Result<Image> {
        image_of(self, series)
    }
}

fn image_of(tiff: Arc<OmeTiff>, series: usize) -> Result<Image> {
    let s = tiff.series().get(series).ok_or_else(|| {
        Error::usage(format!(
            "series {series} does not exist; the file has {}",
            tiff.series_count()
        ))
    })?;
    let px = &s.pixels;
    let unit_of = |u: Option<crate::ome_xml::UnitsLength>| {
        length_unit_name(
            u.unwrap_or(crate::ome_xml::UnitsLength::Micrometer)
                .symbol(),
        )
    };
    let time_unit = px.time_increment.and_then(|_| {
        time_unit_name(
            px.time_increment_unit
                .unwrap_or(crate::ome_xml::UnitsTime::Second)
                .symbol(),
        )
    });
    let axes = vec![
        Axis::new("t", Some("time"), time_unit),
        Axis::new("c", Some("channel"), None),
        Axis::new(
            "z",
            Some("space"),
            px.physical_size_z.and(unit_of(px.physical_size_z_unit)),
        ),
        Axis::new(
            "y",
            Some("space"),
            px.physical_size_y.and(unit_of(px.physical_size_y_unit)),
        ),
        Axis::new(
            "x",
            Some("space"),
            px.physical_size_x.and(unit_of(px.physical_size_x_unit)),
        ),
    ];
    let base = [
        px.time_increment.unwrap_or(1.0),
        1.0,
        px.physical_size_z.unwrap_or(1.0),
        px.physical_size_y.unwrap_or(1.0),
        px.physical_size_x.unwrap_or(1.0),
    ];
    let mut levels = Vec::new();
    let mut readers = Vec::new();
    let s0 = s.level_shapes[0];
    for (k, shape) in s.level_shapes.iter().enumerate() {
        let (bh, bw) = s.level_blocks[k];
        let mut scale = base.to_vec();
        scale[3] *= s0[3] as f64 / shape[3] as f64;
        scale[4] *= s0[4] as f64 / shape[4] as f64;
        levels.push(Level {
            path: k.to_string(),
            shape: shape.to_vec(),
            chunks: vec![1, 1, 1, bh.min(shape[3]), bw.min(shape[4])],
            shards: None,
            dtype: s.dtype,
            codecs: vec![s.compression.clone()],
            transform: Some(crate::metadata::CoordinateTransformation::scale(
                scale.clone(),
            )),
            scale: Some(scale),
            translation: None,
        });
        readers.push(Arc::new(TiffLevel {
            tiff: tiff.clone(),
            series,
            level: k,
        }) as Arc<dyn LevelRead>);
    }
    let channels = px
        .channels
        .iter()
        .map(|c| OmeroChannel {
            label: c.name.clone(),
            color: c.color.map(|c| c.to_hex_rgb()),
            ..OmeroChannel::default()
        })
        .collect();
    let mut parts = ImageParts::new(
        tiff.path().to_path_buf(),
        axes,
        levels.into_iter().zip(readers).collect(),
    );
    parts.name.clone_from(&s.name);
    parts.channels = channels;
    Image::from_parts(parts)
}

/// OME length unit symbols and their UDUNITS-2 names (NGFF "axes": space units).
const LENGTH_UNITS: &[(&str, &str)] = &[
    ("µm", "micrometer"),
    ("nm", "nanometer"),
    ("mm", "millimeter"),
    ("cm", "centimeter"),
    ("m", "meter"),
    ("pm", "picometer"),
    ("Å", "angstrom"),
    ("km", "kilometer"),
    ("in", "inch"),
    ("ft", "foot"),
];

/// OME time unit symbols and their UDUNITS-2 names (NGFF "axes": time units).
const TIME_UNITS: &[(&str, &str)] = &[
    ("s", "second"),
    ("ms", "millisecond"),
    ("µs", "microsecond"),
    ("ns", "nanosecond"),
    ("ps", "picosecond"),
    ("min", "minute"),
    ("h", "hour"),
    ("d", "day"),
];

fn name_of(table: &[(&str, &'static str)], symbol: &str) -> Option<&'static str> {
    table.iter().find(|(s, _)| *s == symbol).map(|(_, n)| *n)
}

fn symbol_of<'a>(table: &[(&'a str, &str)], name: &str) -> Option<&'a str> {
    table.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
}

/// The UDUNITS-2 name of an OME length unit symbol, when NGFF knows it.
pub(crate) fn length_unit_name(symbol: &str) -> Option<&'static str> {
    name_of(LENGTH_UNITS, if symbol == "um" { "µm" } else { symbol })
}

/// The UDUNITS-2 name of an OME time unit symbol, when NGFF knows it.
pub(crate) fn time_unit_name(symbol: &str) -> Option<&'static str> {
    name_of(TIME_UNITS, symbol)
}

/// The OME length unit of an NGFF (UDUNITS-2) unit name.
pub(crate) fn length_unit(name: &str) -> Option<crate::ome_xml::UnitsLength> {
    symbol_of(LENGTH_UNITS, name).and_then(crate::ome_xml::UnitsLength::from_symbol)
}

/// The OME time unit of an NGFF (UDUNITS-2) unit name.
pub(crate) fn time_unit(name: &str) -> Option<crate::ome_xml::UnitsTime> {
    symbol_of(TIME_UNITS, name).and_then(crate::ome_xml::UnitsTime::from_symbol)
}
