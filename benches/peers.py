#!/usr/bin/env python3
"""Compare our OME-Zarr writer/reader (`ome-bench`) with the Python peers.

Workloads (BENCHMARK.md):
  W1   write an OME-Zarr 0.4 pyramid (Zarr v2) from an in-memory array
  W2u  the same as 0.5 (Zarr v3), unsharded
  W2s  the same as 0.5, sharded: shards (1,1,64,1024,1024) of (1,1,1,256,256) chunks
  W3v2 / W3v3 / W3v3s  read level 0 fully into memory from a v2 / v3 / v3-sharded store
  W4u / W4s  1000 random 1 x 256 x 256 tiles (random c, z; y, x on the 256 grid), one at a
       time as a viewer reads them, from the v3 store with 64-deep chunks / the sharded one

Tools: ours (ome-bench, in process), ours-src (ome-bench writing from the memory-mapped
.npy as a region source: `write_ome_zarr_from_source`), ours-cli (`ome convert x.npy
out.ome.zarr`, the whole process timed from outside, .npy read included), ours-py (ome_py:
`write_ome_zarr` on the array, `open(...).read(0)`, `Image.read` in a loop for W4), tensorstore, zarr (zarr-python), zarrs (zarr-python with the
zarrs codec pipeline), ome-zarr-py, ngff-zarr.

Every run is a fresh subprocess; loading the input .npy is not timed; peak RSS is the
child's ru_maxrss (wait4). Tools are interleaved within each repeat; the table shows
medians. Level 0 of every tool's first output is checked against the input (untimed),
and so are the level count, level shapes and codec, so that every figure compares the
same work.

    .venv/bin/python benches/peers.py --size small --repeat 3 --json .bench/peers-small.json
    .venv/bin/python benches/peers.py --size tiny --only W2u,W3v3,tensorstore,zarrs
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.abspath(__file__)

WRITE_WORKLOADS = {
    # id: (ngff version, sharded)
    "W1": ("0.4", False),
    "W2u": ("0.5", False),
    "W2s": ("0.5", True),
}
READ_WORKLOADS = {
    # id: store the level 0 is read from (written once, untimed, by zarr-python)
    "W3v2": "W1",
    "W3v3": "W2u",
    "W3v3s": "W2s",
}
TILE_WORKLOADS = {
    # id: store the tiles are read from (the W3 source stores)
    "W4u": "W2u",
    "W4s": "W2s",
}
WORKLOADS = list(WRITE_WORKLOADS) + list(READ_WORKLOADS) + list(TILE_WORKLOADS)
TOOLS = ["ours", "ours-src", "ours-cli", "ours-py", "tensorstore", "zarrs", "zarr", "ome-zarr-py",
         "ngff-zarr"]
TILE = 256
TILE_COUNT = 1000


def applies(tool: str, workload: str) -> bool:
    """Whether `tool` runs `workload`: the streaming and CLI writers only write, ngff-zarr
    has no tile reader of its own."""
    if tool in ("ours-src", "ours-cli"):
        return workload in WRITE_WORKLOADS
    if tool == "ngff-zarr":
        return workload not in TILE_WORKLOADS
    return True

CHUNKS = (1, 1, 64, 256, 256)
SHARDS = (1, 1, 64, 1024, 1024)
INNER = (1, 1, 1, 256, 256)
MIN_SIZE = 256
AXES = ["t", "c", "z", "y", "x"]
BLOSC = dict(cname="zstd", clevel=1, shuffle="shuffle", typesize=2, blocksize=0)


# ----------------------------------------------------------------------------- planning


def level_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """2x2 in y, x (z untouched) until min(y, x) <= MIN_SIZE."""
    shapes = [tuple(shape)]
    while min(shapes[-1][-2:]) > MIN_SIZE:
        s = shapes[-1]
        shapes.append(s[:-2] + tuple((n + 1) // 2 for n in s[-2:]))
    return shapes


def input_facts(input_path: str) -> tuple[tuple[int, ...], int]:
    """Shape and byte count of the input .npy, from its header (memory-mapped, not read)."""
    import numpy as np

    a = np.load(input_path, mmap_mode="r")
    return tuple(a.shape), int(a.nbytes)


def pyramid_bytes(shape: tuple[int, ...], nbytes: int) -> int:
    """Bytes of every level of `level_shapes(shape)`, level 0 being `nbytes`."""
    import math

    per_voxel = nbytes / max(1, math.prod(shape))
    return int(sum(math.prod(s) for s in level_shapes(shape)) * per_voxel)


def clip(block: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(min(b, s) for b, s in zip(block, shape))


def layout(shape: tuple[int, ...], sharded: bool) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """(chunks, shards) for one level; shards are clipped, inner chunks fit in them."""
    if not sharded:
        return clip(CHUNKS, shape), None
    shards = clip(SHARDS, shape)
    return clip(INNER, shards), shards


def downsample(a):
    """2x2 mean in y, x, rounded half up, same dtype (even or odd sizes)."""
    import numpy as np

    ny, nx = a.shape[-2:]
    if ny % 2 or nx % 2:
        a = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, ny % 2), (0, nx % 2)], mode="edge")
    acc = a[..., 0::2, 0::2].astype(np.uint32)
    acc += a[..., 1::2, 0::2]
    acc += a[..., 0::2, 1::2]
    acc += a[..., 1::2, 1::2]
    acc += 2
    acc >>= 2
    return acc.astype(a.dtype)


def ome_attrs(version: str, shapes: list[tuple[int, ...]], paths: list[str]) -> dict:
    datasets = []
    for i, (s, p) in enumerate(zip(shapes, paths)):
        f = [shapes[0][k] / s[k] for k in range(len(s))]
        datasets.append({"path": p, "coordinateTransformations": [{"type": "scale", "scale": f}]})
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"}] + [
        {"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    ms = {"axes": axes, "datasets": datasets, "name": "bench"}
    if version == "0.4":
        ms["version"] = "0.4"
        return {"multiscales": [ms]}
    return {"ome": {"version": "0.5", "multiscales": [ms]}}


# ----------------------------------------------------------------------------- peers (child side)


def write_group_metadata(out: str, version: str, shapes, paths) -> None:
    attrs = ome_attrs(version, shapes, paths)
    if version == "0.4":
        with open(os.path.join(out, ".zgroup"), "w") as f:
            json.dump({"zarr_format": 2}, f)
        with open(os.path.join(out, ".zattrs"), "w") as f:
            json.dump(attrs, f)
    else:
        with open(os.path.join(out, "zarr.json"), "w") as f:
            json.dump({"zarr_format": 3, "node_type": "group", "attributes": attrs}, f)


def ts_spec(path: str, shape, version: str, sharded: bool) -> dict:
    chunks, shards = layout(shape, sharded)
    kv = {"driver": "file", "path": path}
    if version == "0.4":
        meta = {"zarr_format": 2, "shape": list(shape), "chunks": list(chunks), "dtype": "<u2",
                "compressor": {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 1, "blocksize": 0},
                "fill_value": 0, "order": "C", "filters": None, "dimension_separator": "/"}
        return {"driver": "zarr", "kvstore": kv, "metadata": meta}
    inner_codecs = [{"name": "bytes", "configuration": {"endian": "little"}},
                    {"name": "blosc", "configuration": dict(BLOSC)}]
    if sharded:
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(chunks), "codecs": inner_codecs,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end"}}]
        grid = shards
    else:
        codecs, grid = inner_codecs, chunks
    meta = {"shape": list(shape), "data_type": "uint16",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
            "chunk_key_encoding": {"name": "default"}, "codecs": codecs, "fill_value": 0,
            "dimension_names": AXES}
    return {"driver": "zarr3", "kvstore": kv, "metadata": meta}


def write_tensorstore(a, out, version, sharded):
    import tensorstore as ts

    shapes = level_shapes(a.shape)
    paths = [str(i) for i in range(len(shapes))]
    os.makedirs(out, exist_ok=True)
    pending = []
    level = a
    for i, p in enumerate(paths):
        store = ts.open(ts_spec(os.path.join(out, p), level.shape, version, sharded),
                        create=True, delete_existing=True).result()
        pending.append(store.write(level))  # encode/write level i while computing level i+1
        if i + 1 < len(paths):
            level = downsample(level)
    for f in pending:
        f.result()
    write_group_metadata(out, version, shapes, paths)


def zarr_create(path, shape, dtype, version, sharded):
    import numcodecs
    import zarr
    from zarr.codecs import BloscCodec

    chunks, shards = layout(shape, sharded)
    if version == "0.4":
        return zarr.create_array(store=path, shape=shape, dtype=dtype, chunks=chunks, zarr_format=2,
                                 compressors=numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, 0),
                                 chunk_key_encoding={"name": "v2", "separator": "/"}, fill_value=0,
                                 overwrite=True)
    return zarr.create_array(store=path, shape=shape, dtype=dtype, chunks=chunks, shards=shards,
                             zarr_format=3, compressors=BloscCodec(**BLOSC), dimension_names=AXES,
                             fill_value=0, overwrite=True)


def write_zarr_python(a, out, version, sharded):
    shapes = level_shapes(a.shape)
    paths = [str(i) for i in range(len(shapes))]
    os.makedirs(out, exist_ok=True)
    level = a
    for i, p in enumerate(paths):
        arr = zarr_create(os.path.join(out, p), level.shape, level.dtype, version, sharded)
        arr[...] = level
        if i + 1 < len(paths):
            level = downsample(level)
    write_group_metadata(out, version, shapes, paths)


def write_ome_zarr_py(a, out, version, sharded):
    import numcodecs
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.scale import Methods
    from ome_zarr.writer import write_image
    from zarr.codecs import BloscCodec

    shapes = level_shapes(a.shape)
    fmt = FormatV04() if version == "0.4" else FormatV05()
    comp = (numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, 0) if version == "0.4"
            else BloscCodec(**BLOSC))
    opts = []
    for s in shapes:
        chunks, shards = layout(s, sharded)
        o = {"chunks": chunks, "compressor": comp}
        if shards:
            o["shards"] = shards
        opts.append(o)
    write_image(a, out, fmt=fmt, axes="tczyx", scale_factors=[2 ** k for k in range(1, len(shapes))],
                method=Methods.LOCAL_MEAN, storage_options=opts)


def write_ngff_zarr(a, out, version, sharded):
    import ngff_zarr as nz
    import numcodecs
    from zarr.codecs import BloscCodec

    shapes = level_shapes(a.shape)
    img = nz.to_ngff_image(a, dims=AXES)
    chunks, shards = layout(a.shape, sharded)
    ms = nz.to_multiscales(img, scale_factors=[{"z": 1, "y": 2 ** k, "x": 2 ** k} for k in range(1, len(shapes))],
                           method=nz.Methods.DASK_BIN_SHRINK, chunks=dict(zip(AXES, chunks)))
    kw = {}
    if version == "0.4":
        kw["compressor"] = numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, 0)
    else:
        kw["compressors"] = [BloscCodec(**BLOSC)]
    if sharded:
        kw["chunks_per_shard"] = dict(zip(AXES, (s // c for s, c in zip(shards, chunks))))
    nz.to_ngff_zarr(out, ms, version=version, **kw)


def write_ours_py(a, out, version, sharded):
    """ome_py.write_ome_zarr, the same pyramid and codec as `ome convert` (what a Python
    user calls on an array in memory)."""
    import ome_py

    chunks, shards = layout(a.shape, sharded)
    ome_py.write_ome_zarr(out, a, axes="tczyx", levels=len(level_shapes(a.shape)), chunks=list(chunks),
                          shards=list(shards) if shards else None, compression="blosc-zstd:1:shuffle",
                          version=version, overwrite=True)


WRITERS = {
    "ours-py": write_ours_py,
    "tensorstore": write_tensorstore,
    "zarr": write_zarr_python,
    "zarrs": write_zarr_python,
    "ome-zarr-py": write_ome_zarr_py,
    "ngff-zarr": write_ngff_zarr,
}


def level0_path(group: str) -> str:
    """Path of level 0 from the group's multiscales metadata."""
    for name in ("zarr.json", ".zattrs"):
        p = os.path.join(group, name)
        if os.path.exists(p):
            with open(p) as f:
                doc = json.load(f)
            attrs = doc.get("attributes", doc) if name == "zarr.json" else doc
            attrs = attrs.get("ome", attrs)
            return os.path.join(group, attrs["multiscales"][0]["datasets"][0]["path"])
    raise FileNotFoundError(f"no OME-Zarr group at {group}")


