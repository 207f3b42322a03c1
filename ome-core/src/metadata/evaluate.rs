//! Evaluating transformations on points, inverting them, and reducing them to simpler
//! forms (0.6rc0, "coordinateTransformations metadata", "Transformation types"). Pure
//! arithmetic on the typed model: parameters stored in arrays (`path`) are not loaded here,
//! and a transformation that needs them says so with [`TransformError::ArrayParameters`].

use super::transforms::{
    AffineTransform, AxisRef, BijectionTransform, ByDimensionEntry, ByDimensionItem,
    ByDimensionTransform, CoordinateTransformation, MapAxisTransform, ProjectAxisTransform,
    RotationTransform,
};

/// Why a transformation cannot be evaluated, inverted or reduced. Every variant names the
/// transformation `type`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    /// Its parameters live in a Zarr array (`path`), which pure evaluation does not read.
    #[error(
        "`{kind}` transformation reads its parameters from the array {path:?}, expected them inline"
    )]
    ArrayParameters {
        /// The transformation type.
        kind: String,
        /// The array path.
        path: String,
    },
    /// No closed-form inverse exists (or the matrix is singular).
    #[error("`{kind}` transformation has no closed-form inverse")]
    NotInvertible {
        /// The transformation type.
        kind: String,
    },
    /// The point or a parameter vector has the wrong length.
    #[error("`{kind}` transformation expected {expected} coordinates, found {found}")]
    Dimension {
        /// The transformation type.
        kind: String,
        /// What the parameters imply.
        expected: usize,
        /// What was given.
        found: usize,
    },
    /// The parameters are inconsistent (an axis index out of range, a ragged matrix).
    #[error("`{kind}` transformation is malformed: {reason}")]
    Malformed {
        /// The transformation type.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// A `type` this crate does not know.
    #[error("unknown transformation type `{kind}`")]
    Unknown {
        /// The transformation type.
        kind: String,
    },
    /// No chain of transformations links the two coordinate systems.
    #[error("no transformation links the coordinate system {from} to {to}")]
    Disconnected {
        /// The system the point is in.
        from: String,
        /// The system asked for.
        to: String,
    },
    /// Not expressible as a per-axis scale and translation (what 0.4 and 0.5 can store).
    #[error("`{kind}` transformation cannot be written as a per-axis scale and translation")]
    NotScaleTranslation {
        /// The transformation type.
        kind: String,
    },
}

impl TransformError {
    /// The transformation type the error is about (`None` for [`Self::Disconnected`]).
    pub fn transformation_type(&self) -> Option<&str> {
        match self {
            TransformError::ArrayParameters { kind, .. }
            | TransformError::NotInvertible { kind }
            | TransformError::Dimension { kind, .. }
            | TransformError::Malformed { kind, .. }
            | TransformError::Unknown { kind }
            | TransformError::NotScaleTranslation { kind } => Some(kind),
            TransformError::Disconnected { .. } => None,
        }
    }
}

type TResult<T> = Result<T, TransformError>;

fn kind_of(t: &CoordinateTransformation) -> String {
    t.type_name().to_owned()
}

fn malformed(t: &CoordinateTransformation, reason: impl Into<String>) -> TransformError {
    TransformError::Malformed {
        kind: kind_of(t),
        reason: reason.into(),
    }
}

fn inline<'a, T>(
    t: &CoordinateTransformation,
    value: Option<&'a T>,
    path: Option<&String>,
) -> TResult<&'a T> {
    match (value, path) {
        (Some(v), _) => Ok(v),
        (None, Some(p)) => Err(TransformError::ArrayParameters {
            kind: kind_of(t),
            path: p.clone(),
        }),
        (None, None) => Err(malformed(
            t,
            "expected inline parameters or a path, found neither",
        )),
    }
}

fn check_len(t: &CoordinateTransformation, expected: usize, found: usize) -> TResult<()> {
    if expected == found {
        Ok(())
    } else {
        Err(TransformError::Dimension {
            kind: kind_of(t),
            expected,
            found,
        })
    }
}

