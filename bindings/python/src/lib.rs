//! `cosmos_session_token._native`: the pyo3 module behind the `cosmos_session_token` package.
//!
//! It calls the core crate directly (not the C ABI) and only translates: Python values in,
//! core calls, Python values or exceptions out.

use cosmos_session_token::{
    Category, ERROR_CODES, Error as CoreError, FeedRange, FeedRangeError, Format, MergeError,
    MergePolicy, Order as CoreOrder, ParseError as CoreParseError, ParseOptions, RegionMismatch,
    RequestKind, Segment as CoreSegment, SessionCarrier as CoreCarrier,
    SessionContainer as CoreContainer, SessionToken as CoreToken, Warning as CoreWarning,
    latest_for_feed_range as core_latest, latest_token_for_feed_range as core_latest_token,
    parse_pair_token,
};
mod state;

use pyo3::basic::CompareOp;
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};

// The exception classes live in `cosmos_session_token._native` (an importable module), so they
// pickle by reference; their attributes travel in the instance __dict__.
create_exception!(
    cosmos_session_token._native,
    SessionTokenError,
    PyValueError,
    "Base class of every error raised by cosmos_session_token (a ValueError). Attributes: kind (the stable code of the error table), category."
);
create_exception!(
    cosmos_session_token._native,
    ParseError,
    SessionTokenError,
    "A token (or snapshot) did not follow its grammar. Attributes: kind, category, segment, range_id, offset."
);
create_exception!(
    cosmos_session_token._native,
    MergeConflictError,
    SessionTokenError,
    "Tokens of the same version list different regions (use region_mismatch='union'). Attributes: kind, category, range_id."
);
create_exception!(
    cosmos_session_token._native,
    LimitExceededError,
    SessionTokenError,
    "An input broke a size limit (token size, segments, regions, seal budget, ...). Attributes: kind, category."
);
create_exception!(
    cosmos_session_token._native,
    SealError,
    SessionTokenError,
    "A sealed token was refused: bad signature, unknown version, malformed envelope. Attributes: kind, category."
);
create_exception!(
    cosmos_session_token._native,
    InvalidArgumentError,
    SessionTokenError,
    "An argument was out of range: a weak or missing key, an invalid feed range, an unknown resource type. Attributes: kind, category."
);
create_exception!(
    cosmos_session_token._native,
    LockLostError,
    SessionTokenError,
    "Session state: the lock is no longer held (taken over after it expired, or broken); nothing was written. Also importable as LockLost (its earlier name). Attributes: kind, category."
);
create_exception!(
    cosmos_session_token._native,
    StateStoreError,
    SessionTokenError,
    "Session state: the store failed (unreachable, throttled past the retries, refused the request, undecodable content). Attributes: kind, category."
);
create_exception!(
    cosmos_session_token._native,
    InternalError,
    SessionTokenError,
    "An internal error of the library (a bug). Attributes: kind, category."
);

/// The exception class of a category (the error table's `python_exception` column).
fn class_of(category: Category, message: String) -> PyErr {
    match category {
        Category::Malformed | Category::InvalidUtf8 => ParseError::new_err(message),
        Category::Incompatible => MergeConflictError::new_err(message),
        Category::LimitExceeded => LimitExceededError::new_err(message),
        Category::Rejected => SealError::new_err(message),
        Category::Internal => InternalError::new_err(message),
        Category::LockLost => LockLostError::new_err(message),
        Category::Store => StateStoreError::new_err(message),
        _ => InvalidArgumentError::new_err(message),
    }
}

/// An exception for a code of the error table raised by the binding itself.
fn table_error(py: Python<'_>, code: &'static str, message: String) -> PyErr {
    let category =
        cosmos_session_token::error_code(code).map_or(Category::Internal, |r| r.category);
    error_for(py, code, category, message)
}

