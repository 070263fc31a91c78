//! The one table of error codes: every stable code, its category and what it means.
//!
//! Every surface shows the same code for the same condition. The category decides how a binding
//! reports it: the C status number, the .NET exception class and the Python exception class are
//! all functions of the category (see [`Category`]), never of the message text.

/// The category of an error code: what kind of failure it is, and so how each surface reports it.
///
/// ```
/// use cosmos_session_token::{Category, SessionToken};
/// let err = SessionToken::parse("0:1#x").unwrap_err();
/// assert_eq!(cosmos_session_token::Error::from(err).category(), Category::Malformed);
/// assert_eq!(Category::Malformed.status(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// A required pointer was NULL (C only).
    NullArgument,
    /// Input bytes were not UTF-8.
    InvalidUtf8,
    /// Text did not follow its grammar (a token, a snapshot).
    Malformed,
    /// Values could not be combined (a merge conflict).
    Incompatible,
    /// An output buffer was too small (C only; the bindings retry).
    BufferTooSmall,
    /// There was no result (C only: the bindings return null/None instead).
    NotFound,
    /// An argument was out of range: an unknown flag, a weak key, an invalid feed range.
    InvalidArgument,
    /// An input broke a size limit.
    LimitExceeded,
    /// A bug: a panic caught at the boundary. The library stays usable.
    Internal,
    /// A sealed token was refused (signature, version, envelope).
    Rejected,
    /// A session-state lock holder's lock was taken over: nothing was written (fencing).
    LockLost,
    /// The session-state store failed: unreachable, throttled past the retries, refused the
    /// request, or returned content that cannot be decoded.
    Store,
}

impl Category {
    /// Every category, in status order.
    pub const ALL: [Category; 12] = [
        Category::NullArgument,
        Category::InvalidUtf8,
        Category::Malformed,
        Category::Incompatible,
        Category::BufferTooSmall,
        Category::NotFound,
        Category::InvalidArgument,
        Category::LimitExceeded,
        Category::Internal,
        Category::Rejected,
        Category::LockLost,
        Category::Store,
    ];

    /// The stable snake_case name, e.g. `"limit_exceeded"`.
    pub fn name(self) -> &'static str {
        match self {
            Category::NullArgument => "null_argument",
            Category::InvalidUtf8 => "invalid_utf8",
            Category::Malformed => "malformed",
            Category::Incompatible => "incompatible",
            Category::BufferTooSmall => "buffer_too_small",
            Category::NotFound => "not_found",
            Category::InvalidArgument => "invalid_argument",
            Category::LimitExceeded => "limit_exceeded",
            Category::Internal => "internal",
            Category::Rejected => "rejected",
            Category::LockLost => "lock_lost",
            Category::Store => "store",
        }
    }

    /// The C status number (`CST_ERR_*`). Numbers are never reused.
    pub fn status(self) -> i32 {
        match self {
            Category::NullArgument => 1,
            Category::InvalidUtf8 => 2,
            Category::Malformed => 3,
            Category::Incompatible => 4,
            Category::BufferTooSmall => 5,
            Category::NotFound => 6,
            Category::InvalidArgument => 7,
            Category::LimitExceeded => 8,
            Category::Internal => 9,
            Category::Rejected => 10,
            Category::LockLost => 11,
            Category::Store => 12,
        }
    }

    /// The category of a C status number, if it is one.
    pub fn from_status(status: i32) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.status() == status)
    }

    /// The .NET exception class raised for this category (all derive from
    /// `CosmosSessionTokenException`, except the argument-null case).
    pub fn dotnet_exception(self) -> &'static str {
        match self {
            Category::NullArgument => "ArgumentNullException",
            Category::InvalidUtf8 | Category::Malformed => "SessionTokenFormatException",
            Category::Incompatible => "SessionTokenMergeException",
            Category::InvalidArgument | Category::NotFound | Category::BufferTooSmall => {
                "SessionTokenArgumentException"
            }
            Category::LimitExceeded => "SessionTokenLimitException",
            Category::Internal => "SessionTokenInternalException",
            Category::Rejected => "SessionTokenSealException",
            Category::LockLost => "SessionStateLockLostException",
            Category::Store => "SessionStateStoreException",
        }
    }

    /// The Python exception class raised for this category (all derive from `SessionTokenError`).
    pub fn python_exception(self) -> &'static str {
        match self {
            Category::InvalidUtf8 | Category::Malformed => "ParseError",
            Category::Incompatible => "MergeConflictError",
            Category::LimitExceeded => "LimitExceededError",
            Category::Rejected => "SealError",
            Category::NullArgument
            | Category::InvalidArgument
            | Category::NotFound
            | Category::BufferTooSmall => "InvalidArgumentError",
            Category::Internal => "InternalError",
            Category::LockLost => "LockLostError",
            Category::Store => "StateStoreError",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of the error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The stable snake_case code, e.g. `"not_a_number"`.
    pub code: &'static str,
    /// Its category.
    pub category: Category,
    /// What it means, in one line.
    pub description: &'static str,
}

const fn row(code: &'static str, category: Category, description: &'static str) -> ErrorCode {
    ErrorCode {
        code,
        category,
        description,
    }
}

use Category::*;