/// `rows` applied to `point` as the upper rows of a homogeneous matrix: each row has
/// `point.len()` coefficients and then a constant (`homogeneous`), or only coefficients.
fn apply_matrix(
    t: &CoordinateTransformation,
    rows: &[Vec<f64>],
    point: &[f64],
    homogeneous: bool,
) -> TResult<Vec<f64>> {
    let width = point.len() + usize::from(homogeneous);
    rows.iter()
        .map(|row| {
            check_len(t, width, row.len())?;
            let linear: f64 = row.iter().zip(point).map(|(a, x)| a * x).sum();
            Ok(linear + if homogeneous { row[point.len()] } else { 0.0 })
        })
        .collect()
}

fn index_of(t: &CoordinateTransformation, axis: &AxisRef, n: usize) -> TResult<usize> {
    match axis {
        AxisRef::Index(i) if *i < n => Ok(*i),
        AxisRef::Index(i) => Err(malformed(
            t,
            format!("axis index {i} is out of range for {n} axes"),
        )),
        AxisRef::Name(name) => Err(malformed(
            t,
            format!("axis name {name:?} needs the coordinate system to resolve, expected an index"),
        )),
    }
}

/// Applies `child` to the coordinates of `point` at `inputs`, writing its result into `out`
/// at `outputs` (a `byDimension` entry, or a sub-space member of a `sequence`).
fn apply_subset(
    parent: &CoordinateTransformation,
    child: &CoordinateTransformation,
    inputs: &[AxisRef],
    outputs: &[AxisRef],
    point: &[f64],
    out: &mut [f64],
    fields: Option<&dyn VectorFields>,
) -> TResult<()> {
    let sub: Vec<f64> = inputs
        .iter()
        .map(|a| index_of(parent, a, point.len()).map(|i| point[i]))
        .collect::<TResult<_>>()?;
    let result = child.apply_with(&sub, fields)?;
    check_len(parent, outputs.len(), result.len())?;
    for (axis, value) in outputs.iter().zip(result) {
        let i = index_of(parent, axis, out.len())?;
        out[i] = value;
    }
    Ok(())
}

/// The vector fields that `displacements` and `coordinates` transformations read from
/// their arrays (0.6rc0, "coordinates and displacements"): given to
/// [`CoordinateTransformation::apply_with`] by a caller that can read the dataset
/// (`ome_core::zarr::FieldArrays` for OME-Zarr).
pub trait VectorFields {
    /// The vector of the field stored at `path` for `point`, a point of the field's
    /// coordinate system (the transformation's input system), interpolated as
    /// `interpolation` asks (`None`: linear) where the point falls between samples.
    ///
    /// # Errors
    /// A [`TransformError`] naming the field when it cannot be read, does not fit the
    /// point, or the point lies outside it.
    fn vector_at(
        &self,
        path: &str,
        interpolation: Option<&str>,
        point: &[f64],
    ) -> TResult<Vec<f64>>;
}

impl CoordinateTransformation {
    /// Maps `point` (coordinates in the input system, in axis order) to the output system.
    ///
    /// # Errors
    /// [`TransformError`] for parameters stored in arrays (`path`; `displacements` and
    /// `coordinates` always), a point of the wrong length, inconsistent parameters, or an
    /// unknown type.
    pub fn apply(&self, point: &[f64]) -> TResult<Vec<f64>> {
        self.apply_with(point, None)
    }

