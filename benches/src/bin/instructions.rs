//! Runs one headline operation `N` times, for instruction counting under callgrind
//! (`benches/instructions.py` runs it with N = 0 and N = K and divides the difference by K, so
//! input construction and process start-up cancel out).
//!
//! Usage: `instructions <operation> <iterations>`; `instructions list` prints the operations.

use std::hint::black_box;
use std::process::ExitCode;

use cosmos_session_token::{
    FeedRange, ParseOptions, SessionToken, latest_for_feed_range, latest_token_for_feed_range,
    parse_pair_token,
};
use cosmos_session_token_benches::{feed_range_pairs, token};

/// Operation name, unit the count is divided by (1 = per call), and a body run `N` times.
type Op = (&'static str, u64, Box<dyn Fn()>);

fn operations() -> Vec<Op> {
    let one_0 = token(1, 0, 0);
    let one_3 = token(1, 3, 0);
    let one_3b = token(1, 3, 5);
    let big = token(4096, 3, 0);
    let (pa, pb) = (
        SessionToken::parse(&one_3).unwrap(),
        SessionToken::parse(&one_3b).unwrap(),
    );
    let parsed_big = SessionToken::parse(&big).unwrap();
    let pairs: Vec<(FeedRange, SessionToken)> = feed_range_pairs(1000)
        .iter()
        .map(|(r, t)| (FeedRange::parse(r).unwrap(), parse_pair_token(t).unwrap()))
        .collect();
    let target = FeedRange::parse("-FF").unwrap();
    let mut ops: Vec<Op> = vec![
        ("parse 1 segment, 0 regions", 1, {
            let s = one_0.clone();
            Box::new(move || drop(black_box(SessionToken::parse(black_box(&s)).unwrap())))
        }),
        ("parse 1 segment, 3 regions", 1, {
            let s = one_3.clone();
            Box::new(move || drop(black_box(SessionToken::parse(black_box(&s)).unwrap())))
        }),
        ("parse 4,096 segments x 3 regions (per segment)", 4096, {
            let s = big.clone();
            Box::new(move || drop(black_box(SessionToken::parse(black_box(&s)).unwrap())))
        }),
        // The full parser alone, as every parse ran before the one-pass scanner: the baseline.
        ("full parser alone: parse 1 segment, 3 regions", 1, {
            let s = one_3.clone();
            Box::new(move || {
                let parsed = SessionToken::__parse_reference(black_box(&s), &ParseOptions::STRICT);
                drop(black_box(parsed.unwrap()))
            })
        }),
        (
            "full parser alone: parse 4,096 segments x 3 regions (per segment)",
            4096,
            {
                let s = big.clone();
                Box::new(move || {
                    let parsed =
                        SessionToken::__parse_reference(black_box(&s), &ParseOptions::STRICT);
                    drop(black_box(parsed.unwrap()))
                })
            },
        ),
        ("render 1 segment, 3 regions", 1, {
            Box::new(move || drop(black_box(black_box(&pa).to_string())))
        }),
        ("to_header_value 1 segment, 3 regions", 1, {
            let t = SessionToken::parse(&one_3).unwrap();
            Box::new(move || drop(black_box(black_box(&t).to_header_value())))
        }),
        ("render 4,096 segments x 3 regions (per segment)", 4096, {
            Box::new(move || drop(black_box(black_box(&parsed_big).to_string())))
        }),
        ("merge parsed 1 segment, 3 regions", 1, {
            let a = SessionToken::parse(&one_3).unwrap();
            Box::new(move || drop(black_box(black_box(&a).merge(black_box(&pb)).unwrap())))
        }),
        ("latest for feed range, 1,000 pairs (per pair)", 1000, {
            let (pairs, target) = (pairs.clone(), target.clone());
            Box::new(move || drop(black_box(latest_for_feed_range(black_box(&pairs), &target))))
        }),
        (
            "latest token for feed range, 1,000 pairs (per pair)",
            1000,
            {
                Box::new(move || {
                    drop(black_box(latest_token_for_feed_range(
                        black_box(&pairs),
                        &target,
                    )))
                })
            },
        ),
    ];
    peers(&mut ops, one_0, one_3, big);
    ops
}

#[cfg(feature = "peers")]
fn peers(ops: &mut Vec<Op>, one_0: String, one_3: String, big: String) {
    use azure_data_cosmos_driver::models::SessionTokenSegment;
    let segment = |s: &str| s.parse::<SessionTokenSegment>().unwrap();
    ops.push(("driver: parse 1 segment, 0 regions", 1, {
        Box::new(move || drop(black_box(segment(black_box(&one_0)))))
    }));
    ops.push(("driver: parse 1 segment, 3 regions", 1, {
        Box::new(move || drop(black_box(segment(black_box(&one_3)))))
    }));
    // The driver has no public composite parser: split on ',' and parse each segment, as its
    // session container does when it reads a composite header.
    ops.push((
        "driver: parse 4,096 segments x 3 regions (per segment)",
        4096,
        {
            Box::new(move || {
                let all: Vec<SessionTokenSegment> =
                    black_box(&big).split(',').map(segment).collect();
                drop(black_box(all))
            })
        },
    ));
}

#[cfg(not(feature = "peers"))]
fn peers(_: &mut Vec<Op>, _: String, _: String, _: String) {}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let ops = operations();
    match args.get(1).map(String::as_str) {
        Some("list") => {
            for (name, unit, _) in &ops {
                println!("{unit}\t{name}");
            }
            ExitCode::SUCCESS
        }
        Some(name) => {
            let Some((_, _, body)) = ops.iter().find(|(n, _, _)| *n == name) else {
                eprintln!("unknown operation {name:?}; `instructions list` names them");
                return ExitCode::from(2);
            };
            let n: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
            for _ in 0..n {
                body();
            }
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("usage: instructions <operation> <iterations> | instructions list");
            ExitCode::from(2)
        }
    }
}
