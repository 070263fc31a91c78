//! Laws of [`SessionFlow`] over random traffic: the token it sends for a partition is at least
//! what the SDK sent for that partition and what the flow captured for it, it never names
//! another range, and a flow restored from a snapshot sends the same tokens.

use cosmos_session_token::{
    MergePolicy, Order, Outgoing, PartitionKeyDefinition, PartitionKeyValue, RoutingMap,
    SessionFlow, SessionToken, epk_range,
};
use proptest::prelude::*;

const COLL: &str = "/dbs/d/colls/c";

/// A routing map of `n` equal ranges (ids "r0".."r{n-1}"), each split from "p{i/2}".
fn map_text(n: usize) -> String {
    let bound = |i: usize| match i {
        0 => String::new(),
        i if i == n => "FF".into(),
        i => format!("{:02X}", i * 0xFF / n),
    };
    let ranges: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"r{i}","minInclusive":"{}","maxExclusive":"{}","parents":["p{}"]}}"#,
                bound(i),
                bound(i + 1),
                i / 2
            )
        })
        .collect();
    format!(r#"{{"PartitionKeyRanges":[{}]}}"#, ranges.join(","))
}

fn learned(n: usize) -> SessionFlow {
    let f = SessionFlow::new();
    f.after_response(
        "GET",
        COLL,
        200,
        &[],
        Some(br#"{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#),
    );
    f.after_response(
        "GET",
        "/dbs/d/colls/c/pkranges",
        200,
        &[],
        Some(map_text(n).as_bytes()),
    );
    f
}

fn range_of(n: usize, key: &str) -> String {
    let map = RoutingMap::parse(&map_text(n)).unwrap();
    let span = epk_range(
        &PartitionKeyValue::parse_json(key).unwrap(),
        PartitionKeyDefinition::hash_v2(),
    )
    .unwrap();
    map.ranges_for(&span).unwrap()[0].id.clone()
}

/// A token of some of the ranges and parents of an `n`-range map.
fn token_strategy(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::btree_map(0..(n + n / 2 + 1), (0i64..3, 0i64..1000), 1..8).prop_map(
        move |m| {
            m.into_iter()
                .map(|(i, (v, lsn))| {
                    let id = if i < n {
                        format!("r{i}")
                    } else {
                        format!("p{}", i - n)
                    };
                    format!("{id}:{v}#{lsn}#0={lsn}")
                })
                .collect::<Vec<_>>()
                .join(",")
        },
    )
}

fn sent(f: &SessionFlow, key: &str, sdk: Option<&str>) -> Option<SessionToken> {
    let mut headers = vec![("x-ms-documentdb-partitionkey", key)];
    if let Some(t) = sdk {
        headers.push(("x-ms-session-token", t));
    }
    match f.before_request("GET", "/dbs/d/colls/c/docs/x", &headers) {
        Outgoing::Set(t) => Some(SessionToken::parse(&t).unwrap()),
        Outgoing::Leave => None,
    }
}

fn at_least(sent: &SessionToken, wanted: &SessionToken) -> bool {
    matches!(sent.compare(wanted), Order::Greater | Order::Equal)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sends_at_least_the_sdks_and_its_own_progress_and_only_the_partitions_range(
        n in 1usize..12,
        captures in proptest::collection::vec(token_strategy(12), 0..4),
        sdk in proptest::option::of(token_strategy(12)),
        key in "[a-z]{1,6}",
    ) {
        let f = learned(n);
        for t in &captures {
            f.after_response("POST", "/dbs/d/colls/c/docs", 201, &[("x-ms-session-token", t)], None);
        }
        let key = format!("[\"{key}\"]");
        let range = range_of(n, &key);
        let map = RoutingMap::parse(&map_text(n)).unwrap();
        let parents: Vec<&str> = map.ranges().iter().find(|r| r.id == range).unwrap()
            .parents.iter().map(String::as_str).collect();
        let out = sent(&f, &key, sdk.as_deref());
        if let Some(out) = &out {
            prop_assert_eq!(out.len(), 1);
            prop_assert_eq!(out.iter().next().unwrap().range_id(), range.as_str(), "another range's segment");
        }
        // At least the SDK's token for this partition, and the flow's own progress for it (all
        // its captures merged, then scoped: a range's own segment, else its parents').
        let parsed: Vec<SessionToken> = captures.iter().map(|t| SessionToken::parse(t).unwrap()).collect();
        let own = SessionToken::merge_all(&parsed, &MergePolicy::UNION).unwrap();
        let sdk_token = sdk.as_deref().map(|t| SessionToken::parse(t).unwrap());
        let wanted = sdk_token.iter().chain(own.iter()).filter_map(|t| t.scope(&range, &parents).ok().flatten());
        for w in wanted {
            let out = out.as_ref();
            prop_assert!(out.is_some_and(|o| at_least(o, &w)), "sent {:?}, needed {}", out.map(|o| o.to_string()), w);
        }
        // A flow restored from the snapshot sends the same.
        let g = SessionFlow::restore(&f.snapshot()).unwrap();
        prop_assert_eq!(sent(&g, &key, sdk.as_deref()).map(|t| t.to_string()), out.map(|t| t.to_string()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// A user's progress that crossed nodes in a flow cookie sends what it sent on the node that
    /// sealed it, and the cookie carries none of the other users' progress.
    #[test]
    fn a_flow_cookie_carries_a_users_progress_and_only_theirs(
        n in 1usize..12,
        mine in proptest::collection::vec(token_strategy(12), 1..4),
        theirs in proptest::collection::vec(token_strategy(12), 0..3),
        key in "[a-z]{1,6}",
    ) {
        use cosmos_session_token::{CookieVerdict, FlowCookies, SealedCookie};
        let seal_key = b"0123456789abcdef0123456789abcdef";
        let (a, b) = (FlowCookies::new(&[&seal_key[..]], 64 << 10).unwrap(), FlowCookies::new(&[&seal_key[..]], 64 << 10).unwrap());
        for node in [&a, &b] {
            let teach = node.open("", None);
            let learned = learned(n);
            teach.flow().merge_snapshot(&learned.snapshot()).unwrap();
        }
        let alice = a.open("alice", None);
        let bob = a.open("bob", None);
        for t in &mine {
            alice.flow().after_response("POST", "/dbs/d/colls/c/docs", 201, &[("x-ms-session-token", t)], None);
        }
        for t in &theirs {
            bob.flow().after_response("POST", "/dbs/d/colls/c/docs", 201, &[("x-ms-session-token", t)], None);
        }
        let SealedCookie::Value(cookie) = a.seal(&alice) else { panic!("alice's progress moved") };
        let again = b.open("alice", Some(&cookie));
        prop_assert_eq!(again.verdict(), CookieVerdict::Accepted);
        let key = format!("[\"{key}\"]");
        prop_assert_eq!(
            sent(again.flow(), &key, None).map(|t| t.to_string()),
            sent(alice.flow(), &key, None).map(|t| t.to_string())
        );
        let carried = again.flow().container().snapshot();
        let own = alice.flow().container().snapshot();
        prop_assert_eq!(carried, own, "exactly alice's progress, none of bob's");
    }
}
