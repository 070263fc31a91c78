"""cosmos_session_token.state: the engine in memory and against the Cosmos DB test server
(testserver/server.js, started on 127.0.0.1 with a free port and stopped by PID), and the
master-key signature checked against azure-cosmos's own signing function on random inputs."""

import base64
import concurrent.futures
import json
import os
import random
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cosmos_session_token import LockLost, SessionTokenError, StateStoreError
from cosmos_session_token.state import Exclusive, SessionStateStore, master_key_signature

from conftest import KEY, conn


def shim(port, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET",
                                 headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def test_memory_store_contract():
    s = SessionStateStore.memory(lock_ttl=5.0, timeout=60.0)
    assert s.get("a") is None
    ex = s.get_exclusive("a")
    assert isinstance(ex, Exclusive) and not ex.locked and ex.data is None and ex.lock_age == 0.0
    other = s.get_exclusive("a")
    assert other.locked and other.lock_id == ex.lock_id and other.lock_age >= 0.0
    assert s.release("a", 0) is False and s.release("a", ex.lock_id + 1) is False
    s.set_and_release("a", b"v1", ex.lock_id, new_item=True)
    assert s.get("a") == b"v1"
    with pytest.raises(LockLost) as info:
        s.set_and_release("a", b"v2", ex.lock_id)
    assert info.value.kind == "lock_lost" and isinstance(info.value, SessionTokenError)
    assert s.get("a") == b"v1"
    s.create_uninitialized("u")
    assert s.get("u") == b"" and s.get_exclusive("u").uninitialized
    assert s.show("a")["exists"] and s.token("a") is not None
    ex = s.get_exclusive("a")
    # A foreign or zero lock id removes nothing, and the holder keeps its lock.
    assert s.remove("a", ex.lock_id + 7) is False and s.remove("a", 0) is False
    assert s.get("a") == b"v1" and s.get_exclusive("a").locked
    assert s.remove("a", ex.lock_id) is True
    assert s.get("a") is None
    assert s.reset_timeout("a") is False
    with pytest.raises(SessionTokenError) as bad:
        s.get("")
    assert bad.value.kind == "invalid_session_id"
    with pytest.raises(SessionTokenError) as big:
        SessionStateStore.memory(compression=False).set_and_release("b", b"x" * (3 << 20), 1, new_item=True)
    assert big.value.kind == "item_too_large"


def test_options_have_one_set_of_defaults_and_ranges():
    """The ranges are the state crate's Settings (the C ABI, .NET, ASP.NET and cst check the same)."""
    SessionStateStore.memory(renew_fraction=0.0)
    SessionStateStore(conn(1), max_retries=100, request_timeout=0.5)  # database defaults to "sessions"
    for bad in [dict(max_retries=101), dict(max_retries=-1), dict(request_timeout=3600.0), dict(request_timeout=0.0),
                dict(renew_fraction=1.5), dict(lock_ttl=0.0), dict(database="no spaces"), dict(consistency="Strongest")]:
        with pytest.raises(SessionTokenError) as info:
            SessionStateStore(conn(1), **bad)
        assert info.value.kind == "invalid_option", bad
    with pytest.raises(SessionTokenError) as info:
        SessionStateStore.memory(renew_fraction=-0.1)
    assert info.value.kind == "invalid_option"


def test_connection_strings_never_leak_the_key():
    for bad in ["", "AccountEndpoint=http://h/", "AccountKey=SECRETSECRET", "AccountEndpoint=https://h/;AccountKey=!!SECRET!!"]:
        with pytest.raises(SessionTokenError) as info:
            SessionStateStore(bad, database="x")
        assert info.value.kind == "invalid_connection_string"
        assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value)
    with pytest.raises(SessionTokenError) as info:
        SessionStateStore(f"AccountEndpoint=http://127.0.0.1:9/;AccountKey={KEY};", database="x", consistency="Strongest")
    assert info.value.kind == "invalid_option"


