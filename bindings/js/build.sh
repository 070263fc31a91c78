#!/usr/bin/env bash
# Builds the npm package `cosmos-session-token` (the core compiled to WebAssembly) into
# bindings/js/pkg/, and with --pack also target/dist/cosmos-session-token-<version>.tgz.
#   usage: bindings/js/build.sh [--pack]
# Needs what `scripts/provision wasm` installs: Debian's rustc-web, cargo-web and rust-web-src
# (std is built for wasm32-unknown-unknown with -Zbuild-std: rustup cannot add targets here),
# rustup's rust-lld as the linker, binaryen's wasm-opt (npm, bindings/js/package-lock.json), and wasm-bindgen-cli of exactly the
# crate's wasm-bindgen version in target/tools (installed here from crates.io when missing).
# Own target directory (target/wasm): the host build is not disturbed.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
PACK=
for a in "$@"; do
  case $a in
    -h | --help) usage; exit 0 ;;
    --pack) PACK=1 ;;
    *) { echo "bindings/js/build.sh: unknown argument '$a'"; usage; } >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/../.."
ROOT=$PWD
JS=$ROOT/bindings/js
OUT=$JS/pkg
T0=$SECONDS
LOGDIR=$ROOT/target/test-logs
mkdir -p "$LOGDIR"

# The wasm-bindgen CLI must be the version Cargo.lock resolved for the crate.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
TOOLS=$ROOT/target/tools
WB=$TOOLS/bin/wasm-bindgen
if [ ! -x "$WB" ] || [ "$("$WB" --version | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION into target/tools (cargo install: ~20 min on 2 cores)"
  # Not --locked: its lock file names a webpki-roots release the registry does not serve here.
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION" --root "$TOOLS" >"$LOGDIR/wasm-bindgen-cli-install.log" 2>&1 \
    || { tail -n 30 "$LOGDIR/wasm-bindgen-cli-install.log"; exit 1; }
fi

# rustup's rust-lld (Debian's compiler has none for wasm).
LLD=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld
for need in /usr/bin/rustc /usr/bin/cargo /usr/lib/rustlib/src/rust/library "$LLD"; do
  [ -e "$need" ] || { echo "bindings/js/build.sh: $need is missing (scripts/provision wasm)" >&2; exit 1; }
done

# Size first: opt-level z, fat LTO, one codegen unit, std built with optimize_for_size, and
# panics as an immediate abort (a trap: wasm32-unknown-unknown has nowhere to print a panic's
# message anyway; the core does not panic on any input): 19% smaller than panic=abort. The
# symbols stay for wasm-bindgen (it reads its own custom sections) and are dropped by it and
# wasm-opt.
echo "cargo build (wasm32-unknown-unknown, -Zbuild-std; the first build compiles std: ~15 min)"
env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LLD" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=0 \
  CARGO_TARGET_DIR="$ROOT/target/wasm" RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
  /usr/bin/cargo build -q --release -p cosmos-session-token-js --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
WASM=$ROOT/target/wasm/wasm32-unknown-unknown/release/cosmos_session_token_js.wasm

rm -rf "$OUT"
mkdir -p "$OUT/node" "$OUT/web"
# Node: CommonJS (loads the .wasm synchronously); the ES module entry re-exports it (one
# instance, one SessionTokenError class for require and import). Browsers: the web target (ES
# module; `await init()` first).
"$WB" --target nodejs --out-dir "$OUT/node" --out-name cosmos_session_token "$WASM"
"$WB" --target web --out-dir "$OUT/web" --out-name cosmos_session_token "$WASM"
# binaryen's wasm-opt from npm (bindings/js/package-lock.json; Debian's binaryen 108 breaks
# wasm-bindgen's externref table).
WASM_OPT=$JS/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || { echo "bindings/js/build.sh: $WASM_OPT is missing (scripts/provision wasm)" >&2; exit 1; }
for d in node web; do
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$OUT/$d/cosmos_session_token_bg.wasm" -o "$OUT/$d/opt.wasm"
  mv "$OUT/$d/opt.wasm" "$OUT/$d/cosmos_session_token_bg.wasm"
done

# support.js (the error class and checks) for each target: the ES module as written, and a
# CommonJS copy for Node.
cp "$JS/js/support.js" "$OUT/web/support.js"
sed -e 's|^import \* as glue from "./cosmos_session_token.js";|const glue = require("./cosmos_session_token.js");|' \
  -e 's|^export class |class |' -e 's|^export function |function |' "$JS/js/support.js" >"$OUT/node/support.js"
echo 'module.exports = { SessionTokenError, makeError, pointerOf, isWellFormed };' >>"$OUT/node/support.js"
echo '{"type": "module"}' >"$OUT/web/package.json"
cat >"$OUT/web/index.js" <<'EOF'
// The browser entry: wasm-bindgen's web target (call `await init()` first) and the error class.
export * from "./cosmos_session_token.js";
export { default } from "./cosmos_session_token.js";
export { SessionTokenError } from "./support.js";
EOF
# The Node entry points, and the Node integrations next to them (the @azure/cosmos plugin, the
# flow cookie middleware, the current flow): plain CommonJS, calling into node/.
cp "$JS/js/index.js" "$JS/js/index.mjs" "$JS/js/index.d.ts" "$JS/js/web.d.ts" \
  "$JS/js/context.js" "$JS/js/cosmos.js" "$JS/js/middleware.js" "$OUT/"
cp "$JS/README.md" "$OUT/README.md"
cp "$ROOT/LICENSE" "$OUT/LICENSE"
# The manifest without the development fields, at the workspace's version.
VERSION=$(cargo run -q -p xtask --no-default-features -- print version)
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  delete p.devDependencies; delete p.scripts; delete p.private;
  p.version = process.argv[2];
  fs.writeFileSync(process.argv[3], JSON.stringify(p, null, 2) + "\n");
' "$JS/package.json" "$VERSION" "$OUT/package.json"

RAW=$(stat -c %s "$OUT/node/cosmos_session_token_bg.wasm")
GZ=$(gzip -9 -c "$OUT/node/cosmos_session_token_bg.wasm" | wc -c)
echo "cosmos_session_token_bg.wasm: $RAW bytes ($GZ gzipped); built in $((SECONDS - T0)) s"

if [ -n "$PACK" ]; then
  mkdir -p "$ROOT/target/dist"
  rm -f "$ROOT/target/dist/cosmos-session-token-$VERSION.tgz"
  (cd "$OUT" && npm pack --silent --pack-destination "$ROOT/target/dist" >/dev/null)
  ls -l "$ROOT/target/dist/cosmos-session-token-$VERSION.tgz" | awk '{print $NF ": " $5 " bytes"}'
fi
