//! `SessionToken`, its segment views, `Order`, lenient-parse warnings, and the token functions
//! of the module (`parse`, `merge`, `convert`).

use cosmos_session_token::{
    Code, Format, MergePolicy, Order as CoreOrder, ParseOptions, RegionMismatch,
    Segment as CoreSegment, SessionToken as CoreToken, Warning as CoreWarning,
};

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::errors::*;

/// Work at least this large (tokens of a batch, segments of a merge or scope) runs with the GIL
/// released, so one long input cannot stall the interpreter's other threads.
pub(crate) const DETACH_AT: usize = 64;

/// Runs `f` with the GIL released when `work` reaches [`DETACH_AT`] (releasing it costs more
/// than a small merge).
pub(crate) fn maybe_detach<T: Send>(
    py: Python<'_>,
    work: usize,
    f: impl FnOnce() -> T + Send,
) -> T {
    if work >= DETACH_AT { py.detach(f) } else { f() }
}

pub(crate) fn parse(
    py: Python<'_>,
    s: &str,
    lenient: bool,
) -> PyResult<(CoreToken, Vec<CoreWarning>)> {
    let options = if lenient {
        ParseOptions::LENIENT
    } else {
        ParseOptions::STRICT
    };
    let parsed = CoreToken::parse_with(s, &options).map_err(|e| parse_error(py, &e))?;
    Ok((parsed.token, parsed.warnings))
}

/// [`parse`] without the warnings: a strict parse goes straight to the core's scanner (no
/// `Parsed` or warnings list to build and move: the token is moved once fewer).
#[inline]
pub(crate) fn parse_one(py: Python<'_>, s: &str, lenient: bool) -> PyResult<CoreToken> {
    if lenient {
        return parse(py, s, true).map(|(t, _)| t);
    }
    CoreToken::parse(s).map_err(|e| parse_error(py, &e))
}

/// One normalisation made by a lenient parse. `str()` is its message.
#[pyclass(frozen, module = "cosmos_session_token._native")]
pub struct ParseWarning {
    pub(crate) inner: CoreWarning,
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

pub(crate) fn policy(
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
                Code::InvalidArgument,
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
/// What compare_explained returns for one side: a dict per lack.
type Lacks<'py> = Vec<Bound<'py, pyo3::types::PyDict>>;

pub(crate) enum TokenArg<'py> {
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
    pub(crate) fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&CoreToken) -> R) -> PyResult<R> {
        match self {
            TokenArg::Token(t) => Ok(f(&t.get().inner)),
            TokenArg::Text(s) => Ok(f(&parse_one(py, s.to_str()?, false)?)),
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
pub(crate) fn equality(py: Python<'_>, op: CompareOp, eq: bool) -> Py<PyAny> {
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
    pub(crate) token: Py<SessionToken>,
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
    pub(crate) token: Py<SessionToken>,
    pub(crate) next: std::sync::atomic::AtomicUsize,
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
    pub(crate) token: Py<SessionToken>,
    pub(crate) index: usize,
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
// A free list: a token parsed or merged and dropped at once (the flow's hooks, a loop over
// headers) reuses the memory of the last one instead of a fresh allocation.
#[pyclass(frozen, freelist = 64, module = "cosmos_session_token._native")]
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
        parse_one(py, s, lenient).map(Self::wrap)
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

    /// compare() with why: (order, what this token lacks of other, what other lacks of this),
    /// each lack a dict {range_id, kind ("range", "version", "global_lsn", "region"), have,
    /// need, region (for "region"), text}.
    fn compare_explained<'py>(
        &self,
        py: Python<'py>,
        other: TokenArg<'_>,
    ) -> PyResult<(Order, Lacks<'py>, Lacks<'py>)> {
        let c = other.with(py, |o| self.inner.compare_explained(o))?;
        let dicts = |lacks: &[cosmos_session_token::Lack]| -> PyResult<Lacks<'py>> {
            use cosmos_session_token::Lack;
            lacks
                .iter()
                .map(|l| {
                    let d = pyo3::types::PyDict::new(py);
                    match l {
                        Lack::Range { range_id, need } => {
                            d.set_item("range_id", range_id)?;
                            d.set_item("kind", "range")?;
                            d.set_item("need", need)?;
                        }
                        Lack::Version {
                            range_id,
                            have,
                            need,
                        } => {
                            d.set_item("range_id", range_id)?;
                            d.set_item("kind", "version")?;
                            d.set_item("have", have)?;
                            d.set_item("need", need)?;
                        }
                        Lack::GlobalLsn {
                            range_id,
                            have,
                            need,
                        } => {
                            d.set_item("range_id", range_id)?;
                            d.set_item("kind", "global_lsn")?;
                            d.set_item("have", have)?;
                            d.set_item("need", need)?;
                        }
                        Lack::Region {
                            range_id,
                            region,
                            have,
                            need,
                        } => {
                            d.set_item("range_id", range_id)?;
                            d.set_item("kind", "region")?;
                            d.set_item("region", region)?;
                            d.set_item("have", have)?;
                            d.set_item("need", need)?;
                        }
                    }
                    d.set_item("text", l.to_string())?;
                    Ok(d)
                })
                .collect()
        };
        Ok((c.order.into(), dicts(&c.a_lacks)?, dicts(&c.b_lacks)?))
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

/// Parses a header value (strictly unless lenient=True); the same as `SessionToken.parse`,
/// as a module function for hot loops (no attribute lookup on the class per call).
#[pyfunction(name = "parse")]
#[pyo3(signature = (s, *, lenient = false))]
pub(crate) fn parse_token(py: Python<'_>, s: &str, lenient: bool) -> PyResult<SessionToken> {
    parse_one(py, s, lenient).map(SessionToken::wrap)
}

/// Merges any number of tokens (each a str or SessionToken) in one pass.
#[pyfunction]
#[pyo3(signature = (*tokens, region_mismatch = "error", false_progress_protection = true))]
pub(crate) fn merge(
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
            Code::InvalidArgument,
            "merge() needs at least one token".to_owned(),
        )),
        Err(e) => Err(merge_error(py, &e)),
    }
}

/// Converts every segment of a token to "simple" (lossy) or "vector".
#[pyfunction]
pub(crate) fn convert(py: Python<'_>, token: &str, to: &str) -> PyResult<String> {
    let format = match to {
        "simple" => Format::Simple,
        "vector" => Format::Vector,
        other => {
            return Err(table_error(
                py,
                Code::InvalidArgument,
                format!("to must be 'simple' or 'vector', not {other:?}"),
            ));
        }
    };
    Ok(parse(py, token, false)?.0.convert(format).to_header_value())
}

/// Unpickling: rendered tokens always parse leniently, unchanged (a negative global LSN kept
/// by lenient parsing is not strictly valid).
#[pyfunction]
pub(crate) fn _from_header(py: Python<'_>, s: &str) -> PyResult<SessionToken> {
    Ok(SessionToken::wrap(parse(py, s, true)?.0))
}
