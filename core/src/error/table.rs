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

/// Declares the table once: the [`Code`] enum (a misspelt code does not compile) and the
/// [`ERROR_CODES`] rows (the same codes as data, for the bindings' tables and `errors.json`).
macro_rules! error_table {
    ($($(#[$meta:meta])* $variant:ident = $code:literal, $category:ident, $description:literal;)*) => {
        /// Every error code any surface can report, as a type. [`Code::name`] is the stable
        /// snake_case code every surface shows; the variants are in the table's fixed order (a
        /// contract: codes are only added).
        ///
        /// ```
        /// use cosmos_session_token::{Category, Code};
        /// assert_eq!(Code::LockLost.name(), "lock_lost");
        /// assert_eq!(Code::LockLost.category(), Category::LockLost);
        /// assert_eq!(Code::from_name("bad_signature"), Some(Code::BadSignature));
        /// assert_eq!(Code::BadSignature, "bad_signature");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = $description]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable snake_case code, e.g. `"not_a_number"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The code's category.
            pub const fn category(self) -> Category {
                match self {
                    $(Code::$variant => $category,)*
                }
            }

            /// What the code means, in one line.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)*
                }
            }
        }

        /// Every error code any surface can report, as data, in a fixed order (a contract:
        /// codes are only added). The same table as [`Code`].
        pub static ERROR_CODES: &[ErrorCode] = &[$(row($code, $category, $description)),*];
    };
}

