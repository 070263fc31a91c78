//! Feed-range merge: lines "MIN-MAX=TOKEN", the first line is the target range. The result (or the
//! error) must not depend on the order of the pairs, and must be exactly what the first
//! implementation (kept as the reference) gives, fates included.
#![no_main]

use cosmos_session_token::{
    __latest_for_feed_range_reference, FeedRange, latest_for_feed_range, latest_token_for_feed_range,
    parse_pair_token,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let Some(Ok(target)) = lines.next().map(FeedRange::parse) else {
        return;
    };
    let mut pairs = Vec::new();
    for line in lines.take(64) {
        let Some((range, token)) = line.split_once('=') else {
            return;
        };
        let (Ok(range), Ok(token)) = (FeedRange::parse(range), parse_pair_token(token)) else {
            return;
        };
        pairs.push((range, token));
    }
    let forward = latest_for_feed_range(&pairs, &target);
    let reference = __latest_for_feed_range_reference(&pairs, &target);
    let token_only = latest_token_for_feed_range(&pairs, &target);
    match (&forward, &reference, &token_only) {
        (Ok(f), Ok(r), Ok(t)) => {
            assert_eq!(f.token.to_string(), r.token.to_string(), "same as the reference");
            assert_eq!(t.to_string(), r.token.to_string(), "token alone");
            assert_eq!(f.fates, r.fates, "same fates as the reference");
        }
        (Err(f), Err(r), Err(t)) => {
            assert_eq!(f.to_string(), r.to_string());
            assert_eq!(t.to_string(), r.to_string());
        }
        _ => panic!("success differs from the reference"),
    }
    pairs.reverse();
    let backward = latest_for_feed_range(&pairs, &target);
    match (forward, backward) {
        (Ok(f), Ok(b)) => assert_eq!(
            f.token.to_string(),
            b.token.to_string(),
            "order independent"
        ),
        (Err(f), Err(b)) => assert_eq!(f.code(), b.code()),
        _ => panic!("success depends on the order of the pairs"),
    }
});
