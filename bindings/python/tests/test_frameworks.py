"""The Django session engine and the Flask session interface against the Cosmos DB test server,
with each framework's own test client: Django's session behaviours (save/load, exists, create,
must_create, delete, flush, cycle_key, expiry) and concurrent requests from several threads."""

import concurrent.futures
import sys
import time
import types

import pytest

import cosmos_session_token as cst
from conftest import conn

django = pytest.importorskip("django", reason="scripts/test installs Django into .venv")
flask_module = pytest.importorskip("flask", reason="scripts/test installs Flask into .venv")


# ---------------------------------------------------------------- Django


@pytest.fixture(scope="module")
def django_site(server):
    from django.conf import settings

    urls = types.ModuleType("cst_test_urls")

    def counter(request):
        from django.http import HttpResponse

        request.session["n"] = request.session.get("n", 0) + 1
        return HttpResponse(str(request.session["n"]))

    def peek(request):
        from django.http import HttpResponse

        return HttpResponse(str(request.session.get("n", 0)))

    def logout(request):
        from django.http import HttpResponse

        request.session.flush()
        return HttpResponse("flushed")

    from django.urls import path

    urls.urlpatterns = [path("counter", counter), path("peek", peek), path("logout", logout)]
    sys.modules["cst_test_urls"] = urls
    site = dict(
        ROOT_URLCONF="cst_test_urls",
        ALLOWED_HOSTS=["testserver"],
        MIDDLEWARE=[
            "cosmos_session_token.django.SessionTokenMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
        ],
        SESSION_ENGINE="cosmos_session_token.django",
        COSMOS_SESSION_CONNECTION_STRING=conn(server),
        COSMOS_SESSION_DATABASE="django",
        SESSION_COOKIE_AGE=600,
    )
    if not settings.configured:
        settings.configure(
            SECRET_KEY="test-secret-key-not-for-production-0123456789",
            INSTALLED_APPS=["django.contrib.sessions"],
            USE_TZ=True,
            **site,
        )
        django.setup()
        yield settings
        return
    # Another module configured Django first (settings are process-wide): this site's settings
    # apply for this module's tests only.
    from django.test import override_settings

    with override_settings(**site):
        yield settings


def test_django_session_backend_behaviours(django_site):
    from django.contrib.sessions.backends.base import CreateError, UpdateError

    from cosmos_session_token.django import SessionStore

    s = SessionStore()
    assert s.session_key is None and s.load() == {}
    s["cart"] = [1, 2, 3]
    s.save()
    key = s.session_key
    assert key and s.exists(key)
    again = SessionStore(key)
    assert again["cart"] == [1, 2, 3]
    # must_create on an existing key refuses.
    clash = SessionStore(key)
    clash._session_cache = {"x": 1}
    with pytest.raises(CreateError):
        clash.save(must_create=True)
    # cycle_key keeps the data under a new key and drops the old one.
    again.cycle_key()
    assert again.session_key != key and not again.exists(key)
    assert SessionStore(again.session_key)["cart"] == [1, 2, 3]
    # flush empties and deletes.
    new_key = again.session_key
    again.flush()
    assert again.session_key is None and not SessionStore().exists(new_key)
    # Saving a session deleted meanwhile is an UpdateError (as Django's database engine reports).
    # (Django's own test: a logout elsewhere must not be resurrected by a concurrent save.)
    s1 = SessionStore()
    s1["test_data"] = "value1"
    s1.save(must_create=True)
    SessionStore(s1.session_key).delete()
    s1["test_data"] = "value2"
    with pytest.raises(UpdateError):
        s1.save()
    assert s1.load() == {}
    # Expiry: the session's own age.
    short = SessionStore()
    short["v"] = 1
    short.set_expiry(1)
    short.save()
    assert SessionStore(short.session_key).get("v") == 1
    time.sleep(1.3)
    assert SessionStore(short.session_key).load() == {}
    SessionStore.clear_expired()  # a no-op by design (TTL), callable as Django expects
    assert not SessionStore().exists("")


def test_django_client_counts_and_flushes(django_site):
    from django.test import Client

    c = Client()
    assert [c.get("/counter").content for _ in range(3)] == [b"1", b"2", b"3"]
    assert c.get("/peek").content == b"3"
    assert "cosmos_state_token" in c.cookies, "the store's session token travels in a sealed cookie"
    c.get("/logout")
    assert c.get("/counter").content == b"1"


