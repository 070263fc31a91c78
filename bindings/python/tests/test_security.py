"""Regression tests of the outside security review's findings, on the Python surface: bounded work
(ratio checks, never a wall-clock bound), limits, secrets and session ids kept out of errors, the
web-session policy (cookie keys, session-bound seals, cookie attributes), and the Flask and Django
adapters' logout, fixation and invalid-id behaviour."""

import base64
import concurrent.futures
import os
import secrets
import time

import pytest

import cosmos_session_token as cst
from cosmos_session_token.state import SessionStateStore
from conftest import conn

flask_module = pytest.importorskip("flask", reason="scripts/test installs Flask into .venv")


def fastest(f, runs=3):
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def long_token(n, region=1):
    return ",".join(f"{i}:1#5#{region}={5}" for i in range(n))


def test_conflicting_merge_costs_about_what_the_clean_merge_costs():
    n = 65_536
    a = cst.SessionToken.parse(long_token(n))
    clean = cst.SessionToken.parse(long_token(n))
    conflicting = cst.SessionToken.parse(long_token(n - 1) + f",{n - 1}:1#5#2=5")
    t_clean = fastest(lambda: a.merge(clean))

    def conflict():
        with pytest.raises(cst.MergeConflictError):
            a.merge(conflicting)

    t_conflict = fastest(conflict)
    assert t_conflict < 10 * t_clean + 0.02, (t_conflict, t_clean)


def test_scope_and_resolve_are_bounded_and_linear():
    n = 65_536
    text = long_token(n)
    token = cst.SessionToken.parse(text)
    parents = [str(i) for i in range(n)]
    t_parse = fastest(lambda: cst.SessionToken.parse(text))
    t_scope = fastest(lambda: token.scope("new", parents))
    assert t_scope < 40 * t_parse + 0.05, (t_scope, t_parse)
    c = cst.SessionContainer()
    c.capture("dbs/d/colls/c", "rid", text, 200)
    assert c.resolve("rid", "new", parents) is not None
    too_many = ["p"] * (cst.MAX_SCOPE_PARENTS + 1)
    for call in (lambda: token.scope("1", too_many), lambda: c.resolve("rid", "1", too_many)):
        with pytest.raises(cst.LimitExceededError) as e:
            call()
        assert e.value.kind == "too_many_items"
    with pytest.raises(cst.LimitExceededError):
        cst.SessionCarrier([b"0123456789abcdef"] * (cst.MAX_SEAL_KEYS + 1), "ctx")


def test_snapshot_restore_refuses_oversized_snapshots():
    names = ",".join(f'"n{i}"' for i in range(100_000))
    snap = (
        '{"format":"cosmos-session-token/container","version":1,'
        f'"collections":[{{"rid":"r","names":[{names}],"token":"0:1#5"}}]}}'
    )
    with pytest.raises(cst.LimitExceededError) as e:
        cst.SessionContainer.restore(snap)
    assert e.value.kind == "snapshot_too_large"


def key_windows(key):
    return [key[i : i + 8] for i in range(len(key) - 7)]


def test_connection_string_errors_never_show_the_key():
    for _ in range(10):
        key = base64.b64encode(os.urandom(64)).decode()
        for text in [key, f"AccountKey:{key}", f"AccountEndpoint=https://a.example/;AccountKey:{key}",
                     f"{key};AccountEndpoint=https://a.example/", f"AccountEndpoint=https://a.example/;AccountKey={key};X={key}"]:
            with pytest.raises(cst.InvalidArgumentError) as e:
                SessionStateStore(text, database="web")
            shown = f"{e.value} {e.value!r}"
            assert not [w for w in key_windows(key) if w in shown], (text, shown)


def test_http_only_for_loopback():
    key = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(cst.InvalidArgumentError, match="clear text"):
        SessionStateStore(f"AccountEndpoint=http://db.example.com/;AccountKey={key}", database="web")
    SessionStateStore(f"AccountEndpoint=http://db.example.com/;AccountKey={key};AllowInsecureHttp=true", database="web")
    SessionStateStore(f"AccountEndpoint=http://localhost:8081/;AccountKey={key}", database="web")


