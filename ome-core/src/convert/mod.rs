//! Conversion, decided in one place: [`convert`] takes an input, an output and a
//! [`ConvertRequest`], and picks the reader (by [`Format::detect`]), the writer (by
//! [`Format::for_output`]), the pyramid (the source's levels kept unless new ones are asked
//! for) and the metadata carried (OME-XML, channels, names, physical sizes). `ome convert`
//! and `ome_py.convert` only fill the request and render the [`ConvertSummary`].
//!
//! | input \ output | OME-Zarr | OME-TIFF | .npy |
//! |---|---|---|---|
//! | OME-Zarr image (or label image, plate field) | levels copied | levels copied as SubIFDs | one level, a selection |
//! | bioformats2raw container | a container, levels copied | every series in one file, XML carried | one series |
//! | OME-TIFF (several images) | a bioformats2raw container, XML under `OME/` | every image, XML carried | one image |
//! | OME-TIFF (one image), plain TIFF | levels copied | XML carried, levels copied | one image |
//! | .npy | a new pyramid | a new pyramid | a copy |
//!
//! Levels are copied when the source has levels below the one converted and the request
//! keeps them ([`PyramidPolicy::KeepSource`], the default); for OME-TIFF output only where
//! they fit SubIFDs (same planes, smaller y and x). Otherwise the writer makes new levels
//! from its options, and the summary says so and why.

mod series;

use std::path::Path;

pub use series::{
    ConvertOptions, Series, SeriesTiffSummary, tiff_levels_fit, write_bioformats2raw,
    write_series_ome_tiff,
};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::image::Image;
use crate::image_metadata::ImageMetadata;
use crate::metadata::NodeKind;
use crate::npy::{NpyReader, write_npy};
use crate::options::{Compression, Limits, NoProgress, Progress};
use crate::output::staged;
use crate::selection::Selection;
use crate::source::RegionSource;
use crate::tiff::{TiffCompression, TiffImage, TiffWriteOptions, write_ome_tiff};
use crate::zarr::{OmeZarr, WriteOptions, write_ome_zarr_from_source};

/// Metadata given by the user, applied on top of what the source says.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MetadataOverrides {
    /// Axis letters of a `.npy` input, such as `tczyx` (default by dimension count). Other
    /// inputs keep their axes, and giving this for them is a usage error.
    pub axes: Option<String>,
    /// Physical pixel size per axis.
    pub scale: Option<Vec<f64>>,
    /// Units by axis name, such as `("z", "micrometer")`.
    pub units: Vec<(String, String)>,
    /// Channel names.
    pub channel_names: Option<Vec<String>>,
    /// Image name.
    pub name: Option<String>,
}

impl MetadataOverrides {
    /// Whether anything but `axes` is given: the source's OME-XML is then not carried, since
    /// it would contradict the new values.
    pub fn replaces_metadata(&self) -> bool {
        self.scale.is_some()
            || !self.units.is_empty()
            || self.channel_names.is_some()
            || self.name.is_some()
    }

    /// Applies the overrides to `meta`.
    ///
    /// # Errors
    /// A usage error for a unit of an axis the image does not have.
    pub fn apply(&self, meta: &mut ImageMetadata) -> Result<()> {
        if let Some(scale) = &self.scale {
            meta.scale = Some(scale.clone());
        }
        for (axis, unit) in &self.units {
            let a = meta
                .axes
                .iter_mut()
                .find(|a| a.name == *axis)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "a unit is given for axis {axis:?}, which the image does not have"
                    ))
                })?;
            a.unit = Some(unit.clone());
        }
        if let Some(names) = &self.channel_names {
            meta.channel_names.clone_from(names);
        }
        if let Some(name) = &self.name {
            meta.name = Some(name.clone());
        }
        Ok(())
    }
}

/// Where the levels of the output come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PyramidPolicy {
    /// Copy the source's levels below the converted one, pixel for pixel (as
    /// bioformats2raw and raw2ometiff do); a source with none gets new levels from the
    /// writer's options.
    #[default]
    KeepSource,
    /// Make new levels from the converted level with the writer's options.
    New,
}

