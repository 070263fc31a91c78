"""A server-side Flask session interface on Cosmos DB.

::

    from cosmos_session_token.flask import CosmosSessionInterface
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")
    CosmosSessionInterface(
        os.environ["COSMOS_CONNECTION_STRING"], database="web", container="SessionStore").init_app(app)

It follows Flask-Session's server-side behaviour: the browser holds only a signed session id
(signed with ``app.secret_key``); the data lives in Cosmos DB for ``PERMANENT_SESSION_LIFETIME``
(logical expiry, renewed at most once per 25 % of it); an emptied session is deleted with its
cookie. Sessions are not locked for the length of a request (Flask does not expect it): each save
is a short fenced write, so concurrent saves never interleave halfway and the last one wins.
Values are serialised with Flask's tagged JSON (the types Flask's cookie sessions accept).

Saves and deletes are the engine's bounded-wait operations (``SessionStateStore.save`` and
``delete``): a save of a session that another request deleted since it was loaded (a logout) is
never written back, so a logout ends the session for every copy of its cookie, and a delete waits
(up to 10 s) for a concurrent save instead of giving up. Call :meth:`CosmosSessionInterface.regenerate`
at login so that an id planted before login (session fixation) is useless afterwards.

``token_flow=True`` adds a second, sealed cookie carrying the store's Cosmos DB session token, so
Session consistency reads the session's own writes on whichever node a request lands. Its keys are
derived (by the core) from ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``; its seal is bound to the
session id and the store, so an envelope moved to another session unseals to nothing; it is set
``Secure; HttpOnly; SameSite=Lax`` (``token_cookie_secure=False`` only for plain-HTTP development).

The session-id cookie is Flask's own, set from ``SESSION_COOKIE_SECURE``, ``SESSION_COOKIE_SAMESITE``
and ``SESSION_COOKIE_HTTPONLY``; Flask's defaults leave it without ``Secure`` and ``SameSite``. When
``SESSION_COOKIE_SECURE`` is off and the app is in neither debug nor testing mode, a warning is
logged (logger ``cosmos_session_token.flask``) once per app: by :meth:`CosmosSessionInterface.init_app`
at start-up, or on the first request when the interface was assigned to ``app.session_interface``
directly. Set ``SESSION_COOKIE_SECURE = True`` and ``SESSION_COOKIE_SAMESITE = "Lax"`` in production
(see docs/django-flask.md).

For the application's own data read through azure-cosmos, :class:`CosmosFlow` carries each
user's ``SessionFlow`` (their progress; the node keeps the routing knowledge) in a sealed cookie
and makes it current while the view runs (``flask.g.cosmos_flow``): build the one ``CosmosClient``
with ``cosmos_session_token.azure.client_options()`` and ``CosmosFlow(app)``. It works with any
session interface: the cookie is bound to a random id it keeps in the user's session (set at the
user's first write).

The connection string is never logged or put in an error message.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Callable, Optional

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

from ._native import TOKEN_COOKIE_NAME, CookiePolicy, SessionTokenError
from .azure import _CURRENT
from .flow_cookie import FlowCookies, UserFlow
from .state import SessionStateStore, TokenCookie

__all__ = ["CosmosFlow", "CosmosSession", "CosmosSessionInterface"]

_log = logging.getLogger(__name__)

# Logged once per app when its session-id cookie would travel without Secure (second security
# review, finding 10). It names settings only: no cookie value, secret or connection string.
INSECURE_COOKIE_WARNING = (
    "Flask's session-id cookie %r is set without Secure: SESSION_COOKIE_SECURE is off and the app is "
    "not in debug or testing mode, so browsers also send the signed session id over plain HTTP, where "
    "it can be read and replayed. Serve the app over HTTPS and set SESSION_COOKIE_SECURE = True and "
    "SESSION_COOKIE_SAMESITE = 'Lax' (and keep SESSION_COOKIE_HTTPONLY = True). The Cosmos DB token "
    "cookie is already Secure; HttpOnly; SameSite=Lax."
)

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
    token_cookie = TOKEN_COOKIE_NAME

    def __init__(
        self,
        connection_string: str | None = None,
        *,
        database: str | None = None,
        container: str | None = None,
        consistency: str | None = None,
        compression: bool | None = None,
        token_flow: bool = False,
        token_cookie_secure: bool = True,
        store: SessionStateStore | None = None,
        **options: Any,
    ) -> None:
        # Every store option (these and any other of state_option_table(): lock_ttl,
        # preferred_regions, ...) goes to the engine as given; None keeps the engine's default.
        given = dict(database=database, container=container, consistency=consistency, compression=compression, **options)
        self._options: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if store is None:
            # The options are checked now, by the engine's one set of rules (a missing connection
            # string is invalid_connection_string): a bad configuration fails at start-up.
            SessionStateStore(connection_string or "", **self._options)
        self._connection_string = connection_string
        self._store = store
        self._hook: tuple[list[Any], TokenCookie] | None = None
        self.token_flow = token_flow
        self.token_cookie_secure = token_cookie_secure

    def init_app(self, app: Flask) -> None:
        """Installs this interface on ``app`` (``app.session_interface = self``) and checks its
        session-cookie settings now, at start-up: a warning when the session-id cookie would be
        sent without ``Secure`` outside debug and testing mode."""
        app.session_interface = self
        self.check_cookie_settings(app)

    def check_cookie_settings(self, app: Flask) -> None:
        """Logs a warning (once per app) when ``SESSION_COOKIE_SECURE`` is off and ``app`` is in
        neither debug nor testing mode. Called by :meth:`init_app`, else on the first request."""
        state = app.extensions.setdefault("cosmos_session_token", {})
        if state.get("cookie_settings_checked"):
            return
        state["cookie_settings_checked"] = True
        if self.get_cookie_secure(app) or app.debug or app.testing:
            return
        _log.warning(INSECURE_COOKIE_WARNING, self.get_cookie_name(app))

    def store(self, app: Flask) -> SessionStateStore:
        """The store (created on first use, with PERMANENT_SESSION_LIFETIME as the timeout)."""
        if self._store is None:
            options = {"timeout": app.permanent_session_lifetime.total_seconds(), **self._options}
            self._store = SessionStateStore(self._connection_string or "", **options)
        return self._store

    def _signer(self, app: Flask) -> Signer:
        return Signer(app.secret_key, salt="cosmos-session", key_derivation="hmac")  # type: ignore[arg-type]

    def _token_cookie(self, app: Flask) -> TokenCookie:
        """The core's token-cookie hook, built once per secret configuration from SECRET_KEY and
        SECRET_KEY_FALLBACKS (bytes or str; a secret under 16 bytes raises here, before any
        request depends on it)."""
        secrets_in = [app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or [])]
        if self._hook is None or self._hook[0] != secrets_in:
            policy = CookiePolicy(
                "state_token",
                "flask",
                secrets_in,
                database=self._options.get("database") or "",
                container=self._options.get("container") or "",
                secure=self.token_cookie_secure,
            )
            self._hook = (secrets_in, TokenCookie(policy))
        return self._hook[1]

    def open_session(self, app: Flask, request: Request) -> CosmosSession:
        if not app.secret_key:
            raise RuntimeError("CosmosSessionInterface signs the session id: set app.secret_key")
        self.check_cookie_settings(app)  # once per app; at start-up already when init_app() ran
        if self.token_flow:
            self._token_cookie(app)  # a weak secret fails every request: say so on the first
        signed = request.cookies.get(self.get_cookie_name(app))
        sid = None
        if signed:
            try:
                sid = self._signer(app).unsign(signed).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                sid = None
        if sid and SessionStateStore.is_valid_session_id(sid):
            store = self.store(app)
            if self.token_flow:
                self._token_cookie(app).begin(store, sid, request.cookies.get(self.token_cookie))
            data = store.get(sid)
            if data is not None:
                return CosmosSession(self.serializer.loads(data.decode("utf-8")), sid=sid)
        return CosmosSession(sid=secrets.token_urlsafe(32), new=True)

    def regenerate(self, session: CosmosSession) -> None:
        """Moves the session to a fresh id (call it at login: an id planted in the browser before
        it is useless after). The old id is deleted now (waiting for a concurrent save of it, up
        to 10 s); the data is written under the new id when the request ends."""
        from flask import current_app

        if not session.new:
            self.store(current_app).delete(session.sid)
        session.sid = secrets.token_urlsafe(32)
        session.new = True
        session.modified = True

    def _write(self, app: Flask, session: CosmosSession) -> bool:
        """Saves the session; False when it was deleted since it was loaded (not recreated)."""
        data = self.serializer.dumps(dict(session)).encode("utf-8")
        try:
            self.store(app).save(
                session.sid, data, new=session.new, timeout=app.permanent_session_lifetime.total_seconds()
            )
        except SessionTokenError as e:
            if e.kind == "session_gone":
                return False
            raise
        return True

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, CosmosSession):
            return  # open_session failed (Flask then passes no session of ours): nothing to save
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)

        def forget() -> None:
            response.delete_cookie(name, domain=domain, path=path, secure=secure, samesite=samesite, httponly=httponly)
            response.vary.add("Cookie")

        if not session:
            if session.modified:
                if not session.new:
                    self.store(app).delete(session.sid)
                forget()
            return
        if (session.modified or session.new) and not self._write(app, session):
            forget()  # logged out elsewhere meanwhile: this request's copy is not written back
            return
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
            from flask import request

            header = self._token_cookie(app).finish(self.store(app), session.sid, request.cookies.get(self.token_cookie))
            if header is not None:
                response.headers.add("Set-Cookie", header)


#: The session key under which :class:`CosmosFlow` keeps the id its cookie is bound to.
FLOW_USER_KEY = "_cosmos_flow_user"


class CosmosFlow:
    """Flask extension: each user's :class:`~cosmos_session_token.azure.SessionFlow` from a
    sealed cookie, current while the request runs (``flask.g.cosmos_flow``), written back when
    the user's progress moved. Keys are derived by the core from ``SECRET_KEY`` and
    ``SECRET_KEY_FALLBACKS`` when the app is set up (a secret under 16 bytes raises there);
    the cookie is ``Secure`` unless ``COSMOS_FLOW_COOKIE_SECURE = False`` (plain-HTTP
    development only). ``context`` replaces the default binding (a random id kept in the
    session) with your own, e.g. the authenticated user's id."""

    def __init__(self, app: Optional[Flask] = None, *, context: Optional[Callable[[], str]] = None) -> None:
        self.context = context
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        secrets_in = [app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or [])]
        if not secrets_in[0]:
            raise RuntimeError("CosmosFlow seals its cookie with keys derived from app.secret_key: set it")
        policy = CookiePolicy("flow", "flask", secrets_in, secure=bool(app.config.get("COSMOS_FLOW_COOKIE_SECURE", True)))
        cookies = FlowCookies(policy=policy)
        app.extensions["cosmos_session_token.flow"] = cookies
        app.before_request(self._open)
        app.after_request(self._seal)
        app.teardown_request(self._leave)

    def _context(self) -> str:
        from flask import current_app, session

        if self.context is not None:
            return self.context()
        bound = session.get(FLOW_USER_KEY)
        if not (isinstance(bound, str) and bound):
            return ""
        return CosmosFlow.cookies(current_app).policy.context(bound)

    @staticmethod
    def cookies(app: Flask) -> FlowCookies:
        """The app's flow cookies (their :meth:`~FlowCookies.stats` say why cookies were refused)."""
        found: FlowCookies = app.extensions["cosmos_session_token.flow"]
        return found

    def _open(self) -> None:
        from flask import current_app, g, request

        cookies = self.cookies(current_app)
        user = cookies.open(self._context(), request.cookies.get(cookies.cookie_name))
        g.cosmos_flow = user.flow
        g._cosmos_flow_user = user
        g._cosmos_flow_token = _CURRENT.set(user.flow)

    def _seal(self, response: Response) -> Response:
        from flask import current_app, g, session

        user: Optional[UserFlow] = g.get("_cosmos_flow_user")
        if user is None:
            return response
        if user.changed and self.context is None and not session.get(FLOW_USER_KEY):
            # The cookie must be bound to someone: the user's first write gets an id.
            session[FLOW_USER_KEY] = secrets.token_urlsafe(18)
        header = self.cookies(current_app).set_cookie_header(user, self._context())
        if header is not None:
            response.headers.add("Set-Cookie", header)
        return response

    def _leave(self, _exc: Optional[BaseException]) -> None:
        from flask import g

        token = g.pop("_cosmos_flow_token", None)
        if token is not None:
            _CURRENT.reset(token)
