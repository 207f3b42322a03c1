//! Datasets of several images between OME-TIFF and OME-Zarr, as bioformats2raw and
//! raw2ometiff convert them: every series of a multi-image OME-TIFF becomes one image of a bioformats2raw
//! container (NGFF 0.4 section "bioformats2raw.layout", 0.5 alike), and every series of a
//! container or of a multi-image OME-TIFF becomes one image of a single OME-TIFF. The
//! OME-XML travels with the pixels both ways: to `OME/METADATA.ome.xml`, and from it into
//! the TIFF with only its pixel layout rewritten ([`crate::ome_xml::OmeXml::carry_over`]).

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::image::Image;
use crate::location::Location;
use crate::metadata::{NodeKind, OmeAttributes};
use crate::ome_xml::{OmeXml, to_xml};
use crate::options::{Limits, Progress};
use crate::output::staged;
use crate::pyramid::LevelCount;
use crate::source::RegionSource;
use crate::tiff::{
    OmeTiff, TiffImage, TiffWriteOptions, TiffWriteSummary, ome_xml_for, write_ome_tiff_images,
};
use crate::zarr::{ImageMetadata, OmeZarr, WriteOptions, write_group, write_ome_zarr_from_source};

/// Every image (series) of a dataset, in order, with the OME-XML that describes them.
#[derive(Debug)]
pub struct Series {
    images: Vec<Image>,
    ome_xml: Option<OmeXml>,
    plate: bool,
}

impl Series {
    /// The series of `path`: every image of an OME-TIFF (or companion file) with OME-XML,
    /// or the series a bioformats2raw container lists (its `OME` group's `series`, else its
    /// numbered groups, else for a plate its fields) with `OME/METADATA.ome.xml` (NGFF 0.5
    /// section "bioformats2raw.layout": the `series` paths follow the order of the XML's
    /// `Image` elements). `None` for anything else (a plain TIFF, an OME-Zarr image or
    /// plate without the layout), which is one image to [`Image::open`].
    ///
    /// The OME-XML may describe more images than there are series (an OME-TIFF's XML can
    /// also list images stored elsewhere, as `BinData` or `MetadataOnly`); it is then kept
    /// whole for a container, and not carried into an OME-TIFF.
    ///
    /// # Errors
    /// The errors of opening the file, the container, any of its series, or its OME-XML;
    /// a usage error for a container that lists no series.
    pub fn open(path: impl AsRef<Path>, limits: &Limits) -> Result<Option<Series>> {
        let path = path.as_ref();
        if Format::detect(path).is_ok_and(Format::opens_as_tiff) {
            let tiff = Arc::new(OmeTiff::open_with(path, limits.into())?);
            let Some(xml) = tiff.ome_xml().cloned() else {
                return Ok(None);
            };
            let images = (0..tiff.series_count())
                .map(|i| Arc::clone(&tiff).image(i))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Some(Series {
                images,
                ome_xml: Some(xml),
                plate: false,
            }));
        }
        let node = OmeZarr::open_with_limits(path, *limits)?;
        if node.attributes().bioformats2raw_layout.is_none() {
            return Ok(None);
        }
        // A container of a plate: its fields are the series. The `series` list of the OME
        // group gives them in the order of the OME-XML's Images; without it they come in
        // plate order (wells as the plate lists them, fields as each well lists them), which
        // need not be the XML's order, so the XML is then not kept.
        let plate = node.kind() == NodeKind::Plate;
        let mut names = node.series()?;
        let listed = !names.is_empty();
        if plate && !listed {
            for well in node.wells() {
                for field in node.child(&well)?.fields() {
                    names.push(format!("{well}/{field}"));
                }
            }
        }
        if names.is_empty() {
            return Err(Error::usage(format!(
                "{} is a bioformats2raw container with no series",
                path.display()
            )));
        }
        let images = names
            .iter()
            .map(|s| node.child(s)?.image())
            .collect::<Result<Vec<_>>>()?;
        let ome_xml = if listed || !plate {
            node.ome_xml()?
        } else {
            None
        };
        Ok(Some(Series {
            images,
            ome_xml,
            plate,
        }))
    }

    /// The images, series 0 first.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// The OME-XML of the source, when there is one.
    pub fn ome_xml(&self) -> Option<&OmeXml> {
        self.ome_xml.as_ref()
    }

    /// Whether the series are the fields of a plate (a bioformats2raw container of a
    /// plate): they go into one OME-TIFF, whose OME-XML keeps the plate, but not into a
    /// flat container.
    pub fn is_plate(&self) -> bool {
        self.plate
    }

    /// The metadata of every image ([`Image::metadata`] of `level`), to adjust before
    /// passing to the writers.
    pub fn metadata(&self, level: usize) -> Vec<ImageMetadata> {
        self.images.iter().map(|i| i.metadata(level)).collect()
    }
}

