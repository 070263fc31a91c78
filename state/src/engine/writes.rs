//! The operations that write under a lock: `set_and_release`, `release`, `remove`, and the
//! new-session writes without one (`create_uninitialized`, a new item's first write).

use super::fence::{not_settled, with_writer_if_locked};
use super::item_io::ItemAddress;
use super::options::{check_lock_id, check_timeout};
use super::{CAS_ATTEMPTS, ITEM_OVERHEAD, MAX_CONTENT_BYTES, MAX_ITEM_BYTES, SessionStateStore};
use crate::codec;
use crate::error::{Result, StateError, session_fingerprint};
use crate::layout::{self, ContentPart, LAYOUT, LockPart, SessionItem, ttl_of, with_writer};
use crate::store::Outcome;

impl SessionStateStore {
    /// The content part of a write of `data`, checked against the limits.
    pub(super) fn content_part(
        &self,
        sid: &str,
        data: &[u8],
        timeout: f64,
        now: f64,
    ) -> Result<ContentPart> {
        if data.len() > MAX_CONTENT_BYTES {
            return Err(StateError::ItemTooLarge {
                session: session_fingerprint(sid),
                what: "uncompressed",
                len: data.len(),
                max: MAX_CONTENT_BYTES,
            });
        }
        let text = codec::encode(data, self.options.compression);
        let max = MAX_ITEM_BYTES - ITEM_OVERHEAD;
        if text.len() > max {
            return Err(StateError::ItemTooLarge {
                session: session_fingerprint(sid),
                what: "stored",
                len: text.len(),
                max,
            });
        }
        Ok(ContentPart {
            data: text,
            compressed: self.options.compression,
            uninitialized: false,
            timeout,
            renewed_at: now,
            expires_at: now + timeout,
            writers: Vec::new(),
        })
    }

    /// Writes `data` and releases the lock `lock_id`, as one fenced patch: if the lock was taken
    /// over, [`StateError::LockLost`] and nothing is written. `new_item`: the session was created
    /// by this request (ASP.NET `newItem`); without a matching lock it is created, and an existing
    /// live session with that id is [`StateError::SessionExists`]. `timeout` defaults to the
    /// options' timeout (or the session's own).
    pub fn set_and_release(
        &self,
        sid: &str,
        data: &[u8],
        lock_id: u64,
        new_item: bool,
        timeout: Option<f64>,
    ) -> Result<()> {
        let addr = ItemAddress::of(sid)?;
        check_lock_id(lock_id)?;
        let timeout = check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_part(sid, data, timeout, now)?;
        content.writers = match self.writers_if_held(sid, &addr, lock_id)? {
            Ok(writers) => with_writer(writers, lock_id),
            Err(_) if new_item => return self.create_fenced(sid, &addr, content, lock_id),
            Err(found) => return Err(self.lock_lost(sid, lock_id, found.as_ref(), now)),
        };
        let patch = layout::write_and_release(lock_id, &content, self.item_ttl(timeout), now);
        let outcome = self.send_fenced(sid, &addr, lock_id, &patch)?;
        // The lock was ours under `lock_id` (acquired on this node, or read as held so): a
        // write that did not land is a lost lock, new item or not.
        match outcome {
            Ok(()) => {
                self.remember_renewal(&addr.pk, now, timeout);
                Ok(())
            }
            Err(found) => Err(self.lock_lost(sid, lock_id, found.as_ref(), self.clock.now())),
        }
    }

