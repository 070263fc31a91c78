"""A test node for test_seal.py: two WSGI nodes share a user's session token through the sealed
cookie of ``SessionTokenMiddleware`` (the hand-carried token; with azure-cosmos, the flow cookie of
``cosmos_session_token.flow_cookie`` does this inside the SDK: test_flow_web.py). Standard library only.

Each node is a tiny WSGI app: POST /write?range=R&lsn=N stands for a Cosmos DB write whose
response carries the token "R:1#N"; GET /read?range=R answers the token it would pass to
azure-cosmos (``container.read_item(..., session_token=...)``) for that partition.
"""

from __future__ import annotations

import threading
from typing import Iterable
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from cosmos_session_token.web import SessionTokenMiddleware


def node_app(environ: dict, start_response) -> Iterable[bytes]:
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if environ["PATH_INFO"] == "/write":
        # response = container.upsert_item(item); token = response headers["x-ms-session-token"]
        environ["cosmos.report_session_token"](f"{query['range']}:1#{query['lsn']}")
        body = b"written"
    else:
        token = environ["cosmos.session_token"]
        scoped = token.scope(query["range"]) if token is not None else None
        # container.read_item(item_id, partition_key=pk, session_token=str(scoped))
        body = (str(scoped) if scoped is not None else "none").encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def start_node(keys: list[bytes]):
    """Starts one node on a free loopback port; returns (server, base URL)."""
    app = SessionTokenMiddleware(node_app, keys, context=lambda environ: "demo-user")
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


if __name__ == "__main__":
    import urllib.request

    keys = [b"shared-secret-of-the-web-farm-32b"]
    (a, url_a), (b, url_b) = start_node(keys), start_node(keys)
    cookie = ""
    for path in ("/write?range=0&lsn=100", "/write?range=1&lsn=42"):
        req = urllib.request.Request(url_a + path, method="POST", data=b"", headers={"Cookie": cookie})
        with urllib.request.urlopen(req, timeout=5) as resp:
            cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    with urllib.request.urlopen(urllib.request.Request(url_b + "/read?range=1", headers={"Cookie": cookie}), timeout=5) as resp:
        print("node B sends for range 1:", resp.read().decode())
    a.shutdown()
    b.shutdown()
