//! Global `--max-...` flags: one per field of [`ome_core::Limits`], defaults from
//! `Limits::default()` (safe for untrusted input), sizes with binary suffixes (`512MiB`).

use clap::Args;
use ome_core::Limits;

/// Resource limits for untrusted input; every flag is global (before or after the subcommand).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Limits for untrusted input")]
pub(crate) struct LimitArgs {
    /// Largest metadata document (zarr.json, .zattrs, .zarray) read [default: 64MiB].
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_bytes)]
    max_metadata_bytes: Option<u64>,
    /// Largest decoded chunk, shard, inner chunk or TIFF tile/strip [default: 1GiB].
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_bytes)]
    max_chunk_bytes: Option<u64>,
    /// Largest decoded region one read returns [default: 16GiB].
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_bytes)]
    max_read_bytes: Option<u64>,
    /// Most dimensions an array may have [default: 32].
    #[arg(long, global = true, value_name = "N")]
    max_dimensions: Option<usize>,
    /// Most levels, labels, wells or fields listed by one document [default: 1048576].
    #[arg(long, global = true, value_name = "N")]
    max_list_entries: Option<usize>,
    /// Deepest nesting of arrays and objects in a JSON document [default: 64].
    #[arg(long, global = true, value_name = "N")]
    max_json_depth: Option<usize>,
    /// Most elements an array or TIFF image may declare [default: 4Ti = 2^42].
    #[arg(long, global = true, value_name = "N", value_parser = parse_bytes)]
    max_array_elements: Option<u64>,
    /// Most IFDs in the main chain of a TIFF file [default: 1048576].
    #[arg(long, global = true, value_name = "N")]
    max_tiff_ifds: Option<usize>,
    /// Largest OME-XML document [default: 64MiB].
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_bytes)]
    max_xml_bytes: Option<u64>,
    /// Deepest element nesting in OME-XML [default: 64].
    #[arg(long, global = true, value_name = "N")]
    max_xml_depth: Option<usize>,
}

impl LimitArgs {
    /// `Limits::default()` with every flag given applied.
    pub(crate) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(v) = self.max_metadata_bytes {
            l.max_metadata_bytes = v;
        }
        if let Some(v) = self.max_chunk_bytes {
            l.max_chunk_bytes = v;
        }
        if let Some(v) = self.max_read_bytes {
            l.max_read_bytes = v;
        }
        if let Some(v) = self.max_dimensions {
            l.max_dimensions = v;
        }
        if let Some(v) = self.max_list_entries {
            l.max_list_entries = v;
        }
        if let Some(v) = self.max_json_depth {
            l.max_json_depth = v;
        }
        if let Some(v) = self.max_array_elements {
            l.max_array_elements = v;
        }
        if let Some(v) = self.max_tiff_ifds {
            l.max_tiff_ifds = v;
        }
        if let Some(v) = self.max_xml_bytes {
            l.max_xml_bytes = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = self.max_xml_depth {
            l.max_xml_depth = v;
        }
        l
    }
}

/// Parses `1234`, `64KiB`, `512MiB`, `1GiB`, `2TiB` (also `K`, `M`, `G`, `T`, `Ki`...; all
/// binary multiples; a trailing `B` is optional).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num.parse().map_err(|_| {
        format!("expected a number with an optional unit such as 512MiB, found {s:?}")
    })?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => {
            return Err(format!(
                "expected a unit KiB, MiB, GiB, TiB or PiB, found {s:?}"
            ));
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} does not fit in 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_bytes("1234"), Ok(1234));
        assert_eq!(parse_bytes("64KiB"), Ok(64 << 10));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("2tb"), Ok(2 << 40));
        assert!(parse_bytes("1.5GiB").is_err());
        assert!(parse_bytes("12XB").is_err());
        assert!(parse_bytes("99999999PiB").is_err());
    }

    #[test]
    fn no_flags_means_the_safe_defaults() {
        assert_eq!(LimitArgs::default().limits(), Limits::default());
        let a = LimitArgs {
            max_chunk_bytes: Some(7),
            max_json_depth: Some(9),
            ..LimitArgs::default()
        };
        let l = a.limits();
        assert_eq!((l.max_chunk_bytes, l.max_json_depth), (7, 9));
    }
}
