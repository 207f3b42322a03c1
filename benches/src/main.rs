//! `ome-bench`: times the reference workloads of `../shared/BENCHMARK.md` through ome-core
//! and prints one JSON object per run, for `benches/peers.py` to compare with the peers
//! measured in the same run.

// Chunk buffers of 128 KiB to 128 MiB come and go by the thousand: mimalloc reuses them
// where glibc maps and unmaps each one, which costs a page fault per 4 KiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use ome_core::metadata::NgffVersion;
use ome_core::pyramid::{Downsample, LevelCount};
use ome_core::{
    DynArray, Image, ImageMetadata, NpyReader, RegionSource, Selection, WriteOptions,
    write_ome_zarr, write_ome_zarr_from_source,
};
use rayon::prelude::*;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "ome-bench")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// W1 / W2u / W2s: write a full pyramid from an in-memory array (or, with
    /// --from-source, streamed from the memory-mapped .npy).
    WriteZarr {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        zarr: ZarrArgs,
        #[arg(long)]
        shards: Option<String>,
        #[arg(long, default_value_t = 256)]
        min_size: u64,
        #[arg(long)]
        from_source: bool,
    },
    /// W3: read one level fully into memory.
    ReadZarr {
        #[arg(long)]
        path: PathBuf,
        #[arg(long, default_value_t = 0)]
        level: usize,
    },
    /// W4: read tiles one at a time, as a viewer does: each line of `--tiles` is
    /// `c z y x` (level-0 indices; y and x the tile's first row and column), every tile
    /// `1 x tile x tile` at t = 0 through `Image::read` with a selection by axis name.
    ReadTiles {
        #[arg(long)]
        path: PathBuf,
        #[arg(long)]
        tiles: PathBuf,
        #[arg(long, default_value_t = 256)]
        tile: u64,
        #[arg(long, default_value_t = 0)]
        level: usize,
    },
    /// W5: write the tiled pyramidal OME-TIFF (BigTIFF, SubIFD pyramid of 2x2 means until
    /// min(y, x) <= min_size, 256 x 256 tiles, zstd level 1, no predictor), streamed from
    /// the memory-mapped .npy.
    WriteTiff {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 256)]
        min_size: u64,
        #[arg(long, default_value_t = 256)]
        tile: u32,
        /// Compression name and level, `zstd:1` or `deflate:6`.
        #[arg(long, default_value = "zstd:1")]
        compression: String,
    },
    /// W6: read one level of an OME-TIFF fully into memory (the same digest as read-zarr).
    ReadTiff {
        #[arg(long)]
        path: PathBuf,
        #[arg(long, default_value_t = 0)]
        level: usize,
    },
    /// W7: convert an OME-TIFF to OME-Zarr (a bioformats2raw container, its pyramid copied),
    /// as `ome convert` does, timed inside the process as the peers are.
    ConvertTiff {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        zarr: ZarrArgs,
    },
    /// The physical floor: single-pass codec and downsampling throughput on all cores.
    Floor {
        #[arg(long)]
        input: PathBuf,
        /// Bytes per compressed piece (8 MiB = one (1,1,64,256,256) uint16 chunk;
        /// 131072 = one (1,1,1,256,256) inner chunk of a shard).
        #[arg(long, default_value_t = 8 << 20)]
        chunk_bytes: usize,
    },
}

/// The OME-Zarr layout of the write workloads.
#[derive(Debug, clap::Args)]
struct ZarrArgs {
    #[arg(long, default_value = "0.5")]
    ngff_version: String,
    #[arg(long, default_value = "1,1,64,256,256")]
    chunks: String,
    #[arg(long, default_value = "blosc-zstd:1:shuffle")]
    compression: String,
}

