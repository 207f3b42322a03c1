//! The plane map: from OME-XML `Pixels` + `TiffData` to, for every `(z, c, t)`, the file and
//! IFD holding it (`ome-tiff/specification.rst`, "TiffData"). Pure: no I/O.

use crate::ome_xml::{DimensionOrder, Pixels};

/// Where a plane lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaneRef {
    /// Index of the file in the set (0 = the file the XML came from, unless UUIDs say else).
    pub file: usize,
    /// IFD index in that file's main chain.
    pub ifd: u64,
}

/// A problem found while mapping planes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaneProblem {
    /// `TiffData[i]` refers to an IFD past the last one (an error).
    IfdOutOfRange {
        /// TiffData index.
        tiff_data: usize,
        /// The IFD asked for.
        ifd: u64,
        /// IFDs in the file.
        ifds_in_file: u64,
    },
    /// `TiffData[i]` maps a plane past the last one (an error).
    PlaneOutOfRange {
        /// TiffData index.
        tiff_data: usize,
        /// First (z, c, t).
        first_zct: (u32, u32, u32),
    },
    /// A plane mapped twice; the first mapping is kept (a warning).
    Duplicate {
        /// The plane.
        zct: (u32, u32, u32),
    },
    /// A plane with no IFD; it reads as zeros (a warning).
    Missing {
        /// The plane.
        zct: (u32, u32, u32),
    },
    /// A TiffData UUID that names no known file (an error).
    UnknownFile {
        /// TiffData index.
        tiff_data: usize,
        /// The UUID.
        uuid: String,
    },
    /// More planes (SizeZ × SizeC × SizeT) than the limit; nothing was mapped (an error).
    TooManyPlanes {
        /// `(size_z, size_c, size_t)` as mapped.
        sizes: (u32, u32, u32),
        /// The most planes allowed.
        limit: u64,
    },
    /// The TiffData map far more planes than the image has (each plane many times over);
    /// mapping stopped at `TiffData[tiff_data]` (an error).
    TooManyMappings {
        /// TiffData index where mapping stopped.
        tiff_data: usize,
        /// Plane mappings made before stopping.
        mappings: u64,
    },
}

impl PlaneProblem {
    /// Whether the problem makes the image unreadable.
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            PlaneProblem::Duplicate { .. } | PlaneProblem::Missing { .. }
        )
    }

    /// A message: what was expected, what was found.
    pub fn message(&self) -> String {
        match self {
            PlaneProblem::IfdOutOfRange {
                tiff_data,
                ifd,
                ifds_in_file,
            } => format!(
                "TiffData[{tiff_data}]: expected an IFD below {ifds_in_file}, found IFD {ifd}"
            ),
            PlaneProblem::PlaneOutOfRange {
                tiff_data,
                first_zct,
            } => format!(
                "TiffData[{tiff_data}]: expected planes inside SizeZ/C/T, found planes from {first_zct:?} past the last"
            ),
            PlaneProblem::Duplicate { zct } => {
                format!(
                    "expected one TiffData per plane, found plane (z, c, t) = {zct:?} mapped twice"
                )
            }
            PlaneProblem::Missing { zct } => {
                format!(
                    "expected every plane mapped to an IFD, found plane (z, c, t) = {zct:?} unmapped (read as zeros)"
                )
            }
            PlaneProblem::UnknownFile { tiff_data, uuid } => {
                format!("TiffData[{tiff_data}]: expected a UUID of a file in the set, found {uuid}")
            }
            PlaneProblem::TooManyPlanes { sizes, limit } => format!(
                "expected at most {limit} planes (SizeZ x SizeC x SizeT), found {} x {} x {}",
                sizes.0, sizes.1, sizes.2
            ),
            PlaneProblem::TooManyMappings {
                tiff_data,
                mappings,
            } => format!(
                "TiffData[{tiff_data}]: expected each plane mapped about once, found {mappings} plane mappings before this TiffData"
            ),
        }
    }
}

/// The planes of one image: `planes[(t * size_c + c) * size_z + z]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaneMap {
    /// `(size_z, size_c, size_t)` in planes (`size_c` counts IFD channels).
    pub sizes: (u32, u32, u32),
    /// Where each plane is.
    pub planes: Vec<Option<PlaneRef>>,
    /// Problems found.
    pub problems: Vec<PlaneProblem>,
}

impl PlaneMap {
    /// The plane at `(z, c, t)`.
    pub fn get(&self, z: u32, c: u32, t: u32) -> Option<PlaneRef> {
        let (sz, sc, _) = self.sizes;
        let i = (u64::from(t) * u64::from(sc) + u64::from(c)) * u64::from(sz) + u64::from(z);
        self.planes.get(usize::try_from(i).ok()?).copied().flatten()
    }
}

