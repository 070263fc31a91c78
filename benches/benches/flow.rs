//! Criterion benchmarks of the core's `SessionFlow` hooks for a point read (issue #36, the hook
//! overhead target): `before_request` and `after_response` on a collection of 1,000 ranges whose
//! partition-key definition and routing map the flow has learned, with progress in every range;
//! each call reads another partition key and each response carries a one-range token (inputs
//! cycle through 4,096 of each, so no one input is repeated back to back).
//!
//! Run: cargo bench -p cosmos-session-token-benches --bench flow -- --noplot

use std::hint::black_box;

use cosmos_session_token_benches::learned_flow;
use criterion::{Criterion, criterion_group, criterion_main};

const RANGES: usize = 1000;
const INPUTS: usize = 4096;

fn hooks(c: &mut Criterion) {
    let flow = learned_flow(RANGES);
    let keys: Vec<String> = (0..INPUTS).map(|i| format!(r#"["user-{i}"]"#)).collect();
    let urls: Vec<String> = (0..INPUTS)
        .map(|i| format!("http://127.0.0.1:8081/dbs/d/colls/c/docs/item{i}"))
        .collect();
    let tokens: Vec<String> = (0..INPUTS)
        .map(|i| format!("{}:0#{}#0={}", i % RANGES, 2000 + i, 2000 + i))
        .collect();
    let mut g = c.benchmark_group("flow");
    let mut i = 0;
    g.bench_function("before_request", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            let headers = [
                ("x-ms-documentdb-partitionkey", keys[i].as_str()),
                ("x-ms-version", "2020-07-15"),
            ];
            black_box(flow.before_request("GET", &urls[i], &headers))
        })
    });
    g.bench_function("after_response", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            let headers = [
                ("x-ms-session-token", tokens[i].as_str()),
                ("x-ms-content-path", "rid"),
            ];
            flow.after_response("GET", &urls[i], 200, &headers, None);
        })
    });
    g.finish();
}

criterion_group!(benches, hooks);
criterion_main!(benches);
