"""SessionContainer: shared vectors, capture rule, snapshots across processes, thread stress."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import load_cases
from cosmos_session_token import ParseError, SessionContainer, SessionToken, SessionTokenError, merge

NAME = "dbs/db/colls/orders"
CASES = load_cases("container")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_container_vectors(case):
    c = SessionContainer()
    for i, step in enumerate(case["steps"]):
        op = step["op"]
        if op == "capture":
            got = c.capture(
                step["name"], step["rid"], step["token"], step["status"], step["sub_status"],
                resource_type=step.get("resource_type", "docs"),
            )
            assert got == step["expect"], i
        elif op == "forget_range":
            assert c.forget_range(step["collection"], step["range_id"]) == step["expect"], i
        elif op == "resolve":
            t = c.resolve(step["collection"], step["range_id"], step["parents"])
            assert (None if t is None else str(t)) == step["expect"], i
        elif op == "resolve_all":
            t = c.resolve_all(step["collection"])
            assert (None if t is None else str(t)) == step["expect"], i
        elif op == "clear":
            assert c.clear(step["collection"]) == step["expect"], i
        else:
            raise AssertionError(op)


def test_errors():
    c = SessionContainer()
    with pytest.raises(ParseError):
        c.capture(NAME, "rid1", "0:x", 200, 0)
    with pytest.raises(SessionTokenError) as info:
        c.capture(NAME, "", "0:1", 200, 0)
    assert info.value.kind == "empty_resource_id"
    with pytest.raises(SessionTokenError) as info:
        SessionContainer.restore('{"format": 1}')
    assert info.value.kind == "invalid_snapshot"
    with pytest.raises(OverflowError):
        c.capture(NAME, "rid1", "0:1", 70000, 0)
    assert c.capture(NAME, "rid1", "garbage", 429, 0) is False  # not captured, not even parsed


def test_snapshot_restored_in_another_process():
    a = SessionContainer()
    a.capture(NAME, "rid1", "0:1#100#1=20,1:-1#42", 201, 0)
    a.capture("dbs/db/colls/b", "rid2", "7:5", 200, 0)
    snap = a.snapshot()
    doc = json.loads(snap)
    assert doc["format"] == "cosmos-session-token/container" and doc["version"] == 1
    child = (
        "import sys; from cosmos_session_token import SessionContainer\n"
        "c = SessionContainer.restore(sys.stdin.read())\n"
        "c.capture('dbs/db/colls/orders', 'rid1', '0:1#101#1=20', 200, 0)\n"
        "print(c.resolve('dbs/db/colls/orders', '2', ['0', '1']))\n"
        "print(c.snapshot())\n"
    )
    out = subprocess.run([sys.executable, "-c", child], input=snap, capture_output=True, text=True, check=True)
    resolved, snap2 = out.stdout.splitlines()
    assert resolved == "2:1#101#1=20"
    back = SessionContainer.restore(snap2)
    assert str(back.resolve_all(NAME)) == "0:1#101#1=20,1:-1#42"
    assert str(back.resolve("dbs/db/colls/b", "7")) == "7:5"


def test_concurrent_captures_equal_the_sequential_merge():
    c = SessionContainer()
    tokens = [f"{i % 16}:1#{(i * 7919) % 1000}#1={(i * 31) % 97},s:1#{i}#1=1" for i in range(4000)]

    def work(chunk):
        for t in chunk:
            assert c.capture(NAME, "rid1", t, 200, 0)
            c.resolve(NAME, t.split(":", 1)[0], ["s"])

    chunks = [tokens[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, chunks))
    expected = merge(*tokens, region_mismatch="union")
    assert c.resolve_all(NAME) == expected
    assert isinstance(c.resolve_all(NAME), SessionToken)
