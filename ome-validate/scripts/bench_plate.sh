#!/usr/bin/env bash
# Times `ome-validate` at hierarchy depth on a 384-well x 4-field metadata-only plate and
# compares with `ome-zarr-models validate` when the project venv has it.
# Usage: ome-validate/scripts/bench_plate.sh [WORKDIR]   (run from the workspace root)
set -euo pipefail
work="${1:-$(mktemp -d)}"
plate="$work/plate_384x4.ome.zarr"
cargo build --release -q -p ome-validate --bin ome-validate --example make_plate
rm -rf "$plate"
target/release/examples/make_plate "$plate" 16 24 4
bin=target/release/ome-validate
"$bin" --format jsonl "$plate" | tail -1
best=999
for _ in 1 2 3 4 5; do
  s=$(date +%s.%N); "$bin" --format conformance "$plate" >/dev/null; e=$(date +%s.%N)
  t=$(echo "$e - $s" | bc -l); best=$(echo "if ($t < $best) $t else $best" | bc -l)
done
printf 'ome-validate (best of 5): %.3f s\n' "$best"
if [ -x .venv/bin/ome-zarr-models ]; then
  s=$(date +%s.%N); .venv/bin/ome-zarr-models validate "$plate" >/dev/null 2>&1 || true; e=$(date +%s.%N)
  other=$(echo "$e - $s" | bc -l)
  printf 'ome-zarr-models validate: %.3f s (%.1fx slower)\n' "$other" "$(echo "$other / $best" | bc -l)"
else
  echo "ome-zarr-models not found in .venv; skipped the comparison"
fi
