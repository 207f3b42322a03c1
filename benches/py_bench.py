#!/usr/bin/env python3
"""Compare the Python bindings (`ome_py`) with the Python peers, from Python.

Workloads (BENCHMARK.md layout: 2x2 mean pyramid until min(y, x) <= 256, chunks
(1, 1, 64, 256, 256), blosc zstd 1 byte shuffle):
  PW1   write an OME-Zarr 0.4 pyramid from an in-memory array
  PW2   write an OME-Zarr 0.5 pyramid (Zarr v3, unsharded)
  PR1   read level 0 into NumPy from a 0.4 (v2) store written by zarr-python
  PR2   read level 0 into NumPy from a 0.5 (v3) store written by zarr-python
  PT    read level 0 of an OME-TIFF written by tifffile (BigTIFF, SubIFD pyramid,
        256x256 tiles, zstd 1, no predictor)

Tools: ours (`ome_py.write_ome_zarr`, `ome_py.open(p).read()`); ome-zarr-py
(`write_image` with the chunks and compressor above and `Methods.LOCAL_MEAN`, the same
2x2 mean as ours); ome-zarr-py-default (the same with its default method, a resize
with anti-aliasing: other arithmetic, same level shapes); ngff-zarr (opt-in: name it in
--only); zarr (zarr-python `open_array(...)[...]`); tifffile (`imread(maxworkers=
os.cpu_count())`). The peers' writers and readers are those of benches/peers.py.

Every measurement is a fresh subprocess; the input is loaded into RAM (np.load, C
order) before the clock starts; peak RSS is the child's ru_maxrss (the input included
for writes); os.sync() runs between tools; tools are interleaved within each repeat
and the table shows medians and peer/ours ratios. Written pyramids are checked untimed
(level shapes, chunks, codec, level 0 equal to the input) and every read is
checksummed against the input.

    .venv/bin/python benches/py_bench.py --size full --repeat 3 --json benches/results/py-full.json
    .venv/bin/python benches/py_bench.py --size small --only PR2,PT
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import peers  # noqa: E402  (the shared harness: layout, peer writers/readers, run_child)

WRITE_WORKLOADS = {"PW1": "0.4", "PW2": "0.5"}
READ_WORKLOADS = {"PR1": "W1", "PR2": "W2u", "PT": "tiff"}  # store each one reads
WORKLOADS = list(WRITE_WORKLOADS) + list(READ_WORKLOADS)
TOOLS = {"PW1": ["ours", "ome-zarr-py", "ome-zarr-py-default", "ngff-zarr"],
         "PW2": ["ours", "ome-zarr-py", "ome-zarr-py-default", "ngff-zarr"],
         "PR1": ["ours", "zarr"], "PR2": ["ours", "zarr"], "PT": ["ours", "tifffile"]}
ALL_TOOLS = ["ours", "ome-zarr-py", "ome-zarr-py-default", "ngff-zarr", "zarr", "tifffile"]
OPT_IN = {"ngff-zarr"}  # slow; run only when named in --only
TILE = (256, 256)


# ----------------------------------------------------------------------------- child side


def load(input_path: str):
    """The input in RAM, C order (read, not memory-mapped: mapped file pages would count
    in the peak RSS next to the copy)."""
    import numpy as np

    return np.ascontiguousarray(np.load(input_path))


def write_ours(a, out: str, version: str) -> None:
    import ome_py

    ome_py.write_ome_zarr(out, a, axes="tczyx", version=version, chunks=list(peers.CHUNKS),
                          compression="blosc-zstd:1", method="mean", overwrite=True)


def write_ome_zarr_py_default(a, out: str, version: str) -> None:
    """ome-zarr-py write_image with its default downsampling method."""
    import numcodecs
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image
    from zarr.codecs import BloscCodec

    shapes = peers.level_shapes(a.shape)
    fmt = FormatV04() if version == "0.4" else FormatV05()
    comp = (numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, 0) if version == "0.4"
            else BloscCodec(**peers.BLOSC))
    opts = [{"chunks": peers.clip(peers.CHUNKS, s), "compressor": comp} for s in shapes]
    write_image(a, out, fmt=fmt, axes="tczyx", scale_factors=[2 ** k for k in range(1, len(shapes))],
                storage_options=opts)


def write_tiff_tifffile(a, out: str) -> None:
    """The PT source: tifffile's pyramidal OME-TIFF (untimed)."""
    import tifffile

    shapes = peers.level_shapes(a.shape)
    opts = dict(tile=TILE, compression="zstd", compressionargs={"level": 1}, predictor=False,
                maxworkers=os.cpu_count())
    with tifffile.TiffWriter(out, bigtiff=True, ome=True) as tw:
        tw.write(a, subifds=len(shapes) - 1, metadata={"axes": "TCZYX"}, **opts)
        level = a
        for _ in shapes[1:]:
            level = peers.downsample(level)
            tw.write(level, subfiletype=1, **opts)