/// The exception of a code and its category, with `kind` and `category` set.
pub(crate) fn error_for(
    py: Python<'_>,
    code: &'static str,
    category: Category,
    message: String,
) -> PyErr {
    let err = class_of(category, message);
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail in practice; if it did,
    // the message still says everything.
    let _ = value.setattr("kind", code);
    let _ = value.setattr("category", category.name());
    err
}

/// The exception of a core error: its class comes from the error table's category, its message
/// (with an optional prefix) and attributes from the error itself.
fn core_error_with(py: Python<'_>, e: &CoreError, prefix: &str) -> PyErr {
    let err = error_for(py, e.code(), e.category(), format!("{prefix}{e}"));
    let value = err.value(py);
    match e {
        CoreError::Parse(p) => {
            let _ = value.setattr("segment", p.segment());
            let _ = value.setattr("range_id", p.range_id());
            let _ = value.setattr("offset", p.offset());
        }
        CoreError::Merge(MergeError::RegionMismatch { range_id, .. }) => {
            let _ = value.setattr("range_id", range_id.as_str());
        }
        _ => {}
    }
    err
}

fn core_error(py: Python<'_>, e: &CoreError) -> PyErr {
    core_error_with(py, e, "")
}

fn parse_error(py: Python<'_>, e: &CoreParseError) -> PyErr {
    core_error(py, &CoreError::Parse(e.clone()))
}

fn merge_error(py: Python<'_>, e: &MergeError) -> PyErr {
    core_error(py, &CoreError::Merge(e.clone()))
}

/// Work at least this large (tokens of a batch, segments of a merge or scope) runs with the GIL
/// released, so one long input cannot stall the interpreter's other threads.
const DETACH_AT: usize = 64;

/// Runs `f` with the GIL released when `work` reaches [`DETACH_AT`] (releasing it costs more
/// than a small merge).
fn maybe_detach<T: Send>(py: Python<'_>, work: usize, f: impl FnOnce() -> T + Send) -> T {
    if work >= DETACH_AT { py.detach(f) } else { f() }
}

fn parse(py: Python<'_>, s: &str, lenient: bool) -> PyResult<(CoreToken, Vec<CoreWarning>)> {
    let options = if lenient {
        ParseOptions::LENIENT
    } else {
        ParseOptions::STRICT
    };
    let parsed = CoreToken::parse_with(s, &options).map_err(|e| parse_error(py, &e))?;
    Ok((parsed.token, parsed.warnings))
}

/// One normalisation made by a lenient parse. `str()` is its message.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct ParseWarning {
    inner: CoreWarning,
}

#[pymethods]
impl ParseWarning {
    /// The stable warning code, e.g. "trimmed_whitespace" or "leading_zero".
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.kind().code()
    }
    /// 0-based index of the segment, or None when the warning is about the whole input.
    #[getter]
    fn segment(&self) -> Option<usize> {
        self.inner.segment()
    }
    /// Byte offset (in the UTF-8 input) of the normalised text.
    #[getter]
    fn offset(&self) -> usize {
        self.inner.offset()
    }
    /// The normalised text.
    #[getter]
    fn text(&self) -> &str {
        self.inner.text()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "ParseWarning(code={:?}, segment={:?}, offset={}, text={:?})",
            self.code(),
            self.inner.segment(),
            self.inner.offset(),
            self.inner.text()
        )
    }
}

fn policy(
    py: Python<'_>,
    region_mismatch: &str,
    false_progress_protection: bool,
) -> PyResult<MergePolicy> {
    let region_mismatch = match region_mismatch {
        "error" => RegionMismatch::Error,
        "union" => RegionMismatch::Union,
        other => {
            return Err(table_error(
                py,
                "invalid_argument",
                format!("region_mismatch must be 'error' or 'union', not {other:?}"),
            ));
        }
    };
    Ok(MergePolicy {
        region_mismatch,
        false_progress_protection,
    })
}

