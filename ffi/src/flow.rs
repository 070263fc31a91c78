//! `cst_flow`: read-your-writes carried by a host's own HTTP traffic (the core's `SessionFlow`),
//! for hosts that speak the Cosmos DB REST protocol themselves and for the .NET
//! `SessionFlowHandler`.

use std::ffi::c_char;
use std::sync::Arc;

use cosmos_session_token::{Outgoing, SessionFlow};

use crate::boundary::{Failure, guard, guard_or, input, input_str, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::token::{cst_token, into_handle};

/// A session flow: the progress of one user or process, and what it learned of each
/// collection's partitioning. Internally synchronized: every function except cst_flow_free may
/// be called from any number of threads at the same time. Free it once with cst_flow_free.
pub struct cst_flow {
    // Shared with the cookie flow it came from (cst_cookie_flow_get_flow), if any.
    pub(crate) inner: Arc<SessionFlow>,
}

impl Handle for cst_flow {
    const NAME: &'static str = "flow";
}
impl Boxed for cst_flow {}

/// One HTTP header: name and value as UTF-8 spans (not NUL-terminated; NULL only with length 0).
/// Names are compared without case.
#[repr(C)]
pub struct cst_header {
    /// The header's name.
    pub name: *const c_char,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// The header's value.
    pub value: *const c_char,
    /// Length of `value` in bytes.
    pub value_len: usize,
}

/// What a flow has done (cst_flow_get_stats).
#[repr(C)]
#[derive(Default)]
pub struct cst_flow_stats {
    /// Requests seen.
    pub requests: u64,
    /// Requests sent a token scoped to the ranges they go to.
    pub scoped: u64,
    /// Requests sent the collection's composite (no routing knowledge, within the budget).
    pub composite: u64,
    /// Requests left to the host's own header.
    pub left: u64,
    /// Requests and responses stepped aside for (malformed input from the wire).
    pub stepped_aside: u64,
    /// Responses whose token was captured.
    pub captured: u64,
    /// Partition-key definitions learned.
    pub definitions_learned: u64,
    /// Routing maps learned.
    pub maps_learned: u64,
    /// Routing maps forgotten after a 410.
    pub maps_forgotten: u64,
}

/// Most headers one call takes.
const MAX_HEADERS: usize = 1024;

/// # Safety
/// `p` must be NULL or a live flow handle.
unsafe fn flow<'a>(p: *const cst_flow) -> Result<&'a SessionFlow, Failure> {
    // SAFETY: forwarded caller guarantee.
    unsafe { borrow(p) }.map(|f| &*f.inner)
}

/// A new handle on a flow (shared: the handle's calls reach the same flow).
pub(crate) fn flow_handle(inner: Arc<SessionFlow>) -> *mut cst_flow {
    new_boxed(cst_flow { inner })
}

/// Reads the header array (NULL with count 0: none). Headers that are not UTF-8 are skipped: a
/// host forwards what the wire carried, and the flow steps aside from what it cannot read.
///
/// # Safety
/// `headers` valid for `count` entries, each span valid as documented.
unsafe fn headers<'a>(
    headers: *const cst_header,
    count: usize,
) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(Failure::null("headers"));
    }
    if count > MAX_HEADERS {
        return Err(Failure::invalid(format!(
            "{count} headers, more than {MAX_HEADERS}"
        )));
    }
    // SAFETY: non-NULL, count bounded, validity guaranteed by the caller.
    let list = unsafe { std::slice::from_raw_parts(headers, count) };
    let mut out = Vec::with_capacity(count);
    for (i, h) in list.iter().enumerate() {
        // SAFETY: forwarded caller guarantee.
        let name = unsafe { input(h.name, h.name_len, &format!("headers[{i}].name")) }?;
        // SAFETY: forwarded caller guarantee.
        let value = unsafe { input(h.value, h.value_len, &format!("headers[{i}].value")) }?;
        if let (Ok(n), Ok(v)) = (std::str::from_utf8(name), std::str::from_utf8(value)) {
            out.push((n, v));
        }
    }
    Ok(out)
}

/// The headers the flow reads, as NUL-terminated names for C (built once from the core's lists).
fn header_names() -> &'static [Vec<std::ffi::CString>; 2] {
    static NAMES: std::sync::OnceLock<[Vec<std::ffi::CString>; 2]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let c = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| std::ffi::CString::new(*n).ok())
                .collect()
        };
        [
            c(&cosmos_session_token::FLOW_REQUEST_HEADERS),
            c(&cosmos_session_token::FLOW_RESPONSE_HEADERS),
        ]
    })
}

/// The `index`-th name (lower case) of the headers the flow reads: of requests (`response`
/// false) or of responses (true); NULL past the last. A host passes only these to
/// cst_flow_run_before_request / cst_flow_run_after_response (others are ignored anyway): looking up a
/// few headers is cheaper than copying them all. Static strings, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn cst_flow_header_get_name(response: bool, index: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        header_names()[usize::from(response)]
            .get(index)
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

/// Creates an empty flow into *out.
///
/// # Safety
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_new(out: *mut *mut cst_flow) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let handle = new_boxed(cst_flow {
            inner: Arc::new(SessionFlow::new()),
        });
        // SAFETY: checked non-NULL.
        unsafe { put(out, handle, "out") }
    })
}

/// Creates a flow from cst_flow_snapshot text into *out. CST_ERR_MALFORMED (kind
/// "invalid_snapshot") for anything else, CST_ERR_LIMIT_EXCEEDED ("snapshot_too_large") past
/// 1 MiB.
///
/// # Safety
/// Span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_restore(
    snapshot: *const c_char,
    snapshot_len: usize,
    out: *mut *mut cst_flow,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(snapshot, snapshot_len, "snapshot") }?;
        let inner = Arc::new(SessionFlow::restore(text)?);
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(cst_flow { inner }), "out") }
    })
}

