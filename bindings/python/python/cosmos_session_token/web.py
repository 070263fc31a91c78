"""A WSGI middleware (standard library only) that carries the session token in a sealed cookie.

Behind a round-robin load balancer the node that serves a read is rarely the node that served the
write. The middleware makes every node see the user's token:

* on each request it unseals the cookie (a missing, forged, expired-key or foreign-context cookie
  simply counts as "no token") and puts the token in ``environ["cosmos.session_token"]``;
* the application reports the token of each write with ``environ["cosmos.report_session_token"](token)``;
* on the response it merges what was reported into the incoming token, seals it and sets the cookie.

The application scopes the token to the partition of its next read
(``token.scope(pk_range_id)``) before passing it to azure-cosmos as ``session_token=``.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable, Iterable, Sequence

from ._native import SessionToken, SessionTokenError, merge, seal, unseal

__all__ = ["SessionTokenMiddleware"]

StartResponse = Callable[..., Any]


class SessionTokenMiddleware:
    """Wraps a WSGI application; see the module documentation."""

    def __init__(
        self,
        app: Callable[[dict, StartResponse], Iterable[bytes]],
        keys: Sequence[bytes],
        *,
        cookie_name: str = "cosmos_session",
        context: Callable[[dict], str] = lambda environ: "",
        max_bytes: int = 4000,
        secure: bool = False,
    ) -> None:
        if not keys:
            raise ValueError("at least one key is needed (the first one seals)")
        self.app = app
        self.keys = list(keys)
        self.cookie_name = cookie_name
        self.context = context
        self.max_bytes = max_bytes
        self.secure = secure

    def _incoming(self, environ: dict, context: str) -> SessionToken | None:
        try:
            cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        except CookieError:
            return None
        morsel = cookie.get(self.cookie_name)
        if morsel is None:
            return None
        try:
            return unseal(morsel.value, self.keys, context, max_bytes=self.max_bytes)
        except SessionTokenError:
            return None  # forged, tampered, other key/context or oversize: as if absent

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        context = self.context(environ)
        incoming = self._incoming(environ, context)
        reported: list[SessionToken | str] = []
        environ["cosmos.session_token"] = incoming
        environ["cosmos.report_session_token"] = reported.append

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            if reported:
                parts = ([incoming] if incoming is not None else []) + reported
                token = merge(*parts, region_mismatch="union")
                value = seal(token, self.keys[0], context, max_bytes=self.max_bytes)
                attrs = f"{self.cookie_name}={value}; Path=/; HttpOnly; SameSite=Lax"
                headers = list(headers) + [("Set-Cookie", attrs + ("; Secure" if self.secure else ""))]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, start)
