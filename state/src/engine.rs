//! The session-state engine: locks, fenced writes, logical expiry with cheap sliding renewal,
//! compression and token flow, over any [`Store`].
//!
//! Data model: one logical partition per session (the encoded session id) holds two items:
//!
//! * `lock` — `{lock_id, held, acquired_at, expires_at}`. It stays after a release (marked not
//!   held) so lock ids keep increasing: a new lock id is `max(previous + 1, now in ms)`, so ids
//!   never repeat for a session, even after the item was cleaned up (clock skew between nodes must
//!   stay below the session timeout). Ids stay below 2^53 (JSON numbers are doubles).
//! * `content` — `{data (base64, gzip when compressed), compressed, uninitialized, timeout,
//!   renewed_at, expires_at, lock_id, writers}`; `writers` lists the lock ids of the last eight
//!   writes (this one's last).
//!
//! Rules:
//! * **Acquire** (`get_exclusive`): one single-partition query reads both items; a lock that is
//!   held and not expired is reported with its id and its true age (now − `acquired_at`);
//!   otherwise the lock item is created, or replaced *with If-Match on its etag* (an expired lock
//!   is taken over atomically, never by delete-then-create). The content read by the same query is
//!   current: every content write changes the lock item, so a successful If-Match proves none
//!   happened since. 2 round trips (3 when the sliding renewal is due: reading is an access).
//! * **Fenced write** (`set_and_release`): one batch whose first operation releases the lock with
//!   If-Match on the etag the holder got, then upserts the content. A holder whose lock was taken
//!   over gets [`StateError::LockLost`] and writes nothing. 1 round trip. Fencing never depends
//!   on this node's cache: without a remembered etag the stored lock is read, and a new session's
//!   first write without the lock claims the free lock item in the same batch.
//! * **`LockLost` means definitely not written.** When a write's answer is lost (a dropped
//!   connection after the service applied it) the engine looks: its lock still held means
//!   nothing landed (retry); otherwise the content's `writers` say whether its write landed, even
//!   after others acquired and wrote since. When they no longer reach back that far, the outcome
//!   is [`StateError::OutcomeUnknown`], never `LockLost`. The same holds for `remove` (its
//!   tombstone is a write) and `release` (released under its own id means it landed).
//! * **Release** with a lock id that is not the holder's (or 0) is a no-op, never a delete.
//! * **Expiry is logical** (`expires_at`, checked on every read); Cosmos DB `ttl` is set too, for
//!   cleanup only. A read-only `get` writes nothing unless `renew_fraction` (default 25 %) of the
//!   timeout has passed since the last renewal; the renewal is a replace with If-Match, so it
//!   never overwrites newer content. Sessions therefore live between 75 % and 100 % of the timeout
//!   after their last access.
//! * **Token flow**: every response's session token is captured per session with the core's
//!   container rules and presented on the next request of that session; [`token`] exports it (for
//!   a sealed cookie) and [`present_token`] imports one, so read-only requests on any node read
//!   their own writes even at Session consistency.
//!
//! [`token`]: SessionStateStore::token
//! [`present_token`]: SessionStateStore::present_token

use std::collections::HashMap;
use std::sync::Mutex;

use cosmos_session_token::{
    ContainerLimits, MergePolicy, RequestKind, SessionContainer, SessionToken,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::codec;
use crate::error::{Result, StateError, session_fingerprint};
use crate::ids::encode_session_id;
use crate::store::{BatchOp, Item, Outcome, Reply, Store};

const LOCK_ID: &str = "lock";
const CONTENT_ID: &str = "content";
/// Cosmos DB's item size limit.
pub const MAX_ITEM_BYTES: usize = 2 * 1024 * 1024;
/// Room kept for the item's other fields and the service's system properties.
const ITEM_OVERHEAD: usize = 1024;
/// Extra seconds of Cosmos DB `ttl` beyond the logical expiry (cleanup never races a live read).
const TTL_MARGIN: f64 = 60.0;
/// Attempts of a compare-and-swap loop before giving up on contention.
const CAS_ATTEMPTS: usize = 8;
/// Entries kept in the per-process caches (lock etags, renewal times) before they are cleared.
const CACHE_MAX: usize = 16_384;
/// Largest session content, uncompressed, in bytes: checked when it is written and when it is
/// read (one limit both ways, so whatever was written can be read, and inflating a stored item
/// never allocates more than this).
pub const MAX_CONTENT_BYTES: usize = 16 << 20;
/// Largest lock id: lock ids are stored as JSON numbers (doubles), exact below 2^53.
pub const MAX_LOCK_ID: u64 = (1 << 53) - 1;
/// Shards of the per-store token map: each has its own lock and its own bound, so one request's
/// capture never waits on another session's, and eviction scans one shard.
const TOKEN_SHARDS: usize = 16;
/// Sessions whose tokens one shard keeps (least recently used forgotten past it).
const SESSIONS_PER_SHARD: usize = 4096;

/// Engine options. Times are in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// How long a lock lives before another request may take it over (`xLockTtlSeconds`).
    pub lock_ttl: f64,
    /// Default session timeout (ASP.NET `timeout`, in seconds here).
    pub timeout: f64,
    /// Gzip new content (items record whether they are compressed).
    pub compression: bool,
    /// Fraction of the timeout after which a read renews the session (0.25).
    pub renew_fraction: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_ttl: 30.0,
            timeout: 1200.0,
            compression: true,
            renew_fraction: 0.25,
        }
    }
}

