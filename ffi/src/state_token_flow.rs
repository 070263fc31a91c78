//! Token flow across nodes: the session token a store gathered for a session
//! (cst_state_get_token), and one carried from another node (cst_state_present_token).

use cosmos_session_token::Code;
use std::ffi::c_char;

use crate::boundary::{Failure, guard, put};
use crate::state::{cst_state, engine_and_session};
use crate::token::{check_out, cst_token, into_handle, token};

/// The session token gathered for session `sid` into a new token handle *out (to carry to another
/// node, e.g. in a sealed cookie); CST_ERR_NOT_FOUND when none was seen.
///
/// # Safety
/// `state` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_get_token(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        let t = engine.token(sid)?.ok_or_else(|| {
            Failure::new(Code::NotFound, "no session token was seen for this session")
        })?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(t), "out") }
    })
}

/// Presents a token carried from another node for session `sid`: later requests read at least
/// what it saw.
///
/// # Safety
/// `state` and `carried` live; span valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_present_token(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    carried: *const cst_token,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let t = unsafe { token(carried, "carried") }?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { engine_and_session(state, sid, sid_len) }?;
        engine.present_token(sid, t)?;
        Ok(())
    })
}
