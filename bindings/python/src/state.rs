//! `cosmos_session_token.state`: the session-state engine for Python (tests, tooling, and the
//! Django and Flask adapters). Every call releases the GIL while it talks to the store.

use std::time::Duration;

use cosmos_session_state::{
    CosmosStore, MemoryStore, SaveMode, SessionStateStore as Engine, Settings, StateError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyType};

use crate::{SessionToken, error_for};

fn state_error(py: Python<'_>, e: &StateError) -> PyErr {
    error_for(py, e.code(), e.to_string())
}

/// `preferred_regions`: a str ("East US, West US") or a sequence of str, passed on as the
/// comma-separated text every surface takes.
struct Regions(String);

impl<'a, 'py> FromPyObject<'a, 'py> for Regions {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        if let Ok(text) = obj.extract::<String>() {
            return Ok(Regions(text));
        }
        let refuse = || {
            state_error(
                py,
                &StateError::InvalidOption(
                    "preferred_regions must be a str or a sequence of str".into(),
                ),
            )
        };
        let names: Vec<String> = obj.extract().map_err(|_| refuse())?;
        if names.iter().any(|n| n.contains(',')) {
            return Err(refuse());
        }
        Ok(Regions(names.join(",")))
    }
}

/// An azure-identity style credential (any object whose `get_token(*scopes)` returns an object
/// with `.token` and `.expires_on`), as the store's token source. Called with the GIL taken;
/// what it raises becomes `store_rejected` without its text (it may quote a secret).
struct PyCredential(Py<PyAny>);

impl cosmos_session_state::cosmos::credential::TokenSource for PyCredential {
    fn get_token(
        &self,
        scope: &str,
    ) -> Result<cosmos_session_state::cosmos::credential::AccessToken, StateError> {
        use cosmos_session_state::cosmos::credential::AccessToken;
        Python::attach(|py| {
            let got = self
                .0
                .bind(py)
                .call_method1("get_token", (scope,))
                .and_then(|t| {
                    let token: String = t.getattr("token")?.extract()?;
                    let expires_on: f64 = t.getattr("expires_on")?.extract()?;
                    Ok((token, expires_on))
                });
            match got {
                Ok((token, expires_on)) => Ok(AccessToken::from_unix(token, expires_on)),
                Err(e) => Err(StateError::Rejected(format!(
                    "the credential's get_token failed ({})",
                    e.get_type(py)
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|_| "an exception".into())
                ))),
            }
        })
    }
}

/// The logger every store request is reported to.
static LOGGER: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// Reports one store request to the `cosmos_session_token.state` logger: DEBUG, or INFO when
/// the request is retried (throttling, 404/1002, 403/3, a transient failure, a 401). Runs with
/// the GIL taken (the store's callers release it); asks the logger first whether the level is
/// enabled, so a silent logger costs one call.
fn log_request(e: &cosmos_session_state::RequestEvent<'_>) {
    Python::attach(|py| {
        let logged = (|| -> PyResult<()> {
            let logger = LOGGER.get_or_try_init(py, || {
                py.import("logging")?
                    .call_method1("getLogger", ("cosmos_session_token.state",))
                    .map(Bound::unbind)
            })?;
            let logger = logger.bind(py);
            let level = if e.retry.is_some() { 20 } else { 10 };
            if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
                return Ok(());
            }
            logger.call_method1(
                "log",
                (
                    level,
                    "cosmos request %s %s region=%s status=%d substatus=%d charge=%.2f duration_ms=%.1f attempt=%d retry=%s error=%s",
                    e.method,
                    e.resource_type,
                    e.region,
                    e.status,
                    e.substatus,
                    e.request_charge,
                    e.duration.as_secs_f64() * 1000.0,
                    e.attempt,
                    e.retry.unwrap_or("-"),
                    e.error.unwrap_or("-"),
                ),
            )?;
            Ok(())
        })();
        // A logging handler that raises must not fail the store call.
        if let Err(err) = logged {
            err.write_unraisable(py, None);
        }
    })
}

/// A session-id argument. Refusals are the library's own errors (code `invalid_session_id`),
/// never `UnicodeEncodeError` or `TypeError`: a str with a lone surrogate has no UTF-8 form.
struct Sid(String);

impl<'a, 'py> FromPyObject<'a, 'py> for Sid {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let refuse = |why: &str| state_error(py, &StateError::InvalidSessionId(why.to_owned()));
        let text = obj
            .cast::<pyo3::types::PyString>()
            .map_err(|_| refuse("the session id is not a str"))?;
        let sid = text
            .to_str()
            .map_err(|_| refuse("the session id has no UTF-8 form (a lone surrogate)"))?;
        Ok(Sid(sid.to_owned()))
    }
}

