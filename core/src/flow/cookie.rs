//! The flow cookie: one user's progress, sealed and bound to the user, carried by the browser
//! from web node to web node. The node keeps the routing knowledge (one [`SessionFlow`] per
//! node, learned from every user's traffic), so the cookie carries only what the user wrote.
//!
//! Per request: [`FlowCookies::open`] the user's cookie into a [`CookieFlow`] (a flow for that
//! user sharing the node's knowledge); make its flow current for the SDK's hooks; at the end,
//! [`FlowCookies::seal`] says what to write back — nothing when the progress did not move.
//! A cookie that is not accepted is never an error: it is no progress, and the reason is counted
//! ([`FlowCookieStats`]) for the operator (two nodes with different keys show as
//! `unknown_key`, another user's cookie as `foreign_context`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::session::SessionFlow;
use crate::envelope::{Keyring, Refusal};
use crate::error::SealError;
use crate::seal::DEFAULT_SEAL_BUDGET;

/// The default name of the flow cookie.
pub const FLOW_COOKIE_NAME: &str = "cosmos_flow";

/// What the seal is bound to besides the user's context, so a flow cookie never opens as
/// anything else and nothing else opens as a flow cookie.
const PURPOSE: &str = "cosmos-session-token/flow-cookie/v1";

/// What became of the cookie a request brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieVerdict {
    /// Opened: the user's progress is restored.
    Accepted,
    /// The request had no session to bind a cookie to (an empty context): nothing is read or
    /// written.
    NoSession,
    /// No cookie (a new user, or one whose progress never moved).
    Missing,
    /// Not a flow cookie (another format, cut, not base64url).
    Malformed,
    /// Longer than the budget.
    TooLarge,
    /// Sealed with a key this node does not hold: nodes configured with different keys.
    UnknownKey,
    /// Sealed by a node with this key for another user (or another application).
    ForeignContext,
    /// This node's key and this user, but tampered with.
    Forged,
    /// Genuine, but its progress cannot be read (a newer library wrote it?).
    Unreadable,
    /// An older (`cst1`) sealed value whose MAC does not verify: another key, another user or
    /// tampered — that format cannot tell which ([`SessionCarrier`](crate::SessionCarrier)
    /// still reads it; flow cookies never are).
    Unverified,
}

impl From<Refusal> for CookieVerdict {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Malformed => CookieVerdict::Malformed,
            Refusal::TooLarge => CookieVerdict::TooLarge,
            Refusal::UnknownKey => CookieVerdict::UnknownKey,
            Refusal::ForeignContext => CookieVerdict::ForeignContext,
            Refusal::Forged => CookieVerdict::Forged,
        }
    }
}

impl CookieVerdict {
    /// The verdict as a stable snake_case word, safe to log (it says nothing of the cookie).
    pub fn as_str(self) -> &'static str {
        match self {
            CookieVerdict::Accepted => "accepted",
            CookieVerdict::NoSession => "no_session",
            CookieVerdict::Missing => "missing",
            CookieVerdict::Malformed => "malformed",
            CookieVerdict::TooLarge => "too_large",
            CookieVerdict::UnknownKey => "unknown_key",
            CookieVerdict::ForeignContext => "foreign_context",
            CookieVerdict::Forged => "forged",
            CookieVerdict::Unreadable => "unreadable",
            CookieVerdict::Unverified => "unverified",
        }
    }

    /// True when a cookie was brought and refused (worth a warning in the adapters' logs).
    pub fn is_refusal(self) -> bool {
        !matches!(
            self,
            CookieVerdict::Accepted | CookieVerdict::NoSession | CookieVerdict::Missing
        )
    }

    fn slot(self) -> usize {
        self as usize
    }
}

const VERDICTS: usize = 10;

/// How many cookies each verdict met, and what sealing did, since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlowCookieStats {
    /// Cookies opened.
    pub accepted: u64,
    /// Requests without a session.
    pub no_session: u64,
    /// Requests without a cookie.
    pub missing: u64,
    /// Cookies that were not flow cookies.
    pub malformed: u64,
    /// Cookies over the budget.
    pub too_large: u64,
    /// Cookies sealed with a key this node does not hold.
    pub unknown_key: u64,
    /// Cookies of another user or application.
    pub foreign_context: u64,
    /// Tampered cookies.
    pub forged: u64,
    /// Genuine cookies whose progress could not be read.
    pub unreadable: u64,
    /// Cookies written back (the progress moved).
    pub sealed: u64,
    /// Progress that no longer fit the budget (the previous cookie stays).
    pub over_budget: u64,
}

