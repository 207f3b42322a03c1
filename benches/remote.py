#!/usr/bin/env python3
"""Remote reads (issue 15): W3 (level 0 whole) and W4 (random 1x256x256 tiles, one at a time,
as a viewer asks) on a real S3 server (SeaweedFS `weed mini`, loopback), through ours
(`ome_py`), tensorstore (its `s3` kvstore) and zarr-python 3 + s3fs, on the same dataset,
unsharded and sharded, with and without 20 ms added to every request by a delaying proxy;
and the same on an OME-TIFF in the bucket (256 x 256 zstd tiles), through ours and
tifffile + s3fs.
Every figure of one row comes from the same run; ratios are peer time / our time
(above 1: we are faster).

    .venv/bin/python benches/remote.py --size tiny            # a minute
    .venv/bin/python benches/remote.py --size small --tiles 200 --json benches/results/remote-small.json

Data: the BENCHMARK.md generator (benches/gen_data.py); layout: chunks (1,1,64,256,256)
clipped to the array, or shards (1,1,64,1024,1024) of (1,1,1,256,256); blosc-zstd-1 + shuffle.
Written by `ome convert` straight to the bucket (our uploader).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benches"))
sys.path.insert(0, str(REPO / "tests" / "interop"))
from gen_data import SIZES, generate  # noqa: E402
from servers import Weed, weed_binary  # noqa: E402


class DelayProxy:
    """A TCP proxy on loopback that holds every request `delay` seconds before passing it
    on (each recv from the client that starts after the previous answer began counts as a
    new request): a per-request latency, as a distant object store adds."""

    def __init__(self, target_port: int, delay: float):
        self.target_port, self.delay = target_port, delay
        self.requests = 0  # delays paid: requests, as the proxy sees them
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client):
        server = socket.create_connection(("127.0.0.1", self.target_port))
        # No Nagle on either leg: a relay must not hold back small segments.
        for sock in (server, client):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        answered = threading.Event()
        answered.set()

        def down():
            try:
                while data := server.recv(1 << 20):
                    answered.set()
                    client.sendall(data)
            except OSError:
                pass
            finally:
                client.close()

        threading.Thread(target=down, daemon=True).start()
        try:
            while data := client.recv(1 << 20):
                if answered.is_set():  # a new request: pay the latency once
                    answered.clear()
                    self.requests += 1
                    time.sleep(self.delay)
                server.sendall(data)
        except OSError:
            pass
        finally:
            server.close()


def tiles(shape, n, seed=4):
    rng = np.random.default_rng(seed)
    _, c, z, y, x = shape
    return [(int(rng.integers(c)), int(rng.integers(z)), int(rng.integers(y // 256)) * 256,
             int(rng.integers(x // 256)) * 256) for _ in range(n)]


def ours(url, shape, tile_list, endpoint):
    import ome_py
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    t0 = time.perf_counter()
    img = ome_py.open(url)
    a = img.read(0)
    w3 = time.perf_counter() - t0
    img = ome_py.open(url)
    t0 = time.perf_counter()
    for c, z, y, x in tile_list:
        img.read_region(0, (0, c, z, y, x), (1, 1, 1, 256, 256))
    w4 = time.perf_counter() - t0
    return w3, w4, a


def tensorstore_read(url, shape, tile_list, endpoint, sharded):
    import tensorstore as ts
    bucket, _, path = url[len("s3://"):].partition("/")
    spec = {"driver": "zarr3", "kvstore": {"driver": "s3", "bucket": bucket, "path": f"{path}/0/",
                                           "endpoint": endpoint, "aws_region": "us-east-1",
                                           "aws_credentials": {"type": "anonymous"}}}
    ctx = ts.Context({"cache_pool": {"total_bytes_limit": 0}})
    t0 = time.perf_counter()
    arr = ts.open(spec, context=ctx, read=True).result()
    a = arr.read().result()
    w3 = time.perf_counter() - t0
    arr = ts.open(spec, context=ts.Context({"cache_pool": {"total_bytes_limit": 0}}), read=True).result()
    t0 = time.perf_counter()
    for c, z, y, x in tile_list:
        arr[0, c, z, y:y + 256, x:x + 256].read().result()
    w4 = time.perf_counter() - t0
    return w3, w4, a


def zarr_python_read(url, shape, tile_list, endpoint, sharded):
    import zarr
    opts = {"key": "ometest", "secret": "ometestsecret", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    t0 = time.perf_counter()
    arr = zarr.open_array(zarr.storage.FsspecStore.from_url(f"{url}/0", read_only=True,
                                                            storage_options=opts), mode="r")
    a = arr[...]
    w3 = time.perf_counter() - t0
    arr = zarr.open_array(zarr.storage.FsspecStore.from_url(f"{url}/0", read_only=True,
                                                            storage_options=opts), mode="r")
    t0 = time.perf_counter()
    for c, z, y, x in tile_list:
        arr[0, c, z, y:y + 256, x:x + 256]
    w4 = time.perf_counter() - t0
    return w3, w4, a


def floor_read(url, shape, tile_list, endpoint, sharded):
    """The server's floor for W3: level 0's array document, then every one of its chunk
    (shard) objects fetched whole by plain unsigned GETs (the bucket reads anonymously),
    32 in flight as ours, nothing decoded. No W4 (0 s) and no pixels."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from itertools import product
    from urllib.parse import urlparse

    bucket, _, path = url[len("s3://"):].partition("/")
    host = urlparse(endpoint)
    local = threading.local()

    def get(key):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        conn.request("GET", f"/{bucket}/{path}/0/{key}")
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (key, resp.status)
        return body

    t0 = time.perf_counter()
    meta = json.loads(get("zarr.json"))
    grid = meta["chunk_grid"]["configuration"]["chunk_shape"]
    counts = [-(-s // c) for s, c in zip(meta["shape"], grid)]
    keys = ["c/" + "/".join(map(str, ix)) for ix in product(*(range(n) for n in counts))]
    with ThreadPoolExecutor(32) as pool:
        total = sum(len(b) for b in pool.map(get, keys))
    w3 = time.perf_counter() - t0
    assert total > 0
    return w3, 0.0, None


def tifffile_read(url, shape, tile_list, endpoint, sharded):
    """tifffile over s3fs (anonymous): level 0 with `asarray`, tiles through its Zarr store
    of level 0 (`aszarr`), as its documentation reads a region of a big TIFF. The file is
    opened with a 1 MiB read-ahead cache: of the three s3fs settings tried (its default 50
    MiB read-ahead, no cache, 1 MiB read-ahead), the fastest for both workloads here."""
    import s3fs
    import tifffile
    import zarr

    fs = s3fs.S3FileSystem(anon=True, client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"})
    key = url[len("s3://"):]
    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    with fs.open(key, "rb", cache_type="readahead", block_size=1 << 20) as f:
        a = tifffile.TiffFile(f).series[0].levels[0].asarray(maxworkers=workers).reshape(shape)
    w3 = time.perf_counter() - t0
    t0 = time.perf_counter()
    with fs.open(key, "rb", cache_type="readahead", block_size=1 << 20) as f:
        level = zarr.open_array(tifffile.TiffFile(f).series[0].aszarr(level=0), mode="r")
        t = (0,) * (level.ndim - 4)  # tifffile drops the size-1 t axis
        for c, z, y, x in tile_list:
            level[(*t, c, z, slice(y, y + 256), slice(x, x + 256))]
    w4 = time.perf_counter() - t0
    return w3, w4, a


PEERS = {"tensorstore": tensorstore_read, "zarr-python+s3fs": zarr_python_read}
# An OME-TIFF in the bucket (range reads of its IFDs and tiles): tifffile is the peer.
TIFF_PEERS = {"tifffile+s3fs": tifffile_read}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--tiles", type=int, default=100, help="W4 tiles per run (BENCHMARK.md: 1000)")
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell (median)")
    ap.add_argument("--layouts", default="unsharded,sharded,ome-tiff", help="which layouts to run")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    ome = os.environ.get("OME_BIN", str(REPO / "target/release/ome"))
    if not Path(ome).exists():
        ome = str(REPO / "target/debug/ome")
    shape = SIZES[args.size]
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ome-remote-bench-"))
    a = generate(args.size)
    np.save(work / "vol.npy", a)
    weed = Weed(work / "weed", weed_binary()).start()
    rows = []
    try:
        weed.make_bucket("public")
        env = weed.env()
        for layout, extra in (("unsharded", ["--chunks", "1,1,64,256,256"]),
                              ("sharded", ["--chunks", "1,1,1,256,256", "--shards", "1,1,64,1024,1024"]),
                              ("ome-tiff", ["--compression", "zstd:1", "--tile", "256"])):
            if layout not in args.layouts.split(","):
                continue
            if layout == "ome-tiff":
                url = f"s3://public/{args.size}.ome.tif"
                subprocess.run([ome, "convert", str(work / "vol.npy"), url, "--overwrite", *extra],
                               env=env, check=True, capture_output=True)
            else:
                url = f"s3://public/{args.size}-{layout}.ome.zarr"
                subprocess.run([ome, "convert", str(work / "vol.npy"), url, "--ngff-version", "0.5",
                                "--compression", "blosc-zstd:1:shuffle", "--overwrite", *extra],
                               env=env, check=True, capture_output=True)
            tl = tiles(shape, args.tiles)
            for delay in (0.0, args.delay_ms / 1000):
                proxy = DelayProxy(weed.s3_port, delay) if delay else None
                endpoint = f"http://127.0.0.1:{proxy.port}" if proxy else weed.endpoint
                readers = [("ours (ome_py)", lambda u, s, t, e, sh: ours(u, s, t, e)),
                           *(TIFF_PEERS.items() if layout == "ome-tiff" else
                             [*PEERS.items(), ("floor (raw GETs)", floor_read)])]
                runs = {name: [] for name, _ in readers}
                requests = {name: [] for name, _ in readers}
                # Repeats interleaved (ours, peers, ours, peers, ...), so that a change of the
                # machine's load during the run falls on every reader alike.
                for _ in range(args.repeat):
                    for name, fn in readers:
                        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
                        req0 = proxy.requests if proxy else 0
                        w3, w4, got = fn(url, shape, tl, endpoint, layout == "sharded")
                        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
                        requests[name].append(proxy.requests - req0 if proxy else None)
                        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
                        if got is not None:
                            assert np.array_equal(np.asarray(got), a), f"{name} read wrong pixels"
                        runs[name].append((w3, w4, cpu))
                results = {name: {"W3_s": statistics.median(r[0] for r in rs),
                                  "W4_s": statistics.median(r[1] for r in rs),
                                  "W3_runs_s": [r[0] for r in rs], "W4_runs_s": [r[1] for r in rs],
                                  # CPU of this process over W3 and W4 (client side only).
                                  "cpu_s": statistics.median(r[2] for r in rs),
                                  # Requests through the delaying proxy (W3 and W4 together).
                                  "requests": requests[name]}
                           for name, rs in runs.items()}
                base = results["ours (ome_py)"]
                for name, r in results.items():
                    w4_ratio = r["W4_s"] / base["W4_s"] if base["W4_s"] > 0 else None
                    rows.append({"layout": layout, "delay_ms": delay * 1000, "reader": name, **r,
                                 "W3_ratio": r["W3_s"] / base["W3_s"], "W4_ratio": w4_ratio})
                    print(f"{layout:9} +{delay * 1000:4.0f} ms  {name:18} W3 {r['W3_s']:7.2f} s "
                          f"({r['W3_s'] / base['W3_s']:5.2f}x)  W4[{args.tiles}] {r['W4_s']:7.2f} s "
                          f"({w4_ratio or 0:5.2f}x)  cpu {r['cpu_s']:6.2f} s  requests {r['requests']}", flush=True)
    finally:
        weed.stop()
    out = {"benchmark": "remote W3/W4 on SeaweedFS S3 (loopback)", "size": args.size, "shape": shape,
           "tiles": args.tiles, "repeat": args.repeat, "delay_ms": args.delay_ms,
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       # Other work on the machine during the run (1-minute load averages).
                       "loadavg_before": load_before[0], "loadavg_after": os.getloadavg()[0]},
           # How ome_py was built (`maturin develop --release` or not): say it with OME_PY_BUILD.
           "ome_py_build": os.environ.get("OME_PY_BUILD", "not recorded"),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows,
           "ratio": "peer time / our time (above 1: ours faster)"}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
