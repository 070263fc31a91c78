//! Entra ID (Azure AD) sign-in: where a [`CosmosStore`](super::CosmosStore) gets the access
//! tokens it sends as `Authorization: type=aad&ver=1.0&sig=<token>` when the account refuses
//! keys (`disableLocalAuth`).
//!
//! A [`TokenSource`] fetches a token for a scope; [`Credential`] caches it and fetches anew
//! before it expires (when less than half its lifetime, at most five minutes, is left) and once
//! after the service answers 401. Built-in sources: [`ManagedIdentity`] (the App Service /
//! Functions `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` protocol, or the VM instance-metadata
//! endpoint) and [`ClientSecret`] (a service principal's secret against the Entra ID token
//! endpoint). Callers of other surfaces pass their own source (a Python `get_token` object, a
//! C callback, a .NET delegate) through [`TokenSource`].
//!
//! Tokens and secrets are never part of an error, a log line or a `Debug` output: errors name
//! the endpoint and the status, and the `error` code of the identity service's answer at most.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::{Result, StateError};

/// The default Entra ID authority host.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The VM instance-metadata token endpoint.
pub const IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// Timeout of one request to an identity endpoint.
const IDENTITY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts of one token request (connection failures, 429 and 5xx are retried).
const IDENTITY_ATTEMPTS: u32 = 3;
/// A token is fetched anew when less than this much of its life is left (or half its life).
const REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// While a refresh runs, the cached token is still used when more than this much of its life is
/// left (or a tenth of its life); with less, callers wait for the refresh.
const USABLE_MARGIN: Duration = Duration::from_secs(30);

/// An access token and when it expires. Its `Debug` output leaves the token out.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub token: String,
    /// When it expires.
    pub expires_on: SystemTime,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

impl AccessToken {
    /// A token expiring `expires_on` seconds after the Unix epoch (the azure-core convention).
    pub fn from_unix(token: String, expires_on: f64) -> AccessToken {
        let secs = if expires_on.is_finite() && expires_on > 0.0 {
            expires_on
        } else {
            0.0
        };
        AccessToken {
            token,
            expires_on: UNIX_EPOCH + Duration::from_secs_f64(secs.min(1e11)),
        }
    }
}

/// Something that fetches Entra ID access tokens: the azure-identity `get_token(*scopes)`
/// protocol, in Rust.
///
/// ```
/// use cosmos_session_state::cosmos::credential::{AccessToken, TokenSource};
/// struct Fixed;
/// impl TokenSource for Fixed {
///     fn get_token(&self, _scope: &str) -> cosmos_session_state::Result<AccessToken> {
///         Ok(AccessToken::from_unix("t".into(), 4_102_444_800.0))
///     }
/// }
/// assert_eq!(Fixed.get_token("https://a.documents.azure.com/.default")?.token, "t");
/// # Ok::<(), cosmos_session_state::StateError>(())
/// ```
pub trait TokenSource: Send + Sync {
    /// A token for `scope` (`https://<account host>/.default`).
    fn get_token(&self, scope: &str) -> Result<AccessToken>;
}

/// A [`TokenSource`] with its token cached and refreshed before expiry.
///
/// Fetches run on a thread of their own, one at a time per credential, and no lock is held while
/// a source runs: a caller waits for a fetch at most until its operation's deadline (a source
/// that hangs — a callback, an identity endpoint that does not answer — costs one operation its
/// timeout, not every thread its lock), and while a token due for refresh is still valid, every
/// caller keeps using it and the refresh happens in the background.
pub struct Credential {
    shared: Arc<Shared>,
}

struct Shared {
    source: Arc<dyn TokenSource>,
    cache: Mutex<Cache>,
    fetched: Condvar,
}

