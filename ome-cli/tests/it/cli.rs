//! The `ome` binary end to end: convert .npy -> OME-Zarr -> .npy, info as text and
//! JSON, refusals and error messages.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use ndarray::{ArrayD, IxDyn};
use ome_core::{DynArray, NpyReader, RegionSource, write_npy};
use serde_json::Value;

fn ome(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ome"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = ome(args);
    assert!(
        out.status.success(),
        "ome {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read_npy(p: &Path) -> DynArray {
    NpyReader::open(p).unwrap().read_all().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn npy_to_zarr_and_back_in_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let data = ArrayD::<u16>::from_shape_fn(IxDyn(&[1, 2, 3, 70, 90]), |ix| {
        (ix[1] * 1000 + ix[2] * 100 + ix[3] + ix[4]) as u16
    });
    write_npy(&input, &DynArray::U16(data.clone())).unwrap();
    for (version, extra) in [("0.4", vec![]), ("0.5", vec!["--shards", "1,1,2,64,64"])] {
        let out = dir.path().join(format!("img-{version}.ome.zarr"));
        let mut args = vec![
            "convert",
            p(&input),
            p(&out),
            "--ngff-version",
            version,
            "--chunks",
            "1,1,1,32,32",
            "--scale",
            "1,1,2,0.5,0.5",
            "--units",
            "z=micrometer,y=micrometer,x=micrometer",
            "--channel-names",
            "DAPI,GFP",
            "--levels",
            "3",
            "-q",
        ];
        args.extend(extra.iter().copied());
        ok(&args);
        let info: Value = serde_json::from_str(&ok(&["info", p(&out), "--json"])).unwrap();
        assert_eq!(info["version"], version);
        assert_eq!(info["kind"], "image");
        assert_eq!(info["levels"].as_array().unwrap().len(), 3);
        assert_eq!(
            info["levels"][1]["shape"],
            serde_json::json!([1, 2, 3, 35, 45])
        );
        assert_eq!(
            info["levels"][0]["scale"],
            serde_json::json!([1.0, 1.0, 2.0, 0.5, 0.5])
        );
        assert_eq!(info["axes"][3]["unit"], "micrometer");
        assert_eq!(info["channels"][1]["label"], "GFP");
        assert_eq!(info["levels"][0]["shards"].is_null(), version == "0.4");
        let text = ok(&["info", p(&out)]);
        assert!(text.contains("OME-Zarr") && text.contains("GFP"), "{text}");

        let back = dir.path().join(format!("back-{version}.npy"));
        ok(&["convert", p(&out), p(&back)]);
        assert_eq!(read_npy(&back), DynArray::U16(data.clone()));
        let sel = dir.path().join(format!("sel-{version}.npy"));
        ok(&[
            "convert",
            p(&out),
            p(&sel),
            "--select",
            "c=1,z=1:3",
            "--level",
            "0",
        ]);
        let DynArray::U16(s) = read_npy(&sel) else {
            panic!()
        };
        assert_eq!(s, data.slice(ndarray::s![.., 1, 1..3, .., ..]).into_dyn());

        // Re-writing an OME-Zarr as the other version keeps the pixels and metadata.
        let other = if version == "0.4" { "0.5" } else { "0.4" };
        let conv = dir.path().join(format!("conv-{version}.ome.zarr"));
        ok(&["convert", p(&out), p(&conv), "--ngff-version", other, "-q"]);
        let info2: Value = serde_json::from_str(&ok(&["info", p(&conv), "--json"])).unwrap();
        assert_eq!(info2["version"], other);
        assert_eq!(info2["axes"], info["axes"]);
        assert_eq!(info2["levels"][0]["scale"], info["levels"][0]["scale"]);
        assert_eq!(info2["channels"][1]["label"], "GFP");
        let back2 = dir.path().join(format!("back2-{version}.npy"));
        ok(&["convert", p(&conv), p(&back2)]);
        assert_eq!(read_npy(&back2), DynArray::U16(data.clone()));
    }
}

#[test]
fn existing_outputs_are_refused_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    write_npy(&input, &DynArray::U8(ArrayD::zeros(IxDyn(&[20, 20])))).unwrap();
    let out = dir.path().join("out.ome.zarr");
    ok(&["convert", p(&input), p(&out), "-q"]);
    let again = ome(&["convert", p(&input), p(&out), "-q"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    ok(&["convert", p(&input), p(&out), "-q", "--overwrite"]);
    let npy = dir.path().join("x.npy");
    ok(&["convert", p(&out), p(&npy)]);
    assert_eq!(ome(&["convert", p(&out), p(&npy)]).status.code(), Some(2));
}

#[test]
fn bad_input_exits_non_zero_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"\x93NUMPY\x01\x00\x10\x00{'descr': '<u2'}").unwrap();
    let out = ome(&["convert", p(&bad), p(&dir.path().join("o.ome.zarr"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.npy") && err.contains("npy header"),
        "{err}"
    );
    assert!(!dir.path().join("o.ome.zarr").exists());

    let zarr = dir.path().join("broken.zarr");
    std::fs::create_dir(&zarr).unwrap();
    std::fs::write(zarr.join("zarr.json"), b"{not json").unwrap();
    let out = ome(&["info", p(&zarr)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("zarr.json"));

    let out = ome(&[
        "convert",
        p(&bad),
        p(&dir.path().join("o.npy")),
        "--ngff-version",
        "0.9",
    ]);
    assert_ne!(out.status.code(), Some(0));
    let out = ome(&[
        "convert",
        p(&zarr),
        p(&dir.path().join("o2.ome.zarr")),
        "--compression",
        "lzma",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compression"));
}

#[test]
fn info_on_the_spec_samples() {
    let Some(shared) = testkit::spec_data_file("ngff/samples/synthetic/valid") else {
        return;
    };
    let shared = shared.as_path();
    let plate: Value = serde_json::from_str(&ok(&[
        "info",
        p(&shared.join("v0.5/plate_1x2.ome.zarr")),
        "--json",
    ]))
    .unwrap();
    assert_eq!(plate["kind"], "plate");
    assert_eq!(plate["wells"], serde_json::json!(["A/1", "A/2"]));
    let img: Value = serde_json::from_str(&ok(&[
        "info",
        p(&shared.join("v0.4/image_tczyx_labels.ome.zarr")),
        "--json",
    ]))
    .unwrap();
    assert_eq!(img["labels"], serde_json::json!(["cells"]));
    assert_eq!(img["zarr_format"], 2);
    let text = ok(&["info", p(&shared.join("v0.5/image_tczyx_sharded.ome.zarr"))]);
    assert!(text.contains("shards"), "{text}");
    // A plate is not an image: convert says which field to give.
    let dir = tempfile::tempdir().unwrap();
    let out = ome(&[
        "convert",
        p(&shared.join("v0.5/plate_1x2.ome.zarr")),
        p(&dir.path().join("x.npy")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("A/1/0"));
    let region = NpyReader::open(dir.path().join("never.npy"));
    assert!(region.is_err());
    let field = dir.path().join("field.npy");
    ok(&[
        "convert",
        p(&shared.join("v0.5/plate_1x2.ome.zarr/A/2/0")),
        p(&field),
    ]);
    assert_eq!(NpyReader::open(&field).unwrap().shape(), &[1, 16, 16]);
}

/// `ome info` takes an OME-XML document: a companion file opens its TIFFs, a document with
/// BinData or MetadataOnly is described from the XML, and a hostile one names the problem.
#[test]
fn info_on_ome_xml_documents() {
    let (Some(xml), Some(companion)) = (
        testkit::spec_data_file("ome-xml/samples/ome-model/2016-06"),
        testkit::spec_data_file("ome-tiff/samples/synthetic/companion/sample.companion.ome"),
    ) else {
        return;
    };
    let (xml, companion) = (xml.as_path(), companion.as_path());
    let c: Value = serde_json::from_str(&ok(&["info", p(companion), "--json"])).unwrap();
    assert_eq!(c["format"], "ome-tiff");
    assert_eq!(c["files"].as_array().unwrap().len(), 2);
    let hcs: Value =
        serde_json::from_str(&ok(&["info", p(&xml.join("hcs.ome.xml")), "--json"])).unwrap();
    assert_eq!(hcs["format"], "ome-xml");
    assert_eq!(hcs["ome_xml"]["plates"], 1);
    assert_eq!(hcs["series"][0]["pixel_data"], "BinData");
    assert_eq!(hcs["series"][0]["sizes"]["t"], 16);
    let text = ok(&["info", p(&xml.join("metadata-only.ome.xml"))]);
    assert!(text.contains("MetadataOnly"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("entity.xml");
    std::fs::write(
        &bad,
        "<?xml version=\"1.0\"?><!DOCTYPE OME [<!ENTITY a \"aaaa\">]><OME>&a;</OME>",
    )
    .unwrap();
    let out = ome(&["info", p(&bad)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("entity.xml") && err.contains("DOCTYPE"),
        "{err}"
    );
}

/// NGFF 0.6: `--ngff-version 0.6` writes RFC-5 coordinate systems, `ome info` shows them
/// and the transformation graph, and the image converts back to 0.5 with the same pixels
/// and scales; a transformation that is no scale + translation stops the way back, named.
#[test]
fn v06_write_info_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let data =
        ArrayD::<u8>::from_shape_fn(IxDyn(&[2, 40, 30]), |ix| (ix[0] * 50 + ix[1] + ix[2]) as u8);
    write_npy(&input, &DynArray::U8(data.clone())).unwrap();
    let out = dir.path().join("img.ome.zarr");
    ok(&[
        "convert",
        p(&input),
        p(&out),
        "--ngff-version",
        "0.6",
        "--axes",
        "cyx",
        "--scale",
        "1,0.5,0.5",
        "--levels",
        "2",
        "-q",
    ]);
    let info: Value = serde_json::from_str(&ok(&["info", p(&out), "--json"])).unwrap();
    assert_eq!(info["version"], "0.6");
    assert_eq!(info["coordinate_systems"][0]["name"], "intrinsic");
    assert_eq!(info["transformations"][1]["type"], "sequence");
    assert_eq!(
        info["levels"][1]["translation"],
        serde_json::json!([0.0, 0.25, 0.25])
    );
    let text = ok(&["info", p(&out)]);
    assert!(
        text.contains("coordinate systems:") && text.contains("array 1 -> intrinsic: sequence("),
        "{text}"
    );
    let back = dir.path().join("back.ome.zarr");
    ok(&["convert", p(&out), p(&back), "--ngff-version", "0.5", "-q"]);
    let info5: Value = serde_json::from_str(&ok(&["info", p(&back), "--json"])).unwrap();
    assert_eq!(info5["version"], "0.5");
    assert_eq!(info5["levels"][1]["scale"], info["levels"][1]["scale"]);
    let npy = dir.path().join("back.npy");
    ok(&["convert", p(&back), p(&npy)]);
    assert_eq!(read_npy(&npy), DynArray::U8(data));

    // An affine to a second system does not reduce to a scale and translation.
    let doc_path = out.join("zarr.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&doc_path).unwrap()).unwrap();
    let ms = &mut doc["attributes"]["ome"]["multiscales"][0];
    let axes = ms["coordinateSystems"][0]["axes"].clone();
    ms["coordinateSystems"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "sheared", "axes": axes}));
    ms["coordinateTransformations"] = serde_json::json!([{"type": "affine",
        "affine": [[1, 0, 0, 0], [0, 1, 0.5, 0], [0, 0, 1, 0]],
        "input": {"name": "intrinsic"}, "output": {"name": "sheared"}}]);
    std::fs::write(&doc_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let refused = ome(&[
        "convert",
        p(&out),
        p(&dir.path().join("no.ome.zarr")),
        "--ngff-version",
        "0.4",
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("affine") && stderr.contains("scale and translation"),
        "{stderr}"
    );
}
