//! Azure Cosmos DB session tokens: parse, render, convert, merge, compare and scope them.
//!
//! With Session consistency every write returns an `x-ms-session-token` header such as
//! `0:1#100#1=20,1:-1#42`: one segment per partition key range, each either *vector*
//! (`version#globalLsn[#regionId=localLsn]*`) or *simple* (`globalLsn`, SDK v1). A reader that
//! presents a token at least that new reads its own writes. This crate is the one place the
//! rules live; the C ABI, .NET, Python and CLI surfaces all call it.
//!
//! ```
//! use cosmos_session_token::{Order, SessionToken};
//!
//! let written = SessionToken::parse("0:1#100#1=20,1:-1#42")?;
//! let later = SessionToken::parse("0:1#101#1=20")?;
//! let merged = written.merge(&later)?;
//! assert_eq!(merged.to_string(), "0:1#101#1=20,1:-1#42");
//! assert_eq!(merged.compare(&written), Order::Greater);
//! // Send only what the target partition needs:
//! assert_eq!(merged.scope("1", &[])?.unwrap().to_string(), "1:-1#42");
//! # Ok::<(), cosmos_session_token::Error>(())
//! ```
//!
//! Behaviour reference: strict parsing by default ([`SessionToken::parse`]), lenient parsing on
//! request ([`SessionToken::parse_lenient`]) with [`Warning`]s; merge per [`MergePolicy`];
//! a partial [`Order`] consistent with merge; semantic equality (region *sets*, segment order
//! ignored, simple `n` equal to `-2#n`).

#![deny(missing_docs)]

mod builder;
mod carrier;
mod container;
mod convert;
mod envelope;
mod error;
mod explain_order;
mod feed_range;
mod flow;
mod index;
mod merge;
mod model;
mod order;
mod parse;
mod parse_options;
mod partition_key;
mod range_id;
mod render;
mod routing;
mod scan;
mod scope;
mod seal;
mod web;

pub use carrier::{DEFAULT_COOKIE_NAME, SessionCarrier};
pub use container::{
    ContainerLimits, READ_SESSION_NOT_AVAILABLE, RequestKind, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
    SessionContainer, should_capture,
};
pub use error::{
    Category, Code, ContainerError, ERROR_CODES, Error, ErrorCode, FeedRangeError, Field,
    MergeError, ParseError, ParseErrorKind, PartitionKeyError, SealError, error_code,
};
pub use explain_order::{Comparison, Lack};
#[cfg(feature = "test-oracles")]
pub use feed_range::__latest_for_feed_range_reference;
pub use feed_range::{
    FeedRange, Latest, MAX_FEED_RANGE_PAIRS, MAX_FEED_RANGE_TEXT, PairFate, latest_for_feed_range,
    latest_token_for_feed_range, parse_pair_token,
};
pub use flow::{
    COMPOSITE_BUDGET, CookieFlow, CookieVerdict, FLOW_COOKIE_NAME, FLOW_REQUEST_HEADERS,
    FLOW_RESPONSE_HEADERS, FLOW_SNAPSHOT_FORMAT, FLOW_SNAPSHOT_VERSION, FlowCookieStats,
    FlowCookies, FlowStats, MAX_FLOW_COLLECTIONS, MAX_FLOW_SNAPSHOT_BYTES, MAX_LEARN_BYTES,
    MAX_SNAPSHOT_RANGES, MESSAGE_FLOW_BUDGET, Outgoing, SealedCookie, SessionFlow, seal_flow,
    unseal_flow,
};
pub use flow::{CollectionSummary, FlowSummary};
pub use merge::{MergePolicy, RegionMismatch};
pub use model::{
    CONVERTED_SIMPLE_VERSION, Format, NO_PROGRESS, RegionProgress, Segment, SegmentIter,
    SegmentValue, Segments, SessionToken, VectorValue,
};
pub use order::Order;
pub use parse::{Parsed, Warning, WarningKind};
pub use parse_options::{Limits, Mode, ParseOptions};
pub use partition_key::{
    EpkRange, MAX_PARTITION_KEY_LEVELS, PartitionKeyDefinition, PartitionKeyKind,
    PartitionKeyValue, effective_partition_key, epk_range,
};
pub use routing::{
    MAX_ROUTING_RANGES, PartitionKeyRange, RoutingMap, check_header_budget, token_for_feed_range,
    token_for_partition_key,
};
pub use scope::MAX_SCOPE_PARENTS;
pub use seal::{
    DEFAULT_SEAL_BUDGET, MAX_SEAL_KEYS, MIN_SEAL_KEY_BYTES, SEAL_VERSION_TAG, seal, unseal,
};
pub use web::{
    COOKIE_KEY_BYTES, CookieKind, CookiePolicy, MIN_FRAMEWORK_SECRET_BYTES, TOKEN_COOKIE_NAME,
    cookie_app_identity, derive_cookie_keys, token_cookie_context, token_cookie_header,
};

/// The HTTP header that carries a session token.
pub const HEADER: &str = "x-ms-session-token";

/// The Rust blocks of the README and of `docs/rust.md` run as doctests, as pasted.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeSnippets;

#[cfg(doctest)]
#[doc = include_str!("../../docs/rust.md")]
struct RustPageSnippets;
