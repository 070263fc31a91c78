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
        # The native hooks themselves: one call per hook, no Python frame in between.
        return {"raw_request_hook": native.on_request, "raw_response_hook": native.on_response}

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
        flow._native.on_request(request)


def _current_response(response: Any) -> None:
    flow = _CURRENT.get()
    if flow is not None:
        flow._native.on_response(response)


def client_options() -> Dict[str, Callable[[Any], None]]:
    """Keyword arguments for one ``CosmosClient`` shared by every user: each request goes
    through the flow current at that moment (:meth:`SessionFlow.activate`), none when there is
    none."""
    return {"raw_request_hook": _current_request, "raw_response_hook": _current_response}


def _on_request(native: _NativeFlow, pipeline_request: Any) -> None:
    # Reads method, url and the headers it needs, and sets x-ms-session-token, in Rust.
    native.on_request(pipeline_request)


def _on_response(native: _NativeFlow, pipeline_response: Any) -> None:
    # Reads the request, status, headers and (only for the metadata it learns from) body(), in Rust.
    native.on_response(pipeline_response)