/// Releases a flow. NULL is ignored. No other call on it may run at the same time or later.
///
/// # Safety
/// `flow` must be NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_free(flow: *mut cst_flow) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(flow) }
    })
}

/// Merges another flow's snapshot into this one (progress merged, never lost); nothing changes
/// on error (as cst_flow_restore).
///
/// # Safety
/// `flow` live; span valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_merge_snapshot(
    flow: *const cst_flow,
    snapshot: *const c_char,
    snapshot_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let f = unsafe { self::flow(flow) }?;
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(snapshot, snapshot_len, "snapshot") }?;
        Ok(f.merge_snapshot(text)?)
    })
}

/// Writes the flow as versioned JSON text (format "cosmos-session-token/flow", version 1) with
/// the output protocol.
///
/// # Safety
/// `flow` live; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_snapshot(
    flow: *const cst_flow,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let f = unsafe { self::flow(flow) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&f.snapshot(), buf, cap, out_len) }
    })
}

/// The token to send with a request (`method`, its URL path or whole URL, its headers): into
/// *out a new token handle (set it as x-ms-session-token), or CST_ERR_NOT_FOUND (*out NULL):
/// leave the header as it is. Malformed input from the wire never fails: the flow steps aside
/// (CST_ERR_NOT_FOUND) and counts it.
///
/// # Safety
/// `flow` live; spans and the header array valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_run_before_request(
    flow: *const cst_flow,
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    headers: *const cst_header,
    header_count: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: checked non-NULL: cleared first, so a failure leaves NULL.
        unsafe { *out = std::ptr::null_mut() };
        // SAFETY: forwarded caller guarantees.
        let f = unsafe { self::flow(flow) }?;
        // SAFETY: forwarded caller guarantees.
        let method = unsafe { input_str(method, method_len, "method") }?;
        // SAFETY: forwarded caller guarantees.
        let path = unsafe { input_str(path, path_len, "path") }?;
        // SAFETY: forwarded caller guarantees.
        let headers = unsafe { self::headers(headers, header_count) }?;
        match f.before_request(method, path, &headers) {
            Outgoing::Set(token) => {
                let parsed = cosmos_session_token::SessionToken::parse(&token)?;
                // SAFETY: checked non-NULL.
                unsafe { put(out, into_handle(parsed), "out") }
            }
            Outgoing::Leave => Err(Failure::new(
                cosmos_session_token::Code::NotFound,
                "the flow leaves this request's header as it is",
            )),
        }
    })
}

/// *wants = whether cst_flow_run_after_response reads this request's response body (account,
/// collection and partition-key-range reads); pass the body only then.
///
/// # Safety
/// `flow` live; spans valid; `wants` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_get_wants_body(
    flow: *const cst_flow,
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    wants: *mut bool,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let f = unsafe { self::flow(flow) }?;
        // SAFETY: forwarded caller guarantees.
        let method = unsafe { input_str(method, method_len, "method") }?;
        // SAFETY: forwarded caller guarantees.
        let path = unsafe { input_str(path, path_len, "path") }?;
        let answer = f.wants_body(method, path);
        // SAFETY: forwarded caller guarantee.
        unsafe { put(wants, answer, "wants") }
    })
}

/// Takes a response: its status, headers (the flow reads x-ms-session-token, x-ms-substatus,
/// x-ms-content-path) and the body when cst_flow_get_wants_body said so (NULL: none). Captures the
/// token by the SDKs' rules and learns definitions and routing maps. Malformed input from the
/// wire is counted, never an error; CST_ERR_INVALID_ARGUMENT only for a status outside 0..65535
/// or a method or path that is not UTF-8.
///
/// # Safety
/// `flow` live; spans and the header array valid as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_run_after_response(
    flow: *const cst_flow,
    method: *const c_char,
    method_len: usize,
    path: *const c_char,
    path_len: usize,
    status: i32,
    headers: *const cst_header,
    header_count: usize,
    body: *const c_char,
    body_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let f = unsafe { self::flow(flow) }?;
        // SAFETY: forwarded caller guarantees.
        let method = unsafe { input_str(method, method_len, "method") }?;
        // SAFETY: forwarded caller guarantees.
        let path = unsafe { input_str(path, path_len, "path") }?;
        // SAFETY: forwarded caller guarantees.
        let headers = unsafe { self::headers(headers, header_count) }?;
        let status = u16::try_from(status)
            .map_err(|_| Failure::invalid(format!("status {status} is not an HTTP status")))?;
        let body = if body.is_null() {
            None
        } else {
            // SAFETY: forwarded caller guarantees.
            Some(unsafe { input(body, body_len, "body") }?)
        };
        f.after_response(method, path, status, &headers, body);
        Ok(())
    })
}

/// Copies what the flow has done into *out.
///
/// # Safety
/// `flow` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_get_stats(
    flow: *const cst_flow,
    out: *mut cst_flow_stats,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let s = unsafe { self::flow(flow) }?.stats();
        let stats = cst_flow_stats {
            requests: s.requests,
            scoped: s.scoped,
            composite: s.composite,
            left: s.left,
            stepped_aside: s.stepped_aside,
            captured: s.captured,
            definitions_learned: s.definitions_learned,
            maps_learned: s.maps_learned,
            maps_forgotten: s.maps_forgotten,
        };
        // SAFETY: forwarded caller guarantee.
        unsafe { put(out, stats, "out") }
    })
}