def test_django_concurrent_requests(django_site):
    from django.test import Client

    clients = [Client() for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda c: [c.get("/counter").content for _ in range(5)], clients))
    assert all(r == [b"1", b"2", b"3", b"4", b"5"] for r in results)


def test_django_cycle_key_leaves_the_old_key_unusable(django_site):
    from django.contrib.sessions.backends.base import UpdateError

    from cosmos_session_token.django import SessionStore

    planted = SessionStore()
    planted["anonymous"] = True
    planted.save()
    old = planted.session_key
    # Another request still holds the planted session loaded when the login cycles the key.
    stale = SessionStore(old)
    assert stale["anonymous"] is True  # loaded (and cached) before the key cycles
    planted.cycle_key()
    assert not SessionStore().exists(old) and planted.session_key != old
    stale["user"] = "victim"
    with pytest.raises(UpdateError):
        stale.save()
    assert not SessionStore().exists(old), "the old key is never recreated"


def test_django_store_lookup_hides_the_connection_string(django_site):
    from cosmos_session_token import django as engine

    # Django's error reports (debug pages) blank the locals of functions wrapped this way.
    assert engine.store.__code__.co_name == "sensitive_variables_wrapper"
    assert engine.store.__wrapped__.__name__ == "store"


def test_django_invalid_cookie_ids_are_no_session(django_site):
    from django.test import Client

    c = Client()
    c.cookies["sessionid"] = "x" * 200
    c.cookies["cosmos_state_token"] = "cst1.forged.value"
    response = c.get("/counter")
    assert response.status_code == 200 and response.content == b"1"
    assert c.cookies["sessionid"].value != "x" * 200


def test_django_token_cookie_is_secure_session_bound_and_keyed_from_bytes(django_site):
    from django.test import Client, override_settings

    from cosmos_session_token.django import _token_cookie
    from cosmos_session_token.state import SessionStateStore, TokenCookie

    c = Client()
    c.get("/counter")
    token_cookie = c.cookies["cosmos_state_token"]
    assert token_cookie["secure"] and token_cookie["httponly"] and token_cookie["samesite"] == "Lax"
    assert token_cookie["max-age"], "Max-Age is SESSION_COOKIE_AGE"
    sid = c.cookies["sessionid"].value
    hook = _token_cookie()
    reader = SessionStateStore.memory()
    assert hook.begin(reader, sid, token_cookie.value)
    assert not hook.begin(reader, "other-session", token_cookie.value), "moved to another session, it unseals to nothing"
    with override_settings(SECRET_KEY=b"bytes-secret-key-0123456789", SECRET_KEY_FALLBACKS=["old-secret-0123456789"]):
        rotated = _token_cookie()
        assert rotated is not hook
        assert not rotated.begin(reader, sid, token_cookie.value), "the old SECRET_KEY is not a fallback here"
        assert Client().get("/counter").status_code == 200
    from django.conf import settings

    policy = cst.CookiePolicy(
        "state_token",
        "django",
        [b"bytes-secret-key-0123456789"],
        database=getattr(settings, "COSMOS_SESSION_DATABASE", ""),
        container=getattr(settings, "COSMOS_SESSION_CONTAINER", ""),
    )
    assert TokenCookie(policy).begin(reader, sid, token_cookie.value) is False


# ---------------------------------------------------------------- Flask


@pytest.fixture()
def flask_app(server):
    from flask import Flask, session

    from cosmos_session_token.flask import CosmosSessionInterface

    app = Flask("cst_test")
    app.secret_key = "flask-test-secret-not-for-production"
    app.config["PERMANENT_SESSION_LIFETIME"] = 600
    app.session_interface = CosmosSessionInterface(conn(server), database="flask", container="SessionStore", token_flow=True)

    @app.route("/counter")
    def counter():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/peek")
    def peek():
        return str(session.get("n", 0))

    @app.route("/clear")
    def clear():
        session.clear()
        return "cleared"

    @app.route("/types")
    def kinds():
        session["t"] = (1, "x")
        session["b"] = b"\x00\xff"
        return "ok"

    return app


