"""`ome convert` keeps the source's pyramid: an OME-Zarr written by ome-zarr-py becomes an
OME-TIFF whose SubIFDs are ome-zarr-py's levels sample for sample (as raw2ometiff copies
them), and that OME-TIFF becomes an OME-Zarr with the same levels again. tifffile reads the
TIFF; zarr-python (through ome-zarr-py's own layout) reads the Zarr.
"""
from __future__ import annotations

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")
zarr = pytest.importorskip("zarr")


def _ome_zarr_py_pyramid(path, a):
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_image

    # ome-zarr-py's default scaler, which no writer of ours reproduces sample for sample:
    # a converter that made new levels instead of copying these would fail below.
    write_image(a, str(path), fmt=FormatV05(), axes="cyx", scale_factors=[2, 4],
                storage_options={"chunks": (1, 64, 64)})
    g = zarr.open_group(str(path), mode="r")
    paths = [d["path"] for d in g.attrs["ome"]["multiscales"][0]["datasets"]]
    return [g[p][...] for p in paths]


@pytest.mark.parametrize("flags", [[], ["--ngff-version", "0.4"]])
def test_levels_survive_zarr_to_tiff_and_back(ome, tmp_path, flags):
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4000, size=(2, 300, 260), dtype=np.uint16)
    src = tmp_path / "src.ome.zarr"
    levels = _ome_zarr_py_pyramid(src, a)
    assert [lv.shape for lv in levels] == [(2, 300, 260), (2, 150, 130), (2, 75, 65)]

    tif = tmp_path / "out.ome.tif"
    ome.convert(src, tif, "--tile", "64", "--quiet")
    with tifffile.TiffFile(tif) as t:
        series = t.series[0]
        assert len(series.levels) == 3
        for k, lv in enumerate(levels):
            got = series.levels[k].asarray()
            np.testing.assert_array_equal(got.reshape(lv.shape), lv, err_msg=f"level {k}")

    back = tmp_path / "back.ome.zarr"
    ome.convert(tif, back, *flags, "--quiet")
    image = back / "0"  # one OME-TIFF with OME-XML becomes a bioformats2raw container
    for k, lv in enumerate(levels):
        got = ome.to_npy(image, tmp_path / f"l{k}.npy", level=k)
        np.testing.assert_array_equal(got.reshape(lv.shape), lv, err_msg=f"level {k}")


def test_new_levels_only_when_asked(ome, tmp_path):
    rng = np.random.default_rng(8)
    a = rng.integers(0, 4000, size=(1, 256, 256), dtype=np.uint16)
    src = tmp_path / "src.ome.zarr"
    levels = _ome_zarr_py_pyramid(src, a)
    tif = tmp_path / "new.ome.tif"
    ome.convert(src, tif, "--levels", "2", "--tile", "64", "--quiet")
    with tifffile.TiffFile(tif) as t:
        assert len(t.series[0].levels) == 2
        mean = t.series[0].levels[1].asarray().reshape(levels[1].shape)
    # Our level 1 is the 2x2 mean, not ome-zarr-py's level 1.
    want = a.reshape(1, 128, 2, 128, 2).mean(axis=(2, 4))
    assert np.abs(mean.astype(float) - want).max() <= 0.5
    assert not np.array_equal(mean, levels[1])
