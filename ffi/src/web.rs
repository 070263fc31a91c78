//! `cst_cookie_*` (no handle): the web-session policy of the core (`cosmos_session_token::web`) for adapters
//! written against the C ABI (the ASP.NET provider): token-cookie keys derived from a framework
//! secret and its rotation list, the session-bound seal context, and the cookie's attributes.

use std::ffi::c_char;

use cosmos_session_token::{
    COOKIE_KEY_BYTES, Code, MAX_SEAL_KEYS, derive_cookie_keys, token_cookie_context,
    token_cookie_header,
};

use crate::boundary::{Failure, bytes_array, guard, input_str, write_output};

/// Derives one 32-byte token-cookie key per secret (the first seals, all unseal) into `out`,
/// which must hold `32 * count` bytes (`out_cap`). Secrets are byte spans (`secrets`/`secret_lens`,
/// `count` of them, at most 1,024), each at least 16 bytes. Returns CST_OK,
/// CST_ERR_INVALID_ARGUMENT (kinds weak_key, no_keys), CST_ERR_LIMIT_EXCEEDED,
/// CST_ERR_BUFFER_TOO_SMALL (nothing written), CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `secrets`/`secret_lens` valid for `count` elements, each span valid; `out` valid for `out_cap`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_cookie_derive_keys(
    secrets: *const *const u8,
    secret_lens: *const usize,
    count: usize,
    out: *mut u8,
    out_cap: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let secrets =
            unsafe { bytes_array(secrets.cast(), secret_lens, count, "secrets", MAX_SEAL_KEYS) }?;
        let keys = derive_cookie_keys(&secrets)?;
        let need = keys.len() * COOKIE_KEY_BYTES;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if out_cap < need {
            return Err(Failure::new(
                Code::BufferTooSmall,
                format!("out holds {out_cap} bytes; {need} are needed"),
            ));
        }
        for (i, key) in keys.iter().enumerate() {
            // SAFETY: out is valid for out_cap >= need bytes; i * 32 + 32 <= need.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    key.as_ptr(),
                    out.add(i * COOKIE_KEY_BYTES),
                    COOKIE_KEY_BYTES,
                )
            };
        }
        Ok(())
    })
}

/// The seal context of one session's token cookie (framework, application, session id), output
/// protocol. Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL, CST_ERR_NULL_ARGUMENT, CST_ERR_INVALID_UTF8.
///
/// # Safety
/// Spans valid; output as documented.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // three spans and the output protocol
pub unsafe extern "C" fn cst_cookie_compute_context(
    framework: *const c_char,
    framework_len: usize,
    app: *const c_char,
    app_len: usize,
    sid: *const c_char,
    sid_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (framework, app, sid) = unsafe {
            (
                input_str(framework, framework_len, "framework")?,
                input_str(app, app_len, "app")?,
                input_str(sid, sid_len, "session id")?,
            )
        };
        let context = token_cookie_context(framework, app, sid);
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&context, buf, cap, out_len) }
    })
}

/// The `Set-Cookie` value of a token cookie (`name=value; Path=/; [Max-Age=n; ]HttpOnly;
/// SameSite=Lax[; Secure]`), output protocol. `max_age` < 0: no Max-Age. `secure` false only
/// for plain-HTTP development. Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL, CST_ERR_NULL_ARGUMENT,
/// CST_ERR_INVALID_UTF8.
///
/// # Safety
/// Spans valid; output as documented.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // two spans, two values and the output protocol
pub unsafe extern "C" fn cst_cookie_compute_header(
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
    max_age: i64,
    secure: bool,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (name, value) = unsafe {
            (
                input_str(name, name_len, "name")?,
                input_str(value, value_len, "value")?,
            )
        };
        let header = token_cookie_header(name, value, u64::try_from(max_age).ok(), secure);
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&header, buf, cap, out_len) }
    })
}