/// What to write back at the end of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedCookie {
    /// Nothing: the progress did not move (or the request had no session).
    Unchanged,
    /// This cookie value (cookie-safe text; the header is rendered by `token_cookie_header`).
    Value(String),
    /// The progress no longer fits the budget: nothing is written (the browser keeps the
    /// previous cookie) and it is counted.
    OverBudget {
        /// The sealed length it would have had.
        len: usize,
        /// The budget.
        max: usize,
    },
}

/// One user's flow for one request, opened from the user's cookie.
#[derive(Debug)]
pub struct CookieFlow {
    flow: Arc<SessionFlow>,
    context: String,
    opened: String,
    verdict: CookieVerdict,
}

impl CookieFlow {
    /// The user's flow (the node's routing knowledge, the user's progress): make it current for
    /// the SDK's hooks while the request runs.
    pub fn flow(&self) -> &Arc<SessionFlow> {
        &self.flow
    }

    /// What became of the cookie the request brought.
    pub fn verdict(&self) -> CookieVerdict {
        self.verdict
    }

    /// True when the user's progress moved since the cookie was opened (also without a
    /// session: an adapter then opens one, so the progress can be bound and sealed).
    pub fn changed(&self) -> bool {
        self.flow.tokens.snapshot() != self.opened
    }
}

/// A web node's flow cookies: its keys (the first seals, all open — rotation), the budget of a
/// cookie, and the node's [`SessionFlow`] whose routing knowledge every user's flow shares.
///
/// ```
/// use cosmos_session_token::{CookieVerdict, FlowCookies, SealedCookie};
/// let key = b"0123456789abcdef0123456789abcdef";
/// let node_a = FlowCookies::new(&[&key[..]], 4000)?;
/// // Alice's first request on node A: no cookie; her write moves her progress.
/// let alice = node_a.open("session-alice", None);
/// assert_eq!(alice.verdict(), CookieVerdict::Missing);
/// alice.flow().after_response("POST", "/dbs/d/colls/c/docs", 201, &[("x-ms-session-token", "0:1#9#0=9")], None);
/// let SealedCookie::Value(cookie) = node_a.seal(&alice) else { panic!() };
/// // Her next request lands on node B, which holds the same key: her progress is there.
/// let node_b = FlowCookies::new(&[&key[..]], 4000)?;
/// let again = node_b.open("session-alice", Some(&cookie));
/// assert_eq!(again.verdict(), CookieVerdict::Accepted);
/// assert_eq!(node_b.seal(&again), SealedCookie::Unchanged);
/// // Bob replaying Alice's cookie gets nothing, and the node counts why.
/// assert_eq!(node_b.open("session-bob", Some(&cookie)).verdict(), CookieVerdict::ForeignContext);
/// assert_eq!(node_b.stats().foreign_context, 1);
/// # Ok::<(), cosmos_session_token::SealError>(())
/// ```
pub struct FlowCookies {
    ring: Keyring,
    max_bytes: usize,
    node: SessionFlow,
    verdicts: [AtomicU64; VERDICTS],
    sealed: AtomicU64,
    over_budget: AtomicU64,
}

