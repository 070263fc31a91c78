//! `SessionCarrier`: one request's carried token.

use cosmos_session_token::SessionCarrier as CoreCarrier;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::*;
use crate::token::*;

/// One request's carried session token: read the incoming sealed value, report every write's
/// token, send `for_range(...)` with reads, write `sealed()` back when `changed`. The policy
/// (union merge, first key seals, anything that does not unseal is no token, the budget of the
/// sealed text) is the core's, the same on every surface.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionCarrier {
    pub(crate) inner: std::sync::Mutex<CoreCarrier>,
}

impl SessionCarrier {
    fn lock(&self) -> std::sync::MutexGuard<'_, CoreCarrier> {
        // Every operation leaves the carrier valid, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl SessionCarrier {
    /// keys: the first seals, all are accepted (rotation); each at least 16 bytes.
    #[new]
    #[pyo3(
        signature = (keys, context = "", *, max_bytes = cosmos_session_token::DEFAULT_SEAL_BUDGET),
        text_signature = "(keys, context='', *, max_bytes=4000)"
    )]
    fn new(py: Python<'_>, keys: Vec<Vec<u8>>, context: &str, max_bytes: usize) -> PyResult<Self> {
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let inner =
            CoreCarrier::new(&refs, context, max_bytes).map_err(|e| core_error(py, &e.into()))?;
        Ok(SessionCarrier {
            inner: std::sync::Mutex::new(inner),
        })
    }

    /// Reads the incoming sealed value (None or "": no cookie); returns whether a token was
    /// accepted. Anything that does not unseal is no token, never an error.
    /// A value that is not text Python can encode (a lone surrogate, not a str) is no token too.
    #[pyo3(signature = (sealed))]
    fn read(&self, sealed: Option<&Bound<'_, PyAny>>) -> bool {
        // Unencodable text cannot be a sealed value: read as "no cookie".
        let text = sealed.and_then(|v| v.cast::<PyString>().ok().and_then(|s| s.to_str().ok()));
        self.lock().read(text)
    }

    /// Reports a write's token (a SessionToken, or a header value parsed strictly; "" is no
    /// token and returns False). Merged with the union policy.
    fn report(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(t) = token.cast::<SessionToken>() {
            self.lock().report(&t.get().inner);
            return Ok(true);
        }
        let text: String = token.extract()?;
        self.lock()
            .report_header(&text)
            .map_err(|e| parse_error(py, &e))
    }

    /// The carried token, or None.
    #[getter]
    fn token(&self) -> Option<SessionToken> {
        self.lock().token().cloned().map(SessionToken::wrap)
    }

    /// True when a report changed the token since the last read.
    #[getter]
    fn changed(&self) -> bool {
        self.lock().changed()
    }

    /// The token to send for one partition key range, or None (send no token).
    #[pyo3(signature = (range_id, parents = Vec::new()), text_signature = "(self, /, range_id, parents=())")]
    fn for_range(
        &self,
        py: Python<'_>,
        range_id: &str,
        parents: Vec<String>,
    ) -> PyResult<Option<SessionToken>> {
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        self.lock()
            .for_range(range_id, &parents)
            .map(|t| t.map(SessionToken::wrap))
            .map_err(|e| core_error(py, &e))
    }

    /// The token to send for the item with partition key `value` (its range's segment in
    /// `routing_map`; `definition`: the container's `partitionKey` property, None: Hash V2), or
    /// None.
    #[pyo3(signature = (value, routing_map, definition = None))]
    fn for_partition_key(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        routing_map: &crate::routing::RoutingMap,
        definition: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<SessionToken>> {
        let d = crate::routing::container_definition(py, definition)?;
        let c = crate::routing::components(value)?;
        self.lock()
            .for_partition_key(&c, d, &routing_map.inner)
            .map(|t| t.map(SessionToken::wrap))
            .map_err(|e| core_error(py, &e))
    }

    /// Why the last read accepted or refused its value: accepted, missing, malformed,
    /// too_large, unknown_key, foreign_context, forged, unreadable or unverified (an older
    /// cst1 value that does not verify). Safe to log: it says nothing of the value.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.lock().verdict().as_str()
    }

    /// The sealed value to write back, or None when there is no token. Raises
    /// LimitExceededError over the budget (scope the token).
    fn sealed(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.lock().sealed().map_err(|e| core_error(py, &e.into()))
    }
}
