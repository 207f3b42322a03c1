"""`ome_py.convert` fills ome_core's conversion request: the source's levels are copied
both ways unless new ones are asked for, and the summary says which happened."""
from __future__ import annotations

import numpy as np

import ome_py


def _nearest_pyramid(path, shape=(2, 150, 130)):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4096, size=shape, dtype=np.uint16)
    # Nearest picks: a converter that made new (mean) levels would not reproduce them.
    ome_py.write_ome_zarr(path, a, axes="cyx", levels=3, method="nearest", chunks=[1, 32, 32])
    return ome_py.open(path)


def _level(image, k, shape):
    return np.asarray(image.read(level=k)).reshape(shape)


def test_levels_are_copied_zarr_to_tiff_and_back(tmp_path):
    src = _nearest_pyramid(tmp_path / "src.ome.zarr")
    shapes = [tuple(lv.shape) for lv in src.levels]
    tif = tmp_path / "out.ome.tif"
    summary = ome_py.convert(tmp_path / "src.ome.zarr", tif, tile=(32, 32))
    assert summary["pyramid"] == "copied", summary["notes"]
    out = ome_py.open(tif)
    assert len(out.levels) == 3
    for k, shape in enumerate(shapes):
        np.testing.assert_array_equal(_level(out, k, shape), _level(src, k, shape))

    back = tmp_path / "back.ome.zarr"
    summary = ome_py.convert(tif, back, series=0)
    assert summary["pyramid"] == "copied"
    assert [list(s) for s in summary["level_shapes"]] == [[1, 2, 1, h, w] for _, h, w in shapes]
    again = ome_py.open(back)
    for k, shape in enumerate(shapes):
        np.testing.assert_array_equal(_level(again, k, shape), _level(src, k, shape))


def test_new_levels_when_asked(tmp_path):
    src = _nearest_pyramid(tmp_path / "src.ome.zarr")
    out = tmp_path / "fresh.ome.tif"
    summary = ome_py.convert(tmp_path / "src.ome.zarr", out, levels=3, tile=(32, 32))
    assert summary["pyramid"] == "generated"
    shape = tuple(src.levels[1].shape)
    assert not np.array_equal(_level(ome_py.open(out), 1, shape), _level(src, 1, shape))


def test_convert_to_npy_reads_one_level(tmp_path):
    src = _nearest_pyramid(tmp_path / "src.ome.zarr")
    out = tmp_path / "level1.npy"
    summary = ome_py.convert(tmp_path / "src.ome.zarr", out, level=1)
    assert summary["pyramid"] is None
    np.testing.assert_array_equal(np.load(out), np.asarray(src.read(level=1)))
