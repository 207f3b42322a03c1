//! Level planning: the shapes of the levels of a pyramid and their coordinate
//! transformations.

use super::Downsample;
use crate::{Error, Result};

/// How many levels a pyramid gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LevelCount {
    /// Add levels while the smallest side, over the axes that are downsampled (factor
    /// greater than 1), is still larger than this.
    MinSize(u64),
    /// This many levels in total, level 0 included (fewer if the image stops shrinking).
    Exactly(usize),
}

fn check_factors(len: usize, factors: &[u64], what: &str) -> Result<()> {
    if factors.len() != len {
        return Err(Error::usage(format!(
            "expected {len} downsampling factors (one per axis of the {what}), found {}",
            factors.len()
        )));
    }
    if let Some(axis) = factors.iter().position(|&f| f == 0) {
        return Err(Error::usage(format!(
            "expected downsampling factors of at least 1, found 0 for axis {axis}"
        )));
    }
    Ok(())
}

/// The shapes of all levels of a pyramid, level 0 (`shape`) first.
///
/// Each level is `ceil(previous / factor)` per axis; axes with factor 1 keep their size.
/// With [`LevelCount::MinSize`]`(m)` levels are added while the smallest downsampled side
/// of the last level is larger than `m`: a `2048 × 2048` image with factors `2, 2` and
/// `m = 256` gets the levels 2048, 1024, 512 and 256. Planning stops early when the next
/// level would not be smaller than the last (every downsampled side is already 1), so no
/// level ever has a side of 0 and [`LevelCount::Exactly`] may give fewer levels than asked.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when `factors` does not have one entry per axis,
/// a factor is 0, a side of `shape` is 0, or the count is `Exactly(0)`.
pub fn plan_levels(shape: &[u64], factors: &[u64], count: LevelCount) -> Result<Vec<Vec<u64>>> {
    check_factors(shape.len(), factors, "shape")?;
    if let Some(axis) = shape.iter().position(|&s| s == 0) {
        return Err(Error::usage(format!(
            "expected every side of the base shape to be at least 1, found 0 for axis {axis}"
        )));
    }
    if count == LevelCount::Exactly(0) {
        return Err(Error::usage(
            "expected at least 1 level (level 0), found Exactly(0)",
        ));
    }
    let mut levels = vec![shape.to_vec()];
    // Every added level shrinks at least one side by at least half, so this terminates
    // after at most 64 levels per axis; the bound is only a guard.
    while let Some(last) = levels.last() {
        let wanted = match count {
            LevelCount::Exactly(n) => levels.len() < n,
            LevelCount::MinSize(m) => last
                .iter()
                .zip(factors)
                .filter(|&(_, &f)| f > 1)
                .map(|(&s, _)| s)
                .min()
                .is_some_and(|smallest| smallest > m),
        };
        if !wanted || levels.len() >= 64 * shape.len().max(1) {
            break;
        }
        let next: Vec<u64> = last
            .iter()
            .zip(factors)
            .map(|(&s, &f)| s.div_ceil(f))
            .collect();
        if &next == last {
            break;
        }
        levels.push(next);
    }
    Ok(levels)
}

/// The cumulative downsampling factor of `level` as `f64`.
fn cumulative(factor: u64, level: usize) -> f64 {
    // powi takes an i32; a level beyond that is meaningless (the factor overflows anyway).
    (factor as f64).powi(i32::try_from(level).unwrap_or(i32::MAX))
}

/// The `scale` of `level`: the base pixel size times the cumulative factor `f^level`.
///
/// This is the `scale` transformation of `datasets[level].coordinateTransformations`
/// (NGFF 0.4, "multiscales": exactly one `scale`, the pixel size in physical units).
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when `factors` and `base_scale` differ in length or
/// a factor is 0.
pub fn level_scale(base_scale: &[f64], factors: &[u64], level: usize) -> Result<Vec<f64>> {
    check_factors(base_scale.len(), factors, "scale")?;
    Ok(base_scale
        .iter()
        .zip(factors)
        .map(|(&s, &f)| s * cumulative(f, level))
        .collect())
}

