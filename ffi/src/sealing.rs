//! Sealed tokens: handle variants (`cst_token_seal`, `cst_token_unseal`) and the one-shot text
//! helpers over them (`cst_token_text_seal`, `cst_token_text_unseal`).

use std::ffi::c_char;

use cosmos_session_token::{DEFAULT_SEAL_BUDGET, ParseOptions, SessionToken, seal, unseal};

use crate::boundary::{
    Failure, bytes_array, guard, input, input_str, put, write_output, write_token_output,
};
use crate::oneshot::parse;
use crate::token::{check_out, cst_token, into_handle, token};

/// Most keys an unseal accepts: the core's limit, so the array is refused before it is read.
pub(crate) use cosmos_session_token::MAX_SEAL_KEYS;

/// `max_bytes` of the seal functions: 0 selects the default budget.
pub(crate) fn seal_budget(max_bytes: usize) -> usize {
    if max_bytes == 0 {
        DEFAULT_SEAL_BUDGET
    } else {
        max_bytes
    }
}

/// Seals `t` and writes the envelope (output protocol).
///
/// # Safety
/// Spans and output as documented on the exports.
#[allow(clippy::too_many_arguments)] // the export's spans, forwarded as they are
unsafe fn seal_into(
    t: &SessionToken,
    key: *const u8,
    key_len: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: forwarded caller guarantees.
    let (key, context) = unsafe {
        (
            input(key.cast(), key_len, "key")?,
            input_str(context, context_len, "context")?,
        )
    };
    let sealed = seal(t, key, context, seal_budget(max_bytes))?;
    // SAFETY: forwarded caller guarantees.
    unsafe { write_output(&sealed, buf, cap, out_len) }
}

/// Checks a sealed text against the keys and context and returns its token.
///
/// # Safety
/// Spans and arrays as documented on the exports.
#[allow(clippy::too_many_arguments)] // the export's spans, forwarded as they are
unsafe fn unseal_from(
    sealed: *const c_char,
    len: usize,
    keys: *const *const u8,
    key_lens: *const usize,
    nkeys: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
) -> Result<SessionToken, Failure> {
    // SAFETY: forwarded caller guarantees.
    let (sealed, context) = unsafe {
        (
            input_str(sealed, len, "sealed")?,
            input_str(context, context_len, "context")?,
        )
    };
    // SAFETY: forwarded caller guarantees.
    let keys = unsafe { bytes_array(keys.cast(), key_lens, nkeys, "keys", MAX_SEAL_KEYS) }?;
    Ok(unseal(sealed, &keys, context, seal_budget(max_bytes))?)
}

/// Seals a token handle for `context` with `key` (at least 16 bytes) into a cookie-safe envelope
/// `cst1.<token>.<mac>` (output protocol), without rendering and re-parsing the token.
/// `max_bytes` = 0 means the default budget of 4,000 bytes. Returns CST_OK,
/// CST_ERR_INVALID_ARGUMENT (weak key), CST_ERR_LIMIT_EXCEEDED (over budget: scope the token
/// first), CST_ERR_BUFFER_TOO_SMALL, CST_ERR_NULL_ARGUMENT. Thread-safe.
///
/// # Safety
/// `token` a live handle; spans valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_seal(
    token: *const cst_token,
    key: *const u8,
    key_len: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        // SAFETY: forwarded caller guarantees.
        unsafe {
            seal_into(
                t,
                key,
                key_len,
                context,
                context_len,
                max_bytes,
                buf,
                cap,
                out_len,
            )
        }
    })
}

/// Checks a sealed token against any of `nkeys` keys (`keys[i]` of `key_lens[i]` bytes; seal with
/// the first, accept any: key rotation) and `context`, into a new token handle *out. `max_bytes`
/// = 0 means 4,000. Returns CST_OK, CST_ERR_REJECTED (bad signature, unknown version, malformed
/// envelope), CST_ERR_INVALID_ARGUMENT (no or weak keys), CST_ERR_LIMIT_EXCEEDED,
/// CST_ERR_MALFORMED (a signed but malformed token), CST_ERR_NULL_ARGUMENT. Thread-safe.
///
/// # Safety
/// Spans and arrays valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_unseal(
    sealed: *const c_char,
    len: usize,
    keys: *const *const u8,
    key_lens: *const usize,
    nkeys: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let t = unsafe {
            unseal_from(
                sealed,
                len,
                keys,
                key_lens,
                nkeys,
                context,
                context_len,
                max_bytes,
            )
        }?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(t), "out") }
    })
}

/// Seals a (strictly parsed) token given as text: cst_token_seal on its parse. Returns
/// CST_ERR_MALFORMED for a token that does not parse, else as cst_token_seal.
///
/// # Safety
/// Spans valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_seal(
    token: *const c_char,
    len: usize,
    key: *const u8,
    key_len: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { parse(token, len, "token", &ParseOptions::STRICT) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe {
            seal_into(
                &t,
                key,
                key_len,
                context,
                context_len,
                max_bytes,
                buf,
                cap,
                out_len,
            )
        }
    })
}

/// cst_token_unseal, writing the token as text (output protocol).
///
/// # Safety
/// Spans and arrays valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_unseal(
    sealed: *const c_char,
    len: usize,
    keys: *const *const u8,
    key_lens: *const usize,
    nkeys: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe {
            unseal_from(
                sealed,
                len,
                keys,
                key_lens,
                nkeys,
                context,
                context_len,
                max_bytes,
            )
        }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&t, buf, cap, out_len) }
    })
}
