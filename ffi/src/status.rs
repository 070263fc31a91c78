//! Status codes, flags and constants, versions, and the thread-local last error.

use std::cell::RefCell;
use std::ffi::c_char;

use cosmos_session_token::ERROR_CODES;

use crate::boundary::{Failure, write_output};

/// Success.
pub const CST_OK: i32 = 0;
/// A required pointer argument was NULL (or an input pointer was NULL with a non-zero length).
pub const CST_ERR_NULL_ARGUMENT: i32 = 1;
/// An input string was not valid UTF-8.
pub const CST_ERR_INVALID_UTF8: i32 = 2;
/// A token did not parse; cst_last_error_message() says where and why.
pub const CST_ERR_MALFORMED: i32 = 3;
/// Tokens could not be merged: same version, different region sets, region mismatch = error.
pub const CST_ERR_INCOMPATIBLE: i32 = 4;
/// The output buffer is too small; *out_len holds the length needed (without the NUL).
pub const CST_ERR_BUFFER_TOO_SMALL: i32 = 5;
/// The operation had no result (e.g. scope: no segment applies to the range).
pub const CST_ERR_NOT_FOUND: i32 = 6;
/// An argument was out of range (unknown flag bits, unknown format, index past the end).
pub const CST_ERR_INVALID_ARGUMENT: i32 = 7;
/// An input broke a size limit (1 MiB, 65,536 segments, 256 regions, 256-byte range ids).
pub const CST_ERR_LIMIT_EXCEEDED: i32 = 8;
/// An internal error (a Rust panic) was caught; the library remains usable.
pub const CST_ERR_PANIC: i32 = 9;
/// A sealed token was rejected: bad signature (tampered, other key, other context), unknown
/// version or malformed envelope.
pub const CST_ERR_REJECTED: i32 = 10;
/// Session state: the caller's lock was taken over (it had expired); nothing was written.
pub const CST_ERR_LOCK_LOST: i32 = 11;
/// Session state: the store failed (unreachable, throttled past the retries, refused the request,
/// or returned undecodable content); cst_last_error_kind() says which.
pub const CST_ERR_STORE: i32 = 12;

/// Flag: parse leniently, reporting each repair as a warning (the warning kinds are listed by
/// cst_token_warning).
pub const CST_FLAG_LENIENT: u32 = 1;
/// Flag: merging values of the same version with different regions takes the union.
pub const CST_FLAG_UNION_REGIONS: u32 = 2;
/// Flag: on a version change keep the max global LSN (turns false-progress protection off).
pub const CST_FLAG_LEGACY_MAX_GLOBAL_LSN: u32 = 4;

/// Format: simple value `globalLsn` (SDK v1).
pub const CST_FORMAT_SIMPLE: i32 = 0;
/// Format: vector value `version#globalLsn[#regionId=localLsn]*` (SDK v2+).
pub const CST_FORMAT_VECTOR: i32 = 1;

/// Order: the first token is strictly older.
pub const CST_ORDER_LESS: i32 = 0;
/// Order: the tokens carry the same progress.
pub const CST_ORDER_EQUAL: i32 = 1;
/// Order: the first token is strictly newer.
pub const CST_ORDER_GREATER: i32 = 2;
/// Order: each token is ahead somewhere (incomparable).
pub const CST_ORDER_CONCURRENT: i32 = 3;

/// ABI version of this header. Bumped on every incompatible change of the C ABI.
pub const CST_ABI_VERSION: u32 = 3;
/// Library version, major part.
pub const CST_VERSION_MAJOR: u32 = 0;
/// Library version, minor part.
pub const CST_VERSION_MINOR: u32 = 1;
/// Library version, patch part.
pub const CST_VERSION_PATCH: u32 = 0;

/// The library's version as a static NUL-terminated string, e.g. "cosmos-session-token 0.1.0".
/// Never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_version() -> *const c_char {
    concat!("cosmos-session-token ", env!("CARGO_PKG_VERSION"), "\0")
        .as_ptr()
        .cast()
}

/// The ABI version of the loaded library; compare it with CST_ABI_VERSION. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_abi_version() -> u32 {
    CST_ABI_VERSION
}

/// The name of a status code (`CST_OK`, `CST_ERR_MALFORMED`: the constant's own name), or
/// "CST_ERR_UNKNOWN" for a number that is not one.
/// A static NUL-terminated string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_status_name(status: i32) -> *const c_char {
    let name: &'static str = match status {
        CST_OK => "CST_OK\0",
        CST_ERR_NULL_ARGUMENT => "CST_ERR_NULL_ARGUMENT\0",
        CST_ERR_INVALID_UTF8 => "CST_ERR_INVALID_UTF8\0",
        CST_ERR_MALFORMED => "CST_ERR_MALFORMED\0",
        CST_ERR_INCOMPATIBLE => "CST_ERR_INCOMPATIBLE\0",
        CST_ERR_BUFFER_TOO_SMALL => "CST_ERR_BUFFER_TOO_SMALL\0",
        CST_ERR_NOT_FOUND => "CST_ERR_NOT_FOUND\0",
        CST_ERR_INVALID_ARGUMENT => "CST_ERR_INVALID_ARGUMENT\0",
        CST_ERR_LIMIT_EXCEEDED => "CST_ERR_LIMIT_EXCEEDED\0",
        CST_ERR_PANIC => "CST_ERR_PANIC\0",
        CST_ERR_REJECTED => "CST_ERR_REJECTED\0",
        CST_ERR_LOCK_LOST => "CST_ERR_LOCK_LOST\0",
        CST_ERR_STORE => "CST_ERR_STORE\0",
        _ => "CST_ERR_UNKNOWN\0",
    };
    name.as_ptr().cast()
}

