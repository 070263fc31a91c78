//! `cst route --container` against the Cosmos DB test server (4 ranges per container): the range
//! printed is the one the server routes the key to, and the token the one to send; errors for a
//! bad connection string, an unreachable host, a missing container and a refused sign-in. And
//! `cst flow show` on a real snapshot and on garbage.

#[path = "../../state/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cosmos_session_token::{MergePolicy, SessionFlow, SessionToken};
use serde_json::{Value, json};
use support::TestServer;

/// The test server's placeholder key (it checks no signature): never in any output.
const KEY: &str = "dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=";

fn cst_env(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cst"));
    command
        .args(args)
        .env_remove("COSMOS_CONNECTION_STRING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("cst runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        let _ = pipe.write_all(bytes);
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn cst(args: &[&str]) -> Output {
    cst_env(args, &[], None)
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// One clear line on stderr with this exit code, nothing on stdout, and no part of the key.
fn assert_fails(o: &Output, code: i32, needle: &str) {
    let e = err(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {e}");
    assert!(o.stdout.is_empty(), "stdout: {}", out(o));
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(e.contains(needle), "{e:?} should mention {needle:?}");
    assert!(!e.contains("panicked"), "{e}");
    for i in 0..KEY.len() - 8 {
        assert!(!e.contains(&KEY[i..i + 8]), "the key leaks: {e}");
    }
}

/// A REST request to the test server (which checks no signature): (status, headers, body).
fn rest(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, ureq::http::HeaderMap, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{}{path}", server.port))
        .header("content-type", "application/json");
    let request = headers
        .iter()
        .fold(request, |r, (k, v)| r.header(*k, *v))
        .body(body.to_string())
        .unwrap();
    let mut r = agent.run(request).expect("the test server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn create_container(server: &TestServer, db: &str, coll: &str, partition_key: Value) {
    let (s, _, _) = rest(server, "POST", "/dbs", &[], &json!({ "id": db }));
    assert!(s == 201 || s == 409, "database: {s}");
    let body = json!({ "id": coll, "partitionKey": partition_key });
    let (s, _, b) = rest(server, "POST", &format!("/dbs/{db}/colls"), &[], &body);
    assert_eq!(s, 201, "container: {b}");
}

/// Writes an item with partition key `key` (a JSON array of the components) and `doc`'s fields;
/// returns the range the server routed it to and the token it answered.
fn write(server: &TestServer, db: &str, coll: &str, key: &Value, doc: Value) -> (String, String) {
    let pk = key.to_string();
    let path = format!("/dbs/{db}/colls/{coll}/docs");
    let (s, h, b) = rest(
        server,
        "POST",
        &path,
        &[("x-ms-documentdb-partitionkey", &pk)],
        &doc,
    );
    assert_eq!(s, 201, "{b}");
    let header = |n: &str| h.get(n).unwrap().to_str().unwrap().to_owned();
    (
        header("x-ms-documentdb-partitionkeyrangeid"),
        header("x-ms-session-token"),
    )
}

fn connection_string(server: &TestServer) -> String {
    format!(
        "AccountEndpoint=http://127.0.0.1:{}/;AccountKey={KEY};",
        server.port
    )
}

/// `cst route --container` prints, for each key, the range the server wrote it to; with a
/// token, that range's segment of it; and after a split, the child's range with its parent's
/// progress. Hash V2, Hash V1 (no version in the definition) and hierarchical keys.
#[test]
fn route_prints_the_range_the_server_routes_a_key_to() {
    let Some(server) = TestServer::start_with_or_skip(&["--partitions", "4"]) else {
        return;
    };
    let cs = connection_string(&server);
    let containers = [
        (
            "v2",
            json!({"paths": ["/pk"], "kind": "Hash", "version": 2}),
        ),
        ("v1", json!({"paths": ["/pk"], "kind": "Hash"})),
        (
            "mh",
            json!({"paths": ["/t", "/u"], "kind": "MultiHash", "version": 2}),
        ),
    ];
    for (coll, definition) in &containers {
        create_container(&server, "route", coll, definition.clone());
        let mut written = Vec::new();
        for i in 0..12 {
            let (key, doc) = if *coll == "mh" {
                let (t, u) = (format!("tenant-{i}"), format!("user-{i}"));
                (
                    json!([t, u]),
                    json!({"id": format!("i{i}"), "t": t, "u": u}),
                )
            } else {
                let k = format!("key-{i}");
                (json!([k]), json!({"id": format!("i{i}"), "pk": k}))
            };
            let (range, token) = write(&server, "route", coll, &key, doc);
            written.push((key, range, token));
        }
        let mut ranges: Vec<&str> = written.iter().map(|(_, r, _)| r.as_str()).collect();
        ranges.sort();
        ranges.dedup();
        assert!(
            ranges.len() >= 3,
            "{coll}: the keys reach {ranges:?}: too few ranges to prove routing"
        );
        // Everything the writer was answered, as one composite token.
        let tokens: Vec<SessionToken> = written
            .iter()
            .map(|(_, _, t)| SessionToken::parse(t).unwrap())
            .collect();
        let composite = SessionToken::merge_all(&tokens, &MergePolicy::default())
            .unwrap()
            .unwrap()
            .to_string();
        let link = format!("dbs/route/colls/{coll}");
        for (key, range, _) in &written {
            // A full key: the value itself for one path, the list for a hierarchical one.
            let pk = if *coll == "mh" {
                key.to_string()
            } else {
                key[0].to_string()
            };
            let args = [
                "route",
                "--connection-string",
                &cs,
                "--container",
                &link,
                "--partition-key",
                &pk,
            ];
            let o = cst(&args);
            assert_eq!(
                (o.status.code(), out(&o).trim()),
                (Some(0), range.as_str()),
                "{coll} {pk}: {}",
                err(&o)
            );
            let expected = SessionToken::parse(&composite)
                .unwrap()
                .scope(range, &[])
                .unwrap()
                .unwrap()
                .to_string();
            let o = cst(&[&args[..], &[composite.as_str()]].concat());
            assert_eq!(
                (o.status.code(), out(&o).trim()),
                (Some(0), expected.as_str()),
                "{coll} {pk} with a token: {}",
                err(&o)
            );
        }
        // --json: the shape of the --pkranges mode.
        let (key, range, _) = &written[0];
        let pk = if *coll == "mh" {
            key.to_string()
        } else {
            key[0].to_string()
        };
        let o = cst_env(
            &[
                "--json",
                "route",
                "--container",
                &link,
                "--partition-key",
                &pk,
                &composite,
            ],
            &[("COSMOS_CONNECTION_STRING", &cs)],
            None,
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ranges"], json!([range]), "{v}");
        assert!(
            v["token"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{range}:")),
            "{v}"
        );
        let o = cst_env(
            &[
                "--json",
                "route",
                "--container",
                &link,
                "--partition-key",
                &pk,
            ],
            &[("COSMOS_CONNECTION_STRING", &cs)],
            None,
        );
        assert_eq!(
            out(&o).trim(),
            json!({ "ranges": [range] }).to_string(),
            "{}",
            err(&o)
        );
        // A feed range over everything touches every range.
        let o = cst_env(
            &[
                "--json",
                "route",
                "--container",
                &link,
                "--feed-range",
                "-FF",
            ],
            &[("COSMOS_CONNECTION_STRING", &cs)],
            None,
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ranges"].as_array().unwrap().len(), 4, "{v}");
    }

    // A split: the key's range becomes two; cst names the child the server now writes it to,
    // and the token to send is the parent's progress relabelled.
    let (range, before) = write(
        &server,
        "route",
        "v2",
        &json!(["key-0"]),
        json!({"id": "again", "pk": "key-0"}),
    );
    let (s, _, b) = rest(
        &server,
        "POST",
        "/_shim/partitions",
        &[],
        &json!({"db": "route", "coll": "v2", "split": range}),
    );
    assert_eq!(s, 200, "{b}");
    let args = [
        "route",
        "--connection-string",
        &cs,
        "--container",
        "dbs/route/colls/v2",
        "--partition-key",
        "\"key-0\"",
    ];
    let o = cst(&args);
    let child = out(&o).trim().to_owned();
    assert_ne!(child, range, "a child range after the split");
    let (after, _) = write(
        &server,
        "route",
        "v2",
        &json!(["key-0"]),
        json!({"id": "after", "pk": "key-0"}),
    );
    assert_eq!(
        child, after,
        "the server writes key-0 to the range cst named"
    );
    let o = cst(&[&args[..], &[before.as_str()]].concat());
    let value = before.split_once(':').unwrap().1;
    assert_eq!(out(&o).trim(), format!("{child}:{value}"), "{}", err(&o));
}

/// Errors say what and where, exit 2 (usage) or 3 (the account could not be read), and never
/// show the key.
#[test]
fn route_errors_are_clear_and_bounded() {
    // No server needed for these.
    let o = cst(&[
        "route",
        "--connection-string",
        &format!("AccountEndpoint=ftp://h/;AccountKey={KEY};"),
        "--container",
        "dbs/d/colls/c",
        "--partition-key",
        "\"k\"",
    ]);
    assert_fails(&o, 2, "AccountEndpoint");
    let o = cst(&[
        "route",
        "--connection-string",
        KEY,
        "--container",
        "dbs/d/colls/c",
        "--partition-key",
        "\"k\"",
    ]);
    assert_fails(&o, 2, "connection string");
    let o = cst(&[
        "route",
        "--container",
        "dbs/d/colls/c",
        "--partition-key",
        "\"k\"",
    ]);
    assert_fails(&o, 2, "COSMOS_CONNECTION_STRING");
    let o = cst_env(
        &["route", "--container", "d/c", "--partition-key", "\"k\""],
        &[(
            "COSMOS_CONNECTION_STRING",
            "AccountEndpoint=https://h/;AccountKey=eA==;",
        )],
        None,
    );
    assert_fails(&o, 2, "is not dbs/{db}/colls/{coll}");
    let o = cst_env(
        &[
            "route",
            "--container",
            "dbs/d/colls/c",
            "--kind",
            "multihash",
            "--partition-key",
            "\"k\"",
        ],
        &[(
            "COSMOS_CONNECTION_STRING",
            "AccountEndpoint=https://h/;AccountKey=eA==;",
        )],
        None,
    );
    assert_fails(&o, 2, "the account's definition is used");
    let o = cst(&[
        "route",
        "--pkranges",
        "x.json",
        "--container",
        "dbs/d/colls/c",
        "--partition-key",
        "\"k\"",
    ]);
    assert_eq!(o.status.code(), Some(2), "--pkranges or --container");

    // An unreachable host: a port nobody listens on. Bounded by the operation timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let o = cst(&[
        "route",
        "--connection-string",
        &format!("AccountEndpoint=http://127.0.0.1:{port}/;AccountKey={KEY};"),
        "--container",
        "dbs/d/colls/c",
        "--partition-key",
        "\"k\"",
        "--operation-timeout",
        "2",
    ]);
    let took = started.elapsed();
    assert_fails(
        &o,
        3,
        &format!("reading dbs/d/colls/c on http://127.0.0.1:{port}"),
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");

    let Some(server) = TestServer::start_with_or_skip(&["--partitions", "4"]) else {
        return;
    };
    let cs = connection_string(&server);
    let o = cst(&[
        "route",
        "--connection-string",
        &cs,
        "--container",
        "dbs/nowhere/colls/nothing",
        "--partition-key",
        "\"k\"",
    ]);
    assert_fails(
        &o,
        3,
        "the container dbs/nowhere/colls/nothing does not exist",
    );
    let o = cst(&[
        "--error-format",
        "json",
        "route",
        "--connection-string",
        &cs,
        "--container",
        "dbs/nowhere/colls/nothing",
        "--partition-key",
        "\"k\"",
    ]);
    let v: Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(v["error"]["code"], "store_error", "{v}");

    // Entra ID: an account that refuses keys; a managed identity (the server's fake) signs in.
    create_container(
        &server,
        "entra",
        "c",
        json!({"paths": ["/pk"], "kind": "Hash", "version": 2}),
    );
    let (range, _) = write(
        &server,
        "entra",
        "c",
        &json!(["k"]),
        json!({"id": "1", "pk": "k"}),
    );
    server.post("/_shim/auth", &json!({"mode": "entra"}));
    let args = [
        "route",
        "--container",
        "dbs/entra/colls/c",
        "--partition-key",
        "\"k\"",
    ];
    let o = cst_env(&args, &[("COSMOS_CONNECTION_STRING", &cs)], None);
    assert_fails(&o, 3, "authorization failed");
    let base = format!("http://127.0.0.1:{}", server.port);
    let endpoint_only = format!("AccountEndpoint={base}/;");
    let msi = format!("{base}/_fake/msi");
    let o = cst_env(
        &[&args[..], &["--authentication", "ManagedIdentity"]].concat(),
        &[
            ("COSMOS_CONNECTION_STRING", endpoint_only.as_str()),
            ("IDENTITY_ENDPOINT", msi.as_str()),
            ("IDENTITY_HEADER", "fake-identity-header"),
        ],
        None,
    );
    assert_eq!(
        (o.status.code(), out(&o).trim()),
        (Some(0), range.as_str()),
        "{}",
        err(&o)
    );
}

/// A flow that learned a container and wrote to two of its ranges, as an SDK's traffic teaches it.
fn real_flow() -> SessionFlow {
    let flow = SessionFlow::new();
    flow.after_response(
        "GET",
        "/dbs/d/colls/c",
        200,
        &[],
        Some(br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#),
    );
    flow.after_response(
        "GET",
        "/dbs/d/colls/c/pkranges",
        200,
        &[],
        Some(
            br#"{"PartitionKeyRanges":[{"id":"1","minInclusive":"","maxExclusive":"7F","parents":["0"]},
            {"id":"2","minInclusive":"7F","maxExclusive":"FF","parents":["0"]}]}"#,
        ),
    );
    flow.after_response(
        "POST",
        "/dbs/d/colls/c/docs",
        201,
        &[
            ("x-ms-session-token", "1:0#5#0=5,2:0#9#0=9"),
            ("x-ms-content-path", "rid-c"),
        ],
        None,
    );
    flow
}

#[test]
fn flow_show_prints_what_a_snapshot_holds() {
    let snapshot = real_flow().snapshot();
    let o = cst(&["flow", "show", &snapshot]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o),
        "multi-write:  no\n\
         collections:  1\n\
         collection   dbs/d/colls/c (rid rid-c)\n\
         definition   Hash V2, 1 path\n\
         ranges       2 learned: 1, 2\n\
         progress     2 ranges\n  \
         1          1:0#5#0=5\n  \
         2          2:0#9#0=9\n"
    );
    // --json, the snapshot from standard input.
    let o = cst_env(
        &["--json", "flow", "show", "-"],
        &[],
        Some(snapshot.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        json!({"multi_write": false, "collections": [{
            "names": ["dbs/d/colls/c"], "rid": "rid-c",
            "definition": {"kind": "Hash", "version": 2, "levels": 1},
            "ranges": [{"id": "1", "min": "", "max": "7F", "parents": ["0"]},
                       {"id": "2", "min": "7F", "max": "FF", "parents": ["0"]}],
            "progress": [{"range_id": "1", "token": "1:0#5#0=5"},
                         {"range_id": "2", "token": "2:0#9#0=9"}]}]})
    );
    // An empty flow holds nothing.
    let o = cst(&["--json", "flow", "show", &SessionFlow::new().snapshot()]);
    assert_eq!(out(&o).trim(), r#"{"collections":[],"multi_write":false}"#);
}

#[test]
fn flow_show_refuses_garbage_with_the_librarys_errors() {
    for (snapshot, code) in [
        ("garbage".to_owned(), "invalid_snapshot"),
        (
            r#"{"format":"cosmos-session-token/flow","version":9}"#.to_owned(),
            "invalid_snapshot",
        ),
        (
            format!(
                "\"{}\"",
                "x".repeat(cosmos_session_token::MAX_FLOW_SNAPSHOT_BYTES)
            ),
            "snapshot_too_large",
        ),
    ] {
        let o = cst_env(
            &["--error-format", "json", "flow", "show", "-"],
            &[],
            Some(snapshot.as_bytes()),
        );
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        assert!(o.stdout.is_empty());
        let v: Value = serde_json::from_slice(&o.stderr).unwrap();
        assert_eq!(v["error"]["code"], code, "{v}");
    }
    let o = cst(&["flow", "show", "{}"]);
    let e = err(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with("cst: error: ") && e.contains("flow snapshot"),
        "{e}"
    );
}
