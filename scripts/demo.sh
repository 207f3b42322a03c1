#!/usr/bin/env bash
# The main job on the bundled default input: turn testdata/demo/cells_tczyx_uint16.npy into
# an OME-Zarr 0.5 pyramid (sharded) and describe it, then export level 1 back to .npy.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p ome-cli
OME=target/release/ome
OUT=target/demo
mkdir -p "$OUT"
$OME convert testdata/demo/cells_tczyx_uint16.npy "$OUT/cells.ome.zarr" \
  --axes tczyx --scale 1,1,0.5,0.1625,0.1625 \
  --units t=second,z=micrometer,y=micrometer,x=micrometer \
  --channel-names DAPI,GFP --chunks 1,1,8,128,128 --shards 1,1,8,256,256 \
  --min-size 64 --overwrite
$OME info "$OUT/cells.ome.zarr"
$OME convert "$OUT/cells.ome.zarr" "$OUT/cells_level1_c1.npy" --level 1 --select c=1 --overwrite
echo "wrote $OUT/cells.ome.zarr and $OUT/cells_level1_c1.npy"
