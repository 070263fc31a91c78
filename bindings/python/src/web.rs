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
