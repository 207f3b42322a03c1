"""Makes testdata/demo/cells_tczyx_uint16.npy, the bundled default input of scripts/demo.sh.

A deterministic fluorescence-like (1, 2, 8, 256, 256) uint16 volume: two channels of
Gaussian "cells" on a smooth background with shot noise. Made with numpy 2.4.6
(.venv from scripts/setup-venv.sh): `.venv/bin/python testdata/demo/make_demo.py`.
"""

from pathlib import Path

import numpy as np


def main() -> None:
    rng = np.random.default_rng(20261127)
    t, c, z, y, x = 1, 2, 8, 256, 256
    zz, yy, xx = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    out = np.empty((t, c, z, y, x), dtype=np.uint16)
    for ch in range(c):
        signal = 100.0 + 20.0 * np.sin(yy / 40.0 + ch) * np.cos(xx / 55.0)
        for _ in range(40):
            cz, cy, cx = rng.uniform(0, z), rng.uniform(0, y), rng.uniform(0, x)
            sxy, sz = rng.uniform(3, 9), 2.0
            amp = rng.uniform(300, 2500)
            signal += amp * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sxy**2) - (zz - cz) ** 2 / (2 * sz**2))
        noisy = rng.normal(signal, np.sqrt(signal / 2.0) + 2.0)
        out[0, ch] = np.clip(np.rint(noisy), 0, 65535).astype(np.uint16)
    np.save(Path(__file__).with_name("cells_tczyx_uint16.npy"), out)


if __name__ == "__main__":
    main()
