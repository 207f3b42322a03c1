//! The `ome_object!` macro: a metadata object with typed known keys and an `extra` map for
//! every other key.
//!
//! Serde's `#[serde(flatten)]` would keep unknown keys too, but it buffers the whole object
//! before deserialising the known fields, so `serde_path_to_error` could then only say which
//! object was wrong, not which key. This macro writes the map visitor by hand: every known
//! value is deserialised straight from the tracked `MapAccess`, and an error inside it keeps
//! its full JSON Pointer (`/multiscales/0/axes/1/name`).

/// Defines a metadata object struct with its `Serialize` and `Deserialize` impls.
///
/// Each field is `opt "jsonKey" => pub field: Option<T>` (skipped when `None`; a JSON `null`
/// reads as absent) or `req "jsonKey" => pub field: T` (a missing key is an error). Known keys
/// are written first in declaration order, then `extra` in its own order.
macro_rules! ome_object {
    (@entry opt, $map:ident, $key:literal, $value:expr) => {
        if let Some(value) = &$value {
            $map.serialize_entry($key, value)?;
        }
    };
    (@entry req, $map:ident, $key:literal, $value:expr) => {
        $map.serialize_entry($key, &$value)?;
    };
    (@finish opt, $slot:ident, $key:literal, $access:ident) => {
        $slot.flatten()
    };
    (@finish req, $slot:ident, $key:literal, $access:ident) => {
        match $slot {
            Some(value) => value,
            None => return Err(<$access::Error as serde::de::Error>::missing_field($key)),
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident ($expecting:literal) {
            $(
                $(#[$field_meta:meta])*
                $kind:ident $key:literal => pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
            /// Keys this crate does not model, kept verbatim so that a read-write round trip
            /// loses nothing.
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $( ome_object!(@entry $kind, map, $key, self.$field); )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;

                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut access: A,
                    ) -> Result<$name, A::Error> {
                        $( let mut $field: Option<$ty> = None; )*
                        let mut extra = serde_json::Map::new();
                        while let Some(key) = access.next_key::<String>()? {
                            match key.as_str() {
                                $( $key => $field = Some(access.next_value()?), )*
                                _ => {
                                    let value = access.next_value()?;
                                    extra.insert(key, value);
                                }
                            }
                        }
                        Ok($name {
                            $( $field: ome_object!(@finish $kind, $field, $key, A), )*
                            extra,
                        })
                    }
                }

                deserializer.deserialize_map(ObjectVisitor)
            }
        }
    };
}