/// How [`write_bioformats2raw`] and [`write_series_ome_tiff`] convert.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConvertOptions {
    /// The source level that becomes level 0 of the output.
    pub level: usize,
    /// Copy the levels of the source below `level` (a TIFF's SubIFDs, an OME-Zarr's
    /// datasets) pixel for pixel instead of downsampling anew. For OME-TIFF output only
    /// where they fit SubIFDs (every axis but y and x kept, see [`tiff_levels_fit`]).
    pub keep_pyramid: bool,
    /// With `level` 0 and OME-TIFF output: carry the source's OME-XML into the file.
    pub carry_ome_xml: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            level: 0,
            keep_pyramid: true,
            carry_ome_xml: true,
        }
    }
}

fn metadata_for(
    series: &Series,
    metas: Option<&[ImageMetadata]>,
    level: usize,
) -> Result<Vec<ImageMetadata>> {
    match metas {
        None => Ok(series.metadata(level)),
        Some(m) if m.len() == series.images.len() => Ok(m.to_vec()),
        Some(m) => Err(Error::usage(format!(
            "expected metadata for each of the {} series, found {}",
            series.images.len(),
            m.len()
        ))),
    }
}

/// Writes `series` as a bioformats2raw container at `out`: image `i` at `<out>/<i>`, the
/// OME-XML at `<out>/OME/METADATA.ome.xml`, the `series` list in the `OME` group and
/// `bioformats2raw.layout` 3 at the root (NGFF 0.4 section "bioformats2raw.layout"; 0.5
/// puts both under `attributes.ome` with the version). `metas` replaces the images' own
/// metadata ([`Series::metadata`]). The container is built in a hidden staging directory
/// next to `out` and renamed into place once complete; on error it is removed. Returns the
/// level shapes of every image written, level 0 first.
///
/// # Errors
/// A usage error for an existing `out` without `opts.overwrite`, or metadata of the wrong
/// count; the errors of reading the series and writing the images.
pub fn write_bioformats2raw(
    out: impl AsRef<Path>,
    series: &Series,
    metas: Option<&[ImageMetadata]>,
    opts: &WriteOptions,
    conv: &ConvertOptions,
    progress: Option<&dyn Progress>,
) -> Result<Vec<Vec<Vec<u64>>>> {
    let out = out.as_ref();
    if series.plate {
        return Err(Error::usage(
            "expected series, found the fields of a plate: a plate container converts to one \
             OME-TIFF (every field, the plate kept in its OME-XML) or field by field",
        ));
    }
    let metas = metadata_for(series, metas, conv.level)?;
    staged(out, opts.overwrite, |staging| {
        let mut o = opts.clone();
        o.overwrite = false;
        let mut names = Vec::new();
        let mut shapes = Vec::new();
        for (i, (image, meta)) in series.images.iter().zip(&metas).enumerate() {
            let dir = staging.join(i.to_string());
            shapes.push(
                if conv.keep_pyramid && image.levels().len() > conv.level + 1 {
                    write_levels(&dir, image, conv.level, meta, &o, progress)?
                } else {
                    let source = image.level_source(conv.level)?;
                    write_ome_zarr_from_source(&dir, &source, meta, &o, progress)?.level_shapes
                },
            );
            names.push(i.to_string());
        }
        let ome_dir = staging.join("OME");
        std::fs::create_dir(&ome_dir).map_err(|e| Error::io(Location::file(&ome_dir), e))?;
        if let Some(xml) = &series.ome_xml {
            let xml_path = ome_dir.join("METADATA.ome.xml");
            std::fs::write(&xml_path, to_xml(xml))
                .map_err(|e| Error::io(Location::file(&xml_path), e))?;
        }
        let version = opts.version;
        write_group(
            &ome_dir,
            version,
            crate::zarr::retag(OmeAttributes::new_series(version, names), opts).to_attributes(),
        )?;
        write_group(
            staging,
            version,
            crate::zarr::retag(OmeAttributes::new_bioformats2raw(version), opts).to_attributes(),
        )?;
        Ok(shapes)
    })
}