error_table! {
    // Token grammar (ParseErrorKind).
    Empty = "empty", Malformed, "the token is empty";
    InvalidUtf8 = "invalid_utf8", InvalidUtf8, "the input is not UTF-8";
    EmptySegment = "empty_segment", Malformed, "two ',' with nothing between them";
    MissingColon = "missing_colon", Malformed, "a segment has no ':'";
    EmptyRangeId = "empty_range_id", Malformed, "a segment starts with ':'";
    InvalidRangeId = "invalid_range_id", Malformed, "a range id holds a separator, whitespace or a control character";
    DuplicateRangeId = "duplicate_range_id", Malformed, "a range id appears twice";
    EmptyField = "empty_field", Malformed, "a number between separators is empty";
    NotANumber = "not_a_number", Malformed, "a field is not a decimal number";
    PlusSign = "plus_sign", Malformed, "a number has a '+' sign";
    LeadingZero = "leading_zero", Malformed, "a number has leading zeros";
    NegativeZero = "negative_zero", Malformed, "a number is written -0";
    NegativeNotAllowed = "negative_not_allowed", Malformed, "a negative number where none is allowed";
    Overflow = "overflow", Malformed, "a number does not fit its type";
    MissingEquals = "missing_equals", Malformed, "a region entry has no '='";
    EmptyRegionEntry = "empty_region_entry", Malformed, "'##' with no region entry between";
    TrailingSeparator = "trailing_separator", Malformed, "a value ends with '#'";
    DuplicateRegion = "duplicate_region", Malformed, "a region id appears twice in one value";
    InputTooLarge = "input_too_large", LimitExceeded, "the input is longer than the limit (1 MiB)";
    TooManySegments = "too_many_segments", LimitExceeded, "more segments than the limit (65,536)";
    TooManyRegions = "too_many_regions", LimitExceeded, "more regions in one value than the limit (256)";
    RangeIdTooLong = "range_id_too_long", LimitExceeded, "a range id longer than the limit (256 bytes)";
    // Merge.
    RegionMismatch = "region_mismatch", Incompatible, "same version, different region sets, and the policy says error";
    // Container.
    EmptyResourceId = "empty_resource_id", InvalidArgument, "a capture without a collection resource id";
    UnknownResourceType = "unknown_resource_type", InvalidArgument, "a resource type that is neither data-plane nor master";
    InvalidSnapshot = "invalid_snapshot", Malformed, "a container snapshot that does not follow its format";
    SnapshotTooLarge = "snapshot_too_large", LimitExceeded, "a container snapshot larger than the limit";
    // Feed ranges.
    InvalidFeedRange = "invalid_feed_range", InvalidArgument, "a feed range that is not an accepted form";
    NoOverlappingFeedRange = "no_overlapping_feed_range", NotFound, "no pair overlaps the target feed range";
    TooManyPairs = "too_many_pairs", LimitExceeded, "more feed-range pairs than the limit";
    // Sealing.
    WeakKey = "weak_key", InvalidArgument, "a seal key shorter than 16 bytes";
    NoKeys = "no_keys", InvalidArgument, "no key to check a seal with";
    SealTooLarge = "seal_too_large", LimitExceeded, "a sealed token over its size budget";
    UnknownSealVersion = "unknown_seal_version", Rejected, "not a cst1. envelope";
    MalformedSeal = "malformed_seal", Rejected, "an envelope that is not well formed";
    BadSignature = "bad_signature", Rejected, "no key produced this signature for this context";
    // Session state (crate cosmos-session-state).
    LockLost = "lock_lost", LockLost, "the session's lock was taken over; nothing was written";
    ItemTooLarge = "item_too_large", LimitExceeded, "session content larger than a Cosmos DB item may be";
    InvalidSessionId = "invalid_session_id", InvalidArgument, "a session id that is empty, too long, or holds a control character or lone surrogate";
    InvalidConnectionString = "invalid_connection_string", InvalidArgument, "a connection string that is not AccountEndpoint=...;AccountKey=...;";
    InvalidOption = "invalid_option", InvalidArgument, "a store option out of range (timeouts, consistency)";
    SessionExists = "session_exists", Store, "a new session's id is already in use";
    CorruptContent = "corrupt_content", Store, "stored session content that cannot be decoded";
    StoreUnavailable = "store_unavailable", Store, "the store could not be reached in time (after the retries)";
    StoreThrottled = "store_throttled", Store, "the store kept answering 429/449 past the retry budget";
    StoreRejected = "store_rejected", Store, "the store refused the request (authorization, bad request, ...)";
    StoreError = "store_error", Store, "the store answered with an unexpected status or body";
    // The C boundary.
    NullArgument = "null_argument", NullArgument, "a required pointer is NULL";
    BufferTooSmall = "buffer_too_small", BufferTooSmall, "the output buffer is too small";
    NotFound = "not_found", NotFound, "the operation has no result";
    InvalidArgument = "invalid_argument", InvalidArgument, "an argument is out of range (flags, format, index)";
    TooManyItems = "too_many_items", LimitExceeded, "an input array is longer than its limit";
    Panic = "panic", Internal, "an internal error (a panic) was caught";
    // Session state, added after the C boundary's codes (codes are only appended).
    SessionGone = "session_gone", Store, "a loaded session was deleted or expired before its save; it is not recreated";
    LockWaitTimeout = "lock_wait_timeout", Store, "the session stayed locked by another request longer than the operation may wait";
    OutcomeUnknown = "outcome_unknown", Store, "a write whose answer was lost may or may not have landed (never reported as lock_lost)";
    // Partition keys and routing.
    InvalidPartitionKey = "invalid_partition_key", InvalidArgument, "a partition key value that is not a string, number, bool, null or {} (or a list of them) for the definition";
    InvalidPartitionKeyDefinition = "invalid_partition_key_definition", InvalidArgument, "a partition-key definition other than Hash V1/V2 with one path or MultiHash V2 with 1 to 3";
    InvalidRoutingMap = "invalid_routing_map", Malformed, "a partition-key-range list that does not parse, or whose ranges leave a gap or overlap";
    TokenTooLarge = "token_too_large", LimitExceeded, "a token longer than the caller's header budget (never cut)";
}

impl Code {
    /// The code named `name`, if it is in the table.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The table row of this code.
    pub fn row(self) -> &'static ErrorCode {
        // ERROR_CODES and Code::ALL are generated from the same list, in the same order.
        &ERROR_CODES[self as usize]
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.name()
    }
}

impl PartialEq<serde_json::Value> for Code {
    fn eq(&self, other: &serde_json::Value) -> bool {
        other.as_str() == Some(self.name())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

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
