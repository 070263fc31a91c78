//! Errors of the session-state store. Every one has a code of the core's error table
//! ([`cosmos_session_token::ERROR_CODES`]), so every surface reports it the same way.
//!
//! Session ids are bearer credentials: no message carries one. Where an error concerns one
//! session it names its [`session_fingerprint`] instead (`session #` and the first 12 hex digits
//! of the id's SHA-256), which an operator can compute from an id to correlate, but which cannot
//! be used as the id. Messages never contain the account key either.

use cosmos_session_token::{Category, Code};
use sha2::{Digest, Sha256};

/// How errors and traces name a session without revealing its id: `session #` followed by the
/// first 12 hex digits of the SHA-256 of the id's UTF-8 bytes.
///
/// ```
/// use cosmos_session_state::session_fingerprint;
/// assert_eq!(session_fingerprint("abc"), "session #ba7816bf8f01");
/// ```
pub fn session_fingerprint(sid: &str) -> String {
    let digest = Sha256::digest(sid.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("session #{hex}")
}

/// Why a session-state operation failed. Messages never contain the account key or a session id
/// (the `session` fields hold [`session_fingerprint`]s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The caller's lock is no longer held (it expired and was taken over, or was broken):
    /// nothing was written — definitely (when that cannot be told, [`StateError::OutcomeUnknown`]).
    #[error("{session}: lock {lock_id} is no longer held ({observed}); nothing was written")]
    LockLost {
        /// The session's fingerprint.
        session: String,
        /// The caller's lock id.
        lock_id: u64,
        /// The lock id holding the session now (0 when none).
        holder: u64,
        /// What the engine saw of the session's lock instead, in words (`"lock 7 holds it"`,
        /// `"it was released"`, `"the session no longer exists"`).
        observed: String,
    },
    /// Content too large: over the uncompressed limit, or, once encoded, over one Cosmos DB
    /// item (2 MB). Checked before sending.
    #[error("{session}: content is {len} bytes {what}, more than the limit of {max}")]
    ItemTooLarge {
        /// The session's fingerprint.
        session: String,
        /// What was measured: `"uncompressed"` or `"stored"`.
        what: &'static str,
        /// The size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An empty, too long or otherwise unusable session id.
    #[error("invalid session id: {0}")]
    InvalidSessionId(String),
    /// A malformed connection string (the message never quotes it: it holds the key).
    #[error("invalid connection string: {0}")]
    InvalidConnectionString(String),
    /// An option out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// An argument out of range (a lock id that no acquisition can have issued).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A new session's id is already in use (the session's fingerprint).
    #[error("{0} already exists")]
    SessionExists(String),
    /// A save of a loaded session found it gone (deleted or expired since it was loaded); it is
    /// not recreated (the session's fingerprint).
    #[error("{0} was deleted or expired since it was loaded; it is not recreated")]
    SessionGone(String),
    /// The session stayed locked by another request longer than the operation may wait.
    #[error("{session}: still locked by another request after waiting {waited_ms} ms")]
    LockWaitTimeout {
        /// The session's fingerprint.
        session: String,
        /// How long the operation waited, in milliseconds.
        waited_ms: u64,
    },
    /// A fenced write whose answer was lost, and whose fate cannot be told any more: it may or
    /// may not have landed (later writers pushed it out of the content's record). Never
    /// reported as [`StateError::LockLost`], which means *definitely not written*.
    #[error(
        "{session}: whether the write under lock {lock_id} landed cannot be told (its answer was lost and later writes followed); read the session to see its state"
    )]
    OutcomeUnknown {
        /// The session's fingerprint.
        session: String,
        /// The caller's lock id.
        lock_id: u64,
    },
    /// Stored content that cannot be decoded.
    #[error("{session}: stored content cannot be decoded: {detail}")]
    CorruptContent {
        /// The session's fingerprint.
        session: String,
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
    /// A token or seal error of the core (a weak cookie secret, a seal over its budget), with
    /// the core's code.
    #[error(transparent)]
    Token(cosmos_session_token::Error),
}

impl StateError {
    /// The stable code of the core's error table.
    ///
    /// ```
    /// use cosmos_session_state::StateError;
    /// let e = StateError::LockLost {
    ///     session: "session #0".into(), lock_id: 3, holder: 4, observed: "lock 4 holds it".into(),
    /// };
    /// assert_eq!((e.code().name(), e.category().name()), ("lock_lost", "lock_lost"));
    /// assert_eq!(e.code(), cosmos_session_token::Code::LockLost);
    /// ```
    pub fn code(&self) -> Code {
        match self {
            StateError::LockLost { .. } => Code::LockLost,
            StateError::ItemTooLarge { .. } => Code::ItemTooLarge,
            StateError::InvalidSessionId(_) => Code::InvalidSessionId,
            StateError::InvalidConnectionString(_) => Code::InvalidConnectionString,
            StateError::InvalidOption(_) => Code::InvalidOption,
            StateError::InvalidArgument(_) => Code::InvalidArgument,
            StateError::SessionExists(_) => Code::SessionExists,
            StateError::SessionGone(_) => Code::SessionGone,
            StateError::LockWaitTimeout { .. } => Code::LockWaitTimeout,
            StateError::OutcomeUnknown { .. } => Code::OutcomeUnknown,
            StateError::CorruptContent { .. } => Code::CorruptContent,
            StateError::Unavailable(_) => Code::StoreUnavailable,
            StateError::Throttled(_) => Code::StoreThrottled,
            StateError::Rejected(_) => Code::StoreRejected,
            StateError::Store(_) => Code::StoreError,
            StateError::Token(e) => e.code(),
        }
    }

    /// The code's category in the core's table.
    pub fn category(&self) -> Category {
        self.code().category()
    }
}

/// Results of this crate.
pub type Result<T, E = StateError> = std::result::Result<T, E>;