/// Maps the planes of `pixels`. `sizes` is `(size_z, size_c, size_t)` in IFD planes;
/// `file_of(uuid)` resolves a TiffData UUID to a file index (`None` when unknown);
/// `ifds_in(file)` is the number of IFDs in a file; `this_file` is the file holding
/// the XML (used when TiffData has no UUID).
///
/// The map holds one entry per plane, so more than `max_planes` planes are refused
/// ([`PlaneProblem::TooManyPlanes`]) before anything is allocated; the work is bounded
/// too: TiffData that map about twice as many planes as the image has stop the mapping
/// ([`PlaneProblem::TooManyMappings`]).
pub fn map_planes(
    pixels: &Pixels,
    sizes: (u32, u32, u32),
    this_file: usize,
    file_of: &dyn Fn(&str) -> Option<usize>,
    ifds_in: &dyn Fn(usize) -> u64,
    max_planes: u64,
) -> PlaneMap {
    let total = u64::from(sizes.0)
        .checked_mul(u64::from(sizes.1))
        .and_then(|n| n.checked_mul(u64::from(sizes.2)))
        .filter(|&n| n <= max_planes)
        .and_then(|n| usize::try_from(n).ok());
    let Some(total) = total else {
        return PlaneMap {
            sizes,
            planes: Vec::new(),
            problems: vec![PlaneProblem::TooManyPlanes {
                sizes,
                limit: max_planes,
            }],
        };
    };
    let order: DimensionOrder = pixels.dimension_order;
    let mut planes: Vec<Option<PlaneRef>> = vec![None; total];
    // Every step maps a plane or finds one mapped already: a budget of twice the planes
    // (and one per TiffData) is never reached by a sane file, and bounds the work of
    // many TiffData each mapping every IFD again.
    let mut budget = (total as u64)
        .saturating_mul(2)
        .saturating_add(tiff_data_len(pixels));
    let mut mappings = 0u64;
    let mut problems = Vec::new();
    let mut dup_seen = false;
    let default_td;
    let tiff_data = if pixels.tiff_data.is_empty() {
        default_td = [crate::ome_xml::TiffData::default()];
        &default_td[..]
    } else {
        &pixels.tiff_data[..]
    };
    let mut exhausted = false;
    for (k, td) in tiff_data.iter().enumerate() {
        if exhausted {
            break;
        }
        let file = match &td.uuid {
            Some(u) => match file_of(&u.value) {
                Some(f) => f,
                None => {
                    problems.push(PlaneProblem::UnknownFile {
                        tiff_data: k,
                        uuid: u.value.clone(),
                    });
                    continue;
                }
            },
            None => this_file,
        };
        let n_ifds = ifds_in(file);
        let count = td.plane_count_or_default(u32::try_from(n_ifds).unwrap_or(u32::MAX));
        let ifd0 = u64::from(td.ifd_or_default());
        let first = td.first_zct_or_default();
        let Some(start) = order.plane_index(first, sizes) else {
            problems.push(PlaneProblem::PlaneOutOfRange {
                tiff_data: k,
                first_zct: first,
            });
            continue;
        };
        for j in 0..u64::from(count) {
            if budget == 0 {
                problems.push(PlaneProblem::TooManyMappings {
                    tiff_data: k,
                    mappings,
                });
                exhausted = true;
                break;
            }
            budget -= 1;
            mappings += 1;
            let ifd = ifd0 + j;
            if ifd >= n_ifds {
                // Without explicit PlaneCount the default covers surplus IFDs only.
                if td.plane_count.is_some() || td.ifd.is_some() {
                    problems.push(PlaneProblem::IfdOutOfRange {
                        tiff_data: k,
                        ifd,
                        ifds_in_file: n_ifds,
                    });
                }
                break;
            }
            let Some((z, c, t)) = order.plane_zct(start + j, sizes) else {
                if td.plane_count.is_some() {
                    problems.push(PlaneProblem::PlaneOutOfRange {
                        tiff_data: k,
                        first_zct: first,
                    });
                }
                break;
            };
            // Inside the map: (z, c, t) came from plane_zct within `sizes`, whose product
            // is `total`.
            let i = ((u64::from(t) * u64::from(sizes.1) + u64::from(c)) * u64::from(sizes.0)
                + u64::from(z)) as usize;
            let Some(slot) = planes.get_mut(i) else {
                break;
            };
            if slot.is_some() {
                if !dup_seen {
                    problems.push(PlaneProblem::Duplicate { zct: (z, c, t) });
                }
                dup_seen = true;
            } else {
                *slot = Some(PlaneRef { file, ifd });
            }
        }
    }
    if !problems.iter().any(PlaneProblem::is_error) {
        for (i, p) in planes.iter().enumerate() {
            if p.is_none() {
                let i = i as u64;
                let z = (i % u64::from(sizes.0)) as u32;
                let c = (i / u64::from(sizes.0) % u64::from(sizes.1)) as u32;
                let t = (i / u64::from(sizes.0) / u64::from(sizes.1)) as u32;
                problems.push(PlaneProblem::Missing { zct: (z, c, t) });
                break;
            }
        }
    }
    PlaneMap {
        sizes,
        planes,
        problems,
    }
}