    /// [`Self::apply`], with the vector fields of `displacements` and `coordinates`
    /// transformations (anywhere in the chain) read through `fields`: a displacement is
    /// added to the point, a coordinate is the mapped point.
    ///
    /// # Errors
    /// As [`Self::apply`]; [`TransformError::ArrayParameters`] for a field when `fields` is
    /// `None`; the errors of [`VectorFields::vector_at`].
    pub fn apply_with(
        &self,
        point: &[f64],
        fields: Option<&dyn VectorFields>,
    ) -> TResult<Vec<f64>> {
        use CoordinateTransformation as T;
        match self {
            T::Identity(_) => Ok(point.to_vec()),
            T::MapAxis(m) => {
                check_len(self, m.map_axis.len(), point.len())?;
                m.map_axis
                    .iter()
                    .map(|&i| {
                        point.get(i).copied().ok_or_else(|| {
                            malformed(self, format!("input axis {i} does not exist"))
                        })
                    })
                    .collect()
            }
            T::ProjectAxis(p) => {
                let dropped = p.dropped_inputs.as_deref().unwrap_or(&[]);
                let mut kept: Vec<f64> = point
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !dropped.contains(i))
                    .map(|(_, &x)| x)
                    .collect();
                let mut created = p.created_outputs.clone().unwrap_or_default();
                created.sort_unstable();
                for i in created {
                    if i > kept.len() {
                        return Err(malformed(
                            self,
                            format!("created output {i} is out of range"),
                        ));
                    }
                    kept.insert(i, 0.0);
                }
                Ok(kept)
            }
            T::Scale(s) => {
                let v = inline(self, s.scale.as_ref(), s.path.as_ref())?;
                check_len(self, v.len(), point.len())?;
                Ok(point.iter().zip(v).map(|(x, k)| x * k).collect())
            }
            T::Translation(s) => {
                let v = inline(self, s.translation.as_ref(), s.path.as_ref())?;
                check_len(self, v.len(), point.len())?;
                Ok(point.iter().zip(v).map(|(x, k)| x + k).collect())
            }
            T::Affine(a) => {
                let rows = inline(self, a.affine.as_ref(), a.path.as_ref())?;
                apply_matrix(self, rows, point, true)
            }
            T::Rotation(r) => {
                let rows = inline(self, r.rotation.as_ref(), r.path.as_ref())?;
                check_len(self, rows.len(), point.len())?;
                apply_matrix(self, rows, point, false)
            }
            T::Sequence(s) => {
                let mut p = point.to_vec();
                for child in &s.transformations {
                    let (inputs, outputs) = child.axes_subset();
                    if inputs.is_empty() && outputs.is_empty() {
                        p = child.apply_with(&p, fields)?;
                    } else {
                        let mut out = p.clone();
                        apply_subset(self, child, inputs, outputs, &p, &mut out, fields)?;
                        p = out;
                    }
                }
                Ok(p)
            }
            T::Displacements(f) | T::Coordinates(f) => {
                let Some(fields) = fields else {
                    return Err(TransformError::ArrayParameters {
                        kind: kind_of(self),
                        path: f.path.clone(),
                    });
                };
                let v = fields.vector_at(&f.path, f.interpolation.as_deref(), point)?;
                if matches!(self, T::Coordinates(_)) {
                    return Ok(v);
                }
                // 0.6rc0: "`displacements` require M=N".
                check_len(self, point.len(), v.len())?;
                Ok(point.iter().zip(v).map(|(x, d)| x + d).collect())
            }
            T::Bijection(b) => b.forward.apply_with(point, fields),
            T::ByDimension(b) => {
                let mut width = 0;
                for entry in &b.transformations {
                    for axis in entry.parts().2 {
                        if let AxisRef::Index(i) = axis {
                            width = width.max(i + 1);
                        }
                    }
                }
                let mut out = vec![f64::NAN; width];
                for entry in &b.transformations {
                    let (child, inputs, outputs) = entry.parts();
                    apply_subset(self, child, inputs, outputs, point, &mut out, fields)?;
                }
                if out.iter().any(|x| x.is_nan()) && !point.iter().any(|x| x.is_nan()) {
                    return Err(malformed(self, "an output axis is given by no entry"));
                }
                Ok(out)
            }
            T::Other(_) => Err(TransformError::Unknown {
                kind: kind_of(self),
            }),
        }
    }

    /// The inverse transformation (its `input` and `output` swapped), where it exists in
    /// closed form (0.6rc0 says which types are invertible).
    ///
    /// # Errors
    /// [`TransformError::NotInvertible`] for `displacements`, `coordinates`, a `projectAxis`
    /// that drops dimensions, a zero scale or a singular matrix; the errors of
    /// [`Self::apply`] for parameters in arrays.
    pub fn inverse(&self) -> TResult<CoordinateTransformation> {
        use CoordinateTransformation as T;
        let not_invertible = || TransformError::NotInvertible {
            kind: kind_of(self),
        };
        let mut inv = match self {
            T::Identity(_) => T::identity(),
            T::MapAxis(m) => {
                let n = m.map_axis.len();
                let mut back = vec![usize::MAX; n];
                for (i, &j) in m.map_axis.iter().enumerate() {
                    if j >= n || back[j] != usize::MAX {
                        return Err(malformed(
                            self,
                            "expected a permutation of the axis indices",
                        ));
                    }
                    back[j] = i;
                }
                T::MapAxis(MapAxisTransform {
                    map_axis: back,
                    ..Default::default()
                })
            }
            T::ProjectAxis(p) => {
                if p.dropped_inputs.as_ref().is_some_and(|d| !d.is_empty()) {
                    return Err(not_invertible());
                }
                T::ProjectAxis(ProjectAxisTransform {
                    dropped_inputs: p.created_outputs.clone(),
                    ..Default::default()
                })
            }
            T::Scale(s) => {
                let v = inline(self, s.scale.as_ref(), s.path.as_ref())?;
                if v.contains(&0.0) {
                    return Err(not_invertible());
                }
                T::scale(v.iter().map(|k| 1.0 / k).collect())
            }
            T::Translation(s) => {
                let v = inline(self, s.translation.as_ref(), s.path.as_ref())?;
                T::translation(v.iter().map(|k| -k).collect())
            }
            T::Affine(a) => {
                let rows = inline(self, a.affine.as_ref(), a.path.as_ref())?;
                T::Affine(AffineTransform {
                    affine: Some(invert_affine(rows).ok_or_else(not_invertible)?),
                    ..Default::default()
                })
            }
            T::Rotation(r) => {
                let rows = inline(self, r.rotation.as_ref(), r.path.as_ref())?;
                let n = rows.len();
                if rows.iter().any(|row| row.len() != n) {
                    return Err(malformed(self, "expected a square matrix"));
                }
                T::Rotation(RotationTransform {
                    rotation: Some(
                        (0..n)
                            .map(|c| rows.iter().map(|row| row[c]).collect())
                            .collect(),
                    ),
                    ..Default::default()
                })
            }
            T::Sequence(s) => {
                let children = s
                    .transformations
                    .iter()
                    .rev()
                    .map(|child| {
                        let mut back = child.inverse()?;
                        let (inputs, outputs) = child.axes_subset();
                        if !inputs.is_empty() || !outputs.is_empty() {
                            back.set_axes_subset(outputs.to_vec(), inputs.to_vec());
                        }
                        Ok(back)
                    })
                    .collect::<TResult<Vec<_>>>()?;
                T::sequence(children)
            }
            T::Displacements(_) | T::Coordinates(_) => return Err(not_invertible()),
            T::Bijection(b) => T::Bijection(BijectionTransform {
                forward: b.inverse.clone(),
                inverse: b.forward.clone(),
                name: None,
                input: None,
                output: None,
                input_axes: None,
                output_axes: None,
                extra: serde_json::Map::new(),
            }),
            T::ByDimension(b) => {
                let entries = b
                    .transformations
                    .iter()
                    .map(|entry| {
                        let (child, inputs, outputs) = entry.parts();
                        let mut back = child.inverse()?;
                        back.set_axes_subset(Vec::new(), Vec::new());
                        Ok(ByDimensionEntry::Wrapped(ByDimensionItem::new(
                            back,
                            outputs.to_vec(),
                            inputs.to_vec(),
                        )))
                    })
                    .collect::<TResult<Vec<_>>>()?;
                T::ByDimension(ByDimensionTransform {
                    transformations: entries,
                    ..Default::default()
                })
            }
            T::Other(_) => {
                return Err(TransformError::Unknown {
                    kind: kind_of(self),
                });
            }
        };
        inv.set_endpoints(self.output().cloned(), self.input().cloned());
        Ok(inv)
    }

    /// Sets `inputAxes` and `outputAxes` (cleared when empty).
    pub fn set_axes_subset(&mut self, inputs: Vec<AxisRef>, outputs: Vec<AxisRef>) {
        let inputs = (!inputs.is_empty()).then_some(inputs);
        let outputs = (!outputs.is_empty()).then_some(outputs);
        match self {
            CoordinateTransformation::Identity(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::MapAxis(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::ProjectAxis(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs);
            }
            CoordinateTransformation::Scale(t) => (t.input_axes, t.output_axes) = (inputs, outputs),
            CoordinateTransformation::Translation(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs);
            }
            CoordinateTransformation::Affine(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::Rotation(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::Sequence(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::Displacements(t)
            | CoordinateTransformation::Coordinates(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs);
            }
            CoordinateTransformation::Bijection(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs)
            }
            CoordinateTransformation::ByDimension(t) => {
                (t.input_axes, t.output_axes) = (inputs, outputs);
            }
            CoordinateTransformation::Other(_) => {}
        }
    }
}

