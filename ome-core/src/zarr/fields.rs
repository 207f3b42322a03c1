//! The vector fields of `displacements` and `coordinates` transformations (0.6rc0,
//! "coordinates and displacements"), read from their multiscale groups for
//! [`CoordinateTransformation::apply_with`](crate::metadata::CoordinateTransformation::apply_with).
//!
//! A field is a multiscale image with one axis per input axis plus one axis of type
//! `displacement` or `coordinate` holding the vector's components. Its level 0 maps array
//! indices to the field's coordinate system (the transformation's input system); a point
//! is mapped back into array indices with the inverse of that transformation, and the
//! vector is interpolated there: `linear` (the default; multilinear over the input axes)
//! or `nearest`. `bspline-cubic` is refused with an error rather than replaced silently
//! ("Consumers SHOULD clearly communicate to users if a different interpolation method is
//! used"). A point more than half a sample outside the grid is an error, not an
//! extrapolation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::OmeZarr;
use crate::metadata::{CoordinateTransformation, TransformError, VectorFields};
use crate::selection::Selection;

/// Most samples (vector components) of a field read into memory, as `f64`: 128 MiB.
const MAX_FIELD_VALUES: u64 = 1 << 24;

/// The transformation types this module serves, for errors.
const KIND: &str = "displacements/coordinates";

/// An error about the field at `path`.
fn field_error(path: &str, reason: String) -> TransformError {
    TransformError::Malformed {
        kind: KIND.into(),
        reason: format!("the field {path:?}: {reason}"),
    }
}

/// The fields of the image at a path, opened on first use and kept.
#[derive(Debug)]
pub struct FieldArrays {
    base: PathBuf,
    fields: Mutex<HashMap<String, Arc<Field>>>,
}

/// A field read whole: its values, shape, vector axis, and level-0 transformation.
#[derive(Debug)]
struct Field {
    values: Vec<f64>,
    shape: Vec<usize>,
    vector_axis: usize,
    to_field: CoordinateTransformation,
}

impl FieldArrays {
    /// The fields of the image group at `image` (a path or URL). A field's `path` is
    /// resolved inside the image group, then next to it (a scene's
    /// `coordinateTransformations` group, as 0.6rc0 lays out a scene).
    pub fn new(image: impl AsRef<Path>) -> Self {
        FieldArrays {
            base: image.as_ref().to_path_buf(),
            fields: Mutex::new(HashMap::new()),
        }
    }

    fn field(&self, path: &str) -> Result<Arc<Field>, TransformError> {
        if let Some(f) = self.fields.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(f);
        }
        let bad = |reason: String| field_error(path, reason);
        let escapes = Path::new(path)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if path.is_empty() || escapes {
            return Err(bad("expected a relative path inside the dataset".into()));
        }
        let here = self.base.join(path);
        // A field is an OME-Zarr multiscale group: opened by this adapter, not through the
        // format-detecting `Image::open` above it.
        let open = |p: &Path| OmeZarr::open(p).and_then(|z| z.image());
        let image = match open(&here) {
            Ok(i) => i,
            Err(first) => match self.base.parent().map(|p| p.join(path)) {
                Some(next) => open(&next).map_err(|_| bad(first.to_string()))?,
                None => return Err(bad(first.to_string())),
            },
        };
        let vector_axis = image
            .axes()
            .iter()
            .position(|a| {
                matches!(
                    a.axis_type.as_deref(),
                    Some("displacement") | Some("coordinate")
                )
            })
            .ok_or_else(|| {
                bad("expected an axis of type \"displacement\" or \"coordinate\"".into())
            })?;
        let level = image
            .levels()
            .first()
            .ok_or_else(|| bad("expected a level".into()))?;
        let to_field = level
            .transform
            .clone()
            .ok_or_else(|| bad("expected a transformation of level 0".into()))?;
        let n: u64 = level.shape.iter().product();
        if n > MAX_FIELD_VALUES {
            return Err(bad(format!(
                "expected at most {MAX_FIELD_VALUES} values, found {n}"
            )));
        }
        let data = image
            .read(0, &Selection::default())
            .map_err(|e| bad(e.to_string()))?;
        let values: Vec<f64> = crate::with_dyn_array!(data, a, T => a.iter().map(|v: &T| crate::Element::to_f64(*v)).collect());
        let field = Arc::new(Field {
            values,
            shape: level.shape.iter().map(|&d| d as usize).collect(),
            vector_axis,
            to_field,
        });
        if let Ok(mut m) = self.fields.lock() {
            m.insert(path.to_string(), Arc::clone(&field));
        }
        Ok(field)
    }
}

