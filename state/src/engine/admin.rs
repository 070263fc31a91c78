//! What operators do to one session (`cst state show|unlock`): look at it, break its lock.

use super::fence::not_settled;
use super::item_io::ItemAddress;
use super::results::SessionInfo;
use super::{CAS_ATTEMPTS, SessionStateStore};
use crate::error::Result;
use crate::layout;
use crate::store::Outcome;

impl SessionStateStore {
    /// What an operator sees of one session (`cst state show`). One read.
    pub fn show(&self, sid: &str) -> Result<SessionInfo> {
        let addr = ItemAddress::of(sid)?;
        let current = self.read_item(sid, &addr)?;
        let now = self.clock.now();
        let Some(body) = current else {
            return Ok(SessionInfo {
                exists: false,
                stored_bytes: 0,
                compressed: false,
                expires_in: 0.0,
                uninitialized: false,
                locked: false,
                lock_id: 0,
                lock_age: 0.0,
            });
        };
        let (lock, content) = (&body.lock, &body.content);
        Ok(SessionInfo {
            exists: content.live(now),
            stored_bytes: content.data.len(),
            compressed: content.compressed,
            expires_in: if content.expires_at > 0.0 {
                content.expires_at - now
            } else {
                0.0
            },
            uninitialized: content.uninitialized,
            locked: lock.live(now),
            lock_id: lock.lock_id,
            lock_age: if lock.live(now) {
                (now - lock.acquired_at).max(0.0)
            } else {
                0.0
            },
        })
    }

    /// Breaks a lock (`cst state unlock --force`), e.g. one left by a crashed node. Returns the
    /// lock id that was released, if one was held. The broken holder's next write gets
    /// [`StateError::LockLost`](crate::StateError::LockLost).
    pub fn force_unlock(&self, sid: &str) -> Result<Option<u64>> {
        let addr = ItemAddress::of(sid)?;
        for _ in 0..CAS_ATTEMPTS {
            let Some(body) = self.read_item(sid, &addr)? else {
                return Ok(None);
            };
            if !body.lock.held {
                return Ok(None);
            }
            let patch = layout::force_release(body.lock.lock_id, self.clock.now());
            if matches!(self.send_patch(&addr, &patch)?.0, Some(Outcome::Done(_))) {
                return Ok(Some(body.lock.lock_id));
            }
        }
        Err(not_settled(sid, "unlocking"))
    }
}
