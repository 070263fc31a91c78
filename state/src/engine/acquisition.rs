//! Acquiring a session's lock with its content (`get_exclusive`): one conditional patch where
//! the lock is free or expired; a held lock is reported with its holder's id and true age, and
//! polled by reading only.

use std::sync::atomic::Ordering;

use super::cache::{AcquiredLock, CACHE_MAX, bounded_insert};
use super::item_io::{ItemAddress, parse_item};
use super::results::Exclusive;
use super::{CAS_ATTEMPTS, SessionStateStore};
use crate::error::{Result, StateError, session_fingerprint};
use crate::layout::{self, ContentPart, LAYOUT, LockPart, MAX_LOCK_ID, SessionItem, ttl_of};
use crate::store::Outcome;

/// A tag no other acquisition anywhere uses at the same time. Random alone is not enough: a
/// process forked from another (a Python `ProcessPoolExecutor`, a pre-forking web server)
/// inherits its random generator's state, so two children drew the same tags and each took the
/// other's acquisition for its own (found by the Python 2-process test). The process id and a
/// per-process counter make the tags of racing acquirers differ; the random part keeps them
/// unpredictable. Below 2^53 (a JSON number) and never 0 (0 means released).
pub(super) fn attempt_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 finaliser over the three parts: a well-mixed 64-bit value.
    let mut z = fastrand::u64(..)
        ^ (u64::from(std::process::id()) << 32)
        ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z & ((1 << 53) - 1)).max(1)
}

impl SessionStateStore {
    /// Exclusive access: acquires the session's lock and returns the content, or reports that a
    /// live lock is held (with the holder's lock id and true age). See the module documentation.
    pub fn get_exclusive(&self, sid: &str) -> Result<Exclusive> {
        self.acquire(sid, true)
    }

    /// A new session's item: no content, the lock held by attempt `tag`.
    pub(super) fn new_item(&self, addr: &ItemAddress, tag: u64, now: f64) -> SessionItem {
        SessionItem {
            id: addr.id.clone(),
            pk: addr.pk.clone(),
            layout: LAYOUT,
            lock: LockPart {
                // Lock ids only grow: a session recreated after cleanup starts above every id an
                // older item can have reached (one per acquisition, far below one per ms).
                lock_id: ((now * 1000.0) as u64).clamp(1, MAX_LOCK_ID - 1),
                held: true,
                attempt: tag,
                acquired_at: now,
                expires_at: now + self.options.lock_ttl,
            },
            content: ContentPart::none(Vec::new()),
            ttl: ttl_of(self.options.lock_ttl),
        }
    }

