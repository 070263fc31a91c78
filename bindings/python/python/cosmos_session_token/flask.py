"""A server-side Flask session interface on Cosmos DB.

::

    from cosmos_session_token.flask import CosmosSessionInterface
    app.session_interface = CosmosSessionInterface(
        os.environ["COSMOS_CONNECTION_STRING"], database="web", container="SessionStore")

It follows Flask-Session's server-side behaviour: the browser holds only a signed session id
(signed with ``app.secret_key``); the data lives in Cosmos DB for ``PERMANENT_SESSION_LIFETIME``
(logical expiry, renewed at most once per 25 % of it); an emptied session is deleted with its
cookie. Sessions are not locked for the length of a request (Flask does not expect it): each save
is a short fenced write, so concurrent saves never interleave halfway and the last one wins.
Values are serialised with Flask's tagged JSON (the types Flask's cookie sessions accept).

``token_flow=True`` adds a second, sealed cookie carrying the store's Cosmos DB session token, so
Session consistency reads the session's own writes on whichever node a request lands.

The connection string is never logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

from ._native import SessionCarrier
from .state import SessionStateStore

__all__ = ["CosmosSession", "CosmosSessionInterface"]

#: How long a save waits for another save of the same session to finish (seconds).
_SAVE_WAIT = 10.0


class CosmosSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """The session object: a dict that records modification, with its id."""

    def __init__(self, initial: Any = None, sid: str = "", new: bool = False) -> None:
        def on_update(session: CosmosSession) -> None:
            session.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


class CosmosSessionInterface(SessionInterface):
    """``app.session_interface = CosmosSessionInterface(connection_string, database=..., container=...)``."""

    serializer = TaggedJSONSerializer()
    token_cookie = "cosmos_state_token"

    def __init__(
        self,
        connection_string: str | None = None,
        *,
        database: str = "",
        container: str = "SessionStore",
        consistency: str = "Strong",
        compression: bool = True,
        token_flow: bool = False,
        store: SessionStateStore | None = None,
    ) -> None:
        if store is None and not (connection_string and database):
            raise ValueError("give a connection string and a database (or a SessionStateStore as store=)")
        self._connection = (connection_string, database, container, consistency, compression)
        self._store = store
        self._lifetime: float | None = None
        self.token_flow = token_flow

    def store(self, app: Flask) -> SessionStateStore:
        """The store (created on first use, with PERMANENT_SESSION_LIFETIME as the timeout)."""
        if self._store is None:
            connection_string, database, container, consistency, compression = self._connection
            self._store = SessionStateStore(
                connection_string or "",
                database=database,
                container=container,
                timeout=app.permanent_session_lifetime.total_seconds(),
                compression=compression,
                consistency=consistency,
            )
        return self._store

    def _signer(self, app: Flask) -> Signer:
        return Signer(app.secret_key, salt="cosmos-session", key_derivation="hmac")  # type: ignore[arg-type]

    def _carrier(self, app: Flask) -> SessionCarrier:
        key = hashlib.sha256(b"cosmos-session-token:" + str(app.secret_key).encode()).digest()
        return SessionCarrier([key], "flask-session")

    def open_session(self, app: Flask, request: Request) -> CosmosSession:
        if not app.secret_key:
            raise RuntimeError("CosmosSessionInterface signs the session id: set app.secret_key")
        signed = request.cookies.get(self.get_cookie_name(app))
        sid = None
        if signed:
            try:
                sid = self._signer(app).unsign(signed).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                sid = None
        if sid:
            store = self.store(app)
            if self.token_flow:
                carrier = self._carrier(app)
                if carrier.read(request.cookies.get(self.token_cookie)) and carrier.token is not None:
                    store.present_token(sid, carrier.token)
            data = store.get(sid)
            if data is not None:
                return CosmosSession(self.serializer.loads(data.decode("utf-8")), sid=sid)
        return CosmosSession(sid=secrets.token_urlsafe(32), new=True)

    def _write(self, app: Flask, session: CosmosSession) -> None:
        store = self.store(app)
        data = self.serializer.dumps(dict(session)).encode("utf-8")
        deadline = time.monotonic() + _SAVE_WAIT
        while True:
            ex = store.get_exclusive(session.sid)
            if not ex.locked:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the session stayed locked for {_SAVE_WAIT} s")
            time.sleep(0.01)
        store.set_and_release(
            session.sid,
            data,
            ex.lock_id,
            new_item=ex.data is None,
            timeout=app.permanent_session_lifetime.total_seconds(),
        )

    def _delete(self, app: Flask, sid: str) -> None:
        store = self.store(app)
        ex = store.get_exclusive(sid)
        if ex.locked:
            return  # another request is saving it; it wins, as Flask-Session's last writer would
        if ex.data is None:
            store.release(sid, ex.lock_id)
        else:
            store.remove(sid, ex.lock_id)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, CosmosSession)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        if not session:
            if session.modified:
                self._delete(app, session.sid)
                response.delete_cookie(name, domain=domain, path=path, secure=secure, samesite=samesite, httponly=httponly)
                response.vary.add("Cookie")
            return
        if session.modified or session.new:
            self._write(app, session)
        if not self.should_set_cookie(app, session) and not session.new:
            return
        response.vary.add("Cookie")
        response.set_cookie(
            name,
            self._signer(app).sign(session.sid).decode("ascii"),
            expires=self.get_expiration_time(app, session),
            httponly=httponly,
            domain=domain,
            path=path,
            secure=secure,
            samesite=samesite,
        )
        if self.token_flow:
            token = self.store(app).token(session.sid)
            if token is not None:
                carrier = self._carrier(app)
                carrier.report(token)
                sealed = carrier.sealed()
                if sealed is not None:
                    response.set_cookie(self.token_cookie, sealed, httponly=True, secure=secure, samesite=samesite, path=path)
