//! `ome convert`: OME-Zarr, OME-TIFF (or plain TIFF) or .npy in; OME-Zarr, OME-TIFF or .npy out.

use std::path::{Path, PathBuf};

use clap::Args;
use ome_core::convert::{ConvertOptions, Series, write_bioformats2raw, write_series_ome_tiff};
use ome_core::metadata::{Axis, NgffVersion};
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{
    Compression, Error, Image, ImageMetadata, NpyReader, OmeZarr, RegionSource, Result, Selection,
    WriteOptions, write_npy, write_ome_zarr_from_source,
};

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input: an OME-Zarr image (or a label image / plate field path inside one), an OME-TIFF,
    /// plain TIFF or .companion.ome file, or a .npy file.
    input: PathBuf,
    /// Output: a directory for OME-Zarr, a file ending in .ome.tif / .tif / .tiff / .btf for
    /// OME-TIFF, or a file ending in .npy.
    output: PathBuf,
    /// NGFF version of OME-Zarr output: 0.4 (Zarr v2) or 0.5 (Zarr v3).
    #[arg(long, default_value = "0.5")]
    ngff_version: String,
    /// Compression: none, zstd[:L], gzip[:L], blosc-<zstd|lz4|lz4hc|zlib|blosclz>[:L][:shuffle|noshuffle|bitshuffle].
    #[arg(long, default_value = "blosc-zstd:1")]
    compression: String,
    /// Chunk shape, comma separated (inner chunks when sharded).
    #[arg(long)]
    chunks: Option<String>,
    /// Shard shape, comma separated (0.5 only).
    #[arg(long)]
    shards: Option<String>,
    /// Number of pyramid levels, level 0 included.
    #[arg(long, conflicts_with = "min_size")]
    levels: Option<usize>,
    /// Add levels until the smallest downsampled side is at most this.
    #[arg(long, default_value_t = 256)]
    min_size: u64,
    /// Downsampling: mean, nearest, mode (labels) or gaussian.
    #[arg(long, default_value = "mean")]
    downsample: String,
    /// Downsampling factor per axis, comma separated (default 2 on y and x).
    #[arg(long)]
    factors: Option<String>,
    /// Axis letters of .npy input, such as tczyx (default by dimension count).
    #[arg(long)]
    axes: Option<String>,
    /// Pixel size per axis, comma separated.
    #[arg(long)]
    scale: Option<String>,
    /// Units per axis: "t=second,z=micrometer,y=micrometer,x=micrometer".
    #[arg(long)]
    units: Option<String>,
    /// Channel names, comma separated.
    #[arg(long)]
    channel_names: Option<String>,
    /// Image name.
    #[arg(long)]
    name: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Replace an existing output once the new one is complete.
    #[arg(long)]
    overwrite: bool,
    /// Level to export to .npy.
    #[arg(long, default_value_t = 0)]
    level: usize,
    /// Selection to export to .npy: "t=0,c=1,z=10:20".
    #[arg(long)]
    select: Option<String>,
    /// Tile size of OME-TIFF output: "256" or "HEIGHT,WIDTH" (multiples of 16).
    #[arg(long, default_value = "256")]
    tile: String,
    /// Write OME-TIFF output as BigTIFF (default: only when it could pass 4 GB).
    #[arg(long)]
    bigtiff: bool,
    /// Series of a multi-image OME-TIFF or bioformats2raw input (default: the first; for
    /// OME-TIFF output from such input, every series, one image each).
    #[arg(long)]
    series: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn tiff_options(args: &ConvertArgs) -> Result<ome_core::tiff::TiffWriteOptions> {
    let mut o = ome_core::tiff::TiffWriteOptions::default();
    if args.compression != "blosc-zstd:1" {
        let (name, level) = match args.compression.split_once(':') {
            Some((n, l)) => (
                n,
                Some(l.parse::<i32>().map_err(|_| {
                    Error::usage(format!(
                        "expected NAME[:LEVEL] for --compression, found {:?}",
                        args.compression
                    ))
                })?),
            ),
            None => (args.compression.as_str(), None),
        };
        o.compression = name.parse()?;
        o.compression_level = level;
    }
    let tile: Vec<u32> = parse_list(&args.tile, "--tile")?;
    o.tile = match tile.as_slice() {
        [t] => (*t, *t),
        [h, w] => (*h, *w),
        _ => {
            return Err(Error::usage(format!(
                "expected --tile N or H,W, found {:?}",
                args.tile
            )));
        }
    };
    o.levels = args.levels;
    o.downsample = args.downsample.parse::<Downsample>()?;
    o.bigtiff = args.bigtiff.then_some(true);
    o.overwrite = args.overwrite;
    Ok(o)
}