/// What to convert, and how. Start from [`ConvertRequest::default`] and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConvertRequest {
    /// The series of a multi-image OME-TIFF or bioformats2raw container. `None`: every
    /// series for OME-TIFF and OME-Zarr output (a container, or one multi-image file),
    /// series 0 for `.npy`.
    pub series: Option<usize>,
    /// The source level that becomes level 0 of the output.
    pub level: usize,
    /// The part of the level to write, for `.npy` output.
    pub selection: Option<Selection>,
    /// Metadata on top of the source's.
    pub metadata: MetadataOverrides,
    /// The source's levels or new ones.
    pub pyramid: PyramidPolicy,
    /// A compression in the output format's vocabulary, replacing the one in `zarr` or
    /// `tiff`: for OME-Zarr see [`Compression`]'s `FromStr`; for OME-TIFF `NAME[:LEVEL]`
    /// with NAME one of none, deflate, zstd, lzw.
    pub compression: Option<String>,
    /// How OME-Zarr output is written.
    pub zarr: WriteOptions,
    /// How OME-TIFF output is written.
    pub tiff: TiffWriteOptions,
    /// Limits for reading the input.
    pub limits: Limits,
    /// Carry the source's OME-XML into OME-TIFF output (or under `OME/` of a container),
    /// where it describes what is written and no metadata override contradicts it.
    pub carry_ome_xml: bool,
    /// Replace an existing output once the new one is complete.
    pub overwrite: bool,
}

impl Default for ConvertRequest {
    fn default() -> Self {
        ConvertRequest {
            series: None,
            level: 0,
            selection: None,
            metadata: MetadataOverrides::default(),
            pyramid: PyramidPolicy::KeepSource,
            compression: None,
            zarr: WriteOptions::default(),
            tiff: TiffWriteOptions::default(),
            limits: Limits::default(),
            carry_ome_xml: true,
            overwrite: false,
        }
    }
}

/// Where the levels of the output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PyramidOutcome {
    /// The source's levels, copied pixel for pixel.
    Copied,
    /// New levels made by the writer (or only level 0 when it made none).
    Generated,
    /// The output has no levels (`.npy`).
    None,
}

/// What [`convert`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConvertSummary {
    /// The input's format.
    pub input: Format,
    /// The output's format.
    pub output: Format,
    /// Level shapes of each image written, level 0 first (one shape for `.npy`).
    pub level_shapes: Vec<Vec<Vec<u64>>>,
    /// Where the levels came from.
    pub pyramid: PyramidOutcome,
    /// Whether the source's OME-XML went into the output.
    pub ome_xml_carried: bool,
    /// What the user should know: why levels or OME-XML were not kept, options that had no
    /// effect. One sentence each.
    pub notes: Vec<String>,
    /// Bytes written, where the writer counts them (0 otherwise).
    pub bytes_written: u64,
}

impl ConvertSummary {
    fn new(input: Format, output: Format) -> Self {
        ConvertSummary {
            input,
            output,
            level_shapes: Vec::new(),
            pyramid: PyramidOutcome::None,
            ome_xml_carried: false,
            notes: Vec::new(),
            bytes_written: 0,
        }
    }

    /// How many images were written.
    pub fn images(&self) -> usize {
        self.level_shapes.len()
    }
}

/// Converts `input` to `output` as `request` says; see the [module documentation](self) for
/// what each pair of formats gives. Outputs appear whole or not at all: each writer builds
/// its output beside the target and moves it into place once complete.
///
/// # Errors
/// Usage errors for options that do not apply (axes for an input that has them, a series
/// or level that does not exist, a selection for OME-Zarr or OME-TIFF output) or an
/// existing output without `overwrite`; the errors of reading the input and writing the
/// output.
pub fn convert(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    request: &ConvertRequest,
) -> Result<ConvertSummary> {
    convert_with_progress(input, output, request, &NoProgress)
}

/// [`convert`], reporting bytes written to `progress` (OME-Zarr output).
///
/// # Errors
/// As [`convert`].
pub fn convert_with_progress(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    request: &ConvertRequest,
    progress: &dyn Progress,
) -> Result<ConvertSummary> {
    let (input, output) = (input.as_ref(), output.as_ref());
    let from = input_format(input)?;
    let to = Format::for_output(output);
    let mut summary = ConvertSummary::new(from, to);
    if from != Format::Npy
        && let Some(axes) = &request.metadata.axes
    {
        return Err(Error::usage(format!(
            "axes {axes:?} apply to .npy input; {} keeps its own axes",
            input.display()
        )));
    }
    if to != Format::Npy && request.selection.is_some() {
        return Err(Error::usage(
            "a selection applies to .npy output; OME-Zarr and OME-TIFF outputs hold whole levels",
        ));
    }
    match to {
        Format::Npy => to_npy(input, from, output, request, &mut summary)?,
        Format::OmeTiff => to_tiff(input, from, output, request, &mut summary)?,
        _ => to_zarr(input, from, output, request, progress, &mut summary)?,
    }
    Ok(summary)
}