def read_level0(tool: str, group: str):
    if tool == "ours-py":
        import ome_py

        return ome_py.open(group).read(0)
    if tool == "tensorstore":
        import tensorstore as ts

        path = level0_path(group)
        driver = "zarr3" if os.path.exists(os.path.join(path, "zarr.json")) else "zarr"
        store = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}, open=True).result()
        return store.read().result()
    if tool in ("zarr", "zarrs"):
        import zarr

        return zarr.open_array(level0_path(group), mode="r")[...]
    if tool == "ome-zarr-py":
        from ome_zarr.io import parse_url
        from ome_zarr.reader import Reader

        node = next(iter(Reader(parse_url(group))()))
        return node.data[0].compute()
    if tool == "ngff-zarr":
        import ngff_zarr as nz

        return nz.from_ngff_zarr(group).images[0].data.compute()
    raise ValueError(tool)


def read_tiles(path: str) -> list[tuple[int, int, int, int]]:
    with open(path) as f:
        return [tuple(int(v) for v in line.split()) for line in f if line.strip()]


def tile_reader(tool: str, group: str):
    """A function (c, z, y, x) -> one 256 x 256 tile of level 0 at t = 0, as a viewer holds
    it: the store opened once, then one read per tile."""
    if tool == "ours-py":
        import ome_py

        image = ome_py.Image(group)
        return lambda c, z, y, x: image.read(0, t=0, c=c, z=z, y=slice(y, y + TILE), x=slice(x, x + TILE))
    if tool == "tensorstore":
        import tensorstore as ts

        path = level0_path(group)
        driver = "zarr3" if os.path.exists(os.path.join(path, "zarr.json")) else "zarr"
        store = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}, open=True).result()
        return lambda c, z, y, x: store[0, c, z, y:y + TILE, x:x + TILE].read().result()
    if tool in ("zarr", "zarrs"):
        import zarr

        arr = zarr.open_array(level0_path(group), mode="r")
        return lambda c, z, y, x: arr[0, c, z, y:y + TILE, x:x + TILE]
    if tool == "ome-zarr-py":
        from ome_zarr.io import parse_url
        from ome_zarr.reader import Reader

        data = next(iter(Reader(parse_url(group))())).data[0]
        return lambda c, z, y, x: data[0, c, z, y:y + TILE, x:x + TILE].compute()
    raise ValueError(tool)


