//! Restoring arbitrary text into a container never panics and never keeps more than the limits
//! allow; a restored container snapshots to text that restores to the same snapshot; restoring
//! into a container that already holds state (the merge path) never panics either.
#![no_main]

use cosmos_session_token::{Code, ContainerLimits, MergePolicy, SessionContainer};
use libfuzzer_sys::fuzz_target;

/// Small limits, so the fuzzer reaches every "one too many" branch with short inputs.
const LIMITS: ContainerLimits = ContainerLimits {
    max_collections: 3,
    max_ranges_per_collection: 4,
    max_snapshot_bytes: 4096,
    max_names_per_collection: 2,
};

fn container() -> SessionContainer {
    SessionContainer::with_config(MergePolicy::UNION, LIMITS)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let c = container();
    match c.restore(text) {
        Ok(()) => {
            let snap = c.snapshot();
            // What was kept is within the limits (counted on the snapshot's own format).
            assert!(snap.matches("\"rid\":").count() <= LIMITS.max_collections, "{snap}");
            let d = container();
            d.restore(&snap).expect("a snapshot restores");
            assert_eq!(d.snapshot(), snap);
            // The merge path: restore again into a container that already has state.
            let e = container();
            e.capture("dbs/d/colls/c", "rid0", "0:1#5,1:1#7", 200, 0).ok();
            let _ = e.restore(text);
            let _ = e.restore(&snap);
        }
        Err(e) => {
            assert!(
                matches!(e.code(), Code::InvalidSnapshot | Code::SnapshotTooLarge)
                    || e.category() == cosmos_session_token::Category::Malformed
                    || e.category() == cosmos_session_token::Category::LimitExceeded,
                "{}: {e}",
                e.code()
            );
        }
    }
});
