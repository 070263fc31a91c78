//! `cst_state`: the session-state engine (crate cosmos-session-state) as a thread-safe handle,
//! for the ASP.NET provider and any other host. Results of reads come back as `cst_state_result`
//! handles (content bytes plus lock information), so a read is one store round trip whatever the
//! caller's buffer size.

use cosmos_session_state::{
    Content, CosmosOptions, MemoryStore, Options, SessionStateStore, Settings,
};
use std::ffi::c_char;

use crate::boundary::{Failure, bytes_array, guard, guard_or, input, input_str, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::token::{check_out, cst_token, into_handle, token};
use cosmos_session_token::Code;

/// A session-state store: one per process (or per configuration), shared by every thread. Every
/// function but cst_state_free may be called from any thread at any time.
pub struct cst_state {
    engine: SessionStateStore,
}

/// The answer of a read (cst_state_get, cst_state_get_exclusive): immutable; free it with
/// cst_state_result_free.
pub struct cst_state_result {
    entry: cst_state_entry,
    data: Vec<u8>,
}

/// Options of cst_state_open. Fill with cst_state_options_default, then change what you need.
/// Strings are (pointer, length) UTF-8 spans; NULL with length 0 means "the default".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cst_state_options {
    /// Database id (default "sessions"); created on first use.
    pub database: *const c_char,
    /// Length of `database` in bytes.
    pub database_len: usize,
    /// Container id (default "SessionStore"); created on first use.
    pub container: *const c_char,
    /// Length of `container` in bytes.
    pub container_len: usize,
    /// Consistency level asked for: "Strong" (the default, also for NULL/""), "BoundedStaleness",
    /// "Session", "ConsistentPrefix", "Eventual", or "AccountDefault" to send no consistency
    /// header (the account's default applies).
    pub consistency: *const c_char,
    /// Length of `consistency` in bytes.
    pub consistency_len: usize,
    /// Seconds a lock lives before another request may take it over (default 30).
    pub lock_ttl: f64,
    /// Default session timeout in seconds (default 1200).
    pub timeout: f64,
    /// Gzip new content (default true); items record their own flag.
    pub compression: bool,
    /// Fraction of the timeout after which a read renews the session (default 0.25).
    pub renew_fraction: f64,
    /// Timeout of one HTTP request in seconds (default 10).
    pub request_timeout: f64,
    /// Retries of a throttled or failed request (default 9, at most 100).
    pub max_retries: u32,
    /// Seconds one operation may take in all, retries and region changes included (default 20).
    pub operation_timeout: f64,
    /// Regions reads prefer, comma-separated ("East US, West US"); NULL/"": reads go to the
    /// write region.
    pub preferred_regions: *const c_char,
    /// Length of `preferred_regions` in bytes.
    pub preferred_regions_len: usize,
    /// Run on an account with several write regions (default false: refused).
    pub allow_multi_write: bool,
    /// The first write creates a missing database and container (default true; key sign-in only).
    pub create_if_missing: bool,
    /// How to sign in: "Key" (the default, also NULL/""), "ManagedIdentity" (App Service's
    /// IDENTITY_ENDPOINT/IDENTITY_HEADER, else the VM instance-metadata endpoint), "ClientSecret"
    /// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST). With Entra
    /// ID the connection string has AccountEndpoint only.
    pub authentication: *const c_char,
    /// Length of `authentication` in bytes.
    pub authentication_len: usize,
    /// A user-assigned managed identity's client id (NULL: the system-assigned identity).
    pub managed_identity_client_id: *const c_char,
    /// Length of `managed_identity_client_id` in bytes.
    pub managed_identity_client_id_len: usize,
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

impl Handle for cst_state {
    const NAME: &'static str = "state";
}
impl Boxed for cst_state {}
impl Handle for cst_state_result {
    const NAME: &'static str = "result";
}
impl Boxed for cst_state_result {}
impl Handle for cst_state_token_cookie {
    const NAME: &'static str = "hook";
}
impl Boxed for cst_state_token_cookie {}

/// Fills *out with the defaults (see cst_state_options). Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_default(out: *mut cst_state_options) -> i32 {
    guard(|| {
        let d = Settings::default();
        let value = cst_state_options {
            database: std::ptr::null(),
            database_len: 0,
            container: std::ptr::null(),
            container_len: 0,
            consistency: std::ptr::null(),
            consistency_len: 0,
            lock_ttl: d.lock_ttl,
            timeout: d.timeout,
            compression: d.compression,
            renew_fraction: d.renew_fraction,
            request_timeout: d.request_timeout,
            // The default (9) fits; the field is unsigned.
            max_retries: u32::try_from(d.max_retries).unwrap_or(0),
            operation_timeout: d.operation_timeout,
            preferred_regions: std::ptr::null(),
            preferred_regions_len: 0,
            allow_multi_write: d.allow_multi_write,
            create_if_missing: d.create_if_missing,
            authentication: std::ptr::null(),
            authentication_len: 0,
            managed_identity_client_id: std::ptr::null(),
            managed_identity_client_id_len: 0,
        };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, value, "out") }
    })
}

