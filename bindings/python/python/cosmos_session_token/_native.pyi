"""Type stubs for the native module (checked against it by mypy.stubtest)."""

from typing import Any, Iterable, Iterator, Literal, Mapping, Protocol, Sequence, Tuple, Union, final, overload

__all__ = [
    "RoutingMap",
    "check_header_budget",
    "effective_partition_key",
    "feed_range_from_partition_key",
    "token_for_feed_range",
    "token_for_partition_key",
    "CookiePolicy",
    "DEFAULT_COOKIE_NAME",
    "Exclusive",
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
    "SessionFlow",
    "FlowCookies",
    "CookieFlow",
    "FLOW_COOKIE_NAME",
    "MESSAGE_FLOW_BUDGET",
    "flow_snapshot_within",
    "seal_flow",
    "unseal_flow",
    "SessionStateStore",
    "SessionToken",
    "SessionTokenError",
    "StateStoreError",
    "TOKEN_COOKIE_NAME",
    "TokenCookie",
    "__version__",
    "_from_header",
    "convert",
    "derive_cookie_keys",
    "explain_latest_for_feed_range",
    "latest_for_feed_range",
    "master_key_signature",
    "merge",
    "parse",
    "seal",
    "session_fingerprint",
    "state_option_table",
    "token_cookie_context",
    "token_cookie_header",
    "unseal",
]
__version__: str
HEADER: str

DEFAULT_COOKIE_NAME: str
DEFAULT_SEAL_BUDGET: int
#: The name of the cookie that carries a session store's sealed token (every adapter).
TOKEN_COOKIE_NAME: str
FLOW_COOKIE_NAME: str
#: Default budget of a flow in a message, in bytes.
MESSAGE_FLOW_BUDGET: int
#: Most parent range ids one scope or resolve call accepts.
MAX_SCOPE_PARENTS: int
#: Most keys one unseal, carrier or key derivation accepts.
MAX_SEAL_KEYS: int
#: The error table: (code, category) for every stable code any surface can report.
ERROR_CODES: tuple[tuple[str, str], ...]

class SessionTokenError(ValueError):
    """Base class of every error raised by cosmos_session_token."""

    #: The error table's code (the same name on every surface).
    code: str
    #: The earlier name of ``code``.
    kind: str
    category: str

class ParseError(SessionTokenError):
    """A token (or snapshot) did not follow its grammar (categories malformed, invalid_utf8)."""

    segment: int | None
    range_id: str | None
    offset: int

class MergeConflictError(SessionTokenError):
    """Same version, different region sets (use region_mismatch="union"); category incompatible."""

    range_id: str

class LimitExceededError(SessionTokenError):
    """An input broke a size limit (category limit_exceeded)."""

class SealError(SessionTokenError):
    """A sealed token was refused: tampered, other key or context, malformed (category rejected)."""

class InvalidArgumentError(SessionTokenError):
    """An argument was out of range: weak or missing key, invalid feed range, unknown resource type."""

class LockLostError(SessionTokenError):
    """Session state: the lock is no longer held; nothing was written (definitely)."""

#: The earlier name of LockLostError (the same class).
LockLost = LockLostError

class StateStoreError(SessionTokenError):
    """Session state: the store failed (unreachable, throttled, refused, undecodable content)."""

class InternalError(SessionTokenError):
    """An internal error of the library (a bug)."""

@final
class ParseWarning:
    """One normalisation made by a lenient parse; str() is its message."""

    @property
    def code(self) -> str: ...
    @property
    def segment(self) -> int | None: ...
    @property
    def offset(self) -> int: ...
    @property
    def text(self) -> str: ...

@final
class Order:
    """How one token relates to another."""

    LESS: Order
    EQUAL: Order
    GREATER: Order
    CONCURRENT: Order
    def __int__(self) -> int: ...

@final
class Segment:
    """One range_id:value segment of a token."""

    @property
    def range_id(self) -> str: ...
    @property
    def format(self) -> Literal["vector", "simple"]: ...
    @property
    def version(self) -> int | None: ...
    @property
    def global_lsn(self) -> int: ...
    @property
    def regions(self) -> dict[int, int]: ...
    def __hash__(self) -> int: ...

