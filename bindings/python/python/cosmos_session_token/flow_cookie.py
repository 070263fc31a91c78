"""Read your writes across web nodes: each user's :class:`~cosmos_session_token.azure.SessionFlow`
carried in a sealed cookie, for WSGI and ASGI applications (standard library only; Django and
Flask have their own adapters in ``cosmos_session_token.django`` and ``cosmos_session_token.flask``).

One ``CosmosClient`` per node, built with :func:`cosmos_session_token.azure.client_options`;
the middleware does the rest on every request:

* it opens the user's cookie into a flow for that user — the user's progress, and the routing
  knowledge this node learned from every user's traffic — and makes it current, so each request
  of the shared client presents the user's progress scoped to the partition it goes to;
* at the end, if the user's progress moved, it seals it back into the cookie (only the user's
  progress: a few hundred bytes; the routing knowledge stays on the node).

Example (WSGI)::

    from azure.cosmos import CosmosClient
    from cosmos_session_token.azure import client_options
    from cosmos_session_token.flow_cookie import FlowCookieMiddleware

    client = CosmosClient(url, key, consistency_level="Session", **client_options())
    app = FlowCookieMiddleware(app, keys=[seal_key], context=lambda environ: user_id_of(environ))

``context`` binds the cookie to its user (a session id or an authenticated user's id; ``""`` when
the request has none: nothing is read or written). A cookie that is not accepted — none, another
user's, forged, sealed with keys this node does not hold, cut or too large — is no progress,
never an error; the reason (never the cookie) is logged on the ``cosmos_session_token.flow``
logger at WARNING and counted in :meth:`FlowCookies.stats`. The policy (sealing, what is
written, the budget, the cookie's attributes) is the core's ``FlowCookies`` and
``token_cookie_header``: the Django, Flask and ASP.NET adapters share it.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from typing import Any, Awaitable, Callable, Dict, Iterable, MutableMapping, Optional, Sequence

from ._native import FLOW_COOKIE_NAME, CookiePolicy, token_cookie_header
from ._native import CookieFlow as _CookieFlow
from ._native import FlowCookies as _NativeFlowCookies
from .azure import _CURRENT, SessionFlow

__all__ = [
    "FLOW_COOKIE_NAME",
    "FlowCookieASGIMiddleware",
    "FlowCookieMiddleware",
    "FlowCookies",
    "UserFlow",
]

log = logging.getLogger("cosmos_session_token.flow")

StartResponse = Callable[..., Any]


class UserFlow:
    """One user's flow for one request (:meth:`FlowCookies.open`)."""

    __slots__ = ("_cookie_flow", "flow")

    def __init__(self, cookie_flow: _CookieFlow) -> None:
        self._cookie_flow = cookie_flow
        #: The user's flow (current while the request runs under the middleware).
        self.flow = SessionFlow(cookie_flow.flow)

    @property
    def verdict(self) -> str:
        """What became of the cookie: accepted, no_session, missing, malformed, too_large,
        unknown_key, foreign_context, forged or unreadable."""
        return self._cookie_flow.verdict

    @property
    def changed(self) -> bool:
        """True when the user's progress moved since the cookie was opened."""
        return self._cookie_flow.changed


