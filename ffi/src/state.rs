//! `cst_state`: the session-state engine (crate cosmos-session-state) as a thread-safe handle,
//! for the ASP.NET provider and any other host: opening one (Cosmos DB or memory) and freeing
//! it. Reads answer with `cst_state_result` handles (`state_results.rs`), so a read is one
//! store round trip whatever the caller's buffer size.

use std::ffi::c_char;
use std::sync::Arc;

use cosmos_session_state::cosmos::credential::TokenSource;
use cosmos_session_state::{CosmosStore, MemoryStore, Observer, SessionStateStore};

use crate::boundary::{Failure, guard, guard_or, input_str, put};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::state_options::{cst_state_options, read_options};

/// A session-state store: one per process (or per configuration), shared by every thread. Every
/// function but cst_state_free may be called from any thread at any time.
pub struct cst_state {
    pub(crate) engine: SessionStateStore,
}

impl Handle for cst_state {
    const NAME: &'static str = "state";
}
impl Boxed for cst_state {}

fn into_state(engine: SessionStateStore) -> *mut cst_state {
    new_boxed(cst_state { engine })
}

/// What cst_state_open_with_hooks adds to a Cosmos DB store.
#[derive(Default)]
pub(crate) struct StoreHooks {
    /// Signs with Entra ID tokens from here (the connection string then has no key).
    pub credential: Option<Arc<dyn TokenSource>>,
    /// Sees every request.
    pub observer: Option<Observer>,
}

/// cst_state_open with the hooks `hooks` makes, once the arguments are read.
///
/// # Safety
/// As cst_state_open.
pub(crate) unsafe fn open_cosmos(
    connection_string: *const c_char,
    len: usize,
    options: *const cst_state_options,
    hooks: impl FnOnce() -> StoreHooks,
    out: *mut *mut cst_state,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let cs = unsafe { input_str(connection_string, len, "connection string") }?;
        // SAFETY: forwarded caller guarantees.
        let (engine_options, cosmos_options) = unsafe { read_options(options) }?;
        let hooks = hooks();
        let store = match hooks.credential {
            Some(source) => CosmosStore::connect_with_credential(cs, cosmos_options, source)?,
            None => CosmosStore::connect(cs, cosmos_options)?,
        };
        let store = match hooks.observer {
            Some(observer) => store.with_observer(observer),
            None => store,
        };
        let engine = SessionStateStore::new(store, engine_options)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_state(engine), "out") }
    })
}

/// Opens a store on Cosmos DB from a connection string `AccountEndpoint=…;AccountKey=…;` and
/// options (NULL: the defaults) into *out. Nothing is sent until the first operation, which
/// creates the database and container if needed. Errors never contain the account key.
/// Returns CST_OK, CST_ERR_INVALID_ARGUMENT (kinds invalid_connection_string, invalid_option),
/// CST_ERR_NULL_ARGUMENT, CST_ERR_INVALID_UTF8.
///
/// # Safety
/// Spans valid as documented; `options` NULL or valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_open(
    connection_string: *const c_char,
    len: usize,
    options: *const cst_state_options,
    out: *mut *mut cst_state,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    unsafe { open_cosmos(connection_string, len, options, StoreHooks::default, out) }
}

/// Opens a store kept in this process's memory (tests, single-process hosts) into *out; options
/// as cst_state_open (the Cosmos DB ones are ignored).
///
/// # Safety
/// `options` NULL or valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_open_memory(
    options: *const cst_state_options,
    out: *mut *mut cst_state,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let (engine_options, _) = unsafe { read_options(options) }?;
        let engine = SessionStateStore::new(MemoryStore::new(), engine_options)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_state(engine), "out") }
    })
}

/// Releases a store. NULL is ignored. No other call may use it at the same time or after.
///
/// # Safety
/// `state` NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_free(state: *mut cst_state) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(state) }
    })
}

/// Borrows the engine and reads the session id.
///
/// # Safety
/// `state` NULL or live; the span valid.
pub(crate) unsafe fn engine_and_session<'a>(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
) -> Result<(&'a SessionStateStore, &'a str), Failure> {
    // SAFETY: forwarded caller guarantee.
    let s = unsafe { borrow(state) }?;
    // SAFETY: forwarded caller guarantees.
    let sid = unsafe { input_str(sid, sid_len, "session id") }?;
    Ok((&s.engine, sid))
}
