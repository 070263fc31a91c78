//! Work of the routing operations grows linearly with the ranges touched (second security
//! review, finding 2: `token_for_feed_range` merged one range at a time, copying the growing
//! result each time: 4,096 ranges 0.79 s, 32,768 ranges 38.8 s). Measured without a clock: the
//! bytes allocated for 8× the ranges must stay within ~8× (a quadratic path allocates ~64×).
//! Timing belongs to the criterion benchmark (`benches/benches/routing.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use cosmos_session_token::{
    FeedRange, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyRange, PartitionKeyValue,
    RequestKind, RoutingMap, SessionContainer, SessionToken, epk_range, token_for_feed_range,
};

struct Counting;
thread_local! {
    // Per thread, so tests running side by side do not count each other's allocations.
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + bytes as u64));
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `n` ranges of equal width over `[lo, hi)` (`lo` + 6 hex digits; `hi` is `lo` + `"FF"` or the
/// end), ids "0".."n-1", with `[ "", lo)` and `[hi, "FF")` as ranges "below" and "above" when
/// `lo` is not the start; the parents say every range came from one of 16 older ranges
/// (`"p0"`..`"p15"`), so scoping goes through the parents.
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

fn map(n: usize) -> RoutingMap {
    map_over(n, "", "FF")
}

/// A token with every even range's own segment and the 16 parents' (the odd ranges scope
/// through a parent).
fn token(n: usize) -> SessionToken {
    let mut text: Vec<String> = (0..n)
        .step_by(2)
        .map(|i| format!("{i}:1#{i}#1={i}"))
        .collect();
    text.extend((0..16).map(|p| format!("p{p}:1#7#1=7")));
    SessionToken::parse(&text.join(",")).unwrap()
}

fn allocated_by(f: impl FnOnce()) -> u64 {
    let before = ALLOCATED.with(Cell::get);
    f();
    ALLOCATED.with(Cell::get) - before
}

#[test]
fn token_for_feed_range_is_linear_in_the_ranges() {
    let all = FeedRange::parse("-FF").unwrap();
    let mut bytes = Vec::new();
    for n in [4096, 32768] {
        let (m, t) = (map(n), token(n));
        let mut sent = None;
        bytes.push(allocated_by(|| {
            sent = token_for_feed_range(&t, &all, &m).unwrap();
        }));
        let sent = sent.unwrap();
        assert_eq!(sent.len(), n, "one segment per range");
        assert_eq!(
            sent.get("1").unwrap().to_string(),
            "1:1#7#1=7",
            "scoped through the parent"
        );
    }
    let ratio = bytes[1] as f64 / bytes[0] as f64;
    assert!(
        ratio < 12.0,
        "8x the ranges allocated {ratio:.1}x the bytes ({bytes:?}): not linear"
    );
}

#[test]
fn container_resolve_for_a_key_prefix_over_many_ranges_is_linear() {
    // A hierarchical-key prefix addresses [epk, epk+FF): lay many ranges inside it.
    let definition = PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 2, 2).unwrap();
    let prefix = [PartitionKeyValue::String("tenant-1".into())];
    let span = epk_range(&prefix, definition).unwrap();
    let mut bytes = Vec::new();
    for n in [2048, 16384] {
        let m = map_over(n, &span.min, &span.max);
        let c = SessionContainer::new();
        let t = token(n).to_string();
        c.capture_response(RequestKind::Data, "dbs/d/colls/c", "rid", Some(&t), 200, 0)
            .unwrap();
        let mut sent = None;
        bytes.push(allocated_by(|| {
            sent = c
                .resolve_for_partition_key("dbs/d/colls/c", &prefix, definition, &m)
                .unwrap();
        }));
        assert_eq!(
            sent.unwrap().len(),
            n,
            "one segment per range under the prefix"
        );
    }
    let ratio = bytes[1] as f64 / bytes[0] as f64;
    assert!(
        ratio < 12.0,
        "8x the ranges allocated {ratio:.1}x ({bytes:?})"
    );
}
