//! The OME unit enumerations the modelled attributes use (`UnitsLength`, `UnitsTime` in
//! `ome.xsd` 2016-06; see `developers/ome-units.rst`), with their XML symbols and SI factors.

macro_rules! unit_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $si:literal, $factor_fn:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $symbol:literal, $factor:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every unit of the enumeration, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The symbol used in OME-XML attributes (`µm`, `s`, `reference frame`).
            pub fn symbol(self) -> &'static str {
                match self {
                    $($name::$variant => $symbol,)*
                }
            }

            /// Parses an OME-XML unit symbol; `None` when it is not in the enumeration.
            pub fn from_symbol(symbol: &str) -> Option<Self> {
                match symbol {
                    $($symbol => Some($name::$variant),)*
                    _ => None,
                }
            }

            #[doc = concat!("How many ", $si, " one unit is; `None` for units with no fixed factor.")]
            pub fn $factor_fn(self) -> Option<f64> {
                match self {
                    $($name::$variant => $factor,)*
                }
            }

            /// Converts `value` from this unit to `to`; `None` when either unit has no
            /// fixed factor (`pixel`, `reference frame`) and the units differ.
            pub fn convert(self, value: f64, to: Self) -> Option<f64> {
                if self == to {
                    return Some(value);
                }
                Some(value * self.$factor_fn()? / to.$factor_fn()?)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.symbol())
            }
        }
    };
}

const INCH: f64 = 0.0254;

unit_enum! {
    /// `UnitsLength`: the units of a length. Pixels default to `µm`, stage positions to
    /// `reference frame` (`ome.xsd` attribute defaults).
    UnitsLength, "metres", to_meters {
        /// yottametre
        Yottameter = "Ym", Some(1e24);
        /// zettametre
        Zettameter = "Zm", Some(1e21);
        /// exametre
        Exameter = "Em", Some(1e18);
        /// petametre
        Petameter = "Pm", Some(1e15);
        /// terametre
        Terameter = "Tm", Some(1e12);
        /// gigametre
        Gigameter = "Gm", Some(1e9);
        /// megametre
        Megameter = "Mm", Some(1e6);
        /// kilometre
        Kilometer = "km", Some(1e3);
        /// hectometre
        Hectometer = "hm", Some(1e2);
        /// decametre
        Decameter = "dam", Some(1e1);
        /// metre
        Meter = "m", Some(1.0);
        /// decimetre
        Decimeter = "dm", Some(1e-1);
        /// centimetre
        Centimeter = "cm", Some(1e-2);
        /// millimetre
        Millimeter = "mm", Some(1e-3);
        /// micrometre, the default of `PhysicalSize*Unit`
        Micrometer = "µm", Some(1e-6);
        /// nanometre, the default of the channel wavelengths
        Nanometer = "nm", Some(1e-9);
        /// picometre
        Picometer = "pm", Some(1e-12);
        /// femtometre
        Femtometer = "fm", Some(1e-15);
        /// attometre
        Attometer = "am", Some(1e-18);
        /// zeptometre
        Zeptometer = "zm", Some(1e-21);
        /// yoctometre
        Yoctometer = "ym", Some(1e-24);
        /// ångström
        Angstrom = "Å", Some(1e-10);
        /// thou (1/1000 inch)
        Thou = "thou", Some(INCH / 1000.0);
        /// line (1/12 inch)
        Line = "li", Some(INCH / 12.0);
        /// inch
        Inch = "in", Some(INCH);
        /// foot
        Foot = "ft", Some(INCH * 12.0);
        /// yard
        Yard = "yd", Some(INCH * 36.0);
        /// terrestrial mile
        Mile = "mi", Some(INCH * 63360.0);
        /// astronomical unit
        AstronomicalUnit = "ua", Some(149_597_870_700.0);
        /// light year
        LightYear = "ly", Some(9_460_730_472_580_800.0);
        /// parsec
        Parsec = "pc", Some(3.085_677_581_491_367e16);
        /// typographic point (1/72 inch)
        Point = "pt", Some(INCH / 72.0);
        /// pixel (abstract, not convertible)
        Pixel = "pixel", None;
        /// reference frame (abstract, not convertible), the default of stage positions
        ReferenceFrame = "reference frame", None;
    }
}

unit_enum! {
    /// `UnitsTime`: the units of a time interval; `s` is the default everywhere.
    UnitsTime, "seconds", to_seconds {
        /// yottasecond
        Yottasecond = "Ys", Some(1e24);
        /// zettasecond
        Zettasecond = "Zs", Some(1e21);
        /// exasecond
        Exasecond = "Es", Some(1e18);
        /// petasecond
        Petasecond = "Ps", Some(1e15);
        /// terasecond
        Terasecond = "Ts", Some(1e12);
        /// gigasecond
        Gigasecond = "Gs", Some(1e9);
        /// megasecond
        Megasecond = "Ms", Some(1e6);
        /// kilosecond
        Kilosecond = "ks", Some(1e3);
        /// hectosecond
        Hectosecond = "hs", Some(1e2);
        /// decasecond
        Decasecond = "das", Some(1e1);
        /// second, the default
        Second = "s", Some(1.0);
        /// decisecond
        Decisecond = "ds", Some(1e-1);
        /// centisecond
        Centisecond = "cs", Some(1e-2);
        /// millisecond
        Millisecond = "ms", Some(1e-3);
        /// microsecond
        Microsecond = "µs", Some(1e-6);
        /// nanosecond
        Nanosecond = "ns", Some(1e-9);
        /// picosecond
        Picosecond = "ps", Some(1e-12);
        /// femtosecond
        Femtosecond = "fs", Some(1e-15);
        /// attosecond
        Attosecond = "as", Some(1e-18);
        /// zeptosecond
        Zeptosecond = "zs", Some(1e-21);
        /// yoctosecond
        Yoctosecond = "ys", Some(1e-24);
        /// minute
        Minute = "min", Some(60.0);
        /// hour
        Hour = "h", Some(3600.0);
        /// day
        Day = "d", Some(86400.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_and_convert() {
        for u in UnitsLength::ALL {
            assert_eq!(UnitsLength::from_symbol(u.symbol()), Some(*u));
        }
        for u in UnitsTime::ALL {
            assert_eq!(UnitsTime::from_symbol(u.symbol()), Some(*u));
        }
        let nm = UnitsLength::Millimeter.convert(1.5, UnitsLength::Micrometer);
        assert!((nm.unwrap_or(0.0) - 1500.0).abs() < 1e-9);
        assert_eq!(UnitsLength::Pixel.convert(1.0, UnitsLength::Meter), None);
        assert_eq!(
            UnitsTime::Minute.convert(2.0, UnitsTime::Second),
            Some(120.0)
        );
        assert_eq!(UnitsLength::from_symbol("um"), None);
    }
}
