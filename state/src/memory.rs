//! An in-memory [`Store`]: deterministic, for exhaustive tests, with an optional replica model.
//!
//! The replica model follows how Session consistency behaves: every write goes to the primary,
//! which advances a log sequence number (LSN) and answers with the session token `0:1#<lsn>`;
//! a read is served by a replica that may lag behind by up to `max_lag` writes, unless the
//! request presents a token the replica has not reached — then it is served by the primary (Cosmos
//! DB waits for the replica or retries elsewhere). Conditional writes are always decided on the
//! primary. This is the model the token-flow guarantee is proven on.
//!
//! With [`MemoryStore::with_ttl`] it also models Cosmos DB's per-item `ttl`: an item whose `ttl`
//! (seconds, counted from its last write) has run out on the given clock is gone — not found,
//! and a create of its id succeeds — as the service's cleanup makes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cosmos_session_token::SessionToken;
use serde_json::Value;

use crate::clock::Clock;
use crate::error::{Result, StateError};
use crate::store::{Item, MAX_PATCH_OPS, Outcome, Patch, Reply, Store, apply_patch_ops};

/// Counts of the calls a store served (one call = one round trip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Round trips (a batch counts once).
    pub round_trips: u64,
    /// Point reads.
    pub reads: u64,
    /// Calls that can write (create, patch), whether or not they changed anything.
    pub writes: u64,
    /// Calls that changed an item (a create or a patch that applied).
    pub applied: u64,
    /// Reads served by a lagging replica with an older version than the primary's.
    pub stale_reads: u64,
}

/// An item's versions, oldest first: (lsn, the item, when it was written on the TTL clock).
/// (The store has no delete; items go only by `ttl`, when it is modelled.)
type Versions = Vec<(u64, Item, f64)>;

#[derive(Default)]
struct State {
    /// (pk, id) → versions.
    items: HashMap<(String, String), Versions>,
    lsn: u64,
    etags: u64,
    stats: Stats,
    rng: Option<fastrand::Rng>,
    /// The clock `ttl` runs on (None: `ttl` is not modelled).
    ttl_clock: Option<Arc<dyn Clock>>,
}

/// Whether `item`, written at `written_at`, has outlived its `ttl` at `now` (a positive number
/// of seconds; absent or -1: never, as the session container's default).
fn expired(item: &Item, written_at: f64, now: Option<f64>) -> bool {
    let ttl = item.body.get("ttl").and_then(Value::as_f64).unwrap_or(-1.0);
    matches!(now, Some(now) if ttl > 0.0 && now >= written_at + ttl)
}

/// Most versions kept per item for lagging replicas.
const HISTORY: usize = 64;

/// An in-memory store: deterministic, with an optional replica model of Session consistency
/// ([`MemoryStore::with_replicas`]).
///
/// ```
/// use cosmos_session_state::{MemoryStore, Store, Outcome};
/// use cosmos_session_state::{Patch, PatchOp, Predicate};
/// let s = MemoryStore::new();
/// s.create("p", serde_json::json!({"id": "a", "pk": "p", "n": 1}), None).unwrap();
/// let bump = Patch {
///     condition: Some(Predicate::Eq("n", 1.into())),
///     ops: vec![PatchOp::Incr("n", 1)],
/// };
/// let done = s.patch("p", "a", &bump, None).unwrap().value.item().unwrap();
/// assert_eq!(done.body["n"], 2);
/// assert_eq!(s.patch("p", "a", &bump, None).unwrap().value, Outcome::PreconditionFailed);
/// ```
pub struct MemoryStore {
    state: Mutex<State>,
    max_lag: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// A store whose reads always see the latest write (Strong consistency).
    pub fn new() -> Self {
        MemoryStore {
            state: Mutex::new(State::default()),
            max_lag: 0,
        }
    }

    /// A store with the replica model: each read without a sufficient token is served by a
    /// replica lagging by 0..=`max_lag` writes, chosen by a generator seeded with `seed`.
    pub fn with_replicas(seed: u64, max_lag: u64) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                rng: Some(fastrand::Rng::with_seed(seed)),
                ..State::default()
            }),
            max_lag,
        }
    }

    /// A store (reads always see the latest write) that models Cosmos DB's item `ttl` on
    /// `clock`: an item is gone once `ttl` seconds have passed since its last write.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cosmos_session_state::{ManualClock, MemoryStore, Outcome, Store};
    /// let clock = Arc::new(ManualClock::new(0.0));
    /// let s = MemoryStore::with_ttl(clock.clone());
    /// s.create("p", serde_json::json!({"id": "a", "pk": "p", "ttl": 60}), None).unwrap();
    /// clock.advance(59.0);
    /// assert!(s.read("p", "a", None).unwrap().value.item().is_some());
    /// clock.advance(1.0);
    /// assert_eq!(s.read("p", "a", None).unwrap().value, Outcome::NotFound);
    /// ```
    pub fn with_ttl(clock: Arc<dyn Clock>) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                ttl_clock: Some(clock),
                ..State::default()
            }),
            max_lag: 0,
        }
    }

    /// The calls served so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every operation leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn token_of(lsn: u64) -> String {
    format!("0:1#{lsn}")
}

