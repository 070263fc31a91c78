//! The stored layout (version 2): **one item per session**, in the session's own logical
//! partition, holding both the lock and the content. Every change is one conditional patch
//! checked by the database against the stored item, so taking the lock returns the content in
//! the same round trip, and a write releases the lock in the same round trip.
//!
//! ```text
//! {
//!   "id":  "<hex SHA-256 of pk>",          one id per session: a signature names one session
//!   "pk":  "<encoded session id>",         the partition key (see encode_session_id)
//!   "layout": 2,
//!   "lock": {
//!     "lock_id": 17,                        grows by one per acquisition (patch incr)
//!     "held": true,
//!     "attempt": 4711,                      random tag of the acquisition (0 when released)
//!     "acquired_at": 1796170000.125,        engine clock, seconds
//!     "expires_at": 1796170030.125          acquired_at + lock_ttl
//!   },
//!   "content": {
//!     "data": "<base64, gzip when compressed>", "compressed": true, "uninitialized": false,
//!     "timeout": 1200, "renewed_at": 1796169000.5, "expires_at": 1796170200.5,
//!     "writers": [12, 15, 16]               lock ids of the last 8 content writes
//!   },
//!   "ttl": 1260                             Cosmos DB cleanup: max(timeout, lock_ttl) + 60 s
//! }
//! ```
//!
//! A session without content (never written, expired, or removed) has `content.expires_at` at
//! or before now. The item's `ttl` counts from its last write, so an acquisition (a write)
//! restarts it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Result;
use crate::ids::{encode_session_id, item_id};
use crate::store::{Patch, PatchOp, Predicate};

/// Where a session is stored: its partition key (the encoded session id) and its item id (the
/// hex SHA-256 of the partition key), e.g. to look at it with another tool.
///
/// ```
/// let (pk, id) = cosmos_session_state::layout::session_item("a/b").unwrap();
/// assert_eq!(pk, "a%2Fb");
/// assert_eq!(id.len(), 64);
/// ```
pub fn session_item(sid: &str) -> Result<(String, String)> {
    let pk = encode_session_id(sid)?;
    let id = item_id(&pk);
    Ok((pk, id))
}

/// The layout version written in every item.
pub(crate) const LAYOUT: u32 = 2;
/// Extra seconds of Cosmos DB `ttl` beyond the logical expiry (cleanup never races a live read).
pub(crate) const TTL_MARGIN: f64 = 60.0;
/// Content writes remembered in the item ([`ContentPart::writers`]).
pub(crate) const WRITERS_KEPT: usize = 8;
/// Largest lock id: lock ids are stored as JSON numbers (doubles), exact below 2^53.
pub const MAX_LOCK_ID: u64 = (1 << 53) - 1;

const LOCK_ID: &str = "lock.lock_id";
const LOCK_HELD: &str = "lock.held";
const LOCK_ATTEMPT: &str = "lock.attempt";
const LOCK_ACQUIRED: &str = "lock.acquired_at";
const LOCK_EXPIRES: &str = "lock.expires_at";
const CONTENT: &str = "content";
const CONTENT_RENEWED: &str = "content.renewed_at";
const CONTENT_EXPIRES: &str = "content.expires_at";
const TTL: &str = "ttl";

/// One session's item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionItem {
    pub id: String,
    pub pk: String,
    pub layout: u32,
    pub lock: LockPart,
    pub content: ContentPart,
    pub ttl: i64,
}

/// The lock fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LockPart {
    pub lock_id: u64,
    pub held: bool,
    /// A random tag of the acquisition that wrote this lock (below 2^53), so an acquisition whose
    /// answer was lost recognises its own lock exactly; 0 when released.
    pub attempt: u64,
    pub acquired_at: f64,
    pub expires_at: f64,
}

impl LockPart {
    /// Held and not expired at `now`.
    pub fn live(&self, now: f64) -> bool {
        self.held && self.expires_at > now
    }

    /// Held under `lock_id` (expired or not: an expired lock not yet taken over is still its
    /// holder's, as every provider treats it).
    pub fn held_by(&self, lock_id: u64) -> bool {
        self.held && self.lock_id == lock_id
    }
}

/// The content fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContentPart {
    pub data: String,
    pub compressed: bool,
    pub uninitialized: bool,
    pub timeout: f64,
    pub renewed_at: f64,
    pub expires_at: f64,
    /// The lock ids of the last [`WRITERS_KEPT`] writes of this content, oldest first (the last
    /// write's last), so a writer whose answer was lost can tell whether its write landed even
    /// after others wrote since.
    pub writers: Vec<u64>,
}

/// The timing fields of content: what a renewal decision needs (no copy of the data).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub renewed_at: f64,
    pub timeout: f64,
    pub expires_at: f64,
}

