"""Carry read-your-writes in a message's properties (Service Bus, Event Hubs, queues, ...).

The producer writes to Cosmos DB, then sends a message; the consumer must read what the producer
wrote. With azure-cosmos, carry the producer's whole flow (:func:`put_flow` / :func:`take_flow`):
the consumer's client, built with ``flow.client_options()``, then presents the producer's progress
scoped to each partition it reads, from its first request (the flow carries the routing knowledge
too). Without a flow, carry the write's token (:func:`put_token` / :func:`take_token`) and pass it,
scoped to the partition, as ``session_token=``. Seal either when the transport is not trusted.

::

    # producer
    flow = SessionFlow()
    client = CosmosClient(url, key, consistency_level="Session", **flow.client_options())
    orders.upsert_item(order)
    properties = {}
    put_flow(properties, flow)                  # or put_flow(properties, flow, key=k, context="orders")
    sender.send_messages(ServiceBusMessage(body, application_properties=properties))

    # consumer
    flow = take_flow(message.application_properties) or SessionFlow()
    client = CosmosClient(url, key, consistency_level="Session", **flow.client_options())
"""

from __future__ import annotations

from typing import MutableMapping, Sequence, Union

from ._native import (
    HEADER,
    MESSAGE_FLOW_BUDGET,
    SessionToken,
    flow_snapshot_within,
    seal,
    seal_flow,
    unseal,
    unseal_flow,
)
from .azure import SessionFlow

__all__ = [
    "FLOW_PROPERTY",
    "MESSAGE_FLOW_BUDGET",
    "SEALED_FLOW_PROPERTY",
    "SEALED_PROPERTY",
    "TOKEN_PROPERTY",
    "put_flow",
    "put_token",
    "take_flow",
    "take_token",
]

#: Property holding a flow's snapshot (plain).
FLOW_PROPERTY = "x-cst-session-flow"
#: Property holding a sealed flow.
SEALED_FLOW_PROPERTY = "x-cst-sealed-session-flow"

#: Property holding a plain token (the header's name, for readability in message explorers).
TOKEN_PROPERTY = HEADER
#: Property holding a sealed token.
SEALED_PROPERTY = "x-cst-sealed-session-token"


def put_token(
    properties: MutableMapping[str, object],
    token: Union[SessionToken, str],
    *,
    key: bytes | None = None,
    context: str = "",
) -> None:
    """Stores ``token`` in ``properties``: sealed (with ``key`` and ``context``) or plain."""
    if key is not None:
        properties[SEALED_PROPERTY] = seal(token, key, context)
        properties.pop(TOKEN_PROPERTY, None)
    else:
        properties[TOKEN_PROPERTY] = str(SessionToken.parse(token) if isinstance(token, str) else token)
        properties.pop(SEALED_PROPERTY, None)


def take_token(
    properties: MutableMapping[str, object],
    *,
    keys: Union[bytes, Sequence[bytes], None] = None,
    context: str = "",
) -> SessionToken | None:
    """The token stored by :func:`put_token`, or None. With ``keys``, only a sealed token is accepted
    (a plain one is ignored, since anyone could have written it); raises SealError when tampered."""
    if keys is not None:
        sealed = properties.get(SEALED_PROPERTY)
        return None if sealed is None else unseal(str(sealed), keys, context)
    plain = properties.get(TOKEN_PROPERTY)
    return None if plain is None else SessionToken.parse(str(plain))


def put_flow(
    properties: MutableMapping[str, object],
    flow: SessionFlow,
    *,
    key: bytes | None = None,
    context: str = "",
    max_bytes: int = MESSAGE_FLOW_BUDGET,
) -> None:
    """Stores ``flow`` (its progress and routing knowledge) in ``properties``: sealed (with
    ``key`` and ``context``, e.g. the queue's name) or plain, within ``max_bytes`` (the
    library's ``snapshot_too_large`` / ``seal_too_large`` errors past it)."""
    if key is not None:
        properties[SEALED_FLOW_PROPERTY] = seal_flow(flow._native, key, context, max_bytes=max_bytes)
        properties.pop(FLOW_PROPERTY, None)
    else:
        properties[FLOW_PROPERTY] = flow_snapshot_within(flow._native, max_bytes=max_bytes)
        properties.pop(SEALED_FLOW_PROPERTY, None)


def take_flow(
    properties: MutableMapping[str, object],
    *,
    keys: Union[bytes, Sequence[bytes], None] = None,
    context: str = "",
    max_bytes: int = MESSAGE_FLOW_BUDGET,
) -> SessionFlow | None:
    """The flow stored by :func:`put_flow`, or None. With ``keys``, only a sealed flow (within
    ``max_bytes``) is accepted (a plain one is ignored: anyone could have written it); a sealed flow that does
    not check raises SealError, a snapshot that cannot be read the library's typed errors."""
    if keys is not None:
        sealed = properties.get(SEALED_FLOW_PROPERTY)
        if sealed is None:
            return None
        key_list = [keys] if isinstance(keys, bytes) else list(keys)
        return SessionFlow(unseal_flow(str(sealed), key_list, context, max_bytes=max_bytes))
    plain = properties.get(FLOW_PROPERTY)
    # A plain snapshot is bounded by the core's restore (MAX_FLOW_SNAPSHOT_BYTES).
    return None if plain is None else SessionFlow.restore(str(plain))
