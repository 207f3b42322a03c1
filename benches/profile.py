#!/usr/bin/env python3
"""Where the time of each workload goes (issue 17 item 4): runs our binaries under
`perf record` (user and kernel samples of every thread), and sorts the samples into
codec, copy, page faults, downsampling, I/O and other work.

    cargo build --release -p ome-benches -p ome-cli
    .venv/bin/python benches/profile.py --input .bench/full.npy --json benches/results/profile-full.json

Needs `perf` and `perf_event_paranoid` <= 2 (profiling one's own processes). Shares are of
all samples on all threads (CPU time), not of wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.environ.get("OME_BENCH", os.path.join(REPO, "target", "release", "ome-bench"))
OME = os.environ.get("OME_CLI", os.path.join(REPO, "target", "release", "ome"))

# First match wins; patterns are searched in the symbol name.
BUCKETS = [
    ("codec", r"ZSTD_|HUF_|FSE_|HIST_|ZSTDMT|blosc|shuffle|unshuffle|bitshuffle|lz4|LZ4|deflate|inflate|"
              r"adler32|crc32|zstd|fast_blosc|blosc_tiles|direct::blosc|huf_decompress|xxhash"),
    ("page faults (zeroing new memory)", r"clear_page|folio_zero|do_anonymous_page|handle_mm_fault|"
              r"exc_page_fault|do_huge_pmd|alloc_pages|get_page_from_freelist|__handle_mm_fault|"
              r"vma_alloc|memcg|lru_|free_pages|release_pages|free_unref|zap_|unmap_page|tlb_"),
    ("copy", r"memmove|memcpy|memset|copy_user|rep_movs|copy_to_iter|copy_from_iter|copy_page"),
    ("downsample", r"pyramid|downsample|mean_|block_mean"),
    ("file I/O (kernel)", r"ext4|xfs|btrfs|filemap|iomap|vfs_|ksys_|pread|pwrite|generic_perform_write|"
              r"page_cache|folio|blk_|bio_|submit_|dio|nvme|virtio|path_|link_path|lookup|d_lookup|"
              r"walk_component|inode|do_sys_open|do_filp_open|open|fstat|statx|readlink|"
              r"security_|syscall|entry_SYSCALL|__x64_sys"),
    ("scheduling, threads", r"schedule|futex|finish_task_switch|__switch_to|raw_spin|try_to_wake|"
              r"pthread|sched_|idle|rayon|crossbeam|park"),
    ("hash (benchmark check)", r"blake2|Blake2"),
]
HASH = "hash (benchmark check)"


def bucket(sym: str) -> str:
    for name, pat in BUCKETS:
        if re.search(pat, sym):
            return name
    return "other"


def text_delta(binary: str) -> int:
    """Virtual address minus file offset of the binary's executable segment: perf names the
    samples it cannot symbolise by file offset."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            return int(f[2], 16) - int(f[1], 16)
    return 0


def name_addresses(binary: str, addresses: list[str]) -> dict[str, str]:
    """Source files of samples perf left as bare addresses (zstd's assembly Huffman decoder,
    huf_decompress_amd64.S, has no symbol size): `addr2line` on the debug information."""
    if not addresses:
        return {}
    delta = text_delta(binary)
    out = subprocess.run(["addr2line", "-e", binary, *[hex(int(a, 16) + delta) for a in addresses]],
                         capture_output=True, text=True).stdout.splitlines()
    return dict(zip(addresses, out))


