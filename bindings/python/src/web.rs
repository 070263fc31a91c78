//! The web-session policy of the core: token-cookie keys, contexts and headers.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::*;

/// One 32-byte token-cookie key per framework secret (bytes; the first seals, all unseal):
/// HMAC-SHA256(secret, a fixed label). Raises SealError-family errors for no secret, a secret
/// under 16 bytes (code weak_key) or more than MAX_SEAL_KEYS.
#[pyfunction]
pub(crate) fn derive_cookie_keys(
    py: Python<'_>,
    secrets: Vec<Vec<u8>>,
) -> PyResult<Vec<Py<PyBytes>>> {
    let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let keys =
        cosmos_session_token::derive_cookie_keys(&refs).map_err(|e| core_error(py, &e.into()))?;
    Ok(keys.iter().map(|k| PyBytes::new(py, k).unbind()).collect())
}

/// The seal context of one session's token cookie: framework, application, session id.
#[pyfunction]
pub(crate) fn token_cookie_context(framework: &str, app: &str, session_id: &str) -> String {
    cosmos_session_token::token_cookie_context(framework, app, session_id)
}

/// The Set-Cookie value of a token cookie: Path=/, HttpOnly, SameSite=Lax and, unless
/// secure=False (plain-HTTP development only), Secure.
#[pyfunction]
#[pyo3(signature = (name, value, *, max_age = None, secure = true))]
pub(crate) fn token_cookie_header(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    secure: bool,
) -> String {
    cosmos_session_token::token_cookie_header(name, value, max_age, secure)
}

/// Framework secrets as the frameworks keep them: `bytes`, or `str` taken as UTF-8 (Django's
/// and Flask's `SECRET_KEY`). The one place a secret is coerced.
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for Secret {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(text) = ob.extract::<String>() {
            return Ok(Secret(text.into_bytes()));
        }
        Ok(Secret(ob.extract::<Vec<u8>>()?))
    }
}

fn kind(word: &str) -> PyResult<cosmos_session_token::CookieKind> {
    cosmos_session_token::CookieKind::parse(word).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "unknown cookie kind {:?} (token, state_token or flow)",
            word.chars().take(40).collect::<String>()
        ))
    })
}

/// The core's one web-cookie policy (`kind`: "token", "state_token" or "flow"): the cookie's
/// name (and the earlier names still read), the keys derived from the framework's secrets (str
/// or bytes, the current one first, each 16+ bytes), the seal bound to the framework and the
/// session store (`database`/`container`, empty: the session-state defaults), the budget,
/// Max-Age and Secure. Django, Flask, the WSGI/ASGI middleware and TokenCookie use one.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct CookiePolicy {
    pub(crate) inner: cosmos_session_token::CookiePolicy,
}

#[pymethods]
impl CookiePolicy {
    #[new]
    #[pyo3(signature = (kind, framework, secrets, *, database = "", container = "", secure = true, max_age = None, max_bytes = 0))]
    #[allow(clippy::too_many_arguments)] // the Python keywords
    fn new(
        py: Python<'_>,
        kind: &str,
        framework: &str,
        secrets: Vec<Secret>,
        database: &str,
        container: &str,
        secure: bool,
        max_age: Option<u64>,
        max_bytes: usize,
    ) -> PyResult<Self> {
        let kind = self::kind(kind)?;
        let refs: Vec<&[u8]> = secrets.iter().map(|s| s.0.as_slice()).collect();
        cosmos_session_state::cookie_policy(kind, framework, database, container, &refs)
            .map(|p| CookiePolicy {
                inner: p
                    .with_secure(secure)
                    .with_max_age(max_age)
                    .with_max_bytes(max_bytes),
            })
            .map_err(|e| core_error(py, &e.into()))
    }

    /// A policy whose seal keys are given as they are (bytes, 16+ each), not derived from a
    /// framework secret (the WSGI SessionTokenMiddleware's keys).
    #[staticmethod]
    #[pyo3(signature = (kind, keys, *, framework = "wsgi", app = "", secure = true, max_age = None, max_bytes = 0))]
    #[allow(clippy::too_many_arguments)] // the Python keywords
    fn from_seal_keys(
        py: Python<'_>,
        kind: &str,
        keys: Vec<Vec<u8>>,
        framework: &str,
        app: &str,
        secure: bool,
        max_age: Option<u64>,
        max_bytes: usize,
    ) -> PyResult<Self> {
        let kind = self::kind(kind)?;
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        cosmos_session_token::CookiePolicy::from_seal_keys(kind, framework, app, &refs)
            .map(|p| CookiePolicy {
                inner: p
                    .with_secure(secure)
                    .with_max_age(max_age)
                    .with_max_bytes(max_bytes),
            })
            .map_err(|e| core_error(py, &e.into()))
    }

    /// What the cookie carries: "token", "state_token" or "flow".
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().as_str()
    }

    /// The cookie's name.
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// Earlier names of the cookie, still read (never written) for one release.
    #[getter]
    fn legacy_names(&self) -> Vec<&'static str> {
        self.inner.legacy_names().to_vec()
    }

    /// The framework the seal is bound to.
    #[getter]
    fn framework(&self) -> &str {
        self.inner.framework()
    }

    /// The application the seal is bound to ("database/container", or "flow").
    #[getter]
    fn app(&self) -> &str {
        self.inner.app()
    }

    /// The seal keys (bytes; the first seals, all open).
    #[getter]
    fn keys(&self, py: Python<'_>) -> Vec<Py<PyBytes>> {
        self.inner
            .keys()
            .iter()
            .map(|k| PyBytes::new(py, k).unbind())
            .collect()
    }

    /// The budget of the sealed cookie text in bytes.
    #[getter]
    fn max_bytes(&self) -> usize {
        self.inner.max_bytes()
    }

    /// The cookie's Max-Age in seconds (None: a browser-session cookie).
    #[getter]
    fn max_age(&self) -> Option<u64> {
        self.inner.max_age()
    }

    /// Whether the cookie is set Secure.
    #[getter]
    fn secure(&self) -> bool {
        self.inner.secure()
    }

    /// The seal context of one session's (or user's) cookie.
    fn context(&self, session_id: &str) -> String {
        self.inner.context(session_id)
    }

    /// The Set-Cookie value that sets the cookie to `value`.
    fn header(&self, value: &str) -> String {
        self.inner.header(value)
    }

    /// The cookie's value among a request's cookies (a mapping of names to values): the current
    /// name first, then the legacy names; None when absent.
    fn pick(&self, cookies: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        for name in
            std::iter::once(self.inner.name()).chain(self.inner.legacy_names().iter().copied())
        {
            let found = cookies.call_method1("get", (name,))?;
            if !found.is_none() {
                return Ok(Some(found.extract()?));
            }
        }
        Ok(None)
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}
