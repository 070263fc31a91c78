//! Unsealing arbitrary text never panics; whatever unseals re-seals to the same envelope. The
//! same text as a flow cookie, a carrier's cookie and a sealed message flow is refused with a
//! verdict or an error, never a panic.
#![no_main]

use cosmos_session_token::{
    DEFAULT_SEAL_BUDGET, FlowCookies, MESSAGE_FLOW_BUDGET, SessionCarrier, seal, unseal, unseal_flow,
};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzzing-key-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = unseal(text, &[KEY], "ctx", DEFAULT_SEAL_BUDGET) {
        assert_eq!(seal(&token, KEY, "ctx", DEFAULT_SEAL_BUDGET).unwrap(), text);
    }
    let cookies = FlowCookies::new(&[KEY], DEFAULT_SEAL_BUDGET).unwrap();
    let user = cookies.open("ctx", Some(text));
    let _ = (user.verdict().as_str(), cookies.seal(&user));
    let mut carrier = SessionCarrier::new(&[KEY], "ctx", DEFAULT_SEAL_BUDGET).unwrap();
    if carrier.read(Some(text)) {
        assert!(carrier.token().is_some());
    }
    let _ = unseal_flow(text, &[KEY], "ctx", MESSAGE_FLOW_BUDGET);
});
