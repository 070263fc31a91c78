//! Runs the built `cst` binary: every subcommand, exit code, stdin input and bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cst(args: &[&str]) -> Output {
    cst_stdin(args, None)
}

fn cst_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cst runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // A large input may be refused before it is all written; that is fine.
        let _ = pipe.write_all(bytes);
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Exit 2 with exactly one clear line on stderr, never a panic or a debug dump.
fn assert_invalid(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "nothing on stdout");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("cst: error: "), "{err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn explain_table() {
    let o = cst(&["explain", "0:1#100#1=20#2=-1,1:-1#42,7:5"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "range  format  version  global LSN  regions\n\
         0      vector  1        100         1=20, 2=no progress\n\
         1      vector  -1       42          -\n\
         7      simple  -        5           -\n\
         segments: 3, bytes: 29\n"
    );
}

#[test]
fn explain_json_shape_is_the_contract() {
    let o = cst(&["explain", "--json", "0:1#100#1=20"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"segments\":[{\"range_id\":\"0\",\"format\":\"vector\",\"version\":1,\"global_lsn\":100,\"regions\":[{\"id\":1,\"lsn\":20}]}],\"bytes\":12}\n"
    );
    let o = cst(&["explain", "--json", "3:45"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["segments"][0]["version"], Value::Null);
    assert_eq!(v["segments"][0]["format"], "simple");
}

#[test]
fn explain_lenient_warns_on_stderr() {
    let o = cst(&["explain", "--lenient", "--json", " 0:1#007#,,1:5"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["bytes"], 9);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 4, "{err}");
    assert!(
        err.lines().all(|l| l.starts_with("cst: warning: segment ")),
        "{err}"
    );
    assert!(err.contains("leading zeros of global LSN \"007\""), "{err}");
    // Strict mode refuses the same input.
    assert_invalid(&cst(&["explain", " 0:1#007#,,1:5"]), "segment 0");
}

#[test]
fn every_parse_vector_through_explain_json() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/vectors/parse.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 100);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        if input == "-" {
            continue; // means standard input; covered by the Rust vector runner
        }
        let mut args = vec!["explain", "--json"];
        if case["mode"] == "lenient" {
            args.push("--lenient");
        }
        args.push("--");
        args.push(input);
        let o = cst(&args);
        if let Some(err) = case.get("error") {
            assert_invalid(&o, "invalid session token");
            let offset = format!("(byte {})", err["offset"]);
            assert!(
                stderr(&o).contains(&offset),
                "{id}: {} lacks {offset}",
                stderr(&o)
            );
            continue;
        }
        assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        if let Some(expected) = case.get("ok") {
            assert_eq!(v["segments"], expected["segments"], "{id}");
        }
        assert_eq!(v["bytes"], case["render"].as_str().unwrap().len(), "{id}");
        let warnings = case
            .get("warnings")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(stderr(&o).lines().count(), warnings, "{id}: {}", stderr(&o));
    }
}

#[test]
fn convert_both_ways() {
    let o = cst(&["convert", "--to", "simple", "0:1#100#1=20,1:-1#42"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "0:100,1:42\n")
    );
    let o = cst(&["convert", "--to", "vector", "7:8,6:2008"]);
    assert_eq!(stdout(&o), "7:-2#8,6:-2#2008\n");
    assert_eq!(
        cst(&["convert", "--to", "binary", "0:5"]).status.code(),
        Some(2)
    );
}

#[test]
fn merge_policies() {
    let o = cst(&["merge", "0:1#100#1=20", "0:1#101#1=10,1:-1#42"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "0:1#101#1=20,1:-1#42\n")
    );
    assert_invalid(
        &cst(&["merge", "0:1#101#1=20", "0:1#100#4=20"]),
        "different region sets",
    );
    let o = cst(&["merge", "--union-regions", "0:1#101#1=20", "0:1#100#4=20"]);
    assert_eq!(stdout(&o), "0:1#101#1=20#4=20\n");
    let o = cst(&["merge", "0:1#100#1=20#2=5", "0:2#97#1=20#2=5"]);
    assert_eq!(stdout(&o), "0:2#97#1=20#2=5\n");
    let o = cst(&[
        "merge",
        "--legacy-max-global-lsn",
        "0:1#100#1=20#2=5",
        "0:2#97#1=20#2=5",
    ]);
    assert_eq!(stdout(&o), "0:2#100#1=20#2=5\n");
    assert_eq!(cst(&["merge"]).status.code(), Some(2), "usage error");
}

