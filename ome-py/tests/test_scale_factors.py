"""`scale_factors` (per level, relative to level 0, as ome-zarr-py and ngff-zarr) and
`downscale` (between consecutive levels)."""

import pickle

import numpy as np
import pytest

import ome_py


def _shapes(path):
    return [lv.shape for lv in ome_py.open(path).levels]


def _block_mean(a, factors):
    """The mean of every whole block of `factors` (the trailing partial blocks dropped)."""
    a = a[tuple(slice(0, (n // f) * f) for n, f in zip(a.shape, factors))]
    shape = []
    for n, f in zip(a.shape, factors):
        shape += [n // f, f]
    return a.reshape(shape).mean(axis=tuple(range(1, 2 * a.ndim, 2)))


def test_ints_are_per_level_factors_on_y_and_x(tmp_path, czyx):
    out = tmp_path / "a.ome.zarr"
    summary = ome_py.write_ome_zarr(out, czyx, axes="czyx", scale=[1, 2, 0.5, 0.25], scale_factors=[2, 4])
    want = [[2, 5, 300, 260], [2, 5, 150, 130], [2, 5, 75, 65]]
    assert summary["level_shapes"] == want
    levels = ome_py.open(out).levels
    assert [lv.shape for lv in levels] == want
    assert [lv.scale for lv in levels] == [[1, 2, 0.5, 0.25], [1, 2, 1.0, 0.5], [1, 2, 2.0, 1.0]]
    # A mean places each pixel at the centre of its block: (F - 1) / 2 base pixels in.
    assert levels[0].translation is None
    assert levels[2].translation == [0, 0, 1.5 * 0.5, 1.5 * 0.25]


def test_ints_on_a_5d_image(tmp_path):
    """The call of the issue: it used to fail with "expected 5 downsampling factors"."""
    data = np.arange(2 * 3 * 4 * 64 * 48, dtype=np.uint16).reshape(1, 2 * 3, 4, 64, 48)
    out = tmp_path / "t.ome.zarr"
    ome_py.write_ome_zarr(out, data, axes="tczyx", scale_factors=[2, 4])
    assert _shapes(out) == [[1, 6, 4, 64, 48], [1, 6, 4, 32, 24], [1, 6, 4, 16, 12]]


def test_ints_on_a_3d_image_keep_z(tmp_path):
    """[2, 4, 8] on zyx: three levels of 2x, 4x and 8x in y and x (it used to mean z by 2, y
    by 4 and x by 8 between levels)."""
    data = np.random.default_rng(1).random((5, 64, 40)).astype(np.float32)
    out = tmp_path / "z.ome.zarr"
    ome_py.write_ome_zarr(out, data, axes="zyx", scale_factors=[2, 4, 8])
    image = ome_py.open(out)
    assert [lv.shape for lv in image.levels] == [[5, 64, 40], [5, 32, 20], [5, 16, 10], [5, 8, 5]]
    assert [lv.scale for lv in image.levels] == [[1, 1, 1], [1, 2, 2], [1, 4, 4], [1, 8, 8]]
    for k, f in enumerate([1, 2, 4, 8]):
        np.testing.assert_allclose(image.read(k), _block_mean(data, (1, f, f)), rtol=1e-5)


def test_dicts_per_axis_and_missing_axes(tmp_path):
    data = np.random.default_rng(2).random((6, 50, 41))
    out = tmp_path / "d.ome.zarr"
    factors = [{"y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}]
    ome_py.write_ome_zarr(out, data, axes="zyx", scale_factors=factors)
    image = ome_py.open(out)
    # floor(50 / 4) = 12, floor(41 / 2) = 20: whole blocks only, as the peers.
    assert [lv.shape for lv in image.levels] == [[6, 50, 41], [6, 25, 20], [3, 12, 10]]
    assert [lv.scale for lv in image.levels] == [[1, 1, 1], [1, 2, 2], [2, 4, 4]]
    assert image.levels[2].translation == [0.5, 1.5, 1.5]
    np.testing.assert_allclose(image.read(1), _block_mean(data, (1, 2, 2)), rtol=1e-12)
    np.testing.assert_allclose(image.read(2), _block_mean(data, (2, 4, 4)), rtol=1e-12)


def test_factors_that_are_not_multiples_come_from_level_0(tmp_path):
    data = np.random.default_rng(3).random((2, 50, 41))
    out = tmp_path / "n.ome.zarr"
    ome_py.write_ome_zarr(out, data, axes="zyx", scale_factors=[{"y": 2, "x": 2}, {"y": 3, "x": 3}])
    image = ome_py.open(out)
    assert [lv.shape for lv in image.levels] == [[2, 50, 41], [2, 25, 20], [2, 16, 13]]
    np.testing.assert_allclose(image.read(2), _block_mean(data, (1, 3, 3)), rtol=1e-12)
    assert image.levels[2].scale == [1, 3, 3] and image.levels[2].translation == [0, 1, 1]


@pytest.mark.parametrize("method", ["mean", "nearest", "mode", "gaussian"])
def test_region_writer_and_convert_match_the_in_memory_writer(tmp_path, method):
    """Levels read back from the store (RegionWriter, convert) equal the in-memory ones,
    for nested and not nested factors and sides the factors do not divide."""
    data = np.random.default_rng(4).integers(0, 9, (2, 3, 150, 131), dtype=np.uint16)
    factors = [{"y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}, {"z": 3, "y": 6, "x": 6}]
    opts = dict(axes="czyx", scale_factors=factors, method=method, chunks=[1, 1, 32, 32])
    ref = tmp_path / "ref.ome.zarr"
    ome_py.write_ome_zarr(ref, data, **opts)
    w = ome_py.RegionWriter.create(tmp_path / "rw.ome.zarr", data.shape, data.dtype, **opts)
    for c in range(2):
        for z in range(3):
            for y in range(0, 150, 32):
                for x in range(0, 131, 32):
                    w.write_region([c, z, y, x], data[c:c + 1, z:z + 1, y:y + 32, x:x + 32])
    pickle.loads(pickle.dumps(w)).finish()  # the plan, factors included, is read back
    conv = tmp_path / "conv.ome.zarr"
    ome_py.convert(ref, conv, scale_factors=factors, method=method, chunks=[1, 1, 32, 32])
    a = ome_py.open(ref)
    assert [lv.shape for lv in a.levels] == [[2, 3, 150, 131], [2, 3, 75, 65], [2, 1, 37, 32], [2, 1, 25, 21]]
    for other in (ome_py.open(tmp_path / "rw.ome.zarr"), ome_py.open(conv)):
        assert [lv.scale for lv in other.levels] == [lv.scale for lv in a.levels]
        assert [lv.translation for lv in other.levels] == [lv.translation for lv in a.levels]
        for k in range(4):
            np.testing.assert_array_equal(other.read(k), a.read(k), err_msg=f"level {k}")


def test_downscale_keeps_the_factor_between_levels(tmp_path, czyx):
    out = tmp_path / "r.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", downscale=2, levels=3)
    assert _shapes(out) == [[2, 5, 300, 260], [2, 5, 150, 130], [2, 5, 75, 65]]
    out = tmp_path / "r3.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", downscale=[1, 1, 3, 2], levels=3)
    levels = ome_py.open(out).levels
    assert [lv.shape for lv in levels] == [[2, 5, 300, 260], [2, 5, 100, 130], [2, 5, 34, 65]]
    assert levels[2].scale == [1, 1, 9, 4]


def test_scale_factors_usage_errors(tmp_path, czyx):
    def err(**kw):
        with pytest.raises(ome_py.UsageError) as e:
            ome_py.write_ome_zarr(tmp_path / "x.ome.zarr", czyx, axes="czyx", **kw)
        return str(e.value)

    assert "downscale=2" in err(scale_factors=2)
    assert "not one of the axes" in err(scale_factors=[{"q": 2}])
    assert "channel" in err(scale_factors=[{"c": 2}])
    assert "found both" in err(scale_factors=[2], downscale=2)
    assert "level 2" in err(scale_factors=[4, 2])
    assert "3 levels" in err(scale_factors=[2, 4], levels=5)
    err(scale_factors=[{"y": 0}])
    err(scale_factors="24")
    assert not (tmp_path / "x.ome.zarr").exists()
    # levels may repeat the count scale_factors gives.
    ome_py.write_ome_zarr(tmp_path / "ok.ome.zarr", czyx, axes="czyx", scale_factors=[2, 4], levels=3)
    assert len(_shapes(tmp_path / "ok.ome.zarr")) == 3
    # An empty list: level 0 only.
    ome_py.write_ome_zarr(tmp_path / "one.ome.zarr", czyx, axes="czyx", scale_factors=[])
    assert len(_shapes(tmp_path / "one.ome.zarr")) == 1