def child(tool: str, workload: str, input_path: str, out: str) -> dict:
    """Runs in a fresh process; prints one JSON object."""
    import numpy as np

    if tool == "zarrs":
        import zarr

        zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    if workload in TILE_WORKLOADS:
        import hashlib

        tiles = read_tiles(os.environ["PEERS_TILES"])
        h = hashlib.blake2b(digest_size=16)
        # The clock runs while the store opens (a viewer pays that once) and while each tile
        # is read, not while it is hashed for the check (as in ome-bench read-tiles).
        t0 = time.perf_counter()
        read = tile_reader(tool, out)
        seconds = time.perf_counter() - t0
        for c, z, y, x in tiles:
            t0 = time.perf_counter()
            t = np.asarray(read(c, z, y, x))
            seconds += time.perf_counter() - t0
            h.update(np.ascontiguousarray(t).view(np.uint8).reshape(-1).data)
        return {"seconds": seconds, "tiles": len(tiles), "checksum": h.hexdigest()}
    if workload in WRITE_WORKLOADS:
        version, sharded = WRITE_WORKLOADS[workload]
        a = np.load(input_path)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        WRITERS[tool](a, out, version, sharded)
        return {"seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    b = read_level0(tool, out)
    seconds = time.perf_counter() - t0
    b = np.asarray(b)
    return {"seconds": seconds, "shape": list(b.shape), "checksum": checksum(b)}


def checksum(a) -> str:
    """blake2b-128 of the little-endian bytes of `a`, fed in 64 MiB pieces: no copy of a
    C-contiguous little-endian array (or memory map)."""
    import hashlib

    import numpy as np

    if a.dtype.byteorder == ">" or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False))
    flat = a.reshape(-1).view(np.uint8)
    h = hashlib.blake2b(digest_size=16)
    for i in range(0, flat.size, 64 << 20):
        h.update(memoryview(flat[i:i + (64 << 20)]))
    return h.hexdigest()


def ensure_input(size: str, input_path: str | None) -> str:
    """The benchmark input: `input_path`, or .bench/<size>.npy made by gen_data.py."""
    path = input_path or os.path.join(REPO, ".bench", f"{size}.npy")
    if not os.path.exists(path):
        print(f"generating {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(REPO, "benches", "gen_data.py"), "--size", size,
                        "--out", path, "--no-stats"], check=True)
    return path


def expected_checksum(input_path: str, timeout: float) -> str | None:
    """checksum() of the input, computed in a child: Linux copies a parent's RSS high-water
    mark into every forked child, so a parent that read the whole input would add its size
    to each tool's reported peak RSS. None (with the child's stderr printed) on failure."""
    rc, so, se, _ = run_child([sys.executable, HERE, "_checksum", input_path], timeout)
    if rc != 0:
        print(se, file=sys.stderr)
        return None
    return (last_json(so) or {}).get("checksum")


