//! The engine's requests for one session's item: where it is ([`ItemAddress`]), a read that
//! parses it, and a patch whose lost answer is reported as such. Each presents the session's
//! token and captures the answer's (token flow).

use serde::Deserialize;

use super::SessionStateStore;
use crate::error::{Result, StateError, session_fingerprint};
use crate::ids::{encode_session_id, item_id};
use crate::layout::{LAYOUT, SessionItem};
use crate::store::{Item, Outcome, Patch};

/// A session's partition key and item id.
pub(super) struct ItemAddress {
    pub(super) pk: String,
    pub(super) id: String,
}

impl ItemAddress {
    /// Where session `sid` is stored (refusing an id that cannot be stored).
    pub(super) fn of(sid: &str) -> Result<ItemAddress> {
        let pk = encode_session_id(sid)?;
        let id = item_id(&pk);
        Ok(ItemAddress { pk, id })
    }
}

/// Parses a session's item, refusing one of another layout.
pub(super) fn parse_item(sid: &str, item: &Item) -> Result<SessionItem> {
    let corrupt = |detail: String| StateError::CorruptContent {
        session: session_fingerprint(sid),
        detail,
    };
    // Deserialised from the borrowed body: no copy of the (up to 2 MB) item.
    let body = SessionItem::deserialize(&item.body).map_err(|e| {
        corrupt(format!(
            "the session's item does not have the expected fields ({e})"
        ))
    })?;
    if body.layout != LAYOUT {
        return Err(corrupt(format!(
            "the session's item has layout {}, this version reads layout {LAYOUT}",
            body.layout
        )));
    }
    Ok(body)
}

impl SessionStateStore {
    /// Reads the session's item (one round trip).
    pub(super) fn read_item(&self, sid: &str, addr: &ItemAddress) -> Result<Option<SessionItem>> {
        let reply = self
            .store
            .read(&addr.pk, &addr.id, self.presented(&addr.pk).as_deref())?;
        self.capture_reply(&addr.pk, reply)
            .0
            .item()
            .map(|item| parse_item(sid, &item))
            .transpose()
    }

    /// Sends one patch: `Ok((outcome, in_doubt))`, with a lost answer (the store gave up on a
    /// connection that may have carried it) as `Ok((None, true))`.
    pub(super) fn send_patch(
        &self,
        addr: &ItemAddress,
        patch: &Patch,
    ) -> Result<(Option<Outcome>, bool)> {
        match self.store.patch(
            &addr.pk,
            &addr.id,
            patch,
            self.presented(&addr.pk).as_deref(),
        ) {
            Ok(reply) => {
                let (outcome, doubt) = self.capture_reply(&addr.pk, reply);
                Ok((Some(outcome), doubt))
            }
            Err(StateError::Unavailable(_)) => Ok((None, true)),
            Err(e) => Err(e),
        }
    }
}
