//! Every rule code as a typed constant. Checks emit findings through these, so a misspelt
//! code does not compile; the string (`NGFF-AX-003`) is what reports show and never changes
//! meaning. The registry ([`crate::rules`]) holds one entry per constant, in this order
//! (a unit test keeps the two in step).

use std::fmt;

/// A rule code, `FAMILY-AREA-NNN`. Only the constants of this module exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    /// The code as reports show it (`NGFF-AX-003`).
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.0
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal,)+) => {
        $(
            #[doc = concat!("`", $code, "` (page: `spec/rules/", $code, ".md`)")]
            pub const $name: Code = Code($code);
        )+
        /// Every code, in registry order.
        pub const ALL: &[Code] = &[$($name),+];
    };
}

codes! {
    NGFF_VER_001 = "NGFF-VER-001",
    NGFF_VER_002 = "NGFF-VER-002",
    NGFF_VER_003 = "NGFF-VER-003",
    NGFF_VER_004 = "NGFF-VER-004",
    NGFF_VER_005 = "NGFF-VER-005",
    NGFF_VER_006 = "NGFF-VER-006",
    NGFF_HIER_001 = "NGFF-HIER-001",
    NGFF_HIER_002 = "NGFF-HIER-002",
    NGFF_HIER_003 = "NGFF-HIER-003",
    NGFF_HIER_004 = "NGFF-HIER-004",
    NGFF_HIER_005 = "NGFF-HIER-005",
    NGFF_HIER_006 = "NGFF-HIER-006",
    NGFF_MS_001 = "NGFF-MS-001",
    NGFF_MS_002 = "NGFF-MS-002",
    NGFF_MS_003 = "NGFF-MS-003",
    NGFF_MS_004 = "NGFF-MS-004",
    NGFF_MS_005 = "NGFF-MS-005",
    NGFF_MS_006 = "NGFF-MS-006",
    NGFF_MS_007 = "NGFF-MS-007",
    NGFF_AX_001 = "NGFF-AX-001",
    NGFF_AX_002 = "NGFF-AX-002",
    NGFF_AX_003 = "NGFF-AX-003",
    NGFF_AX_004 = "NGFF-AX-004",
    NGFF_AX_005 = "NGFF-AX-005",
    NGFF_AX_006 = "NGFF-AX-006",
    NGFF_AX_007 = "NGFF-AX-007",
    NGFF_AX_008 = "NGFF-AX-008",
    NGFF_AX_009 = "NGFF-AX-009",
    NGFF_AX_010 = "NGFF-AX-010",
    NGFF_CT_001 = "NGFF-CT-001",
    NGFF_CT_002 = "NGFF-CT-002",
    NGFF_CT_003 = "NGFF-CT-003",
    NGFF_CT_004 = "NGFF-CT-004",
    NGFF_CT_005 = "NGFF-CT-005",
    NGFF_CS_001 = "NGFF-CS-001",
    NGFF_CS_002 = "NGFF-CS-002",
    NGFF_CS_003 = "NGFF-CS-003",
    NGFF_CS_004 = "NGFF-CS-004",
    NGFF_CS_005 = "NGFF-CS-005",
    NGFF_CT_006 = "NGFF-CT-006",
    NGFF_CT_007 = "NGFF-CT-007",
    NGFF_CT_008 = "NGFF-CT-008",
    NGFF_CT_009 = "NGFF-CT-009",
    NGFF_CT_010 = "NGFF-CT-010",
    NGFF_CT_011 = "NGFF-CT-011",
    NGFF_CT_012 = "NGFF-CT-012",
    NGFF_CT_013 = "NGFF-CT-013",
    NGFF_CT_014 = "NGFF-CT-014",
    NGFF_CT_015 = "NGFF-CT-015",
    NGFF_CT_016 = "NGFF-CT-016",
    NGFF_CT_017 = "NGFF-CT-017",
    NGFF_SC_001 = "NGFF-SC-001",
    NGFF_SC_002 = "NGFF-SC-002",
    NGFF_SC_003 = "NGFF-SC-003",
    NGFF_SC_004 = "NGFF-SC-004",
    NGFF_OM_001 = "NGFF-OM-001",
    NGFF_OM_002 = "NGFF-OM-002",
    NGFF_OM_003 = "NGFF-OM-003",
    NGFF_OM_004 = "NGFF-OM-004",
    NGFF_OM_005 = "NGFF-OM-005",
    NGFF_LBL_001 = "NGFF-LBL-001",
    NGFF_LBL_002 = "NGFF-LBL-002",
    NGFF_LBL_003 = "NGFF-LBL-003",
    NGFF_LBL_004 = "NGFF-LBL-004",
    NGFF_LBL_005 = "NGFF-LBL-005",
    NGFF_LBL_006 = "NGFF-LBL-006",
    NGFF_LBL_007 = "NGFF-LBL-007",
    NGFF_LBL_008 = "NGFF-LBL-008",
    NGFF_LBL_009 = "NGFF-LBL-009",
    NGFF_LBL_010 = "NGFF-LBL-010",
    NGFF_LBL_011 = "NGFF-LBL-011",
    NGFF_LBL_012 = "NGFF-LBL-012",
    NGFF_PL_001 = "NGFF-PL-001",
    NGFF_PL_002 = "NGFF-PL-002",
    NGFF_PL_003 = "NGFF-PL-003",
    NGFF_PL_004 = "NGFF-PL-004",
    NGFF_PL_005 = "NGFF-PL-005",
    NGFF_PL_006 = "NGFF-PL-006",
    NGFF_PL_007 = "NGFF-PL-007",
    NGFF_PL_008 = "NGFF-PL-008",
    NGFF_PL_009 = "NGFF-PL-009",
    NGFF_PL_010 = "NGFF-PL-010",
    NGFF_PL_011 = "NGFF-PL-011",
    NGFF_PL_012 = "NGFF-PL-012",
    NGFF_PL_013 = "NGFF-PL-013",
    NGFF_WL_001 = "NGFF-WL-001",
    NGFF_WL_002 = "NGFF-WL-002",
    NGFF_WL_003 = "NGFF-WL-003",
    NGFF_WL_004 = "NGFF-WL-004",
    NGFF_WL_005 = "NGFF-WL-005",
    NGFF_B2R_001 = "NGFF-B2R-001",
    NGFF_B2R_002 = "NGFF-B2R-002",
    NGFF_B2R_003 = "NGFF-B2R-003",
    NGFF_ARR_001 = "NGFF-ARR-001",
    NGFF_ARR_002 = "NGFF-ARR-002",
    NGFF_ARR_003 = "NGFF-ARR-003",
    NGFF_ARR_004 = "NGFF-ARR-004",
    NGFF_ARR_005 = "NGFF-ARR-005",
    NGFF_ARR_006 = "NGFF-ARR-006",
    NGFF_ARR_007 = "NGFF-ARR-007",
    NGFF_ARR_008 = "NGFF-ARR-008",
    NGFF_ARR_009 = "NGFF-ARR-009",
    NGFF_DATA_001 = "NGFF-DATA-001",
    NGFF_DATA_002 = "NGFF-DATA-002",
    NGFF_DATA_003 = "NGFF-DATA-003",
    NGFF_DATA_004 = "NGFF-DATA-004",
    OMETIFF_FILE_001 = "OMETIFF-FILE-001",
    OMETIFF_FILE_002 = "OMETIFF-FILE-002",
    OMETIFF_FILE_003 = "OMETIFF-FILE-003",
    OMETIFF_XML_001 = "OMETIFF-XML-001",
    OMETIFF_XML_002 = "OMETIFF-XML-002",
    OMETIFF_SET_001 = "OMETIFF-SET-001",
    OMETIFF_SET_002 = "OMETIFF-SET-002",
    OMETIFF_SET_003 = "OMETIFF-SET-003",
    OMETIFF_SET_004 = "OMETIFF-SET-004",
    OMETIFF_SET_005 = "OMETIFF-SET-005",
    OMETIFF_TD_001 = "OMETIFF-TD-001",
    OMETIFF_TD_002 = "OMETIFF-TD-002",
    OMETIFF_TD_003 = "OMETIFF-TD-003",
    OMETIFF_TD_004 = "OMETIFF-TD-004",
    OMETIFF_PIX_001 = "OMETIFF-PIX-001",
    OMETIFF_PIX_002 = "OMETIFF-PIX-002",
    OMETIFF_PIX_003 = "OMETIFF-PIX-003",
    OMETIFF_PYR_001 = "OMETIFF-PYR-001",
    OMETIFF_PYR_002 = "OMETIFF-PYR-002",
    OMETIFF_PYR_003 = "OMETIFF-PYR-003",
    OMETIFF_PYR_004 = "OMETIFF-PYR-004",
    OMETIFF_PYR_005 = "OMETIFF-PYR-005",
    OMETIFF_PYR_006 = "OMETIFF-PYR-006",
    OMETIFF_DATA_001 = "OMETIFF-DATA-001",
    OMEXML_DOC_001 = "OMEXML-DOC-001",
    OMEXML_DOC_002 = "OMEXML-DOC-002",
    OMEXML_DOC_003 = "OMEXML-DOC-003",
    OMEXML_NS_001 = "OMEXML-NS-001",
    OMEXML_NS_002 = "OMEXML-NS-002",
    OMEXML_ID_001 = "OMEXML-ID-001",
    OMEXML_ID_002 = "OMEXML-ID-002",
    OMEXML_ID_003 = "OMEXML-ID-003",
    OMEXML_PIX_001 = "OMEXML-PIX-001",
    OMEXML_PIX_002 = "OMEXML-PIX-002",
    OMEXML_PIX_003 = "OMEXML-PIX-003",
    OMEXML_PIX_004 = "OMEXML-PIX-004",
    OMEXML_PIX_005 = "OMEXML-PIX-005",
    OMEXML_MOD_001 = "OMEXML-MOD-001",
    OMEXML_XSD_001 = "OMEXML-XSD-001",
    OMEXML_XSD_002 = "OMEXML-XSD-002",
}
