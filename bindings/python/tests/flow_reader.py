"""A reader process for test_flow_azure.py: a fresh azure-cosmos client (sync or aio) in the lagging
read region reads the items a writer process wrote, with the writer's flow snapshot (or without one:
the control). Reads a JSON job from standard input, prints one JSON line of results."""
import asyncio
import json
import sys
import urllib.request

from azure.cosmos import CosmosClient, exceptions
from azure.cosmos.aio import CosmosClient as AsyncCosmosClient

from cosmos_session_token.azure import SessionFlow


def shim(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def main():
    job = json.loads(sys.stdin.read())
    port, items = job["port"], job["items"]
    flow = SessionFlow.restore(job["snapshot"]) if job.get("snapshot") else None
    if job.get("message"):  # the flow arrives in a message's properties (messaging.take_flow)
        from cosmos_session_token.messaging import take_flow

        keys = [k.encode() for k in job.get("keys", [])] or None
        flow = take_flow(job["message"], keys=keys, context=job.get("context", ""))
    options = flow.client_options() if flow else {}
    url, key = f"http://127.0.0.1:{port}/", job["key"]
    result = {"read": 0, "stale": 0, "errors": []}

    def split_if_due(n):
        if n == job.get("split_after"):
            for db, coll in {(i[0], i[1]) for i in items}:
                for rid in job["split_ranges"]:
                    shim(port, "/_shim/partitions", {"db": db, "coll": coll, "split": rid})

    def check(n, item, got):
        result["read"] += 1
        if got is None or got.get("value") != item[4]:
            result["stale"] += 1

    if job["mode"] == "sync":
        client = CosmosClient(url, key, consistency_level="Session", preferred_locations=["East US"], **options)
        for n, item in enumerate(items):
            split_if_due(n)
            db, coll, iid, pk, _ = item
            try:
                got = client.get_database_client(db).get_container_client(coll).read_item(iid, partition_key=pk)
            except exceptions.CosmosResourceNotFoundError:
                got = None
            check(n, item, got)
    else:
        async def run():
            async with AsyncCosmosClient(url, key, consistency_level="Session", preferred_locations=["East US"],
                                         **options) as client:
                for n, item in enumerate(items):
                    split_if_due(n)
                    db, coll, iid, pk, _ = item
                    try:
                        got = await client.get_database_client(db).get_container_client(coll).read_item(iid, partition_key=pk)
                    except exceptions.CosmosResourceNotFoundError:
                        got = None
                    check(n, item, got)
        asyncio.run(run())
    if flow:
        result["stats"] = flow.stats()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
