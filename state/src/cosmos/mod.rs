//! [`CosmosStore`]: the [`Store`] over the Cosmos DB REST API (blocking HTTP with `ureq`).
//!
//! Every request is signed with the master key, carries the partition key, the configured
//! consistency level and the session token to present; a patch carries its condition as Cosmos DB
//! SQL (`from c where …`). Every response's session token and request charge are read. Throttling (429, honouring
//! `x-ms-retry-after-ms`), write conflicts (449), 408/410/503 and connection failures are retried
//! within a bounded budget; a write retried after an attempt that may have reached the service is
//! answered with [`Reply::in_doubt`] set, so the engine checks what landed. Every request has a
//! timeout. The database and the container
//! (partition key `/pk`, nothing indexed, per-item TTL on) are created on first use.
//!
//! `ureq` is used because it is blocking (the engine and its C, .NET and Python callers are
//! synchronous), small, and speaks rustls; no async runtime is pulled in.

mod auth;
mod connection;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

pub use auth::master_key_signature;
pub use connection::ConnectionString;
use serde_json::{Value, json};

use crate::error::{Result, StateError};
use crate::store::{Item, Outcome, Patch, PatchOp, Reply, Store};

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
    /// Database id (created on first use).
    pub database: String,
    /// Container id (created on first use), default `SessionStore`.
    pub container: String,
    /// Consistency level asked for on every request; `None` uses the account's default.
    pub consistency: Option<Consistency>,
    /// Timeout of one HTTP request (connect + send + receive).
    pub request_timeout: Duration,
    /// Retries after a throttled, conflicting, unavailable or failed request.
    pub max_retries: u32,
    /// Most time spent waiting between retries of one operation.
    pub max_retry_wait: Duration,
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

/// What a [`CosmosStore`] has sent: HTTP requests (retries included) and request units charged.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    /// Request charge in hundredths of a request unit.
    centi_charge: AtomicU64,
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
}

/// One answered HTTP request.
struct Answer {
    status: u16,
    body: Vec<u8>,
    session_token: Option<String>,
    charge: f64,
    /// An earlier attempt of this request may have reached the service (see [`Reply::in_doubt`]).
    in_doubt: bool,
}

