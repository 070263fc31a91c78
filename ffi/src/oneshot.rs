//! One-shot string functions: text in, text out, no handles. (These names are a contract.)

use std::ffi::c_char;

use crate::boundary::{bytes_array, str_array};
use cosmos_session_token::{DEFAULT_SEAL_BUDGET, seal, unseal};
use cosmos_session_token::{
    FeedRange, MAX_FEED_RANGE_PAIRS, ParseOptions, SessionToken, latest_for_feed_range,
    parse_pair_token,
};

use crate::boundary::{
    Failure, check_flags, guard, input, input_str, merge_policy, parents, parse_options, put,
    write_output,
};
use crate::token::{format_from, not_found, order_code};

/// # Safety
/// As [`input`].
unsafe fn parse(
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
pub unsafe extern "C" fn cst_parse_check(token: *const c_char, len: usize, flags: u32) -> i32 {
    guard(|| {
        check_flags(flags)?;
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
pub unsafe extern "C" fn cst_convert(
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
        unsafe { write_output(&t.convert(format).to_header_value(), buf, cap, out_len) }
    })
}

/// Merges two tokens (output protocol). policy_flags: CST_FLAG_LENIENT (parse both leniently),
/// CST_FLAG_UNION_REGIONS, CST_FLAG_LEGACY_MAX_GLOBAL_LSN; 0 = defaults.
/// Returns CST_OK, CST_ERR_MALFORMED, CST_ERR_INCOMPATIBLE, CST_ERR_BUFFER_TOO_SMALL, ...
///
/// # Safety
/// Spans and output as documented in the header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_merge(
    a: *const c_char,
    alen: usize,
    b: *const c_char,
    blen: usize,
    policy_flags: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        check_flags(policy_flags)?;
        let options = parse_options(policy_flags);
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe {
            (
                parse(a, alen, "a", &options)?,
                parse(b, blen, "b", &options)?,
            )
        };
        let merged = a.merge_with(&b, &merge_policy(policy_flags))?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&merged.to_header_value(), buf, cap, out_len) }
    })
}

/// Compares two (strictly parsed) tokens: *order receives CST_ORDER_LESS, _EQUAL, _GREATER or
/// _CONCURRENT (a relative to b).
///
/// # Safety
/// Spans valid as documented; `order` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_compare(
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
/// Spans valid as documented (parents[i] for parent_lens[i] bytes, i < nparents).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_scope(
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
        unsafe { write_output(&scoped.to_header_value(), buf, cap, out_len) }
    })
}

/// The latest token covering a target feed range, from `npairs` (feed range, token) pairs given
/// as parallel arrays (output protocol). Feed ranges are `MIN-MAX` hex text ("" = start, "FF" =
/// end; e.g. "AA-DD", "-FF") or the SDKs' JSON `{"Range":{"min":"","max":"FF"}}`; tokens are parsed
/// leniently. The result does not depend on the order of the pairs. Returns CST_OK,
/// CST_ERR_NOT_FOUND (no pair overlaps the target), CST_ERR_INVALID_ARGUMENT (a feed range),
/// CST_ERR_MALFORMED (a token; the message names the pair), CST_ERR_LIMIT_EXCEEDED, ...
///
/// # Safety
/// Arrays valid for `npairs` elements; spans valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_latest_for_feed_range(
    ranges: *const *const c_char,
    range_lens: *const usize,
    tokens: *const *const c_char,
    token_lens: *const usize,
    npairs: usize,
    target: *const c_char,
    target_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (ranges, tokens, target) = unsafe {
            (
                str_array(
                    ranges,
                    range_lens,
                    npairs,
                    "feed ranges",
                    MAX_FEED_RANGE_PAIRS,
                )?,
                str_array(tokens, token_lens, npairs, "tokens", MAX_FEED_RANGE_PAIRS)?,
                input_str(target, target_len, "target")?,
            )
        };
        let target = FeedRange::parse(target)?;
        let pairs = ranges
            .iter()
            .zip(&tokens)
            .enumerate()
            .map(|(i, (r, t))| {
                let in_pair = |mut f: Failure| {
                    f.message = format!("pair {i}: {}", f.message);
                    f
                };
                let range = FeedRange::parse(r).map_err(|e| in_pair(e.into()))?;
                let token = parse_pair_token(t).map_err(|e| in_pair(e.into()))?;
                Ok((range, token))
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let latest = latest_for_feed_range(&pairs, &target)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&latest.token.to_header_value(), buf, cap, out_len) }
    })
}

/// Most keys `cst_unseal` accepts (rotation needs two or three).
const MAX_SEAL_KEYS: usize = 1024;

/// `max_bytes` of the seal functions: 0 selects the default budget.
fn seal_budget(max_bytes: usize) -> usize {
    if max_bytes == 0 {
        DEFAULT_SEAL_BUDGET
    } else {
        max_bytes
    }
}

/// Seals a (strictly parsed) token for `context` with `key` (at least 16 bytes) into a
/// cookie-safe envelope `cst1.<token>.<mac>` (output protocol). `max_bytes` = 0 means the default
/// budget of 4,000 bytes. Returns CST_OK, CST_ERR_MALFORMED, CST_ERR_INVALID_ARGUMENT (weak key),
/// CST_ERR_LIMIT_EXCEEDED (over budget: scope the token first), ...
///
/// # Safety
/// Spans valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_seal(
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
        let (t, key, context) = unsafe {
            (
                parse(token, len, "token", &ParseOptions::STRICT)?,
                input(key.cast(), key_len, "key")?,
                input_str(context, context_len, "context")?,
            )
        };
        let budget = seal_budget(max_bytes);
        let sealed = seal(&t, key, context, budget).map_err(cosmos_session_token::Error::from)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&sealed, buf, cap, out_len) }
    })
}

/// Checks a sealed token against any of `nkeys` keys (keys[i] of key_lens[i] bytes; seal with
/// the first, accept any: key rotation) and `context`, then writes the token (output protocol).
/// `max_bytes` = 0 means 4,000. Returns CST_OK, CST_ERR_REJECTED (bad signature, unknown
/// version, malformed envelope), CST_ERR_INVALID_ARGUMENT (no or weak keys),
/// CST_ERR_LIMIT_EXCEEDED, CST_ERR_MALFORMED (a signed but malformed token), ...
///
/// # Safety
/// Spans and arrays valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_unseal(
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
        let (sealed, context) = unsafe {
            (
                input_str(sealed, len, "sealed")?,
                input_str(context, context_len, "context")?,
            )
        };
        // SAFETY: forwarded caller guarantees.
        let keys = unsafe { bytes_array(keys.cast(), key_lens, nkeys, "keys", MAX_SEAL_KEYS) }?;
        let budget = seal_budget(max_bytes);
        let token = unseal(sealed, &keys, context, budget)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&token.to_header_value(), buf, cap, out_len) }
    })
}
