//! [`CosmosStore`]: the [`Store`] over the Cosmos DB REST API (blocking HTTP with `ureq`).
//!
//! Every request is signed (the master key, or an Entra ID token: [`credential`]), carries the
//! partition key, the configured consistency level and the session token to present; a patch
//! carries its condition as Cosmos DB SQL (`from c where …`). Every response's session token and
//! request charge are read.
//!
//! Requests are routed by the account's regions ([`topology`]): writes to the write region,
//! reads to the preferred regions, then the write region. The retry policy, in one place
//! ([`CosmosStore`]'s `send`):
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
//! [`Reply::in_doubt`] set, so the engine checks what landed. Nothing is created by reading:
//! the database and the container (partition key `/pk`, nothing indexed, per-item TTL on) are
//! created by the first write that finds them missing (404/1003) — again if they disappear —,
//! when [`CosmosOptions::create_if_missing`] is on and the store signs with a key. Every
//! request is traced (`tracing`, target `cosmos_session_state::store`) and counted
//! ([`Counters`]).
//!
//! `ureq` is used because it is blocking (the engine and its C, .NET and Python callers are
//! synchronous), small, and speaks rustls; no async runtime is pulled in.

mod auth;
mod connection;
pub mod credential;
pub mod endpoint;
pub mod pkranges;
mod routing_read;
pub mod topology;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use auth::master_key_signature;
pub use connection::ConnectionString;
use credential::{Credential, TokenSource};
use serde_json::{Value, json};
use topology::{Account, Topology};

use crate::error::{Result, StateError};
use crate::store::{Item, Outcome, Patch, PatchOp, Reply, Store, StoreStats};

/// REST API version sent with every request (conditional patch needs 2020-07-15 or later).
const API_VERSION: &str = "2020-07-15";
/// Largest response body read, in bytes (an item is at most 2 MB).
const MAX_RESPONSE_BYTES: u64 = 8 << 20;

/// Consistency levels a request may ask for (`x-ms-consistency-level`). Cosmos DB only lets a
/// request *weaken* the account's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Linearizable reads.
    Strong,
    /// Bounded staleness.
    BoundedStaleness,
    /// Read-your-writes within a session (safe here because the engine flows session tokens).
    Session,
    /// Consistent prefix.
    ConsistentPrefix,
    /// Eventual.
    Eventual,
}

impl Consistency {
    /// Parses the names of the ASP.NET providers' `consistencyLevel` attribute (case-insensitive).
    ///
    /// ```
    /// use cosmos_session_state::Consistency;
    /// assert_eq!(Consistency::parse("boundedStaleness").unwrap(), Consistency::BoundedStaleness);
    /// assert!(Consistency::parse("Strongest").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Consistency> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "strong" => Consistency::Strong,
            "boundedstaleness" => Consistency::BoundedStaleness,
            "session" => Consistency::Session,
            "consistentprefix" => Consistency::ConsistentPrefix,
            "eventual" => Consistency::Eventual,
            _ => {
                return Err(StateError::InvalidOption(format!(
                    "unknown consistency level {:?} (Strong, BoundedStaleness, Session, ConsistentPrefix, Eventual, or AccountDefault for the account's own)",
                    name.chars().take(40).collect::<String>()
                )));
            }
        })
    }

    /// The consistency option as every surface takes it: absent or `""` is the default
    /// ([`Consistency::Strong`]); `"AccountDefault"` (case-insensitive) sends no header, so the
    /// account's default applies; any other name is [`parse`](Self::parse)d.
    ///
    /// ```
    /// use cosmos_session_state::Consistency;
    /// assert_eq!(Consistency::option(None).unwrap(), Some(Consistency::Strong));
    /// assert_eq!(Consistency::option(Some("")).unwrap(), Some(Consistency::Strong));
    /// assert_eq!(Consistency::option(Some("accountDefault")).unwrap(), None);
    /// assert_eq!(Consistency::option(Some("Session")).unwrap(), Some(Consistency::Session));
    /// ```
    pub fn option(name: Option<&str>) -> Result<Option<Consistency>> {
        match name {
            None | Some("") => Ok(Some(Consistency::Strong)),
            Some(n) if n.eq_ignore_ascii_case("AccountDefault") => Ok(None),
            Some(n) => Consistency::parse(n).map(Some),
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::Strong => "Strong",
            Consistency::BoundedStaleness => "BoundedStaleness",
            Consistency::Session => "Session",
            Consistency::ConsistentPrefix => "ConsistentPrefix",
            Consistency::Eventual => "Eventual",
        }
    }
}

