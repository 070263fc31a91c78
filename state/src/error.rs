//! Errors of the session-state store. Every one has a code of the core's error table
//! ([`cosmos_session_token::ERROR_CODES`]), so every surface reports it the same way.

use cosmos_session_token::{Category, error_code};

/// Why a session-state operation failed. Messages never contain the account key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The caller's lock was taken over (it had expired): nothing was written.
    #[error(
        "session {sid:?}: lock {lock_id} was lost (taken over by lock {holder} after it expired); nothing was written"
    )]
    LockLost {
        /// The session id.
        sid: String,
        /// The caller's lock id.
        lock_id: u64,
        /// The lock id holding the session now (0 when none).
        holder: u64,
    },
    /// Content too large for one Cosmos DB item (2 MB), checked before sending.
    #[error("session {sid:?}: content is {len} bytes stored, more than the item limit of {max}")]
    ItemTooLarge {
        /// The session id.
        sid: String,
        /// The encoded size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An empty or too long session id.
    #[error("invalid session id: {0}")]
    InvalidSessionId(String),
    /// A malformed connection string (the message never quotes it: it holds the key).
    #[error("invalid connection string: {0}")]
    InvalidConnectionString(String),
    /// An option out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A new session's id is already in use.
    #[error("session {0:?} already exists")]
    SessionExists(String),
    /// Stored content that cannot be decoded.
    #[error("session {sid:?}: stored content cannot be decoded: {detail}")]
    CorruptContent {
        /// The session id.
        sid: String,
        /// What was wrong.
        detail: String,
    },
    /// The store could not be reached in time, after the retries.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store kept answering 429/449 past the retry budget.
    #[error("session store throttled: {0}")]
    Throttled(String),
    /// The store refused the request (401, 403, 400, ...).
    #[error("session store refused the request: {0}")]
    Rejected(String),
    /// An unexpected status or body.
    #[error("session store error: {0}")]
    Store(String),
}

impl StateError {
    /// The stable code of the core's error table.
    ///
    /// ```
    /// use cosmos_session_state::StateError;
    /// let e = StateError::LockLost { sid: "s".into(), lock_id: 3, holder: 4 };
    /// assert_eq!((e.code(), e.category().name()), ("lock_lost", "lock_lost"));
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            StateError::LockLost { .. } => "lock_lost",
            StateError::ItemTooLarge { .. } => "item_too_large",
            StateError::InvalidSessionId(_) => "invalid_session_id",
            StateError::InvalidConnectionString(_) => "invalid_connection_string",
            StateError::InvalidOption(_) => "invalid_option",
            StateError::SessionExists(_) => "session_exists",
            StateError::CorruptContent { .. } => "corrupt_content",
            StateError::Unavailable(_) => "store_unavailable",
            StateError::Throttled(_) => "store_throttled",
            StateError::Rejected(_) => "store_rejected",
            StateError::Store(_) => "store_error",
        }
    }

    /// The code's category in the core's table.
    pub fn category(&self) -> Category {
        error_code(self.code()).map_or(Category::Internal, |row| row.category)
    }
}

/// Results of this crate.
pub type Result<T, E = StateError> = std::result::Result<T, E>;
