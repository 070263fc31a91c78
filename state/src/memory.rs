//! An in-memory [`Store`]: deterministic, for exhaustive tests, with an optional replica model.
//!
//! The replica model follows how Session consistency behaves: every write goes to the primary,
//! which advances a log sequence number (LSN) and answers with the session token `0:1#<lsn>`;
//! a read is served by a replica that may lag behind by up to `max_lag` writes, unless the
//! request presents a token the replica has not reached — then it is served by the primary (Cosmos
//! DB waits for the replica or retries elsewhere). Conditional writes are always decided on the
//! primary. This is the model the token-flow guarantee is proven on.

use std::collections::HashMap;
use std::sync::Mutex;

use cosmos_session_token::SessionToken;
use serde_json::Value;

use crate::error::{Result, StateError};
use crate::store::{BatchOp, Item, Outcome, Reply, Store};

/// Counts of the calls a store served (one call = one round trip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Round trips (a batch counts once).
    pub round_trips: u64,
    /// Point reads.
    pub reads: u64,
    /// Calls that can write (create, replace, delete, batch).
    pub writes: u64,
    /// Reads served by a lagging replica with an older version than the primary's.
    pub stale_reads: u64,
}

/// An item's versions, oldest first: (lsn, the item, or `None` once deleted).
type Versions = Vec<(u64, Option<Item>)>;

#[derive(Default)]
struct State {
    /// (pk, id) → versions.
    items: HashMap<(String, String), Versions>,
    lsn: u64,
    etags: u64,
    stats: Stats,
    rng: Option<fastrand::Rng>,
}

/// Most versions kept per item for lagging replicas.
const HISTORY: usize = 64;

/// An in-memory store. See the [module documentation](self).
///
/// ```
/// use cosmos_session_state::{MemoryStore, Store, Outcome};
/// let s = MemoryStore::new();
/// let created = s.create("p", serde_json::json!({"id": "a", "pk": "p"}), None).unwrap();
/// let etag = created.value.item().unwrap().etag;
/// assert!(matches!(s.replace("p", "a", "wrong", serde_json::json!({"id": "a"}), None).unwrap().value,
///                  Outcome::PreconditionFailed));
/// assert!(matches!(s.delete("p", "a", &etag, None).unwrap().value, Outcome::Done(None)));
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

    fn current(&self, pk: &str, id: &str) -> Option<&Item> {
        self.items
            .get(&(pk.to_owned(), id.to_owned()))
            .and_then(|v| v.last())
            .and_then(|(_, item)| item.as_ref())
    }

    fn as_of(&self, pk: &str, id: &str, lsn: u64) -> Option<&Item> {
        self.items
            .get(&(pk.to_owned(), id.to_owned()))
            .and_then(|v| v.iter().rev().find(|(at, _)| *at <= lsn))
            .and_then(|(_, item)| item.as_ref())
    }

    fn put(&mut self, pk: &str, id: &str, body: Option<Value>) -> Option<Item> {
        self.lsn += 1;
        let item = body.map(|mut body| {
            self.etags += 1;
            let etag = format!("\"{:08x}\"", self.etags);
            if let Some(obj) = body.as_object_mut() {
                obj.insert("_etag".into(), Value::String(etag.clone()));
            }
            Item {
                id: id.to_owned(),
                etag,
                body,
            }
        });
        let versions = self
            .items
            .entry((pk.to_owned(), id.to_owned()))
            .or_default();
        versions.push((self.lsn, item.clone()));
        if versions.len() > HISTORY {
            versions.remove(0);
        }
        item
    }

    /// One write decided on the primary.
    fn apply(&mut self, pk: &str, op: &BatchOp) -> Result<Outcome> {
        Ok(match op {
            BatchOp::Create(body) => {
                let id = body_id(body)?;
                if self.current(pk, &id).is_some() {
                    Outcome::Conflict
                } else {
                    Outcome::Done(self.put(pk, &id, Some(body.clone())))
                }
            }
            BatchOp::Upsert(body) => {
                let id = body_id(body)?;
                Outcome::Done(self.put(pk, &id, Some(body.clone())))
            }
            BatchOp::Replace { id, if_match, body } => match self.current(pk, id) {
                None => Outcome::NotFound,
                Some(item) if item.etag != *if_match => Outcome::PreconditionFailed,
                Some(_) => Outcome::Done(self.put(pk, id, Some(body.clone()))),
            },
            BatchOp::Delete { id, if_match } => match self.current(pk, id) {
                None => Outcome::NotFound,
                Some(item) if item.etag != *if_match => Outcome::PreconditionFailed,
                Some(_) => {
                    self.put(pk, id, None);
                    Outcome::Done(None)
                }
            },
        })
    }

    fn write_reply<T>(&mut self, value: T) -> Result<Reply<T>> {
        self.stats.round_trips += 1;
        self.stats.writes += 1;
        Ok(Reply {
            value,
            session_token: Some(token_of(self.lsn)),
            charge: 1.0,
        })
    }
}

impl Store for MemoryStore {
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
        })
    }

    fn query_partition(&self, pk: &str, token: Option<&str>) -> Result<Reply<Vec<Item>>> {
        let mut s = self.lock();
        s.stats.round_trips += 1;
        s.stats.reads += 1;
        let served = s.served_lsn(self.max_lag, token);
        let mut ids: Vec<&String> = s
            .items
            .keys()
            .filter(|(p, _)| p == pk)
            .map(|(_, id)| id)
            .collect();
        ids.sort();
        let items: Vec<Item> = ids
            .iter()
            .filter_map(|id| s.as_of(pk, id, served).cloned())
            .collect();
        let stale = served < s.lsn
            && ids
                .iter()
                .any(|id| s.as_of(pk, id, served) != s.current(pk, id));
        if stale {
            s.stats.stale_reads += 1;
        }
        Ok(Reply {
            value: items,
            session_token: Some(token_of(served)),
            charge: 1.0,
        })
    }

    fn create(&self, pk: &str, body: Value, _token: Option<&str>) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        let outcome = s.apply(pk, &BatchOp::Create(body))?;
        s.write_reply(outcome)
    }

    fn replace(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        body: Value,
        _token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        let op = BatchOp::Replace {
            id: id.to_owned(),
            if_match: if_match.to_owned(),
            body,
        };
        let outcome = s.apply(pk, &op)?;
        s.write_reply(outcome)
    }

    fn delete(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        _token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        let mut s = self.lock();
        let op = BatchOp::Delete {
            id: id.to_owned(),
            if_match: if_match.to_owned(),
        };
        let outcome = s.apply(pk, &op)?;
        s.write_reply(outcome)
    }

    /// Atomic, like Cosmos DB: when an operation fails, none of the batch is applied.
    fn batch(
        &self,
        pk: &str,
        ops: &[BatchOp],
        _token: Option<&str>,
    ) -> Result<Reply<Vec<Outcome>>> {
        let mut s = self.lock();
        let saved = (s.items.clone(), s.lsn, s.etags);
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            let outcome = s.apply(pk, op)?;
            let failed = !matches!(outcome, Outcome::Done(_));
            outcomes.push(outcome);
            if failed {
                (s.items, s.lsn, s.etags) = saved;
                break;
            }
        }
        s.write_reply(outcomes)
    }
}
