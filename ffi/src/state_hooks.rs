//! Callbacks of a Cosmos DB store (cst_state_open_with_hooks): an Entra ID token source and a
//! per-request observer, as C function pointers with the caller's user data.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use cosmos_session_state::cosmos::credential::{AccessToken, TokenSource};
use cosmos_session_state::{Observer, RequestEvent, StateError};

use crate::state::{StoreHooks, cst_state, open_cosmos};
use crate::state_options::cst_state_options;

/// Largest access token a cst_get_token_fn may write, in bytes.
pub const CST_MAX_ACCESS_TOKEN_BYTES: usize = 16384;

/// Fetches an Entra ID access token for `scope` (`scope_len` bytes of UTF-8, not
/// NUL-terminated, e.g. `https://account.documents.azure.com/.default`): writes the token into
/// `token` (capacity CST_MAX_ACCESS_TOKEN_BYTES), its length into *token_len and its expiry (seconds
/// since the Unix epoch) into *expires_on, and returns 0; any other value is a failure (the
/// operation fails with store_rejected). Called before the cached token expires and once after a
/// 401, on a thread the library starts for the fetch (one fetch at a time per store), not the
/// thread of the cst_state_* call: that call waits for it at most until its operation timeout
/// (then it fails with store_unavailable; the fetch's token, when it comes, is kept), and other
/// threads keep using a still-valid token meanwhile. It must return (never throw: a C++
/// exception or a longjmp through this extern "C" boundary is undefined behaviour) and must not
/// call back into the same store.
pub type cst_get_token_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        scope: *const c_char,
        scope_len: usize,
        token: *mut c_char,
        token_len: *mut usize,
        expires_on: *mut f64,
    ) -> i32,
>;

/// One request of a store, as a cst_observe_fn sees it. Strings are (pointer, length) spans
/// valid during the call only; `retry` and `error` are NULL (length 0) when absent.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cst_state_request_event {
    /// "GET", "POST" or "PATCH".
    pub method: *const c_char,
    /// Length of `method`.
    pub method_len: usize,
    /// "docs", "dbs" or "colls".
    pub resource_type: *const c_char,
    /// Length of `resource_type`.
    pub resource_type_len: usize,
    /// The region's name (its endpoint when the account could not be described).
    pub region: *const c_char,
    /// Length of `region`.
    pub region_len: usize,
    /// HTTP status (0: the connection failed).
    pub status: u32,
    /// x-ms-substatus (0 when absent).
    pub substatus: u32,
    /// Request units charged.
    pub request_charge: f64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// Retries of the operation before this request.
    pub attempt: u32,
    /// Why the request is sent again ("throttled", "read_session_unavailable",
    /// "write_forbidden", "transient", "unauthorized"), or NULL.
    pub retry: *const c_char,
    /// Length of `retry`.
    pub retry_len: usize,
    /// The error code of a request without an answer ("store_unavailable"), or NULL.
    pub error: *const c_char,
    /// Length of `error`.
    pub error_len: usize,
}

/// Receives every request of a store, after it was answered, on the thread of the cst_state_*
/// call (several threads may call it at once). It must return (never throw: a C++ exception or a
/// longjmp through this extern "C" boundary is undefined behaviour) and must not call back into
/// the same store.
pub type cst_observe_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const cst_state_request_event)>;

/// The callbacks of cst_state_open_with_hooks. `user_data` is passed to both and must stay
/// valid, and usable from any thread, until the store is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cst_state_hooks {
    /// Entra ID tokens (NULL: sign as options.authentication says).
    pub get_token: cst_get_token_fn,
    /// Every request (NULL: none).
    pub observe: cst_observe_fn,
    /// Passed to the callbacks.
    pub user_data: *mut c_void,
}

/// The caller's user data, which it promised usable from any thread until the store is freed.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: cst_state_hooks documents that user_data must be usable from any thread for the
// store's life; the library only passes it back to the caller's own callbacks.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

struct CallbackTokens {
    get_token: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        usize,
        *mut c_char,
        *mut usize,
        *mut f64,
    ) -> i32,
    user_data: UserData,
}