/// The input's format: what [`Format::detect`] says, with a missing path or a lone JSON
/// document refused as input.
fn input_format(input: &Path) -> Result<Format> {
    match Format::detect(input)? {
        Format::AttributesJson => Err(Error::usage(format!(
            "{} is neither an OME-Zarr directory, an OME-TIFF, an OME-XML companion nor a .npy",
            input.display()
        ))),
        f => Ok(f),
    }
}

/// Metadata for a `.npy` input of `ndim` dimensions: the given axes or the default ones,
/// with the overrides applied.
fn npy_metadata(request: &ConvertRequest, ndim: usize) -> Result<ImageMetadata> {
    let mut meta = match &request.metadata.axes {
        Some(a) => ImageMetadata::from_axis_letters(a)?,
        None => ImageMetadata::default_for_ndim(ndim)?,
    };
    request.metadata.apply(&mut meta)?;
    Ok(meta)
}

/// The one image of `input` to convert: series `series` (0 by default) of an OME-TIFF or
/// container; otherwise the OME-Zarr image, with a hint for groups that hold images.
fn open_image(input: &Path, from: Format, request: &ConvertRequest) -> Result<Image> {
    if from.opens_as_tiff() || request.series.is_some() {
        return Image::open_series(input, request.series.unwrap_or(0), &request.limits);
    }
    let node = OmeZarr::open_with_limits(input, request.limits)?;
    if node.attributes().multiscales.is_none() {
        let hint = match node.kind() {
            NodeKind::Plate => format!(
                " (a plate: give a field such as {}/{}/0)",
                input.display(),
                node.wells().first().map_or("A/1", String::as_str)
            ),
            NodeKind::Bioformats2raw => format!(
                " (a bioformats2raw container: give a series number or a series such as {}/0)",
                input.display()
            ),
            NodeKind::Well => format!(" (a well: give a field such as {}/0)", input.display()),
            _ => String::new(),
        };
        return Err(Error::usage(format!(
            "{} holds no image{hint}",
            input.display()
        )));
    }
    node.image()
}

/// The metadata of `image`'s level `level` with the overrides applied, after checking the
/// level exists.
fn image_metadata(image: &Image, request: &ConvertRequest) -> Result<ImageMetadata> {
    if request.level >= image.levels().len() {
        return Err(Error::usage(format!(
            "level {} does not exist; {} has {} levels",
            request.level,
            image.path().display(),
            image.levels().len()
        )));
    }
    let mut meta = image.metadata(request.level);
    request.metadata.apply(&mut meta)?;
    Ok(meta)
}

/// Refuses to write `image` in a format that stores only a per-axis scale and translation
/// (NGFF 0.4 / 0.5, OME-TIFF) when a 0.6 transformation of it does not reduce to that: the
/// level transformations and the multiscale transformations from or to the intrinsic system
/// (0.4 and 0.5 have one coordinate system, so reducible extra systems are not carried).
///
/// # Errors
/// [`crate::ErrorKind::Unsupported`], naming the transformation, with the
/// [`crate::metadata::TransformError`] as its source.
pub fn check_reducible(image: &Image, target: &str) -> Result<()> {
    if image.coordinate_systems().is_empty() {
        return Ok(()); // Not 0.6: its transformations are a scale and translation already.
    }
    let n = image.axes().len();
    let refuse = |what: String, e: crate::metadata::TransformError| {
        Error::unsupported(
            crate::Location::file(image.path()),
            format!("{target} stores only a scale and translation per axis; {what}: {e}"),
        )
        .with_source(e)
    };
    for (k, level) in image.levels().iter().enumerate() {
        if let Some(t) = &level.transform {
            crate::metadata::scale_translation_of(t, n)
                .map_err(|e| refuse(format!("level {k}"), e))?;
        }
    }
    for (i, t) in image.transformations().iter().enumerate() {
        let (input, output) = (t.input(), t.output());
        let width = image
            .coordinate_systems()
            .iter()
            .find(|c| input.and_then(|r| r.name.as_deref()) == Some(c.name.as_str()))
            .map_or(n, |c| c.axes.len());
        if input.is_some_and(|r| r.path.is_some()) || output.is_some_and(|r| r.path.is_some()) {
            continue; // A link to a label image: not part of this image's geometry.
        }
        crate::metadata::scale_translation_of(t, width).map_err(|e| {
            refuse(
                format!(
                    "multiscale transformation {i} ({})",
                    t.name().unwrap_or(t.type_name())
                ),
                e,
            )
        })?;
    }
    Ok(())
}

