"""Several images in one OME-TIFF: `ome convert` writes every series of a bioformats2raw
container (or of a multi-series OME-TIFF) as one Image of a single OME-TIFF output.

- tifffile writes a 3-series OME-TIFF (different shapes, dtypes and axes) → OME-Zarr
  (0.4 and 0.5) → OME-TIFF, and directly OME-TIFF → OME-TIFF; tifffile reads every series
  back pixel for pixel, with its name and SubIFD pyramid, `ome info` lists the three and
  `ome convert --series i` reads each back.
- Bio-Formats ImageInfo reads the series count, sizes, pixel types and resolution counts,
  and ImageConverter decodes the later series pixel for pixel;
  Bio-Formats XMLValidate (2016-06 XSD) and ome-validate accept the output.
- OME-XML beyond what tifffile writes (Instrument, Image Description / AcquisitionDate /
  InstrumentRef, Plane, StructuredAnnotations) survives TIFF → Zarr → TIFF.
- A Bio-Formats ImageConverter multi-series file (fake reader) goes through Zarr and back.
- A bioformats2raw container of a plate becomes one OME-TIFF of its fields, the Plate kept.
- `--series N` still writes only series N.
- A container with a series missing on disk, or a corrupt chunk in its last series, fails
  and leaves neither the output nor a staging file behind.
- ome-validate is the `ome-validate` binary, through test_validate_tiff._validate.

Bio-Formats tests need java and the jar (see test_tiff.py) and are skipped without them.
"""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from test_tiff import _bf_run, _bioformats, _levels, _pattern, _tczyx, _xml_validate
from test_validate_tiff import _validate

tifffile = pytest.importorskip("tifffile")

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
NS = {"ome": OME_NS}
TILE = 32

# (name, axes, shape, dtype, extra tifffile metadata)
SERIES = [
    ("first", "CYX", (2, 70, 90), "uint8",
     {"PhysicalSizeX": 0.5, "PhysicalSizeY": 0.25, "Channel": {"Name": ["DAPI", "GFP"]}}),
    ("second", "ZYX", (3, 20, 24), "uint16", {"PhysicalSizeX": 1.5, "PhysicalSizeY": 1.5}),
    ("third", "TCZYX", (2, 2, 2, 40, 50), "float32", {}),
]
BF_TYPES = {"uint8": "uint8", "uint16": "uint16", "float32": "float"}


def _write_three(path) -> list[np.ndarray]:
    datas = []
    with tifffile.TiffWriter(path, ome=True) as tif:
        for name, axes, shape, dtype, meta in SERIES:
            data = _pattern(shape, dtype)
            tif.write(data, metadata={"axes": axes, "Name": name, **meta}, photometric="minisblack")
            datas.append(data)
    return datas


def _to_tiff(ome, src, tmp_path, route: str, version: str = "0.5"):
    """src (multi-series OME-TIFF) → out.ome.tif, through a bioformats2raw container or directly."""
    out = tmp_path / "out.ome.tif"
    if route == "zarr":
        zarr = tmp_path / "mid.ome.zarr"
        ome.convert(src, zarr, "--ngff-version", version, "--quiet")
        assert (zarr / "OME/METADATA.ome.xml").is_file()
        src = zarr
    ome.convert(src, out, "--tile", TILE, "--compression", "deflate", "--quiet")
    return out


def _check_tifffile(out, datas) -> None:
    """tifffile reads every series of `out` as written by _write_three: pixels, name, pyramid."""
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        assert len(tif.series) == len(datas), [s.name for s in tif.series]
        for k, (s, want, (name, axes, *_)) in enumerate(zip(tif.series, datas, SERIES)):
            got = s.asarray()
            assert got.dtype == want.dtype, f"series {k}: {got.dtype} != {want.dtype}"
            np.testing.assert_array_equal(_tczyx(got, s.axes.lower()), _tczyx(want, axes.lower()),
                                          err_msg=f"series {k} ({s.axes})")
            assert s.name == name, f"series {k}"
            h, w = want.shape[-2:]
            assert len(s.levels) == _levels(h, w, TILE), f"series {k}: levels {[l.shape for l in s.levels]}"
            if len(s.levels) > 1:
                assert s.levels[1].shape[-2:] == ((h + 1) // 2, (w + 1) // 2)


def _description(path) -> str:
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].description


def _tiffdata_files(xml: str) -> set[str]:
    root = ET.fromstring(xml)
    return {u.get("FileName") for u in root.iterfind(".//ome:TiffData/ome:UUID", NS)}


