//! The Cosmos DB store in production shapes, against the test server's account model
//! (`testserver/lib/account.js`): two regions with a lagging read region (404/1002), a
//! failover (403/3), a multi-write account, Entra ID sign-in with token sources (a callback, the
//! managed-identity and client-secret fakes), nothing created by reading, a container that
//! disappears, and the operation timeout.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cosmos_session_state::cosmos::credential::{
    AccessToken, ClientSecret, ManagedIdentity, TokenSource,
};
use cosmos_session_state::{
    Consistency, CosmosOptions, CosmosStore, Options, SessionStateStore, StateError,
};
use cosmos_session_token::SessionToken;
use serde_json::{Value, json};
use support::TestServer;

const TWO_REGIONS: &[&str] = &["--regions", "West US,East US"];

fn options(database: &str, preferred: &[&str]) -> CosmosOptions {
    CosmosOptions {
        database: database.into(),
        consistency: Some(Consistency::Session),
        preferred_regions: preferred.iter().map(|s| s.to_string()).collect(),
        ..CosmosOptions::default()
    }
}

fn engine(store: CosmosStore) -> SessionStateStore {
    SessionStateStore::new(store, Options::default()).unwrap()
}

fn key_engine(server: &TestServer, o: CosmosOptions) -> SessionStateStore {
    engine(CosmosStore::connect(&server.connection_string(), o).unwrap())
}

fn write(node: &SessionStateStore, sid: &str, data: &[u8]) {
    let ex = node.get_exclusive(sid).unwrap();
    assert!(!ex.locked);
    node.set_and_release(sid, data, ex.lock_id, ex.content.is_none(), None)
        .unwrap();
}

fn by_region(server: &TestServer, name: &str) -> u64 {
    server.stats()["by_region"][name].as_u64().unwrap_or(0)
}

#[test]
fn a_session_written_in_one_region_reads_back_through_a_lagging_one_every_time() {
    let Some(server) = TestServer::start_with_or_skip(TWO_REGIONS) else {
        return;
    };
    assert_eq!(server.regions.len(), 2);
    server.post("/_shim/regions", &json!({"lag_ms": 150}));
    let writer = key_engine(&server, options("regions", &["East US", "West US"]));
    let reader = key_engine(&server, options("regions", &["East US", "West US"]));
    let before_east = by_region(&server, "East US");
    let mut read_back = 0;
    for i in 0..100 {
        let data = format!("n={i}");
        write(&writer, "s", data.as_bytes());
        // The token flows to the other node as an application would carry it (a cookie).
        let token = writer.token("s").unwrap().expect("a token after a write");
        reader.present_token("s", &token).unwrap();
        let got = reader.get("s").unwrap().expect("never absent");
        if got.data == data.as_bytes() {
            read_back += 1;
        }
    }
    assert_eq!(read_back, 100, "every read saw the write it followed");
    let stats = reader.stats();
    assert!(
        stats.store.read_session_unavailable > 0,
        "the lagging region answered 1002: {stats:?}"
    );
    assert!(
        by_region(&server, "East US") > before_east,
        "reads tried the preferred read region first"
    );
    // Once the read region has caught up, it serves the read itself.
    std::thread::sleep(Duration::from_millis(300));
    let failovers = reader.stats().store.region_failovers;
    let token = writer.token("s").unwrap().unwrap();
    reader.present_token("s", &token).unwrap();
    assert_eq!(reader.get("s").unwrap().unwrap().data, b"n=99");
    assert_eq!(reader.stats().store.region_failovers, failovers);
}

#[test]
fn a_read_region_lagging_forever_falls_back_to_the_write_region() {
    let Some(server) = TestServer::start_with_or_skip(TWO_REGIONS) else {
        return;
    };
    let writer = key_engine(&server, options("forever", &[]));
    let reader = key_engine(&server, options("forever", &["East US"]));
    write(&writer, "s", b"v1");
    server.post("/_shim/regions", &json!({"lag_ms": -1}));
    write(&writer, "s", b"v2");
    reader
        .present_token("s", &writer.token("s").unwrap().unwrap())
        .unwrap();
    assert_eq!(reader.get("s").unwrap().unwrap().data, b"v2");
    let stats = reader.stats().store;
    assert_eq!(stats.read_session_unavailable, 3, "{stats:?}");
    assert_eq!(stats.region_failovers, 1, "{stats:?}");
}