impl TokenSource for CallbackTokens {
    fn get_token(&self, scope: &str) -> Result<AccessToken, StateError> {
        let mut buffer = vec![0u8; CST_MAX_ACCESS_TOKEN_BYTES];
        let mut len = 0usize;
        let mut expires_on = 0f64;
        // SAFETY: the caller's callback, with a buffer of the documented capacity and valid
        // out-pointers; the user data is the caller's.
        let status = unsafe {
            (self.get_token)(
                self.user_data.0,
                scope.as_ptr().cast(),
                scope.len(),
                buffer.as_mut_ptr().cast(),
                &mut len,
                &mut expires_on,
            )
        };
        if status != 0 {
            return Err(StateError::Rejected(format!(
                "the get_token callback failed (returned {status})"
            )));
        }
        if len > buffer.len() {
            return Err(StateError::Rejected(format!(
                "the get_token callback reported a token of {len} bytes, more than {CST_MAX_ACCESS_TOKEN_BYTES}"
            )));
        }
        buffer.truncate(len);
        let token = String::from_utf8(buffer).map_err(|_| {
            StateError::Rejected("the get_token callback wrote a token that is not UTF-8".into())
        })?;
        Ok(AccessToken::from_unix(token, expires_on))
    }
}

fn span(s: &str) -> (*const c_char, usize) {
    (s.as_ptr().cast(), s.len())
}

fn optional_span(s: Option<&str>) -> (*const c_char, usize) {
    s.map_or((std::ptr::null(), 0), span)
}

/// cst_state_open with callbacks: Entra ID tokens from `hooks->get_token` (the connection
/// string then has AccountEndpoint only) and every request reported to `hooks->observe`.
/// `hooks` NULL is cst_state_open. Returns as cst_state_open.
///
/// # Safety
/// Spans valid as documented; `options` NULL or valid; `hooks` NULL or valid with callbacks
/// and user data as cst_state_hooks says; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_open_with_hooks(
    connection_string: *const c_char,
    len: usize,
    options: *const cst_state_options,
    hooks: *const cst_state_hooks,
    out: *mut *mut cst_state,
) -> i32 {
    let make_hooks = || {
        // SAFETY: the caller passes NULL or a valid struct.
        let hooks = unsafe { hooks.as_ref() }.copied();
        let user_data = UserData(hooks.map_or(std::ptr::null_mut(), |h| h.user_data));
        StoreHooks {
            credential: hooks.and_then(|h| h.get_token).map(|get_token| {
                Arc::new(CallbackTokens {
                    get_token,
                    user_data,
                }) as Arc<dyn TokenSource>
            }),
            observer: hooks
                .and_then(|h| h.observe)
                .map(|observe| observer(observe, user_data)),
        }
    };
    // SAFETY: forwarded caller guarantees.
    unsafe { open_cosmos(connection_string, len, options, make_hooks, out) }
}

/// An observer passing each request to the caller's `observe` as a cst_state_request_event.
fn observer(
    observe: unsafe extern "C" fn(*mut c_void, *const cst_state_request_event),
    user_data: UserData,
) -> Observer {
    Arc::new(move |e: &RequestEvent<'_>| {
        let (method, method_len) = span(e.method);
        let (resource_type, resource_type_len) = span(e.resource_type);
        let (region, region_len) = span(e.region);
        let (retry, retry_len) = optional_span(e.retry);
        let (error, error_len) = optional_span(e.error);
        let event = cst_state_request_event {
            method,
            method_len,
            resource_type,
            resource_type_len,
            region,
            region_len,
            status: u32::from(e.status),
            substatus: e.substatus,
            request_charge: e.request_charge,
            duration_ms: e.duration.as_secs_f64() * 1000.0,
            attempt: e.attempt,
            retry,
            retry_len,
            error,
            error_len,
        };
        let data = user_data;
        // SAFETY: the caller's callback with its user data and an event valid for the call.
        unsafe { observe(data.0, &event) };
    })
}
