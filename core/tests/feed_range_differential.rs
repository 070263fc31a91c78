//! The fast feed-range merge (`feed_range/latest.rs`) gives exactly what the first implementation
//! (kept as `__latest_for_feed_range_reference`) gives: the same token text, the same fate for
//! every pair, the same error — and `latest_token_for_feed_range` the same token.

use cosmos_session_token::{
    __latest_for_feed_range_reference, FeedRange, SessionToken, latest_for_feed_range,
    latest_token_for_feed_range,
};
use proptest::prelude::*;

/// Bounds that exercise the packed keys: short and long (past 16 digits, differing only there),
/// a bound and its zero-padded twin ("A" and "A0"), start and end.
const BOUNDS: [&str; 12] = [
    "",
    "0",
    "05",
    "1FFFFFFFFFFFFFFFFF0",
    "1FFFFFFFFFFFFFFFFF8",
    "20",
    "A",
    "A0",
    "A01",
    "C0",
    "EEEEEEEEEEEEEEEEEEEEEE",
    "FF",
];

/// One value text: simple, or vector with 0-3 regions (region sets differ between values).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => (0i64..30).prop_map(|g| g.to_string()),
        4 => (
            -2i64..3,
            0i64..30,
            prop::collection::btree_map(0u32..4, -1i64..8, 0..4)
        )
            .prop_map(|(v, g, regions)| {
                let mut s = format!("{v}#{g}");
                for (id, lsn) in regions {
                    s.push_str(&format!("#{id}={lsn}"));
                }
                s
            }),
    ]
}

/// A token: mostly one segment, sometimes compound; range ids from a small set so that ids
/// repeat across ranges.
fn token() -> impl Strategy<Value = SessionToken> {
    prop::collection::btree_map(
        prop_oneof![Just("0"), Just("1"), Just("2"), Just("10"), Just("a")],
        value(),
        1..4,
    )
    .prop_filter_map("a token", |segments| {
        // Compound tokens are rarer than single ones, as in practice.
        let text = segments
            .iter()
            .take(if segments.len() > 1 && segments.len() % 2 == 0 {
                2
            } else {
                1
            })
            .map(|(id, v)| format!("{id}:{v}"))
            .collect::<Vec<_>>()
            .join(",");
        SessionToken::parse(&text).ok()
    })
}

fn range() -> impl Strategy<Value = FeedRange> {
    (0usize..BOUNDS.len(), 1usize..BOUNDS.len()).prop_filter_map("min below max", |(a, len)| {
        let b = (a + len).min(BOUNDS.len() - 1);
        FeedRange::new(BOUNDS[a], BOUNDS[b]).ok()
    })
}

fn pairs() -> impl Strategy<Value = Vec<(FeedRange, SessionToken)>> {
    // Few distinct ranges, so identical ranges (groups of 2, 3 and more) are common.
    (
        prop::collection::vec(range(), 1..5),
        prop::collection::vec((any::<prop::sample::Index>(), token()), 1..14),
    )
        .prop_map(|(ranges, picks)| {
            picks
                .into_iter()
                .map(|(i, t)| (i.get(&ranges).clone(), t))
                .collect()
        })
}

fn target() -> impl Strategy<Value = FeedRange> {
    prop_oneof![Just(FeedRange::new("", "FF").unwrap()), range()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn fast_merge_matches_the_reference(pairs in pairs(), target in target()) {
        let fast = latest_for_feed_range(&pairs, &target);
        let reference = __latest_for_feed_range_reference(&pairs, &target);
        let token_only = latest_token_for_feed_range(&pairs, &target);
        match (&fast, &reference, &token_only) {
            (Ok(f), Ok(r), Ok(t)) => {
                prop_assert_eq!(f.token.to_string(), r.token.to_string());
                prop_assert_eq!(t.to_string(), r.token.to_string());
                prop_assert_eq!(&f.fates, &r.fates);
            }
            (Err(f), Err(r), Err(t)) => {
                prop_assert_eq!(f.to_string(), r.to_string());
                prop_assert_eq!(t.to_string(), r.to_string());
            }
            _ => prop_assert!(false, "{:?} vs reference {:?} (token only {:?})",
                fast.as_ref().map(|l| l.token.to_string()),
                reference.as_ref().map(|l| l.token.to_string()),
                token_only.as_ref().map(ToString::to_string)),
        }
    }
}

/// The generator reaches the interesting cases: groups of three or more singles, compound
/// tokens, dropped parents, and results that need the general merge path.
#[test]
fn generator_reaches_every_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut big_groups, mut compound, mut dropped) = (0, 0, 0);
    for _ in 0..2000 {
        let pairs = pairs().new_tree(&mut runner).unwrap().current();
        let mut counts = std::collections::HashMap::new();
        for (r, t) in &pairs {
            *counts.entry(r.clone()).or_insert(0) += usize::from(t.len() == 1);
            compound += usize::from(t.len() > 1);
        }
        big_groups += counts.values().filter(|&&c| c >= 3).count();
        let target = FeedRange::new("", "FF").unwrap();
        if let Ok(l) = latest_for_feed_range(&pairs, &target) {
            dropped += l
                .fates
                .iter()
                .filter(|f| {
                    matches!(
                        f,
                        cosmos_session_token::PairFate::DroppedCoveredByNewerChildren { .. }
                            | cosmos_session_token::PairFate::DroppedDominatedByParent { .. }
                    )
                })
                .count();
        }
    }
    assert!(big_groups > 200, "groups of 3+: {big_groups}");
    assert!(compound > 200, "compound tokens: {compound}");
    assert!(dropped > 200, "dropped pairs: {dropped}");
}