/// Number of rows in the error table (every stable code any function can report).
#[unsafe(no_mangle)]
pub extern "C" fn cst_error_code_count() -> usize {
    ERROR_CODES.len()
}

/// Row `index` of the error table: the stable code into buf (output protocol) and the status its
/// category maps to into *out_status. CST_ERR_INVALID_ARGUMENT past the end. Bindings use it to
/// check their own tables against the library's.
///
/// # Safety
/// buf valid for cap bytes (or NULL with cap 0); out_len and out_status writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_error_code_at(
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_status: *mut i32,
) -> i32 {
    crate::boundary::guard(|| {
        let row = ERROR_CODES.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "error table index {index} is past the end ({} rows)",
                ERROR_CODES.len()
            ))
        })?;
        // SAFETY: forwarded caller guarantees.
        unsafe { crate::boundary::put(out_status, row.category.status(), "out_status")? };
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(row.code, buf, cap, out_len) }
    })
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
fn with_last_error<R>(f: impl FnOnce(Option<&Failure>) -> R) -> R {
    let last = LAST_ERROR
        .try_with(|slot| slot.try_borrow().ok().and_then(|last| last.clone()))
        .ok()
        .flatten();
    f(last.as_ref())
}

/// The panic boundary of the last-error readers: they must not record a failure of their own
/// (that would replace the error they report), so a caught panic only yields CST_ERR_PANIC.
fn quiet_guard(body: impl FnOnce() -> i32) -> i32 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(CST_ERR_PANIC)
}

/// Copies the message of this thread's last failure into buf (output protocol of the header).
/// The message names what was wrong and where, e.g.
/// `segment 1 (range "17"): global LSN "x1" is not a decimal number (byte 11)`.
/// Writes "" when no call on this thread has failed. Never changes the last error itself.
/// Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// buf must be valid for cap bytes (or NULL with cap 0); out_len must be valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_last_error_message(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    quiet_guard(|| {
        let message = with_last_error(|e| e.map(|e| e.message.clone()).unwrap_or_default());
        // SAFETY: forwarded caller guarantees.
        let result = unsafe { write_output(&message, buf, cap, out_len) };
        result.map_or_else(|f| f.status, |()| CST_OK)
    })
}

/// Copies the stable code of this thread's last failure into buf: a parse error kind such as
/// "not_a_number" or "overflow" (the codes of testdata/README.md), "region_mismatch", or one of
/// "null_argument", "invalid_utf8", "buffer_too_small", "not_found", "invalid_argument", "panic".
/// Writes "" when nothing failed. Same protocol and statuses as cst_last_error_message().
///
/// # Safety
/// buf must be valid for cap bytes (or NULL with cap 0); out_len must be valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_last_error_kind(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    quiet_guard(|| {
        let kind = with_last_error(|e| e.map_or("", |e| e.kind.name()));
        // SAFETY: forwarded caller guarantees.
        let result = unsafe { write_output(kind, buf, cap, out_len) };
        result.map_or_else(|f| f.status, |()| CST_OK)
    })
}

/// Where this thread's last failure happened in its input: *out_segment receives the 0-based
/// index of the ','-separated segment and *out_offset the byte offset, each -1 when unknown.
/// Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// Both pointers must be valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_last_error_position(
    out_segment: *mut i64,
    out_offset: *mut i64,
) -> i32 {
    quiet_guard(|| {
        if out_segment.is_null() || out_offset.is_null() {
            return CST_ERR_NULL_ARGUMENT;
        }
        let (segment, offset) = with_last_error(|e| {
            let to_i64 = |v: Option<usize>| v.and_then(|v| i64::try_from(v).ok()).unwrap_or(-1);
            e.map_or((-1, -1), |e| (to_i64(e.segment), to_i64(e.offset)))
        });
        // SAFETY: checked non-NULL; validity is the caller's guarantee.
        unsafe {
            *out_segment = segment;
            *out_offset = offset;
        }
        CST_OK
    })
}

/// Test hook for the panic boundary: panics inside the library and returns CST_ERR_PANIC,
/// with last error kind "panic". Only in builds with the `debug-panic` feature (tests), declared
/// when CST_DEBUG_PANIC is defined; never in release artefacts.
#[cfg(feature = "debug-panic")]
#[unsafe(no_mangle)]
pub extern "C" fn cst_debug_panic() -> i32 {
    crate::boundary::guard(|| -> Result<(), Failure> {
        #[allow(clippy::panic)]
        {
            panic!("cst_debug_panic was called")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_core_categories() {
        use cosmos_session_token::Category;
        let ours = [
            CST_ERR_NULL_ARGUMENT,
            CST_ERR_INVALID_UTF8,
            CST_ERR_MALFORMED,
            CST_ERR_INCOMPATIBLE,
            CST_ERR_BUFFER_TOO_SMALL,
            CST_ERR_NOT_FOUND,
            CST_ERR_INVALID_ARGUMENT,
            CST_ERR_LIMIT_EXCEEDED,
            CST_ERR_PANIC,
            CST_ERR_REJECTED,
            CST_ERR_LOCK_LOST,
            CST_ERR_STORE,
        ];
        let core: Vec<i32> = Category::ALL.iter().map(|c| c.status()).collect();
        assert_eq!(ours.to_vec(), core);
        for status in ours {
            // Every status has a name, so C callers can print it.
            // SAFETY: cst_status_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(cst_status_name(status)) };
            assert_ne!(name.to_bytes(), b"CST_ERR_UNKNOWN");
        }
    }

    #[test]
    fn header_version_matches_cargo() {
        assert_eq!(
            CST_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            CST_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            CST_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
    }
}
