//! Criterion benchmarks: parse (strict, lenient), render, convert, merge, compare, scope for tokens
//! of 1, 16, 256 and 4,096 segments with 0, 3 and 8 regions; merge of many tokens; container
//! capture/resolve with 1 and 2 threads; feed-range merge of 10 to 10,000 pairs; seal/unseal;
//! and, with `--features peers`, the same parse and composite merge through azure_data_cosmos_driver.
//!
//! Run: cargo bench -p cosmos-session-token-benches --features peers --bench tokens

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmos_session_token::{
    DEFAULT_SEAL_BUDGET, FeedRange, Format, ParseOptions, SessionContainer, SessionToken,
    latest_for_feed_range, latest_token_for_feed_range, parse_pair_token, seal, unseal,
};
use cosmos_session_token_benches::{feed_range_pairs, token};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SEGMENTS: [usize; 4] = [1, 16, 256, 4096];
const REGIONS: [usize; 3] = [0, 3, 8];

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
}

fn per_size(c: &mut Criterion) {
    for &regions in &REGIONS {
        let mut g = c.benchmark_group(format!("tokens/{regions}-regions"));
        for &segments in &SEGMENTS {
            let text = token(segments, regions, 0);
            let other_text = token(segments, regions, 5);
            let a = SessionToken::parse(&text).unwrap();
            let b = SessionToken::parse(&other_text).unwrap();
            let middle = (segments / 2).to_string();
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(
                BenchmarkId::new("parse_strict", segments),
                &text,
                |bench, t| bench.iter(|| SessionToken::parse(black_box(t)).unwrap()),
            );
            g.bench_with_input(
                BenchmarkId::new("parse_lenient", segments),
                &text,
                |bench, t| {
                    bench.iter(|| {
                        SessionToken::parse_with(black_box(t), &ParseOptions::LENIENT).unwrap()
                    })
                },
            );
            g.throughput(Throughput::Elements(segments as u64));
            g.bench_function(BenchmarkId::new("render", segments), |bench| {
                bench.iter(|| black_box(&a).to_header_value())
            });
            g.bench_function(BenchmarkId::new("convert_simple", segments), |bench| {
                bench.iter(|| black_box(&a).convert(Format::Simple))
            });
            g.bench_function(BenchmarkId::new("merge", segments), |bench| {
                bench.iter(|| black_box(&a).merge(black_box(&b)).unwrap())
            });
            g.bench_function(BenchmarkId::new("compare", segments), |bench| {
                bench.iter(|| black_box(&a).compare(black_box(&b)))
            });
            g.bench_function(BenchmarkId::new("scope", segments), |bench| {
                bench.iter(|| black_box(&a).scope(black_box(&middle), &[]).unwrap())
            });
        }
        g.finish();
    }
}

fn merge_many(c: &mut Criterion) {
    let tokens: Vec<SessionToken> = (0..1000u64)
        .map(|i| SessionToken::parse(&format!("{}:1#{}#1=5", i % 100, i)).unwrap())
        .collect();
    let mut g = c.benchmark_group("merge_all");
    g.throughput(Throughput::Elements(tokens.len() as u64));
    g.bench_function("1000_tokens_100_ranges", |bench| {
        bench.iter(|| {
            SessionToken::merge_all(
                black_box(&tokens),
                &cosmos_session_token::MergePolicy::DEFAULT,
            )
            .unwrap()
        })
    });
    g.finish();
}

fn container(c: &mut Criterion) {
    let responses: Vec<String> = (0..1024u64)
        .map(|i| format!("{}:1#{}#1=5#2=6", i % 64, i))
        .collect();
    let mut g = c.benchmark_group("container");
    for threads in [1usize, 2] {
        g.bench_function(BenchmarkId::new("capture", threads), |bench| {
            bench.iter_custom(|iters| {
                let box_ = Arc::new(SessionContainer::new());
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let box_ = Arc::clone(&box_);
                        let responses = &responses;
                        s.spawn(move || {
                            for i in 0..iters as usize {
                                box_.capture(
                                    "dbs/db/colls/c",
                                    "rid",
                                    &responses[(i + t) % responses.len()],
                                    200,
                                    0,
                                )
                                .unwrap();
                            }
                        });
                    }
                });
                start.elapsed() / threads as u32
            })
        });
        g.bench_function(BenchmarkId::new("resolve", threads), |bench| {
            let box_ = Arc::new(SessionContainer::new());
            for r in &responses {
                box_.capture("dbs/db/colls/c", "rid", r, 200, 0).unwrap();
            }
            bench.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let box_ = Arc::clone(&box_);
                        s.spawn(move || {
                            for i in 0..iters as usize {
                                let range = ((i + t) % 70).to_string();
                                black_box(
                                    box_.resolve("dbs/db/colls/c", &range, &["0", "1"]).unwrap(),
                                );
                            }
                        });
                    }
                });
                start.elapsed() / threads as u32
            })
        });
    }
    g.finish();
}