#[test]
fn a_token_no_region_has_reached_is_store_unavailable_within_the_budget_never_absent() {
    let Some(server) = TestServer::start_with_or_skip(TWO_REGIONS) else {
        return;
    };
    let writer = key_engine(&server, options("ahead", &[]));
    let reader = key_engine(&server, options("ahead", &["East US", "West US"]));
    write(&writer, "s", b"v1");
    reader
        .present_token("s", &SessionToken::parse("0:1#999999").unwrap())
        .unwrap();
    let started = Instant::now();
    let err = reader.get("s").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.code(), "store_unavailable", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("East US") && text.contains("West US") && text.contains("1002"),
        "{text}"
    );
    // The token was kept: the next read presents it again (and fails the same way).
    assert_eq!(reader.get("s").unwrap_err().code(), "store_unavailable");
}

#[test]
fn after_a_failover_the_next_write_goes_to_the_new_write_region() {
    let Some(server) = TestServer::start_with_or_skip(TWO_REGIONS) else {
        return;
    };
    let node = key_engine(&server, options("failover", &["East US"]));
    write(&node, "s", b"before");
    let reads_before = node.stats().store.account_reads;
    let (_, regions) = server.post("/_shim/regions", &json!({"failover": true}));
    assert_eq!(regions["write"], "East US");
    write(&node, "s", b"after");
    let stats = node.stats().store;
    assert_eq!(stats.write_forbidden, 1, "{stats:?}");
    assert_eq!(stats.account_reads, reads_before + 1, "{stats:?}");
    assert_eq!(server.stats()["write_forbidden"], 1);
    assert_eq!(node.get("s").unwrap().unwrap().data, b"after");
}

#[test]
fn a_region_that_refuses_connections_is_passed_over_for_reads() {
    let Some(server) = TestServer::start_with_or_skip(TWO_REGIONS) else {
        return;
    };
    let node = key_engine(&server, options("down", &["East US"]));
    write(&node, "s", b"v");
    server.post("/_shim/regions", &json!({"down": ["East US"]}));
    assert_eq!(node.get("s").unwrap().unwrap().data, b"v");
    let stats = node.stats().store;
    assert!(
        stats.transient >= 1 && stats.region_failovers >= 1,
        "{stats:?}"
    );
}

#[test]
fn multi_write_accounts_are_refused_unless_allowed() {
    let Some(server) =
        TestServer::start_with_or_skip(&["--regions", "West US,East US", "--multi-write"])
    else {
        return;
    };
    let refused = key_engine(&server, options("multi", &[]));
    let err = refused.get("s").unwrap_err();
    assert_eq!(err.code(), "store_rejected");
    assert!(err.to_string().contains("allow_multi_write"), "{err}");
    let allowed = key_engine(
        &server,
        CosmosOptions {
            allow_multi_write: true,
            ..options("multi", &[])
        },
    );
    write(&allowed, "s", b"v");
    assert_eq!(allowed.get("s").unwrap().unwrap().data, b"v");
}

#[test]
fn reading_creates_nothing_and_a_vanished_container_is_recreated_by_the_next_write() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    let node = key_engine(&server, options("typo", &[]));
    assert!(node.get("s1").unwrap().is_none());
    assert!(!node.show("s1").unwrap().exists);
    let dbs = server.get("/dbs").unwrap();
    let names: Vec<&str> = dbs["Databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(!names.contains(&"typo"), "{names:?}");
    write(&node, "s1", b"v");
    assert_eq!(node.stats().store.containers_created, 1);
    // The database disappears under a long-lived store (an empty restart, a deletion).
    let status = ureq::delete(&format!("http://127.0.0.1:{}/dbs/typo", server.port))
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert!(status == 204 || status == 200, "{status}");
    assert!(node.get("s1").unwrap().is_none());
    write(&node, "s1", b"again");
    assert_eq!(node.get("s1").unwrap().unwrap().data, b"again");
    assert_eq!(node.stats().store.containers_created, 2);
    // With creation off, the error says how to create the container.
    let off = key_engine(
        &server,
        CosmosOptions {
            create_if_missing: false,
            ..options("absent", &[])
        },
    );
    let ex = off.get_exclusive("s").unwrap_err();
    assert_eq!(ex.code(), "store_error");
    assert!(ex.to_string().contains("--partition-key-path /pk"), "{ex}");
}

