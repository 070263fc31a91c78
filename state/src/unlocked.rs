//! Saves and deletes for frameworks that do not hold a session's lock for a whole request
//! (Django, Flask): each is one short fenced operation that takes the lock, checks what it must
//! about the session's existence, writes and releases — waiting, within a bound, while another
//! request holds the lock. One semantics for every adapter:
//!
//! * [`save`](SessionStateStore::save) with [`SaveMode::New`] writes only if no live session has
//!   the id (`session_exists` otherwise); with [`SaveMode::Existing`] only if the session is still
//!   live (`session_gone` otherwise). A session deleted after a request loaded it is therefore
//!   never recreated by that request's save: a logout ends the session for every copy of its
//!   cookie.
//! * [`delete`](SessionStateStore::delete) waits for the lock like a save does (it never gives up
//!   because another request is saving), then removes the session under it.
//! * Waiting polls with a growing interval (10 ms doubling to 250 ms, about 4 polls a second
//!   once it has grown), each poll one read; past the wait, `lock_wait_timeout`.

use std::time::{Duration, Instant};

use crate::engine::{Exclusive, SessionStateStore};
use crate::error::{Result, StateError, session_fingerprint};

/// How long [`save`](SessionStateStore::save) and [`delete`](SessionStateStore::delete) wait for
/// another request's lock when the caller does not say (the adapters' default).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);
/// Longest wait a caller may ask for, in seconds.
pub const MAX_LOCK_WAIT_SECONDS: f64 = 3600.0;

/// A wait given in seconds, as every surface takes it: finite, within [0,
/// [`MAX_LOCK_WAIT_SECONDS`]], else `invalid_argument`.
///
/// ```
/// use cosmos_session_state::lock_wait;
/// assert_eq!(lock_wait(1.5).unwrap().as_millis(), 1500);
/// assert_eq!(lock_wait(-1.0).unwrap_err().code(), "invalid_argument");
/// assert!(lock_wait(f64::NAN).is_err() && lock_wait(3601.0).is_err());
/// ```
pub fn lock_wait(seconds: f64) -> Result<Duration> {
    if seconds.is_finite() && (0.0..=MAX_LOCK_WAIT_SECONDS).contains(&seconds) {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(StateError::InvalidArgument(format!(
            "wait must be seconds within [0, {MAX_LOCK_WAIT_SECONDS}], got {seconds}"
        )))
    }
}

/// First and largest pause between two polls of a held lock.
const FIRST_POLL: Duration = Duration::from_millis(10);
const LONGEST_POLL: Duration = Duration::from_millis(250);

/// What a [`save`](SessionStateStore::save) requires of the session's existence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// A new session: the id must not be in use by a live session.
    New,
    /// A session the request loaded: it must still be live; if it was deleted or expired since,
    /// nothing is written.
    Existing,
}

impl SessionStateStore {
    /// Takes the session's lock, polling while another request holds it, for at most `wait`.
    /// The content is only checked for existence (not decoded).
    fn lock_within(&self, sid: &str, wait: Duration) -> Result<Exclusive> {
        let start = Instant::now();
        let mut pause = FIRST_POLL;
        loop {
            let ex = self.acquire(sid, false)?;
            if !ex.locked {
                return Ok(ex);
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(StateError::LockWaitTimeout {
                    session: session_fingerprint(sid),
                    waited_ms: waited.as_millis().min(u128::from(u64::MAX)) as u64,
                });
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(LONGEST_POLL);
        }
    }

    /// Writes `data` as the session's content without the caller holding its lock: takes the
    /// lock (waiting up to `wait` while another request holds it), checks `mode`, writes and
    /// releases in one fenced operation; [`SaveMode`] says what each mode requires of the session.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cosmos_session_state::{MemoryStore, Options, SaveMode, SessionStateStore};
    /// let store = SessionStateStore::new(MemoryStore::new(), Options::default())?;
    /// let wait = Duration::from_secs(1);
    /// store.save("s1", b"a=1", SaveMode::New, None, wait)?;
    /// assert_eq!(store.save("s1", b"a=2", SaveMode::New, None, wait).unwrap_err().code(), "session_exists");
    /// assert!(store.delete("s1", wait)?);                    // logout
    /// let late = store.save("s1", b"a=3", SaveMode::Existing, None, wait).unwrap_err();
    /// assert_eq!(late.code(), "session_gone");               // never recreated
    /// assert!(store.get("s1")?.is_none());
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn save(
        &self,
        sid: &str,
        data: &[u8],
        mode: SaveMode,
        timeout: Option<f64>,
        wait: Duration,
    ) -> Result<()> {
        let ex = self.lock_within(sid, wait)?;
        let exists = ex.content.is_some();
        let refused = match (mode, exists) {
            (SaveMode::New, true) => Some(StateError::SessionExists(session_fingerprint(sid))),
            (SaveMode::Existing, false) => Some(StateError::SessionGone(session_fingerprint(sid))),
            _ => None,
        };
        if let Some(e) = refused {
            self.release(sid, ex.lock_id)?;
            return Err(e);
        }
        self.set_and_release(sid, data, ex.lock_id, !exists, timeout)
    }

    /// Removes the session without the caller holding its lock: takes the lock (waiting up to
    /// `wait`), removes the content and releases in one fenced operation. Returns whether a live
    /// session was removed. Content that cannot be decoded is removed too.
    pub fn delete(&self, sid: &str, wait: Duration) -> Result<bool> {
        let ex = self.lock_within(sid, wait)?;
        if ex.content.is_none() {
            self.release(sid, ex.lock_id)?;
            return Ok(false);
        }
        self.remove(sid, ex.lock_id)?;
        Ok(true)
    }
}
