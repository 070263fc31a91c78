#!/usr/bin/env bash
# Merge cost through each layer, in one run: Rust (core), C (libcstoken, one-shot and handles),
# .NET on Mono (SessionToken.Merge, SessionToken.MergeToString). Prints the timings and the ratios of the issue's targets.
#   usage: benches/ffi_overhead.sh      (release builds; needs gcc and mcs/mono)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p cosmos-session-token-ffi
cargo build --release -q -p cosmos-session-token-benches --bin merge_baseline
R=target/release
# Programs linked against the library load its SONAME, libcstoken.so.<ABI>.
ABI=$(cargo run -q -p xtask --no-default-features -- print abi)
ln -sf libcstoken.so "$R/libcstoken.so.$ABI"
gcc -O2 -std=c11 -Iffi/include benches/c/merge_bench.c -L$R -lcstoken -Wl,-rpath,"$PWD/$R" -o $R/merge_bench_c
bindings/dotnet/build.sh "$PWD/$R" >/dev/null
mcs -nologo -langversion:7.2 -optimize+ -r:bindings/dotnet/build/CosmosSessionToken.dll \
  -out:bindings/dotnet/build/MergeBench.exe benches/dotnet/MergeBench.cs
rust=$($R/merge_baseline); c=$($R/merge_bench_c); net=$(mono -O=all bindings/dotnet/build/MergeBench.exe)
printf '%s\n%s\n%s\n' "$rust" "$c" "$net"
get() { printf '%s\n%s\n%s\n' "$rust" "$c" "$net" | awk -v k="$1" '$1 == k { print $2 }'; }
awk -v rt="$(get rust_text_merge)" -v co="$(get c_oneshot_merge)" -v rp="$(get rust_token_merge)" \
    -v ch="$(get c_handle_merge)" -v cs="$(get c_handle_merge_to_string)" -v dn="$(get dotnet_merge)" \
    -v ds="$(get dotnet_merge_to_string)" 'BEGIN {
  printf "C one-shot cst_token_text_merge / Rust parse+merge+render: %.2fx (target <= 1.3x)\n", co / rt
  printf "C cst_token_merge / Rust merge of parsed tokens: %.2fx\n", ch / rp
  printf ".NET SessionToken.Merge / C cst_token_merge: %.2fx (target <= 2x)\n", dn / ch
  printf ".NET SessionToken.MergeToString / C cst_token_merge: %.2fx (target <= 2x)\n", ds / ch
  printf ".NET SessionToken.MergeToString / C cst_token_merge_to_string: %.2fx\n", ds / cs }'
