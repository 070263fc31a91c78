//! Effective partition keys, routing maps, and the token to send for a partition key or a feed
//! range: the core's `partition_key` and `routing` modules for Python.

use cosmos_session_token::{
    Error as CoreError, PartitionKeyDefinition, PartitionKeyError, PartitionKeyValue,
    RoutingMap as CoreMap, check_header_budget as core_budget, epk_range,
    token_for_feed_range as core_for_feed_range, token_for_partition_key as core_for_partition_key,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::*;
use crate::feed_ranges::feed_range;
use crate::token::*;

fn json_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_str()?.to_owned());
    }
    value
        .py()
        .import("json")?
        .call_method1("dumps", (value,))?
        .extract()
}

fn pk_error(py: Python<'_>, e: PartitionKeyError) -> PyErr {
    core_error(py, &CoreError::from(e))
}

/// A partition key value (str, int, float, bool, None, {} for "undefined", or a list of those
/// for a hierarchical key) as the core's components, through JSON.
pub(crate) fn components(value: &Bound<'_, PyAny>) -> PyResult<Vec<PartitionKeyValue>> {
    let py = value.py();
    let text: String = py
        .import("json")?
        .call_method1("dumps", (value,))
        .map_err(|_| {
            pk_error(
                py,
                PartitionKeyError::Value(
                    "a partition key is a str, int, float, bool, None, {} or a list of them".into(),
                ),
            )
        })?
        .extract()?;
    PartitionKeyValue::parse_json(&text).map_err(|e| pk_error(py, e))
}

/// The key's components and the definition named by `kind`, `version` and `levels` (the core's
/// rule: levels default to the number of components).
fn key_and_definition(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    kind: &str,
    version: u8,
    levels: Option<usize>,
) -> PyResult<(Vec<PartitionKeyValue>, PartitionKeyDefinition)> {
    let kind = PartitionKeyDefinition::parse_kind(kind).map_err(|e| pk_error(py, e))?;
    let c = components(value)?;
    let d = PartitionKeyDefinition::for_key(kind, version, levels, c.len())
        .map_err(|e| pk_error(py, e))?;
    Ok((c, d))
}

/// The container's partition-key definition: azure-cosmos's `partitionKey` property (a dict
/// with `paths`, `kind`, `version`), or None for Hash V2.
pub(crate) fn container_definition(
    py: Python<'_>,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<PartitionKeyDefinition> {
    match value {
        None => Ok(PartitionKeyDefinition::hash_v2()),
        Some(v) => PartitionKeyDefinition::from_json(&json_text(v)?).map_err(|e| pk_error(py, e)),
    }
}

/// The effective partition key of `value` (upper-case hex, as `pkranges` spell their bounds).
#[pyfunction]
#[pyo3(signature = (value, *, kind = "Hash", version = 2, levels = None))]
pub(crate) fn effective_partition_key(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    kind: &str,
    version: u8,
    levels: Option<usize>,
) -> PyResult<String> {
    let (c, d) = key_and_definition(py, value, kind, version, levels)?;
    cosmos_session_token::effective_partition_key(&c, d).map_err(|e| pk_error(py, e))
}

/// The feed range of `value`, in the dict shape azure-cosmos's
/// `ContainerProxy.feed_range_from_partition_key` gives (and `latest_for_feed_range` takes): a
/// point for a full key, `[epk, epk + "FF")` for a hierarchical-key prefix.
#[pyfunction]
#[pyo3(signature = (value, *, kind = "Hash", version = 2, levels = None))]
pub(crate) fn feed_range_from_partition_key<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
    kind: &str,
    version: u8,
    levels: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let (c, d) = key_and_definition(py, value, kind, version, levels)?;
    let r = epk_range(&c, d).map_err(|e| pk_error(py, e))?;
    let inner = PyDict::new(py);
    inner.set_item("min", &r.min)?;
    inner.set_item("max", &r.max)?;
    inner.set_item("isMinInclusive", true)?;
    inner.set_item("isMaxInclusive", r.max_inclusive)?;
    let out = PyDict::new(py);
    out.set_item("Range", inner)?;
    Ok(out)
}

/// A container's partition-key ranges: the body of `GET …/pkranges` (a dict with
/// `PartitionKeyRanges`, a list of range dicts, or their JSON text), checked to cover ""..FF
/// without gaps or overlaps.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct RoutingMap {
    pub(crate) inner: CoreMap,
}

