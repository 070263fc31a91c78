"""The flow cookie in Django (FlowCookieMiddleware) and Flask (CosmosFlow) with the real azure-cosmos:
one client writes (the write region), another reads from the lagging region, as two nodes would; each
user's progress rides in their cookie. The test server lags the read region and serves stale data."""
import sys
import types

import pytest
from azure.cosmos import CosmosClient, PartitionKey, exceptions

from conftest import KEY
from cosmos_session_token.azure import client_options
from test_flow_azure import lagging, shim  # noqa: F401  (the fixture and the admin calls)

django = pytest.importorskip("django", reason="scripts/test installs Django into .venv")
pytest.importorskip("flask", reason="scripts/test installs Flask into .venv")


def two_nodes(port):
    """A writer's client and a reader's client in the lagging region, both on the per-user flow hooks."""
    url = f"http://127.0.0.1:{port}/"
    write = CosmosClient(url, KEY, consistency_level="Session", **client_options())
    read = CosmosClient(url, KEY, consistency_level="Session", preferred_locations=["East US"], **client_options())
    write.create_database_if_not_exists("fw").create_container_if_not_exists("items", PartitionKey("/pk"))
    shim(port, "/_shim/regions", {"lag_ms": 600000})
    return [c.get_database_client("fw").get_container_client("items") for c in (write, read)]


def fresh_reader(port):
    """A client in the lagging region with no tokens of its own: the control (another node, no flow)."""
    client = CosmosClient(f"http://127.0.0.1:{port}/", KEY, consistency_level="Session", preferred_locations=["East US"])
    return client.get_database_client("fw").get_container_client("items")


def read_value(container, iid, pk):
    try:
        return container.read_item(iid, partition_key=pk)["value"]
    except exceptions.CosmosResourceNotFoundError:
        return None


def test_django_flow_cookie_middleware(lagging):
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.urls import path

    if not settings.configured:
        settings.configure(SECRET_KEY="test-secret-key-not-for-production-0123456789",
                           INSTALLED_APPS=["django.contrib.sessions"], ALLOWED_HOSTS=["testserver"], USE_TZ=True)
        django.setup()
    writer, reader = two_nodes(lagging)

    def write(request, user, i):
        writer.upsert_item({"id": f"{user}-{i}", "pk": user, "value": i})
        return HttpResponse("ok")

    def read(request, user, i):
        return HttpResponse(str(read_value(reader, f"{user}-{i}", user)))

    def login(request):
        request.session.cycle_key()
        return HttpResponse("ok")

    urls = types.ModuleType("cst_flow_urls")
    urls.urlpatterns = [path("w/<str:user>/<int:i>", write), path("r/<str:user>/<int:i>", read), path("login", login)]
    sys.modules["cst_flow_urls"] = urls
    with override_settings(
        ROOT_URLCONF="cst_flow_urls",
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "cosmos_session_token.django.FlowCookieMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        COSMOS_FLOW_COOKIE_SECURE=False,
    ):
        from cosmos_session_token.django import _flow_cookies

        browsers = {u: Client() for u in ("ann", "ben", "cat")}
        for i in range(3):
            for user, c in browsers.items():
                assert c.get(f"/w/{user}/{i}").status_code == 200
                assert "cosmos_flow" in c.cookies, "the first write opens a session and seals the progress"
                assert c.get(f"/r/{user}/{i}").content == str(i).encode(), (user, i)
        # A login cycles the session key: the progress follows the new key.
        ann = browsers["ann"]
        ann.get("/login")
        assert ann.get("/r/ann/2").content == b"2"
        # The control: the same read without the middleware's flow is stale.
        assert read_value(fresh_reader(lagging), "ben-2", "ben") is None
        # Another user's cookie is ignored and counted.
        ben = browsers["ben"]
        ben.cookies["cosmos_flow"] = ann.cookies["cosmos_flow"].value
        before = _flow_cookies().stats()["foreign_context"]
        ben.get("/r/ben/0")
        assert _flow_cookies().stats()["foreign_context"] == before + 1
        cookie = ann.cookies["cosmos_flow"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]


def test_flask_cosmos_flow(lagging):
    from flask import Flask, g

    from cosmos_session_token.flask import CosmosFlow

    writer, reader = two_nodes(lagging)
    app = Flask("cst_flow_test")
    app.secret_key = "flask-test-secret-not-for-production"
    app.config["COSMOS_FLOW_COOKIE_SECURE"] = False
    CosmosFlow(app)

    @app.route("/w/<user>/<int:i>")
    def write(user, i):
        assert g.cosmos_flow is not None
        writer.upsert_item({"id": f"{user}-{i}", "pk": user, "value": i})
        return "ok"

    @app.route("/r/<user>/<int:i>")
    def read(user, i):
        return str(read_value(reader, f"{user}-{i}", user))

    clients = {u: app.test_client() for u in ("ann", "ben")}
    for i in range(3):
        for user, c in clients.items():
            c.get(f"/w/{user}/{i}")
            assert c.get_cookie("cosmos_flow") is not None
            assert c.get(f"/r/{user}/{i}").data == str(i).encode(), (user, i)
    assert read_value(fresh_reader(lagging), "ben-2", "ben") is None, "the control: stale without the flow"
    ann, ben = clients["ann"], clients["ben"]
    ben.set_cookie("cosmos_flow", ann.get_cookie("cosmos_flow").value)
    ben.get("/r/ben/0")
    assert CosmosFlow.cookies(app).stats()["foreign_context"] == 1
    with pytest.raises(RuntimeError, match="secret_key"):
        CosmosFlow(Flask("no_secret"))