#[test]
fn one_operation_ends_within_the_operation_timeout() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    let node = key_engine(
        &server,
        CosmosOptions {
            operation_timeout: Duration::from_millis(1500),
            max_retries: 100,
            max_retry_wait: Duration::from_secs(600),
            ..options("budget", &[])
        },
    );
    write(&node, "s", b"v");
    server.fault(json!({"status": 503, "times": 100000, "match": "docs"}));
    let started = Instant::now();
    let err = node.get("s").unwrap_err();
    let took = started.elapsed();
    server.reset();
    assert_eq!(err.code(), "store_unavailable", "{err}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert!(err.to_string().contains("operation timeout"), "{err}");
}

/// Tokens issued by the test server's `/_shim/auth`, `seconds` long each; counts its calls.
struct ShimTokens {
    port: u16,
    seconds: f64,
    calls: AtomicU32,
    issued: std::sync::Mutex<Vec<String>>,
}

impl TokenSource for ShimTokens {
    fn get_token(&self, scope: &str) -> cosmos_session_state::Result<AccessToken> {
        assert!(scope.ends_with("/.default"), "{scope}");
        self.calls.fetch_add(1, Ordering::SeqCst);
        let text = ureq::post(&format!("http://127.0.0.1:{}/_shim/auth", self.port))
            .header("content-type", "application/json")
            .send(json!({"issue": self.seconds}).to_string())
            .map_err(|e| StateError::Unavailable(e.to_string()))?
            .body_mut()
            .read_to_string()
            .map_err(|e| StateError::Unavailable(e.to_string()))?;
        let body: Value = serde_json::from_str(&text).unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        self.issued.lock().unwrap().push(token.clone());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        Ok(AccessToken::from_unix(token, now + self.seconds))
    }
}

fn endpoint_only(server: &TestServer) -> String {
    format!("AccountEndpoint=http://127.0.0.1:{}/;", server.port)
}

/// A server in Entra-only mode with the container `database` created (under key sign-in, as an
/// administrator would with the control plane).
fn entra_server(database: &str) -> Option<TestServer> {
    let server = TestServer::start_or_skip()?;
    let admin = key_engine(&server, options(database, &[]));
    write(&admin, "setup", b"x");
    server.post("/_shim/auth", &json!({"mode": "entra"}));
    Some(server)
}

#[test]
fn entra_only_accounts_work_with_a_credential_through_expiry_and_a_401() {
    let Some(server) = entra_server("entra") else {
        return;
    };
    // A key is refused with an error naming the fix.
    let keyed = key_engine(&server, options("entra", &[]));
    let err = keyed.get("s").unwrap_err();
    assert_eq!(err.code(), "store_rejected");
    assert!(err.to_string().contains("Entra ID"), "{err}");

    let tokens = Arc::new(ShimTokens {
        port: server.port,
        seconds: 2.0,
        calls: AtomicU32::new(0),
        issued: Default::default(),
    });
    let store = CosmosStore::connect_with_credential(
        &endpoint_only(&server),
        options("entra", &[]),
        tokens.clone(),
    )
    .unwrap();
    let node = engine(store);
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(2600) {
        write(&node, "s", format!("{n}").as_bytes());
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        tokens.calls.load(Ordering::SeqCst) >= 2,
        "a token was refetched before it expired"
    );
    // Every token revoked: one 401, a new token, the request succeeds.
    server.post("/_shim/auth", &json!({"revoke_all": true}));
    write(&node, "s", b"after revocation");
    assert_eq!(node.get("s").unwrap().unwrap().data, b"after revocation");
    assert_eq!(node.stats().store.unauthorized, 1);
    // A container that does not exist cannot be created with a token: the error says how.
    let missing = engine(
        CosmosStore::connect_with_credential(
            &endpoint_only(&server),
            options("nowhere", &[]),
            tokens.clone(),
        )
        .unwrap(),
    );
    let err = missing.get_exclusive("s").unwrap_err();
    assert!(
        err.to_string().contains("Entra ID tokens cannot create"),
        "{err}"
    );
    // No token ever appears in an error.
    for e in [err, keyed.get("s").unwrap_err()] {
        for t in tokens.issued.lock().unwrap().iter() {
            assert!(!e.to_string().contains(t.as_str()));
            assert!(!format!("{e:?}").contains(t.as_str()));
        }
    }
}

