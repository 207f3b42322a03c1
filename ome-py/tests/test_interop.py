"""ome-zarr-py, zarr-python, tifffile and dask against ome_py."""

import numpy as np
import pytest

import ome_py

zarr = pytest.importorskip("zarr")


def test_zarr_python_reads_ours(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", shards=[1, 5, 256, 256], chunks=[1, 5, 128, 128])
    g = zarr.open_group(str(out), mode="r")
    np.testing.assert_array_equal(g["0"][:], czyx)
    assert g.attrs["ome"]["version"] == "0.5"


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_reads_ours(tmp_path, czyx, version):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", version=version, levels=2)
    nodes = list(Reader(parse_url(str(out)))())
    data = nodes[0].data
    assert len(data) == 2
    np.testing.assert_array_equal(np.asarray(data[0]), czyx)


def test_we_read_ome_zarr_py_output(tmp_path, czyx):
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image

    out = tmp_path / "theirs.ome.zarr"
    store = parse_url(str(out), mode="w").store
    root = zarr.group(store=store)
    write_image(czyx, root, axes="czyx")
    image = ome_py.open(out)
    assert image.axes == ["c", "z", "y", "x"]
    np.testing.assert_array_equal(image.read(), czyx)
    assert len(image.levels) >= 2
    report = ome_py.validate(out)
    assert report.verdict != "invalid", str(report)


def test_we_read_zarr_python_v2_and_tifffile_interop(tmp_path, czyx):
    tifffile = pytest.importorskip("tifffile")
    # tifffile writes what we read, through an OME-Zarr we write from its array.
    tif = tmp_path / "a.ome.tif"
    tifffile.imwrite(tif, czyx, ome=True, metadata={"axes": "CZYX"})
    arr = tifffile.imread(tif)
    out = tmp_path / "from_tiff.ome.zarr"
    ome_py.write_ome_zarr(out, arr, axes="czyx")
    np.testing.assert_array_equal(ome_py.open(out).read(), czyx)


def test_to_dask(tmp_path, czyx):
    da = pytest.importorskip("dask.array")
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", chunks=[1, 1, 128, 128], shards=[1, 5, 256, 256], levels=2)
    image = ome_py.open(out)
    d0 = image.to_dask(0)
    assert d0.chunks[2] == (256, 44) and d0.chunks[1] == (5,)
    np.testing.assert_array_equal(d0.compute(), czyx)
    np.testing.assert_array_equal(d0[1, 2:4, 100:200].compute(), czyx[1, 2:4, 100:200])
    np.testing.assert_array_equal(image.to_dask(1).compute(), image.read(1))


def test_write_dask_threads(tmp_path, czyx):
    da = pytest.importorskip("dask.array")
    src = da.from_array(czyx, chunks=(1, 2, 100, 100))
    out = tmp_path / "d.ome.zarr"
    ome_py.write_dask(out, src, axes="czyx", chunks=[1, 5, 128, 128])
    np.testing.assert_array_equal(ome_py.open(out).read(), czyx)
