//! `cst_flow_cookies`: a web node's per-user flows, each user's progress sealed in a cookie
//! (the core's `FlowCookies`), for adapters written against the C ABI (the ASP.NET module).

use std::ffi::{c_char, c_int};

use cosmos_session_token::{CookieFlow, CookieKind, CookieVerdict, FlowCookies, SealedCookie};

use crate::boundary::{Failure, bytes_array, guard, guard_or, input_str, put, write_output};
use crate::cookie_policy::{self, cst_cookie_policy};
use crate::flow::{cst_flow, flow_handle};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::sealing::{MAX_SEAL_KEYS, seal_budget};

/// A web node's flow cookies: the keys, the budget of a cookie, and the node's routing
/// knowledge that every user's flow shares. Internally synchronized: every function except
/// cst_flow_cookies_free may be called from any number of threads at the same time.
pub struct cst_flow_cookies {
    inner: FlowCookies,
}

impl Handle for cst_flow_cookies {
    const NAME: &'static str = "flow cookies";
}
impl Boxed for cst_flow_cookies {}

/// One user's flow for one request, opened from the user's cookie (cst_flow_cookies_open).
/// Free it once with cst_cookie_flow_free; it may be used from any thread.
pub struct cst_cookie_flow {
    inner: CookieFlow,
}

impl Handle for cst_cookie_flow {
    const NAME: &'static str = "cookie flow";
}
impl Boxed for cst_cookie_flow {}

/// What became of the cookie a request brought (cst_cookie_flow_get_verdict). Only
/// CST_COOKIE_ACCEPTED restores progress; none of the others is an error.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum cst_cookie_verdict {
    /// Opened: the user's progress is restored.
    CST_COOKIE_ACCEPTED = 0,
    /// The request had no session (an empty context): nothing read, nothing written.
    CST_COOKIE_NO_SESSION = 1,
    /// No cookie.
    CST_COOKIE_MISSING = 2,
    /// Not a flow cookie.
    CST_COOKIE_MALFORMED = 3,
    /// Over the budget.
    CST_COOKIE_TOO_LARGE = 4,
    /// Sealed with a key this node does not hold (nodes configured with different keys).
    CST_COOKIE_UNKNOWN_KEY = 5,
    /// Sealed for another user or application.
    CST_COOKIE_FOREIGN_CONTEXT = 6,
    /// This node's key and this user, tampered with.
    CST_COOKIE_FORGED = 7,
    /// Genuine, but its content cannot be read.
    CST_COOKIE_UNREADABLE = 8,
    /// An older (cst1) sealed value that does not verify: another key, another user or tampered
    /// (that format cannot tell which; only carriers still read it).
    CST_COOKIE_UNVERIFIED = 9,
}

impl From<CookieVerdict> for cst_cookie_verdict {
    fn from(v: CookieVerdict) -> Self {
        use cst_cookie_verdict::*;
        match v {
            CookieVerdict::Accepted => CST_COOKIE_ACCEPTED,
            CookieVerdict::NoSession => CST_COOKIE_NO_SESSION,
            CookieVerdict::Missing => CST_COOKIE_MISSING,
            CookieVerdict::Malformed => CST_COOKIE_MALFORMED,
            CookieVerdict::TooLarge => CST_COOKIE_TOO_LARGE,
            CookieVerdict::UnknownKey => CST_COOKIE_UNKNOWN_KEY,
            CookieVerdict::ForeignContext => CST_COOKIE_FOREIGN_CONTEXT,
            CookieVerdict::Forged => CST_COOKIE_FORGED,
            CookieVerdict::Unreadable => CST_COOKIE_UNREADABLE,
            CookieVerdict::Unverified => CST_COOKIE_UNVERIFIED,
        }
    }
}

/// Cookies met by verdict and written back, since the node started (cst_flow_cookies_get_stats).
#[repr(C)]
#[derive(Default)]
pub struct cst_flow_cookie_stats {
    /// Cookies opened.
    pub accepted: u64,
    /// Requests without a session.
    pub no_session: u64,
    /// Requests without a cookie.
    pub missing: u64,
    /// Cookies that were not flow cookies.
    pub malformed: u64,
    /// Cookies over the budget.
    pub too_large: u64,
    /// Cookies sealed with a key this node does not hold.
    pub unknown_key: u64,
    /// Cookies of another user or application.
    pub foreign_context: u64,
    /// Tampered cookies.
    pub forged: u64,
    /// Genuine cookies whose progress could not be read.
    pub unreadable: u64,
    /// Cookies written back.
    pub sealed: u64,
    /// Progress that no longer fit the budget.
    pub over_budget: u64,
}

