#!/usr/bin/env python3
"""The artefacts scripts/package built into target/dist/: their names and sizes, as the table of
docs/artefacts.md.

  scripts/artefacts.py table    prints the table for what target/dist/ holds now
  scripts/artefacts.py write    writes it into docs/artefacts.md (between its two markers)
  scripts/artefacts.py check    fails (exit 1) when docs/artefacts.md names other files than
                                target/dist/ holds, or a size off by more than --tolerance

Rows: every file at the top of target/dist/ and the libraries inside its prefixes (not their
headers, .pc, .def or LICENSE), grouped by the `scripts/package` argument that builds them. Sizes
are decimal (1 MB = 1,000,000 bytes) and rounded ("3.6 MB", "38 MB", "71 KB"); `check` accepts a
documented size within 10% of the file's (the rounding is at most 5%), so a rebuild does not fail
it, a real change of size does. bindings/python/tests/test_artefacts_doc.py runs the check in
scripts/test's python stage, after the package stage built target/dist/; after a change it
reports, run `scripts/package` and then `scripts/artefacts.py write`."""
from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "target" / "dist"
DOC = ROOT / "docs" / "artefacts.md"
BEGIN = "<!-- BEGIN table written by scripts/artefacts.py write: do not edit by hand -->"
END = "<!-- END table written by scripts/artefacts.py write -->"
TOLERANCE = 0.10

# (pattern relative to target/dist, the scripts/package argument that builds it, what it is), in
# the table's order. A file at the top of target/dist/ that no pattern matches is an error: a new
# artefact gets a row here.
ROWS = [
    ("c/lib/libcstoken.so.*", "c", "the C library, x86_64 Linux (stripped; includes the session-state engine with its HTTPS client)"),
    ("c/lib/libcstoken.a", "c", "static library (every dependency's objects; the linker keeps what a program uses)"),
    ("c-win-x64/bin/cstoken.dll", "windows", "win-x64 DLL (x86_64, stripped)"),
    ("c-win-x64/lib/cstoken.lib", "windows", "win-x64 import library for MSVC's linker"),
    ("c-win-x64/lib/libcstoken.dll.a", "windows", "win-x64 MinGW import library"),
    ("c-win-x86/bin/cstoken.dll", "windows", "win-x86 DLL (i686, stripped)"),
    ("c-win-x86/lib/cstoken.lib", "windows", "win-x86 import library for MSVC's linker"),
    ("c-win-x86/lib/libcstoken.dll.a", "windows", "win-x86 MinGW import library"),
    ("c-win-x64.zip", "windows", "the win-x64 prefix, zipped"),
    ("c-win-x86.zip", "windows", "the win-x86 prefix, zipped"),
    ("c-linux-arm64/lib/libcstoken.so.*", "arm64", "the C library for Linux on arm64 (aarch64, stripped, glibc 2.17)"),
    ("c-linux-arm64/lib/libcstoken.a", "arm64", "its static library"),
    ("c-linux-arm64.tar.gz", "arm64", "the arm64 prefix, archived"),
    ("cosmos_session_token-*_aarch64.whl", "arm64", "Python abi3 wheel for Linux on arm64 (manylinux2014)"),
    ("cosmos_session_token-*_x86_64.whl", "wheel", "Python abi3 wheel, x86_64 (manylinux2014, glibc 2.17)"),
    ("cosmos_session_token-*.tar.gz", "sdist", "Python sdist (README, LICENSE, metadata)"),
    ("*.nupkg", "nuget", "NuGet package: two net461 assemblies + libcstoken.so (linux-x64, linux-arm64) + both cstoken.dll"),
    ("cosmos-session-token-*.tgz", "npm", "the npm package: the core as WebAssembly (npm install <tgz>; no Rust needed)"),
    ("inspector/inspector.js", "inspector", "the token inspector's script, the .wasm inlined (with index.html, inspector.css)"),
]


def human(size: int) -> str:
    """Decimal units, rounded to about two significant digits."""
    if size >= 10_000_000:
        return f"{size / 1e6:.0f} MB"
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    if size >= 1_000:
        return f"{size / 1e3:.0f} KB"
    return f"{size} B"


