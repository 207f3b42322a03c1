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


def test_several_series_in_one_file(tmp_path, czyx):
    out = tmp_path / "series.ome.tif"
    mask = (czyx[0, 0] > czyx[0, 0].mean()).astype(np.uint8)
    summary = ome_py.write_ome_tiff_series(
        out,
        [
            {"data": czyx, "axes": "czyx", "name": "cells", "channel_names": ["a", "b"],
             "scale": [1.0, 2.0, 0.5, 0.5], "units": {"x": "micrometer", "y": "micrometer", "z": "micrometer"}},
            mask,
        ],
        tile=(64, 64), compression="zstd",
    )
    assert len(summary["image_level_shapes"]) == 2
    assert summary["level_shapes"] == summary["image_level_shapes"][0]
    with tifffile.TiffFile(out) as tif:
        assert [s.name for s in tif.series] == ["cells", "series #2"]
        np.testing.assert_array_equal(tif.series[0].asarray(), czyx)
        np.testing.assert_array_equal(tif.series[1].asarray(), mask)
        xml = tif.ome_metadata
    assert 'PhysicalSizeX="0.5"' in xml and 'PhysicalSizeZ="2"' in xml
    assert ome_py.validate(out).ok

    # The OME-XML of the first file, carried into a second: names, sizes and the rest kept,
    # the pixel layout made for the new file.
    again = tmp_path / "again.ome.tif"
    ome_py.write_ome_tiff_series(again, [czyx[:, :, ::-1], mask], ome_xml=xml, tile=(64, 64))
    with tifffile.TiffFile(again) as tif:
        assert [s.name for s in tif.series] == ["cells", "series #2"]
        np.testing.assert_array_equal(tif.series[0].asarray(), czyx[:, :, ::-1])
        assert 'FileName="again.ome.tif"' in tif.ome_metadata
    # An XML describing other pixels is refused, and no file is left.
    with pytest.raises(ome_py.UsageError, match="Image 0"):
        ome_py.write_ome_tiff_series(tmp_path / "bad.ome.tif", [mask, czyx], ome_xml=xml)
    with pytest.raises(ome_py.UsageError, match="keys"):
        ome_py.write_ome_tiff_series(tmp_path / "bad.ome.tif", [{"data": mask, "axis": "yx"}])
    assert not (tmp_path / "bad.ome.tif").exists()


def test_open_a_series(tmp_path, czyx):
    import pickle

    out = tmp_path / "two.ome.tif"
    mask = (czyx[0, 0] > 2000).astype(np.uint8)
    ome_py.write_ome_tiff_series(out, [czyx, {"data": mask, "axes": "yx"}], tile=(64, 64))
    second = ome_py.open(out, series=1)
    assert second.series == 1
    np.testing.assert_array_equal(second.read(t=0, c=0, z=0), mask)
    again = pickle.loads(pickle.dumps(second))
    assert again.series == 1 and again.levels[0].shape == second.levels[0].shape
    with pytest.raises(ome_py.UsageError, match="series 2"):
        ome_py.open(out, series=2)
    # A bioformats2raw container (numbered series, no OME group): a series opens at its
    # own path.
    import json

    container = tmp_path / "two.ome.zarr"
    ome_py.write_ome_zarr(container / "0", czyx, axes="czyx")
    ome_py.write_ome_zarr(container / "1", mask, axes="yx")
    (container / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "group",
        "attributes": {"ome": {"version": "0.5", "bioformats2raw.layout": 3}}}))
    s1 = ome_py.open(container, series=1)
    assert s1.path.endswith("1")
    np.testing.assert_array_equal(s1.read(), mask)


def test_convert_every_series_both_ways(tmp_path, czyx):
    """A multi-image OME-TIFF becomes a bioformats2raw container and back (bioformats2raw /
    raw2ometiff), the OME-XML carried; `series=` converts one image."""
    src = tmp_path / "two.ome.tif"
    mask = (czyx[0, 0] > 2000).astype(np.uint8)
    ome_py.write_ome_tiff_series(
        src, [{"data": czyx, "axes": "czyx", "name": "cells"}, {"data": mask, "axes": "yx", "name": "mask"}],
        tile=(64, 64))
    container = tmp_path / "two.ome.zarr"
    assert ome_py.convert(src, container)["series"] == 2
    assert (container / "OME" / "METADATA.ome.xml").is_file()
    # The TIFF's SubIFD pyramid is copied, not made again.
    assert len(ome_py.open(container, series=0).levels) == len(ome_py.open(src).levels)
    back = tmp_path / "back.ome.tif"
    summary = ome_py.convert(container, back, compression="zstd", tile=(64, 64))
    assert len(summary["image_level_shapes"]) == 2
    with tifffile.TiffFile(back) as tif:
        assert [s.name for s in tif.series] == ["cells", "mask"]
        np.testing.assert_array_equal(tif.series[0].asarray(), czyx)
        np.testing.assert_array_equal(tif.series[1].asarray(), mask)
    assert ome_py.validate(back).ok
    one = tmp_path / "one.ome.zarr"
    ome_py.convert(src, one, series=1)
    np.testing.assert_array_equal(ome_py.open(one).read(), mask.reshape(1, 1, 1, *mask.shape))
    with pytest.raises(ome_py.UsageError, match="OME-TIFF output"):
        ome_py.convert(src, tmp_path / "x.ome.zarr", tile=(64, 64))
    with pytest.raises(ome_py.UsageError, match="OME-Zarr output"):
        ome_py.convert(container, tmp_path / "x.ome.tif", chunks=[1, 64, 64])
