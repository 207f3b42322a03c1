//! Writing high-content-screening plates (NGFF 0.4 / 0.5 "plate" and "well"): fields are
//! written one by one into a staging directory; well and plate metadata are written when
//! the plate is finished, and the plate is renamed into place only then.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::ArrayViewD;

use super::write::{ImageMetadata, Level0, WriteOptions, write_group, write_image_into};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::metadata::{Acquisition, NamedEntry, OmeAttributes, Plate, PlateWell, Well, WellImage};
use crate::options::NoProgress;
use crate::output::Staged;

/// A plate being written. Call [`PlateWriter::finish`] to complete it; dropping it
/// unfinished removes everything written so far.
#[derive(Debug)]
pub struct PlateWriter {
    /// Removed on drop unless committed by [`PlateWriter::finish`].
    staging: Option<Staged>,
    opts: WriteOptions,
    name: Option<String>,
    rows: Vec<String>,
    columns: Vec<String>,
    /// (row index, column index) -> field paths.
    wells: BTreeMap<(usize, usize), Vec<String>>,
}

fn check_name(kind: &str, name: &str) -> Result<()> {
    // NGFF 0.4 "plate": row and column names MUST contain only alphanumeric characters.
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::usage(format!(
            "expected an alphanumeric {kind} name, found {name:?}"
        )));
    }
    Ok(())
}

impl PlateWriter {
    /// Starts a plate at `path` with the given row and column names (`A`, `B`, ...;
    /// `1`, `2`, ...). Options apply to every field; the NGFF version decides the layout.
    ///
    /// # Errors
    /// A usage error for names that are not alphanumeric or repeat, or an existing output
    /// without `overwrite`.
    pub fn create(
        path: impl AsRef<Path>,
        name: Option<&str>,
        rows: &[&str],
        columns: &[&str],
        opts: &WriteOptions,
    ) -> Result<Self> {
        for (kind, names) in [("row", rows), ("column", columns)] {
            for (i, n) in names.iter().enumerate() {
                check_name(kind, n)?;
                if names[..i].contains(n) {
                    return Err(Error::usage(format!("{kind} name {n:?} appears twice")));
                }
            }
        }
        let target = path.as_ref().to_path_buf();
        let staging = Staged::dir(&target, opts.overwrite)?;
        Ok(PlateWriter {
            staging: Some(staging),
            opts: opts.clone(),
            name: name.map(str::to_string),
            rows: rows.iter().map(|s| s.to_string()).collect(),
            columns: columns.iter().map(|s| s.to_string()).collect(),
            wells: BTreeMap::new(),
        })
    }

    fn index(names: &[String], kind: &str, name: &str) -> Result<usize> {
        names.iter().position(|n| n == name).ok_or_else(|| {
            Error::usage(format!(
                "{kind} {name:?} is not one of the plate's {kind}s {names:?}"
            ))
        })
    }

    /// Writes the next field of the well at `row`, `column` and returns its path
    /// (`A/1/0`).
    ///
    /// # Errors
    /// Usage errors for unknown rows or columns, and the errors of writing an image.
    pub fn write_field<T: Element>(
        &mut self,
        row: &str,
        column: &str,
        data: ArrayViewD<'_, T>,
        meta: &ImageMetadata,
    ) -> Result<String> {
        let r = Self::index(&self.rows, "row", row)?;
        let c = Self::index(&self.columns, "column", column)?;
        let staging = self
            .staging
            .as_ref()
            .ok_or_else(|| Error::usage("the plate is already finished"))?;
        let fields = self.wells.entry((r, c)).or_default();
        let field = fields.len().to_string();
        let dir = staging.path().join(row).join(column).join(&field);
        let shape: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        write_image_into(
            &dir,
            Level0::Memory(data),
            &shape,
            meta,
            &self.opts,
            None,
            &NoProgress,
        )?;
        fields.push(field.clone());
        Ok(format!("{row}/{column}/{field}"))
    }

    /// Writes the well and plate metadata (plate last) and moves the plate into place.
    ///
    /// # Errors
    /// Storage errors; a usage error for a plate without any field.
    pub fn finish(mut self) -> Result<()> {
        let staging = self
            .staging
            .take()
            .ok_or_else(|| Error::usage("the plate is already finished"))?;
        // Dropped on error: nothing is left behind.
        self.write_metadata(staging.path())?;
        staging.commit()
    }

    fn write_metadata(&self, staging: &Path) -> Result<()> {
        if self.wells.is_empty() {
            return Err(Error::usage("a plate needs at least one field"));
        }
        let version = self.opts.version;
        let mut wells = Vec::new();
        let mut field_count = 0;
        for (&(r, c), fields) in &self.wells {
            let row = &self.rows[r];
            let column = &self.columns[c];
            let well = Well {
                images: fields
                    .iter()
                    .map(|f| WellImage {
                        path: f.clone(),
                        acquisition: Some(0),
                        ..WellImage::default()
                    })
                    .collect(),
                ..Well::default()
            };
            let dir = staging.join(row).join(column);
            write_group(
                &dir,
                version,
                super::retag(OmeAttributes::new_well(version, well), &self.opts).to_attributes(),
            )?;
            // Row groups are plain groups.
            write_group(&staging.join(row), version, serde_json::Map::new())?;
            field_count = field_count.max(fields.len() as u64);
            wells.push(PlateWell {
                path: format!("{row}/{column}"),
                row_index: Some(r as u64),
                column_index: Some(c as u64),
                ..PlateWell::default()
            });
        }
        let plate = Plate {
            name: self.name.clone(),
            rows: self.rows.iter().map(NamedEntry::new).collect(),
            columns: self.columns.iter().map(NamedEntry::new).collect(),
            wells,
            // One acquisition for the whole plate, with the `name` and `maximumfieldcount`
            // each acquisition SHOULD have (0.4-0.6rc0 "plate" metadata).
            acquisitions: Some(vec![Acquisition {
                id: 0,
                name: Some(
                    self.name
                        .clone()
                        .unwrap_or_else(|| "acquisition 0".to_owned()),
                ),
                maximum_field_count: Some(field_count),
                ..Acquisition::default()
            }]),
            field_count: Some(field_count),
            ..Plate::default()
        };
        write_group(
            staging,
            version,
            super::retag(OmeAttributes::new_plate(version, plate), &self.opts).to_attributes(),
        )
    }
}