@final
class Segments(Sequence[Segment]):
    """A token's segments, in order: lazy and read-only (a Segment is built per item read)."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int, /) -> Segment: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Segment]: ...
    def __iter__(self) -> Iterator[Segment]: ...
    def __eq__(self, value: object, /) -> bool: ...

_TokenLike = Union[SessionToken, str]

@final
class SessionToken:
    """An Azure Cosmos DB session token (the x-ms-session-token header value). Immutable."""

    @staticmethod
    def parse(s: str, *, lenient: bool = False) -> SessionToken: ...
    @staticmethod
    def parse_lenient(s: str) -> tuple[SessionToken, list[ParseWarning]]: ...
    def __hash__(self) -> int: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: str, /) -> bool: ...
    def __reduce__(self) -> tuple[object, tuple[str]]: ...
    def to_simple(self) -> SessionToken: ...
    def to_vector(self) -> SessionToken: ...
    def merge(
        self,
        other: _TokenLike,
        *,
        region_mismatch: Literal["error", "union"] = "error",
        false_progress_protection: bool = True,
    ) -> SessionToken: ...
    def compare(self, other: _TokenLike) -> Order: ...
    def is_at_least_as_new_as(self, other: _TokenLike) -> bool: ...
    def compare_explained(self, other: _TokenLike) -> tuple[Order, list[dict[str, Any]], list[dict[str, Any]]]: ...
    def scope(self, range_id: str, parents: Sequence[str] = ()) -> SessionToken | None: ...
    @property
    def segments(self) -> Segments: ...
    def get(self, range_id: str) -> Segment | None: ...
    @property
    def encoded_len(self) -> int: ...

@final
class SessionFlow:
    """Read-your-writes carried by an SDK's HTTP traffic (see cosmos_session_token.azure)."""

    def __new__(cls) -> SessionFlow: ...
    @staticmethod
    def restore(snapshot: str) -> SessionFlow: ...
    def merge_snapshot(self, snapshot: str) -> None: ...
    def snapshot(self) -> str: ...
    def before_request(
        self,
        method: str,
        url: str,
        session_token: str | None = None,
        partition_key: str | None = None,
        range_id: str | None = None,
        start_epk: str | None = None,
        end_epk: str | None = None,
        is_query: str | None = None,
        content_type: str | None = None,
    ) -> str | None: ...
    def wants_body(self, method: str, url: str) -> bool: ...
    def on_request(self, pipeline_request: Any) -> None: ...
    def on_response(self, pipeline_response: Any) -> None: ...
    def after_response(
        self,
        method: str,
        url: str,
        status: int,
        session_token: str | None = None,
        sub_status: str | None = None,
        content_path: str | None = None,
        body: bytes | None = None,
    ) -> None: ...
    def stats(self) -> dict[str, int]: ...

def flow_snapshot_within(flow: SessionFlow, *, max_bytes: int = ...) -> str: ...
def seal_flow(flow: SessionFlow, key: bytes, context: str = "", *, max_bytes: int = ...) -> str: ...
def unseal_flow(sealed: str, keys: Sequence[bytes], context: str = "", *, max_bytes: int = ...) -> SessionFlow: ...

@final
class FlowCookies:
    """A web node's flow cookies: each user's progress sealed in a cookie; the node's routing
    knowledge shared by every user's flow."""

    def __new__(cls, keys: Sequence[bytes], *, max_bytes: int = ...) -> FlowCookies: ...
    def open(self, context: str, cookie: str | None = None) -> CookieFlow: ...
    def seal(self, user: CookieFlow, context: str | None = None) -> tuple[str, str | None]: ...
    def node(self) -> SessionFlow: ...
    def stats(self) -> dict[str, int]: ...

@final
class CookieFlow:
    """One user's flow for one request, opened from the user's cookie."""

    @property
    def flow(self) -> SessionFlow: ...
    @property
    def verdict(self) -> str: ...
    @property
    def refused(self) -> bool: ...
    @property
    def changed(self) -> bool: ...

@final
class SessionContainer:
    """Per-partition session tokens of many collections, shared by any number of threads."""

    def __init__(self) -> None: ...
    def capture(
        self,
        collection_name: str,
        collection_rid: str,
        token: str | None,
        status: int,
        sub_status: int = 0,
        *,
        resource_type: str = "docs",
    ) -> bool: ...
    def forget_range(self, collection_name: str, range_id: str) -> bool: ...
    def resolve(
        self, collection_name: str, range_id: str, parents: Sequence[str] = ()
    ) -> SessionToken | None: ...
    def resolve_for_partition_key(
        self, collection_name: str, value: _PartitionKey, routing_map: RoutingMap, definition: Mapping[str, Any] | str | None = None
    ) -> SessionToken | None: ...
    def resolve_all(self, collection_name: str) -> SessionToken | None: ...
    def clear(self, collection_name: str) -> bool: ...
    def snapshot(self) -> str: ...
    @classmethod
    def restore(cls, snapshot: str) -> SessionContainer: ...

