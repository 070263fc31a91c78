//! `cosmos_session_token._native`: the pyo3 module behind the `cosmos_session_token` package.
//!
//! It calls the core crate directly (not the C ABI) and only translates: Python values in,
//! core calls, Python values or exceptions out.

use cosmos_session_token::{
    Error as CoreError, FeedRange, FeedRangeError, Format, MergeError, MergePolicy,
    Order as CoreOrder, ParseError as CoreParseError, ParseOptions, RegionMismatch,
    Segment as CoreSegment, SessionContainer as CoreContainer, SessionToken as CoreToken,
    latest_for_feed_range as core_latest, parse_pair_token,
};
use pyo3::basic::CompareOp;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

create_exception!(
    _native,
    SessionTokenError,
    PyValueError,
    "Base class of every error raised by cosmos_session_token (a ValueError)."
);
create_exception!(
    _native,
    ParseError,
    SessionTokenError,
    "A token did not parse. Attributes: kind, segment, range_id, offset."
);
create_exception!(
    _native,
    SealError,
    SessionTokenError,
    "A sealed token was refused or could not be made (attribute: kind)."
);
create_exception!(
    _native,
    MergeConflictError,
    SessionTokenError,
    "Tokens of the same version list different regions (use region_mismatch='union')."
);

/// Merges batches at least this large with the GIL released.
const DETACH_AT: usize = 64;

fn parse_error(py: Python<'_>, e: &CoreParseError) -> PyErr {
    let err = ParseError::new_err(e.to_string());
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail in practice; if it did,
    // the message still says everything.
    let _ = value.setattr("kind", e.kind().code());
    let _ = value.setattr("segment", e.segment());
    let _ = value.setattr("range_id", e.range_id());
    let _ = value.setattr("offset", e.offset());
    err
}

fn merge_error(py: Python<'_>, e: &MergeError) -> PyErr {
    let err = MergeConflictError::new_err(e.to_string());
    let MergeError::RegionMismatch { range_id, .. } = e else {
        return err;
    };
    let _ = err.value(py).setattr("range_id", range_id.as_str());
    err
}

fn parse(py: Python<'_>, s: &str, lenient: bool) -> PyResult<(CoreToken, Vec<String>)> {
    let options = if lenient {
        ParseOptions::LENIENT
    } else {
        ParseOptions::STRICT
    };
    let parsed = CoreToken::parse_with(s, &options).map_err(|e| parse_error(py, &e))?;
    Ok((
        parsed.token,
        parsed.warnings.iter().map(ToString::to_string).collect(),
    ))
}

fn policy(region_mismatch: &str, false_progress_protection: bool) -> PyResult<MergePolicy> {
    let region_mismatch = match region_mismatch {
        "error" => RegionMismatch::Error,
        "union" => RegionMismatch::Union,
        other => {
            return Err(PyValueError::new_err(format!(
                "region_mismatch must be 'error' or 'union', not {other:?}"
            )));
        }
    };
    Ok(MergePolicy {
        region_mismatch,
        false_progress_protection,
    })
}

/// A token argument: a `SessionToken`, or a `str` parsed strictly.
#[derive(FromPyObject)]
enum TokenArg<'py> {
    Token(Bound<'py, SessionToken>),
    Text(String),
}

impl TokenArg<'_> {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&CoreToken) -> R) -> PyResult<R> {
        match self {
            TokenArg::Token(t) => Ok(f(&t.get().inner)),
            TokenArg::Text(s) => Ok(f(&parse(py, s, false)?.0)),
        }
    }
}

/// How one token relates to another.
#[pyclass(eq, eq_int, hash, frozen, module = "cosmos_session_token._native")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Order {
    /// Strictly older.
    LESS,
    /// Same progress.
    EQUAL,
    /// Strictly newer.
    GREATER,
    /// Each is ahead somewhere.
    CONCURRENT,
}

