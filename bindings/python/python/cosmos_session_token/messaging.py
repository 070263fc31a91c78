"""Carry a session token in a message's properties (Service Bus, Event Hubs, queues, ...).

The producer writes to Cosmos DB, then sends a message; the consumer must read what the producer
wrote. Put the write's token into the message, take it out in the consumer and pass it (scoped to
the partition) as ``session_token=``. Seal it when the transport is not trusted.
"""

from __future__ import annotations

from typing import MutableMapping, Sequence, Union

from ._native import HEADER, SessionToken, seal, unseal

__all__ = ["SEALED_PROPERTY", "TOKEN_PROPERTY", "put_token", "take_token"]

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