# --- tifffile writes three series -----------------------------------------------------------

@pytest.mark.parametrize("route,version", [("zarr", "0.5"), ("zarr", "0.4"), ("direct", None)],
                         ids=["via-zarr-0.5", "via-zarr-0.4", "tiff-to-tiff"])
def test_three_series_tifffile_reads(ome, tmp_path, route, version):
    src = tmp_path / "three.ome.tif"
    datas = _write_three(src)
    out = _to_tiff(ome, src, tmp_path, route, version or "0.5")
    _check_tifffile(out, datas)
    root = ET.fromstring(_description(out))
    images = root.findall("ome:Image", NS)
    assert [i.get("ID") for i in images] == ["Image:0", "Image:1", "Image:2"]
    chans = [c.get("Name") for c in images[0].iterfind("ome:Pixels/ome:Channel", NS)]
    assert chans == ["DAPI", "GFP"]
    px = [i.find("ome:Pixels", NS) for i in images]
    assert [p.get("DimensionOrder") for p in px] == ["XYZCT"] * 3
    assert (float(px[0].get("PhysicalSizeX")), float(px[0].get("PhysicalSizeY"))) == (0.5, 0.25)
    assert float(px[1].get("PhysicalSizeX")) == 1.5
    assert _tiffdata_files(_description(out)) <= {out.name}


def test_three_series_info_and_readback(ome, tmp_path):
    src = tmp_path / "three.ome.tif"
    datas = _write_three(src)
    out = _to_tiff(ome, src, tmp_path, "zarr")
    info = ome.info(out)
    assert info["format"] == "ome-tiff"
    assert len(info["series"]) == 3, [s.get("name") for s in info["series"]]
    for k, (s, data, (name, axes, *_)) in enumerate(zip(info["series"], datas, SERIES)):
        full = _tczyx(data, axes.lower()).shape
        assert s["index"] == k
        assert s["name"] == name
        assert s["dtype"] == data.dtype.name
        assert [s["sizes"][a] for a in "tczyx"] == list(full), s["sizes"]
        assert len(s["levels"]) == _levels(*full[-2:], TILE)
        ome.run("convert", out, tmp_path / f"s{k}.npy", "--series", k, "--quiet")
        got = np.load(tmp_path / f"s{k}.npy")
        np.testing.assert_array_equal(got, _tczyx(data, axes.lower()), err_msg=f"series {k}")


def test_series_option_writes_one_image(ome, tmp_path):
    src = tmp_path / "three.ome.tif"
    datas = _write_three(src)
    zarr = tmp_path / "mid.ome.zarr"
    ome.convert(src, zarr, "--quiet")
    for k, inp in ((2, src), (1, zarr)):
        out = tmp_path / f"only{k}.ome.tif"
        ome.convert(inp, out, "--series", k, "--tile", TILE, "--quiet")
        with tifffile.TiffFile(out) as tif:
            assert [s.name for s in tif.series] == [SERIES[k][0]], f"--series {k} of {inp.name}"
            s = tif.series[0]
            np.testing.assert_array_equal(_tczyx(s.asarray(), s.axes.lower()), _tczyx(datas[k], SERIES[k][1].lower()))


def test_three_series_bioformats_imageinfo(ome, tmp_path):
    _bioformats()
    src = tmp_path / "three.ome.tif"
    datas = _write_three(src)
    out = _to_tiff(ome, src, tmp_path, "zarr")
    text = _bf_run("ImageInfo", "-nopix", "-noflat", out)
    assert "Exception" not in text, text[-3000:]
    assert re.search(r"Series count = 3\b", text), text[-3000:]
    blocks = re.split(r"^Series #(\d+) :", text, flags=re.M)
    per_series = {int(blocks[i]): blocks[i + 1] for i in range(1, len(blocks), 2)}
    assert sorted(per_series) == [0, 1, 2], text[-3000:]
    for k, (data, (_, axes, _, dtype, _)) in enumerate(zip(datas, SERIES)):
        block = per_series[k]

        def field(name):
            m = re.search(rf"^\s*{name} = (\S+)", block, flags=re.M)
            assert m, f"series {k}: {name} not in ImageInfo output:\n{block}"
            return m.group(1)
        t, c, z, y, x = _tczyx(data, axes.lower()).shape
        got = {n: int(field(n)) for n in ("Width", "Height", "SizeZ", "SizeC", "SizeT")}
        assert got == {"Width": x, "Height": y, "SizeZ": z, "SizeC": c, "SizeT": t}, f"series {k}"
        assert field("Pixel type") == BF_TYPES[dtype], f"series {k}"
        assert field("Dimension order") == "XYZCT", f"series {k}"
        levels = _levels(y, x, TILE)
        m = re.search(r"^\s*Resolutions = (\d+)", block, flags=re.M)
        assert (int(m.group(1)) if m else 1) == levels, f"series {k}: want {levels} resolutions\n{block}"
    assert _levels(70, 90, TILE) == 3  # series 0 has a real pyramid: the check above is not vacuous


