//! What the engine's operations return: [`Content`], [`Exclusive`], [`SessionInfo`].

/// Session content as read: the bytes the caller stored, and whether the session was created
/// uninitialized (ASP.NET cookieless `CreateUninitializedItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The bytes of the last write (empty for an uninitialized session).
    pub data: Vec<u8>,
    /// True until the first write of a session made by `create_uninitialized`.
    pub uninitialized: bool,
}

/// The answer of [`get_exclusive`](super::SessionStateStore::get_exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusive {
    /// The content (`None`: no live session), when the lock was acquired.
    pub content: Option<Content>,
    /// True when another request holds a live lock: nothing was acquired.
    pub locked: bool,
    /// The acquired lock id, or the holder's when `locked`.
    pub lock_id: u64,
    /// The holder's true lock age in seconds when `locked`, else 0.
    pub lock_age: f64,
}

/// What an operator sees of one session ([`show`](super::SessionStateStore::show)).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// A live (not expired) content item exists.
    pub exists: bool,
    /// Stored content size in bytes (base64 text, as in the item).
    pub stored_bytes: usize,
    /// Whether the stored content is compressed.
    pub compressed: bool,
    /// Seconds until the session expires (negative: expired).
    pub expires_in: f64,
    /// The session was created uninitialized and not written yet.
    pub uninitialized: bool,
    /// A lock is held and not expired.
    pub locked: bool,
    /// The lock item's lock id (0 when there is none).
    pub lock_id: u64,
    /// Seconds since the lock was acquired (0 when not locked).
    pub lock_age: f64,
}