/// A token argument: a `SessionToken`, or a `str` parsed strictly.
///
/// Extracted by hand rather than derived: the derived enum tries each variant in turn and
/// builds (then discards) a formatted `TypeError` for every `str`, which cost more than the
/// merge itself. Text stays borrowed from the Python object (abi3-py310 reads UTF-8 in place).
enum TokenArg<'py> {
    Token(Bound<'py, SessionToken>),
    Text(Bound<'py, PyString>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for TokenArg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(token) = obj.cast::<SessionToken>() {
            return Ok(TokenArg::Token(token.to_owned()));
        }
        if let Ok(text) = obj.cast::<PyString>() {
            return Ok(TokenArg::Text(text.to_owned()));
        }
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".to_owned());
        Err(PyTypeError::new_err(format!(
            "expected a SessionToken or str, not {type_name}"
        )))
    }
}

impl TokenArg<'_> {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&CoreToken) -> R) -> PyResult<R> {
        match self {
            TokenArg::Token(t) => Ok(f(&t.get().inner)),
            TokenArg::Text(s) => Ok(f(&parse(py, s.to_str()?, false)?.0)),
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

/// The segments of a token, in order: a lazy, read-only sequence (`len`, indexing, slicing,
/// iteration, `==` with another sequence of segments).
#[pyclass(frozen, sequence, module = "cosmos_session_token._native")]
pub struct Segments {
    token: Py<SessionToken>,
}

impl Segments {
    fn segments(&self) -> cosmos_session_token::Segments<'_> {
        self.token.get().inner.segments()
    }

    fn at(&self, py: Python<'_>, i: usize) -> Segment {
        Segment {
            token: self.token.clone_ref(py),
            index: i,
        }
    }
}

#[pymethods]
impl Segments {
    fn __len__(&self) -> usize {
        self.segments().len()
    }

    /// An index (negative counts from the end) gives a Segment; a slice gives a list.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let len = self.segments().len();
        if let Ok(slice) = key.cast::<pyo3::types::PySlice>() {
            let ix = slice.indices(isize::try_from(len).unwrap_or(isize::MAX))?;
            let items: Vec<Segment> = (0..ix.slicelength)
                .map(|k| self.at(py, (ix.start + k as isize * ix.step) as usize))
                .collect();
            return Ok(pyo3::types::PyList::new(py, items)?.into_any());
        }
        let index: isize = key.extract()?;
        let resolved = if index < 0 {
            index + len as isize
        } else {
            index
        };
        if resolved < 0 || resolved as usize >= len {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "segment index {index} out of range for {len} segments"
            )));
        }
        Ok(Bound::new(py, self.at(py, resolved as usize))?.into_any())
    }

    fn __iter__(&self, py: Python<'_>) -> SegmentIter {
        SegmentIter {
            token: self.token.clone_ref(py),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = other.py();
        let Ok(len) = other.len() else {
            return Ok(false);
        };
        if len != self.segments().len() {
            return Ok(false);
        }
        for (i, item) in other.try_iter()?.enumerate() {
            if !Bound::new(py, self.at(py, i))?.eq(item?)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let inner = self
            .segments()
            .iter()
            .map(|s| {
                Ok(format!(
                    "Segment({})",
                    PyString::new(py, &s.to_string()).repr()?
                ))
            })
            .collect::<PyResult<Vec<String>>>()?;
        Ok(format!("Segments([{}])", inner.join(", ")))
    }
}

/// Iterator over a token's segments.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SegmentIter {
    token: Py<SessionToken>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl SegmentIter {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> Option<Segment> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (i < self.token.get().inner.len()).then(|| Segment {
            token: self.token.clone_ref(py),
            index: i,
        })
    }
}

/// One `range_id:value` segment of a token (read-only): a reference to the token and the
/// segment's index in it, read on access (the core's segments are views into the token).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct Segment {
    token: Py<SessionToken>,
    index: usize,
}

impl Segment {
    /// The segment this object stands for. Tokens are immutable and `index` was checked against
    /// the token's length when this object was made, so the fallback is never taken.
    fn view(&self) -> CoreSegment<'_> {
        let segments = self.token.get().inner.segments();
        segments.get(self.index).unwrap_or_else(|| segments.first())
    }
}

