"""Effective partition keys, routing maps and tokens for a key or a feed range, from Python: the
shared vectors (testdata/vectors/epk.json), and a cross-check against azure-cosmos (a test
dependency) on 10,000 random values of each kind and version.

azure-cosmos is the oracle except where it departs from the service (documented in the core's
partition_key module): Hash V1 integers outside [0, 2^32) (it wraps them to 32 bits before
hashing), Hash V1 null (it encodes nothing), and Hash V1 strings longer than 100 UTF-16 units
with characters outside the BMP (it cuts at 100 code points, .NET at 100 units). The random
values avoid exactly those; the shared vectors pin the service's answers for them."""

import random

import pytest

import cosmos_session_token as cst
from conftest import load_cases

CASES = load_cases("epk")


def levels_of(case):
    if case["kind"] == "Hash":
        return None
    return case.get("levels", len(case["value"]) if isinstance(case["value"], list) else 1)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_epk_vectors(case):
    kw = dict(kind=case["kind"], version=case["version"], levels=levels_of(case))
    if "error" in case:
        with pytest.raises(cst.SessionTokenError) as info:
            cst.effective_partition_key(case["value"], **kw)
        assert info.value.kind == case["error"]
        return
    assert cst.effective_partition_key(case["value"], **kw) == case["epk"]
    if "range" in case:
        assert cst.feed_range_from_partition_key(case["value"], **kw) == {"Range": case["range"]}


def random_string(rng, *, astral):
    n = rng.choice([0, 1, 2, 5, 50, 99, 100, 101, 120, 300])
    pools = [(0x20, 0x7E), (0xA0, 0x2FF), (0x3040, 0x30FF)] + ([(0x1F300, 0x1F64F)] if astral else [])
    out = []
    for _ in range(n):
        lo, hi = rng.choice(pools)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def random_value(rng, *, v1=False):
    kind = rng.randrange(6)
    if kind == 0:
        return random_string(rng, astral=not v1) if not v1 else random_string(rng, astral=rng.random() < 0.5)
    if kind == 1:
        return rng.randint(0, 2**32 - 1) if v1 else rng.choice([rng.randint(-2**63, 2**63 - 1), rng.randint(-1000, 1000)])
    if kind == 2:
        return rng.choice([rng.uniform(-1e6, 1e6), rng.uniform(-1e300, 1e300), 0.5, -0.0])
    if kind == 3:
        return rng.random() < 0.5
    if kind == 4:
        return "" if v1 else None
    return random_string(rng, astral=False)


