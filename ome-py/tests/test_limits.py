"""`ome_py.Limits`: every field of `ome_core::Limits`, passed as `limits=`."""

import pickle

import numpy as np
import pytest

import ome_py

FIELDS = [
    "max_metadata_bytes", "max_chunk_bytes", "max_read_bytes", "max_dimensions", "max_list_entries",
    "max_json_depth", "max_array_elements", "max_tiff_ifds", "max_xml_bytes", "max_xml_depth",
]


def test_defaults_fields_and_equality():
    d = ome_py.Limits()
    # The documented defaults of ome_core::Limits (README "Limits for untrusted input").
    assert d.max_metadata_bytes == 64 << 20 and d.max_chunk_bytes == 1 << 30
    assert d.max_read_bytes == 16 << 30 and d.max_array_elements == 1 << 42
    assert sorted(d.to_dict()) == sorted(FIELDS)
    for i, name in enumerate(FIELDS):
        changed = ome_py.Limits(**{name: 1000 + i})
        assert getattr(changed, name) == 1000 + i
        assert changed != d and changed == ome_py.Limits(**changed.to_dict())
        assert pickle.loads(pickle.dumps(changed)) == changed
        assert f"{name}={1000 + i}" in repr(changed)
    with pytest.raises(TypeError):
        ome_py.Limits(max_chunks=1)
    with pytest.raises(TypeError):
        ome_py.Limits(1)  # keywords only
    with pytest.raises(OverflowError):
        ome_py.Limits(max_chunk_bytes=-1)


@pytest.fixture
def image(tmp_path, czyx):
    out = tmp_path / "img.ome.zarr"
    ome_py.write_ome_zarr(out, czyx, axes="czyx", chunks=[1, 5, 128, 128], levels=2)
    return out


def test_open_raises_limits_error_naming_the_limit(image, czyx):
    np.testing.assert_array_equal(ome_py.open(image).read(c=0), czyx[0])
    np.testing.assert_array_equal(ome_py.open(image, limits=ome_py.Limits()).read(c=0), czyx[0])
    with pytest.raises(ome_py.LimitsError, match="limit of 100 bytes"):
        ome_py.open(image, limits=ome_py.Limits(max_metadata_bytes=100))
    with pytest.raises(ome_py.LimitsError, match="limit of 1000 elements"):
        ome_py.open(image, limits={"max_array_elements": 1000})
    with pytest.raises(ome_py.LimitsError, match="limit of 1000 bytes"):
        ome_py.open(image, limits=ome_py.Limits(max_chunk_bytes=1000))
    # A read limit bites on the read: the image opens, a region beyond the limit does not.
    small = ome_py.open(image, limits=ome_py.Limits(max_read_bytes=1000))
    assert small.read_region(0, [0, 0, 0, 0], [1, 1, 10, 50]).shape == (1, 1, 10, 50)
    with pytest.raises(ome_py.LimitsError, match="limit of 1000 bytes"):
        small.read(c=0)
    with pytest.raises(ome_py.UsageError, match="ome_py.Limits"):
        ome_py.open(image, limits=1000)


def test_limits_reach_dask_tasks(image):
    """Each task opens the image again, under the limits it was opened with."""
    pytest.importorskip("dask.array")
    small = ome_py.open(image, limits=ome_py.Limits(max_read_bytes=1000))
    with pytest.raises(ome_py.LimitsError):
        small.to_dask(0).sum().compute(scheduler="processes")
    roomy = ome_py.open(image, limits=ome_py.Limits(max_read_bytes=200_000))
    assert roomy.to_dask(0).sum().compute(scheduler="processes") == ome_py.open(image).read().sum()


def test_validate_convert_and_writers_take_limits(tmp_path, image, czyx):
    assert ome_py.validate(image, depth="data").ok
    tight = ome_py.Limits(max_metadata_bytes=100)
    report = ome_py.validate(image, limits=tight)
    assert not report.ok and "limit of 100 bytes" in str(report), str(report)
    with pytest.raises(ome_py.LimitsError):
        ome_py.convert(image, tmp_path / "c.ome.zarr", limits=tight)
    ome_py.convert(image, tmp_path / "c.ome.zarr")
    # A writer whose pyramid reads its levels back from the store (a gaussian kernel: the
    # one-pass pyramid covers the other methods) does so under its limits, in any process;
    # the one-pass pyramid reads no chunk back and finishes under the same limits.
    small = ome_py.Limits(max_chunk_bytes=1000)
    for method, fails in (("gaussian", True), ("mean", False)):
        out = tmp_path / f"w-{method}.ome.zarr"
        w = ome_py.RegionWriter.create(out, czyx.shape, czyx.dtype, axes="czyx", method=method,
                                       chunks=[1, 5, 128, 128], levels=2, limits=small)
        for c in range(2):
            for y in range(0, 300, 128):
                for x in range(0, 260, 128):
                    w.write_region([c, 0, y, x], czyx[c:c + 1, :, y:y + 128, x:x + 128])
        reopened = pickle.loads(pickle.dumps(w))
        if fails:
            with pytest.raises(ome_py.LimitsError):
                reopened.finish()
            reopened.abort()
        else:
            reopened.finish()
            assert np.array_equal(np.asarray(ome_py.open(out).read(0)), czyx)
    tif = tmp_path / "a.ome.tif"
    ome_py.write_ome_tiff(tif, czyx, axes="czyx")
    doc = ome_py.open(tif).ome_xml
    with pytest.raises(ome_py.LimitsError):
        ome_py.write_ome_tiff_series(tmp_path / "b.ome.tif", [czyx], ome_xml=doc,
                                     limits=ome_py.Limits(max_xml_bytes=64))
    ome_py.write_ome_tiff_series(tmp_path / "b.ome.tif", [czyx], ome_xml=doc)
