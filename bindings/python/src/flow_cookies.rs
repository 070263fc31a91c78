//! Flow cookies: a web node's per-user flows, each user's progress sealed in a cookie (the
//! core's `FlowCookies`), for the WSGI, ASGI, Django and Flask adapters, which only translate.

use std::sync::Arc;

use cosmos_session_token::{
    CookieFlow as CoreCookieFlow, FlowCookies as CoreFlowCookies, SealedCookie,
};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::*;
use crate::flow::SessionFlow;

/// A web node's flow cookies: its keys (the first seals, all open), the budget of a cookie,
/// and the node's flow whose routing knowledge every user's flow shares.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct FlowCookies {
    inner: CoreFlowCookies,
}

/// One user's flow for one request, opened from the user's cookie.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct CookieFlow {
    inner: CoreCookieFlow,
}

#[pymethods]
impl FlowCookies {
    /// Keys are bytes, at least 16 each (derive them from a framework secret with
    /// derive_cookie_keys); max_bytes bounds the cookie's text.
    #[new]
    #[pyo3(signature = (keys, *, max_bytes = cosmos_session_token::DEFAULT_SEAL_BUDGET))]
    fn new(py: Python<'_>, keys: Vec<Vec<u8>>, max_bytes: usize) -> PyResult<Self> {
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        CoreFlowCookies::new(&refs, max_bytes)
            .map(|inner| FlowCookies { inner })
            .map_err(|e| core_error(py, &e.into()))
    }

    /// Opens the cookie a request brought (None: none) for the user `context` binds it to
    /// ("" when the request has no session: nothing is read or written). Never raises.
    #[pyo3(signature = (context, cookie = None))]
    fn open(&self, context: &str, cookie: Option<&str>) -> CookieFlow {
        CookieFlow {
            inner: self.inner.open(context, cookie),
        }
    }

    /// What to write back: ("sealed", value), ("unchanged", None) or ("over_budget", None)
    /// (the progress no longer fits; the previous cookie stays; counted). `context`: the
    /// user's context at the end of the request when it is not the one the cookie was opened
    /// for (a session created or renewed during the request).
    #[pyo3(signature = (user, context = None))]
    fn seal(&self, user: &CookieFlow, context: Option<&str>) -> (&'static str, Option<String>) {
        let sealed = match context {
            Some(c) => self.inner.seal_as(&user.inner, c),
            None => self.inner.seal(&user.inner),
        };
        match sealed {
            SealedCookie::Value(v) => ("sealed", Some(v)),
            SealedCookie::Unchanged => ("unchanged", None),
            SealedCookie::OverBudget { .. } => ("over_budget", None),
        }
    }

    /// The node's flow (its routing knowledge is every user's; its stats count every request).
    fn node(&self) -> SessionFlow {
        SessionFlow {
            inner: Arc::new(self.inner.node().for_user()),
        }
    }

    /// Cookies met by verdict (accepted, no_session, missing, malformed, too_large, unknown_key,
    /// foreign_context, forged, unreadable) and written back (sealed, over_budget).
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
        format!("{:?}", self.inner)
    }
}

#[pymethods]
impl CookieFlow {
    /// The user's flow: make it current for the SDK's hooks while the request runs.
    #[getter]
    fn flow(&self) -> SessionFlow {
        SessionFlow {
            inner: Arc::clone(self.inner.flow()),
        }
    }

    /// What became of the cookie: accepted, no_session, missing, malformed, too_large,
    /// unknown_key, foreign_context, forged or unreadable.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict().as_str()
    }

    /// True when a cookie was brought and not accepted (worth a warning; never an error).
    #[getter]
    fn refused(&self) -> bool {
        self.inner.verdict().is_refusal()
    }

    /// True when the user's progress moved since the cookie was opened.
    #[getter]
    fn changed(&self) -> bool {
        self.inner.changed()
    }

    fn __repr__(&self) -> String {
        format!("CookieFlow(verdict={:?})", self.inner.verdict().as_str())
    }
}

/// A flow's snapshot for a message, within max_bytes (snapshot_too_large past it).
#[pyfunction]
#[pyo3(signature = (flow, *, max_bytes = cosmos_session_token::MESSAGE_FLOW_BUDGET))]
pub(crate) fn flow_snapshot_within(
    py: Python<'_>,
    flow: &SessionFlow,
    max_bytes: usize,
) -> PyResult<String> {
    flow.inner
        .snapshot_within(max_bytes)
        .map_err(|e| core_error(py, &e))
}

/// Seals a flow for a message, bound to context (e.g. the queue's name), within max_bytes.
#[pyfunction]
#[pyo3(signature = (flow, key, context = "", *, max_bytes = cosmos_session_token::MESSAGE_FLOW_BUDGET))]
pub(crate) fn seal_flow(
    py: Python<'_>,
    flow: &SessionFlow,
    key: &[u8],
    context: &str,
    max_bytes: usize,
) -> PyResult<String> {
    cosmos_session_token::seal_flow(&flow.inner, key, context, max_bytes)
        .map_err(|e| core_error(py, &e))
}

/// The flow of a seal_flow envelope, checked against any of keys and context (SealError when
/// not sealed by one of them for this context; the snapshot's typed errors otherwise).
#[pyfunction]
#[pyo3(signature = (sealed, keys, context = "", *, max_bytes = cosmos_session_token::MESSAGE_FLOW_BUDGET))]
pub(crate) fn unseal_flow(
    py: Python<'_>,
    sealed: &str,
    keys: Vec<Vec<u8>>,
    context: &str,
    max_bytes: usize,
) -> PyResult<SessionFlow> {
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    cosmos_session_token::unseal_flow(sealed, &refs, context, max_bytes)
        .map(|f| SessionFlow { inner: Arc::new(f) })
        .map_err(|e| core_error(py, &e))
}
