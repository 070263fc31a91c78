//! The engine on the in-memory store: every rule, the costs in round trips, threads.

use std::sync::Arc;

mod intercept;

use cosmos_session_state::{
    Content, ManualClock, MemoryStore, Options, PatchOp, SessionStateStore, StateError, Store,
};
use intercept::Intercept;

const TIMEOUT: f64 = 100.0;
const LOCK_TTL: f64 = 10.0;

fn options(compression: bool) -> Options {
    Options {
        lock_ttl: LOCK_TTL,
        timeout: TIMEOUT,
        compression,
        renew_fraction: 0.25,
    }
}

struct Farm {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

impl Farm {
    fn new() -> Self {
        Farm {
            store: Arc::new(MemoryStore::new()),
            clock: Arc::new(ManualClock::new(1_000_000.0)),
        }
    }

    /// One web node: its own engine (own token container and caches) over the shared store.
    fn node(&self, compression: bool) -> SessionStateStore {
        SessionStateStore::with_clock(self.store.clone(), self.clock.clone(), options(compression))
            .unwrap()
    }
}

fn data(c: Option<Content>) -> Option<Vec<u8>> {
    c.map(|c| c.data)
}

#[test]
fn new_session_lock_write_read() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s1").unwrap();
    assert!(!ex.locked && ex.content.is_none() && ex.lock_id > 0);
    a.set_and_release("s1", b"one", ex.lock_id, true, None)
        .unwrap();
    assert_eq!(data(a.get("s1").unwrap()), Some(b"one".to_vec()));
    let b = f.node(true);
    let ex2 = b.get_exclusive("s1").unwrap();
    assert!(ex2.lock_id > ex.lock_id, "lock ids increase");
    assert_eq!(data(ex2.content), Some(b"one".to_vec()));
    b.set_and_release("s1", b"two", ex2.lock_id, false, None)
        .unwrap();
    assert_eq!(data(a.get("s1").unwrap()), Some(b"two".to_vec()));
}

#[test]
fn a_held_lock_is_reported_with_its_true_age_and_reads_never_wait() {
    let f = Farm::new();
    let a = f.node(true);
    let b = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v1", ex.lock_id, true, None)
        .unwrap();
    let held = a.get_exclusive("s").unwrap();
    f.clock.advance(3.5);
    let seen = b.get_exclusive("s").unwrap();
    assert!(seen.locked && seen.content.is_none());
    assert_eq!(seen.lock_id, held.lock_id);
    assert!(
        (seen.lock_age - 3.5).abs() < 1e-9,
        "true age, not ~2,000 years: {}",
        seen.lock_age
    );
    // A read-only request reads the committed content while the lock is held.
    assert_eq!(data(b.get("s").unwrap()), Some(b"v1".to_vec()));
}

#[test]
fn an_expired_lock_is_taken_over_and_the_old_holder_loses_it() {
    let f = Farm::new();
    let a = f.node(true);
    let b = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"base", ex.lock_id, true, None)
        .unwrap();
    let slow = a.get_exclusive("s").unwrap();
    f.clock.advance(LOCK_TTL + 0.1);
    let taker = b.get_exclusive("s").unwrap();
    assert!(!taker.locked && taker.lock_id > slow.lock_id);
    b.set_and_release("s", b"taker", taker.lock_id, false, None)
        .unwrap();
    let err = a
        .set_and_release("s", b"slow", slow.lock_id, false, None)
        .unwrap_err();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    assert_eq!(err.code(), "lock_lost");
    assert_eq!(
        data(a.get("s").unwrap()),
        Some(b"taker".to_vec()),
        "the taker's data survives"
    );
    // The slow holder's release is a no-op, not a delete of the next holder's lock.
    let next = b.get_exclusive("s").unwrap();
    assert!(!a.release("s", slow.lock_id).unwrap());
    assert!(a.get_exclusive("s").unwrap().locked);
    b.release("s", next.lock_id).unwrap();
}

