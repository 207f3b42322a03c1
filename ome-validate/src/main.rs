//! `ome-validate`: validate OME-Zarr, OME-TIFF and OME-XML targets against the rule
//! catalogue.
//!
//! Exit codes: 0 pass, 1 findings at or above `--fail-on` (with `--baseline`, new ones
//! only), 2 the tool could not run. `--format conformance` prints
//! `{"valid": bool, "message": str}` and exits 0.
//!
//! This file only parses arguments and prints: target discovery, summaries, baselines and
//! every output format live in the library.

// mimalloc, as in `ome`: glibc's malloc reserves 64 MiB of address space per thread arena,
// which an address-space limit (an ingest sandbox's `ulimit -v`) turns into aborts on
// inputs that need little memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ome_validate::{
    Batch, Depth, NgffVersion, Options, Profile, Severity, TextOptions, render_conformance,
    render_json, render_jsonl, render_junit, render_sarif, render_text, rule, rules,
};

#[derive(Parser, Debug)]
#[command(
    name = "ome-validate",
    version,
    about = "Validate OME-Zarr (OME-NGFF 0.1-0.6rc0), OME-TIFF and OME-XML against a catalogue of rules"
)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Targets: Zarr hierarchies (directories, or URLs: s3://BUCKET/PREFIX, https://...),
    /// attributes JSON files, OME-TIFF files or OME-XML files (.ome.xml, .companion.ome);
    /// validated in parallel.
    #[arg(required_unless_present = "recursive")]
    targets: Vec<PathBuf>,
    /// Also validate every OME-Zarr root and OME-TIFF (.ome.tif, .ome.tiff, .ome.tf2,
    /// .ome.tf8, .ome.btf) below DIR (repeatable); symbolic links to directories are not
    /// followed, links to files only inside DIR.
    #[arg(long, value_name = "DIR")]
    recursive: Vec<PathBuf>,
    /// Most directory entries looked at by --recursive before the run stops (exit code 2).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    max_entries: usize,
    /// Write this run's JSON report to FILE, as a baseline for --baseline.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Also run the rules of this profile (spec/profiles/NAME.toml; repeatable), e.g.
    /// ngff-challenge-2024.
    #[arg(long, value_name = "NAME")]
    profile: Vec<String>,
    /// Also run the rules of the profile in FILE (TOML, see spec/profiles/README.md;
    /// repeatable).
    #[arg(long, value_name = "FILE")]
    profile_file: Vec<PathBuf>,
    /// Compare with a baseline (a JSON report): report only new findings and the gone
    /// ones; exit code 1 only for new findings at or above --fail-on.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// How deep to validate.
    #[arg(long, value_enum, default_value_t = DepthArg::Hierarchy)]
    depth: DepthArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Lowest severity that fails the run (exit code 1; `valid: false` in conformance mode).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Report only these codes or code prefixes (comma-separated, repeatable).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Never report these codes or code prefixes (comma-separated, repeatable).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Require this OME-NGFF version (also assumed where a document declares none).
    #[arg(long, value_parser = parse_version)]
    ngff_version: Option<NgffVersion>,
    /// Colours in text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Most chunks decoded per array at the data depth.
    #[arg(long, default_value_t = 64)]
    max_chunks: usize,
    /// Largest metadata document read, in bytes (default: ome_core::Limits, 64 MiB).
    #[arg(long)]
    max_metadata_bytes: Option<u64>,
    /// Largest decoded chunk, shard or tile, in bytes (default: ome_core::Limits, 1 GiB).
    #[arg(long)]
    max_chunk_bytes: Option<u64>,
    /// Also validate OME-XML (files, and the OME-XML of OME-TIFFs) against this XML Schema
    /// (e.g. ome.xsd), through xmllint.
    #[arg(long, value_name = "FILE")]
    xml_schema: Option<PathBuf>,
    /// S3 endpoint for s3:// targets on an S3-compatible server (path-style)
    /// [env: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL]. Other settings: the AWS_* environment.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Unsigned S3 requests, for public buckets (the default without credentials in
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) [env: AWS_NO_SIGN_REQUEST].
    #[arg(long)]
    anonymous: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show the page of one rule.
    Rule {
        /// The rule code, e.g. NGFF-AX-003.
        code: String,
    },
    /// List every rule.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DepthArg {
    Attributes,
    Hierarchy,
    Data,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Format {
    /// For people; a summary after several targets.
    Text,
    /// One JSON report (spec/report/report-v1.schema.json).
    Json,
    /// JSON Lines: findings, targets, then the summary.
    Jsonl,
    /// {"valid": bool, "message": str} for the ngff-spec conformance runner; exits 0.
    Conformance,
    /// SARIF 2.1.0, for code scanning (GitHub and others).
    Sarif,
    /// JUnit XML: one test case per target.
    Junit,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum FailOn {
    Error,
    Warning,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum RulesFormat {
    Text,
    Json,
    Md,
}

fn parse_version(s: &str) -> Result<NgffVersion, String> {
    NgffVersion::parse(s)
        .ok_or_else(|| format!("expected an OME-NGFF version (0.1 to 0.6rc0), found {s:?}"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Some(Command::Rule { code }) => show_rule(&code),
        Some(Command::Rules { format }) => list_rules(format),
        None => check(&cli.check),
    }
}

fn out(s: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(s.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn show_rule(code: &str) -> ExitCode {
    match rule(code) {
        Some(r) => out(r.page),
        None => {
            eprintln!("error: expected a rule code (see `ome-validate rules`), found {code:?}");
            ExitCode::from(2)
        }
    }
}

fn severities(r: &ome_validate::Rule) -> Vec<(String, String)> {
    if let Some(version) = r.family.fixed_version() {
        let severity = r
            .versions()
            .next()
            .and_then(|v| r.severity(v))
            .map(|s| s.to_string())
            .unwrap_or_default();
        return vec![(version.to_string(), severity)];
    }
    r.versions()
        .map(|v| {
            (
                ome_validate::version_str(v).to_string(),
                r.severity(v).map(|s| s.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

fn list_rules(format: RulesFormat) -> ExitCode {
    let mut s = String::new();
    match format {
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = rules()
                .iter()
                .map(|r| {
                    let sev: serde_json::Map<String, serde_json::Value> = severities(r)
                        .into_iter()
                        .map(|(v, s)| (v, s.into()))
                        .collect();
                    serde_json::json!({
                        "code": r.code, "title": r.title, "area": r.area(), "depth": r.depth,
                        "severity": sev, "section": r.section, "page": r.page_path(),
                    })
                })
                .collect();
            s = serde_json::to_string_pretty(&list).unwrap_or_default();
            s.push('\n');
        }
        RulesFormat::Md => {
            s.push_str("| Code | Title | Depth | Severity by version |\n|---|---|---|---|\n");
            for r in rules() {
                let sev: Vec<String> = severities(r)
                    .into_iter()
                    .map(|(v, s)| format!("{v}: {s}"))
                    .collect();
                s.push_str(&format!(
                    "| [{}]({}.md) | {} | {} | {} |\n",
                    r.code,
                    r.code,
                    r.title,
                    r.depth.as_str(),
                    sev.join(", ")
                ));
            }
        }
        RulesFormat::Text => {
            for r in rules() {
                let sev: Vec<String> = severities(r)
                    .into_iter()
                    .map(|(v, s)| format!("{v}:{s}"))
                    .collect();
                s.push_str(&format!(
                    "{:<16} {:<10} {}  [{}]\n",
                    r.code,
                    r.depth.as_str(),
                    r.title,
                    sev.join(" ")
                ));
            }
        }
    }
    out(&s)
}

fn check(args: &CheckArgs) -> ExitCode {
    let mut remote = ome_core::storage::RemoteOptions::from_env();
    remote.endpoint = args.endpoint.clone().or(remote.endpoint);
    remote.anonymous |= args.anonymous;
    ome_core::storage::set_remote_options(remote);
    let mut options = Options::with_depth(match args.depth {
        DepthArg::Attributes => Depth::Attributes,
        DepthArg::Hierarchy => Depth::Hierarchy,
        DepthArg::Data => Depth::Data,
    });
    options.ngff_version = args.ngff_version;
    options.select = args.select.clone();
    options.ignore = args.ignore.clone();
    options.data.max_chunks_per_array = args.max_chunks;
    if let Some(bytes) = args.max_metadata_bytes {
        options.limits.max_metadata_bytes = bytes;
    }
    if let Some(bytes) = args.max_chunk_bytes {
        options.limits.max_chunk_bytes = bytes;
    }
    options.xml_schema = args.xml_schema.clone();
    let profiles = args
        .profile
        .iter()
        .map(|name| Profile::named(name))
        .chain(args.profile_file.iter().map(|f| Profile::read(f)))
        .collect::<ome_validate::Result<Vec<_>>>();
    match profiles {
        Ok(p) => options.profiles = p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    let report = match run_check(args, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match args.format {
        Format::Text => {
            let color = match args.color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            render_text(&report, TextOptions::with_color(color))
        }
        Format::Json => render_json(&report),
        Format::Jsonl => render_jsonl(&report),
        Format::Conformance => render_conformance(&report, threshold),
        Format::Sarif => render_sarif(&report),
        Format::Junit => render_junit(&report, threshold),
    };
    let code = out(&text);
    if code != ExitCode::SUCCESS {
        return code;
    }
    if args.format != Format::Conformance && report.fails(threshold) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Targets given and found, validated; the baseline written and applied.
fn run_check(args: &CheckArgs, options: &Options) -> ome_validate::Result<ome_validate::Report> {
    let mut batch = Batch::of(args.targets.clone());
    batch.recursive = args.recursive.clone();
    batch.walk_limits.max_entries = args.max_entries;
    batch.baseline = args.baseline.clone();
    batch.write_baseline = args.write_baseline.clone();
    batch.run(options)
}