def verify(group: str, input_path: str, sharded: bool) -> dict:
    """Untimed: level count and shapes, codec and chunks, level 0 equal to the input."""
    import numpy as np
    import zarr

    a = np.load(input_path, mmap_mode="r")
    g = zarr.open_group(group, mode="r")
    attrs = dict(g.attrs)
    attrs = attrs.get("ome", attrs)
    paths = [d["path"] for d in attrs["multiscales"][0]["datasets"]]
    want = level_shapes(a.shape)
    problems = []
    shapes = [tuple(g[p].shape) for p in paths]
    if shapes != want:
        problems.append(f"levels {shapes} != {want}")
    for p, s in zip(paths, shapes):
        arr = g[p]
        meta = arr.metadata.to_dict()
        text = json.dumps(meta, default=str)
        if "zstd" not in text or "blosc" not in text:
            problems.append(f"{p}: codec is not blosc zstd: {text[:200]}")
        chunks, shards = layout(s, sharded)
        got_shards = getattr(arr, "shards", None) if arr.metadata.zarr_format == 3 else None
        if tuple(arr.chunks) != chunks or (tuple(got_shards) if got_shards else None) != shards:
            problems.append(f"{p}: chunks {arr.chunks} shards {got_shards}, want {chunks} {shards}")
    if not np.array_equal(g[paths[0]][...], a):
        problems.append("level 0 differs from the input")
    return {"ok": not problems, "problems": problems}


# ----------------------------------------------------------------------------- parent side


def find_ome_bench() -> str | None:
    env = os.environ.get("OME_BENCH")
    cands = [env] if env else [os.path.join(REPO, "target", "release", "ome-bench")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def run_child(cmd: list[str], timeout: float) -> tuple[int, str, str, int]:
    """Like subprocess.run, but returns the child's own peak RSS via wait4."""
    import tempfile

    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                status = 124 << 8
                break
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return p.returncode, fo.read(), fe.read(), ru.ru_maxrss * 1024


def last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                pass
    return None


def csv(xs) -> str:
    return ",".join(str(x) for x in xs)


def find_ome_cli() -> str | None:
    env = os.environ.get("OME_CLI")
    c = env or os.path.join(REPO, "target", "release", "ome")
    return c if os.path.isfile(c) and os.access(c, os.X_OK) else None


def tool_cmd(tool, workload, input_path, out, ome_bench, tiles=None) -> list[str]:
    if tool == "ours-cli":
        version, sharded = WRITE_WORKLOADS[workload]
        cmd = [find_ome_cli() or "ome", "convert", input_path, out, "--ngff-version", version,
               "--min-size", str(MIN_SIZE), "--overwrite", "-q"]
        if sharded:
            return cmd + ["--chunks", csv(INNER), "--shards", csv(SHARDS)]
        return cmd + ["--chunks", csv(CHUNKS)]
    if tool == "ours" and workload in TILE_WORKLOADS:
        return [ome_bench, "read-tiles", "--path", out, "--tiles", tiles, "--tile", str(TILE)]
    if tool in ("ours", "ours-src"):
        if workload in WRITE_WORKLOADS:
            version, sharded = WRITE_WORKLOADS[workload]
            cmd = [ome_bench, "write-zarr", "--input", input_path, "--out", out,
                   "--ngff-version", version, "--min-size", str(MIN_SIZE)]
            if sharded:
                cmd += ["--chunks", csv(INNER), "--shards", csv(SHARDS)]
            else:
                cmd += ["--chunks", csv(CHUNKS)]
            if tool == "ours-src":
                cmd.append("--from-source")
            return cmd
        return [ome_bench, "read-zarr", "--path", out, "--level", "0"]
    return [sys.executable, HERE, "_child", tool, workload, input_path, out]


def prepare_read_stores(input_path: str, work: str, workloads: list[str]) -> dict[str, str]:
    """The W3 source stores, written once (untimed) by zarr-python; plus the expected checksum."""
    stores = {}
    for w in workloads:
        if w not in READ_WORKLOADS and w not in TILE_WORKLOADS:
            continue
        src = READ_WORKLOADS.get(w) or TILE_WORKLOADS[w]
        path = os.path.join(work, f"read-{src}")
        if not os.path.exists(os.path.join(path, ".done")):
            shutil.rmtree(path, ignore_errors=True)
            rc, out, err, _ = run_child([sys.executable, HERE, "_child", "zarr", src, input_path, path], 3600)
            if rc != 0:
                raise SystemExit(f"could not write the {w} source store: {err[-2000:]}")
            open(os.path.join(path, ".done"), "w").close()
        stores[w] = path
    return stores


def fmt_bytes(n) -> str:
    return "-" if not n else f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


# ----------------------------------------------------------------------------- OME-TIFF (W5-W7)
#
#   .venv/bin/python benches/peers.py tiff --size small --repeat 3
#
# W5 write the tiled pyramidal OME-TIFF (BigTIFF, SubIFD pyramid of 2x2 means until
#    min(y, x) <= 256, 256x256 tiles, zstd level 1, no predictor) from the .npy; the
#    peers' downsampling (numpy) is timed as ours is.
# W6 read its level 0 fully into memory.
# W7 convert it to OME-Zarr 0.5, reusing its pyramid levels: blosc zstd 1 shuffle, chunks
#    (1, 1, 64, 256, 256).
# Every tool reads the same source file (written once, untimed, by tifffile) for W6/W7;
# each W5 output, W6 checksum and W7 store is checked before its time counts.

TIFF_WORKLOADS = {"W5": ["ours", "ours-cli", "tifffile"], "W6": ["ours", "tifffile"],
                  "W7": ["ours", "ours-cli", "tifffile+zarr", "tifffile+tensorstore"]}


def tiff_levels(a):
    levels = [a]
    while min(levels[-1].shape[-2:]) > MIN_SIZE:
        levels.append(downsample(levels[-1]))
    return levels


def tifffile_write(a, out: str) -> None:
    """tifffile + imagecodecs on all cores, the pyramid as SubIFDs (tifffile's documented way)."""
    import tifffile

    levels = tiff_levels(a)
    workers = os.cpu_count() or 1
    opts = dict(tile=(256, 256), compression="zstd", compressionargs={"level": 1}, predictor=False, maxworkers=workers,
                photometric="minisblack")
    with tifffile.TiffWriter(out, bigtiff=True, ome=True) as tw:
        tw.write(levels[0], subifds=len(levels) - 1, metadata={"axes": "TCZYX"}, **opts)
        for lv in levels[1:]:
            tw.write(lv, subfiletype=1, **opts)


def tiff_child(tool: str, workload: str, input_path: str, src: str, out: str) -> dict:
    import numpy as np

    workers = os.cpu_count() or 1
    if workload == "W5":
        a = np.load(input_path)
        t0 = time.perf_counter()
        tifffile_write(a, out)
        return {"seconds": time.perf_counter() - t0}
    import tifffile

    if workload == "W6":
        t0 = time.perf_counter()
        b = tifffile.imread(src, maxworkers=workers)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "shape": list(b.shape), "checksum": checksum(b)}
    # W7: every level read whole with tifffile (all cores), written by the Zarr library
    # (imported before the clock starts, as tifffile is).
    if tool == "tifffile+zarr":
        import zarr  # noqa: F401
    else:
        import tensorstore  # noqa: F401
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    with tifffile.TiffFile(src) as tf:
        series = tf.series[0]
        shapes = [tuple(lv.shape) for lv in series.levels]
        # tifffile drops the size-1 t axis; put it back.
        shapes = [(1,) * (5 - len(s)) + s for s in shapes]
        os.makedirs(out, exist_ok=True)
        for k, lv in enumerate(series.levels):
            data = lv.asarray(maxworkers=workers).reshape(shapes[k])
            if tool == "tifffile+zarr":
                import zarr

                arr = zarr_create(f"{out}/{k}", shapes[k], data.dtype, "0.5", False)
                arr[...] = data
            else:
                import tensorstore as ts

                arr = ts.open(ts_spec(f"{out}/{k}", shapes[k], "0.5", False), create=True,
                              delete_existing=True).result()
                arr.write(data).result()
            del data
        write_group_metadata(out, "0.5", shapes, [str(k) for k in range(len(shapes))])
    return {"seconds": time.perf_counter() - t0}