fn feed_ranges(c: &mut Criterion) {
    let mut g = c.benchmark_group("latest_for_feed_range");
    for n in [10usize, 100, 1000, 10_000] {
        let pairs: Vec<(FeedRange, SessionToken)> = feed_range_pairs(n)
            .iter()
            .map(|(r, t)| (FeedRange::parse(r).unwrap(), parse_pair_token(t).unwrap()))
            .collect();
        let target = FeedRange::parse("-FF").unwrap();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("with_fates", n), &pairs, |bench, p| {
            bench.iter(|| latest_for_feed_range(black_box(p), &target).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("token_only", n), &pairs, |bench, p| {
            bench.iter(|| latest_token_for_feed_range(black_box(p), &target).unwrap())
        });
    }
    g.finish();
}

fn sealing(c: &mut Criterion) {
    let key = b"bench-key-0123456789abcdef012345";
    let t = SessionToken::parse(&token(1, 3, 0)).unwrap();
    let sealed = seal(&t, key, "user|orders", DEFAULT_SEAL_BUDGET).unwrap();
    let mut g = c.benchmark_group("seal");
    g.bench_function("seal", |bench| {
        bench.iter(|| seal(black_box(&t), key, "user|orders", DEFAULT_SEAL_BUDGET).unwrap())
    });
    g.bench_function("unseal", |bench| {
        bench.iter(|| {
            unseal(
                black_box(&sealed),
                &[key],
                "user|orders",
                DEFAULT_SEAL_BUDGET,
            )
            .unwrap()
        })
    });
    g.finish();
}

#[cfg(feature = "peers")]
fn peers(c: &mut Criterion) {
    use azure_data_cosmos_driver::models::{SessionToken as DriverToken, SessionTokenSegment};
    let mut g = c.benchmark_group("peers");
    for regions in [0usize, 3] {
        let one = token(1, regions, 0);
        g.bench_with_input(
            BenchmarkId::new(format!("parse_1_segment/ours"), regions),
            &one,
            |bench, t| bench.iter(|| SessionToken::parse(black_box(t)).unwrap()),
        );
        g.bench_with_input(
            BenchmarkId::new(format!("parse_1_segment/driver"), regions),
            &one,
            |bench, t| bench.iter(|| black_box(t).parse::<SessionTokenSegment>().unwrap()),
        );
    }
    for segments in [16usize, 256] {
        let a = token(segments, 3, 0);
        let b = token(segments, 3, 5);
        // Both start from and end with header text, as the driver's merge does.
        g.bench_function(
            BenchmarkId::new("composite_merge/ours", segments),
            |bench| {
                bench.iter(|| {
                    let x = SessionToken::parse(black_box(&a)).unwrap();
                    let y = SessionToken::parse(black_box(&b)).unwrap();
                    x.merge(&y).unwrap().to_header_value()
                })
            },
        );
        let (da, db) = (DriverToken::new(a.clone()), DriverToken::new(b.clone()));
        g.bench_function(
            BenchmarkId::new("composite_merge/driver", segments),
            |bench| bench.iter(|| black_box(&da).merge(black_box(&db)).unwrap().as_str().len()),
        );
    }
    // Last in the group: the byte throughput set here applies to what follows.
    // The driver has no public composite parser: split on ',' and parse each segment, as its
    // session container does when it reads a composite header.
    let big = token(4096, 3, 0);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("parse_4096_segments_3_regions/ours", |bench| {
        bench.iter(|| SessionToken::parse(black_box(&big)).unwrap())
    });
    g.bench_function("parse_4096_segments_3_regions/driver", |bench| {
        bench.iter(|| {
            black_box(&big)
                .split(',')
                .map(|s| s.parse::<SessionTokenSegment>().unwrap())
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

#[cfg(not(feature = "peers"))]
fn peers(_: &mut Criterion) {}

criterion_group! {
    name = benches;
    config = config();
    targets = per_size, merge_many, container, feed_ranges, sealing, peers
}
criterion_main!(benches);
