"""OME-Zarr 0.6 (RFC-5 coordinate systems and transformations) against the peers.

Peer support as pinned (scripts/requirements-test.txt), checked by hand:
- ngff-zarr 0.50.0 reads and writes 0.6 (`version="0.6"`, intrinsic system `intrinsic`).
- ome-zarr-models 1.7 has only a private `_v06` model from before RFC-5: it requires
  `multiscales[].axes` and refuses `sequence` dataset transformations, so it reads no
  0.6rc0 image (not ours, not ngff-zarr's); 1.8 needs Python >= 3.12, the pins are 3.11.
- ome-zarr-py 0.18.0 has no 0.6 format (FormatV05 is its newest).

So: we write 0.6 and ngff-zarr reads it pixel-exact with our scales and translations;
ngff-zarr writes 0.6 and we read every level pixel-exact; 0.5 -> 0.6 -> 0.5 keeps pixels
and scales; a 0.6 image whose transformation is no scale + translation refuses to go
back to 0.5 with an error naming it; our 0.6 metadata passes the 0.6rc0 schemas; the
official 0.6rc0 scene samples open with `ome info`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from interop_util import assert_same, assert_schema_valid, group_attrs, level_paths, read_level, raw_group_attrs


def make_npy(tmp_path: Path) -> tuple[Path, np.ndarray]:
    a = (np.arange(2 * 70 * 50, dtype=np.uint16).reshape(2, 70, 50) * 7) % 4093
    p = tmp_path / "in.npy"
    np.save(p, a)
    return p, a


def write_ours(ome, tmp_path: Path, version: str = "0.6") -> tuple[Path, np.ndarray]:
    src, a = make_npy(tmp_path)
    out = tmp_path / f"ours-{version}.ome.zarr"
    ome.convert(src, out, "--ngff-version", version, "--axes", "cyx", "--scale", "1,0.5,0.25",
                "--levels", "3", "--chunks", "1,32,32", "--name", "ours", "--overwrite")
    return out, a


def test_we_write_a_06_pyramid(ome, tmp_path, shared_dir):
    out, a = write_ours(ome, tmp_path, "0.6rc0")
    ome_attrs = group_attrs(out)
    assert ome_attrs["version"] == "0.6rc0"
    ms = ome_attrs["multiscales"][0]
    assert "axes" not in ms
    assert [c["name"] for c in ms["coordinateSystems"]] == ["intrinsic"]
    for k, ds in enumerate(ms["datasets"]):
        (t,) = ds["coordinateTransformations"]
        assert t["input"] == {"path": ds["path"]} and t["output"] == {"name": "intrinsic"}
        assert t["type"] == ("scale" if k == 0 else "sequence")
    assert_schema_valid(shared_dir, "0.6rc0", raw_group_attrs(out), "image")
    assert_schema_valid(shared_dir, "0.6rc0", raw_group_attrs(out), "strict_image")
    assert_same(read_level(out, level_paths(out)[0]), a, "level 0")
    info = ome.info(out)
    assert info["version"] == "0.6rc0"
    assert info["coordinate_systems"][0]["intrinsic"] is True
    assert [e["output"] for e in info["transformations"]] == ["intrinsic"] * 3


def test_ngff_zarr_reads_our_06(ome, tmp_path):
    import ngff_zarr as nz

    out, a = write_ours(ome, tmp_path, "0.6")
    assert group_attrs(out)["version"] == "0.6"
    ms = nz.from_ngff_zarr(str(out))
    assert len(ms.images) == 3
    assert_same(np.asarray(ms.images[0].data), a, "ngff-zarr level 0")
    assert ms.images[0].scale == {"c": 1.0, "y": 0.5, "x": 0.25}
    for k, img in enumerate(ms.images):
        ours = ome.to_npy(out, tmp_path / f"l{k}.npy", level=k)
        assert_same(np.asarray(img.data), ours, f"ngff-zarr level {k}")
        if k:
            # mean downsampling by 2 on y and x: the half-pixel shift of the spec's note
            assert img.translation["y"] == pytest.approx(0.5 * (2 ** k - 1) / 2)
            assert img.translation["x"] == pytest.approx(0.25 * (2 ** k - 1) / 2)


def write_ngff_zarr_06(path: Path):
    import ngff_zarr as nz

    a = (np.arange(3 * 64 * 48, dtype=np.int16).reshape(3, 64, 48) * 5) % 997
    img = nz.to_ngff_image(a, dims=list("zyx"), scale={"z": 2.0, "y": 0.5, "x": 0.5},
                           translation={"z": 0.0, "y": 10.0, "x": -3.0})
    ms = nz.to_multiscales(img, scale_factors=[{"z": 1, "y": 2, "x": 2}, {"z": 1, "y": 4, "x": 4}],
                           method=nz.Methods.DASK_BIN_SHRINK, chunks=16)
    nz.to_ngff_zarr(str(path), ms, version="0.6")
    return ms


def test_we_read_ngff_zarr_06(ome, tmp_path):
    path = tmp_path / "nz.ome.zarr"
    ms = write_ngff_zarr_06(path)
    info = ome.info(path)
    assert info["version"] == "0.6"
    assert len(info["levels"]) == len(ms.images) == 3
    names = [c["name"] for c in info["coordinate_systems"]]
    assert names and info["coordinate_systems"][0]["intrinsic"]
    for k, (lp, img) in enumerate(zip(level_paths(path), ms.images)):
        got = ome.to_npy(path, tmp_path / f"nz{k}.npy", level=k)
        assert_same(got, read_level(path, lp), f"level {k} vs zarr-python")
        lvl = info["levels"][k]
        assert lvl["scale"] == pytest.approx([img.scale[d] for d in "zyx"])
        want_t = [img.translation[d] for d in "zyx"]
        assert (lvl["translation"] or [0.0] * 3) == pytest.approx(want_t)


def test_05_to_06_and_back_keeps_pixels_and_scales(ome, tmp_path):
    v05, a = write_ours(ome, tmp_path, "0.5")
    v06 = tmp_path / "up.ome.zarr"
    back = tmp_path / "down.ome.zarr"
    ome.convert(v05, v06, "--ngff-version", "0.6")
    ome.convert(v06, back, "--ngff-version", "0.5")
    assert group_attrs(v06)["version"] == "0.6"
    assert group_attrs(back)["version"] == "0.5"
    for k in range(3):
        want = ome.to_npy(v05, tmp_path / f"a{k}.npy", level=k)
        assert_same(ome.to_npy(v06, tmp_path / f"b{k}.npy", level=k), want, f"0.6 level {k}")
        assert_same(ome.to_npy(back, tmp_path / f"c{k}.npy", level=k), want, f"0.5 level {k}")
    first, last = ome.info(v05)["levels"], ome.info(back)["levels"]
    assert [l["scale"] for l in first] == [l["scale"] for l in last]
    assert [l["translation"] for l in first] == [l["translation"] for l in last]


def test_a_rotation_does_not_go_back_to_05(ome, tmp_path):
    out, _ = write_ours(ome, tmp_path, "0.6")
    doc = json.loads((out / "zarr.json").read_text())
    ms = doc["attributes"]["ome"]["multiscales"][0]
    ms["coordinateSystems"].append({"name": "rotated", "axes": ms["coordinateSystems"][0]["axes"]})
    ms["coordinateTransformations"] = [{
        "type": "rotation", "rotation": [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        "input": {"name": "intrinsic"}, "output": {"name": "rotated"}}]
    (out / "zarr.json").write_text(json.dumps(doc))
    assert "rotation" in ome.run("info", out).stdout
    p = ome.run("convert", out, tmp_path / "down.ome.zarr", "--ngff-version", "0.5", check=False)
    assert p.returncode != 0
    assert "rotation" in p.stderr and "scale and translation" in p.stderr, p.stderr
    # 0.6 to 0.6 is fine.
    ome.convert(out, tmp_path / "again.ome.zarr", "--ngff-version", "0.6")


@pytest.mark.parametrize("sample", ["stitched_tiles_2d.zarr", "stitched_tiles_3d.zarr"])
def test_rfc5_scene_samples_open(ome, shared_dir, sample):
    path = shared_dir / "ngff" / "samples" / "rfc5-examples" / "user_stories" / sample
    info = ome.info(path)
    assert info["kind"] == "scene"
    scene = info["scene"]
    assert scene["images"] and all(im["intrinsic_system"] for im in scene["images"])
    assert all(t["input"] != "?" and t["output"] != "?" for t in scene["transformations"])
    assert info["version"].startswith("0.6.dev")  # as written
    text = ome.run("info", path).stdout
    assert "scene:" in text and "transformations:" in text