#[test]
fn a_holder_whose_lock_is_taken_while_it_still_holds_it_writes_nothing() {
    let f = Farm::new();
    let a = f.node(false);
    let b = f.node(false);
    let first = a.get_exclusive("s").unwrap();
    f.clock.advance(LOCK_TTL * 2.0);
    let second = b.get_exclusive("s").unwrap();
    // Still held by b: a's fenced write fails and reports who holds it.
    match a
        .set_and_release("s", b"late", first.lock_id, true, None)
        .unwrap_err()
    {
        StateError::LockLost { holder, .. } => assert_eq!(holder, second.lock_id),
        e => panic!("{e}"),
    }
    assert!(a.get("s").unwrap().is_none(), "nothing was written");
}

#[test]
fn release_with_a_foreign_or_zero_lock_id_is_a_no_op() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    assert!(!a.release("s", 0).unwrap());
    assert!(!a.release("s", ex.lock_id + 1).unwrap());
    assert!(a.get_exclusive("s").unwrap().locked, "still locked");
    assert!(a.release("s", ex.lock_id).unwrap());
    assert!(!a.get_exclusive("s").unwrap().locked);
}

#[test]
fn expiry_is_logical_and_renewal_is_cheap() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    let b = f.node(true); // another node: no caches
    let before = f.store.stats();
    f.clock.advance(TIMEOUT * 0.2);
    assert!(b.get("s").unwrap().is_some());
    let after = f.store.stats();
    assert_eq!(
        (
            after.round_trips - before.round_trips,
            after.writes - before.writes
        ),
        (1, 0),
        "read-only: 1 round trip, no write"
    );
    f.clock.advance(TIMEOUT * 0.1); // 30 % since the write: renewal due
    assert!(b.get("s").unwrap().is_some());
    assert_eq!(
        f.store.stats().writes - after.writes,
        1,
        "one conditional renewal"
    );
    // Expires 100 s after the renewal at 30 s: alive at 129, gone at 131 (the store keeps it).
    f.clock.advance(TIMEOUT * 0.99);
    assert!(a.show("s").unwrap().exists);
    f.clock.advance(TIMEOUT * 0.02);
    assert!(
        b.get("s").unwrap().is_none(),
        "expired although the item is still stored"
    );
    assert!(!a.show("s").unwrap().exists);
    // An expired session's lock can be taken and the session recreated.
    let again = a.get_exclusive("s").unwrap();
    assert!(again.content.is_none());
    a.set_and_release("s", b"fresh", again.lock_id, true, None)
        .unwrap();
    assert_eq!(data(b.get("s").unwrap()), Some(b"fresh".to_vec()));
}

#[test]
fn reset_timeout_is_free_when_recently_renewed_and_conditional_otherwise() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    let before = f.store.stats().round_trips;
    assert!(!a.reset_timeout("s").unwrap());
    assert_eq!(
        f.store.stats().round_trips,
        before,
        "renewed moments ago: no round trip"
    );
    f.clock.advance(TIMEOUT * 0.5);
    assert!(a.reset_timeout("s").unwrap());
    f.clock.advance(TIMEOUT * 0.9);
    assert!(
        a.get("s").unwrap().is_some(),
        "alive 90 s after the renewal at 50 s"
    );
}

