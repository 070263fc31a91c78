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
//! Sealed values are `cst2` envelopes (see `envelope`), so a refused cookie says why
//! ([`verdict`](SessionCarrier::verdict): another key, another user, tampered …) without showing
//! it; `cst1` values sealed by earlier versions are still read.
//!
//! The WSGI middleware, the .NET `SessionCarrier` and the message helpers only adapt this type
//! to their framework.

use crate::envelope::Keyring;
use crate::error::{Error, ParseError, SealError};
use crate::flow::CookieVerdict;
use crate::merge::MergePolicy;
use crate::model::SessionToken;
use crate::partition_key::{PartitionKeyDefinition, PartitionKeyValue};
use crate::routing::{RoutingMap, token_for_partition_key};
use crate::seal::{DEFAULT_SEAL_BUDGET, SEAL_VERSION_TAG, check_keys, unseal};

/// What a carrier's seal is bound to besides its context.
const PURPOSE: &str = "cosmos-session-token/carrier/v1";

/// The default cookie name of a carried token ([`CookieKind::Token`](crate::CookieKind)'s;
/// `cosmos_session` in 0.1, still read by the adapters for one release).
pub const DEFAULT_COOKIE_NAME: &str = "cosmos_token";

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
/// // A tampered or foreign cookie is no token, never an error; the verdict says why.
/// assert!(!b.read(Some("cst1.forged.value")));
/// let mut bob = SessionCarrier::new(&[&key[..]], "user-43", 4000)?;
/// assert!(!bob.read(Some(&cookie)));
/// assert_eq!(bob.verdict().as_str(), "foreign_context");
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionCarrier {
    keys: Vec<Vec<u8>>,
    ring: Keyring,
    context: String,
    max_bytes: usize,
    token: Option<SessionToken>,
    changed: bool,
    verdict: CookieVerdict,
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
            .field("verdict", &self.verdict)
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
            ring: Keyring::new(keys)?,
            context: context.to_owned(),
            max_bytes,
            token: None,
            changed: false,
            verdict: CookieVerdict::Missing,
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
    /// accepted; anything that does not unseal counts as no token, and [`verdict`](Self::verdict)
    /// says why. Resets [`changed`](Self::changed).
    pub fn read(&mut self, sealed: Option<&str>) -> bool {
        let (token, verdict) = match sealed.filter(|s| !s.is_empty()) {
            None => (None, CookieVerdict::Missing),
            Some(text) => self.open(text),
        };
        self.token = token;
        self.verdict = verdict;
        self.changed = false;
        self.token.is_some()
    }

    fn open(&self, text: &str) -> (Option<SessionToken>, CookieVerdict) {
        let legacy = text
            .strip_prefix(SEAL_VERSION_TAG)
            .is_some_and(|r| r.starts_with('.'));
        if legacy {
            // A cst1 value (an earlier version sealed it): its MAC cannot tell a foreign key
            // from another user or a forgery.
            let keys: Vec<&[u8]> = self.keys.iter().map(Vec::as_slice).collect();
            return match unseal(text, &keys, &self.context, self.max_bytes) {
                Ok(t) => (Some(t), CookieVerdict::Accepted),
                Err(Error::Seal(SealError::BadSignature)) => (None, CookieVerdict::Unverified),
                Err(Error::Seal(SealError::TooLarge { .. })) => (None, CookieVerdict::TooLarge),
                Err(Error::Seal(_)) => (None, CookieVerdict::Malformed),
                Err(_) => (None, CookieVerdict::Unreadable),
            };
        }
        match self.ring.open(PURPOSE, &self.context, text, self.max_bytes) {
            Ok(payload) => match std::str::from_utf8(&payload)
                .ok()
                .and_then(|p| SessionToken::parse(p).ok())
            {
                Some(t) => (Some(t), CookieVerdict::Accepted),
                None => (None, CookieVerdict::Unreadable),
            },
            Err(refusal) => (None, CookieVerdict::from(refusal)),
        }
    }

    /// What became of the value the last [`read`](Self::read) was given: accepted, missing,
    /// or why it was refused (unknown key, foreign context, forged …). Safe to log: it says
    /// nothing of the value.
    pub fn verdict(&self) -> CookieVerdict {
        self.verdict
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

    /// What to send for the item with partition key `key` (its components; one for a
    /// single-path key): the segment of the range that holds it in `map` (its parents' progress
    /// after a split), `None` when the carried token has no progress for it.
    pub fn for_partition_key(
        &self,
        key: &[PartitionKeyValue],
        definition: PartitionKeyDefinition,
        map: &RoutingMap,
    ) -> Result<Option<SessionToken>, Error> {
        match &self.token {
            Some(t) => token_for_partition_key(t, key, definition, map),
            None => Ok(None),
        }
    }

    /// The sealed value to write back (`None` when there is no token). Over the budget this is a
    /// `seal_too_large` error whose message says to scope the token.
    pub fn sealed(&self) -> Result<Option<String>, SealError> {
        match &self.token {
            Some(t) => self
                .ring
                .seal(
                    PURPOSE,
                    &self.context,
                    t.to_header_value().as_bytes(),
                    self.max_bytes,
                )
                .map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn every_refusal_is_told_apart_and_cst1_values_are_still_read() {
        let mut a = SessionCarrier::new(&[KEY], "alice", 4000).unwrap();
        assert!(!a.read(None));
        assert_eq!(a.verdict(), CookieVerdict::Missing);
        a.report_header("0:1#9#0=9").unwrap();
        let cookie = a.sealed().unwrap().unwrap();
        assert!(cookie.starts_with("cst2."), "{cookie}");
        let other_key = b"fedcba9876543210fedcba9876543210";
        let mut elsewhere = SessionCarrier::new(&[&other_key[..]], "alice", 4000).unwrap();
        assert!(!elsewhere.read(Some(&cookie)));
        assert_eq!(elsewhere.verdict(), CookieVerdict::UnknownKey);
        let mut bob = SessionCarrier::new(&[KEY], "bob", 4000).unwrap();
        assert!(!bob.read(Some(&cookie)));
        assert_eq!(bob.verdict(), CookieVerdict::ForeignContext);
        let mut tampered = cookie.clone();
        let at = cookie.rfind('.').unwrap() + 2;
        tampered.replace_range(
            at..at + 1,
            if &cookie[at..at + 1] == "A" { "B" } else { "A" },
        );
        assert!(!a.read(Some(&tampered)));
        assert_eq!(a.verdict(), CookieVerdict::Forged);
        assert!(!a.read(Some("not a cookie")));
        assert_eq!(a.verdict(), CookieVerdict::Malformed);
        // An earlier version's cst1 value: read; a foreign one is only "unverified".
        let token = SessionToken::parse("1:1#4#0=4").unwrap();
        let legacy = crate::seal(&token, KEY, "alice", 4000).unwrap();
        assert!(a.read(Some(&legacy)));
        assert_eq!(
            (a.verdict(), a.token()),
            (CookieVerdict::Accepted, Some(&token))
        );
        assert!(!bob.read(Some(&legacy)));
        assert_eq!(bob.verdict(), CookieVerdict::Unverified);
    }

    #[test]
    fn for_partition_key_sends_the_ranges_segment() {
        let map = RoutingMap::parse(
            r#"[{"id":"1","minInclusive":"","maxExclusive":"7F","parents":["0"]},
                {"id":"2","minInclusive":"7F","maxExclusive":"FF","parents":["0"]}]"#,
        )
        .unwrap();
        let mut c = SessionCarrier::new(&[KEY], "alice", 4000).unwrap();
        let key = [PartitionKeyValue::String("user-42".into())];
        let def = PartitionKeyDefinition::hash_v2();
        assert_eq!(c.for_partition_key(&key, def, &map).unwrap(), None);
        c.report_header("1:1#10,2:1#20").unwrap();
        let sent = c.for_partition_key(&key, def, &map).unwrap().unwrap();
        assert_eq!(sent.len(), 1, "{sent}");
    }

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
