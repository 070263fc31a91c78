//! The exception classes (one per error category of the core's table) and the conversions
//! from core errors: every refusal is a `SessionTokenError` with `kind` and `category`.

use cosmos_session_token::{
    Category, Code, Error as CoreError, MergeError, ParseError as CoreParseError,
};

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
pub(crate) fn class_of(category: Category, message: String) -> PyErr {
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
pub(crate) fn table_error(py: Python<'_>, code: Code, message: String) -> PyErr {
    error_for(py, code, message)
}

/// The exception of a code (its class from the code's category), with `code` (the error table's
/// code, named as on every surface; `kind` is its earlier name) and `category` set.
pub(crate) fn error_for(py: Python<'_>, code: Code, message: String) -> PyErr {
    let category = code.category();
    let err = class_of(category, message);
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail in practice; if it did,
    // the message still says everything.
    let _ = value.setattr("code", code.name());
    let _ = value.setattr("kind", code.name());
    let _ = value.setattr("category", category.name());
    err
}

/// The exception of a core error: its class comes from the error table's category, its message
/// (with an optional prefix) and attributes from the error itself.
pub(crate) fn core_error_with(py: Python<'_>, e: &CoreError, prefix: &str) -> PyErr {
    let err = error_for(py, e.code(), format!("{prefix}{e}"));
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

pub(crate) fn core_error(py: Python<'_>, e: &CoreError) -> PyErr {
    core_error_with(py, e, "")
}

pub(crate) fn parse_error(py: Python<'_>, e: &CoreParseError) -> PyErr {
    core_error(py, &CoreError::Parse(e.clone()))
}

pub(crate) fn merge_error(py: Python<'_>, e: &MergeError) -> PyErr {
    core_error(py, &CoreError::Merge(e.clone()))
}