/// Inverts the upper rows `[A | b]` of a square homogeneous matrix: `[A⁻¹ | -A⁻¹ b]`.
/// `None` when the matrix is not `N x (N+1)` or `A` is singular.
fn invert_affine(rows: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = rows.len();
    if rows.iter().any(|r| r.len() != n + 1) {
        return None;
    }
    // Gauss-Jordan on [A | I].
    let mut m: Vec<Vec<f64>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r[..n].to_vec();
            row.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let p = m[col][col];
        for x in &mut m[col] {
            *x /= p;
        }
        for r in 0..n {
            if r != col {
                let f = m[r][col];
                if f != 0.0 {
                    let pivot_row = m[col].clone();
                    for (x, y) in m[r].iter_mut().zip(&pivot_row) {
                        *x -= f * y;
                    }
                }
            }
        }
    }
    let inv: Vec<Vec<f64>> = m.into_iter().map(|row| row[n..].to_vec()).collect();
    Some(
        inv.iter()
            .map(|row| {
                let shift: f64 = row.iter().zip(rows).map(|(a, r)| a * r[n]).sum();
                let mut out = row.clone();
                out.push(-shift);
                out
            })
            .collect(),
    )
}

/// Reduces `t`, acting on `n` axes, to a per-axis scale and translation
/// (`x ↦ scale · x + translation`), the only transformations 0.4 and 0.5 can store.
///
/// # Errors
/// [`TransformError::NotScaleTranslation`] naming the first transformation (possibly nested)
/// that mixes or permutes axes or needs array data; [`TransformError::Dimension`] for
/// vectors of the wrong length.
pub fn scale_translation_of(
    t: &CoordinateTransformation,
    n: usize,
) -> TResult<(Vec<f64>, Vec<f64>)> {
    use CoordinateTransformation as T;
    let not = || TransformError::NotScaleTranslation { kind: kind_of(t) };
    let identity = || (vec![1.0; n], vec![0.0; n]);
    match t {
        T::Identity(_) => Ok(identity()),
        T::Scale(s) => {
            let v = inline(t, s.scale.as_ref(), s.path.as_ref()).map_err(|_| not())?;
            check_len(t, n, v.len())?;
            Ok((v.clone(), vec![0.0; n]))
        }
        T::Translation(s) => {
            let v = inline(t, s.translation.as_ref(), s.path.as_ref()).map_err(|_| not())?;
            check_len(t, n, v.len())?;
            Ok((vec![1.0; n], v.clone()))
        }
        T::MapAxis(m) if m.map_axis.iter().enumerate().all(|(i, &j)| i == j) => {
            check_len(t, n, m.map_axis.len())?;
            Ok(identity())
        }
        T::Affine(_) | T::Rotation(_) => {
            // Diagonal matrices are scales in disguise.
            let rows = matrix_of(t, n).map_err(|_| not())?;
            let diagonal = rows.iter().enumerate().all(|(r, row)| {
                row.len() == n + 1
                    && row[..n]
                        .iter()
                        .enumerate()
                        .all(|(c, &a)| c == r || a == 0.0)
            });
            if rows.len() != n || !diagonal {
                return Err(not());
            }
            Ok((
                (0..n).map(|i| rows[i][i]).collect(),
                rows.iter().map(|row| row[n]).collect(),
            ))
        }
        T::Sequence(s) => {
            let (mut scale, mut shift) = identity();
            for child in &s.transformations {
                let (inputs, outputs) = child.axes_subset();
                if !inputs.is_empty() || !outputs.is_empty() {
                    return Err(TransformError::NotScaleTranslation {
                        kind: kind_of(child),
                    });
                }
                let (s2, t2) = scale_translation_of(child, n)?;
                for i in 0..n {
                    scale[i] *= s2[i];
                    shift[i] = s2[i] * shift[i] + t2[i];
                }
            }
            Ok((scale, shift))
        }
        T::Bijection(b) => scale_translation_of(&b.forward, n),
        T::ByDimension(b) => {
            let (mut scale, mut shift) = identity();
            let mut seen = vec![false; n];
            for entry in &b.transformations {
                let (child, inputs, outputs) = entry.parts();
                if inputs != outputs {
                    return Err(not());
                }
                let idx = inputs
                    .iter()
                    .map(|a| index_of(t, a, n))
                    .collect::<TResult<Vec<_>>>()?;
                let (s2, t2) = scale_translation_of(child, idx.len())?;
                for (k, &i) in idx.iter().enumerate() {
                    scale[i] = s2[k];
                    shift[i] = t2[k];
                    seen[i] = true;
                }
            }
            if seen.contains(&false) {
                return Err(not());
            }
            Ok((scale, shift))
        }
        _ => Err(not()),
    }
}

