//! Read-only facts about a TIFF file's IFDs, for validators: the main chain, the tags an
//! OME-TIFF's metadata must agree with, the SubIFD levels, and where the OME-XML is.
//!
//! Nothing here decodes pixels; every read goes through the same hardened IFD parser as
//! [`super::OmeTiff`] (offsets checked against the file length, loops detected, counts
//! bounded by [`TiffLimits`]).

use std::path::Path;

use crate::error::Result;

use super::ifd::{Ifd, IfdAt, TiffFile, TiffLimits, tag};

/// How many IFDs after the first are searched for a misplaced OME-XML block.
const SEARCH_LATER_DESCRIPTIONS: usize = 4;

/// The tags of one IFD that OME-XML metadata must agree with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IfdSummary {
    /// ImageWidth (256).
    pub width: Option<u64>,
    /// ImageLength (257).
    pub height: Option<u64>,
    /// BitsPerSample (258), one value per sample (default `[1]`).
    pub bits_per_sample: Vec<u64>,
    /// SampleFormat (339), first value (default 1, unsigned integer).
    pub sample_format: u64,
    /// SamplesPerPixel (277) (default 1).
    pub samples_per_pixel: u64,
    /// NewSubfileType (254) (default 0).
    pub new_subfile_type: u64,
    /// Whether the IFD has an ImageDescription (270).
    pub has_description: bool,
    /// Whether the image is stored in tiles (TileWidth, 322) rather than strips.
    pub tiled: bool,
    /// Offset of the IFD in the file.
    pub offset: u64,
    /// The SubIFDs (330) of a main-chain IFD, in order (empty for SubIFDs themselves).
    pub sub_ifds: Vec<IfdSummary>,
}

/// Facts about one TIFF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TiffInspection {
    /// BigTIFF (version 43) rather than classic TIFF (42).
    pub bigtiff: bool,
    /// The main IFD chain, in order.
    pub ifds: Vec<IfdSummary>,
    /// The ImageDescription of IFD 0, bounded by [`TiffLimits::max_description_bytes`].
    pub first_description: Option<String>,
    /// The first IFD after IFD 0 (among the next few) whose ImageDescription holds an
    /// `<OME` element, when IFD 0's does not.
    pub later_ome_ifd: Option<u64>,
}

impl TiffInspection {
    /// Whether IFD 0's ImageDescription looks like OME-XML (an XML declaration or an
    /// `OME` root element), the test readers use to call a TIFF an OME-TIFF.
    pub fn first_description_looks_ome(&self) -> bool {
        self.first_description
            .as_deref()
            .is_some_and(looks_like_ome_xml)
    }
}

/// Whether a text looks like an OME-XML document.
pub fn looks_like_ome_xml(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with("<?xml")
        || t.starts_with("<OME")
        || t.contains("<OME ")
        || t.contains("<OME>")
        || t.contains(":OME ")
}

fn summarize(f: &TiffFile, ifd: &Ifd, offset: u64, at: &IfdAt) -> Result<IfdSummary> {
    let bits = f
        .uints(ifd, tag::BITS_PER_SAMPLE, at)?
        .unwrap_or_else(|| vec![1]);
    Ok(IfdSummary {
        width: f.uint(ifd, tag::IMAGE_WIDTH, at)?,
        height: f.uint(ifd, tag::IMAGE_LENGTH, at)?,
        bits_per_sample: bits,
        sample_format: f.uint(ifd, tag::SAMPLE_FORMAT, at)?.unwrap_or(1),
        samples_per_pixel: f.uint(ifd, tag::SAMPLES_PER_PIXEL, at)?.unwrap_or(1),
        new_subfile_type: f.uint(ifd, tag::NEW_SUBFILE_TYPE, at)?.unwrap_or(0),
        has_description: ifd.entries.contains_key(&tag::IMAGE_DESCRIPTION),
        tiled: ifd.entries.contains_key(&tag::TILE_WIDTH),
        offset,
        sub_ifds: Vec::new(),
    })
}

/// Reads the IFD facts of the TIFF file at `path`.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the file cannot be read,
/// [`crate::ErrorKind::Format`] when it is not a TIFF or an IFD or tag points outside the
/// file or the chain loops, [`crate::ErrorKind::LimitsExceeded`] when `limits` are
/// exceeded. Each error's location names the file, IFD and tag.
pub fn inspect(path: &Path, limits: TiffLimits) -> Result<TiffInspection> {
    let f = TiffFile::open(path, limits)?;
    let chain = f.main_chain()?;
    let mut out = TiffInspection {
        bigtiff: f.big,
        ..TiffInspection::default()
    };
    for (index, (offset, ifd)) in chain.iter().enumerate() {
        let index = index as u64;
        let at = IfdAt {
            ifd: Some(index),
            subifd: None,
        };
        let mut summary = summarize(&f, ifd, *offset, &at)?;
        let sub_offsets = f.uints(ifd, tag::SUB_IFDS, &at)?.unwrap_or_default();
        for (k, sub) in f.sub_ifds(ifd, index)?.iter().enumerate() {
            let at = IfdAt {
                ifd: Some(index),
                subifd: Some(k as u64),
            };
            let offset = sub_offsets.get(k).copied().unwrap_or(0);
            summary.sub_ifds.push(summarize(&f, sub, offset, &at)?);
        }
        out.ifds.push(summary);
    }
    if let Some((_, ifd0)) = chain.first() {
        let at = IfdAt {
            ifd: Some(0),
            subifd: None,
        };
        out.first_description = f.ascii(
            ifd0,
            tag::IMAGE_DESCRIPTION,
            &at,
            limits.max_description_bytes,
        )?;
    }
    if !out.first_description_looks_ome() {
        for (index, (_, ifd)) in chain
            .iter()
            .enumerate()
            .skip(1)
            .take(SEARCH_LATER_DESCRIPTIONS)
        {
            let at = IfdAt {
                ifd: Some(index as u64),
                subifd: None,
            };
            let text = f
                .ascii(
                    ifd,
                    tag::IMAGE_DESCRIPTION,
                    &at,
                    limits.max_description_bytes,
                )
                .ok()
                .flatten();
            if text.as_deref().is_some_and(|t| t.contains("<OME")) {
                out.later_ome_ifd = Some(index as u64);
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_ome_xml_text() {
        assert!(looks_like_ome_xml("<?xml version=\"1.0\"?><OME/>"));
        assert!(looks_like_ome_xml("  <OME xmlns=\"x\">"));
        assert!(!looks_like_ome_xml("ImageJ=1.52"));
    }

    #[test]
    fn a_missing_file_is_an_error() {
        assert!(inspect(Path::new("/nonexistent/x.tif"), TiffLimits::default()).is_err());
    }
}
