//! Session container: concurrency, snapshots, limits and errors.

use std::sync::Arc;
use std::thread;

use cosmos_session_token::{ContainerLimits, MergePolicy, SessionContainer, SessionToken};

const NAME: &str = "dbs/db/colls/orders";

/// Deterministic pseudo-random tokens whose merges are associative (one region set per version).
fn token(seed: u64) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51afd7ed558ccd);
        x % m
    };
    let range = next(8);
    let version = next(3);
    format!(
        "{range}:{version}#{}#1={}#2={}",
        next(1000),
        next(1000),
        next(1000)
    )
}

#[test]
fn concurrent_captures_equal_the_sequential_merge() {
    let c = Arc::new(SessionContainer::new());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = Arc::clone(&c);
            thread::spawn(move || {
                for i in 0..2000u64 {
                    let seed = t * 10_000 + i;
                    assert!(c.capture(NAME, "rid1", &token(seed), 200, 0).unwrap());
                    // resolvers run at the same time
                    let _ = c
                        .resolve(NAME, &(seed % 8).to_string(), &["0", "1"])
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let all: Vec<SessionToken> = (0..4u64)
        .flat_map(|t| (0..2000u64).map(move |i| t * 10_000 + i))
        .map(|seed| SessionToken::parse(&token(seed)).unwrap())
        .collect();
    let expected = SessionToken::merge_all(&all, &MergePolicy::UNION)
        .unwrap()
        .unwrap();
    assert_eq!(c.resolve_all(NAME).unwrap(), expected);
}

#[test]
fn snapshot_round_trip_and_restore_merges() {
    let a = SessionContainer::new();
    a.capture(NAME, "rid1", "0:1#100#1=20,1:-1#42", 200, 0)
        .unwrap();
    a.capture("dbs/db/colls/b", "rid2", "range_a:5", 201, 0)
        .unwrap();
    let snap = a.snapshot();
    assert_eq!(
        snap,
        r#"{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"rid1","names":["dbs/db/colls/orders"],"token":"0:1#100#1=20,1:-1#42"},{"rid":"rid2","names":["dbs/db/colls/b"],"token":"range_a:5"}]}"#
    );
    let b = SessionContainer::new();
    b.capture(NAME, "rid1", "0:1#101#1=10,2:3", 200, 0).unwrap();
    b.restore(&snap).unwrap();
    assert_eq!(
        b.resolve_all(NAME).unwrap().to_string(),
        "0:1#101#1=20,1:-1#42,2:3"
    );
    assert_eq!(
        b.resolve("dbs/db/colls/b", "range_a", &[])
            .unwrap()
            .unwrap()
            .to_string(),
        "range_a:5"
    );
    // restoring twice changes nothing (merge is idempotent)
    let before = b.snapshot();
    b.restore(&snap).unwrap();
    assert_eq!(b.snapshot(), before);
    let empty = SessionContainer::new();
    assert_eq!(
        empty.snapshot(),
        r#"{"format":"cosmos-session-token/container","version":1,"collections":[]}"#
    );
}

#[test]
fn restore_keeps_the_live_name_mapping() {
    let live = SessionContainer::new();
    live.capture(NAME, "rid-new", "0:1#1", 200, 0).unwrap();
    let old = SessionContainer::new();
    old.capture(NAME, "rid-old", "0:1#99", 200, 0).unwrap();
    live.restore(&old.snapshot()).unwrap();
    assert_eq!(
        live.resolve(NAME, "0", &[]).unwrap().unwrap().to_string(),
        "0:1#1"
    );
    assert_eq!(
        live.resolve("rid-old", "0", &[])
            .unwrap()
            .unwrap()
            .to_string(),
        "0:1#99"
    );
}

#[test]
fn bad_snapshots_are_rejected_without_changes() {
    let c = SessionContainer::new();
    c.capture(NAME, "rid1", "0:1#5", 200, 0).unwrap();
    let before = c.snapshot();
    for (snap, code) in [
        ("", "invalid_snapshot"),
        ("[]", "invalid_snapshot"),
        (
            r#"{"format":"x","version":1,"collections":[]}"#,
            "invalid_snapshot",
        ),
        (
            r#"{"format":"cosmos-session-token/container","version":2,"collections":[]}"#,
            "invalid_snapshot",
        ),
        (
            r#"{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"r","token":"0:x"}]}"#,
            "invalid_snapshot",
        ),
        (
            r#"{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"","token":"0:1"}]}"#,
            "invalid_snapshot",
        ),
        (
            r#"{"format":"cosmos-session-token/container","version":1,"collections":[],"extra":1}"#,
            "invalid_snapshot",
        ),
        (
            &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            "invalid_snapshot",
        ),
    ] {
        let err = c.restore(snap).unwrap_err();
        assert_eq!(err.code(), code, "{snap:.60}: {err}");
    }
    let strict = SessionContainer::with_config(MergePolicy::DEFAULT, ContainerLimits::default());
    strict
        .capture(NAME, "rid1", "0:1#5#1=1,1:1#1", 200, 0)
        .unwrap();
    let conflicting = r#"{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"rid1","token":"1:1#9,0:1#5#2=2"}]}"#;
    assert_eq!(
        strict.restore(conflicting).unwrap_err().code(),
        "region_mismatch"
    );
    assert_eq!(
        strict.resolve_all("rid1").unwrap().to_string(),
        "0:1#5#1=1,1:1#1",
        "unchanged"
    );
    let small = SessionContainer::with_config(
        MergePolicy::UNION,
        ContainerLimits {
            max_snapshot_bytes: 10,
            ..Default::default()
        },
    );
    assert_eq!(
        small.restore(&before).unwrap_err().code(),
        "snapshot_too_large"
    );
    assert_eq!(c.snapshot(), before);
}

#[test]
fn capture_errors() {
    let c = SessionContainer::new();
    assert_eq!(
        c.capture(NAME, "", "0:1", 200, 0).unwrap_err().code(),
        "empty_resource_id"
    );
    assert_eq!(
        c.capture(NAME, "rid1", "0:x", 200, 0).unwrap_err().code(),
        "not_a_number"
    );
    // not captured statuses do not even parse the token
    assert!(!c.capture(NAME, "rid1", "garbage", 429, 0).unwrap());
    let strict = SessionContainer::with_config(MergePolicy::DEFAULT, ContainerLimits::default());
    strict
        .capture(NAME, "rid1", "0:1#5#1=1,1:1#1", 200, 0)
        .unwrap();
    assert_eq!(
        strict
            .capture(NAME, "rid1", "1:1#9,0:1#5#2=2", 200, 0)
            .unwrap_err()
            .code(),
        "region_mismatch"
    );
    assert_eq!(
        strict.resolve_all(NAME).unwrap().to_string(),
        "0:1#5#1=1,1:1#1",
        "a failed capture changes nothing"
    );
}

#[test]
fn memory_is_bounded() {
    let limits = ContainerLimits {
        max_collections: 2,
        max_ranges_per_collection: 3,
        ..Default::default()
    };
    let c = SessionContainer::with_config(MergePolicy::UNION, limits);
    c.capture("a", "ra", "0:1,1:1,2:1", 200, 0).unwrap();
    c.resolve("a", "0", &[]).unwrap(); // range 0 used recently
    c.capture("a", "ra", "3:1", 200, 0).unwrap(); // over 3 ranges: the least recently used (1 or 2) goes
    let all = c.resolve_all("a").unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.contains("0") && all.contains("3"));
    c.capture("b", "rb", "0:1", 200, 0).unwrap();
    c.resolve("a", "0", &[]).unwrap();
    c.capture("c", "rc", "0:1", 200, 0).unwrap(); // third collection: b (least recently used) goes
    assert!(c.resolve_all("b").is_none());
    assert!(c.resolve_all("a").is_some() && c.resolve_all("c").is_some());
    assert!(c.forget_range("a", "0"));
    assert!(!c.forget_range("a", "0"));
    assert!(!c.forget_range("zzz", "0"));
}
