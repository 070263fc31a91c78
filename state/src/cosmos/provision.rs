//! Creating what a write needs: the database and the container (partition key `/pk`, only
//! `/pk/?` indexed, per-item TTL on), when a write finds them missing and the store may create.

use serde_json::json;

use super::response::{Response, excerpt};
use super::telemetry::bump;
use super::{CosmosStore, Regions};
use crate::error::{Result, StateError};

/// Sub-status of a 404 for an item whose database or container does not exist.
pub(super) const OWNER_NOT_FOUND: u32 = 1003;

impl CosmosStore {
    /// Sends a write; when the container is missing (404/1003), creates it (if allowed) and
    /// sends it once more.
    pub(super) fn write(
        &self,
        method: &str,
        link: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Response> {
        let a = self.send(
            Regions::WriteRegion,
            method,
            link,
            "docs",
            sign_link,
            headers,
            Some(body),
        )?;
        if a.status == 404 && a.substatus == OWNER_NOT_FOUND {
            self.create_container()?;
            return self.send(
                Regions::WriteRegion,
                method,
                link,
                "docs",
                sign_link,
                headers,
                Some(body),
            );
        }
        Ok(a)
    }

    /// Creates the database and the container (409: they exist). Only writes call it, after
    /// a 404/1003 said the container is missing, and only when the store may create
    /// ([`CosmosOptions::create_if_missing`], key sign-in); otherwise the error says how to
    /// create the container.
    fn create_container(&self) -> Result<()> {
        if !self.options.create_if_missing || self.is_entra() {
            let why = if self.is_entra() {
                "Entra ID tokens cannot create databases or containers"
            } else {
                "create_if_missing is off"
            };
            return Err(StateError::Store(format!(
                "the container {} does not exist and is not created ({why}): create it with partition key /pk and time-to-live on (default -1), e.g. az cosmosdb sql container create --database-name {} --name {} --partition-key-path /pk --ttl -1",
                self.collection_link(),
                self.options.database,
                self.options.container
            )));
        }
        let json = ("content-type", "application/json".to_owned());
        let db = json!({"id": self.options.database}).to_string();
        let a = self.send(
            Regions::WriteRegion,
            "POST",
            "dbs",
            "dbs",
            "",
            std::slice::from_ref(&json),
            Some(db.as_bytes()),
        )?;
        self.expect_created(&a, "creating the database")?;
        let coll = json!({
            "id": self.options.container,
            "partitionKey": {"paths": ["/pk"], "kind": "Hash"},
            // Nothing is queried (every operation is a point read or write of one item): only the
            // partition key path is indexed.
            "indexingPolicy": {"indexingMode": "consistent", "automatic": true,
                               "includedPaths": [{"path": "/pk/?"}], "excludedPaths": [{"path": "/*"}]},
            "defaultTtl": -1
        })
        .to_string();
        let db_link = format!("dbs/{}", self.options.database);
        let a = self.send(
            Regions::WriteRegion,
            "POST",
            &format!("{db_link}/colls"),
            "colls",
            &db_link,
            &[json],
            Some(coll.as_bytes()),
        )?;
        self.expect_created(&a, "creating the container")?;
        bump(&self.counters.containers_created);
        tracing::info!(target: "cosmos_session_state::store", container = %self.collection_link(), "container created");
        Ok(())
    }

    fn expect_created(&self, a: &Response, what: &str) -> Result<()> {
        match a.status {
            200 | 201 | 409 => Ok(()),
            401 | 403 => Err(self.auth_error(a, what)),
            s => Err(StateError::Store(format!(
                "{what}: status {s}: {}",
                excerpt(&a.body)
            ))),
        }
    }
}
