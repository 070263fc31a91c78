#!/usr/bin/env python3
"""Writes a module-definition (.def) file listing the functions ffi/include/cstoken.h declares for
release builds (declarations inside `#if defined(CST_DEBUG_PANIC)` are test hooks, absent from
release DLLs), for dlltool to make an import library MSVC's linker accepts.

usage: def_from_header.py HEADER OUT.def [EXPORTS.txt]
EXPORTS.txt, when given, is the DLL's export names one per line: every declared function must be
exported and every exported cst_ function declared, or this fails naming the difference.
scripts/package runs it for each Windows prefix."""
import argparse
import re
import sys
from pathlib import Path


def declared(header: str) -> list[str]:
    names, hidden = [], 0
    for line in header.splitlines():
        if line.startswith("#if defined(CST_DEBUG_PANIC)"):
            hidden += 1
        elif line.startswith("#endif") and hidden:
            hidden -= 1
        elif not hidden:
            m = re.match(r"^[A-Za-z_][\w \*]*?\b(cst_\w+)\(", line)
            if m:
                names.append(m.group(1))
    return names


def main() -> int:
    ap = argparse.ArgumentParser(prog="scripts/def_from_header.py", description=__doc__.split("\n\n")[0].split("\nusage:")[0])
    ap.add_argument("header", type=Path, help="ffi/include/cstoken.h")
    ap.add_argument("out", type=Path, metavar="OUT.def", help="the module-definition file to write")
    ap.add_argument("exports", type=Path, nargs="?", metavar="EXPORTS.txt",
                    help="the DLL's export names, one per line: declared and exported must agree")
    args = ap.parse_args()
    header, out = args.header, args.out
    names = declared(header.read_text(encoding="utf-8"))
    if args.exports:
        exported = {n.strip() for n in args.exports.read_text().split() if n.strip().startswith("cst_")}
        missing, extra = sorted(set(names) - exported), sorted(exported - set(names))
        if missing or extra:
            print(f"def_from_header: declared but not exported: {missing}; exported but not declared: {extra}", file=sys.stderr)
            return 1
    out.write_text("LIBRARY cstoken.dll\nEXPORTS\n" + "".join(f"    {n}\n" for n in names), encoding="ascii")
    print(f"{out}: {len(names)} exports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
