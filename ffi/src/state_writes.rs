//! Writes under a lock: cst_state_set_and_release, cst_state_release,
//! cst_state_create_uninitialized, cst_state_remove, cst_state_reset_timeout.

use std::ffi::c_char;

use crate::boundary::{Failure, guard, input, put};
use crate::state::{cst_state, engine_and_session};

/// Seconds as the engine takes them: > 0 a value, <= 0 (or NaN) the default.
fn timeout_arg(seconds: f64) -> Option<f64> {
    (seconds > 0.0).then_some(seconds)
}

/// Writes `data` to session `sid` and releases lock `lock_id`, as one fenced operation: if the
/// lock was taken over, CST_ERR_LOCK_LOST and nothing is written. `new_item`: the caller created
/// the session (without a matching lock it is created; an existing live one is
/// CST_ERR_INCOMPATIBLE, kind session_exists). `timeout` seconds (<= 0: the store's default).
/// Over-size content: CST_ERR_LIMIT_EXCEEDED (item_too_large), checked before sending.
///
/// # Safety
/// `state` live; spans valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_set_and_release(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    data: *const u8,
    data_len: usize,
    lock_id: u64,
    new_item: bool,
    timeout: f64,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        // SAFETY: forwarded caller guarantees.
        let data = unsafe { input(data.cast(), data_len, "data") }?;
        engine.set_and_release(sid, data, lock_id, new_item, timeout_arg(timeout))?;
        Ok(())
    })
}

/// Releases lock `lock_id` of session `sid` without writing; *released tells whether it did. A
/// lock id that is not the holder's (or 0) is a no-op, never a delete.
///
/// # Safety
/// `state` live; span valid; `released` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_release(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    lock_id: u64,
    released: *mut bool,
) -> i32 {
    guard(|| {
        if released.is_null() {
            return Err(Failure::null("released"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let did = engine.release(sid, lock_id)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(released, did, "released") }
    })
}

/// Creates an empty, uninitialized session unless a live one exists (ASP.NET cookieless).
/// `timeout` seconds (<= 0: the default).
///
/// # Safety
/// `state` live; span valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_create_uninitialized(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    timeout: f64,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        engine.create_uninitialized(sid, timeout_arg(timeout))?;
        Ok(())
    })
}

/// Removes session `sid` under lock `lock_id` (ASP.NET abandon), releasing the lock. *removed:
/// whether it was removed. A lock id that does not hold the lock (a foreign id, 0, a lock taken
/// over) deletes nothing, keeps the holder's lock and returns CST_OK with *removed false, as a
/// release does (ASP.NET's module removes with whatever id it was given).
///
/// # Safety
/// `state` live; span valid; `removed` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_remove(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    lock_id: u64,
    removed: *mut bool,
) -> i32 {
    guard(|| {
        if removed.is_null() {
            return Err(Failure::null("removed"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let did = engine.remove(sid, lock_id)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(removed, did, "removed") }
    })
}

/// Extends session `sid`'s life when the sliding renewal is due (conditionally; free when this
/// process saw it renewed recently); *renewed tells whether it wrote.
///
/// # Safety
/// `state` live; span valid; `renewed` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_reset_timeout(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    renewed: *mut bool,
) -> i32 {
    guard(|| {
        if renewed.is_null() {
            return Err(Failure::null("renewed"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let did = engine.reset_timeout(sid)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(renewed, did, "renewed") }
    })
}
