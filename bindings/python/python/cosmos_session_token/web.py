"""A WSGI middleware (standard library only) that carries the session token in a sealed cookie.

Behind a round-robin load balancer the node that serves a read is rarely the node that served the
write. The middleware makes every node see the user's token:

* on each request it reads the cookie into a :class:`SessionCarrier` (a missing, forged,
  expired-key or foreign-context cookie simply counts as "no token"; why — ``carrier.verdict``,
  never the cookie — is logged on the ``cosmos_session_token.web`` logger at WARNING) and puts
  the carried token in ``environ["cosmos.session_token"]``;
* the application reports the token of each write with ``environ["cosmos.report_session_token"](token)``;
* on the response, if a report changed the token, it sets the cookie to ``carrier.sealed()``.

The policy (union merge, first key seals, the budget of the sealed text, the cookie's name —
``cosmos_token``; ``cosmos_session``, its name before, is still read for one release — and its
attributes) is the core's ``SessionCarrier`` and ``CookiePolicy``, the same as the .NET
``SessionCarrier``; this module only adapts it to WSGI.

``context`` is required: it binds the sealed value to its user (return the user's session id, or
use ``token_cookie_context``), so one user's cookie is never accepted for another. When it returns
``""`` for a request (no session yet) nothing is read or written for that request. The cookie is
``Secure`` unless ``secure=False`` is passed (plain-HTTP development only).
The application scopes the token to the partition of its next read
(``environ["cosmos.session_carrier"].for_partition_key(pk, routing_map, definition)``, or
``for_range(pk_range_id)``) before passing it to azure-cosmos as ``session_token=``. With
azure-cosmos, :mod:`cosmos_session_token.flow_cookie` does all of this inside the SDK instead.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable, Iterable, Sequence

from ._native import CookiePolicy, SessionCarrier, token_cookie_header

__all__ = ["SessionTokenMiddleware"]

StartResponse = Callable[..., Any]

log = logging.getLogger("cosmos_session_token.web")

#: Verdicts that mean "no cookie was brought" (not worth a warning).
_QUIET = frozenset({"accepted", "missing"})


class SessionTokenMiddleware:
    """Wraps a WSGI application; see the module documentation."""

    def __init__(
        self,
        app: Callable[[dict, StartResponse], Iterable[bytes]],
        keys: Sequence[bytes],
        *,
        context: Callable[[dict], str],
        cookie_name: str | None = None,
        max_bytes: int = 0,
        secure: bool = True,
    ) -> None:
        # The core's cookie policy ("token"): its name (cosmos_token; the earlier cosmos_session
        # is still read), budget (max_bytes 0: the policy's) and attributes. The keys are checked
        # once, at start-up (no keys or a weak key raise here).
        self.policy = CookiePolicy.from_seal_keys("token", list(keys), max_bytes=max_bytes, secure=secure)
        self.app = app
        self.keys = self.policy.keys
        self.cookie_name = cookie_name or self.policy.name
        self.context = context
        self.max_bytes = self.policy.max_bytes
        self.secure = secure

    def _cookie(self, environ: dict) -> str | None:
        try:
            jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        except CookieError:
            return None
        if self.cookie_name != self.policy.name:
            morsel = jar.get(self.cookie_name)
            return None if morsel is None else morsel.value
        return self.policy.pick({name: morsel.value for name, morsel in jar.items()})

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        context = self.context(environ)
        carrier = SessionCarrier(self.keys, context, max_bytes=self.max_bytes)
        if context:
            carrier.read(self._cookie(environ))
            if carrier.verdict not in _QUIET:
                log.warning("session token cookie not accepted: %s", carrier.verdict)
        environ["cosmos.session_carrier"] = carrier
        environ["cosmos.session_token"] = carrier.token
        environ["cosmos.report_session_token"] = carrier.report

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            if carrier.changed and context:
                value = carrier.sealed()
                if value is not None:
                    if self.cookie_name == self.policy.name:
                        cookie = self.policy.header(value)
                    else:
                        cookie = token_cookie_header(self.cookie_name, value, secure=self.secure)
                    headers = list(headers) + [("Set-Cookie", cookie)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, start)
