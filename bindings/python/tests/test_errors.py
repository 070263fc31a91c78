"""One error model: the shared error vectors, the exception classes of the error table, pickling
(also across a process pool), the carrier, and the C header's constants against this package's."""

import concurrent.futures
import json
import pickle
import re
from pathlib import Path

import pytest

import cosmos_session_token as cst
from conftest import VECTORS
from cosmos_session_token.state import SessionStateStore
from cosmos_session_token import (
    ERROR_CODES,
    SessionCarrier,
    SessionContainer,
    SessionToken,
    SessionTokenError,
    latest_for_feed_range,
    merge,
    seal,
    unseal,
)

DOC = json.loads((VECTORS / "errors.json").read_text(encoding="utf-8"))
ROOT = Path(__file__).resolve().parents[3]


def run(case):
    op = case["op"]
    keys = [bytes.fromhex(k) for k in case.get("keys_hex", [])]
    if op == "parse":
        return SessionToken.parse(case["input"], lenient=case["mode"] == "lenient")
    if op == "merge":
        return merge(*case["inputs"])
    if op == "scope":
        return SessionToken.parse(case["token"]).scope(case["range_id"], case["parents"])
    if op == "seal":
        return seal(case["token"], bytes.fromhex(case["key_hex"]), case["context"], max_bytes=case["max_bytes"])
    if op == "unseal":
        return unseal(case["sealed"], keys, case["context"], max_bytes=case["max_bytes"])
    if op == "latest":
        return latest_for_feed_range([tuple(p) for p in case["pairs"]], case["target"])
    if op == "capture":
        c = SessionContainer()
        return c.capture("dbs/d/colls/c", case["rid"], case["token"], case["status"], resource_type=case["resource_type"])
    if op == "restore":
        return SessionContainer.restore(case["snapshot"])
    if op == "carrier":
        return SessionCarrier(keys)
    if op == "state_open":
        return SessionStateStore(case["connection_string"], database="d")
    if op == "state_get":
        return SessionStateStore.memory().get(case["sid"])
    if op == "state_write_unlocked":
        return SessionStateStore.memory().set_and_release(case["sid"], b"x", 42)
    raise AssertionError(op)


@pytest.mark.parametrize("case", DOC["cases"], ids=lambda c: c["id"])
def test_error_vectors(case):
    if case["category"] == "not_found":
        assert run(case) is None  # a missing result is a return value
        return
    with pytest.raises(SessionTokenError) as info:
        run(case)
    e = info.value
    assert (e.kind, e.category) == (case["kind"], case["category"])
    assert type(e).__name__ == DOC["categories"][case["category"]]["python"]
    assert type(e).__module__ == "cosmos_session_token._native"


def test_error_table_matches_vectors_and_classes():
    table = dict(ERROR_CODES)
    for case in DOC["cases"]:
        assert table[case["kind"]] == case["category"]
    for category, row in DOC["categories"].items():
        cls = getattr(cst, row["python"])
        assert issubclass(cls, SessionTokenError) and issubclass(cls, ValueError), category
    assert set(table.values()) <= set(DOC["categories"])


def test_header_constants_match_the_table():
    """The C header's CST_ERR_* numbers are the categories' statuses; the .NET constants too."""
    header = (ROOT / "ffi" / "include" / "cstoken.h").read_text()
    defined = {m[0]: int(m[1]) for m in re.findall(r"#define (CST_ERR_\w+) (\d+)", header)}
    expected = {f"CST_ERR_{c.upper()}": row["status"] for c, row in DOC["categories"].items()}
    expected["CST_ERR_PANIC"] = expected.pop("CST_ERR_INTERNAL")
    assert defined == expected
    dotnet = (ROOT / "bindings" / "dotnet" / "src" / "CosmosSessionToken" / "NativeMethods.cs").read_text()
    cs = {m[0]: int(m[1]) for m in re.findall(r"const int (CST_ERR_\w+) = (\d+);", dotnet)}
    assert cs == expected


def _raise_parse_error(text):
    SessionToken.parse(text)


def test_exceptions_pickle_and_cross_a_process_pool():
    with pytest.raises(SessionTokenError) as info:
        SessionToken.parse("0:1#5,17:1#x1")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is type(info.value) and str(again) == str(info.value)
    assert (again.kind, again.category, again.segment, again.range_id, again.offset) == (
        "not_a_number", "malformed", 1, "17", 11)
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(cst.ParseError) as remote:
            pool.submit(_raise_parse_error, "0:1#x").result(timeout=60)
    assert remote.value.kind == "not_a_number" and remote.value.category == "malformed"


KEY = b"0123456789abcdef0123456789abcdef"


def test_carrier_policy():
    a = SessionCarrier([KEY], "user-1")
    assert a.read(None) is False and a.token is None and a.sealed() is None
    assert a.report("") is False and not a.changed
    assert a.report("0:1#5#1=1") and a.report(SessionToken.parse("0:1#5#2=1,1:1#7"))  # union, never fails
    assert a.changed and str(a.token) == "0:1#5#1=1#2=1,1:1#7"
    cookie = a.sealed()
    b = SessionCarrier([b"n" * 16, KEY], "user-1")  # rotation: the old key still opens it
    assert b.read(cookie) and not b.changed
    assert str(b.for_range("1")) == "1:1#7" and b.for_range("9") is None
    assert not b.read(cookie[:-1] + ("A" if cookie[-1] != "A" else "B"))  # tampered: no token
    other = SessionCarrier([KEY], "user-2")
    assert not other.read(cookie) and other.verdict == "foreign_context"  # other context: no token, and why
    stranger = SessionCarrier([b"s" * 32], "user-1")
    assert not stranger.read(cookie) and stranger.verdict == "unknown_key"
    assert b.verdict in {"forged", "malformed"}
    routing = cst.RoutingMap([{"id": "1", "minInclusive": "", "maxExclusive": "7F"}, {"id": "2", "minInclusive": "7F", "maxExclusive": "FF"}])
    c = SessionCarrier([KEY], "user-1")
    assert c.for_partition_key("user-42", routing) is None
    c.report("1:1#10,2:1#20")
    assert len(c.for_partition_key("user-42", routing)) == 1
    with pytest.raises(cst.ParseError):
        b.report("0:x")
    tiny = SessionCarrier([KEY], max_bytes=10)
    tiny.report("0:1#5")
    with pytest.raises(cst.LimitExceededError) as info:
        tiny.sealed()
    assert info.value.kind == "seal_too_large"
    assert cst.DEFAULT_COOKIE_NAME == "cosmos_token" and cst.DEFAULT_SEAL_BUDGET == 4000
