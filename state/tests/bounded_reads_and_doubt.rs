//! Second security review, findings 3 and 6: reading a container's partition-key ranges is
//! bounded however the server pages (a continuation repeated forever, pages without end, slow
//! pages), and a write whose first attempt may have been applied is never reported as a
//! definite failure because its retry got an unexpected status.

mod support;

use std::time::{Duration, Instant};

use cosmos_session_state::{CosmosOptions, CosmosStore, Options};
use serde_json::json;
use support::{TestServer, count};

fn store(server: &TestServer, database: &str, timeout: Duration) -> CosmosStore {
    CosmosStore::connect(
        &server.connection_string(),
        CosmosOptions {
            database: database.into(),
            operation_timeout: timeout,
            ..CosmosOptions::default()
        },
    )
    .unwrap()
}

/// A container with one session in it (creating it through the engine).
fn container(server: &TestServer, database: &str) {
    let node = server.engine(database, Options::default());
    let ex = node.get_exclusive("s").unwrap();
    node.set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
}

#[test]
fn a_repeated_continuation_ends_the_reading_at_once() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    container(&server, "paging");
    let s = store(&server, "paging", Duration::from_secs(20));
    s.routing_map().unwrap();
    server.reset();
    server.fault(json!({"match": "pkranges", "continuation": "same", "times": 1000}));
    let err = s.routing_map().unwrap_err().to_string();
    assert!(err.contains("continuation it had answered before"), "{err}");
    let requests = count(&server.stats(), "requests");
    assert!(
        requests <= 3,
        "{requests} requests for a repeated continuation"
    );
}

#[test]
fn endless_pages_stop_at_the_range_limit() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    container(&server, "endless");
    let s = store(&server, "endless", Duration::from_secs(60));
    server.reset();
    // Every page lists 20,000 ranges (about 5 MB) and points to a new page.
    server.fault(
        json!({"match": "pkranges", "continuation": "fresh", "repeat": 20000, "times": 1000}),
    );
    let err = s.routing_map().unwrap_err().to_string();
    assert!(err.contains("more than 262144 ranges"), "{err}");
    let requests = count(&server.stats(), "requests");
    assert!(
        requests <= 16,
        "{requests} requests: the limit applies while paging"
    );
    server.reset();
}

#[test]
fn one_deadline_bounds_the_whole_reading() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    container(&server, "slow");
    let s = store(&server, "slow", Duration::from_millis(1500));
    s.routing_map().unwrap();
    server.reset();
    // Pages of 400 ms each, without end: each within any per-request timeout.
    server.fault(
        json!({"match": "pkranges", "continuation": "fresh", "delay_ms": 400, "times": 1000}),
    );
    let started = Instant::now();
    let err = s.routing_map().unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code().name(), "store_unavailable", "{err}");
    assert!(
        took < Duration::from_millis(2500),
        "the reading took {took:?} with an operation timeout of 1.5 s"
    );
    server.reset();
}

#[test]
fn a_write_applied_then_answered_500_on_its_retry_is_checked_not_failed() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    let node = server.engine("doubt", Options::default());
    let ex = node.get_exclusive("s").unwrap();
    node.set_and_release("s", b"v1", ex.lock_id, true, None)
        .unwrap();
    let ex = node.get_exclusive("s").unwrap();
    server.reset();
    // The fenced write is applied and its connection cut; its retry answers 500.
    server.fault(json!({"drop": "after", "times": 1, "match": "docs"}));
    server.fault(json!({"status": 500, "times": 1, "match": "docs"}));
    let result = node.set_and_release("s", b"v2", ex.lock_id, false, None);
    let stats = server.stats();
    assert_eq!(count(&stats, "dropped"), 1, "{stats}");
    assert_eq!(count(&stats, "injected"), 1, "{stats}");
    assert!(
        result.is_ok(),
        "the write landed; the engine must find it, not report {:?}",
        result.err()
    );
    assert_eq!(node.get("s").unwrap().unwrap().data, b"v2");
}
