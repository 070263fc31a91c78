//! The storage the engine talks to: three item operations inside one logical partition — a point
//! read, a create, and a *conditional patch* (a precondition on the stored item checked by the
//! database, and field updates applied only when it holds). Implemented by
//! [`MemoryStore`](crate::MemoryStore) and [`CosmosStore`](crate::CosmosStore); the engine's
//! decisions never depend on which.
//!
//! The patch is what lets a request take a lock and read the session in one round trip, and
//! write and release in one more: the lock is checked by the database against the stored item,
//! never against a copy a node remembers.

use serde_json::Value;

use crate::error::Result;

/// A stored item: its id, its entity tag (changes on every write) and its JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item id (unique within the partition).
    pub id: String,
    /// The entity tag of this version of the item.
    pub etag: String,
    /// The body, including `id` and the partition key field.
    pub body: Value,
}

/// The outcome of one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done; the item as read or as written.
    Done(Option<Item>),
    /// 404: no such item.
    NotFound,
    /// 409: an item with that id exists (create).
    Conflict,
    /// 412: the patch's condition does not hold for the stored item; nothing was changed.
    PreconditionFailed,
}

impl Outcome {
    /// The item of a successful read or write.
    pub fn item(self) -> Option<Item> {
        match self {
            Outcome::Done(item) => item,
            _ => None,
        }
    }
}

/// A condition on a stored item's fields: the precondition of a [`Patch`]. Fields are dotted
/// paths of lower-case names (`"lock.held"`); a missing field makes a comparison false, as in
/// Cosmos DB SQL. The Cosmos store renders it as the patch's `condition`
/// (`from c where …`); the memory store evaluates it directly.
///
/// ```
/// use cosmos_session_state::Predicate;
/// let free = Predicate::Any(vec![
///     Predicate::Eq("lock.held", false.into()),
///     Predicate::AtMost("lock.expires_at", 100.0),
/// ]);
/// assert_eq!(free.to_sql(), "from c where (c.lock.held = false or c.lock.expires_at <= 100.0)");
/// assert!(free.holds(&serde_json::json!({"lock": {"held": true, "expires_at": 99.5}})));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// The field equals a number or a boolean.
    Eq(&'static str, Value),
    /// The field is a number at most this one.
    AtMost(&'static str, f64),
    /// The field is a number below this one.
    Below(&'static str, f64),
    /// The field is a number above this one.
    Above(&'static str, f64),
    /// Every predicate holds.
    All(Vec<Predicate>),
    /// At least one predicate holds.
    Any(Vec<Predicate>),
}

/// A JSON number's text for a finite `f64` (the engine never builds a predicate on anything
/// else; a non-finite value renders as `null`, which no comparison matches).
fn number_text(n: f64) -> String {
    serde_json::Number::from_f64(n).map_or_else(|| "null".to_owned(), |n| n.to_string())
}

fn field<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(body, |v, name| v.get(name))
}

impl Predicate {
    /// Cosmos DB's form of the condition: `from c where …`.
    pub fn to_sql(&self) -> String {
        format!("from c where {}", self.clause())
    }

    fn clause(&self) -> String {
        match self {
            Predicate::Eq(f, v) => format!("c.{f} = {v}"),
            Predicate::AtMost(f, n) => format!("c.{f} <= {}", number_text(*n)),
            Predicate::Below(f, n) => format!("c.{f} < {}", number_text(*n)),
            Predicate::Above(f, n) => format!("c.{f} > {}", number_text(*n)),
            Predicate::All(ps) => Self::join(ps, " and "),
            Predicate::Any(ps) => Self::join(ps, " or "),
        }
    }

    fn join(ps: &[Predicate], with: &str) -> String {
        let parts: Vec<String> = ps.iter().map(Predicate::clause).collect();
        format!("({})", parts.join(with))
    }

    /// Whether the condition holds for an item's body.
    pub fn holds(&self, body: &Value) -> bool {
        let number = |f: &str| field(body, f).and_then(Value::as_f64);
        match self {
            Predicate::Eq(f, v) => match (field(body, f), v) {
                (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Some(a), b) => a == b,
                (None, _) => false,
            },
            Predicate::AtMost(f, n) => number(f).is_some_and(|x| x <= *n),
            Predicate::Below(f, n) => number(f).is_some_and(|x| x < *n),
            Predicate::Above(f, n) => number(f).is_some_and(|x| x > *n),
            Predicate::All(ps) => ps.iter().all(|p| p.holds(body)),
            Predicate::Any(ps) => ps.iter().any(|p| p.holds(body)),
        }
    }
}

/// One field update of a [`Patch`]; the field is a dotted path (`"lock.held"`).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    /// Sets the field (creating it in an existing object).
    Set(&'static str, Value),
    /// Adds to a numeric field (Cosmos DB `incr`).
    Incr(&'static str, i64),
}

impl PatchOp {
    /// The field's path.
    pub fn path(&self) -> &'static str {
        match self {
            PatchOp::Set(p, _) | PatchOp::Incr(p, _) => p,
        }
    }
}

/// Cosmos DB accepts at most this many operations in one patch.
pub const MAX_PATCH_OPS: usize = 10;

/// A conditional update of one item: applied only when `condition` holds for the stored item
/// (else [`Outcome::PreconditionFailed`], nothing changed), all operations or none; the answer
/// carries the item as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The precondition (`None`: unconditional).
    pub condition: Option<Predicate>,
    /// The updates, in order (at most [`MAX_PATCH_OPS`]).
    pub ops: Vec<PatchOp>,
}

/// What every store call returns besides its outcome: the session token of the response, its
/// request charge, and whether the outcome may hide an earlier attempt that was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The outcome.
    pub value: T,
    /// The response's `x-ms-session-token`, if any.
    pub session_token: Option<String>,
    /// The response's request charge (request units).
    pub charge: f64,
    /// An earlier attempt of this request failed after it may have reached the service (a
    /// dropped connection, a timeout), and the store sent it again: a 409/412 answer may then
    /// be the effect of that earlier attempt, which the engine must find out.
    pub in_doubt: bool,
}