impl From<CoreOrder> for Order {
    fn from(o: CoreOrder) -> Self {
        match o {
            CoreOrder::Less => Order::LESS,
            CoreOrder::Equal => Order::EQUAL,
            CoreOrder::Greater => Order::GREATER,
            CoreOrder::Concurrent => Order::CONCURRENT,
        }
    }
}

/// `==` / `!=` from semantic equality; ordering comparisons are not defined.
fn equality(py: Python<'_>, op: CompareOp, eq: bool) -> Py<PyAny> {
    match op {
        CompareOp::Eq => pyo3::types::PyBool::new(py, eq)
            .to_owned()
            .into_any()
            .unbind(),
        CompareOp::Ne => pyo3::types::PyBool::new(py, !eq)
            .to_owned()
            .into_any()
            .unbind(),
        _ => py.NotImplemented(),
    }
}

/// One `range_id:value` segment of a token (read-only).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct Segment {
    inner: CoreSegment,
}

#[pymethods]
impl Segment {
    /// The partition key range id.
    #[getter]
    fn range_id(&self) -> &str {
        self.inner.range_id()
    }
    /// "vector" or "simple".
    #[getter]
    fn format(&self) -> &'static str {
        self.inner.format().as_str()
    }
    /// The version, or None for a simple value.
    #[getter]
    fn version(&self) -> Option<i64> {
        self.inner.value().version()
    }
    /// The global LSN.
    #[getter]
    fn global_lsn(&self) -> i64 {
        self.inner.value().global_lsn()
    }
    /// Region id -> local LSN (-1 = no progress), in token order.
    #[getter]
    fn regions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for r in self.inner.value().regions() {
            d.set_item(r.id, r.local_lsn)?;
        }
        Ok(d)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Segment({})",
            PyString::new(py, &self.inner.to_string()).repr()?
        ))
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp, py: Python<'_>) -> Py<PyAny> {
        let Ok(other) = other.cast::<Segment>() else {
            return py.NotImplemented();
        };
        let o = other.get();
        let eq =
            self.inner.range_id() == o.inner.range_id() && self.inner.value() == o.inner.value();
        equality(py, op, eq)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        self.inner.range_id().hash(&mut h);
        self.inner.value().hash(&mut h);
        h.finish()
    }
}

/// An Azure Cosmos DB session token (the x-ms-session-token header value). Immutable.
///
/// == and hash are semantic: segment and region order are ignored, region sets are compared,
/// and a simple value equals its vector form (5 == -2#5).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionToken {
    inner: CoreToken,
}

impl SessionToken {
    fn wrap(inner: CoreToken) -> Self {
        SessionToken { inner }
    }
}

#[pymethods]
impl SessionToken {
    /// Parses a header value (strictly unless lenient=True). Raises ParseError.
    #[classmethod]
    #[pyo3(signature = (s, *, lenient = false))]
    fn parse(_cls: &Bound<'_, PyType>, py: Python<'_>, s: &str, lenient: bool) -> PyResult<Self> {
        Ok(Self::wrap(parse(py, s, lenient)?.0))
    }

    /// Parses leniently; returns the token and a description of every normalisation.
    #[classmethod]
    fn parse_lenient(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        s: &str,
    ) -> PyResult<(Self, Vec<String>)> {
        let (token, warnings) = parse(py, s, true)?;
        Ok((Self::wrap(token), warnings))
    }

    fn __str__(&self) -> String {
        self.inner.to_header_value()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "SessionToken({})",
            PyString::new(py, &self.inner.to_header_value()).repr()?
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp, py: Python<'_>) -> Py<PyAny> {
        let Ok(other) = other.cast::<SessionToken>() else {
            return py.NotImplemented();
        };
        equality(py, op, self.inner == other.get().inner)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, range_id: &str) -> bool {
        self.inner.contains(range_id)
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let restore = py
            .import("cosmos_session_token._native")?
            .getattr("_from_header")?;
        Ok((restore, PyTuple::new(py, [self.inner.to_header_value()])?))
    }

    /// Every segment in simple form (lossy: version and regions are dropped).
    fn to_simple(&self) -> Self {
        Self::wrap(self.inner.to_simple())
    }