def profile(cmd: list[str], data: str) -> dict:
    t0 = time.perf_counter()
    subprocess.run(["perf", "record", "-F", "2000", "-o", data, "--", *cmd], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "sym",
                          "--stdio", "-q"], capture_output=True, text=True, check=True).stdout
    shares: dict[str, float] = {}
    tops: dict[str, list] = {}
    samples = []
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(.*)$", line)
        if m:
            samples.append((float(m.group(1)), m.group(3).strip()))
    bare = name_addresses(cmd[0], [sym for _, sym in samples if re.fullmatch(r"0x[0-9a-f]+", sym)])
    for pct, sym in samples:
        if sym in bare:
            sym = f"{sym} ({os.path.basename(bare[sym].split(':')[0])})"
        b = bucket(sym)
        shares[b] = shares.get(b, 0.0) + pct
        if len(tops.setdefault(b, [])) < 4:
            tops[b].append((sym[:70], pct))
    # The benchmark's own check (hashing what was read, after the clock stopped) is not
    # part of the workload: shares are of the other samples.
    hashed = shares.pop(HASH, 0.0)
    rest = sum(shares.values()) or 1.0
    return {"wall_s_under_perf": wall, "hash_pct_left_out": round(hashed, 1),
            "shares_pct": {k: round(100 * v / rest, 1) for k, v in
                           sorted(shares.items(), key=lambda kv: -kv[1])},
            "top_by_share": {k: v for k, v in tops.items() if k != HASH}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default=os.path.join(REPO, ".bench", "full.npy"))
    ap.add_argument("--stores", default=os.path.join(REPO, ".bench", "peers-full"),
                    help="peers.py's work folder (read-W2u, read-W2s, tiles.txt)")
    ap.add_argument("--json")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ome-profile-")
    z = os.path.join(work, "out.ome.zarr")
    tif = os.path.join(work, "out.ome.tif")
    conv = os.path.join(work, "conv.ome.zarr")
    stores = args.stores
    tiles = os.path.join(stores, "tiles.txt")
    common = ["--min-size", "256", "--overwrite", "-q"]
    runs = [
        ("W1 ome convert 0.4", [OME, "convert", args.input, z, "--ngff-version", "0.4",
                                "--chunks", "1,1,64,256,256", *common]),
        ("W2u ome convert 0.5", [OME, "convert", args.input, z, "--ngff-version", "0.5",
                                 "--chunks", "1,1,64,256,256", *common]),
        ("W2s ome convert 0.5 sharded", [OME, "convert", args.input, z, "--ngff-version", "0.5",
                                         "--chunks", "1,1,1,256,256", "--shards", "1,1,64,1024,1024",
                                         *common]),
        ("W3v3 read level 0", [BENCH, "read-zarr", "--path", os.path.join(stores, "read-W2u"),
                               "--level", "0"]),
        ("W3v3s read level 0, sharded", [BENCH, "read-zarr", "--path", os.path.join(stores, "read-W2s"),
                                         "--level", "0"]),
        ("W4u 1000 tiles", [BENCH, "read-tiles", "--path", os.path.join(stores, "read-W2u"),
                            "--tiles", tiles, "--tile", "256"]),
        ("W4s 1000 tiles, sharded", [BENCH, "read-tiles", "--path", os.path.join(stores, "read-W2s"),
                                     "--tiles", tiles, "--tile", "256"]),
        ("W5 ome convert to OME-TIFF", [OME, "convert", args.input, tif, "--levels", "4",
                                        "--compression", "zstd:1", "--bigtiff", "--overwrite", "-q"]),
        ("W6 read OME-TIFF level 0", [BENCH, "read-tiff", "--path", tif]),
        ("W7 ome convert OME-TIFF to 0.5", [OME, "convert", tif, conv, "--ngff-version", "0.5",
                                            "--compression", "blosc-zstd:1:shuffle",
                                            "--chunks", "1,1,64,256,256", "--overwrite", "-q"]),
    ]
    out = {}
    try:
        for name, cmd in runs:
            os.sync()
            out[name] = profile(cmd, os.path.join(work, "perf.data"))
            r = out[name]
            print(f"{name:32} {r['wall_s_under_perf']:6.2f} s  " +
                  ", ".join(f"{k} {v:.0f}%" for k, v in r["shares_pct"].items() if v >= 1), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input": args.input, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "workloads": out}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
