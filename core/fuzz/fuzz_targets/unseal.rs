//! Unsealing arbitrary text never panics; whatever unseals re-seals to the same envelope.
#![no_main]

use cosmos_session_token::{DEFAULT_SEAL_BUDGET, seal, unseal};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzzing-key-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = unseal(text, &[KEY], "ctx", DEFAULT_SEAL_BUDGET) {
        assert_eq!(seal(&token, KEY, "ctx", DEFAULT_SEAL_BUDGET).unwrap(), text);
    }
});