    /// Every segment in vector form (simple lsn becomes -2#lsn).
    fn to_vector(&self) -> Self {
        Self::wrap(self.inner.to_vector())
    }

    /// Merges with another token (SessionToken or str). Raises MergeConflictError.
    #[pyo3(signature = (other, *, region_mismatch = "error", false_progress_protection = true))]
    fn merge(
        &self,
        py: Python<'_>,
        other: TokenArg<'_>,
        region_mismatch: &str,
        false_progress_protection: bool,
    ) -> PyResult<Self> {
        let policy = policy(region_mismatch, false_progress_protection)?;
        other
            .with(py, |o| self.inner.merge_with(o, &policy))?
            .map(Self::wrap)
            .map_err(|e| merge_error(py, &e))
    }

    /// How this token relates to another: Order.LESS, EQUAL, GREATER or CONCURRENT.
    fn compare(&self, py: Python<'_>, other: TokenArg<'_>) -> PyResult<Order> {
        other.with(py, |o| self.inner.compare(o).into())
    }

    /// True when this token is at least as new as other everywhere.
    fn is_at_least_as_new_as(&self, py: Python<'_>, other: TokenArg<'_>) -> PyResult<bool> {
        other.with(py, |o| self.inner.is_at_least_as_new_as(o))
    }

    /// The token to send for one range: the exact segment, else the merge of the present
    /// parents relabelled with range_id, else None. Raises MergeConflictError.
    #[pyo3(signature = (range_id, parents = Vec::new()), text_signature = "(self, /, range_id, parents=())")]
    fn scope(
        &self,
        py: Python<'_>,
        range_id: &str,
        parents: Vec<String>,
    ) -> PyResult<Option<Self>> {
        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
        self.inner
            .scope(range_id, &parents)
            .map(|t| t.map(Self::wrap))
            .map_err(|e| merge_error(py, &e))
    }

    /// The segments, in order.
    #[getter]
    fn segments(&self) -> Vec<Segment> {
        self.inner
            .iter()
            .map(|s| Segment { inner: s.clone() })
            .collect()
    }

    /// The segment for range_id, or None.
    fn get(&self, range_id: &str) -> Option<Segment> {
        self.inner
            .get(range_id)
            .map(|s| Segment { inner: s.clone() })
    }

    /// Length in bytes of str(self).
    #[getter]
    fn encoded_len(&self) -> usize {
        self.inner.encoded_len()
    }
}

fn core_error(py: Python<'_>, e: &CoreError) -> PyErr {
    match e {
        CoreError::Parse(p) => parse_error(py, p),
        CoreError::Merge(m) => merge_error(py, m),
        CoreError::Seal(e) => {
            let err = SealError::new_err(e.to_string());
            let _ = err.value(py).setattr("kind", e.code());
            err
        }
        other => {
            let err = SessionTokenError::new_err(other.to_string());
            let _ = err.value(py).setattr("kind", other.code());
            err
        }
    }
}

fn feed_range_error(py: Python<'_>, e: &FeedRangeError) -> PyErr {
    core_error(py, &CoreError::FeedRange(e.clone()))
}

/// A feed range from any accepted form: the azure-cosmos dict, JSON text or `MIN-MAX` text, or a
/// `(min, max)` pair.
fn feed_range(value: &Bound<'_, PyAny>) -> PyResult<FeedRange> {
    let py = value.py();
    if let Ok(text) = value.extract::<String>() {
        return FeedRange::parse(&text).map_err(|e| feed_range_error(py, &e));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        if let Some(range) = range_dict_fast(dict)? {
            return range.map_err(|e| feed_range_error(py, &e));
        }
        // Anything unusual goes through the JSON parser, which gives the precise error.
        let text: String = py
            .import("json")?
            .call_method1("dumps", (value,))?
            .extract()?;
        return FeedRange::parse(&text).map_err(|e| feed_range_error(py, &e));
    }
    if let Ok((min, max)) = value.extract::<(String, String)>() {
        return FeedRange::new(&min, &max).map_err(|e| feed_range_error(py, &e));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "a feed range is a dict ({'Range': {...}}), JSON or 'MIN-MAX' text, or a (min, max) pair",
    ))
}

