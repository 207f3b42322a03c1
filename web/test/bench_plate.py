"""Benchmark: the 384-well x 4-field plate (metadata only, NGFF 0.4, made by
ome-validate's example make_plate) validated at hierarchy depth by the page in headless
Debian chromium, picked as a folder, five runs; the CLI on the same plate in the same run
for reference. Writes benches/results/web-plate384.json.

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


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "benches" / "results" / "web-plate384.json"
    wasm = REPO / "web" / "ome_web.wasm"
    with tempfile.TemporaryDirectory(prefix="ome-web-bench-") as tmp:
        tmp = Path(tmp)
        site = tmp / "site"
        site.mkdir()
        for f in ["index.html", "app.js", "worker.js", "style.css", "ome_web.wasm"]:
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
                "jobs": [{"dir": str(plate), "depth": "hierarchy"}] * RUNS}))
            r = subprocess.run(["node", str(REPO / "web" / "test" / "drive.mjs"), str(spec)],
                               cwd=REPO / "web", capture_output=True, text=True, check=True)
        runs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        for run in runs:
            report = json.loads(run["report"])
            assert report["verdict"] == "valid-strict", run["status"]
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
        result = {
            "benchmark": "web-plate384-hierarchy",
            "what": "384-well x 4-field metadata-only NGFF 0.4 plate, hierarchy depth, picked as a folder "
                    "in headless chromium (web/test/drive.mjs); seconds from the pick to the rendered report",
            "dataset": {"files": files, "nodes_checked": json.loads(runs[0]["report"])["targets"][0]["nodes_checked"]},
            "page_total_s": [round(x["ms"] / 1000, 3) for x in runs],
            "page_read_metadata_s": [round(x["readMs"] / 1000, 3) for x in runs],
            "page_validator_s": [round(x["validatorMs"] / 1000, 3) for x in runs],
            "page_total_median_s": round(statistics.median(x["ms"] for x in runs) / 1000, 3),
            "cli_s": [round(x, 3) for x in cli],
            "cli_binary": str(validator.relative_to(REPO)),
            "wasm_bytes": wasm.stat().st_size,
            "chromium": chromium,
            "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": os.getloadavg()[0],
                        "platform": platform.platform()},
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
