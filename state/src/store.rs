//! The storage the engine talks to: a few conditional item operations inside one logical
//! partition. Implemented by [`MemoryStore`](crate::MemoryStore) and
//! [`CosmosStore`](crate::CosmosStore); the engine's decisions never depend on which.

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

/// The outcome of one conditional operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done; the item as written or read (`None` for a delete).
    Done(Option<Item>),
    /// 404: no such item.
    NotFound,
    /// 409: an item with that id exists (create).
    Conflict,
    /// 412: the item's etag is not the one given (replace/delete with If-Match).
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

/// One operation of an ordered batch in one logical partition.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    /// Create `body` (409 if its id exists).
    Create(Value),
    /// Create or replace `body` unconditionally.
    Upsert(Value),
    /// Replace item `id` with `body` if its etag is `if_match`.
    Replace {
        /// The item id.
        id: String,
        /// The etag the item must have.
        if_match: String,
        /// The new body.
        body: Value,
    },
    /// Delete item `id` if its etag is `if_match`.
    Delete {
        /// The item id.
        id: String,
        /// The etag the item must have.
        if_match: String,
    },
}

/// What every store call returns besides its outcome: the session token of the response and its
/// request charge, which the engine records.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The outcome.
    pub value: T,
    /// The response's `x-ms-session-token`, if any.
    pub session_token: Option<String>,
    /// The response's request charge (request units).
    pub charge: f64,
}

impl<T> Reply<T> {
    /// A reply without token or charge (for stores that have neither).
    pub fn plain(value: T) -> Self {
        Reply {
            value,
            session_token: None,
            charge: 0.0,
        }
    }
}

/// Conditional item operations in one logical partition (`pk`). `token` is the session token to
/// present (read-your-writes at Session consistency). Every method is one round trip.
///
/// A batch runs its operations in order and stops at the first that fails; on Cosmos DB it is
/// atomic (all or nothing). Callers put the check that guards the batch first, so a store whose
/// batch is not atomic (the test server) still never applies a write whose guard failed.
pub trait Store: Send + Sync {
    /// Reads item `id`.
    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>>;
    /// Creates `body` (its `id` field names it); `Conflict` when it exists.
    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>>;
    /// Replaces item `id` if its etag is `if_match`.
    fn replace(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        body: Value,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>>;
    /// Deletes item `id` if its etag is `if_match`.
    fn delete(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>>;
    /// Every item of the partition (one single-partition query, `WHERE c.pk = @pk`).
    fn query_partition(&self, pk: &str, token: Option<&str>) -> Result<Reply<Vec<Item>>>;
    /// Runs `ops` in order; one outcome per operation that ran (the first failure ends it).
    fn batch(&self, pk: &str, ops: &[BatchOp], token: Option<&str>) -> Result<Reply<Vec<Outcome>>>;
}

/// A shared store: several engines (web nodes, clients in a test) over one database.
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>> {
        (**self).read(pk, id, token)
    }
    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>> {
        (**self).create(pk, body, token)
    }
    fn replace(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        body: Value,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        (**self).replace(pk, id, if_match, body, token)
    }
    fn delete(
        &self,
        pk: &str,
        id: &str,
        if_match: &str,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        (**self).delete(pk, id, if_match, token)
    }
    fn query_partition(&self, pk: &str, token: Option<&str>) -> Result<Reply<Vec<Item>>> {
        (**self).query_partition(pk, token)
    }
    fn batch(&self, pk: &str, ops: &[BatchOp], token: Option<&str>) -> Result<Reply<Vec<Outcome>>> {
        (**self).batch(pk, ops, token)
    }
}