/// Where and how [`CosmosStore`] talks to Cosmos DB.
#[derive(Debug, Clone, PartialEq)]
pub struct CosmosOptions {
    /// Database id (created by the first write when missing, see `create_if_missing`).
    pub database: String,
    /// Container id, default `SessionStore` (created like the database).
    pub container: String,
    /// Consistency level asked for on every request; `None` uses the account's default.
    pub consistency: Option<Consistency>,
    /// Timeout of one HTTP request (connect + send + receive).
    pub request_timeout: Duration,
    /// Retries after a throttled, conflicting, unavailable or failed request.
    pub max_retries: u32,
    /// Most time spent waiting between retries of one operation.
    pub max_retry_wait: Duration,
    /// Most time one operation takes in all, retries, waits and region changes included.
    pub operation_timeout: Duration,
    /// Regions reads prefer, in order (names as the account lists them, `"East US"`); reads go
    /// to the write region when empty or when none is available.
    pub preferred_regions: Vec<String>,
    /// Run on an account that accepts writes in several regions (refused by default: the lock
    /// protocol's conditional writes are only checked per region there).
    pub allow_multi_write: bool,
    /// The first write that finds the database or the container missing creates it (with key
    /// sign-in; Entra ID tokens cannot).
    pub create_if_missing: bool,
    /// How [`CosmosStore::connect`] signs requests.
    pub authentication: Authentication,
}

/// How a store signs in, as the `authentication` option names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Authentication {
    /// The connection string's `AccountKey` (the default).
    #[default]
    Key,
    /// A managed identity ([`credential::ManagedIdentity::from_env`]); a client id picks a
    /// user-assigned one.
    ManagedIdentity {
        /// The user-assigned identity's client id (None: the system-assigned identity).
        client_id: Option<String>,
    },
    /// A service principal's secret from the environment ([`credential::ClientSecret::from_env`]).
    ClientSecret,
}

impl Authentication {
    /// Parses the option: `""`/`Key`, `ManagedIdentity`, `ClientSecret` (case-insensitive).
    ///
    /// ```
    /// use cosmos_session_state::Authentication;
    /// assert_eq!(Authentication::parse("managedidentity", "")?, Authentication::ManagedIdentity { client_id: None });
    /// assert!(Authentication::parse("Password", "").is_err());
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn parse(name: &str, managed_identity_client_id: &str) -> Result<Authentication> {
        let client_id = Some(managed_identity_client_id.trim())
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let auth = match name.trim().to_ascii_lowercase().as_str() {
            "" | "key" => Authentication::Key,
            "managedidentity" => Authentication::ManagedIdentity { client_id },
            "clientsecret" => Authentication::ClientSecret,
            _ => {
                return Err(StateError::InvalidOption(format!(
                    "unknown authentication {:?} (Key, ManagedIdentity or ClientSecret)",
                    name.chars().take(40).collect::<String>()
                )));
            }
        };
        if !managed_identity_client_id.trim().is_empty()
            && !matches!(auth, Authentication::ManagedIdentity { .. })
        {
            return Err(StateError::InvalidOption(
                "managed_identity_client_id is only used with authentication=ManagedIdentity"
                    .into(),
            ));
        }
        Ok(auth)
    }
}

impl Default for CosmosOptions {
    fn default() -> Self {
        CosmosOptions {
            database: "sessions".into(),
            container: "SessionStore".into(),
            consistency: Some(Consistency::Strong),
            request_timeout: Duration::from_secs(10),
            max_retries: 9,
            max_retry_wait: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(20),
            preferred_regions: Vec::new(),
            allow_multi_write: false,
            create_if_missing: true,
            authentication: Authentication::Key,
        }
    }
}

impl CosmosOptions {
    /// Checks the database and container ids (1–255 letters, digits, `-` or `_`).
    pub fn check_names(&self) -> Result<()> {
        check_name("database", &self.database)?;
        check_name("container", &self.container)
    }
}