/// A lock-id argument: an int from 0 to 2^53 - 1 (what a lock id can be), else the library's
/// `invalid_argument` error (never `OverflowError`).
struct LockId(u64);

impl<'a, 'py> FromPyObject<'a, 'py> for LockId {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let refuse = || {
            state_error(
                py,
                &StateError::InvalidArgument(format!(
                    "a lock id is an int from 0 to {}",
                    cosmos_session_state::MAX_LOCK_ID
                )),
            )
        };
        if obj.cast::<pyo3::types::PyBool>().is_ok() {
            return Err(refuse());
        }
        let n: i128 = obj.extract().map_err(|_| refuse())?;
        u64::try_from(n)
            .ok()
            .filter(|&id| id <= cosmos_session_state::MAX_LOCK_ID)
            .map(LockId)
            .ok_or_else(refuse)
    }
}

/// The answer of `get_exclusive`: the content (when the lock was acquired), or who holds the lock.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct Exclusive {
    data: Option<Py<PyBytes>>,
    /// True when another request holds a live lock (nothing was acquired).
    #[pyo3(get)]
    locked: bool,
    /// The acquired lock id, or the holder's when locked.
    #[pyo3(get)]
    lock_id: u64,
    /// The holder's true lock age in seconds when locked, else 0.0.
    #[pyo3(get)]
    lock_age: f64,
    /// The session was created uninitialized and not written yet.
    #[pyo3(get)]
    uninitialized: bool,
}

#[pymethods]
impl Exclusive {
    /// The session content (None: no live session, or locked).
    #[getter]
    fn data(&self, py: Python<'_>) -> Option<Py<PyBytes>> {
        self.data.as_ref().map(|d| d.clone_ref(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "Exclusive(locked={}, lock_id={}, lock_age={:.3}, data={})",
            if self.locked { "True" } else { "False" },
            self.lock_id,
            self.lock_age,
            if self.data.is_some() {
                "<bytes>"
            } else {
                "None"
            }
        )
    }
}

/// Session state in Cosmos DB (or in memory): locks with fenced writes, logical expiry with cheap
/// sliding renewal, per-item compression, token flow. Thread-safe; share one per process.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionStateStore {
    inner: Engine,
}

