"""Benchmark: the 384-well x 4-field plate (metadata only, NGFF 0.4, made by
ome-validate's example make_plate) validated at hierarchy depth by the page in headless
Debian chromium, dropped on the page as a folder (CDP's Input.dispatchDragEvent, as the
desktop drops it) and picked as a folder, five runs each, interleaved; the CLI on the same
plate in the same run for reference. Writes benches/results/web-plate384.json.

Per run: the whole time (from the drop or pick to the rendered report), the part spent
listing the folder and reading its 6930 metadata documents (the browser's own cost per
file read is most of it), the validator's, and the browser's CPU time by process.

    .venv/bin/python web/test/bench_plate.py [OUT.json]

Needs what tests/interop/test_web.py needs (bash scripts/setup-web.sh; cargo test or
cargo build -p ome-validate --examples).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "interop"))
from servers import RangeServer  # noqa: E402

RUNS = 5


def binary(name: str) -> Path:
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / name
        if p.is_file():
            return p
    sys.exit(f"{name} not built (cargo build -p ome-validate --examples)")


def summary(runs: list[dict]) -> dict:
    return {
        "total_s": [round(x["ms"] / 1000, 3) for x in runs],
        "list_and_read_metadata_s": [round(x["readMs"] / 1000, 3) for x in runs],
        "validator_s": [round(x["validatorMs"] / 1000, 3) for x in runs if x["validatorMs"] is not None],
        "browser_cpu_s": [round(x["cpuMs"] / 1000, 3) for x in runs],
        "browser_cpu_by_process_s": [{k: round(v / 1000, 3) for k, v in x["cpuByProcess"].items()}
                                     for x in runs],
        "total_median_s": round(statistics.median(x["ms"] for x in runs) / 1000, 3),
        "list_and_read_median_s": round(statistics.median(x["readMs"] for x in runs) / 1000, 3),
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "benches" / "results" / "web-plate384.json"
    wasm = REPO / "web" / "ome_web.wasm"
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ome-web-bench-") as tmp:
        tmp = Path(tmp)
        site = tmp / "site"
        site.mkdir()
        for f in ["index.html", "folder.js", "app.js", "worker.js", "style.css", "ome_web.wasm",
                  "test/floor.html"]:
            (site / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / "web" / f, site / f)
        plate = tmp / "plate384.ome.zarr"
        subprocess.run([str(binary("examples/make_plate")), str(plate), "16", "24", "4"],
                       check=True, capture_output=True)
        files = sum(1 for p in plate.rglob("*") if p.is_file())
        validator = binary("ome-validate")
        cli = []
        for _ in range(RUNS):
            t = time.perf_counter()
            subprocess.run([str(validator), "--format", "json", str(plate)], capture_output=True)
            cli.append(time.perf_counter() - t)
        with RangeServer(site) as server:
            spec = tmp / "jobs.json"
            spec.write_text(json.dumps({
                "base": server.url + "/", "chromium": "/usr/bin/chromium",
                "jobs": [{"dir": str(plate), "depth": "hierarchy", "drop": drop, **page}
                         for _ in range(RUNS) for page in ({}, {"page": "test/floor.html"})
                         for drop in (True, False)]}))
            r = subprocess.run(["node", str(REPO / "web" / "test" / "drive.mjs"), str(spec)],
                               cwd=REPO / "web", capture_output=True, text=True, check=True)
        runs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        assert len(runs) == 4 * RUNS, r.stderr[-2000:]
        dropped, picked, floor_dropped, floor_picked = (runs[k::4] for k in range(4))
        for run in dropped + picked:
            report = json.loads(run["report"])
            assert report["verdict"] == "valid-strict", run["status"]
        for run in floor_dropped + floor_picked:
            assert run["state"] == "done" and run["status"].startswith(f"{files} files"), run["status"]
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
        result = {
            "benchmark": "web-plate384-hierarchy",
            "what": "384-well x 4-field metadata-only NGFF 0.4 plate, hierarchy depth, dropped and picked "
                    "as a folder in headless chromium (web/test/drive.mjs); seconds from the drop or pick "
                    "to the rendered report",
            "dataset": {"files": files, "nodes_checked": json.loads(dropped[0]["report"])["targets"][0]["nodes_checked"]},
            "dropped": summary(dropped),
            "picked": summary(picked),
            "floor": "web/test/floor.html: the page's own listing and reading of the folder "
                     "(web/folder.js) and nothing else, the least any page spends on these files",
            "floor_dropped": summary(floor_dropped),
            "floor_picked": summary(floor_picked),
            "cli_s": [round(x, 3) for x in cli],
            "cli_binary": str(validator.relative_to(REPO)),
            "wasm_bytes": wasm.stat().st_size,
            "chromium": chromium,
            "machine": {"cpus": os.cpu_count(), "load_average_1m_at_start": load0,
                        "load_average_1m_at_end": os.getloadavg()[0],
                        "platform": platform.platform()},
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
