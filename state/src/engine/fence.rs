//! Fencing: a write under a lock id lands only while the store holds the lock under that id,
//! and a write whose answer was lost is settled by looking (the content's last writers), so
//! `LockLost` always means "not written".

use std::sync::atomic::Ordering;

use super::item_io::ItemAddress;
use super::{CAS_ATTEMPTS, SessionStateStore};
use crate::error::{Result, StateError, session_fingerprint};
use crate::layout::{SessionItem, WRITERS_KEPT, with_writer};
use crate::store::{Outcome, Patch};

/// The lock-lost error, saying what was found instead of the caller's lock.
pub(super) fn lock_lost_error(
    sid: &str,
    lock_id: u64,
    found: Option<&SessionItem>,
    now: f64,
) -> StateError {
    let (holder, observed) = match found.map(|b| &b.lock) {
        None => (0, "the session no longer exists".to_owned()),
        Some(l) if l.held && l.lock_id != lock_id && l.live(now) => {
            (l.lock_id, format!("lock {} holds it", l.lock_id))
        }
        Some(l) if l.held && l.lock_id != lock_id => (
            l.lock_id,
            format!("lock {} took it and has expired since", l.lock_id),
        ),
        Some(l) if l.lock_id == lock_id => (0, "it was released".to_owned()),
        Some(l) if l.lock_id > lock_id => (
            0,
            format!("lock {} took it and released it since", l.lock_id),
        ),
        Some(_) => (0, "it is not held under that id".to_owned()),
    };
    StateError::LockLost {
        session: session_fingerprint(sid),
        lock_id,
        holder,
        observed,
    }
}

/// A compare-and-swap loop that ran out of attempts (heavy contention on one session).
pub(super) fn not_settled(sid: &str, what: &str) -> StateError {
    StateError::Store(format!(
        "{}: {what} did not settle after {CAS_ATTEMPTS} attempts",
        session_fingerprint(sid)
    ))
}

/// `writers` with a write under `lock_id` recorded (none for lock id 0: no lock of ours).
pub(super) fn with_writer_if_locked(writers: Vec<u64>, lock_id: u64) -> Vec<u64> {
    if lock_id == 0 {
        writers
    } else {
        with_writer(writers, lock_id)
    }
}

impl SessionStateStore {
    pub(super) fn lock_lost(
        &self,
        sid: &str,
        lock_id: u64,
        found: Option<&SessionItem>,
        now: f64,
    ) -> StateError {
        self.counters.fence_failures.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "cosmos_session_state::engine", session = %session_fingerprint(sid), lock_id, "fence failure: the lock is no longer held");
        lock_lost_error(sid, lock_id, found, now)
    }

    /// After a fenced write whose outcome is not known first-hand (its answer was lost) and whose
    /// lock has moved on: whether `lock_id`'s write landed, from the content's writers in
    /// `current`. Landed: `Ok`. Not among them while the list still reaches back past `lock_id`:
    /// [`StateError::LockLost`] (definitely not written). Pushed out by later writers, or the
    /// item gone: [`StateError::OutcomeUnknown`].
    pub(super) fn outcome_from_writers(
        &self,
        sid: &str,
        lock_id: u64,
        current: Option<&SessionItem>,
        now: f64,
    ) -> Result<()> {
        let Some(body) = current else {
            return Err(StateError::OutcomeUnknown {
                session: session_fingerprint(sid),
                lock_id,
            });
        };
        let writers = &body.content.writers;
        if writers.contains(&lock_id) {
            return Ok(());
        }
        if writers.len() >= WRITERS_KEPT && writers.iter().all(|&w| w > lock_id) {
            return Err(StateError::OutcomeUnknown {
                session: session_fingerprint(sid),
                lock_id,
            });
        }
        Err(self.lock_lost(sid, lock_id, current, now))
    }

    /// The content's writers when the lock is held under `lock_id`: remembered from acquiring it
    /// on this node, else read (`Err` with what was found when it is not held so).
    pub(super) fn writers_if_held(
        &self,
        sid: &str,
        addr: &ItemAddress,
        lock_id: u64,
    ) -> Result<std::result::Result<Vec<u64>, Option<SessionItem>>> {
        if let Some(acquired) = self.take_acquired(&addr.pk, lock_id) {
            return Ok(Ok(acquired.writers));
        }
        let current = self.read_item(sid, addr)?;
        Ok(match current {
            Some(body) if body.lock.held_by(lock_id) => Ok(body.content.writers),
            other => Err(other),
        })
    }

    /// Runs a fenced patch (its condition: the lock held under `lock_id`) until it is known to
    /// have landed or not. `Ok(Ok(()))`: landed. `Ok(Err(found))`: definitely not, because the
    /// lock is not held under `lock_id` (what was found, for the caller's report). Lost answers
    /// are resolved from the content's writers.
    pub(super) fn send_fenced(
        &self,
        sid: &str,
        addr: &ItemAddress,
        lock_id: u64,
        patch: &Patch,
    ) -> Result<std::result::Result<(), Option<SessionItem>>> {
        let mut doubt = false;
        for _ in 0..CAS_ATTEMPTS {
            let (outcome, in_doubt) = self.send_patch(addr, patch)?;
            doubt |= in_doubt;
            match outcome {
                Some(Outcome::Done(_)) => return Ok(Ok(())),
                // A clear "no" with no earlier attempt that may have landed: not written.
                Some(Outcome::PreconditionFailed | Outcome::NotFound) if !doubt => {
                    let found = self.read_item(sid, addr)?;
                    return Ok(Err(found));
                }
                _ => {}
            }
            // Unknown: look. Still held under our id: nothing landed, send it again.
            let now = self.clock.now();
            let current = self.read_item(sid, addr)?;
            if current.as_ref().is_some_and(|b| b.lock.held_by(lock_id)) {
                continue;
            }
            return match self.outcome_from_writers(sid, lock_id, current.as_ref(), now) {
                Ok(()) => Ok(Ok(())),
                Err(StateError::LockLost { .. }) => Ok(Err(current)),
                Err(e) => Err(e),
            };
        }
        Err(not_settled(sid, "the write"))
    }
}
