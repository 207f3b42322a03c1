//! `ome info`: what a dataset holds, as text or JSON.

use std::io::Write;
use std::path::Path;

use ome_core::metadata::{
    CoordinateSystem, CoordinateSystemRef, CoordinateTransformation, NodeKind,
};
use ome_core::{Image, OmeZarr, Result};
use serde_json::{Value, json};

fn level_json(image: &Image) -> Value {
    image
        .levels()
        .iter()
        .map(|l| {
            json!({
                "path": l.path, "shape": l.shape, "chunks": l.chunks, "shards": l.shards,
                "dtype": l.dtype.name(), "codecs": l.codecs, "scale": l.scale, "translation": l.translation,
            })
        })
        .collect()
}

fn system_json(system: &CoordinateSystem, intrinsic: bool) -> Value {
    json!({
        "name": system.name,
        "intrinsic": intrinsic,
        "axes": system.axes.iter()
            .map(|a| json!({"name": a.name, "type": a.axis_type, "unit": a.unit}))
            .collect::<Vec<_>>(),
    })
}

/// One edge of the transformation graph: from, to, the short form and the full object.
fn edge_json(from: String, to: String, t: &CoordinateTransformation) -> Value {
    json!({
        "input": from,
        "output": to,
        "type": t.type_name(),
        "name": t.name(),
        "summary": t.to_string(),
        "transformation": serde_json::to_value(t).unwrap_or(Value::Null),
    })
}

fn end_label(end: Option<&CoordinateSystemRef>) -> String {
    end.map_or_else(|| "?".to_owned(), CoordinateSystemRef::label)
}

/// 0.6: the coordinate systems and the transformation graph of an image: each level's
/// transformation to the intrinsic system, then the multiscale's own.
fn image_graph(image: &Image, obj: &mut serde_json::Map<String, Value>) {
    if image.coordinate_systems().is_empty() {
        return;
    }
    let intrinsic = image.intrinsic_system();
    obj.insert(
        "coordinate_systems".into(),
        image
            .coordinate_systems()
            .iter()
            .map(|c| system_json(c, Some(c.name.as_str()) == intrinsic))
            .collect(),
    );
    let mut edges: Vec<Value> = image
        .levels()
        .iter()
        .filter_map(|l| {
            let t = l.transform.as_ref()?;
            Some(edge_json(
                format!("array {}", l.path),
                intrinsic.unwrap_or("?").to_owned(),
                t,
            ))
        })
        .collect();
    edges.extend(
        image
            .transformations()
            .iter()
            .map(|t| edge_json(end_label(t.input()), end_label(t.output()), t)),
    );
    obj.insert("transformations".into(), Value::Array(edges));
}

fn scene_json(node: &OmeZarr) -> Result<Value> {
    let view = node.scene()?;
    let scene = view.scene();
    let images: Vec<Value> = view
        .images()
        .iter()
        .map(|(path, image)| {
            json!({
                "path": path,
                "name": image.name(),
                "intrinsic_system": image.intrinsic_system(),
                "coordinate_systems": image.coordinate_systems().iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "shape": image.levels().first().map(|l| l.shape.clone()),
            })
        })
        .collect();
    Ok(json!({
        "coordinate_systems": scene.coordinate_systems.iter().flatten()
            .enumerate()
            .map(|(i, c)| {
                let mut v = system_json(c, false);
                v["default"] = json!(i == 0);
                v
            })
            .collect::<Vec<_>>(),
        "images": images,
        "transformations": scene.coordinate_transformations.iter()
            .map(|t| edge_json(end_label(t.input()), end_label(t.output()), t))
            .collect::<Vec<_>>(),
    }))
}

