//! `SessionFlow`: the core's read-your-writes over an SDK's HTTP traffic, for the azure-core
//! hooks of `cosmos_session_token.azure` (which only translates requests and responses).

use std::sync::Arc;

use cosmos_session_token::{Outgoing, SessionFlow as CoreFlow};

use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};

use crate::errors::*;

/// Read-your-writes carried by an SDK's HTTP traffic (see `cosmos_session_token.azure`).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionFlow {
    pub(crate) inner: Arc<CoreFlow>,
}

/// The request headers the flow reads, by name (lower case), in the order of
/// `before_request`'s keyword arguments.
const REQUEST_HEADERS: [&str; 7] = cosmos_session_token::FLOW_REQUEST_HEADERS;

/// The response headers the flow reads, by name (lower case), in the order of
/// `after_response`'s keyword arguments.
const RESPONSE_HEADERS: [&str; 3] = cosmos_session_token::FLOW_RESPONSE_HEADERS;

/// How a hook reads a headers mapping (decided once per type, see [`kind_of`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeadersKind {
    /// A `dict` (or subclass): its own entries, names compared without case.
    Dict,
    /// azure-core's or requests' `CaseInsensitiveDict`: `_store` maps each lower-case name to
    /// `(name, value)`; one dict lookup per header read.
    Store,
    /// Anything else (aiohttp's `CIMultiDictProxy` …): `headers.get(name)` per header.
    Mapping,
}

/// The kinds of the header types seen so far (a few: one request and one response type per
/// transport), holding the types so that their addresses stay theirs.
static KINDS: std::sync::Mutex<Vec<(Py<PyType>, HeadersKind)>> = std::sync::Mutex::new(Vec::new());

fn kind_of(headers: &Bound<'_, PyAny>) -> HeadersKind {
    if headers.is_instance_of::<PyDict>() {
        return HeadersKind::Dict;
    }
    let ty = headers.get_type();
    let mut kinds = KINDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, kind)) = kinds.iter().find(|(t, _)| t.as_ptr() == ty.as_ptr()) {
        return *kind;
    }
    let kind = match ty.name() {
        Ok(name) if name.to_str().is_ok_and(|n| n == "CaseInsensitiveDict") => HeadersKind::Store,
        _ => HeadersKind::Mapping,
    };
    if kinds.len() < 16 {
        kinds.push((ty.unbind(), kind));
    }
    kind
}

