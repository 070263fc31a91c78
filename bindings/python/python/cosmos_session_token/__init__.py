"""Azure Cosmos DB session tokens: parse, render, convert, merge, compare and scope them.

>>> from cosmos_session_token import SessionToken, Order
>>> t = SessionToken.parse("0:1#100#1=20,1:-1#42")
>>> str(t.merge("0:1#101#1=10"))
'0:1#101#1=20,1:-1#42'
>>> t.compare("0:1#90#1=20") is Order.GREATER
True
>>> str(t.scope("1"))
'1:-1#42'
"""

from collections.abc import Sequence

from ._native import (
    CookiePolicy,
    DEFAULT_COOKIE_NAME,
    DEFAULT_SEAL_BUDGET,
    ERROR_CODES,
    HEADER,
    InternalError,
    InvalidArgumentError,
    LimitExceededError,
    LockLost,
    LockLostError,
    MAX_SCOPE_PARENTS,
    MAX_SEAL_KEYS,
    MergeConflictError,
    Order,
    ParseError,
    ParseWarning,
    RoutingMap,
    SealError,
    Segment,
    Segments,
    SessionCarrier,
    SessionContainer,
    SessionToken,
    SessionTokenError,
    StateStoreError,
    TOKEN_COOKIE_NAME,
    __version__,
    check_header_budget,
    convert,
    derive_cookie_keys,
    effective_partition_key,
    explain_latest_for_feed_range,
    feed_range_from_partition_key,
    latest_for_feed_range,
    merge,
    parse,
    seal,
    session_fingerprint,
    state_option_table,
    token_cookie_context,
    token_cookie_header,
    token_for_feed_range,
    token_for_partition_key,
    unseal,
)

# The lazy segment view behaves as a read-only sequence; say so to isinstance checks.
Sequence.register(Segments)

__all__ = [
    "CookiePolicy",
    "DEFAULT_COOKIE_NAME",
    "DEFAULT_SEAL_BUDGET",
    "ERROR_CODES",
    "HEADER",
    "InternalError",
    "InvalidArgumentError",
    "LimitExceededError",
    "LockLost",
    "LockLostError",
    "MAX_SCOPE_PARENTS",
    "MAX_SEAL_KEYS",
    "MergeConflictError",
    "Order",
    "ParseError",
    "ParseWarning",
    "SealError",
    "Segment",
    "Segments",
    "SessionCarrier",
    "SessionContainer",
    "SessionToken",
    "SessionTokenError",
    "StateStoreError",
    "TOKEN_COOKIE_NAME",
    "__version__",
    "convert",
    "derive_cookie_keys",
    "explain_latest_for_feed_range",
    "latest_for_feed_range",
    "merge",
    "parse",
    "seal",
    "session_fingerprint",
    "state_option_table",
    "token_cookie_context",
    "token_cookie_header",
    "unseal",
    "RoutingMap",
    "check_header_budget",
    "effective_partition_key",
    "feed_range_from_partition_key",
    "token_for_feed_range",
    "token_for_partition_key",
]