fn describe(node: &OmeZarr) -> Result<Value> {
    let kind = node.kind();
    let mut out = json!({
        "path": node.path(),
        "format": "ome-zarr",
        // As written where it names a known version (`0.6.dev3` and `0.6rc0` are both 0.6).
        "version": node.version().map(|v| node.attributes().raw_version().unwrap_or(v.as_str()).to_string()),
        "zarr_format": node.zarr_format().number(),
        "kind": kind.as_str(),
    });
    let obj = out.as_object_mut().expect("json! object");
    if node.attributes().scene.is_some() {
        obj.insert("scene".into(), scene_json(node)?);
    }
    if node.attributes().multiscales.is_some() {
        let image = node.image()?;
        obj.insert("name".into(), json!(image.name()));
        obj.insert(
            "axes".into(),
            json!(
                image
                    .axes()
                    .iter()
                    .map(|a| json!({"name": a.name, "type": a.axis_type, "unit": a.unit}))
                    .collect::<Vec<_>>()
            ),
        );
        obj.insert("levels".into(), level_json(&image));
        image_graph(&image, obj);
        obj.insert(
            "channels".into(),
            json!(
                image
                    .channels()
                    .iter()
                    .map(|c| json!({"label": c.label, "color": c.color, "window": c.window}))
                    .collect::<Vec<_>>()
            ),
        );
        obj.insert("labels".into(), json!(node.label_names()?));
        if let Some(il) = &node.attributes().image_label {
            obj.insert(
                "image_label".into(),
                serde_json::to_value(il).unwrap_or(Value::Null),
            );
        }
    }
    if kind == NodeKind::Labels {
        obj.insert("labels".into(), json!(node.attributes().labels));
    }
    if let Some(plate) = &node.attributes().plate {
        obj.insert("name".into(), json!(plate.name));
        obj.insert(
            "rows".into(),
            json!(plate.rows.iter().map(|r| &r.name).collect::<Vec<_>>()),
        );
        obj.insert(
            "columns".into(),
            json!(plate.columns.iter().map(|c| &c.name).collect::<Vec<_>>()),
        );
        obj.insert("wells".into(), json!(node.wells()));
        obj.insert("field_count".into(), json!(plate.field_count));
    }
    if node.attributes().well.is_some() {
        obj.insert("fields".into(), json!(node.fields()));
    }
    if node.attributes().bioformats2raw_layout.is_some() {
        obj.insert("series".into(), json!(node.series()?));
    }
    Ok(out)
}

/// Writes to stdout; a closed pipe (`ome info x | head`) ends output quietly.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn render_text(v: &Value) -> String {
    use std::fmt::Write as _;
    let mut buf = String::new();
    macro_rules! println {
        ($($arg:tt)*) => {{ let _ = writeln!(buf, $($arg)*); }};
    }
    let s = |k: &str| {
        v.get(k)
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .unwrap_or_default()
    };
    println!("{}", s("path"));
    println!(
        "  format:   OME-Zarr {} (Zarr v{}), {}",
        s("version"),
        s("zarr_format"),
        s("kind")
    );
    if let Some(name) = v.get("name").and_then(Value::as_str) {
        println!("  name:     {name}");
    }
    if let Some(axes) = v.get("axes").and_then(Value::as_array) {
        let parts: Vec<String> = axes
            .iter()
            .map(|a| {
                let name = a["name"].as_str().unwrap_or("?");
                match a["unit"].as_str() {
                    Some(u) => format!("{name} [{u}]"),
                    None => name.to_string(),
                }
            })
            .collect();
        println!("  axes:     {}", parts.join(", "));
    }
    if let Some(levels) = v.get("levels").and_then(Value::as_array) {
        println!("  levels:");
        for l in levels {
            let shards = if l["shards"].is_null() {
                String::new()
            } else {
                format!(" shards {}", l["shards"])
            };
            println!(
                "    {:>3}  {} {} chunks {}{} {} scale {}",
                l["path"].as_str().unwrap_or("?"),
                l["dtype"].as_str().unwrap_or("?"),
                l["shape"],
                l["chunks"],
                shards,
                l["codecs"]
                    .as_array()
                    .map(|c| c
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("+"))
                    .unwrap_or_default(),
                l["scale"],
            );
        }
    }
    render_graph(v, &mut buf);
    if let Some(scene) = v.get("scene") {
        println!("  scene:");
        render_graph(scene, &mut buf);
        if let Some(images) = scene.get("images").and_then(Value::as_array) {
            println!("    images:");
            for im in images {
                println!(
                    "      {} (intrinsic {}) shape {}",
                    im["path"].as_str().unwrap_or("?"),
                    im["intrinsic_system"].as_str().unwrap_or("-"),
                    im["shape"]
                );
            }
        }
    }
    if let Some(ch) = v
        .get("channels")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        println!("  channels:");
        for c in ch {
            println!(
                "    {} #{} window {}",
                c["label"].as_str().unwrap_or("-"),
                c["color"].as_str().unwrap_or("-"),
                c["window"]
            );
        }
    }
    for key in ["labels", "wells", "fields", "series"] {
        if let Some(list) = v
            .get(key)
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
        {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            println!("  {key:<9} {}", names.join(", "));
        }
    }
    buf
}

