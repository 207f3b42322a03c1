"""Times ome_py.write_ome_zarr against ome-zarr-py write_image, and reads against
zarr-python / tifffile, on one array.

Usage: python ome-py/benches/write_vs_peers.py [MiB] [outdir]
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import ome_py


def timed(label, fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:45s} {best:8.3f} s")
    return best


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    base = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    z = max(1, mib * (1 << 20) // (2 * 2048 * 2048))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:2048, 0:2048]
    plane = (1000 + 500 * np.sin(yy / 50) * np.cos(xx / 70)).astype(np.uint16)
    data = np.stack([plane + rng.integers(0, 50, plane.shape, dtype=np.uint16) for _ in range(z)])
    data = data[np.newaxis]  # c z y x
    print(f"array {data.shape} {data.dtype}, {data.nbytes / 2**20:.0f} MiB")

    ours = base / "ours.ome.zarr"
    t_ours = timed("ome_py.write_ome_zarr (0.5, blosc-zstd:1)",
                   lambda: ome_py.write_ome_zarr(ours, data, axes="czyx", overwrite=True))

    import zarr
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image

    theirs = base / "theirs.ome.zarr"

    def write_theirs():
        shutil.rmtree(theirs, ignore_errors=True)
        root = zarr.group(store=parse_url(str(theirs), mode="w").store)
        write_image(data, root, axes="czyx")

    t_theirs = timed("ome-zarr-py write_image (defaults)", write_theirs)
    print(f"write speed-up: {t_theirs / t_ours:.1f}x")

    image = ome_py.open(ours)
    timed("ome_py read level 0", lambda: image.read(0), repeat=3)
    arr = zarr.open_array(str(ours / "0"), mode="r")
    timed("zarr-python read level 0 (same store)", lambda: arr[:], repeat=3)
    try:
        import tifffile

        tif = base / "x.ome.tif"
        tifffile.imwrite(tif, data, ome=True, tile=(256, 256), compression="zstd", metadata={"axes": "CZYX"})
        timed("tifffile read (tiled zstd OME-TIFF)", lambda: tifffile.imread(tif, maxworkers=None), repeat=3)
    except Exception as e:  # noqa: BLE001 - a bench, not a test
        print("tifffile skipped:", e)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