/// Writes the levels `from..` of `image` as the datasets of one multiscale image at `dir`
/// (a directory inside a staging area), with no new downsampling: the pyramid of the
/// source (a TIFF's SubIFDs, an OME-Zarr's datasets) is kept pixel for pixel. Each level
/// is written as a one-level image inside `dir`, its array moved in as dataset `k`, and
/// the `multiscales` datasets extended with the level's scale and translation.
pub(crate) fn write_levels(
    dir: &Path,
    image: &Image,
    from: usize,
    meta: &ImageMetadata,
    opts: &WriteOptions,
    progress: Option<&dyn Progress>,
) -> Result<Vec<Vec<u64>>> {
    let io = |p: &Path, e: std::io::Error| Error::io(Location::file(p), e);
    let mut o = opts.clone();
    o.levels = LevelCount::Exactly(1);
    o.overwrite = false;
    write_ome_zarr_from_source(dir, &image.level_source(from)?, meta, &o, progress)?;
    let mut datasets = Vec::new();
    let mut shapes = vec![image.levels()[from].shape.clone()];
    for (k, src) in (from + 1..image.levels().len()).enumerate() {
        let k = k + 1;
        let level = &image.levels()[src];
        let tmp = dir.join(format!(".level{k}"));
        let mut mk = meta.clone();
        mk.scale.clone_from(&level.scale);
        mk.translation.clone_from(&level.translation);
        write_ome_zarr_from_source(&tmp, &image.level_source(src)?, &mk, &o, progress)?;
        std::fs::rename(tmp.join("0"), dir.join(k.to_string())).map_err(|e| io(dir, e))?;
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        let n = level.shape.len();
        let scale = level.scale.clone().unwrap_or_else(|| vec![1.0; n]);
        let translation = level
            .translation
            .clone()
            .filter(|t| t.iter().any(|&v| v != 0.0));
        let dataset = if opts.version >= crate::metadata::NgffVersion::V0_6 {
            crate::metadata::Dataset::new_v06(
                k.to_string(),
                crate::zarr::INTRINSIC_SYSTEM,
                scale,
                translation,
            )
        } else {
            crate::metadata::Dataset::new(k.to_string(), scale, translation)
        };
        datasets.push(
            serde_json::to_value(&dataset).map_err(|e| {
                Error::usage(format!("expected dataset metadata to serialise: {e}"))
            })?,
        );
        shapes.push(level.shape.clone());
    }
    let (doc, v3) = if dir.join("zarr.json").is_file() {
        (dir.join("zarr.json"), true)
    } else {
        (dir.join(".zattrs"), false)
    };
    let text = std::fs::read_to_string(&doc).map_err(|e| io(&doc, e))?;
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "expected the JSON just written at {}: {e}",
            doc.display()
        ))
    })?;
    let ms = if v3 {
        v.pointer_mut("/attributes/ome/multiscales/0")
    } else {
        v.pointer_mut("/multiscales/0")
    };
    if let Some(serde_json::Value::Object(ms)) = ms {
        if let Some(serde_json::Value::Array(d)) = ms.get_mut("datasets") {
            d.extend(datasets);
        }
        // Say where the levels come from, not how they were made: the source may not say.
        // Only OME-Zarr images have an NGFF version; the others come from TIFF files.
        let what = if image.version().is_none() {
            "TIFF SubIFDs"
        } else {
            "datasets"
        };
        ms.insert(
            "type".into(),
            serde_json::json!(if what == "datasets" {
                "copied"
            } else {
                "tiff-subifds"
            }),
        );
        ms.insert(
            "metadata".into(),
            serde_json::json!({"method": format!("pyramid levels of the source ({what}), copied")}),
        );
    }
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    std::fs::write(&doc, text).map_err(|e| io(&doc, e))?;
    Ok(shapes)
}

/// Why the levels `from..` of `image` cannot be OME-TIFF SubIFDs, or `None` when they can:
/// SubIFDs hold the same planes at lower resolutions (OME-TIFF spec "Sub-resolutions"), so
/// every axis but y and x keeps its size and y and x never grow.
pub fn tiff_levels_fit(image: &Image, from: usize) -> Option<String> {
    let names = image.axis_names();
    let iy = names.iter().position(|n| n == "y")?;
    let ix = names.iter().position(|n| n == "x")?;
    let levels = image.levels().get(from..)?;
    for pair in levels.windows(2) {
        let (a, b) = (&pair[0].shape, &pair[1].shape);
        if let Some(d) = (0..a.len()).find(|&d| d != iy && d != ix && a[d] != b[d]) {
            return Some(format!(
                "the source's level {} changes axis {} ({} to {}), which OME-TIFF SubIFDs cannot",
                pair[1].path, names[d], a[d], b[d]
            ));
        }
        if b[iy] > a[iy] || b[ix] > a[ix] {
            return Some(format!(
                "the source's level {} is larger in y or x than the level above",
                pair[1].path
            ));
        }
    }
    None
}