#[test]
fn costs_in_round_trips() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    let s0 = f.store.stats();
    let ex = a.get_exclusive("s").unwrap();
    let s1 = f.store.stats();
    a.set_and_release("s", b"w", ex.lock_id, false, None)
        .unwrap();
    let s2 = f.store.stats();
    assert_eq!(
        s1.round_trips - s0.round_trips,
        1,
        "acquire-and-read = one conditional patch answering with the item"
    );
    assert_eq!(
        s2.round_trips - s1.round_trips,
        1,
        "write-and-release = one conditional patch"
    );
    a.get("s").unwrap();
    assert_eq!(
        f.store.stats().round_trips - s2.round_trips,
        1,
        "read-only = 1 round trip"
    );
    // Acquire + release without a write: 2.
    let s3 = f.store.stats();
    let ex = a.get_exclusive("s").unwrap();
    assert!(a.release("s", ex.lock_id).unwrap());
    assert_eq!(f.store.stats().round_trips - s3.round_trips, 2);
    // Polling a held lock from another node: the first look tries (412, nothing applied) and
    // reads; every further poll is one read and never writes.
    let held = a.get_exclusive("s").unwrap();
    let b = f.node(true);
    let s4 = f.store.stats();
    assert!(b.get_exclusive("s").unwrap().locked);
    let s5 = f.store.stats();
    assert_eq!(
        (s5.round_trips - s4.round_trips, s5.applied - s4.applied),
        (2, 0)
    );
    for _ in 0..3 {
        let before = f.store.stats();
        let poll = b.get_exclusive("s").unwrap();
        assert!(poll.locked && poll.lock_id == held.lock_id);
        let after = f.store.stats();
        assert_eq!(
            (
                after.round_trips - before.round_trips,
                after.writes - before.writes
            ),
            (1, 0),
            "a poll of a held lock: one read, no write"
        );
    }
    // Released: the next poll reads, sees it free and takes it (2).
    a.release("s", held.lock_id).unwrap();
    let before = f.store.stats();
    assert!(!b.get_exclusive("s").unwrap().locked);
    assert_eq!(f.store.stats().round_trips - before.round_trips, 2);
}

/// Renewal rides on the exclusive request's release: no extra round trip, and only when due.
#[test]
fn an_exclusive_request_renews_in_its_release() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    f.clock.advance(TIMEOUT * 0.5);
    let before = f.store.stats();
    let ex = a.get_exclusive("s").unwrap();
    assert!(a.release("s", ex.lock_id).unwrap());
    assert_eq!(f.store.stats().round_trips - before.round_trips, 2);
    // Renewed at 50 s: alive at 149 s, gone at 151 s (`show` looks without renewing).
    f.clock.advance(TIMEOUT * 0.99);
    assert!(a.show("s").unwrap().exists);
    f.clock.advance(TIMEOUT * 0.02);
    assert!(!a.show("s").unwrap().exists);
}

#[test]
fn compression_can_change_between_restarts() {
    let f = Farm::new();
    let gz = f.node(true);
    let plain = f.node(false);
    let big = b"abcdefgh".repeat(1000);
    let ex = gz.get_exclusive("a").unwrap();
    gz.set_and_release("a", &big, ex.lock_id, true, None)
        .unwrap();
    let ex = plain.get_exclusive("b").unwrap();
    plain
        .set_and_release("b", &big, ex.lock_id, true, None)
        .unwrap();
    assert_eq!(data(plain.get("a").unwrap()), Some(big.clone()));
    assert_eq!(data(gz.get("b").unwrap()), Some(big.clone()));
    let (ia, ib) = (gz.show("a").unwrap(), gz.show("b").unwrap());
    assert!(ia.compressed && !ib.compressed && ia.stored_bytes < ib.stored_bytes / 10);
}

#[test]
fn oversize_content_is_refused_before_sending() {
    let f = Farm::new();
    let a = f.node(false);
    let ex = a.get_exclusive("s").unwrap();
    let before = f.store.stats().round_trips;
    let err = a
        .set_and_release("s", &vec![7u8; 2 * 1024 * 1024], ex.lock_id, true, None)
        .unwrap_err();
    assert_eq!(err.code(), "item_too_large", "{err}");
    assert_eq!(f.store.stats().round_trips, before);
    // Compressible content of the same size fits when compression is on.
    let gz = f.node(true);
    gz.set_and_release("s", &vec![7u8; 2 * 1024 * 1024], ex.lock_id, true, None)
        .unwrap();
}

#[test]
fn session_ids_with_forbidden_characters_map_one_to_one() {
    let f = Farm::new();
    let a = f.node(true);
    for (i, sid) in ["a/b", "a%2Fb", "a\\b", "a?b", "a#b", "a%5Cb"]
        .iter()
        .enumerate()
    {
        let ex = a.get_exclusive(sid).unwrap();
        a.set_and_release(sid, &[i as u8], ex.lock_id, true, None)
            .unwrap();
    }
    for (i, sid) in ["a/b", "a%2Fb", "a\\b", "a?b", "a#b", "a%5Cb"]
        .iter()
        .enumerate()
    {
        assert_eq!(data(a.get(sid).unwrap()), Some(vec![i as u8]), "{sid}");
    }
    assert_eq!(a.get("").unwrap_err().code(), "invalid_session_id");
    assert_eq!(
        a.get(&"x".repeat(81)).unwrap_err().code(),
        "invalid_session_id"
    );
}

