//! The session-state engine: locks, fenced writes, logical expiry with cheap sliding renewal,
//! compression and token flow, over any [`Store`].
//!
//! Data model: one item per session holding its lock and its content, in the session's own
//! logical partition; the [`crate::layout`] module documents its fields. Every change
//! is one conditional patch: the database checks the lock against the stored item, so no rule
//! below depends on what a node remembers.
//!
//! Rules and costs (round trips to the store):
//! * **Acquire-and-read** (`get_exclusive`): one patch, *where the lock is free or expired*,
//!   takes the next lock id (`incr`) and answers with the whole item — the content comes with the
//!   lock: **1 round trip**. A session without an item gets one created with the lock held
//!   (2). When the lock is held the patch changes nothing (412) and one read reports the holder's
//!   lock id and true age (now − `acquired_at`, on the engine clock); while this node knows the
//!   session locked, each further poll is **one read and no write** until the read shows the lock
//!   free.
//! * **Write-and-release** (`set_and_release`): one patch, *where the lock is still held under
//!   the caller's lock id*, sets the content and releases the lock: **1 round trip**. A holder
//!   whose lock was taken over gets [`StateError::LockLost`] (saying what it found instead) and
//!   writes nothing. A write by a node that did not take the lock itself reads the item first (2).
//!   A new session's write without the lock (`new_item`, ASP.NET's new id under an old lock id)
//!   is fenced against the stored lock too: created, or patched where the stored lock is free
//!   and the content not live.
//! * **`LockLost` means definitely not written.** When a write's answer is lost (a dropped
//!   connection after the service applied it) the engine reads the item: its lock still held
//!   under the caller's id means nothing landed (retry); otherwise the content's `writers` (the
//!   lock ids of the last eight writes) say whether it landed, even after others acquired and
//!   wrote since. When they no longer reach back that far, the outcome is
//!   [`StateError::OutcomeUnknown`], never `LockLost`. The same holds for `remove` (its
//!   tombstone is a write) and `release` (released under its own id means it landed). An
//!   acquisition whose answer was lost is recognised as ours by its random attempt tag.
//! * **Release** (`release`): one patch where the lock is held under the caller's id; with a
//!   lock id that is not the holder's, or 0, it changes nothing and reports `false` — never an
//!   error, and the holder keeps its lock. `remove` with such an id deletes nothing.
//! * **Expiry is logical** (`content.expires_at`, checked on every read); Cosmos DB `ttl` is set
//!   too, for cleanup only. A read-only `get` is **1 read** and writes nothing unless
//!   `renew_fraction` (default 25 %) of the timeout has passed since the last renewal; the
//!   renewal is a patch of the timing fields only, where nobody renewed or wrote since, so it
//!   never overwrites content. An exclusive request renews in its release or write, never with an
//!   extra round trip. Sessions therefore live between 75 % and 100 % of the timeout after their
//!   last access.
//! * **Token flow**: every response's session token is captured per session with the core's
//!   container rules and presented on the next request of that session; [`token`] exports it (for
//!   a sealed cookie) and [`present_token`] imports one, so read-only requests on any node read
//!   their own writes even at Session consistency.
//!
//! Clocks: lock and content times are the engine's clock (seconds since the Unix epoch, see
//! [`Clock`]); the nodes of one farm must agree within a small fraction of `lock_ttl`.
//!
//! [`token`]: SessionStateStore::token
//! [`present_token`]: SessionStateStore::present_token

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cosmos_session_token::{
    ContainerLimits, MergePolicy, RequestKind, SessionContainer, SessionToken,
};

use serde::Deserialize;

use crate::clock::{Clock, SystemClock};
use crate::codec;
use crate::error::{Result, StateError, session_fingerprint};
use crate::ids::{encode_session_id, item_id};
pub use crate::layout::MAX_LOCK_ID;
use crate::layout::{
    self, ContentPart, LAYOUT, LockPart, SessionItem, Timing, WRITERS_KEPT, ttl_of, with_writer,
};
use crate::store::{Item, Outcome, Patch, Reply, Store, StoreStats};