def test_lock_ids_and_session_ids_in_errors():
    store = SessionStateStore.memory()
    for bad in (2**64 - 1, 2**53):
        with pytest.raises(cst.InvalidArgumentError) as e:
            store.set_and_release("s", b"x", bad, new_item=True)
        assert e.value.kind == "invalid_argument"
    sid = "bearer-credential-" + secrets.token_hex(8)
    ex = store.get_exclusive(sid)
    store.force_unlock(sid)
    with pytest.raises(cst.LockLost) as e:
        store.set_and_release(sid, b"x", ex.lock_id)
    assert sid not in f"{e.value} {e.value!r}"
    assert cst.session_fingerprint(sid) in str(e.value)
    assert not SessionStateStore.is_valid_session_id("x" * 81)
    assert not SessionStateStore.is_valid_session_id("\ud800")
    assert SessionStateStore.is_valid_session_id("abc")


def test_one_content_limit():
    store = SessionStateStore.memory()
    with pytest.raises(cst.LimitExceededError) as e:
        store.save("s", bytes(16 * 1024 * 1024 + 1), new=True)
    assert e.value.kind == "item_too_large"


def test_save_never_recreates_a_deleted_session_and_delete_waits():
    store = SessionStateStore.memory()
    store.save("s", b"in", new=True)
    held = store.get_exclusive("s")
    with pytest.raises(cst.StateStoreError) as e:
        store.delete("s", wait=0.05)
    assert e.value.kind == "lock_wait_timeout"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(store.delete, "s", wait=10.0)
        time.sleep(0.1)
        store.set_and_release("s", b"saved meanwhile", held.lock_id)
        assert deleting.result() is True
    with pytest.raises(cst.SessionTokenError) as e:
        store.save("s", b"again", new=False)
    assert e.value.kind == "session_gone"
    assert store.get("s") is None


def test_web_session_policy():
    a, b = cst.derive_cookie_keys([b"k" * 16]), cst.derive_cookie_keys([b"b'" + b"k" * 16 + b"'"])
    assert a != b and len(a[0]) == 32 and a[0] != b"k" * 16
    with pytest.raises(cst.InvalidArgumentError) as e:
        cst.derive_cookie_keys([b"short"])
    assert e.value.kind == "weak_key"
    keys = cst.derive_cookie_keys([b"secret-0123456789"])
    mine = cst.SessionCarrier(keys, cst.token_cookie_context("flask", "web/S", "sid-a"))
    mine.report("0:1#5")
    sealed = mine.sealed()
    theirs = cst.SessionCarrier(keys, cst.token_cookie_context("flask", "web/S", "sid-b"))
    assert not theirs.read(sealed), "an envelope moved to another session is no token"
    assert cst.SessionCarrier(keys, cst.token_cookie_context("flask", "web/S", "sid-a")).read(sealed)
    assert not theirs.read("\ud800"), "a lone surrogate is no cookie, not an exception"
    assert "secret" not in repr(mine) and keys[0].hex() not in repr(mine)
    header = cst.token_cookie_header("c", "v")
    assert header.endswith("HttpOnly; SameSite=Lax; Secure")
    assert "Secure" not in cst.token_cookie_header("c", "v", secure=False)


def test_wsgi_middleware_is_secure_and_session_bound_by_default():
    from cosmos_session_token.web import SessionTokenMiddleware

    def app(environ, start_response):
        environ["cosmos.report_session_token"]("0:1#5")
        start_response("200 OK", [])
        return [b"ok"]

    with pytest.raises(TypeError):
        SessionTokenMiddleware(app, [b"k" * 16])  # a context is required
    mw = SessionTokenMiddleware(app, [b"k" * 16], context=lambda environ: environ.get("HTTP_X_USER", ""))
    seen = {}

    def start(status, headers, exc_info=None):
        seen["headers"] = headers

    mw({"HTTP_X_USER": "u1"}, start)
    cookie = dict(seen["headers"])["Set-Cookie"]
    assert cookie.endswith("; Secure") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    seen.clear()
    mw({}, start)
    assert "Set-Cookie" not in dict(seen["headers"]), "no session: nothing carried"


# ---------------------------------------------------------------- Flask


@pytest.fixture()
def flask_app(server):
    from flask import Flask, session

    from cosmos_session_token.flask import CosmosSessionInterface

    app = Flask("cst_security")
    app.secret_key = "flask-security-secret-0123456789"
    app.config["PERMANENT_SESSION_LIFETIME"] = 600
    iface = CosmosSessionInterface(conn(server), database="flasksec", container="SessionStore", token_flow=True)
    app.session_interface = iface

    @app.route("/login")
    def login():
        iface.regenerate(session)
        session["user"] = "victim"
        return "in"

    @app.route("/counter")
    def counter():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/whoami")
    def whoami():
        return session.get("user", "nobody")

    @app.route("/logout")
    def logout():
        session.clear()
        return "out"

    return app


