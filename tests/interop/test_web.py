"""The validator in the browser (web/): the page, built as WebAssembly by
scripts/setup-web.sh, run in headless Debian chromium (web/test/drive.mjs, through the
pinned npm package playwright-core) against datasets dropped on the page as folders (a
real drag-and-drop of a directory, through CDP's Input.dispatchDragEvent, as the desktop
does it), picked as folders, and read from a loopback URL. The page must show the verdict, codes and nodes of the CLI, and its JSON
report must equal `ome-validate --format json` on the same input.

Under CI=true a missing piece (the .wasm, chromium, node, the driver) fails the test.
Screenshots: set OME_WEB_SCREENSHOTS=DIR to keep the page's PNGs (web/screenshots/ holds
the committed ones).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from servers import RangeServer

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = Path(os.environ.get("OME_CHROMIUM", "/usr/bin/chromium"))
PAGE_FILES = ["index.html", "folder.js", "app.js", "worker.js", "style.css", "ome_web.wasm"]


def _binary(name: str) -> Path | None:
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def _require():
    missing = []
    if not (WEB / "ome_web.wasm").is_file():
        missing.append("web/ome_web.wasm (bash scripts/setup-web.sh)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium; scripts/setup-web.sh)")
    if shutil.which("node") is None:
        missing.append("node")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        missing.append("web/node_modules/playwright-core (cd web && npm ci)")
    validator = _binary("ome-validate")
    if validator is None:
        missing.append("target/debug/ome-validate (cargo build -p ome-validate)")
    if _binary("ome") is None:
        missing.append("target/debug/ome (cargo build -p ome-cli)")
    plate = _binary("examples/make_plate")
    if plate is None:
        missing.append("target/debug/examples/make_plate (cargo test builds it)")
    if missing:
        pytest.skip("the browser test needs: " + ", ".join(missing))
    return validator, plate


def _cli(validator: Path, cwd: Path, target: str, depth: str) -> dict:
    r = subprocess.run([str(validator), "--format", "json", "--depth", depth, target],
                       cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def _drive(site_url: str, jobs: list[dict], tmp: Path) -> list[dict]:
    spec = tmp / "jobs.json"
    spec.write_text(json.dumps({"base": site_url + "/", "chromium": str(CHROMIUM), "jobs": jobs}))
    r = subprocess.run(["node", str(WEB / "test" / "drive.mjs"), str(spec)], cwd=WEB,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    out = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(out) == len(jobs), r.stdout[-2000:] + r.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def web_run(tmp_path_factory, shared_dir):
    """Every dataset through the page once (one browser), with the CLI's report of each."""
    validator, make_plate = _require()
    tmp = tmp_path_factory.mktemp("web")
    site = tmp / "site"
    ds = site / "ds"
    ds.mkdir(parents=True)
    for f in PAGE_FILES:
        shutil.copy(WEB / f, site / f)
    synth = shared_dir / "ngff" / "samples" / "synthetic"
    shutil.copytree(synth / "valid" / "v0.5" / "plate_1x2.ome.zarr", ds / "plate_1x2.ome.zarr")
    shutil.copytree(synth / "invalid-hierarchies" / "v0.5" / "missing_dataset_array.ome.zarr",
                    ds / "missing_dataset_array.ome.zarr")
    # Zarr v2 with blosc chunks (ome-zarr-py's test image), and images of ours whose chunks
    # C blosc wrote with each compressor and shuffle: the browser decodes them in Rust.
    shutil.copytree(shared_dir / "ngff" / "samples" / "ome-zarr-py" / "v2", ds / "blosc_v2.zarr")
    np.save(tmp / "in.npy", (np.arange(3 * 61 * 67, dtype=np.uint16).reshape(3, 61, 67) * 37) % 3001)
    blosc_cases = {"blosc-lz4-bitshuffle": ("blosc-lz4:5:bitshuffle", "0.4"),
                   "blosc-blosclz-shuffle": ("blosc-blosclz:5:shuffle", "0.5"),
                   "blosc-zlib-noshuffle": ("blosc-zlib:3:noshuffle", "0.5")}
    for name, (compression, version) in blosc_cases.items():
        subprocess.run([str(_binary("ome")), "convert", str(tmp / "in.npy"), str(ds / f"{name}.ome.zarr"),
                        "--axes", "zyx", "--chunks", "1,32,32", "--levels", "2",
                        "--compression", compression, "--ngff-version", version],
                       check=True, capture_output=True)
    subprocess.run([str(make_plate), str(ds / "plate384.ome.zarr"), "16", "24", "4"],
                   check=True, capture_output=True)
    shots = Path(os.environ["OME_WEB_SCREENSHOTS"]) if os.environ.get("OME_WEB_SCREENSHOTS") else tmp
    shots.mkdir(parents=True, exist_ok=True)
    cases = {
        "broken": {"dir": str(ds / "missing_dataset_array.ome.zarr"), "depth": "hierarchy",
                   "drop": True, "screenshot": str(shots / "page-broken.png")},
        "valid": {"dir": str(ds / "plate_1x2.ome.zarr"), "depth": "data",
                  "screenshot": str(shots / "page-valid.png")},
        "plate384": {"dir": str(ds / "plate384.ome.zarr"), "depth": "hierarchy", "drop": True},
        "plate384-picked": {"dir": str(ds / "plate384.ome.zarr"), "depth": "hierarchy"},
        "blosc": {"dir": str(ds / "blosc_v2.zarr"), "depth": "data"},
        **{name: {"dir": str(ds / f"{name}.ome.zarr"), "depth": "data"} for name in blosc_cases},
    }
    with RangeServer(site) as server:
        cases["url"] = {"url": f"{server.url}/ds/missing_dataset_array.ome.zarr", "depth": "hierarchy"}
        results = _drive(server.url, list(cases.values()), tmp)
        page = dict(zip(cases, results))
        cli = {}
        for name, job in cases.items():
            target = job.get("url") or Path(job["dir"]).name
            if name == "plate384-picked":
                cli[name] = cli["plate384"]
                continue
            cli[name] = _cli(validator, ds, target, job["depth"])
    return page, cli