impl Options {
    /// Checks the ranges: positive finite times, a renewal fraction in [0, 1].
    pub fn validate(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v > 0.0 && v < 1e9;
        if !ok(self.lock_ttl) {
            return Err(StateError::InvalidOption(format!(
                "lock_ttl must be positive seconds, got {}",
                self.lock_ttl
            )));
        }
        if !ok(self.timeout) {
            return Err(StateError::InvalidOption(format!(
                "timeout must be positive seconds, got {}",
                self.timeout
            )));
        }
        if !(0.0..=1.0).contains(&self.renew_fraction) {
            return Err(StateError::InvalidOption(format!(
                "renew_fraction must be within [0, 1], got {}",
                self.renew_fraction
            )));
        }
        Ok(())
    }
}

/// Session content as read: the bytes the caller stored, and whether the session was created
/// uninitialized (ASP.NET cookieless `CreateUninitializedItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The bytes of the last write (empty for an uninitialized session).
    pub data: Vec<u8>,
    /// True until the first write of a session made by `create_uninitialized`.
    pub uninitialized: bool,
}

/// The answer of [`get_exclusive`](SessionStateStore::get_exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusive {
    /// The content (`None`: no live session), when the lock was acquired.
    pub content: Option<Content>,
    /// True when another request holds a live lock: nothing was acquired.
    pub locked: bool,
    /// The acquired lock id, or the holder's when `locked`.
    pub lock_id: u64,
    /// The holder's true lock age in seconds when `locked`, else 0.
    pub lock_age: f64,
}