#[test]
fn merge_from_stdin() {
    let o = cst_stdin(&["merge", "-"], Some(b"0:1#5\n1:1#7\r\n\n0:1#9\n"));
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "0:1#9,1:1#7\n"),
        "{}",
        stderr(&o)
    );
    let o = cst_stdin(&["merge", "0:1#1", "-"], Some(b"0:1#5\nbad\n"));
    assert_invalid(&o, "token 2: invalid session token: segment 0");
}

#[test]
fn compare_prints_one_word() {
    for (a, b, word) in [
        ("0:1#100#1=20", "0:2#97#1=20", "less"),
        ("0:1#100,1:1#7", "0:1#90", "greater"),
        ("0:1#100#1=5#2=6", "0:1#100#2=6#1=5", "equal"),
        ("0:1#100#1=5", "0:1#100#2=5", "concurrent"),
    ] {
        let o = cst(&["compare", a, b]);
        assert_eq!(
            (o.status.code(), stdout(&o)),
            (Some(0), format!("{word}\n"))
        );
    }
    let o = cst_stdin(&["compare", "-", "0:1#5"], Some(b"0:1#6\n"));
    assert_eq!(stdout(&o), "greater\n");
    assert_invalid(
        &cst_stdin(&["compare", "-", "0:1#5"], Some(b"0:1\n0:2\n")),
        "exactly two tokens",
    );
}

#[test]
fn scope_exit_codes() {
    let o = cst(&["scope", "0:1#100#1=20,1:-1#42", "1"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "1:-1#42\n")
    );
    let o = cst(&[
        "scope",
        "0:1#100#1=20,1:1#99#1=30",
        "2",
        "--parent",
        "0",
        "--parent",
        "1",
    ]);
    assert_eq!(stdout(&o), "2:1#100#1=30\n");
    let o = cst(&["scope", "0:1#5", "2", "--parent", "1"]);
    assert_eq!(
        (o.status.code(), o.stdout.len(), o.stderr.len()),
        (Some(1), 0, 0)
    );
    assert_invalid(
        &cst(&[
            "scope",
            "0:1#5#1=1,1:1#5#2=2",
            "2",
            "--parent",
            "0",
            "--parent",
            "1",
        ]),
        "region sets",
    );
}