fn parse_list<T: std::str::FromStr>(s: &str, what: &str) -> Result<Vec<T>> {
    s.split(',')
        .map(|p| {
            p.trim().parse::<T>().map_err(|_| {
                Error::usage(format!(
                    "expected a comma-separated list of numbers for {what}, found {s:?}"
                ))
            })
        })
        .collect()
}

fn is_npy(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Applies `--units`, `--scale` and `--channel-names` on top of metadata.
fn apply_overrides(meta: &mut ImageMetadata, args: &ConvertArgs) -> Result<()> {
    if let Some(scale) = &args.scale {
        meta.scale = Some(parse_list(scale, "--scale")?);
    }
    if let Some(units) = &args.units {
        for part in units.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (axis, unit) = part.split_once('=').ok_or_else(|| {
                Error::usage(format!("expected AXIS=UNIT in --units, found {part:?}"))
            })?;
            let a: &mut Axis = meta
                .axes
                .iter_mut()
                .find(|a| a.name == axis.trim())
                .ok_or_else(|| {
                    Error::usage(format!(
                        "--units names axis {axis:?}, which the image does not have"
                    ))
                })?;
            a.unit = Some(unit.trim().to_string());
        }
    }
    if let Some(names) = &args.channel_names {
        meta.channel_names = names.split(',').map(|s| s.trim().to_string()).collect();
    }
    if let Some(name) = &args.name {
        meta.name = Some(name.clone());
    }
    Ok(())
}

fn write_options(args: &ConvertArgs) -> Result<WriteOptions> {
    let mut o = WriteOptions::default();
    o.version = match args.ngff_version.as_str() {
        "0.4" => NgffVersion::V0_4,
        "0.5" => NgffVersion::V0_5,
        v => {
            return Err(Error::usage(format!(
                "expected --ngff-version 0.4 or 0.5, found {v:?}"
            )));
        }
    };
    o.compression = args.compression.parse::<Compression>()?;
    o.chunks = args
        .chunks
        .as_deref()
        .map(|c| parse_list(c, "--chunks"))
        .transpose()?;
    o.shards = args
        .shards
        .as_deref()
        .map(|c| parse_list(c, "--shards"))
        .transpose()?;
    o.factors = args
        .factors
        .as_deref()
        .map(|c| parse_list(c, "--factors"))
        .transpose()?;
    o.levels = match args.levels {
        Some(n) => LevelCount::Exactly(n),
        None => LevelCount::MinSize(args.min_size),
    };
    o.downsample = args.downsample.parse::<Downsample>()?;
    o.overwrite = args.overwrite;
    o.jobs = args.jobs;
    Ok(o)
}

/// The image at `path`: [`Image::open_series`] for an OME-TIFF (series 0 by default) or
/// when `--series` is given; otherwise the OME-Zarr image itself, with a hint for groups
/// that hold images (a plate, a well, a bioformats2raw container).
fn open_image(path: &Path, series: Option<usize>, limits: &ome_core::Limits) -> Result<Image> {
    if ome_core::is_tiff_input(path) || series.is_some() {
        return Image::open_series(path, series.unwrap_or(0), limits);
    }
    let node = OmeZarr::open_with_limits(path, *limits)?;
    if node.attributes().multiscales.is_none() {
        let hint = match node.kind() {
            ome_core::metadata::NodeKind::Plate => format!(
                " (a plate: give a field such as {}/{}/0)",
                path.display(),
                node.wells().first().map_or("A/1", String::as_str)
            ),
            ome_core::metadata::NodeKind::Bioformats2raw => format!(
                " (a bioformats2raw container: give --series N or a series such as {}/0)",
                path.display()
            ),
            ome_core::metadata::NodeKind::Well => {
                format!(" (a well: give a field such as {}/0)", path.display())
            }
            _ => String::new(),
        };
        return Err(Error::usage(format!(
            "{} holds no image{hint}",
            path.display()
        )));
    }
    node.image()
}

/// The metadata of each series, with the metadata options applied to every one.
fn series_metadata(series: &Series, args: &ConvertArgs) -> Result<Vec<ImageMetadata>> {
    let mut metas = series.metadata(args.level);
    for meta in &mut metas {
        apply_overrides(meta, args)?;
    }
    Ok(metas)
}

