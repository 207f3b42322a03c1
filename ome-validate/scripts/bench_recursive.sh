#!/usr/bin/env bash
# Times `ome-validate --recursive DIR` (hierarchy depth, release build) on a directory of
# COUNT small valid OME-Zarr 0.5 images (default 1000; examples/make_images.rs writes them).
# Usage: ome-validate/scripts/bench_recursive.sh [WORKDIR] [COUNT]  (run from the workspace root)
# Measured 2026-12-05 (2-core dev machine, shared with another build, load ~2.5): 1000
# images (3000 files), hierarchy depth: 0.24-0.29 s best of 5 for text/json/sarif/junit,
# 0.60 s at --depth data; max RSS 9-10 MB.
set -euo pipefail
work="${1:-$(mktemp -d)}"
count="${2:-1000}"
dir="$work/images_$count"
cargo build --release -q -p ome-validate --bin ome-validate --example make_images
rm -rf "$dir"
target/release/examples/make_images "$dir" "$count"
bin=target/release/ome-validate
"$bin" --recursive "$dir" --format jsonl | tail -1
for format in text json sarif junit; do
  best=999
  for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); "$bin" --recursive "$dir" --format "$format" >/dev/null; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l); best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  printf 'ome-validate --recursive (%d images, --format %s, best of 5): %.3f s\n' "$count" "$format" "$best"
done