def test_bioformats_decodes_every_series(ome, tmp_path):
    """Bio-Formats ImageConverter decodes series 1 and 2 of our file (their planes start
    after the IFDs of the series before them); the pixels equal what tifffile wrote."""
    _bioformats()
    src = tmp_path / "three.ome.tif"
    datas = _write_three(src)
    out = _to_tiff(ome, src, tmp_path, "zarr")
    for k in (1, 2):
        plain = tmp_path / f"bf{k}.ome.tif"
        text = _bf_run("ImageConverter", "-noflat", "-series", k, "-compression", "Uncompressed", out, plain)
        assert plain.is_file(), text[-3000:]
        with tifffile.TiffFile(plain) as tif:
            got = tif.series[0].asarray()
        want = _tczyx(datas[k], SERIES[k][1].lower())
        np.testing.assert_array_equal(got.reshape(want.shape), want, err_msg=f"series {k}")


def test_three_series_xml_validates(ome, tmp_path):
    src = tmp_path / "three.ome.tif"
    _write_three(src)
    via_zarr = _to_tiff(ome, src, tmp_path, "zarr")
    direct = tmp_path / "direct.ome.tif"
    ome.convert(src, direct, "--tile", TILE, "--quiet")
    for out in (via_zarr, direct):
        report = _validate(out)
        assert report["targets"][0]["kind"] == "ome-tiff"
    _xml_validate(tmp_path, {"via_zarr": _description(via_zarr), "direct": _description(direct)})


# --- OME-XML beyond what tifffile writes ----------------------------------------------------

def _q(tag: str) -> str:
    return f"{{{OME_NS}}}{tag}"


