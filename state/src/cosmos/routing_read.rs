//! What routing needs of a container, read from the account: its partition-key definition
//! (`GET dbs/{db}/colls/{coll}`, here) and its ranges ([`CosmosStore::routing_map`]), for operators'
//! tools (`cst route --connection-string`). The requests are the store's own: signed with its
//! key or Entra ID token, routed by the account's regions, retried within its budgets and bounded
//! by its `operation_timeout`; nothing is created or written.

use std::time::Instant;

use cosmos_session_token::PartitionKeyDefinition;
use serde_json::Value;

use super::{CosmosStore, Route, excerpt};
use crate::error::{Result, StateError};

impl CosmosStore {
    /// The container's partition-key definition, from `GET dbs/{db}/colls/{coll}` (its
    /// `partitionKey`; no `version`: 1, as the service defaults), within one `operation_timeout`.
    /// A container that does not exist, a refused sign-in or an answer without a readable
    /// definition is an error naming the container.
    pub fn partition_key_definition(&self) -> Result<PartitionKeyDefinition> {
        let coll = self.collection_link();
        let deadline = Instant::now() + self.options.operation_timeout;
        let a = self.send_within(
            deadline,
            Route::Read,
            "GET",
            &coll,
            "colls",
            &coll,
            &[],
            None,
        )?;
        match a.status {
            200 => {}
            404 => {
                return Err(StateError::Store(format!(
                    "the container {coll} does not exist"
                )));
            }
            401 | 403 => return Err(self.auth_error(&a, "reading the container")),
            s => {
                return Err(StateError::Store(format!(
                    "reading the container {coll}: status {s}: {}",
                    excerpt(&a.body)
                )));
            }
        }
        let refuse =
            |why: String| StateError::Store(format!("reading the container {coll}: {why}"));
        let doc: Value = serde_json::from_slice(&a.body).map_err(|e| {
            refuse(format!(
                "the answer is not JSON (line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        let pk = doc
            .get("partitionKey")
            .ok_or_else(|| refuse("the answer has no partitionKey".into()))?;
        PartitionKeyDefinition::from_json(&pk.to_string())
            .map_err(|e| refuse(format!("its partitionKey: {e}")))
    }
}
