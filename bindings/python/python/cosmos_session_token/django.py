"""A Django session engine on Cosmos DB (``SESSION_ENGINE = "cosmos_session_token.django"``).

Settings (a contract)::

    SESSION_ENGINE = "cosmos_session_token.django"
    COSMOS_SESSION_CONNECTION_STRING = os.environ["COSMOS_CONNECTION_STRING"]  # AccountEndpoint=...;AccountKey=...;
    COSMOS_SESSION_DATABASE = "web"
    COSMOS_SESSION_CONTAINER = "SessionStore"        # the default
    # optional: COSMOS_SESSION_CONSISTENCY = "Strong" (default) | "Session" | ...
    # optional: COSMOS_SESSION_COMPRESSION = True (default)
    # optional: COSMOS_SESSION_OPTIONS = {"lock_ttl": 45, "preferred_regions": "East US, West US"}
    #   (any option of state_option_table(); the settings above win over the same names here)
    # SESSION_COOKIE_AGE (Django's own) is the timeout.

Like Django's own engines it does not lock a session for the length of a request: each save is the
engine's short, fenced ``SessionStateStore.save`` (take the lock, waiting up to 10 s for another
save, write, release), so two requests saving at once never interleave halfway; the last one wins,
as with Django's database engine. A session deleted since it was loaded (a logout elsewhere, or
the old key after ``cycle_key``) is never written back: the save raises ``UpdateError``, as Django's
database engine does. Session keys from cookies that the store cannot use are "no session". Expiry is the
engine's: logical, with a conditional renewal at most once per 25 % of the timeout; expired items
are removed by Cosmos DB's per-item TTL, so ``clear_expired`` has nothing to do.

With Session consistency, add ``cosmos_session_token.django.StateTokenMiddleware`` (earlier name:
``SessionTokenMiddleware``) *before* ``SessionMiddleware``: it carries the session *store's* token
(the session data's own writes) to the browser in a sealed cookie and
presents it on the next request, on whichever node it lands. Its keys are derived by the core from
``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` (str or bytes); its seal is bound to the session key and
the store, so an envelope moved to another session unseals to nothing; it is ``Secure; HttpOnly;
SameSite=Lax`` unless ``COSMOS_SESSION_TOKEN_COOKIE_SECURE = False`` (plain-HTTP development only).

For the application's own data read through azure-cosmos, add
``cosmos_session_token.django.FlowCookieMiddleware`` *after* ``SessionMiddleware`` and build the
one ``CosmosClient`` with ``cosmos_session_token.azure.client_options()``: it carries each user's
``SessionFlow`` (their progress; the node keeps the routing knowledge) in a sealed cookie bound to
the session key, makes it current while the view runs (``request.cosmos_flow``) and writes it back
when it moved. Keys come from the same secrets; ``COSMOS_FLOW_COOKIE_SECURE = False`` only for
plain-HTTP development. A user without a session gets one at their first write (the cookie must be
bound to someone). It works with any session engine.

The connection string is never logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable

# Django ships no type information (django-stubs is a separate project); its types are Any here.
from django.contrib.sessions.backends.base import (  # type: ignore[import-untyped]
    CreateError,
    SessionBase,
    UpdateError,
)
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.views.decorators.debug import sensitive_variables  # type: ignore[import-untyped]

from ._native import TOKEN_COOKIE_NAME, CookiePolicy, SessionTokenError
from .azure import _CURRENT
from .flow_cookie import FlowCookies
from .state import SessionStateStore, TokenCookie

__all__ = ["FlowCookieMiddleware", "SessionStore", "SessionTokenMiddleware", "StateTokenMiddleware", "store"]


def _conf() -> Any:
    """Django's settings, looked up when used (not at import, so the module imports without a
    configured project)."""
    from django.conf import settings  # type: ignore[import-untyped]

    return settings

_lock = threading.Lock()
_stores: dict[tuple[Any, ...], SessionStateStore] = {}


# The Django settings of the store's options (the rest pass through COSMOS_SESSION_OPTIONS).
_OPTION_SETTINGS = {
    "database": "COSMOS_SESSION_DATABASE",
    "container": "COSMOS_SESSION_CONTAINER",
    "consistency": "COSMOS_SESSION_CONSISTENCY",
    "compression": "COSMOS_SESSION_COMPRESSION",
}


@sensitive_variables()
def store() -> SessionStateStore:
    """The process-wide store for the current settings (one per configuration). The connection
    string is keyed by its digest and hidden from Django's error reports (debug pages list the
    frame's locals)."""
    secret = getattr(_conf(), "COSMOS_SESSION_CONNECTION_STRING", None)
    conf = _conf()
    # Unset settings are None: the engine's defaults (its one option table) apply.
    options: dict[str, Any] = dict(getattr(conf, "COSMOS_SESSION_OPTIONS", None) or {})
    options["timeout"] = float(conf.SESSION_COOKIE_AGE)
    for option, setting in _OPTION_SETTINGS.items():
        value = getattr(conf, setting, None)
        if value is not None:
            options[option] = value
    key = (hashlib.sha256(secret.encode()).hexdigest() if secret else None, repr(sorted(options.items())))
    with _lock:
        found = _stores.get(key)
        if found is None:
            # Every option is checked by the engine's one set of rules (an unset connection string
            # is invalid_connection_string).
            found = SessionStateStore(secret or "", **options)
            _stores[key] = found
        return found


