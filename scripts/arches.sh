# shellcheck shell=bash
# The cross-built platforms: one table, sourced by scripts/cross, scripts/build-windows,
# scripts/test-windows and scripts/package. A sourced helper, not a command: it is never run by
# itself and so has no --help (`. scripts/arches.sh`, then arch_names / arch_load ARCH).
#
#   ARCH         the name used on the command line and in artefact names (c-<ARCH>.tar.gz/.zip,
#                NuGet runtimes/<RID>/native)
#   TRIPLE       the Rust target (std built from Debian's rust-web-src with -Zbuild-std)
#   TOOL         the GNU toolchain prefix from Debian (TOOL-gcc links, TOOL-ar, TOOL-objdump)
#   RID          the .NET runtime identifier of the NuGet runtimes/ folder
#   BFD          the machine name dlltool/objdump know (Windows import libraries)
#   TARGET_DIR   cargo's target directory under target/ (kept apart from the Linux x86_64 build)
#   LIBRARY      the file the C ABI build produces
ARCH_TABLE='
# ARCH       TRIPLE                     TOOL                 RID          BFD          TARGET_DIR  LIBRARY
win-x64      x86_64-pc-windows-gnu      x86_64-w64-mingw32   win-x64      i386:x86-64  windows     cstoken.dll
win-x86      i686-pc-windows-gnu        i686-w64-mingw32     win-x86      i386         windows     cstoken.dll
linux-arm64  aarch64-unknown-linux-gnu  aarch64-linux-gnu    linux-arm64  aarch64      cross       libcstoken.so
'

# arch_names: every ARCH in the table, in order.
arch_names() { awk '!/^#/ && NF {print $1}' <<<"$ARCH_TABLE"; }

# arch_load ARCH: sets TRIPLE TOOL RID BFD TARGET_DIR LIBRARY (and ARCH); fails on an unknown name.
arch_load() {
  local row
  row=$(awk -v a="$1" '$1 == a' <<<"$ARCH_TABLE")
  if [ -z "$row" ]; then
    echo "unknown arch '$1' (known: $(arch_names | tr '\n' ' '))" >&2
    return 2
  fi
  read -r ARCH TRIPLE TOOL RID BFD TARGET_DIR LIBRARY <<<"$row"
}
