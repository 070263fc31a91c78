//! What a [`CosmosStore`](super::CosmosStore) tells about its requests: running [`Counters`]
//! and one [`RequestEvent`] per request for an [`Observer`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::StoreStats;

/// What a [`CosmosStore`](super::CosmosStore) has done so far: requests, retries by cause, request units.
#[derive(Debug, Default)]
pub struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) read_session_unavailable: AtomicU64,
    pub(super) write_forbidden: AtomicU64,
    pub(super) region_failovers: AtomicU64,
    pub(super) transient: AtomicU64,
    pub(super) unauthorized: AtomicU64,
    pub(super) account_reads: AtomicU64,
    pub(super) containers_created: AtomicU64,
    pub(super) regions_refused: AtomicU64,
    /// Request charge in hundredths of a request unit.
    pub(super) centi_charge: AtomicU64,
}

/// Adds one to a counter (relaxed: the counters are statistics, ordered by nothing).
pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// HTTP requests sent, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    /// Of those, retries.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    /// Request units charged (sum of `x-ms-request-charge`).
    pub fn request_charge(&self) -> f64 {
        self.centi_charge.load(Ordering::Relaxed) as f64 / 100.0
    }
    /// Every counter at once.
    pub fn snapshot(&self) -> StoreStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreStats {
            requests: get(&self.requests),
            retries: get(&self.retries),
            throttled: get(&self.throttled),
            read_session_unavailable: get(&self.read_session_unavailable),
            write_forbidden: get(&self.write_forbidden),
            region_failovers: get(&self.region_failovers),
            transient: get(&self.transient),
            unauthorized: get(&self.unauthorized),
            account_reads: get(&self.account_reads),
            containers_created: get(&self.containers_created),
            regions_refused: get(&self.regions_refused),
            request_charge: self.request_charge(),
        }
    }
}

/// One HTTP request of a [`CosmosStore`](super::CosmosStore), as an [`Observer`] sees it (also a `tracing` event,
/// target `cosmos_session_state::store`). Nothing in it is secret: no key, token or session id.
#[derive(Debug, Clone, Copy)]
pub struct RequestEvent<'a> {
    /// `GET`, `POST`, `PATCH`.
    pub method: &'a str,
    /// `docs`, `dbs`, `colls`.
    pub resource_type: &'a str,
    /// The region's name (its endpoint when the account could not be described).
    pub region: &'a str,
    /// The HTTP status (0: no answer, the connection failed).
    pub status: u16,
    /// The `x-ms-substatus` (0 when absent).
    pub substatus: u32,
    /// Request units charged.
    pub request_charge: f64,
    /// How long the request took.
    pub duration: Duration,
    /// Retries of this operation before this request (throttling and transient failures).
    pub attempt: u32,
    /// Why the request will be sent again: `throttled`, `read_session_unavailable`,
    /// `write_forbidden`, `transient`, `unauthorized`; None when it is the last.
    pub retry: Option<&'static str>,
    /// The error code when the request failed without an answer (`store_unavailable`).
    pub error: Option<&'static str>,
}

/// Called with every request of a store ([`CosmosStore::with_observer`](super::CosmosStore::with_observer)): the Python
/// binding logs through `logging`, C and .NET callers pass a callback.
pub type Observer = Arc<dyn Fn(&RequestEvent<'_>) + Send + Sync>;