/// Creates a node's flow cookies into *out: `nkeys` keys (`keys[i]` of `key_lens[i]` bytes, at
/// least 16 each, at most 1,024 keys; the first seals, all open; derive them from a framework
/// secret with cst_cookie_derive_keys) and the cookie's budget in bytes (0: 4,000).
/// CST_ERR_INVALID_ARGUMENT (kinds no_keys, weak_key), CST_ERR_LIMIT_EXCEEDED.
///
/// # Safety
/// Arrays valid for `nkeys` elements, each span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_new(
    keys: *const *const u8,
    key_lens: *const usize,
    nkeys: usize,
    max_bytes: usize,
    out: *mut *mut cst_flow_cookies,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let keys = unsafe { bytes_array(keys.cast(), key_lens, nkeys, "keys", MAX_SEAL_KEYS) }?;
        let inner = FlowCookies::new(&keys, seal_budget(max_bytes))?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(cst_flow_cookies { inner }), "out") }
    })
}

/// Creates a node's flow cookies from a flow cookie's policy (cst_cookie_policy_new with
/// CST_COOKIE_KIND_FLOW: its keys and budget) into *out. CST_ERR_INVALID_ARGUMENT for a policy of
/// another kind.
///
/// # Safety
/// A live policy handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_new_from_policy(
    policy: *const cst_cookie_policy,
    out: *mut *mut cst_flow_cookies,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantee.
        let policy = unsafe { cookie_policy::policy(policy) }?;
        if policy.kind() != CookieKind::Flow {
            return Err(Failure::invalid(format!(
                "flow cookies need a flow cookie policy, not {}",
                policy.kind().as_str()
            )));
        }
        let inner = policy.flow_cookies()?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(cst_flow_cookies { inner }), "out") }
    })
}

/// The budget of one cookie's sealed text in bytes into *out (what cst_flow_cookies_seal writes
/// at most).
///
/// # Safety
/// A live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_get_max_bytes(
    cookies: *const cst_flow_cookies,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let cookies = unsafe { borrow(cookies) }?;
        unsafe { put(out, cookies.inner.max_bytes(), "out") }
    })
}

/// Releases a node's flow cookies (the flows opened from them live on). NULL is ignored.
///
/// # Safety
/// NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_free(cookies: *mut cst_flow_cookies) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(cookies) }
    })
}

/// Opens the cookie a request brought (`cookie` NULL with length 0: none) for the user
/// `context` binds it to (the user's session id; empty when the request has no session) into
/// *out. A cookie that is not accepted is no progress, never an error: read
/// cst_cookie_flow_get_verdict.
///
/// # Safety
/// `cookies` live; spans valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_open(
    cookies: *const cst_flow_cookies,
    context: *const c_char,
    context_len: usize,
    cookie: *const c_char,
    cookie_len: usize,
    out: *mut *mut cst_cookie_flow,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { borrow(cookies) }?;
        // SAFETY: forwarded caller guarantees.
        let context = unsafe { input_str(context, context_len, "context") }?;
        // SAFETY: forwarded caller guarantees.
        let bytes = unsafe { crate::boundary::input(cookie, cookie_len, "cookie") }?;
        // A cookie that is not UTF-8 is not a flow cookie: it opens as malformed (text that is
        // no envelope), counted like any other.
        let cookie = (!bytes.is_empty()).then(|| std::str::from_utf8(bytes).unwrap_or("?"));
        let inner = c.inner.open(context, cookie);
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(cst_cookie_flow { inner }), "out") }
    })
}

/// Releases a cookie flow. NULL is ignored.
///
/// # Safety
/// NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_flow_free(user: *mut cst_cookie_flow) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(user) }
    })
}

/// The verdict on the cookie the request brought into *out.
///
/// # Safety
/// `user` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_flow_get_verdict(
    user: *const cst_cookie_flow,
    out: *mut cst_cookie_verdict,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let u = unsafe { borrow(user) }?;
        // SAFETY: forwarded caller guarantee.
        unsafe { put(out, u.inner.verdict().into(), "out") }
    })
}

