"""SessionFlow inside real azure-cosmos (4.17.1), sync and aio, against the test server (testserver/): 4 ranges
per container, two regions, the read region lagging and serving stale data. A writer process writes through
its client and flow across containers and partitions and hands the snapshot over; a reader process with a
fresh client in the lagging region reads every item back. Without the flow the same reads are stale."""
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from azure.cosmos import CosmosClient, PartitionKey

from conftest import KEY, _start_server
from cosmos_session_token import SessionToken
from cosmos_session_token.azure import SessionFlow, client_options, current

READER = Path(__file__).with_name("flow_reader.py")


@pytest.fixture()
def lagging():
    for port, _ in _start_server("--regions", "West US,East US", "--partitions", "4", "--stale"):
        shim(port, "/_shim/regions", {"lag_ms": 600000})  # East US sees nothing written from now on
        yield port


def shim(port, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="GET" if body is None else "POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def write_items(port, flow, containers, per_container):
    client = CosmosClient(f"http://127.0.0.1:{port}/", KEY, consistency_level="Session", **flow.client_options())
    db = client.create_database_if_not_exists("flow")
    items = []
    for coll in containers:
        c = db.create_container_if_not_exists(coll, PartitionKey("/pk"))
        for i in range(per_container):
            item = {"id": f"i{i}", "pk": f"user-{i % 97}", "value": f"{coll}-{i}"}
            c.upsert_item(item)
            items.append(["flow", coll, item["id"], item["pk"], item["value"]])
    return items


def read_in_other_process(port, mode, items, snapshot=None, split_after=None):
    job = {"port": port, "key": KEY, "mode": mode, "items": items, "snapshot": snapshot,
           "split_after": split_after, "split_ranges": ["0", "1", "2", "3"]}
    out = subprocess.run([sys.executable, str(READER)], input=json.dumps(job), capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_reader_process_reads_1000_writes_of_another_through_a_lagging_region(lagging):
    writer = SessionFlow()
    items = write_items(lagging, writer, ["orders", "carts"], 500)
    snapshot = writer.snapshot()
    assert len(snapshot) < 4096, len(snapshot)
    shim(lagging, "/_shim/counters", {"reset": True})
    # A split of every range half way through changes nothing: the children get the parents' progress.
    result = read_in_other_process(lagging, "sync", items, snapshot, split_after=500)
    assert result["read"] == 1000
    assert result["stale"] == 0, result
    assert result["stats"]["scoped"] >= 1000 and result["stats"]["stepped_aside"] == 0, result["stats"]
    counters = shim(lagging, "/_shim/counters?last=200")
    point_reads = [p for p in counters["presented"] if p["method"] == "GET" and "/docs/" in p["path"]]
    assert point_reads, counters["presented"][:3]
    for p in point_reads:  # one segment: the partition's own, never the composite
        assert len(SessionToken.parse(p["token"])) == 1, p
    # The control: the same reads without the flow are stale.
    control = read_in_other_process(lagging, "sync", items[:200])
    assert control["stale"] == 200, control


def test_aio_clients_ride_the_same_flow(lagging):
    writer = SessionFlow()
    items = write_items(lagging, writer, ["aio"], 100)
    result = read_in_other_process(lagging, "aio", items, writer.snapshot())
    assert (result["read"], result["stale"]) == (100, 0), result
    control = read_in_other_process(lagging, "aio", items[:50])
    assert control["stale"] == 50, control


def test_one_client_many_users_each_with_their_own_flow(lagging):
    """A web app: one client for everyone, each request's flow made current (contextvars)."""
    alice, bob = SessionFlow(), SessionFlow()
    client = CosmosClient(f"http://127.0.0.1:{lagging}/", KEY, consistency_level="Session", **client_options())
    assert current() is None
    with alice.activate():
        c = client.create_database_if_not_exists("web").create_container_if_not_exists("profiles", PartitionKey("/pk"))
        c.upsert_item({"id": "a", "pk": "alice", "value": "1"})
    with bob.activate():
        c.upsert_item({"id": "b", "pk": "bob", "value": "1"})
    assert current() is None
    a_tokens = SessionToken.parse(alice.snapshot() and json.loads(alice.snapshot())["tokens"]["collections"][0]["token"])
    b_tokens = SessionToken.parse(json.loads(bob.snapshot())["tokens"]["collections"][0]["token"])
    assert a_tokens != b_tokens, "each user's flow holds its own writes' progress"
    # Each user reads back through the lagging region in another process.
    for flow, iid, pk in [(alice, "a", "alice"), (bob, "b", "bob")]:
        result = read_in_other_process(lagging, "sync", [["web", "profiles", iid, pk, "1"]], flow.snapshot())
        assert result["stale"] == 0, result


def test_bad_input_from_the_wire_never_fails_a_request():
    flow = SessionFlow()
    native = flow._native
    for token in ["garbage", "0:", "\u0000", "0:1#" + "9" * 40]:
        assert native.before_request("GET", "/dbs/d/colls/c/docs/x", session_token=token) is None
    assert native.before_request("GET", "/dbs/d/colls/c/docs/x", partition_key="[not json") is None
    native.after_response("GET", "/dbs/d/colls/c/pkranges", 200, body=b"{\"PartitionKeyRanges\": 7}")
    native.after_response("GET", "/dbs/d/colls/c", 200, body=b"\xff\xfe")
    native.after_response("POST", "/dbs/d/colls/c/docs", 201, session_token="not a token")
    stats = flow.stats()
    assert stats["stepped_aside"] >= 6, stats


def test_snapshots_are_typed_and_bounded():
    from cosmos_session_token import SessionTokenError
    for bad in ["", "{}", "[1]", json.dumps({"format": "cosmos-session-token/flow", "version": 9, "routes": [], "tokens": {}})]:
        with pytest.raises(SessionTokenError) as e:
            SessionFlow.restore(bad)
        assert e.value.kind == "invalid_snapshot", bad
    with pytest.raises(SessionTokenError) as e:
        SessionFlow.restore("x" * (1 << 20 + 1))
    assert e.value.kind == "snapshot_too_large"


def test_the_docs_example_runs_as_pasted(lagging):
    """docs/flow.md's first example, as pasted, against a lagging two-region server."""
    import os
    import re

    text = (Path(__file__).resolve().parents[3] / "docs" / "flow.md").read_text(encoding="utf-8")
    example = re.search(r"```python own-server\n(.*?)```", text, re.S).group(1)
    env = dict(os.environ, COSMOS_ENDPOINT=f"http://127.0.0.1:{lagging}/", COSMOS_KEY=KEY)
    out = subprocess.run([sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    counters = shim(lagging, "/_shim/counters")
    assert counters["regions"]["East US"]["read_session_unavailable"] >= 1, "the read went to the lagging region first"


@pytest.mark.parametrize("sealed", [False, True])
def test_a_queue_message_carries_the_producers_flow_to_a_consumer_process(lagging, sealed):
    """messaging.put_flow / take_flow: the consumer, another process with a fresh client in the
    lagging region, reads every item the producer wrote before sending the message."""
    from cosmos_session_token.messaging import FLOW_PROPERTY, SEALED_FLOW_PROPERTY, put_flow

    producer = SessionFlow()
    items = write_items(lagging, producer, ["queue"], 60)
    properties = {"kind": "order-created"}
    key = b"the-queue-seal-key-0123456789abcd"
    put_flow(properties, producer, **({"key": key, "context": "orders"} if sealed else {}))
    assert (SEALED_FLOW_PROPERTY if sealed else FLOW_PROPERTY) in properties
    job = {"port": lagging, "key": KEY, "mode": "sync", "items": items, "message": properties}
    if sealed:
        job.update(keys=[key.decode()], context="orders")
    out = subprocess.run([sys.executable, str(READER)], input=json.dumps(job), capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (result["read"], result["stale"]) == (60, 0), result


def test_message_flows_are_bounded_and_sealed_flows_checked():
    from cosmos_session_token import SealError, SessionTokenError
    from cosmos_session_token.messaging import put_flow, take_flow

    flow = SessionFlow()
    flow._native.after_response("POST", "/dbs/d/colls/c/docs", 201, session_token="0:1#9#0=9")
    props = {}
    put_flow(props, flow, key=b"k" * 32, context="orders")
    assert take_flow(props, keys=[b"k" * 32], context="orders").snapshot() == flow.snapshot()
    with pytest.raises(SealError):
        take_flow(props, keys=[b"k" * 32], context="payments")
    with pytest.raises(SealError):
        take_flow(props, keys=[b"x" * 32], context="orders")
    assert take_flow({"x-cst-session-flow": flow.snapshot()}, keys=[b"k" * 32]) is None, "plain ignored with keys"
    with pytest.raises(SessionTokenError) as e:
        put_flow({}, flow, max_bytes=10)
    assert e.value.kind == "snapshot_too_large"
    with pytest.raises(SessionTokenError) as e:
        take_flow({"x-cst-session-flow": "garbage"})
    assert e.value.kind == "invalid_snapshot"


def test_the_readme_two_process_example_runs_as_pasted(lagging, tmp_path):
    """The README's writer.py and reader.py blocks, as pasted, in two processes: the reader prints the
    write (42) though its client reads from the lagging region; without the handover it would not."""
    import os
    import re

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    writer = re.search(r"```python own-server writer\n(.*?)```", text, re.S).group(1)
    reader = re.search(r"```python own-server reader\n(.*?)```", text, re.S).group(1)
    env = dict(os.environ, COSMOS_ENDPOINT=f"http://127.0.0.1:{lagging}/", COSMOS_KEY=KEY)
    for name, code in (("writer.py", writer), ("reader.py", reader)):
        (tmp_path / name).write_text(code)
    wrote = subprocess.run([sys.executable, "writer.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert wrote.returncode == 0, wrote.stderr[-3000:]
    read = subprocess.run([sys.executable, "reader.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert read.returncode == 0 and read.stdout.strip() == "42", (read.stdout, read.stderr[-3000:])
    counters = shim(lagging, "/_shim/counters")
    assert counters["regions"]["East US"]["read_session_unavailable"] >= 1, "the read went to the lagging region first"
    # The control: the same reader without the handover is served the replica's stale state.
    (tmp_path / "handover.json").write_text(SessionFlow().snapshot())
    stale = subprocess.run([sys.executable, "reader.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert stale.returncode != 0 and "NotFound" in stale.stderr, (stale.stdout, stale.stderr[-2000:])
