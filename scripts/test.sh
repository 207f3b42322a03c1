#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, property, spec-data and CLI tests), then the
# Python interop suite against zarr-python, ome-zarr-py, ngff-zarr, ome-zarr-models and
# tensorstore, installed pinned into .venv by scripts/setup-venv.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Under CI=true a test that would be skipped fails instead (testkit::skip in Rust,
# tests/no_skip_in_ci.py in Python): a missing component must never pass CI.
if [ ! -d ../shared/spec-data ]; then
  if [ "${CI:-}" = true ]; then
    echo "ERROR: ../shared/spec-data not found beside the checkout; CI needs it" >&2
    exit 1
  fi
  echo "NOTE: ../shared/spec-data not found: tests that read the official spec data will say SKIPPED"
fi

# xmllint checks written OME-XML against the official XSD (the test says SKIPPED without it).
if ! command -v xmllint >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing xmllint (libxml2-utils)"
  (apt-get update -qq && apt-get install -y -qq libxml2-utils) >/dev/null 2>&1 || echo "NOTE: could not install xmllint"
fi

# The pinned Python environment (downloads and unpacking: I/O more than CPU) is made
# beside cargo test too.
venv_log="$(mktemp)"
echo "== python environment (scripts/setup-venv.sh, in the background)"
bash scripts/setup-venv.sh >"$venv_log" 2>&1 &
venv_pid=$!

echo "== cargo test (workspace)"
cargo test --workspace --locked 2>&1

# `cargo test` built the binaries the interop suite runs (ome-cli's and ome-validate's
# integration tests need them), with the artifacts the bindings reuse below.
for bin in ome ome-validate; do
  if [ ! -x "target/debug/$bin" ]; then
    echo "ERROR: target/debug/$bin was not built by cargo test" >&2
    exit 1
  fi
done

echo "== python environment: waiting for scripts/setup-venv.sh"
if ! wait "$venv_pid"; then
  cat "$venv_log"
  echo "ERROR: scripts/setup-venv.sh failed" >&2
  exit 1
fi
cat "$venv_log"

bash scripts/check-feature-parity.sh

# The interop suite writes with ome_py too (tests/interop/test_scale_factors.py): build the
# bindings first, so that it never runs against a stale module.
echo "== ome-py: build the bindings into .venv (dev profile = test profile: reuses cargo test's artifacts)"
(cd ome-py && VIRTUAL_ENV="$PWD/../.venv" ../.venv/bin/maturin develop --locked -q)

# The validator in the browser (web/): its WebAssembly build (the fast profile: the same
# code, unoptimised, a fraction of the compile time), Debian's chromium and the pinned
# browser driver, for tests/interop/test_web.py. It is built while the other Python tests
# run (they wait on servers and subprocesses more than on the CPU), in its own target
# directory, not beside cargo test, whose build keeps both of CI's cores busy.
web_log="$(mktemp)"
echo "== web: ome-validate as WebAssembly, chromium, playwright-core (scripts/setup-web.sh, in the background)"
OME_WEB_FAST=1 bash scripts/setup-web.sh >"$web_log" 2>&1 &
web_pid=$!

echo "== pytest interop (all but the browser's tests)"
export OME_BIN="$PWD/target/debug/ome"
.venv/bin/python -m pytest tests/interop -q -p no:cacheprovider --ignore=tests/interop/test_web.py

echo "== ome-py: test the bindings"
.venv/bin/python -m pytest ome-py/tests -q -p no:cacheprovider
.venv/bin/python -m mypy.stubtest ome_py

echo "== web: waiting for scripts/setup-web.sh"
if ! wait "$web_pid"; then
  cat "$web_log"
  if [ "${CI:-}" = true ]; then
    echo "ERROR: scripts/setup-web.sh failed; CI needs the browser test" >&2
    exit 1
  fi
  echo "NOTE: the web page could not be built: tests/interop/test_web.py will say SKIPPED"
else
  cat "$web_log"
fi

echo "== pytest: the page in headless chromium"
.venv/bin/python -m pytest tests/interop/test_web.py -q -p no:cacheprovider
