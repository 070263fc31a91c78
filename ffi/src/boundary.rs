//! The boundary: panic catching, failures with their details, and the input/output protocols.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cosmos_session_token::{
    Code, ContainerError, Error, FeedRangeError, MergeError, MergePolicy, ParseError, ParseOptions,
    RegionMismatch, SealError,
};

use crate::status::*;

/// A failed call: its status and the details later read through cst_last_error_*.
#[derive(Clone)]
pub(crate) struct Failure {
    pub status: i32,
    pub kind: Code,
    pub message: String,
    pub segment: Option<usize>,
    pub offset: Option<usize>,
}

impl Failure {
    /// A failure with a code of the core's error table; the status is the code's category.
    pub fn new(kind: Code, message: impl Into<String>) -> Self {
        Failure {
            status: kind.category().status(),
            kind,
            message: message.into(),
            segment: None,
            offset: None,
        }
    }

    pub fn null(what: &str) -> Self {
        Failure::new(Code::NullArgument, format!("{what} is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(Code::InvalidArgument, message)
    }
}

/// Every core error becomes its table code, its category's status and its message.
impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (segment, offset) = match &e {
            Error::Parse(p) => (p.segment(), Some(p.offset())),
            _ => (None, None),
        };
        Failure {
            status: e.category().status(),
            kind: e.code(),
            message: e.to_string(),
            segment,
            offset,
        }
    }
}

macro_rules! failure_from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Error::from(e).into()
            }
        }
    )*};
}
failure_from_core!(
    ParseError,
    MergeError,
    ContainerError,
    FeedRangeError,
    SealError
);

/// Session-state errors: their table code and its category's status.
#[cfg(feature = "state")]
impl From<cosmos_session_state::StateError> for Failure {
    fn from(e: cosmos_session_state::StateError) -> Self {
        Failure {
            status: e.category().status(),
            kind: e.code(),
            message: e.to_string(),
            segment: None,
            offset: None,
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("internal error in native library (panic: {detail})")
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// Records this thread's last failure. During thread teardown the slot may already be gone
/// (`try_with` fails instead of panicking): the failure is then simply not recorded.
pub(crate) fn set_last_error(failure: Failure) {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(failure);
        }
    });
}

/// Reads this thread's last failure; a slot already torn down (or busy) reads as "none".
pub(crate) fn with_last_error<R>(f: impl FnOnce(Option<&Failure>) -> R) -> R {
    let last = LAST_ERROR
        .try_with(|slot| slot.try_borrow().ok().and_then(|last| last.clone()))
        .ok()
        .flatten();
    f(last.as_ref())
}

/// Runs an export body: Ok → CST_OK; a failure or a caught panic → its status, recorded as
/// this thread's last error.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return CST_OK,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(Code::Panic, panic_message(payload.as_ref())),
    };
    let status = failure.status;
    set_last_error(failure);
    status
}

/// Like [`guard`] for functions without a status: a caught panic yields `default`.
pub(crate) fn guard_or<T>(default: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        set_last_error(Failure::new(Code::Panic, panic_message(payload.as_ref())));
        default
    })
}

/// Borrows an input span. NULL is accepted only with length 0.
///
/// # Safety
/// `ptr` must be valid for reads of `len` bytes for the duration of the call.
pub(crate) unsafe fn input<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(what))
        };
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "{what}: length {len} is impossible"
        )));
    }
    // SAFETY: non-NULL, length bounded, validity guaranteed by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Borrows an input span that must be UTF-8 text (range ids).
///
/// # Safety
/// As [`input`].
pub(crate) unsafe fn input_str<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded.
    let bytes = unsafe { input(ptr, len, what) }?;
    utf8(bytes, what)
}

/// Checks that an input span is UTF-8 text.
fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| {
        let mut f = Failure::new(
            Code::InvalidUtf8,
            format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()),
        );
        f.offset = Some(e.valid_up_to());
        f
    })
}

/// The output protocol up to the write: checks the pointers, reports `len` (the length to make
/// room for, without the NUL) in `*out_len`, and returns the `len + 1` bytes to fill, or
/// `buffer_too_small` (nothing written). A caller that makes room for an upper bound reports the
/// exact length after writing.
///
/// # Safety
/// `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` valid for a write.
unsafe fn output_space<'a>(
    len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<&'a mut [u8], Failure> {
    if out_len.is_null() {
        return Err(Failure::null("out_len"));
    }
    if buf.is_null() && cap != 0 {
        return Err(Failure::null("buf (with cap > 0)"));
    }
    // SAFETY: checked non-NULL; validity is the caller's guarantee.
    unsafe { *out_len = len };
    if cap <= len {
        return Err(Failure::new(
            Code::BufferTooSmall,
            format!("output needs {len} bytes plus a NUL; the buffer has {cap}"),
        ));
    }
    // SAFETY: buf is non-NULL (cap > len) and valid for cap >= len + 1 bytes, caller-owned. Only
    // the bytes written are borrowed: `cap` itself may be any value (SIZE_MAX included).
    Ok(unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len + 1) })
}

/// Writes `s` + NUL into `buf` per the output protocol.
///
/// # Safety
/// `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` valid for a write; `buf` does not
/// overlap `s`.
pub(crate) unsafe fn write_output(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // SAFETY: forwarded caller guarantees.
    let out = unsafe { output_space(s.len(), buf, cap, out_len) }?;
    out[..s.len()].copy_from_slice(s.as_bytes());
    out[s.len()] = 0;
    Ok(())
}

