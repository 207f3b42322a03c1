#!/usr/bin/env bash
# Proves that the ome-py wheel installs and works on a fresh machine: builds the wheel
# the way users do (`pip wheel ./ome-py`, maturin backend, release profile), installs it
# into a brand-new virtual environment that holds nothing but the wheel and NumPy, writes
# and reads a small image in OME-Zarr 0.4 / 0.5 and OME-TIFF from outside the source
# tree, and prints the wheel's platform tag and the system libraries the module needs.
#
#   bash scripts/check-wheel.sh            # build, install, test; keeps nothing
#   KEEP=1 bash scripts/check-wheel.sh     # keep the temp dir (the wheel is in it)
#   WHEEL=path/to.whl bash scripts/check-wheel.sh   # test a wheel built elsewhere
#
# Needs python3 (3.9+) with venv and pip, a Rust toolchain to build, and access to a
# package index (or pip's cache) for NumPy and, for the audit, auditwheel.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
PY="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ome-py-wheel.XXXXXX")"
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; fi

if [ -n "${WHEEL:-}" ]; then
  mkdir -p "$TMP/dist" && cp "$WHEEL" "$TMP/dist/"
else
  echo "== pip wheel ./ome-py"
  if [ -x .venv/bin/maturin ]; then
    # The repository's pinned maturin; no download of the build backend.
    PATH="$REPO/.venv/bin:$PATH" .venv/bin/python -m pip wheel --no-deps --no-build-isolation -q \
      -w "$TMP/dist" ./ome-py
  else
    "$PY" -m pip wheel --no-deps -q -w "$TMP/dist" ./ome-py
  fi
fi
WHL="$(ls "$TMP"/dist/ome_py-*.whl)"
echo "wheel: $(basename "$WHL") ($(du -h "$WHL" | cut -f1))"
echo "tag:   $(unzip -p "$WHL" '*.dist-info/WHEEL' | sed -n 's/^Tag: //p' | paste -sd' ')"

echo "== fresh venv: only the wheel and numpy"
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check "$WHL"
"$TMP/venv/bin/python" -m pip list --disable-pip-version-check --format=freeze | grep -v -E '^(pip|setuptools)=='

echo "== import, write, read (run from $TMP, not the source tree)"
cd "$TMP"
"$TMP/venv/bin/python" - <<'EOF'
import os, sys
import numpy as np
import ome_py

print("python", sys.version.split()[0], "| ome_py", ome_py.__version__, "from", os.path.dirname(ome_py.__file__))
assert "site-packages" in ome_py.__file__, "imported the source tree, not the wheel"
data = np.random.default_rng(0).integers(0, 4000, (2, 4, 300, 200), dtype=np.uint16)
for version in ("0.4", "0.5"):
    path = f"check-{version}.ome.zarr"
    ome_py.write_ome_zarr(path, data, axes="czyx", version=version, chunks=[1, 4, 128, 128],
                          compression="blosc-zstd:1", overwrite=True)
    image = ome_py.open(path)
    assert (image.read(0) == data).all() and (image.read(0, c=1, z=2) == data[1, 2]).all()
    assert ome_py.validate(path).ok, ome_py.validate(path).to_json()
    print(f"OME-Zarr {version}: {len(image.levels)} levels, {[l.shape for l in image.levels]}, round trip ok, valid")
ome_py.write_ome_tiff("check.ome.tif", data, axes="czyx", tile=(128, 128), compression="zstd")
tif = ome_py.open("check.ome.tif")
assert (tif.read(0) == data).all()
print(f"OME-TIFF: {tif.format}, levels {[l.shape for l in tif.levels]}, round trip ok")
EOF

SO="$(ls "$TMP"/venv/lib/python*/site-packages/ome_py/_ome_py*.so)"
echo "== system libraries the module needs (ELF NEEDED; ldd resolves them)"
if command -v readelf >/dev/null; then readelf -d "$SO" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | paste -sd' '; fi
ldd "$SO" | sed 's/^\s*/  /'
echo "newest glibc symbol version: $(objdump -T "$SO" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"

echo "== auditwheel show (in a separate throwaway venv)"
if "$PY" -m venv "$TMP/tools" && "$TMP/tools/bin/pip" install -q --disable-pip-version-check auditwheel 2>/dev/null; then
  "$TMP/tools/bin/auditwheel" show "$WHL" 2>&1 | grep -v '^INFO' | sed '/^$/d'
else
  echo "auditwheel not available (no package index); skipped"
fi
echo "== ok"
