//! The latest token for a feed range: handle variant and one-shot text helper.

use std::ffi::c_char;

use cosmos_session_token::{
    FeedRange, MAX_FEED_RANGE_PAIRS, SessionToken, latest_token_for_feed_range, parse_pair_token,
};

use crate::boundary::{Failure, guard, input_str, put, str_array, write_token_output};
use crate::token::{check_out, cst_token, into_handle};

/// Reads the pairs and the target and computes the latest token.
///
/// # Safety
/// Arrays valid for `npairs` elements; spans valid as documented.
#[allow(clippy::too_many_arguments)] // the export's spans, forwarded as they are
unsafe fn latest(
    ranges: *const *const c_char,
    range_lens: *const usize,
    tokens: *const *const c_char,
    token_lens: *const usize,
    npairs: usize,
    target: *const c_char,
    target_len: usize,
) -> Result<SessionToken, Failure> {
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
    Ok(latest_token_for_feed_range(&pairs, &target)?)
}

/// The latest token covering a target feed range, from `npairs` (feed range, token) pairs given
/// as parallel arrays, into a new token handle *out. Feed ranges are `MIN-MAX` hex text ("" =
/// start, "FF" = end; e.g. "AA-DD", "-FF") or the SDKs' JSON `{"Range":{"min":"","max":"FF"}}`;
/// tokens are parsed leniently. The result does not depend on the order of the pairs. Returns
/// CST_OK, CST_ERR_NOT_FOUND (no pair overlaps the target: no result, *out untouched),
/// CST_ERR_INVALID_ARGUMENT (a feed range), CST_ERR_MALFORMED (a token; the message names the
/// pair), CST_ERR_LIMIT_EXCEEDED, CST_ERR_NULL_ARGUMENT. Thread-safe.
///
/// # Safety
/// Arrays valid for `npairs` elements; spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_find_latest_for_feed_range(
    ranges: *const *const c_char,
    range_lens: *const usize,
    tokens: *const *const c_char,
    token_lens: *const usize,
    npairs: usize,
    target: *const c_char,
    target_len: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let t = unsafe {
            latest(
                ranges, range_lens, tokens, token_lens, npairs, target, target_len,
            )
        }?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(t), "out") }
    })
}

/// cst_token_find_latest_for_feed_range, writing the token as text (output protocol).
///
/// # Safety
/// Arrays valid for `npairs` elements; spans valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_text_find_latest_for_feed_range(
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
        let t = unsafe {
            latest(
                ranges, range_lens, tokens, token_lens, npairs, target, target_len,
            )
        }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&t, buf, cap, out_len) }
    })
}