/// What [`write_series_ome_tiff`] wrote.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SeriesTiffSummary {
    /// The file written.
    pub tiff: TiffWriteSummary,
    /// Why the source's OME-XML was not carried (it was when `None` and the source has
    /// one): it does not describe the images written, or [`ConvertOptions`] said not to.
    pub ome_xml_not_carried: Option<String>,
    /// Whether the source's levels were copied as the SubIFDs.
    pub pyramid_kept: bool,
    /// Why they were not, when asked to keep them and some image had levels to keep.
    pub pyramid_not_kept: Option<String>,
}

/// Writes every image of `series` into one OME-TIFF at `out`, as raw2ometiff does: image
/// `i` is series `i`, and the source's OME-XML is carried with its pixel layout rewritten
/// (when [`ConvertOptions::carry_ome_xml`], `level` is 0, and the XML describes the images'
/// sizes and types; otherwise the XML is made from `metas`). `metas` replaces the images'
/// own metadata ([`Series::metadata`]).
///
/// # Errors
/// As [`write_ome_tiff_images`]; a usage error for metadata of the wrong count.
pub fn write_series_ome_tiff(
    out: impl AsRef<Path>,
    series: &Series,
    metas: Option<&[ImageMetadata]>,
    opts: &TiffWriteOptions,
    conv: &ConvertOptions,
) -> Result<SeriesTiffSummary> {
    let out = out.as_ref();
    let metas = metadata_for(series, metas, conv.level)?;
    // The source's levels below `level` for each image, when asked and when every image's
    // fit SubIFDs; otherwise the writer makes new ones for all.
    let mut pyramid_not_kept = None;
    let mut lower: Vec<Vec<crate::LevelSource<'_>>> = Vec::new();
    if conv.keep_pyramid {
        for image in &series.images {
            if let Some(why) = tiff_levels_fit(image, conv.level) {
                pyramid_not_kept = Some(why);
                lower.clear();
                break;
            }
            lower.push(
                (conv.level + 1..image.levels().len())
                    .map(|k| image.level_source(k))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
    } else {
        pyramid_not_kept = Some("new levels were asked for".to_string());
    }
    let lower_dyn: Vec<Vec<&dyn RegionSource>> = lower
        .iter()
        .map(|v| v.iter().map(|s| s as &dyn RegionSource).collect())
        .collect();
    let sources = series
        .images
        .iter()
        .map(|i| i.level_source(conv.level))
        .collect::<Result<Vec<_>>>()?;
    let images: Vec<TiffImage<'_>> = sources
        .iter()
        .zip(&metas)
        .enumerate()
        .map(|(i, (s, m))| {
            let image = TiffImage::new(s, m);
            match lower_dyn.get(i) {
                Some(levels) if !levels.is_empty() => image.with_levels(levels),
                _ => image,
            }
        })
        .collect();
    let pyramid_kept = !lower_dyn.is_empty() && lower_dyn.iter().any(|l| !l.is_empty());
    let mut opts = opts.clone();
    let not_carried = match &series.ome_xml {
        None => Some("the source has no OME-XML".to_string()),
        Some(_) if !conv.carry_ome_xml => Some("not asked to".to_string()),
        Some(_) if conv.level != 0 => Some(format!("level {} is written, not level 0", conv.level)),
        Some(xml) => {
            opts.ome_xml = Some(xml.clone());
            match ome_xml_for(out, &images, &opts) {
                Ok(_) => None,
                Err(e) => {
                    opts.ome_xml = None;
                    Some(e.to_string())
                }
            }
        }
    };
    let tiff = write_ome_tiff_images(out, &images, &opts)?;
    Ok(SeriesTiffSummary {
        tiff,
        ome_xml_not_carried: not_carried,
        pyramid_kept,
        pyramid_not_kept: if pyramid_kept { None } else { pyramid_not_kept },
    })
}