def child(tool: str, workload: str, input_path: str, out: str) -> dict:
    import numpy as np

    if workload in WRITE_WORKLOADS:
        version = WRITE_WORKLOADS[workload]
        a = load(input_path)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        if tool == "ours":
            write_ours(a, out, version)
        elif tool == "ome-zarr-py-default":
            write_ome_zarr_py_default(a, out, version)
        else:
            peers.WRITERS[tool](a, out, version, False)
        return {"seconds": time.perf_counter() - t0}
    if workload == "_tiff":
        write_tiff_tifffile(load(input_path), out)
        return {"seconds": 0.0}
    t0 = time.perf_counter()
    if tool == "ours":
        import ome_py

        b = ome_py.open(out).read(0)
    elif tool == "tifffile":
        import tifffile

        b = tifffile.imread(out, maxworkers=os.cpu_count())
    else:
        b = peers.read_level0(tool, out)
    seconds = time.perf_counter() - t0
    b = np.asarray(b)
    if b.ndim < 5:  # tifffile squeezes length-1 axes
        b = b.reshape(np.load(input_path, mmap_mode="r").shape)
    return {"seconds": seconds, "shape": list(b.shape), "checksum": peers.checksum(b)}


# ----------------------------------------------------------------------------- parent side


def prepare_read_sources(input_path: str, work: str, size: str, workloads: list[str]) -> dict[str, str]:
    """Zarr stores written once by zarr-python (peers.py's, reused when present) and the
    OME-TIFF written once by tifffile; none of it is timed."""
    sources = {}
    for w in workloads:
        if w not in READ_WORKLOADS:
            continue
        src = READ_WORKLOADS[w]
        if src == "tiff":
            path = os.path.join(work, "read-tifffile.ome.tif")
            cmd = [sys.executable, HERE, "_child", "tifffile", "_tiff", input_path, path]
        else:
            shared = os.path.join(REPO, ".bench", f"peers-{size}", f"read-{src}")
            if os.path.exists(os.path.join(shared, ".done")):
                sources[w] = shared
                continue
            path = os.path.join(work, f"read-{src}")
            cmd = [sys.executable, peers.HERE, "_child", "zarr", src, input_path, path]
        if not os.path.exists(path + ".done"):
            if os.path.isdir(path):
                shutil.rmtree(path)
            print(f"writing the {w} source {path} (untimed) ...", file=sys.stderr)
            rc, _, err, _ = peers.run_child(cmd, 3600)
            if rc != 0:
                raise SystemExit(f"could not write the {w} source: {err[-2000:]}")
            open(path + ".done", "w").close()
        sources[w] = path
    return sources


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        print(json.dumps(child(*argv[1:5])))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--size", default="small", help="tiny | small | full (gen_data.py sizes)")
    ap.add_argument("--input", help="input .npy (default: .bench/<size>.npy, generated if missing)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list of workloads and/or tools, e.g. PW1,PR2,ours,zarr")
    ap.add_argument("--workdir", help="scratch dir (default .bench/py-<size>)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args(argv)

    only = [x for x in args.only.split(",") if x]
    unknown = [x for x in only if x not in WORKLOADS and x not in ALL_TOOLS]
    if unknown:
        ap.error(f"unknown in --only: {unknown}; workloads {WORKLOADS}, tools {ALL_TOOLS}")
    workloads = [w for w in WORKLOADS if w in only] or list(WORKLOADS)
    named_tools = [t for t in ALL_TOOLS if t in only]

    def tools_for(w: str) -> list[str]:
        ts = TOOLS[w]
        if named_tools:
            ts = [t for t in ts if t in named_tools or t == "ours"]
        return [t for t in ts if t not in OPT_IN or t in named_tools]

    input_path = peers.ensure_input(args.size, args.input)
    work = args.workdir or os.path.join(REPO, ".bench", f"py-{args.size}")
    os.makedirs(work, exist_ok=True)

    shape, nbytes = peers.input_facts(input_path)
    # Everything large happens in children (see peers.expected_checksum).
    expected = None
    if any(w in READ_WORKLOADS for w in workloads):
        expected = peers.expected_checksum(input_path, args.timeout)
    sources = prepare_read_sources(input_path, work, args.size, workloads)

    results: dict[tuple[str, str], dict] = {}
    for rep in range(args.repeat):
        for w in workloads:
            for tool in tools_for(w):
                r = results.setdefault((w, tool), {"seconds": [], "rss": [], "errors": [], "verify": None})
                if r["errors"]:
                    continue
                out = sources[w] if w in READ_WORKLOADS else os.path.join(work, f"{w}-{tool}")
                if w in WRITE_WORKLOADS:
                    shutil.rmtree(out, ignore_errors=True)
                os.sync()  # no tool pays for another's writeback
                cmd = [sys.executable, HERE, "_child", tool, w, input_path, out]
                rc, so, se, rss = peers.run_child(cmd, args.timeout)
                doc = peers.last_json(so) if rc == 0 else None
                if doc is None or "seconds" not in doc:
                    msg = (se.strip().splitlines() or [f"exit {rc}"])[-1][:300]
                    r["errors"].append(msg)
                    if w in WRITE_WORKLOADS:
                        shutil.rmtree(out, ignore_errors=True)
                    print(f"[{rep}] {w:4} {tool:20} FAILED: {msg}", file=sys.stderr)
                    continue
                r["seconds"].append(doc["seconds"])
                r["rss"].append(rss)
                print(f"[{rep}] {w:4} {tool:20} {doc['seconds']:8.3f} s  {peers.fmt_bytes(rss)}", file=sys.stderr)
                if r["verify"] is None and not args.no_verify:
                    if w in WRITE_WORKLOADS:
                        r["bytes_written"] = peers.du(out)
                        vrc, vo, ve, _ = peers.run_child([sys.executable, peers.HERE, "_verify", out, input_path,
                                                          "0"], args.timeout)
                        r["verify"] = peers.last_json(vo) or {"ok": False, "problems": [ve.strip()[-300:]]}
                    else:
                        ok = doc["checksum"] == expected and tuple(doc["shape"]) == shape
                        r["verify"] = {"ok": ok, "problems": [] if ok else ["level 0 differs from the input"]}
                if w in WRITE_WORKLOADS and r["verify"] is not None:
                    shutil.rmtree(out, ignore_errors=True)

    rows = []
    for w in workloads:
        ours = results.get((w, "ours"), {}).get("seconds")
        ours_med = statistics.median(ours) if ours else None
        for tool in tools_for(w):
            r = results[(w, tool)]
            med = statistics.median(r["seconds"]) if r["seconds"] else None
            rows.append({
                "workload": w, "tool": tool, "median_s": med, "runs_s": r["seconds"],
                "ratio_vs_ours": (med / ours_med) if med and ours_med else None,
                "peak_rss_bytes": max(r["rss"]) if r["rss"] else None,
                "bytes_written": r.get("bytes_written"),
                "verified": (r["verify"] or {}).get("ok"),
                "problems": (r["verify"] or {}).get("problems", []) + r["errors"],
            })
    print(f"shape {shape} ({nbytes / 1e9:.2f} GB), {os.cpu_count()} cpus, medians of {args.repeat}")
    print(f"{'workload':8} {'tool':20} {'median s':>9} {'peer/ours':>9} {'peak RSS':>10} {'written':>10}  check")
    for r in rows:
        med = f"{r['median_s']:.3f}" if r["median_s"] is not None else "failed"
        ratio = f"{r['ratio_vs_ours']:.2f}" if r["ratio_vs_ours"] else "-"
        check = {True: "ok", False: "MISMATCH", None: "-"}[r["verified"]]
        if r["problems"]:
            check += " " + "; ".join(r["problems"])[:160]
        print(f"{r['workload']:8} {r['tool']:20} {med:>9} {ratio:>9} {peers.fmt_bytes(r['peak_rss_bytes']):>10} "
              f"{peers.fmt_bytes(r['bytes_written']):>10}  {check}")
    if args.json:
        vers = peers.versions()
        for p in ("ome-py", "tifffile", "imagecodecs"):
            try:
                from importlib.metadata import version

                vers[p] = version(p)
            except Exception:  # noqa: BLE001 - missing package
                vers[p] = None
        doc = {"size": args.size, "shape": shape, "input": input_path, "repeat": args.repeat,
               "workloads": workloads, "rows": rows, "versions": vers, "cpus": os.cpu_count(),
               # Load at the end of the run: a busy machine makes the times worth less.
               "loadavg": os.getloadavg(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