def test_against_the_server(server):
    s = SessionStateStore(conn(server), database="py", lock_ttl=30.0, timeout=600.0)
    ex = s.get_exclusive("user/1")
    s.set_and_release("user/1", b"hello", ex.lock_id, new_item=True)
    assert s.get("user/1") == b"hello"
    held = s.get_exclusive("user/1")
    other = SessionStateStore(conn(server), database="py")
    seen = other.get_exclusive("user/1")
    assert seen.locked and seen.lock_id == held.lock_id
    assert other.get("user/1") == b"hello", "read-only requests never wait for the lock"
    info = other.show("user/1")
    assert info["locked"] and info["compressed"] and info["exists"]
    assert other.force_unlock("user/1") == held.lock_id
    with pytest.raises(LockLost):
        s.set_and_release("user/1", b"late", held.lock_id)
    # Token flow: the writer's token presented on another node.
    token = s.token("user/1")
    other.present_token("user/1", token)
    assert other.get("user/1") == b"hello"


def test_every_accepted_id_round_trips_and_costs_two_round_trips(server):
    s = SessionStateStore(conn(server), database="pyids")
    ids = ["ünï", "セッション", "😀🎉", "a/ü?b#c%d\\é", "日本/語#😀"]
    for sid in ids:
        ex = s.get_exclusive(sid)
        s.set_and_release(sid, sid.encode(), ex.lock_id, new_item=True)
    for sid in ids:
        assert s.get(sid) == sid.encode(), sid
    # An existing session: exclusive request = 2 round trips (one patch each), read-only = 1.
    shim(server, "/_shim/reset", {})
    ex = s.get_exclusive("ünï")
    s.set_and_release("ünï", b"again", ex.lock_id)
    stats = shim(server, "/_shim/stats")
    assert (stats["requests"], stats["patches"], stats["applied"]) == (2, 2, 2), stats
    shim(server, "/_shim/reset", {})
    assert s.get("ünï") == b"again"
    stats = shim(server, "/_shim/stats")
    assert (stats["requests"], stats["applied"]) == (1, 0), stats
    # A foreign lock id: release and remove are no-ops.
    held = s.get_exclusive("ünï")
    assert s.release("ünï", held.lock_id + 1) is False and s.remove("ünï", held.lock_id + 1) is False
    assert s.get("ünï") == b"again" and s.remove("ünï", held.lock_id) is True


def test_expiry_and_compression_both_ways(server):
    gz = SessionStateStore(conn(server), database="py2", compression=True, timeout=1.0)
    plain = SessionStateStore(conn(server), database="py2", compression=False)
    ex = plain.get_exclusive("p")
    plain.set_and_release("p", b"plain" * 100, ex.lock_id, new_item=True)
    assert gz.get("p") == b"plain" * 100
    ex = gz.get_exclusive("g")
    gz.set_and_release("g", b"zipped" * 100, ex.lock_id, new_item=True)
    assert plain.get("g") == b"zipped" * 100
    time.sleep(1.2)
    assert gz.get("g") is None, "expired (logically) although the server keeps the item"


def _increment(port, n):
    s = SessionStateStore(conn(port), database="pycounter")
    for _ in range(n):
        while True:
            ex = s.get_exclusive("counter")
            if ex.locked:
                time.sleep(0.003)
                continue
            value = int(ex.data or b"0") + 1
            s.set_and_release("counter", str(value).encode(), ex.lock_id, new_item=ex.data is None)
            break


def test_processes_and_threads_lose_no_update(server):
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_increment, server, 10) for _ in range(2)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as threads:
            for f in [threads.submit(_increment, server, 10) for _ in range(2)]:
                f.result(timeout=120)
        for f in futures:
            f.result(timeout=120)
    assert SessionStateStore(conn(server), database="pycounter").get("counter") == b"40"