class SessionStore(SessionBase):
    """Django's ``SessionBase`` on the Cosmos DB session-state engine."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)

    @property
    def _engine(self) -> SessionStateStore:
        return store()

    def load(self) -> dict[str, Any]:
        data = self._engine.get(self.session_key) if self.session_key else None
        if data is None:
            self._session_key = None
            return {}
        return self.decode(data.decode("ascii"))

    def exists(self, session_key: str) -> bool:
        return bool(session_key) and self._engine.get(session_key) is not None

    def _validate_session_key(self, key: str | None) -> bool:
        """Django's rule (a string of 8+ characters) and the store's (at most 80 bytes, no
        control character): a cookie with any other key is no session, never an error."""
        return bool(super()._validate_session_key(key)) and SessionStateStore.is_valid_session_id(key)

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a key collision: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        key = self.session_key
        data = self.encode(self._get_session(no_load=must_create)).encode("ascii")
        try:
            self._engine.save(key, data, new=must_create, timeout=float(self.get_expiry_age()))
        except SessionTokenError as e:
            if e.kind == "session_exists":
                raise CreateError from e
            if e.kind in ("session_gone", "lock_wait_timeout"):
                # Deleted (or expired) meanwhile, as Django's database engine reports it.
                raise UpdateError from e
            raise

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if not key or not self._validate_session_key(key):
            return
        self._engine.delete(key)

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: expiry is checked on every read and Cosmos DB's per-item TTL deletes
        expired items."""


def _secrets() -> tuple[Any, ...]:
    """SECRET_KEY and SECRET_KEY_FALLBACKS as Django keeps them (str or bytes: the core's
    CookiePolicy takes both)."""
    conf = _conf()
    return (conf.SECRET_KEY, *getattr(conf, "SECRET_KEY_FALLBACKS", []))


_hooks_lock = threading.Lock()
_hooks: dict[tuple[Any, ...], TokenCookie] = {}


