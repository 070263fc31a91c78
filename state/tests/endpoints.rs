//! Where credentials go (second security review, findings 1, 4 and 8): regional endpoints of
//! the account description are used only when they are the account's siblings, identity
//! endpoints with a user name before their host are refused, and a malformed description does
//! not stop the store. "Another host" is a second loopback address, 127.0.0.2, where a trap
//! counts every connection: none may arrive.

mod support;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cosmos_session_state::cosmos::credential::{ClientSecret, ManagedIdentity, TokenSource};
use cosmos_session_state::{Consistency, CosmosOptions, CosmosStore, Options, SessionStateStore};
use serde_json::json;
use support::TestServer;

/// A listener on another loopback address that counts the connections it is offered.
struct Trap {
    port: u16,
    hits: Arc<AtomicU32>,
}

impl Trap {
    fn new() -> Trap {
        let listener = TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback on Linux");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicU32::new(0));
        let seen = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Trap { port, hits }
    }

    fn hits(&self) -> u32 {
        // A connection attempt may be accepted a moment after the request failed.
        std::thread::sleep(Duration::from_millis(50));
        self.hits.load(Ordering::SeqCst)
    }
}

fn node(server: &TestServer, database: &str, preferred: &[&str]) -> SessionStateStore {
    let options = CosmosOptions {
        database: database.into(),
        consistency: Some(Consistency::Session),
        preferred_regions: preferred.iter().map(|s| s.to_string()).collect(),
        ..CosmosOptions::default()
    };
    let store = CosmosStore::connect(&server.connection_string(), options).unwrap();
    SessionStateStore::new(store, Options::default()).unwrap()
}

fn write_and_read(node: &SessionStateStore, sid: &str) {
    let ex = node.get_exclusive(sid).unwrap();
    node.set_and_release(sid, b"v", ex.lock_id, true, None)
        .unwrap();
    assert_eq!(node.get(sid).unwrap().expect("read back").data, b"v");
}

#[test]
fn regions_on_another_host_never_receive_a_request() {
    let Some(server) = TestServer::start_with_or_skip(&["--regions", "West US,East US"]) else {
        return;
    };
    let trap = Trap::new();
    // The read region is advertised on another host, over plain http from a loopback account:
    // a request there would carry the account key's signature.
    server.post(
        "/_shim/account",
        &json!({"advertise": {"East US": format!("http://127.0.0.2:{}/", trap.port)}}),
    );
    let n = node(&server, "family", &["East US", "West US"]);
    write_and_read(&n, "s1");
    assert_eq!(trap.hits(), 0, "no request went to 127.0.0.2");
    let stats = n.stats().store;
    assert!(stats.regions_refused >= 1, "{stats:?}");
    // The write region itself advertised elsewhere: writes go to the account endpoint.
    server.post(
        "/_shim/account",
        &json!({"advertise": {
            "West US": format!("http://127.0.0.2:{}/", trap.port),
            "East US": format!("http://u:p@127.0.0.1:{}/", server.regions[1].1),
        }}),
    );
    let fresh = node(&server, "family", &["East US"]);
    write_and_read(&fresh, "s2");
    assert_eq!(trap.hits(), 0, "no request went to 127.0.0.2");
    assert!(fresh.stats().store.regions_refused >= 2);
}

#[test]
fn identity_endpoints_with_a_user_name_before_the_host_are_refused() {
    let trap = Trap::new();
    for endpoint in [
        format!("http://[::1]@127.0.0.2:{}/msi/token", trap.port),
        format!("http://127.0.0.1:80@127.0.0.2:{}/msi/token", trap.port),
        format!("http://localhost:secret@127.0.0.2:{}/", trap.port),
    ] {
        let err = ManagedIdentity::app_service(&endpoint, "identity-header-secret", None)
            .expect_err(&endpoint)
            .to_string();
        assert!(err.contains("user name or password"), "{err}");
        assert!(
            !err.contains("127.0.0.2") && !err.contains("secret"),
            "{err}"
        );
        let err = ClientSecret::new("tenant", "client", "client-secret", Some(&endpoint))
            .expect_err(&endpoint)
            .to_string();
        assert!(
            !err.contains("127.0.0.2") && !err.contains("client-secret"),
            "{err}"
        );
    }
    // A source that was accepted still never sends to another host: the same URL without the
    // user name is refused for plain http to a host that is not loopback... 127.0.0.2 is
    // loopback, so it is accepted, and its request goes there: that is the control proving the
    // trap sees requests.
    let control =
        ManagedIdentity::app_service(&format!("http://127.0.0.2:{}/msi", trap.port), "h", None)
            .unwrap();
    let _ = control.get_token("https://acct.documents.azure.com/.default");
    assert!(trap.hits() >= 1, "the control request reached the trap");
}

#[test]
fn a_malformed_account_description_is_a_failed_read_not_a_failed_operation() {
    let Some(server) = TestServer::start_with_or_skip(&["--regions", "West US,East US"]) else {
        return;
    };
    // The first description this store ever reads is broken: requests go to the account
    // endpoint instead.
    server.post("/_shim/account", &json!({"malformed": 1}));
    let n = node(&server, "malformed", &["East US"]);
    write_and_read(&n, "s");
    let served = server.get("/_shim/account").unwrap()["malformed_served"]
        .as_u64()
        .unwrap();
    assert_eq!(served, 1, "the broken description was served");
    // Later, a failover forces a read of the account (403/3 on the next write), and the global
    // endpoint answers a broken description: the next endpoint's answer is used, and the write
    // lands in the new write region.
    let store = Arc::new(
        CosmosStore::connect(
            &server.connection_string(),
            CosmosOptions {
                database: "malformed".into(),
                preferred_regions: vec!["East US".into()],
                ..CosmosOptions::default()
            },
        )
        .unwrap(),
    );
    let engine = SessionStateStore::new(store.clone(), Options::default()).unwrap();
    write_and_read(&engine, "before");
    assert_eq!(store.account().unwrap().writable[0].name, "West US");
    server.post("/_shim/account", &json!({"malformed": 1}));
    server.post("/_shim/regions", &json!({"failover": true}));
    write_and_read(&engine, "after");
    assert_eq!(store.account().unwrap().writable[0].name, "East US");
    let served = server.get("/_shim/account").unwrap()["malformed_served"]
        .as_u64()
        .unwrap();
    assert_eq!(served, 2);
}