def parse(s: str, *, lenient: bool = False) -> SessionToken: ...
def merge(
    *tokens: _TokenLike,
    region_mismatch: Literal["error", "union"] = "error",
    false_progress_protection: bool = True,
) -> SessionToken: ...
def convert(token: str, to: Literal["simple", "vector"]) -> str: ...
def _from_header(s: str) -> SessionToken: ...

_FeedRange = Union[Mapping[str, Any], str, Tuple[str, str]]

def latest_for_feed_range(
    pairs: Iterable[tuple[_FeedRange, _TokenLike]], target: _FeedRange
) -> SessionToken | None: ...
def effective_partition_key(
    value: _PartitionKey, *, kind: Literal["Hash", "MultiHash"] = "Hash", version: int = 2, levels: int | None = None
) -> str: ...
def feed_range_from_partition_key(
    value: _PartitionKey, *, kind: Literal["Hash", "MultiHash"] = "Hash", version: int = 2, levels: int | None = None
) -> dict[str, Any]: ...
@final
class RoutingMap:
    """A container's partition-key ranges (the body of GET .../pkranges), checked for gaps and overlaps."""

    def __new__(cls, ranges: str | Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> RoutingMap: ...
    def __len__(self) -> int: ...
    def range_for(self, epk: str) -> dict[str, Any]: ...
    def overlapping(self, feed_range_value: _FeedRange) -> list[dict[str, Any]]: ...

def token_for_partition_key(
    token: _TokenLike, value: _PartitionKey, routing_map: RoutingMap, definition: Mapping[str, Any] | str | None = None
) -> SessionToken | None: ...
def token_for_feed_range(
    token: _TokenLike, feed_range_value: _FeedRange, routing_map: RoutingMap
) -> SessionToken | None: ...
def check_header_budget(token: _TokenLike, max_bytes: int) -> None: ...
def explain_latest_for_feed_range(
    pairs: Iterable[tuple[_FeedRange, _TokenLike]], target: _FeedRange
) -> tuple[SessionToken, list[str]] | None: ...

def seal(token: _TokenLike, key: bytes, context: str = "", *, max_bytes: int = 4000) -> str: ...
def unseal(
    sealed: str, keys: Union[bytes, Sequence[bytes]], context: str = "", *, max_bytes: int = 4000
) -> SessionToken: ...

@final
class SessionCarrier:
    """One request's carried session token (the core's carrier policy)."""

    def __new__(cls, keys: Sequence[bytes], context: str = "", *, max_bytes: int = 4000) -> SessionCarrier: ...
    def read(self, sealed: object | None) -> bool: ...
    def report(self, token: _TokenLike) -> bool: ...
    @property
    def token(self) -> SessionToken | None: ...
    @property
    def changed(self) -> bool: ...
    def for_range(self, range_id: str, parents: Sequence[str] = ()) -> SessionToken | None: ...
    def for_partition_key(
        self, value: _PartitionKey, routing_map: RoutingMap, definition: Mapping[str, Any] | str | None = None
    ) -> SessionToken | None: ...
    @property
    def verdict(self) -> str: ...
    def sealed(self) -> str | None: ...

@final
class TokenCookie:
    """The token-cookie hook of one web application: ``begin`` presents the token a session's
    sealed cookie carries; ``finish`` gives the Set-Cookie header value when it changed."""

    def __new__(cls, policy: CookiePolicy) -> TokenCookie: ...
    @property
    def name(self) -> str: ...
    def begin(self, store: SessionStateStore, sid: str, cookie: str | None) -> bool: ...
    def finish(self, store: SessionStateStore, sid: str, cookie: str | None) -> str | None: ...

@final
class Exclusive:
    """The answer of SessionStateStore.get_exclusive."""

    @property
    def data(self) -> bytes | None: ...
    @property
    def locked(self) -> bool: ...
    @property
    def lock_id(self) -> int: ...
    @property
    def lock_age(self) -> float: ...
    @property
    def uninitialized(self) -> bool: ...

_PartitionKey = Union[str, int, float, bool, None, Mapping[str, Any], Sequence[Any]]

class _AccessTokenLike(Protocol):
    token: str
    expires_on: int | float

class _TokenCredential(Protocol):
    """The azure-core credential protocol (azure-identity's credentials satisfy it)."""

    def get_token(self, *scopes: str) -> _AccessTokenLike: ...

@final
class SessionStateStore:
    """Session state in Cosmos DB (or in memory). Times in seconds."""

    def __new__(
        cls,
        connection_string: str,
        *,
        database: str | None = None,
        container: str | None = None,
        lock_ttl: float | None = None,
        timeout: float | None = None,
        compression: bool | None = None,
        consistency: str | None = None,
        renew_fraction: float | None = None,
        request_timeout: float | None = None,
        max_retries: int | None = None,
        operation_timeout: float | None = None,
        preferred_regions: str | Sequence[str] | None = None,
        allow_multi_write: bool | None = None,
        create_if_missing: bool | None = None,
        credential: _TokenCredential | None = None,
        authentication: str | None = None,
        managed_identity_client_id: str | None = None,
    ) -> SessionStateStore: ...
    def stats(self) -> dict[str, int | float]: ...
    @classmethod
    def memory(
        cls,
        *,
        lock_ttl: float | None = None,
        timeout: float | None = None,
        compression: bool | None = None,
        renew_fraction: float | None = None,
    ) -> SessionStateStore: ...
    def get(self, sid: str) -> bytes | None: ...
    def get_exclusive(self, sid: str) -> Exclusive: ...
    def set_and_release(
        self, sid: str, data: bytes, lock_id: int, *, new_item: bool = False, timeout: float | None = None
    ) -> None: ...
    def save(
        self, sid: str, data: bytes, *, new: bool, timeout: float | None = None, wait: float = 10.0
    ) -> None: ...
    def delete(self, sid: str, *, wait: float = 10.0) -> bool: ...
    @staticmethod
    def is_valid_session_id(sid: object) -> bool: ...
    def release(self, sid: str, lock_id: int) -> bool: ...
    def create_uninitialized(self, sid: str, *, timeout: float | None = None) -> None: ...
    def remove(self, sid: str, lock_id: int) -> bool: ...
    def reset_timeout(self, sid: str) -> bool: ...
    def token(self, sid: str) -> SessionToken | None: ...
    def present_token(self, sid: str, token: SessionToken) -> None: ...
    def show(self, sid: str) -> dict[str, Any]: ...
    def force_unlock(self, sid: str) -> int | None: ...

def master_key_signature(key: bytes, verb: str, resource_type: str, resource_link: str, date: str) -> str: ...
def session_fingerprint(sid: str) -> str: ...
def state_option_table() -> str: ...
def derive_cookie_keys(secrets: Sequence[bytes]) -> list[bytes]: ...
@final
class CookiePolicy:
    """The core's one web-cookie policy: name, keys, binding, budget, Max-Age, Secure."""

    def __new__(
        cls,
        kind: str,
        framework: str,
        secrets: Sequence[str | bytes],
        *,
        database: str = "",
        container: str = "",
        secure: bool = True,
        max_age: int | None = None,
        max_bytes: int = 0,
    ) -> CookiePolicy: ...
    @staticmethod
    def from_seal_keys(
        kind: str,
        keys: Sequence[bytes],
        *,
        framework: str = "wsgi",
        app: str = "",
        secure: bool = True,
        max_age: int | None = None,
        max_bytes: int = 0,
    ) -> CookiePolicy: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def legacy_names(self) -> list[str]: ...
    @property
    def framework(self) -> str: ...
    @property
    def app(self) -> str: ...
    @property
    def keys(self) -> list[bytes]: ...
    @property
    def max_bytes(self) -> int: ...
    @property
    def max_age(self) -> int | None: ...
    @property
    def secure(self) -> bool: ...
    def context(self, session_id: str) -> str: ...
    def header(self, value: str) -> str: ...
    def pick(self, cookies: Mapping[str, str]) -> str | None: ...

def token_cookie_context(framework: str, app: str, session_id: str) -> str: ...
def token_cookie_header(name: str, value: str, *, max_age: int | None = None, secure: bool = True) -> str: ...
