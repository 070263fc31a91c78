#!/usr/bin/env python3
"""The token work under the flow's hooks, in Python, on varied inputs (issue #36).

    .venv/bin/python benches/python_token_varied.py [--rounds 21] [--json]

Times parsing and merging 20,000 distinct one-segment vector tokens (one token repeated would
flatter caches) with cosmos_session_token and with azure-cosmos's own code
(azure.cosmos._vector_session_token.VectorSessionToken): `create` against `SessionToken.parse`
and the module's `parse`, and `merge` of parsed tokens against `SessionToken.merge`, for tokens
with 0, 1 and 3 regions. Every token differs in range id, version, global LSN and each region's
LSN; the LSNs have 3 to 9 digits (uniformly), region ids are distinct, below 20. A merge pairs a
token with another of the same range and regions, ahead in some places and behind in others
(a quarter one version newer). Every pass goes over all 20,000 inputs in the same Python loop on
both sides, twice: each result dropped at once (`for x in xs: f(x)`, as in the flow's hooks:
parse, use, drop) and the results kept until the pass ends (`[f(x) for x in xs]`, as a caller
collecting tokens: more memory touched, which costs both sides), with the cyclic GC off during
passes (as `timeit` does). Each of --rounds rounds runs one pass of each side, in turns; the
result is each side's best pass, in nanoseconds per call, and the ratio azure-cosmos / ours as
the median over the rounds of the two passes' ratio in that round (robust to other work on a
shared machine, which weighs on both passes of a round alike). Both sides' merges are checked
to agree on every pair before timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import time

os.environ["AZURE_COSMOS_SESSION_TOKEN_FALSE_PROGRESS_MERGE"] = "true"  # both sides: FP on

from azure.cosmos import __version__ as azure_version  # noqa: E402
from azure.cosmos._vector_session_token import VectorSessionToken  # noqa: E402

import cosmos_session_token as cst  # noqa: E402

N = 20_000
SHAPES = (0, 1, 3)  # regions per token


def lsn(rnd: random.Random) -> int:
    digits = rnd.randrange(3, 10)
    return rnd.randrange(10 ** (digits - 1), 10**digits)


def inputs(regions: int, seed: int = 36) -> tuple[list[str], list[str], list[str], list[str]]:
    """N distinct (value, other) pairs of one shape, and the same as `rid:value` header values."""
    rnd = random.Random(seed * 100 + regions)
    values, others, texts, other_texts = [], [], [], []
    seen = set()
    while len(values) < N:
        rid = rnd.randrange(0, 4096)
        version = rnd.randrange(1, 50)
        glsn = lsn(rnd)
        ids = rnd.sample(range(20), regions)
        lsns = [lsn(rnd) for _ in ids]
        value = f"{version}#{glsn}" + "".join(f"#{r}={x}" for r, x in zip(ids, lsns))
        if (rid, value) in seen:
            continue
        seen.add((rid, value))
        o_version = version + (1 if rnd.random() < 0.25 else 0)
        o_glsn = max(1, glsn + rnd.randrange(-100, 100))
        o_lsns = [max(1, x + rnd.randrange(-100, 100)) for x in lsns]
        other = f"{o_version}#{o_glsn}" + "".join(f"#{r}={x}" for r, x in zip(ids, o_lsns))
        values.append(value)
        others.append(other)
        texts.append(f"{rid}:{value}")
        other_texts.append(f"{rid}:{other}")
    return values, others, texts, other_texts


def best_ns(sdk_loop, ours_loop, rounds: int) -> tuple[float, float, float]:
    """Nanoseconds per call of each side, the best of `rounds` passes over all N inputs, and the
    median over the rounds of the ratio of the two sides' passes in that round (each round runs
    one pass of each, in turns, so other work on the machine weighs on both alike)."""
    sdk_loop(), ours_loop()  # warm-up
    best = [float("inf"), float("inf")]
    ratios = []
    gc.disable()
    try:
        for _ in range(rounds):
            took = []
            for side, loop in enumerate((sdk_loop, ours_loop)):
                t0 = time.perf_counter_ns()
                loop()
                took.append(time.perf_counter_ns() - t0)
                best[side] = min(best[side], took[-1])
            ratios.append(took[0] / took[1])
    finally:
        gc.enable()
    return best[0] / N, best[1] / N, statistics.median(ratios)


def measure(regions: int, rounds: int) -> list[tuple[str, float, float]]:
    values, others, texts, other_texts = inputs(regions)
    assert len(set(texts)) == N
    sdk_a = [VectorSessionToken.create(v) for v in values]
    sdk_b = [VectorSessionToken.create(v) for v in others]
    ours_a = [cst.SessionToken.parse(t) for t in texts]
    ours_b = [cst.SessionToken.parse(t) for t in other_texts]
    for i in range(N):
        rid = texts[i].split(":", 1)[0]
        expected = cst.SessionToken.parse(f"{rid}:" + sdk_a[i].merge(sdk_b[i]).convert_to_string())
        assert ours_a[i].merge(ours_b[i]) == expected, (texts[i], other_texts[i])

    create, parse_class, parse_module = VectorSessionToken.create, cst.SessionToken.parse, cst.parse
    pairs_sdk, pairs_ours = list(zip(sdk_a, sdk_b)), list(zip(ours_a, ours_b))
    shape = f"1 segment, {regions} region{'s' if regions != 1 else ''}"

    # Each result dropped at once (as in the hooks: parse, merge, render, drop) ...
    def each(fn, xs):
        def loop():
            for x in xs:
                fn(x)
        return loop

    def each_pair(xs):
        def loop():
            for a, b in xs:
                a.merge(b)
        return loop

    # ... or kept until the pass ends (as a caller collecting tokens): more memory touched.
    def kept(fn, xs):
        return lambda: [fn(x) for x in xs]

    def kept_pair(xs):
        return lambda: [a.merge(b) for a, b in xs]

    rows = []
    for mode, one, pair in (("dropped", each, each_pair), ("kept", kept, kept_pair)):
        rows += [
            (f"parse, {shape} (SessionToken.parse), results {mode}",
             *best_ns(one(create, values), one(parse_class, texts), rounds)),
            (f"parse, {shape} (module parse), results {mode}",
             *best_ns(one(create, values), one(parse_module, texts), rounds)),
            (f"merge of parsed tokens, {shape}, results {mode}",
             *best_ns(pair(pairs_sdk), pair(pairs_ours), rounds)),
        ]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = ap.parse_args()
    load_before = os.getloadavg()
    rows = [row for regions in SHAPES for row in measure(regions, args.rounds)]
    load_after = os.getloadavg()

    if args.json:
        print(json.dumps({"rows": [{"operation": n, "azure_cosmos_ns": s, "ours_ns": o, "ratio": r}
                                   for n, s, o, r in rows],
                          "tokens": N, "rounds": args.rounds, "load_before": load_before, "load_after": load_after}))
        return
    print(f"Python {platform.python_version()}, azure-cosmos {azure_version}, cosmos-session-token {cst.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} cores; {N:,} distinct tokens per shape, {args.rounds} rounds; "
          f"load average {' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in load_after)} after")
    print("| operation | azure-cosmos (best) | cosmos-session-token (best) | ratio (median of rounds) |")
    print("|---|---|---|---|")
    for name, theirs, ours, ratio in rows:
        print(f"| {name} | {theirs:,.0f} ns | {ours:,.0f} ns | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
