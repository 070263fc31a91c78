//! Regression tests of the outside review's findings in the session-state engine: secrets and
//! session ids never in errors, lock ids checked, one content limit both ways, a failed decode
//! that gives its lock back, and the bounded-wait save/delete the web adapters use.

mod intercept;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use cosmos_session_state::{
    ConnectionString, MAX_CONTENT_BYTES, MAX_LOCK_ID, MemoryStore, Options, SaveMode,
    SessionStateStore, Store, session_fingerprint,
};
use cosmos_session_state::{Outcome, Reply};
use intercept::{Call, Intercept, raw_item, retried};
use serde_json::json;

fn engine(store: Arc<MemoryStore>) -> SessionStateStore {
    SessionStateStore::new(store, Options::default()).unwrap()
}

/// Every 8-byte window of `secret` that appears in `text`, if any.
fn leaked<'a>(secret: &'a str, text: &str) -> Option<&'a str> {
    (0..=secret.len().saturating_sub(8))
        .map(|i| &secret[i..i + 8])
        .find(|w| text.contains(w))
}

#[test]
fn connection_string_errors_never_contain_the_key() {
    for round in 0..20 {
        let raw: Vec<u8> = (0..64).map(|_| fastrand::u8(..)).collect();
        let key = base64::engine::general_purpose::STANDARD.encode(&raw);
        let malformed = [
            key.clone(),
            format!("{key};"),
            format!("AccountKey:{key}"),
            format!("AccountEndpoint=https://a.example/;AccountKey:{key}"),
            format!("AccountEndpoint=https://a.example/;{key}"),
            format!("{key};AccountEndpoint=https://a.example/"),
            format!("AccountKey={key}"),
            format!("AccountEndpoint={key};AccountKey={key}"),
            format!("AccountEndpoint=http://a.example/;AccountKey={key}"),
            format!("AccountEndpoint=ftp://a.example/;AccountKey={key}"),
            format!("AccountEndpoint=https://a.example/;AccountKey={key};Extra={key}"),
            format!("AccountEndpoint=https://a.example/;AccountKey={key} x"),
            format!("AccountEndpoint=https://a.example/;AccountKey={key};AllowInsecureHttp={key}"),
            format!("AccountEndpoint=https://a b/;AccountKey={key}"),
            format!("Account{key}=1"),
        ];
        for text in &malformed {
            let err = ConnectionString::parse(text).expect_err(text);
            for shown in [err.to_string(), format!("{err:?}")] {
                assert_eq!(
                    leaked(&key, &shown),
                    None,
                    "round {round}: {text:?} -> {shown}"
                );
            }
            assert_eq!(err.code(), "invalid_connection_string");
        }
        let good = ConnectionString::parse(&format!(
            "AccountEndpoint=https://a.example/;AccountKey={key}"
        ))
        .unwrap();
        assert_eq!(leaked(&key, &format!("{good:?}")), None);
    }
}

#[test]
fn session_ids_never_appear_in_errors() {
    let store = Arc::new(MemoryStore::new());
    let e = engine(store);
    let sid = "bearer-credential-0123456789";
    let ex = e.get_exclusive(sid).unwrap();
    e.force_unlock(sid).unwrap();
    let err = e
        .set_and_release(sid, b"x", ex.lock_id, false, None)
        .unwrap_err();
    assert_eq!(err.code(), "lock_lost");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(sid), "{text}");
    assert!(text.contains(&session_fingerprint(sid)), "{text}");
    // It says what was observed: nobody holds it now, nothing "expired".
    assert!(!err.to_string().contains("expired"), "{err}");
    assert!(!err.to_string().contains("lock 0"), "{err}");
    let big = vec![0u8; MAX_CONTENT_BYTES + 1];
    let err = e
        .save(sid, &big, SaveMode::New, None, Duration::ZERO)
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(sid));
}

#[test]
fn lock_ids_are_checked() {
    let e = engine(Arc::new(MemoryStore::new()));
    for id in [u64::MAX, MAX_LOCK_ID + 1] {
        for err in [
            e.set_and_release("s", b"x", id, true, None).unwrap_err(),
            e.release("s", id).unwrap_err(),
            e.remove("s", id).unwrap_err(),
        ] {
            assert_eq!(err.code(), "invalid_argument", "{err}");
        }
    }
    // At the top of the range the next id is refused as corrupt, never wrapped or panicked on.
    let store = Arc::new(MemoryStore::new());
    let (pk, body) = raw_item("s", json!({"lock_id": MAX_LOCK_ID}), json!({}));
    store.create(&pk, body, None).unwrap();
    let err = engine(store).get_exclusive("s").unwrap_err();
    assert_eq!(err.code(), "corrupt_content", "{err}");
}