/// The `translation` of `level`, so that its pixels sit where the pixels they were
/// computed from sit.
///
/// NGFF 0.4 ("multiscales") maps data coordinates to physical ones by `scale` then
/// `translation`, with pixel *centres* at integer data coordinates. A level pixel is
/// therefore placed at the centre of what it summarises, assuming each level is computed
/// from the previous one with the same factors:
///
/// * [`Downsample::Mean`], [`Downsample::Mode`], [`Downsample::Gaussian`] summarise (or are
///   sampled at the centre of) a block of `F = f^level` base pixels, whose centre lies
///   `(F - 1) / 2` base pixels after its first pixel: the translation grows by
///   `(F - 1) / 2 * base_scale`.
/// * [`Downsample::Nearest`] copies the pixel at offset `f / 2` of each block (see
///   [`super::downsample`]); over `level` steps that pixel lies
///   `(f / 2) * (1 + f + … + f^(level-1))` base pixels after the block start, and the
///   translation grows by that times `base_scale`.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when the three slices differ in length or a factor
/// is 0.
pub fn level_translation(
    base_translation: &[f64],
    base_scale: &[f64],
    factors: &[u64],
    level: usize,
    method: Downsample,
) -> Result<Vec<f64>> {
    check_factors(base_scale.len(), factors, "scale")?;
    if base_translation.len() != base_scale.len() {
        return Err(Error::usage(format!(
            "expected a translation with one entry per axis ({}), found {}",
            base_scale.len(),
            base_translation.len()
        )));
    }
    Ok(base_translation
        .iter()
        .zip(base_scale)
        .zip(factors)
        .map(|((&t, &s), &f)| {
            let big_f = cumulative(f, level);
            let offset = match method {
                Downsample::Nearest if f > 1 => (f / 2) as f64 * (big_f - 1.0) / (f - 1) as f64,
                Downsample::Nearest => 0.0,
                Downsample::Mean | Downsample::Mode | Downsample::Gaussian => (big_f - 1.0) / 2.0,
            };
            t + offset * s
        })
        .collect())
}

/// One level of a pyramid planned from absolute factors ([`plan_absolute_levels`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedLevel {
    /// The level's shape.
    pub shape: Vec<u64>,
    /// Per-axis factor relative to level 0 (all 1 for level 0).
    pub factors: Vec<u64>,
    /// The level this one is computed from: the previous level when its factors divide
    /// this level's on every axis, else level 0 (level 0 names itself).
    pub source: usize,
    /// Per-axis factor from [`PlannedLevel::source`] to this level.
    pub relative: Vec<u64>,
}

