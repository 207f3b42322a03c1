//! Selections by axis name (`t=0,c=1:3`) turned into index ranges of one level.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// What to take along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisSelection {
    /// One index; the axis is dropped from the result (NumPy semantics).
    Index(u64),
    /// A half-open range `start..stop`; `None` stop means to the end.
    Range {
        /// First index.
        start: u64,
        /// One past the last index, or the end of the axis.
        stop: Option<u64>,
    },
}

/// A selection by axis name; axes not named are taken whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    entries: Vec<(String, AxisSelection)>,
}

/// A resolved selection: the region to read and which axes to drop afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// First index on every axis.
    pub start: Vec<u64>,
    /// Extent on every axis.
    pub shape: Vec<u64>,
    /// Axes selected by a single index, dropped from the result.
    pub dropped: Vec<usize>,
}

impl Selection {
    /// The whole array.
    pub fn all() -> Self {
        Selection::default()
    }

    /// Adds an index selection on the axis `name`.
    #[must_use]
    pub fn index(mut self, name: &str, i: u64) -> Self {
        self.entries
            .push((name.to_string(), AxisSelection::Index(i)));
        self
    }

    /// Adds a range selection on the axis `name`.
    #[must_use]
    pub fn range(mut self, name: &str, start: u64, stop: Option<u64>) -> Self {
        self.entries
            .push((name.to_string(), AxisSelection::Range { start, stop }));
        self
    }

    /// The entries in order.
    pub fn entries(&self) -> &[(String, AxisSelection)] {
        &self.entries
    }

    /// Resolves the selection against axis names and a level shape.
    ///
    /// # Errors
    /// A usage error for an unknown axis, an axis named twice, or indices out of range.
    pub fn resolve(&self, axis_names: &[String], shape: &[u64]) -> Result<Region> {
        let mut start = vec![0u64; shape.len()];
        let mut extent = shape.to_vec();
        let mut dropped = Vec::new();
        let mut seen = Vec::new();
        for (name, sel) in &self.entries {
            let axis = axis_names.iter().position(|a| a == name).ok_or_else(|| {
                Error::usage(format!(
                    "no axis named {name:?}; the axes are {}",
                    axis_names.join(",")
                ))
            })?;
            if seen.contains(&axis) {
                return Err(Error::usage(format!("axis {name:?} is selected twice")));
            }
            seen.push(axis);
            let n = shape[axis];
            match *sel {
                AxisSelection::Index(i) => {
                    if i >= n {
                        return Err(Error::usage(format!(
                            "index {i} on axis {name:?} is out of range 0..{n}"
                        )));
                    }
                    start[axis] = i;
                    extent[axis] = 1;
                    dropped.push(axis);
                }
                AxisSelection::Range { start: s, stop } => {
                    let e = stop.unwrap_or(n);
                    if s >= e || e > n {
                        return Err(Error::usage(format!(
                            "range {s}:{e} on axis {name:?} is empty or outside 0..{n}"
                        )));
                    }
                    start[axis] = s;
                    extent[axis] = e - s;
                }
            }
        }
        dropped.sort_unstable();
        Ok(Region {
            start,
            shape: extent,
            dropped,
        })
    }
}

impl FromStr for Selection {
    type Err = Error;

    /// Parses `t=0,c=1:3,z=5:` (an empty string selects everything).
    fn from_str(s: &str) -> Result<Self> {
        let mut sel = Selection::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                Error::usage(format!(
                    "expected AXIS=INDEX or AXIS=START:STOP, found {part:?}"
                ))
            })?;
            let num = |v: &str| -> Result<u64> {
                v.trim().parse::<u64>().map_err(|_| {
                    Error::usage(format!(
                        "expected a non-negative integer in {part:?}, found {v:?}"
                    ))
                })
            };
            let entry = match value.split_once(':') {
                None => AxisSelection::Index(num(value)?),
                Some((a, b)) => AxisSelection::Range {
                    start: if a.trim().is_empty() { 0 } else { num(a)? },
                    stop: if b.trim().is_empty() {
                        None
                    } else {
                        Some(num(b)?)
                    },
                },
            };
            sel.entries.push((name.trim().to_string(), entry));
        }
        Ok(sel)
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, sel)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match sel {
                AxisSelection::Index(v) => write!(f, "{name}={v}")?,
                AxisSelection::Range {
                    start,
                    stop: Some(e),
                } => write!(f, "{name}={start}:{e}")?,
                AxisSelection::Range { start, stop: None } => write!(f, "{name}={start}:")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_resolve() {
        let names: Vec<String> = "tczyx".chars().map(String::from).collect();
        let sel: Selection = "t=0, c=1:3, z=2:".parse().unwrap();
        assert_eq!(sel.to_string(), "t=0,c=1:3,z=2:");
        let r = sel.resolve(&names, &[2, 4, 5, 10, 10]).unwrap();
        assert_eq!(r.start, vec![0, 1, 2, 0, 0]);
        assert_eq!(r.shape, vec![1, 2, 3, 10, 10]);
        assert_eq!(r.dropped, vec![0]);
        assert!(
            "q=1"
                .parse::<Selection>()
                .unwrap()
                .resolve(&names, &[1; 5])
                .is_err()
        );
        assert!(
            "t=5"
                .parse::<Selection>()
                .unwrap()
                .resolve(&names, &[1; 5])
                .is_err()
        );
        assert!(
            "t=1:1"
                .parse::<Selection>()
                .unwrap()
                .resolve(&names, &[3; 5])
                .is_err()
        );
        assert!("t".parse::<Selection>().is_err());
    }
}
