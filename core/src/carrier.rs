//! The session carrier: the one policy for carrying a user's session token through untrusted
//! hands (a browser cookie, a message property) between web nodes or processes.
//!
//! Per request: [`read`](SessionCarrier::read) the incoming sealed value (anything that does not
//! unseal — absent, forged, tampered, another key or context, over budget — simply means "no
//! token"); [`report`](SessionCarrier::report) the token of every write (merged with the union
//! policy, so a report never fails a request); send [`for_range`](SessionCarrier::for_range) with
//! each read; at the end, if [`changed`](SessionCarrier::changed), write
//! [`sealed`](SessionCarrier::sealed) back (sealed with the first key; all keys are accepted, for
//! rotation). `max_bytes` is the budget of the *sealed text* in both directions.
//!
//! The WSGI middleware, the .NET `SessionTokenCookie` and the message helpers only adapt this type
//! to their framework.

use crate::error::{Error, ParseError, SealError};
use crate::merge::MergePolicy;
use crate::model::SessionToken;
use crate::seal::{DEFAULT_SEAL_BUDGET, check_keys, seal, unseal};

/// The default cookie name of a carried token.
pub const DEFAULT_COOKIE_NAME: &str = "cosmos_session";

/// One request's view of the carried token: [`read`](Self::read) the incoming sealed value,
/// [`report`](Self::report) each write's token, send [`for_range`](Self::for_range) with each
/// read, and write [`sealed`](Self::sealed) back when [`changed`](Self::changed).
///
/// ```
/// use cosmos_session_token::SessionCarrier;
/// let key = b"0123456789abcdef0123456789abcdef";
/// // Node A: no cookie yet; a write reports its token; the cookie is written back.
/// let mut a = SessionCarrier::new(&[&key[..]], "user-42", 4000)?;
/// a.read(None);
/// a.report_header("0:1#100#1=20,1:1#7")?;
/// let cookie = a.sealed()?.unwrap();
/// // Node B: the next request carries the cookie; send only what the read's partition needs.
/// let mut b = SessionCarrier::new(&[&key[..]], "user-42", 4000)?;
/// assert!(b.read(Some(&cookie)));
/// assert_eq!(b.for_range("1", &[])?.unwrap().to_string(), "1:1#7");
/// // A tampered or foreign cookie is no token, never an error.
/// assert!(!b.read(Some("cst1.forged.value")));
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionCarrier {
    keys: Vec<Vec<u8>>,
    context: String,
    max_bytes: usize,
    token: Option<SessionToken>,
    changed: bool,
}

/// Never prints the keys (they seal every user's cookie), only how many there are.
impl std::fmt::Debug for SessionCarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCarrier")
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field("context", &self.context)
            .field("max_bytes", &self.max_bytes)
            .field("token", &self.token)
            .field("changed", &self.changed)
            .finish()
    }
}

impl SessionCarrier {
    /// A carrier with `keys` (the first seals; all are accepted; each at least 16 bytes), the
    /// `context` that binds sealed values to their use, and the budget of the sealed text.
    pub fn new(keys: &[&[u8]], context: &str, max_bytes: usize) -> Result<Self, SealError> {
        check_keys(keys)?;
        Ok(SessionCarrier {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            context: context.to_owned(),
            max_bytes,
            token: None,
            changed: false,
        })
    }

    /// A carrier with the default budget ([`DEFAULT_SEAL_BUDGET`]).
    pub fn with_default_budget(keys: &[&[u8]], context: &str) -> Result<Self, SealError> {
        SessionCarrier::new(keys, context, DEFAULT_SEAL_BUDGET)
    }

    /// The budget of the sealed text, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Reads the incoming sealed value (`None` or `""`: no cookie). Returns whether a token was
    /// accepted; anything that does not unseal counts as no token. Resets [`changed`](Self::changed).
    pub fn read(&mut self, sealed: Option<&str>) -> bool {
        let keys: Vec<&[u8]> = self.keys.iter().map(Vec::as_slice).collect();
        self.token = sealed
            .filter(|s| !s.is_empty())
            .and_then(|s| unseal(s, &keys, &self.context, self.max_bytes).ok());
        self.changed = false;
        self.token.is_some()
    }

    /// Merges a write's token into the carried one (union of regions, false-progress protection
    /// on: a report never fails because replicas listed different regions).
    pub fn report(&mut self, written: &SessionToken) {
        let merged = match &self.token {
            // The union policy has no failure case; keep the newer operand if that ever changes.
            Some(current) => current
                .merge_with(written, &MergePolicy::UNION)
                .unwrap_or_else(|_| written.clone()),
            None => written.clone(),
        };
        // Changed only when the merge moved the token: reporting what is already carried (the
        // request read its own cookie's token back) writes no cookie.
        if self.token.as_ref() != Some(&merged) {
            self.changed = true;
        }
        self.token = Some(merged);
    }

    /// Parses (strictly) and reports a response's `x-ms-session-token` value. An empty value is
    /// no token: returns `Ok(false)` and changes nothing.
    pub fn report_header(&mut self, header_value: &str) -> Result<bool, ParseError> {
        if header_value.is_empty() {
            return Ok(false);
        }
        let written = SessionToken::parse(header_value)?;
        self.report(&written);
        Ok(true)
    }

    /// The carried token, if any.
    pub fn token(&self) -> Option<&SessionToken> {
        self.token.as_ref()
    }

    /// Replaces the carried token (e.g. restored from elsewhere); marks the carrier changed.
    pub fn set_token(&mut self, token: Option<SessionToken>) {
        self.token = token;
        self.changed = true;
    }

    /// What to send for one partition key range: [`SessionToken::scope`] of the carried token
    /// (`None`: send no token).
    pub fn for_range(
        &self,
        range_id: &str,
        parents: &[&str],
    ) -> Result<Option<SessionToken>, Error> {
        match &self.token {
            Some(t) => Ok(t.scope(range_id, parents)?),
            None => Ok(None),
        }
    }

    /// True when a report or `set_token` changed the token since the last [`read`](Self::read).
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The sealed value to write back (`None` when there is no token). Over the budget this is a
    /// `seal_too_large` error whose message says to scope the token.
    pub fn sealed(&self) -> Result<Option<String>, SealError> {
        match &self.token {
            Some(t) => seal(t, &self.keys[0], &self.context, self.max_bytes).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_keys() {
        let key = b"a-secret-seal-key-0123456789";
        let c = SessionCarrier::new(&[&key[..]], "ctx", 4000).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("a-secret") && !shown.contains("97, 45"),
            "{shown}"
        );
        assert!(shown.contains("<1 redacted>"), "{shown}");
    }
}
