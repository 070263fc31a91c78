//! `cst_cookie_policy`: the core's one web-cookie policy (`CookiePolicy`) for adapters written
//! against the C ABI (the ASP.NET provider and module): the cookie's name, the keys derived from
//! the framework's secrets, the seal's binding, budget, `Max-Age` and `Secure`. The state token
//! cookie (cst_state_token_cookie_new_from_policy) and the flow cookies (cst_flow_cookies_new_from_policy)
//! are built from one.

use std::ffi::c_char;

use cosmos_session_token::{Code, CookieKind, CookiePolicy, MAX_SEAL_KEYS};

use crate::boundary::{Failure, bytes_array, guard, guard_or, input_str, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};

/// A cookie that carries a Cosmos DB session token for the application's reads (`cosmos_token`).
pub const CST_COOKIE_KIND_TOKEN: u32 = 0;
/// A cookie that carries a session-state store's token (`cosmos_state_token`).
pub const CST_COOKIE_KIND_STATE_TOKEN: u32 = 1;
/// A cookie that carries a user's SDK flow (`cosmos_flow`).
pub const CST_COOKIE_KIND_FLOW: u32 = 2;

/// One web cookie's policy (immutable; any thread).
pub struct cst_cookie_policy {
    pub(crate) inner: CookiePolicy,
}

impl Handle for cst_cookie_policy {
    const NAME: &'static str = "cookie policy";
}
impl Boxed for cst_cookie_policy {}

/// Creates the policy of a `kind` cookie (CST_COOKIE_KIND_*) into *out: the framework's name
/// ("aspnet", ...), the session store's `database` and `container` (the application the seal is
/// bound to, empty: the store's defaults; a flow cookie's is "flow"), the framework's secrets (`nsecrets` spans, at least 16
/// bytes each, the current one first; the keys are derived from them), `secure` (false only for
/// plain-HTTP development), `max_age` in seconds (negative: no Max-Age) and the cookie's budget in
/// bytes (0: 4,000). CST_ERR_INVALID_ARGUMENT (an unknown kind; kinds no_keys, weak_key),
/// CST_ERR_LIMIT_EXCEEDED (too many secrets).
///
/// # Safety
/// Spans valid for their lengths; arrays valid for `nsecrets` elements; `out` writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // three spans, the secrets and three attributes
pub unsafe extern "C" fn cst_cookie_policy_new(
    kind: u32,
    framework: *const c_char,
    framework_len: usize,
    database: *const c_char,
    database_len: usize,
    container: *const c_char,
    container_len: usize,
    secrets: *const *const u8,
    secret_lens: *const usize,
    nsecrets: usize,
    secure: bool,
    max_age: i64,
    max_bytes: usize,
    out: *mut *mut cst_cookie_policy,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let kind = CookieKind::from_index(kind)
            .ok_or_else(|| Failure::invalid(format!("unknown cookie kind {kind}")))?;
        // SAFETY: forwarded caller guarantees on the spans and the array.
        let (framework, database, container, secrets) = unsafe {
            (
                input_str(framework, framework_len, "framework")?,
                input_str(database, database_len, "database")?,
                input_str(container, container_len, "container")?,
                bytes_array(
                    secrets.cast(),
                    secret_lens,
                    nsecrets,
                    "secrets",
                    MAX_SEAL_KEYS,
                )?,
            )
        };
        let inner = build_policy(kind, framework, database, container, &secrets)?
            .with_secure(secure)
            .with_max_age(u64::try_from(max_age).ok())
            .with_max_bytes(max_bytes);
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(cst_cookie_policy { inner }), "out") }
    })
}

/// The policy, empty store names being the session store's defaults.
#[cfg(feature = "state")]
fn build_policy(
    kind: CookieKind,
    framework: &str,
    database: &str,
    container: &str,
    secrets: &[&[u8]],
) -> Result<CookiePolicy, Failure> {
    Ok(cosmos_session_state::cookie_policy(
        kind, framework, database, container, secrets,
    )?)
}