#[pymethods]
impl Segment {
    /// The partition key range id.
    #[getter]
    fn range_id(&self) -> &str {
        self.view().range_id()
    }
    /// "vector" or "simple".
    #[getter]
    fn format(&self) -> &'static str {
        self.view().format().as_str()
    }
    /// The version, or None for a simple value.
    #[getter]
    fn version(&self) -> Option<i64> {
        self.view().value().version()
    }
    /// The global LSN.
    #[getter]
    fn global_lsn(&self) -> i64 {
        self.view().value().global_lsn()
    }
    /// Region id -> local LSN (-1 = no progress), in token order.
    #[getter]
    fn regions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for r in self.view().value().regions() {
            d.set_item(r.id, r.local_lsn)?;
        }
        Ok(d)
    }
    fn __str__(&self) -> String {
        self.view().to_string()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Segment({})",
            PyString::new(py, &self.view().to_string()).repr()?
        ))
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp, py: Python<'_>) -> Py<PyAny> {
        let Ok(other) = other.cast::<Segment>() else {
            return py.NotImplemented();
        };
        let o = other.get();
        let eq = self.view().range_id() == o.view().range_id()
            && self.view().value() == o.view().value();
        equality(py, op, eq)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        self.view().range_id().hash(&mut h);
        self.view().value().hash(&mut h);
        h.finish()
    }
}

/// An Azure Cosmos DB session token (the x-ms-session-token header value). Immutable.
///
/// == and hash are semantic: segment and region order are ignored, region sets are compared,
/// and a simple value equals its vector form (5 == -2#5).
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionToken {
    pub(crate) inner: CoreToken,
}

impl SessionToken {
    pub(crate) fn wrap(inner: CoreToken) -> Self {
        SessionToken { inner }
    }
}

#[pymethods]
impl SessionToken {
    /// Parses a header value (strictly unless lenient=True). Raises ParseError.
    // A staticmethod, not a classmethod: the class cannot be subclassed, and a classmethod
    // built a bound method per call (measured: 561 ns per parse against 228 ns without it).
    #[staticmethod]
    #[pyo3(signature = (s, *, lenient = false))]
    fn parse(py: Python<'_>, s: &str, lenient: bool) -> PyResult<Self> {
        Ok(Self::wrap(parse(py, s, lenient)?.0))
    }

    /// Parses leniently; returns the token and a ParseWarning for every normalisation.
    #[staticmethod]
    fn parse_lenient(py: Python<'_>, s: &str) -> PyResult<(Self, Vec<ParseWarning>)> {
        let (token, warnings) = parse(py, s, true)?;
        let warnings = warnings
            .into_iter()
            .map(|inner| ParseWarning { inner })
            .collect();
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
        let policy = policy(py, region_mismatch, false_progress_protection)?;
        let inner = &self.inner;
        other
            .with(py, |o| {
                maybe_detach(py, inner.len() + o.len(), || inner.merge_with(o, &policy))
            })?
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
        let inner = &self.inner;
        maybe_detach(py, inner.len() + parents.len(), || {
            inner.scope(range_id, &parents)
        })
        .map(|t| t.map(Self::wrap))
        .map_err(|e| merge_error(py, &e))
    }

    /// The segments, in order: a read-only sequence over this token that builds a Segment only
    /// for the items read (len() and one index are O(1), whatever the token's size).
    #[getter]
    fn segments(slf: Bound<'_, Self>) -> Segments {
        Segments {
            token: slf.unbind(),
        }
    }

    /// The segment for range_id, or None.
    fn get(slf: Bound<'_, Self>, range_id: &str) -> Option<Segment> {
        let index = slf.get().inner.position(range_id)?;
        Some(Segment {
            token: slf.unbind(),
            index,
        })
    }

    /// Length in bytes of str(self).
    #[getter]
    fn encoded_len(&self) -> usize {
        self.inner.encoded_len()
    }
}