fn tiff_data_len(pixels: &Pixels) -> u64 {
    pixels.tiff_data.len().max(1) as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::field_reassign_with_default)]
    use super::*;
    use crate::ome_xml::TiffData;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn pixels(order: DimensionOrder, td: Vec<TiffData>) -> Pixels {
        Pixels {
            dimension_order: order,
            tiff_data: td,
            ..Pixels::default()
        }
    }

    proptest! {
        #[test]
        fn default_mapping_is_a_bijection(o in 0usize..6, z in 1u32..5, c in 1u32..5, t in 1u32..5, explicit in any::<bool>()) {
            let order = DimensionOrder::ALL[o];
            let n = u64::from(z * c * t);
            let td = if explicit {
                (0..n).map(|i| {
                    let (zz, cc, tt) = order.plane_zct(i, (z, c, t)).unwrap_or_default();
                    let mut d = TiffData::default();
                    d.ifd = Some(i as u32);
                    d.first_z = Some(zz);
                    d.first_c = Some(cc);
                    d.first_t = Some(tt);
                    d.plane_count = Some(1);
                    d
                }).collect()
            } else { Vec::new() };
            let px = pixels(order, td);
            let m = map_planes(&px, (z, c, t), 0, &|_| None, &|_| n, u64::MAX);
            prop_assert!(m.problems.is_empty(), "{:?}", m.problems);
            let ifds: HashSet<u64> = m.planes.iter().map(|p| p.map(|p| p.ifd).unwrap_or(u64::MAX)).collect();
            prop_assert_eq!(ifds.len() as u64, n);
            prop_assert!(ifds.iter().all(|&i| i < n));
            for i in 0..n {
                let (zz, cc, tt) = order.plane_zct(i, (z, c, t)).unwrap_or_default();
                prop_assert_eq!(m.get(zz, cc, tt), Some(PlaneRef { file: 0, ifd: i }));
            }
        }
    }

    #[test]
    fn ifd_out_of_range_is_an_error() {
        let mut d = TiffData::default();
        d.ifd = Some(7);
        let m = map_planes(
            &pixels(DimensionOrder::XYZCT, vec![d]),
            (3, 1, 1),
            0,
            &|_| None,
            &|_| 3,
            1 << 20,
        );
        assert!(m.problems.iter().any(PlaneProblem::is_error));
    }

    #[test]
    fn planes_past_the_limit_are_refused_before_allocating() {
        let px = pixels(DimensionOrder::XYZCT, Vec::new());
        for sizes in [(u32::MAX, u32::MAX, u32::MAX), (1 << 31, 1, 1)] {
            let m = map_planes(&px, sizes, 0, &|_| None, &|_| 1, 1 << 20);
            assert!(m.planes.is_empty());
            assert!(matches!(
                m.problems.as_slice(),
                [PlaneProblem::TooManyPlanes { .. }]
            ));
        }
    }

    #[test]
    fn huge_plane_count_and_first_plane_are_errors_not_work() {
        let mut d = TiffData::default();
        d.plane_count = Some(u32::MAX);
        d.ifd = Some(1 << 31);
        let m = map_planes(
            &pixels(DimensionOrder::XYZCT, vec![d.clone()]),
            (4, 1, 1),
            0,
            &|_| None,
            &|_| 4,
            1 << 20,
        );
        assert!(
            m.problems
                .iter()
                .any(|p| matches!(p, PlaneProblem::IfdOutOfRange { ifd, .. } if *ifd == 1 << 31))
        );
        d.ifd = None;
        d.first_z = Some(u32::MAX);
        let m = map_planes(
            &pixels(DimensionOrder::XYZCT, vec![d]),
            (4, 1, 1),
            0,
            &|_| None,
            &|_| 4,
            1 << 20,
        );
        assert!(
            m.problems
                .iter()
                .any(|p| matches!(p, PlaneProblem::PlaneOutOfRange { .. }))
        );
    }

    #[test]
    fn many_tiff_data_remapping_every_ifd_stop_early() {
        let mut d = TiffData::default();
        d.plane_count = Some(1000);
        let m = map_planes(
            &pixels(DimensionOrder::XYZCT, vec![d; 10_000]),
            (1000, 1, 1),
            0,
            &|_| None,
            &|_| 1000,
            1 << 20,
        );
        assert!(
            m.problems
                .iter()
                .any(|p| matches!(p, PlaneProblem::TooManyMappings { .. }))
        );
    }
}
