//! `ome convert`: fills an [`ome_core::convert::ConvertRequest`] from the flags and prints
//! the summary's notes. Every decision (which reader, which writer, which levels, which
//! metadata) is `ome_core::convert`'s.

use std::path::PathBuf;

use clap::Args;
use ome_core::convert::{ConvertRequest, MetadataOverrides, PyramidPolicy};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{Error, Result, Selection};

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input: an OME-Zarr image (or a label image / plate field path inside one), an OME-TIFF,
    /// plain TIFF or .companion.ome file, or a .npy file.
    input: PathBuf,
    /// Output: a directory for OME-Zarr, a file ending in .ome.tif / .tif / .tiff / .btf for
    /// OME-TIFF, or a file ending in .npy.
    output: PathBuf,
    /// NGFF version of OME-Zarr output: 0.4 (Zarr v2), 0.5 or 0.6 (Zarr v3; 0.6 as RFC-5
    /// coordinate systems). The string is written as given (`0.6`, `0.6rc0`).
    #[arg(long, default_value = "0.5")]
    ngff_version: String,
    /// Compression. OME-Zarr: none, zstd[:L], gzip[:L],
    /// blosc-<zstd|lz4|lz4hc|zlib|blosclz>[:L][:shuffle|noshuffle|bitshuffle] (default
    /// blosc-zstd:1). OME-TIFF: none, deflate[:L], zstd[:L], lzw (default deflate).
    #[arg(long)]
    compression: Option<String>,
    /// Chunk shape, comma separated (inner chunks when sharded).
    #[arg(long)]
    chunks: Option<String>,
    /// Shard shape, comma separated (0.5 only).
    #[arg(long)]
    shards: Option<String>,
    /// Make new pyramid levels, this many, level 0 included (by default the input's own
    /// levels are copied; an input without levels gets new ones down to 256 pixels).
    #[arg(long, conflicts_with = "min_size")]
    levels: Option<usize>,
    /// Make new levels until the smallest downsampled side is at most this (OME-Zarr).
    #[arg(long)]
    min_size: Option<u64>,
    /// Downsampling of new levels: mean, nearest, mode (labels) or gaussian.
    #[arg(long, default_value = "mean")]
    downsample: String,
    /// Make new levels with this downsampling factor per axis between levels, comma
    /// separated (default 2 on y and x; OME-Zarr).
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
    /// Do not carry the input's OME-XML into OME-TIFF output (one is made from the image
    /// metadata instead).
    #[arg(long)]
    no_ome_xml: bool,
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

/// `--units "t=second,z=micrometer"` as (axis, unit) pairs.
fn parse_units(s: &str) -> Result<Vec<(String, String)>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (axis, unit) = part.split_once('=').ok_or_else(|| {
                Error::usage(format!("expected AXIS=UNIT in --units, found {part:?}"))
            })?;
            Ok((axis.trim().to_string(), unit.trim().to_string()))
        })
        .collect()
}

/// The request the flags describe.
fn request(args: &ConvertArgs, limits: &ome_core::Limits) -> Result<ConvertRequest> {
    let mut r = ConvertRequest::default();
    r.series = args.series;
    r.level = args.level;
    r.selection = args
        .select
        .as_deref()
        .map(str::parse::<Selection>)
        .transpose()?;
    let mut m = MetadataOverrides::default();
    m.axes.clone_from(&args.axes);
    m.scale = args
        .scale
        .as_deref()
        .map(|s| parse_list(s, "--scale"))
        .transpose()?;
    m.units = args
        .units
        .as_deref()
        .map(parse_units)
        .transpose()?
        .unwrap_or_default();
    m.channel_names = args
        .channel_names
        .as_deref()
        .map(|n| n.split(',').map(|s| s.trim().to_string()).collect());
    m.name.clone_from(&args.name);
    r.metadata = m;
    let new_levels = args.levels.is_some() || args.min_size.is_some() || args.factors.is_some();
    r.pyramid = if new_levels {
        PyramidPolicy::New
    } else {
        PyramidPolicy::KeepSource
    };
    r.compression.clone_from(&args.compression);
    r.limits = *limits;
    r.carry_ome_xml = !args.no_ome_xml;
    r.overwrite = args.overwrite;
    let downsample = args.downsample.parse::<Downsample>()?;

    r.zarr.version = match NgffVersion::parse(&args.ngff_version) {
        Some(v @ (NgffVersion::V0_4 | NgffVersion::V0_5 | NgffVersion::V0_6)) => v,
        _ => {
            return Err(Error::usage(format!(
                "expected --ngff-version 0.4, 0.5 or 0.6, found {:?}",
                args.ngff_version
            )));
        }
    };
    // The version string is written as given (`0.6`, `0.6rc0`, `0.6.dev3`).
    r.zarr.version_tag = Some(args.ngff_version.clone()).filter(|_| r.zarr.version.is_nested());
    r.zarr.chunks = args
        .chunks
        .as_deref()
        .map(|c| parse_list(c, "--chunks"))
        .transpose()?;
    r.zarr.shards = args
        .shards
        .as_deref()
        .map(|c| parse_list(c, "--shards"))
        .transpose()?;
    r.zarr.factors = args
        .factors
        .as_deref()
        .map(|c| parse_list(c, "--factors"))
        .transpose()?;
    if let Some(n) = args.levels {
        r.zarr.levels = LevelCount::Exactly(n);
    } else if let Some(m) = args.min_size {
        r.zarr.levels = LevelCount::MinSize(m);
    }
    r.zarr.downsample = downsample;
    r.zarr.jobs = args.jobs;

    let tile: Vec<u32> = parse_list(&args.tile, "--tile")?;
    r.tiff.tile = match tile.as_slice() {
        [t] => (*t, *t),
        [h, w] => (*h, *w),
        _ => {
            return Err(Error::usage(format!(
                "expected --tile N or H,W, found {:?}",
                args.tile
            )));
        }
    };
    r.tiff.levels = args.levels;
    r.tiff.downsample = downsample;
    r.tiff.bigtiff = args.bigtiff.then_some(true);
    Ok(r)
}

pub(crate) fn run(args: &ConvertArgs, limits: &ome_core::Limits) -> Result<()> {
    let request = request(args, limits)?;
    let bar = crate::Bar::new(args.quiet);
    let result =
        ome_core::convert::convert_with_progress(&args.input, &args.output, &request, &bar);
    bar.finish();
    // Notes say what was not kept; they are not progress, so --quiet keeps them.
    for note in &result?.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}