#[test]
fn corrupt_content_is_a_typed_error() {
    let f = Farm::new();
    let a = f.node(true);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"ok", ex.lock_id, true, None)
        .unwrap();
    let (pk, id) = cosmos_session_state::layout::session_item("s").unwrap();
    let corrupt = cosmos_session_state::Patch {
        condition: None,
        // base64 of "not gzip", flagged compressed
        ops: vec![PatchOp::Set(
            "content.data",
            serde_json::json!("bm90IGd6aXA="),
        )],
    };
    f.store.patch(&pk, &id, &corrupt, None).unwrap();
    let err = a.get("s").unwrap_err();
    assert_eq!(
        (err.code().name(), err.category().name()),
        ("corrupt_content", "store")
    );
    assert!(err.to_string().contains("gzip"), "{err}");
}

#[test]
fn uninitialized_sessions_remove_and_new_items() {
    let f = Farm::new();
    let a = f.node(true);
    a.create_uninitialized("c", None).unwrap();
    a.create_uninitialized("c", None).unwrap(); // exists: no error
    let got = a.get("c").unwrap().unwrap();
    assert!(got.uninitialized && got.data.is_empty());
    let ex = a.get_exclusive("c").unwrap();
    assert!(ex.content.unwrap().uninitialized);
    a.set_and_release("c", b"x", ex.lock_id, false, None)
        .unwrap();
    assert!(!a.get("c").unwrap().unwrap().uninitialized);
    // Abandon: remove under the lock, then the module's release is a no-op.
    let ex = a.get_exclusive("c").unwrap();
    assert!(a.remove("c", ex.lock_id).unwrap());
    assert!(!a.release("c", ex.lock_id).unwrap());
    assert!(a.get("c").unwrap().is_none());
    // remove with a foreign id (or 0) deletes nothing and the holder keeps its lock.
    let ex = a.get_exclusive("c").unwrap();
    a.set_and_release("c", b"kept", ex.lock_id, true, None)
        .unwrap();
    let ex = a.get_exclusive("c").unwrap();
    assert!(!a.remove("c", ex.lock_id + 7).unwrap());
    assert!(!a.remove("c", 0).unwrap());
    assert!(a.get_exclusive("c").unwrap().locked, "still held");
    assert_eq!(data(a.get("c").unwrap()), Some(b"kept".to_vec()));
    assert!(a.remove("c", ex.lock_id).unwrap());
    // A new item on an id without a lock (Mono: a regenerated id) is created; a live one exists.
    a.set_and_release("fresh", b"n", 12345, true, None).unwrap();
    assert_eq!(
        a.set_and_release("fresh", b"n", 12345, true, None)
            .unwrap_err()
            .code(),
        "session_exists"
    );
    // After remove, the tombstone does not block a new session with the same id.
    a.create_uninitialized("c", None).unwrap();
    assert!(a.get("c").unwrap().unwrap().uninitialized);
}

#[test]
fn force_unlock_breaks_a_stuck_lock() {
    let f = Farm::new();
    let a = f.node(true);
    let crashed = a.get_exclusive("s").unwrap();
    let info = a.show("s").unwrap();
    assert!(info.locked && info.lock_id == crashed.lock_id);
    assert_eq!(a.force_unlock("s").unwrap(), Some(crashed.lock_id));
    assert_eq!(a.force_unlock("s").unwrap(), None);
    assert!(!a.get_exclusive("s").unwrap().locked);
    assert_eq!(
        a.set_and_release("s", b"x", crashed.lock_id, false, None)
            .unwrap_err()
            .code(),
        "lock_lost"
    );
}