/// The common azure-cosmos dict `{"Range": {"min", "max"[, "isMinInclusive", "isMaxInclusive"]}}`
/// read without a JSON round trip; `None` when it has any other shape.
fn range_dict_fast(
    dict: &Bound<'_, PyDict>,
) -> PyResult<Option<Result<FeedRange, FeedRangeError>>> {
    if dict.len() != 1 {
        return Ok(None);
    }
    let Some(inner) = dict.get_item("Range")? else {
        return Ok(None);
    };
    let Ok(inner) = inner.cast::<PyDict>() else {
        return Ok(None);
    };
    let field = |k: &str| inner.get_item(k);
    let (Some(min), Some(max)) = (field("min")?, field("max")?) else {
        return Ok(None);
    };
    let (Ok(min), Ok(max)) = (min.extract::<String>(), max.extract::<String>()) else {
        return Ok(None);
    };
    let flag = |k: &str, default: bool| -> PyResult<Option<bool>> {
        match field(k)? {
            None => Ok(Some(default)),
            Some(v) => Ok(v.cast::<pyo3::types::PyBool>().ok().map(|b| b.is_true())),
        }
    };
    let (Some(lo), Some(hi)) = (
        flag("isMinInclusive", true)?,
        flag("isMaxInclusive", false)?,
    ) else {
        return Ok(None);
    };
    let known = 2
        + usize::from(inner.contains("isMinInclusive")?)
        + usize::from(inner.contains("isMaxInclusive")?);
    if inner.len() != known {
        return Ok(None);
    }
    Ok(Some(FeedRange::from_range(&min, &max, lo, hi)))
}

type Pairs = Vec<(FeedRange, CoreToken)>;

fn feed_range_pairs(py: Python<'_>, pairs: &Bound<'_, PyAny>) -> PyResult<Pairs> {
    let mut out = Vec::new();
    for (i, item) in pairs.try_iter()?.enumerate() {
        let item = item?;
        let (range, token): (Bound<'_, PyAny>, TokenArg<'_>) = item.extract()?;
        let range = feed_range(&range).map_err(|e| {
            if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) {
                return e;
            }
            let msg = format!("pair {i}: {}", e.value(py));
            let err = SessionTokenError::new_err(msg);
            let _ = err.value(py).setattr("kind", "invalid_feed_range");
            err
        })?;
        let token = match token {
            TokenArg::Token(t) => t.get().inner.clone(),
            TokenArg::Text(text) => parse_pair_token(&text).map_err(|e| {
                let err = parse_error(py, &e);
                let value = err.value(py);
                let _ = value.setattr("args", (format!("pair {i}: {e}"),));
                err
            })?,
        };
        out.push((range, token));
    }
    Ok(out)
}