impl<T> Reply<T> {
    /// A reply without token or charge (for stores that have neither).
    pub fn plain(value: T) -> Self {
        Reply {
            value,
            session_token: None,
            charge: 0.0,
            in_doubt: false,
        }
    }
}

/// Item operations in one logical partition (`pk`). `token` is the session token to present
/// (read-your-writes at Session consistency). Every method is one round trip (retries of a
/// failed request aside).
pub trait Store: Send + Sync {
    /// Reads item `id`.
    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>>;
    /// Creates `body` (its `id` field names it); `Conflict` when it exists.
    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>>;
    /// Patches item `id`: `NotFound`, `PreconditionFailed`, or `Done` with the item as written.
    fn patch(
        &self,
        pk: &str,
        id: &str,
        patch: &Patch,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>>;
    /// What the store has sent so far (zeros for a store that does not count).
    fn store_stats(&self) -> StoreStats {
        StoreStats::default()
    }
}

/// What a store has sent: requests, retries by cause, request units. The Cosmos DB store fills
/// every field; the memory store counts its round trips as requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StoreStats {
    /// HTTP requests sent, retries and account reads included.
    pub requests: u64,
    /// Of those, retries (any cause).
    pub retries: u64,
    /// Answers 429 or 449 (throttled or a write conflict), retried after the advised wait.
    pub throttled: u64,
    /// Answers 404 with sub-status 1002 (the region had not reached the presented token).
    pub read_session_unavailable: u64,
    /// Answers 403 with sub-status 3 (a write sent to a region that no longer takes writes).
    pub write_forbidden: u64,
    /// Requests moved to another region after a failure of the one tried.
    pub region_failovers: u64,
    /// Answers 408, 410 or 503 and failed connections.
    pub transient: u64,
    /// Answers 401 (an Entra ID token refetched and the request sent again).
    pub unauthorized: u64,
    /// Reads of the account's description (`GET /`).
    pub account_reads: u64,
    /// Databases or containers created (first writes, or after the container disappeared).
    pub containers_created: u64,
    /// Regions of the account description never used: their endpoint broke the rules of
    /// [`crate::cosmos::endpoint::region_refusal`] (another host, plain http, a password).
    pub regions_refused: u64,
    /// Request units charged (sum of `x-ms-request-charge`).
    pub request_charge: f64,
}

/// A shared store: several engines (web nodes, clients in a test) over one database.
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>> {
        (**self).read(pk, id, token)
    }
    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>> {
        (**self).create(pk, body, token)
    }
    fn patch(
        &self,
        pk: &str,
        id: &str,
        patch: &Patch,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        (**self).patch(pk, id, patch, token)
    }
    fn store_stats(&self) -> StoreStats {
        (**self).store_stats()
    }
}

/// Applies `ops` to `body` in place (the memory store's patch, and a reference for tests).
/// A missing parent object is an error, as in Cosmos DB.
pub(crate) fn apply_patch_ops(
    body: &mut Value,
    ops: &[PatchOp],
) -> std::result::Result<(), String> {
    for op in ops {
        let path = op.path();
        let (parents, last) = match path.rsplit_once('.') {
            Some((p, l)) => (Some(p), l),
            None => (None, path),
        };
        let mut target = &mut *body;
        if let Some(parents) = parents {
            for name in parents.split('.') {
                target = target
                    .get_mut(name)
                    .ok_or_else(|| format!("patch path {path}: no {name}"))?;
            }
        }
        let object = target
            .as_object_mut()
            .ok_or_else(|| format!("patch path {path}: not an object"))?;
        match op {
            PatchOp::Set(_, v) => {
                object.insert(last.to_owned(), v.clone());
            }
            PatchOp::Incr(_, by) => {
                let current = object
                    .get(last)
                    .and_then(Value::as_i64)
                    .ok_or_else(|| format!("patch path {path}: not an integer"))?;
                object.insert(last.to_owned(), Value::from(current.saturating_add(*by)));
            }
        }
    }
    Ok(())
}
