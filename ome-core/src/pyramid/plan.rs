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
}
