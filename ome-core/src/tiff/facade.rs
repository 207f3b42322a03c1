//! An OME-TIFF series as a format-neutral [`crate::Image`].

use std::sync::Arc;

use crate::dtype::DynArray;
use crate::error::{Error, Result};
use crate::image::{Image, Level, LevelReader};
use crate::metadata::{Axis, OmeroChannel};

use super::read::OmeTiff;

/// One level of one series of an open OME-TIFF.
#[derive(Debug, Clone)]
pub(crate) struct TiffLevel {
    pub tiff: Arc<OmeTiff>,
    pub series: usize,
    pub level: usize,
}

impl TiffLevel {
    pub fn read_region(&self, start: &[u64], shape: &[u64], parallel: bool) -> Result<DynArray> {
        self.tiff
            .read_region_par(self.series, self.level, start, shape, parallel)
    }
}

pub(crate) fn image_of(tiff: Arc<OmeTiff>, series: usize) -> Result<Image> {
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
    let axes = vec![
        Axis::new("t", Some("time"), None),
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
            scale: Some(scale),
            translation: None,
        });
        readers.push(LevelReader::Tiff(TiffLevel {
            tiff: tiff.clone(),
            series,
            level: k,
        }));
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
    Ok(Image {
        path: tiff.path().to_path_buf(),
        name: s.name.clone(),
        version: None,
        axes,
        levels,
        channels,
        readers,
    })
}

/// The UDUNITS-2 name of an OME length unit symbol, when NGFF knows it.
pub(crate) fn length_unit_name(symbol: &str) -> Option<&'static str> {
    Some(match symbol {
        "µm" | "um" => "micrometer",
        "nm" => "nanometer",
        "mm" => "millimeter",
        "cm" => "centimeter",
        "m" => "meter",
        "pm" => "picometer",
        "Å" => "angstrom",
        "km" => "kilometer",
        "in" => "inch",
        "ft" => "foot",
        _ => return None,
    })
}