#[pymethods]
impl SessionStateStore {
    /// A store on Cosmos DB (`AccountEndpoint=...;AccountKey=...;`). Times in seconds. Nothing
    /// is sent until the first call, which creates the database and container if needed. Every
    /// keyword is an option of the state crate's one table (`state_option_table()`): None keeps
    /// its default, and a value is passed through as text, so types and ranges are refused
    /// (`invalid_option`, naming the option) exactly as on every other surface.
    #[new]
    #[pyo3(signature = (connection_string, *, database = None, container = None, lock_ttl = None,
                        timeout = None, compression = None, consistency = None,
                        renew_fraction = None, request_timeout = None, max_retries = None,
                        operation_timeout = None, preferred_regions = None,
                        allow_multi_write = None, create_if_missing = None, credential = None,
                        authentication = None, managed_identity_client_id = None),
           text_signature = "(connection_string, *, database=None, container=None, lock_ttl=None, timeout=None, compression=None, consistency=None, renew_fraction=None, request_timeout=None, max_retries=None, operation_timeout=None, preferred_regions=None, allow_multi_write=None, create_if_missing=None, credential=None, authentication=None, managed_identity_client_id=None)")]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn new(
        py: Python<'_>,
        connection_string: &str,
        database: Option<Bound<'_, PyAny>>,
        container: Option<Bound<'_, PyAny>>,
        lock_ttl: Option<Bound<'_, PyAny>>,
        timeout: Option<Bound<'_, PyAny>>,
        compression: Option<Bound<'_, PyAny>>,
        consistency: Option<Bound<'_, PyAny>>,
        renew_fraction: Option<Bound<'_, PyAny>>,
        request_timeout: Option<Bound<'_, PyAny>>,
        max_retries: Option<Bound<'_, PyAny>>,
        operation_timeout: Option<Bound<'_, PyAny>>,
        preferred_regions: Option<Regions>,
        allow_multi_write: Option<Bound<'_, PyAny>>,
        create_if_missing: Option<Bound<'_, PyAny>>,
        credential: Option<Py<PyAny>>,
        authentication: Option<Bound<'_, PyAny>>,
        managed_identity_client_id: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut settings = Settings::default();
        let given = [
            ("database", database),
            ("container", container),
            ("lock_ttl", lock_ttl),
            ("timeout", timeout),
            ("compression", compression),
            ("consistency", consistency),
            ("renew_fraction", renew_fraction),
            ("request_timeout", request_timeout),
            ("max_retries", max_retries),
            ("operation_timeout", operation_timeout),
            ("allow_multi_write", allow_multi_write),
            ("create_if_missing", create_if_missing),
            ("authentication", authentication),
            ("managed_identity_client_id", managed_identity_client_id),
        ];
        for (name, value) in given {
            if let Some(value) = value {
                set_option(py, &mut settings, name, &value)?;
            }
        }
        if let Some(regions) = preferred_regions {
            settings
                .set("preferred_regions", &regions.0)
                .map_err(|e| state_error(py, &e))?;
        }
        let build = || -> Result<Engine, StateError> {
            let (options, cosmos) = settings.resolve()?;
            let store = match credential {
                None => CosmosStore::connect(connection_string, cosmos)?,
                Some(c) => CosmosStore::connect_with_credential(
                    connection_string,
                    cosmos,
                    std::sync::Arc::new(PyCredential(c)),
                )?,
            };
            let store = store.with_observer(std::sync::Arc::new(log_request));
            Engine::new(store, options)
        };
        build()
            .map(|inner| SessionStateStore { inner })
            .map_err(|e| state_error(py, &e))
    }

    /// A store kept in this process's memory (tests, single-process tools); the engine's options
    /// as for a Cosmos DB store (None: the default).
    #[classmethod]
    #[pyo3(signature = (*, lock_ttl = None, timeout = None, compression = None, renew_fraction = None))]
    fn memory(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        lock_ttl: Option<Bound<'_, PyAny>>,
        timeout: Option<Bound<'_, PyAny>>,
        compression: Option<Bound<'_, PyAny>>,
        renew_fraction: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut settings = Settings::default();
        for (name, value) in [
            ("lock_ttl", lock_ttl),
            ("timeout", timeout),
            ("compression", compression),
            ("renew_fraction", renew_fraction),
        ] {
            if let Some(value) = value {
                set_option(py, &mut settings, name, &value)?;
            }
        }
        settings
            .resolve()
            .and_then(|(options, _)| Engine::new(MemoryStore::new(), options))
            .map(|inner| SessionStateStore { inner })
            .map_err(|e| state_error(py, &e))
    }

    /// Read-only: the committed content, or None; never takes or waits for the lock.
    fn get<'py>(&self, py: Python<'py>, sid: Sid) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let got = py
            .detach(|| self.inner.get(&sid.0))
            .map_err(|e| state_error(py, &e))?;
        Ok(got.map(|c| PyBytes::new(py, &c.data)))
    }

    /// Acquires the session's lock and returns its content, or reports the holder's lock.
    fn get_exclusive(&self, py: Python<'_>, sid: Sid) -> PyResult<Exclusive> {
        let ex = py
            .detach(|| self.inner.get_exclusive(&sid.0))
            .map_err(|e| state_error(py, &e))?;
        let uninitialized = ex.content.as_ref().is_some_and(|c| c.uninitialized);
        Ok(Exclusive {
            data: ex.content.map(|c| PyBytes::new(py, &c.data).unbind()),
            locked: ex.locked,
            lock_id: ex.lock_id,
            lock_age: ex.lock_age,
            uninitialized,
        })
    }

    /// Writes and releases the lock as one fenced operation; raises LockLost (nothing written)
    /// if the lock was taken over.
    #[pyo3(signature = (sid, data, lock_id, *, new_item = false, timeout = None))]
    fn set_and_release(
        &self,
        py: Python<'_>,
        sid: Sid,
        data: &[u8],
        lock_id: LockId,
        new_item: bool,
        timeout: Option<f64>,
    ) -> PyResult<()> {
        py.detach(|| {
            self.inner
                .set_and_release(&sid.0, data, lock_id.0, new_item, timeout)
        })
        .map_err(|e| state_error(py, &e))
    }

    /// Writes the session without holding its lock for the request (Django, Flask): takes the
    /// lock, waiting up to `wait` seconds while another request holds it, then writes and
    /// releases in one fenced operation. `new=True`: the id must be free (else SessionTokenError
    /// code session_exists); `new=False`: the session must still be live — one deleted or
    /// expired since it was loaded is never recreated (code session_gone). Past the wait: code
    /// lock_wait_timeout.
    #[pyo3(signature = (sid, data, *, new, timeout = None, wait = 10.0))]
    #[allow(clippy::too_many_arguments)] // the Python signature, plus py
    fn save(
        &self,
        py: Python<'_>,
        sid: Sid,
        data: &[u8],
        new: bool,
        timeout: Option<f64>,
        wait: f64,
    ) -> PyResult<()> {
        let wait = wait_arg(py, wait)?;
        let mode = if new {
            SaveMode::New
        } else {
            SaveMode::Existing
        };
        py.detach(|| self.inner.save(&sid.0, data, mode, timeout, wait))
            .map_err(|e| state_error(py, &e))
    }

    /// Removes the session without holding its lock: waits up to `wait` seconds for another
    /// request's lock (never gives up because one is saving), then removes it under the lock.
    /// Returns whether a live session was removed.
    #[pyo3(signature = (sid, *, wait = 10.0))]
    fn delete(&self, py: Python<'_>, sid: Sid, wait: f64) -> PyResult<bool> {
        let wait = wait_arg(py, wait)?;
        py.detach(|| self.inner.delete(&sid.0, wait))
            .map_err(|e| state_error(py, &e))
    }

    /// True when `sid` is a session id the store accepts (non-empty, at most 80 bytes, no
    /// control character). Adapters treat an invalid id from a cookie as "no session".
    #[staticmethod]
    fn is_valid_session_id(sid: &Bound<'_, PyAny>) -> bool {
        sid.cast::<pyo3::types::PyString>()
            .ok()
            .and_then(|s| s.to_str().ok())
            .is_some_and(|s| cosmos_session_state::check_session_id(s).is_ok())
    }

    /// Releases the lock without writing; a foreign or zero lock id is a no-op (returns False).
    fn release(&self, py: Python<'_>, sid: Sid, lock_id: LockId) -> PyResult<bool> {
        py.detach(|| self.inner.release(&sid.0, lock_id.0))
            .map_err(|e| state_error(py, &e))
    }

    /// Creates an empty, uninitialized session unless a live one exists.
    #[pyo3(signature = (sid, *, timeout = None))]
    fn create_uninitialized(&self, py: Python<'_>, sid: Sid, timeout: Option<f64>) -> PyResult<()> {
        py.detach(|| self.inner.create_uninitialized(&sid.0, timeout))
            .map_err(|e| state_error(py, &e))
    }

    /// Removes the session under its lock and releases it; returns False and deletes nothing
    /// when `lock_id` does not hold the lock (a foreign id, 0, or a lock taken over).
    fn remove(&self, py: Python<'_>, sid: Sid, lock_id: LockId) -> PyResult<bool> {
        py.detach(|| self.inner.remove(&sid.0, lock_id.0))
            .map_err(|e| state_error(py, &e))
    }

    /// Extends the session's life when the renewal is due; returns whether it wrote.
    fn reset_timeout(&self, py: Python<'_>, sid: Sid) -> PyResult<bool> {
        py.detach(|| self.inner.reset_timeout(&sid.0))
            .map_err(|e| state_error(py, &e))
    }

    /// What this store has done: requests, retries by cause (`throttled`,
    /// `read_session_unavailable`, `write_forbidden`, `transient`, `unauthorized`), region
    /// changes, account reads, containers created, request charge, lock waits, takeovers and
    /// fence failures.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = serde_json::to_value(self.inner.stats()).unwrap_or_default();
        let out = PyDict::new(py);
        if let serde_json::Value::Object(fields) = stats {
            for (name, value) in fields {
                match value.as_u64() {
                    Some(n) => out.set_item(name, n)?,
                    None => out.set_item(name, value.as_f64().unwrap_or(0.0))?,
                }
            }
        }
        Ok(out)
    }

    /// The session token gathered for the session (carry it to another node), or None.
    fn token(&self, py: Python<'_>, sid: Sid) -> PyResult<Option<SessionToken>> {
        let t = self.inner.token(&sid.0).map_err(|e| state_error(py, &e))?;
        Ok(t.map(SessionToken::wrap))
    }

    /// Presents a token carried from another node: later reads see at least what it saw.
    fn present_token(
        &self,
        py: Python<'_>,
        sid: Sid,
        token: &Bound<'_, SessionToken>,
    ) -> PyResult<()> {
        self.inner
            .present_token(&sid.0, &token.get().inner)
            .map_err(|e| state_error(py, &e))
    }

    /// What an operator sees of the session (a dict).
    fn show<'py>(&self, py: Python<'py>, sid: Sid) -> PyResult<Bound<'py, PyDict>> {
        let i = py
            .detach(|| self.inner.show(&sid.0))
            .map_err(|e| state_error(py, &e))?;
        let d = PyDict::new(py);
        d.set_item("exists", i.exists)?;
        d.set_item("stored_bytes", i.stored_bytes)?;
        d.set_item("compressed", i.compressed)?;
        d.set_item("expires_in", i.expires_in)?;
        d.set_item("uninitialized", i.uninitialized)?;
        d.set_item("locked", i.locked)?;
        d.set_item("lock_id", i.lock_id)?;
        d.set_item("lock_age", i.lock_age)?;
        Ok(d)
    }

    /// Breaks a held lock; returns its id, or None when none was held.
    fn force_unlock(&self, py: Python<'_>, sid: Sid) -> PyResult<Option<u64>> {
        py.detach(|| self.inner.force_unlock(&sid.0))
            .map_err(|e| state_error(py, &e))
    }
}