/// The coordinate systems and transformations of `v` (an image or a scene), when present.
fn render_graph(v: &Value, buf: &mut String) {
    use std::fmt::Write as _;
    if let Some(systems) = v
        .get("coordinate_systems")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    {
        let _ = writeln!(buf, "  coordinate systems:");
        for c in systems {
            let axes: Vec<String> = c["axes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    let name = a["name"].as_str().unwrap_or("?");
                    match a["unit"].as_str() {
                        Some(u) => format!("{name} [{u}]"),
                        None => name.to_owned(),
                    }
                })
                .collect();
            let mut tags = Vec::new();
            if c["intrinsic"].as_bool() == Some(true) {
                tags.push("intrinsic");
            }
            if c["default"].as_bool() == Some(true) {
                tags.push("default");
            }
            let tags = if tags.is_empty() {
                String::new()
            } else {
                format!(" ({})", tags.join(", "))
            };
            let _ = writeln!(
                buf,
                "    {}{tags}: {}",
                c["name"].as_str().unwrap_or("?"),
                axes.join(", ")
            );
        }
    }
    if let Some(edges) = v
        .get("transformations")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        let _ = writeln!(buf, "  transformations:");
        for e in edges {
            let _ = writeln!(
                buf,
                "    {} -> {}: {}",
                e["input"].as_str().unwrap_or("?"),
                e["output"].as_str().unwrap_or("?"),
                e["summary"].as_str().unwrap_or("?")
            );
        }
    }
}

fn describe_tiff(path: &Path, limits: &ome_core::Limits) -> Result<Value> {
    let tiff = std::sync::Arc::new(ome_core::tiff::OmeTiff::open_with(path, limits.into())?);
    let mut series = Vec::new();
    for (i, s) in tiff.series().iter().enumerate() {
        let image = tiff.clone().image(i)?;
        let px = &s.pixels;
        series.push(json!({
            "index": i,
            "name": s.name,
            "dtype": s.dtype.name(),
            "dimension_order": px.dimension_order.as_str(),
            "sizes": {"x": px.size_x, "y": px.size_y, "z": px.size_z, "c": px.size_c, "t": px.size_t},
            "physical_size": {"x": px.physical_size_x, "y": px.physical_size_y, "z": px.physical_size_z},
            "compression": s.compression,
            "tile": s.level_blocks.first().map(|b| [b.0, b.1]),
            "axes": image.axes().iter().map(|a| json!({"name": a.name, "type": a.axis_type, "unit": a.unit})).collect::<Vec<_>>(),
            "levels": level_json(&image),
            "channels": image.channels().iter().map(|c| json!({"label": c.label, "color": c.color})).collect::<Vec<_>>(),
            "warnings": s.warnings,
        }));
    }
    let ome = tiff.ome_xml();
    Ok(json!({
        "path": path,
        "format": if ome.is_some() { "ome-tiff" } else { "tiff" },
        "bigtiff": tiff.is_bigtiff(),
        "files": tiff.files(),
        "ome_xml": ome.map(|o| json!({
            "namespace": o.namespace.uri(),
            "uuid": o.uuid,
            "creator": o.creator,
            "images": o.images.len(),
            "plates": o.plates.len(),
        })),
        "series": series,
    }))
}

fn render_tiff_text(v: &Value) -> String {
    use std::fmt::Write as _;
    let mut buf = String::new();
    let _ = writeln!(buf, "{}", v["path"].as_str().unwrap_or("?"));
    let _ = writeln!(
        buf,
        "  format:   {}{}",
        v["format"].as_str().unwrap_or("?"),
        if v["bigtiff"].as_bool() == Some(true) {
            " (BigTIFF)"
        } else {
            ""
        }
    );
    if let Some(files) = v["files"].as_array().filter(|f| f.len() > 1) {
        let _ = writeln!(buf, "  files:    {}", files.len());
    }
    for s in v["series"].as_array().into_iter().flatten() {
        let _ = writeln!(
            buf,
            "  series {}: {} {} {} sizes {} compression {} tile {}",
            s["index"],
            s["name"].as_str().unwrap_or("-"),
            s["dtype"].as_str().unwrap_or("?"),
            s["dimension_order"].as_str().unwrap_or("?"),
            s["sizes"],
            s["compression"].as_str().unwrap_or("?"),
            s["tile"],
        );
        for l in s["levels"].as_array().into_iter().flatten() {
            let _ = writeln!(
                buf,
                "    {:>3}  {} scale {}",
                l["path"].as_str().unwrap_or("?"),
                l["shape"],
                l["scale"]
            );
        }
        for c in s["channels"].as_array().into_iter().flatten() {
            let _ = writeln!(
                buf,
                "    channel {} #{}",
                c["label"].as_str().unwrap_or("-"),
                c["color"].as_str().unwrap_or("-")
            );
        }
        for w in s["warnings"].as_array().into_iter().flatten() {
            let _ = writeln!(buf, "    warning: {}", w.as_str().unwrap_or("?"));
        }
    }
    buf
}