/// Reads the options struct (NULL: the defaults).
///
/// # Safety
/// `options` NULL or valid, with valid spans.
pub(crate) unsafe fn read_options(
    options: *const cst_state_options,
) -> Result<(Options, CosmosOptions), Failure> {
    // SAFETY: the caller passes NULL or a valid struct.
    let Some(o) = (unsafe { options.as_ref() }) else {
        return Ok(Settings::default().resolve()?);
    };
    // SAFETY: forwarded caller guarantees on the spans.
    // SAFETY: forwarded caller guarantees on the spans.
    let (authentication, client_id) = unsafe {
        (
            input_str(
                o.authentication,
                o.authentication_len,
                "options.authentication",
            )?,
            input_str(
                o.managed_identity_client_id,
                o.managed_identity_client_id_len,
                "options.managed_identity_client_id",
            )?,
        )
    };
    let (database, container, consistency, preferred_regions) = unsafe {
        (
            input_str(o.database, o.database_len, "options.database")?,
            input_str(o.container, o.container_len, "options.container")?,
            input_str(o.consistency, o.consistency_len, "options.consistency")?,
            input_str(
                o.preferred_regions,
                o.preferred_regions_len,
                "options.preferred_regions",
            )?,
        )
    };
    // Defaults and ranges are the state crate's (one `Settings::resolve` for every surface).
    let settings = Settings {
        database: database.to_owned(),
        container: container.to_owned(),
        consistency: consistency.to_owned(),
        lock_ttl: o.lock_ttl,
        timeout: o.timeout,
        compression: o.compression,
        renew_fraction: o.renew_fraction,
        request_timeout: o.request_timeout,
        max_retries: i64::from(o.max_retries),
        operation_timeout: o.operation_timeout,
        preferred_regions: preferred_regions.to_owned(),
        allow_multi_write: o.allow_multi_write,
        create_if_missing: o.create_if_missing,
        authentication: authentication.to_owned(),
        managed_identity_client_id: client_id.to_owned(),
    };
    Ok(settings.resolve()?)
}

pub(crate) fn into_state(engine: SessionStateStore) -> *mut cst_state {
    new_boxed(cst_state { engine })
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
    // SAFETY: forwarded caller guarantees (no hooks).
    unsafe {
        crate::state_hooks::cst_state_open_with_hooks(
            connection_string,
            len,
            options,
            std::ptr::null(),
            out,
        )
    }
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
unsafe fn open<'a>(
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
pub unsafe extern "C" fn cst_state_result_entry(
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
pub unsafe extern "C" fn cst_state_result_data(
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
        let did = engine.reset_timeout(sid)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(renewed, did, "renewed") }
    })
}

/// The session token gathered for session `sid` into a new token handle *out (to carry to another
/// node, e.g. in a sealed cookie); CST_ERR_NOT_FOUND when none was seen.
///
/// # Safety
/// `state` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token(
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
        engine.present_token(sid, t)?;
        Ok(())
    })
}

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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
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
pub unsafe extern "C" fn cst_state_check_session_id(sid: *const c_char, sid_len: usize) -> i32 {
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
pub unsafe extern "C" fn cst_state_session_fingerprint(
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
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
        let did = engine.delete(sid, wait)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(removed, did, "removed") }
    })
}

