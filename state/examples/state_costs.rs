//! Costs of the session-state engine against the local Cosmos DB test server: round trips and
//! writes per operation (counted by the server's shim), and latency percentiles of `get`,
//! `get_exclusive`, `set_and_release` and a whole exclusive request (the two together) at 1, 8
//! and 32 concurrent clients. Prints Markdown for benches/RESULTS.md. Uses only the engine's
//! public API, so `scripts/state-costs-compare REV` runs this same file against an older commit
//! for a before/after table.
//!
//!     (cd testserver && npm ci) && cargo run --release -p cosmos-session-state --example state_costs
//!
//! A benchmark, not a test: it asserts nothing. The server is a single-threaded Node process on
//! the same 2-core machine, so the latencies describe this setup, not Cosmos DB.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmos_session_state::Options;
use support::{TestServer, count};

const OPS_PER_CLIENT: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let server = TestServer::start();
    let options = Options::default();

    // Round trips per operation (after the database and container exist).
    let a = server.engine("costs", options);
    let ex = a.get_exclusive("s").unwrap();
    a.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    let b = server.engine("costs", options);
    b.get("s").unwrap();
    let mut rows = Vec::new();
    server.reset();
    b.get("s").unwrap();
    rows.push(("read-only request (`get`)", server.stats()));
    server.reset();
    let ex = b.get_exclusive("s").unwrap();
    b.set_and_release("s", b"w", ex.lock_id, false, None)
        .unwrap();
    rows.push((
        "exclusive request (`get_exclusive` + `set_and_release`)",
        server.stats(),
    ));
    server.reset();
    let ex = b.get_exclusive("s").unwrap();
    b.release("s", ex.lock_id).unwrap();
    rows.push((
        "exclusive request without a write (`get_exclusive` + `release`)",
        server.stats(),
    ));
    let held = a.get_exclusive("s").unwrap();
    server.reset();
    b.get_exclusive("s").unwrap();
    rows.push(("first look at a lock another request holds", server.stats()));
    server.reset();
    b.get_exclusive("s").unwrap();
    rows.push(("each further poll of that lock", server.stats()));
    a.release("s", held.lock_id).unwrap();
    server.reset();
    b.reset_timeout("s").unwrap();
    rows.push((
        "`reset_timeout` right after a write on this node",
        server.stats(),
    ));

    println!(
        "| operation | round trips | of them write requests (incl. batches and patches) | writes that changed an item |"
    );
    println!("|---|---|---|---|");
    for (name, s) in &rows {
        let writes = count(s, "writes") + count(s, "batches") + count(s, "patches");
        // Older shims do not count applied writes.
        let applied = s
            .get("applied")
            .map_or("—".to_owned(), |_| count(s, "applied").to_string());
        println!(
            "| {name} | {} | {writes} | {applied} |",
            count(s, "requests")
        );
    }

    println!();
    println!(
        "| clients | get p50 / p95 / p99 (ms) | get_exclusive p50 / p95 / p99 (ms) | set_and_release p50 / p95 / p99 (ms) | exclusive request p50 / p95 / p99 (ms) |"
    );
    println!("|---|---|---|---|---|");
    for clients in [1usize, 8, 32] {
        let node = Arc::new(server.engine("latency", options));
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let node = node.clone();
                std::thread::spawn(move || {
                    let sid = format!("client-{c}");
                    let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
                    for i in 0..OPS_PER_CLIENT {
                        let request = Instant::now();
                        let t = Instant::now();
                        let ex = node.get_exclusive(&sid).unwrap();
                        times[1].push(t.elapsed());
                        let t = Instant::now();
                        node.set_and_release(
                            &sid,
                            format!("{i}").as_bytes(),
                            ex.lock_id,
                            i == 0,
                            None,
                        )
                        .unwrap();
                        times[2].push(t.elapsed());
                        times[3].push(request.elapsed());
                        let t = Instant::now();
                        node.get(&sid).unwrap();
                        times[0].push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut all = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for t in threads {
            for (k, v) in t.join().unwrap().into_iter().enumerate() {
                all[k].extend(v);
            }
        }
        let cells: Vec<String> = all
            .iter_mut()
            .map(|v| {
                v.sort();
                format!(
                    "{:.2} / {:.2} / {:.2}",
                    percentile(v, 0.5),
                    percentile(v, 0.95),
                    percentile(v, 0.99)
                )
            })
            .collect();
        println!(
            "| {clients} | {} | {} | {} | {} |",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
}
