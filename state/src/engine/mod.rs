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
//!   whose lock was taken over gets [`StateError::LockLost`](crate::StateError::LockLost) (saying what it found instead) and
//!   writes nothing. A write by a node that did not take the lock itself reads the item first (2).
//!   A new session's write without the lock (`new_item`, ASP.NET's new id under an old lock id)
//!   is fenced against the stored lock too: created, or patched where the stored lock is free
//!   and the content not live.
//! * **`LockLost` means definitely not written.** When a write's answer is lost (a dropped
//!   connection after the service applied it) the engine reads the item: its lock still held
//!   under the caller's id means nothing landed (retry); otherwise the content's `writers` (the
//!   lock ids of the last eight writes) say whether it landed, even after others acquired and
//!   wrote since. When they no longer reach back that far, the outcome is
//!   [`StateError::OutcomeUnknown`](crate::StateError::OutcomeUnknown), never `LockLost`. The same holds for `remove` (its
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

mod acquisition;
mod admin;
mod cache;
mod fence;
mod item_io;
mod options;
mod reads;
mod results;
mod token_flow;
mod writes;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cosmos_session_token::{ContainerLimits, MergePolicy, SessionContainer};

use crate::clock::{Clock, SystemClock};
use crate::error::Result;
pub use crate::layout::MAX_LOCK_ID;
use crate::store::{Store, StoreStats};
use cache::Caches;
pub use options::Options;
pub use results::{Content, Exclusive, SessionInfo};

/// Cosmos DB's item size limit.
pub const MAX_ITEM_BYTES: usize = 2 * 1024 * 1024;
/// Room kept for the item's other fields and the service's system properties.
const ITEM_OVERHEAD: usize = 1024;
/// Attempts of a compare-and-swap loop before giving up on contention.
const CAS_ATTEMPTS: usize = 8;
/// Largest session content, uncompressed, in bytes: checked when it is written and when it is
/// read (one limit both ways, so whatever was written can be read, and inflating a stored item
/// never allocates more than this).
pub const MAX_CONTENT_BYTES: usize = 16 << 20;
/// Shards of the per-store token map: each has its own lock and its own bound, so one request's
/// capture never waits on another session's, and eviction scans one shard.
const TOKEN_SHARDS: usize = 16;
/// Sessions whose tokens one shard keeps (least recently used forgotten past it).
const SESSIONS_PER_SHARD: usize = 4096;

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

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|e| e.into_inner())
    }
}
