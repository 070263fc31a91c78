//! Feed ranges in every accepted form, and the latest token for a feed range.

use cosmos_session_token::{
    Category, Error as CoreError, FeedRange, FeedRangeError, SessionToken as CoreToken,
    latest_for_feed_range as core_latest, latest_token_for_feed_range as core_latest_token,
    parse_pair_token,
};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::errors::*;
use crate::token::*;

/// A feed range from any accepted form: the azure-cosmos dict, JSON text or `MIN-MAX` text, or a
/// `(min, max)` pair.
pub(crate) fn feed_range(value: &Bound<'_, PyAny>) -> PyResult<FeedRange> {
    feed_range_checked(value)?.map_err(|e| core_error(value.py(), &e.into()))
}

/// [`feed_range`] with the core's error kept as a value (the Python error is for a wrong type).
pub(crate) fn feed_range_checked(
    value: &Bound<'_, PyAny>,
) -> PyResult<Result<FeedRange, FeedRangeError>> {
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
pub(crate) fn range_dict_fast(
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

pub(crate) type Pairs = Vec<(FeedRange, CoreToken)>;

pub(crate) fn feed_range_pairs(py: Python<'_>, pairs: &Bound<'_, PyAny>) -> PyResult<Pairs> {
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
pub(crate) fn latest_for_feed_range(
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
pub(crate) fn explain_latest_for_feed_range(
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
pub(crate) fn none_if_not_found<T>(
    py: Python<'_>,
    result: Result<T, CoreError>,
) -> PyResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.category() == Category::NotFound => Ok(None),
        Err(e) => Err(core_error(py, &e)),
    }
}