/// Cosmos DB's item size limit.
pub const MAX_ITEM_BYTES: usize = 2 * 1024 * 1024;
/// Room kept for the item's other fields and the service's system properties.
const ITEM_OVERHEAD: usize = 1024;
/// Attempts of a compare-and-swap loop before giving up on contention.
const CAS_ATTEMPTS: usize = 8;
/// Entries kept in each per-process cache before it is cleared (they only save round trips).
const CACHE_MAX: usize = 16_384;
/// Largest session content, uncompressed, in bytes: checked when it is written and when it is
/// read (one limit both ways, so whatever was written can be read, and inflating a stored item
/// never allocates more than this).
pub const MAX_CONTENT_BYTES: usize = 16 << 20;
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

fn parse(sid: &str, item: &Item) -> Result<SessionItem> {
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

/// The lock-lost error, saying what was found instead of the caller's lock.
fn lock_lost(sid: &str, lock_id: u64, found: Option<&SessionItem>, now: f64) -> StateError {
    let (holder, observed) = match found.map(|b| &b.lock) {
        None => (0, "the session no longer exists".to_owned()),
        Some(l) if l.held && l.lock_id != lock_id && l.live(now) => {
            (l.lock_id, format!("lock {} holds it", l.lock_id))
        }
        Some(l) if l.held && l.lock_id != lock_id => (
            l.lock_id,
            format!("lock {} took it and has expired since", l.lock_id),
        ),
        Some(l) if l.lock_id == lock_id => (0, "it was released".to_owned()),
        Some(l) if l.lock_id > lock_id => (
            0,
            format!("lock {} took it and released it since", l.lock_id),
        ),
        Some(_) => (0, "it is not held under that id".to_owned()),
    };
    StateError::LockLost {
        session: session_fingerprint(sid),
        lock_id,
        holder,
        observed,
    }
}

fn not_settled(sid: &str, what: &str) -> StateError {
    StateError::Store(format!(
        "{}: {what} did not settle after {CAS_ATTEMPTS} attempts",
        session_fingerprint(sid)
    ))
}

/// What this node remembers of a lock it acquired: the content's writers then, and the
/// content's timing when it was live. While the lock is held nobody else writes the content
/// (readers' renewals only extend it), so these stay true until the holder's own write.
#[derive(Debug, Clone)]
struct Held {
    writers: Vec<u64>,
    timing: Option<Timing>,
}

/// Small per-process memory, bounded by clearing when full. It only saves round trips: every
/// fenced decision is made by the store against the stored item.
#[derive(Default)]
struct Caches {
    /// (partition, lock id) → what the acquisition saw.
    held: HashMap<(String, u64), Held>,
    /// Partitions last seen locked by another request: the next acquisition looks before it
    /// writes, so polling a held lock is one read.
    locked: HashSet<String>,
    /// partition → (renewed_at, timeout) last seen.
    renewals: HashMap<String, (f64, f64)>,
}

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_MAX {
        map.clear();
    }
    map.insert(key, value);
}

/// A tag no other acquisition anywhere uses at the same time. Random alone is not enough: a
/// process forked from another (a Python `ProcessPoolExecutor`, a pre-forking web server)
/// inherits its random generator's state, so two children drew the same tags and each took the
/// other's acquisition for its own (found by the Python 2-process test). The process id and a
/// per-process counter make the tags of racing acquirers differ; the random part keeps them
/// unpredictable. Below 2^53 (a JSON number) and never 0 (0 means released).
fn attempt_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    // splitmix64 finaliser over the three parts: a well-mixed 64-bit value.
    let mut z = fastrand::u64(..)
        ^ (u64::from(std::process::id()) << 32)
        ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z & ((1 << 53) - 1)).max(1)
}

/// A session's partition key and item id.
struct Place {
    pk: String,
    id: String,
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
    counters: EngineCounters,
}

/// What the engine counts of locks (see [`StateStats`]).
#[derive(Debug, Default)]
struct EngineCounters {
    lock_waits: AtomicU64,
    lock_takeovers: AtomicU64,
    fence_failures: AtomicU64,
}