/// Never prints the keys, only how many there are.
impl std::fmt::Debug for FlowCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowCookies")
            .field("keys", &format_args!("<{} redacted>", self.ring.len()))
            .field("max_bytes", &self.max_bytes)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl FlowCookies {
    /// Flow cookies sealed with `keys` (each at least 16 bytes; derive them from a framework's
    /// secret with [`derive_cookie_keys`](crate::derive_cookie_keys)) within `max_bytes` of
    /// cookie text.
    pub fn new(keys: &[&[u8]], max_bytes: usize) -> Result<FlowCookies, SealError> {
        Ok(FlowCookies {
            ring: Keyring::new(keys)?,
            max_bytes,
            node: SessionFlow::new(),
            verdicts: Default::default(),
            sealed: AtomicU64::new(0),
            over_budget: AtomicU64::new(0),
        })
    }

    /// With the default budget ([`DEFAULT_SEAL_BUDGET`], a cookie's 4 KB).
    pub fn with_default_budget(keys: &[&[u8]]) -> Result<FlowCookies, SealError> {
        FlowCookies::new(keys, DEFAULT_SEAL_BUDGET)
    }

    /// The budget of a cookie's sealed text in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The node's flow: its routing knowledge is every user's; its [`stats`](SessionFlow::stats)
    /// count every user's requests.
    pub fn node(&self) -> &SessionFlow {
        &self.node
    }

    /// Opens the cookie a request brought (`None` or `""`: none) for the user `context` binds it
    /// to (the user's session id; `""` when the request has no session: nothing is read, and
    /// nothing will be written). Never fails: a cookie that is not accepted is no progress.
    pub fn open(&self, context: &str, cookie: Option<&str>) -> CookieFlow {
        let flow = self.node.for_user();
        let verdict = match cookie.filter(|c| !c.is_empty()) {
            _ if context.is_empty() => CookieVerdict::NoSession,
            None => CookieVerdict::Missing,
            Some(text) => match self.ring.open(PURPOSE, context, text, self.max_bytes) {
                Err(refusal) => refusal.into(),
                Ok(payload) => match std::str::from_utf8(&payload)
                    .ok()
                    .map(|p| flow.tokens.restore(p))
                {
                    Some(Ok(())) => CookieVerdict::Accepted,
                    _ => CookieVerdict::Unreadable,
                },
            },
        };
        self.verdicts[verdict.slot()].fetch_add(1, Ordering::Relaxed);
        CookieFlow {
            opened: flow.tokens.snapshot(),
            flow: Arc::new(flow),
            context: context.to_owned(),
            verdict,
        }
    }

    /// What to write back at the end of the request: the sealed progress when it moved.
    pub fn seal(&self, user: &CookieFlow) -> SealedCookie {
        self.seal_as(user, &user.context)
    }

    /// [`seal`](Self::seal) for the user's context as it is at the end of the request: a
    /// session created during the request (the user's first write) or renewed (a login that
    /// cycles the session id) gets the user's progress under its new id. `""`: nothing.
    pub fn seal_as(&self, user: &CookieFlow, context: &str) -> SealedCookie {
        if context.is_empty() {
            return SealedCookie::Unchanged;
        }
        let progress = user.flow.tokens.snapshot();
        let rebound = context != user.context;
        if progress == user.opened && !(rebound && progress != SessionFlow::new().tokens.snapshot())
        {
            return SealedCookie::Unchanged;
        }
        match self
            .ring
            .seal(PURPOSE, context, progress.as_bytes(), self.max_bytes)
        {
            Ok(value) => {
                self.sealed.fetch_add(1, Ordering::Relaxed);
                SealedCookie::Value(value)
            }
            Err(SealError::TooLarge { len, max }) => {
                self.over_budget.fetch_add(1, Ordering::Relaxed);
                SealedCookie::OverBudget { len, max }
            }
            // The keyring was checked when it was built: no other error can happen.
            Err(_) => SealedCookie::Unchanged,
        }
    }

    /// Every verdict met and every cookie sealed since the node started.
    pub fn stats(&self) -> FlowCookieStats {
        let v = |verdict: CookieVerdict| self.verdicts[verdict.slot()].load(Ordering::Relaxed);
        FlowCookieStats {
            accepted: v(CookieVerdict::Accepted),
            no_session: v(CookieVerdict::NoSession),
            missing: v(CookieVerdict::Missing),
            malformed: v(CookieVerdict::Malformed),
            too_large: v(CookieVerdict::TooLarge),
            unknown_key: v(CookieVerdict::UnknownKey),
            foreign_context: v(CookieVerdict::ForeignContext),
            forged: v(CookieVerdict::Forged),
            unreadable: v(CookieVerdict::Unreadable),
            sealed: self.sealed.load(Ordering::Relaxed),
            over_budget: self.over_budget.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OTHER: &[u8] = b"fedcba9876543210fedcba9876543210";

    fn write(user: &CookieFlow, token: &str) {
        user.flow().after_response(
            "POST",
            "/dbs/d/colls/c/docs",
            201,
            &[("x-ms-session-token", token)],
            None,
        );
    }

    fn sealed(node: &FlowCookies, user: &CookieFlow) -> String {
        match node.seal(user) {
            SealedCookie::Value(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn users_share_routes_but_carry_only_their_progress() {
        let node = FlowCookies::new(&[KEY], 4000).unwrap();
        let alice = node.open("alice", None);
        let bob = node.open("bob", None);
        alice.flow().after_response(
            "GET",
            "/dbs/d/colls/c",
            200,
            &[],
            Some(br#"{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#),
        );
        write(&alice, "0:1#9#0=9");
        write(&bob, "1:1#4#0=4");
        let a = sealed(&node, &alice);
        let b = sealed(&node, &bob);
        let reopened = node.open("alice", Some(&a));
        assert_eq!(reopened.verdict(), CookieVerdict::Accepted);
        let progress = reopened.flow().container().snapshot();
        assert!(
            progress.contains("0:1#9#0=9") && !progress.contains("1:1#4"),
            "{progress}"
        );
        // The definition Alice's request learned is the node's, and so Bob's.
        assert!(
            node.open("bob", Some(&b))
                .flow()
                .snapshot()
                .contains("\"definition\"")
        );
        assert!(!progress.contains("definition"), "routes stay on the node");
        assert_eq!(node.stats().sealed, 2);
    }

    #[test]
    fn every_refusal_is_counted_by_its_reason_and_never_fails() {
        let node = FlowCookies::new(&[KEY], 4000).unwrap();
        let user = node.open("alice", None);
        write(&user, "0:1#9#0=9");
        let cookie = sealed(&node, &user);
        let elsewhere = FlowCookies::new(&[OTHER], 4000).unwrap();
        assert_eq!(
            elsewhere.open("alice", Some(&cookie)).verdict(),
            CookieVerdict::UnknownKey
        );
        // Rotation: the old key still opens it.
        let rotated = FlowCookies::new(&[OTHER, KEY], 4000).unwrap();
        assert_eq!(
            rotated.open("alice", Some(&cookie)).verdict(),
            CookieVerdict::Accepted
        );
        assert_eq!(
            node.open("bob", Some(&cookie)).verdict(),
            CookieVerdict::ForeignContext
        );
        assert_eq!(
            node.open("alice", Some("cst1.a.b")).verdict(),
            CookieVerdict::Malformed
        );
        assert_eq!(
            node.open("alice", Some(&"x".repeat(5000))).verdict(),
            CookieVerdict::TooLarge
        );
        let mut chars: Vec<char> = cookie.chars().collect();
        let at = cookie.rfind('.').unwrap() - 3;
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_eq!(
            node.open("alice", Some(&tampered)).verdict(),
            CookieVerdict::Forged
        );
        // Genuine but not a progress: a seal of other text under the flow's purpose.
        let odd = node.ring.seal(PURPOSE, "alice", b"not json", 4000).unwrap();
        assert_eq!(
            node.open("alice", Some(&odd)).verdict(),
            CookieVerdict::Unreadable
        );
        let none = node.open("", Some(&cookie));
        assert_eq!(none.verdict(), CookieVerdict::NoSession);
        write(&none, "0:1#99#0=99");
        assert_eq!(node.seal(&none), SealedCookie::Unchanged);
        let s = node.stats();
        assert_eq!(
            (
                s.foreign_context,
                s.malformed,
                s.too_large,
                s.forged,
                s.unreadable,
                s.no_session
            ),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!(
            (s.missing, s.accepted, elsewhere.stats().unknown_key),
            (1, 0, 1)
        );
    }

    #[test]
    fn a_session_created_or_renewed_during_the_request_gets_the_progress() {
        let node = FlowCookies::new(&[KEY], 4000).unwrap();
        let anonymous = node.open("", None);
        assert_eq!(
            node.seal_as(&anonymous, "new-session"),
            SealedCookie::Unchanged,
            "no progress"
        );
        write(&anonymous, "0:1#9#0=9");
        let cookie = sealed_as(&node, &anonymous, "new-session");
        let next = node.open("new-session", Some(&cookie));
        assert_eq!(next.verdict(), CookieVerdict::Accepted);
        // A login cycles the id: the unchanged progress moves to the new id.
        let after_login = sealed_as(&node, &next, "cycled-session");
        assert_eq!(
            node.open("cycled-session", Some(&after_login)).verdict(),
            CookieVerdict::Accepted
        );
        assert_eq!(node.seal_as(&next, "new-session"), SealedCookie::Unchanged);
    }

    fn sealed_as(node: &FlowCookies, user: &CookieFlow, context: &str) -> String {
        match node.seal_as(user, context) {
            SealedCookie::Value(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn progress_that_outgrows_the_budget_is_counted_not_written() {
        let node = FlowCookies::new(&[KEY], 300).unwrap();
        let user = node.open("alice", None);
        let token: Vec<String> = (0..40).map(|i| format!("{i}:1#{}#0=1", 1000 + i)).collect();
        write(&user, &token.join(","));
        assert!(matches!(
            node.seal(&user),
            SealedCookie::OverBudget { max: 300, .. }
        ));
        assert_eq!(node.stats().over_budget, 1);
        assert!(!format!("{node:?}").contains("0123456789"));
    }
}