def _token_cookie() -> TokenCookie:
    """The core's token-cookie hook for this configuration: keys from SECRET_KEY and
    SECRET_KEY_FALLBACKS (a secret under 16 bytes raises), the seal bound to this site's store,
    Max-Age SESSION_COOKIE_AGE, Secure unless COSMOS_SESSION_TOKEN_COOKIE_SECURE is False."""
    conf = _conf()
    secure = bool(getattr(conf, "COSMOS_SESSION_TOKEN_COOKIE_SECURE", True))
    database = getattr(conf, "COSMOS_SESSION_DATABASE", "")
    container = getattr(conf, "COSMOS_SESSION_CONTAINER", "")
    key = (_secrets(), database, container, secure, int(conf.SESSION_COOKIE_AGE))
    with _hooks_lock:
        found = _hooks.get(key)
        if found is None:
            policy = CookiePolicy(
                "state_token", "django", list(key[0]), database=database, container=container, secure=secure, max_age=key[4]
            )
            found = _hooks[key] = TokenCookie(policy)
        return found


class StateTokenMiddleware:
    """Carries the session store's Cosmos DB session token in a sealed cookie, so Session
    consistency reads the session's own writes on every node. Put it before SessionMiddleware.
    (It carries the session data's token; the application's data needs :class:`FlowCookieMiddleware`.)"""

    cookie_name = TOKEN_COOKIE_NAME

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        _token_cookie()  # checks the secrets at start-up, not at the first request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        hook = _token_cookie()
        sid = request.COOKIES.get(_conf().SESSION_COOKIE_NAME)
        incoming = request.COOKIES.get(self.cookie_name)
        if sid and SessionStateStore.is_valid_session_id(sid):
            hook.begin(store(), sid, incoming)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        key = getattr(session, "session_key", None)
        if key and SessionStateStore.is_valid_session_id(key):
            # A new id (a new session, or cycle_key at login) reads nothing from the old cookie:
            # its seal is bound to the id it was set for.
            header = hook.finish(store(), key, incoming)
            if header is not None:
                response.cookies.load(header)
        return response


#: The earlier name of :class:`StateTokenMiddleware` (it carries the session store's token).
SessionTokenMiddleware = StateTokenMiddleware

_flow_lock = threading.Lock()
_flows: dict[tuple[Any, ...], FlowCookies] = {}


def _flow_cookies() -> FlowCookies:
    """The node's flow cookies for this configuration: keys derived by the core from SECRET_KEY
    and SECRET_KEY_FALLBACKS (a secret under 16 bytes raises), Max-Age SESSION_COOKIE_AGE,
    Secure unless COSMOS_FLOW_COOKIE_SECURE is False. One per configuration, so every request of
    the node shares its routing knowledge."""
    conf = _conf()
    secure = bool(getattr(conf, "COSMOS_FLOW_COOKIE_SECURE", True))
    key = (_secrets(), secure, int(conf.SESSION_COOKIE_AGE))
    with _flow_lock:
        found = _flows.get(key)
        if found is None:
            policy = CookiePolicy("flow", "django", list(key[0]), secure=secure, max_age=key[2])
            found = _flows[key] = FlowCookies(policy=policy)
        return found


def _flow_context(session_key: str | None) -> str:
    return _flow_cookies().policy.context(session_key) if session_key else ""


class FlowCookieMiddleware:
    """Carries each user's :class:`~cosmos_session_token.azure.SessionFlow` in a sealed cookie
    bound to the session key and makes it current while the view runs (``request.cosmos_flow``),
    so the one ``CosmosClient`` built with ``cosmos_session_token.azure.client_options()`` reads
    each user's writes on every node. Put it after SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        _flow_cookies()  # checks the secrets at start-up, not at the first request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cookies = _flow_cookies()
        session = getattr(request, "session", None)
        user = cookies.open(
            _flow_context(getattr(session, "session_key", None)), request.COOKIES.get(cookies.cookie_name)
        )
        request.cosmos_flow = user.flow
        token = _CURRENT.set(user.flow)
        try:
            response = self.get_response(request)
        finally:
            _CURRENT.reset(token)
        if session is None:
            return response
        if user.changed and not session.session_key:
            # The cookie must be bound to someone: the user's first write opens a session.
            session.save()
            session.modified = True
        header = cookies.set_cookie_header(user, _flow_context(session.session_key))
        if header is not None:
            response.cookies.load(header)
        return response
