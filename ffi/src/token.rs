//! `cst_token`: an immutable, parsed token for hot paths (parse once, use many times).

use std::ffi::c_char;
use std::hash::{DefaultHasher, Hash, Hasher};

use cosmos_session_token::{Format, Order, SessionToken, Warning};

use crate::boundary::{
    Failure, MERGE_FLAGS, PARSE_FLAGS, check_flags, guard, guard_or, input, input_str,
    merge_policy, parents, parse_options, put, write_output, write_token_output,
};
use crate::handle::{Handle, Shared, borrow, clone_shared, free_shared, new_shared};
use crate::status::*;
use cosmos_session_token::Code;

/// A parsed session token. Immutable and reference-counted: any number of threads may use one
/// handle at the same time. Release each handle (from cst_token_parse, cst_token_clone or any
/// function with a cst_token **out) exactly once with cst_token_free, after every user is done.
pub struct cst_token {
    token: SessionToken,
    /// Warnings of the lenient parse that made this handle (empty for every other handle).
    warnings: Vec<Warning>,
}

impl Handle for cst_token {
    const NAME: &'static str = "token";
}
impl Shared for cst_token {}

pub(crate) fn into_handle(token: SessionToken) -> *mut cst_token {
    handle_with_warnings(token, Vec::new())
}

fn handle_with_warnings(token: SessionToken, warnings: Vec<Warning>) -> *mut cst_token {
    #[cfg(feature = "debug-panic")]
    LIVE_TOKENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    new_shared(cst_token { token, warnings })
}

/// Native tokens alive, in test builds: what the bindings' leak checks read.
#[cfg(feature = "debug-panic")]
static LIVE_TOKENS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cfg(feature = "debug-panic")]
impl Drop for cst_token {
    fn drop(&mut self) {
        LIVE_TOKENS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Test hook for leak checks: how many native tokens are alive (a token shared through
/// cst_token_clone counts once, until its last reference is freed). Only in builds with the
/// `debug-panic` feature (tests), declared when CST_DEBUG_PANIC is defined; never in release
/// artefacts.
#[cfg(feature = "debug-panic")]
#[unsafe(no_mangle)]
pub extern "C" fn cst_debug_get_live_tokens() -> usize {
    LIVE_TOKENS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Borrows the token behind a handle.
///
/// # Safety
/// `p` must be NULL or a live handle from this library.
pub(crate) unsafe fn token<'a>(
    p: *const cst_token,
    what: &str,
) -> Result<&'a SessionToken, Failure> {
    // SAFETY: forwarded caller guarantee.
    unsafe { p.as_ref() }
        .map(|h| &h.token)
        .ok_or_else(|| Failure::null(what))
}

/// Checks an output-handle pointer before any work, so nothing leaks when it is NULL.
pub(crate) fn check_out(out: *mut *mut cst_token) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::null("out"))
    } else {
        Ok(())
    }
}

/// Parses a token (flags: 0 = strict, CST_FLAG_LENIENT = lenient) into a new handle *out.
/// Returns CST_OK, CST_ERR_MALFORMED, CST_ERR_INVALID_UTF8, CST_ERR_LIMIT_EXCEEDED,
/// CST_ERR_NULL_ARGUMENT or CST_ERR_INVALID_ARGUMENT (unknown flags). Thread-safe.
///
/// # Safety
/// `s` valid for `len` bytes (or NULL with len 0); `out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_parse(
    s: *const c_char,
    len: usize,
    flags: u32,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        check_flags(flags, PARSE_FLAGS)?;
        // SAFETY: forwarded caller guarantees.
        let bytes = unsafe { input(s, len, "token") }?;
        let parsed = SessionToken::parse_bytes(bytes, &parse_options(flags))?;
        let handle = handle_with_warnings(parsed.token, parsed.warnings);
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Releases a handle. NULL is ignored. Must be called once per handle, after every use.
///
/// # Safety
/// `token` must be NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_free(token: *mut cst_token) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_shared(token) }
    })
}