/// Every error code any surface can report, in a fixed order (a contract: codes are only added).
pub static ERROR_CODES: &[ErrorCode] = &[
    // Token grammar (ParseErrorKind).
    row("empty", Malformed, "the token is empty"),
    row("invalid_utf8", InvalidUtf8, "the input is not UTF-8"),
    row(
        "empty_segment",
        Malformed,
        "two ',' with nothing between them",
    ),
    row("missing_colon", Malformed, "a segment has no ':'"),
    row("empty_range_id", Malformed, "a segment starts with ':'"),
    row(
        "invalid_range_id",
        Malformed,
        "a range id holds a separator, whitespace or a control character",
    ),
    row("duplicate_range_id", Malformed, "a range id appears twice"),
    row(
        "empty_field",
        Malformed,
        "a number between separators is empty",
    ),
    row("not_a_number", Malformed, "a field is not a decimal number"),
    row("plus_sign", Malformed, "a number has a '+' sign"),
    row("leading_zero", Malformed, "a number has leading zeros"),
    row("negative_zero", Malformed, "a number is written -0"),
    row(
        "negative_not_allowed",
        Malformed,
        "a negative number where none is allowed",
    ),
    row("overflow", Malformed, "a number does not fit its type"),
    row("missing_equals", Malformed, "a region entry has no '='"),
    row(
        "empty_region_entry",
        Malformed,
        "'##' with no region entry between",
    ),
    row("trailing_separator", Malformed, "a value ends with '#'"),
    row(
        "duplicate_region",
        Malformed,
        "a region id appears twice in one value",
    ),
    row(
        "input_too_large",
        LimitExceeded,
        "the input is longer than the limit (1 MiB)",
    ),
    row(
        "too_many_segments",
        LimitExceeded,
        "more segments than the limit (65,536)",
    ),
    row(
        "too_many_regions",
        LimitExceeded,
        "more regions in one value than the limit (256)",
    ),
    row(
        "range_id_too_long",
        LimitExceeded,
        "a range id longer than the limit (256 bytes)",
    ),
    // Merge.
    row(
        "region_mismatch",
        Incompatible,
        "same version, different region sets, and the policy says error",
    ),
    // Container.
    row(
        "empty_resource_id",
        InvalidArgument,
        "a capture without a collection resource id",
    ),
    row(
        "unknown_resource_type",
        InvalidArgument,
        "a resource type that is neither data-plane nor master",
    ),
    row(
        "invalid_snapshot",
        Malformed,
        "a container snapshot that does not follow its format",
    ),
    row(
        "snapshot_too_large",
        LimitExceeded,
        "a container snapshot larger than the limit",
    ),
    // Feed ranges.
    row(
        "invalid_feed_range",
        InvalidArgument,
        "a feed range that is not an accepted form",
    ),
    row(
        "no_overlapping_feed_range",
        NotFound,
        "no pair overlaps the target feed range",
    ),
    row(
        "too_many_pairs",
        LimitExceeded,
        "more feed-range pairs than the limit",
    ),
    // Sealing.
    row(
        "weak_key",
        InvalidArgument,
        "a seal key shorter than 16 bytes",
    ),
    row("no_keys", InvalidArgument, "no key to check a seal with"),
    row(
        "seal_too_large",
        LimitExceeded,
        "a sealed token over its size budget",
    ),
    row("unknown_seal_version", Rejected, "not a cst1. envelope"),
    row(
        "malformed_seal",
        Rejected,
        "an envelope that is not well formed",
    ),
    row(
        "bad_signature",
        Rejected,
        "no key produced this signature for this context",
    ),
    // Session state (crate cosmos-session-state).
    row(
        "lock_lost",
        LockLost,
        "the session's lock was taken over; nothing was written",
    ),
    row(
        "item_too_large",
        LimitExceeded,
        "session content larger than a Cosmos DB item may be",
    ),
    row(
        "invalid_session_id",
        InvalidArgument,
        "a session id that is empty, too long, or holds a control character or lone surrogate",
    ),
    row(
        "invalid_connection_string",
        InvalidArgument,
        "a connection string that is not AccountEndpoint=...;AccountKey=...;",
    ),
    row(
        "invalid_option",
        InvalidArgument,
        "a store option out of range (timeouts, consistency)",
    ),
    row(
        "session_exists",
        Incompatible,
        "a new session's id is already in use",
    ),
    row(
        "corrupt_content",
        Store,
        "stored session content that cannot be decoded",
    ),
    row(
        "store_unavailable",
        Store,
        "the store could not be reached in time (after the retries)",
    ),
    row(
        "store_throttled",
        Store,
        "the store kept answering 429/449 past the retry budget",
    ),
    row(
        "store_rejected",
        Store,
        "the store refused the request (authorization, bad request, ...)",
    ),
    row(
        "store_error",
        Store,
        "the store answered with an unexpected status or body",
    ),
    // The C boundary.
    row("null_argument", NullArgument, "a required pointer is NULL"),
    row(
        "buffer_too_small",
        BufferTooSmall,
        "the output buffer is too small",
    ),
    row("not_found", NotFound, "the operation has no result"),
    row(
        "invalid_argument",
        InvalidArgument,
        "an argument is out of range (flags, format, index)",
    ),
    row(
        "too_many_items",
        LimitExceeded,
        "an input array is longer than its limit",
    ),
    row("panic", Internal, "an internal error (a panic) was caught"),
    // Session state, added after the C boundary's codes (codes are only appended).
    row(
        "session_gone",
        Incompatible,
        "a loaded session was deleted or expired before its save; it is not recreated",
    ),
    row(
        "lock_wait_timeout",
        Store,
        "the session stayed locked by another request longer than the operation may wait",
    ),
    row(
        "outcome_unknown",
        Store,
        "a write whose answer was lost may or may not have landed (never reported as lock_lost)",
    ),
];

/// The table row of a code.
///
/// ```
/// use cosmos_session_token::{Category, error_code};
/// assert_eq!(error_code("bad_signature").unwrap().category, Category::Rejected);
/// assert!(error_code("no_such_code").is_none());
/// ```
pub fn error_code(code: &str) -> Option<&'static ErrorCode> {
    ERROR_CODES.iter().find(|row| row.code == code)
}
