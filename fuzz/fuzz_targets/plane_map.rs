//! Plane-map building from OME-XML: DimensionOrder + TiffData -> (z, c, t) -> IFD.
//! Every plane the map returns lies inside the IFD count given for its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ome_core::ome_xml::{XmlLimits, parse_bytes};
use ome_core::tiff::planes::map_planes;

fuzz_target!(|data: &[u8]| {
    let Some((&ifds, xml)) = data.split_first() else { return };
    let Ok(ome) = parse_bytes(xml, &XmlLimits::default()) else { return };
    for image in &ome.images {
        let p = &image.pixels;
        let sizes = (p.size_z, p.size_c, p.size_t);
        // Sizes come from the document: the map itself refuses more planes than the limit
        // (their product can overflow u64, so no pre-check here).
        let ifd_count = u64::from(ifds);
        let _map = map_planes(p, sizes, 0, &|_| Some(0), &|_| ifd_count, 1 << 16);
    }
});
