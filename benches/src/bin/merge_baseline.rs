//! The merges of benches/c/merge_bench.c, in Rust: text in/text out, and on parsed tokens.
//! Prints "name ns_per_op" lines for benches/ffi_overhead.sh.

use std::hint::black_box;
use std::time::Instant;

use cosmos_session_token::SessionToken;

fn best_ns(iters: u32, mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..iters {
                f();
            }
            t0.elapsed().as_secs_f64() * 1e9 / f64::from(iters)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let a = args
        .get(1)
        .map_or("0:1#1000000#1=500001#2=500002#3=500003", String::as_str);
    let b = args
        .get(2)
        .map_or("0:1#1000005#1=500006#2=500007#3=500008", String::as_str);
    let text = best_ns(2_000_000, || {
        let x = SessionToken::parse(black_box(a)).unwrap();
        let y = SessionToken::parse(black_box(b)).unwrap();
        black_box(x.merge(&y).unwrap().to_header_value());
    });
    println!("rust_text_merge {text:.1}");
    let (x, y) = (
        SessionToken::parse(a).unwrap(),
        SessionToken::parse(b).unwrap(),
    );
    let parsed = best_ns(2_000_000, || {
        black_box(black_box(&x).merge(black_box(&y)).unwrap());
    });
    println!("rust_token_merge {parsed:.1}");
}