def parse_size(text: str) -> float:
    m = re.fullmatch(r"\s*([0-9.]+)\s*(MB|KB|B)\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return float(m.group(1)) * {"MB": 1e6, "KB": 1e3, "B": 1}[m.group(2)]


def artefacts(dist: Path) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    """(name, package argument, size, what) for each row found, in table order; and the files at
    the top of dist that no row matches."""
    files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file() and not p.is_symlink())
    rows, seen = [], set()
    for pattern, part, what in ROWS:
        for name in files:
            if name not in seen and fnmatch.fnmatchcase(name, pattern) and name.count("/") == pattern.count("/"):
                seen.add(name)
                rows.append((name, part, (dist / name).stat().st_size, what))
    unknown = [n for n in files if "/" not in n and n not in seen]
    return rows, unknown


def table(dist: Path) -> str:
    rows, unknown = artefacts(dist)
    if unknown:
        raise SystemExit(f"artefacts.py: no row for {', '.join(unknown)} in target/dist: add it to ROWS in scripts/artefacts.py")
    lines = ["| artefact (in `target/dist/`) | `scripts/package` | size | what it is |", "|---|---|---|---|"]
    lines += [f"| `{name}` | `{part}` | {human(size)} | {what} |" for name, part, size, what in rows]
    return "\n".join(lines) + "\n"


def documented(doc_text: str) -> dict[str, str]:
    """name -> size text of the generated table in docs/artefacts.md."""
    if BEGIN not in doc_text or END not in doc_text:
        raise ValueError(f"docs/artefacts.md has no generated table (markers {BEGIN!r} ... {END!r})")
    block = doc_text.split(BEGIN, 1)[1].split(END, 1)[0]
    out = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            out[cells[0].strip("`")] = cells[2]
    return out


def differences(dist: Path, doc_text: str, tolerance: float = TOLERANCE) -> list[str]:
    """What differs between the doc's table and dist; empty when they agree."""
    rows, unknown = artefacts(dist)
    problems = [f"{n}: in target/dist/ but no row in scripts/artefacts.py" for n in unknown]
    doc = documented(doc_text)
    built = {name: size for name, _, size, _ in rows}
    for name in sorted(set(doc) - set(built)):
        problems.append(f"{name}: in docs/artefacts.md, not in target/dist/")
    for name in sorted(set(built) - set(doc)):
        problems.append(f"{name}: in target/dist/ ({human(built[name])}), not in docs/artefacts.md")
    for name in sorted(set(doc) & set(built)):
        said, real = parse_size(doc[name]), built[name]
        if abs(said - real) > tolerance * real:
            problems.append(f"{name}: docs/artefacts.md says {doc[name]}, the file has {human(real)} ({real} bytes)")
    return problems


def write(dist: Path, doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"artefacts.py: {doc} has no markers {BEGIN!r} ... {END!r}")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}\n{table(dist)}{END}{tail}", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(prog="scripts/artefacts.py", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["table", "write", "check"])
    ap.add_argument("--dist", type=Path, default=DIST, help="the artefacts' directory (default: target/dist)")
    ap.add_argument("--doc", type=Path, default=DOC, help="the page with the table (default: docs/artefacts.md)")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE, help="check: relative size difference accepted (default: 0.10)")
    args = ap.parse_args()
    if not args.dist.is_dir():
        print(f"artefacts.py: {args.dist} does not exist: run scripts/package first", file=sys.stderr)
        return 1
    if args.command == "table":
        sys.stdout.write(table(args.dist))
    elif args.command == "write":
        write(args.dist, args.doc)
        print(f"{args.doc}: table written from {args.dist}")
    else:
        problems = differences(args.dist, args.doc.read_text(encoding="utf-8"), args.tolerance)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print("artefacts.py: docs/artefacts.md does not match target/dist/: after scripts/package, run scripts/artefacts.py write",
                  file=sys.stderr)
            return 1
        print(f"{args.doc}: matches {args.dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