/// Sets one option from a Python value as its text form: `bool` as `true`/`false` (checked
/// before `int`, which it is a subclass of), numbers by `repr`, `str` as it is. Anything else is
/// an `invalid_option` naming the option; types and ranges are the state crate's.
fn set_option(
    py: Python<'_>,
    settings: &mut Settings,
    name: &str,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
    let text = if value.is_instance_of::<PyBool>() {
        value.extract::<bool>()?.to_string()
    } else if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        value.repr()?.to_string()
    } else if value.is_instance_of::<PyString>() {
        value.extract::<String>()?
    } else {
        let kind = value.get_type().name()?.to_string();
        return Err(state_error(
            py,
            &StateError::InvalidOption(format!("{name}: a {kind} is not an option's value")),
        ));
    };
    settings.set(name, &text).map_err(|e| state_error(py, &e))
}

/// The state crate's option table as JSON (name, type, default, range, doc of every option).
#[pyfunction]
pub fn state_option_table() -> String {
    Settings::schema_json()
}

/// A wait in seconds, checked by the engine's one rule ([`cosmos_session_state::lock_wait`]).
fn wait_arg(py: Python<'_>, wait: f64) -> PyResult<Duration> {
    cosmos_session_state::lock_wait(wait).map_err(|e| state_error(py, &e))
}