/// The LSN a presented token requires (0 when none or unreadable).
fn required_lsn(token: Option<&str>) -> u64 {
    token
        .and_then(|t| SessionToken::parse(t).ok())
        .and_then(|t| t.get("0").map(|s| s.value().global_lsn()))
        .and_then(|lsn| u64::try_from(lsn).ok())
        .unwrap_or(0)
}

fn body_id(body: &Value) -> Result<String> {
    body.get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| StateError::Store("item body has no string id".into()))
}

impl State {
    /// The LSN of the replica that serves a read: lagging by 0..=max_lag writes, unless the
    /// presented token requires more (then the primary's).
    fn served_lsn(&mut self, max_lag: u64, token: Option<&str>) -> u64 {
        let lag = match &mut self.rng {
            Some(rng) if max_lag > 0 => rng.u64(0..=max_lag),
            _ => 0,
        };
        let served = self.lsn.saturating_sub(lag);
        if required_lsn(token) > served {
            self.lsn // the replica has not reached the token: the primary answers
        } else {
            served
        }
    }

    fn ttl_now(&self) -> Option<f64> {
        self.ttl_clock.as_ref().map(|c| c.now())
    }

    fn current(&self, pk: &str, id: &str) -> Option<&Item> {
        let now = self.ttl_now();
        self.items
            .get(&(pk.to_owned(), id.to_owned()))
            .and_then(|v| v.last())
            .filter(|(_, item, written)| !expired(item, *written, now))
            .map(|(_, item, _)| item)
    }

    fn as_of(&self, pk: &str, id: &str, lsn: u64) -> Option<&Item> {
        let now = self.ttl_now();
        self.items
            .get(&(pk.to_owned(), id.to_owned()))
            .and_then(|v| v.iter().rev().find(|(at, _, _)| *at <= lsn))
            .filter(|(_, item, written)| !expired(item, *written, now))
            .map(|(_, item, _)| item)
    }

    fn put(&mut self, pk: &str, id: &str, mut body: Value) -> Item {
        self.lsn += 1;
        self.etags += 1;
        let etag = format!("\"{:08x}\"", self.etags);
        if let Some(obj) = body.as_object_mut() {
            obj.insert("_etag".into(), Value::String(etag.clone()));
        }
        let item = Item {
            id: id.to_owned(),
            etag,
            body,
        };
        let versions = self
            .items
            .entry((pk.to_owned(), id.to_owned()))
            .or_default();
        let written = self.ttl_clock.as_ref().map_or(0.0, |c| c.now());
        versions.push((self.lsn, item.clone(), written));
        if versions.len() > HISTORY {
            versions.remove(0);
        }
        item
    }

    fn write_reply<T>(&mut self, value: T, applied: bool) -> Result<Reply<T>> {
        self.stats.round_trips += 1;
        self.stats.writes += 1;
        if applied {
            self.stats.applied += 1;
        }
        Ok(Reply {
            value,
            session_token: Some(token_of(self.lsn)),
            charge: 1.0,
            in_doubt: false,
        })
    }
}

impl Store for MemoryStore {
    fn store_stats(&self) -> crate::store::StoreStats {
        crate::store::StoreStats {
            requests: self.lock().stats.round_trips,
            ..Default::default()
        }
    }

    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        s.stats.round_trips += 1;
        s.stats.reads += 1;
        let primary = s.lsn;
        let served = s.served_lsn(self.max_lag, token);
        let item = s.as_of(pk, id, served).cloned();
        if served < primary && item.as_ref() != s.current(pk, id) {
            s.stats.stale_reads += 1;
        }
        Ok(Reply {
            value: item.map_or(Outcome::NotFound, |i| Outcome::Done(Some(i))),
            session_token: Some(token_of(served)),
            charge: 1.0,
            in_doubt: false,
        })
    }

    fn create(&self, pk: &str, body: Value, _token: Option<&str>) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        let id = body_id(&body)?;
        if s.current(pk, &id).is_some() {
            return s.write_reply(Outcome::Conflict, false);
        }
        let item = s.put(pk, &id, body);
        s.write_reply(Outcome::Done(Some(item)), true)
    }

    /// Decided on the primary, atomically: the condition and the updates see the same version.
    fn patch(
        &self,
        pk: &str,
        id: &str,
        patch: &Patch,
        _token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        let Some(current) = s.current(pk, id).cloned() else {
            return s.write_reply(Outcome::NotFound, false);
        };
        if patch.ops.len() > MAX_PATCH_OPS {
            return Err(StateError::Rejected(format!(
                "a patch of {} operations (Cosmos DB takes at most {MAX_PATCH_OPS})",
                patch.ops.len()
            )));
        }
        if patch
            .condition
            .as_ref()
            .is_some_and(|c| !c.holds(&current.body))
        {
            return s.write_reply(Outcome::PreconditionFailed, false);
        }
        let mut body = current.body;
        apply_patch_ops(&mut body, &patch.ops).map_err(StateError::Rejected)?;
        let item = s.put(pk, id, body);
        s.write_reply(Outcome::Done(Some(item)), true)
    }
}
