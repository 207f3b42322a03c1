//! `ome`: inspect and convert OME-Zarr and OME-TIFF datasets.

mod convert;
mod info;
mod limits;
mod remote;

// Chunk buffers of 128 KiB to 128 MiB come and go by the thousand: mimalloc reuses them
// where glibc maps and unmaps each one, which costs a page fault per 4 KiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Inspect and convert OME-Zarr (NGFF 0.1-0.5) and OME-TIFF datasets, and .npy arrays.
#[derive(Debug, Parser)]
#[command(name = "ome", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    limits: limits::LimitArgs,
    #[command(flatten)]
    remote: remote::RemoteArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe an OME-Zarr image, label image, plate, well or bioformats2raw container, an
    /// OME-TIFF (every series), or an OME-XML companion file.
    Info {
        /// The dataset: an OME-Zarr directory or URL (s3://BUCKET/PREFIX, https://...), an
        /// OME-TIFF or an OME-XML file.
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert between OME-Zarr, OME-TIFF and .npy (the output's name picks its format),
    /// keeping the input's pyramid levels and metadata unless told otherwise.
    Convert(Box<convert::ConvertArgs>),
}

/// A progress bar on a terminal, nothing otherwise.
pub(crate) struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    pub(crate) fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, eta {eta})",
        ) {
            bar.set_style(style);
        }
        Bar(Some(bar))
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl ome_core::Progress for Bar {
    fn set_total(&self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
        }
    }
    fn advance(&self, done: u64) {
        if let Some(b) = &self.0 {
            b.inc(done);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The `--max-...` flags: every input is opened with these limits.
    let limits = cli.limits.limits();
    cli.remote.apply();
    let result = match cli.command {
        Command::Info { path, json } => info::run(&path, json, &limits),
        Command::Convert(args) => convert::run(&args, &limits),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            match e.kind() {
                ome_core::ErrorKind::Usage => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
