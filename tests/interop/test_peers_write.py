"""Peers write, we read.

Each writer (zarr-python 3 with hand-written OME metadata for v2 and v3, ome-zarr-py
`write_image` 0.4 / 0.5, ngff-zarr 0.4 / 0.5 / sharded) writes a small pyramid whose
shape is not a multiple of the chunks; `ome convert written.zarr out.npy --level K` must
equal what zarr-python reads for every level, and `ome info --json` must describe the
levels, dtype and axes. Also labels (ome-zarr-py `write_labels`) and a plate.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from interop_util import assert_same, level_paths, read_level, sample_array

SHAPE = (1, 2, 4, 100, 90)
CHUNKS = (1, 1, 2, 32, 32)
AXES = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}]


def pyramid(a, levels=3):
    out = [a]
    for _ in range(levels - 1):
        out.append(out[-1][..., ::2, ::2])
    return out


def multiscales(version, shapes):
    datasets = [{"path": f"s{k}", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0, 1.0, 2.0 ** k, 2.0 ** k]}]} for k in range(len(shapes))]
    ms = {"axes": AXES, "datasets": datasets, "name": "peer"}
    if version == "0.4":
        return {"multiscales": [dict(ms, version="0.4")]}
    return {"ome": {"version": "0.5", "multiscales": [ms]}}


# ----------------------------------------------------------------------------- writers


def v2_compressor(codec):
    import numcodecs

    return {
        "blosc-lz4-shuffle": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
        "blosc-zstd-bitshuffle": numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE),
        "blosc-zstd-noshuffle": numcodecs.Blosc("zstd", 1, numcodecs.Blosc.NOSHUFFLE),
        "zstd": numcodecs.Zstd(level=3),
        "gzip": numcodecs.GZip(level=5),
        "none": None,
    }[codec]


def v3_compressors(codec, typesize):
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    return {
        "blosc-lz4-shuffle": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=typesize)],
        "blosc-zstd-bitshuffle": [BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle", typesize=typesize)],
        "blosc-zstd-noshuffle": [BloscCodec(cname="zstd", clevel=1, shuffle="noshuffle", typesize=typesize)],
        "zstd": [ZstdCodec(level=3)],
        "gzip": [GzipCodec(level=5)],
        "none": None,
    }[codec]


def write_zarr_v2(path: Path, a, codec, sep):
    import zarr

    g = zarr.open_group(str(path), mode="w", zarr_format=2)
    levels = pyramid(a)
    for k, lv in enumerate(levels):
        arr = g.create_array(f"s{k}", shape=lv.shape, dtype=lv.dtype, chunks=CHUNKS,
                             compressors=v2_compressor(codec), fill_value=0,
                             chunk_key_encoding={"name": "v2", "separator": sep})
        arr[...] = lv
    g.attrs.update(multiscales("0.4", [lv.shape for lv in levels]))
    meta = json.loads((path / "s0" / ".zarray").read_text())
    assert meta.get("dimension_separator", ".") == sep


def write_zarr_v3(path: Path, a, codec, sharded=False, endian="little"):
    import zarr
    from zarr.codecs import BytesCodec

    g = zarr.open_group(str(path), mode="w", zarr_format=3)
    levels = pyramid(a)
    for k, lv in enumerate(levels):
        kw = {}
        if sharded:
            kw["shards"] = (1, 1, 4, 64, 64)
        arr = g.create_array(f"s{k}", shape=lv.shape, dtype=lv.dtype, chunks=CHUNKS,
                             compressors=v3_compressors(codec, lv.dtype.itemsize),
                             serializer=BytesCodec(endian=endian), fill_value=0,
                             dimension_names=list("tczyx"), **kw)
        arr[...] = lv
    g.attrs.update(multiscales("0.5", [lv.shape for lv in levels]))


def write_ome_zarr_py(path: Path, a, version, sharded=False):
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image

    fmt = FormatV04() if version == "0.4" else FormatV05()
    opts = {"chunks": CHUNKS}
    if sharded:
        opts["shards"] = (1, 1, 4, 64, 64)
    write_image(a, str(path), fmt=fmt, axes="tczyx", scale_factors=[2, 4], storage_options=opts)


def write_ngff_zarr(path: Path, a, version, sharded=False):
    import ngff_zarr as nz

    img = nz.to_ngff_image(a, dims=list("tczyx"))
    ms = nz.to_multiscales(img, scale_factors=[{"z": 1, "y": 2, "x": 2}, {"z": 1, "y": 4, "x": 4}],
                           method=nz.Methods.DASK_BIN_SHRINK, chunks=dict(zip("tczyx", CHUNKS)))
    kw = {"chunks_per_shard": {"t": 1, "c": 1, "z": 2, "y": 2, "x": 2}} if sharded else {}
    nz.to_ngff_zarr(str(path), ms, version=version, **kw)


# (id, writer, dtype)
CASES = []
for dt, codec, sep in [("uint16", "blosc-lz4-shuffle", "/"), ("uint8", "blosc-zstd-bitshuffle", "."),
                       ("int32", "zstd", "/"), ("float32", "gzip", "."), ("uint16", "none", "."),
                       ("float32", "blosc-zstd-noshuffle", "/"), ("int32", "blosc-lz4-shuffle", ".")]:
    CASES.append((f"zarr-v2-{codec}-sep{'dot' if sep == '.' else 'slash'}-{dt}",
                  lambda p, a, c=codec, s=sep: write_zarr_v2(p, a, c, s), dt))
for dt, codec, sharded in [("uint16", "blosc-zstd-bitshuffle", False), ("uint8", "blosc-lz4-shuffle", False),
                           ("int32", "gzip", False), ("float32", "zstd", False), ("uint16", "none", False),
                           ("uint16", "blosc-lz4-shuffle", True), ("float32", "zstd", True),
                           ("int32", "blosc-zstd-noshuffle", True)]:
    CASES.append((f"zarr-v3-{codec}{'-sharded' if sharded else ''}-{dt}",
                  lambda p, a, c=codec, s=sharded: write_zarr_v3(p, a, c, s), dt))
CASES.append(("zarr-v3-bigendian-uint16", lambda p, a: write_zarr_v3(p, a, "zstd", endian="big"), "uint16"))
for version, sharded in [("0.4", False), ("0.5", False), ("0.5", True)]:
    for dt in ("uint16", "float32") if not sharded else ("uint8",):
        CASES.append((f"ome-zarr-py-{version}{'-sharded' if sharded else ''}-{dt}",
                      lambda p, a, v=version, s=sharded: write_ome_zarr_py(p, a, v, s), dt))
        CASES.append((f"ngff-zarr-{version}{'-sharded' if sharded else ''}-{dt}",
                      lambda p, a, v=version, s=sharded: write_ngff_zarr(p, a, v, s), dt))


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def written(request, tmp_path):
    name, writer, dtype = request.param
    a = sample_array(SHAPE, dtype, seed=len(name))
    path = tmp_path / "peer.ome.zarr"
    try:
        writer(path, a)
    except (NotImplementedError, TypeError, ValueError) as e:
        pytest.skip(f"{name}: the installed peer cannot write this: {type(e).__name__}: {e}")
    return path, a


def test_every_level_equal(ome, written, tmp_path):
    path, a = written
    paths = level_paths(path)
    assert len(paths) >= 2
    assert_same(read_level(path, paths[0]), a, "peer's own read-back of level 0")  # writer sanity
    for k, p in enumerate(paths):
        peer = read_level(path, p)
        got = ome.to_npy(path, tmp_path / f"level{k}.npy", level=k)
        assert_same(got, peer, f"ome convert --level {k} vs zarr-python ({p})")


def test_info(ome, written):
    path, a = written
    info = ome.info(path)
    paths = level_paths(path)
    assert info["format"] == "ome-zarr"
    assert info["kind"] == "image"
    assert info["zarr_format"] == (3 if (path / "zarr.json").exists() else 2)
    assert info["version"] == ("0.5" if info["zarr_format"] == 3 else "0.4")
    assert [ax["name"] for ax in info["axes"]] == list("tczyx")
    assert [ax.get("type") for ax in info["axes"]] == ["time", "channel", "space", "space", "space"]
    assert len(info["levels"]) == len(paths)
    for lv, p in zip(info["levels"], paths):
        peer = read_level(path, p)
        assert lv["path"] == p
        assert tuple(lv["shape"]) == peer.shape, p
        assert np.dtype(lv["dtype"]) == a.dtype, p


def test_select(ome, written, tmp_path):
    path, a = written
    got = ome.to_npy(path, tmp_path / "sel.npy", level=0, select="t=0,c=1,z=1:3")
    want = a[0, 1, 1:3]
    # integer selections may keep the axis with length 1 or drop it
    assert got.size == want.size, f"--select t=0,c=1,z=1:3 gave shape {got.shape}, want {want.shape} (or with 1s)"
    assert_same(got.reshape(want.shape), want, "--select t=0,c=1,z=1:3")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_labels_from_ome_zarr_py(ome, tmp_path, version):
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_labels

    fmt = FormatV04() if version == "0.4" else FormatV05()
    img = tmp_path / "img.ome.zarr"
    a = sample_array((2, 3, 70, 50), "uint16")
    write_image(a, str(img), fmt=fmt, axes="czyx", scale_factors=[2], storage_options={"chunks": (1, 2, 32, 32)})
    lab = np.zeros((3, 70, 50), dtype=np.uint32)
    lab[:, 5:30, 5:20] = 1
    lab[:, 40:66, 10:45] = 7
    lab[1, 50:60, 30:49] = 123456
    write_labels(lab, zarr.open_group(str(img), mode="a"), name="cells", fmt=fmt, axes="zyx", scale_factors=[2], scaler=None)
    cells = img / "labels" / "cells"
    for k, p in enumerate(level_paths(cells)):
        got = ome.to_npy(cells, tmp_path / f"lab{k}.npy", level=k)
        assert_same(got, read_level(cells, p), f"labels level {k} ({version})")
    info = ome.info(img)
    assert info["labels"] == ["cells"]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_plate_from_ome_zarr_py(ome, tmp_path, version):
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

    fmt = FormatV04() if version == "0.4" else FormatV05()
    path = tmp_path / "plate.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    wells = ["A/1", "A/3", "B/2"]
    write_plate_metadata(root, ["A", "B"], ["1", "2", "3"], wells, fmt=fmt, field_count=2)
    fields = {}
    for wi, w in enumerate(wells):
        r, c = w.split("/")
        wg = root.require_group(r).require_group(c)
        write_well_metadata(wg, ["0", "1"], fmt=fmt)
        for f in ("0", "1"):
            a = sample_array((2, 40, 30), "uint16", seed=wi * 10 + int(f))
            write_image(a, wg.require_group(f), fmt=fmt, axes="cyx", scale_factors=[2],
                        storage_options={"chunks": (1, 16, 16)})
            fields[(w, f)] = a
    info = ome.info(path)
    assert info["kind"] == "plate"
    assert sorted(info["wells"]) == sorted(wells)
    for (w, f), a in fields.items():
        got = ome.to_npy(path / w / f, tmp_path / "field.npy", level=0)
        assert_same(got, a, f"plate field {w}/{f}")


def test_peer_output_validates(request, written):
    """Valid data written by zarr-python, ome-zarr-py and ngff-zarr gets no error from
    `ome-validate --depth data`. The `.`-separated v2 stores are read above but are not
    valid 0.4 (§on-disk: "/" is required): for them the validator must give exactly that
    error, NGFF-ARR-006, and nothing else."""
    from test_validate_tiff import _validate, _validate_data

    path, _ = written
    if "sepdot" in request.node.callspec.id:
        code, report = _validate_data(path)
        errors = {f["code"] for t in report["targets"] for f in t["findings"] if f["severity"] == "error"}
        assert code == 1 and errors == {"NGFF-ARR-006"}, json.dumps(report, indent=1)[:4000]
        return
    _validate(path)