/// Writes a token's header text and a NUL into a caller's buffer, like [`write_output`], but
/// rendered in place: no intermediate `String`. Nothing is written when the buffer is too small.
///
/// # Safety
/// As for [`write_output`]: `buf` is NULL with `cap == 0`, or valid for `cap` bytes.
pub(crate) unsafe fn write_token_output(
    token: &cosmos_session_token::SessionToken,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    // A buffer that holds the text's cheap upper bound is written straight away (no measuring
    // pass: the usual case); otherwise the exact length decides first, so that a buffer that is
    // too small is never written to.
    let max = token.max_encoded_len();
    let len = if cap > max { max } else { token.encoded_len() };
    // SAFETY: forwarded caller guarantees.
    let out = unsafe { output_space(len, buf, cap, out_len) }?;
    match token.write_header_value(&mut out[..len]) {
        Ok(written) => {
            out[written] = 0;
            // SAFETY: `output_space` checked `out_len` non-NULL; validity is the caller's.
            unsafe { *out_len = written };
            Ok(())
        }
        // Cannot happen (the buffer holds at least `encoded_len` bytes): an internal error,
        // reported in the internal-error category like a caught panic, never assumed away.
        Err(needed) => Err(Failure::new(
            Code::Panic,
            format!("internal error: rendering needed {needed} bytes, measured {len}"),
        )),
    }
}

/// Flags that apply to parsing functions.
pub(crate) const PARSE_FLAGS: u32 = CST_FLAG_LENIENT;
/// Flags that apply to merging already-parsed handles.
pub(crate) const MERGE_FLAGS: u32 = CST_FLAG_UNION_REGIONS | CST_FLAG_LEGACY_MAX_GLOBAL_LSN;
/// Flags that apply to one-shot merges of text (parse, then merge).
pub(crate) const TEXT_MERGE_FLAGS: u32 = PARSE_FLAGS | MERGE_FLAGS;

/// Checks that `flags` only uses bits that apply to this function (`allowed`): an unknown bit, or
/// a known one that does not apply (CST_FLAG_LENIENT on a handle merge), is an error.
pub(crate) fn check_flags(flags: u32, allowed: u32) -> Result<(), Failure> {
    let known = CST_FLAG_LENIENT | CST_FLAG_UNION_REGIONS | CST_FLAG_LEGACY_MAX_GLOBAL_LSN;
    if flags & !known != 0 {
        return Err(Failure::invalid(format!(
            "unknown flag bits 0x{:x}",
            flags & !known
        )));
    }
    if flags & !allowed != 0 {
        return Err(Failure::invalid(format!(
            "flag bits 0x{:x} do not apply to this function",
            flags & !allowed
        )));
    }
    Ok(())
}

pub(crate) fn parse_options(flags: u32) -> ParseOptions {
    if flags & CST_FLAG_LENIENT != 0 {
        ParseOptions::LENIENT
    } else {
        ParseOptions::STRICT
    }
}

pub(crate) fn merge_policy(flags: u32) -> MergePolicy {
    MergePolicy {
        region_mismatch: if flags & CST_FLAG_UNION_REGIONS != 0 {
            RegionMismatch::Union
        } else {
            RegionMismatch::Error
        },
        false_progress_protection: flags & CST_FLAG_LEGACY_MAX_GLOBAL_LSN == 0,
    }
}

/// Writes through an output pointer after checking it.
///
/// # Safety
/// `out` must be NULL or valid for a write.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: checked non-NULL; validity is the caller's guarantee.
    unsafe { out.write(value) };
    Ok(())
}

/// Reads an array of `count` byte spans given as parallel pointer and length arrays; more than
/// `max` is a limit error.
///
/// # Safety
/// When `count > 0`, `ptrs` and `lens` must be valid for `count` elements, each span as [`input`].
pub(crate) unsafe fn bytes_array<'a>(
    ptrs: *const *const c_char,
    lens: *const usize,
    count: usize,
    what: &str,
    max: usize,
) -> Result<Vec<&'a [u8]>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if ptrs.is_null() || lens.is_null() {
        return Err(Failure::null(&format!("{what} arrays (with a count > 0)")));
    }
    if count > max {
        return Err(Failure::new(
            Code::TooManyItems,
            format!("{count} {what}; at most {max}"),
        ));
    }
    (0..count)
        .map(|i| {
            // SAFETY: i < count; element validity is the caller's guarantee.
            let (p, l) = unsafe { (*ptrs.add(i), *lens.add(i)) };
            // SAFETY: forwarded.
            unsafe { input(p, l, &format!("{what}[{i}]")) }
        })
        .collect()
}

/// Like [`bytes_array`], for UTF-8 text.
///
/// # Safety
/// As [`bytes_array`].
pub(crate) unsafe fn str_array<'a>(
    ptrs: *const *const c_char,
    lens: *const usize,
    count: usize,
    what: &str,
    max: usize,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: forwarded.
    let spans = unsafe { bytes_array(ptrs, lens, count, what, max) }?;
    spans
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| utf8(bytes, &format!("{what}[{i}]")))
        .collect()
}

/// Reads the `parents` array of the scope and resolve functions.
///
/// # Safety
/// As [`str_array`].
pub(crate) unsafe fn parents<'a>(
    ptrs: *const *const c_char,
    lens: *const usize,
    count: usize,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: forwarded.
    unsafe {
        str_array(
            ptrs,
            lens,
            count,
            "parent range ids",
            cosmos_session_token::MAX_SCOPE_PARENTS,
        )
    }
}