    /// [`get_exclusive`](Self::get_exclusive); without `decode` the content is only checked for
    /// existence (its data left empty), so a session whose content cannot be decoded can still
    /// be replaced or removed.
    pub(crate) fn acquire(&self, sid: &str, decode: bool) -> Result<Exclusive> {
        let addr = ItemAddress::of(sid)?;
        // One tag for every attempt of this call: whichever of them landed, even with its answer
        // lost, is recognised as ours (two racers can reach the same lock id; only one wins).
        let tag = attempt_tag();
        // Last seen locked by another: look first, so a poll of a held lock never writes.
        let mut look = self.caches().locked.contains(&addr.pk);
        let mut absent = false;
        let mut last_holder = (0, 0.0);
        // The lock last seen was held by another request but expired.
        let mut took_over = false;
        // The last look found the content not live: the acquisition may set the item's `ttl`.
        let mut dead_content = false;
        // One look more than attempts: the last round only looks.
        for round in 0..=CAS_ATTEMPTS {
            if look {
                let now = self.clock.now();
                let current = self.read_item(sid, &addr)?;
                if let Some(body) = &current {
                    let lock = &body.lock;
                    if lock.held && lock.attempt == tag {
                        return self.acquired(sid, &addr, body, now, decode);
                    }
                    let age = (now - lock.acquired_at).max(0.0);
                    if lock.live(now) {
                        let mut c = self.caches();
                        if c.locked.len() >= CACHE_MAX {
                            c.locked.clear();
                        }
                        c.locked.insert(addr.pk.clone());
                        drop(c);
                        self.counters.lock_waits.fetch_add(1, Ordering::Relaxed);
                        return Ok(Exclusive {
                            content: None,
                            locked: true,
                            lock_id: lock.lock_id,
                            lock_age: age,
                        });
                    }
                    if lock.lock_id >= MAX_LOCK_ID {
                        return Err(StateError::CorruptContent {
                            session: session_fingerprint(sid),
                            detail: format!(
                                "the stored lock id {} leaves no next lock id",
                                lock.lock_id
                            ),
                        });
                    }
                    last_holder = (lock.lock_id, age);
                    took_over = lock.held;
                }
                absent = current.is_none();
                dead_content = current.as_ref().is_some_and(|b| !b.content.live(now));
            }
            if round == CAS_ATTEMPTS {
                break;
            }
            let now = self.clock.now();
            let outcome = if absent {
                let body = self.new_item(&addr, tag, now).to_value();
                match self
                    .store
                    .create(&addr.pk, body, self.presented(&addr.pk).as_deref())
                {
                    Ok(reply) => Some(self.capture_reply(&addr.pk, reply).0),
                    Err(StateError::Unavailable(_)) => None,
                    Err(e) => return Err(e),
                }
            } else {
                let ttl = dead_content.then(|| ttl_of(self.options.lock_ttl));
                let patch = layout::acquire(tag, now, self.options.lock_ttl, ttl);
                self.send_patch(&addr, &patch)?.0
            };
            match outcome {
                Some(Outcome::Done(Some(item))) => {
                    let body = parse_item(sid, &item)?;
                    if took_over {
                        self.counters.lock_takeovers.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(target: "cosmos_session_state::engine", session = %session_fingerprint(sid), "lock taken over (the holder's lock expired)");
                    }
                    // Liveness as of now that the lock is ours (the time read before sending it
                    // can be earlier than a write that landed just before ours).
                    return self.acquired(sid, &addr, &body, self.clock.now(), decode);
                }
                // No item: create it next (no look needed).
                Some(Outcome::NotFound) => {
                    absent = true;
                    look = false;
                }
                // Held by another, raced, or unknown (a lost answer): look before trying again.
                _ => look = true,
            }
        }
        // Heavy contention: report it as locked; the caller polls as it does for a held lock.
        Ok(Exclusive {
            content: None,
            locked: true,
            lock_id: last_holder.0,
            lock_age: last_holder.1,
        })
    }

    /// The lock in `body` is ours: remember what a later write needs, return the content.
    pub(super) fn acquired(
        &self,
        sid: &str,
        addr: &ItemAddress,
        body: &SessionItem,
        now: f64,
        decode: bool,
    ) -> Result<Exclusive> {
        let lock_id = body.lock.lock_id;
        let live = body.content.live(now);
        {
            let mut c = self.caches();
            c.locked.remove(&addr.pk);
            let acquired = AcquiredLock {
                writers: body.content.writers.clone(),
                timing: live.then(|| body.content.timing()),
            };
            bounded_insert(&mut c.acquired, (addr.pk.clone(), lock_id), acquired);
        }
        let content = match self.live_content(sid, &body.content, now, decode) {
            Ok(content) => content,
            Err(e) => {
                // Content that cannot be decoded must not leave the session locked for
                // lock_ttl: give back what we took, then report.
                let _ = self.release(sid, lock_id);
                return Err(e);
            }
        };
        Ok(Exclusive {
            content,
            locked: false,
            lock_id,
            lock_age: 0.0,
        })
    }

    pub(super) fn take_acquired(&self, pk: &str, lock_id: u64) -> Option<AcquiredLock> {
        self.caches().acquired.remove(&(pk.to_owned(), lock_id))
    }
}
