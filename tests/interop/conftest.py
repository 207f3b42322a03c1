"""Shared fixtures for the interop suite: our `ome` binary against the Python peers.

Run with `.venv/bin/pytest tests/interop -q` after `bash scripts/setup-venv.sh`.

- `OME_BIN` selects the binary (default target/release/ome, then target/debug/ome).
  Tests that need it are skipped, with the reason shown, when it is missing.
- Under CI=true every skip is reported as a failure (`tests/no_skip_in_ci.py`).
- `shared_dir` is $REPO/../shared/spec-data (override with OME_SPEC_DATA).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(REPO / "tests"))
from no_skip_in_ci import pytest_runtest_makereport  # noqa: E402,F401  (a skip fails under CI=true)


def _find_ome_bin() -> Path | None:
    env = os.environ.get("OME_BIN")
    cands = [Path(env)] if env else [REPO / "target/release/ome", REPO / "target/debug/ome"]
    for c in cands:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


OME_BIN = _find_ome_bin()
MISSING_BIN = ("ome binary not found (set OME_BIN, or `cargo build --release -p ome-cli` so that "
               f"{REPO}/target/release/ome exists)")


def pytest_configure(config):
    # ome-zarr-py 0.18 builds a deprecated Scaler as a default argument at import time
    config.addinivalue_line("filterwarnings", "ignore:Call to deprecated class Scaler:DeprecationWarning")


def pytest_report_header(config):
    return f"ome binary: {OME_BIN or 'MISSING - tests that need it are skipped'}"


def pytest_collection_modifyitems(config, items):
    if OME_BIN is not None:
        return
    skip = pytest.mark.skip(reason=MISSING_BIN)
    for item in items:
        if "ome" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if OME_BIN is None:
        terminalreporter.write_line(f"NOTE: {MISSING_BIN}; every test using it was skipped", yellow=True)


class Ome:
    """Thin wrapper over the CLI; every failure carries the command and its stderr."""

    def __init__(self, binary: Path):
        self.binary = binary

    def run(self, *args, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.binary), *map(str, args)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"`{' '.join(cmd)}` exited {p.returncode}\nstderr:\n{p.stderr}")
        return p

    def info(self, path) -> dict:
        p = self.run("info", path, "--json")
        try:
            return json.loads(p.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"`ome info {path} --json` printed no JSON object: {e}\n{p.stdout[:2000]}")

    def to_npy(self, src, out: Path, level: int | None = None, select: str | None = None) -> np.ndarray:
        args = ["convert", src, out, "--overwrite"]
        if level is not None:
            args += ["--level", level]
        if select:
            args += ["--select", select]
        self.run(*args)
        return np.load(out)

    def convert(self, src, out, *options) -> None:
        self.run("convert", src, out, *options)


@pytest.fixture(scope="session")
def ome() -> Ome:
    if OME_BIN is None:
        pytest.skip(MISSING_BIN)
    return Ome(OME_BIN)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    d = Path(os.environ.get("OME_SPEC_DATA", REPO.parent / "shared" / "spec-data"))
    if not d.is_dir():
        pytest.skip(f"spec data not found at {d} (set OME_SPEC_DATA)")
    return d
