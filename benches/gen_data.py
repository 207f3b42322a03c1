#!/usr/bin/env python3
"""Generate the BENCHMARK.md reference volume: fluorescence-like uint16, axes tczyx.

Sizes: full (1,2,64,2048,2048), small (1,2,16,2048,2048), tiny (1,2,8,512,512).

Per channel: offset + smooth low-frequency background + blurred 3-D blobs of two
sizes (sigma_xy 3 and 9 px, sigma_z 2) + shot noise (variance = signal / gain) +
Gaussian read noise; rounded and clipped to uint16. Deterministic for a seed.

The blobs are rendered as separable Gaussian patches added at random positions
(no full-volume convolution), and the background is built on a coarse grid and
upsampled, so `full` takes well under a minute on two cores.

Prints mean / max and the compression ratios that BENCHMARK.md asks the data to
reproduce (blosc-zstd-1 + byte shuffle on 1x1x64x256x256 chunks ~2.45x, plain zstd-1
on 256x256 tiles ~1.9x), measured with numcodecs on a sample of chunks.

    python benches/gen_data.py --size small --out .bench/small.npy
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

SIZES = {
    "full": (1, 2, 64, 2048, 2048),
    "small": (1, 2, 16, 2048, 2048),
    "tiny": (1, 2, 8, 512, 512),
}

# Tuned so that the default output lands near the BENCHMARK.md figures
# (mean ~144, max ~3500, blosc-zstd-1-shuffle ~2.45x, zstd-1 ~1.9x).
DEFAULTS = dict(
    offset=100.0,
    background=18.0,         # amplitude of the smooth background
    small_density=5.0e-4,    # small blobs per voxel
    large_density=1.0e-4,    # large blobs per voxel
    small_amp=(4.6, 0.8),    # log-normal (mu, sigma) of the peak amplitude
    large_amp=(4.0, 0.7),
    gain=2.0,                # shot noise variance = signal / gain
    read_noise=2.0,          # read noise std, in counts
)


def gaussian_1d(sigma: float, center_frac: float) -> np.ndarray:
    half = int(np.ceil(3.0 * sigma))
    x = np.arange(-half, half + 1, dtype=np.float32) - np.float32(center_frac)
    return np.exp(-0.5 * (x / sigma) ** 2).astype(np.float32)


def add_blobs(vol: np.ndarray, rng: np.random.Generator, density: float,
              sigma_xy: float, sigma_z: float, amp: tuple[float, float]) -> None:
    """Add separable Gaussian blobs in place (vol is z, y, x float32)."""
    nz, ny, nx = vol.shape
    n = int(round(density * nx * ny * nz))
    zs = rng.uniform(-sigma_z, nz - 1 + sigma_z, n)
    ys = rng.uniform(0, ny - 1, n)
    xs = rng.uniform(0, nx - 1, n)
    amps = rng.lognormal(amp[0], amp[1], n).astype(np.float32)
    for z, y, x, a in zip(zs, ys, xs, amps):
        zi, yi, xi = int(round(z)), int(round(y)), int(round(x))
        gz = gaussian_1d(sigma_z, z - zi) * a
        gy = gaussian_1d(sigma_xy, y - yi)
        gx = gaussian_1d(sigma_xy, x - xi)
        hz, hy, hx = len(gz) // 2, len(gy) // 2, len(gx) // 2
        z0, z1 = max(zi - hz, 0), min(zi + hz + 1, nz)
        y0, y1 = max(yi - hy, 0), min(yi + hy + 1, ny)
        x0, x1 = max(xi - hx, 0), min(xi + hx + 1, nx)
        if z0 >= z1:
            continue
        pz = gz[z0 - (zi - hz): z1 - (zi - hz)]
        py = gy[y0 - (yi - hy): y1 - (yi - hy)]
        px = gx[x0 - (xi - hx): x1 - (xi - hx)]
        vol[z0:z1, y0:y1, x0:x1] += pz[:, None, None] * (py[:, None] * px[None, :])[None]


def background(rng: np.random.Generator, shape: tuple[int, int, int], amp: float) -> np.ndarray:
    """Smooth low-frequency field: random coarse grid, bilinear upsampling in y, x and z."""
    nz, ny, nx = shape
    cz, cy, cx = max(nz // 16, 1) + 2, ny // 256 + 2, nx // 256 + 2
    coarse = rng.uniform(0.0, 1.0, (cz, cy, cx)).astype(np.float32)

    def up(a: np.ndarray, axis: int, n: int) -> np.ndarray:
        src = np.linspace(0, a.shape[axis] - 1, n, dtype=np.float32)
        i0 = np.clip(np.floor(src).astype(int), 0, a.shape[axis] - 2) if a.shape[axis] > 1 else np.zeros(n, int)
        i1 = np.minimum(i0 + 1, a.shape[axis] - 1)
        w = (src - i0).astype(np.float32)
        shape_w = [1] * a.ndim
        shape_w[axis] = n
        w = w.reshape(shape_w)
        return np.take(a, i0, axis=axis) * (1 - w) + np.take(a, i1, axis=axis) * w

    field = up(up(up(coarse, 0, nz), 1, ny), 2, nx)
    return (field * amp).astype(np.float32)


def generate(size: str, seed: int = 0, **params) -> np.ndarray:
    p = dict(DEFAULTS, **params)
    shape = SIZES[size]
    nt, nc, nz, ny, nx = shape
    out = np.empty(shape, dtype=np.uint16)
    for t in range(nt):
        for c in range(nc):
            rng = np.random.default_rng([seed, t, c])
            vol = background(rng, (nz, ny, nx), p["background"] * (1 + 0.3 * c))
            vol += np.float32(p["offset"])
            add_blobs(vol, rng, p["small_density"], 3.0, 2.0, p["small_amp"])
            add_blobs(vol, rng, p["large_density"], 9.0, 2.0, p["large_amp"])
            # noise, one z-plane at a time to bound memory
            for z in range(nz):
                plane = vol[z]
                signal = np.maximum(plane - np.float32(p["offset"]), 0)
                std = np.sqrt(signal / np.float32(p["gain"]) + np.float32(p["read_noise"] ** 2))
                noise = rng.standard_normal(plane.shape, dtype=np.float32)
                plane += noise * std
                np.rint(plane, out=plane)
                np.clip(plane, 0, 65535, out=plane)
                out[t, c, z] = plane.astype(np.uint16)
    return out


def compression_ratios(a: np.ndarray, max_chunks: int = 24, seed: int = 1) -> dict:
    """Ratios on a sample of (1,1,64,256,256) chunks (blosc) and 256x256 tiles (zstd)."""
    import numcodecs

    blosc = numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.SHUFFLE)
    zstd = numcodecs.Zstd(level=1)
    nt, nc, nz, ny, nx = a.shape
    rng = np.random.default_rng(seed)
    cells = [(t, c, z, y, x) for t in range(nt) for c in range(nc)
             for z in range(0, nz, 64) for y in range(0, ny, 256) for x in range(0, nx, 256)]
    if len(cells) > max_chunks:
        cells = [cells[i] for i in sorted(rng.choice(len(cells), max_chunks, replace=False))]
    raw = b_bytes = z_raw = z_bytes = 0
    for t, c, z, y, x in cells:
        chunk = np.ascontiguousarray(a[t, c, z:z + 64, y:y + 256, x:x + 256])
        raw += chunk.nbytes
        b_bytes += len(blosc.encode(chunk))
        for plane in chunk:
            tile = np.ascontiguousarray(plane)
            z_raw += tile.nbytes
            z_bytes += len(zstd.encode(tile))
    return {"blosc_zstd1_shuffle": raw / b_bytes, "zstd1": z_raw / z_bytes, "chunks_sampled": len(cells)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--out", help="output .npy (default .bench/<size>.npy under the repo)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-stats", action="store_true", help="skip the compression-ratio check")
    ap.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    for k, v in DEFAULTS.items():
        if not isinstance(v, tuple):
            ap.add_argument("--" + k.replace("_", "-"), type=float, default=v, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = args.out or os.path.join(repo, ".bench", f"{args.size}.npy")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    params = {k: getattr(args, k) for k, v in DEFAULTS.items() if not isinstance(v, tuple)}

    t0 = time.perf_counter()
    a = generate(args.size, args.seed, **params)
    gen_s = time.perf_counter() - t0
    np.save(out, a)
    stats = {"path": out, "shape": list(a.shape), "dtype": str(a.dtype), "seconds": round(gen_s, 2),
             "mean": round(float(a.mean()), 2), "max": int(a.max())}
    if not args.no_stats:
        stats.update({k: round(v, 3) if isinstance(v, float) else v
                      for k, v in compression_ratios(a).items()})
    if args.json:
        print(json.dumps(stats))
    else:
        print(" ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