/// A verdict's stable snake_case name ("accepted", "unknown_key" …), safe to log: it says
/// nothing of the cookie. A static NUL-terminated string (never freed); NULL for a value that
/// is not a verdict.
#[unsafe(no_mangle)]
pub extern "C" fn cst_cookie_verdict_get_name(verdict: c_int) -> *const c_char {
    let name: &'static [u8] = match verdict {
        0 => b"accepted\0",
        1 => b"no_session\0",
        2 => b"missing\0",
        3 => b"malformed\0",
        4 => b"too_large\0",
        5 => b"unknown_key\0",
        6 => b"foreign_context\0",
        7 => b"forged\0",
        8 => b"unreadable\0",
        9 => b"unverified\0",
        _ => return std::ptr::null(),
    };
    name.as_ptr().cast()
}

/// A new flow handle on the user's flow into *out (make it current for the request; free it
/// with cst_flow_free — the cookie flow keeps working).
///
/// # Safety
/// `user` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_flow_get_flow(
    user: *const cst_cookie_flow,
    out: *mut *mut cst_flow,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let u = unsafe { borrow(user) }?;
        let handle = flow_handle(u.inner.flow().clone());
        // SAFETY: checked non-NULL.
        unsafe { put(out, handle, "out") }
    })
}

/// What to write back at the end of the request, output protocol: CST_OK with the cookie's
/// value (render the header with cst_cookie_compute_header) when the user's progress moved;
/// CST_ERR_NOT_FOUND when there is nothing to write; CST_ERR_LIMIT_EXCEEDED (kind
/// seal_too_large) when the progress no longer fits the budget (nothing written; counted).
/// `context`: the user's context now (NULL with length 0: the one the cookie was opened for),
/// when the request created or renewed the session. Pass a buffer of the budget + 1 bytes: a
/// call retried for a larger buffer seals (and counts) again.
///
/// # Safety
/// Handles live; span valid; output as documented.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // two handles, a span and the output protocol
pub unsafe extern "C" fn cst_flow_cookies_seal(
    cookies: *const cst_flow_cookies,
    user: *const cst_cookie_flow,
    context: *const c_char,
    context_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (c, u) = unsafe { (borrow(cookies)?, borrow(user)?) };
        let sealed = if context.is_null() && context_len == 0 {
            c.inner.seal(&u.inner)
        } else {
            // SAFETY: forwarded caller guarantees.
            let context = unsafe { input_str(context, context_len, "context") }?;
            c.inner.seal_as(&u.inner, context)
        };
        match sealed {
            // SAFETY: forwarded caller guarantees.
            SealedCookie::Value(v) => unsafe { write_output(&v, buf, cap, out_len) },
            SealedCookie::Unchanged => Err(Failure::new(
                cosmos_session_token::Code::NotFound,
                "nothing to write: the user's progress did not move",
            )),
            SealedCookie::OverBudget { len, max } => {
                Err(cosmos_session_token::SealError::TooLarge { len, max }.into())
            }
        }
    })
}

/// Copies the node's cookie counters into *out.
///
/// # Safety
/// `cookies` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_get_stats(
    cookies: *const cst_flow_cookies,
    out: *mut cst_flow_cookie_stats,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let s = unsafe { borrow(cookies) }?.inner.stats();
        let stats = cst_flow_cookie_stats {
            accepted: s.accepted,
            no_session: s.no_session,
            missing: s.missing,
            malformed: s.malformed,
            too_large: s.too_large,
            unknown_key: s.unknown_key,
            foreign_context: s.foreign_context,
            forged: s.forged,
            unreadable: s.unreadable,
            sealed: s.sealed,
            over_budget: s.over_budget,
        };
        // SAFETY: forwarded caller guarantee.
        unsafe { put(out, stats, "out") }
    })
}

/// A flow handle on the node's flow into *out: its cst_flow_get_stats count every user's
/// requests. Free it with cst_flow_free.
///
/// # Safety
/// `cookies` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_flow_cookies_get_node_flow(
    cookies: *const cst_flow_cookies,
    out: *mut *mut cst_flow,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { borrow(cookies) }?;
        let handle = flow_handle(std::sync::Arc::new(c.inner.node().for_user()));
        // SAFETY: checked non-NULL.
        unsafe { put(out, handle, "out") }
    })
}
