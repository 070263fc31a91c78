//! cst_state_open_with_hooks through its C signature: Entra ID tokens from a C callback and
//! every request reported to a C observer, against the test server in Entra-only mode (the
//! state crate's harness). The C test program covers the rest of the ABI without a server.
#![cfg(feature = "state")] // the state exports exist only with the state feature

#[path = "../../state/tests/support/mod.rs"]
mod support;

use std::ffi::{c_char, c_void};
use std::sync::Mutex;

use cstoken::*;
use serde_json::json;
use support::TestServer;

/// What the callbacks share: the token to hand out, how often they were called, what they saw.
struct Shared {
    token: String,
    token_calls: u32,
    events: Vec<(String, u32, u32, Option<String>)>,
}

fn text(ptr: *const c_char, len: usize) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: the library passes valid spans for the duration of the call.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
        .into_owned()
}

unsafe extern "C" fn get_token(
    user: *mut c_void,
    scope: *const c_char,
    scope_len: usize,
    token: *mut c_char,
    token_len: *mut usize,
    expires_on: *mut f64,
) -> i32 {
    // SAFETY: user is the &Mutex<Shared> passed below, alive for the store's life.
    let shared = unsafe { &*(user as *const Mutex<Shared>) };
    let mut s = shared.lock().unwrap();
    s.token_calls += 1;
    assert!(text(scope, scope_len).ends_with("/.default"));
    let bytes = s.token.as_bytes();
    // SAFETY: the library gives CST_MAX_ACCESS_TOKEN_BYTES of room and valid out-pointers.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), token.cast::<u8>(), bytes.len());
        *token_len = bytes.len();
        *expires_on = 4_102_444_800.0;
    }
    0
}

unsafe extern "C" fn failing_token(
    _: *mut c_void,
    _: *const c_char,
    _: usize,
    _: *mut c_char,
    _: *mut usize,
    _: *mut f64,
) -> i32 {
    7
}

unsafe extern "C" fn observe(user: *mut c_void, event: *const cst_state_request_event) {
    // SAFETY: as in get_token; the event is valid during the call.
    let (shared, e) = unsafe { (&*(user as *const Mutex<Shared>), &*event) };
    let retry = (!e.retry.is_null()).then(|| text(e.retry, e.retry_len));
    shared.lock().unwrap().events.push((
        text(e.region, e.region_len),
        e.status,
        e.substatus,
        retry,
    ));
}

fn last_message() -> String {
    let mut buf = vec![0u8; 1024];
    let mut len = 0usize;
    // SAFETY: a buffer of the given capacity and a valid out-pointer.
    unsafe { cst_last_error_get_message(buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    String::from_utf8_lossy(&buf[..len.min(buf.len())]).into_owned()
}

#[test]
fn tokens_from_a_c_callback_and_every_request_to_a_c_observer() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    // The container exists (created under key sign-in), then the account refuses keys.
    let admin = server.engine("hooks", cosmos_session_state::Options::default());
    let ex = admin.get_exclusive("setup").unwrap();
    admin
        .set_and_release("setup", b"x", ex.lock_id, true, None)
        .unwrap();
    let (_, issued) = server.post("/_shim/auth", &json!({"mode": "entra", "issue": 3600}));
    let shared = Mutex::new(Shared {
        token: issued["token"].as_str().unwrap().to_owned(),
        token_calls: 0,
        events: Vec::new(),
    });
    let hooks = cst_state_hooks {
        get_token: Some(get_token),
        observe: Some(observe),
        user_data: &shared as *const Mutex<Shared> as *mut c_void,
    };
    let cs = format!("AccountEndpoint=http://127.0.0.1:{}/;", server.port);
    let mut options: *mut cst_state_options = std::ptr::null_mut();
    // SAFETY: a writable out-pointer, then a live handle and valid spans.
    unsafe {
        assert_eq!(cst_state_options_new(&mut options), CST_OK);
        assert_eq!(
            cst_state_options_set(options, c"database".as_ptr(), 8, c"hooks".as_ptr(), 5),
            CST_OK
        );
    }
    let mut state: *mut cst_state = std::ptr::null_mut();
    // SAFETY: valid spans, options, hooks (alive until the store is freed) and out-pointer.
    let rc = unsafe {
        cst_state_open_with_hooks(cs.as_ptr().cast(), cs.len(), options, &hooks, &mut state)
    };
    assert_eq!(rc, CST_OK, "{}", last_message());
    let mut result: *mut cst_state_result = std::ptr::null_mut();
    // SAFETY: a live store and valid spans.
    let rc = unsafe { cst_state_get(state, "setup".as_ptr().cast(), 5, &mut result) };
    assert_eq!(rc, CST_OK, "{}", last_message());
    // SAFETY: the result of the call above.
    unsafe { cst_state_result_free(result) };
    let mut stats = cst_state_stats::default();
    // SAFETY: a live store and a writable struct.
    assert_eq!(unsafe { cst_state_get_stats(state, &mut stats) }, CST_OK);
    {
        let s = shared.lock().unwrap();
        assert_eq!(s.token_calls, 1);
        // The item read answered 200 in the one region and was reported.
        assert!(
            s.events
                .iter()
                .any(|(region, status, _, retry)| region == "Local"
                    && *status == 200
                    && retry.is_none()),
            "{:?}",
            s.events
        );
        assert_eq!(s.events.len() as u64, stats.requests - stats.account_reads);
    }
    // One 401 after every token is revoked: the callback is asked again, the observer sees why.
    let (_, issued) = server.post("/_shim/auth", &json!({"revoke_all": true}));
    assert!(issued["token"].is_null());
    let (_, fresh) = server.post("/_shim/auth", &json!({"issue": 3600}));
    shared.lock().unwrap().token = fresh["token"].as_str().unwrap().to_owned();
    // SAFETY: as above.
    let rc = unsafe { cst_state_get(state, "setup".as_ptr().cast(), 5, &mut result) };
    assert_eq!(rc, CST_OK, "{}", last_message());
    // SAFETY: as above.
    unsafe { cst_state_result_free(result) };
    {
        let s = shared.lock().unwrap();
        assert_eq!(s.token_calls, 2);
        assert!(s.events.iter().any(
            |(_, status, _, retry)| *status == 401 && retry.as_deref() == Some("unauthorized")
        ));
    }
    // SAFETY: the store opened above, freed once.
    unsafe { cst_state_free(state) };

    // A failing callback is store_rejected, with its return value and no more.
    let hooks = cst_state_hooks {
        get_token: Some(failing_token),
        observe: None,
        user_data: std::ptr::null_mut(),
    };
    let mut state: *mut cst_state = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe {
        cst_state_open_with_hooks(cs.as_ptr().cast(), cs.len(), options, &hooks, &mut state)
    };
    assert_eq!(rc, CST_OK);
    // SAFETY: as above.
    let rc = unsafe { cst_state_get(state, "setup".as_ptr().cast(), 5, &mut result) };
    assert_eq!(rc, CST_ERR_STORE);
    assert!(last_message().contains("returned 7"), "{}", last_message());
    // SAFETY: the store and the options created above, each freed once.
    unsafe {
        cst_state_free(state);
        cst_state_options_free(options);
    }
}
