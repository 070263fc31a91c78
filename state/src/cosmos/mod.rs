//! [`CosmosStore`]: the [`Store`](crate::Store) over the Cosmos DB REST API (blocking HTTP with `ureq`).
//!
//! Every request is signed (the master key, or an Entra ID token: [`credential`]), carries the
//! partition key, the configured consistency level and the session token to present; a patch
//! carries its condition as Cosmos DB SQL (`from c where …`). Every response's session token and
//! request charge are read.
//!
//! Requests are routed by the account's regions ([`topology`]): writes to the write region,
//! reads to the preferred regions, then the write region. The retry policy, in one place
//! (`retry_policy.rs`, applied by `send.rs`):
//! * 404 with sub-status 1002 (the region has not reached the presented session token): retried
//!   twice in the region (10 ms, 20 ms), then in the next region of the read plan, the write
//!   region last; the token is never dropped or weakened; when every region answered 1002 the
//!   read fails with `store_unavailable` naming them, never "not found".
//! * 403 with sub-status 3 (the region no longer takes writes: a failover): the account is read
//!   again and the write sent once to the new write region.
//! * 401 with an Entra ID credential: the token is fetched anew and the request sent once more.
//! * 429 (honouring `x-ms-retry-after-ms`), 449, 408/410/503 and failed connections: retried
//!   within `max_retries` and `max_retry_wait`; a read moves to the next region, a failed
//!   connection to the write region reads the account again.
//! * Every operation ends within `operation_timeout` (each request within `request_timeout`
//!   and what is left of it).
//!
//! A write retried after an attempt that may have reached the service is answered with
//! [`Reply::in_doubt`](crate::Reply::in_doubt) set, so the engine checks what landed. Nothing is created by reading:
//! the database and the container (partition key `/pk`, nothing indexed, per-item TTL on) are
//! created by the first write that finds them missing (404/1003) — again if they disappear —,
//! when [`CosmosOptions::create_if_missing`] is on and the store signs with a key. Every
//! request is traced (`tracing`, target `cosmos_session_state::store`) and counted
//! ([`Counters`]).
//!
//! `ureq` is used because it is blocking (the engine and its C, .NET and Python callers are
//! synchronous), small, and speaks rustls; no async runtime is pulled in.

mod account_read;
mod auth;
mod connection;
pub mod credential;
pub mod endpoint;
mod items;
mod options;
pub mod pkranges;
mod provision;
mod request;
mod response;
mod retry_policy;
mod routing_read;
mod send;
mod telemetry;
pub mod topology;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use auth::master_key_signature;
pub use connection::ConnectionString;
use credential::{Credential, TokenSource};
pub use options::{Authentication, Consistency, CosmosOptions};
pub use telemetry::{Counters, Observer, RequestEvent};
use topology::Topology;

use crate::error::{Result, StateError};

/// How requests are signed.
enum Auth {
    /// The account key (master-key signatures).
    Key(Vec<u8>),
    /// Entra ID access tokens for the account's scope.
    Entra {
        credential: Credential,
        scope: String,
    },
}

/// Which regions a request may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Regions {
    /// An item read: the read plan (preferred regions, then the write region).
    ReadPlan,
    /// A write, or a database/container request: the write region.
    WriteRegion,
}

/// The [`Store`](crate::Store) over the Cosmos DB REST API: requests signed with the master key or an Entra
/// ID token, routed by the account's regions ([`topology`]), each with a timeout, a bounded
/// retry budget and a bound on the whole operation ([`CosmosOptions`]).
pub struct CosmosStore {
    agent: ureq::Agent,
    /// The connection string's endpoint, parsed: regional endpoints must be its siblings.
    account_url: url::Url,
    auth: Auth,
    options: CosmosOptions,
    counters: Counters,
    topology: Mutex<Topology>,
    observer: Option<Observer>,
}

impl CosmosStore {
    /// A store for `connection_string`, signing as `options.authentication` says: with the
    /// key (`AccountEndpoint=…;AccountKey=…;`), or with Entra ID tokens of a managed identity or
    /// a client secret (`AccountEndpoint=…;` only). Nothing is sent until the first operation.
    pub fn connect(connection_string: &str, options: CosmosOptions) -> Result<Self> {
        let source: Option<Arc<dyn TokenSource>> = match &options.authentication {
            Authentication::Key => None,
            Authentication::ManagedIdentity { client_id } => Some(Arc::new(
                credential::ManagedIdentity::from_env(client_id.as_deref())?,
            )),
            Authentication::ClientSecret => Some(Arc::new(credential::ClientSecret::from_env()?)),
        };
        if let Some(source) = source {
            return Self::connect_with_credential(connection_string, options, source);
        }
        let connection = ConnectionString::parse(connection_string)?;
        let key = connection.key().map(<[u8]>::to_vec).ok_or_else(|| {
            StateError::InvalidConnectionString(
                "AccountKey is missing (to sign in with Entra ID instead, give AccountEndpoint only and a credential)".into(),
            )
        })?;
        Self::build(connection, Auth::Key(key), options)
    }

    /// A store for a connection string with only `AccountEndpoint`, signing with Entra ID
    /// tokens from `source` (cached and refreshed before expiry). Such a store cannot create
    /// databases or containers (the data plane refuses it for Entra ID tokens): the container
    /// must exist.
    pub fn connect_with_credential(
        connection_string: &str,
        options: CosmosOptions,
        source: Arc<dyn TokenSource>,
    ) -> Result<Self> {
        let connection = ConnectionString::parse(connection_string)?;
        if connection.key().is_some() {
            return Err(StateError::InvalidConnectionString(
                "the connection string has an AccountKey and a credential was given as well: give one (AccountEndpoint only, for Entra ID)".into(),
            ));
        }
        let scope = credential::account_scope(connection.endpoint());
        let auth = Auth::Entra {
            credential: Credential::new(source),
            scope,
        };
        Self::build(connection, auth, options)
    }

    fn build(connection: ConnectionString, auth: Auth, options: CosmosOptions) -> Result<Self> {
        options.check_names()?;
        if options.request_timeout.is_zero() || options.operation_timeout.is_zero() {
            return Err(StateError::InvalidOption(
                "request_timeout and operation_timeout must be positive".into(),
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(options.request_timeout))
            .timeout_connect(Some(options.request_timeout.min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let topology = Topology::new(connection.endpoint(), options.preferred_regions.clone());
        Ok(CosmosStore {
            agent,
            account_url: connection.url().clone(),
            auth,
            options,
            counters: Counters::default(),
            topology: Mutex::new(topology),
            observer: None,
        })
    }

    /// This store, calling `observer` with every request it sends (after the request; it runs
    /// on the calling thread, so it should be quick).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The requests, retries and charges so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The account's regions as last read (None before the first operation, or when the
    /// account could not be described and requests go to the connection string's endpoint).
    pub fn account(&self) -> Option<topology::Account> {
        self.topology().account.clone()
    }

    fn topology(&self) -> std::sync::MutexGuard<'_, Topology> {
        self.topology.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn collection_link(&self) -> String {
        format!(
            "dbs/{}/colls/{}",
            self.options.database, self.options.container
        )
    }

    fn is_entra(&self) -> bool {
        matches!(self.auth, Auth::Entra { .. })
    }
}
