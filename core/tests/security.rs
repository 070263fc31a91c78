//! Regression tests of the outside review's findings that live in the core: bounded work on long
//! inputs (ratio checks against the linear path, never a wall-clock bound), and the limits of
//! scope, resolve and snapshot restore.

use std::time::{Duration, Instant};

use cosmos_session_token::{
    ContainerLimits, MAX_SCOPE_PARENTS, MergePolicy, SessionContainer, SessionToken,
};

/// The fastest of a few runs (the least disturbed by the machine's other work).
fn fastest(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn long_token(n: usize, region: u32) -> String {
    (0..n)
        .map(|i| format!("{i}:1#5#{region}=5"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A conflicting merge (the conflict in the last segment of `other`'s order) costs within a small
/// factor of the clean merge of the same tokens; it was quadratic (15.6 s against 0.05 s).
#[test]
fn conflicting_merge_is_linear() {
    let n = 65_536;
    let a = SessionToken::parse(&long_token(n, 1)).unwrap();
    let clean = SessionToken::parse(&long_token(n, 1)).unwrap();
    // Same ranges; only the last one lists another region at the same version.
    let mut text = long_token(n - 1, 1);
    text.push_str(&format!(",{}:1#5#2=5", n - 1));
    let conflicting = SessionToken::parse(&text).unwrap();
    let t_clean = fastest(|| {
        a.merge(&clean).unwrap();
    });
    let mut err = None;
    let t_conflict = fastest(|| {
        err = Some(a.merge(&conflicting).unwrap_err());
    });
    let err = err.unwrap();
    assert_eq!(err.code(), "region_mismatch");
    assert!(
        err.to_string()
            .contains(&format!("{:?}", (n - 1).to_string())),
        "{err}"
    );
    assert!(
        t_conflict < t_clean * 10 + Duration::from_millis(20),
        "conflicting merge {t_conflict:?} vs clean {t_clean:?}"
    );
}

/// Scope with many parents is linear in the token plus the parents (Python took 14 s for 65,536).
#[test]
fn scope_with_many_parents_is_linear() {
    let n = 65_536;
    let text = long_token(n, 1);
    let token = SessionToken::parse(&text).unwrap();
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let parents: Vec<&str> = ids.iter().map(String::as_str).collect();
    let t_parse = fastest(|| {
        SessionToken::parse(&text).unwrap();
    });
    let t_scope = fastest(|| {
        token.scope("new", &parents).unwrap().unwrap();
    });
    assert!(
        t_scope < t_parse * 20 + Duration::from_millis(20),
        "scope {t_scope:?} vs parse {t_parse:?}"
    );
    let c = SessionContainer::new();
    c.capture("dbs/d/colls/c", "rid", &text, 200, 0).unwrap();
    let t_resolve = fastest(|| {
        c.resolve("rid", "new", &parents).unwrap().unwrap();
    });
    assert!(
        t_resolve < t_parse * 40 + Duration::from_millis(40),
        "resolve {t_resolve:?} vs parse {t_parse:?}"
    );
}

#[test]
fn scope_and_resolve_refuse_too_many_parents() {
    let token = SessionToken::parse("0:1#5").unwrap();
    let parents = vec!["p"; MAX_SCOPE_PARENTS + 1];
    let err = token.scope("1", &parents).unwrap_err();
    assert_eq!(err.code(), "too_many_items");
    assert_eq!(
        cosmos_session_token::Error::from(err).category().name(),
        "limit_exceeded"
    );
    let c = SessionContainer::new();
    c.capture("n", "rid", "0:1#5", 200, 0).unwrap();
    assert_eq!(
        c.resolve("rid", "1", &parents).unwrap_err().code(),
        "too_many_items"
    );
    // At the limit it works.
    assert!(token.scope("1", &parents[1..]).unwrap().is_none());
}

fn snapshot_of(collections: &[(String, Vec<String>, String)]) -> String {
    let list: Vec<String> = collections
        .iter()
        .map(|(rid, names, token)| {
            let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            format!(
                r#"{{"rid":{rid:?},"names":[{}],"token":{token:?}}}"#,
                names.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"format":"cosmos-session-token/container","version":1,"collections":[{}]}}"#,
        list.join(",")
    )
}

/// 2,000,000 names in one collection were all kept: now the snapshot is refused while it is read.
#[test]
fn restore_refuses_snapshots_over_the_limits() {
    let names: Vec<String> = (0..2_000_000).map(|i| format!("n{i}")).collect();
    let text = snapshot_of(&[("rid".into(), names, "0:1#5".into())]);
    let c = SessionContainer::new();
    let err = c.restore(&text).unwrap_err();
    assert_eq!(err.code(), "snapshot_too_large", "{err}");
    assert!(err.to_string().contains("names in one collection"), "{err}");
    assert!(c.resolve_all("rid").is_none(), "nothing restored");

    let limits = ContainerLimits {
        max_collections: 4,
        max_ranges_per_collection: 3,
        ..ContainerLimits::default()
    };
    let small = SessionContainer::with_config(MergePolicy::UNION, limits);
    let many: Vec<_> = (0..5)
        .map(|i| (format!("r{i}"), vec![], "0:1#5".to_string()))
        .collect();
    let err = small.restore(&snapshot_of(&many)).unwrap_err();
    assert_eq!(err.code(), "snapshot_too_large");
    assert!(err.to_string().contains("collections"), "{err}");
    let wide = snapshot_of(&[("r".into(), vec![], "0:1,1:1,2:1,3:1".into())]);
    let err = small.restore(&wide).unwrap_err();
    assert_eq!(err.code(), "snapshot_too_large");
    assert!(
        err.to_string().contains("ranges in one collection"),
        "{err}"
    );
    let twice = snapshot_of(&[
        ("r".into(), vec![], "0:1".into()),
        ("r".into(), vec![], "1:1".into()),
    ]);
    assert_eq!(
        small.restore(&twice).unwrap_err().code(),
        "invalid_snapshot"
    );
    // At the limits it restores.
    small.restore(&snapshot_of(&many[..4])).unwrap();
    assert_eq!(small.resolve_all("r3").unwrap().to_string(), "0:1#5");
}

/// Names per collection are bounded on capture too (the oldest mapping is forgotten), and
/// dropping a collection drops exactly its names.
#[test]
fn names_per_collection_are_bounded() {
    let limits = ContainerLimits {
        max_names_per_collection: 2,
        ..ContainerLimits::default()
    };
    let c = SessionContainer::with_config(MergePolicy::UNION, limits);
    for name in ["a", "b", "c"] {
        c.capture(name, "rid", "0:1#5", 200, 0).unwrap();
    }
    assert!(
        c.resolve_all("a").is_none(),
        "the oldest name was forgotten"
    );
    assert!(c.resolve_all("b").is_some() && c.resolve_all("c").is_some());
    assert!(
        c.snapshot().contains(r#""names":["b","c"]"#),
        "{}",
        c.snapshot()
    );
    // "b" now names another collection: the old one is dropped with its names.
    c.capture("b", "rid2", "0:1#6", 200, 0).unwrap();
    assert!(c.resolve_all("c").is_none() && c.resolve_all("rid").is_none());
    assert_eq!(c.resolve_all("b").unwrap().to_string(), "0:1#6");
}

/// Restoring a large snapshot into a container that already has state stays linear (it was
/// 25 s for 16 MiB): ratio against restoring it into an empty container.
#[test]
fn restore_merges_in_linear_time() {
    let collections: Vec<_> = (0..1024)
        .map(|i| {
            (
                format!("rid{i}"),
                vec![format!("dbs/d/colls/c{i}")],
                long_token(64, 1),
            )
        })
        .collect();
    let text = snapshot_of(&collections);
    let t_empty = fastest(|| {
        SessionContainer::new().restore(&text).unwrap();
    });
    let full = SessionContainer::new();
    full.restore(&text).unwrap();
    let t_merge = fastest(|| full.restore(&text).unwrap());
    assert!(
        t_merge < t_empty * 10 + Duration::from_millis(20),
        "merge {t_merge:?} vs empty {t_empty:?}"
    );
    // Over the collection limit, eviction happens once per batch, not once per collection.
    let limits = ContainerLimits {
        max_collections: 512,
        ..ContainerLimits::default()
    };
    let small = SessionContainer::with_config(MergePolicy::UNION, limits);
    small.restore(&snapshot_of(&collections[..512])).unwrap();
    small.restore(&snapshot_of(&collections[512..])).unwrap();
    let kept = small.snapshot().matches("\"rid\":").count();
    assert!((512 - 512 / 16 - 1..=512).contains(&kept), "{kept}");
}