def verify_tiff(path: str, input_path: str) -> list[str]:
    """Untimed: BigTIFF, zstd, 256x256 tiles, level shapes, level 0 equal to the input and
    level 1 equal to the 2x2 mean."""
    import numpy as np
    import tifffile

    a = np.load(input_path, mmap_mode="r")
    problems = []
    with tifffile.TiffFile(path) as tf:
        if not tf.is_bigtiff:
            problems.append("not BigTIFF")
        p0 = tf.pages[0]
        if int(p0.compression) != 50000 or tuple(p0.tile or ()) != (256, 256) or int(p0.predictor) != 1:
            problems.append(f"compression {p0.compression} tile {p0.tile} predictor {p0.predictor}")
        s = tf.series[0]
        want = [x.shape for x in tiff_levels(np.empty((1, 1, 1) + a.shape[-2:], a.dtype))]
        got = [tuple(lv.shape[-2:]) for lv in s.levels]
        if got != [w[-2:] for w in want]:
            problems.append(f"levels {got} != {[w[-2:] for w in want]}")
        l0 = s.levels[0].asarray(maxworkers=os.cpu_count() or 1).reshape(a.shape)
        if not np.array_equal(l0, a):
            problems.append("level 0 differs from the input")
        if len(s.levels) > 1:
            l1 = s.levels[1].asarray()
            l1 = l1.reshape(a.shape[:-2] + l1.shape[-2:])
            if not np.array_equal(l1[0, 0, 0], downsample(np.asarray(a[0, 0, 0]))):
                problems.append("level 1 is not the 2x2 mean")
    return problems


def verify_zarr_levels(group: str, src: str) -> list[str]:
    """Untimed: every Zarr level equals the TIFF level it came from; codec and chunks."""
    import numpy as np
    import tifffile
    import zarr

    problems = []
    g = zarr.open_group(group, mode="r")
    attrs = dict(g.attrs)
    attrs = attrs.get("ome", attrs)
    if "multiscales" not in attrs and "bioformats2raw.layout" in attrs:
        # A converter may keep the OME-XML and put the series at 0/ (bioformats2raw layout).
        g = g["0"]
        attrs = dict(g.attrs)
        attrs = attrs.get("ome", attrs)
    paths = [d["path"] for d in attrs["multiscales"][0]["datasets"]]
    with tifffile.TiffFile(src) as tf:
        levels = tf.series[0].levels
        if len(paths) != len(levels):
            problems.append(f"{len(paths)} levels, the TIFF has {len(levels)}")
        for p, lv in zip(paths, levels):
            arr = g[p]
            text = json.dumps(arr.metadata.to_dict(), default=str)
            if "zstd" not in text or "blosc" not in text:
                problems.append(f"{p}: codec is not blosc zstd")
            if tuple(arr.chunks) != clip(CHUNKS, arr.shape):
                problems.append(f"{p}: chunks {arr.chunks}")
            want = lv.asarray(maxworkers=os.cpu_count() or 1)
            if not np.array_equal(np.asarray(arr[...]).reshape(want.shape), want):
                problems.append(f"{p}: differs from the TIFF level")
    return problems


