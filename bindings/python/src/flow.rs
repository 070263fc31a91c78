//! `SessionFlow`: the core's read-your-writes over an SDK's HTTP traffic, for the azure-core
//! hooks of `cosmos_session_token.azure` (which only translates requests and responses).

use std::sync::Arc;

use cosmos_session_token::{Outgoing, SessionFlow as CoreFlow};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::*;

/// Read-your-writes carried by an SDK's HTTP traffic (see `cosmos_session_token.azure`).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionFlow {
    pub(crate) inner: Arc<CoreFlow>,
}

/// The request headers the flow reads, by name (lower case), in the order of
/// `before_request`'s keyword arguments.
const REQUEST_HEADERS: [&str; 7] = [
    "x-ms-session-token",
    "x-ms-documentdb-partitionkey",
    "x-ms-documentdb-partitionkeyrangeid",
    "x-ms-start-epk",
    "x-ms-end-epk",
    "x-ms-documentdb-isquery",
    "content-type",
];

#[pymethods]
impl SessionFlow {
    #[new]
    fn new() -> Self {
        SessionFlow {
            inner: Arc::new(CoreFlow::new()),
        }
    }

    /// A flow from `snapshot()` text; anything else raises the library's typed errors
    /// (invalid_snapshot, snapshot_too_large).
    #[staticmethod]
    fn restore(py: Python<'_>, snapshot: &str) -> PyResult<Self> {
        CoreFlow::restore(snapshot)
            .map(|f| SessionFlow { inner: Arc::new(f) })
            .map_err(|e| core_error(py, &e))
    }

    /// Merges a snapshot into this flow (progress merged, never lost).
    fn merge_snapshot(&self, py: Python<'_>, snapshot: &str) -> PyResult<()> {
        self.inner
            .merge_snapshot(snapshot)
            .map_err(|e| core_error(py, &e))
    }

    /// The flow as compact, versioned JSON text.
    fn snapshot(&self) -> String {
        self.inner.snapshot()
    }

    /// The token to send with a request, or None to leave the SDK's header as it is. The
    /// headers the flow reads are passed by name (None when absent).
    #[pyo3(signature = (method, url, session_token = None, partition_key = None, range_id = None, start_epk = None, end_epk = None, is_query = None, content_type = None))]
    #[allow(clippy::too_many_arguments)] // one keyword per header read
    fn before_request(
        &self,
        method: &str,
        url: &str,
        session_token: Option<&str>,
        partition_key: Option<&str>,
        range_id: Option<&str>,
        start_epk: Option<&str>,
        end_epk: Option<&str>,
        is_query: Option<&str>,
        content_type: Option<&str>,
    ) -> Option<String> {
        let values = [
            session_token,
            partition_key,
            range_id,
            start_epk,
            end_epk,
            is_query,
            content_type,
        ];
        let headers: Vec<(&str, &str)> = REQUEST_HEADERS
            .iter()
            .zip(values)
            .filter_map(|(name, value)| value.map(|v| (*name, v)))
            .collect();
        match self.inner.before_request(method, url, &headers) {
            Outgoing::Set(token) => Some(token),
            Outgoing::Leave => None,
        }
    }

    /// Whether after_response needs this request's response body.
    fn wants_body(&self, method: &str, url: &str) -> bool {
        self.inner.wants_body(method, url)
    }

    /// Takes a response: its status, the headers the flow reads (session_token, sub_status,
    /// content_path) and the body when wants_body() said so. Never raises on what the wire
    /// carries: malformed input is counted in stats()["stepped_aside"].
    #[pyo3(signature = (method, url, status, session_token = None, sub_status = None, content_path = None, body = None))]
    #[allow(clippy::too_many_arguments)] // one keyword per header read
    fn after_response(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        status: u16,
        session_token: Option<&str>,
        sub_status: Option<&str>,
        content_path: Option<&str>,
        body: Option<&[u8]>,
    ) {
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(3);
        if let Some(t) = session_token {
            headers.push(("x-ms-session-token", t));
        }
        if let Some(s) = sub_status {
            headers.push(("x-ms-substatus", s));
        }
        if let Some(c) = content_path {
            headers.push(("x-ms-content-path", c));
        }
        // A large body (a routing map) is parsed without the GIL.
        match body {
            Some(b) if b.len() > 64 << 10 => py.detach(|| {
                self.inner
                    .after_response(method, url, status, &headers, Some(b))
            }),
            _ => self
                .inner
                .after_response(method, url, status, &headers, body),
        }
    }

    /// What the flow has done: requests, scoped, composite, left, stepped_aside, captured,
    /// definitions_learned, maps_learned, maps_forgotten.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        if let serde_json::Value::Object(fields) =
            serde_json::to_value(self.inner.stats()).unwrap_or_default()
        {
            for (name, value) in fields {
                out.set_item(name, value.as_u64().unwrap_or(0))?;
            }
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        let s = self.inner.stats();
        format!(
            "SessionFlow(requests={}, scoped={}, captured={})",
            s.requests, s.scoped, s.captured
        )
    }
}
