//! Restoring arbitrary text into a container never panics; a restored container snapshots to text
//! that restores to the same snapshot.
#![no_main]

use cosmos_session_token::SessionContainer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let c = SessionContainer::new();
    if c.restore(text).is_ok() {
        let snap = c.snapshot();
        let d = SessionContainer::new();
        d.restore(&snap).expect("a snapshot restores");
        assert_eq!(d.snapshot(), snap);
    }
});
