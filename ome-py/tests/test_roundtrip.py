import json
import pickle

import numpy as np
import pytest

import ome_py


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize(
    "dtype", ["uint8", "uint16", "uint32", "int8", "int16", "int64", "float32", "float64"]
)
def test_write_read_identity(tmp_path, version, dtype):
    data = (np.arange(3 * 70 * 90) % 120).reshape(3, 70, 90).astype(dtype)
    out = tmp_path / "img.ome.zarr"
    summary = ome_py.write_ome_zarr(out, data, axes="zyx", chunks=[1, 32, 32], version=version)
    assert summary["level_shapes"][0] == [3, 70, 90]
    image = ome_py.open(out)
    assert image.version == version
    assert image.axes == ["z", "y", "x"]
    assert image.dtype == dtype
    np.testing.assert_array_equal(image.read(), data)
    np.testing.assert_array_equal(np.asarray(image), data)


def test_metadata_levels_channels(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(
        out, czyx, axes="czyx", scale=[1, 2, 0.5, 0.5], units={"x": "micrometer"},
        levels=3, channel_names=["a", "b"], shards=[1, 5, 128, 128], chunks=[1, 5, 64, 64],
    )
    image = ome_py.open(out)
    assert len(image.levels) == 3
    l0, l1 = image.levels[0], image.levels[1]
    assert l0.shape == [2, 5, 300, 260] and l1.shape == [2, 5, 150, 130]
    assert l0.chunks == [1, 5, 64, 64] and l0.shards == [1, 5, 128, 128]
    assert l0.storage_chunks == [1, 5, 128, 128]
    assert l1.scale == [1, 2, 1.0, 1.0]
    assert [c["label"] for c in image.channels] == ["a", "b"]
    assert image.axes_info[3] == {"name": "x", "type": "space", "unit": "micrometer"}
    assert image.metadata["multiscales"][0]["axes"][3]["unit"] == "micrometer"
    assert image.ome_xml is None
    assert image.labels == []


def test_selection(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx")
    image = ome_py.open(out)
    np.testing.assert_array_equal(image.read(c=1, z=2), czyx[1, 2])
    np.testing.assert_array_equal(image.read(c=-1, y=slice(10, 50)), czyx[-1, :, 10:50])
    np.testing.assert_array_equal(image.read_region(0, [0, 1, 2, 3], [1, 2, 3, 4]), czyx[:1, 1:3, 2:5, 3:7])
    with pytest.raises(ome_py.UsageError):
        image.read(q=1)
    with pytest.raises(ome_py.UsageError):
        image.read(level=9)


def test_zero_copy_inputs_and_non_contiguous(tmp_path, czyx):
    view = czyx[:, :, ::2, ::3]  # strided: read in place through its strides
    out = tmp_path / "s.ome.zarr"
    ome_py.write_ome_zarr(out, view, axes="czyx")
    np.testing.assert_array_equal(ome_py.open(out).read(), view)
    big_endian = czyx.astype(">u2")
    out2 = tmp_path / "be.ome.zarr"
    ome_py.write_ome_zarr(out2, big_endian, axes="czyx")
    np.testing.assert_array_equal(ome_py.open(out2).read(), czyx)


def test_errors_have_one_class_per_kind(tmp_path, czyx):
    assert issubclass(ome_py.FormatError, ome_py.OmeError)
    for cls in (ome_py.UsageError, ome_py.StorageError, ome_py.LimitsError, ome_py.UnsupportedError):
        assert issubclass(cls, ome_py.OmeError)
    with pytest.raises(ome_py.UsageError):
        ome_py.write_ome_zarr(tmp_path / "x.zarr", czyx, axes="zyx")
    with pytest.raises(ome_py.UsageError):
        ome_py.write_ome_zarr(tmp_path / "x.zarr", czyx, compression="nope")
    with pytest.raises(ome_py.OmeError):
        ome_py.open(tmp_path / "missing.zarr")
    bad = tmp_path / "bad.zarr"
    bad.mkdir()
    (bad / "zarr.json").write_text("{not json")
    with pytest.raises(ome_py.FormatError):
        ome_py.open(bad)
    ome_py.write_ome_zarr(tmp_path / "x.zarr", czyx)
    with pytest.raises(ome_py.UsageError):
        ome_py.write_ome_zarr(tmp_path / "x.zarr", czyx)
    ome_py.write_ome_zarr(tmp_path / "x.zarr", czyx[:1], overwrite=True)


def test_convert(tmp_path, czyx):
    src = tmp_path / "a.ome.zarr"
    dst = tmp_path / "b.ome.zarr"
    ome_py.write_ome_zarr(src, czyx, axes="czyx", version="0.4", scale=[1, 3, 0.5, 0.5], channel_names=["p", "q"])
    ome_py.convert(src, dst, version="0.5", shards=[1, 5, 256, 256], chunks=[1, 1, 128, 128])
    b = ome_py.open(dst)
    assert b.version == "0.5"
    assert b.levels[0].scale == [1, 3, 0.5, 0.5]
    assert [c["label"] for c in b.channels] == ["p", "q"]
    np.testing.assert_array_equal(b.read(), czyx)


def test_validate_report(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", units={"x": "micrometer", "y": "micrometer", "z": "micrometer"})
    report = ome_py.validate(out, depth="data")
    assert report.verdict in ("valid", "valid-strict"), str(report)
    assert report.ok and bool(report)
    d = report.to_dict()
    assert d["verdict"] == report.verdict
    assert json.loads(report.to_json()) == d
    assert isinstance(str(report), str)
    # Break the metadata: an error finding with a code, severity, message and location.
    doc = json.loads((out / "zarr.json").read_text())
    doc["attributes"]["ome"]["multiscales"][0]["axes"][0]["type"] = 7
    (out / "zarr.json").write_text(json.dumps(doc))
    bad = ome_py.validate(out)
    assert bad.verdict == "invalid" and not bad.ok
    errors = [f for f in bad.findings if f.severity == "error"]
    assert errors and errors[0].code.startswith("NGFF-") and errors[0].message and errors[0].location
    with pytest.raises(ome_py.UsageError):
        ome_py.validate(out, depth="deep")


def test_validate_ome_tiff_and_ome_xml(tmp_path, czyx):
    tif = tmp_path / "img.ome.tif"
    ome_py.write_ome_tiff(tif, czyx, axes="czyx", tile=(64, 64))
    report = ome_py.validate(tif, depth="data")
    assert report.verdict in ("valid", "valid-strict"), str(report)
    # The OME-XML alone: a document naming no pixel files, with a broken reference.
    from tifffile import TiffFile

    with TiffFile(tif) as t:
        xml = t.pages[0].description
    doc = tmp_path / "img.ome.xml"
    doc.write_text(xml.replace('ID="Pixels:0"', 'ID="NotAPixelsID"'), encoding="utf-8")
    bad = ome_py.validate(doc)
    assert bad.verdict == "invalid", str(bad)
    assert any(f.code.startswith("OMEXML-ID-") for f in bad.findings), str(bad)
    # A schema file that does not exist: the XSD check says it could not run, never passes silently.
    missing = ome_py.validate(doc, xml_schema=tmp_path / "no.xsd")
    assert any(f.code.startswith("OMEXML-XSD-") for f in missing.findings), str(missing)


def test_image_pickles(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx)
    image = pickle.loads(pickle.dumps(ome_py.open(out)))
    np.testing.assert_array_equal(image.read(c=0), czyx[0])


def test_region_writer_in_process(tmp_path, czyx):
    out = tmp_path / "r.ome.zarr"
    w = ome_py.RegionWriter.create(out, czyx.shape, czyx.dtype, axes="czyx", chunks=[1, 5, 128, 128], levels=2)
    assert w.region_grid == (1, 5, 128, 128)
    with pytest.raises(ome_py.UsageError):
        w.write_region([0, 0, 64, 0], czyx[:1, :, 64:192, :128])
    for c in range(2):
        for y in range(0, 300, 128):
            for x in range(0, 260, 128):
                w2 = pickle.loads(pickle.dumps(w))
                w2.write_region([c, 0, y, x], czyx[c:c + 1, :, y:y + 128, x:x + 128])
    ref = tmp_path / "ref.ome.zarr"
    ome_py.write_ome_zarr(ref, czyx, axes="czyx", chunks=[1, 5, 128, 128], levels=2)
    w.finish()
    a, b = ome_py.open(out), ome_py.open(ref)
    for k in range(2):
        np.testing.assert_array_equal(a.read(k), b.read(k))


def test_region_writer_missing_region(tmp_path, czyx):
    out = tmp_path / "r.ome.zarr"
    w = ome_py.RegionWriter.create(out, czyx.shape, "uint16", chunks=[1, 5, 256, 256])
    w.write_region([0, 0, 0, 0], czyx[:1, :, :256, :256])
    assert len(w.missing_chunks()) == 2 * 2 * 2 - 1
    with pytest.raises(ome_py.UsageError):
        w.finish()
    assert not out.exists()
    w.abort()