impl ZarrArgs {
    /// Version, chunks and compression as write options, replacing any output.
    fn options(&self) -> Result<WriteOptions, Box<dyn std::error::Error>> {
        let mut opts = WriteOptions::default();
        opts.version = if self.ngff_version == "0.4" {
            NgffVersion::V0_4
        } else {
            NgffVersion::V0_5
        };
        opts.chunks = Some(list(&self.chunks));
        opts.compression = self.compression.parse()?;
        opts.overwrite = true;
        Ok(opts)
    }
}

/// Samples the anonymous resident memory (heap, not the page cache of memory-mapped
/// input) every 5 ms on a background thread; the peak is what a writer itself holds.
struct AnonPeak {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl AnonPeak {
    fn start() -> Self {
        use std::sync::atomic::Ordering;
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(status_kib("RssAnon:") * 1024, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        AnonPeak {
            peak,
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> u64 {
        use std::sync::atomic::Ordering;
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak
            .load(Ordering::Relaxed)
            .max(status_kib("RssAnon:") * 1024)
    }
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// Resets the kernel's peak-RSS counter of this process (`clear_refs` value 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn list_ws(s: &str) -> Vec<u64> {
    s.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn list(s: &str) -> Vec<u64> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let out = match cli.cmd {
        Cmd::WriteZarr {
            input,
            out,
            zarr,
            shards,
            min_size,
            from_source,
        } => {
            let reader = NpyReader::open(&input)?;
            let dtype_size = reader.dtype().size() as u64;
            let meta = ImageMetadata::default_for_ndim(reader.shape().len())?;
            let mut opts = zarr.options()?;
            opts.shards = shards.as_deref().map(list);
            opts.levels = LevelCount::MinSize(min_size);
            opts.downsample = Downsample::Mean;
            let anon = AnonPeak::start();
            let (seconds, summary) = if from_source {
                let t = Instant::now();
                let s = write_ome_zarr_from_source(&out, &reader, &meta, &opts, None)?;
                (t.elapsed().as_secs_f64(), s)
            } else {
                let data = reader.read_all()?;
                // The .npy is memory-mapped: its pages count towards RSS. Unmap it and reset
                // the peak, so the figure is the array in memory plus what writing adds,
                // as for the peers (which load with np.load).
                drop(reader);
                reset_peak_rss();
                let t = Instant::now();
                let s = ome_core::with_dyn_array!(&data, a, _T => write_ome_zarr(&out, a.view(), &meta, &opts, None))?;
                (t.elapsed().as_secs_f64(), s)
            };
            let input_bytes = summary.level_shapes[0].iter().product::<u64>() * dtype_size;
            json!({
                "seconds": seconds, "bytes_written": summary.bytes_written, "levels": summary.level_shapes,
                "peak_rss_bytes": peak_rss(), "peak_anon_bytes": anon.finish(), "input_bytes": input_bytes,
                "from_source": from_source,
            })
        }
        Cmd::WriteTiff {
            input,
            out,
            min_size,
            tile,
            compression,
        } => {
            let reader = NpyReader::open(&input)?;
            let shape = reader.shape().to_vec();
            let meta = ImageMetadata::default_for_ndim(shape.len())?;
            let mut opts = ome_core::tiff::TiffWriteOptions::default();
            let (name, level) = compression.split_once(':').unwrap_or((&compression, ""));
            opts.compression = name.parse()?;
            opts.compression_level = level.parse().ok();
            opts.tile = (tile, tile);
            opts.bigtiff = Some(true);
            opts.predictor = false;
            opts.downsample = Downsample::Mean;
            opts.overwrite = true;
            let (mut h, mut w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
            let mut levels = 1;
            while h.min(w) > min_size {
                (h, w) = (h.div_ceil(2), w.div_ceil(2));
                levels += 1;
            }
            opts.levels = Some(levels);
            let anon = AnonPeak::start();
            let t = Instant::now();
            let s = ome_core::tiff::write_ome_tiff(&out, &reader, &meta, &opts)?;
            let seconds = t.elapsed().as_secs_f64();
            json!({
                "seconds": seconds, "bytes_written": s.bytes, "levels": s.level_shapes,
                "peak_rss_bytes": peak_rss(), "peak_anon_bytes": anon.finish(),
                "input_bytes": shape.iter().product::<u64>() * reader.dtype().size() as u64,
            })
        }
        Cmd::ReadZarr { path, level } | Cmd::ReadTiff { path, level } => {
            let image = Image::open(&path)?;
            let t = Instant::now();
            let data = image.read(level, &Selection::all())?;
            let seconds = t.elapsed().as_secs_f64();
            let bytes = data.len() * data.dtype().size();
            // The same digest peers.py takes of every peer's read (blake2b, 16 bytes, of the
            // little-endian bytes), computed after the timing.
            let digest = ome_core::with_dyn_array!(&data, a, _T => {
                use blake2::digest::{Update, VariableOutput};
                let mut h = blake2::Blake2bVar::new(16).map_err(|e| e.to_string())?;
                let std = a.as_standard_layout();
                h.update(bytemuck::cast_slice(std.as_slice().ok_or("not contiguous")?));
                let mut out = [0u8; 16];
                h.finalize_variable(&mut out).map_err(|e| e.to_string())?;
                out.iter().map(|b| format!("{b:02x}")).collect::<String>()
            });
            json!({"seconds": seconds, "bytes": bytes, "shape": data.shape(), "checksum": digest, "peak_rss_bytes": peak_rss()})
        }
        Cmd::ReadTiles {
            path,
            tiles,
            tile,
            level,
        } => {
            use blake2::digest::{Update, VariableOutput};
            let list: Vec<[u64; 4]> = std::fs::read_to_string(&tiles)?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v = list_ws(l);
                    match v[..] {
                        [c, z, y, x] => Ok([c, z, y, x]),
                        _ => Err(format!("expected `c z y x`, found {l:?}")),
                    }
                })
                .collect::<Result<_, _>>()?;
            // The clock runs while the image opens (a viewer pays that once) and while each
            // tile is read, not while it is hashed for the check (as in peers.py).
            let t = Instant::now();
            let image = Image::open(&path)?;
            let mut clock = t.elapsed();
            let mut h = blake2::Blake2bVar::new(16).map_err(|e| e.to_string())?;
            let mut bytes = 0usize;
            for &[c, z, y, x] in &list {
                let sel = Selection::all()
                    .index("t", 0)
                    .index("c", c)
                    .index("z", z)
                    .range("y", y, Some(y + tile))
                    .range("x", x, Some(x + tile));
                let t = Instant::now();
                let data = image.read(level, &sel)?;
                clock += t.elapsed();
                ome_core::with_dyn_array!(&data, a, _T => {
                    let std = a.as_standard_layout();
                    let s: &[u8] = bytemuck::cast_slice(std.as_slice().ok_or("not contiguous")?);
                    bytes += s.len();
                    h.update(s);
                });
            }
            let seconds = clock.as_secs_f64();
            let mut out = [0u8; 16];
            h.finalize_variable(&mut out).map_err(|e| e.to_string())?;
            let digest: String = out.iter().map(|b| format!("{b:02x}")).collect();
            json!({"seconds": seconds, "tiles": list.len(), "bytes": bytes, "checksum": digest,
                   "peak_rss_bytes": peak_rss()})
        }
        Cmd::ConvertTiff { input, out, zarr } => {
            use ome_core::convert::{ConvertOptions, Series, write_bioformats2raw};
            let opts = zarr.options()?;
            let anon = AnonPeak::start();
            let t = Instant::now();
            let limits = ome_core::Limits::default();
            let series =
                Series::open(&input, &limits)?.ok_or("expected an OME-TIFF with OME-XML")?;
            write_bioformats2raw(&out, &series, None, &opts, &ConvertOptions::default(), None)?;
            let seconds = t.elapsed().as_secs_f64();
            json!({"seconds": seconds, "series": series.images().len(),
                   "peak_rss_bytes": peak_rss(), "peak_anon_bytes": anon.finish()})
        }
        Cmd::Floor { input, chunk_bytes } => floor(&input, chunk_bytes)?,
    };
    println!("{out}");
    Ok(())
}

/// Compresses, decompresses and downsamples the data once on every core, without any
/// I/O or framework around it: the rate no writer on this machine can beat.
fn floor(input: &PathBuf, chunk: usize) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    use zarrs::array::codec::{
        BloscCompressionLevel, BloscCompressor, BloscShuffleMode, blosc_compress_bytes,
        blosc_decompress_bytes,
    };
    let data = NpyReader::open(input)?.read_all()?;
    let DynArray::U16(a) = &data else {
        return Err("floor expects uint16 data".into());
    };
    let slice = a.as_slice().ok_or("not contiguous")?;
    let bytes: &[u8] = bytemuck::cast_slice(slice);
    let level = BloscCompressionLevel::try_from(1u8).map_err(|e| format!("{e:?}"))?;
    // Best of three passes of each component: the floor is the fastest this machine
    // managed, not an average dragged down by whatever else ran.
    let mut compress = f64::INFINITY;
    let mut decompress = f64::INFINITY;
    let mut downsample = f64::INFINITY;
    let mut compressed: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let mut half_len = 0usize;
    for _ in 0..3 {
        let t = Instant::now();
        compressed = bytes
            .par_chunks(chunk)
            .map(|c| {
                blosc_compress_bytes(
                    c,
                    level,
                    BloscShuffleMode::Shuffle,
                    2,
                    BloscCompressor::Zstd,
                    0,
                    1,
                )
            })
            .collect::<Result<_, _>>()?;
        compress = compress.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        total = compressed
            .par_iter()
            .zip(bytes.par_chunks(chunk))
            .map(|(c, orig)| blosc_decompress_bytes(c, orig.len(), 1).map(|d| d.len()))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .sum();
        decompress = decompress.min(t.elapsed().as_secs_f64());
        let mut factors = vec![1usize; a.ndim()];
        let n = factors.len();
        factors[n - 1] = 2;
        factors[n - 2] = 2;
        let t = Instant::now();
        let half = ome_core::pyramid::downsample(a.view(), &factors, Downsample::Mean)?;
        downsample = downsample.min(t.elapsed().as_secs_f64());
        half_len = half.len();
    }
    let ratio = bytes.len() as f64 / compressed.iter().map(Vec::len).sum::<usize>() as f64;
    // The OME-TIFF codec: plain zstd level 1 on 256 x 256 uint16 tiles (128 KiB), each
    // compressed and decompressed on its own, as W5-W7 do.
    let tile = 256 * 256 * 2;
    let mut zc = f64::INFINITY;
    let mut zd = f64::INFINITY;
    let mut ztiles: Vec<Vec<u8>> = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        ztiles = bytes
            .par_chunks(tile)
            .map(|c| zstd::bulk::compress(c, 1))
            .collect::<Result<_, _>>()?;
        zc = zc.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let n: usize = ztiles
            .par_iter()
            .map_init(
                || vec![0u8; tile],
                |buf, c| zstd::bulk::decompress_to_buffer(c, buf.as_mut_slice()),
            )
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .sum();
        zd = zd.min(t.elapsed().as_secs_f64());
        total = total.max(n);
    }
    let zratio = bytes.len() as f64 / ztiles.iter().map(Vec::len).sum::<usize>() as f64;
    Ok(json!({
        "zstd1_tile_compress_gbps": bytes.len() as f64 / zc / 1e9,
        "zstd1_tile_decompress_gbps": bytes.len() as f64 / zd / 1e9,
        "zstd1_tile_ratio": zratio,
        "compress_gbps": bytes.len() as f64 / compress / 1e9,
        "decompress_gbps": total as f64 / decompress / 1e9,
        "downsample_gbps": bytes.len() as f64 / downsample / 1e9,
        "blosc_zstd1_ratio": ratio,
        "threads": rayon::current_num_threads(),
        "chunk_bytes": chunk,
        "check": half_len,
    }))
}