/// The upper `M x (N+1)` rows of the homogeneous matrix of `t` acting on `n` input axes,
/// for the transformations that are linear plus a shift: identity, mapAxis, scale,
/// translation, affine, rotation, and sequences and bijections of them.
///
/// # Errors
/// [`TransformError`] for any other type, parameters in arrays, or wrong lengths.
pub fn matrix_of(t: &CoordinateTransformation, n: usize) -> TResult<Vec<Vec<f64>>> {
    use CoordinateTransformation as T;
    let unit = |r: usize| -> Vec<f64> { (0..=n).map(|c| if c == r { 1.0 } else { 0.0 }).collect() };
    match t {
        T::Identity(_) => Ok((0..n).map(unit).collect()),
        T::MapAxis(m) => {
            check_len(t, n, m.map_axis.len())?;
            m.map_axis
                .iter()
                .map(|&j| {
                    if j < n {
                        Ok(unit(j))
                    } else {
                        Err(malformed(t, format!("input axis {j} does not exist")))
                    }
                })
                .collect()
        }
        T::Scale(_) | T::Translation(_) => {
            let (scale, shift) = scale_translation_of(t, n)?;
            Ok((0..n)
                .map(|r| {
                    let mut row = vec![0.0; n + 1];
                    row[r] = scale[r];
                    row[n] = shift[r];
                    row
                })
                .collect())
        }
        T::Affine(a) => {
            let rows = inline(t, a.affine.as_ref(), a.path.as_ref())?;
            for row in rows {
                check_len(t, n + 1, row.len())?;
            }
            Ok(rows.clone())
        }
        T::Rotation(r) => {
            let rows = inline(t, r.rotation.as_ref(), r.path.as_ref())?;
            check_len(t, n, rows.len())?;
            rows.iter()
                .map(|row| {
                    check_len(t, n, row.len())?;
                    let mut out = row.clone();
                    out.push(0.0);
                    Ok(out)
                })
                .collect()
        }
        T::Sequence(s) => {
            let mut acc: Vec<Vec<f64>> = (0..n).map(unit).collect();
            for child in &s.transformations {
                let (inputs, outputs) = child.axes_subset();
                if !inputs.is_empty() || !outputs.is_empty() {
                    return Err(malformed(
                        child,
                        "sub-space members have no single matrix here",
                    ));
                }
                let m = matrix_of(child, acc.len())?;
                acc = compose(&m, &acc);
            }
            Ok(acc)
        }
        T::Bijection(b) => matrix_of(&b.forward, n),
        T::Other(_) => Err(TransformError::Unknown { kind: kind_of(t) }),
        _ => Err(TransformError::Malformed {
            kind: kind_of(t),
            reason: "expected a linear transformation".to_owned(),
        }),
    }
}