/// The token-cookie hook of one web application (the state crate's `TokenCookie`): created once
/// per configuration, used from any thread; free it with cst_state_token_cookie_free.
pub struct cst_state_token_cookie {
    hook: cosmos_session_state::TokenCookie,
}

/// Creates the token-cookie hook of one application into *out: keys derived from `count`
/// framework secrets (`secrets`/`secret_lens`; the first seals, all unseal; each at least 16
/// bytes, else CST_ERR_INVALID_ARGUMENT kind weak_key), the seal bound to `framework` and `app`,
/// the cookie `Secure` when `secure`, with `Max-Age` `max_age` seconds (negative: none).
///
/// # Safety
/// Spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the secrets, two spans, two options and the output
pub unsafe extern "C" fn cst_state_token_cookie_new(
    secrets: *const *const u8,
    secret_lens: *const usize,
    count: usize,
    framework: *const c_char,
    framework_len: usize,
    app: *const c_char,
    app_len: usize,
    secure: bool,
    max_age: i64,
    out: *mut *mut cst_state_token_cookie,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let secrets = unsafe {
            bytes_array(
                secrets.cast(),
                secret_lens,
                count,
                "secrets",
                cosmos_session_token::MAX_SEAL_KEYS,
            )
        }?;
        // SAFETY: forwarded caller guarantees.
        let (framework, app) = unsafe {
            (
                input_str(framework, framework_len, "framework")?,
                input_str(app, app_len, "app")?,
            )
        };
        let hook = cosmos_session_state::TokenCookie::new(&secrets, framework, app)?
            .with_secure(secure)
            .with_max_age(u64::try_from(max_age).ok());
        let handle = new_boxed(cst_state_token_cookie { hook });
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Releases a hook (NULL is a no-op).
///
/// # Safety
/// `hook` NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token_cookie_free(hook: *mut cst_state_token_cookie) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(hook) }
    })
}

/// Start of a request for session `sid` whose token cookie is `cookie` (NULL with length 0:
/// none): presents the token it carries for this session to `state`. *presented: whether one
/// was (anything that does not unseal for this session is no token).
///
/// # Safety
/// Handles live; spans valid; `presented` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_token_cookie_begin(
    hook: *const cst_state_token_cookie,
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    cookie: *const c_char,
    cookie_len: usize,
    presented: *mut bool,
) -> i32 {
    guard(|| {
        if presented.is_null() {
            return Err(Failure::null("presented"));
        }
        // SAFETY: live handles point to Box-owned values that outlive the call.
        let hook = unsafe { borrow(hook) }?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
        // SAFETY: forwarded caller guarantees. NULL or "" is no cookie (the carrier's rule).
        let cookie = Some(unsafe { input_str(cookie, cookie_len, "cookie") }?);
        let did = hook.hook.begin(engine, sid, cookie)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(presented, did, "presented") }
    })
}

/// End of a request for session `sid` (the new id after a new session or a key cycle) that
/// arrived with token cookie `cookie`: the `Set-Cookie` header value to send (output protocol),
/// or CST_ERR_NOT_FOUND when the store's token did not change (send no cookie).
///
/// # Safety
/// Handles live; spans valid; output as documented.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // two handles, two spans and the output protocol
pub unsafe extern "C" fn cst_state_token_cookie_finish(
    hook: *const cst_state_token_cookie,
    state: *const cst_state,
    sid: *const c_char,
    sid_len: usize,
    cookie: *const c_char,
    cookie_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: live handles point to Box-owned values that outlive the call.
        let hook = unsafe { borrow(hook) }?;
        // SAFETY: forwarded caller guarantees.
        let (engine, sid) = unsafe { open(state, sid, sid_len) }?;
        // SAFETY: forwarded caller guarantees. NULL or "" is no cookie (the carrier's rule).
        let cookie = Some(unsafe { input_str(cookie, cookie_len, "cookie") }?);
        match hook.hook.finish(engine, sid, cookie)? {
            // SAFETY: forwarded caller guarantees on the output.
            Some(header) => unsafe { write_output(&header, buf, cap, out_len) },
            None => Err(Failure::new(
                Code::NotFound,
                "the session's token did not change: set no cookie",
            )),
        }
    })
}