def test_flask_server_side_sessions(flask_app):
    c = flask_app.test_client()
    assert [c.get("/counter").data for _ in range(3)] == [b"1", b"2", b"3"]
    cookie = c.get_cookie("session")
    assert cookie is not None, "a session cookie"
    sid, _, signature = cookie.value.partition(".")
    assert len(sid) == 43 and signature, "only a signed random id in the browser, no data"
    assert c.get_cookie("cosmos_state_token") is not None
    # The data lives server-side: another client with the same cookie sees it.
    other = flask_app.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/peek").data == b"3"
    # A forged id is a new session.
    forged = flask_app.test_client()
    forged.set_cookie("session", "not-a-signed-id")
    assert forged.get("/peek").data == b"0"
    # Clearing deletes the server-side data and the cookie.
    c.get("/clear")
    assert c.get_cookie("session") is None
    other2 = flask_app.test_client()
    other2.set_cookie("session", cookie.value)
    assert other2.get("/peek").data == b"0"
    assert c.get("/types").data == b"ok"


def test_flask_concurrent_clients(flask_app):
    def run(_):
        c = flask_app.test_client()
        return [c.get("/counter").data for _ in range(5)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        assert all(r == [b"1", b"2", b"3", b"4", b"5"] for r in pool.map(run, range(6)))


def test_flask_needs_a_connection(server):
    from cosmos_session_token.flask import CosmosSessionInterface

    with pytest.raises(cst.SessionTokenError) as info:
        CosmosSessionInterface(None)
    assert info.value.kind == "invalid_connection_string"
    with pytest.raises(cst.SessionTokenError) as info:
        CosmosSessionInterface(conn(server), database="not valid")
    assert info.value.kind == "invalid_option"


# Second security review, finding 10: Flask's session-id cookie follows Flask's settings, whose
# defaults send it without Secure. A warning at start-up says so outside debug and testing mode.
# No request here reaches the store (port 9 is never contacted).

INSECURE = "cosmos_session_token.flask"


def bare_flask_app(**config):
    from flask import Flask

    app = Flask("cst_cookie_check")
    app.secret_key = "flask-test-secret-not-for-production"
    app.config.update(config)

    @app.route("/hello")
    def hello():
        return "hello"

    return app


def interface():
    from cosmos_session_token.flask import CosmosSessionInterface

    return CosmosSessionInterface(conn(9), database="flask", container="SessionStore")


def insecure_warnings(caplog):
    return [r for r in caplog.records if r.name == INSECURE and r.levelname == "WARNING"]


def test_flask_warns_at_start_up_when_the_session_cookie_is_not_secure(caplog):
    app = bare_flask_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False and not app.debug and not app.testing
    iface = interface()
    with caplog.at_level("WARNING", logger=INSECURE):
        iface.init_app(app)
        assert app.session_interface is iface
        [record] = insecure_warnings(caplog)
        message = record.getMessage()
        assert "without Secure" in message and "SESSION_COOKIE_SECURE = True" in message, message
        assert "SESSION_COOKIE_SAMESITE" in message and "'session'" in message, message
        # Settings only: no secret, key or connection string.
        assert app.secret_key not in message and "AccountKey" not in message and "127.0.0.1" not in message
        # Once per app: requests do not repeat it.
        assert app.test_client().get("/hello").data == b"hello"
        assert len(insecure_warnings(caplog)) == 1


def test_flask_warns_on_the_first_request_when_the_interface_is_assigned_directly(caplog):
    app = bare_flask_app()
    with caplog.at_level("WARNING", logger=INSECURE):
        app.session_interface = interface()
        assert insecure_warnings(caplog) == []
        client = app.test_client()
        assert client.get("/hello").data == b"hello"
        assert len(insecure_warnings(caplog)) == 1
        assert client.get("/hello").data == b"hello"
        assert len(insecure_warnings(caplog)) == 1


@pytest.mark.parametrize("setting", ["secure", "debug", "testing"])
def test_flask_does_not_warn_when_the_cookie_is_secure_or_in_debug_or_testing(caplog, setting):
    app = bare_flask_app(SESSION_COOKIE_SECURE=setting == "secure", TESTING=setting == "testing")
    app.debug = setting == "debug"
    with caplog.at_level("DEBUG", logger=INSECURE):
        interface().init_app(app)
        assert app.test_client().get("/hello").data == b"hello"
    assert insecure_warnings(caplog) == []