    /// Writes a new session's content for a caller that does not hold its lock (ASP.NET writes a
    /// new id with the lock id of an expired one), fenced against the *stored* lock, never a
    /// cache: the item is created with the lock released, or, when it exists, patched where its
    /// lock is still the one read, free, and its content not live. A live lock held under another
    /// id is [`StateError::LockLost`]; live content is [`StateError::SessionExists`].
    pub(super) fn create_fenced(
        &self,
        sid: &str,
        addr: &ItemAddress,
        mut content: ContentPart,
        lock_id: u64,
    ) -> Result<()> {
        let timeout = content.timeout;
        let ttl = self.item_ttl(timeout);
        for _ in 0..CAS_ATTEMPTS {
            let now = self.clock.now();
            let current = self.read_item(sid, addr)?;
            let outcome = match &current {
                None => {
                    content.writers = with_writer_if_locked(Vec::new(), lock_id);
                    let body = SessionItem {
                        id: addr.id.clone(),
                        pk: addr.pk.clone(),
                        layout: LAYOUT,
                        lock: LockPart {
                            lock_id,
                            held: false,
                            attempt: 0,
                            acquired_at: now,
                            expires_at: now,
                        },
                        content: content.clone(),
                        ttl,
                    };
                    self.store
                        .create(
                            &addr.pk,
                            body.to_value(),
                            self.presented(&addr.pk).as_deref(),
                        )
                        .map(|r| self.capture_reply(&addr.pk, r))
                }
                Some(body) => {
                    if body.lock.live(now) && body.lock.lock_id != lock_id {
                        return Err(self.lock_lost(sid, lock_id, current.as_ref(), now));
                    }
                    if body.content.live(now) {
                        return Err(StateError::SessionExists(session_fingerprint(sid)));
                    }
                    content.writers = with_writer_if_locked(body.content.writers.clone(), lock_id);
                    let patch = layout::claim_free(body.lock.lock_id, lock_id, &content, ttl, now);
                    self.store
                        .patch(
                            &addr.pk,
                            &addr.id,
                            &patch,
                            self.presented(&addr.pk).as_deref(),
                        )
                        .map(|r| self.capture_reply(&addr.pk, r))
                }
            };
            match outcome {
                Ok((Outcome::Done(_), _)) => {
                    self.remember_renewal(&addr.pk, now, timeout);
                    return Ok(());
                }
                // Lost, or someone changed the item since we read it: look again (a write of
                // ours that landed makes the content live under our id: see below).
                Ok(_) | Err(StateError::Unavailable(_)) => {
                    let again = self.read_item(sid, addr)?;
                    if let Some(b) = &again {
                        if b.content.live(now) && b.content.writers.last() == Some(&lock_id) {
                            return Ok(());
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(not_settled(sid, "creating it"))
    }

    /// Releases lock `lock_id` without writing (renewing the content in the same patch when the
    /// renewal is due). A lock id that is not the holder's, or 0, changes nothing and returns
    /// `false`; `true` when a lock was released.
    pub fn release(&self, sid: &str, lock_id: u64) -> Result<bool> {
        let addr = ItemAddress::of(sid)?;
        check_lock_id(lock_id)?;
        if lock_id == 0 {
            return Ok(false);
        }
        let now = self.clock.now();
        let acquired = self.take_acquired(&addr.pk, lock_id);
        // Reading the content was an access: renew it with the release when due. Only content
        // known live now (its expiry as acquired is a lower bound): an expired session is never
        // brought back by a late release.
        let renewal = acquired
            .and_then(|h| h.timing)
            .filter(|t| self.renewal_due(t, now))
            .map(|t| (t.timeout, self.item_ttl(t.timeout)));
        let patch = layout::release(lock_id, now, renewal);
        for _ in 0..CAS_ATTEMPTS {
            let (outcome, doubt) = self.send_patch(&addr, &patch)?;
            match outcome {
                Some(Outcome::Done(_)) => {
                    if let Some((timeout, _)) = renewal {
                        self.remember_renewal(&addr.pk, now, timeout);
                    }
                    return Ok(true);
                }
                // Not held under that id: a no-op (a foreign id, or the lock moved on).
                Some(Outcome::PreconditionFailed | Outcome::NotFound) if !doubt => {
                    return Ok(false);
                }
                _ => {}
            }
            let current = self.read_item(sid, &addr)?;
            match current {
                Some(b) if b.lock.held_by(lock_id) => continue,
                // Released under our id since we saw it held by us: our release landed.
                Some(b) if b.lock.lock_id == lock_id => return Ok(true),
                _ => return Ok(false),
            }
        }
        Err(not_settled(sid, "the release"))
    }

    /// Creates an empty, uninitialized session (ASP.NET cookieless sessions) unless a live one
    /// exists, without taking its lock.
    pub fn create_uninitialized(&self, sid: &str, timeout: Option<f64>) -> Result<()> {
        let addr = ItemAddress::of(sid)?;
        let timeout = check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_part(sid, &[], timeout, now)?;
        content.uninitialized = true;
        // Lock id 0: no lock of ours. A live session, or a lock held on the id (a request is
        // creating it), means the id is in use: nothing to do.
        match self.create_fenced(sid, &addr, content, 0) {
            Err(StateError::SessionExists(_) | StateError::LockLost { .. }) => Ok(()),
            other => other,
        }
    }

    /// Removes the session (ASP.NET `RemoveItem`, on abandon) under lock `lock_id`, releasing the
    /// lock in the same fenced patch: the content is replaced by an expired tombstone that
    /// Cosmos DB `ttl` removes a minute later. Returns `false` and deletes nothing when the lock
    /// is not held under `lock_id` (a foreign id, 0, or a lock taken over).
    pub fn remove(&self, sid: &str, lock_id: u64) -> Result<bool> {
        let addr = ItemAddress::of(sid)?;
        check_lock_id(lock_id)?;
        if lock_id == 0 {
            return Ok(false);
        }
        let now = self.clock.now();
        self.caches().renewals.remove(&addr.pk);
        let writers = match self.writers_if_held(sid, &addr, lock_id)? {
            Ok(writers) => writers,
            Err(_) => return Ok(false),
        };
        // Expired at 0, not at `now`: a removal is dead for every reader whatever its clock (a
        // request that read the time just before this landed must not see it live). `renewed_at`
        // now: no renewal that read the old content can apply.
        let tombstone = ContentPart {
            renewed_at: now,
            expires_at: 0.0,
            ..ContentPart::none(with_writer(writers, lock_id))
        };
        // Kept at least as long as a lock: the next request's acquisition (a write) restarts
        // this `ttl`, and the item must not be cleaned up under that lock (two holders).
        let patch =
            layout::write_and_release(lock_id, &tombstone, ttl_of(self.options.lock_ttl), now);
        Ok(self.send_fenced(sid, &addr, lock_id, &patch)?.is_ok())
    }
}
