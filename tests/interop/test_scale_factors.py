"""`scale_factors` means to ome_py what it means to ome-zarr-py `write_image` and ngff-zarr
`to_multiscales`: one entry per level from 1 on, each relative to level 0 (ints on y and x,
or dicts per axis). The same input written by a peer and by `ome_py.write_ome_zarr` gets the
same level shapes and the same scale (and, for a mean, translation) transformations.

Where the peers disagree the test says which one it follows: ome-zarr-py's ints leave z
alone (ngff-zarr's would shrink it), and ome-zarr-py's scale is `level-0 size / level size`,
which equals ngff-zarr's (and ours) `level-0 scale x factor` only when the factor divides
the size; the scales are compared against ome-zarr-py on divisible shapes and against
ngff-zarr on any shape.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr

from interop_util import group_attrs

ome_py = pytest.importorskip("ome_py")


def _levels(path: Path) -> list[tuple[tuple[int, ...], list[float], list[float]]]:
    """(shape, scale, translation) per level, a missing translation read as zeros."""
    ms = group_attrs(path)["multiscales"][0]
    out = []
    for ds in ms["datasets"]:
        shape = tuple(zarr.open_array(str(path / ds["path"]), mode="r").shape)
        tf = {t["type"]: t for t in ds["coordinateTransformations"]}
        scale = [float(v) for v in tf["scale"]["scale"]]
        translation = [float(v) for v in tf.get("translation", {"translation": [0.0] * len(shape)})["translation"]]
        out.append((shape, scale, translation))
    return out


def _ome_zarr_py(path: Path, data: np.ndarray, axes: str, scale_factors, version: str) -> None:
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV04() if version == "0.4" else FormatV05()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Dimension too small to downsample further"
        write_image(data, str(path), fmt=fmt, axes=axes, scale_factors=scale_factors, method="nearest")


# (id, shape, axes, scale_factors): shapes divisible by every factor, so ome-zarr-py's
# size-ratio scale is the factor.
DIVISIBLE = [
    ("ints-tczyx", (1, 2, 6, 96, 80), "tczyx", [2, 4, 8]),
    ("ints-zyx", (5, 64, 48), "zyx", [2, 4, 8]),
    ("ints-yx", (64, 48), "yx", [2, 4]),
    ("dicts-zyx", (8, 64, 48), "zyx", [{"z": 1, "y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}]),
    ("dicts-czyx-missing-axes", (2, 8, 64, 48), "czyx", [{"y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}]),
    ("dicts-anisotropic", (4, 64, 48), "zyx", [{"y": 2}, {"y": 4, "x": 2}, {"z": 2, "y": 8, "x": 4}]),
]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("case", DIVISIBLE, ids=[c[0] for c in DIVISIBLE])
def test_same_levels_as_ome_zarr_py(tmp_path, case, version):
    _, shape, axes, factors = case
    data = np.random.default_rng(3).integers(0, 200, shape, dtype=np.uint8)
    theirs, ours = tmp_path / "theirs.zarr", tmp_path / "ours.zarr"
    _ome_zarr_py(theirs, data, axes, factors, version)
    summary = ome_py.write_ome_zarr(ours, data, axes=axes, scale_factors=factors, version=version)
    t, o = _levels(theirs), _levels(ours)
    assert [lv[0] for lv in o] == [lv[0] for lv in t]
    assert summary["level_shapes"] == [list(lv[0]) for lv in t]
    assert [lv[1] for lv in o] == [lv[1] for lv in t], "scale"
    # ome-zarr-py places every level at the centre of its block, as a mean does.
    assert [lv[2] for lv in o] == [lv[2] for lv in t], "translation"


# Sides that factors do not divide: the trailing partial block is dropped (floor), and
# sides smaller than their factor are 1.
FLOORED = [
    ("ints-odd", (3, 101, 75), "zyx", [2, 4, 8]),
    ("ints-tiny", (1, 5, 3), "zyx", [2, 4, 8]),
    ("dicts-odd", (7, 51, 33), "zyx", [{"z": 2, "y": 2, "x": 2}, {"z": 4, "y": 4, "x": 4}]),
]


@pytest.mark.parametrize("case", FLOORED, ids=[c[0] for c in FLOORED])
def test_same_shapes_as_ome_zarr_py_when_factors_do_not_divide(tmp_path, case):
    _, shape, axes, factors = case
    data = np.random.default_rng(4).integers(0, 200, shape, dtype=np.uint8)
    theirs, ours = tmp_path / "theirs.zarr", tmp_path / "ours.zarr"
    _ome_zarr_py(theirs, data, axes, factors, "0.5")
    ome_py.write_ome_zarr(ours, data, axes=axes, scale_factors=factors)
    assert [lv[0] for lv in _levels(ours)] == [lv[0] for lv in _levels(theirs)]


# ngff-zarr: ints shrink every spatial axis, so they are compared on y/x images; dicts name
# every spatial axis (ngff-zarr 0.50's `to_ngff_zarr` raises KeyError for a dict without
# one; ome-zarr-py above covers missing axes). The last case is not nested (3 is no
# multiple of 2): level 2 comes from level 0 in both tools.
NGFF_ZARR = [
    ("ints-yx-odd", (101, 75), "yx", [2, 4, 8]),
    ("dicts-zyx-odd", (7, 51, 33), "zyx", [{"z": 1, "y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}]),
    ("dicts-not-nested", (6, 50, 41), "zyx", [{"z": 1, "y": 2, "x": 2}, {"z": 1, "y": 3, "x": 3}]),
]


@pytest.mark.parametrize("case", NGFF_ZARR, ids=[c[0] for c in NGFF_ZARR])
def test_same_levels_and_data_as_ngff_zarr(tmp_path, case):
    import ngff_zarr as nz

    _, shape, axes, factors = case
    data = np.random.default_rng(5).random(shape)  # float64: the means agree to rounding
    img = nz.to_ngff_image(data, dims=list(axes))
    ms = nz.to_multiscales(img, scale_factors=factors, method=nz.Methods.DASK_BIN_SHRINK)
    theirs = tmp_path / "theirs.zarr"
    # "exact": the levels to_multiscales planned (floor(size / factor)). The default "pad"
    # re-derives a not-nested level from the one above (50 -> 25 -> 12 for a factor of 3)
    # while its metadata still says 3x: its docstring says the store then misdescribes its
    # own geometry.
    nz.to_ngff_zarr(str(theirs), ms, version="0.5", scale_strategy="exact")
    ours = tmp_path / "ours.zarr"
    ome_py.write_ome_zarr(ours, data, axes=axes, scale_factors=factors, method="mean")
    t, o = _levels(theirs), _levels(ours)
    assert [lv[0] for lv in o] == [lv[0] for lv in t]
    assert [lv[1] for lv in o] == [lv[1] for lv in t], "scale"
    np.testing.assert_allclose([lv[2] for lv in o], [lv[2] for lv in t], rtol=0, atol=1e-12)
    image = ome_py.open(ours)
    their_paths = [d["path"] for d in group_attrs(theirs)["multiscales"][0]["datasets"]]
    for k, p in enumerate(their_paths):
        want = zarr.open_array(str(theirs / p), mode="r")[...]
        np.testing.assert_allclose(image.read(k), want, rtol=1e-12, err_msg=f"level {k}")
