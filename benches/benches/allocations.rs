//! Heap allocations per operation, counted by a global allocator in this binary.
//! Run: cargo bench -p cosmos-session-token-benches --bench allocations

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cosmos_session_token::{Format, SessionToken};
use cosmos_session_token_benches::token;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<R>(f: impl FnOnce() -> R) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let r = f();
    let n = ALLOCATIONS.load(Ordering::Relaxed) - before;
    drop(r);
    n
}

fn main() {
    // `cargo bench` passes "--bench"; nothing to configure.
    println!("| operation | segments | regions | heap allocations |");
    println!("|---|---|---|---|");
    for (segments, regions) in [
        (1, 0),
        (1, 3),
        (1, 4),
        (1, 8),
        (16, 3),
        (256, 3),
        (4096, 3),
        (4096, 8),
    ] {
        let text = token(segments, regions, 0);
        let other = token(segments, regions, 5);
        let a = SessionToken::parse(&text).unwrap();
        let b = SessionToken::parse(&other).unwrap();
        let rows = [
            (
                "parse (strict)",
                count(|| SessionToken::parse(&text).unwrap()),
            ),
            ("render", count(|| a.to_header_value())),
            ("merge", count(|| a.merge(&b).unwrap())),
            ("compare", count(|| a.compare(&b))),
            ("scope", count(|| a.scope("0", &[]).unwrap())),
            ("convert to simple", count(|| a.convert(Format::Simple))),
        ];
        for (op, n) in rows {
            println!("| {op} | {segments} | {regions} | {n} |");
        }
    }
}
