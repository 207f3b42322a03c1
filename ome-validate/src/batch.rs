//! A run over many targets, as the CLI (`ome-validate check`) and the bindings
//! (`ome_py.validate`) make one: targets given and targets found below directories, a
//! baseline to compare with and one to write. Front ends only fill a [`Batch`]; what a run
//! does with it is decided here, once.

use std::path::PathBuf;

use crate::baseline::{Baseline, write_baseline};
use crate::discover::{WalkLimits, discover};
use crate::engine::validate;
use crate::error::Result;
use crate::options::Options;
use crate::report::Report;

/// What one run validates and which baseline it uses.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Batch {
    /// Targets as given (directories, JSON, TIFF or XML files, URLs).
    pub targets: Vec<PathBuf>,
    /// Directories searched for OME-Zarr roots and OME-TIFF files ([`discover`]).
    pub recursive: Vec<PathBuf>,
    /// Bounds of that search.
    pub walk_limits: WalkLimits,
    /// A stored JSON report: the run's report keeps only findings it does not hold
    /// ([`Baseline::apply`]).
    pub baseline: Option<PathBuf>,
    /// Where to write this run's full report as a future baseline ([`write_baseline`]).
    pub write_baseline: Option<PathBuf>,
}

impl Batch {
    /// A batch of the given targets.
    pub fn of(targets: Vec<PathBuf>) -> Self {
        Batch {
            targets,
            ..Batch::default()
        }
    }

    /// Validates the targets given, then those found below [`Batch::recursive`], each
    /// once ([`validate`] drops repeats); writes the full report to
    /// [`Batch::write_baseline`], then compares it with [`Batch::baseline`]. The baseline
    /// is read before anything runs, so a bad one costs no validation.
    ///
    /// # Errors
    /// As [`validate`] and [`discover`]; [`Baseline::read`] and [`write_baseline`] errors.
    pub fn run(&self, options: &Options) -> Result<Report> {
        let baseline = self.baseline.as_deref().map(Baseline::read).transpose()?;
        let mut targets = self.targets.clone();
        if !self.recursive.is_empty() {
            targets.extend(discover(&self.recursive, self.walk_limits)?);
        }
        let report = validate(&targets, options)?;
        if let Some(path) = &self.write_baseline {
            write_baseline(&report, path)?;
        }
        Ok(match baseline {
            Some(b) => b.apply(report),
            None => report,
        })
    }
}