def tiff_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="peers.py tiff", description="W5-W7: OME-TIFF vs tifffile")
    ap.add_argument("--size", default="small")
    ap.add_argument("--input")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated workloads / tools")
    ap.add_argument("--workdir")
    ap.add_argument("--json")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    input_path = args.input or os.path.join(REPO, ".bench", f"{args.size}.npy")
    work = args.workdir or os.path.join(REPO, ".bench", f"tiff-{args.size}")
    os.makedirs(work, exist_ok=True)
    ome_bench = find_ome_bench()
    only = set(filter(None, args.only.split(",")))
    src = os.path.join(work, "source.ome.tif")
    import numpy as np

    # W5's pyramid for `ome convert --levels`: the peers' rule (2x2 until min(y, x) <= 256).
    tiff_level_count = len(level_shapes(np.load(input_path, mmap_mode="r").shape))
    # The W6/W7 source (written once, untimed) and the expected checksum come from a child:
    # a parent that touched the data would pass its resident memory on to every forked
    # child's peak RSS.
    rc, so, se, _ = run_child([sys.executable, HERE, "_tiffprep", input_path, src], args.timeout)
    if rc != 0:
        print(se, file=sys.stderr)
        return 1
    expected = (last_json(so) or {}).get("checksum")
    # The physical floor in this run: libzstd on 256 x 256 tiles and blosc-zstd on 8 MiB
    # chunks, single pass on every core (ome-bench floor).
    rc, so, se, _ = run_child([ome_bench, "floor", "--input", input_path], args.timeout)
    floor = last_json(so) if rc == 0 else None
    results: dict[tuple[str, str], list] = {}
    checked: dict[tuple[str, str], list[str]] = {}
    for rep in range(args.repeat):
        for w, tools in TIFF_WORKLOADS.items():
            for tool in tools:
                if only and w not in only and tool not in only:
                    continue
                out = os.path.join(work, f"{w}-{tool}" + (".ome.tif" if w == "W5" else ".ome.zarr"))
                if tool == "ours":
                    cmd = {"W5": [ome_bench, "write-tiff", "--input", input_path, "--out", out,
                                  "--min-size", str(MIN_SIZE), "--compression", "zstd:1"],
                           "W6": [ome_bench, "read-tiff", "--path", src],
                           "W7": [ome_bench, "convert-tiff", "--input", src, "--out", out,
                                  "--ngff-version", "0.5", "--compression", "blosc-zstd:1:shuffle",
                                  "--chunks", csv(CHUNKS)]}[w]
                elif tool == "ours-cli":
                    # `ome convert` as a user runs it, timed from outside (start, the .npy
                    # mapped or the TIFF read, the write, exit).
                    cli = find_ome_cli() or "ome"
                    cmd = {"W5": [cli, "convert", input_path, out, "--levels", str(tiff_level_count),
                                  "--compression", "zstd:1", "--bigtiff", "--overwrite", "-q"],
                           "W7": [cli, "convert", src, out, "--ngff-version", "0.5", "--compression",
                                  "blosc-zstd:1:shuffle", "--chunks", csv(CHUNKS), "--overwrite", "-q"]}[w]
                else:
                    cmd = [sys.executable, HERE, "_tiffchild", tool, w, input_path, src, out]
                os.sync()  # no tool pays for another's writeback
                t0 = time.perf_counter()
                rc, so, se, rss = run_child(cmd, args.timeout)
                wall = time.perf_counter() - t0
                res = last_json(so) or {}
                seconds = wall if tool == "ours-cli" else res.get("seconds")
                if rc != 0:
                    print(f"{w} {tool}: exit {rc}: {se[-400:]}", file=sys.stderr)
                    seconds = None
                key = (w, tool)
                if key not in checked and seconds is not None:
                    if w == "W6":
                        checked[key] = [] if res.get("checksum") == expected else ["checksum differs"]
                    else:
                        # In a child, to keep this process small (see above).
                        vrc, vo, ve, _ = run_child([sys.executable, HERE, "_tiffverify", w, out,
                                                    input_path, src], args.timeout)
                        checked[key] = ((last_json(vo) or {}).get("problems", ["verify failed"])
                                        if vrc == 0 else [f"verify failed: {ve[-200:]}"])
                results.setdefault(key, []).append({"seconds": seconds, "peak_rss_bytes": rss,
                                                    "peak_anon_bytes": res.get("peak_anon_bytes")})
                print(f"rep {rep} {w:3} {tool:22} {seconds if seconds is None else round(seconds, 3)} s "
                      f"rss {fmt_bytes(rss)} {'; '.join(checked.get(key, []))}", flush=True)
                if w != "W5" or tool != "ours":
                    if w == "W7":
                        shutil.rmtree(out, ignore_errors=True)
    rows = []
    for (w, tool), rs in results.items():
        secs = [r["seconds"] for r in rs if r["seconds"] is not None]
        rows.append({"workload": w, "tool": tool, "seconds": secs,
                     "median_s": statistics.median(secs) if secs else None,
                     "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rs),
                     # ome-bench's own sample of anonymous memory: RSS without the page cache
                     # of the memory-mapped input or TIFF (which counts towards RSS).
                     "peak_anon_bytes": max((r["peak_anon_bytes"] or 0) for r in rs) or None,
                     "problems": checked.get((w, tool), ["not checked"])})
    ours = {r["workload"]: r["median_s"] for r in rows if r["tool"] == "ours"}
    floors = tiff_floor_seconds(input_path, floor)
    if floor:
        print("floor: zstd-1 tiles compress {zstd1_tile_compress_gbps:.2f} GB/s, decompress "
              "{zstd1_tile_decompress_gbps:.2f} GB/s; blosc-zstd-1 compress {compress_gbps:.2f} GB/s; "
              "downsample {downsample_gbps:.2f} GB/s; on {threads} threads".format(**floor))
        print("floor seconds: " + ", ".join(f"{w} {v:.3f}" for w, v in floors.items()))
        for w, o in ours.items():
            if o and floors.get(w):
                print(f"{w}: ours / floor = {o / floors[w]:.2f}; each peer / floor = " + ", ".join(
                    f"{r['tool']} {r['median_s'] / floors[w]:.2f}" for r in rows
                    if r["workload"] == w and r["tool"] != "ours" and r["median_s"]))
    print(f"{'workload':8} {'tool':22} {'median s':>9} {'peer/ours':>9} {'peak RSS':>10} {'anon':>10}  check")
    for r in rows:
        o = ours.get(r["workload"])
        r["ratio_vs_ours"] = r["median_s"] / o if (o and r["median_s"]) else None
        med = f"{r['median_s']:.3f}" if r["median_s"] else "failed"
        ratio = f"{r['ratio_vs_ours']:.2f}" if r["ratio_vs_ours"] else "-"
        check = "ok" if not r["problems"] else "; ".join(r["problems"])[:120]
        anon = fmt_bytes(r["peak_anon_bytes"]) if r["peak_anon_bytes"] else "-"
        print(f"{r['workload']:8} {r['tool']:22} {med:>9} {ratio:>9} {fmt_bytes(r['peak_rss_bytes']):>10} "
              f"{anon:>10}  {check}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input": input_path, "repeat": args.repeat, "cpus": os.cpu_count(), "rows": rows,
                       "floor": floor, "floor_s": floors}, f, indent=1)
    return 0