#[test]
fn threads_increment_one_counter_without_losing_updates() {
    let f = Farm::new();
    let nodes: Vec<Arc<SessionStateStore>> = (0..4).map(|_| Arc::new(f.node(true))).collect();
    let workers: Vec<_> = nodes
        .iter()
        .cloned()
        .map(|node| {
            std::thread::spawn(move || {
                for _ in 0..25 {
                    loop {
                        let ex = node.get_exclusive("counter").unwrap();
                        if ex.locked {
                            std::thread::yield_now();
                            continue;
                        }
                        let n: u64 = ex
                            .content
                            .map_or(0, |c| String::from_utf8(c.data).unwrap().parse().unwrap());
                        node.set_and_release(
                            "counter",
                            (n + 1).to_string().as_bytes(),
                            ex.lock_id,
                            false,
                            None,
                        )
                        .unwrap();
                        break;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        data(nodes[0].get("counter").unwrap()),
        Some(b"100".to_vec())
    );
}

#[test]
fn options_are_checked() {
    let bad = Options {
        lock_ttl: -1.0,
        ..Options::default()
    };
    let err = SessionStateStore::new(MemoryStore::new(), bad)
        .err()
        .unwrap();
    assert_eq!(err.code(), "invalid_option");
    let a = SessionStateStore::new(MemoryStore::new(), Options::default()).unwrap();
    assert_eq!(
        a.set_and_release("s", b"", 1, true, Some(f64::NAN))
            .unwrap_err()
            .code(),
        "invalid_option"
    );
}

#[test]
fn two_racers_in_the_same_millisecond_never_both_hold_the_lock() {
    // Both nodes share one clock, so both compute the same next lock id; the one whose If-Match
    // loses must see the winner's lock as someone else's (found by a real 4-process run).
    for existing_lock in [false, true] {
        let f = Farm::new();
        let winner = Arc::new(f.node(true));
        if existing_lock {
            let ex = winner.get_exclusive("s").unwrap();
            winner.release("s", ex.lock_id).unwrap();
        }
        let w = winner.clone();
        let won = Arc::new(std::sync::Mutex::new(None));
        let won2 = won.clone();
        // Just before the racer's first write, the winner acquires: an exact interleaving.
        let first = std::sync::Mutex::new(Some(move || {
            *won2.lock().unwrap() = Some(w.get_exclusive("s").unwrap());
        }));
        let racer_store = Intercept::new(f.store.clone(), move |call, run| {
            if call.is_write() {
                if let Some(hook) = first.lock().unwrap().take() {
                    hook();
                }
            }
            run()
        });
        let racer =
            SessionStateStore::with_clock(racer_store, f.clock.clone(), options(true)).unwrap();
        let lost = racer.get_exclusive("s").unwrap();
        let won = won.lock().unwrap().clone().unwrap();
        assert!(!won.locked);
        assert!(
            lost.locked,
            "existing lock {existing_lock}: both racers think they hold the lock"
        );
        assert_eq!(lost.lock_id, won.lock_id);
    }
}

/// The session-state cases of testdata/vectors/errors.json (every surface runs them).
#[test]
fn shared_error_vectors() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/errors.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let s = |k: &str| case[k].as_str().unwrap().to_owned();
        let err = match s("op").as_str() {
            "state_open" => cosmos_session_state::CosmosStore::connect(
                &s("connection_string"),
                Default::default(),
            )
            .err()
            .unwrap(),
            "state_get" => {
                let e = SessionStateStore::new(MemoryStore::new(), Options::default()).unwrap();
                e.get(&s("sid")).unwrap_err()
            }
            "state_write_unlocked" => {
                let e = SessionStateStore::new(MemoryStore::new(), Options::default()).unwrap();
                e.set_and_release(&s("sid"), b"x", 42, false, None)
                    .unwrap_err()
            }
            _ => continue,
        };
        ran += 1;
        assert_eq!(err.code(), case["kind"], "{}", case["id"]);
        assert_eq!(err.category().name(), case["category"], "{}", case["id"]);
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
    // Every session-state case ran (a new op must be added here, not skipped).
    let expected = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["op"].as_str().unwrap().starts_with("state_"))
        .count();
    assert_eq!(ran, expected);
}

/// A removed session is dead for every reader, whatever its clock: a request that read the time
/// just before the removal landed (or a node whose clock is a little behind) must not find the
/// tombstone live and write the session back (found by the Flask logout race).
#[test]
fn a_removed_session_is_dead_for_a_reader_whose_clock_is_behind() {
    let store = Arc::new(MemoryStore::new());
    let ahead = Arc::new(ManualClock::new(1_000.0));
    let behind = Arc::new(ManualClock::new(999.5));
    let a = SessionStateStore::with_clock(store.clone(), ahead, options(true)).unwrap();
    let b = SessionStateStore::with_clock(store.clone(), behind, options(true)).unwrap();
    a.save(
        "s",
        b"1",
        cosmos_session_state::SaveMode::New,
        None,
        std::time::Duration::ZERO,
    )
    .unwrap();
    assert!(a.delete("s", std::time::Duration::ZERO).unwrap());
    let ex = b.get_exclusive("s").unwrap();
    assert!(ex.content.is_none(), "the tombstone read as live");
    assert!(b.release("s", ex.lock_id).unwrap());
    assert!(b.get("s").unwrap().is_none());
    let err = b
        .save(
            "s",
            b"2",
            cosmos_session_state::SaveMode::Existing,
            None,
            std::time::Duration::from_secs(1),
        )
        .unwrap_err();
    assert_eq!(err.code(), "session_gone");
    assert!(!a.show("s").unwrap().exists);
}

/// Second security review, finding 5: with `lock_ttl` above the tombstone's old 60 s `ttl`, a
/// removed session's item was cleaned up by the service while a new request held a lock on it,
/// and a second request then created and locked a fresh item: two holders. The memory store
/// models `ttl` here.
#[test]
fn a_removed_session_is_never_cleaned_up_under_a_live_lock() {
    let clock = Arc::new(ManualClock::new(1_000_000.0));
    let store = Arc::new(MemoryStore::with_ttl(clock.clone()));
    let opts = Options {
        lock_ttl: 120.0,
        ..options(false)
    };
    let node = || SessionStateStore::with_clock(store.clone(), clock.clone(), opts).unwrap();
    let (a, b, c) = (node(), node(), node());
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    let ex = a.get_exclusive("s").unwrap();
    assert!(a.remove("s", ex.lock_id).unwrap(), "removed");
    // A new request locks the removed session; 100 s later (its lock has 20 s left) another
    // request must find it locked.
    let first = b.get_exclusive("s").unwrap();
    assert!(!first.locked);
    clock.advance(100.0);
    let second = c.get_exclusive("s").unwrap();
    assert!(
        second.locked,
        "a second holder: the item was cleaned up under the first one's lock (lock ids {} and {})",
        first.lock_id, second.lock_id
    );
    // The first holder's write lands.
    b.set_and_release("s", b"w", first.lock_id, false, None)
        .unwrap();
    assert_eq!(data(c.get("s").unwrap()), Some(b"w".to_vec()));
    // The same when a node with a shorter lock_ttl wrote the tombstone: the acquisition that
    // looked and found no live content sets the item's ttl itself.
    let short = SessionStateStore::with_clock(
        store.clone(),
        clock.clone(),
        Options {
            lock_ttl: 10.0,
            ..options(false)
        },
    )
    .unwrap();
    let ex = short.get_exclusive("t").unwrap();
    short
        .set_and_release("t", b"v", ex.lock_id, true, None)
        .unwrap();
    let ex = short.get_exclusive("t").unwrap();
    assert!(short.remove("t", ex.lock_id).unwrap());
    // b looks first (a poll of a lock seen held), as contention makes it do.
    let held = short.get_exclusive("t").unwrap();
    let polled = b.get_exclusive("t").unwrap();
    assert!(polled.locked, "held by the short node");
    short.release("t", held.lock_id).unwrap();
    let first = b.get_exclusive("t").unwrap();
    assert!(!first.locked);
    clock.advance(100.0);
    assert!(c.get_exclusive("t").unwrap().locked, "still one holder");
}
