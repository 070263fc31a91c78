//! Sealed tokens: `seal` and `unseal`.

use cosmos_session_token::Error as CoreError;

use pyo3::prelude::*;

use crate::errors::*;
use crate::token::*;

/// Seals a token for `context` with `key` (>= 16 bytes) into a cookie-safe envelope.
#[pyfunction]
#[pyo3(
    signature = (token, key, context = "", *, max_bytes = cosmos_session_token::DEFAULT_SEAL_BUDGET),
    text_signature = "(token, key, context='', *, max_bytes=4000)"
)]
pub(crate) fn seal(
    py: Python<'_>,
    token: TokenArg<'_>,
    key: &[u8],
    context: &str,
    max_bytes: usize,
) -> PyResult<String> {
    token
        .with(py, |t| {
            cosmos_session_token::seal(t, key, context, max_bytes)
        })?
        .map_err(|e| core_error(py, &CoreError::Seal(e)))
}

/// Checks a sealed token against any of `keys` (rotation) and `context`; returns the token.
#[pyfunction]
#[pyo3(
    signature = (sealed, keys, context = "", *, max_bytes = cosmos_session_token::DEFAULT_SEAL_BUDGET),
    text_signature = "(sealed, keys, context='', *, max_bytes=4000)"
)]
pub(crate) fn unseal(
    py: Python<'_>,
    sealed: &str,
    keys: &Bound<'_, PyAny>,
    context: &str,
    max_bytes: usize,
) -> PyResult<SessionToken> {
    // One bytes object, or a sequence of them (bytes is itself a sequence of ints: check first).
    let keys: Vec<Vec<u8>> = if keys.cast::<pyo3::types::PyBytes>().is_ok() {
        vec![keys.extract()?]
    } else {
        keys.extract()?
    };
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    cosmos_session_token::unseal(sealed, &refs, context, max_bytes)
        .map(SessionToken::wrap)
        .map_err(|e| core_error(py, &e))
}