fn range_dict<'py>(
    py: Python<'py>,
    r: &cosmos_session_token::PartitionKeyRange,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &r.id)?;
    d.set_item("minInclusive", &r.min)?;
    d.set_item("maxExclusive", &r.max)?;
    d.set_item("parents", r.parents.clone())?;
    Ok(d)
}

impl RoutingMap {
    pub(crate) fn map(&self) -> &CoreMap {
        &self.inner
    }
}

#[pymethods]
impl RoutingMap {
    #[new]
    fn new(py: Python<'_>, ranges: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = json_text(ranges)?;
        CoreMap::parse(&text)
            .map(|inner| RoutingMap { inner })
            .map_err(|e| pk_error(py, e))
    }

    fn __len__(&self) -> usize {
        self.inner.ranges().len()
    }

    /// The range (a dict like the service's) holding effective partition key `epk`.
    fn range_for<'py>(&self, py: Python<'py>, epk: &str) -> PyResult<Bound<'py, PyDict>> {
        range_dict(py, self.inner.range_for(epk))
    }

    /// The ranges `feed_range` overlaps, in order.
    fn overlapping<'py>(
        &self,
        py: Python<'py>,
        feed_range_value: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let fr = feed_range(feed_range_value)?;
        self.inner
            .overlapping(&fr)
            .iter()
            .map(|r| range_dict(py, r))
            .collect()
    }
}

/// How large a routing call may be, for [`maybe_detach`]: the ranges of the map (up to 262,144,
/// each scoped against the token) or the token's segments (indexed once per call), whichever is
/// more. From [`DETACH_AT`] (64) up the call runs with the GIL released, so other Python threads
/// keep running while a large map is walked (tens of milliseconds at 262,144 ranges); below it
/// the call stays attached, since releasing and re-acquiring the GIL costs more than a lookup in
/// a small map saves. Every input of the detached closure (the core token, feed range, partition
/// key, definition and map) is plain Rust data, `Send` and `Sync`.
pub(crate) fn routing_work(map: &CoreMap, token: &cosmos_session_token::SessionToken) -> usize {
    map.ranges().len().max(token.len())
}

/// The token to send for the item with partition key `value`: its range's segment (or its
/// parents' progress after a split or merge), or None. `definition` is the container's
/// `partitionKey` property (None: Hash V2).
#[pyfunction]
#[pyo3(signature = (token, value, routing_map, definition = None))]
pub(crate) fn token_for_partition_key(
    py: Python<'_>,
    token: TokenArg<'_>,
    value: &Bound<'_, PyAny>,
    routing_map: &RoutingMap,
    definition: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<SessionToken>> {
    let d = container_definition(py, definition)?;
    let c = components(value)?;
    let map = &routing_map.inner;
    token
        .with(py, |t| {
            // A hierarchical-key prefix can span the whole map: see `routing_work`.
            maybe_detach(py, routing_work(map, t), || {
                core_for_partition_key(t, &c, d, map)
            })
        })?
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(py, &e))
}

/// Only the segments of the ranges `feed_range` overlaps (the fix for 400/431 "request headers
/// too long" on large containers), or None.
#[pyfunction]
pub(crate) fn token_for_feed_range(
    py: Python<'_>,
    token: TokenArg<'_>,
    feed_range_value: &Bound<'_, PyAny>,
    routing_map: &RoutingMap,
) -> PyResult<Option<SessionToken>> {
    let fr = feed_range(feed_range_value)?;
    let map = &routing_map.inner;
    token
        .with(py, |t| {
            maybe_detach(py, routing_work(map, t), || {
                core_for_feed_range(t, &fr, map)
            })
        })?
        .map(|t| t.map(SessionToken::wrap))
        .map_err(|e| core_error(py, &e))
}

/// Raises `LimitExceededError` (code `token_too_large`) when `token` is longer than
/// `max_bytes`; tokens are never cut.
#[pyfunction]
pub(crate) fn check_header_budget(
    py: Python<'_>,
    token: TokenArg<'_>,
    max_bytes: usize,
) -> PyResult<()> {
    token
        .with(py, |t| core_budget(t, max_bytes))?
        .map_err(|e| pk_error(py, e))
}