/// The policy of a token-only build: it has no session store, so no store defaults to stand in
/// for empty names (a flow cookie's application is its own and needs none).
#[cfg(not(feature = "state"))]
fn build_policy(
    kind: CookieKind,
    framework: &str,
    database: &str,
    container: &str,
    secrets: &[&[u8]],
) -> Result<CookiePolicy, Failure> {
    if kind != CookieKind::Flow && (database.is_empty() || container.is_empty()) {
        return Err(Failure::invalid(
            "this libcstoken has no session store (built without the state feature): name the database and container",
        ));
    }
    Ok(CookiePolicy::new(
        kind, framework, database, container, secrets,
    )?)
}

/// Releases a policy (what was built from it lives on). NULL is ignored.
///
/// # Safety
/// NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_free(policy: *mut cst_cookie_policy) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(policy) }
    })
}

/// The cookie's name (output protocol).
///
/// # Safety
/// A live handle; output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_get_name(
    policy: *const cst_cookie_policy,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let policy = unsafe { borrow(policy) }?;
        unsafe { write_output(policy.inner.name(), buf, cap, out_len) }
    })
}

/// The `index`-th earlier name of the cookie, still to be read (never written) for one release
/// (output protocol); CST_ERR_NOT_FOUND past the last one.
///
/// # Safety
/// A live handle; output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_get_legacy_name(
    policy: *const cst_cookie_policy,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let policy = unsafe { borrow(policy) }?;
        let Some(name) = policy.inner.legacy_names().get(index) else {
            return Err(Failure::new(
                Code::NotFound,
                format!("the cookie has no legacy name {index}"),
            ));
        };
        unsafe { write_output(name, buf, cap, out_len) }
    })
}

/// The cookie's budget of sealed text in bytes into *out.
///
/// # Safety
/// A live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_get_max_bytes(
    policy: *const cst_cookie_policy,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let policy = unsafe { borrow(policy) }?;
        unsafe { put(out, policy.inner.max_bytes(), "out") }
    })
}

/// The seal context of one session's (or user's) cookie: the framework, the application and
/// `sid` (output protocol).
///
/// # Safety
/// A live handle; the span valid; output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_compute_context(
    policy: *const cst_cookie_policy,
    sid: *const c_char,
    sid_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let policy = unsafe { borrow(policy) }?;
        let sid = unsafe { input_str(sid, sid_len, "session id") }?;
        unsafe { write_output(&policy.inner.context(sid), buf, cap, out_len) }
    })
}

/// The `Set-Cookie` value that sets the cookie to `value` (already cookie-safe, as a sealed value
/// is) with the policy's name, `Path=/`, `Max-Age`, `HttpOnly`, `SameSite=Lax` and `Secure`
/// (output protocol).
///
/// # Safety
/// A live handle; the span valid; output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_policy_compute_header(
    policy: *const cst_cookie_policy,
    value: *const c_char,
    value_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let policy = unsafe { borrow(policy) }?;
        let value = unsafe { input_str(value, value_len, "value") }?;
        unsafe { write_output(&policy.inner.header(value), buf, cap, out_len) }
    })
}

/// Borrows a policy handle's policy.
///
/// # Safety
/// NULL or a live handle.
pub(crate) unsafe fn policy<'a>(
    policy: *const cst_cookie_policy,
) -> Result<&'a CookiePolicy, Failure> {
    // SAFETY: forwarded caller guarantee.
    Ok(&unsafe { borrow(policy) }?.inner)
}

/// The size in bytes of one key cst_cookie_derive_keys derives (32: an HMAC-SHA256 output),
/// for bindings that size its output buffer.
#[unsafe(no_mangle)]
pub extern "C" fn cst_library_get_cookie_key_bytes() -> usize {
    cosmos_session_token::COOKIE_KEY_BYTES
}
