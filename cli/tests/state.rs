//! `cst state show|unlock` against the Cosmos DB test server (the state crate's harness).

#[path = "../../state/tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use cosmos_session_state::Options;
use serde_json::Value;
use support::TestServer;

fn cst(server: &TestServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(args)
        .env("COSMOS_CONNECTION_STRING", server.connection_string())
        .env("COSMOS_SESSION_DATABASE", "cli")
        .output()
        .unwrap()
}

#[test]
fn show_and_unlock_a_session() {
    let Some(server) = TestServer::start_or_skip() else {
        return;
    };
    let engine = server.engine("cli", Options::default());
    let ex = engine.get_exclusive("sid-1").unwrap();
    engine
        .set_and_release("sid-1", &b"x".repeat(5000), ex.lock_id, true, None)
        .unwrap();
    let held = engine.get_exclusive("sid-1").unwrap();

    let o = cst(&server, &["state", "show", "sid-1"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("exists:     yes") && out.contains("(compressed)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("held by lock {}", held.lock_id)),
        "{out}"
    );

    let o = cst(&server, &["state", "show", "--json", "sid-1"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["locked"].as_bool(), v["lock_id"].as_u64()),
        (Some(true), Some(held.lock_id))
    );
    assert!(v["expires_in"].as_f64().unwrap() > 1000.0);

    let o = cst(&server, &["state", "unlock", "sid-1"]);
    assert_eq!(o.status.code(), Some(2), "refuses without --force");
    let o = cst(&server, &["state", "unlock", "--force", "sid-1"]);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().trim(),
        format!("unlocked: lock {} was released", held.lock_id)
    );
    let o = cst(&server, &["state", "unlock", "--force", "sid-1"]);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().trim(),
        "no lock was held"
    );
    assert_eq!(
        engine
            .set_and_release("sid-1", b"late", held.lock_id, false, None)
            .unwrap_err()
            .code(),
        "lock_lost",
        "the broken holder's write is refused"
    );

    let o = cst(&server, &["state", "show", "nobody"]);
    assert_eq!(o.status.code(), Some(1), "no such session: no result");
    // --json keeps the contract: the same exit codes, JSON output.
    let o = cst(&server, &["state", "show", "--json", "nobody"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "no such session: no result, in JSON mode too"
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exists"], false);
    let again = engine.get_exclusive("sid-1").unwrap();
    let o = cst(&server, &["state", "unlock", "--force", "--json", "sid-1"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["unlocked"].as_u64(), Some(again.lock_id));
    let o = cst(&server, &["state", "unlock", "--force", "--json", "sid-1"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["unlocked"].is_null(), "{v}");
}

#[test]
fn connection_problems_are_one_line_and_never_show_the_key() {
    let o = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args([
            "--error-format",
            "json",
            "state",
            "show",
            "--database",
            "d",
            "s",
        ])
        .env(
            "COSMOS_CONNECTION_STRING",
            "AccountEndpoint=https://h/;AccountKey=SECRET!!",
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("invalid_connection_string") && !err.contains("SECRET"),
        "{err}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(["state", "show", "--database", "d", "s"])
        .env_remove("COSMOS_CONNECTION_STRING")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "a missing connection string is a usage error"
    );
}

#[test]
fn stats_report_1002_retries_and_region_moves_and_entra_sign_in_works_from_the_environment() {
    let Some(server) = TestServer::start_with_or_skip(&["--regions", "West US,East US"]) else {
        return;
    };
    let engine = server.engine("cli", Options::default());
    let ex = engine.get_exclusive("s").unwrap();
    engine
        .set_and_release("s", b"v", ex.lock_id, true, None)
        .unwrap();
    server.post("/_shim/regions", &serde_json::json!({"lag_ms": -1}));
    let ex = engine.get_exclusive("s").unwrap();
    engine
        .set_and_release("s", b"v2", ex.lock_id, false, None)
        .unwrap();
    // The token of the session's last write (the test server keeps one per partition-key range).
    let latest = engine
        .token("s")
        .unwrap()
        .expect("a token after a write")
        .to_string();
    let stats = |extra: &[&str]| {
        let mut args = vec!["--json", "state", "stats", "--preferred-regions", "East US"];
        args.extend_from_slice(extra);
        args.push("s");
        let o = cst(&server, &args);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), v)
    };
    // A token the read region has not reached: 1002 there, then the write region serves it.
    let (code, v) = stats(&["--token", &latest]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["found"].as_u64(), v["read_session_unavailable"].as_u64()),
        (Some(1), Some(3)),
        "{v}"
    );
    assert_eq!(v["region_failovers"], 1, "{v}");
    // A token no region has reached: store_unavailable (exit 3), never "absent".
    let (code, v) = stats(&["--token", "0:1#999999"]);
    assert_eq!(code, Some(3), "{v}");
    assert_eq!(v["failed"][0]["code"], "store_unavailable", "{v}");
    assert_eq!(v["absent"], 0, "{v}");

    // Entra-only: a managed identity from the environment (the App Service protocol's fake).
    server.post("/_shim/auth", &serde_json::json!({"mode": "entra"}));
    let o = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args([
            "--json",
            "state",
            "stats",
            "--authentication",
            "ManagedIdentity",
            "s",
        ])
        .env(
            "COSMOS_CONNECTION_STRING",
            format!("AccountEndpoint=http://127.0.0.1:{}/;", server.port),
        )
        .env("COSMOS_SESSION_DATABASE", "cli")
        .env(
            "IDENTITY_ENDPOINT",
            format!("http://127.0.0.1:{}/_fake/msi", server.port),
        )
        .env("IDENTITY_HEADER", "fake-identity-header")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (o.status.code(), v["found"].as_u64()),
        (Some(0), Some(1)),
        "{v}"
    );
    // The key alone is refused with the fix named.
    let o = cst(&server, &["state", "show", "s"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("store_rejected") || err.contains("Entra ID"),
        "{err}"
    );
}