impl VectorFields for FieldArrays {
    fn vector_at(
        &self,
        path: &str,
        interpolation: Option<&str>,
        point: &[f64],
    ) -> Result<Vec<f64>, TransformError> {
        let field = self.field(path)?;
        field.vector_at(path, interpolation, point)
    }
}

impl Field {
    fn vector_at(
        &self,
        path: &str,
        interpolation: Option<&str>,
        point: &[f64],
    ) -> Result<Vec<f64>, TransformError> {
        let kind = || KIND.to_string();
        let bad = |reason: String| field_error(path, reason);
        let grid: Vec<usize> = (0..self.shape.len())
            .filter(|&i| i != self.vector_axis)
            .collect();
        if grid.len() != point.len() {
            return Err(TransformError::Dimension {
                kind: kind(),
                expected: grid.len(),
                found: point.len(),
            });
        }
        // Array indices of the point: the inverse of level 0's transformation, written for
        // the spatial axes only (as the 0.6rc0 example does) or for every array axis.
        let inverse = self.to_field.inverse()?;
        let index: Vec<f64> = match inverse.apply(point) {
            Ok(ix) if ix.len() == grid.len() => ix,
            _ => {
                let mut full = vec![0.0; self.shape.len()];
                for (g, &x) in grid.iter().zip(point) {
                    full[*g] = x;
                }
                let ix = inverse.apply(&full)?;
                grid.iter().map(|&g| ix[g]).collect()
            }
        };
        for (k, (&g, &x)) in grid.iter().zip(&index).enumerate() {
            let n = self.shape[g] as f64;
            if !(x >= -0.5 && x <= n - 0.5) {
                return Err(bad(format!(
                    "the point {point:?} lies outside the field (index {x} on axis {k} of {n})"
                )));
            }
        }
        let components = self.shape[self.vector_axis];
        let mut strides = vec![1usize; self.shape.len()];
        for i in (0..self.shape.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.shape[i + 1];
        }
        let at = |cell: &[usize], c: usize| -> f64 {
            let mut off = c * strides[self.vector_axis];
            for (&g, &i) in grid.iter().zip(cell) {
                off += i * strides[g];
            }
            self.values.get(off).copied().unwrap_or(f64::NAN)
        };
        let clamp = |g: usize, x: f64| -> f64 { x.clamp(0.0, (self.shape[g] - 1) as f64) };
        match interpolation.unwrap_or("linear") {
            "nearest" => {
                let cell: Vec<usize> = grid
                    .iter()
                    .zip(&index)
                    .map(|(&g, &x)| clamp(g, x).round() as usize)
                    .collect();
                Ok((0..components).map(|c| at(&cell, c)).collect())
            }
            "linear" => {
                // Multilinear: the 2^N corners of the cell around the point, weighted.
                let lows: Vec<(usize, f64)> = grid
                    .iter()
                    .zip(&index)
                    .map(|(&g, &x)| {
                        let x = clamp(g, x);
                        let lo = (x.floor() as usize).min(self.shape[g].saturating_sub(2));
                        (lo, x - lo as f64)
                    })
                    .collect();
                let mut out = vec![0.0; components];
                for corner in 0..(1usize << grid.len()) {
                    let mut weight = 1.0;
                    let mut cell = Vec::with_capacity(grid.len());
                    for (k, &(lo, t)) in lows.iter().enumerate() {
                        let up = corner >> k & 1 == 1;
                        let n = self.shape[grid[k]];
                        cell.push(if up { (lo + 1).min(n - 1) } else { lo });
                        weight *= if up { t } else { 1.0 - t };
                    }
                    if weight != 0.0 {
                        for (c, o) in out.iter_mut().enumerate() {
                            *o += weight * at(&cell, c);
                        }
                    }
                }
                Ok(out)
            }
            other => Err(bad(format!(
                "interpolation {other:?} is not implemented here (nearest and linear are)"
            ))),
        }
    }
}