#[derive(Default)]
struct Cache {
    /// The token and when it was fetched.
    token: Option<(AccessToken, SystemTime)>,
    /// A fetch is running.
    fetching: bool,
    /// Fetches finished so far (a waiter knows its fetch ended when this moves).
    finished: u64,
    /// How the last fetch failed, for the callers that waited for it.
    error: Option<StateError>,
}

/// Whether `token` (fetched at `fetched`) may be used without a refresh, and whether it may
/// still be used while one runs (it has a margin of its life left).
fn freshness(token: &AccessToken, fetched: SystemTime, now: SystemTime) -> (bool, bool) {
    let life = token.expires_on.duration_since(fetched).unwrap_or_default();
    let left = token.expires_on.duration_since(now).unwrap_or_default();
    let fresh = left > REFRESH_BEFORE.min(life / 2);
    let usable = left > USABLE_MARGIN.min(life / 10);
    (fresh, usable)
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

impl Credential {
    /// Caches tokens of `source`.
    pub fn new(source: Arc<dyn TokenSource>) -> Credential {
        Credential {
            shared: Arc::new(Shared {
                source,
                cache: Mutex::new(Cache::default()),
                fetched: Condvar::new(),
            }),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.shared.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A token for `scope`: the cached one unless it is due for refresh (then a fetch starts;
    /// the cached one is still returned while it has a margin of its life left). Waits for a
    /// fetch at most until `deadline`, then fails with `store_unavailable`.
    pub fn token(&self, scope: &str, deadline: Instant) -> Result<String> {
        let mut cache = self.cache();
        let mut waited_for: Option<u64> = None;
        loop {
            let now = SystemTime::now();
            let mut usable = None;
            if let Some((token, fetched)) = &cache.token {
                let (fresh, still) = freshness(token, *fetched, now);
                if fresh {
                    return Ok(token.token.clone());
                }
                if still {
                    usable = Some(token.token.clone());
                }
            }
            if let Some(started) = waited_for
                && cache.finished > started
            {
                // The fetch waited for failed (a success would have returned above).
                if let Some(e) = cache.error.clone() {
                    return Err(e);
                }
            }
            if !cache.fetching {
                cache.fetching = true;
                waited_for = Some(cache.finished);
                if !self.start_fetch(scope) {
                    cache.fetching = false;
                    return Err(StateError::Unavailable(
                        "no thread could be started to fetch an access token".into(),
                    ));
                }
            } else if waited_for.is_none() {
                waited_for = Some(cache.finished);
            }
            if let Some(token) = usable {
                return Ok(token);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StateError::Unavailable(
                    "the credential returned no access token within the operation timeout (its fetch goes on; a later request uses its token)".into(),
                ));
            }
            cache = self
                .shared
                .fetched
                .wait_timeout(cache, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Starts one fetch on a thread of its own; its result goes into the cache and wakes the
    /// waiters. False when no thread could be started.
    fn start_fetch(&self, scope: &str) -> bool {
        let shared = self.shared.clone();
        let scope = scope.to_owned();
        let fetch = move || {
            let started = SystemTime::now();
            let result = shared.source.get_token(&scope).and_then(|t| {
                if t.token.is_empty() {
                    Err(StateError::Rejected(
                        "the credential returned an empty access token".into(),
                    ))
                } else {
                    Ok(t)
                }
            });
            let mut cache = shared.cache.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(token) => {
                    cache.token = Some((token, started));
                    cache.error = None;
                }
                Err(e) => cache.error = Some(e),
            }
            cache.fetching = false;
            cache.finished += 1;
            shared.fetched.notify_all();
        };
        std::thread::Builder::new()
            .name("cosmos-credential".into())
            .spawn(fetch)
            .is_ok()
    }

    /// Forgets the cached token (after a 401), so the next request fetches one.
    pub fn invalidate(&self) {
        self.cache().token = None;
    }
}

/// The scope of an account's data plane: `https://<host>/.default`.
///
/// ```
/// use cosmos_session_state::cosmos::credential::account_scope;
/// assert_eq!(account_scope("https://acct.documents.azure.com:443"), "https://acct.documents.azure.com/.default");
/// ```
pub fn account_scope(endpoint: &str) -> String {
    // The parsed host (an IPv6 literal keeps its brackets, as in a URL).
    let host = url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    format!("https://{host}/.default")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(IDENTITY_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Sends a token request with bounded retries and reads `(access_token, expires_on)` from the
/// answer. `what` names the source in errors; no error carries the body beyond its `error` code.
fn token_request(
    what: &str,
    endpoint: &str,
    build: &dyn Fn() -> ureq::http::Request<Vec<u8>>,
) -> Result<AccessToken> {
    let agent = agent();
    let mut last = String::new();
    for attempt in 0..IDENTITY_ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(100 << attempt));
        }
        let mut response = match agent.run(build()) {
            Ok(r) => r,
            Err(e) => {
                last = format!("{what}: {endpoint}: {e}");
                continue;
            }
        };
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .unwrap_or_default();
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status == 200 {
            let token = doc.get("access_token").and_then(Value::as_str);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            let number = |v: &Value| v.as_f64().or_else(|| v.as_str()?.parse().ok());
            let expires_on = doc
                .get("expires_on")
                .and_then(number)
                .or_else(|| doc.get("expires_in").and_then(number).map(|s| now + s));
            return match (token, expires_on) {
                (Some(t), Some(e)) => Ok(AccessToken::from_unix(t.to_owned(), e)),
                _ => Err(StateError::Rejected(format!(
                    "{what}: {endpoint} answered 200 without access_token and expires_on/expires_in"
                ))),
            };
        }
        let code = doc
            .get("error")
            .and_then(Value::as_str)
            .map(|c| format!(" ({})", c.chars().take(60).collect::<String>()))
            .unwrap_or_default();
        last = format!("{what}: {endpoint} answered {status}{code}");
        if !(status == 429 || status >= 500) {
            return Err(StateError::Rejected(last));
        }
    }
    Err(StateError::Unavailable(last))
}

/// A managed identity: App Service / Functions (`IDENTITY_ENDPOINT` with `IDENTITY_HEADER`) or
/// the VM instance-metadata endpoint.
#[derive(Clone)]
pub struct ManagedIdentity {
    endpoint: String,
    /// The App Service identity header (None: the instance-metadata protocol).
    header: Option<String>,
    client_id: Option<String>,
}

impl std::fmt::Debug for ManagedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentity")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ManagedIdentity {
    /// From the environment: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` when both are set (App
    /// Service, Functions), else the instance-metadata endpoint (its host overridable with
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST`, as azure-identity does). `client_id` picks a
    /// user-assigned identity.
    pub fn from_env(client_id: Option<&str>) -> Result<ManagedIdentity> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        match (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) => Self::app_service(&endpoint, &header, client_id),
            _ => {
                let endpoint = match var("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
                    Some(host) => format!(
                        "{}/metadata/identity/oauth2/token",
                        host.trim_end_matches('/')
                    ),
                    None => IMDS_TOKEN_ENDPOINT.to_owned(),
                };
                Self::instance_metadata(&endpoint, client_id)
            }
        }
    }

    /// The App Service / Functions protocol (api-version 2019-08-01).
    pub fn app_service(
        endpoint: &str,
        header: &str,
        client_id: Option<&str>,
    ) -> Result<ManagedIdentity> {
        super::endpoint::check_identity("IDENTITY_ENDPOINT", endpoint, false)?;
        Ok(ManagedIdentity {
            endpoint: endpoint.to_owned(),
            header: Some(header.to_owned()),
            client_id: client_id.map(str::to_owned),
        })
    }

    /// The instance-metadata protocol (api-version 2018-02-01) at `endpoint`.
    pub fn instance_metadata(endpoint: &str, client_id: Option<&str>) -> Result<ManagedIdentity> {
        super::endpoint::check_identity("the instance-metadata endpoint", endpoint, true)?;
        Ok(ManagedIdentity {
            endpoint: endpoint.to_owned(),
            header: None,
            client_id: client_id.map(str::to_owned),
        })
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl TokenSource for ManagedIdentity {
    fn get_token(&self, scope: &str) -> Result<AccessToken> {
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        let mut pairs = vec![("resource", resource)];
        let (api, what) = match self.header {
            Some(_) => ("2019-08-01", "managed identity (App Service)"),
            None => ("2018-02-01", "managed identity (instance metadata)"),
        };
        pairs.push(("api-version", api));
        if let Some(id) = &self.client_id {
            pairs.push(("client_id", id));
        }
        let url = format!("{}?{}", self.endpoint, query(&pairs));
        token_request(what, &self.endpoint, &|| {
            let b = ureq::http::Request::builder().method("GET").uri(&url);
            let b = match &self.header {
                Some(h) => b.header("X-IDENTITY-HEADER", h),
                None => b.header("Metadata", "true"),
            };
            b.body(Vec::new()).unwrap_or_default()
        })
    }
}

/// A service principal's client secret, exchanged at the Entra ID token endpoint
/// (`<authority>/<tenant>/oauth2/v2.0/token`, client-credentials grant).
#[derive(Clone)]
pub struct ClientSecret {
    authority: String,
    tenant: String,
    client_id: String,
    secret: String,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl ClientSecret {
    /// A client-secret source. `authority` defaults to [`DEFAULT_AUTHORITY_HOST`]; it must be
    /// `https://` (or `http://` on loopback, for a local fake).
    pub fn new(
        tenant: &str,
        client_id: &str,
        secret: &str,
        authority: Option<&str>,
    ) -> Result<ClientSecret> {
        let authority = authority
            .unwrap_or(DEFAULT_AUTHORITY_HOST)
            .trim_end_matches('/');
        super::endpoint::check_identity("the authority host", authority, false)?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        };
        if !ok(tenant) || !ok(client_id) || secret.is_empty() {
            return Err(StateError::InvalidOption(
                "a client-secret credential needs a tenant id, a client id (letters, digits, - . _) and a secret".into(),
            ));
        }
        Ok(ClientSecret {
            authority: authority.to_owned(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` and the optional
    /// `AZURE_AUTHORITY_HOST` (azure-identity's environment credential).
    pub fn from_env() -> Result<ClientSecret> {
        let var = |n: &str| {
            std::env::var(n)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    StateError::InvalidOption(format!(
                        "{n} is not set (a client-secret credential reads AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET)"
                    ))
                })
        };
        let authority = std::env::var("AZURE_AUTHORITY_HOST")
            .ok()
            .filter(|v| !v.is_empty());
        ClientSecret::new(
            &var("AZURE_TENANT_ID")?,
            &var("AZURE_CLIENT_ID")?,
            &var("AZURE_CLIENT_SECRET")?,
            authority.as_deref(),
        )
    }
}

impl TokenSource for ClientSecret {
    fn get_token(&self, scope: &str) -> Result<AccessToken> {
        let endpoint = format!("{}/{}/oauth2/v2.0/token", self.authority, self.tenant);
        let form = query(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_secret", &self.secret),
            ("scope", scope),
        ]);
        token_request("client secret", &endpoint, &|| {
            ureq::http::Request::builder()
                .method("POST")
                .uri(&endpoint)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone().into_bytes())
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Counting(AtomicU32, f64);
    impl TokenSource for Counting {
        fn get_token(&self, _: &str) -> Result<AccessToken> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            Ok(AccessToken::from_unix(format!("t{n}"), now + self.1))
        }
    }

    #[test]
    fn caches_until_due_and_refetches_after_invalidate() {
        let source = Arc::new(Counting(AtomicU32::new(0), 3600.0));
        let c = Credential::new(source.clone());
        assert_eq!(c.token("s", soon()).unwrap(), "t0");
        assert_eq!(c.token("s", soon()).unwrap(), "t0");
        c.invalidate();
        assert_eq!(c.token("s", soon()).unwrap(), "t1");
        // A token of 2 s is due after 1 s (half its life): still valid, it is returned while
        // the refresh runs in the background; then the new one.
        let short = Credential::new(Arc::new(Counting(AtomicU32::new(0), 2.0)));
        assert_eq!(short.token("s", soon()).unwrap(), "t0");
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(short.token("s", soon()).unwrap(), "t0");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(short.token("s", soon()).unwrap(), "t1");
        // Expired (past its margin, a tenth of its life): callers wait for the refresh.
        std::thread::sleep(Duration::from_millis(2300));
        assert_eq!(short.token("s", soon()).unwrap(), "t2");
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    /// A source that takes `delay` for every fetch after the first.
    struct Slow {
        fetches: AtomicU32,
        delay: Duration,
        life: f64,
    }
    impl TokenSource for Slow {
        fn get_token(&self, _: &str) -> Result<AccessToken> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            if n > 0 {
                std::thread::sleep(self.delay);
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            Ok(AccessToken::from_unix(format!("t{n}"), now + self.life))
        }
    }

    #[test]
    fn a_slow_refresh_blocks_no_one_while_the_token_is_valid() {
        let c = Arc::new(Credential::new(Arc::new(Slow {
            fetches: AtomicU32::new(0),
            delay: Duration::from_secs(3),
            life: 4.0,
        })));
        assert_eq!(c.token("s", soon()).unwrap(), "t0");
        // Due (half its life gone) but valid: every thread gets it at once, one refresh runs.
        std::thread::sleep(Duration::from_millis(2100));
        let started = Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || c.token("s", soon()).unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), "t0");
        }
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "callers waited {:?} for a refresh they did not need",
            started.elapsed()
        );
    }

    #[test]
    fn a_fetch_that_outlasts_the_deadline_fails_the_operation_not_the_thread() {
        let c = Credential::new(Arc::new(Slow {
            fetches: AtomicU32::new(1),
            delay: Duration::from_secs(3),
            life: 3600.0,
        }));
        let started = Instant::now();
        let err = c
            .token("s", Instant::now() + Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(err.code().name(), "store_unavailable", "{err}");
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        // The fetch went on: once it ends, its token is used.
        std::thread::sleep(Duration::from_millis(3100));
        assert_eq!(c.token("s", soon()).unwrap(), "t1");
    }

    #[test]
    fn a_failed_fetch_is_reported_to_its_waiters() {
        struct Failing;
        impl TokenSource for Failing {
            fn get_token(&self, _: &str) -> Result<AccessToken> {
                Err(StateError::Rejected("no identity here".into()))
            }
        }
        let c = Credential::new(Arc::new(Failing));
        let err = c.token("s", soon()).unwrap_err();
        assert!(err.to_string().contains("no identity here"), "{err}");
    }

    #[test]
    fn debug_output_has_no_secret() {
        let s = ClientSecret::new("t", "c", "s3cr3t-value", Some("http://127.0.0.1:9")).unwrap();
        assert!(!format!("{s:?}").contains("s3cr3t"));
        let t = AccessToken::from_unix("tok-value".into(), 1.0);
        assert!(!format!("{t:?}").contains("tok-value"));
        assert!(ClientSecret::new("t", "c", "s", Some("http://login.example.com")).is_err());
        assert!(ManagedIdentity::app_service("http://10.0.0.1/msi", "h", None).is_err());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            account_scope("http://127.0.0.1:8081"),
            "https://127.0.0.1/.default"
        );
        assert_eq!(
            account_scope("https://[::1]:8081"),
            "https://[::1]/.default"
        );
        assert_eq!(
            account_scope("http://u@evil.example/"),
            "https://evil.example/.default"
        );
    }
}