/// The values of headers `names` (lower case) in an azure-core headers mapping, `None` where
/// absent; a value that is not a `str` is read as `str(value)`.
fn read_headers<'py, const N: usize>(
    headers: &Bound<'py, PyAny>,
    names: &[&str; N],
) -> PyResult<[Option<Bound<'py, PyString>>; N]> {
    let py = headers.py();
    let mut out: [Option<Bound<'py, PyString>>; N] = std::array::from_fn(|_| None);
    let text = |v: Bound<'py, PyAny>| -> PyResult<Option<Bound<'py, PyString>>> {
        if v.is_none() {
            return Ok(None);
        }
        match v.cast_into::<PyString>() {
            Ok(s) => Ok(Some(s)),
            Err(e) => Ok(Some(e.into_inner().str()?)),
        }
    };
    match kind_of(headers) {
        HeadersKind::Dict => {
            let dict = headers.cast::<PyDict>()?;
            for (key, value) in dict.iter() {
                let Ok(key) = key.cast::<PyString>() else {
                    continue;
                };
                let key = key.to_str()?;
                if let Some(i) = names
                    .iter()
                    .position(|n| n.len() == key.len() && n.eq_ignore_ascii_case(key))
                    && out[i].is_none()
                {
                    out[i] = text(value)?;
                }
            }
            return Ok(out);
        }
        HeadersKind::Store => {
            if let Some(store) = headers
                .getattr_opt(intern!(py, "_store"))?
                .and_then(|s| s.cast_into::<PyDict>().ok())
            {
                let mut shaped = true;
                for (i, name) in names.iter().enumerate() {
                    let Some(pair) = store.get_item(*name)? else {
                        continue;
                    };
                    match pair.cast::<PyTuple>() {
                        Ok(t) if t.len() == 2 => out[i] = text(t.get_item(1)?)?,
                        _ => {
                            shaped = false;
                            break;
                        }
                    }
                }
                if shaped {
                    return Ok(out);
                }
            }
        }
        HeadersKind::Mapping => {}
    }
    let get = intern!(py, "get");
    for (i, name) in names.iter().enumerate() {
        out[i] = text(headers.call_method1(get, (*name,))?)?;
    }
    Ok(out)
}

/// `(name, value)` pairs of the headers read (present ones only), on the stack.
fn pairs<'a, const N: usize>(
    names: &[&'static str; N],
    values: &'a [Option<Bound<'_, PyString>>; N],
    out: &mut [(&'static str, &'a str); N],
) -> PyResult<usize> {
    let mut n = 0;
    for (name, value) in names.iter().zip(values) {
        if let Some(v) = value {
            out[n] = (name, v.to_str()?);
            n += 1;
        }
    }
    Ok(n)
}

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
        let mut headers = [("", ""); REQUEST_HEADERS.len()];
        let mut n = 0;
        for (name, value) in REQUEST_HEADERS.iter().zip(values) {
            if let Some(v) = value {
                headers[n] = (name, v);
                n += 1;
            }
        }
        match self.inner.before_request(method, url, &headers[..n]) {
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
        let mut headers = [("", ""); RESPONSE_HEADERS.len()];
        let mut n = 0;
        for (name, value) in RESPONSE_HEADERS
            .iter()
            .zip([session_token, sub_status, content_path])
        {
            if let Some(v) = value {
                headers[n] = (name, v);
                n += 1;
            }
        }
        self.take_response(py, method, url, status, &headers[..n], body);
    }

    /// azure-core's `raw_request_hook` in one call: reads `http_request`'s method, url and the
    /// headers the flow reads (one pass over an azure-core or requests `CaseInsensitiveDict` or
    /// a `dict`; `get` per header on any other mapping), and sets `x-ms-session-token` when the
    /// flow has a token for the request.
    fn on_request(&self, pipeline_request: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = pipeline_request.py();
        let request = pipeline_request.getattr(intern!(py, "http_request"))?;
        let method = request
            .getattr(intern!(py, "method"))?
            .cast_into::<PyString>()?;
        let url = request
            .getattr(intern!(py, "url"))?
            .cast_into::<PyString>()?;
        let headers = request.getattr(intern!(py, "headers"))?;
        let values = read_headers(&headers, &REQUEST_HEADERS)?;
        let mut found = [("", ""); REQUEST_HEADERS.len()];
        let n = pairs(&REQUEST_HEADERS, &values, &mut found)?;
        match self
            .inner
            .before_request(method.to_str()?, url.to_str()?, &found[..n])
        {
            Outgoing::Set(token) => headers.set_item(intern!(py, "x-ms-session-token"), token),
            Outgoing::Leave => Ok(()),
        }
    }

    /// azure-core's `raw_response_hook` in one call: reads the request's method and url, the
    /// response's `status_code` and the headers the flow reads, and calls `body()` only for the
    /// responses the flow learns from (a body not loaded yet raises there: nothing is learned
    /// from that one). Never raises on what the wire carries.
    fn on_response(&self, pipeline_response: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = pipeline_response.py();
        let request = pipeline_response.getattr(intern!(py, "http_request"))?;
        let response = pipeline_response.getattr(intern!(py, "http_response"))?;
        let method = request
            .getattr(intern!(py, "method"))?
            .cast_into::<PyString>()?;
        let url = request
            .getattr(intern!(py, "url"))?
            .cast_into::<PyString>()?;
        let (method, url) = (method.to_str()?, url.to_str()?);
        let body = if self.inner.wants_body(method, url) {
            match response.call_method0(intern!(py, "body")) {
                Ok(b) if b.is_none() => None,
                Ok(b) => Some(b.cast_into::<PyBytes>()?),
                Err(e) if e.is_instance_of::<PyException>(py) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let status: u16 = response.getattr(intern!(py, "status_code"))?.extract()?;
        let headers = response.getattr(intern!(py, "headers"))?;
        let values = read_headers(&headers, &RESPONSE_HEADERS)?;
        let mut found = [("", ""); RESPONSE_HEADERS.len()];
        let n = pairs(&RESPONSE_HEADERS, &values, &mut found)?;
        self.take_response(
            py,
            method,
            url,
            status,
            &found[..n],
            body.as_ref().map(|b| b.as_bytes()),
        );
        Ok(())
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

impl SessionFlow {
    /// The core's after_response; a large body (a routing map) is parsed without the GIL.
    fn take_response(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) {
        match body {
            Some(b) if b.len() > 64 << 10 => py.detach(|| {
                self.inner
                    .after_response(method, url, status, headers, Some(b))
            }),
            _ => self
                .inner
                .after_response(method, url, status, headers, body),
        }
    }
}
