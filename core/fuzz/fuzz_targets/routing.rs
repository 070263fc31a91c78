//! Partition keys and routing maps on arbitrary input, split at the first two '\n': a partition
//! key (JSON), a routing map (JSON), a token. Effective partition keys are upper-case hex of
//! whole bytes under every definition that accepts the key; a map that parses covers ""..FF in
//! order and every EPK lands in a range that holds it; the tokens sent for a key or a feed range
//! only name ranges of the map.
#![no_main]

use cosmos_session_token::{
    FeedRange, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyValue, RoutingMap,
    SessionToken, epk_range, token_for_feed_range, token_for_partition_key,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (key, map, token) = (parts.next().unwrap_or(""), parts.next(), parts.next());
    let Ok(components) = PartitionKeyValue::parse_json(key) else {
        return;
    };
    let definitions = [
        PartitionKeyDefinition::new(PartitionKeyKind::Hash, 1, 1),
        PartitionKeyDefinition::new(PartitionKeyKind::Hash, 2, 1),
        PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 2, 3),
    ];
    let mut epks = Vec::new();
    for d in definitions.into_iter().flatten() {
        if let Ok(r) = epk_range(&components, d) {
            assert!(
                r.min.len() % 2 == 0
                    && r.min
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            );
            if r.max_inclusive {
                assert_eq!(r.min, r.max);
            } else {
                assert_eq!(r.max, format!("{}FF", r.min));
            }
            epks.push((d, r.min));
        }
    }
    let Some(Ok(map)) = map.map(RoutingMap::parse) else {
        return;
    };
    let ranges = map.ranges();
    assert_eq!(ranges[0].min, "");
    assert_eq!(ranges[ranges.len() - 1].max, "FF");
    for pair in ranges.windows(2) {
        assert_eq!(pair[0].max, pair[1].min, "contiguous");
    }
    for (_, epk) in &epks {
        let r = map.range_for(epk);
        assert!(r.min.as_str() <= epk.as_str());
        assert!(epk.as_str() < r.max.as_str() || r.max == "FF");
    }
    let Some(Ok((token, _))) = token.map(SessionToken::parse_lenient) else {
        return;
    };
    let ids: std::collections::HashSet<&str> = ranges.iter().map(|r| r.id.as_str()).collect();
    for (d, _) in &epks {
        if let Ok(Some(sent)) = token_for_partition_key(&token, &components, *d, &map) {
            assert!(sent.iter().all(|s| ids.contains(s.range_id())));
        }
    }
    if let Ok(Some(sent)) = token_for_feed_range(&token, &FeedRange::new("", "FF").unwrap(), &map) {
        assert!(sent.iter().all(|s| ids.contains(s.range_id())));
    }
});
