//! Errors of the operations built on tokens: the container, feed-range merge and sealing.

use super::table::Code;
use crate::seal::{MIN_SEAL_KEY_BYTES, SEAL_VERSION_TAG};

/// Errors of container operations that are not token errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// A capture without a collection resource id.
    #[error("the collection resource id is empty")]
    EmptyResourceId,
    /// A resource type that is neither a data-plane nor a master resource type.
    #[error(
        "unknown resource type {0:?} (expected a REST resource type such as \"docs\", \"colls\" or \"pkranges\")"
    )]
    UnknownResourceType(String),
    /// The snapshot is not a valid container snapshot.
    #[error("invalid container snapshot: {0}")]
    InvalidSnapshot(String),
    /// The snapshot breaks one of [`ContainerLimits`](crate::ContainerLimits): bytes,
    /// collections, names per collection or ranges per collection.
    #[error("container snapshot has {len} {what}, more than the limit of {max}")]
    SnapshotTooLarge {
        /// What was counted (`"bytes"`, `"collections"`, ...).
        what: &'static str,
        /// How many there were (for lists stopped while reading: the first one too many).
        len: usize,
        /// The limit in force.
        max: usize,
    },
}

impl ContainerError {
    /// A stable snake_case identifier.
    pub fn code(&self) -> Code {
        match self {
            ContainerError::EmptyResourceId => Code::EmptyResourceId,
            ContainerError::UnknownResourceType(_) => Code::UnknownResourceType,
            ContainerError::InvalidSnapshot(_) => Code::InvalidSnapshot,
            ContainerError::SnapshotTooLarge { .. } => Code::SnapshotTooLarge,
        }
    }
}

/// Why a feed range or a feed-range merge was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedRangeError {
    /// The feed range text is not an accepted form.
    #[error("invalid feed range: {0}")]
    Invalid(String),
    /// No pair overlaps the target.
    #[error("no feed range overlaps the target {0}")]
    NoOverlap(String),
    /// More pairs than [`MAX_FEED_RANGE_PAIRS`](crate::MAX_FEED_RANGE_PAIRS).
    #[error("{len} pairs, more than the limit of {max}")]
    TooManyPairs {
        /// Number of pairs given.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl FeedRangeError {
    /// A stable snake_case identifier.
    pub fn code(&self) -> Code {
        match self {
            FeedRangeError::Invalid(_) => Code::InvalidFeedRange,
            FeedRangeError::NoOverlap(_) => Code::NoOverlappingFeedRange,
            FeedRangeError::TooManyPairs { .. } => Code::TooManyPairs,
        }
    }
}

/// Why a partition key, its definition, a routing map or a token budget was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionKeyError {
    /// A partition-key definition that is not one the service has.
    #[error("invalid partition-key definition: {0}")]
    Definition(String),
    /// A value that is not a partition key of the definition.
    #[error("invalid partition key: {0}")]
    Value(String),
    /// A partition-key-range list that does not parse or leaves a gap or an overlap.
    #[error("invalid routing map: {0}")]
    RoutingMap(String),
    /// A token longer than the caller's budget (a header limit): it is never cut, since
    /// dropping a segment would weaken consistency.
    #[error("the token is {len} bytes, more than the budget of {max}")]
    TokenTooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The budget.
        max: usize,
    },
}

impl PartitionKeyError {
    /// A stable snake_case identifier.
    pub fn code(&self) -> Code {
        match self {
            PartitionKeyError::Definition(_) => Code::InvalidPartitionKeyDefinition,
            PartitionKeyError::Value(_) => Code::InvalidPartitionKey,
            PartitionKeyError::RoutingMap(_) => Code::InvalidRoutingMap,
            PartitionKeyError::TokenTooLarge { .. } => Code::TokenTooLarge,
        }
    }
}

/// Why sealing or unsealing failed. Messages never say which byte of a MAC was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A key shorter than [`MIN_SEAL_KEY_BYTES`].
    #[error("seal keys must be at least {MIN_SEAL_KEY_BYTES} bytes; got {len}")]
    WeakKey {
        /// The key's length.
        len: usize,
    },
    /// `unseal` was given no key.
    #[error("no key to check the seal with")]
    NoKeys,
    /// More keys than [`MAX_SEAL_KEYS`](crate::MAX_SEAL_KEYS).
    #[error("{len} seal keys, more than the limit of {max}")]
    TooManyKeys {
        /// Keys given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The sealed text would exceed (or exceeds) the budget.
    #[error(
        "sealed token is {len} bytes, more than the budget of {max}; scope the token to the partitions \
         the next request needs (SessionToken::scope) before sealing it"
    )]
    TooLarge {
        /// The sealed length.
        len: usize,
        /// The budget.
        max: usize,
    },
    /// Not a `cst1.` envelope.
    #[error("unknown sealed-token version (expected a {SEAL_VERSION_TAG}. prefix)")]
    UnknownVersion,
    /// The envelope is not well formed (parts, base64, UTF-8).
    #[error("malformed sealed token: {0}")]
    Malformed(&'static str),
    /// No key produced this MAC for this context: tampered, wrong key or wrong context.
    #[error(
        "sealed token rejected: its signature does not match (tampered, other key or other context)"
    )]
    BadSignature,
}

impl SealError {
    /// A stable snake_case identifier.
    pub fn code(&self) -> Code {
        match self {
            SealError::WeakKey { .. } => Code::WeakKey,
            SealError::NoKeys => Code::NoKeys,
            SealError::TooManyKeys { .. } => Code::TooManyItems,
            SealError::TooLarge { .. } => Code::SealTooLarge,
            SealError::UnknownVersion => Code::UnknownSealVersion,
            SealError::Malformed(_) => Code::MalformedSeal,
            SealError::BadSignature => Code::BadSignature,
        }
    }
}
