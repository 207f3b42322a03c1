#!/usr/bin/env bash
# Compares the features cargo resolves for `cargo test --workspace` (dev-dependencies on)
# with those for the bindings alone (what `maturin develop` builds). Where they differ,
# maturin recompiles the differing crates and everything above them. The pins in
# ome-py/Cargo.toml keep them equal; this names the crates when they drift apart.
# Exit status 0 either way (a slower build, not a wrong one); prints what to add.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt='{p} [{f}]'
if ! py_raw=$(cargo tree -f "$fmt" -p ome-py -e normal,build --prefix none 2>/dev/null) ||
   ! ws_raw=$(cargo tree -f "$fmt" --workspace -e normal,build,dev --prefix none 2>/dev/null); then
  echo "NOTE: cargo tree failed; feature parity not checked"
  exit 0
fi
py=$(echo "$py_raw" | sed 's/ (\*)$//' | sort -u)
ws=$(echo "$ws_raw" | sed 's/ (\*)$//' | sort -u)
drift=$(comm -13 <(echo "$py") <(echo "$ws") | { grep -v '^ome-\|^testkit\|^ome_' || true; } | while read -r name ver rest; do
  if echo "$py" | grep -q "^$name $ver "; then echo "$name $ver $rest"; fi
done)
if [ -n "$drift" ]; then
  echo "NOTE: feature drift: maturin develop will recompile these crates (and their dependents);"
  echo "      add their features to the pins in ome-py/Cargo.toml:"
  echo "$drift" | sed 's/^/        /'
else
  echo "feature parity: the bindings reuse the test build's artifacts"
fi