class FlowCookies:
    """A web node's flow cookies: the keys (bytes, at least 16 each; the first seals, all
    open, for rotation) or a ``CookiePolicy("flow", ...)`` with keys derived from a framework's
    secrets, the cookie's name, budget and attributes (the policy's unless given; ``max_bytes``
    0: the policy's), and the node's routing knowledge shared by every user's flow. One per
    node (per process)."""

    def __init__(
        self,
        keys: Optional[Sequence[bytes]] = None,
        *,
        policy: Optional[CookiePolicy] = None,
        cookie_name: Optional[str] = None,
        max_bytes: int = 0,
        secure: bool = True,
        max_age: Optional[int] = None,
    ) -> None:
        # Checks the keys once, at start-up: no keys or a weak key raise here. The name, the
        # budget and the attributes are the core's CookiePolicy ("flow"); ``keys`` are seal keys
        # used as they are, ``policy`` one with keys derived from a framework's secrets.
        if policy is None:
            if keys is None:
                raise TypeError("FlowCookies needs keys or a policy")
            policy = CookiePolicy.from_seal_keys(
                "flow", list(keys), max_bytes=max_bytes, secure=secure, max_age=max_age
            )
        elif policy.kind != "flow":
            raise ValueError(f"FlowCookies needs a flow cookie policy, not {policy.kind}")
        self.policy = policy
        self._native = _NativeFlowCookies(policy.keys, max_bytes=policy.max_bytes)
        self.cookie_name = cookie_name or policy.name
        self.secure = policy.secure
        self.max_age = policy.max_age

    def open(self, context: str, cookie: Optional[str]) -> UserFlow:
        """The user's flow from the cookie the request brought (never raises); a refused
        cookie is logged by its reason."""
        user = UserFlow(self._native.open(context, cookie))
        if user._cookie_flow.refused:
            log.warning("flow cookie not accepted: %s", user.verdict)
        return user

    def set_cookie_header(self, user: UserFlow, context: Optional[str] = None) -> Optional[str]:
        """The ``Set-Cookie`` value to send when the user's progress moved (None otherwise).
        ``context``: the user's context now, when the request created or renewed the session."""
        outcome, value = self._native.seal(user._cookie_flow, context)
        if outcome == "over_budget":
            log.warning("flow cookie not written: the user's progress is over the cookie budget")
        if value is None:
            return None
        if self.cookie_name == self.policy.name:
            return self.policy.header(value)
        return token_cookie_header(self.cookie_name, value, max_age=self.max_age, secure=self.secure)

    def cookie_from_header(self, header: Optional[str]) -> Optional[str]:
        """This cookie's value in a ``Cookie`` request header (None when absent or unreadable)."""
        if not header:
            return None
        try:
            jar = SimpleCookie(header)
        except CookieError:
            return None
        if self.cookie_name != self.policy.name:
            morsel = jar.get(self.cookie_name)
            return None if morsel is None else morsel.value
        return self.policy.pick({name: morsel.value for name, morsel in jar.items()})

    def stats(self) -> Dict[str, int]:
        """Cookies met by verdict and written back (sealed, over_budget) since start-up."""
        return dict(self._native.stats())

    def node_stats(self) -> Dict[str, int]:
        """The flow counters of every user's requests on this node (requests, scoped,
        stepped_aside, maps learned ...)."""
        return dict(self._native.node().stats())


class FlowCookieMiddleware:
    """WSGI middleware: the user's flow from the cookie, current while the application runs
    (``environ["cosmos.flow"]``), its moved progress sealed back on ``start_response``.
    Writes an application makes after calling ``start_response`` (while streaming the body)
    are not carried."""

    def __init__(
        self,
        app: Callable[[dict, StartResponse], Iterable[bytes]],
        keys: Sequence[bytes],
        *,
        context: Callable[[dict], str],
        cookie_name: Optional[str] = None,
        max_bytes: int = 0,
        secure: bool = True,
        max_age: Optional[int] = None,
    ) -> None:
        self.app = app
        self.cookies = FlowCookies(keys, cookie_name=cookie_name, max_bytes=max_bytes, secure=secure, max_age=max_age)
        self.context = context

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        context = self.context(environ)
        user = self.cookies.open(context, self.cookies.cookie_from_header(environ.get("HTTP_COOKIE")))
        environ["cosmos.flow"] = user.flow

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            header = self.cookies.set_cookie_header(user, self.context(environ))
            if header is not None:
                headers = list(headers) + [("Set-Cookie", header)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        token = _CURRENT.set(user.flow)
        try:
            return self.app(environ, start)
        finally:
            _CURRENT.reset(token)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FlowCookieASGIMiddleware:
    """ASGI middleware (HTTP): the user's flow from the cookie, current for the request's task
    (``scope["cosmos.flow"]``), its moved progress sealed back into ``http.response.start``.
    Other scope types pass through."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        keys: Sequence[bytes],
        *,
        context: Callable[[Scope], str],
        cookie_name: Optional[str] = None,
        max_bytes: int = 0,
        secure: bool = True,
        max_age: Optional[int] = None,
    ) -> None:
        self.app = app
        self.cookies = FlowCookies(keys, cookie_name=cookie_name, max_bytes=max_bytes, secure=secure, max_age=max_age)
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        cookie_header = b"; ".join(v for k, v in scope.get("headers", ()) if k.lower() == b"cookie")
        user = self.cookies.open(self.context(scope), self.cookies.cookie_from_header(cookie_header.decode("latin-1")))
        scope["cosmos.flow"] = user.flow

        async def send_with_cookie(message: Message) -> None:
            if message.get("type") == "http.response.start":
                header = self.cookies.set_cookie_header(user, self.context(scope))
                if header is not None:
                    message = dict(message)
                    message["headers"] = list(message.get("headers", ())) + [(b"set-cookie", header.encode("latin-1"))]
            await send(message)

        token = _CURRENT.set(user.flow)
        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _CURRENT.reset(token)