/// A feed range from any accepted form: the azure-cosmos dict, JSON text or `MIN-MAX` text, or a
/// `(min, max)` pair.
fn feed_range(value: &Bound<'_, PyAny>) -> PyResult<FeedRange> {
    feed_range_checked(value)?.map_err(|e| core_error(value.py(), &e.into()))
}

/// [`feed_range`] with the core's error kept as a value (the Python error is for a wrong type).
fn feed_range_checked(value: &Bound<'_, PyAny>) -> PyResult<Result<FeedRange, FeedRangeError>> {
    let py = value.py();
    // Type checks, not `extract` attempts: a failed `extract` builds a Python exception, which
    // cost more than the rest of the conversion (1,000 pairs, one failed attempt each).
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(FeedRange::parse(text.to_str()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        if let Some(range) = range_dict_fast(dict)? {
            return Ok(range);
        }
        // Anything unusual goes through the JSON parser, which gives the precise error.
        let text: String = py
            .import("json")?
            .call_method1("dumps", (value,))?
            .extract()?;
        return Ok(FeedRange::parse(&text));
    }
    if let Ok(pair) = value.cast::<PyTuple>()
        && pair.len() == 2
        && let (Ok(min), Ok(max)) = (
            pair.get_item(0)?.cast_into::<PyString>(),
            pair.get_item(1)?.cast_into::<PyString>(),
        )
    {
        return Ok(FeedRange::new(min.to_str()?, max.to_str()?));
    }
    if let Ok((min, max)) = value.extract::<(String, String)>() {
        return Ok(FeedRange::new(&min, &max));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "a feed range is a dict ({'Range': {...}}), JSON or 'MIN-MAX' text, or a (min, max) pair",
    ))
}

/// The common azure-cosmos dict `{"Range": {"min", "max"[, "isMinInclusive", "isMaxInclusive"]}}`
/// read without a JSON round trip (keys interned, strings borrowed); `None` when it has any
/// other shape.
fn range_dict_fast(
    dict: &Bound<'_, PyDict>,
) -> PyResult<Option<Result<FeedRange, FeedRangeError>>> {
    let py = dict.py();
    if dict.len() != 1 {
        return Ok(None);
    }
    let Some(inner) = dict.get_item(pyo3::intern!(py, "Range"))? else {
        return Ok(None);
    };
    let Ok(inner) = inner.cast_into::<PyDict>() else {
        return Ok(None);
    };
    let (Some(min), Some(max)) = (
        inner.get_item(pyo3::intern!(py, "min"))?,
        inner.get_item(pyo3::intern!(py, "max"))?,
    ) else {
        return Ok(None);
    };
    let (Ok(min), Ok(max)) = (min.cast_into::<PyString>(), max.cast_into::<PyString>()) else {
        return Ok(None);
    };
    // An absent flag is None (the core applies the SDKs' defaults); a non-bool value is left to
    // the JSON path, which gives the precise error. `present` counts the keys seen, so any
    // other key sends the dict to the JSON path too.
    let mut present = 2;
    let mut flag = |key: &Bound<'_, PyString>| -> PyResult<Option<Option<bool>>> {
        match inner.get_item(key)? {
            None => Ok(Some(None)),
            Some(v) => {
                present += 1;
                Ok(v.cast::<pyo3::types::PyBool>()
                    .ok()
                    .map(|b| Some(b.is_true())))
            }
        }
    };
    let (Some(lo), Some(hi)) = (
        flag(pyo3::intern!(py, "isMinInclusive"))?,
        flag(pyo3::intern!(py, "isMaxInclusive"))?,
    ) else {
        return Ok(None);
    };
    if inner.len() != present {
        return Ok(None);
    }
    Ok(Some(FeedRange::from_range_fields(
        min.to_str()?,
        max.to_str()?,
        lo,
        hi,
    )))
}

type Pairs = Vec<(FeedRange, CoreToken)>;

