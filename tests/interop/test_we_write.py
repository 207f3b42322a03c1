"""We write, peers read.

`np.save` an array, `ome convert in.npy out.zarr ...`, then: zarr-python reads every level
(level 0 equal to the input, level k shape ceil(shape / 2^k) in y and x, values the 2x2
mean of the level above within rounding), ome-zarr-py's Reader, ngff-zarr's
from_ngff_zarr and tensorstore read level 0 equal, ome-zarr-models validates the group,
and the attributes validate against the official JSON schemas of the version.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from interop_util import assert_same, assert_schema_valid, group_attrs, level_paths, raw_group_attrs, read_level, sample_array

SHAPE = (1, 2, 3, 200, 150)

# (id, ngff version, dtype, extra options)
CASES = [
    ("0.4-blosc-zstd-uint16", "0.4", "uint16", ["--compression", "blosc-zstd"]),
    ("0.4-gzip-float32", "0.4", "float32", ["--compression", "gzip"]),
    ("0.4-none-uint8", "0.4", "uint8", ["--compression", "none"]),
    ("0.5-blosc-lz4-uint16", "0.5", "uint16", ["--compression", "blosc-lz4"]),
    ("0.5-zstd3-int32", "0.5", "int32", ["--compression", "zstd:3"]),
    ("0.5-none-float32", "0.5", "float32", ["--compression", "none"]),
    ("0.5-sharded-uint16", "0.5", "uint16", ["--compression", "blosc-zstd", "--chunks", "1,1,1,32,32",
                                             "--shards", "1,1,2,64,64"]),
    ("0.5-sharded-gzip-uint8", "0.5", "uint8", ["--compression", "gzip", "--chunks", "1,1,1,32,32",
                                                "--shards", "1,1,3,64,64"]),
]
DEFAULT_CHUNKS = ["--chunks", "1,1,2,64,64"]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def ours(request, ome, tmp_path):
    name, version, dtype, opts = request.param
    a = sample_array(SHAPE, dtype, seed=7)
    src = tmp_path / "in.npy"
    np.save(src, a)
    out = tmp_path / "ours.ome.zarr"
    if "--chunks" not in opts:
        opts = opts + DEFAULT_CHUNKS
    ome.convert(src, out, "--ngff-version", version, "--levels", "3", *opts)
    return out, a, version, opts


def test_zarr_python_reads_every_level(ours):
    out, a, version, opts = ours
    paths = level_paths(out)
    assert len(paths) == 3, f"--levels 3 wrote {len(paths)} levels"
    assert_same(read_level(out, paths[0]), a, "zarr-python level 0 vs input")
    prev = a
    for k, p in enumerate(paths[1:], start=1):
        lv = read_level(out, p)
        want_shape = a.shape[:-2] + tuple(math.ceil(n / 2 ** k) for n in a.shape[-2:])
        assert lv.shape == want_shape, f"level {k} shape {lv.shape}, want {want_shape}"
        assert lv.dtype == a.dtype
        # interior 2x2 blocks: mean of the level above, within rounding
        h, w = prev.shape[-2] // 2, prev.shape[-1] // 2
        p = prev[..., : 2 * h, : 2 * w].astype(np.float64)
        mean = (p[..., ::2, ::2] + p[..., 1::2, ::2] + p[..., ::2, 1::2] + p[..., 1::2, 1::2]) / 4
        tol = 1.0 if a.dtype.kind in "iu" else 1e-3 * (1 + np.abs(mean))
        diff = np.abs(lv[..., :h, :w].astype(np.float64) - mean)
        assert np.all(diff <= tol), f"level {k} is not the 2x2 mean of level {k - 1}: max diff {diff.max()}"
        prev = lv


def test_array_metadata(ours):
    out, a, version, opts = ours
    import zarr

    arr = zarr.open_array(str(out / level_paths(out)[0]), mode="r")
    assert arr.metadata.zarr_format == (2 if version == "0.4" else 3)
    meta = json.dumps(arr.metadata.to_dict(), default=str)
    comp = opts[opts.index("--compression") + 1].split(":")[0]
    if comp == "none":
        assert "blosc" not in meta and "zstd" not in meta and "gzip" not in meta
    else:
        for word in comp.split("-"):
            assert word in meta, f"{word} not in the array metadata: {meta[:400]}"
    if "--shards" in opts:
        inner = tuple(map(int, opts[opts.index("--chunks") + 1].split(",")))
        shards = tuple(map(int, opts[opts.index("--shards") + 1].split(",")))
        assert tuple(arr.chunks) == tuple(min(c, s) for c, s in zip(inner, a.shape))
        assert tuple(arr.shards) == tuple(min(c, s) for c, s in zip(shards, a.shape))
    else:
        chunks = tuple(map(int, opts[opts.index("--chunks") + 1].split(",")))
        assert tuple(arr.chunks) == tuple(min(c, s) for c, s in zip(chunks, a.shape))
    if version == "0.5":
        assert list(arr.metadata.dimension_names) == list("tczyx")


def test_json_schema(ours, shared_dir):
    out, a, version, _ = ours
    assert_schema_valid(shared_dir, version, raw_group_attrs(out), "image")


def test_ome_zarr_models(ours):
    import zarr

    out, a, version, _ = ours
    g = zarr.open_group(str(out), mode="r")
    if version == "0.4":
        from ome_zarr_models.v04 import Image
    else:
        from ome_zarr_models.v05 import Image
    Image.from_zarr(g)  # raises with the reasons when invalid


def test_ome_zarr_py_reader(ours):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    out, a, version, _ = ours
    nodes = list(Reader(parse_url(str(out)))())
    assert nodes, "ome-zarr-py found no node"
    node = nodes[0]
    assert any(isinstance(s, Multiscales) for s in node.specs), f"no multiscales spec: {node.specs}"
    assert len(node.data) == 3
    assert_same(np.asarray(node.data[0]), a, "ome-zarr-py level 0")


def test_ngff_zarr_reader(ours):
    import ngff_zarr as nz

    out, a, version, _ = ours
    ms = nz.from_ngff_zarr(str(out))
    assert len(ms.images) == 3
    assert list(ms.images[0].dims) == list("tczyx")
    assert_same(np.asarray(ms.images[0].data), a, "ngff-zarr level 0")


def test_tensorstore_reads_level0(ours):
    import tensorstore as ts

    out, a, version, _ = ours
    driver = "zarr" if version == "0.4" else "zarr3"
    store = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": str(out / level_paths(out)[0])}},
                    open=True).result()
    assert_same(store.read().result(), a, f"tensorstore {driver} level 0")


def test_info_on_our_output(ome, ours):
    out, a, version, _ = ours
    info = ome.info(out)
    assert info["version"] == version
    assert len(info["levels"]) == 3
    assert tuple(info["levels"][0]["shape"]) == a.shape
    assert np.dtype(info["levels"][0]["dtype"]) == a.dtype


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_axes_scale_units_channels(ome, tmp_path, shared_dir, version):
    a = sample_array((2, 5, 64, 48), "uint16")
    np.save(tmp_path / "in.npy", a)
    out = tmp_path / "o.ome.zarr"
    ome.convert(tmp_path / "in.npy", out, "--ngff-version", version, "--axes", "czyx", "--levels", "2",
                "--scale", "1,0.5,0.1,0.1", "--units", "z=micrometer,y=micrometer,x=micrometer",
                "--channel-names", "DAPI,GFP")
    attrs = group_attrs(out)
    ms = attrs["multiscales"][0]
    assert [ax["name"] for ax in ms["axes"]] == list("czyx")
    assert [ax.get("unit") for ax in ms["axes"]] == [None, "micrometer", "micrometer", "micrometer"]
    s0 = next(t["scale"] for t in ms["datasets"][0]["coordinateTransformations"] if t["type"] == "scale")
    s1 = next(t["scale"] for t in ms["datasets"][1]["coordinateTransformations"] if t["type"] == "scale")
    assert s0 == pytest.approx([1, 0.5, 0.1, 0.1])
    assert s1 == pytest.approx([1, 0.5, 0.2, 0.2])
    assert [c["label"] for c in attrs["omero"]["channels"]] == ["DAPI", "GFP"]
    assert_schema_valid(shared_dir, version, raw_group_attrs(out), "image")
    info = ome.info(out)
    assert [c["label"] for c in info["channels"]] == ["DAPI", "GFP"]
    assert_same(read_level(out, ms["datasets"][0]["path"]), a, "level 0")
