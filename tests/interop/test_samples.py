"""The shared samples (spec-data README sections 3-4): `ome convert ... out.npy` must equal
what zarr-python reads and the documented pixel formulas; `ome info` must describe them.

The `*_reference` tests need no binary: they check that the samples, the formulas and
the schema registry used here agree, so that a failure elsewhere points at our code.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from interop_util import assert_same, assert_schema_valid, group_attrs, level_paths, raw_group_attrs, read_level

SYNTH_IMAGES = [
    ("v0.4", "image_tczyx_labels.ome.zarr"),
    ("v0.5", "image_tczyx_labels.ome.zarr"),
    ("v0.5", "image_tczyx_sharded.ome.zarr"),
]
SYNTH_LABELED = [s for s in SYNTH_IMAGES if "labels" in s[1]]
SYNTH_PLATES = [("v0.4", "plate_1x2.ome.zarr"), ("v0.5", "plate_1x2.ome.zarr")]
OME_ZARR_PY = ["v1", "v2"]


def synth(shared_dir, v, name):
    return shared_dir / "ngff" / "samples" / "synthetic" / "valid" / v / name


def formula_s0(shape) -> np.ndarray:
    t, c, z, y, x = np.indices(shape, dtype=np.int64)
    _, nc, nz, _, _ = shape
    return (((t * nc + c) * nz + z) * 4096 + y * 64 + x).astype(np.uint16)


def formula_level(level: int, shape0) -> np.ndarray:
    s0 = formula_s0(shape0)
    for _ in range(level):
        s0 = s0[..., 1::2, 1::2]  # s1 = s0[..., 2y+1, 2x+1] (nearest)
    return s0


def labels_s0(shape) -> np.ndarray:
    a = np.zeros(shape, dtype=np.uint32)
    a[..., 8:24, 8:24] = 1
    a[..., 32:56, 16:48] = 2
    a[..., 40:48, 50:60] = 3
    return a


def label_paths(img):
    return sorted(group_attrs(img / "labels")["labels"])


# ----------------------------------------------------------------------------- references (no binary)


@pytest.mark.parametrize("v,name", SYNTH_IMAGES)
def test_synthetic_image_reference(shared_dir, v, name):
    img = synth(shared_dir, v, name)
    paths = level_paths(img)
    shape0 = read_level(img, paths[0]).shape
    for k, p in enumerate(paths):
        assert_same(read_level(img, p), formula_level(k, shape0), f"zarr-python {v}/{name}/{p} vs formula")
    assert_schema_valid(shared_dir, v[1:], raw_group_attrs(img))


@pytest.mark.parametrize("v,name", SYNTH_LABELED)
def test_synthetic_labels_reference(shared_dir, v, name):
    lab = synth(shared_dir, v, name) / "labels" / "cells"
    paths = level_paths(lab)
    want = labels_s0(read_level(lab, paths[0]).shape)
    for k, p in enumerate(paths):
        assert_same(read_level(lab, p), want, f"zarr-python labels {p}")
        want = want[..., 1::2, 1::2]
    assert_schema_valid(shared_dir, v[1:], raw_group_attrs(lab), "label")


@pytest.mark.parametrize("v,name", SYNTH_PLATES)
def test_synthetic_plate_reference(shared_dir, v, name):
    plate = synth(shared_dir, v, name)
    attrs = group_attrs(plate)
    assert [w["path"] for w in attrs["plate"]["wells"]] == ["A/1", "A/2"]
    assert_schema_valid(shared_dir, v[1:], raw_group_attrs(plate), "plate")


# ----------------------------------------------------------------------------- ours


@pytest.mark.parametrize("v,name", SYNTH_IMAGES)
def test_synthetic_image_convert(ome, shared_dir, tmp_path, v, name):
    img = synth(shared_dir, v, name)
    paths = level_paths(img)
    shape0 = read_level(img, paths[0]).shape
    for k, p in enumerate(paths):
        got = ome.to_npy(img, tmp_path / f"l{k}.npy", level=k)
        peer = read_level(img, p)
        assert_same(got, peer, f"ome convert --level {k} vs zarr-python ({v}/{name})")
        assert_same(got, formula_level(k, shape0), f"ome convert --level {k} vs formula")


@pytest.mark.parametrize("v,name", SYNTH_IMAGES)
def test_synthetic_image_info(ome, shared_dir, v, name):
    img = synth(shared_dir, v, name)
    info = ome.info(img)
    attrs = group_attrs(img)
    assert info["format"] == "ome-zarr"
    assert info["version"] == v[1:]
    assert info["zarr_format"] == (2 if v == "v0.4" else 3)
    assert info["kind"] == "image"
    assert [a["name"] for a in info["axes"]] == list("tczyx")
    paths = level_paths(img)
    assert [lv["path"] for lv in info["levels"]] == paths
    for lv, p, ds in zip(info["levels"], paths, attrs["multiscales"][0]["datasets"]):
        arr = read_level(img, p)
        assert tuple(lv["shape"]) == arr.shape
        assert np.dtype(lv["dtype"]) == arr.dtype
        scale = next(t["scale"] for t in ds["coordinateTransformations"] if t["type"] == "scale")
        assert lv["scale"] == pytest.approx(scale)
    # the README's values: scale s0 [1,1,2,0.5,0.5], s1 [1,1,2,1,1], translation s1 [0,0,0,0.25,0.25]
    assert info["levels"][0]["scale"] == pytest.approx([1, 1, 2, 0.5, 0.5])
    assert info["levels"][1]["translation"] == pytest.approx([0, 0, 0, 0.25, 0.25])
    if "sharded" in name:
        assert info["levels"][0]["shards"] is not None and list(info["levels"][0]["shards"]) == [1, 1, 4, 64, 64]
        assert list(info["levels"][0]["chunks"]) == [1, 1, 2, 32, 32]
    else:
        assert info["levels"][0]["shards"] is None
        assert list(info["levels"][0]["chunks"]) == [1, 1, 2, 32, 32]
        assert sorted(info["labels"]) == ["cells"]


@pytest.mark.parametrize("v,name", SYNTH_LABELED)
def test_synthetic_labels_convert(ome, shared_dir, tmp_path, v, name):
    lab = synth(shared_dir, v, name) / "labels" / "cells"
    paths = level_paths(lab)
    want = labels_s0(read_level(lab, paths[0]).shape)
    for k, p in enumerate(paths):
        got = ome.to_npy(lab, tmp_path / f"lab{k}.npy", level=k)
        assert_same(got, read_level(lab, p), f"labels level {k} vs zarr-python")
        assert_same(got, want, f"labels level {k} vs formula")
        want = want[..., 1::2, 1::2]
    info = ome.info(lab)
    assert info["kind"] == "labels" or info["kind"] == "image", info["kind"]


@pytest.mark.parametrize("v,name", SYNTH_PLATES)
def test_synthetic_plate(ome, shared_dir, tmp_path, v, name):
    plate = synth(shared_dir, v, name)
    info = ome.info(plate)
    assert info["kind"] == "plate"
    assert info["version"] == v[1:]
    assert sorted(info["wells"]) == ["A/1", "A/2"]
    for i, well in enumerate(["A/1", "A/2"]):
        field = plate / well / "0"
        got = ome.to_npy(field, tmp_path / f"f{i}.npy", level=0)
        peer = read_level(field, level_paths(field)[0])
        assert_same(got, peer, f"{well}/0 vs zarr-python")
        y, x = np.indices(got.shape[-2:])
        assert_same(got, np.broadcast_to((y * 64 + x + i).astype(np.uint16), got.shape), f"{well}/0 vs formula")


@pytest.mark.parametrize("which", OME_ZARR_PY)
def test_ome_zarr_py_legacy(ome, shared_dir, tmp_path, which):
    img = shared_dir / "ngff" / "samples" / "ome-zarr-py" / which
    peer = read_level(img, "0")
    got = ome.to_npy(img, tmp_path / "l0.npy", level=0)
    assert_same(got, peer, f"ome-zarr-py/{which} level 0 vs zarr-python")
    info = ome.info(img)
    assert info["version"] == {"v1": "0.1", "v2": "0.2"}[which]
    assert tuple(info["levels"][0]["shape"]) == peer.shape
    # 0.1/0.2 have no axes: implicitly t, c, z, y, x
    assert [a["name"] for a in info["axes"]] == list("tczyx")


def test_ome_zarr_py_legacy_reference(shared_dir):
    v1 = read_level(shared_dir / "ngff/samples/ome-zarr-py/v1", "0")
    v2 = read_level(shared_dir / "ngff/samples/ome-zarr-py/v2", "0")
    assert_same(v1, v2, "v1 and v2 samples hold the same pixels")
    manifest = json.loads((shared_dir / "ngff/samples/synthetic/valid/manifest.json").read_text())
    assert set(manifest["samples"]) >= {f"{v}/{n}" for v, n in SYNTH_IMAGES + SYNTH_PLATES}