impl ContentPart {
    /// Its timing fields.
    pub fn timing(&self) -> Timing {
        Timing {
            renewed_at: self.renewed_at,
            timeout: self.timeout,
            expires_at: self.expires_at,
        }
    }

    /// No content (a new item's), keeping `writers`.
    pub fn none(writers: Vec<u64>) -> Self {
        ContentPart {
            data: String::new(),
            compressed: false,
            uninitialized: false,
            timeout: 0.0,
            renewed_at: 0.0,
            expires_at: 0.0,
            writers,
        }
    }

    /// Not expired at `now`.
    pub fn live(&self, now: f64) -> bool {
        self.expires_at > now
    }
}

/// Cosmos DB `ttl` for an item that must outlive `seconds`.
pub(crate) fn ttl_of(seconds: f64) -> i64 {
    (seconds + TTL_MARGIN).ceil().clamp(1.0, i32::MAX as f64) as i64
}

/// `prior` with `lock_id` appended, at most [`WRITERS_KEPT`] long.
pub(crate) fn with_writer(mut prior: Vec<u64>, lock_id: u64) -> Vec<u64> {
    if prior.last() != Some(&lock_id) {
        prior.push(lock_id);
    }
    let excess = prior.len().saturating_sub(WRITERS_KEPT);
    prior.drain(..excess);
    prior
}

fn value<T: Serialize>(v: &T) -> Value {
    // Our parts are plain structs of strings, numbers and booleans: serialising cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl SessionItem {
    /// The item's JSON body.
    pub fn to_value(&self) -> Value {
        value(self)
    }
}

/// The lock is free (released, or expired at `now`) and has a next lock id.
pub(crate) fn lock_free(now: f64) -> Predicate {
    Predicate::All(vec![
        Predicate::Any(vec![
            Predicate::Eq(LOCK_HELD, json!(false)),
            Predicate::AtMost(LOCK_EXPIRES, now),
        ]),
        Predicate::Below(LOCK_ID, MAX_LOCK_ID as f64),
    ])
}

/// The lock is held under `lock_id`.
pub(crate) fn lock_held_by(lock_id: u64) -> Predicate {
    Predicate::All(vec![
        Predicate::Eq(LOCK_ID, json!(lock_id)),
        Predicate::Eq(LOCK_HELD, json!(true)),
    ])
}

/// Acquire-and-read: where the lock is free, the next lock id, held by attempt `tag` until
/// `now + lock_ttl`. The answer is the whole item: the content comes with the lock.
///
/// The item must outlive the lock: an acquisition is a write, so it restarts the item's `ttl`,
/// and every write of the engine leaves a `ttl` of at least `lock_ttl` + [`TTL_MARGIN`]
/// (content, renewals, creation, and the tombstone of a removal). When the caller knows the
/// content is not live (it looked: absent, removed or expired), `ttl` is set here too, so an
/// item last written by a node with a shorter `lock_ttl` cannot be cleaned up under this lock;
/// a live content's `ttl` is left alone (it covers the content's own timeout, which may be longer).
pub(crate) fn acquire(tag: u64, now: f64, lock_ttl: f64, ttl: Option<i64>) -> Patch {
    let mut ops = vec![
        PatchOp::Incr(LOCK_ID, 1),
        PatchOp::Set(LOCK_HELD, json!(true)),
        PatchOp::Set(LOCK_ATTEMPT, json!(tag)),
        PatchOp::Set(LOCK_ACQUIRED, json!(now)),
        PatchOp::Set(LOCK_EXPIRES, json!(now + lock_ttl)),
    ];
    if let Some(ttl) = ttl {
        ops.push(PatchOp::Set(TTL, json!(ttl)));
    }
    Patch {
        condition: Some(lock_free(now)),
        ops,
    }
}

/// The release operations: not held, no attempt, expired now.
fn release_ops(now: f64) -> [PatchOp; 3] {
    [
        PatchOp::Set(LOCK_HELD, json!(false)),
        PatchOp::Set(LOCK_ATTEMPT, json!(0)),
        PatchOp::Set(LOCK_EXPIRES, json!(now)),
    ]
}

/// Write-and-release (fenced): where the lock is held under `lock_id`, the new content and the
/// lock released.
pub(crate) fn write_and_release(lock_id: u64, content: &ContentPart, ttl: i64, now: f64) -> Patch {
    let mut ops = vec![
        PatchOp::Set(CONTENT, value(content)),
        PatchOp::Set(TTL, json!(ttl)),
    ];
    ops.extend(release_ops(now));
    Patch {
        condition: Some(lock_held_by(lock_id)),
        ops,
    }
}

