#!/usr/bin/env python3
"""Instruction counts of the headline operations, ours and the driver's, under callgrind.

    python3 benches/instructions.py [--iterations 200] [--markdown]

Builds `benches/src/bin/instructions.rs` (bench profile, feature `peers`), runs every operation
under `valgrind --tool=callgrind` with N = 0 and N = K iterations, and reports
(instructions(K) - instructions(0)) / (K * unit): setup and process start-up cancel out, and the
result is repeatable on a noisy shared machine (unlike wall time).
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


def instructions(op: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(BIN), op, str(n)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
        )
        m = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(), re.M)
        if not m:
            sys.exit(f"no instruction total in callgrind output for {op!r}")
        return int(m.group(1))


def measure(iterations: int = 200) -> list[tuple[str, float]]:
    """Builds the harness and returns (operation, instructions per unit) for every operation."""
    subprocess.run(
        ["cargo", "build", "-q", "-p", "cosmos-session-token-benches", "--profile", "bench",
         "--features", "peers", "--bin", "instructions"], check=True, cwd=ROOT,
    )
    listing = subprocess.run([str(BIN), "list"], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in listing.splitlines():
        unit, op = line.split("\t", 1)
        base = instructions(op, 0)
        total = instructions(op, iterations)
        rows.append((op, (total - base) / (iterations * int(unit))))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    rows = measure(args.iterations)
    if args.markdown:
        print("| operation | instructions |")
        print("|---|---|")
        for op, n in rows:
            print(f"| {op} | {n:,.0f} |")
    else:
        for op, n in rows:
            print(f"{n:12,.0f}  {op}")


if __name__ == "__main__":
    main()
