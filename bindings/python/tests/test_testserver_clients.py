"""azure-cosmos (4.17.1, pinned in requirements-test.txt) against the test server (testserver/): a container
with 4 ranges, writes across partitions, a lagging read region without a token (stale: not found) and with the
write's token (404/1002 there, then the SDK's retry at the write region succeeds), and a split the SDK follows."""
import json
import urllib.request

import pytest
from azure.cosmos import CosmosClient, PartitionKey, exceptions

from conftest import KEY, _start_server


@pytest.fixture()
def stale_server():
    for port, regions in _start_server("--regions", "West US,East US", "--partitions", "4", "--stale"):
        yield port, dict(regions)


def shim(port, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="GET" if body is None else "POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def test_azure_cosmos_stale_read_then_1002_and_retry_at_the_write_region(stale_server):
    port, _ = stale_server
    writer = CosmosClient(f"http://127.0.0.1:{port}/", KEY)
    container = writer.create_database_if_not_exists("py").create_container_if_not_exists("stale", PartitionKey("/pk"))
    assert len(list(container.client_connection._ReadPartitionKeyRanges(container.container_link))) == 4
    shim(port, "/_shim/regions", {"lag_ms": 60000})
    homes = set()
    for i in range(12):
        container.create_item({"id": f"i{i}", "pk": f"p{i}"})
        homes.add(container.client_connection.last_response_headers["x-ms-documentdb-partitionkeyrangeid"])
    token = container.client_connection.last_response_headers["x-ms-session-token"]
    assert len(homes) >= 3, homes
    east = CosmosClient(f"http://127.0.0.1:{port}/", KEY, preferred_locations=["East US"]).get_database_client("py").get_container_client("stale")
    with pytest.raises(exceptions.CosmosResourceNotFoundError) as stale:
        east.read_item("i11", "p11")  # a fresh client has no token: the stale state
    assert not stale.value.sub_status
    shim(port, "/_shim/counters", {"reset": True})
    item = east.read_item("i11", "p11", session_token=token)
    assert item["id"] == "i11"
    counters = shim(port, "/_shim/counters")
    assert counters["regions"]["East US"]["read_session_unavailable"] == 1, counters
    assert counters["regions"]["West US"]["reads"] == 1, counters  # the SDK's retry at the write region
    assert [p["region"] for p in counters["presented"] if p["token"] == token][:2] == ["East US", "West US"], counters


def test_azure_cosmos_follows_a_split(stale_server):
    port, _ = stale_server
    container = CosmosClient(f"http://127.0.0.1:{port}/", KEY).create_database_if_not_exists("py").create_container_if_not_exists(
        "split", PartitionKey("/pk"))
    for i in range(30):
        container.create_item({"id": f"i{i}", "pk": f"k{i}"})
    assert len(list(container.query_items_change_feed(start_time="Beginning"))) == 30  # caches the 4 ranges
    for rid in ["0", "1", "2", "3"]:
        shim(port, "/_shim/partitions", {"db": "py", "coll": "split", "split": rid})
    ids = {d["id"] for d in container.query_items_change_feed(start_time="Beginning")}
    assert len(ids) == 30
    counters = shim(port, "/_shim/counters")
    assert any(c["gone"] > 0 for c in counters["ranges"]["py/split"].values()), counters["ranges"]
    for i in range(30):  # every item readable by its partition key after the split
        assert container.read_item(f"i{i}", f"k{i}")["id"] == f"i{i}"
    assert len(list(container.client_connection._ReadPartitionKeyRanges(container.container_link))) == 8
