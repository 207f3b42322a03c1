"""A pytest hook shared by both Python suites (tests/interop, ome-py/tests): under
CI=true a skipped test is reported as failed, because a missing component (a peer, Java,
the Bio-Formats jar, the spec data, a binary) must never let CI pass. Locally a skip stays a
skip, with its reason shown by `-rs`.

Each suite's conftest.py imports the hook into its own namespace, so it is active however
pytest is started.
"""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every component must be present: {reason}"
