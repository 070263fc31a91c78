"""One web node for test_flow_web.py: a threaded WSGI server whose one azure-cosmos client (reads
preferred from the lagging region) serves every user, behind nginx with another node like it.

    python flow_web_node.py PORT COSMOS_PORT KEY NAME MODE      (MODE: flow | plain)

POST /write?i=N writes item "{user}-N" in partition {user} (the user is the X-User header, the
cookie's binding) and answers the write's session token; GET /read?i=N reads it back and answers
its value (null when the read was stale: not found); GET /stats answers the node's cookie and flow
counters. Every answer names the node (X-Node)."""
import json
import sys
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from azure.cosmos import CosmosClient, exceptions

from cosmos_session_token.azure import client_options
from cosmos_session_token.flow_cookie import FlowCookieMiddleware

SEAL_KEY = b"the-farm-shares-this-seal-key-32b"


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    port, cosmos_port, key, name, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    options = client_options() if mode == "flow" else {}
    client = CosmosClient(f"http://127.0.0.1:{cosmos_port}/", key, consistency_level="Session",
                          preferred_locations=["East US"], **options)
    items = client.get_database_client("web").get_container_client("items")
    middleware = None

    def app(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        user = environ.get("HTTP_X_USER", "")
        path = environ["PATH_INFO"]
        if path == "/write":
            seen = {}
            items.upsert_item({"id": f"{user}-{query['i']}", "pk": user, "value": int(query["i"])},
                              response_hook=lambda headers, _: seen.update(headers))
            body = {"token": seen.get("x-ms-session-token")}
        elif path == "/read":
            try:
                body = {"value": items.read_item(f"{user}-{query['i']}", partition_key=user)["value"]}
            except exceptions.CosmosResourceNotFoundError:
                body = {"value": None}
        elif path == "/stats":
            body = {"cookies": middleware.cookies.stats(), "flow": middleware.cookies.node_stats()} if middleware else {}
        else:
            body = {"node": name}
        start_response("200 OK", [("Content-Type", "application/json"), ("X-Node", name)])
        return [json.dumps(body).encode()]

    if mode == "flow":
        # The user's id is the cookie's binding (an authenticated user's id in a real app).
        middleware = FlowCookieMiddleware(app, [SEAL_KEY], context=lambda environ: environ.get("HTTP_X_USER", ""),
                                          secure=False)
    server = make_server("127.0.0.1", port, middleware or app, server_class=Server, handler_class=Quiet)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
