"""Session state on Azure Cosmos DB: the engine of the Rust crate ``cosmos-session-state``.

>>> from cosmos_session_token.state import SessionStateStore
>>> store = SessionStateStore.memory(timeout=60.0)          # or SessionStateStore(conn_str, database="web")
>>> ex = store.get_exclusive("sid-1")                       # acquire the session's lock
>>> ex.locked, ex.data
(False, None)
>>> store.set_and_release("sid-1", b"cart=3", ex.lock_id, new_item=True)   # fenced write + release
>>> store.get("sid-1")                                      # read-only: never waits for a lock
b'cart=3'

``set_and_release`` raises :class:`LockLostError` (also importable as ``LockLost``, its earlier name; nothing written) when the lock expired and was taken
over; store failures raise :class:`StateStoreError`. Both are ``SessionTokenError`` subclasses.
Times are in seconds. The connection string is never logged or put in an error message.
"""

from ._native import (
    Exclusive,
    LockLost,
    LockLostError,
    SessionStateStore,
    StateStoreError,
    TokenCookie,
    master_key_signature,
)

__all__ = [
    "Exclusive",
    "LockLost",
    "LockLostError",
    "SessionStateStore",
    "StateStoreError",
    "TokenCookie",
    "master_key_signature",
]