/// What an operator sees of one session ([`show`](SessionStateStore::show)).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// A live (not expired) content item exists.
    pub exists: bool,
    /// Stored content size in bytes (base64 text, as in the item).
    pub stored_bytes: usize,
    /// Whether the stored content is compressed.
    pub compressed: bool,
    /// Seconds until the session expires (negative: expired).
    pub expires_in: f64,
    /// The session was created uninitialized and not written yet.
    pub uninitialized: bool,
    /// A lock is held and not expired.
    pub locked: bool,
    /// The lock item's lock id (0 when there is none).
    pub lock_id: u64,
    /// Seconds since the lock was acquired (0 when not locked).
    pub lock_age: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LockBody {
    id: String,
    pk: String,
    lock_id: u64,
    /// A random tag of the acquisition attempt that wrote this lock (below 2^53), so an attempt
    /// whose answer was lost recognises its own lock exactly; 0 when released.
    #[serde(default)]
    attempt: u64,
    held: bool,
    acquired_at: f64,
    expires_at: f64,
    ttl: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContentBody {
    id: String,
    pk: String,
    data: String,
    compressed: bool,
    #[serde(default)]
    uninitialized: bool,
    timeout: f64,
    renewed_at: f64,
    expires_at: f64,
    #[serde(default)]
    lock_id: u64,
    /// The lock ids of the last [`WRITERS_KEPT`] writes of this content, oldest first (this one's
    /// last), so a writer whose answer was lost can tell whether its write landed even after
    /// others wrote since.
    #[serde(default)]
    writers: Vec<u64>,
    ttl: i64,
}

/// Content writes remembered in the content item ([`ContentBody::writers`]).
const WRITERS_KEPT: usize = 8;

/// True when a batch of `n` operations applied as a whole.
fn all_done(outcomes: &[Outcome], n: usize) -> bool {
    outcomes.len() == n && outcomes.iter().all(|o| matches!(o, Outcome::Done(_)))
}

/// The batch operation that writes `body` over `current` (If-Match its etag), or creates it.
fn replace_or_create(current: &Option<Item>, id: &str, body: Value) -> BatchOp {
    match current {
        Some(item) => BatchOp::Replace {
            id: id.into(),
            if_match: item.etag.clone(),
            body,
        },
        None => BatchOp::Create(body),
    }
}

/// The writers recorded in a content body (none without content).
fn writers_of(content: &Option<ContentBody>) -> Vec<u64> {
    content
        .as_ref()
        .map_or_else(Vec::new, |c| c.writers.clone())
}

/// `prior` with `lock_id` appended, at most [`WRITERS_KEPT`] long.
fn with_writer(mut prior: Vec<u64>, lock_id: u64) -> Vec<u64> {
    if prior.last() != Some(&lock_id) {
        prior.push(lock_id);
    }
    let excess = prior.len().saturating_sub(WRITERS_KEPT);
    prior.drain(..excess);
    prior
}

fn ttl_of(seconds: f64) -> i64 {
    (seconds + TTL_MARGIN).ceil().clamp(1.0, i32::MAX as f64) as i64
}

fn parse<T: for<'de> Deserialize<'de>>(sid: &str, item: &Item) -> Result<T> {
    serde_json::from_value(item.body.clone()).map_err(|e| StateError::CorruptContent {
        session: session_fingerprint(sid),
        detail: format!("item {:?} does not have the expected fields ({e})", item.id),
    })
}

fn to_value<T: Serialize>(body: &T) -> Value {
    // Our bodies are plain structs of strings, numbers and booleans: serialising cannot fail.
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// Small per-process memory, bounded by clearing when full (it only saves round trips).
#[derive(Default)]
struct Caches {
    /// (partition, lock id) → the lock item's etag after acquiring, and the content's writers then.
    lock_etags: HashMap<(String, u64), (String, Vec<u64>)>,
    /// partition → (renewed_at, timeout) last seen.
    renewals: HashMap<String, (f64, f64)>,
}

/// Session state on a [`Store`]. Thread-safe: share one per process. See the
/// [module documentation](self) for the data model and the rules.
///
/// ```
/// use cosmos_session_state::{MemoryStore, Options, SessionStateStore};
/// let store = SessionStateStore::new(MemoryStore::new(), Options::default())?;
/// let ex = store.get_exclusive("sid-1")?;
/// assert!(!ex.locked && ex.content.is_none());             // a new session, now locked by us
/// store.set_and_release("sid-1", b"n=1", ex.lock_id, true, None)?;
/// assert_eq!(store.get("sid-1")?.unwrap().data, b"n=1");   // read-only: no lock needed
/// let again = store.get_exclusive("sid-1")?;
/// assert!(store.get_exclusive("sid-1")?.locked);            // a second request waits
/// store.release("sid-1", again.lock_id)?;
/// # Ok::<(), cosmos_session_state::StateError>(())
/// ```
pub struct SessionStateStore {
    store: Box<dyn Store>,
    clock: Box<dyn Clock>,
    options: Options,
    tokens: [SessionContainer; TOKEN_SHARDS],
    caches: Mutex<Caches>,
}

impl SessionStateStore {
    /// An engine over `store` with the system clock.
    pub fn new(store: impl Store + 'static, options: Options) -> Result<Self> {
        SessionStateStore::with_clock(store, SystemClock, options)
    }

    /// An engine over `store` with `clock` (tests move a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(
        store: impl Store + 'static,
        clock: impl Clock + 'static,
        options: Options,
    ) -> Result<Self> {
        options.validate()?;
        let limits = ContainerLimits {
            max_collections: SESSIONS_PER_SHARD,
            ..ContainerLimits::default()
        };
        Ok(SessionStateStore {
            store: Box::new(store),
            clock: Box::new(clock),
            options,
            tokens: std::array::from_fn(|_| {
                SessionContainer::with_config(MergePolicy::UNION, limits)
            }),
            caches: Mutex::new(Caches::default()),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token shard of a session's partition.
    fn tokens(&self, pk: &str) -> &SessionContainer {
        use std::hash::BuildHasher;
        // A fixed hasher: which shard a session lands in needs no secrecy, only spread.
        let h =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(pk);
        &self.tokens[(h as usize) % TOKEN_SHARDS]
    }

    /// The token to present for a session's partition.
    fn presented(&self, pk: &str) -> Option<String> {
        self.tokens(pk).resolve_all(pk).map(|t| t.to_string())
    }

    /// Records a reply's session token for the session and returns its value.
    fn seen<T>(&self, pk: &str, reply: Reply<T>) -> T {
        if let Some(token) = reply.session_token.as_deref() {
            // An unparsable token from the service is ignored: token flow is best effort, the
            // fenced writes do not depend on it.
            let _ =
                self.tokens(pk)
                    .capture_response(RequestKind::Data, "", pk, Some(token), 200, 0);
        }
        reply.value
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

    fn read_items(&self, pk: &str) -> Result<(Option<Item>, Option<Item>)> {
        let reply = self
            .store
            .query_partition(pk, self.presented(pk).as_deref())?;
        let items = self.seen(pk, reply);
        let mut lock = None;
        let mut content = None;
        for item in items {
            match item.id.as_str() {
                LOCK_ID => lock = Some(item),
                CONTENT_ID => content = Some(item),
                _ => {}
            }
        }
        Ok((lock, content))
    }

    fn read_one(&self, pk: &str, id: &str) -> Result<Option<Item>> {
        let reply = self.store.read(pk, id, self.presented(pk).as_deref())?;
        Ok(self.seen(pk, reply).item())
    }

    /// Live content (not expired), decoded (or, without `decode`, only known to exist: empty
    /// data, for operations that replace or remove it without reading it).
    fn live_content(
        &self,
        sid: &str,
        body: &ContentBody,
        now: f64,
        decode: bool,
    ) -> Result<Option<Content>> {
        if body.expires_at <= now {
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

    /// Renews a live session if the renewal is due: a replace with If-Match, so a concurrent write
    /// always wins. Returns whether the item was renewed.
    fn renew_if_due(&self, pk: &str, item: &Item, body: &ContentBody, now: f64) -> Result<bool> {
        if body.expires_at <= now
            || now - body.renewed_at < self.options.renew_fraction * body.timeout
        {
            self.caches()
                .renewals
                .insert(pk.to_owned(), (body.renewed_at, body.timeout));
            return Ok(false);
        }
        let mut renewed = body.clone();
        renewed.renewed_at = now;
        renewed.expires_at = now + body.timeout;
        renewed.ttl = ttl_of(body.timeout);
        let reply = self.store.replace(
            pk,
            CONTENT_ID,
            &item.etag,
            to_value(&renewed),
            self.presented(pk).as_deref(),
        )?;
        let done = matches!(self.seen(pk, reply), Outcome::Done(_));
        if done {
            self.remember_renewal(pk, now, body.timeout);
        }
        // 412/404: someone wrote or removed the session since; their write renewed it.
        Ok(done)
    }

    fn remember_renewal(&self, pk: &str, at: f64, timeout: f64) {
        let mut c = self.caches();
        if c.renewals.len() >= CACHE_MAX {
            c.renewals.clear();
        }
        c.renewals.insert(pk.to_owned(), (at, timeout));
    }

    /// Read-only access: the committed content, without taking or waiting for the lock.
    /// `None` when there is no live session. One round trip, plus a conditional renewal at most
    /// once per `renew_fraction` of the timeout.
    pub fn get(&self, sid: &str) -> Result<Option<Content>> {
        let pk = encode_session_id(sid)?;
        let Some(item) = self.read_one(&pk, CONTENT_ID)? else {
            return Ok(None);
        };
        let body: ContentBody = parse(sid, &item)?;
        let now = self.clock.now();
        let content = self.live_content(sid, &body, now, true)?;
        if content.is_some() {
            self.renew_if_due(&pk, &item, &body, now)?;
        }
        Ok(content)
    }

    /// Exclusive access: acquires the session's lock and returns the content, or reports that a
    /// live lock is held (with the holder's lock id and true age). See the module documentation.
    pub fn get_exclusive(&self, sid: &str) -> Result<Exclusive> {
        self.acquire(sid, true)
    }

    /// [`get_exclusive`](Self::get_exclusive); without `decode` the content is only checked for
    /// existence (its data left empty), so a session whose content cannot be decoded can still
    /// be replaced or removed.
    pub(crate) fn acquire(&self, sid: &str, decode: bool) -> Result<Exclusive> {
        let pk = encode_session_id(sid)?;
        let mut last_holder = (0, 0.0);
        // Our last attempt: if its answer was lost (a dropped connection) but it landed, the lock
        // we find is ours, recognised by the attempt's random tag (two racers can compute the
        // same lock id in the same millisecond; only one of them wins the If-Match).
        let mut attempted: Option<(u64, u64)> = None;
        // One read more than writes: the last round only looks, so an attempt whose answer was lost
        // (it landed, the retry saw 412/409) is recognised as ours instead of reported as someone
        // else's lock (which left the session locked by us for lock_ttl, unknown to everyone).
        for round in 0..=CAS_ATTEMPTS {
            let (lock_item, content_item) = self.read_items(&pk)?;
            let now = self.clock.now();
            let lock: Option<LockBody> = lock_item.as_ref().map(|i| parse(sid, i)).transpose()?;
            let content: Option<ContentBody> =
                content_item.as_ref().map(|i| parse(sid, i)).transpose()?;
            if let (Some(l), Some(item), Some((id, tag))) = (&lock, &lock_item, attempted) {
                if l.held && l.lock_id == id && l.attempt == tag {
                    self.remember_lock(&pk, id, item.etag.clone(), writers_of(&content));
                    let data = match &content {
                        Some(c) => match self.live_content(sid, c, now, decode) {
                            Ok(data) => data,
                            Err(e) => {
                                let _ = self.release(sid, id);
                                return Err(e);
                            }
                        },
                        None => None,
                    };
                    return Ok(Exclusive {
                        content: data,
                        locked: false,
                        lock_id: id,
                        lock_age: 0.0,
                    });
                }
            }
            if let Some(l) = lock.as_ref().filter(|l| l.held && l.expires_at > now) {
                return Ok(Exclusive {
                    content: None,
                    locked: true,
                    lock_id: l.lock_id,
                    lock_age: (now - l.acquired_at).max(0.0),
                });
            }
            if round == CAS_ATTEMPTS {
                break;
            }
            let previous = lock
                .as_ref()
                .map_or(0, |l| l.lock_id)
                .max(content.as_ref().map_or(0, |c| c.lock_id));
            // Checked: a stored id at the top of the range (a corrupt or foreign item) must not
            // wrap or leave the exact range of a JSON number.
            let lock_id = previous
                .checked_add(1)
                .filter(|&id| id <= MAX_LOCK_ID)
                .ok_or_else(|| StateError::CorruptContent {
                    session: session_fingerprint(sid),
                    detail: format!("the stored lock id {previous} leaves no next lock id"),
                })?
                .max(((now * 1000.0) as u64).min(MAX_LOCK_ID));
            let timeout = content.as_ref().map_or(self.options.timeout, |c| c.timeout);
            let tag = fastrand::u64(1..(1 << 53));
            let body = LockBody {
                id: LOCK_ID.into(),
                pk: pk.clone(),
                lock_id,
                attempt: tag,
                held: true,
                acquired_at: now,
                expires_at: now + self.options.lock_ttl,
                ttl: ttl_of(timeout.max(self.options.lock_ttl)),
            };
            let token = self.presented(&pk);
            attempted = Some((lock_id, tag));
            let reply = match &lock_item {
                Some(current) => self.store.replace(
                    &pk,
                    LOCK_ID,
                    &current.etag,
                    to_value(&body),
                    token.as_deref(),
                )?,
                None => self.store.create(&pk, to_value(&body), token.as_deref())?,
            };
            match self.seen(&pk, reply) {
                Outcome::Done(Some(acquired)) => {
                    self.remember_lock(&pk, lock_id, acquired.etag, writers_of(&content));
                    let data = match (&content, &content_item) {
                        (Some(c), Some(item)) => {
                            let data = match self.live_content(sid, c, now, decode) {
                                Ok(data) => data,
                                Err(e) => {
                                    // Content that cannot be decoded must not leave the session
                                    // locked for lock_ttl: give back what we took, then report.
                                    let _ = self.release(sid, lock_id);
                                    return Err(e);
                                }
                            };
                            if data.is_some() {
                                // Reading is an access: renew if due (the holder's write, if any,
                                // renews again; a conditional renewal never loses data).
                                self.renew_if_due(&pk, item, c, now)?;
                            }
                            data
                        }
                        _ => None,
                    };
                    return Ok(Exclusive {
                        content: data,
                        locked: false,
                        lock_id,
                        lock_age: 0.0,
                    });
                }
                // Another request changed the lock since we read it: look again.
                _ => {
                    last_holder =
                        lock.map_or((0, 0.0), |l| (l.lock_id, (now - l.acquired_at).max(0.0)));
                }
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

    fn remember_lock(&self, pk: &str, lock_id: u64, etag: String, writers: Vec<u64>) {
        let mut c = self.caches();
        if c.lock_etags.len() >= CACHE_MAX {
            c.lock_etags.clear();
        }
        c.lock_etags
            .insert((pk.to_owned(), lock_id), (etag, writers));
    }

    fn forget_lock(&self, pk: &str, lock_id: u64) {
        self.caches().lock_etags.remove(&(pk.to_owned(), lock_id));
    }

    /// The etag of the lock held under `lock_id` (`None`: not held under that id; lock id 0 never
    /// is) and the content's writers: remembered from acquiring it on this node, else read (one
    /// query for both items).
    fn lock_etag(&self, sid: &str, pk: &str, lock_id: u64) -> Result<(Option<String>, Vec<u64>)> {
        if lock_id == 0 {
            return Ok((None, Vec::new()));
        }
        let cached = self
            .caches()
            .lock_etags
            .get(&(pk.to_owned(), lock_id))
            .cloned();
        if let Some((etag, writers)) = cached {
            return Ok((Some(etag), writers));
        }
        let (lock_item, content_item) = self.read_items(pk)?;
        let content: Option<ContentBody> =
            content_item.as_ref().map(|i| parse(sid, i)).transpose()?;
        let etag = match lock_item {
            Some(item) => {
                let body: LockBody = parse(sid, &item)?;
                (body.held && body.lock_id == lock_id).then_some(item.etag)
            }
            None => None,
        };
        Ok((etag, writers_of(&content)))
    }

    /// After a fenced write whose outcome is not known first-hand (its answer was lost, or the
    /// batch did not apply as a whole) and whose lock has moved on: whether `lock_id`'s write
    /// landed, from the content's writers. Landed: `Ok`. Not among them while the list still
    /// reaches back past `lock_id`: [`StateError::LockLost`] (definitely not written). Pushed out
    /// by later writers: [`StateError::OutcomeUnknown`].
    fn landed_or_lost(&self, sid: &str, pk: &str, lock_id: u64, holder: u64) -> Result<()> {
        let current = self.read_one(pk, CONTENT_ID)?;
        let writers = match current {
            Some(item) => parse::<ContentBody>(sid, &item)?.writers,
            None => Vec::new(),
        };
        if writers.contains(&lock_id) {
            return Ok(());
        }
        if writers.len() >= WRITERS_KEPT && writers.iter().all(|&w| w > lock_id) {
            return Err(StateError::OutcomeUnknown {
                session: session_fingerprint(sid),
                lock_id,
            });
        }
        Err(StateError::LockLost {
            session: session_fingerprint(sid),
            lock_id,
            holder,
        })
    }

    /// The current lock item, and its etag when it is held under `lock_id`.
    fn held_lock(
        &self,
        sid: &str,
        pk: &str,
        lock_id: u64,
    ) -> Result<(Option<LockBody>, Option<String>)> {
        let Some(item) = self.read_one(pk, LOCK_ID)? else {
            return Ok((None, None));
        };
        let body: LockBody = parse(sid, &item)?;
        let etag = (body.held && body.lock_id == lock_id).then_some(item.etag);
        Ok((Some(body), etag))
    }

    fn content_body(
        &self,
        sid: &str,
        pk: &str,
        data: &[u8],
        timeout: f64,
        lock_id: u64,
        now: f64,
    ) -> Result<ContentBody> {
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
        Ok(ContentBody {
            id: CONTENT_ID.into(),
            pk: pk.to_owned(),
            data: text,
            compressed: self.options.compression,
            uninitialized: false,
            timeout,
            renewed_at: now,
            expires_at: now + timeout,
            lock_id,
            writers: Vec::new(),
            ttl: ttl_of(timeout),
        })
    }

    /// Refuses a lock id no acquisition can have issued (above [`MAX_LOCK_ID`]).
    fn check_lock_id(lock_id: u64) -> Result<()> {
        if lock_id > MAX_LOCK_ID {
            return Err(StateError::InvalidArgument(format!(
                "lock id {lock_id} is above the largest lock id {MAX_LOCK_ID}"
            )));
        }
        Ok(())
    }

    fn check_timeout(timeout: Option<f64>, default: f64) -> Result<f64> {
        match timeout {
            None => Ok(default),
            Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => Ok(t),
            Some(t) => Err(StateError::InvalidOption(format!(
                "timeout must be positive seconds, got {t}"
            ))),
        }
    }

    /// Writes `data` and releases the lock `lock_id`, as one fenced batch: if the lock was taken
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
        let pk = encode_session_id(sid)?;
        Self::check_lock_id(lock_id)?;
        let timeout = Self::check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_body(sid, &pk, data, timeout, lock_id, now)?;
        let (mut etag, writers) = self.lock_etag(sid, &pk, lock_id)?;
        content.writers = with_writer(writers, lock_id);
        for _ in 0..CAS_ATTEMPTS {
            let Some(lock_etag) = etag.clone() else {
                if new_item {
                    return self.create_fenced(sid, &pk, content, lock_id, now);
                }
                let holder = self
                    .held_lock(sid, &pk, lock_id)?
                    .0
                    .filter(|l| l.held)
                    .map_or(0, |l| l.lock_id);
                return Err(StateError::LockLost {
                    session: session_fingerprint(sid),
                    lock_id,
                    holder,
                });
            };
            let released = self.released_lock(sid, &pk, lock_id, now)?;
            let ops = [
                BatchOp::Replace {
                    id: LOCK_ID.into(),
                    if_match: lock_etag,
                    body: to_value(&released),
                },
                BatchOp::Upsert(to_value(&content)),
            ];
            let outcome = self.store.batch(&pk, &ops, self.presented(&pk).as_deref());
            match outcome {
                Ok(reply) => {
                    let outcomes = self.seen(&pk, reply);
                    if all_done(&outcomes, 2) {
                        self.forget_lock(&pk, lock_id);
                        self.remember_renewal(&pk, now, timeout);
                        return Ok(());
                    }
                }
                // An ambiguous failure (the connection dropped): find out below whether it landed.
                Err(StateError::Unavailable(_)) => {}
                Err(e) => return Err(e),
            }
            // The batch did not apply as a whole, or we do not know: look at the lock. Still held
            // under our id: nothing landed, retry with its etag. Otherwise the content's writers
            // say whether our write landed (others may have acquired and written since).
            let (lock, held_etag) = self.held_lock(sid, &pk, lock_id)?;
            if lock
                .as_ref()
                .is_some_and(|l| l.held && l.lock_id == lock_id)
            {
                etag = held_etag;
                continue;
            }
            self.forget_lock(&pk, lock_id);
            let holder = lock.filter(|l| l.held).map_or(0, |l| l.lock_id);
            let landed = self.landed_or_lost(sid, &pk, lock_id, holder);
            if landed.is_ok() {
                self.remember_renewal(&pk, now, timeout);
            }
            return landed;
        }
        Err(StateError::Store(format!(
            "{}: the write did not settle after {CAS_ATTEMPTS} attempts",
            session_fingerprint(sid)
        )))
    }

    /// The lock body after releasing `lock_id` (keeps the id, so ids keep increasing).
    fn released_lock(&self, _sid: &str, pk: &str, lock_id: u64, now: f64) -> Result<LockBody> {
        Ok(LockBody {
            id: LOCK_ID.into(),
            pk: pk.to_owned(),
            lock_id,
            attempt: 0,
            held: false,
            acquired_at: now,
            expires_at: now,
            ttl: ttl_of(self.options.timeout.max(self.options.lock_ttl)),
        })
    }

    /// Writes a new session's content for a caller that does not hold its lock (ASP.NET writes a
    /// new id with the lock id of an expired one), fenced against the *stored* lock, never a cache:
    /// one batch whose first operation claims the lock item as released — created when there is
    /// none, replaced with If-Match when it is free or expired — and whose second creates the
    /// content (or replaces expired content with If-Match). A live lock held under another id is
    /// [`StateError::LockLost`]; anyone acquiring in between fails the batch's first operation, so
    /// nothing is written past a lock.
    fn create_fenced(
        &self,
        sid: &str,
        pk: &str,
        mut content: ContentBody,
        lock_id: u64,
        now: f64,
    ) -> Result<()> {
        for _ in 0..CAS_ATTEMPTS {
            let (lock_item, content_item) = self.read_items(pk)?;
            let lock: Option<LockBody> = lock_item.as_ref().map(|i| parse(sid, i)).transpose()?;
            if let Some(l) = lock.as_ref().filter(|l| l.held && l.expires_at > now) {
                if l.lock_id != lock_id {
                    return Err(StateError::LockLost {
                        session: session_fingerprint(sid),
                        lock_id,
                        holder: l.lock_id,
                    });
                }
            }
            let existing: Option<ContentBody> =
                content_item.as_ref().map(|i| parse(sid, i)).transpose()?;
            if existing.as_ref().is_some_and(|c| c.expires_at > now) {
                return Err(StateError::SessionExists(session_fingerprint(sid)));
            }
            content.writers = with_writer(writers_of(&existing), lock_id);
            // Lock ids only grow: the released lock keeps the larger of the stored id and ours.
            let mut released = self.released_lock(sid, pk, lock_id, now)?;
            released.lock_id = lock.as_ref().map_or(lock_id, |l| l.lock_id.max(lock_id));
            let ops = [
                replace_or_create(&lock_item, LOCK_ID, to_value(&released)),
                replace_or_create(&content_item, CONTENT_ID, to_value(&content)),
            ];
            let reply = self.store.batch(pk, &ops, self.presented(pk).as_deref())?;
            let outcomes = self.seen(pk, reply);
            if all_done(&outcomes, 2) {
                self.remember_renewal(pk, now, content.timeout);
                return Ok(());
            }
            // Someone changed the lock or the content since we read them: look again.
        }
        Err(StateError::Store(format!(
            "{}: creating it did not settle after {CAS_ATTEMPTS} attempts",
            session_fingerprint(sid)
        )))
    }

    /// Creates the content item; an expired or removed one is replaced (If-Match), a live one is
    /// [`StateError::SessionExists`].
    fn create_content(&self, sid: &str, pk: &str, content: ContentBody, now: f64) -> Result<()> {
        for _ in 0..CAS_ATTEMPTS {
            let reply = self
                .store
                .create(pk, to_value(&content), self.presented(pk).as_deref())?;
            match self.seen(pk, reply) {
                Outcome::Done(_) => {
                    self.remember_renewal(pk, now, content.timeout);
                    return Ok(());
                }
                Outcome::Conflict => {
                    let Some(item) = self.read_one(pk, CONTENT_ID)? else {
                        continue;
                    };
                    let existing: ContentBody = parse(sid, &item)?;
                    if existing.expires_at > now {
                        return Err(StateError::SessionExists(session_fingerprint(sid)));
                    }
                    let reply = self.store.replace(
                        pk,
                        CONTENT_ID,
                        &item.etag,
                        to_value(&content),
                        self.presented(pk).as_deref(),
                    )?;
                    if matches!(self.seen(pk, reply), Outcome::Done(_)) {
                        self.remember_renewal(pk, now, content.timeout);
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(StateError::Store(format!(
            "{}: creating it did not settle after {CAS_ATTEMPTS} attempts",
            session_fingerprint(sid)
        )))
    }

    /// Releases lock `lock_id` without writing. A lock id that is not the holder's, or 0, is a
    /// no-op (never a delete). Returns whether a lock was released.
    pub fn release(&self, sid: &str, lock_id: u64) -> Result<bool> {
        let pk = encode_session_id(sid)?;
        Self::check_lock_id(lock_id)?;
        if lock_id == 0 {
            return Ok(false);
        }
        let mut etag = self.lock_etag(sid, &pk, lock_id)?.0;
        for _ in 0..CAS_ATTEMPTS {
            let Some(current) = etag else {
                self.forget_lock(&pk, lock_id);
                return Ok(false);
            };
            let now = self.clock.now();
            let released = self.released_lock(sid, &pk, lock_id, now)?;
            let reply = self.store.replace(
                &pk,
                LOCK_ID,
                &current,
                to_value(&released),
                self.presented(&pk).as_deref(),
            )?;
            if matches!(self.seen(&pk, reply), Outcome::Done(_)) {
                self.forget_lock(&pk, lock_id);
                return Ok(true);
            }
            let (lock, held) = self.held_lock(sid, &pk, lock_id)?;
            if lock.is_some_and(|l| l.lock_id == lock_id && !l.held) {
                // Released under our id since we last saw it held by us: our release landed and
                // its answer was lost (a retry saw 412).
                self.forget_lock(&pk, lock_id);
                return Ok(true);
            }
            etag = held;
        }
        Err(StateError::Store(format!(
            "{}: the release did not settle after {CAS_ATTEMPTS} attempts",
            session_fingerprint(sid)
        )))
    }

    /// Creates an empty, uninitialized session (ASP.NET cookieless sessions) unless a live one
    /// exists.
    pub fn create_uninitialized(&self, sid: &str, timeout: Option<f64>) -> Result<()> {
        let pk = encode_session_id(sid)?;
        let timeout = Self::check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_body(sid, &pk, &[], timeout, 0, now)?;
        content.uninitialized = true;
        match self.create_content(sid, &pk, content, now) {
            Err(StateError::SessionExists(_)) => Ok(()),
            other => other,
        }
    }

    /// Removes the session (ASP.NET `RemoveItem`, on abandon) under lock `lock_id`, releasing the
    /// lock in the same fenced batch; [`StateError::LockLost`] if the lock is not held by
    /// `lock_id`. The content is replaced by an expired tombstone that Cosmos DB `ttl` removes.
    pub fn remove(&self, sid: &str, lock_id: u64) -> Result<()> {
        let pk = encode_session_id(sid)?;
        Self::check_lock_id(lock_id)?;
        let now = self.clock.now();
        let mut tombstone = self.content_body(sid, &pk, &[], 1.0, lock_id, now)?;
        tombstone.expires_at = now;
        tombstone.ttl = 1;
        let (etag, writers) = self.lock_etag(sid, &pk, lock_id)?;
        tombstone.writers = with_writer(writers, lock_id);
        let Some(etag) = etag else {
            let holder = self
                .held_lock(sid, &pk, lock_id)?
                .0
                .filter(|l| l.held)
                .map_or(0, |l| l.lock_id);
            return Err(StateError::LockLost {
                session: session_fingerprint(sid),
                lock_id,
                holder,
            });
        };
        let ops = [
            BatchOp::Replace {
                id: LOCK_ID.into(),
                if_match: etag,
                body: to_value(&self.released_lock(sid, &pk, lock_id, now)?),
            },
            BatchOp::Upsert(to_value(&tombstone)),
        ];
        let outcome = self.store.batch(&pk, &ops, self.presented(&pk).as_deref());
        self.forget_lock(&pk, lock_id);
        self.caches().renewals.remove(&pk);
        match outcome {
            Ok(reply) => {
                let outcomes = self.seen(&pk, reply);
                if all_done(&outcomes, 2) {
                    return Ok(());
                }
            }
            // An ambiguous failure (the connection dropped): find out below whether it landed.
            Err(StateError::Unavailable(_)) => {}
            Err(e) => return Err(e),
        }
        // Not applied as a whole, or unknown: the content's writers say whether the removal
        // (the tombstone) landed, even after others acquired since.
        let holder = self
            .held_lock(sid, &pk, lock_id)?
            .0
            .filter(|l| l.held)
            .map_or(0, |l| l.lock_id);
        self.landed_or_lost(sid, &pk, lock_id, holder)
    }

    /// Extends the session's life (ASP.NET `ResetItemTimeout`), by the same rule as a read: only
    /// when the renewal is due, conditionally. Free when this process saw the session renewed
    /// recently.
    pub fn reset_timeout(&self, sid: &str) -> Result<bool> {
        let pk = encode_session_id(sid)?;
        let now = self.clock.now();
        if let Some(&(renewed_at, timeout)) = self.caches().renewals.get(&pk) {
            if now - renewed_at < self.options.renew_fraction * timeout {
                return Ok(false);
            }
        }
        let Some(item) = self.read_one(&pk, CONTENT_ID)? else {
            return Ok(false);
        };
        let body: ContentBody = parse(sid, &item)?;
        self.renew_if_due(&pk, &item, &body, now)
    }

    /// What an operator sees of one session (`cst state show`).
    pub fn show(&self, sid: &str) -> Result<SessionInfo> {
        let pk = encode_session_id(sid)?;
        let (lock_item, content_item) = self.read_items(&pk)?;
        let now = self.clock.now();
        let lock: Option<LockBody> = lock_item.as_ref().map(|i| parse(sid, i)).transpose()?;
        let content: Option<ContentBody> =
            content_item.as_ref().map(|i| parse(sid, i)).transpose()?;
        let live_lock = lock.as_ref().filter(|l| l.held && l.expires_at > now);
        Ok(SessionInfo {
            exists: content.as_ref().is_some_and(|c| c.expires_at > now),
            stored_bytes: content.as_ref().map_or(0, |c| c.data.len()),
            compressed: content.as_ref().is_some_and(|c| c.compressed),
            expires_in: content.as_ref().map_or(0.0, |c| c.expires_at - now),
            uninitialized: content.as_ref().is_some_and(|c| c.uninitialized),
            locked: live_lock.is_some(),
            lock_id: lock.as_ref().map_or(0, |l| l.lock_id),
            lock_age: live_lock.map_or(0.0, |l| (now - l.acquired_at).max(0.0)),
        })
    }

    /// Breaks a lock (`cst state unlock --force`), e.g. one left by a crashed node. Returns the
    /// lock id that was released, if one was held. The broken holder's next write gets
    /// [`StateError::LockLost`].
    pub fn force_unlock(&self, sid: &str) -> Result<Option<u64>> {
        let pk = encode_session_id(sid)?;
        for _ in 0..CAS_ATTEMPTS {
            let Some(item) = self.read_one(&pk, LOCK_ID)? else {
                return Ok(None);
            };
            let lock: LockBody = parse(sid, &item)?;
            if !lock.held {
                return Ok(None);
            }
            let released = self.released_lock(sid, &pk, lock.lock_id, self.clock.now())?;
            let reply = self.store.replace(
                &pk,
                LOCK_ID,
                &item.etag,
                to_value(&released),
                self.presented(&pk).as_deref(),
            )?;
            if matches!(self.seen(&pk, reply), Outcome::Done(_)) {
                return Ok(Some(lock.lock_id));
            }
        }
        Err(StateError::Store(format!(
            "{}: unlocking did not settle after {CAS_ATTEMPTS} attempts",
            session_fingerprint(sid)
        )))
    }
}