#[test]
fn managed_identity_and_client_secret_fetch_tokens_from_the_local_fakes() {
    let Some(server) = entra_server("identity") else {
        return;
    };
    let base = format!("http://127.0.0.1:{}", server.port);
    let sources: Vec<(&str, Arc<dyn TokenSource>)> = vec![
        (
            "app service",
            Arc::new(
                ManagedIdentity::app_service(
                    &format!("{base}/_fake/msi"),
                    "fake-identity-header",
                    Some("fake-client"),
                )
                .unwrap(),
            ),
        ),
        (
            "instance metadata",
            Arc::new(
                ManagedIdentity::instance_metadata(
                    &format!("{base}/_fake/imds/metadata/identity/oauth2/token"),
                    None,
                )
                .unwrap(),
            ),
        ),
        (
            "client secret",
            Arc::new(
                ClientSecret::new(
                    "tenant-1",
                    "fake-client",
                    "fake-secret",
                    Some(&format!("{base}/_fake/aad")),
                )
                .unwrap(),
            ),
        ),
    ];
    for (name, source) in sources {
        let node = engine(
            CosmosStore::connect_with_credential(
                &endpoint_only(&server),
                options("identity", &[]),
                source,
            )
            .unwrap(),
        );
        let sid = format!("s-{}", name.replace(' ', "-"));
        write(&node, &sid, name.as_bytes());
        assert_eq!(
            node.get(&sid).unwrap().unwrap().data,
            name.as_bytes(),
            "{name}"
        );
    }
    let auth = server.get("/_shim/auth").unwrap();
    assert!(auth["issued"].as_u64().unwrap() >= 3, "{auth}");
    // Wrong secrets fail with an error that does not contain them.
    let bad_secret: Arc<dyn TokenSource> = Arc::new(
        ClientSecret::new(
            "tenant-1",
            "fake-client",
            "wrong-secret-4711",
            Some(&format!("{base}/_fake/aad")),
        )
        .unwrap(),
    );
    let bad_header: Arc<dyn TokenSource> = Arc::new(
        ManagedIdentity::app_service(&format!("{base}/_fake/msi"), "wrong-header-4711", None)
            .unwrap(),
    );
    for source in [bad_secret, bad_header] {
        let node = engine(
            CosmosStore::connect_with_credential(
                &endpoint_only(&server),
                options("identity", &[]),
                source,
            )
            .unwrap(),
        );
        let err = node.get("s").unwrap_err();
        assert_eq!(err.code(), "store_rejected", "{err}");
        assert!(!err.to_string().contains("4711"), "{err}");
        assert!(!format!("{err:?}").contains("4711"), "{err:?}");
    }
}

#[test]
fn the_store_fetches_the_containers_routing_map() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    let store = CosmosStore::connect(&server.connection_string(), options("routing", &[])).unwrap();
    // Reading creates nothing: no container yet.
    assert_eq!(store.routing_map().unwrap_err().code(), "store_error");
    let node = key_engine(&server, options("routing", &[]));
    write(&node, "s", b"v");
    let map = store.routing_map().unwrap();
    assert!(!map.ranges().is_empty());
    assert_eq!(map.ranges()[0].min, "");
    assert_eq!(map.ranges().last().unwrap().max, "FF");
}
