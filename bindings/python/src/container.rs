//! `SessionContainer`: per-partition tokens of many collections.

use cosmos_session_token::{RequestKind, SessionContainer as CoreContainer};

use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::errors::*;
use crate::token::*;

/// Per-partition session tokens of many collections, shared by any number of threads.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionContainer {
    pub(crate) inner: CoreContainer,
}

#[pymethods]
impl SessionContainer {
    #[new]
    fn new() -> Self {
        SessionContainer {
            inner: CoreContainer::new(),
        }
    }

    /// Records a response's token if the capture rule allows it (2xx, 409, 412, 404 with
    /// sub_status != 1002); returns whether it did. A missing (None) or empty header and master
    /// requests (resource_type "colls", "dbs", "pkranges", ...) capture nothing.
    #[pyo3(signature = (collection_name, collection_rid, token, status, sub_status = 0, *, resource_type = "docs"))]
    #[allow(clippy::too_many_arguments)] // the Python signature, plus py
    fn capture(
        &self,
        py: Python<'_>,
        collection_name: &str,
        collection_rid: &str,
        token: Option<&str>,
        status: u16,
        sub_status: u32,
        resource_type: &str,
    ) -> PyResult<bool> {
        let kind = RequestKind::from_resource_type(resource_type)
            .map_err(|e| core_error(py, &e.into()))?;
        py.detach(|| {
            self.inner.capture_response(
                kind,
                collection_name,
                collection_rid,
                token,
                status,
                sub_status,
            )
        })
        .map_err(|e| core_error(py, &e))
    }

    /// Forgets one range (e.g. one that routing says is gone after a split); returns whether it
    /// was stored.
    fn forget_range(&self, collection_name: &str, range_id: &str) -> bool {
        self.inner.forget_range(collection_name, range_id)
    }

    /// The token to send for one range: exact, else merged parents relabelled, else None.
    #[pyo3(signature = (collection_name, range_id, parents = Vec::new()), text_signature = "(self, /, collection_name, range_id, parents=())")]
    fn resolve(
        &self,
        py: Python<'_>,
        collection_name: &str,
        range_id: &str,
        parents: Vec<String>,
    ) -> PyResult<Option<SessionToken>> {
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        let inner = &self.inner;
        maybe_detach(py, parents.len(), || {
            inner.resolve(collection_name, range_id, &parents)
        })
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(py, &e))
    }

    /// The token to send for the item with partition key `value`, given the container's routing
    /// map and partition-key definition (its `partitionKey` property; None: Hash V2), or None.
    #[pyo3(signature = (collection_name, value, routing_map, definition = None))]
    fn resolve_for_partition_key(
        &self,
        py: Python<'_>,
        collection_name: &str,
        value: &Bound<'_, PyAny>,
        routing_map: &crate::routing::RoutingMap,
        definition: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<SessionToken>> {
        let d = crate::routing::container_definition(py, definition)?;
        let c = crate::routing::components(value)?;
        let (inner, map) = (&self.inner, routing_map.map());
        // A hierarchical-key prefix can span every range of the map; the GIL is released only
        // for a map of more than a few ranges, where it pays (see `routing::routing_work`).
        maybe_detach(py, map.ranges().len(), || {
            inner.resolve_for_partition_key(collection_name, &c, d, map)
        })
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(py, &e))
    }

    /// Every stored range of the collection as one composite token, or None.
    fn resolve_all(&self, collection_name: &str) -> Option<SessionToken> {
        self.inner
            .resolve_all(collection_name)
            .map(SessionToken::wrap)
    }

    /// Forgets the collection's tokens; returns whether anything was stored.
    fn clear(&self, collection_name: &str) -> bool {
        self.inner.clear(collection_name)
    }

    /// The whole container as versioned JSON text.
    fn snapshot(&self) -> String {
        self.inner.snapshot()
    }

    /// A new container holding a snapshot (raises SessionTokenError if it is invalid).
    #[classmethod]
    fn restore(_cls: &Bound<'_, PyType>, py: Python<'_>, snapshot: &str) -> PyResult<Self> {
        let c = CoreContainer::new();
        c.restore(snapshot).map_err(|e| core_error(py, &e))?;
        Ok(SessionContainer { inner: c })
    }
}