/// Every series of the input, for OME-TIFF or OME-Zarr output without a series chosen.
fn every_series(input: &Path, from: Format, request: &ConvertRequest) -> Result<Option<Series>> {
    if request.series.is_some() || from == Format::Npy {
        return Ok(None);
    }
    Series::open(input, &request.limits)
}

/// The metadata of every series with the overrides applied, and the options of the
/// series writers.
fn series_plan(
    series: &Series,
    request: &ConvertRequest,
) -> Result<(Vec<ImageMetadata>, ConvertOptions)> {
    let mut metas = series.metadata(request.level);
    for meta in &mut metas {
        request.metadata.apply(meta)?;
    }
    let conv = ConvertOptions {
        level: request.level,
        keep_pyramid: request.pyramid == PyramidPolicy::KeepSource,
        ..ConvertOptions::default()
    };
    Ok((metas, conv))
}

/// Whether the image has levels below the converted one to keep.
fn has_lower_levels(image: &Image, request: &ConvertRequest) -> bool {
    image.levels().len() > request.level + 1
}

fn to_npy(
    input: &Path,
    from: Format,
    output: &Path,
    request: &ConvertRequest,
    summary: &mut ConvertSummary,
) -> Result<()> {
    crate::output::check_target(output, request.overwrite)?;
    let data = if from == Format::Npy {
        if request.selection.is_some() {
            return Err(Error::usage(
                "a selection applies to OME-Zarr or OME-TIFF input",
            ));
        }
        NpyReader::open(input)?.read_all()?
    } else {
        let image = open_image(input, from, request)?;
        let all = Selection::all();
        image.read(request.level, request.selection.as_ref().unwrap_or(&all))?
    };
    summary
        .level_shapes
        .push(vec![data.shape().iter().map(|&d| d as u64).collect()]);
    write_npy(output, &data)
}

/// The TIFF options of the request: its compression, if any, parsed as `NAME[:LEVEL]`.
fn tiff_options(request: &ConvertRequest) -> Result<TiffWriteOptions> {
    let mut o = request.tiff.clone();
    o.overwrite = request.overwrite;
    if let Some(c) = &request.compression {
        let (name, level) = match c.split_once(':') {
            Some((n, l)) => (
                n,
                Some(l.trim().parse::<i32>().map_err(|_| {
                    Error::usage(format!(
                        "expected an OME-TIFF compression NAME[:LEVEL], found {c:?}"
                    ))
                })?),
            ),
            None => (c.as_str(), None),
        };
        o.compression = name.trim().parse::<TiffCompression>()?;
        o.compression_level = level;
    }
    Ok(o)
}

/// The Zarr options of the request: its compression, if any, and its overwrite.
fn zarr_options(request: &ConvertRequest) -> Result<WriteOptions> {
    let mut o = request.zarr.clone();
    o.overwrite = request.overwrite;
    o.limits = request.limits;
    if let Some(c) = &request.compression {
        o.compression = c.parse::<Compression>()?;
    }
    Ok(o)
}

fn to_tiff(
    input: &Path,
    from: Format,
    output: &Path,
    request: &ConvertRequest,
    summary: &mut ConvertSummary,
) -> Result<()> {
    let opts = tiff_options(request)?;
    if from == Format::Npy {
        let reader = NpyReader::open(input)?;
        let meta = npy_metadata(request, reader.shape().len())?;
        let s = write_ome_tiff(output, &reader, &meta, &opts)?;
        summary.pyramid = PyramidOutcome::Generated;
        summary.bytes_written = s.bytes;
        summary.level_shapes = tiff_shapes(&s.image_level_shapes);
        return Ok(());
    }
    if let Some(series) = every_series(input, from, request)? {
        // raw2ometiff: every series in one file, the input's OME-XML carried.
        let (metas, mut conv) = series_plan(&series, request)?;
        conv.carry_ome_xml = request.carry_ome_xml && !request.metadata.replaces_metadata();
        let s = write_series_ome_tiff(output, &series, Some(&metas), &opts, &conv)?;
        summary.ome_xml_carried = series.ome_xml().is_some() && s.ome_xml_not_carried.is_none();
        if series.ome_xml().is_some()
            && let Some(why) = s.ome_xml_not_carried
        {
            let why = if request.carry_ome_xml && request.metadata.replaces_metadata() {
                "metadata options replace it".to_string()
            } else {
                why
            };
            summary
                .notes
                .push(format!("the input's OME-XML is not carried: {why}"));
        }
        summary.pyramid = pyramid_outcome(s.pyramid_kept, s.pyramid_not_kept, request, summary);
        summary.bytes_written = s.tiff.bytes;
        summary.level_shapes = tiff_shapes(&s.tiff.image_level_shapes);
        return Ok(());
    }
    let image = open_image(input, from, request)?;
    check_reducible(&image, "OME-TIFF")?;
    let meta = image_metadata(&image, request)?;
    let source = image.level_source(request.level)?;
    let mut lower = Vec::new();
    let mut not_kept = None;
    if request.pyramid == PyramidPolicy::KeepSource && has_lower_levels(&image, request) {
        match tiff_levels_fit(&image, request.level) {
            None => {
                for k in request.level + 1..image.levels().len() {
                    lower.push(image.level_source(k)?);
                }
            }
            Some(why) => not_kept = Some(why),
        }
    }
    let lower_dyn: Vec<&dyn RegionSource> = lower.iter().map(|s| s as &dyn RegionSource).collect();
    let tiff_image = TiffImage::new(&source, &meta).with_levels(&lower_dyn);
    let s = crate::tiff::write_ome_tiff_images(output, &[tiff_image], &opts)?;
    summary.pyramid = pyramid_outcome(!lower_dyn.is_empty(), not_kept, request, summary);
    summary.bytes_written = s.bytes;
    summary.level_shapes = tiff_shapes(&s.image_level_shapes);
    Ok(())
}