fn feed_range_pairs(py: Python<'_>, pairs: &Bound<'_, PyAny>) -> PyResult<Pairs> {
    let mut out = Vec::new();
    for (i, item) in pairs.try_iter()?.enumerate() {
        let item = item?;
        let (range, token): (Bound<'_, PyAny>, TokenArg<'_>) = item.extract()?;
        let range = match feed_range_checked(&range)? {
            Ok(range) => range,
            Err(e) => return Err(core_error_with(py, &e.into(), &format!("pair {i}: "))),
        };
        let token = match token {
            TokenArg::Token(t) => t.get().inner.clone(),
            TokenArg::Text(text) => parse_pair_token(text.to_str()?)
                .map_err(|e| core_error_with(py, &e.into(), &format!("pair {i}: ")))?,
        };
        out.push((range, token));
    }
    Ok(out)
}

/// The latest token covering `target`, from `(feed_range, token)` pairs (order does not matter);
/// None when no pair overlaps the target.
#[pyfunction]
fn latest_for_feed_range(
    py: Python<'_>,
    pairs: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<Option<SessionToken>> {
    let pairs = feed_range_pairs(py, pairs)?;
    let target = feed_range(target)?;
    // The token alone: no per-pair record of what happened (that is `explain_…`).
    let token = none_if_not_found(py, py.detach(|| core_latest_token(&pairs, &target)))?;
    Ok(token.map(SessionToken::wrap))
}

/// Like `latest_for_feed_range`, also returning one line per pair saying what happened to it;
/// None when no pair overlaps the target.
#[pyfunction]
fn explain_latest_for_feed_range(
    py: Python<'_>,
    pairs: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
) -> PyResult<Option<(SessionToken, Vec<String>)>> {
    let pairs = feed_range_pairs(py, pairs)?;
    let target = feed_range(target)?;
    let latest = none_if_not_found(py, py.detach(|| core_latest(&pairs, &target)))?;
    Ok(latest.map(|latest| {
        let lines = latest.explain(&pairs);
        (SessionToken::wrap(latest.token), lines)
    }))
}

/// A missing result is a return value (None): no pair overlaps the target.
fn none_if_not_found<T>(py: Python<'_>, result: Result<T, CoreError>) -> PyResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.category() == Category::NotFound => Ok(None),
        Err(e) => Err(core_error(py, &e)),
    }
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

/// One request's carried session token: read the incoming sealed value, report every write's
/// token, send `for_range(...)` with reads, write `sealed()` back when `changed`. The policy
/// (union merge, first key seals, anything that does not unseal is no token, the budget of the
/// sealed text) is the core's, the same on every surface.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct SessionCarrier {
    inner: std::sync::Mutex<CoreCarrier>,
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

    /// The sealed value to write back, or None when there is no token. Raises
    /// LimitExceededError over the budget (scope the token).
    fn sealed(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.lock().sealed().map_err(|e| core_error(py, &e.into()))
    }
}

/// Parses a header value (strictly unless lenient=True); the same as `SessionToken.parse`,
/// as a module function for hot loops (no attribute lookup on the class per call).
#[pyfunction(name = "parse")]
#[pyo3(signature = (s, *, lenient = false))]
fn parse_token(py: Python<'_>, s: &str, lenient: bool) -> PyResult<SessionToken> {
    Ok(SessionToken::wrap(parse(py, s, lenient)?.0))
}

/// One 32-byte token-cookie key per framework secret (bytes; the first seals, all unseal):
/// HMAC-SHA256(secret, a fixed label). Raises SealError-family errors for no secret, a secret
/// under 16 bytes (code weak_key) or more than MAX_SEAL_KEYS.
#[pyfunction]
fn derive_cookie_keys(py: Python<'_>, secrets: Vec<Vec<u8>>) -> PyResult<Vec<Py<PyBytes>>> {
    let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let keys =
        cosmos_session_token::derive_cookie_keys(&refs).map_err(|e| core_error(py, &e.into()))?;
    Ok(keys.iter().map(|k| PyBytes::new(py, k).unbind()).collect())
}

/// The seal context of one session's token cookie: framework, application, session id.
#[pyfunction]
fn token_cookie_context(framework: &str, app: &str, session_id: &str) -> String {
    cosmos_session_token::token_cookie_context(framework, app, session_id)
}