#[test]
fn bad_input_is_one_clear_line() {
    assert_invalid(
        &cst(&["explain", "0:1#5,17:1#x1"]),
        r#"segment 1 (range "17"): global LSN "x1" is not a decimal number (byte 11)"#,
    );
    assert_invalid(&cst(&["explain", ""]), "session token is empty");
    assert_invalid(
        &cst_stdin(&["explain", "-"], Some(b"")),
        "standard input holds no token",
    );
    assert_invalid(
        &cst_stdin(&["explain", "-"], Some(b"0:\xff\n")),
        "not UTF-8",
    );
    let huge = format!("0:{}", "1".repeat(2 << 20));
    assert_invalid(
        &cst_stdin(&["explain", "-"], Some(huge.as_bytes())),
        "more than the limit of 1048576",
    );
    let many: String = (0..70_000).map(|i| format!("{i}:1,")).collect();
    assert_invalid(
        &cst_stdin(&["merge", "-"], Some(many.trim_end_matches(',').as_bytes())),
        "more than 65536 segments",
    );
    assert_invalid(
        &cst_stdin(&["merge", "-", "-"], Some(b"0:1\n")),
        "only once",
    );
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    assert_eq!(cst(&[]).status.code(), Some(2));
    assert_eq!(cst(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(cst(&["compare", "0:1"]).status.code(), Some(2));
    for sub in [
        "explain", "convert", "merge", "compare", "scope", "latest", "seal", "unseal",
    ] {
        let o = cst(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        let help = stdout(&o);
        assert!(
            help.contains("Examples:") && help.contains("cst ") && help.contains('#'),
            "{sub}: {help}"
        );
    }
}

#[test]
fn latest_split_merge_explain_and_errors() {
    let o = cst(&[
        "latest",
        "--target",
        "AA-DD",
        "AA-DD=0:1#51#3=52",
        "AA-BB=1:1#55#3=52",
        "BB-DD=2:1#54#3=52",
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "1:1#55#3=52,2:1#54#3=52\n")
    );
    assert!(o.stderr.is_empty());
    let o = cst(&[
        "latest",
        "--explain",
        "--target",
        "-FF",
        "-FF=3:1#60",
        "-80=1:1#54",
    ]);
    assert_eq!(stdout(&o), "3:1#60\n");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.contains(
            "pair 1 [,80) 1:1#54: dropped: the enclosing range of pair 0 is at least as new (merge)"
        ),
        "{err}"
    );
    let o = cst_stdin(
        &["latest", "--target", "AA-DD", "-"],
        Some(b"AA-DD=0:1#5\nAA-BB=1:1#6\n"),
    );
    assert_eq!(stdout(&o), "0:1#5,1:1#6\n");
    // No pair overlaps the target: no result, exit 1 and nothing printed (as scope).
    let none = cst(&["latest", "--target", "AA-BB", "CC-DD=0:1"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty() && none.stderr.is_empty());
    assert_invalid(
        &cst(&["latest", "--target", "AA-BB", "AA-BB"]),
        "pair 0: \"AA-BB\" is not MIN-MAX=TOKEN",
    );
    assert_invalid(
        &cst(&["latest", "--target", "AA-BB", "aa-BB=0:1"]),
        "pair 0: invalid feed range",
    );
    assert_invalid(
        &cst(&["latest", "--target", "BB-AA", "AA-BB=0:1"]),
        "--target: invalid feed range",
    );
    assert_invalid(
        &cst(&["latest", "--target", "AA-BB", "AA-BB=missing"]),
        "pair 0: invalid session token",
    );
}

#[test]
fn every_feed_range_vector_through_latest() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/vectors/feed_range.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 23);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let pairs: Vec<String> = case["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}={}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        let mut args = vec!["latest", "--target", case["target"].as_str().unwrap()];
        args.extend(pairs.iter().map(String::as_str));
        let o = cst(&args);
        match case.get("error") {
            Some(code) if code == "no_overlapping_feed_range" => {
                assert_eq!(o.status.code(), Some(1), "{id}: no result")
            }
            Some(_) => assert_eq!(o.status.code(), Some(2), "{id}: {}", stderr(&o)),
            None => assert_eq!(
                stdout(&o).trim_end(),
                case["expect"].as_str().unwrap(),
                "{id}: {}",
                stderr(&o)
            ),
        }
    }
}

fn temp_key(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("cst-test-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn seal_and_unseal_with_key_files_and_env() {
    let key = temp_key("k1", b"0123456789abcdef0123456789abcdef");
    let old = temp_key("k0", b"an-older-key-still-valid");
    let k = key.to_str().unwrap();
    let o = cst(&[
        "seal",
        "--key-file",
        k,
        "--context",
        "user-42",
        "0:1#100#1=20",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sealed = stdout(&o).trim().to_owned();
    assert!(sealed.starts_with("cst1."));
    let o = cst(&[
        "unseal",
        "--key-file",
        old.to_str().unwrap(),
        "--key-file",
        k,
        "--context",
        "user-42",
        &sealed,
    ]);
    assert_eq!(stdout(&o), "0:1#100#1=20\n", "rotation: {}", stderr(&o));
    let o = cst_stdin(
        &["unseal", "--key-file", k, "--context", "user-42", "-"],
        Some(format!("{sealed}\n").as_bytes()),
    );
    assert_eq!(stdout(&o), "0:1#100#1=20\n");
    assert_invalid(
        &cst(&["unseal", "--key-file", k, "--context", "user-43", &sealed]),
        "signature does not match",
    );
    assert_invalid(
        &cst(&["unseal", "--key-file", k, "cst2.x.y"]),
        "unknown sealed-token version",
    );
    assert_invalid(&cst(&["seal", "0:1"]), "--key-file PATH or --key-env VAR");
    assert_invalid(
        &cst(&["seal", "--key-file", "/nonexistent/key", "0:1"]),
        "--key-file /nonexistent/key",
    );
    assert_invalid(
        &cst(&["seal", "--key-env", "CST_TEST_UNSET_VARIABLE", "0:1"]),
        "is not set",
    );
    let weak = temp_key("weak", b"short");
    assert_invalid(
        &cst(&["seal", "--key-file", weak.to_str().unwrap(), "0:1"]),
        "at least 16 bytes",
    );
    assert_invalid(
        &cst(&["seal", "--key-file", k, "--max-bytes", "20", "0:1#100#1=20"]),
        "scope the token",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(["seal", "--key-env", "CST_TEST_KEY", "0:1#5"])
        .env("CST_TEST_KEY", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();
    let via_env = String::from_utf8(o.stdout).unwrap();
    let o = cst(&["unseal", "--key-file", k, via_env.trim()]);
    assert_eq!(stdout(&o), "0:1#5\n", "same key bytes from env and file");
    for p in [key, old, weak] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn every_seal_vector_through_the_cli() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vectors/seal.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    for (n, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let id = case["id"].as_str().unwrap();
        let context = case["context"].as_str().unwrap();
        if case["op"] == "seal" {
            let key = temp_key(&format!("v{n}"), &hex(case["key_hex"].as_str().unwrap()));
            let o = cst(&[
                "seal",
                "--key-file",
                key.to_str().unwrap(),
                "--context",
                context,
                case["token"].as_str().unwrap(),
            ]);
            assert_eq!(
                stdout(&o).trim(),
                case["expect"].as_str().unwrap(),
                "{id}: {}",
                stderr(&o)
            );
            let _ = std::fs::remove_file(key);
            continue;
        }
        let keys: Vec<std::path::PathBuf> = case["keys_hex"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, k)| temp_key(&format!("v{n}-{i}"), &hex(k.as_str().unwrap())))
            .collect();
        let mut args: Vec<String> = vec!["unseal".into(), "--context".into(), context.into()];
        for k in &keys {
            args.push("--key-file".into());
            args.push(k.to_str().unwrap().into());
        }
        args.push("--".into());
        args.push(case["sealed"].as_str().unwrap().into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cst(&args);
        match case.get("error") {
            Some(_) => assert_eq!(o.status.code(), Some(2), "{id}: {}", stdout(&o)),
            None => assert_eq!(
                stdout(&o).trim(),
                case["expect"].as_str().unwrap(),
                "{id}: {}",
                stderr(&o)
            ),
        }
        for k in keys {
            let _ = std::fs::remove_file(k);
        }
    }
}

#[test]
fn every_limit_through_the_cli() {
    let regions: String = (1..=257).map(|i| format!("#{i}=1")).collect();
    assert_invalid(
        &cst(&["explain", &format!("0:1#5{regions}")]),
        "more than 256 regions in one value (limit)",
    );
    assert_invalid(
        &cst(&["explain", &format!("{}:1", "a".repeat(257))]),
        "more than the limit of 256",
    );
    let deep = format!("{}{}", "{\"Range\":".repeat(500), "}".repeat(500));
    assert_invalid(
        &cst(&["latest", "--target", "-FF", &format!("{deep}=0:1")]),
        "invalid feed range",
    );
    let key = temp_key("limits", b"0123456789abcdef0123456789abcdef");
    let sealed_too_big = format!("cst1.{}.x", "A".repeat(5000));
    assert_invalid(
        &cst(&[
            "unseal",
            "--key-file",
            key.to_str().unwrap(),
            &sealed_too_big,
        ]),
        "more than the budget of 4000",
    );
    let _ = std::fs::remove_file(key);
}

/// errors.json through the CLI (the ops `cst` has): the same code and category, printed by
/// `--error-format json`; a not_found case is exit 1 with nothing printed.
#[test]
fn error_vectors_give_the_same_codes() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/errors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("cst-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let s = |k: &str| case[k].as_str().unwrap().to_owned();
        let hex = |h: &str| -> Vec<u8> {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        };
        let key_files = |list: Vec<String>| -> Vec<String> {
            let mut args = Vec::new();
            for (i, k) in list.iter().enumerate() {
                let file = dir.join(format!("{id}-{i}.key"));
                std::fs::write(&file, hex(k)).unwrap();
                args.push("--key-file".to_owned());
                args.push(file.display().to_string());
            }
            args
        };
        let mut args: Vec<String> = vec!["--error-format".into(), "json".into()];
        match s("op").as_str() {
            "parse" => {
                args.push("explain".into());
                if s("mode") == "lenient" {
                    args.push("--lenient".into());
                }
                args.extend(["--".into(), s("input")]);
            }
            "merge" => {
                args.push("merge".into());
                args.extend(
                    case["inputs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned()),
                );
            }
            "scope" => {
                args.extend(["scope".into(), s("token"), s("range_id")]);
                for p in case["parents"].as_array().unwrap() {
                    args.extend(["--parent".into(), p.as_str().unwrap().to_owned()]);
                }
            }
            "seal" => {
                args.push("seal".into());
                args.extend(key_files(vec![s("key_hex")]));
                args.extend([
                    "--max-bytes".into(),
                    case["max_bytes"].to_string(),
                    s("token"),
                ]);
            }
            "unseal" => {
                args.push("unseal".into());
                let keys: Vec<String> = case["keys_hex"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect();
                if keys.is_empty() {
                    continue; // the CLI requires a key option: a usage error, not this code
                }
                args.extend(key_files(keys));
                args.extend([
                    "--max-bytes".into(),
                    case["max_bytes"].to_string(),
                    s("sealed"),
                ]);
            }
            "latest" => {
                args.extend(["latest".into(), "--target".into(), s("target")]);
                for p in case["pairs"].as_array().unwrap() {
                    args.push(format!(
                        "{}={}",
                        p[0].as_str().unwrap(),
                        p[1].as_str().unwrap()
                    ));
                }
            }
            "state_open" => {
                // The connection string comes from the environment, as operators pass it.
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
                    .env("COSMOS_CONNECTION_STRING", s("connection_string"))
                    .output()
                    .unwrap();
                assert_eq!(o.status.code(), Some(2), "{id}");
                let err: Value =
                    serde_json::from_slice(&o.stderr).unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(err["error"]["code"], case["kind"], "{id}: {err}");
                assert!(!String::from_utf8_lossy(&o.stderr).contains("SECRET"));
                ran += 1;
                continue;
            }
            _ => continue, // container, carrier and in-memory state operations have no CLI command
        }
        ran += 1;
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cst(&refs);
        if case["category"] == "not_found" {
            assert_eq!(
                o.status.code(),
                Some(1),
                "{id}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            continue;
        }
        assert_eq!(o.status.code(), Some(2), "{id}");
        let err: Value = serde_json::from_slice(&o.stderr).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(err["error"]["code"], case["kind"], "{id}: {err}");
        assert_eq!(err["error"]["category"], case["category"], "{id}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(ran >= 14, "only {ran} error cases ran through the CLI");
}

/// --json on every subcommand: one object per line, the shapes documented in the README.
#[test]
fn json_on_every_subcommand() {
    let one = |args: &[&str]| -> Value {
        let o = cst(args);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&o)))
    };
    assert_eq!(
        one(&["--json", "convert", "--to", "simple", "0:1#5#1=2"]),
        serde_json::json!({"token": "0:5"})
    );
    assert_eq!(
        one(&["merge", "--json", "0:1#5", "0:1#6"]),
        serde_json::json!({"token": "0:1#6"})
    );
    assert_eq!(
        one(&["compare", "--json", "0:1#5", "0:1#6"]),
        serde_json::json!({"order": "less"})
    );
    assert_eq!(
        one(&["scope", "--json", "0:1#5,1:1#7", "1"]),
        serde_json::json!({"token": "1:1#7"})
    );
    let none = cst(&["scope", "--json", "0:1#5", "9"]);
    assert_eq!(none.status.code(), Some(1), "no result: exit 1");
    assert_eq!(stdout(&none).trim(), r#"{"token":null}"#);
    let latest = one(&[
        "latest",
        "--json",
        "--explain",
        "--target",
        "AA-BB",
        "AA-BB=0:1#5",
    ]);
    assert_eq!(latest["token"], "0:1#5");
    assert!(
        latest["explanation"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    );
    assert!(one(&["explain", "--json", "0:1#5"])["segments"].is_array());
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = cst(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let text = stdout(&o);
        assert!(
            text.contains("cst") && text.contains("merge") && text.len() > 500,
            "{shell}"
        );
    }
    let man = cst(&["man"]);
    assert!(man.status.success());
    let roff = stdout(&man);
    assert!(
        roff.contains(".TH cst") && roff.contains("explain"),
        "{roff}"
    );
    assert_eq!(
        cst(&["completions", "tcsh"]).status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(["explain", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = (0..20_000).map(|i| format!("0:1#{i}\n")).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take()); // the reader goes away, like `| head -2`
    let status = child.wait().unwrap();
    writer.join().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit {status:?}: {err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn errors_name_the_flag_that_would_help() {
    let o = cst(&["explain", "0:1#007"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--lenient"), "{}", stderr(&o));
    let o = cst(&["explain", "0:1#x"]);
    assert!(
        !stderr(&o).contains("--lenient"),
        "no hint when --lenient would not help"
    );
    let o = cst(&["merge", "0:1#5#1=1", "0:1#5#2=1"]);
    assert!(stderr(&o).contains("--union-regions"), "{}", stderr(&o));
}

#[test]
fn an_unreachable_store_exits_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Command::new(env!("CARGO_BIN_EXE_cst"))
        .args(["state", "show", "--database", "d", "s"])
        .env(
            "COSMOS_CONNECTION_STRING",
            format!("AccountEndpoint=http://127.0.0.1:{port}/;AccountKey=c2VjcmV0;"),
        )
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A key file is read only up to 4 KiB (a wrong path must not be read whole), and no error about a
/// connection string shows any part of a misplaced key.
#[test]
fn key_files_are_bounded_and_connection_string_errors_hide_the_key() {
    let dir = std::env::temp_dir().join(format!("cst-keyfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![7u8; 4097]).unwrap();
    let o = cst(&[
        "seal",
        "--key-file",
        big.to_str().unwrap(),
        "--context",
        "c",
        "0:1#5",
    ]);
    assert_invalid(&o, "not a key file");
    let ok = dir.join("ok.bin");
    std::fs::write(&ok, vec![7u8; 32]).unwrap();
    assert!(
        cst(&[
            "seal",
            "--key-file",
            ok.to_str().unwrap(),
            "--context",
            "c",
            "0:1#5"
        ])
        .status
        .success()
    );
    std::fs::remove_dir_all(&dir).ok();
    let key = "c2VjcmV0LWtleS1ub3QtZm9yLXRoZS1lcnJvci1tZXNzYWdl";
    for cs in [
        key.to_string(),
        format!("AccountEndpoint=https://h/;AccountKey:{key}"),
    ] {
        let o = cst(&[
            "state",
            "show",
            "--connection-string",
            &cs,
            "--database",
            "d",
            "sid",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for i in 0..key.len() - 8 {
            assert!(!err.contains(&key[i..i + 8]), "{err}");
        }
    }
}

/// The help states every exit code, including 3 (the session store failed).
#[test]
fn help_lists_every_exit_code() {
    let o = cst(&["--help"]);
    let out = stdout(&o);
    assert!(out.contains("3 the session store failed"), "{out}");
    assert!(stdout(&cst(&["merge", "--help"])).contains("one or more"));
    assert!(stdout(&cst(&["unseal", "--help"])).contains("`unseal` accepts any of them"));
}

/// The main page refers to cst-explain(1) and the others: `cst man --out-dir` writes them all.
#[test]
fn man_out_dir_writes_every_page_the_main_page_names() {
    let dir = std::env::temp_dir().join(format!("cst-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = cst(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let main = std::fs::read_to_string(dir.join("cst.1")).unwrap();
    for sub in ["explain", "merge", "scope", "state", "seal", "unseal"] {
        assert!(main.contains(&format!("cst\\-{sub}(1)")), "{sub}");
        assert!(dir.join(format!("cst-{sub}.1")).is_file(), "cst-{sub}.1");
    }
    std::fs::remove_dir_all(&dir).ok();
    // --lenient is offered where tokens are read, not on the others.
    assert!(stdout(&cst(&["explain", "--help"])).contains("--lenient"));
    assert!(!stdout(&cst(&["man", "--help"])).contains("--lenient"));
    assert!(!stdout(&cst(&["completions", "--help"])).contains("--lenient"));
}

#[test]
fn every_epk_vector_through_cst_epk() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/vectors/epk.json"
    ))
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let value = case["value"].to_string();
        let version = case["version"].to_string();
        let mut args = vec![
            "--json",
            "--error-format",
            "json",
            "epk",
            "--version",
            &version,
        ];
        let levels = case["levels"].to_string();
        if case["kind"] == "MultiHash" {
            args.extend(["--kind", "multihash"]);
            if case.get("levels").is_some() {
                args.extend(["--levels", &levels]);
            }
        }
        args.push(&value);
        let o = cst(&args);
        match case.get("error") {
            Some(code) => {
                assert_eq!(o.status.code(), Some(2), "{id}");
                let err: serde_json::Value = serde_json::from_str(&stderr(&o)).unwrap();
                assert_eq!(&err["error"]["code"], code, "{id}");
            }
            None => {
                assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
                let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
                assert_eq!(v["epk"], case["epk"], "{id}");
                if let Some(range) = case.get("range") {
                    assert_eq!(&v["range"], range, "{id}");
                }
            }
        }
    }
}

#[test]
fn route_sends_only_the_segments_a_request_touches() {
    let dir = std::env::temp_dir().join(format!("cst-route-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pkranges = dir.join("pkranges.json");
    // Range 0 split into 1 and 2 at EPK 20.
    std::fs::write(
        &pkranges,
        r#"{"_rid":"x","PartitionKeyRanges":[
        {"id":"1","minInclusive":"","maxExclusive":"20","parents":["0"]},
        {"id":"2","minInclusive":"20","maxExclusive":"FF","parents":["0"]}],"_count":2}"#,
    )
    .unwrap();
    let p = pkranges.to_str().unwrap();
    // "partitionKey" hashes (V2) to 013AEF…, in range 1.
    let o = cst(&[
        "route",
        "--pkranges",
        p,
        "--partition-key",
        "\"partitionKey\"",
        "0:1#5,1:1#9,7:1#3",
    ]);
    assert_eq!((o.status.code(), stdout(&o).trim()), (Some(0), "1:1#9"));
    let o = cst(&[
        "--json",
        "route",
        "--pkranges",
        p,
        "--feed-range",
        "-FF",
        "0:1#5,1:1#9",
    ]);
    assert_eq!(
        stdout(&o).trim(),
        r#"{"ranges":["1","2"],"token":"1:1#9,2:1#5"}"#
    );
    let o = cst(&[
        "route",
        "--pkranges",
        p,
        "--partition-key",
        "\"partitionKey\"",
        "9:1#5",
    ]);
    assert_eq!(o.status.code(), Some(1), "no segment applies");
    std::fs::write(&pkranges, r#"[{"id":"1","minInclusive":"","maxExclusive":"20"},{"id":"2","minInclusive":"30","maxExclusive":"FF"}]"#).unwrap();
    let o = cst(&[
        "--error-format",
        "json",
        "route",
        "--pkranges",
        p,
        "--feed-range",
        "-FF",
        "0:1#5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid_routing_map") && stderr(&o).contains("gap"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_explain_says_what_each_token_lacks() {
    let o = cst(&[
        "compare",
        "--explain",
        "0:1#90#1=15,1:-1#42",
        "0:1#100#1=20,2:1#7",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "concurrent\nA lacks range 0: global LSN 90 < 100 (10 behind)\nA lacks range 0 region 1: LSN 15 < 20 (5 behind)\nA lacks range 2: absent (needs 2:1#7)\nB lacks range 1: absent (needs 1:-1#42)\n"
    );
    let o = cst(&["--json", "compare", "--explain", "0:2#5", "0:1#100#1=20"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["order"], "greater");
    assert_eq!(v["a_lacks"], serde_json::json!([]));
    assert_eq!(v["b_lacks"][0]["kind"], "version");
    assert_eq!(
        (
            v["b_lacks"][0]["have"].as_i64(),
            v["b_lacks"][0]["need"].as_i64()
        ),
        (Some(1), Some(2))
    );
    // Without --explain, the one-word contract is unchanged.
    assert_eq!(stdout(&cst(&["compare", "0:1#1", "0:1#2"])), "less\n");
}

#[test]
fn every_compare_vector_through_compare_explain() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/vectors/compare.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let mut explained = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let (a, b) = (case["a"].as_str().unwrap(), case["b"].as_str().unwrap());
        let o = cst(&["compare", "--explain", "--", a, b]);
        assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
        let out = stdout(&o);
        let mut lines = out.lines();
        assert_eq!(lines.next(), case["expect"].as_str(), "{id}");
        if let Some(explain) = case["explain"].as_array() {
            explained += 1;
            let want: Vec<&str> = explain.iter().map(|l| l.as_str().unwrap()).collect();
            assert_eq!(lines.collect::<Vec<_>>(), want, "{id}");
        }
    }
    assert!(explained >= 5, "the explain cases are run");
}
