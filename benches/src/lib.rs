//! Inputs shared by the benchmarks (and the C/Mono/Python measurement programs): realistic tokens
//! of a given number of segments and regions, and feed-range pairs of a split hierarchy.

/// A composite token: `segments` segments `i:1#LSN[#r=lsn]*` with `regions` regions each.
pub fn token(segments: usize, regions: usize, salt: u64) -> String {
    (0..segments)
        .map(|i| {
            let mut s = format!("{i}:1#{}", 1_000_000 + (i as u64) * 7 + salt);
            for r in 1..=regions {
                s.push_str(&format!(
                    "#{r}={}",
                    500_000 + (i as u64) * 3 + r as u64 + salt
                ));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `n` (feed range, token) pairs: a root range, its split children, and a newer duplicate of
/// each leaf, over 4-hex-digit effective partition keys.
pub fn feed_range_pairs(n: usize) -> Vec<(String, String)> {
    let leaves = n.saturating_sub(1).div_ceil(2).max(1);
    // Keys stay below FF00: a key starting with "FF" would sort after the end sentinel "FF".
    let step = 0xFF00 / leaves;
    let bound = |i: usize| {
        if i == 0 {
            String::new()
        } else if i >= leaves {
            "FF".to_owned()
        } else {
            format!("{:04X}", i * step)
        }
    };
    let mut pairs = vec![("-FF".to_owned(), "0:1#100#1=5".to_owned())];
    for i in 0..leaves {
        let range = format!("{}-{}", bound(i), bound(i + 1));
        pairs.push((range.clone(), format!("{}:1#{}#1=6", i + 1, 200 + i)));
        pairs.push((range, format!("{}:1#{}#1=7", i + 1, 300 + i)));
    }
    pairs.truncate(n.max(1));
    pairs
}

/// A `SessionFlow` that has learned a collection `dbs/d/colls/c` of `ranges` ranges (its
/// partition-key definition, `/pk` hash v2, and routing map, from the SDK's own reads) and holds
/// progress in every range: the warm state of the flow benchmarks (issue #36).
pub fn learned_flow(ranges: usize) -> cosmos_session_token::SessionFlow {
    let flow = cosmos_session_token::SessionFlow::new();
    flow.after_response(
        "GET",
        "/dbs/d/colls/c",
        200,
        &[],
        Some(br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#),
    );
    let step = 0xFE_FFFF / ranges;
    let bound = |i: usize| match i {
        0 => String::new(),
        i if i == ranges => "FF".to_owned(),
        i => format!("{:06X}", i * step),
    };
    let items: Vec<String> = (0..ranges)
        .map(|i| {
            format!(
                r#"{{"id":"{i}","minInclusive":"{}","maxExclusive":"{}","parents":[]}}"#,
                bound(i),
                bound(i + 1)
            )
        })
        .collect();
    let body = format!(r#"{{"PartitionKeyRanges":[{}]}}"#, items.join(","));
    flow.after_response(
        "GET",
        "/dbs/d/colls/c/pkranges",
        200,
        &[],
        Some(body.as_bytes()),
    );
    let composite: Vec<String> = (0..ranges)
        .map(|i| format!("{i}:0#{}#0={}", 1000 + i, 1000 + i))
        .collect();
    flow.after_response(
        "POST",
        "/dbs/d/colls/c/docs",
        201,
        &[
            ("x-ms-session-token", &composite.join(",")),
            ("x-ms-content-path", "rid"),
        ],
        None,
    );
    flow
}

#[cfg(test)]
mod tests {
    use cosmos_session_token::SessionToken;

    #[test]
    fn generated_inputs_are_valid() {
        for (s, r) in [(1, 0), (16, 3), (256, 8)] {
            let t = SessionToken::parse(&super::token(s, r, 1)).unwrap();
            assert_eq!(t.len(), s);
        }
        for n in [1, 10, 100, 1000, 10_000] {
            let pairs = super::feed_range_pairs(n);
            assert_eq!(pairs.len(), n);
            for (r, t) in &pairs {
                cosmos_session_token::FeedRange::parse(r).unwrap();
                SessionToken::parse(t).unwrap();
            }
        }
    }
}
