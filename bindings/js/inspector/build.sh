#!/usr/bin/env bash
# Assembles the token inspector (a static page over the package's browser build) into OUT_DIR
# (default target/dist/inspector/): index.html, inspector.css, inspector.js, LICENSE.
#   usage: bindings/js/inspector/build.sh [OUT_DIR]
# Needs bindings/js/pkg/ (bindings/js/build.sh; CST_JS_PACKAGE names another built package) and
# esbuild from this folder's package-lock.json (scripts/provision wasm). Nothing is fetched when the page runs: esbuild bundles src/inspector.js
# with cosmos-session-token/web into one classic script and inlines the .wasm as bytes, so the
# page works opened from a file (file:// pages can neither fetch() the .wasm nor load ES modules
# in Chromium) and offline. The token logic is the package's; the page only renders it.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
(($# <= 1)) || { usage >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$ROOT/target/dist/inspector}
PKG=${CST_JS_PACKAGE:-$ROOT/bindings/js/pkg}
ESBUILD=$HERE/node_modules/.bin/esbuild
for need in "$PKG/web/index.js" "$PKG/web/cosmos_session_token_bg.wasm"; do
  [ -e "$need" ] || { echo "bindings/js/inspector/build.sh: ${need#"$ROOT"/} is missing (bindings/js/build.sh builds it)" >&2; exit 1; }
done
[ -x "$ESBUILD" ] || { echo "bindings/js/inspector/build.sh: $ESBUILD is missing (scripts/provision wasm)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
# cosmos-session-token resolves to the built package (bindings/js/pkg); import.meta.url is empty
# in a classic script, and only the glue's default .wasm location reads it (the page passes bytes).
"$ESBUILD" "$HERE/src/inspector.js" --bundle --format=iife --target=chrome100,firefox100,safari15 \
  --alias:cosmos-session-token="$PKG" --loader:.wasm=binary --log-override:empty-import-meta=silent \
  --legal-comments=none --log-level=warning --outfile="$OUT/inspector.js"
cp "$HERE/index.html" "$HERE/inspector.css" "$OUT/"
cp "$ROOT/LICENSE" "$OUT/LICENSE"
echo "inspector: ${OUT#"$ROOT"/}/ ($(du -cb "$OUT"/index.html "$OUT"/inspector.css "$OUT"/inspector.js | tail -n 1 | cut -f1) bytes: inspector.js $(stat -c %s "$OUT/inspector.js"), $(gzip -9 -c "$OUT/inspector.js" | wc -c) gzipped)"