/// The [`Store`] over the Cosmos DB REST API: requests signed with the master key, each with a
/// timeout and a bounded retry budget ([`CosmosOptions`]); the database and the container are
/// created on first use.
pub struct CosmosStore {
    agent: ureq::Agent,
    connection: ConnectionString,
    options: CosmosOptions,
    counters: Counters,
    ready: Mutex<bool>,
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

impl CosmosStore {
    /// A store for `connection_string` (`AccountEndpoint=…;AccountKey=…;`). Nothing is sent until
    /// the first operation, which creates the database and container if needed.
    pub fn connect(connection_string: &str, options: CosmosOptions) -> Result<Self> {
        let connection = ConnectionString::parse(connection_string)?;
        options.check_names()?;
        if options.request_timeout.is_zero() {
            return Err(StateError::InvalidOption(
                "request_timeout must be positive".into(),
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(options.request_timeout))
            .timeout_connect(Some(options.request_timeout.min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(CosmosStore {
            agent,
            connection,
            options,
            counters: Counters::default(),
            ready: Mutex::new(false),
        })
    }

    /// The requests and charges so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    fn collection_link(&self) -> String {
        format!(
            "dbs/{}/colls/{}",
            self.options.database, self.options.container
        )
    }

    /// Sends one request with retries. `link` is the URL path and, unless `sign_link` is given,
    /// the signed resource link.
    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    fn send(
        &self,
        method: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer> {
        let url = format!("{}/{}", self.connection.endpoint(), link);
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        // A write that failed after it may have reached the service (a dropped connection, a
        // timeout, a 408) may have been applied: the answer to its retry says so.
        let mut doubt = false;
        loop {
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let result = self
                .send_once(method, &url, resource_type, sign_link, headers, body)
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
            let wait = match &result {
                Ok(answer) => match answer.status {
                    429 => Some(Duration::from_millis(
                        answer_retry_after(answer).unwrap_or(100).min(5_000),
                    )),
                    449 | 408 | 410 | 503 => Some(Duration::from_millis(10 << attempt.min(6))),
                    _ => None,
                },
                Err(StateError::Unavailable(_)) => {
                    Some(Duration::from_millis(50 << attempt.min(5)))
                }
                Err(_) => None,
            };
            let Some(wait) = wait else { return result };
            let jitter = Duration::from_millis(fastrand::u64(0..=wait.as_millis() as u64 / 4 + 1));
            if attempt >= self.options.max_retries || waited + wait > self.options.max_retry_wait {
                if doubt {
                    // An earlier attempt may have been applied: the caller must look, whatever
                    // the last answer was.
                    return Err(StateError::Unavailable(format!(
                        "{method} {link}: gave up after {attempt} retries; an earlier attempt may have been applied"
                    )));
                }
                return match result {
                    Ok(answer) if answer.status == 429 || answer.status == 449 => {
                        Err(StateError::Throttled(format!(
                            "{method} {link}: status {} after {} retries",
                            answer.status, attempt
                        )))
                    }
                    Ok(answer) => Err(StateError::Unavailable(format!(
                        "{method} {link}: status {} after {} retries: {}",
                        answer.status,
                        attempt,
                        excerpt(&answer.body)
                    ))),
                    Err(e) => Err(e),
                };
            }
            std::thread::sleep(wait + jitter);
            waited += wait + jitter;
            attempt += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer> {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let auth = master_key_signature(
            self.connection.key(),
            method,
            resource_type,
            sign_link,
            &date,
        );
        let builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", auth)
            .header("x-ms-date", &date)
            .header("x-ms-version", API_VERSION)
            .header("accept", "application/json");
        let builder = match self.options.consistency {
            Some(c) => builder.header("x-ms-consistency-level", c.as_str()),
            None => builder,
        };
        let builder = headers
            .iter()
            .fold(builder, |b, (name, value)| b.header(*name, value.as_str()));
        let request = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| StateError::Store(format!("{method}: cannot build the request: {e}")))?;
        let mut response = match self.agent.run(request) {
            Ok(r) => r,
            Err(e) => {
                // The URL holds no secret; the error names the endpoint and what failed.
                return Err(StateError::Unavailable(format!(
                    "{method} {}: {e}",
                    url.split('?').next().unwrap_or(url)
                )));
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
            body,
            session_token,
            charge,
            in_doubt: false,
        })
    }

    /// Creates the database and the container once (409: they exist).
    fn ensure(&self) -> Result<()> {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        if *ready {
            return Ok(());
        }
        let json = ("content-type", "application/json".to_owned());
        let db = json!({"id": self.options.database}).to_string();
        let a = self.send(
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
            "POST",
            &format!("{db_link}/colls"),
            "colls",
            &db_link,
            &[json],
            Some(coll.as_bytes()),
        )?;
        self.expect_created(&a, "creating the container")?;
        *ready = true;
        Ok(())
    }

    fn expect_created(&self, a: &Answer, what: &str) -> Result<()> {
        match a.status {
            200 | 201 | 409 => Ok(()),
            401 | 403 => Err(StateError::Rejected(format!(
                "{what}: authorization failed (status {}): check the account key",
                a.status
            ))),
            s => Err(StateError::Store(format!(
                "{what}: status {s}: {}",
                excerpt(&a.body)
            ))),
        }
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
            401 | 403 => Err(StateError::Rejected(format!(
                "{what}: authorization failed (status {}): check the account key",
                a.status
            ))),
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
    fn read(&self, pk: &str, id: &str, token: Option<&str>) -> Result<Reply<Outcome>> {
        self.ensure()?;
        let link = format!("{}/docs/{id}", self.collection_link());
        let a = self.send(
            "GET",
            &link,
            "docs",
            &link,
            &Self::item_headers(pk, token),
            None,
        )?;
        let outcome = self.outcome(&a, "reading an item")?;
        Ok(self.reply(&a, outcome))
    }

    fn create(&self, pk: &str, body: Value, token: Option<&str>) -> Result<Reply<Outcome>> {
        body_id(&body)?;
        self.ensure()?;
        let coll = self.collection_link();
        let text = body.to_string();
        let a = self.send(
            "POST",
            &format!("{coll}/docs"),
            "docs",
            &coll,
            &Self::item_headers(pk, token),
            Some(text.as_bytes()),
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
        self.ensure()?;
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
        let a = self.send(
            "PATCH",
            &link,
            "docs",
            &link,
            &headers,
            Some(text.as_bytes()),
        )?;
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