/// Renewal fields: renewed now, alive for `timeout` more, cleanup after `ttl`.
fn renewal_ops(now: f64, timeout: f64, ttl: i64) -> [PatchOp; 3] {
    [
        PatchOp::Set(CONTENT_RENEWED, json!(now)),
        PatchOp::Set(CONTENT_EXPIRES, json!(now + timeout)),
        PatchOp::Set(TTL, json!(ttl)),
    ]
}

/// Release without writing: where the lock is held under `lock_id`, released; with `renewal`
/// (`(timeout, ttl)`) the content is renewed in the same patch (reading it was an access).
pub(crate) fn release(lock_id: u64, now: f64, renewal: Option<(f64, i64)>) -> Patch {
    let mut ops = release_ops(now).to_vec();
    if let Some((timeout, ttl)) = renewal {
        ops.extend(renewal_ops(now, timeout, ttl));
    }
    Patch {
        condition: Some(lock_held_by(lock_id)),
        ops,
    }
}

/// Breaks the lock held under `lock_id` (an operator's `unlock --force`).
pub(crate) fn force_release(lock_id: u64, now: f64) -> Patch {
    release(lock_id, now, None)
}

/// Sliding renewal: where nobody renewed or wrote since `renewed_at` and the content is still
/// live, renewed now. Touches only the timing fields, so it never overwrites content.
pub(crate) fn renew(renewed_at: f64, now: f64, timeout: f64, ttl: i64) -> Patch {
    Patch {
        condition: Some(Predicate::All(vec![
            Predicate::AtMost(CONTENT_RENEWED, renewed_at),
            Predicate::Above(CONTENT_EXPIRES, now),
        ])),
        ops: renewal_ops(now, timeout, ttl).to_vec(),
    }
}

/// Writes content into an item whose lock the caller does not hold, where the stored lock is
/// still `seen_lock_id`, free at `now`, and the content is not live: the lock stays released,
/// with the larger of the stored id and the caller's.
pub(crate) fn claim_free(
    seen_lock_id: u64,
    lock_id: u64,
    content: &ContentPart,
    ttl: i64,
    now: f64,
) -> Patch {
    let mut ops = vec![
        PatchOp::Set(CONTENT, value(content)),
        PatchOp::Set(TTL, json!(ttl)),
        PatchOp::Set(LOCK_ID, json!(seen_lock_id.max(lock_id))),
    ];
    ops.extend(release_ops(now));
    Patch {
        condition: Some(Predicate::All(vec![
            Predicate::Eq(LOCK_ID, json!(seen_lock_id)),
            lock_free(now),
            Predicate::AtMost(CONTENT_EXPIRES, now),
        ])),
        ops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MAX_PATCH_OPS, apply_patch_ops};

    fn item(held: bool, lock_id: u64, expires_at: f64) -> Value {
        SessionItem {
            id: "i".into(),
            pk: "p".into(),
            layout: LAYOUT,
            lock: LockPart {
                lock_id,
                held,
                attempt: 0,
                acquired_at: 0.0,
                expires_at,
            },
            content: ContentPart::none(vec![]),
            ttl: 60,
        }
        .to_value()
    }

    #[test]
    fn patches_fit_cosmos_limits_and_apply_to_the_layout() {
        let content = ContentPart::none(vec![1]);
        let patches = [
            acquire(7, 10.0, 30.0, None),
            acquire(7, 10.0, 30.0, Some(90)),
            write_and_release(3, &content, 100, 10.0),
            release(3, 10.0, Some((1200.0, 1260))),
            renew(5.0, 10.0, 1200.0, 1260),
            claim_free(3, 9, &content, 100, 10.0),
        ];
        for p in &patches {
            assert!(p.ops.len() <= MAX_PATCH_OPS, "{p:?}");
            let mut body = item(false, 3, 0.0);
            apply_patch_ops(&mut body, &p.ops).unwrap();
            serde_json::from_value::<SessionItem>(body).unwrap();
            // Rendered fields are lower case: the test server lower-cases the condition.
            let sql = p.condition.as_ref().unwrap().to_sql();
            assert_eq!(sql, sql.to_lowercase());
        }
    }

    #[test]
    fn the_lock_conditions() {
        assert!(lock_free(10.0).holds(&item(false, 3, 50.0)));
        assert!(lock_free(10.0).holds(&item(true, 3, 10.0)), "expired");
        assert!(!lock_free(10.0).holds(&item(true, 3, 10.5)), "live");
        assert!(
            !lock_free(10.0).holds(&item(false, MAX_LOCK_ID, 0.0)),
            "no next id"
        );
        assert!(lock_held_by(3).holds(&item(true, 3, 0.0)));
        assert!(!lock_held_by(3).holds(&item(false, 3, 99.0)));
        assert!(!lock_held_by(4).holds(&item(true, 3, 99.0)));
    }
}