def _enrich(xml: str) -> str:
    """Add an Instrument, Image Description/AcquisitionDate/InstrumentRef/AnnotationRef, Plane
    elements and StructuredAnnotations to tifffile's OME-XML, in XSD order."""
    ET.register_namespace("", OME_NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = ET.fromstring(xml)
    first_image = list(root).index(root.find("ome:Image", NS))
    inst = ET.Element(_q("Instrument"), ID="Instrument:0")
    ET.SubElement(inst, _q("Objective"), ID="Objective:0:0", NominalMagnification="40")
    root.insert(first_image, inst)
    for k, image in enumerate(root.findall("ome:Image", NS)):
        head = []
        date = ET.Element(_q("AcquisitionDate"))
        date.text = f"2024-01-0{k + 1}T10:00:00"
        head.append(date)
        desc = ET.Element(_q("Description"))
        desc.text = f"description of series {k}"
        head.append(desc)
        head.append(ET.Element(_q("InstrumentRef"), ID="Instrument:0"))
        for i, e in enumerate(head):
            image.insert(i, e)
        pixels = image.find("ome:Pixels", NS)
        ET.SubElement(image, _q("AnnotationRef"), ID="Annotation:0")  # after Pixels in 2016-06
        if k == 1:  # ZYX: one Plane per z, after the TiffData
            for z in range(int(pixels.get("SizeZ"))):
                ET.SubElement(pixels, _q("Plane"), TheZ=str(z), TheC="0", TheT="0",
                              ExposureTime=f"{10 + z}.5", PositionZ=str(z * 2))
    sa = ET.SubElement(root, _q("StructuredAnnotations"))
    ma = ET.SubElement(sa, _q("MapAnnotation"), ID="Annotation:0")
    value = ET.SubElement(ma, _q("Value"))
    m = ET.SubElement(value, _q("M"), K="a")
    m.text = "b"
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def _check_carried(xml: str, out) -> None:
    root = ET.fromstring(xml)
    obj = root.find("ome:Instrument[@ID='Instrument:0']/ome:Objective", NS)
    assert obj is not None and float(obj.get("NominalMagnification")) == 40, xml
    images = root.findall("ome:Image", NS)
    assert [i.get("Name") for i in images] == ["first", "second", "third"]
    for k, image in enumerate(images):
        assert image.findtext("ome:Description", namespaces=NS) == f"description of series {k}", xml
        assert image.findtext("ome:AcquisitionDate", namespaces=NS).startswith(f"2024-01-0{k + 1}T10:00:00")
        assert image.find("ome:InstrumentRef", NS).get("ID") == "Instrument:0"
        assert image.find("ome:AnnotationRef", NS).get("ID") == "Annotation:0"
    planes = images[1].findall("ome:Pixels/ome:Plane", NS)
    assert [(p.get("TheZ"), float(p.get("ExposureTime"))) for p in planes] == [("0", 10.5), ("1", 11.5), ("2", 12.5)]
    m = root.find("ome:StructuredAnnotations/ome:MapAnnotation[@ID='Annotation:0']/ome:Value/ome:M", NS)
    assert m is not None and (m.get("K"), m.text) == ("a", "b"), xml
    assert _tiffdata_files(xml) <= {out.name}


def test_extra_metadata_carried(ome, tmp_path):
    src = tmp_path / "rich.ome.tif"
    datas = _write_three(src)
    rich = _enrich(_description(src))
    tifffile.tiffcomment(src, comment=rich.encode("utf-8"))
    assert _description(src) == rich
    docs = {"input": rich}
    for route in ("zarr", "direct"):  # TIFF → Zarr → TIFF, and TIFF → TIFF
        (tmp_path / route).mkdir()
        out = _to_tiff(ome, src, tmp_path / route, route)
        _check_tifffile(out, datas)
        docs[route] = _description(out)
        _check_carried(docs[route], out)
        _validate(out)
    _xml_validate(tmp_path, docs)


# --- Bio-Formats writes several series ------------------------------------------------------

def test_bioformats_multi_series_roundtrip(ome, tmp_path):
    _bioformats()
    fake = tmp_path / "multi&series=3&sizeX=64&sizeY=48&sizeZ=2&sizeC=2&sizeT=2&pixelType=uint16.fake"
    fake.touch()
    bf = tmp_path / "bf.ome.tif"
    text = _bf_run("ImageConverter", "-no-upgrade", fake, bf)
    if not bf.is_file():
        pytest.fail(f"bfconvert wrote nothing: {text[-2000:]}")
    with tifffile.TiffFile(bf) as tif:
        want = [(s.name, s.axes, s.asarray()) for s in tif.series]
    assert len(want) == 3
    assert not np.array_equal(want[0][2], want[1][2])  # the fake reader stamps the series index
    out = _to_tiff(ome, bf, tmp_path, "zarr")
    with tifffile.TiffFile(out) as tif:
        assert [s.name for s in tif.series] == [w[0] for w in want]
        for k, (s, (_, axes, data)) in enumerate(zip(tif.series, want)):
            np.testing.assert_array_equal(_tczyx(s.asarray(), s.axes.lower()), _tczyx(data, axes.lower()),
                                          err_msg=f"series {k}")
            assert len(s.levels) == _levels(48, 64, TILE)
        xml = tif.pages[0].description
    assert _tiffdata_files(xml) <= {out.name}, "TiffData still names Bio-Formats' file"
    assert len(ET.fromstring(xml).findall("ome:Image", NS)) == 3


# --- a bioformats2raw container of a plate (HCS) --------------------------------------------

def _hcs_container(ome, tmp_path) -> tuple:
    """A bioformats2raw container of a 2-well plate with 3 fields, as bioformats2raw lays out an
    HCS fileset: plate, wells, the OME group's `series` in XML order, METADATA.ome.xml with
    Plate/Well/WellSample and MetadataOnly images."""
    import json

    root = tmp_path / "hcs.ome.zarr"
    fields = [("A/1/0", 0), ("A/1/1", 1), ("B/2/0", 2)]
    datas = []
    for path, i in fields:
        data = (_pattern((2, 40, 50), "uint16") // (i + 1)).astype("uint16")
        npy = tmp_path / f"f{i}.npy"
        np.save(npy, data)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        ome.convert(npy, root / path, "--axes", "cyx", "--quiet")
        datas.append(data)

    def group(p, attrs):
        p.mkdir(parents=True, exist_ok=True)
        (p / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": attrs}))
    plate = {"name": "p", "field_count": 2, "rows": [{"name": "A"}, {"name": "B"}],
             "columns": [{"name": "1"}, {"name": "2"}],
             "wells": [{"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                       {"path": "B/2", "rowIndex": 1, "columnIndex": 1}]}
    group(root, {"ome": {"version": "0.5", "bioformats2raw.layout": 3, "plate": plate}})
    for row in ("A", "B"):
        group(root / row, {})
    group(root / "A/1", {"ome": {"version": "0.5", "well": {"images": [{"path": "0"}, {"path": "1"}]}}})
    group(root / "B/2", {"ome": {"version": "0.5", "well": {"images": [{"path": "0"}]}}})
    group(root / "OME", {"ome": {"version": "0.5", "series": [p for p, _ in fields]}})
    images = "".join(
        f'<Image ID="Image:{i}" Name="field {i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" '
        f'Type="uint16" SizeX="50" SizeY="40" SizeZ="1" SizeC="2" SizeT="1">'
        f'<Channel ID="Channel:{i}:0" SamplesPerPixel="1"/><Channel ID="Channel:{i}:1" SamplesPerPixel="1"/>'
        f'<MetadataOnly/></Pixels></Image>' for _, i in fields)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="{OME_NS}">'
           '<Plate ID="Plate:0" Name="p"><Well ID="Well:0" Column="0" Row="0">'
           '<WellSample ID="WellSample:0" Index="0"><ImageRef ID="Image:0"/></WellSample>'
           '<WellSample ID="WellSample:1" Index="1"><ImageRef ID="Image:1"/></WellSample></Well>'
           '<Well ID="Well:1" Column="1" Row="1"><WellSample ID="WellSample:2" Index="2">'
           f'<ImageRef ID="Image:2"/></WellSample></Well></Plate>{images}</OME>')
    (root / "OME/METADATA.ome.xml").write_text(xml)
    return root, datas


def test_plate_container_to_one_ome_tiff(ome, tmp_path):
    """Every field of an HCS container in one OME-TIFF, the Plate kept in its OME-XML (as
    raw2ometiff does); tifffile reads the fields, Bio-Formats validates the XML and sees the
    plate; a flat container is refused."""
    root, datas = _hcs_container(ome, tmp_path)
    out = tmp_path / "hcs.ome.tif"
    ome.convert(root, out, "--tile", TILE, "--quiet")
    with tifffile.TiffFile(out) as tif:
        assert [s.name for s in tif.series] == ["field 0", "field 1", "field 2"]
        for k, (s, want) in enumerate(zip(tif.series, datas)):
            np.testing.assert_array_equal(_tczyx(s.asarray(), s.axes.lower()), _tczyx(want, "cyx"),
                                          err_msg=f"field {k}")
        xml = tif.pages[0].description
    refs = [r.get("ID") for r in ET.fromstring(xml).iterfind(".//ome:WellSample/ome:ImageRef", NS)]
    assert refs == ["Image:0", "Image:1", "Image:2"]
    _validate(out)
    _xml_validate(tmp_path, {"hcs": xml})
    text = _bf_run("ImageInfo", "-nopix", "-noflat", out)
    assert "Exception" not in text, text[-3000:]
    assert re.search(r"Series count = 3\b", text), text[-3000:]
    p = ome.run("convert", root, tmp_path / "flat.ome.zarr", "--quiet", check=False)
    assert p.returncode != 0 and "plate" in p.stderr, p.stderr


# --- failure leaves nothing behind ----------------------------------------------------------

def _convert_fails_cleanly(ome, zarr, tmp_path, names: str) -> None:
    """`ome convert zarr out.ome.tif` exits non-zero, names `names` on stderr, and leaves
    neither out.ome.tif nor a staging file behind."""
    before = set(tmp_path.iterdir())
    out = tmp_path / "out.ome.tif"
    p = ome.run("convert", zarr, out, "--tile", TILE, "--quiet", check=False)
    assert p.returncode != 0, f"exit 0\nstdout:{p.stdout}\nstderr:{p.stderr}"
    assert names in p.stderr, p.stderr
    assert not out.exists()
    assert set(tmp_path.iterdir()) == before, sorted(x.name for x in set(tmp_path.iterdir()) - before)


@pytest.mark.parametrize("damage", ["series-missing", "chunk-corrupt"])
def test_broken_container_fails_cleanly(ome, tmp_path, damage):
    src = tmp_path / "three.ome.tif"
    _write_three(src)
    zarr = tmp_path / "mid.ome.zarr"
    ome.convert(src, zarr, "--quiet")
    if damage == "series-missing":
        shutil.rmtree(zarr / "1")
        _convert_fails_cleanly(ome, zarr, tmp_path, str(zarr / "1"))
    else:  # the last series fails to decode once the first two are written
        chunk = sorted(f for f in (zarr / "2" / "0").rglob("*") if f.is_file() and f.name != "zarr.json")[-1]
        chunk.write_bytes(b"garbage")
        _convert_fails_cleanly(ome, zarr, tmp_path, str(zarr / "2"))