/// What a [`CosmosStore`] has done so far: requests, retries by cause, request units.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    read_session_unavailable: AtomicU64,
    write_forbidden: AtomicU64,
    region_failovers: AtomicU64,
    transient: AtomicU64,
    unauthorized: AtomicU64,
    account_reads: AtomicU64,
    containers_created: AtomicU64,
    regions_refused: AtomicU64,
    /// Request charge in hundredths of a request unit.
    centi_charge: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// HTTP requests sent, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    /// Of those, retries.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    /// Request units charged (sum of `x-ms-request-charge`).
    pub fn request_charge(&self) -> f64 {
        self.centi_charge.load(Ordering::Relaxed) as f64 / 100.0
    }
    /// Every counter at once.
    pub fn snapshot(&self) -> StoreStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreStats {
            requests: get(&self.requests),
            retries: get(&self.retries),
            throttled: get(&self.throttled),
            read_session_unavailable: get(&self.read_session_unavailable),
            write_forbidden: get(&self.write_forbidden),
            region_failovers: get(&self.region_failovers),
            transient: get(&self.transient),
            unauthorized: get(&self.unauthorized),
            account_reads: get(&self.account_reads),
            containers_created: get(&self.containers_created),
            regions_refused: get(&self.regions_refused),
            request_charge: self.request_charge(),
        }
    }
}

/// One answered HTTP request.
struct Answer {
    status: u16,
    substatus: u32,
    /// `x-ms-continuation`: the next page of a feed.
    continuation: Option<String>,
    body: Vec<u8>,
    session_token: Option<String>,
    charge: f64,
    /// An earlier attempt of this request may have reached the service (see [`Reply::in_doubt`]).
    in_doubt: bool,
}

/// One HTTP request of a [`CosmosStore`], as an [`Observer`] sees it (also a `tracing` event,
/// target `cosmos_session_state::store`). Nothing in it is secret: no key, token or session id.
#[derive(Debug, Clone, Copy)]
pub struct RequestEvent<'a> {
    /// `GET`, `POST`, `PATCH`.
    pub method: &'a str,
    /// `docs`, `dbs`, `colls`.
    pub resource_type: &'a str,
    /// The region's name (its endpoint when the account could not be described).
    pub region: &'a str,
    /// The HTTP status (0: no answer, the connection failed).
    pub status: u16,
    /// The `x-ms-substatus` (0 when absent).
    pub substatus: u32,
    /// Request units charged.
    pub request_charge: f64,
    /// How long the request took.
    pub duration: Duration,
    /// Retries of this operation before this request (throttling and transient failures).
    pub attempt: u32,
    /// Why the request will be sent again: `throttled`, `read_session_unavailable`,
    /// `write_forbidden`, `transient`, `unauthorized`; None when it is the last.
    pub retry: Option<&'static str>,
    /// The error code when the request failed without an answer (`store_unavailable`).
    pub error: Option<&'static str>,
}

/// Called with every request of a store ([`CosmosStore::with_observer`]): the Python
/// binding logs through `logging`, C and .NET callers pass a callback.
pub type Observer = Arc<dyn Fn(&RequestEvent<'_>) + Send + Sync>;

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

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// An item read: the read plan (preferred regions, then the write region).
    Read,
    /// A write, or a database/container request: the write region.
    Write,
}

/// The [`Store`] over the Cosmos DB REST API: requests signed with the master key or an Entra
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

fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StateError::InvalidOption(format!(
            "{what} {:?} must be 1-255 letters, digits, '-' or '_'",
            name.chars().take(40).collect::<String>()
        )))
    }
}

/// A short, safe excerpt of a response body for an error message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| text.into_owned());
    message.chars().take(200).collect()
}

/// Why a request is sent again (the `retry` field of its trace event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Throttled,
    ReadSessionUnavailable,
    WriteForbidden,
    Transient,
    Unauthorized,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::Throttled => "throttled",
            Cause::ReadSessionUnavailable => "read_session_unavailable",
            Cause::WriteForbidden => "write_forbidden",
            Cause::Transient => "transient",
            Cause::Unauthorized => "unauthorized",
        }
    }
}

