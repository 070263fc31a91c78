"""Read your writes across web nodes with the real azure-cosmos: two WSGI nodes (one client each,
reads preferred from the lagging region) behind nginx round robin, each user's flow carried in a
sealed cookie by FlowCookieMiddleware; and the ASGI middleware with azure.cosmos.aio. The test server
runs 4 ranges, two regions, the read region lagging and serving stale data."""
import asyncio
import base64
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from azure.cosmos import CosmosClient, PartitionKey

from conftest import KEY
from cosmos_session_token import SessionToken
from test_flow_azure import lagging, shim  # noqa: F401  (the fixture and the admin calls)

NODE = Path(__file__).with_name("flow_web_node.py")
USERS = [f"user-{n:02}" for n in range(24)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_it_answers(url, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def create_container(cosmos_port):
    client = CosmosClient(f"http://127.0.0.1:{cosmos_port}/", KEY, consistency_level="Session")
    client.create_database_if_not_exists("web").create_container_if_not_exists("items", PartitionKey("/pk"))


@contextmanager
def farm(cosmos_port, mode, run):
    """Two nodes and nginx on free loopback ports, waited for, stopped by PID whatever happens."""
    assert shutil.which("nginx"), "nginx is needed (scripts/provision debian installs nginx-light)"
    procs = []
    try:
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports, 1):
            err = open(run / f"node{n}.err", "w")
            procs.append(subprocess.Popen([sys.executable, str(NODE), str(port), str(cosmos_port), KEY, f"node{n}", mode],
                                          stdout=subprocess.PIPE, stderr=err, text=True))
        for proc, port in zip(procs, ports):
            assert proc.stdout.readline().startswith("listening"), (run / "node1.err").read_text()[-2000:]
            wait_until_it_answers(f"http://127.0.0.1:{port}/")
        (run / "tmp").mkdir(exist_ok=True)
        nginx_port = free_port()
        conf = run / "nginx.conf"
        conf.write_text(f"""daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {run}/tmp/body;
  proxy_temp_path {run}/tmp/proxy;
  fastcgi_temp_path {run}/tmp/fastcgi;
  uwsgi_temp_path {run}/tmp/uwsgi;
  scgi_temp_path {run}/tmp/scgi;
  upstream farm {{ server 127.0.0.1:{ports[0]} max_fails=0; server 127.0.0.1:{ports[1]} max_fails=0; }}
  server {{
    listen 127.0.0.1:{nginx_port};
    location / {{ proxy_pass http://farm; proxy_next_upstream off; proxy_read_timeout 60s; }}
  }}
}}
""")
        procs.append(subprocess.Popen(["nginx", "-p", str(run), "-c", str(conf)], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=open(run / "nginx.out", "w")))
        wait_until_it_answers(f"http://127.0.0.1:{nginx_port}/")
        yield f"http://127.0.0.1:{nginx_port}", [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Browser:
    """One user: their id (the cookie's binding) and the cookie jar of one cookie."""

    def __init__(self, user):
        self.user, self.cookie, self.write_ranges = user, None, set()

    def call(self, url, method="GET"):
        headers = {"X-User": self.user}
        if self.cookie:
            headers["Cookie"] = f"cosmos_flow={self.cookie}"
        req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None, headers=headers)
        with urllib.request.urlopen(req, timeout=60) as resp:
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                if name == "cosmos_flow":
                    self.cookie = rest.split(";", 1)[0]
            return resp.headers["X-Node"], json.loads(resp.read())

    def write_then_read(self, base, i):
        w_node, written = self.call(f"{base}/write?i={i}", "POST")
        if written["token"]:
            self.write_ranges |= {seg.range_id for seg in SessionToken.parse(written["token"]).segments}
        r_node, got = self.call(f"{base}/read?i={i}")
        return {"crossed": w_node != r_node, "stale": got["value"] != i}


def tally(results):
    return {"reads": len(results), "crossed": sum(r["crossed"] for r in results),
            "stale": sum(r["stale"] for r in results),
            "crossed_stale": sum(r["crossed"] and r["stale"] for r in results)}


def cookie_progress(cookie):
    """The ranges a flow cookie carries (the payload is signed, not encrypted: the test reads it)."""
    payload = cookie.split(".")[3]
    progress = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {seg.range_id for c in progress["collections"] for seg in SessionToken.parse(c["token"]).segments}


def test_two_wsgi_nodes_behind_nginx_read_every_users_writes(lagging, tmp_path):
    create_container(lagging)
    shim(lagging, "/_shim/regions", {"lag_ms": 600000})
    # The control: without the flow, a read on the other node is stale (the lag is real).
    (tmp_path / "plain").mkdir()
    with farm(lagging, "plain", tmp_path / "plain") as (base, _):
        control = tally([Browser(u).write_then_read(base, 0) for u in USERS[:8]])
    assert control["crossed"] >= 4 and control["crossed_stale"] >= 4, control

    (tmp_path / "flow").mkdir()
    with farm(lagging, "flow", tmp_path / "flow") as (base, nodes):
        browsers = [Browser(u) for u in USERS]
        # Sequential rounds (nginx alternates, so reads land on the other node), then every user
        # at once (interleaved write-then-read requests of 8 users at a time).
        sequential = [b.write_then_read(base, i) for i in range(1, 4) for b in browsers]
        with ThreadPoolExecutor(8) as pool:
            concurrent = [r for rs in pool.map(lambda b: [b.write_then_read(base, i) for i in range(4, 9)], browsers)
                          for r in rs]
        seq, conc = tally(sequential), tally(concurrent)
        print("control", control, "sequential", seq, "concurrent", conc)
        assert seq["stale"] == 0 and seq["crossed"] >= len(sequential) // 2, seq
        assert conc["stale"] == 0 and conc["crossed"] >= 10, conc

        # Each cookie carries only its user's progress: the ranges of that user's own writes.
        for b in browsers:
            assert b.cookie and cookie_progress(b.cookie) == b.write_ranges, (b.user, b.write_ranges)

        # Another user's cookie, a forged one, one sealed elsewhere: ignored, counted, never an error.
        alice, bob = browsers[0], browsers[1]
        mallory = Browser(bob.user)
        mallory.cookie = alice.cookie
        node, got = mallory.call(f"{nodes[0]}/read?i=1")
        assert got["value"] == 1  # bob's own item: the request still works
        parts = alice.cookie.split(".")
        parts[3] = base64.urlsafe_b64encode(b'{"format":"x"}').decode().rstrip("=")
        forger = Browser(alice.user)
        forger.cookie = ".".join(parts)
        forger.call(f"{nodes[0]}/read?i=1")
        stats = json.loads(urllib.request.urlopen(f"{nodes[0]}/stats", timeout=10).read())
        assert stats["cookies"]["foreign_context"] >= 1 and stats["cookies"]["forged"] >= 1, stats
        assert stats["flow"]["stepped_aside"] == 0 and stats["flow"]["scoped"] > 0, stats
    for n in (1, 2):
        err = (tmp_path / "flow" / f"node{n}.err").read_text()
        assert "Traceback" not in err, err[-3000:]


def test_asgi_middleware_with_the_aio_client(lagging):
    """Two ASGI "nodes" (FlowCookieASGIMiddleware, one azure.cosmos.aio client each), called
    alternately: every user's read on the other node sees the write."""
    from azure.cosmos.aio import CosmosClient as AsyncCosmosClient
    from azure.cosmos import exceptions

    from cosmos_session_token.azure import client_options
    from cosmos_session_token.flow_cookie import FlowCookieASGIMiddleware

    create_container(lagging)
    shim(lagging, "/_shim/regions", {"lag_ms": 600000})
    key = b"the-farm-shares-this-seal-key-32b"

    def node(client):
        items = client.get_database_client("web").get_container_client("items")

        async def app(scope, receive, send):
            user = dict(scope["headers"])[b"x-user"].decode()
            i = int(scope["query_string"].decode().split("=")[1])
            if scope["path"] == "/write":
                await items.upsert_item({"id": f"{user}-a{i}", "pk": user, "value": i})
                body = {}
            else:
                try:
                    body = {"value": (await items.read_item(f"{user}-a{i}", partition_key=user))["value"]}
                except exceptions.CosmosResourceNotFoundError:
                    body = {"value": None}
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})

        return FlowCookieASGIMiddleware(app, [key], context=lambda scope: dict(scope["headers"])[b"x-user"].decode(),
                                        secure=False)

    async def call(app, user, cookie, path, i):
        headers = [(b"x-user", user.encode())] + ([(b"cookie", f"cosmos_flow={cookie}".encode())] if cookie else [])
        scope = {"type": "http", "method": "GET", "path": path, "query_string": f"i={i}".encode(), "headers": headers}
        sent = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        for k, v in sent[0]["headers"]:
            if k == b"set-cookie" and v.startswith(b"cosmos_flow="):
                cookie = v.decode().split("=", 1)[1].split(";", 1)[0]
        return cookie, json.loads(sent[1]["body"])

    async def run():
        url = f"http://127.0.0.1:{lagging}/"
        async with AsyncCosmosClient(url, KEY, consistency_level="Session", preferred_locations=["East US"],
                                     **client_options()) as c1, \
                AsyncCosmosClient(url, KEY, consistency_level="Session", preferred_locations=["East US"],
                                  **client_options()) as c2:
            a, b = node(c1), node(c2)
            stale = reads = 0
            for user in USERS[:12]:
                cookie = None
                for i in range(3):
                    cookie, _ = await call(a, user, cookie, "/write", i)
                    cookie, got = await call(b, user, cookie, "/read", i)
                    reads += 1
                    stale += got["value"] != i
            return reads, stale, a.cookies.stats(), b.cookies.stats()

    reads, stale, a_stats, b_stats = asyncio.run(run())
    print("asgi", reads, stale, a_stats, b_stats)
    assert (reads, stale) == (36, 0), (reads, stale)
    assert a_stats["sealed"] >= 36 and b_stats["accepted"] >= 36, (a_stats, b_stats)
