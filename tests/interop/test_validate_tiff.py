"""OME-TIFF written by the peers validates: tifffile (`ome=True`, SubIFD pyramids) and
Bio-Formats ImageConverter (bfconvert) files get no error from `ome-validate`.

`OME_VALIDATE_BIN` selects the binary (default: the newer of target/release/ome-validate
and target/debug/ome-validate, so a stale release build does not shadow a fresh debug
one); the tests are skipped, with the reason, when it is missing.
Bio-Formats tests need java and the jar (see test_tiff.py) and are skipped without them.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from test_tiff import PEER_CASES, _bf_run, _pattern

tifffile = pytest.importorskip("tifffile")

REPO = Path(__file__).resolve().parents[2]


def _validator() -> Path:
    env = os.environ.get("OME_VALIDATE_BIN")
    cands = [Path(env)] if env else [REPO / "target/release/ome-validate", REPO / "target/debug/ome-validate"]
    found = [c for c in cands if c.is_file() and os.access(c, os.X_OK)]
    if found:
        return max(found, key=lambda c: c.stat().st_mtime)
    pytest.skip("ome-validate binary not found (set OME_VALIDATE_BIN or `cargo build -p ome-validate`)")


def _validate_data(path: Path) -> tuple[int, dict]:
    """`ome-validate --depth data --format json PATH`: its exit code and its report."""
    p = subprocess.run(
        [str(_validator()), "--depth", "data", "--format", "json", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert p.returncode in (0, 1), f"exit {p.returncode}: {p.stderr}"
    return p.returncode, json.loads(p.stdout)


def _validate(path: Path) -> dict:
    """The report of a target that must be valid (no error)."""
    returncode, report = _validate_data(path)
    errors = [f for t in report["targets"] for f in t["findings"] if f["severity"] == "error"]
    assert not errors, json.dumps(errors, indent=1)
    assert returncode == 0
    return report


@pytest.mark.parametrize("case", PEER_CASES, ids=[c[0] for c in PEER_CASES])
def test_tifffile_ome_validates(tmp_path, case):
    _, dtype, axes, shape, kw = case
    path = tmp_path / "peer.ome.tif"
    tifffile.imwrite(path, _pattern(shape, dtype), ome=True, metadata={"axes": axes},
                     photometric="minisblack", **kw)
    report = _validate(path)
    assert report["targets"][0]["kind"] == "ome-tiff"


def test_tifffile_subifd_pyramid_validates_strictly(tmp_path):
    data = _pattern((2, 256, 192), "uint16")
    path = tmp_path / "pyr.ome.tif"
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        opts = {"tile": (64, 64), "compression": "zlib", "photometric": "minisblack"}
        tif.write(data, subifds=2, metadata={"axes": "CYX"}, **opts)
        tif.write(data[:, ::2, ::2], subfiletype=1, **opts)
        tif.write(data[:, ::4, ::4], subfiletype=1, **opts)
    report = _validate(path)
    assert report["verdict"] == "valid-strict", report


@pytest.mark.parametrize("fake,extra", [
    ("img&sizeZ=3&sizeC=2&sizeT=2&sizeX=64&sizeY=48&pixelType=uint16.fake", []),
    ("img&sizeC=3&sizeX=80&sizeY=60&pixelType=uint8.fake", ["-compression", "LZW"]),
    ("img&sizeZ=2&sizeX=96&sizeY=64&pixelType=float.fake", ["-bigtiff", "-tilex", "32", "-tiley", "32"]),
], ids=["zct-u16", "c-u8-lzw", "bigtiff-tiles-f32"])
def test_bioformats_imageconverter_validates(tmp_path, fake, extra):
    src = tmp_path / fake
    src.touch()
    out = tmp_path / "bf.ome.tif"
    text = _bf_run("ImageConverter", *extra, src, out)
    if not out.is_file():
        pytest.fail(f"bfconvert wrote nothing: {text[-2000:]}")
    _validate(out)


def _report(path: Path) -> dict:
    p = subprocess.run([str(_validator()), "--format", "json", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def _codes(report: dict) -> dict[str, str]:
    return {f["code"]: f["severity"] for t in report["targets"] for f in t["findings"]}


def test_pyramid_rules_on_tifffile_pyramids(tmp_path):
    data = _pattern((1, 128, 128), "uint8")
    # Strips and no NewSubfileType: two SHOULDs broken, warnings only.
    loose = tmp_path / "loose.ome.tif"
    with tifffile.TiffWriter(loose) as tif:
        tif.write(data, subifds=1, metadata={"axes": "CYX"}, photometric="minisblack")
        tif.write(data[:, ::2, ::2], photometric="minisblack")
    codes = _codes(_report(loose))
    assert codes.get("OMETIFF-PYR-002") == "warning", codes
    assert codes.get("OMETIFF-PYR-006") == "warning", codes
    assert "error" not in codes.values(), codes
    # Levels smallest first: a MUST broken.
    upside = tmp_path / "upside.ome.tif"
    with tifffile.TiffWriter(upside) as tif:
        opts = {"tile": (16, 16), "photometric": "minisblack"}
        tif.write(data, subifds=2, metadata={"axes": "CYX"}, **opts)
        tif.write(data[:, ::4, ::4], subfiletype=1, **opts)
        tif.write(data[:, ::2, ::2], subfiletype=1, **opts)
    codes = _codes(_report(upside))
    assert codes.get("OMETIFF-PYR-001") == "error", codes


def _set_xml(own_uuid: str, uuids: list[str], size_z: int) -> str:
    tds = "".join(
        f'<TiffData FirstC="{c}" IFD="0" PlaneCount="{size_z}">'
        f'<UUID FileName="m{c}.ome.tif">{u}</UUID></TiffData>'
        for c, u in enumerate(uuids)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="{own_uuid}">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
        f'SizeX="8" SizeY="8" SizeZ="{size_z}" SizeC="2" SizeT="1">'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"/><Channel ID="Channel:0:1" SamplesPerPixel="1"/>'
        f'{tds}</Pixels></Image></OME>'
    )


def test_multifile_members_must_agree(tmp_path):
    uuids = ["urn:uuid:00000000-0000-4000-8000-000000000000",
             "urn:uuid:00000000-0000-4000-8000-000000000001"]
    planes = np.zeros((2, 8, 8), "uint8")
    for c, size_z in enumerate([2, 3]):  # the second file claims SizeZ=3
        with tifffile.TiffWriter(tmp_path / f"m{c}.ome.tif") as tif:
            for k, plane in enumerate(planes):
                desc = _set_xml(uuids[c], uuids, size_z) if k == 0 else None
                tif.write(plane, description=desc, metadata=None, photometric="minisblack")
    report = _report(tmp_path / "m0.ome.tif")
    codes = _codes(report)
    assert codes.get("OMETIFF-SET-005") == "error", codes
