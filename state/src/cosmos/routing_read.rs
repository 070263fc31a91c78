//! What routing needs of a container, read from the account: its partition-key definition
//! (`GET dbs/{db}/colls/{coll}`, here) and its ranges ([`CosmosStore::routing_map`]), for operators'
//! tools (`cst route --connection-string`). The requests are the store's own: signed with its
//! key or Entra ID token, routed by the account's regions, retried within its budgets and bounded
//! by its `operation_timeout`; nothing is created or written.

use std::time::Instant;

use cosmos_session_token::PartitionKeyDefinition;
use serde_json::Value;

use super::pkranges;
use super::response::excerpt;
use super::{CosmosStore, Regions};
use crate::error::{Result, StateError};

impl CosmosStore {
    /// The container's partition-key ranges (`GET …/pkranges`, every page), as a routing map for
    /// [`cosmos_session_token::token_for_partition_key`] and friends. Paging is bounded
    /// ([`pkranges`]): at most [`cosmos_session_token::MAX_ROUTING_RANGES`] ranges and
    /// [`pkranges::MAX_BYTES`] of pages, no continuation twice, and one `operation_timeout` for
    /// the whole call.
    pub fn routing_map(&self) -> Result<cosmos_session_token::RoutingMap> {
        let coll = self.collection_link();
        let link = format!("{coll}/pkranges");
        let deadline = Instant::now() + self.options.operation_timeout;
        let mut pages = pkranges::Pages::new(&coll);
        let mut continuation: Option<String> = None;
        loop {
            let mut headers = Vec::new();
            if let Some(c) = &continuation {
                headers.push(("x-ms-continuation", c.clone()));
            }
            let a = self.send_within(
                deadline,
                Regions::ReadPlan,
                "GET",
                &link,
                "pkranges",
                &coll,
                &headers,
                None,
            )?;
            match a.status {
                200 => {}
                404 => {
                    return Err(StateError::Store(format!(
                        "the container {coll} does not exist"
                    )));
                }
                401 | 403 => return Err(self.auth_error(&a, "reading the partition-key ranges")),
                s => {
                    return Err(StateError::Store(format!(
                        "reading the partition-key ranges: status {s}: {}",
                        excerpt(&a.body)
                    )));
                }
            }
            continuation = pages.take(&a.body, a.continuation)?;
            if continuation.is_none() {
                return pages.finish();
            }
        }
    }

    /// The container's partition-key definition, from `GET dbs/{db}/colls/{coll}` (its
    /// `partitionKey`; no `version`: 1, as the service defaults), within one `operation_timeout`.
    /// A container that does not exist, a refused sign-in or an answer without a readable
    /// definition is an error naming the container.
    pub fn partition_key_definition(&self) -> Result<PartitionKeyDefinition> {
        let coll = self.collection_link();
        let deadline = Instant::now() + self.options.operation_timeout;
        let a = self.send_within(
            deadline,
            Regions::ReadPlan,
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