def tiff_floor_seconds(input_path: str, floor: dict | None) -> dict[str, float]:
    """Codec-bound floors of W5-W7 from the rates of `ome-bench floor`: W5 compresses every
    level's tiles and downsamples, W6 decompresses level 0's tiles, W7 decompresses every
    level's tiles and blosc-compresses them."""
    if not floor:
        return {}
    shape, nbytes = input_facts(input_path)
    total = pyramid_bytes(shape, nbytes)
    gb = 1e9
    return {
        "W5": total / (floor["zstd1_tile_compress_gbps"] * gb) + (total - nbytes) / (floor["downsample_gbps"] * gb),
        "W6": nbytes / (floor["zstd1_tile_decompress_gbps"] * gb),
        "W7": total / (floor["zstd1_tile_decompress_gbps"] * gb) + total / (floor["compress_gbps"] * gb),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "tiff":
        return tiff_main(argv[1:])
    if argv and argv[0] == "_tiffprep":
        import numpy as np

        a = np.load(argv[1])
        if not os.path.exists(argv[2]):
            tifffile_write(a, argv[2] + ".partial")
            os.replace(argv[2] + ".partial", argv[2])
        print(json.dumps({"checksum": checksum(a)}))
        return 0
    if argv and argv[0] == "_tilesum":
        import hashlib

        import numpy as np

        a = np.load(argv[1], mmap_mode="r")
        h = hashlib.blake2b(digest_size=16)
        for c, z, y, x in read_tiles(argv[2]):
            t = np.ascontiguousarray(a[0, c, z, y:y + TILE, x:x + TILE])
            h.update(t.astype(t.dtype.newbyteorder("<"), copy=False).view(np.uint8).reshape(-1).data)
        print(json.dumps({"checksum": h.hexdigest()}))
        return 0
    if argv and argv[0] == "_checksum":
        import numpy as np

        print(json.dumps({"checksum": checksum(np.load(argv[1], mmap_mode="r"))}))
        return 0
    if argv and argv[0] == "_tiffverify":
        w, out, input_path, src = argv[1:5]
        problems = verify_tiff(out, input_path) if w == "W5" else verify_zarr_levels(out, src)
        print(json.dumps({"problems": problems}))
        return 0
    if argv and argv[0] == "_tiffchild":
        tool, workload, input_path, src, out = argv[1:6]
        print(json.dumps(tiff_child(tool, workload, input_path, src, out)))
        return 0
    if argv and argv[0] == "_child":
        tool, workload, input_path, out = argv[1:5]
        print(json.dumps(child(tool, workload, input_path, out)))
        return 0
    if argv and argv[0] == "_verify":
        print(json.dumps(verify(argv[1], argv[2], argv[3] == "1")))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--size", default="small", help="tiny | small | full (gen_data.py sizes)")
    ap.add_argument("--input", help="input .npy (default: .bench/<size>.npy, generated if missing)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="",
                    help="comma list of workloads and/or tools, e.g. W2u,W3v3,tensorstore,ours")
    ap.add_argument("--workdir", help="scratch dir (default .bench/peers-<size>)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the written stores")
    args = ap.parse_args(argv)

    only = [x for x in args.only.split(",") if x]
    unknown = [x for x in only if x not in WORKLOADS and x not in TOOLS]
    if unknown:
        ap.error(f"unknown in --only: {unknown}; workloads {WORKLOADS}, tools {TOOLS}")
    workloads = [w for w in WORKLOADS if w in only] or list(WORKLOADS)
    tools = [t for t in TOOLS if t in only] or list(TOOLS)

    input_path = ensure_input(args.size, args.input)
    work = args.workdir or os.path.join(REPO, ".bench", f"peers-{args.size}")
    os.makedirs(work, exist_ok=True)

    shape, nbytes = input_facts(input_path)
    expected_sum = None
    if any(w in READ_WORKLOADS for w in workloads):
        expected_sum = expected_checksum(input_path, args.timeout)
        if expected_sum is None:
            return 1
    notes = []

    ome_bench = find_ome_bench()
    if "ours" in tools and not ome_bench:
        notes.append(f"ours: ome-bench not found (OME_BENCH or {REPO}/target/release/ome-bench); skipped")
        print(notes[-1], file=sys.stderr)
        tools = [t for t in tools if t != "ours"]
    stores = prepare_read_stores(input_path, work, workloads)
    tiles_path = tile_sum = None
    if any(w in TILE_WORKLOADS for w in workloads):
        # The same tiles for every tool: random c, z, and y, x on the 256 grid, fixed seed.
        import numpy as np

        rng = np.random.default_rng(17)
        tiles_path = os.path.join(work, "tiles.txt")
        with open(tiles_path, "w") as f:
            for _ in range(TILE_COUNT):
                f.write(f"{rng.integers(shape[1])} {rng.integers(shape[2])} "
                        f"{rng.integers(shape[3] // TILE) * TILE} {rng.integers(shape[4] // TILE) * TILE}\n")
        os.environ["PEERS_TILES"] = tiles_path
        rc, so, se, _ = run_child([sys.executable, HERE, "_tilesum", input_path, tiles_path], args.timeout)
        tile_sum = (last_json(so) or {}).get("checksum") if rc == 0 else None
        if tile_sum is None:
            print(se, file=sys.stderr)
            return 1
    if "ours-cli" in tools and not find_ome_cli():
        notes.append(f"ours-cli: ome not found (OME_CLI or {REPO}/target/release/ome); skipped")
        tools = [t for t in tools if t != "ours-cli"]

    results: dict[tuple[str, str], dict] = {}
    for rep in range(args.repeat):
        for w in workloads:
            for tool in tools:
                if not applies(tool, w):
                    continue
                r = results.setdefault((w, tool), {"seconds": [], "rss": [], "anon": [], "errors": [],
                                                   "verify": None})
                if r["errors"]:
                    continue  # a tool that failed once is not retried
                out = stores[w] if w in stores else os.path.join(work, f"{w}-{tool}")
                if w in WRITE_WORKLOADS:
                    shutil.rmtree(out, ignore_errors=True)
                # Flush the previous tool's dirty pages first, so that no tool pays for
                # another's writeback.
                os.sync()
                t0 = time.perf_counter()
                rc, so, se, rss = run_child(tool_cmd(tool, w, input_path, out, ome_bench, tiles_path),
                                            args.timeout)
                wall = time.perf_counter() - t0
                doc = last_json(so) if rc == 0 else None
                if tool == "ours-cli" and rc == 0:
                    # The whole process, as a user meets it: start, .npy read, write, exit.
                    doc = {"seconds": wall}
                if doc is None or "seconds" not in doc:
                    msg = (se.strip().splitlines() or [f"exit {rc}"])[-1][:300]
                    r["errors"].append(msg)
                    print(f"[{rep}] {w:6} {tool:12} FAILED: {msg}", file=sys.stderr)
                    continue
                r["seconds"].append(doc["seconds"])
                r["rss"].append(doc.get("peak_rss_bytes") or rss)
                if doc.get("peak_anon_bytes"):
                    r["anon"].append(doc["peak_anon_bytes"])
                if "bytes_written" in doc:
                    r["bytes_written"] = doc["bytes_written"]
                print(f"[{rep}] {w:6} {tool:12} {doc['seconds']:8.3f} s  {fmt_bytes(r['rss'][-1])}",
                      file=sys.stderr)
                if r["verify"] is None and not args.no_verify:
                    if w in WRITE_WORKLOADS:
                        if "bytes_written" not in r:
                            r["bytes_written"] = du(out)
                        vrc, vo, ve, _ = run_child([sys.executable, HERE, "_verify", out, input_path,
                                                    "1" if WRITE_WORKLOADS[w][1] else "0"], args.timeout)
                        r["verify"] = last_json(vo) or {"ok": False, "problems": [ve.strip()[-300:]]}
                    elif w in TILE_WORKLOADS:
                        ok = doc.get("checksum") == tile_sum
                        r["verify"] = {"ok": ok, "problems": [] if ok else ["tiles differ from the input"]}
                    elif "checksum" in doc:
                        ok = doc["checksum"] == expected_sum and tuple(doc["shape"]) == shape
                        r["verify"] = {"ok": ok, "problems": [] if ok else ["level 0 differs from the input"]}
                    else:
                        r["verify"] = {"ok": None, "problems": ["not checked (reader reports no data)"]}
                if w in WRITE_WORKLOADS and not args.keep and r["verify"] is not None:
                    shutil.rmtree(out, ignore_errors=True)

    floor = None
    if ome_bench and "ours" in tools:
        rc, so, se, _ = run_child([ome_bench, "floor", "--input", input_path], args.timeout)
        floor = last_json(so) if rc == 0 else None
        if floor is None:
            notes.append(f"ome-bench floor failed: {se.strip()[-300:]}")

    rows = []
    for w in workloads:
        ours = results.get((w, "ours"), {}).get("seconds")
        ours_med = statistics.median(ours) if ours else None
        for tool in tools:
            if (w, tool) not in results:
                continue
            r = results[(w, tool)]
            med = statistics.median(r["seconds"]) if r["seconds"] else None
            rows.append({
                "workload": w, "tool": tool, "median_s": med, "runs_s": r["seconds"],
                "ratio_vs_ours": (med / ours_med) if med and ours_med else None,
                "peak_rss_bytes": max(r["rss"]) if r["rss"] else None,
                "peak_anon_bytes": max(r["anon"]) if r["anon"] else None,
                "bytes_written": r.get("bytes_written"),
                "verified": (r["verify"] or {}).get("ok"),
                "problems": (r["verify"] or {}).get("problems", []) + r["errors"],
                "floor_s": floor_seconds(w, shape, nbytes, floor),
            })
    print_table(rows, floor, shape, notes)
    if args.json:
        doc = {"size": args.size, "shape": shape, "input": input_path, "repeat": args.repeat,
               "tools": tools, "workloads": workloads, "rows": rows, "floor": floor, "notes": notes,
               "versions": versions(), "cpus": os.cpu_count()}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


def du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def floor_seconds(w: str, shape, nbytes: int, floor: dict | None) -> float | None:
    """Codec-bound floor: encode every level (+ downsample) for writes, decode level 0 for reads."""
    import math

    if not floor:
        return None
    gb = 1e9
    if w in WRITE_WORKLOADS:
        total = pyramid_bytes(shape, nbytes)
        return total / (floor["compress_gbps"] * gb) + (total - nbytes) / (floor["downsample_gbps"] * gb)
    if w in TILE_WORKLOADS:
        # Decoding only the tiles' own bytes (blosc blocks of at most one plane of a chunk,
        # inner chunks of one plane when sharded) at the rate of a whole-chunk decode.
        per_voxel = nbytes / max(1, math.prod(shape))
        return TILE_COUNT * TILE * TILE * per_voxel / (floor["decompress_gbps"] * gb)
    return nbytes / (floor["decompress_gbps"] * gb)


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("numpy", "zarr", "zarrs", "tensorstore", "ome-zarr", "ngff-zarr", "numcodecs", "dask"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def print_table(rows, floor, shape, notes) -> None:
    print(f"shape {shape}")
    print(f"{'workload':8} {'tool':12} {'median s':>9} {'peer/ours':>9} {'peak RSS':>10} {'ours/floor':>10}  check")
    for r in rows:
        med = f"{r['median_s']:.3f}" if r["median_s"] is not None else "failed"
        ratio = f"{r['ratio_vs_ours']:.2f}" if r["ratio_vs_ours"] else "-"
        fl = (f"{r['median_s'] / r['floor_s']:.2f}" if r["tool"] == "ours" and r["floor_s"] and r["median_s"]
              else "-")
        check = {True: "ok", False: "MISMATCH", None: "-"}[r["verified"]]
        if r["problems"]:
            check += " " + "; ".join(r["problems"])[:160]
        print(f"{r['workload']:8} {r['tool']:12} {med:>9} {ratio:>9} {fmt_bytes(r['peak_rss_bytes']):>10} "
              f"{fl:>10}  {check}")
    if floor:
        print("floor: compress {compress_gbps:.2f} GB/s, decompress {decompress_gbps:.2f} GB/s, "
              "downsample {downsample_gbps:.2f} GB/s on {threads} threads".format(**floor))
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    sys.exit(main())
