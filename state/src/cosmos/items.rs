//! The [`Store`] operations over the REST API: a point read, a create and a conditional patch
//! of one item.

use serde_json::{Value, json};

use super::provision::OWNER_NOT_FOUND;
use super::{CosmosStore, Regions};
use crate::error::{Result, StateError};
use crate::store::{Outcome, Patch, PatchOp, Reply, Store, StoreStats};

fn body_id(body: &Value) -> Result<&str> {
    body.get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StateError::Store("an item body has no string id".into()))
}

impl Store for CosmosStore {
    fn store_stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>> {
        let link = format!("{}/docs/{id}", self.collection_link());
        let a = self.send(
            Regions::ReadPlan,
            "GET",
            &link,
            "docs",
            &link,
            &Self::item_headers(pk, token),
            None,
        )?;
        if a.status == 404 && a.substatus == OWNER_NOT_FOUND {
            // No container: no session. Reading creates nothing.
            tracing::debug!(target: "cosmos_session_state::store", container = %self.collection_link(), "the container does not exist (read as not found)");
        }
        let outcome = self.outcome(&a, "reading an item")?;
        Ok(self.reply(&a, outcome))
    }

    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>> {
        body_id(&body)?;
        let coll = self.collection_link();
        let text = body.to_string();
        let a = self.write(
            "POST",
            &format!("{coll}/docs"),
            &coll,
            &Self::item_headers(pk, token),
            text.as_bytes(),
        )?;
        let outcome = self.outcome(&a, "creating an item")?;
        Ok(self.reply(&a, outcome))
    }

    fn patch(
        &self,
        pk: &str,
        id: &str,
        patch: &Patch,
        token: Option<&str>,
    ) -> Result<Reply<Outcome>> {
        let link = format!("{}/docs/{id}", self.collection_link());
        let mut headers = Self::item_headers(pk, token);
        headers.retain(|(name, _)| *name != "content-type");
        headers.push(("content-type", "application/json_patch+json".to_owned()));
        let operations: Vec<Value> = patch
            .ops
            .iter()
            .map(|op| {
                let path = format!("/{}", op.path().replace('.', "/"));
                match op {
                    PatchOp::Set(_, value) => json!({"op": "set", "path": path, "value": value}),
                    PatchOp::Incr(_, by) => json!({"op": "incr", "path": path, "value": by}),
                }
            })
            .collect();
        let mut body = json!({ "operations": operations });
        if let Some(condition) = &patch.condition {
            body["condition"] = Value::String(condition.to_sql());
        }
        let text = body.to_string();
        let a = self.write("PATCH", &link, &link, &headers, text.as_bytes())?;
        let outcome = self.outcome(&a, "patching an item")?;
        Ok(self.reply(&a, outcome))
    }
}