/// The levels of a pyramid whose level `k ≥ 1` is downsampled by `level_factors[k - 1]`
/// *relative to level 0*, per axis: the meaning of `scale_factors=[2, 4, 8]` (or of
/// per-axis dicts) in ome-zarr-py `write_image` and ngff-zarr `to_multiscales`.
///
/// Each side is `max(1, floor(base / factor))`, as both peers compute it: ngff-zarr
/// targets `int(original_size / scale_factor)` (`ngff_zarr/methods/_support.py`,
/// `_dim_scale_factors`), ome-zarr-py floors `previous // relative_factor` and clamps 0 to
/// 1 (`ome_zarr/scale.py`, `_build_pyramid`), which is the same number whenever each
/// level's factors are multiples of the previous level's. The trailing pixels that do not
/// fill a whole block are dropped, and every requested level is kept, even one no
/// smaller than the level before.
///
/// A level is computed from the previous level, by the quotient of the two factors, when
/// the previous factors divide its own on every axis (`[2, 4, 8]`: each level from the
/// one above, by 2); otherwise from level 0 by its absolute factors (`[2, 3]`: level 2
/// from level 0, by 3). Either way its shape is the one above.
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when a level does not have one factor per axis, a
/// factor is 0, a factor is smaller than the previous level's on the same axis (levels
/// go from largest to smallest), or a side of `shape` is 0.
pub fn plan_absolute_levels(
    shape: &[u64],
    level_factors: &[Vec<u64>],
) -> Result<Vec<PlannedLevel>> {
    if let Some(axis) = shape.iter().position(|&s| s == 0) {
        return Err(Error::usage(format!(
            "expected every side of the base shape to be at least 1, found 0 for axis {axis}"
        )));
    }
    let ones = vec![1u64; shape.len()];
    let mut levels = vec![PlannedLevel {
        shape: shape.to_vec(),
        factors: ones.clone(),
        source: 0,
        relative: ones,
    }];
    for (i, factors) in level_factors.iter().enumerate() {
        let k = i + 1;
        check_factors(shape.len(), factors, &format!("shape, level {k}"))?;
        let previous = &levels[k - 1].factors;
        if let Some(axis) = (0..shape.len()).find(|&d| factors[d] < previous[d]) {
            return Err(Error::usage(format!(
                "expected the factors of level {k} to be at least those of level {} on every \
                 axis (levels go from largest to smallest), found {} after {} on axis {axis}",
                k - 1,
                factors[axis],
                previous[axis]
            )));
        }
        let nested = factors.iter().zip(previous).all(|(&f, &p)| f % p == 0);
        let (source, relative) = if nested {
            (
                k - 1,
                factors.iter().zip(previous).map(|(&f, &p)| f / p).collect(),
            )
        } else {
            (0, factors.clone())
        };
        let level_shape = shape
            .iter()
            .zip(factors)
            .map(|(&s, &f)| (s / f).max(1))
            .collect();
        levels.push(PlannedLevel {
            shape: level_shape,
            factors: factors.clone(),
            source,
            relative,
        });
    }
    Ok(levels)
}

