//! `ome convert`: OME-Zarr, OME-TIFF (or plain TIFF) or .npy in; OME-Zarr, OME-TIFF or .npy out.

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

fn is_tiff_path(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    n.ends_with(".tif") || n.ends_with(".tiff") || n.ends_with(".btf") || n.ends_with(".tf8")
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

/// The image at `path`: series `series` (default 0) of an OME-TIFF, series `series` of a
/// bioformats2raw container (which has no default), or the OME-Zarr image itself.
fn open_image(path: &Path, series: Option<usize>, limits: &ome_core::Limits) -> Result<Image> {
    if ome_core::is_tiff_input(path) {
        return std::sync::Arc::new(ome_core::tiff::OmeTiff::open_with(path, limits.into())?)
            .image(series.unwrap_or(0));
    }
    let node = OmeZarr::open_with_limits(path, *limits)?;
    if let Some(i) = series
        && node.kind() == ome_core::metadata::NodeKind::Bioformats2raw
    {
        let names = node.series()?;
        let name = names.get(i).ok_or_else(|| {
            Error::usage(format!(
                "series {i} does not exist; {} has {}",
                path.display(),
                names.len()
            ))
        })?;
        return node.child(name)?.image();
    }
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

/// OME-TIFF (or plain TIFF) to OME-Zarr in the bioformats2raw layout (NGFF 0.4 section
/// "bioformats2raw.layout"): one image group per series at `<out>/<i>`, the full OME-XML at
/// `<out>/OME/METADATA.ome.xml` and the `series` list in the `OME` group. Plain TIFF without
/// OME-XML becomes a single image at `<out>`.
fn tiff_to_zarr(
    args: &ConvertArgs,
    opts: &WriteOptions,
    bar: &crate::Bar,
    limits: &ome_core::Limits,
) -> Result<()> {
    let tiff = std::sync::Arc::new(ome_core::tiff::OmeTiff::open_with(
        &args.input,
        limits.into(),
    )?);
    let Some(ome) = tiff.ome_xml() else {
        let image = tiff.clone().image(args.series.unwrap_or(0))?;
        let mut meta = metadata_of(&image, args.level);
        apply_overrides(&mut meta, args)?;
        let source = image.level_source(args.level)?;
        return write_ome_zarr_from_source(&args.output, &source, &meta, opts, Some(bar))
            .map(|_| ());
    };
    let out = &args.output;
    if out.exists() && !args.overwrite {
        return Err(Error::usage(format!(
            "{} exists; pass --overwrite to replace it",
            out.display()
        )));
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = parent.join(format!(".{name}.b2r-partial"));
    let io = |p: &Path, e: std::io::Error| Error::io(ome_core::Location::file(p), e);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| io(&staging, e))?;
    }
    std::fs::create_dir_all(staging.join("OME")).map_err(|e| io(&staging, e))?;
    let result = (|| -> Result<()> {
        let mut series = Vec::new();
        for i in 0..tiff.series_count() {
            let image = tiff.clone().image(i)?;
            let mut meta = metadata_of(&image, args.level);
            apply_overrides(&mut meta, args)?;
            let mut o = opts.clone();
            o.overwrite = false;
            if args.levels.is_none() && args.level == 0 && image.levels().len() > 1 {
                write_tiff_levels(&staging.join(i.to_string()), &image, &meta, &o, bar)?;
            } else {
                let source = image.level_source(args.level)?;
                write_ome_zarr_from_source(
                    staging.join(i.to_string()),
                    &source,
                    &meta,
                    &o,
                    Some(bar),
                )?;
            }
            series.push(i.to_string());
        }
        let xml = ome_core::ome_xml::to_xml(ome);
        let xml_path = staging.join("OME").join("METADATA.ome.xml");
        std::fs::write(&xml_path, xml).map_err(|e| io(&xml_path, e))?;
        let write_json = |p: PathBuf, v: serde_json::Value| {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            std::fs::write(&p, text).map_err(|e| io(&p, e))
        };
        if opts.version == NgffVersion::V0_4 {
            write_json(
                staging.join(".zgroup"),
                serde_json::json!({"zarr_format": 2}),
            )?;
            write_json(
                staging.join(".zattrs"),
                serde_json::json!({"bioformats2raw.layout": 3}),
            )?;
            write_json(
                staging.join("OME/.zgroup"),
                serde_json::json!({"zarr_format": 2}),
            )?;
            write_json(
                staging.join("OME/.zattrs"),
                serde_json::json!({"series": series}),
            )?;
        } else {
            let group = |attrs: serde_json::Value| serde_json::json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": attrs}});
            write_json(
                staging.join("zarr.json"),
                group(serde_json::json!({"version": "0.5", "bioformats2raw.layout": 3})),
            )?;
            write_json(
                staging.join("OME/zarr.json"),
                group(serde_json::json!({"version": "0.5", "series": series})),
            )?;
        }
        if out.exists() {
            std::fs::remove_dir_all(out).map_err(|e| io(out, e))?;
        }
        std::fs::rename(&staging, out).map_err(|e| io(out, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Writes every level of `image` as a dataset of one multiscale image at `dir`, with no
/// new downsampling: the pyramid of the TIFF (its SubIFDs) is kept pixel for pixel. Each
/// level is written as a one-level image next to `dir`, its array moved in as dataset `k`,
/// and the `multiscales` datasets extended with the level's scale.
fn write_tiff_levels(
    dir: &Path,
    image: &Image,
    meta: &ImageMetadata,
    opts: &WriteOptions,
    bar: &crate::Bar,
) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::io(ome_core::Location::file(p), e);
    let mut o = opts.clone();
    o.levels = LevelCount::Exactly(1);
    write_ome_zarr_from_source(dir, &image.level_source(0)?, meta, &o, Some(bar))?;
    let mut datasets = Vec::new();
    for k in 1..image.levels().len() {
        let tmp = dir.with_file_name(format!(
            ".{}.level{k}",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let mut mk = meta.clone();
        mk.scale = image.levels()[k].scale.clone();
        write_ome_zarr_from_source(&tmp, &image.level_source(k)?, &mk, &o, Some(bar))?;
        std::fs::rename(tmp.join("0"), dir.join(k.to_string())).map_err(|e| io(dir, e))?;
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        datasets.push(serde_json::json!({
            "path": k.to_string(),
            "coordinateTransformations": [{"type": "scale", "scale": image.levels()[k].scale}],
        }));
    }
    let (doc, v3) = if dir.join("zarr.json").is_file() {
        (dir.join("zarr.json"), true)
    } else {
        (dir.join(".zattrs"), false)
    };
    let text = std::fs::read_to_string(&doc).map_err(|e| io(&doc, e))?;
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "expected the JSON we just wrote at {}: {e}",
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
        // The TIFF does not say how its levels were made.
        ms.insert("type".into(), serde_json::json!("tiff-subifds"));
        ms.insert(
            "metadata".into(),
            serde_json::json!({"method": "pyramid levels of the OME-TIFF (SubIFDs), copied"}),
        );
    }
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    std::fs::write(&doc, text).map_err(|e| io(&doc, e))
}

/// Every series of the input, with its OME-XML, when no `--series` is given and the input
/// is an OME-TIFF with OME-XML (all its images) or a bioformats2raw container (the series it
/// lists, and `OME/METADATA.ome.xml`); `None` for other input, which converts as one image.
fn every_series(
    args: &ConvertArgs,
    limits: &ome_core::Limits,
) -> Result<Option<(Vec<Image>, Option<ome_core::ome_xml::OmeXml>)>> {
    if args.series.is_some() {
        return Ok(None);
    }
    if ome_core::is_tiff_input(&args.input) {
        let tiff = std::sync::Arc::new(ome_core::tiff::OmeTiff::open_with(
            &args.input,
            limits.into(),
        )?);
        let Some(xml) = tiff.ome_xml().cloned() else {
            return Ok(None);
        };
        let images = (0..tiff.series_count())
            .map(|i| tiff.clone().image(i))
            .collect::<Result<Vec<_>>>()?;
        // Images without pixels in the TIFF (BinData, MetadataOnly) are not series; the XML
        // then describes more images than are written, and is not carried.
        let carried = (xml.images.len() == images.len()).then_some(xml);
        return Ok(Some((images, carried)));
    }
    let node = OmeZarr::open_with_limits(&args.input, *limits)?;
    if node.kind() != ome_core::metadata::NodeKind::Bioformats2raw {
        return Ok(None);
    }
    let series = node.series()?;
    if series.is_empty() {
        return Err(Error::usage(format!(
            "{} is a bioformats2raw container with no series",
            args.input.display()
        )));
    }
    let images = series
        .iter()
        .map(|s| node.child(s)?.image())
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((images, node.ome_xml()?)))
}

/// Writes `images` as the images of one OME-TIFF, carrying `ome_xml` (the input's OME-XML)
/// as raw2ometiff does, unless metadata options (--scale, --units, --channel-names, --name)
/// or --level ask for other metadata, or the XML does not describe the images.
fn series_to_tiff(
    args: &ConvertArgs,
    images: &[Image],
    ome_xml: Option<ome_core::ome_xml::OmeXml>,
    mut opts: ome_core::tiff::TiffWriteOptions,
) -> Result<()> {
    use ome_core::tiff::TiffImage;
    let mut metas = Vec::with_capacity(images.len());
    let mut sources = Vec::with_capacity(images.len());
    for image in images {
        let mut meta = metadata_of(image, args.level);
        apply_overrides(&mut meta, args)?;
        metas.push(meta);
        sources.push(image.level_source(args.level)?);
    }
    let tiff_images: Vec<TiffImage<'_>> = sources
        .iter()
        .zip(&metas)
        .map(|(s, m)| TiffImage::new(s, m))
        .collect();
    let overridden = args.scale.is_some()
        || args.units.is_some()
        || args.channel_names.is_some()
        || args.name.is_some();
    if let Some(xml) = ome_xml.filter(|_| args.level == 0) {
        if overridden {
            eprintln!("note: the input's OME-XML is not carried: metadata options replace it");
        } else {
            opts.ome_xml = Some(xml);
            if let Err(e) = ome_core::tiff::ome_xml_for(&args.output, &tiff_images, &opts) {
                eprintln!("note: the input's OME-XML is not carried: {e}");
                opts.ome_xml = None;
            }
        }
    }
    ome_core::tiff::write_ome_tiff_images(&args.output, &tiff_images, &opts).map(|_| ())
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
    } else if is_tiff_path(&args.output) {
        let opts = tiff_options(args)?;
        if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            let mut meta = match &args.axes {
                Some(a) => ImageMetadata::from_axis_letters(a)?,
                None => ImageMetadata::default_for_ndim(reader.shape().len())?,
            };
            apply_overrides(&mut meta, args)?;
            ome_core::tiff::write_ome_tiff(&args.output, &reader, &meta, &opts).map(|_| ())
        } else if let Some((images, ome_xml)) = every_series(args, limits)? {
            series_to_tiff(args, &images, ome_xml, opts)
        } else {
            let image = open_image(&args.input, args.series, limits)?;
            let mut meta = metadata_of(&image, args.level);
            apply_overrides(&mut meta, args)?;
            let source = image.level_source(args.level)?;
            ome_core::tiff::write_ome_tiff(&args.output, &source, &meta, &opts).map(|_| ())
        }
    } else if ome_core::is_tiff_input(&args.input)
        && !args.input.to_string_lossy().ends_with(".npy")
    {
        let mut opts = write_options(args)?;
        opts.limits = *limits;
        tiff_to_zarr(args, &opts, &bar, limits)
    } else {
        let mut opts = write_options(args)?;
        opts.limits = *limits;
        if is_npy(&args.input) {
            let reader = NpyReader::open(&args.input)?;
            let mut meta = match &args.axes {
                Some(a) => ImageMetadata::from_axis_letters(a)?,
                None => ImageMetadata::default_for_ndim(reader.shape().len())?,
            };
            apply_overrides(&mut meta, args)?;
            write_ome_zarr_from_source(&args.output, &reader, &meta, &opts, Some(&bar)).map(|_| ())
        } else {
            let image = open_image(&args.input, args.series, limits)?;
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
