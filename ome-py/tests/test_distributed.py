"""Several worker processes write one OME-Zarr region by region, without locks."""

import numpy as np
import pytest

import ome_py

distributed = pytest.importorskip("distributed")


def _block(c, y, x):
    rng = np.random.default_rng(c * 1000 + y * 10 + x)
    return rng.integers(0, 60000, (1, 3, 128, 128), dtype=np.uint16)


def _write(writer, c, y, x):
    import os

    writer.write_region([c, 0, y * 128, x * 128], _block(c, y, x))
    return os.getpid()


def test_local_cluster_writes_regions(tmp_path):
    out = tmp_path / "cluster.ome.zarr"
    shape = (2, 3, 512, 384)
    w = ome_py.RegionWriter.create(out, shape, "uint16", axes="czyx", chunks=[1, 3, 64, 64],
                                   shards=[1, 3, 128, 128], levels=3, channel_names=["a", "b"])
    expected = np.zeros(shape, dtype=np.uint16)
    tasks = []
    for c in range(2):
        for y in range(4):
            for x in range(3):
                expected[c:c + 1, :, y * 128:(y + 1) * 128, x * 128:(x + 1) * 128] = _block(c, y, x)
                tasks.append((c, y, x))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        futures = [client.submit(_write, w, *t, pure=False) for t in tasks]
        pids = set(client.gather(futures))
    assert len(pids) == 2
    w.finish()
    report = ome_py.validate(out, depth="data")
    assert report.verdict != "invalid", str(report)
    image = ome_py.open(out)
    np.testing.assert_array_equal(image.read(), expected)
    ref = tmp_path / "ref.ome.zarr"
    ome_py.write_ome_zarr(ref, expected, axes="czyx", chunks=[1, 3, 64, 64], shards=[1, 3, 128, 128], levels=3)
    r = ome_py.open(ref)
    for k in range(3):
        np.testing.assert_array_equal(image.read(k), r.read(k))
