//! `cst_carrier`: the core's session carrier (read → report → scope → seal → write back) as a
//! handle, so cookie and message adapters in every language share one policy.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

use cosmos_session_token::{DEFAULT_COOKIE_NAME, SessionCarrier};

use crate::boundary::{
    Failure, bytes_array, guard, guard_or, input_str, parents, put, write_output,
};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::sealing::{MAX_SEAL_KEYS, seal_budget};
use crate::token::{check_out, cst_token, into_handle, not_found, token};
use cosmos_session_token::Code;

/// One request's carried session token (see the README's "Sealed tokens"). Internally
/// synchronized: any thread may call any function but cst_carrier_free, which must be last.
pub struct cst_carrier {
    inner: Mutex<SessionCarrier>,
}

impl Handle for cst_carrier {
    const NAME: &'static str = "carrier";
}
impl Boxed for cst_carrier {}

/// Locks the carrier behind a handle. A poisoned lock (a panic while held) is still usable: every
/// operation leaves the carrier in a valid state.
///
/// # Safety
/// `p` must be NULL or a live handle.
unsafe fn carrier<'a>(p: *const cst_carrier) -> Result<MutexGuard<'a, SessionCarrier>, Failure> {
    // SAFETY: forwarded caller guarantee.
    let c = unsafe { borrow(p) }?;
    Ok(c.inner.lock().unwrap_or_else(|e| e.into_inner()))
}

fn no_token() -> Failure {
    Failure::new(Code::NotFound, "the carrier holds no token")
}

/// Creates a carrier into *out: `nkeys` keys (`keys[i]` of `key_lens[i]` bytes, each at least 16;
/// the first seals, all are accepted), the `context` sealed values are bound to, and the budget
/// of the sealed text (`max_bytes` = 0: 4,000) in both directions. Returns CST_OK,
/// CST_ERR_INVALID_ARGUMENT (no or weak keys), CST_ERR_LIMIT_EXCEEDED, CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// Arrays and spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_new(
    keys: *const *const u8,
    key_lens: *const usize,
    nkeys: usize,
    context: *const c_char,
    context_len: usize,
    max_bytes: usize,
    out: *mut *mut cst_carrier,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let keys = unsafe { bytes_array(keys.cast(), key_lens, nkeys, "keys", MAX_SEAL_KEYS) }?;
        // SAFETY: forwarded caller guarantees.
        let context = unsafe { input_str(context, context_len, "context") }?;
        let c = SessionCarrier::new(&keys, context, seal_budget(max_bytes))?;
        let handle = new_boxed(cst_carrier {
            inner: Mutex::new(c),
        });
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Releases a carrier. NULL is ignored.
///
/// # Safety
/// `carrier` must be NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_free(carrier: *mut cst_carrier) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(carrier) }
    })
}

/// Reads the request's incoming sealed value (NULL with len 0, or "": no cookie). *accepted tells
/// whether a token was accepted; anything that does not unseal is simply no token (never an
/// error). Resets "changed". Returns CST_OK or CST_ERR_NULL_ARGUMENT / CST_ERR_INVALID_UTF8.
///
/// # Safety
/// `carrier` live; span valid as documented; `accepted` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_read(
    carrier: *const cst_carrier,
    sealed: *const c_char,
    len: usize,
    accepted: *mut bool,
) -> i32 {
    guard(|| {
        if accepted.is_null() {
            return Err(Failure::null("accepted"));
        }
        // SAFETY: forwarded caller guarantees.
        let mut c = unsafe { self::carrier(carrier) }?;
        // SAFETY: forwarded caller guarantees.
        let sealed = unsafe { input_str(sealed, len, "sealed") }?;
        let ok = c.read(Some(sealed));
        // SAFETY: checked non-NULL above.
        unsafe { put(accepted, ok, "accepted") }
    })
}

/// Why the last cst_carrier_read accepted or refused its value, into *out (name it with
/// cst_cookie_verdict_get_name; safe to log: it says nothing of the value).
///
/// # Safety
/// `carrier` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_get_verdict(
    carrier: *const cst_carrier,
    out: *mut crate::flow_cookies::cst_cookie_verdict,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::carrier(carrier) }?;
        let verdict = c.verdict().into();
        // SAFETY: forwarded caller guarantee.
        unsafe { put(out, verdict, "out") }
    })
}

/// Reports a response's x-ms-session-token value (parsed strictly, merged with the union
/// policy). An empty value is no token: *reported = false and nothing changes. Returns CST_OK,
/// CST_ERR_MALFORMED, CST_ERR_NULL_ARGUMENT, ...
///
/// # Safety
/// `carrier` live; span valid as documented; `reported` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_report(
    carrier: *const cst_carrier,
    header_value: *const c_char,
    len: usize,
    reported: *mut bool,
) -> i32 {
    guard(|| {
        if reported.is_null() {
            return Err(Failure::null("reported"));
        }
        // SAFETY: forwarded caller guarantees.
        let mut c = unsafe { self::carrier(carrier) }?;
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(header_value, len, "header value") }?;
        let did = c.report_header(text)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(reported, did, "reported") }
    })
}

/// Reports a parsed token (merged with the union policy). Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `carrier` and `written` live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_report_token(
    carrier: *const cst_carrier,
    written: *const cst_token,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { token(written, "written") }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { self::carrier(carrier) }?.report(t);
        Ok(())
    })
}

/// The carried token into a new handle *out; CST_ERR_NOT_FOUND when there is none.
///
/// # Safety
/// `carrier` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_get_token(
    carrier: *const cst_carrier,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::carrier(carrier) }?;
        let t = c.token().cloned().ok_or_else(no_token)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(t), "out") }
    })
}

/// What to send for one partition key range (the carried token scoped, see cst_token_scope) into
/// a new handle *out; CST_ERR_NOT_FOUND when nothing applies (send no token).
///
/// # Safety
/// `carrier` live; spans and arrays valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_scope(
    carrier: *const cst_carrier,
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
        let (range, parents) = unsafe {
            (
                input_str(range_id, range_len, "range id")?,
                parents(parent_ids, parent_lens, nparents)?,
            )
        };
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::carrier(carrier) }?;
        let t = c.for_range(range, &parents)?.ok_or_else(not_found)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(t), "out") }
    })
}

/// *changed = whether a report changed the token since the last read.
///
/// # Safety
/// `carrier` live; `changed` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_get_changed(
    carrier: *const cst_carrier,
    changed: *mut bool,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::carrier(carrier) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { put(changed, c.changed(), "changed") }
    })
}

/// The sealed value to write back (output protocol), sealed with the first key; CST_ERR_NOT_FOUND
/// when there is no token, CST_ERR_LIMIT_EXCEEDED over the budget (scope the token).
///
/// # Safety
/// `carrier` live; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_seal(
    carrier: *const cst_carrier,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let sealed = unsafe { self::carrier(carrier) }?.sealed()?;
        let sealed = sealed.ok_or_else(no_token)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&sealed, buf, cap, out_len) }
    })
}

/// The default cookie name of a carried token ("cosmos_token"; "cosmos_session" before, which adapters still read for one release), output protocol.
///
/// # Safety
/// Output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_carrier_get_cookie_name(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { write_output(DEFAULT_COOKIE_NAME, buf, cap, out_len) })
}