def test_flask_logout_ends_a_session_another_client_keeps_using(flask_app):
    for trial in range(20):
        victim = flask_app.test_client()
        victim.get("/counter")
        copied = victim.get_cookie("session").value
        thief = flask_app.test_client()
        thief.set_cookie("session", copied)

        def keep_using():
            for _ in range(5):
                thief.get("/counter")

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            running = pool.submit(keep_using)
            time.sleep(0.005 * (trial % 4))
            victim.get("/logout")
            running.result()
        late = flask_app.test_client()
        late.set_cookie("session", copied)
        assert late.get("/counter").data == b"1", f"trial {trial}: the logged-out session came back"


def test_flask_regenerate_defeats_session_fixation(flask_app):
    attacker = flask_app.test_client()
    attacker.get("/counter")
    planted = attacker.get_cookie("session").value
    victim = flask_app.test_client()
    victim.set_cookie("session", planted)
    assert victim.get("/login").data == b"in"
    assert victim.get_cookie("session").value != planted
    assert victim.get("/whoami").data == b"victim"
    assert attacker.get("/whoami").data == b"nobody", "the planted id is not the victim's session"


def test_flask_key_derivation_uses_bytes_and_fallbacks(flask_app):
    from cosmos_session_token.state import SessionStateStore, TokenCookie

    # The hook the adapter builds: bytes secrets are used as bytes (str(b"...") is another key),
    # and a fallback secret still unseals what the old one sealed.
    writer = SessionStateStore.memory()
    ex = writer.get_exclusive("s")
    writer.set_and_release("s", b"x", ex.lock_id, new_item=True)
    header = TokenCookie(cst.CookiePolicy("state_token", "flask", [b"k" * 20], database="a", container="b")).finish(writer, "s", None)
    value = header.split(";")[0].split("=", 1)[1]
    reader = SessionStateStore.memory()
    assert TokenCookie(cst.CookiePolicy("state_token", "flask", [str(b"k" * 20).encode()], database="a", container="b")).begin(reader, "s", value) is False
    assert TokenCookie(cst.CookiePolicy("state_token", "flask", [b"new-secret-0123456789", b"k" * 20], database="a", container="b")).begin(reader, "s", value) is True
    assert TokenCookie(cst.CookiePolicy("state_token", "flask", [b"k" * 20], database="a", container="other")).begin(reader, "s", value) is False, "bound to the store"
    iface = flask_app.session_interface
    flask_app.secret_key = b"k" * 20
    first = iface._token_cookie(flask_app)
    assert iface._token_cookie(flask_app) is first, "built once per secret configuration"
    flask_app.config["SECRET_KEY_FALLBACKS"] = [b"old-secret-0123456789"]
    assert iface._token_cookie(flask_app) is not first
    flask_app.secret_key = "short"
    flask_app.testing = True  # let the configuration error reach the test
    with pytest.raises(cst.InvalidArgumentError):
        flask_app.test_client().get("/counter")


def test_flask_token_cookie_is_secure_by_default(flask_app):
    c = flask_app.test_client()
    c.get("/counter")
    assert c.get_cookie("cosmos_state_token").secure


def test_refusals_are_the_librarys_errors():
    """A lone-surrogate id, lock ids out of range and a negative retry count are typed errors from the
    table (they raised UnicodeEncodeError and OverflowError)."""
    store = SessionStateStore.memory()
    calls = {
        "invalid_session_id": [lambda: store.get("\ud800"), lambda: store.get_exclusive(5), lambda: store.delete("a\ud800b")],
        "invalid_argument": [lambda: store.release("s", -1), lambda: store.release("s", 2**64), lambda: store.remove("s", True),
                             lambda: store.set_and_release("s", b"x", 2**53, new_item=True)],
        "invalid_option": [lambda: SessionStateStore(f"AccountEndpoint=http://127.0.0.1:1/;AccountKey={base64.b64encode(b'k' * 16).decode()}",
                                                     database="d", max_retries=-1)],
    }
    for kind, fns in calls.items():
        for call in fns:
            with pytest.raises(cst.SessionTokenError) as e:
                call()
            assert e.value.kind == kind and e.value.kind in dict(cst.ERROR_CODES), e.value


def test_argument_errors_go_through_the_table():
    for call in (lambda: cst.convert("0:5", "nope"), lambda: cst.merge("0:5", "0:6", region_mismatch="x"),
                 lambda: cst.SessionToken.parse("0:5").merge("0:6", region_mismatch="x")):
        with pytest.raises(cst.InvalidArgumentError) as e:
            call()
        assert e.value.kind == "invalid_argument"
    assert cst.LockLost is cst.LockLostError  # the earlier name is an alias of the same class
