#!/usr/bin/env python3
"""Times cosmos_session_token against azure-cosmos's own session-token code, in one process.

    .venv/bin/pip install matplotlib            # bench-only dependency, for the plot
    .venv/bin/python benches/python_vs_azure_cosmos.py [--plot benches/feed_range_merge.png] [--quick]

Compares: parsing a single-segment vector token (VectorSessionToken.create vs SessionToken.parse),
merging two (VectorSessionToken.merge vs SessionToken.merge), and the latest token for a feed
range from 100 and 1,000 (feed range, token) pairs (_session_token_helpers.get_latest_session_token
vs latest_for_feed_range), then prints the ratios. With --plot, also times feed-range merge from
10 to 10,000 pairs (azure-cosmos up to 3,000: it is quadratic) and draws the curve.
"""

from __future__ import annotations

import argparse
import os
import platform
import timeit

os.environ["AZURE_COSMOS_SESSION_TOKEN_FALSE_PROGRESS_MERGE"] = "true"  # both sides: FP on

from azure.cosmos import __version__ as azure_version  # noqa: E402
from azure.cosmos._session_token_helpers import get_latest_session_token  # noqa: E402
from azure.cosmos._vector_session_token import VectorSessionToken  # noqa: E402

import cosmos_session_token as cst  # noqa: E402


def per_call(fn, min_seconds: float) -> float:
    """Seconds per call: the best of 5 rounds of an auto-sized loop."""
    timer = timeit.Timer(fn)
    n, t = timer.autorange()
    while t < min_seconds:
        n *= 2
        t = timer.timeit(n)
    return min(timer.repeat(5, n)) / n


def feed_range_pairs(n: int) -> list[tuple[dict, str]]:
    """Same shape as benches/src/lib.rs: a root, its split leaves, a newer duplicate of each leaf."""
    leaves = max(n // 2, 1)
    step = 0xFF00 // leaves  # keys starting with "FF" would sort after the end sentinel "FF"

    def bound(i: int) -> str:
        return "" if i == 0 else "FF" if i >= leaves else f"{i * step:04X}"

    def rng(lo: str, hi: str) -> dict:
        return {"Range": {"min": lo, "max": hi, "isMinInclusive": True, "isMaxInclusive": False}}

    pairs = [(rng("", "FF"), "0:1#100#1=5")]
    for i in range(leaves):
        r = rng(bound(i), bound(i + 1))
        pairs.append((r, f"{i + 1}:1#{200 + i}#1=6"))
        pairs.append((r, f"{i + 1}:1#{300 + i}#1=7"))
    return pairs[: max(n, 1)]


TARGET = {"Range": {"min": "", "max": "FF", "isMinInclusive": True, "isMaxInclusive": False}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", help="write a PNG of feed-range merge time against pair count")
    ap.add_argument("--quick", action="store_true", help="shorter timing loops")
    args = ap.parse_args()
    secs = 0.05 if args.quick else 0.3

    value = "1#1000000#1=500001#2=500002#3=500003"
    other = "1#1000005#1=500006#2=500007#3=500008"
    sdk_a, sdk_b = VectorSessionToken.create(value), VectorSessionToken.create(other)
    ours_a, ours_b = cst.SessionToken.parse("0:" + value), cst.SessionToken.parse("0:" + other)
    assert cst.SessionToken.parse("0:" + sdk_a.merge(sdk_b).convert_to_string()) == ours_a.merge(ours_b)

    text_a, text_b = "0:" + value, "0:" + other  # built once: string building is not the parse
    rows = []
    rows.append(("parse 1 segment, 3 regions (SessionToken.parse)",
                 per_call(lambda: VectorSessionToken.create(value), secs),
                 per_call(lambda: cst.SessionToken.parse(text_a), secs)))
    rows.append(("parse 1 segment, 3 regions (module parse)",
                 per_call(lambda: VectorSessionToken.create(value), secs),
                 per_call(lambda: cst.parse(text_a), secs)))
    rows.append(("merge 1 segment, 3 regions (parsed tokens)", per_call(lambda: sdk_a.merge(sdk_b), secs),
                 per_call(lambda: ours_a.merge(ours_b), secs)))
    rows.append(("merge(str, str) vs create + create + merge",
                 per_call(lambda: VectorSessionToken.create(value).merge(VectorSessionToken.create(other)), secs),
                 per_call(lambda: cst.merge(text_a, text_b), secs)))
    rows.append(("token.merge(str) vs create + merge",
                 per_call(lambda: sdk_a.merge(VectorSessionToken.create(other)), secs),
                 per_call(lambda: ours_a.merge(text_b), secs)))
    for n in (100, 1000):
        pairs = feed_range_pairs(n)
        expected = cst.latest_for_feed_range(pairs, TARGET)
        assert cst.SessionToken.parse(get_latest_session_token(pairs, TARGET)) == expected
        rows.append((f"latest for feed range, {n} pairs", per_call(lambda: get_latest_session_token(pairs, TARGET), secs),
                     per_call(lambda: cst.latest_for_feed_range(pairs, TARGET), secs)))

    print(f"Python {platform.python_version()}, azure-cosmos {azure_version}, cosmos-session-token {cst.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} cores")
    print("| operation | azure-cosmos | cosmos-session-token | ratio |")
    print("|---|---|---|---|")
    for name, theirs, ours in rows:
        print(f"| {name} | {fmt(theirs)} | {fmt(ours)} | {theirs / ours:,.0f}x |")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sizes = [10, 30, 100, 300, 1000, 3000, 10000]
        ours_t = [per_call(lambda p=feed_range_pairs(n): cst.latest_for_feed_range(p, TARGET), secs / 3) for n in sizes]
        sdk_sizes = [n for n in sizes if n <= 3000]
        sdk_t = [per_call(lambda p=feed_range_pairs(n): get_latest_session_token(p, TARGET), secs / 3) for n in sdk_sizes]
        plt.figure(figsize=(7, 4.5))
        plt.loglog(sizes, [t * 1e3 for t in ours_t], "o-", label="cosmos-session-token")
        plt.loglog(sdk_sizes, [t * 1e3 for t in sdk_t], "s-", label=f"azure-cosmos {azure_version}")
        plt.xlabel("(feed range, token) pairs")
        plt.ylabel("time per call (ms)")
        plt.title("Latest session token for a feed range")
        plt.grid(True, which="both", alpha=0.3)
        plt.legend()
        plt.tight_layout()
        plt.savefig(args.plot, dpi=110)
        print(f"plot: {args.plot}")
        print("| pairs | " + " | ".join(str(n) for n in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        print("| cosmos-session-token | " + " | ".join(fmt(t) for t in ours_t) + " |")
        print("| azure-cosmos | " + " | ".join(fmt(t) for t in sdk_t) + " | - |" * (len(sizes) - len(sdk_sizes)))


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds / 1e-9:.0f} ns"


if __name__ == "__main__":
    main()
