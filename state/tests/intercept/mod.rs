//! A store wrapper for exact interleavings and faults in the engine's tests: every call goes
//! through a hook that may run code first, answer instead of the store, or lose the answer.

#![allow(dead_code)] // each test binary uses a part

use cosmos_session_state::{Outcome, Patch, PatchOp, Reply, Result, Store, layout};
use serde_json::{Value, json};

/// One call the engine made.
pub enum Call<'a> {
    Read,
    Create(&'a Value),
    Patch(&'a Patch),
}

impl Call<'_> {
    /// A lock acquisition: the acquire patch, or the create of a new session's item.
    pub fn is_acquisition(&self) -> bool {
        match self {
            Call::Patch(p) => p.ops.first() == Some(&PatchOp::Incr("lock.lock_id", 1)),
            Call::Create(body) => body["lock"]["held"] == json!(true),
            Call::Read => false,
        }
    }

    /// Any call that can write.
    pub fn is_write(&self) -> bool {
        !matches!(self, Call::Read)
    }
}

type Hook = Box<
    dyn Fn(&Call<'_>, &mut dyn FnMut() -> Result<Reply<Outcome>>) -> Result<Reply<Outcome>>
        + Send
        + Sync,
>;

/// `inner` with every call passed to `hook` (which calls the store, or not).
pub struct Intercept<S> {
    pub inner: S,
    hook: Hook,
}

impl<S: Store> Intercept<S> {
    pub fn new(
        inner: S,
        hook: impl Fn(&Call<'_>, &mut dyn FnMut() -> Result<Reply<Outcome>>) -> Result<Reply<Outcome>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Intercept {
            inner,
            hook: Box::new(hook),
        }
    }
}

impl<S: Store> Store for Intercept<S> {
    fn read(&self, pk: &str, id: &str, t: Option<&str>) -> Result<Reply<Outcome>> {
        (self.hook)(&Call::Read, &mut || self.inner.read(pk, id, t))
    }
    fn create(&self, pk: &str, body: Value, t: Option<&str>) -> Result<Reply<Outcome>> {
        let call = Call::Create(&body);
        (self.hook)(&call, &mut || self.inner.create(pk, body.clone(), t))
    }
    fn patch(&self, pk: &str, id: &str, patch: &Patch, t: Option<&str>) -> Result<Reply<Outcome>> {
        (self.hook)(&Call::Patch(patch), &mut || {
            self.inner.patch(pk, id, patch, t)
        })
    }
}

/// A reply whose answer was lost after it was applied: the client's retry sees `outcome`.
pub fn retried(outcome: Outcome) -> Reply<Outcome> {
    Reply {
        in_doubt: true,
        ..Reply::plain(outcome)
    }
}

/// A raw stored item for session `sid` in the documented layout (for tests that plant items a
/// foreign or broken writer left): its partition key and body.
pub fn raw_item(sid: &str, lock: Value, content: Value) -> (String, Value) {
    let (pk, id) = layout::session_item(sid).unwrap();
    let mut l =
        json!({"lock_id": 1, "held": false, "attempt": 0, "acquired_at": 0.0, "expires_at": 0.0});
    merge(&mut l, lock);
    let mut c = json!({"data": "", "compressed": false, "uninitialized": false, "timeout": 100.0,
                       "renewed_at": 0.0, "expires_at": 0.0, "writers": []});
    merge(&mut c, content);
    let body = json!({"id": id, "pk": pk, "layout": 2, "lock": l, "content": c, "ttl": 1000});
    (pk, body)
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}
