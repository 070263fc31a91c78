//! Feed-range merge: lines "MIN-MAX=TOKEN", the first line is the target range. The result (or the
//! error) must not depend on the order of the pairs.
#![no_main]

use cosmos_session_token::{FeedRange, latest_for_feed_range, parse_pair_token};
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