def v1_safe(value):
    # Long strings with astral characters are cut differently by azure-cosmos (see the module doc).
    return not (isinstance(value, str) and len(value.encode("utf-16-le")) // 2 > 100 and any(ord(c) > 0xFFFF for c in value))


def azure_range(pk_def, value):
    r = pk_def._get_epk_range_for_partition_key(value)
    return {"min": r.min.upper(), "max": r.max.upper(), "isMinInclusive": r.isMinInclusive, "isMaxInclusive": r.isMaxInclusive}


@pytest.mark.parametrize("config", ["hash-v1", "hash-v2", "multihash-full", "multihash-prefix"])
def test_ten_thousand_random_values_match_azure_cosmos(config):
    pk_mod = pytest.importorskip("azure.cosmos.partition_key")
    rng = random.Random(f"epk-{config}")
    if config.startswith("hash"):
        version = 1 if config == "hash-v1" else 2
        pk_def = pk_mod.PartitionKey(path="/pk", kind="Hash", version=version)
    else:
        pk_def = pk_mod.PartitionKey(path=["/a", "/b", "/c"], kind="MultiHash", version=2)
    checked = 0
    while checked < 10_000:
        if config.startswith("hash"):
            value = random_value(rng, v1=config == "hash-v1")
            if config == "hash-v1" and not v1_safe(value):
                continue
            ours = cst.feed_range_from_partition_key(value, version=version)["Range"]
            theirs = azure_range(pk_def, [value])
        else:
            n = 3 if config == "multihash-full" else rng.choice([1, 2])
            value = [random_value(rng) for _ in range(n)]
            ours = cst.feed_range_from_partition_key(value, kind="MultiHash", levels=3)["Range"]
            theirs = azure_range(pk_def, value)
        assert ours == theirs, (config, value)
        checked += 1


def pkranges(n):
    bounds = [""] + [f"{(i * 0xFF0000) // n:06X}" for i in range(1, n)] + ["FF"]
    return {"PartitionKeyRanges": [{"id": str(i + 10), "minInclusive": bounds[i], "maxExclusive": bounds[i + 1],
                                    "parents": ["0"]} for i in range(n)]}


def test_routing_maps_and_tokens_for_a_key_or_a_feed_range():
    # Range 0 split into 40 children; the token knows 0 (from before the split) and two children.
    m = cst.RoutingMap(pkranges(40))
    assert len(m) == 40
    token = cst.SessionToken.parse("0:1#50,10:1#60,49:1#70")
    for value in ["user-1", "user-2", 42, True, None]:
        epk = cst.effective_partition_key(value)
        home = m.range_for(epk)
        assert home["minInclusive"] <= epk < home["maxExclusive"]
        sent = cst.token_for_partition_key(token, value, m)
        expect = {"10": "10:1#60", "49": "49:1#70"}.get(home["id"], f"{home['id']}:1#50")
        assert str(sent) == expect, (value, home)
    # Only the segments of the overlapped ranges (never the whole token).
    fr = {"Range": {"min": "", "max": m.range_for("050000")["maxExclusive"], "isMinInclusive": True, "isMaxInclusive": False}}
    sent = cst.token_for_feed_range(token, fr, m)
    assert [s.range_id for s in sent.segments] == [r["id"] for r in m.overlapping(fr)]
    # A hierarchical prefix is a feed range.
    mh = cst.SessionToken.parse("0:1#9")
    definition = {"paths": ["/tenant", "/user"], "kind": "MultiHash", "version": 2}
    assert cst.token_for_partition_key(mh, ["tenant-1"], m, definition) is not None
    with pytest.raises(cst.SessionTokenError) as info:
        cst.RoutingMap({"PartitionKeyRanges": [{"id": "1", "minInclusive": "", "maxExclusive": "80"},
                                               {"id": "2", "minInclusive": "90", "maxExclusive": "FF"}]})
    assert info.value.kind == "invalid_routing_map" and "gap" in str(info.value)
    with pytest.raises(cst.LimitExceededError) as info:
        cst.check_header_budget(cst.SessionToken.parse(",".join(f"{i}:1#{i}" for i in range(100))), 100)
    assert info.value.kind == "token_too_large"


def test_point_feed_ranges_from_azure_cosmos_are_accepted_by_latest_for_feed_range():
    fr = cst.feed_range_from_partition_key("cart-7")
    assert fr["Range"]["isMaxInclusive"] is True and fr["Range"]["min"] == fr["Range"]["max"]
    assert str(cst.latest_for_feed_range([(fr, "0:1#5"), ("-FF", "0:1#3")], fr)) == "0:1#5"


def test_compare_explained_says_by_how_much():
    order, a_lacks, b_lacks = cst.SessionToken.parse("0:1#90#1=15,1:-1#42").compare_explained("0:1#100#1=20,2:1#7")
    assert order is cst.Order.CONCURRENT
    assert [l["text"] for l in a_lacks] == ["range 0: global LSN 90 < 100 (10 behind)",
                                           "range 0 region 1: LSN 15 < 20 (5 behind)", "range 2: absent (needs 2:1#7)"]
    assert a_lacks[1] == {"range_id": "0", "kind": "region", "region": 1, "have": 15, "need": 20,
                          "text": "range 0 region 1: LSN 15 < 20 (5 behind)"}
    assert [l["kind"] for l in b_lacks] == ["range"]


def test_the_session_container_resolves_by_partition_key():
    c = cst.SessionContainer()
    assert c.capture("dbs/d/colls/c", "rid1", "1:1#10,2:1#20", 200)
    m = cst.RoutingMap([{"id": "1", "minInclusive": "", "maxExclusive": "20"},
                        {"id": "2", "minInclusive": "20", "maxExclusive": "FF"}])
    assert str(c.resolve_for_partition_key("dbs/d/colls/c", "partitionKey", m)) == "1:1#10"
    assert c.resolve_for_partition_key("dbs/other/colls/c", "partitionKey", m) is None


def test_a_multihash_key_given_as_one_str_is_one_component():
    # The levels default to the number of components, not to the length of the string.
    fr = cst.feed_range_from_partition_key("tenant-1", kind="MultiHash")["Range"]
    assert fr["isMaxInclusive"] is True and fr["min"] == cst.effective_partition_key(["tenant-1"], kind="MultiHash")


# Routing calls release the GIL from 64 ranges or segments up (second security review, issue #34,
# finding 2): a large map no longer stalls the interpreter's other threads, and the results are
# the same on either side of the threshold.


def scale_map_json(n, lo="", hi="FF"):
    """routing_scale.rs's map as pkranges JSON: `n` ranges of equal width over [lo, hi), ids
    "0".."n-1", each the child of one of 16 older ranges "p0".."p15"; when `lo` is not the start,
    ranges "below" and "above" fill the rest of the key space. Returns (text, [(id, parent)])."""
    bounds = [lo] + [f"{lo}{i * (0xFF0000 // n):06X}" for i in range(1, n)] + [hi]
    inside = [(str(i), f"p{i % 16}") for i in range(n)]
    ranges = [f'{{"id":"{i}","minInclusive":"{bounds[i]}","maxExclusive":"{bounds[i + 1]}","parents":["p{i % 16}"]}}'
              for i in range(n)]
    if lo:
        ranges += [f'{{"id":"below","minInclusive":"","maxExclusive":"{lo}"}}',
                   f'{{"id":"above","minInclusive":"{hi}","maxExclusive":"FF"}}']
    return '{"PartitionKeyRanges":[' + ",".join(ranges) + "]}", inside


def scale_token(n, every):
    """Own segments for every `every`-th range and the 16 parents' (the others scope through theirs)."""
    own = {str(i): f"1#{i}#1={i}" for i in range(0, n, every)}
    own.update({f"p{p}": f"1#{1000 + p}#1=7" for p in range(16)})
    return ",".join(f"{k}:{v}" for k, v in own.items()), own


def expected_for(inside, own):
    """The token to send, computed here: each range's own segment, else its parent's relabelled."""
    return ",".join(f"{rid}:{own[rid] if rid in own else own[parent]}" for rid, parent in inside)


@pytest.mark.parametrize("n", [1, 2, 31, 32, 63, 64, 65, 200])
def test_routing_results_are_the_same_below_and_above_the_gil_threshold(n):
    text, inside = scale_map_json(n)
    m = cst.RoutingMap(text)
    for every in (1, 2, 5):
        token_text, own = scale_token(n, every)
        token = cst.SessionToken.parse(token_text)
        sent = cst.token_for_feed_range(token, "-FF", m)
        assert str(sent) == expected_for(inside, own), (n, every)
        assert cst.token_for_feed_range(token_text, "-FF", m) == sent  # str token: the same path
        # A full key: its home range's segment (or its parent's), from either side of the threshold.
        for value in ("user-1", 42):
            home = m.range_for(cst.effective_partition_key(value))["id"]
            parent = dict(inside)[home]
            want = f"{home}:{own[home] if home in own else own[parent]}"
            assert str(cst.token_for_partition_key(token, value, m)) == want, (n, every, value)
    # A hierarchical-key prefix spanning the n ranges, resolved by the container.
    definition = {"paths": ["/tenant", "/user"], "kind": "MultiHash", "version": 2}
    span = cst.feed_range_from_partition_key(["tenant-1"], kind="MultiHash", levels=2)["Range"]
    text, inside = scale_map_json(n, span["min"], span["max"])
    m = cst.RoutingMap(text)
    token_text, own = scale_token(n, 2)
    c = cst.SessionContainer()
    assert c.capture("dbs/d/colls/c", "rid", token_text, 200)
    assert str(c.resolve_for_partition_key("dbs/d/colls/c", ["tenant-1"], m, definition)) == expected_for(inside, own)
    assert str(cst.token_for_partition_key(token_text, ["tenant-1"], m, definition)) == expected_for(inside, own)


def test_a_large_token_for_feed_range_lets_other_threads_run():
    import sys
    import threading
    import time

    n = 262_144  # the most ranges a routing map holds
    text, inside = scale_map_json(n)
    m = cst.RoutingMap(text)
    # Every 8th range's own segment (32,768 + 16 segments, within the default parse limits).
    token_text, own = scale_token(n, 8)
    token = cst.SessionToken.parse(token_text)

    stamps = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            stamps.append(time.perf_counter())

    # A short switch interval: holding the GIL, the call lets the counter run only for about
    # that long just before it enters native code and just after it returns; released, the
    # counter runs throughout the call.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    counter = threading.Thread(target=count)
    counter.start()
    try:
        while len(stamps) < 1000:  # the counter is running
            time.sleep(0.001)
        start = time.perf_counter()
        sent = cst.token_for_feed_range(token, "-FF", m)
        end = time.perf_counter()
    finally:
        stop.set()
        counter.join()
        sys.setswitchinterval(interval)
    assert len(sent) == n
    assert str(sent.segments[1]) == "1:" + own["p1"] and str(sent.segments[8]) == "8:" + own["8"]
    quarter = (end - start) / 4
    middle = [s for s in stamps if start + quarter <= s <= end - quarter]
    assert middle, f"no other thread ran in the middle half of the {1000 * (end - start):.0f} ms call"