/// How errors and traces name a session without its id: "session #" and the first 12 hex
/// digits of the SHA-256 of the id.
#[pyfunction]
pub fn session_fingerprint(sid: &str) -> String {
    cosmos_session_state::session_fingerprint(sid)
}

/// The master-key `authorization` header value of the Cosmos DB REST API (URL-encoded).
#[pyfunction]
pub fn master_key_signature(
    key: &[u8],
    verb: &str,
    resource_type: &str,
    resource_link: &str,
    date: &str,
) -> String {
    cosmos_session_state::master_key_signature(key, verb, resource_type, resource_link, date)
}

/// The token-cookie hook of one web application (the state crate's `TokenCookie`): `begin` at
/// the start of a request presents the token the session's sealed cookie carries; `finish` at the
/// end gives the `Set-Cookie` header value to send when the store's token changed (or None).
/// Everything about the cookie is its CookiePolicy's (kind "state_token").
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct TokenCookie {
    inner: cosmos_session_state::TokenCookie,
}

#[pymethods]
impl TokenCookie {
    /// The hook of a "state_token" CookiePolicy (its name, keys, binding, Max-Age, Secure).
    #[new]
    #[pyo3(signature = (policy))]
    fn new(py: Python<'_>, policy: &crate::web::CookiePolicy) -> PyResult<Self> {
        cosmos_session_state::TokenCookie::new(policy.inner.clone())
            .map(|inner| TokenCookie { inner })
            .map_err(|e| state_error(py, &e))
    }

    /// The cookie's name (the same for every adapter).
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// Presents the token `cookie` carries for session `sid` to `store`; returns whether one was
    /// presented (anything that does not unseal for this session is no token).
    #[pyo3(signature = (store, sid, cookie))]
    fn begin(
        &self,
        py: Python<'_>,
        store: &SessionStateStore,
        sid: Sid,
        cookie: Option<&str>,
    ) -> PyResult<bool> {
        self.inner
            .begin(&store.inner, &sid.0, cookie)
            .map_err(|e| state_error(py, &e))
    }

    /// The Set-Cookie header value for session `sid` when the store's token is newer than what
    /// `cookie` (the request's incoming token cookie) carried for it; None otherwise.
    #[pyo3(signature = (store, sid, cookie))]
    fn finish(
        &self,
        py: Python<'_>,
        store: &SessionStateStore,
        sid: Sid,
        cookie: Option<&str>,
    ) -> PyResult<Option<String>> {
        self.inner
            .finish(&store.inner, &sid.0, cookie)
            .map_err(|e| state_error(py, &e))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}