/// Returns another reference to the same immutable token (the same pointer; free each
/// reference once). NULL in, NULL out. Thread-safe.
///
/// # Safety
/// `token` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_clone(token: *const cst_token) -> *mut cst_token {
    guard_or(std::ptr::null_mut(), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { clone_shared(token) }
    })
}

/// Renders the header value (output protocol). Strictly valid input renders back byte for byte.
/// Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `token` a live handle; `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_to_string(
    token: *const cst_token,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(t, buf, cap, out_len) }
    })
}

/// Length in bytes of the rendered header value (without NUL) into *out.
///
/// # Safety
/// `token` a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_encoded_len(
    token: *const cst_token,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, t.encoded_len(), "out") }
    })
}

pub(crate) fn format_from(format: i32) -> Result<Format, Failure> {
    match format {
        CST_FORMAT_SIMPLE => Ok(Format::Simple),
        CST_FORMAT_VECTOR => Ok(Format::Vector),
        other => Err(Failure::invalid(format!("unknown format {other}"))),
    }
}

pub(crate) fn order_code(order: Order) -> i32 {
    match order {
        Order::Less => CST_ORDER_LESS,
        Order::Equal => CST_ORDER_EQUAL,
        Order::Greater => CST_ORDER_GREATER,
        Order::Concurrent => CST_ORDER_CONCURRENT,
    }
}

/// Converts every segment to CST_FORMAT_SIMPLE (lossy) or CST_FORMAT_VECTOR into a new handle.
///
/// # Safety
/// `token` a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_convert(
    token: *const cst_token,
    target_format: i32,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let converted = t.convert(format_from(target_format)?);
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(converted), "out") }
    })
}

/// Merges b into a (policy from flags: CST_FLAG_UNION_REGIONS, CST_FLAG_LEGACY_MAX_GLOBAL_LSN;
/// any other bit, CST_FLAG_LENIENT included, is CST_ERR_INVALID_ARGUMENT) into a new handle.
/// Returns CST_OK, CST_ERR_INCOMPATIBLE, CST_ERR_NULL_ARGUMENT or CST_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `a`, `b` live handles; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_merge(
    a: *const cst_token,
    b: *const cst_token,
    flags: u32,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        check_flags(flags, MERGE_FLAGS)?;
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe { (token(a, "a")?, token(b, "b")?) };
        let merged = a.merge_with(b, &merge_policy(flags))?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(merged), "out") }
    })
}

/// Merges b into a like cst_token_merge, but renders the result's header value into buf (output
/// protocol) instead of returning a handle: no handle to create and free per merge, for callers
/// that only send the result on (a binding's hot path). Nothing is written when buf is too small.
/// Returns CST_OK, CST_ERR_INCOMPATIBLE, CST_ERR_BUFFER_TOO_SMALL, CST_ERR_NULL_ARGUMENT or
/// CST_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `a`, `b` live handles; `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_merge_to_string(
    a: *const cst_token,
    b: *const cst_token,
    flags: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        check_flags(flags, MERGE_FLAGS)?;
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe { (token(a, "a")?, token(b, "b")?) };
        let merged = a.merge_with(b, &merge_policy(flags))?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_token_output(&merged, buf, cap, out_len) }
    })
}

/// How a relates to b: *order receives CST_ORDER_LESS, _EQUAL, _GREATER or _CONCURRENT.
///
/// # Safety
/// `a`, `b` live handles; `order` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_compare(
    a: *const cst_token,
    b: *const cst_token,
    order: *mut i32,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe { (token(a, "a")?, token(b, "b")?) };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(order, order_code(a.compare(b)), "order") }
    })
}