/// The latest token covering `target`, from `(feed_range, token)` pairs (order does not matter).
#[pyfunction]
fn latest_for_feed_range(
    py: Python<'_>,
    pairs: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<SessionToken> {
    explain_latest_for_feed_range(py, pairs, target).map(|(t, _)| t)
}

/// Like `latest_for_feed_range`, also returning one line per pair saying what happened to it.
#[pyfunction]
fn explain_latest_for_feed_range(
    py: Python<'_>,
    pairs: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<(SessionToken, Vec<String>)> {
    let pairs = feed_range_pairs(py, pairs)?;
    let target = feed_range(target)?;
    let latest = py
        .detach(|| core_latest(&pairs, &target))
        .map_err(|e| core_error(py, &e))?;
    let lines = latest.explain(&pairs);
    Ok((SessionToken::wrap(latest.token), lines))
}

/// Seals a token for `context` with `key` (>= 16 bytes) into a cookie-safe envelope.
#[pyfunction]
#[pyo3(
    signature = (token, key, context = "", *, max_bytes = cosmos_session_token::DEFAULT_SEAL_BUDGET),
    text_signature = "(token, key, context='', *, max_bytes=4000)"
)]
fn seal(
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
fn unseal(
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

/// Per-partition session tokens of many collections, shared by any number of threads.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionContainer {
    inner: CoreContainer,
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
    /// sub_status != 1002); returns whether it did.
    fn capture(
        &self,
        py: Python<'_>,
        collection_name: &str,
        collection_rid: &str,
        token: &str,
        status: u16,
        sub_status: u32,
    ) -> PyResult<bool> {
        py.detach(|| {
            self.inner
                .capture(collection_name, collection_rid, token, status, sub_status)
        })
        .map_err(|e| core_error(py, &e))
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
        self.inner
            .resolve(collection_name, range_id, &parents)
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

/// Merges any number of tokens (each a str or SessionToken) in one pass.
#[pyfunction]
#[pyo3(signature = (*tokens, region_mismatch = "error", false_progress_protection = true))]
fn merge(
    py: Python<'_>,
    tokens: Vec<TokenArg<'_>>,
    region_mismatch: &str,
    false_progress_protection: bool,
) -> PyResult<SessionToken> {
    let policy = policy(region_mismatch, false_progress_protection)?;
    // Parse the str arguments first so every token can be borrowed for the one-pass merge.
    let parsed: Vec<Option<CoreToken>> = tokens
        .iter()
        .map(|t| match t {
            TokenArg::Text(s) => parse(py, s, false).map(|(t, _)| Some(t)),
            TokenArg::Token(_) => Ok(None),
        })
        .collect::<PyResult<_>>()?;
    let refs: Vec<&CoreToken> = tokens
        .iter()
        .zip(&parsed)
        .filter_map(|(arg, own)| match arg {
            TokenArg::Token(t) => Some(&t.get().inner),
            TokenArg::Text(_) => own.as_ref(),
        })
        .collect();
    let merged = if refs.len() >= DETACH_AT {
        py.detach(|| CoreToken::merge_all(refs.iter().copied(), &policy))
    } else {
        CoreToken::merge_all(refs.iter().copied(), &policy)
    };
    match merged {
        Ok(Some(t)) => Ok(SessionToken::wrap(t)),
        Ok(None) => Err(SessionTokenError::new_err(
            "merge() needs at least one token",
        )),
        Err(e) => Err(merge_error(py, &e)),
    }
}

/// Converts every segment of a token to "simple" (lossy) or "vector".
#[pyfunction]
fn convert(py: Python<'_>, token: &str, to: &str) -> PyResult<String> {
    let format = match to {
        "simple" => Format::Simple,
        "vector" => Format::Vector,
        other => {
            return Err(PyValueError::new_err(format!(
                "to must be 'simple' or 'vector', not {other:?}"
            )));
        }
    };
    Ok(parse(py, token, false)?.0.convert(format).to_header_value())
}

/// Unpickling: rendered tokens always parse leniently, unchanged (a negative global LSN kept
/// by lenient parsing is not strictly valid).
#[pyfunction]
fn _from_header(py: Python<'_>, s: &str) -> PyResult<SessionToken> {
    Ok(SessionToken::wrap(parse(py, s, true)?.0))
}

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<SessionToken>()?;
    m.add_class::<Segment>()?;
    m.add_class::<Order>()?;
    m.add_class::<SessionContainer>()?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    m.add_function(wrap_pyfunction!(latest_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(seal, m)?)?;
    m.add_function(wrap_pyfunction!(unseal, m)?)?;
    m.add("SealError", py.get_type::<SealError>())?;
    m.add_function(wrap_pyfunction!(explain_latest_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(_from_header, m)?)?;
    m.add("SessionTokenError", py.get_type::<SessionTokenError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("MergeConflictError", py.get_type::<MergeConflictError>())?;
    m.add("HEADER", cosmos_session_token::HEADER)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
