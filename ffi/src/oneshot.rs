//! One-shot string functions: text in, text out, no handles. (These names are a contract.)

use std::ffi::c_char;

use cosmos_session_token::{ParseOptions, SessionToken};

use crate::boundary::{
    Failure, PARSE_FLAGS, TEXT_MERGE_FLAGS, check_flags, guard, input, input_str, merge_policy,
    parents, parse_options, put, write_token_output,
};
use crate::token::{format_from, not_found, order_code};

/// # Safety
/// As [`input`].
pub(crate) unsafe fn parse(
    s: *const c_char,
    len: usize,
    what: &str,
    options: &ParseOptions,
) -> Result<SessionToken, Failure> {
    // SAFETY: forwarded.
    let bytes = unsafe { input(s, len, what) }?;
    Ok(SessionToken::parse_bytes(bytes, options)?.token)
}

/// Validates a token (flags: 0 strict, CST_FLAG_LENIENT lenient). Returns CST_OK,
/// CST_ERR_MALFORMED, CST_ERR_INVALID_UTF8, CST_ERR_LIMIT_EXCEEDED, CST_ERR_NULL_ARGUMENT or
/// CST_ERR_INVALID_ARGUMENT. Thread-safe.
///
/// # Safety
/// `token` valid for `len` bytes (or NULL with len 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_check(token: *const c_char, len: usize, flags: u32) -> i32 {
    guard(|| {
        check_flags(flags, PARSE_FLAGS)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { parse(token, len, "token", &parse_options(flags)) }.map(drop)
    })
}

/// Converts every segment of a (strictly parsed) token to CST_FORMAT_SIMPLE (lossy: version
/// and regions dropped) or CST_FORMAT_VECTOR (`lsn` becomes `-2#lsn`), output protocol.
///
/// # Safety
/// Spans and output as documented in the header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_convert(
    token: *const c_char,
    len: usize,
    target_format: i32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        let format = format_from(target_format)?;
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { parse(token, len, "token", &ParseOptions::STRICT) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&t.convert(format), buf, cap, out_len) }
    })
}

/// Merges two tokens (output protocol). flags: CST_FLAG_LENIENT (parse both leniently),
/// CST_FLAG_UNION_REGIONS, CST_FLAG_LEGACY_MAX_GLOBAL_LSN; 0 = defaults.
/// Returns CST_OK, CST_ERR_MALFORMED, CST_ERR_INCOMPATIBLE, CST_ERR_BUFFER_TOO_SMALL, ...
///
/// # Safety
/// Spans and output as documented in the header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_merge(
    a: *const c_char,
    alen: usize,
    b: *const c_char,
    blen: usize,
    flags: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        check_flags(flags, TEXT_MERGE_FLAGS)?;
        let options = parse_options(flags);
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe {
            (
                parse(a, alen, "a", &options)?,
                parse(b, blen, "b", &options)?,
            )
        };
        let merged = a.merge_with(&b, &merge_policy(flags))?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&merged, buf, cap, out_len) }
    })
}

/// Compares two (strictly parsed) tokens: *order receives CST_ORDER_LESS, _EQUAL, _GREATER or
/// _CONCURRENT (a relative to b).
///
/// # Safety
/// Spans valid as documented; `order` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_compare(
    a: *const c_char,
    alen: usize,
    b: *const c_char,
    blen: usize,
    order: *mut i32,
) -> i32 {
    guard(|| {
        if order.is_null() {
            return Err(Failure::null("order"));
        }
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe {
            (
                parse(a, alen, "a", &ParseOptions::STRICT)?,
                parse(b, blen, "b", &ParseOptions::STRICT)?,
            )
        };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(order, order_code(a.compare(&b)), "order") }
    })
}

/// The token to send for one range (output protocol): the exact segment, else the merge of the
/// present parents relabelled with range_id. CST_ERR_NOT_FOUND when nothing applies.
///
/// # Safety
/// Spans valid as documented (`parents[i]` for `parent_lens[i]` bytes, i < nparents).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_scope(
    token: *const c_char,
    len: usize,
    range_id: *const c_char,
    range_len: usize,
    parent_ids: *const *const c_char,
    parent_lens: *const usize,
    nparents: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { parse(token, len, "token", &ParseOptions::STRICT) }?;
        // SAFETY: forwarded caller guarantees.
        let range = unsafe { input_str(range_id, range_len, "range id") }?;
        // SAFETY: forwarded caller guarantees.
        let parents = unsafe { parents(parent_ids, parent_lens, nparents) }?;
        let scoped = t.scope(range, &parents)?.ok_or_else(not_found)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&scoped, buf, cap, out_len) }
    })
}