/// The Set-Cookie value of a token cookie: Path=/, HttpOnly, SameSite=Lax and, unless
/// secure=False (plain-HTTP development only), Secure.
#[pyfunction]
#[pyo3(signature = (name, value, *, max_age = None, secure = true))]
fn token_cookie_header(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    cosmos_session_token::token_cookie_header(name, value, max_age, secure)
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
    let policy = policy(py, region_mismatch, false_progress_protection)?;
    // Parse the str arguments first so every token can be borrowed for the one-pass merge.
    let parsed: Vec<Option<CoreToken>> = tokens
        .iter()
        .map(|t| match t {
            TokenArg::Text(s) => parse(py, s.to_str()?, false).map(|(t, _)| Some(t)),
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
    let segments: usize = refs.iter().map(|t| t.len()).sum();
    let merged = maybe_detach(py, segments, || {
        CoreToken::merge_all(refs.iter().copied(), &policy)
    });
    match merged {
        Ok(Some(t)) => Ok(SessionToken::wrap(t)),
        Ok(None) => Err(table_error(
            py,
            "invalid_argument",
            "merge() needs at least one token".to_owned(),
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
            return Err(table_error(
                py,
                "invalid_argument",
                format!("to must be 'simple' or 'vector', not {other:?}"),
            ));
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
    m.add_class::<Segments>()?;
    m.add_class::<Order>()?;
    m.add_class::<SessionContainer>()?;
    m.add_function(wrap_pyfunction!(parse_token, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    m.add_function(wrap_pyfunction!(latest_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(seal, m)?)?;
    m.add_function(wrap_pyfunction!(unseal, m)?)?;
    m.add_class::<ParseWarning>()?;
    m.add_class::<SessionCarrier>()?;
    m.add_class::<state::SessionStateStore>()?;
    m.add_class::<state::Exclusive>()?;
    m.add_function(wrap_pyfunction!(state::master_key_signature, m)?)?;
    m.add_function(wrap_pyfunction!(state::session_fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(derive_cookie_keys, m)?)?;
    m.add_function(wrap_pyfunction!(token_cookie_context, m)?)?;
    m.add_function(wrap_pyfunction!(token_cookie_header, m)?)?;
    m.add("TOKEN_COOKIE_NAME", cosmos_session_token::TOKEN_COOKIE_NAME)?;
    m.add("MAX_SCOPE_PARENTS", cosmos_session_token::MAX_SCOPE_PARENTS)?;
    m.add("MAX_SEAL_KEYS", cosmos_session_token::MAX_SEAL_KEYS)?;
    m.add("SealError", py.get_type::<SealError>())?;
    m.add("LimitExceededError", py.get_type::<LimitExceededError>())?;
    m.add(
        "InvalidArgumentError",
        py.get_type::<InvalidArgumentError>(),
    )?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add("LockLostError", py.get_type::<LockLostError>())?;
    // The earlier name, kept as an alias of the same class.
    m.add("LockLost", py.get_type::<LockLostError>())?;
    m.add("StateStoreError", py.get_type::<StateStoreError>())?;
    let table: Vec<(&str, &str)> = ERROR_CODES
        .iter()
        .map(|row| (row.code, row.category.name()))
        .collect();
    m.add("ERROR_CODES", PyTuple::new(py, table)?)?;
    m.add(
        "DEFAULT_COOKIE_NAME",
        cosmos_session_token::DEFAULT_COOKIE_NAME,
    )?;
    m.add(
        "DEFAULT_SEAL_BUDGET",
        cosmos_session_token::DEFAULT_SEAL_BUDGET,
    )?;
    m.add_function(wrap_pyfunction!(explain_latest_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(_from_header, m)?)?;
    m.add("SessionTokenError", py.get_type::<SessionTokenError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("MergeConflictError", py.get_type::<MergeConflictError>())?;
    m.add("HEADER", cosmos_session_token::HEADER)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