/// A snapshot of what a store has done: its requests ([`StoreStats`]) and the engine's lock
/// events. Every surface shows it (`stats()`, `cst state stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StateStats {
    /// The store's requests, retries by cause and request charge.
    #[serde(flatten)]
    pub store: StoreStats,
    /// Exclusive reads that found the session locked by another request (each poll counts).
    pub lock_waits: u64,
    /// Locks acquired over an expired lock of another request.
    pub lock_takeovers: u64,
    /// Fenced writes, releases or removals refused because the lock was no longer held.
    pub fence_failures: u64,
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
            counters: EngineCounters::default(),
        })
    }

    /// What this store has done so far: requests, retries by cause, request charge (the
    /// store's), lock waits, takeovers and fence failures (the engine's).
    ///
    /// ```
    /// use cosmos_session_state::{MemoryStore, Options, SessionStateStore};
    /// let store = SessionStateStore::new(MemoryStore::new(), Options::default())?;
    /// let ex = store.get_exclusive("s")?;
    /// assert!(store.get_exclusive("s")?.locked);
    /// let stats = store.stats();
    /// assert_eq!((stats.lock_waits, stats.store.requests > 0), (1, true));
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn stats(&self) -> StateStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StateStats {
            store: self.store.store_stats(),
            lock_waits: get(&self.counters.lock_waits),
            lock_takeovers: get(&self.counters.lock_takeovers),
            fence_failures: get(&self.counters.fence_failures),
        }
    }

    fn lock_lost(
        &self,
        sid: &str,
        lock_id: u64,
        found: Option<&SessionItem>,
        now: f64,
    ) -> StateError {
        self.counters.fence_failures.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "cosmos_session_state::engine", session = %session_fingerprint(sid), lock_id, "fence failure: the lock is no longer held");
        lock_lost(sid, lock_id, found, now)
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn place(sid: &str) -> Result<Place> {
        let pk = encode_session_id(sid)?;
        let id = item_id(&pk);
        Ok(Place { pk, id })
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

    /// Records a reply's session token for the session; returns its outcome and whether it is
    /// in doubt.
    fn seen<T>(&self, pk: &str, reply: Reply<T>) -> (T, bool) {
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

    /// Reads the session's item (one round trip).
    fn read_item(&self, sid: &str, at: &Place) -> Result<Option<SessionItem>> {
        let reply = self
            .store
            .read(&at.pk, &at.id, self.presented(&at.pk).as_deref())?;
        self.seen(&at.pk, reply)
            .0
            .item()
            .map(|item| parse(sid, &item))
            .transpose()
    }

    /// Sends one patch: `Ok((outcome, in_doubt))`, with a lost answer (the store gave up on a
    /// connection that may have carried it) as `Ok((None, true))`.
    fn send_patch(&self, at: &Place, patch: &Patch) -> Result<(Option<Outcome>, bool)> {
        match self
            .store
            .patch(&at.pk, &at.id, patch, self.presented(&at.pk).as_deref())
        {
            Ok(reply) => {
                let (outcome, doubt) = self.seen(&at.pk, reply);
                Ok((Some(outcome), doubt))
            }
            Err(StateError::Unavailable(_)) => Ok((None, true)),
            Err(e) => Err(e),
        }
    }

    /// Live content (not expired), decoded (or, without `decode`, only known to exist: empty
    /// data, for operations that replace or remove it without reading it).
    fn live_content(
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
    fn renewal_due(&self, timing: &Timing, now: f64) -> bool {
        timing.expires_at > now
            && now - timing.renewed_at >= self.options.renew_fraction * timing.timeout
    }

    /// The item's `ttl` for content that lives `timeout` seconds.
    fn item_ttl(&self, timeout: f64) -> i64 {
        ttl_of(timeout.max(self.options.lock_ttl))
    }

    /// Renews live content if the renewal is due (one conditional patch of the timing fields).
    /// Returns whether it was renewed.
    fn renew_if_due(&self, at: &Place, content: &ContentPart, now: f64) -> Result<bool> {
        if !self.renewal_due(&content.timing(), now) {
            if content.live(now) {
                self.remember_renewal(&at.pk, content.renewed_at, content.timeout);
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
        let done = matches!(self.send_patch(at, &patch)?.0, Some(Outcome::Done(_)));
        if done {
            self.remember_renewal(&at.pk, now, content.timeout);
        }
        Ok(done)
    }

    fn remember_renewal(&self, pk: &str, at: f64, timeout: f64) {
        bounded_insert(&mut self.caches().renewals, pk.to_owned(), (at, timeout));
    }

    /// Read-only access: the committed content, without taking or waiting for the lock.
    /// `None` when there is no live session. One round trip, plus a conditional renewal at most
    /// once per `renew_fraction` of the timeout.
    pub fn get(&self, sid: &str) -> Result<Option<Content>> {
        let at = Self::place(sid)?;
        let Some(body) = self.read_item(sid, &at)? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let content = self.live_content(sid, &body.content, now, true)?;
        if content.is_some() {
            self.renew_if_due(&at, &body.content, now)?;
        }
        Ok(content)
    }

    /// Exclusive access: acquires the session's lock and returns the content, or reports that a
    /// live lock is held (with the holder's lock id and true age). See the module documentation.
    pub fn get_exclusive(&self, sid: &str) -> Result<Exclusive> {
        self.acquire(sid, true)
    }

    /// A new session's item: no content, the lock held by attempt `tag`.
    fn new_item(&self, at: &Place, tag: u64, now: f64) -> SessionItem {
        SessionItem {
            id: at.id.clone(),
            pk: at.pk.clone(),
            layout: LAYOUT,
            lock: LockPart {
                // Lock ids only grow: a session recreated after cleanup starts above every id an
                // older item can have reached (one per acquisition, far below one per ms).
                lock_id: ((now * 1000.0) as u64).clamp(1, MAX_LOCK_ID - 1),
                held: true,
                attempt: tag,
                acquired_at: now,
                expires_at: now + self.options.lock_ttl,
            },
            content: ContentPart::none(Vec::new()),
            ttl: ttl_of(self.options.lock_ttl),
        }
    }

    /// [`get_exclusive`](Self::get_exclusive); without `decode` the content is only checked for
    /// existence (its data left empty), so a session whose content cannot be decoded can still
    /// be replaced or removed.
    pub(crate) fn acquire(&self, sid: &str, decode: bool) -> Result<Exclusive> {
        let at = Self::place(sid)?;
        // One tag for every attempt of this call: whichever of them landed, even with its answer
        // lost, is recognised as ours (two racers can reach the same lock id; only one wins).
        let tag = attempt_tag();
        // Last seen locked by another: look first, so a poll of a held lock never writes.
        let mut look = self.caches().locked.contains(&at.pk);
        let mut absent = false;
        let mut last_holder = (0, 0.0);
        // The lock last seen was held by another request but expired.
        let mut took_over = false;
        // The last look found the content not live: the acquisition may set the item's `ttl`.
        let mut dead_content = false;
        // One look more than attempts: the last round only looks.
        for round in 0..=CAS_ATTEMPTS {
            if look {
                let now = self.clock.now();
                let current = self.read_item(sid, &at)?;
                if let Some(body) = &current {
                    let lock = &body.lock;
                    if lock.held && lock.attempt == tag {
                        return self.acquired(sid, &at, body, now, decode);
                    }
                    let age = (now - lock.acquired_at).max(0.0);
                    if lock.live(now) {
                        let mut c = self.caches();
                        if c.locked.len() >= CACHE_MAX {
                            c.locked.clear();
                        }
                        c.locked.insert(at.pk.clone());
                        drop(c);
                        self.counters.lock_waits.fetch_add(1, Ordering::Relaxed);
                        return Ok(Exclusive {
                            content: None,
                            locked: true,
                            lock_id: lock.lock_id,
                            lock_age: age,
                        });
                    }
                    if lock.lock_id >= MAX_LOCK_ID {
                        return Err(StateError::CorruptContent {
                            session: session_fingerprint(sid),
                            detail: format!(
                                "the stored lock id {} leaves no next lock id",
                                lock.lock_id
                            ),
                        });
                    }
                    last_holder = (lock.lock_id, age);
                    took_over = lock.held;
                }
                absent = current.is_none();
                dead_content = current.as_ref().is_some_and(|b| !b.content.live(now));
            }
            if round == CAS_ATTEMPTS {
                break;
            }
            let now = self.clock.now();
            let outcome = if absent {
                let body = self.new_item(&at, tag, now).to_value();
                match self
                    .store
                    .create(&at.pk, body, self.presented(&at.pk).as_deref())
                {
                    Ok(reply) => Some(self.seen(&at.pk, reply).0),
                    Err(StateError::Unavailable(_)) => None,
                    Err(e) => return Err(e),
                }
            } else {
                let ttl = dead_content.then(|| ttl_of(self.options.lock_ttl));
                let patch = layout::acquire(tag, now, self.options.lock_ttl, ttl);
                self.send_patch(&at, &patch)?.0
            };
            match outcome {
                Some(Outcome::Done(Some(item))) => {
                    let body = parse(sid, &item)?;
                    if took_over {
                        self.counters.lock_takeovers.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(target: "cosmos_session_state::engine", session = %session_fingerprint(sid), "lock taken over (the holder's lock expired)");
                    }
                    // Liveness as of now that the lock is ours (the time read before sending it
                    // can be earlier than a write that landed just before ours).
                    return self.acquired(sid, &at, &body, self.clock.now(), decode);
                }
                // No item: create it next (no look needed).
                Some(Outcome::NotFound) => {
                    absent = true;
                    look = false;
                }
                // Held by another, raced, or unknown (a lost answer): look before trying again.
                _ => look = true,
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

    /// The lock in `body` is ours: remember what a later write needs, return the content.
    fn acquired(
        &self,
        sid: &str,
        at: &Place,
        body: &SessionItem,
        now: f64,
        decode: bool,
    ) -> Result<Exclusive> {
        let lock_id = body.lock.lock_id;
        let live = body.content.live(now);
        {
            let mut c = self.caches();
            c.locked.remove(&at.pk);
            let held = Held {
                writers: body.content.writers.clone(),
                timing: live.then(|| body.content.timing()),
            };
            bounded_insert(&mut c.held, (at.pk.clone(), lock_id), held);
        }
        let content = match self.live_content(sid, &body.content, now, decode) {
            Ok(content) => content,
            Err(e) => {
                // Content that cannot be decoded must not leave the session locked for
                // lock_ttl: give back what we took, then report.
                let _ = self.release(sid, lock_id);
                return Err(e);
            }
        };
        Ok(Exclusive {
            content,
            locked: false,
            lock_id,
            lock_age: 0.0,
        })
    }

    fn take_held(&self, pk: &str, lock_id: u64) -> Option<Held> {
        self.caches().held.remove(&(pk.to_owned(), lock_id))
    }

    /// After a fenced write whose outcome is not known first-hand (its answer was lost) and whose
    /// lock has moved on: whether `lock_id`'s write landed, from the content's writers in
    /// `current`. Landed: `Ok`. Not among them while the list still reaches back past `lock_id`:
    /// [`StateError::LockLost`] (definitely not written). Pushed out by later writers, or the
    /// item gone: [`StateError::OutcomeUnknown`].
    fn landed_or_lost(
        &self,
        sid: &str,
        lock_id: u64,
        current: Option<&SessionItem>,
        now: f64,
    ) -> Result<()> {
        let Some(body) = current else {
            return Err(StateError::OutcomeUnknown {
                session: session_fingerprint(sid),
                lock_id,
            });
        };
        let writers = &body.content.writers;
        if writers.contains(&lock_id) {
            return Ok(());
        }
        if writers.len() >= WRITERS_KEPT && writers.iter().all(|&w| w > lock_id) {
            return Err(StateError::OutcomeUnknown {
                session: session_fingerprint(sid),
                lock_id,
            });
        }
        Err(self.lock_lost(sid, lock_id, current, now))
    }

    /// The content part of a write of `data`, checked against the limits.
    fn content_part(&self, sid: &str, data: &[u8], timeout: f64, now: f64) -> Result<ContentPart> {
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

    /// The content's writers when the lock is held under `lock_id`: remembered from acquiring it
    /// on this node, else read (`Err` with what was found when it is not held so).
    fn writers_under(
        &self,
        sid: &str,
        at: &Place,
        lock_id: u64,
    ) -> Result<std::result::Result<Vec<u64>, Option<SessionItem>>> {
        if let Some(held) = self.take_held(&at.pk, lock_id) {
            return Ok(Ok(held.writers));
        }
        let current = self.read_item(sid, at)?;
        Ok(match current {
            Some(body) if body.lock.held_by(lock_id) => Ok(body.content.writers),
            other => Err(other),
        })
    }

    /// Runs a fenced patch (its condition: the lock held under `lock_id`) until it is known to
    /// have landed or not. `Ok(Ok(()))`: landed. `Ok(Err(found))`: definitely not, because the
    /// lock is not held under `lock_id` (what was found, for the caller's report). Lost answers
    /// are resolved from the content's writers.
    fn fenced(
        &self,
        sid: &str,
        at: &Place,
        lock_id: u64,
        patch: &Patch,
    ) -> Result<std::result::Result<(), Option<SessionItem>>> {
        let mut doubt = false;
        for _ in 0..CAS_ATTEMPTS {
            let (outcome, in_doubt) = self.send_patch(at, patch)?;
            doubt |= in_doubt;
            match outcome {
                Some(Outcome::Done(_)) => return Ok(Ok(())),
                // A clear "no" with no earlier attempt that may have landed: not written.
                Some(Outcome::PreconditionFailed | Outcome::NotFound) if !doubt => {
                    let found = self.read_item(sid, at)?;
                    return Ok(Err(found));
                }
                _ => {}
            }
            // Unknown: look. Still held under our id: nothing landed, send it again.
            let now = self.clock.now();
            let current = self.read_item(sid, at)?;
            if current.as_ref().is_some_and(|b| b.lock.held_by(lock_id)) {
                continue;
            }
            return match self.landed_or_lost(sid, lock_id, current.as_ref(), now) {
                Ok(()) => Ok(Ok(())),
                Err(StateError::LockLost { .. }) => Ok(Err(current)),
                Err(e) => Err(e),
            };
        }
        Err(not_settled(sid, "the write"))
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
        let at = Self::place(sid)?;
        Self::check_lock_id(lock_id)?;
        let timeout = Self::check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_part(sid, data, timeout, now)?;
        content.writers = match self.writers_under(sid, &at, lock_id)? {
            Ok(writers) => with_writer(writers, lock_id),
            Err(_) if new_item => return self.create_fenced(sid, &at, content, lock_id),
            Err(found) => return Err(self.lock_lost(sid, lock_id, found.as_ref(), now)),
        };
        let patch = layout::write_and_release(lock_id, &content, self.item_ttl(timeout), now);
        let outcome = self.fenced(sid, &at, lock_id, &patch)?;
        // The lock was ours under `lock_id` (acquired on this node, or read as held so): a
        // write that did not land is a lost lock, new item or not.
        match outcome {
            Ok(()) => {
                self.remember_renewal(&at.pk, now, timeout);
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
    fn create_fenced(
        &self,
        sid: &str,
        at: &Place,
        mut content: ContentPart,
        lock_id: u64,
    ) -> Result<()> {
        let timeout = content.timeout;
        let ttl = self.item_ttl(timeout);
        for _ in 0..CAS_ATTEMPTS {
            let now = self.clock.now();
            let current = self.read_item(sid, at)?;
            let outcome = match &current {
                None => {
                    content.writers = Self::writers_with(Vec::new(), lock_id);
                    let body = SessionItem {
                        id: at.id.clone(),
                        pk: at.pk.clone(),
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
                        .create(&at.pk, body.to_value(), self.presented(&at.pk).as_deref())
                        .map(|r| self.seen(&at.pk, r))
                }
                Some(body) => {
                    if body.lock.live(now) && body.lock.lock_id != lock_id {
                        return Err(self.lock_lost(sid, lock_id, current.as_ref(), now));
                    }
                    if body.content.live(now) {
                        return Err(StateError::SessionExists(session_fingerprint(sid)));
                    }
                    content.writers = Self::writers_with(body.content.writers.clone(), lock_id);
                    let patch = layout::claim_free(body.lock.lock_id, lock_id, &content, ttl, now);
                    self.store
                        .patch(&at.pk, &at.id, &patch, self.presented(&at.pk).as_deref())
                        .map(|r| self.seen(&at.pk, r))
                }
            };
            match outcome {
                Ok((Outcome::Done(_), _)) => {
                    self.remember_renewal(&at.pk, now, timeout);
                    return Ok(());
                }
                // Lost, or someone changed the item since we read it: look again (a write of
                // ours that landed makes the content live under our id: see below).
                Ok(_) | Err(StateError::Unavailable(_)) => {
                    let again = self.read_item(sid, at)?;
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

    /// `writers` with a write under `lock_id` recorded (none for lock id 0: no lock of ours).
    fn writers_with(writers: Vec<u64>, lock_id: u64) -> Vec<u64> {
        if lock_id == 0 {
            writers
        } else {
            with_writer(writers, lock_id)
        }
    }

    /// Releases lock `lock_id` without writing (renewing the content in the same patch when the
    /// renewal is due). A lock id that is not the holder's, or 0, changes nothing and returns
    /// `false`; `true` when a lock was released.
    pub fn release(&self, sid: &str, lock_id: u64) -> Result<bool> {
        let at = Self::place(sid)?;
        Self::check_lock_id(lock_id)?;
        if lock_id == 0 {
            return Ok(false);
        }
        let now = self.clock.now();
        let held = self.take_held(&at.pk, lock_id);
        // Reading the content was an access: renew it with the release when due. Only content
        // known live now (its expiry as acquired is a lower bound): an expired session is never
        // brought back by a late release.
        let renewal = held
            .and_then(|h| h.timing)
            .filter(|t| self.renewal_due(t, now))
            .map(|t| (t.timeout, self.item_ttl(t.timeout)));
        let patch = layout::release(lock_id, now, renewal);
        for _ in 0..CAS_ATTEMPTS {
            let (outcome, doubt) = self.send_patch(&at, &patch)?;
            match outcome {
                Some(Outcome::Done(_)) => {
                    if let Some((timeout, _)) = renewal {
                        self.remember_renewal(&at.pk, now, timeout);
                    }
                    return Ok(true);
                }
                // Not held under that id: a no-op (a foreign id, or the lock moved on).
                Some(Outcome::PreconditionFailed | Outcome::NotFound) if !doubt => {
                    return Ok(false);
                }
                _ => {}
            }
            let current = self.read_item(sid, &at)?;
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
        let at = Self::place(sid)?;
        let timeout = Self::check_timeout(timeout, self.options.timeout)?;
        let now = self.clock.now();
        let mut content = self.content_part(sid, &[], timeout, now)?;
        content.uninitialized = true;
        // Lock id 0: no lock of ours. A live session, or a lock held on the id (a request is
        // creating it), means the id is in use: nothing to do.
        match self.create_fenced(sid, &at, content, 0) {
            Err(StateError::SessionExists(_) | StateError::LockLost { .. }) => Ok(()),
            other => other,
        }
    }

    /// Removes the session (ASP.NET `RemoveItem`, on abandon) under lock `lock_id`, releasing the
    /// lock in the same fenced patch: the content is replaced by an expired tombstone that
    /// Cosmos DB `ttl` removes a minute later. Returns `false` and deletes nothing when the lock
    /// is not held under `lock_id` (a foreign id, 0, or a lock taken over).
    pub fn remove(&self, sid: &str, lock_id: u64) -> Result<bool> {
        let at = Self::place(sid)?;
        Self::check_lock_id(lock_id)?;
        if lock_id == 0 {
            return Ok(false);
        }
        let now = self.clock.now();
        self.caches().renewals.remove(&at.pk);
        let writers = match self.writers_under(sid, &at, lock_id)? {
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
        Ok(self.fenced(sid, &at, lock_id, &patch)?.is_ok())
    }

    /// Extends the session's life (ASP.NET `ResetItemTimeout`), by the same rule as a read: only
    /// when the renewal is due, conditionally. Free when this process saw the session renewed
    /// recently.
    pub fn reset_timeout(&self, sid: &str) -> Result<bool> {
        let at = Self::place(sid)?;
        let now = self.clock.now();
        if let Some(&(renewed_at, timeout)) = self.caches().renewals.get(&at.pk) {
            if now - renewed_at < self.options.renew_fraction * timeout {
                return Ok(false);
            }
        }
        let Some(body) = self.read_item(sid, &at)? else {
            return Ok(false);
        };
        self.renew_if_due(&at, &body.content, now)
    }

    /// What an operator sees of one session (`cst state show`). One read.
    pub fn show(&self, sid: &str) -> Result<SessionInfo> {
        let at = Self::place(sid)?;
        let current = self.read_item(sid, &at)?;
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
    /// [`StateError::LockLost`].
    pub fn force_unlock(&self, sid: &str) -> Result<Option<u64>> {
        let at = Self::place(sid)?;
        for _ in 0..CAS_ATTEMPTS {
            let Some(body) = self.read_item(sid, &at)? else {
                return Ok(None);
            };
            if !body.lock.held {
                return Ok(None);
            }
            let patch = layout::force_release(body.lock.lock_id, self.clock.now());
            if matches!(self.send_patch(&at, &patch)?.0, Some(Outcome::Done(_))) {
                return Ok(Some(body.lock.lock_id));
            }
        }
        Err(not_settled(sid, "unlocking"))
    }
}