def test_throttling_is_retried_and_exhaustion_is_a_store_error(server):
    s = SessionStateStore(conn(server), database="pyfaults", max_retries=2)
    ex = s.get_exclusive("f")
    s.set_and_release("f", b"x", ex.lock_id, new_item=True)
    shim(server, "/_shim/faults", {"status": 429, "times": 2, "retry_after_ms": 10, "match": "reads"})
    assert s.get("f") == b"x"
    shim(server, "/_shim/faults", {"status": 429, "times": 50, "retry_after_ms": 1, "match": "reads"})
    with pytest.raises(StateStoreError) as info:
        s.get("f")
    assert info.value.kind == "store_throttled"
    shim(server, "/_shim/reset", {})


def test_unreachable_endpoint_is_a_store_error_not_a_hang():
    start = time.monotonic()
    s = SessionStateStore(f"AccountEndpoint=http://127.0.0.1:9/;AccountKey={KEY};", database="x",
                          request_timeout=0.5, max_retries=1)
    with pytest.raises(StateStoreError) as info:
        s.get("x")
    assert info.value.kind == "store_unavailable" and time.monotonic() - start < 10


def test_signature_matches_azure_cosmos_on_random_inputs():
    auth = pytest.importorskip("azure.cosmos.auth")
    theirs = getattr(auth, "__get_authorization_token_using_master_key")
    rng = random.Random(1234)
    for _ in range(500):
        key = bytes(rng.randrange(256) for _ in range(rng.choice([16, 32, 64])))
        verb = rng.choice(["GET", "POST", "PUT", "DELETE", "Get"])
        rtype = rng.choice(["docs", "colls", "dbs", "pkranges", "Docs"])
        link = "/".join(rng.choice(["dbs", "colls", "docs", "ToDoList", "x y", "ü", "A-b_c"]) for _ in range(rng.randrange(0, 6)))
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(rng.randrange(2**31)))
        expected = theirs(verb, link, rtype, {"x-ms-date": date}, base64.b64encode(key).decode())
        assert urllib.parse.unquote(master_key_signature(key, verb, rtype, link, date)) == expected
    # The documented example.
    doc_key = base64.b64decode("dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==")
    header = master_key_signature(doc_key, "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
    assert header.lower() == "type%3dmaster%26ver%3d1.0%26sig%3dc09pevjrgp2uqrkr934kfbtqhbyc7tvr3ohyqlu%2bc%2bc%3d"


def test_options_pass_by_name_through_the_one_table() -> None:
    import inspect

    import cosmos_session_token as cst

    table = json.loads(cst.state_option_table())
    names = [row["name"] for row in table]
    assert names[:3] == ["database", "container", "consistency"]
    assert {"lock_ttl", "max_retries", "managed_identity_client_id"} <= set(names)
    assert next(r for r in table if r["name"] == "max_retries")["default"] == "9"
    # Every option of the table is a keyword of SessionStateStore, defaulting to None (the
    # engine's default): no default is spelled in Python.
    params = inspect.signature(SessionStateStore).parameters
    assert set(names) <= set(params), set(names) - set(params)
    assert all(params[n].default is None for n in names)
    # One refusal for a wrong type or a value out of range, naming the option.
    for kwargs in ({"max_retries": -1}, {"lock_ttl": "soon"}, {"compression": 1.5}, {"timeout": float("nan")},
                   {"renew_fraction": [1]}):
        with pytest.raises(cst.InvalidArgumentError) as e:
            SessionStateStore("AccountEndpoint=http://127.0.0.1:9/;AccountKey=c2VjcmV0;", **kwargs)
        assert e.value.kind == "invalid_option"
        assert next(iter(kwargs)) in str(e.value)
    SessionStateStore.memory(lock_ttl=5, compression=False)
    with pytest.raises(cst.InvalidArgumentError):
        SessionStateStore.memory(lock_ttl=0)