/// Whether a metadata option (--scale, --units, --channel-names, --name) is given.
fn overrides_metadata(args: &ConvertArgs) -> bool {
    args.scale.is_some()
        || args.units.is_some()
        || args.channel_names.is_some()
        || args.name.is_some()
}

/// Every series of the input (a multi-image OME-TIFF or a bioformats2raw container) when
/// no `--series` picks one; `None` for input that is one image.
fn every_series(args: &ConvertArgs, limits: &ome_core::Limits) -> Result<Option<Series>> {
    if args.series.is_some() || is_npy(&args.input) {
        return Ok(None);
    }
    Series::open(&args.input, limits)
}

pub(crate) fn run(args: &ConvertArgs, limits: &ome_core::Limits) -> Result<()> {
    let bar = crate::Bar::new(args.quiet);
    let result = if is_npy(&args.output) {
        if args.output.exists() && !args.overwrite {
            return Err(Error::usage(format!(
                "{} exists; pass --overwrite to replace it",
                args.output.display()
            )));
        }
        let data = if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            if args.select.is_some() {
                return Err(Error::usage("--select applies to OME-Zarr input"));
            }
            reader.read_all()?
        } else {
            let image = open_image(&args.input, args.series, limits)?;
            let sel = match &args.select {
                Some(s) => s.parse::<Selection>()?,
                None => Selection::all(),
            };
            image.read(args.level, &sel)?
        };
        write_npy(&args.output, &data)
    } else if ome_core::tiff::is_tiff_path(&args.output) {
        let opts = tiff_options(args)?;
        if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            let mut meta = match &args.axes {
                Some(a) => ImageMetadata::from_axis_letters(a)?,
                None => ImageMetadata::default_for_ndim(reader.shape().len())?,
            };
            apply_overrides(&mut meta, args)?;
            ome_core::tiff::write_ome_tiff(&args.output, &reader, &meta, &opts).map(|_| ())
        } else if let Some(series) = every_series(args, limits)? {
            // raw2ometiff: every series, the input's OME-XML carried.
            let metas = series_metadata(&series, args)?;
            let mut conv = ConvertOptions::default();
            conv.level = args.level;
            conv.carry_ome_xml = !overrides_metadata(args);
            let s = write_series_ome_tiff(&args.output, &series, Some(&metas), &opts, &conv)?;
            if series.ome_xml().is_some()
                && let Some(why) = s.ome_xml_not_carried
            {
                let why = if conv.carry_ome_xml {
                    why
                } else {
                    "metadata options replace it".to_string()
                };
                eprintln!("note: the input's OME-XML is not carried: {why}");
            }
            Ok(())
        } else {
            let image = open_image(&args.input, args.series, limits)?;
            let mut meta = image.metadata(args.level);
            apply_overrides(&mut meta, args)?;
            let source = image.level_source(args.level)?;
            ome_core::tiff::write_ome_tiff(&args.output, &source, &meta, &opts).map(|_| ())
        }
    } else {
        let mut opts = write_options(args)?;
        opts.limits = *limits;
        if let Some(series) = every_series(args, limits)? {
            // bioformats2raw: every series, the OME-XML under OME/, the TIFF's own pyramid
            // kept unless --levels asks for another.
            let metas = series_metadata(&series, args)?;
            let mut conv = ConvertOptions::default();
            conv.level = args.level;
            conv.keep_pyramid = args.levels.is_none();
            write_bioformats2raw(
                &args.output,
                &series,
                Some(&metas),
                &opts,
                &conv,
                Some(&bar),
            )
        } else if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            let mut meta = match &args.axes {
                Some(a) => ImageMetadata::from_axis_letters(a)?,
                None => ImageMetadata::default_for_ndim(reader.shape().len())?,
            };
            apply_overrides(&mut meta, args)?;
            write_ome_zarr_from_source(&args.output, &reader, &meta, &opts, Some(&bar)).map(|_| ())
        } else {
            let image = open_image(&args.input, args.series, limits)?;
            let mut meta = image.metadata(args.level);
            if args.axes.is_some() {
                return Err(Error::usage(
                    "--axes applies to .npy input; OME-Zarr input keeps its axes",
                ));
            }
            apply_overrides(&mut meta, args)?;
            let source = image.level_source(args.level)?;
            write_ome_zarr_from_source(&args.output, &source, &meta, &opts, Some(&bar)).map(|_| ())
        }
    };
    bar.finish();
    result
}
