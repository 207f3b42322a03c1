#!/usr/bin/env bash
# Builds the browser page (web/): ome-validate as WebAssembly (web/ome_web.wasm) from the
# crate web/wasm (its own workspace and lock), and installs what its tests need: Debian's
# chromium (driven headless through the pinned npm package playwright-core, which downloads
# no browser), clang-14 and llvm-14 (zstd's C code for wasm32) and, unless
# OME_WEB_FAST=1, binaryen's wasm-opt (the published size).
#
#   bash scripts/setup-web.sh          # build (optimised .wasm) and install
#   OME_WEB_FAST=1 bash scripts/setup-web.sh   # the test command's build: no wasm-opt pass
#
# Then serve web/ as static files (python3 -m http.server -d web) and open index.html.
# Idempotent: apt and npm steps run only when something is missing.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

need=()
command -v clang-14 >/dev/null 2>&1 || need+=(clang-14)
command -v llvm-ar-14 >/dev/null 2>&1 || need+=(llvm-14)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${OME_WEB_FAST:-}" != 1 ] && ! command -v wasm-opt >/dev/null 2>&1; then need+=(binaryen); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== setup-web: apt-get install ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup-web: missing ${need[*]} (install them with apt, as root)" >&2
    exit 1
  fi
fi

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown

profile=release
[ "${OME_WEB_FAST:-}" = 1 ] && profile=fast
echo "== setup-web: cargo build --profile $profile (wasm32-unknown-unknown, web/wasm)"
# From inside web/wasm, so that its .cargo/config.toml (target, clang, getrandom) applies.
(cd web/wasm && cargo build --profile "$profile" --locked -q)
built=web/wasm/target/wasm32-unknown-unknown/$profile/ome_web.wasm
if [ "${OME_WEB_FAST:-}" = 1 ]; then
  cp "$built" web/ome_web.wasm
else
  # Rust's default wasm32 features, which wasm-opt must be told about.
  wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$built" -o web/ome_web.wasm
fi
echo "== setup-web: web/ome_web.wasm is $(wc -c < web/ome_web.wasm) bytes"

# The browser driver for the tests (playwright-core: no install script, no browser).
if [ ! -f web/node_modules/playwright-core/package.json ] ||
   [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "== setup-web: npm ci (web/)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
