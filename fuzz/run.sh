#!/usr/bin/env bash
# Runs cargo-fuzz targets for a given time and reports executions and crashes.
#
#   fuzz/run.sh TARGET SECONDS     one target (see `ls fuzz/fuzz_targets`)
#   fuzz/run.sh all SECONDS        every target in turn
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain RUSTC_BOOTSTRAP=1
# unlocks the -Z flags cargo-fuzz passes. Seeds: the hostile corpus (testdata/hostile)
# is generated into corpus-seed/ (git-ignored). Every crash found is copied to
# testdata/fuzz-regressions/TARGET/, which `cargo test -p ome-cli --test it hostile_corpus::`
# replays.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET|all SECONDS}
secs=${2:-60}
export RUSTC_BOOTSTRAP=1
if [ "$target" = all ]; then
  targets=$(ls fuzz_targets | sed 's/\.rs$//')
else
  targets=$target
fi

if [ ! -d corpus-seed ]; then
  python3 ../testdata/hostile/make_corpus.py corpus-seed/hostile >/dev/null
  mkdir -p corpus-seed/xml corpus-seed/tiff
  find corpus-seed/hostile -name '*.xml' -size -64k -exec cp {} corpus-seed/xml/ \;
  find corpus-seed/hostile \( -name '*.tif' -o -name '*.btf' \) -size -64k -exec cp {} corpus-seed/tiff/ \;
  mkdir -p corpus-seed/json
  find corpus-seed/hostile -name 'zarr.json' -size -64k | while read -r f; do
    cp "$f" "corpus-seed/json/$(echo "$f" | tr / _)"; done
fi

mkdir -p logs
printf '%-20s %12s %8s %8s\n' target executions seconds crashes
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  seeds=()
  extra=(-max_len=65536)
  case $t in
    ome_xml*|plane_map) seeds=(corpus-seed/xml) ;;
    tiff_ifd) seeds=(corpus-seed/tiff) ;;
    ngff_attributes) seeds=(corpus-seed/json) ;;
    # Structure-aware targets: their bytes are decoded into a case whose last field (the
    # list of lies and damage) takes the rest, so short inputs mean no damage at all; give
    # libFuzzer full-length inputs from the start.
    chunk_codecs|tiff_tiles) extra=(-max_len=512 -len_control=0) ;;
  esac
  start=$(date +%s)
  cargo fuzz run --sanitizer none "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 "${extra[@]}" \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1 || true
  took=$(( $(date +%s) - start ))
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1 || true)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%-20s %12s %8s %8s\n' "$t" "${execs:-?}" "$took" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    mkdir -p "../testdata/fuzz-regressions/$t"
    cp -n artifacts/"$t"/* "../testdata/fuzz-regressions/$t/"  # never overwrite a kept one
    grep -m3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "logs/$t.log" | sed 's/^/    /' || true
  fi
done