/// `second ∘ first` for upper homogeneous rows (`first`: `K x (N+1)`, `second`: `M x (K+1)`).
fn compose(second: &[Vec<f64>], first: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = first.len();
    let n = first.first().map_or(0, |r| r.len().saturating_sub(1));
    second
        .iter()
        .map(|row| {
            let mut out: Vec<f64> = (0..=n)
                .map(|c| (0..k).map(|j| row[j] * first[j][c]).sum())
                .collect();
            out[n] += row[k];
            out
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: serde_json::Value) -> CoordinateTransformation {
        serde_json::from_value(v).unwrap()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn the_spec_examples_evaluate_as_documented() {
        // sequence.json: x = (i + 0.1) * 2, y = (j + 0.9) * 3.
        let seq = t(json!({"type": "sequence", "transformations": [
            {"type": "translation", "translation": [0.1, 0.9]}, {"type": "scale", "scale": [2, 3]}]}));
        assert!(close(&seq.apply(&[1.0, 1.0]).unwrap(), &[2.2, 5.7]));
        // affine2d2d.json: y = 1 j + 2 i + 3, x = 4 j + 5 i + 6.
        let aff = t(json!({"type": "affine", "affine": [[1, 2, 3], [4, 5, 6]]}));
        assert_eq!(aff.apply(&[1.0, 1.0]).unwrap(), [6.0, 15.0]);
        // affine2d3d.json: 2-D in, 3-D out. The last column is the translation ("Matrix
        // transformations"); the example's prose puts the homogeneous 1 first instead, which
        // contradicts that definition and example 1, so the definition wins.
        let up = t(json!({"type": "affine", "affine": [[1, 0, 0], [2, 3, 4], [5, 6, 7]]}));
        assert_eq!(up.apply(&[0.0, 0.0]).unwrap(), [0.0, 4.0, 7.0]);
        assert_eq!(up.apply(&[1.0, 2.0]).unwrap(), [1.0, 12.0, 24.0]);
        // rotation.json: x = -j, y = i.
        let rot = t(json!({"type": "rotation", "rotation": [[0, -1], [1, 0]]}));
        assert_eq!(rot.apply(&[1.0, 2.0]).unwrap(), [-2.0, 1.0]);
        let map = t(json!({"type": "mapAxis", "mapAxis": [1, 0]}));
        assert_eq!(map.apply(&[1.0, 2.0]).unwrap(), [2.0, 1.0]);
        // projectAxis.json: c = 0, z = 0, y = i, x = j.
        let proj = t(json!({"type": "projectAxis", "createdOutputs": [0, 1]}));
        assert_eq!(proj.apply(&[3.0, 4.0]).unwrap(), [0.0, 0.0, 3.0, 4.0]);
        let proj2 = t(json!({"type": "projectAxis", "createdOutputs": [0], "droppedInputs": [0]}));
        assert_eq!(proj2.apply(&[9.0, 3.0, 4.0]).unwrap(), [0.0, 3.0, 4.0]);
        // byDimension2.json: 4-D in, 3-D out.
        let by = t(json!({"type": "byDimension", "transformations": [
            {"transformation": {"type": "translation", "translation": [0.5, 1.5]}, "inputAxes": [3, 2], "outputAxes": [1, 2]},
            {"transformation": {"type": "scale", "scale": [2]}, "inputAxes": [1], "outputAxes": [0]}]}));
        assert_eq!(by.apply(&[0.0, 1.0, 2.0, 3.0]).unwrap(), [2.0, 3.5, 3.5]);
        let field = t(json!({"type": "displacements", "path": "f"}));
        assert!(matches!(
            field.apply(&[0.0]),
            Err(TransformError::ArrayParameters { .. })
        ));
        assert!(matches!(
            field.inverse(),
            Err(TransformError::NotInvertible { .. })
        ));
    }

    #[test]
    fn inverses_undo_their_transformations() {
        let cases = [
            json!({"type": "scale", "scale": [2, 4], "input": {"name": "a"}, "output": {"name": "b"}}),
            json!({"type": "translation", "translation": [1, -3]}),
            json!({"type": "affine", "affine": [[1, 2, 3], [4, 5, 6]]}),
            json!({"type": "rotation", "rotation": [[0, -1], [1, 0]]}),
            json!({"type": "mapAxis", "mapAxis": [1, 0]}),
            json!({"type": "identity"}),
            json!({"type": "sequence", "transformations": [
                {"type": "scale", "scale": [2, 2]}, {"type": "translation", "translation": [1, 1]},
                {"type": "affine", "affine": [[0, 1, 5], [1, 0, 6]]}]}),
            json!({"type": "byDimension", "transformations": [
                {"transformation": {"type": "translation", "translation": [-1.0]}, "inputAxes": [1], "outputAxes": [1]},
                {"transformation": {"type": "scale", "scale": [2.0]}, "inputAxes": [0], "outputAxes": [0]}]}),
            json!({"type": "bijection", "forward": {"type": "scale", "scale": [2, 2]},
                "inverse": {"type": "scale", "scale": [0.5, 0.5]}}),
        ];
        for case in cases {
            let forward = t(case.clone());
            let back = forward.inverse().unwrap();
            let p = [0.3, -7.25];
            let q = forward.apply(&p).unwrap();
            assert!(close(&back.apply(&q).unwrap(), &p), "{case}");
        }
        let s = t(
            json!({"type": "scale", "scale": [2, 4], "input": {"name": "a"}, "output": {"name": "b"}}),
        );
        assert_eq!(
            s.inverse().unwrap().input().unwrap().name.as_deref(),
            Some("b")
        );
        let singular = t(json!({"type": "affine", "affine": [[1, 1, 0], [1, 1, 0]]}));
        assert!(matches!(
            singular.inverse(),
            Err(TransformError::NotInvertible { .. })
        ));
    }

    #[test]
    fn reductions_to_scale_and_translation() {
        let seq = t(json!({"type": "sequence", "transformations": [
            {"type": "scale", "scale": [0.5, 2]}, {"type": "translation", "translation": [0.25, 1]}]}));
        assert_eq!(
            scale_translation_of(&seq, 2).unwrap(),
            (vec![0.5, 2.0], vec![0.25, 1.0])
        );
        let diag = t(json!({"type": "affine", "affine": [[2, 0, 1], [0, 3, 0]]}));
        assert_eq!(
            scale_translation_of(&diag, 2).unwrap(),
            (vec![2.0, 3.0], vec![1.0, 0.0])
        );
        let rot = t(json!({"type": "rotation", "rotation": [[0, -1], [1, 0]]}));
        let err = scale_translation_of(&rot, 2).unwrap_err();
        assert_eq!(err.transformation_type(), Some("rotation"));
        let nested = t(json!({"type": "sequence", "transformations": [
            {"type": "scale", "scale": [1, 1]}, {"type": "displacements", "path": "d"}]}));
        assert_eq!(
            scale_translation_of(&nested, 2)
                .unwrap_err()
                .transformation_type(),
            Some("displacements")
        );
        let m = matrix_of(&seq, 2).unwrap();
        assert_eq!(m, vec![vec![0.5, 0.0, 0.25], vec![0.0, 2.0, 1.0]]);
    }
}
