//! Token flow: every answer's session token is captured per session and presented on that
//! session's next request; [`token`](SessionStateStore::token) and
//! [`present_token`](SessionStateStore::present_token) carry it between nodes.

use cosmos_session_token::{RequestKind, SessionContainer, SessionToken};

use super::{SessionStateStore, TOKEN_SHARDS};
use crate::error::Result;
use crate::ids::encode_session_id;
use crate::store::Reply;

impl SessionStateStore {
    /// The token shard of a session's partition.
    pub(super) fn tokens(&self, pk: &str) -> &SessionContainer {
        use std::hash::BuildHasher;
        // A fixed hasher: which shard a session lands in needs no secrecy, only spread.
        let h =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(pk);
        &self.tokens[(h as usize) % TOKEN_SHARDS]
    }

    /// The token to present for a session's partition.
    pub(super) fn presented(&self, pk: &str) -> Option<String> {
        self.tokens(pk).resolve_all(pk).map(|t| t.to_string())
    }

    /// Records a reply's session token for the session; returns its outcome and whether it is
    /// in doubt.
    pub(super) fn capture_reply<T>(&self, pk: &str, reply: Reply<T>) -> (T, bool) {
        if let Some(token) = reply.session_token.as_deref() {
            // An unparsable token from the service is ignored: token flow is best effort, the
            // fenced writes do not depend on it.
            let _ =
                self.tokens(pk)
                    .capture_response(RequestKind::Data, "", pk, Some(token), 200, 0);
        }
        (reply.value, reply.in_doubt)
    }

    /// The session token gathered for `sid` (to carry to another node, e.g. in a sealed cookie).
    pub fn token(&self, sid: &str) -> Result<Option<SessionToken>> {
        let pk = encode_session_id(sid)?;
        Ok(self.tokens(&pk).resolve_all(&pk))
    }

    /// Presents a token carried from another node: later requests for `sid` read at least what
    /// that token saw.
    pub fn present_token(&self, sid: &str, token: &SessionToken) -> Result<()> {
        let pk = encode_session_id(sid)?;
        let text = token.to_string();
        let _ = self
            .tokens(&pk)
            .capture_response(RequestKind::Data, "", &pk, Some(&text), 200, 0);
        Ok(())
    }
}
