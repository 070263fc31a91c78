//! Reads (cst_state_get, cst_state_get_exclusive) and their answer, a `cst_state_result`
//! handle: the content bytes with the lock information (`cst_state_entry`).

use cosmos_session_state::Content;
use cosmos_session_token::Code;
use std::ffi::c_char;

use crate::boundary::{Failure, guard, guard_or, put};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::state::{cst_state, engine_and_session};

/// The answer of a read (cst_state_get, cst_state_get_exclusive): immutable; free it with
/// cst_state_result_free.
pub struct cst_state_result {
    entry: cst_state_entry,
    data: Vec<u8>,
}

/// What a read found. `found`: a live session's content is in the result (`data_len` bytes);
/// `locked`: another request holds a live lock (`lock_id`, `lock_age` are the holder's);
/// otherwise `lock_id` is the caller's new lock (cst_state_get_exclusive) or 0 (cst_state_get).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct cst_state_entry {
    /// A live session's content is in the result.
    pub found: bool,
    /// The session was created uninitialized and not written yet.
    pub uninitialized: bool,
    /// Another request holds a live lock; nothing was acquired.
    pub locked: bool,
    /// The caller's new lock id, or the holder's when `locked` (0: none).
    pub lock_id: u64,
    /// The holder's true lock age in seconds when `locked`, else 0.
    pub lock_age: f64,
    /// Length of the content in bytes.
    pub data_len: usize,
}

impl Handle for cst_state_result {
    const NAME: &'static str = "result";
}
impl Boxed for cst_state_result {}

/// A new result: the content when there is one, with the lock information.
fn result_of(
    content: Option<Content>,
    locked: bool,
    lock_id: u64,
    lock_age: f64,
) -> *mut cst_state_result {
    let (found, uninitialized, data) = match content {
        Some(c) => (true, c.uninitialized, c.data),
        None => (false, false, Vec::new()),
    };
    new_boxed(cst_state_result {
        entry: cst_state_entry {
            found,
            uninitialized,
            locked,
            lock_id,
            lock_age,
            data_len: data.len(),
        },
        data,
    })
}

/// Read-only access: the committed content of session `sid` into a new result *out, without
/// taking or waiting for the lock. CST_ERR_NOT_FOUND when there is no live session. One round
/// trip (plus a conditional renewal when due). Store failures: CST_ERR_STORE.
///
/// # Safety
/// `state` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_get(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    out: *mut *mut cst_state_result,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let content = engine
            .get(sid)?
            .ok_or_else(|| Failure::new(Code::NotFound, "no live session with this id"))?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, result_of(Some(content), false, 0, 0.0), "out") }
    })
}

/// Exclusive access: acquires the lock of session `sid` and returns its content in a new result
/// *out (entry.found false: no live session — the caller may create it), or reports that another
/// request holds a live lock (entry.locked, with the holder's id and true age). Always CST_OK on
/// an answer.
///
/// # Safety
/// `state` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_get_exclusive(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    out: *mut *mut cst_state_result,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let ex = engine.get_exclusive(sid)?;
        let result = result_of(ex.content, ex.locked, ex.lock_id, ex.lock_age);
        // SAFETY: checked non-NULL above.
        unsafe { put(out, result, "out") }
    })
}

/// The entry of a result into *out.
///
/// # Safety
/// `result` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_result_get_entry(
    result: *const cst_state_result,
    out: *mut cst_state_entry,
) -> i32 {
    guard(|| {
        // SAFETY: live results point to a Box-owned cst_state_result.
        let r = unsafe { borrow(result) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, r.entry, "out") }
    })
}

/// The content bytes of a result: *data points into the result (valid until
/// cst_state_result_free; not NUL-terminated), *len is entry.data_len.
///
/// # Safety
/// `result` live; `data` and `len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_result_get_data(
    result: *const cst_state_result,
    data: *mut *const u8,
    len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: live results point to a Box-owned cst_state_result.
        let r = unsafe { borrow(result) }?;
        if data.is_null() || len.is_null() {
            return Err(Failure::null("data or len"));
        }
        // SAFETY: checked non-NULL; validity is the caller's guarantee.
        unsafe {
            *data = r.data.as_ptr();
            *len = r.data.len();
        }
        Ok(())
    })
}

/// Releases a result. NULL is ignored.
///
/// # Safety
/// `result` NULL or live, not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_result_free(result: *mut cst_state_result) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(result) }
    })
}
