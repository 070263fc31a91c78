#!/usr/bin/env python3
"""Instruction counts of the headline operations, ours and the driver's, under callgrind.

    python3 benches/instructions.py [--iterations 200] [--markdown]

Builds `benches/src/bin/instructions.rs` (bench profile, feature `peers`), runs every operation
under `valgrind --tool=callgrind` with N = 0 and N = K iterations, and reports
(instructions(K) - instructions(0)) / (K * unit): setup and process start-up cancel out, and the
result is repeatable on a noisy shared machine (unlike wall time).

Each count also reports how much of it was spent in glibc's `memcpy`/`memmove`: for copies of a
few kilobytes and more glibc uses `rep movsb`, which callgrind counts as one instruction per
byte copied (the hardware moves tens of bytes per cycle), so a large copy weighs far more in
these counts than in time. The share is reported, never subtracted from the count.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "instructions"


def instructions(op: str, n: int) -> tuple[int, int]:
    """(all instructions, those inside glibc's memcpy/memmove) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(BIN), op, str(n)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
        )
        m = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(), re.M)
        if not m:
            sys.exit(f"no instruction total in callgrind output for {op!r}")
        annotated = subprocess.run(
            ["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)],
            check=True, capture_output=True, text=True,
        ).stdout
        copies = sum(
            int(c.group(1).replace(",", ""))
            for c in re.finditer(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?\S*memmove-vec-unaligned\S*:", annotated, re.M)
        )
        return int(m.group(1)), copies


def measure(iterations: int = 200) -> list[tuple[str, float, float]]:
    """Builds the harness and returns (operation, instructions per unit, of which in glibc's
    memcpy/memmove) for every operation."""
    subprocess.run(
        ["cargo", "build", "-q", "-p", "cosmos-session-token-benches", "--profile", "bench",
         "--features", "peers", "--bin", "instructions"], check=True, cwd=ROOT,
    )
    listing = subprocess.run([str(BIN), "list"], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in listing.splitlines():
        unit, op = line.split("\t", 1)
        (base, base_copies) = instructions(op, 0)
        (total, copies) = instructions(op, iterations)
        per = iterations * int(unit)
        rows.append((op, (total - base) / per, (copies - base_copies) / per))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    rows = measure(args.iterations)
    if args.markdown:
        print("| operation | instructions | of which in glibc memcpy/memmove |")
        print("|---|---|---|")
        for op, n, copies in rows:
            print(f"| {op} | {n:,.0f} | {copies:,.0f} |")
    else:
        for op, n, copies in rows:
            print(f"{n:12,.0f}  {copies:10,.0f}  {op}")


if __name__ == "__main__":
    main()
