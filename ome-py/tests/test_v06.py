"""OME-Zarr 0.6 from Python: `version="0.6"` in the writers and in `convert` gives the
coordinate systems and per-level transformations RFC-5 expects, and reads back."""
from __future__ import annotations

import json

import numpy as np
import pytest

import ome_py


def _ome(path):
    return json.loads((path / "zarr.json").read_text())["attributes"]["ome"]


def test_write_06_and_read_back(tmp_path):
    a = (np.arange(2 * 60 * 40, dtype=np.uint16).reshape(2, 60, 40) * 3) % 1000
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, a, axes="cyx", scale=[1.0, 0.5, 0.5], levels=2, version="0.6")
    ome = _ome(out)
    assert ome["version"] == "0.6"
    ms = ome["multiscales"][0]
    assert [c["name"] for c in ms["coordinateSystems"]] == ["intrinsic"]
    t1 = ms["datasets"][1]["coordinateTransformations"][0]
    assert t1["type"] == "sequence" and t1["input"] == {"path": "1"}
    image = ome_py.open(out)
    assert image.version == "0.6"
    np.testing.assert_array_equal(np.asarray(image.read(level=0)), a)


def test_convert_05_to_06_and_back(tmp_path):
    a = (np.arange(50 * 70, dtype=np.uint8).reshape(50, 70) * 11) % 251
    v05 = tmp_path / "a.ome.zarr"
    ome_py.write_ome_zarr(v05, a, axes="yx", levels=2)
    v06 = tmp_path / "b.ome.zarr"
    ome_py.convert(v05, v06, version="0.6")
    assert _ome(v06)["version"] == "0.6"
    back = tmp_path / "c.ome.zarr"
    ome_py.convert(v06, back, version="0.5")
    for k in range(2):
        np.testing.assert_array_equal(
            np.asarray(ome_py.open(back).read(level=k)), np.asarray(ome_py.open(v05).read(level=k))
        )


def test_unknown_version_is_a_usage_error(tmp_path):
    with pytest.raises(Exception, match="0.6"):
        ome_py.write_ome_zarr(tmp_path / "x.ome.zarr", np.zeros((8, 8), np.uint8), version="0.7")
