#!/usr/bin/env bash
# Builds the wrapper, its tests, the load check and the sample with Mono's mcs (C# 7.2), into
# bindings/dotnet/build/, next to a copy of libcstoken.so.
#   usage: bindings/dotnet/build.sh [--wrapper-only] [NATIVE_LIB_DIR]   (default: target/debug)
#   --wrapper-only builds the two assemblies alone (no NUnit needed), e.g. to use them elsewhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wrapper_only=false
if [ "${1:-}" = "--wrapper-only" ]; then wrapper_only=true; shift; fi
native=${1:-$root/target/debug}
command -v mcs >/dev/null || { echo "build.sh: mcs (Mono's C# compiler) is not installed: run scripts/provision debian" >&2; exit 1; }
out=$here/build
rm -rf "$out" && mkdir -p "$out/noload" "$out/abi99"
MCS=(mcs -nologo -langversion:7.2 -warnaserror+)
# The token wrapper uses pointers on its hot paths (see NativeMethods.cs); nothing else does.
WRAPPER=(-unsafe -r:System.Net.Http.dll)   # System.Net.Http: SessionFlowHandler
"${MCS[@]}" "${WRAPPER[@]}" -target:library -doc:"$out/CosmosSessionToken.xml" -out:"$out/CosmosSessionToken.dll" \
  "$here"/src/CosmosSessionToken/*.cs
cp "$here/src/CosmosSessionToken/CosmosSessionToken.dll.config" "$out/"
# The ASP.NET provider: its own assembly (it references System.Web; the token wrapper must not).
"${MCS[@]}" -target:library -doc:"$out/CosmosSessionToken.AspNet.xml" -r:System.Web.dll -r:System.Configuration.dll \
  -r:"$out/CosmosSessionToken.dll" -out:"$out/CosmosSessionToken.AspNet.dll" "$here"/src/CosmosSessionToken.AspNet/*.cs
if $wrapper_only; then
  cp "$native/libcstoken.so" "$out/" 2>/dev/null || true
  exit 0
fi
# The provider's NUnit tests (NUnit 2.6 from Debian's packages, run by nunit-console).
NUNIT=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
[ -f "$NUNIT" ] || { echo "build.sh: NUnit 2.6 is not installed ($NUNIT): run scripts/provision debian, or build with --wrapper-only" >&2; exit 1; }
"${MCS[@]}" -target:library -r:System.Web.dll -r:System.Configuration.dll -r:"$NUNIT" -r:"$out/CosmosSessionToken.dll" \
  -r:"$out/CosmosSessionToken.AspNet.dll" -out:"$out/CosmosSessionToken.AspNet.Tests.dll" "$here"/tests/AspNet/*.cs
"${MCS[@]}" -target:library -r:"$NUNIT" -r:System.Net.Http.dll -r:"$out/CosmosSessionToken.dll" \
  -out:"$out/CosmosSessionToken.Tests.dll" "$here/tests/Tests.cs" "$here/tests/FlowTests.cs" "$here/tests/FlowCookieTests.cs"
"${MCS[@]}" -r:"$out/CosmosSessionToken.dll" -out:"$out/WebFarm.exe" "$here/samples/WebFarm/Program.cs"
# The shared-vector runner for CoreCLR (the NUnit suite's RunLine outside NUnit's runner), with the runtime
# configuration CoreCLR 2.0 needs (invariant globalization: no ICU it knows on Debian 12).
mkdir -p "$out/coreclr"
"${MCS[@]}" -r:"$NUNIT" -r:"$out/CosmosSessionToken.dll" -r:"$out/CosmosSessionToken.Tests.dll" \
  -out:"$out/coreclr/VectorRunner.exe" "$here/tests/coreclr/VectorRunner.cs"
# The NUnit fixtures' [Test] methods by reflection (the flow handler's tests against the test server), same config.
"${MCS[@]}" -out:"$out/coreclr/FixtureRunner.exe" "$here/tests/coreclr/FixtureRunner.cs"
cp "$here/tests/coreclr/VectorRunner.runtimeconfig.json" "$NUNIT" "$out/CosmosSessionToken.dll" "$out/CosmosSessionToken.Tests.dll" \
  "$out/coreclr/"
cp "$here/tests/coreclr/VectorRunner.runtimeconfig.json" "$out/coreclr/FixtureRunner.runtimeconfig.json"
# The load check runs from a directory that has the assembly but no native library.
"${MCS[@]}" -r:"$out/CosmosSessionToken.dll" -out:"$out/noload/LoadCheck.exe" "$here/tests/LoadCheck.cs"
cp "$out/CosmosSessionToken.dll" "$out/CosmosSessionToken.dll.config" "$out/noload/"
# The ABI check runs next to a fake libcstoken reporting ABI version 99.
cp "$out/noload/"* "$out/abi99/"
gcc -shared -fPIC -o "$out/abi99/libcstoken.so" "$here/tests/fake_abi99.c"
cp "$native/libcstoken.so" "$out/"
cp "$native/libcstoken.so" "$out/coreclr/"
echo "built into $out"
