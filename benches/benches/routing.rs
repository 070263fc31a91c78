//! Criterion benchmarks of the routing operations that walk a whole routing map (second security
//! review, issue #34, finding 2: `token_for_feed_range` was quadratic, 4,096 ranges 0.79 s and
//! 32,768 ranges 38.8 s): `token_for_feed_range` over the full feed range `-FF` of maps of 4,096,
//! 32,768 and 262,144 ranges (the routing map's cap), and `SessionContainer::resolve_for_partition_key`
//! for a hierarchical-key prefix whose `[epk, epk+FF)` holds 4,096 ranges.
//!
//! The inputs are those of `core/tests/routing_scale.rs`: ranges of equal width, each the child of
//! one of 16 older ranges; the token has a segment for every other range and the 16 parents', so
//! half the ranges are scoped through their parent.
//!
//! Run: cargo bench -p cosmos-session-token-benches --bench routing -- --noplot

use std::hint::black_box;
use std::time::Duration;

use cosmos_session_token::{
    FeedRange, Limits, ParseOptions, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyRange,
    PartitionKeyValue, RequestKind, RoutingMap, SessionContainer, SessionToken, epk_range,
    token_for_feed_range,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const RANGES: [usize; 3] = [4_096, 32_768, 262_144];
const PREFIX_RANGES: usize = 4_096;

fn config() -> Criterion {
    // One call at 262,144 ranges takes tens of milliseconds: few samples, a longer measurement.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
}

/// `n` ranges of equal width over `[lo, hi)` (`lo` + 6 hex digits), ids "0".."n-1", each with one
/// parent of 16 (`"p0"`..`"p15"`); when `lo` is not the start, `[ "", lo)` and `[hi, "FF")` fill
/// the rest of the key space.
fn map_over(n: usize, lo: &str, hi: &str) -> RoutingMap {
    let bound = |i: usize| match i {
        0 => lo.to_owned(),
        i if i == n => hi.to_owned(),
        i => format!("{lo}{:06X}", (i as u64) * (0xFF_0000 / n as u64)),
    };
    let mut ranges: Vec<PartitionKeyRange> = (0..n)
        .map(|i| PartitionKeyRange {
            id: i.to_string(),
            min: bound(i),
            max: bound(i + 1),
            parents: vec![format!("p{}", i % 16)],
        })
        .collect();
    if !lo.is_empty() {
        let edge = |id: &str, min: &str, max: &str| PartitionKeyRange {
            id: id.into(),
            min: min.into(),
            max: max.into(),
            parents: vec![],
        };
        ranges.push(edge("below", "", lo));
        ranges.push(edge("above", hi, "FF"));
    }
    RoutingMap::new(ranges).unwrap()
}

/// A segment for every even range and for the 16 parents (the odd ranges scope through theirs).
fn token_text(n: usize) -> String {
    let mut text: Vec<String> = (0..n)
        .step_by(2)
        .map(|i| format!("{i}:1#{i}#1={i}"))
        .collect();
    text.extend((0..16).map(|p| format!("p{p}:1#7#1=7")));
    text.join(",")
}

fn feed_range(c: &mut Criterion) {
    let all = FeedRange::parse("-FF").unwrap();
    let mut g = c.benchmark_group("routing/token_for_feed_range");
    for &n in &RANGES {
        let map = map_over(n, "", "FF");
        // At 262,144 ranges the token (131,088 segments, 3 MB) is beyond the default parse
        // limits (65,536 segments, 1 MiB), which guard untrusted headers, not this input.
        let options = ParseOptions {
            limits: Limits {
                max_input_bytes: 8 << 20,
                max_segments: 1 << 20,
                ..Limits::DEFAULT
            },
            ..ParseOptions::STRICT
        };
        let token = SessionToken::parse_with(&token_text(n), &options)
            .unwrap()
            .token;
        assert_eq!(
            token_for_feed_range(&token, &all, &map)
                .unwrap()
                .unwrap()
                .len(),
            n,
            "one segment per range"
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| token_for_feed_range(black_box(&token), black_box(&all), &map).unwrap())
        });
    }
    g.finish();
}

fn prefix(c: &mut Criterion) {
    let definition = PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 2, 2).unwrap();
    let key = [PartitionKeyValue::String("tenant-1".into())];
    let span = epk_range(&key, definition).unwrap();
    let map = map_over(PREFIX_RANGES, &span.min, &span.max);
    let container = SessionContainer::new();
    container
        .capture_response(
            RequestKind::Data,
            "dbs/d/colls/c",
            "rid",
            Some(&token_text(PREFIX_RANGES)),
            200,
            0,
        )
        .unwrap();
    let resolve = || {
        container
            .resolve_for_partition_key("dbs/d/colls/c", black_box(&key), definition, &map)
            .unwrap()
    };
    assert_eq!(
        resolve().unwrap().len(),
        PREFIX_RANGES,
        "one segment per range"
    );
    let mut g = c.benchmark_group("routing/resolve_for_partition_key_prefix");
    g.throughput(Throughput::Elements(PREFIX_RANGES as u64));
    g.bench_function(BenchmarkId::from_parameter(PREFIX_RANGES), |bench| {
        bench.iter(resolve)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = feed_range, prefix
}
criterion_main!(benches);
