//! The Cosmos DB test server for integration tests: `testserver/server.js` started on
//! 127.0.0.1 with a free port, waited for until it answers, and stopped by its PID when dropped
//! (it also exits by itself when its standard input closes, i.e. when this process dies).

#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cosmos_session_state::{CosmosOptions, CosmosStore, Options, SessionStateStore};
use serde_json::Value;

pub struct TestServer {
    child: Child,
    /// The global endpoint's port.
    pub port: u16,
    /// Each region's name and port (one region, "Local", unless started with `--regions`).
    pub regions: Vec<(String, u16)>,
}

fn testserver_dir() -> PathBuf {
    // The server lives in the repository's top-level `testserver/` (this file is compiled into
    // the state crate's tests and the CLI's, so find the workspace root first).
    workspace_root().join("testserver")
}

/// `file!()` is relative to the workspace root; tests run in the package directory.
fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").is_file() && dir.pop() {}
    dir
}

impl TestServer {
    /// The server, or `None` (with a line on the terminal saying so) when it is not installed and
    /// `CST_REQUIRE_TEST_SERVER` is not set: a contributor's plain `cargo test` on a fresh clone
    /// skips these tests instead of failing. `scripts/test` sets the variable, so CI never skips.
    pub fn start_or_skip() -> Option<TestServer> {
        TestServer::start_with_or_skip(&[])
    }

    /// [`start_or_skip`](Self::start_or_skip) with more arguments (see [`start_with`](Self::start_with)).
    pub fn start_with_or_skip(args: &[&str]) -> Option<TestServer> {
        let installed = testserver_dir()
            .join("node_modules/@vercel/cosmosdb-server")
            .is_dir();
        if !installed && std::env::var_os("CST_REQUIRE_TEST_SERVER").is_none() {
            use std::io::Write;
            // Written to the stream itself, not through eprintln!: the test harness would hide it.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: a test needs the Cosmos DB test server (run `scripts/provision node`, or `scripts/test rust`)"
            );
            return None;
        }
        Some(TestServer::start_with(args))
    }

    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// The server with more arguments (`--regions "West US,East US"`, `--entra`, `--multi-write`).
    pub fn start_with(args: &[&str]) -> TestServer {
        let dir = testserver_dir();
        assert!(
            dir.join("node_modules/@vercel/cosmosdb-server").is_dir(),
            "the test server is not installed: run `npm ci` in {} (scripts/test does)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("server.js"))
            .args(["--port", "0"])
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed to run the Cosmos DB test server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let last = line.starts_with("listening ");
                let _ = tx.send(line);
                if last {
                    return;
                }
            }
        });
        let mut regions = Vec::new();
        let line = loop {
            let line = match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("the test server did not start within 30 s");
                }
            };
            match line.trim().strip_prefix("region ") {
                Some(rest) => {
                    let (name, port) = rest.rsplit_once(' ').expect("region <name> <port>");
                    regions.push((name.to_owned(), port.parse().expect("a port")));
                }
                None => break line,
            }
        };
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the test server: {line:?}"));
        let server = TestServer {
            child,
            port,
            regions,
        };
        // Wait until it answers.
        for _ in 0..100 {
            if server.get("/_shim/stats").is_some() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the test server on port {port} does not answer");
    }

    pub fn connection_string(&self) -> String {
        // The test server does not check keys; any base64 will do.
        format!(
            "AccountEndpoint=http://127.0.0.1:{}/;AccountKey=dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=;",
            self.port
        )
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        let mut r = Self::agent()
            .get(&format!("http://127.0.0.1:{}{path}", self.port))
            .call()
            .ok()?;
        serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut r = Self::agent()
            .post(&format!("http://127.0.0.1:{}{path}", self.port))
            .header("content-type", "application/json")
            .send(body.to_string())
            .expect("the test server answers");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn fault(&self, fault: Value) {
        assert_eq!(self.post("/_shim/faults", &fault).0, 200);
    }

    pub fn stats(&self) -> Value {
        self.get("/_shim/stats").expect("stats")
    }

    pub fn reset(&self) {
        self.post("/_shim/reset", &Value::Null);
    }

    pub fn store(&self, database: &str) -> CosmosStore {
        self.store_with(CosmosOptions {
            database: database.into(),
            ..CosmosOptions::default()
        })
    }

    pub fn store_with(&self, options: CosmosOptions) -> CosmosStore {
        CosmosStore::connect(&self.connection_string(), options).expect("connect")
    }

    pub fn engine(&self, database: &str, options: Options) -> SessionStateStore {
        SessionStateStore::new(self.store(database), options).expect("engine")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Stopped by PID, whatever happened in the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts from the shim's stats.
pub fn count(stats: &Value, key: &str) -> u64 {
    stats[key].as_u64().unwrap_or(0)
}