/// How `a` relates to `b` (*order: CST_ORDER_*), and why: one line per piece of progress one
/// lacks of the other ("A lacks range 0: global LSN 90 < 100 (10 behind)", "B lacks range 1:
/// absent (needs 1:-1#42)"), joined by '\n', written with the output protocol ("" when equal).
/// Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL (*order set), CST_ERR_NULL_ARGUMENT. Thread-safe.
///
/// # Safety
/// Handles live; `order` writable; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_compare_explain(
    a: *const cst_token,
    b: *const cst_token,
    order: *mut i32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        if order.is_null() {
            return Err(Failure::null("order"));
        }
        // SAFETY: forwarded caller guarantees.
        let (a, b) = unsafe { (token(a, "a")?, token(b, "b")?) };
        let c = a.compare_explained(b);
        let lines = c.lines();
        // SAFETY: checked non-NULL above.
        unsafe { *order = order_code(c.order) };
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&lines.join("\n"), buf, cap, out_len) }
    })
}

/// A hash consistent with semantic equality (CST_ORDER_EQUAL ⇒ same hash) into *out.
/// Stable within one library build only.
///
/// # Safety
/// `token` a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_hash(token: *const cst_token, out: *mut u64) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, h.finish(), "out") }
    })
}

/// The token to send for one range into a new handle: the exact segment, else the merge of
/// every present parent (`parents[i]` with length `parent_lens[i]`) relabelled with range_id.
/// Returns CST_ERR_NOT_FOUND when no segment applies, CST_ERR_INCOMPATIBLE when parents
/// conflict, CST_ERR_INVALID_UTF8, CST_ERR_NULL_ARGUMENT or CST_OK.
///
/// # Safety
/// `token` a live handle; spans valid as documented in the header; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_scope(
    token: *const cst_token,
    range_id: *const c_char,
    range_len: usize,
    parent_ids: *const *const c_char,
    parent_lens: *const usize,
    nparents: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        // SAFETY: forwarded caller guarantees.
        let range = unsafe { input_str(range_id, range_len, "range id") }?;
        // SAFETY: forwarded caller guarantees.
        let parents = unsafe { parents(parent_ids, parent_lens, nparents) }?;
        let scoped = t.scope(range, &parents)?.ok_or_else(not_found)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(scoped), "out") }
    })
}

pub(crate) fn not_found() -> Failure {
    Failure::new(Code::NotFound, "no segment applies to the range")
}

/// Number of segments (at least 1) into *out.
///
/// # Safety
/// `token` a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_segment_count(
    token: *const cst_token,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, t.len(), "out") }
    })
}

fn segment(t: &SessionToken, index: usize) -> Result<cosmos_session_token::Segment<'_>, Failure> {
    t.segments().get(index).ok_or_else(|| {
        Failure::invalid(format!(
            "segment index {index} past the end ({} segments)",
            t.len()
        ))
    })
}

/// Copies the range id of segment `index` (output protocol).
///
/// # Safety
/// `token` a live handle; `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_segment_range_id(
    token: *const cst_token,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let seg = segment(t, index)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(seg.range_id(), buf, cap, out_len) }
    })
}

/// Renders segment `index` as header text, e.g. `0:1#100#1=20` (output protocol).
///
/// # Safety
/// `token` a live handle; `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_segment_text(
    token: *const cst_token,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let seg = segment(t, index)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&seg.to_string(), buf, cap, out_len) }
    })
}

/// Fields of segment `index`: *format (CST_FORMAT_*), *version (0 for a simple value),
/// *global_lsn and *region_count. Returns CST_ERR_INVALID_ARGUMENT past the end.
///
/// # Safety
/// `token` a live handle; the four output pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_segment_info(
    token: *const cst_token,
    index: usize,
    format: *mut i32,
    version: *mut i64,
    global_lsn: *mut i64,
    region_count: *mut usize,
) -> i32 {
    guard(|| {
        if format.is_null() || version.is_null() || global_lsn.is_null() || region_count.is_null() {
            return Err(Failure::null("an output pointer"));
        }
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let v = segment(t, index)?.value();
        let f = match v.format() {
            Format::Simple => CST_FORMAT_SIMPLE,
            Format::Vector => CST_FORMAT_VECTOR,
        };
        // SAFETY: all checked non-NULL; validity is the caller's guarantee.
        unsafe {
            format.write(f);
            version.write(v.version().unwrap_or(0));
            global_lsn.write(v.global_lsn());
            region_count.write(v.regions().len());
        }
        Ok(())
    })
}

