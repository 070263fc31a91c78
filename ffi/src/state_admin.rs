//! What operators and adapters ask of a store besides the session operations: its counters,
//! one session's state, breaking a lock, checking and fingerprinting ids, deleting without a
//! lock.

use std::ffi::c_char;

use crate::boundary::{Failure, guard, input_str, put};
use crate::handle::borrow;
use crate::state::{cst_state, engine_and_session};

/// What a store has done so far (cst_state_get_stats): its requests, retries by cause and request
/// charge, and the engine's lock events. Counters only grow.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct cst_state_stats {
    /// HTTP requests sent (retries and account reads included; the memory store: round trips).
    pub requests: u64,
    /// Of those, retries (any cause).
    pub retries: u64,
    /// Answers 429 or 449, retried after the advised wait.
    pub throttled: u64,
    /// Answers 404/1002: the region had not reached the presented session token.
    pub read_session_unavailable: u64,
    /// Answers 403/3: a write sent to a region that no longer takes writes.
    pub write_forbidden: u64,
    /// Requests moved to another region after a failure.
    pub region_failovers: u64,
    /// Answers 408, 410 or 503 and failed connections.
    pub transient: u64,
    /// Answers 401 with Entra ID (a token refetched).
    pub unauthorized: u64,
    /// Reads of the account's description.
    pub account_reads: u64,
    /// Databases or containers created.
    pub containers_created: u64,
    /// Request units charged.
    pub request_charge: f64,
    /// Exclusive reads that found the session locked by another request.
    pub lock_waits: u64,
    /// Locks acquired over an expired lock of another request.
    pub lock_takeovers: u64,
    /// Writes, releases or removals refused because the lock was no longer held.
    pub fence_failures: u64,
}

/// What an operator sees of one session (cst_state_show).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct cst_state_session_info {
    /// A live content item exists.
    pub exists: bool,
    /// Stored size in bytes (base64 text as stored).
    pub stored_bytes: usize,
    /// The stored content is compressed.
    pub compressed: bool,
    /// Seconds until expiry (negative: expired).
    pub expires_in: f64,
    /// Created uninitialized and not written yet.
    pub uninitialized: bool,
    /// A lock is held and not expired.
    pub locked: bool,
    /// The lock item's lock id (0: none).
    pub lock_id: u64,
    /// Seconds since the lock was acquired (0 when not locked).
    pub lock_age: f64,
}

/// The store's counters into *out. Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `state` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_get_stats(
    state: *const cst_state,
    out: *mut cst_state_stats,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantee.
        let s = unsafe { borrow(state) }?;
        let t = s.engine.stats();
        let st = t.store;
        let stats = cst_state_stats {
            requests: st.requests,
            retries: st.retries,
            throttled: st.throttled,
            read_session_unavailable: st.read_session_unavailable,
            write_forbidden: st.write_forbidden,
            region_failovers: st.region_failovers,
            transient: st.transient,
            unauthorized: st.unauthorized,
            account_reads: st.account_reads,
            containers_created: st.containers_created,
            request_charge: st.request_charge,
            lock_waits: t.lock_waits,
            lock_takeovers: t.lock_takeovers,
            fence_failures: t.fence_failures,
        };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, stats, "out") }
    })
}

/// What an operator sees of session `sid` into *out (cst state show).
///
/// # Safety
/// `state` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_show(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    out: *mut cst_state_session_info,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let i = engine.show(sid)?;
        let info = cst_state_session_info {
            exists: i.exists,
            stored_bytes: i.stored_bytes,
            compressed: i.compressed,
            expires_in: i.expires_in,
            uninitialized: i.uninitialized,
            locked: i.locked,
            lock_id: i.lock_id,
            lock_age: i.lock_age,
        };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, info, "out") }
    })
}

/// Breaks session `sid`'s lock (an operator's tool for a crashed node); *unlocked receives the
/// lock id released, 0 when none was held.
///
/// # Safety
/// `state` live; span valid; `unlocked` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_force_unlock(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    unlocked: *mut u64,
) -> i32 {
    guard(|| {
        if unlocked.is_null() {
            return Err(Failure::null("unlocked"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let id = engine.force_unlock(sid)?.unwrap_or(0);
        // SAFETY: checked non-NULL above.
        unsafe { put(unlocked, id, "unlocked") }
    })
}

/// Checks a session id as every operation does (non-empty, at most 80 bytes, no control
/// character): CST_OK, or CST_ERR_INVALID_ARGUMENT (kind invalid_session_id). Adapters call it
/// on ids taken from a cookie and treat an invalid one as "no session". CST_ERR_INVALID_UTF8,
/// CST_ERR_NULL_ARGUMENT as usual.
///
/// # Safety
/// Span valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_session_id_check(sid: *const c_char, sid_len: usize) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let sid = unsafe { input_str(sid, sid_len, "session id") }?;
        cosmos_session_state::check_session_id(sid)?;
        Ok(())
    })
}

/// How errors and traces name a session without its id ("session #" and 12 hex digits of the
/// id's SHA-256), output protocol. Returns CST_OK, CST_ERR_BUFFER_TOO_SMALL,
/// CST_ERR_NULL_ARGUMENT, CST_ERR_INVALID_UTF8.
///
/// # Safety
/// Span valid; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_session_id_get_fingerprint(
    sid: *const c_char,
    sid_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let sid = unsafe { input_str(sid, sid_len, "session id") }?;
        let fingerprint = cosmos_session_state::session_fingerprint(sid);
        // SAFETY: forwarded caller guarantees.
        unsafe { crate::boundary::write_output(&fingerprint, buf, cap, out_len) }
    })
}

/// Removes session `sid` without holding its lock: takes the lock (waiting up to `wait` seconds
/// while another request holds it), removes and releases in one fenced operation. *removed:
/// whether a live session was removed. CST_ERR_STORE (kind lock_wait_timeout) when it stayed
/// locked longer than `wait`; `wait` must be finite and >= 0.
///
/// # Safety
/// `state` live; span valid; `removed` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_delete(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    wait: f64,
    removed: *mut bool,
) -> i32 {
    guard(|| {
        if removed.is_null() {
            return Err(Failure::null("removed"));
        }
        let wait = cosmos_session_state::lock_wait(wait)?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let did = engine.delete(sid, wait)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(removed, did, "removed") }
    })
}
