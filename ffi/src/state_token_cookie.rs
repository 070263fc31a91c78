//! `cst_state_token_cookie`: the token-cookie hook of one web application (the state crate's
//! `TokenCookie`), which carries a session's token between nodes in a sealed cookie.

use cosmos_session_token::{Code, CookieKind, CookiePolicy};
use std::ffi::c_char;

use crate::boundary::{Failure, bytes_array, guard, guard_or, input_str, put, write_output};
use crate::cookie_policy::{self, cst_cookie_policy};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::state::{cst_state, engine_and_session};

/// The token-cookie hook of one web application (the state crate's `TokenCookie`): created once
/// per configuration, used from any thread; free it with cst_state_token_cookie_free.
pub struct cst_state_token_cookie {
    hook: cosmos_session_state::TokenCookie,
}

impl Handle for cst_state_token_cookie {
    const NAME: &'static str = "hook";
}
impl Boxed for cst_state_token_cookie {}

/// Creates the token-cookie hook of one application into *out: keys derived from `count`
/// framework secrets (`secrets`/`secret_lens`; the first seals, all unseal; each at least 16
/// bytes, else CST_ERR_INVALID_ARGUMENT kind weak_key), the seal bound to `framework` and `app`,
/// the cookie `Secure` when `secure`, with `Max-Age` `max_age` seconds (negative: none).
/// cst_state_token_cookie_new_from_policy does the same from the core's cookie policy, which
/// composes `app` from the store's database and container itself.
///
/// # Safety
/// Spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the secrets, two spans, two options and the output
pub unsafe extern "C" fn cst_state_token_cookie_new(
    secrets: *const *const u8,
    secret_lens: *const usize,
    count: usize,
    framework: *const c_char,
    framework_len: usize,
    app: *const c_char,
    app_len: usize,
    secure: bool,
    max_age: i64,
    out: *mut *mut cst_state_token_cookie,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let secrets = unsafe {
            bytes_array(
                secrets.cast(),
                secret_lens,
                count,
                "secrets",
                cosmos_session_token::MAX_SEAL_KEYS,
            )
        }?;
        // SAFETY: forwarded caller guarantees.
        let (framework, app) = unsafe {
            (
                input_str(framework, framework_len, "framework")?,
                input_str(app, app_len, "app")?,
            )
        };
        let policy = CookiePolicy::for_app(CookieKind::StateToken, framework, app, &secrets)?
            .with_secure(secure)
            .with_max_age(u64::try_from(max_age).ok());
        let hook = cosmos_session_state::TokenCookie::new(policy)?;
        let handle = new_boxed(cst_state_token_cookie { hook });
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Creates the token-cookie hook of one application from its cookie policy (cst_cookie_policy_new
/// with CST_COOKIE_KIND_STATE_TOKEN: the name, the keys derived from the framework's secrets, the
/// seal bound to the framework, the store and the session id, the budget, Max-Age and Secure)
/// into *out. CST_ERR_INVALID_ARGUMENT for a policy of another kind.
///
/// # Safety
/// A live policy handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token_cookie_new_from_policy(
    policy: *const cst_cookie_policy,
    out: *mut *mut cst_state_token_cookie,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantee.
        let policy = unsafe { cookie_policy::policy(policy) }?;
        let hook = cosmos_session_state::TokenCookie::new(policy.clone())?;
        let handle = new_boxed(cst_state_token_cookie { hook });
        // SAFETY: checked non-NULL.
        unsafe { put(out, handle, "out") }
    })
}

/// Releases a hook (NULL is a no-op).
///
/// # Safety
/// `hook` NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token_cookie_free(hook: *mut cst_state_token_cookie) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(hook) }
    })
}

/// Start of a request for session `sid` whose token cookie is `cookie` (NULL with length 0:
/// none): presents the token it carries for this session to `state`. *presented: whether one
/// was (anything that does not unseal for this session is no token).
///
/// # Safety
/// Handles live; spans valid; `presented` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token_cookie_begin(
    hook: *const cst_state_token_cookie,
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    cookie: *const c_char,
    cookie_len: usize,
    presented: *mut bool,
) -> i32 {
    guard(|| {
        if presented.is_null() {
            return Err(Failure::null("presented"));
        }
        // SAFETY: live handles point to Box-owned values that outlive the call.
        let hook = unsafe { borrow(hook) }?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        // SAFETY: forwarded caller guarantees. NULL or "" is no cookie (the carrier's rule).
        let cookie = Some(unsafe { input_str(cookie, cookie_len, "cookie") }?);
        let did = hook.hook.begin(engine, sid, cookie)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(presented, did, "presented") }
    })
}

/// End of a request for session `sid` (the new id after a new session or a key cycle) that
/// arrived with token cookie `cookie`: the `Set-Cookie` header value to send (output protocol),
/// or CST_ERR_NOT_FOUND when the store's token did not change (send no cookie).
///
/// # Safety
/// Handles live; spans valid; output as documented.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // two handles, two spans and the output protocol
pub unsafe extern "C" fn cst_state_token_cookie_finish(
    hook: *const cst_state_token_cookie,
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    cookie: *const c_char,
    cookie_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: live handles point to Box-owned values that outlive the call.
        let hook = unsafe { borrow(hook) }?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        // SAFETY: forwarded caller guarantees. NULL or "" is no cookie (the carrier's rule).
        let cookie = Some(unsafe { input_str(cookie, cookie_len, "cookie") }?);
        match hook.hook.finish(engine, sid, cookie)? {
            // SAFETY: forwarded caller guarantees on the output.
            Some(header) => unsafe { write_output(&header, buf, cap, out_len) },
            None => Err(Failure::new(
                Code::NotFound,
                "the session's token did not change: set no cookie",
            )),
        }
    })
}
