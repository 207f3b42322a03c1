//! `omero`: transitional rendering settings. Spec: §"omero metadata".

use crate::codes;
use ome_core::metadata::NgffVersion;
use serde_json::Value;

use crate::context::{Scope, Sink, kind, ptr, show};

pub(crate) fn check(sink: &mut Sink<'_>, scope: &Scope, omero: &Value, at: &str) {
    let Value::Object(obj) = omero else {
        sink.emit(
            scope,
            codes::NGFF_OM_001,
            at,
            format!("expected omero to be an object, found {}", kind(omero)),
        );
        return;
    };
    let channels = match obj.get("channels") {
        Some(Value::Array(c)) => c,
        Some(v) => {
            sink.emit(
                scope,
                codes::NGFF_OM_001,
                &ptr(at, "channels"),
                format!("expected channels to be a list, found {}", kind(v)),
            );
            return;
        }
        None => {
            sink.emit(
                scope,
                codes::NGFF_OM_001,
                at,
                "expected the key channels in omero, found none",
            );
            return;
        }
    };
    // Up to 0.4 the schemas require window and color; 0.5 makes them optional.
    let required = scope.version <= NgffVersion::V0_4;
    for (i, c) in channels.iter().enumerate() {
        let at = ptr(&ptr(at, "channels"), i);
        let Value::Object(ch) = c else {
            sink.emit(
                scope,
                codes::NGFF_OM_001,
                &at,
                format!("expected a channel object, found {}", kind(c)),
            );
            continue;
        };
        match ch.get("window") {
            None if required => sink.emit(
                scope,
                codes::NGFF_OM_002,
                &at,
                "expected the key window in the channel, found none",
            ),
            None => {}
            Some(Value::Object(w)) => {
                for key in ["start", "end", "min", "max"] {
                    match w.get(key) {
                        Some(Value::Number(_)) => {}
                        Some(v) => sink.emit(
                            scope,
                            codes::NGFF_OM_002,
                            &ptr(&ptr(&at, "window"), key),
                            format!("expected window {key} to be a number, found {}", kind(v)),
                        ),
                        None => sink.emit(
                            scope,
                            codes::NGFF_OM_002,
                            &ptr(&at, "window"),
                            format!("expected the key {key} in the window, found none"),
                        ),
                    }
                }
            }
            Some(v) => sink.emit(
                scope,
                codes::NGFF_OM_002,
                &ptr(&at, "window"),
                format!("expected window to be an object, found {}", kind(v)),
            ),
        }
        match ch.get("color") {
            None if required => sink.emit(
                scope,
                codes::NGFF_OM_003,
                &at,
                "expected the key color in the channel, found none",
            ),
            None => {}
            Some(Value::String(s))
                if (s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit())) =>
            {
                sink.emit(
                    scope,
                    codes::NGFF_OM_004,
                    &ptr(&at, "color"),
                    format!("expected six hexadecimal digits (RRGGBB), found {s:?}"),
                );
            }
            Some(Value::String(_)) => {}
            Some(v) => sink.emit(
                scope,
                codes::NGFF_OM_003,
                &ptr(&at, "color"),
                format!("expected color to be a string, found {}", show(v)),
            ),
        }
        for (key, want) in [
            ("label", "a string"),
            ("family", "a string"),
            ("active", "a boolean"),
            ("inverted", "a boolean"),
            ("coefficient", "a number"),
        ] {
            if let Some(v) = ch.get(key)
                && kind(v) != want
            {
                sink.emit(
                    scope,
                    codes::NGFF_OM_005,
                    &ptr(&at, key),
                    format!("expected {key} to be {want}, found {}", kind(v)),
                );
            }
        }
    }
}