#[test]
fn one_content_limit_on_write_and_read() {
    let store = Arc::new(MemoryStore::new());
    let e = engine(store.clone());
    let ex = e.get_exclusive("s").unwrap();
    // 200 MiB of zeros compresses to a small item, but could never be read back: refused.
    let err = e
        .set_and_release(
            "s",
            &vec![0u8; MAX_CONTENT_BYTES + 1],
            ex.lock_id,
            true,
            None,
        )
        .unwrap_err();
    assert_eq!(err.code(), "item_too_large");
    assert!(err.to_string().contains("uncompressed"), "{err}");
    e.set_and_release("s", &vec![0u8; MAX_CONTENT_BYTES], ex.lock_id, true, None)
        .unwrap();
    assert_eq!(e.get("s").unwrap().unwrap().data.len(), MAX_CONTENT_BYTES);

    // An item written by something else that inflates past the limit: the read fails, the lock
    // it took is given back, and the session can still be deleted.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &vec![0u8; MAX_CONTENT_BYTES + 1]).unwrap();
    let packed = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    let (pk, body) = raw_item(
        "bomb",
        json!({}),
        json!({"data": packed, "compressed": true, "renewed_at": 0.0, "expires_at": 1e12}),
    );
    store.create(&pk, body, None).unwrap();
    let err = e.get_exclusive("bomb").unwrap_err();
    assert_eq!(err.code(), "corrupt_content");
    let again = e.get_exclusive("bomb").unwrap_err();
    assert_eq!(again.code(), "corrupt_content", "not left locked");
    assert!(!e.show("bomb").unwrap().locked);
    assert!(e.delete("bomb", Duration::ZERO).unwrap());
    assert!(e.get("bomb").unwrap().is_none());
}

#[test]
fn a_deleted_session_is_never_recreated_by_a_save() {
    let e = engine(Arc::new(MemoryStore::new()));
    let wait = Duration::from_secs(2);
    e.save("s", b"logged-in", SaveMode::New, None, wait)
        .unwrap();
    assert!(e.delete("s", wait).unwrap());
    let err = e
        .save("s", b"still-here", SaveMode::Existing, None, wait)
        .unwrap_err();
    assert_eq!(err.code(), "session_gone");
    assert!(e.get("s").unwrap().is_none());
    assert!(!e.delete("s", wait).unwrap(), "nothing left to delete");
}

#[test]
fn delete_waits_for_the_lock_within_its_bound() {
    let e = Arc::new(engine(Arc::new(MemoryStore::new())));
    e.save("s", b"x", SaveMode::New, None, Duration::ZERO)
        .unwrap();
    let held = e.get_exclusive("s").unwrap();
    let err = e.delete("s", Duration::from_millis(60)).unwrap_err();
    assert_eq!(err.code(), "lock_wait_timeout");
    assert_eq!(err.category().name(), "store");
    // A delete that starts while the lock is held finishes once it is released.
    let deleter = {
        let e = e.clone();
        std::thread::spawn(move || e.delete("s", Duration::from_secs(10)))
    };
    std::thread::sleep(Duration::from_millis(100));
    e.set_and_release("s", b"saved meanwhile", held.lock_id, false, None)
        .unwrap();
    assert!(deleter.join().unwrap().unwrap());
    assert!(e.get("s").unwrap().is_none());
}

/// The fingerprint cases of testdata/vectors/web.json (every surface runs them).
#[test]
fn fingerprint_vectors() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/web.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        if case["op"] == "fingerprint" {
            assert_eq!(
                json!(session_fingerprint(case["sid"].as_str().unwrap())),
                case["expect"],
                "{}",
                case["id"]
            );
            ran += 1;
        }
    }
    assert!(ran >= 3);
}

