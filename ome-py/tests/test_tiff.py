"""OME-TIFF: ours read by tifffile, tifffile's read by us, conversion to OME-Zarr."""

import numpy as np
import pytest

import ome_py

tifffile = pytest.importorskip("tifffile")


def test_tifffile_reads_our_ome_tiff(tmp_path, czyx):
    out = tmp_path / "ours.ome.tif"
    summary = ome_py.write_ome_tiff(out, czyx, axes="czyx", tile=(128, 128), compression="zstd",
                                    subifds=1, channel_names=["a", "b"])
    assert len(summary["level_shapes"]) == 2
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        np.testing.assert_array_equal(tif.series[0].asarray(), czyx)
        assert len(tif.series[0].levels) == 2
    image = ome_py.open(out)
    assert image.format == "ome-tiff"
    assert "<OME" in image.ome_xml
    # The OME model is 5-D: a TIFF image always has the axes t, c, z, y, x.
    assert image.axes == ["t", "c", "z", "y", "x"]
    np.testing.assert_array_equal(image.read(t=0), czyx)


def test_subresolutions_is_subifds(tmp_path, czyx):
    out = tmp_path / "sub.ome.tif"
    summary = ome_py.write_ome_tiff(out, czyx, axes="czyx", tile=(64, 64), subresolutions=2)
    assert len(summary["level_shapes"]) == 3
    with pytest.raises(ome_py.UsageError):
        ome_py.write_ome_tiff(tmp_path / "x.ome.tif", czyx, axes="czyx", subifds=1, subresolutions=2)


def test_we_read_tifffile_ome_tiff_and_convert(tmp_path, czyx):
    src = tmp_path / "theirs.ome.tif"
    tifffile.imwrite(src, czyx, ome=True, tile=(128, 128), compression="zlib",
                     metadata={"axes": "CZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
    image = ome_py.open(src)
    assert image.format == "ome-tiff"
    np.testing.assert_array_equal(image.read(t=0, c=1, z=slice(1, 3)), czyx[1, 1:3])
    dst = tmp_path / "converted.ome.zarr"
    ome_py.convert(src, dst, levels=2)
    converted = ome_py.open(dst)
    assert converted.format == "ome-zarr"
    np.testing.assert_array_equal(converted.read(), image.read())
    assert ome_py.validate(dst).verdict != "invalid"
