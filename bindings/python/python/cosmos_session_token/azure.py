"""Read your own writes with azure-cosmos, across processes and nodes: a :class:`SessionFlow`
rides inside the SDK's HTTP pipeline (azure-core's client-wide ``raw_request_hook`` and
``raw_response_hook``), captures every response's session token, learns each container's
partition-key definition and ranges from the SDK's own reads, and presents, on every request,
the merge of the SDK's token and its own progress scoped to the partition the request goes to.

One flow per process::

    from azure.cosmos import CosmosClient
    from cosmos_session_token.azure import SessionFlow

    flow = SessionFlow()
    client = CosmosClient(url, key, consistency_level="Session", **flow.client_options())
    ...                                   # writes through the client
    handover = flow.snapshot()            # to another process: a queue message, a cookie ...

    # another process, another client:
    flow = SessionFlow.restore(handover)
    client = CosmosClient(url, key, consistency_level="Session", **flow.client_options())
    container.read_item(item_id, partition_key=pk)   # sees the write

One client serving every user of a web app: build it with the module-level
:func:`client_options` and make each request's flow current with :meth:`SessionFlow.activate`
(a ``contextvars`` variable, so threads and asyncio tasks each see their own).

Nothing of azure-cosmos is imported here: the hooks only read ``method``, ``url``, ``headers``,
``status_code`` and ``body()`` of azure-core's request and response objects.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Dict, Iterator, Optional

from ._native import SessionFlow as _NativeFlow

__all__ = ["SessionFlow", "client_options", "current"]

_CURRENT: contextvars.ContextVar[Optional["SessionFlow"]] = contextvars.ContextVar(
    "cosmos_session_token_flow", default=None
)


class SessionFlow:
    """Read-your-writes carried by an SDK's HTTP traffic. Thread-safe."""

    __slots__ = ("_native", "__weakref__")

    def __init__(self, _native: Optional[_NativeFlow] = None) -> None:
        self._native = _native if _native is not None else _NativeFlow()

    @classmethod
    def restore(cls, snapshot: str) -> "SessionFlow":
        """A flow from :meth:`snapshot` text; anything else raises the library's typed errors
        (``invalid_snapshot``, ``snapshot_too_large``)."""
        return cls(_NativeFlow.restore(snapshot))

    def snapshot(self) -> str:
        """The flow as compact, versioned JSON: its progress and each container's partitioning."""
        return self._native.snapshot()

    def merge_snapshot(self, snapshot: str) -> None:
        """Merges another flow's snapshot into this one (progress is merged, never lost)."""
        self._native.merge_snapshot(snapshot)

    def stats(self) -> Dict[str, int]:
        """Requests seen, scoped, sent a composite, left alone, stepped aside for (malformed
        input from the wire), tokens captured, definitions and routing maps learned and
        forgotten."""
        return dict(self._native.stats())

    def client_options(self) -> Dict[str, Callable[[Any], None]]:
        """Keyword arguments for ``azure.cosmos.CosmosClient(...)`` and
        ``azure.cosmos.aio.CosmosClient(...)`` that send every request of that client through
        this flow."""
        native = self._native
        return {
            "raw_request_hook": lambda request: _on_request(native, request),
            "raw_response_hook": lambda response: _on_response(native, response),
        }

    @contextlib.contextmanager
    def activate(self) -> Iterator["SessionFlow"]:
        """Makes this flow the current one (for the hooks of the module-level
        :func:`client_options`) until the block ends."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def __repr__(self) -> str:
        return repr(self._native)


def current() -> Optional[SessionFlow]:
    """The flow made current by :meth:`SessionFlow.activate`, or None."""
    return _CURRENT.get()


def _current_request(request: Any) -> None:
    flow = _CURRENT.get()
    if flow is not None:
        _on_request(flow._native, request)


def _current_response(response: Any) -> None:
    flow = _CURRENT.get()
    if flow is not None:
        _on_response(flow._native, response)


def client_options() -> Dict[str, Callable[[Any], None]]:
    """Keyword arguments for one ``CosmosClient`` shared by every user: each request goes
    through the flow current at that moment (:meth:`SessionFlow.activate`), none when there is
    none."""
    return {"raw_request_hook": _current_request, "raw_response_hook": _current_response}


def _on_request(native: _NativeFlow, pipeline_request: Any) -> None:
    request = pipeline_request.http_request
    headers = request.headers
    get = headers.get
    token = native.before_request(
        request.method,
        request.url,
        session_token=get("x-ms-session-token"),
        partition_key=get("x-ms-documentdb-partitionkey"),
        range_id=get("x-ms-documentdb-partitionkeyrangeid"),
        start_epk=get("x-ms-start-epk"),
        end_epk=get("x-ms-end-epk"),
        is_query=get("x-ms-documentdb-isquery"),
        content_type=get("Content-Type"),
    )
    if token is not None:
        headers["x-ms-session-token"] = token


def _on_response(native: _NativeFlow, pipeline_response: Any) -> None:
    request = pipeline_response.http_request
    response = pipeline_response.http_response
    body = None
    if native.wants_body(request.method, request.url):
        try:
            body = response.body()
        except Exception:  # a streamed body not loaded yet: nothing to learn from this one
            body = None
    headers = response.headers
    get = headers.get
    native.after_response(
        request.method,
        request.url,
        response.status_code,
        session_token=get("x-ms-session-token"),
        sub_status=get("x-ms-substatus"),
        content_path=get("x-ms-content-path"),
        body=body,
    )