/// Waiting for a held lock backs off (10 ms doubling to 250 ms): a 600 ms wait costs a handful of
/// round trips and no write, not the 60 of a 100 Hz poll.
#[test]
fn waiting_for_a_lock_polls_with_backoff() {
    let store = Arc::new(MemoryStore::new());
    let e = engine(store.clone());
    e.save("s", b"x", SaveMode::New, None, Duration::ZERO)
        .unwrap();
    let _held = e.get_exclusive("s").unwrap();
    let before = store.stats();
    let err = e.delete("s", Duration::from_millis(600)).unwrap_err();
    assert_eq!(err.code(), "lock_wait_timeout");
    let after = store.stats();
    let polls = after.round_trips - before.round_trips;
    assert!((3..=12).contains(&polls), "{polls} round trips");
    assert_eq!(
        after.applied, before.applied,
        "polling a held lock never writes"
    );
    assert!(
        after.writes - before.writes <= 1,
        "only the first attempt tries the lock (and changes nothing); polls read"
    );
}

/// The fence never depends on a cache: a holder whose lock was taken over cannot create the
/// session's content through `new_item`, whether or not its node still remembers the lock
/// (a second engine over the same store has no cache at all).
#[test]
fn new_item_writes_are_fenced_against_the_stored_lock() {
    use cosmos_session_state::ManualClock;
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(1_000.0));
    let options = Options {
        lock_ttl: 10.0,
        ..Options::default()
    };
    let node =
        |_: u8| SessionStateStore::with_clock(store.clone(), clock.clone(), options).unwrap();
    let (a, b, c) = (node(1), node(2), node(3));
    let first = a.get_exclusive("s").unwrap(); // a new session: no content yet
    clock.advance(11.0); // a's lock expires...
    let taker = c.get_exclusive("s").unwrap(); // ...and c takes it over
    assert!(!taker.locked && taker.lock_id > first.lock_id);
    for engine in [&b, &a] {
        let err = engine
            .set_and_release("s", b"stale", first.lock_id, true, None)
            .unwrap_err();
        assert_eq!(err.code(), "lock_lost", "{err}");
        assert!(
            err.to_string().contains(&taker.lock_id.to_string()),
            "{err}"
        );
    }
    assert!(
        b.get("s").unwrap().is_none(),
        "nothing was written past the lock"
    );
    c.set_and_release("s", b"taker", taker.lock_id, true, None)
        .unwrap();
    assert_eq!(b.get("s").unwrap().unwrap().data, b"taker");
    // The legitimate case: a new id written with an unrelated (old) lock id, no lock item yet.
    b.set_and_release("fresh", b"new", 12_345, true, None)
        .unwrap();
    assert_eq!(a.get("fresh").unwrap().unwrap().data, b"new");
    // A live session under the id is still "exists", and ids keep growing after the write.
    let err = b
        .set_and_release("fresh", b"again", 1, true, None)
        .unwrap_err();
    assert_eq!(err.code(), "session_exists");
    assert!(a.get_exclusive("fresh").unwrap().lock_id > 12_345);
}

/// A store whose lock acquisitions are refused as if another request had changed the lock
/// (contention) `refused` times, then applied with their answer lost: the client's retry sees
/// 409/412.
fn lost_answers(refused: usize) -> Intercept<MemoryStore> {
    let left = AtomicUsize::new(refused);
    Intercept::new(MemoryStore::new(), move |call, run| {
        if !call.is_acquisition() {
            return run();
        }
        let lost = match call {
            Call::Create(_) => Outcome::Conflict,
            _ => Outcome::PreconditionFailed,
        };
        if left.load(Ordering::SeqCst) > 0 {
            left.fetch_sub(1, Ordering::SeqCst);
            return Ok(Reply::plain(lost));
        }
        run()?;
        Ok(retried(lost))
    })
}

/// An acquisition whose last compare-and-swap landed but whose answer was lost is recognised as
/// ours (it was reported as a lock held by someone else, and the session stayed locked for
/// lock_ttl with nobody knowing).
#[test]
fn an_acquisition_whose_answer_was_lost_is_ours() {
    for refused in [0, 3, 7] {
        let e = SessionStateStore::new(lost_answers(refused), Options::default()).unwrap();
        let ex = e.get_exclusive("s").unwrap();
        assert!(
            !ex.locked,
            "refused {refused}: reported as locked by {}",
            ex.lock_id
        );
        e.set_and_release("s", b"mine", ex.lock_id, true, None)
            .unwrap();
        assert_eq!(e.get("s").unwrap().unwrap().data, b"mine");
    }
}
