//! `ome convert`: OME-Zarr or .npy in, OME-Zarr or .npy out.

use std::path::{Path, PathBuf};

use clap::Args;
use ome_core::metadata::{Axis, NgffVersion};
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{
    Compression, Error, Image, ImageMetadata, NpyReader, OmeZarr, RegionSource, Result, Selection,
    WriteOptions, write_npy, write_ome_zarr_from_source,
};

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input: an OME-Zarr image (or a label image / plate field path inside one) or a .npy file.
    input: PathBuf,
    /// Output: a directory for OME-Zarr, or a file ending in .npy.
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
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
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

/// Metadata of an existing image carried over to its copy; the pixel size and offset
/// are those of the level that becomes the new level 0.
fn metadata_of(image: &Image, level: usize) -> ImageMetadata {
    let mut meta = ImageMetadata::default();
    meta.axes = image.axes().to_vec();
    if let Some(source) = image.levels().get(level) {
        meta.scale = source.scale.clone();
        meta.translation = source.translation.clone();
    }
    meta.name = image.name().map(str::to_string);
    meta.channel_names = image
        .channels()
        .iter()
        .filter_map(|c| c.label.clone())
        .collect();
    meta.channel_colors = image
        .channels()
        .iter()
        .filter_map(|c| c.color.clone())
        .collect();
    if meta.channel_names.len() != image.channels().len() {
        meta.channel_names.clear();
    }
    if meta.channel_colors.len() != image.channels().len() {
        meta.channel_colors.clear();
    }
    meta
}

fn open_image(path: &Path) -> Result<Image> {
    let node = OmeZarr::open(path)?;
    if node.attributes().multiscales.is_none() {
        let hint = match node.kind() {
            ome_core::metadata::NodeKind::Plate => format!(
                " (a plate: give a field such as {}/{}/0)",
                path.display(),
                node.wells().first().map_or("A/1", String::as_str)
            ),
            ome_core::metadata::NodeKind::Bioformats2raw => format!(
                " (a bioformats2raw container: give a series such as {}/0)",
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

pub(crate) fn run(args: &ConvertArgs) -> Result<()> {
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
            let image = open_image(&args.input)?;
            let sel = match &args.select {
                Some(s) => s.parse::<Selection>()?,
                None => Selection::all(),
            };
            image.read(args.level, &sel)?
        };
        write_npy(&args.output, &data)
    } else {
        let opts = write_options(args)?;
        if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            let mut meta = match &args.axes {
                Some(a) => ImageMetadata::from_axis_letters(a)?,
                None => ImageMetadata::default_for_ndim(reader.shape().len())?,
            };
            apply_overrides(&mut meta, args)?;
            write_ome_zarr_from_source(&args.output, &reader, &meta, &opts, Some(&bar)).map(|_| ())
        } else {
            let image = open_image(&args.input)?;
            let mut meta = metadata_of(&image, args.level);
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
