//! Read-only access and the sliding renewal: `get`, `reset_timeout`, and the rule both share
//! (renew live content once `renew_fraction` of its timeout has passed, conditionally).

use super::cache::bounded_insert;
use super::item_io::ItemAddress;
use super::results::Content;
use super::{MAX_CONTENT_BYTES, SessionStateStore};
use crate::codec;
use crate::error::{Result, StateError, session_fingerprint};
use crate::layout::{self, ContentPart, Timing, ttl_of};
use crate::store::Outcome;

impl SessionStateStore {
    /// Read-only access: the committed content, without taking or waiting for the lock.
    /// `None` when there is no live session. One round trip, plus a conditional renewal at most
    /// once per `renew_fraction` of the timeout.
    pub fn get(&self, sid: &str) -> Result<Option<Content>> {
        let addr = ItemAddress::of(sid)?;
        let Some(body) = self.read_item(sid, &addr)? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let content = self.live_content(sid, &body.content, now, true)?;
        if content.is_some() {
            self.renew_if_due(&addr, &body.content, now)?;
        }
        Ok(content)
    }

    /// Extends the session's life (ASP.NET `ResetItemTimeout`), by the same rule as a read: only
    /// when the renewal is due, conditionally. Free when this process saw the session renewed
    /// recently.
    pub fn reset_timeout(&self, sid: &str) -> Result<bool> {
        let addr = ItemAddress::of(sid)?;
        let now = self.clock.now();
        if let Some(&(renewed_at, timeout)) = self.caches().renewals.get(&addr.pk) {
            if now - renewed_at < self.options.renew_fraction * timeout {
                return Ok(false);
            }
        }
        let Some(body) = self.read_item(sid, &addr)? else {
            return Ok(false);
        };
        self.renew_if_due(&addr, &body.content, now)
    }

    /// Live content (not expired), decoded (or, without `decode`, only known to exist: empty
    /// data, for operations that replace or remove it without reading it).
    pub(super) fn live_content(
        &self,
        sid: &str,
        body: &ContentPart,
        now: f64,
        decode: bool,
    ) -> Result<Option<Content>> {
        if !body.live(now) {
            return Ok(None);
        }
        let data = if decode {
            codec::decode(&body.data, body.compressed, MAX_CONTENT_BYTES).map_err(|detail| {
                StateError::CorruptContent {
                    session: session_fingerprint(sid),
                    detail,
                }
            })?
        } else {
            Vec::new()
        };
        Ok(Some(Content {
            data,
            uninitialized: body.uninitialized,
        }))
    }

    /// Whether the sliding renewal of live content is due at `now`.
    pub(super) fn renewal_due(&self, timing: &Timing, now: f64) -> bool {
        timing.expires_at > now
            && now - timing.renewed_at >= self.options.renew_fraction * timing.timeout
    }

    /// The item's `ttl` for content that lives `timeout` seconds.
    pub(super) fn item_ttl(&self, timeout: f64) -> i64 {
        ttl_of(timeout.max(self.options.lock_ttl))
    }

    /// Renews live content if the renewal is due (one conditional patch of the timing fields).
    /// Returns whether it was renewed.
    pub(super) fn renew_if_due(
        &self,
        addr: &ItemAddress,
        content: &ContentPart,
        now: f64,
    ) -> Result<bool> {
        if !self.renewal_due(&content.timing(), now) {
            if content.live(now) {
                self.remember_renewal(&addr.pk, content.renewed_at, content.timeout);
            }
            return Ok(false);
        }
        let patch = layout::renew(
            content.renewed_at,
            now,
            content.timeout,
            self.item_ttl(content.timeout),
        );
        // 412/404/a lost answer: someone wrote, renewed or removed the session since (their write
        // renewed it), or we do not know; a renewal is never worth a retry.
        let done = matches!(self.send_patch(addr, &patch)?.0, Some(Outcome::Done(_)));
        if done {
            self.remember_renewal(&addr.pk, now, content.timeout);
        }
        Ok(done)
    }

    pub(super) fn remember_renewal(&self, pk: &str, renewed_at: f64, timeout: f64) {
        bounded_insert(
            &mut self.caches().renewals,
            pk.to_owned(),
            (renewed_at, timeout),
        );
    }
}
