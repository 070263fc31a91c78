//! `cosmos_session_token._native`: the pyo3 module behind the `cosmos_session_token` package.
//!
//! It calls the core crate directly (not the C ABI) and only translates: Python values in,
//! core calls, Python values or exceptions out.

use cosmos_session_token::ERROR_CODES;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod carrier;
mod container;
mod errors;
mod feed_ranges;
mod flow;
mod flow_cookies;
mod routing;
mod sealing;
mod state;
mod token;
mod web;

use carrier::*;
use container::*;
use errors::*;
use feed_ranges::*;
use token::*;
use web::*;

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<SessionToken>()?;
    m.add_class::<Segment>()?;
    m.add_class::<Segments>()?;
    m.add_class::<Order>()?;
    m.add_class::<SessionContainer>()?;
    m.add_class::<flow::SessionFlow>()?;
    m.add_class::<flow_cookies::FlowCookies>()?;
    m.add_class::<flow_cookies::CookieFlow>()?;
    m.add("FLOW_COOKIE_NAME", cosmos_session_token::FLOW_COOKIE_NAME)?;
    m.add(
        "MESSAGE_FLOW_BUDGET",
        cosmos_session_token::MESSAGE_FLOW_BUDGET,
    )?;
    m.add_function(wrap_pyfunction!(flow_cookies::flow_snapshot_within, m)?)?;
    m.add_function(wrap_pyfunction!(flow_cookies::seal_flow, m)?)?;
    m.add_function(wrap_pyfunction!(flow_cookies::unseal_flow, m)?)?;
    m.add_function(wrap_pyfunction!(state::state_option_table, m)?)?;
    m.add_function(wrap_pyfunction!(parse_token, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    m.add_function(wrap_pyfunction!(latest_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(routing::effective_partition_key, m)?)?;
    m.add_function(wrap_pyfunction!(routing::feed_range_from_partition_key, m)?)?;
    m.add_function(wrap_pyfunction!(routing::token_for_partition_key, m)?)?;
    m.add_function(wrap_pyfunction!(routing::token_for_feed_range, m)?)?;
    m.add_function(wrap_pyfunction!(routing::check_header_budget, m)?)?;
    m.add_class::<routing::RoutingMap>()?;
    m.add_function(wrap_pyfunction!(sealing::seal, m)?)?;
    m.add_function(wrap_pyfunction!(sealing::unseal, m)?)?;
    m.add_class::<ParseWarning>()?;
    m.add_class::<SessionCarrier>()?;
    m.add_class::<state::SessionStateStore>()?;
    m.add_class::<state::Exclusive>()?;
    m.add_class::<state::TokenCookie>()?;
    m.add_class::<CookiePolicy>()?;
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