/// 1002 answers retried in one region before the read moves on, and the first wait.
const READ_SESSION_RETRIES_PER_REGION: u32 = 2;
const READ_SESSION_FIRST_WAIT: Duration = Duration::from_millis(10);

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

    /// Reads the account (`GET /` on the global endpoint, then on the regions last known) when
    /// it was never read, is stale, or `forced_by` (the generation of a failed route) allows.
    /// A failure leaves the old description (or none: requests go to the global endpoint).
    fn refresh_topology(&self, forced_by: Option<u64>, deadline: Instant) -> Result<()> {
        if let Some(generation) = forced_by {
            // Too soon after the last read: wait for the interval (bounded by the deadline)
            // rather than fail; meanwhile another request may have read the account.
            let wait = {
                let t = self.topology();
                t.refreshed_at
                    .filter(|_| t.generation == generation)
                    .map(|at| topology::MIN_REFRESH_INTERVAL.saturating_sub(at.elapsed()))
                    .unwrap_or_default()
            };
            std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
        }
        let now = Instant::now();
        let (endpoints, due) = {
            let t = self.topology();
            let due = match forced_by {
                Some(generation) => t.may_refresh(generation, now),
                None => t.stale(now),
            };
            let mut endpoints = vec![t.global.endpoint.clone()];
            if let Some(a) = &t.account {
                for r in a.readable.iter().chain(&a.writable) {
                    if !endpoints.contains(&r.endpoint) {
                        endpoints.push(r.endpoint.clone());
                    }
                }
            }
            (endpoints, due)
        };
        if !due {
            return Ok(());
        }
        let mut last = None;
        for endpoint in endpoints {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            bump(&self.counters.account_reads);
            bump(&self.counters.requests);
            match self.send_once("GET", &endpoint, "", "", "", &[], None, remaining) {
                Ok(a) if a.status == 200 => {
                    // A description that does not parse is a failed read: the next endpoint,
                    // then the last good description (one bad answer must not stop every
                    // operation).
                    let account = match Account::parse(&a.body) {
                        Ok(account) => account,
                        Err(e) => {
                            last = Some(e.to_string());
                            continue;
                        }
                    };
                    let (account, refused) = account.keep_family(&self.account_url);
                    for r in &refused {
                        bump(&self.counters.regions_refused);
                        tracing::warn!(
                            target: "cosmos_session_state::store",
                            region = %r.name,
                            reason = %r.reason,
                            "a region of the account description is not used"
                        );
                    }
                    if account.multi_write && !self.options.allow_multi_write {
                        return Err(StateError::Rejected(
                            "the account accepts writes in several regions: the lock protocol relies on conditional writes, which such an account checks per region only (two regions could both grant a lock); use a single-write-region account, or set allow_multi_write if every web node writes through one region".into(),
                        ));
                    }
                    tracing::debug!(
                        target: "cosmos_session_state::store",
                        regions = account.readable.len(),
                        write_region = account.writable.first().map_or("(the account endpoint)", |r| r.name.as_str()),
                        "account read"
                    );
                    self.topology().set_account(Some(account), Instant::now());
                    return Ok(());
                }
                Ok(a) if a.status == 401 || a.status == 403 => {
                    return Err(self.auth_error(&a, "reading the account"));
                }
                Ok(a) => last = Some(format!("status {}", a.status)),
                Err(e) => last = Some(e.to_string()),
            }
        }
        tracing::warn!(
            target: "cosmos_session_state::store",
            error = last.as_deref().unwrap_or("out of time"),
            "the account could not be read; requests go to the endpoints last known"
        );
        self.topology().set_account(None, Instant::now());
        Ok(())
    }

    fn auth_error(&self, a: &Answer, what: &str) -> StateError {
        let fix = match (&self.auth, a.status) {
            (Auth::Key(_), 401) if excerpt(&a.body).contains("Local Authorization is disabled") => {
                "the account refuses keys (local authorization is disabled): sign in with Entra ID (a credential, or authentication=ManagedIdentity)"
            }
            (Auth::Key(_), _) => "check the account key",
            (Auth::Entra { .. }, 401) => {
                "the Entra ID token was refused: check the identity and that the account accepts it"
            }
            (Auth::Entra { .. }, _) => {
                "the identity lacks a data-plane role on the account (Cosmos DB Built-in Data Contributor)"
            }
        };
        StateError::Rejected(format!(
            "{what}: authorization failed (status {}): {fix}",
            a.status
        ))
    }

    /// Sends one request: routed by `route`, retried within the budgets of [`CosmosOptions`]
    /// (`max_retries` retries, `max_retry_wait` of waiting, `operation_timeout` in all). `link`
    /// is the URL path and, unless `sign_link` is given, the signed resource link.
    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    fn send(
        &self,
        route: Route,
        method: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer> {
        let deadline = Instant::now() + self.options.operation_timeout;
        self.send_within(
            deadline,
            route,
            method,
            link,
            resource_type,
            sign_link,
            headers,
            body,
        )
    }

    /// [`send`](Self::send) within `deadline` (an operation of several requests, such as paging,
    /// shares one).
    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    fn send_within(
        &self,
        deadline: Instant,
        route: Route,
        method: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer> {
        let started = Instant::now();
        self.refresh_topology(None, deadline)?;
        let (mut plan, mut generation) = {
            let t = self.topology();
            let plan = match route {
                Route::Read => t.read_plan(started),
                Route::Write => vec![t.write_region()],
            };
            (plan, t.generation)
        };
        let mut at = 0usize;
        let mut session_tries = 0u32;
        let mut session_regions: Vec<String> = Vec::new();
        let mut refreshed_for_forbidden = false;
        let mut reauthorized = false;
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        // A write that failed after it may have reached the service (a dropped connection, a
        // timeout, a 408) may have been applied: the answer to its retry says so.
        let mut doubt = false;
        loop {
            let region = plan[at.min(plan.len() - 1)].clone();
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.out_of_time(method, link, attempt, doubt));
            }
            bump(&self.counters.requests);
            let sent = Instant::now();
            let result = self
                .send_once(
                    method,
                    &region.endpoint,
                    link,
                    resource_type,
                    sign_link,
                    headers,
                    body,
                    remaining.min(self.options.request_timeout),
                )
                .map(|mut a| {
                    a.in_doubt = doubt;
                    a
                });
            doubt |= method != "GET"
                && match &result {
                    Ok(answer) => answer.status == 408,
                    Err(StateError::Unavailable(_)) => true,
                    Err(_) => false,
                };
            let (status, substatus) = match &result {
                Ok(a) => (a.status, a.substatus),
                Err(_) => (0, 0),
            };
            let cause = match &result {
                Ok(a) => match (a.status, a.substatus) {
                    (429, _) | (449, _) => Some(Cause::Throttled),
                    (404, 1002) if route == Route::Read => Some(Cause::ReadSessionUnavailable),
                    (403, 3) => Some(Cause::WriteForbidden),
                    (408, _) | (410, _) | (503, _) => Some(Cause::Transient),
                    (401, _) if self.is_entra() && !reauthorized => Some(Cause::Unauthorized),
                    _ => None,
                },
                Err(StateError::Unavailable(_)) => Some(Cause::Transient),
                Err(_) => None,
            };
            let event = RequestEvent {
                method,
                resource_type,
                region: region.label(),
                status,
                substatus,
                request_charge: result.as_ref().map_or(0.0, |a| a.charge),
                duration: sent.elapsed(),
                attempt,
                retry: cause.map(Cause::as_str),
                error: result.as_ref().err().map(|e| e.code().name()),
            };
            tracing::debug!(
                target: "cosmos_session_state::store",
                method,
                resource_type,
                region = event.region,
                status,
                substatus,
                charge = event.request_charge,
                duration_ms = event.duration.as_millis() as u64,
                attempt,
                retry = event.retry.unwrap_or(""),
                "cosmos request"
            );
            if let Some(observe) = &self.observer {
                observe(&event);
            }
            let Some(cause) = cause else {
                return settled(method, link, doubt, result);
            };
            // What to do next: wait this long, in this region of the plan.
            let wait = match cause {
                Cause::Throttled => {
                    bump(&self.counters.throttled);
                    let advised = result.as_ref().ok().and_then(answer_retry_after);
                    match (status, advised) {
                        (429, advised) => Duration::from_millis(advised.unwrap_or(100).min(5_000)),
                        _ => Duration::from_millis(10 << attempt.min(6)),
                    }
                }
                Cause::ReadSessionUnavailable => {
                    bump(&self.counters.read_session_unavailable);
                    if !session_regions.iter().any(|r| r == region.label()) {
                        session_regions.push(region.label().to_owned());
                    }
                    // The presented token is never dropped or weakened: the read waits for this
                    // region a little, then tries the next one, the write region last.
                    if session_tries < READ_SESSION_RETRIES_PER_REGION {
                        session_tries += 1;
                        READ_SESSION_FIRST_WAIT * (1 << (session_tries - 1))
                    } else if at + 1 < plan.len() {
                        at += 1;
                        session_tries = 0;
                        bump(&self.counters.region_failovers);
                        Duration::ZERO
                    } else {
                        return Err(StateError::Unavailable(format!(
                            "{method} {link}: read session not available (404/1002) in {}: no region has reached the presented session token (it was kept, not dropped)",
                            session_regions.join(", ")
                        )));
                    }
                }
                Cause::WriteForbidden => {
                    bump(&self.counters.write_forbidden);
                    if refreshed_for_forbidden {
                        return Err(StateError::Unavailable(format!(
                            "{method} {link}: {} refuses writes (403/3) after the account was read again: a failover is in progress",
                            region.label()
                        )));
                    }
                    refreshed_for_forbidden = true;
                    self.refresh_topology(Some(generation), deadline)?;
                    let t = self.topology();
                    plan = vec![t.write_region()];
                    generation = t.generation;
                    at = 0;
                    Duration::ZERO
                }
                Cause::Unauthorized => {
                    bump(&self.counters.unauthorized);
                    reauthorized = true;
                    if let Auth::Entra { credential, .. } = &self.auth {
                        credential.invalidate();
                    }
                    Duration::ZERO
                }
                Cause::Transient => {
                    bump(&self.counters.transient);
                    let failed_connection = result.is_err();
                    let many = plan.len() > 1 || route == Route::Write;
                    if many {
                        self.topology()
                            .mark_failed(&region.endpoint, Instant::now());
                    }
                    match route {
                        Route::Read if plan.len() > 1 => {
                            at = (at + 1) % plan.len();
                            session_tries = 0;
                            bump(&self.counters.region_failovers);
                        }
                        Route::Write if failed_connection => {
                            // The write region may have moved: read the account (rate-limited).
                            self.refresh_topology(Some(generation), deadline)?;
                            let t = self.topology();
                            let write = t.write_region();
                            if write != plan[0] {
                                bump(&self.counters.region_failovers);
                            }
                            plan = vec![write];
                            generation = t.generation;
                        }
                        _ => {}
                    }
                    if failed_connection {
                        Duration::from_millis(50 << attempt.min(5))
                    } else {
                        Duration::from_millis(10 << attempt.min(6))
                    }
                }
            };
            let jitter = Duration::from_millis(fastrand::u64(0..=wait.as_millis() as u64 / 4 + 1));
            let counted = matches!(cause, Cause::Throttled | Cause::Transient);
            if counted
                && (attempt >= self.options.max_retries
                    || waited + wait > self.options.max_retry_wait)
            {
                return Err(self.gave_up(method, link, attempt, doubt, result));
            }
            let pause = (wait + jitter).min(deadline.saturating_duration_since(Instant::now()));
            std::thread::sleep(pause);
            waited += pause;
            if counted {
                attempt += 1;
            }
            bump(&self.counters.retries);
        }
    }

    fn out_of_time(&self, method: &str, link: &str, attempt: u32, doubt: bool) -> StateError {
        let also = if doubt {
            "; an earlier attempt may have been applied"
        } else {
            ""
        };
        StateError::Unavailable(format!(
            "{method} {link}: no answer within the operation timeout of {} s ({attempt} retries){also}",
            self.options.operation_timeout.as_secs_f64()
        ))
    }

    fn gave_up(
        &self,
        method: &str,
        link: &str,
        attempt: u32,
        doubt: bool,
        result: Result<Answer>,
    ) -> StateError {
        if doubt {
            // An earlier attempt may have been applied: the caller must look, whatever the last
            // answer was.
            return StateError::Unavailable(format!(
                "{method} {link}: gave up after {attempt} retries; an earlier attempt may have been applied"
            ));
        }
        match result {
            Ok(answer) if answer.status == 429 || answer.status == 449 => {
                StateError::Throttled(format!(
                    "{method} {link}: status {} after {} retries",
                    answer.status, attempt
                ))
            }
            Ok(answer) => StateError::Unavailable(format!(
                "{method} {link}: status {} after {} retries: {}",
                answer.status,
                attempt,
                excerpt(&answer.body)
            )),
            Err(e) => e,
        }
    }

    /// The `Authorization` header; an Entra ID token is waited for at most until `deadline`.
    fn authorization(
        &self,
        method: &str,
        resource_type: &str,
        sign_link: &str,
        date: &str,
        deadline: Instant,
    ) -> Result<String> {
        match &self.auth {
            Auth::Key(key) => Ok(master_key_signature(
                key,
                method,
                resource_type,
                sign_link,
                date,
            )),
            Auth::Entra { credential, scope } => {
                let token = credential.token(scope, deadline)?;
                Ok(percent_encoding::utf8_percent_encode(
                    &format!("type=aad&ver=1.0&sig={token}"),
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string())
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    fn send_once(
        &self,
        method: &str,
        endpoint: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Answer> {
        let url = format!("{endpoint}/{link}");
        let date = httpdate::fmt_http_date(SystemTime::now());
        let auth = self.authorization(
            method,
            resource_type,
            sign_link,
            &date,
            Instant::now() + timeout,
        )?;
        let builder = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", auth)
            .header("x-ms-date", &date)
            .header("x-ms-version", API_VERSION)
            .header("accept", "application/json");
        let builder = match self.options.consistency {
            Some(c) if !link.is_empty() => builder.header("x-ms-consistency-level", c.as_str()),
            _ => builder,
        };
        let builder = headers
            .iter()
            .fold(builder, |b, (name, value)| b.header(*name, value.as_str()));
        let request = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| StateError::Store(format!("{method}: cannot build the request: {e}")))?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = match self.agent.run(request) {
            Ok(r) => r,
            Err(e) => {
                // The URL holds no secret; the error names the endpoint and what failed.
                return Err(StateError::Unavailable(format!("{method} {url}: {e}")));
            }
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let session_token = header("x-ms-session-token").filter(|t| !t.is_empty());
        let continuation = header("x-ms-continuation").filter(|t| !t.is_empty());
        let substatus = header("x-ms-substatus")
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let charge = header("x-ms-request-charge")
            .and_then(|c| c.parse::<f64>().ok())
            .filter(|c| c.is_finite() && *c >= 0.0)
            .unwrap_or(0.0);
        let retry_after = header("x-ms-retry-after-ms");
        self.counters
            .centi_charge
            .fetch_add((charge * 100.0).round() as u64, Ordering::Relaxed);
        let status = response.status().as_u16();
        let mut body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| {
                StateError::Unavailable(format!("{method}: reading the response failed: {e}"))
            })?;
        if status == 429 {
            // Keep the retry hint with the answer (the body is not needed for a 429).
            body = retry_after.unwrap_or_default().into_bytes();
        }
        Ok(Answer {
            status,
            substatus,
            continuation,
            body,
            session_token,
            charge,
            in_doubt: false,
        })
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
            Route::Write,
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
            Route::Write,
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

    fn expect_created(&self, a: &Answer, what: &str) -> Result<()> {
        match a.status {
            200 | 201 | 409 => Ok(()),
            401 | 403 => Err(self.auth_error(a, what)),
            s => Err(StateError::Store(format!(
                "{what}: status {s}: {}",
                excerpt(&a.body)
            ))),
        }
    }

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
                Route::Read,
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

    /// Sends a write; when the container is missing (404/1003), creates it (if allowed) and
    /// sends it once more.
    fn write(
        &self,
        method: &str,
        link: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Answer> {
        let a = self.send(
            Route::Write,
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
                Route::Write,
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

    fn item_headers(pk: &str, token: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("x-ms-documentdb-partitionkey", partition_key_header(pk)),
            ("content-type", "application/json".to_owned()),
        ];
        if let Some(t) = token {
            headers.push(("x-ms-session-token", t.to_owned()));
        }
        headers
    }

    fn item(&self, body: &[u8]) -> Result<Item> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| StateError::Store(format!("a response item is not JSON: {e}")))?;
        item_of(value)
    }

    fn outcome(&self, a: &Answer, what: &str) -> Result<Outcome> {
        match a.status {
            200 | 201 => Ok(Outcome::Done(Some(self.item(&a.body)?))),
            204 => Ok(Outcome::Done(None)),
            404 => Ok(Outcome::NotFound),
            409 => Ok(Outcome::Conflict),
            412 => Ok(Outcome::PreconditionFailed),
            401 | 403 => Err(self.auth_error(a, what)),
            413 => Err(StateError::Rejected(format!(
                "{what}: the item is too large for the service"
            ))),
            400 => Err(StateError::Rejected(format!(
                "{what}: bad request: {}",
                excerpt(&a.body)
            ))),
            s => Err(StateError::Store(format!(
                "{what}: status {s}: {}",
                excerpt(&a.body)
            ))),
        }
    }

    fn reply<T>(&self, a: &Answer, value: T) -> Reply<T> {
        Reply {
            value,
            session_token: a.session_token.clone(),
            charge: a.charge,
            in_doubt: a.in_doubt,
        }
    }
}

/// The last answer of a request, or "unknown" when an earlier attempt may have been applied and
/// this answer does not say what happened to it: a 2xx, 404, 409 or 412 is an answer about the
/// item (the engine reads what landed), any other status (a 500, 400, 401, 403 …) says nothing
/// about the earlier attempt, so the request is reported as lost ([`StateError::Unavailable`],
/// which the engine resolves by looking), never as a definite failure of a write that landed.
fn settled(method: &str, link: &str, doubt: bool, result: Result<Answer>) -> Result<Answer> {
    match result {
        Ok(a) if doubt && !matches!(a.status, 200..=299 | 404 | 409 | 412) => {
            Err(StateError::Unavailable(format!(
                "{method} {link}: status {} after an earlier attempt that may have been applied: {}",
                a.status,
                excerpt(&a.body)
            )))
        }
        other => other,
    }
}

/// Sub-status of a 404 for an item whose database or container does not exist.
const OWNER_NOT_FOUND: u32 = 1003;

/// The `x-ms-documentdb-partitionkey` value: the key as a one-element JSON array, with every
/// non-ASCII character escaped as `\uXXXX` (UTF-16 units, so astral characters become surrogate
/// pairs), as the SDKs send it: header values are not UTF-8 text, and a raw UTF-8 key was read
/// back as another key (the session's items were written under one and looked up under the other).
fn partition_key_header(pk: &str) -> String {
    let json = json!([pk]).to_string();
    let mut out = String::with_capacity(json.len());
    let mut units = [0u16; 2];
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn answer_retry_after(a: &Answer) -> Option<u64> {
    std::str::from_utf8(&a.body)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|ms| ms.max(0.0) as u64)
}

fn item_of(value: Value) -> Result<Item> {
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StateError::Store("a response item has no id".into()))?
        .to_owned();
    let etag = value
        .get("_etag")
        .and_then(Value::as_str)
        .ok_or_else(|| StateError::Store("a response item has no _etag".into()))?
        .to_owned();
    Ok(Item {
        id,
        etag,
        body: value,
    })
}

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
            Route::Read,
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

#[cfg(test)]
mod tests {
    use super::partition_key_header;

    #[test]
    fn partition_key_header_is_ascii_json() {
        assert_eq!(partition_key_header("a/b"), r#"["a/b"]"#);
        assert_eq!(partition_key_header("ünï"), r#"["\u00fcn\u00ef"]"#);
        assert_eq!(partition_key_header("😀"), r#"["\ud83d\ude00"]"#);
        assert_eq!(partition_key_header("q\"\\"), r#"["q\"\\"]"#);
        for pk in ["ünï", "セッション", "😀🎉", "a\\b\"c"] {
            let header = partition_key_header(pk);
            assert!(header.is_ascii());
            let back: Vec<String> = serde_json::from_str(&header).unwrap();
            assert_eq!(back, [pk]);
        }
    }
}