/// The `scale` and `translation` of every level of [`plan_absolute_levels`]: the scale is
/// the base pixel size times the level's absolute factor; the translation places each
/// pixel where the pixels it was computed from sit, as [`level_translation`] does, step by
/// step along [`PlannedLevel::source`] (for [`Downsample::Mean`], [`Downsample::Mode`]
/// and [`Downsample::Gaussian`] that is `(F - 1) / 2` base pixels for an absolute factor
/// `F`, whatever the path; [`Downsample::Nearest`] depends on it).
///
/// # Errors
///
/// A [`crate::ErrorKind::Usage`] error when `base_scale`, `base_translation` and the
/// levels differ in length.
pub fn absolute_level_transforms(
    base_scale: &[f64],
    base_translation: &[f64],
    levels: &[PlannedLevel],
    method: Downsample,
) -> Result<Vec<(Vec<f64>, Vec<f64>)>> {
    let n = base_scale.len();
    if base_translation.len() != n || levels.iter().any(|l| l.factors.len() != n) {
        return Err(Error::usage(format!(
            "expected a scale, a translation and level factors of one entry per axis ({n})"
        )));
    }
    let mut out: Vec<(Vec<f64>, Vec<f64>)> = Vec::with_capacity(levels.len());
    for (k, level) in levels.iter().enumerate() {
        let scale: Vec<f64> = base_scale
            .iter()
            .zip(&level.factors)
            .map(|(&s, &f)| s * f as f64)
            .collect();
        if k == 0 {
            out.push((scale, base_translation.to_vec()));
            continue;
        }
        let (source_scale, source_translation) = &out[level.source];
        let translation =
            level_translation(source_translation, source_scale, &level.relative, 1, method)?;
        out.push((scale, translation));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn benchmark_shape_gets_four_levels() {
        let levels = plan_levels(
            &[1, 2, 64, 2048, 2048],
            &[1, 1, 1, 2, 2],
            LevelCount::MinSize(256),
        )
        .unwrap();
        let sides: Vec<u64> = levels.iter().map(|l| l[4]).collect();
        assert_eq!(sides, [2048, 1024, 512, 256]);
        assert!(levels.iter().all(|l| l[..3] == [1, 2, 64] && l[3] == l[4]));
    }

    #[test]
    fn odd_shapes_round_up() {
        let levels = plan_levels(&[5, 1001, 37], &[1, 2, 3], LevelCount::Exactly(4)).unwrap();
        assert_eq!(
            levels,
            [
                vec![5, 1001, 37],
                vec![5, 501, 13],
                vec![5, 251, 5],
                vec![5, 126, 2]
            ]
        );
        // The smallest downsampled side decides: 37 -> 13 -> 5 (<= 10).
        let levels = plan_levels(&[1001, 37], &[2, 3], LevelCount::MinSize(10)).unwrap();
        assert_eq!(levels.len(), 3);
    }

    #[test]
    fn stops_when_nothing_shrinks() {
        let levels = plan_levels(&[3, 3], &[2, 2], LevelCount::Exactly(10)).unwrap();
        assert_eq!(levels, [vec![3, 3], vec![2, 2], vec![1, 1]]);
        let levels = plan_levels(&[3, 3], &[2, 2], LevelCount::MinSize(0)).unwrap();
        assert_eq!(levels.len(), 3);
        let levels = plan_levels(&[300, 300], &[1, 1], LevelCount::MinSize(10)).unwrap();
        assert_eq!(levels, [vec![300, 300]]);
        let levels = plan_levels(&[100], &[2], LevelCount::MinSize(1000)).unwrap();
        assert_eq!(levels.len(), 1);
    }

    #[test]
    fn usage_errors() {
        let kind = |r: Result<Vec<Vec<u64>>>| r.unwrap_err().kind();
        assert_eq!(
            kind(plan_levels(&[4, 4], &[2], LevelCount::Exactly(2))),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(plan_levels(&[4, 4], &[2, 0], LevelCount::Exactly(2))),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(plan_levels(&[4, 4], &[2, 2], LevelCount::Exactly(0))),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(plan_levels(&[0, 4], &[2, 2], LevelCount::Exactly(2))),
            ErrorKind::Usage
        );
        assert!(level_scale(&[1.0], &[2, 2], 1).is_err());
        assert!(level_translation(&[0.0], &[1.0, 1.0], &[2, 2], 1, Downsample::Mean).is_err());
    }

    #[test]
    fn transformations() {
        assert_eq!(
            level_scale(&[1.0, 0.5, 0.25], &[1, 2, 3], 2).unwrap(),
            [1.0, 2.0, 2.25]
        );
        // Mean: level 1 of factor 2 sits half a base pixel in; level 2 1.5 pixels.
        let t = level_translation(&[10.0, 0.0], &[2.0, 0.5], &[1, 2], 1, Downsample::Mean);
        assert_eq!(t.unwrap(), [10.0, 0.25]);
        let t = level_translation(&[0.0], &[1.0], &[2], 2, Downsample::Gaussian).unwrap();
        assert_eq!(t, [1.5]);
        // Nearest with f = 2 samples 2i+1: level 1 offset 1, level 2 offset 2 + 1 = 3.
        let t = level_translation(&[0.0], &[1.0], &[2], 1, Downsample::Nearest).unwrap();
        assert_eq!(t, [1.0]);
        let t = level_translation(&[0.0], &[1.0], &[2], 2, Downsample::Nearest).unwrap();
        assert_eq!(t, [3.0]);
        // f = 3 samples 3i+1: level 2 offset 3 * 1 + 1 = 4.
        let t = level_translation(&[0.0], &[1.0], &[3], 2, Downsample::Nearest).unwrap();
        assert_eq!(t, [4.0]);
        let t = level_translation(&[7.0], &[1.0], &[1], 3, Downsample::Nearest).unwrap();
        assert_eq!(t, [7.0]);
    }
    #[test]
    fn absolute_levels_floor_like_the_peers() {
        // ome-zarr-py scale_factors=[2, 4] on (1, 1001, 37): y and x floored, 0 -> 1.
        let f = |v: &[u64]| v.to_vec();
        let levels = plan_absolute_levels(&[3, 1001, 37], &[f(&[1, 2, 2]), f(&[1, 4, 4])]).unwrap();
        let shapes: Vec<&[u64]> = levels.iter().map(|l| l.shape.as_slice()).collect();
        assert_eq!(shapes, [&[3, 1001, 37][..], &[3, 500, 18], &[3, 250, 9]]);
        // Nested factors: each level from the one above, by the quotient.
        assert_eq!(
            (levels[1].source, levels[1].relative.clone()),
            (0, vec![1, 2, 2])
        );
        assert_eq!(
            (levels[2].source, levels[2].relative.clone()),
            (1, vec![1, 2, 2])
        );
        // Not nested ([2, 3]): level 2 from level 0, by 3; shapes still floor(base / F).
        let levels = plan_absolute_levels(&[8, 8], &[f(&[2, 2]), f(&[3, 4])]).unwrap();
        assert_eq!(levels[2].shape, [2, 2]);
        assert_eq!(
            (levels[2].source, levels[2].relative.clone()),
            (0, vec![3, 4])
        );
        // A side smaller than its factor is 1, and every asked level is kept.
        let levels = plan_absolute_levels(&[3, 40], &[f(&[2, 2]), f(&[4, 4]), f(&[8, 8])]).unwrap();
        let shapes: Vec<Vec<u64>> = levels.into_iter().map(|l| l.shape).collect();
        assert_eq!(shapes, [vec![3, 40], vec![1, 20], vec![1, 10], vec![1, 5]]);
        // No level factors: level 0 only.
        assert_eq!(plan_absolute_levels(&[5, 5], &[]).unwrap().len(), 1);
    }

    #[test]
    fn absolute_levels_usage_errors() {
        let kind = |r: Result<Vec<PlannedLevel>>| r.unwrap_err().kind();
        assert_eq!(
            kind(plan_absolute_levels(&[4, 4], &[vec![2]])),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(plan_absolute_levels(&[4, 4], &[vec![0, 2]])),
            ErrorKind::Usage
        );
        assert_eq!(
            kind(plan_absolute_levels(&[0, 4], &[vec![2, 2]])),
            ErrorKind::Usage
        );
        let err = plan_absolute_levels(&[4, 4], &[vec![4, 4], vec![2, 4]]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.to_string().contains("level 2"), "{err}");
    }

    #[test]
    fn absolute_transforms() {
        let levels =
            plan_absolute_levels(&[64, 64], &[vec![1, 2], vec![2, 4], vec![3, 8]]).unwrap();
        let t = absolute_level_transforms(&[0.5, 1.0], &[10.0, 0.0], &levels, Downsample::Mean)
            .unwrap();
        let scales: Vec<Vec<f64>> = t.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(
            scales,
            [
                vec![0.5, 1.0],
                vec![0.5, 2.0],
                vec![1.0, 4.0],
                vec![1.5, 8.0]
            ]
        );
        // Mean: (F - 1) / 2 base pixels, whatever the path (level 3 comes from level 0).
        let translations: Vec<Vec<f64>> = t.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(
            translations,
            [
                vec![10.0, 0.0],
                vec![10.0, 0.5],
                vec![10.25, 1.5],
                vec![10.5, 3.5]
            ]
        );
        // The uniform planner's transformations are the special case F = f^level.
        let levels = plan_absolute_levels(&[64], &[vec![2], vec![4], vec![8]]).unwrap();
        for method in Downsample::ALL {
            let t = absolute_level_transforms(&[0.5], &[1.0], &levels, method).unwrap();
            for (k, (scale, translation)) in t.iter().enumerate() {
                assert_eq!(*scale, level_scale(&[0.5], &[2], k).unwrap());
                let expected = level_translation(&[1.0], &[0.5], &[2], k, method).unwrap();
                assert_eq!(*translation, expected, "{method} level {k}");
            }
        }
        assert!(absolute_level_transforms(&[1.0], &[0.0, 0.0], &levels, Downsample::Mean).is_err());
    }
}
