//! The last-error readers (`cst_last_error_*`) and the error table (`cst_error_code_*`). The
//! boundary records a failed call's details for its thread ([`crate::boundary::guard`]); these
//! read them without ever recording one of their own.

use std::ffi::c_char;

use cosmos_session_token::ERROR_CODES;

use crate::boundary::{Failure, with_last_error, write_output};
use crate::status::*;

/// Number of rows in the error table (every stable code any function can report).
#[unsafe(no_mangle)]
pub extern "C" fn cst_error_table_get_count() -> usize {
    ERROR_CODES.len()
}

/// Row `index` of the error table: the stable code into buf (output protocol) and the status its
/// category maps to into *out_status. CST_ERR_INVALID_ARGUMENT past the end. Bindings use it to
/// check their own tables against the library's.
///
/// # Safety
/// buf valid for cap bytes (or NULL with cap 0); out_len and out_status writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_error_table_get_row(
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
pub unsafe extern "C" fn cst_last_error_get_message(
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
/// Writes "" when nothing failed. Same protocol and statuses as cst_last_error_get_message().
///
/// # Safety
/// buf must be valid for cap bytes (or NULL with cap 0); out_len must be valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_last_error_get_code(
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
pub unsafe extern "C" fn cst_last_error_get_position(
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
            // SAFETY: cst_status_get_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(cst_status_get_name(status)) };
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
