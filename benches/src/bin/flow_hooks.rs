//! Runs the flow's hooks for `N` point reads, for instruction counting under callgrind (run it
//! with N = 0 and N = K and divide the difference by K): the inputs of `benches/flow.rs`.
//!
//! Usage: `flow_hooks <before|after|both> <iterations>`.

use std::hint::black_box;
use std::process::ExitCode;

use cosmos_session_token_benches::learned_flow;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(which), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: flow_hooks <before|after|both> <iterations>");
        return ExitCode::from(2);
    };
    let flow = learned_flow(1000);
    let keys: Vec<String> = (0..n).map(|i| format!(r#"["user-{i}"]"#)).collect();
    let urls: Vec<String> = (0..n)
        .map(|i| format!("http://127.0.0.1:8081/dbs/d/colls/c/docs/item{i}"))
        .collect();
    let tokens: Vec<String> = (0..n)
        .map(|i| format!("{}:0#{}#0={}", i % 1000, 2000 + i, 2000 + i))
        .collect();
    for i in 0..n {
        if which != "after" {
            let headers = [
                ("x-ms-documentdb-partitionkey", keys[i].as_str()),
                ("x-ms-version", "2020-07-15"),
            ];
            black_box(flow.before_request("GET", &urls[i], &headers));
        }
        if which != "before" {
            let headers = [
                ("x-ms-session-token", tokens[i].as_str()),
                ("x-ms-content-path", "rid"),
            ];
            flow.after_response("GET", &urls[i], 200, &headers, None);
        }
    }
    ExitCode::SUCCESS
}