/// Region `region_index` of segment `index`: *region_id and *local_lsn (-1 = no progress).
///
/// # Safety
/// `token` a live handle; both output pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_segment_region(
    token: *const cst_token,
    index: usize,
    region_index: usize,
    region_id: *mut u32,
    local_lsn: *mut i64,
) -> i32 {
    guard(|| {
        if region_id.is_null() || local_lsn.is_null() {
            return Err(Failure::null("an output pointer"));
        }
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { self::token(token, "token") }?;
        let regions = segment(t, index)?.value().regions();
        let r = regions.get(region_index).ok_or_else(|| {
            Failure::invalid(format!(
                "region index {region_index} past the end ({} regions)",
                regions.len()
            ))
        })?;
        // SAFETY: checked non-NULL; validity is the caller's guarantee.
        unsafe {
            region_id.write(r.id);
            local_lsn.write(r.local_lsn);
        }
        Ok(())
    })
}

/// Borrows the warnings of the lenient parse behind a handle, and one of them by index.
///
/// # Safety
/// `p` must be NULL or a live handle.
unsafe fn warning<'a>(p: *const cst_token, index: usize) -> Result<&'a Warning, Failure> {
    // SAFETY: forwarded caller guarantee.
    let h = unsafe { borrow(p) }?;
    h.warnings.get(index).ok_or_else(|| {
        Failure::invalid(format!(
            "warning index {index} is past the end ({} warnings)",
            h.warnings.len()
        ))
    })
}

/// Number of warnings of the lenient parse (CST_FLAG_LENIENT) that made this handle into *out;
/// 0 for a strict parse and for handles made any other way.
///
/// # Safety
/// `token` a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_warning_count(
    token: *const cst_token,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantee.
        let h = unsafe { borrow(token) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, h.warnings.len(), "out") }
    })
}

/// Warning `index` of a lenient parse: its stable code (e.g. "trimmed_whitespace", the codes of
/// testdata/README.md) into code_buf and its message into message_buf (output protocol for each;
/// either buffer may be NULL with cap 0 to skip it, and its length still goes to its *len), the
/// 0-based segment (-1 when none) and the byte offset. CST_ERR_INVALID_ARGUMENT past the end.
///
/// # Safety
/// `token` a live handle; buffers valid as documented; the other pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_get_warning(
    token: *const cst_token,
    index: usize,
    code_buf: *mut c_char,
    code_cap: usize,
    code_len: *mut usize,
    message_buf: *mut c_char,
    message_cap: usize,
    message_len: *mut usize,
    out_segment: *mut i64,
    out_offset: *mut i64,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let w = unsafe { warning(token, index) }?;
        let to_i64 = |v: Option<usize>| v.and_then(|v| i64::try_from(v).ok()).unwrap_or(-1);
        // SAFETY: forwarded caller guarantees.
        unsafe {
            put(out_segment, to_i64(w.segment()), "out_segment")?;
            put(out_offset, to_i64(Some(w.offset())), "out_offset")?;
        }
        let code = w.kind().code();
        let message = w.to_string();
        // Fill both buffers before reporting a too-small one, so one retry with both sizes works.
        // SAFETY: forwarded caller guarantees.
        let first = unsafe { write_output(code, code_buf, code_cap, code_len) };
        // SAFETY: forwarded caller guarantees.
        let second = unsafe { write_output(&message, message_buf, message_cap, message_len) };
        first.and(second)
    })
}