def _findings(report: dict) -> list[dict]:
    return [f for t in report["targets"] for f in t["findings"]]


@pytest.mark.parametrize("case", ["broken", "valid", "plate384", "plate384-picked", "url", "blosc",
                                  "blosc-lz4-bitshuffle", "blosc-blosclz-shuffle",
                                  "blosc-zlib-noshuffle"])
def test_page_report_equals_the_cli_report(web_run, case):
    page, cli = web_run
    got = page[case]
    assert got["state"] == "done", got["status"]
    assert not got["errors"], got["errors"]
    report = json.loads(got["report"])
    # The same JSON report, findings included, as the CLI's for the same input.
    assert _findings(report) == _findings(cli[case])
    assert report == cli[case]
    # What the page shows: the verdict, every finding's code and every node with findings.
    assert got["verdict"] == cli[case]["verdict"]
    assert sorted(got["codes"]) == sorted(f["code"] for f in _findings(cli[case]))
    assert sorted(got["nodes"]) == sorted({f["location"]["node"] for f in _findings(cli[case])})


def test_page_verdicts_and_what_it_shows(web_run):
    page, _ = web_run
    broken, valid, plate = page["broken"], page["valid"], page["plate384"]
    assert broken["verdict"] == "invalid"
    assert "NGFF-ARR-001" in broken["codes"]
    assert broken["summary"].startswith("INVALID")
    assert valid["verdict"] in ("valid", "valid-strict")
    assert "A/1/0" in valid["nodes"] or valid["verdict"] == "valid-strict"
    report = json.loads(plate["report"])
    assert report["verdict"] == "valid-strict"
    assert report["targets"][0]["nodes_checked"] > 384 * 4


def test_blosc_chunks_decode_in_the_browser_as_in_the_cli(web_run):
    """The browser build has no C blosc: its own decoder reads every chunk at data depth,
    so no blosc finding and the verdict of the CLI (the reports are compared above)."""
    page, cli = web_run
    for case in ["blosc", "blosc-lz4-bitshuffle", "blosc-blosclz-shuffle", "blosc-zlib-noshuffle"]:
        got = json.loads(page[case]["report"])
        messages = [f["message"] for f in _findings(got)]
        assert not any("blosc" in m for m in messages), (case, messages)
        assert got["verdict"] == cli[case]["verdict"] != "invalid", case