/// The outcome, with a note when levels the request would keep could not be.
fn pyramid_outcome(
    kept: bool,
    not_kept: Option<String>,
    request: &ConvertRequest,
    summary: &mut ConvertSummary,
) -> PyramidOutcome {
    if kept {
        return PyramidOutcome::Copied;
    }
    if request.pyramid == PyramidPolicy::KeepSource
        && let Some(why) = not_kept
    {
        summary.notes.push(format!(
            "the source's levels are not kept ({why}); new levels are made"
        ));
    }
    PyramidOutcome::Generated
}

fn tiff_shapes(shapes: &[Vec<[u64; 5]>]) -> Vec<Vec<Vec<u64>>> {
    shapes
        .iter()
        .map(|levels| levels.iter().map(|s| s.to_vec()).collect())
        .collect()
}

fn to_zarr(
    input: &Path,
    from: Format,
    output: &Path,
    request: &ConvertRequest,
    progress: &dyn Progress,
    summary: &mut ConvertSummary,
) -> Result<()> {
    let opts = zarr_options(request)?;
    let keep = request.pyramid == PyramidPolicy::KeepSource;
    if let Some(series) = every_series(input, from, request)? {
        // bioformats2raw: every series, the OME-XML under OME/, the source's levels kept
        // unless new ones are asked for.
        let (metas, conv) = series_plan(&series, request)?;
        summary.level_shapes =
            write_bioformats2raw(output, &series, Some(&metas), &opts, &conv, Some(progress))?;
        summary.ome_xml_carried = series.ome_xml().is_some();
        let kept =
            conv.keep_pyramid && series.images().iter().any(|i| has_lower_levels(i, request));
        summary.pyramid = if kept {
            PyramidOutcome::Copied
        } else {
            PyramidOutcome::Generated
        };
        return Ok(());
    }
    if from == Format::Npy {
        let reader = NpyReader::open(input)?;
        let meta = npy_metadata(request, reader.shape().len())?;
        let s = write_ome_zarr_from_source(output, &reader, &meta, &opts, Some(progress))?;
        summary.pyramid = PyramidOutcome::Generated;
        summary.bytes_written = s.bytes_written;
        summary.level_shapes.push(s.level_shapes);
        return Ok(());
    }
    let image = open_image(input, from, request)?;
    if opts.version < crate::metadata::NgffVersion::V0_6 {
        check_reducible(&image, &format!("NGFF {}", opts.version))?;
    }
    let meta = image_metadata(&image, request)?;
    if keep && has_lower_levels(&image, request) {
        let shapes = staged(output, opts.overwrite, |dir| {
            // The staging directory is ours and empty; the writer of level 0 makes its
            // own in its place (it creates only what does not exist).
            std::fs::remove_dir(dir).map_err(|e| Error::io(crate::Location::file(dir), e))?;
            series::write_levels(dir, &image, request.level, &meta, &opts, Some(progress))
        })?;
        summary.pyramid = PyramidOutcome::Copied;
        summary.level_shapes.push(shapes);
        return Ok(());
    }
    let source = image.level_source(request.level)?;
    let s = write_ome_zarr_from_source(output, &source, &meta, &opts, Some(progress))?;
    summary.pyramid = PyramidOutcome::Generated;
    summary.bytes_written = s.bytes_written;
    summary.level_shapes.push(s.level_shapes);
    Ok(())
}