/// Reads the OME-XML document at `path` and returns it when it names no pixel files:
/// pixels as BinData, MetadataOnly, or none. Such a document is described from its XML.
fn pixel_less_ome_xml(
    path: &Path,
    limits: &ome_core::Limits,
) -> Result<Option<ome_core::ome_xml::OmeXml>> {
    use std::io::Read;
    let max = limits.max_xml_bytes;
    let mut bytes = Vec::new();
    ome_core::open_regular(path)
        .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| ome_core::Error::io(ome_core::Location::file(path), e))?;
    if bytes.len() > max {
        return Err(ome_core::Error::limits(
            ome_core::Location::file(path),
            format!("expected at most {max} bytes of OME-XML, found more (raise --max-xml-bytes)"),
        ));
    }
    let ome = ome_core::ome_xml::parse_bytes(&bytes, &limits.xml_limits())
        .map_err(|e| e.or_location(|| ome_core::Location::file(path)))?;
    // A standalone document names its pixel files through TiffData/UUID@FileName (OME-TIFF
    // spec, "Multi-file OME-TIFF"); TiffData without a file name refers to the TIFF that
    // held the XML, which a standalone document does not have.
    let names_files = ome.binary_only.is_some()
        || ome.images.iter().any(|i| {
            i.pixels
                .tiff_data
                .iter()
                .any(|t| t.uuid.as_ref().is_some_and(|u| u.file_name.is_some()))
        });
    Ok((!names_files).then_some(ome))
}

/// `ome info` of an OME-XML document without pixel files: what each Image declares.
fn describe_ome_xml(path: &Path, ome: &ome_core::ome_xml::OmeXml) -> Value {
    let series: Vec<Value> = ome
        .images
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let px = &im.pixels;
            json!({
                "index": i,
                "name": im.name,
                "dtype": px.pixel_type.as_str(),
                "dimension_order": px.dimension_order.as_str(),
                "sizes": {"x": px.size_x, "y": px.size_y, "z": px.size_z, "c": px.size_c, "t": px.size_t},
                "physical_size": {"x": px.physical_size_x, "y": px.physical_size_y, "z": px.physical_size_z},
                "pixel_data": if px.has_bin_data() {
                    "BinData"
                } else if px.metadata_only {
                    "MetadataOnly"
                } else if !px.tiff_data.is_empty() {
                    "TiffData without a file name"
                } else {
                    "none"
                },
                "channels": px.channels.iter().map(|c| json!({"label": c.name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "path": path,
        "format": "ome-xml",
        "ome_xml": {
            "namespace": ome.namespace.uri(),
            "uuid": ome.uuid,
            "creator": ome.creator,
            "images": ome.images.len(),
            "plates": ome.plates.len(),
        },
        "series": series,
    })
}

fn render_ome_xml_text(v: &Value) -> String {
    use std::fmt::Write as _;
    let mut buf = String::new();
    let _ = writeln!(buf, "{}", v["path"].as_str().unwrap_or("?"));
    let _ = writeln!(
        buf,
        "  format:   ome-xml ({}), {} images, {} plates, no pixel files",
        v["ome_xml"]["namespace"].as_str().unwrap_or("?"),
        v["ome_xml"]["images"],
        v["ome_xml"]["plates"]
    );
    for s in v["series"].as_array().into_iter().flatten() {
        let _ = writeln!(
            buf,
            "  series {}: {} {} {} sizes {} pixels {}",
            s["index"],
            s["name"].as_str().unwrap_or("-"),
            s["dtype"].as_str().unwrap_or("?"),
            s["dimension_order"].as_str().unwrap_or("?"),
            s["sizes"],
            s["pixel_data"].as_str().unwrap_or("?"),
        );
        for c in s["channels"].as_array().into_iter().flatten() {
            let _ = writeln!(buf, "    channel {}", c["label"].as_str().unwrap_or("-"));
        }
    }
    buf
}

pub(crate) fn run(path: &Path, json: bool, limits: &ome_core::Limits) -> Result<()> {
    // A missing path goes to the Zarr reader, which names what is absent.
    let format = ome_core::Format::detect(path).unwrap_or(ome_core::Format::OmeZarr);
    if matches!(
        format,
        ome_core::Format::Npy | ome_core::Format::AttributesJson
    ) {
        return Err(ome_core::Error::usage(format!(
            "{} is a {format} file; ome info describes OME-Zarr, OME-TIFF and OME-XML",
            path.display()
        )));
    }
    if format.opens_as_tiff() {
        if format == ome_core::Format::OmeXml
            && let Some(ome) = pixel_less_ome_xml(path, limits)?
        {
            let v = describe_ome_xml(path, &ome);
            if json {
                emit(&(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"));
            } else {
                emit(&render_ome_xml_text(&v));
            }
            return Ok(());
        }
        let v = describe_tiff(path, limits)?;
        if json {
            emit(&(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"));
        } else {
            emit(&render_tiff_text(&v));
        }
        return Ok(());
    }
    let node = OmeZarr::open_with_limits(path, *limits)?;
    let v = describe(&node)?;
    if json {
        emit(&(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"));
    } else {
        emit(&render_text(&v));
    }
    Ok(())
}
