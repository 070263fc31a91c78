"""A Django session engine on Cosmos DB (``SESSION_ENGINE = "cosmos_session_token.django"``).

Settings (a contract)::

    SESSION_ENGINE = "cosmos_session_token.django"
    COSMOS_SESSION_CONNECTION_STRING = os.environ["COSMOS_CONNECTION_STRING"]  # AccountEndpoint=...;AccountKey=...;
    COSMOS_SESSION_DATABASE = "web"
    COSMOS_SESSION_CONTAINER = "SessionStore"        # the default
    # optional: COSMOS_SESSION_CONSISTENCY = "Strong" (default) | "Session" | ...
    # optional: COSMOS_SESSION_COMPRESSION = True (default)
    # SESSION_COOKIE_AGE (Django's own) is the timeout.

Like Django's own engines it does not lock a session for the length of a request: each save is a
short, fenced write (acquire, write, release in three round trips), so two requests saving at
once never interleave halfway; the last one wins, as with Django's database engine. Expiry is the
engine's: logical, with a conditional renewal at most once per 25 % of the timeout; expired items
are removed by Cosmos DB's per-item TTL, so ``clear_expired`` has nothing to do.

With Session consistency, add ``cosmos_session_token.django.SessionTokenMiddleware`` *before*
``SessionMiddleware``: it carries the store's session token to the browser in a sealed cookie (keyed
from ``SECRET_KEY``) and presents it on the next request, on whichever node it lands.

The connection string is never logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Callable

# Django ships no type information (django-stubs is a separate project); its types are Any here.
from django.contrib.sessions.backends.base import (  # type: ignore[import-untyped]
    CreateError,
    SessionBase,
    UpdateError,
)
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]

from ._native import DEFAULT_SEAL_BUDGET, SessionCarrier
from .state import SessionStateStore

__all__ = ["SessionStore", "SessionTokenMiddleware", "store"]


def _conf() -> Any:
    """Django's settings, looked up when used (not at import, so the module imports without a
    configured project)."""
    from django.conf import settings  # type: ignore[import-untyped]

    return settings

_lock = threading.Lock()
_stores: dict[tuple[Any, ...], SessionStateStore] = {}

#: How long a save waits for another save of the same session to finish (seconds).
_SAVE_WAIT = 10.0


def store() -> SessionStateStore:
    """The process-wide store for the current settings (one per configuration)."""
    key = (
        getattr(_conf(), "COSMOS_SESSION_CONNECTION_STRING", None),
        getattr(_conf(), "COSMOS_SESSION_DATABASE", None),
        getattr(_conf(), "COSMOS_SESSION_CONTAINER", "SessionStore"),
        getattr(_conf(), "COSMOS_SESSION_CONSISTENCY", "Strong"),
        getattr(_conf(), "COSMOS_SESSION_COMPRESSION", True),
        _conf().SESSION_COOKIE_AGE,
    )
    with _lock:
        found = _stores.get(key)
        if found is None:
            connection_string, database, container, consistency, compression, age = key
            if not connection_string or not database:
                raise ValueError(
                    "set COSMOS_SESSION_CONNECTION_STRING and COSMOS_SESSION_DATABASE to use the Cosmos DB session engine"
                )
            found = SessionStateStore(
                connection_string,
                database=database,
                container=container,
                timeout=float(age),
                compression=compression,
                consistency=consistency,
            )
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

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a key collision: draw another
            self.modified = True
            return

    def _acquire(self, key: str) -> Any:
        """The session's lock, waiting briefly while another save of it holds it."""
        deadline = time.monotonic() + _SAVE_WAIT
        while True:
            ex = self._engine.get_exclusive(key)
            if not ex.locked:
                return ex
            if time.monotonic() > deadline:
                raise UpdateError(f"the session stayed locked for {_SAVE_WAIT} s")
            time.sleep(0.01)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        key = self.session_key
        data = self.encode(self._get_session(no_load=must_create)).encode("ascii")
        ex = self._acquire(key)
        if must_create and ex.data is not None:
            self._engine.release(key, ex.lock_id)
            raise CreateError
        if not must_create and ex.data is None:
            # Deleted (or expired) meanwhile, as Django's database engine reports it.
            self._engine.release(key, ex.lock_id)
            raise UpdateError
        self._engine.set_and_release(
            key, data, ex.lock_id, new_item=ex.data is None, timeout=float(self.get_expiry_age())
        )

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if not key:
            return
        ex = self._acquire(key)
        if ex.data is None:
            self._engine.release(key, ex.lock_id)
            return
        self._engine.remove(key, ex.lock_id)

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: expiry is checked on every read and Cosmos DB's per-item TTL deletes
        expired items."""


def _carrier_keys() -> list[bytes]:
    secret = _conf().SECRET_KEY.encode()
    fallbacks = [s.encode() for s in getattr(_conf(), "SECRET_KEY_FALLBACKS", [])]
    return [hashlib.sha256(b"cosmos-session-token:" + s).digest() for s in [secret, *fallbacks]]


class SessionTokenMiddleware:
    """Carries the session store's Cosmos DB session token in a sealed cookie, so Session
    consistency reads the session's own writes on every node. Put it before SessionMiddleware."""

    cookie_name = "cosmos_state_token"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sid = request.COOKIES.get(_conf().SESSION_COOKIE_NAME)
        carrier = SessionCarrier(_carrier_keys(), "django-session", max_bytes=DEFAULT_SEAL_BUDGET)
        if sid and carrier.read(request.COOKIES.get(self.cookie_name)) and carrier.token is not None:
            store().present_token(sid, carrier.token)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        key = getattr(session, "session_key", None)
        token = store().token(key) if key else None
        if token is not None:
            carrier.report(token)
            sealed = carrier.sealed()
            if sealed is not None and sealed != request.COOKIES.get(self.cookie_name):
                response.set_cookie(
                    self.cookie_name,
                    sealed,
                    max_age=_conf().SESSION_COOKIE_AGE,
                    secure=_conf().SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite=_conf().SESSION_COOKIE_SAMESITE,
                )
        return response
