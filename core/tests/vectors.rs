//! Runs every case of `testdata/vectors/*.json` (the cases every binding runs too).

use std::path::PathBuf;

use cosmos_session_token::{
    Category, Error, Format, MergePolicy, ParseOptions, RegionMismatch, RequestKind, SegmentValue,
    SessionToken,
};
use serde_json::{Value, json};

fn cases(name: &str) -> Vec<Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/vectors/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = doc["cases"].as_array().expect("cases array").clone();
    assert!(!cases.is_empty(), "{name}.json has no cases");
    cases
}

fn strict(s: &str) -> SessionToken {
    SessionToken::parse(s).unwrap_or_else(|e| panic!("vector input {s:?} must parse: {e}"))
}

fn segment_json(token: &SessionToken) -> Value {
    let segs: Vec<Value> = token
        .iter()
        .map(|s| {
            let v = s.value();
            json!({
                "range_id": s.range_id(),
                "format": s.format().as_str(),
                "version": match v { SegmentValue::Vector(v) => json!(v.version()), _ => Value::Null },
                "global_lsn": v.global_lsn(),
                "regions": v.regions().iter().map(|r| json!({"id": r.id, "lsn": r.local_lsn})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "segments": segs })
}

fn policy(case: &Value) -> MergePolicy {
    let p = &case["policy"];
    if p.is_null() {
        return MergePolicy::DEFAULT;
    }
    MergePolicy {
        region_mismatch: match p["region_mismatch"].as_str() {
            Some("union") => RegionMismatch::Union,
            Some("error") | None => RegionMismatch::Error,
            Some(other) => panic!("unknown region_mismatch {other}"),
        },
        false_progress_protection: p["false_progress_protection"].as_bool().unwrap_or(true),
    }
}

#[test]
fn parse_vectors() {
    for case in cases("parse") {
        let id = case["id"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let opts = match case["mode"].as_str() {
            Some("lenient") => ParseOptions::LENIENT,
            _ => ParseOptions::STRICT,
        };
        let result = SessionToken::parse_with(input, &opts);
        if let Some(expected) = case.get("error") {
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{id}: expected an error"));
            assert_eq!(err.kind().code(), expected["kind"], "{id}: {err}");
            assert_eq!(
                json!(err.segment()),
                expected["segment"],
                "{id}: segment of {err}"
            );
            assert_eq!(
                json!(err.offset()),
                expected["offset"],
                "{id}: offset of {err}"
            );
            continue;
        }
        let parsed = result.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            parsed.token.to_string(),
            case["render"].as_str().unwrap(),
            "{id}: render"
        );
        assert_eq!(
            parsed.token.encoded_len(),
            parsed.token.to_string().len(),
            "{id}: encoded_len"
        );
        if let Some(expected) = case.get("ok") {
            assert_eq!(segment_json(&parsed.token), *expected, "{id}: fields");
        }
        let codes: Vec<&str> = parsed.warnings.iter().map(|w| w.kind().code()).collect();
        let expected: Vec<&str> = case
            .get("warnings")
            .map(|w| {
                w.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(codes, expected, "{id}: warnings");
        // The rendering is normalised: it parses back (same mode) to an equal token. It is
        // strictly valid unless lenient parsing kept a negative global LSN.
        let reparsed = SessionToken::parse_with(&parsed.token.to_string(), &opts)
            .unwrap()
            .token;
        assert_eq!(reparsed, parsed.token, "{id}: re-parse");
    }
}

#[test]
fn convert_vectors() {
    for case in cases("convert") {
        let id = case["id"].as_str().unwrap();
        let token = strict(case["input"].as_str().unwrap());
        let format = match case["to"].as_str().unwrap() {
            "simple" => Format::Simple,
            "vector" => Format::Vector,
            other => panic!("{id}: unknown format {other}"),
        };
        let out = token.convert(format);
        assert_eq!(out.to_string(), case["expect"].as_str().unwrap(), "{id}");
        assert_eq!(
            out.convert(format).to_string(),
            out.to_string(),
            "{id}: idempotent"
        );
    }
}

#[test]
fn merge_vectors() {
    for case in cases("merge") {
        let id = case["id"].as_str().unwrap();
        let tokens: Vec<SessionToken> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| strict(s.as_str().unwrap()))
            .collect();
        let policy = policy(&case);
        let all = SessionToken::merge_all(&tokens, &policy);
        let folded = tokens[1..]
            .iter()
            .try_fold(tokens[0].clone(), |acc, t| acc.merge_with(t, &policy));
        match case.get("error") {
            Some(kind) => {
                let err = all.expect_err(id);
                assert_eq!(err.code().name(), kind, "{id}: {err}");
                assert!(folded.is_err(), "{id}: pairwise fold must fail too");
            }
            None => {
                let expected = case["expect"].as_str().unwrap();
                let merged = all.unwrap_or_else(|e| panic!("{id}: {e}")).unwrap();
                assert_eq!(merged.to_string(), expected, "{id}: merge_all");
                assert_eq!(folded.unwrap().to_string(), expected, "{id}: pairwise");
                if tokens.len() == 2 {
                    let swapped = tokens[1].merge_with(&tokens[0], &policy).unwrap();
                    assert_eq!(swapped, merged, "{id}: commutative (semantically)");
                }
            }
        }
    }
}

#[test]
fn compare_vectors() {
    for case in cases("compare") {
        let id = case["id"].as_str().unwrap();
        let a = strict(case["a"].as_str().unwrap());
        let b = strict(case["b"].as_str().unwrap());
        let expected = case["expect"].as_str().unwrap();
        assert_eq!(a.compare(&b).as_str(), expected, "{id}");
        let reverse = match expected {
            "less" => "greater",
            "greater" => "less",
            same => same,
        };
        assert_eq!(b.compare(&a).as_str(), reverse, "{id}: reverse");
        assert_eq!(a == b, expected == "equal", "{id}: ==");
        if let Some(explain) = case.get("explain") {
            let c = a.compare_explained(&b);
            assert_eq!(c.order.as_str(), expected, "{id}: explained order");
            let lines = c.lines();
            let want: Vec<&str> = explain
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            assert_eq!(lines, want, "{id}: explain");
        }
    }
}

#[test]
fn scope_vectors() {
    for case in cases("scope") {
        let id = case["id"].as_str().unwrap();
        let token = strict(case["token"].as_str().unwrap());
        let parents: Vec<&str> = case["parents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let result = token.scope(case["range_id"].as_str().unwrap(), &parents);
        match case.get("error") {
            Some(kind) => assert_eq!(result.expect_err(id).code().name(), kind, "{id}"),
            None => {
                let got = result
                    .unwrap_or_else(|e| panic!("{id}: {e}"))
                    .map(|t| t.to_string());
                assert_eq!(json!(got), case["expect"], "{id}");
            }
        }
    }
}

#[test]
fn container_vectors() {
    use cosmos_session_token::SessionContainer;
    for case in cases("container") {
        let id = case["id"].as_str().unwrap();
        let c = SessionContainer::new();
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let s = |k: &str| {
                step[k]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id} step {i}: {k}"))
            };
            let expect_token = |got: Option<SessionToken>| {
                assert_eq!(
                    json!(got.map(|t| t.to_string())),
                    step["expect"],
                    "{id} step {i}"
                );
            };
            match s("op") {
                "capture" => {
                    let kind = RequestKind::from_resource_type(
                        step["resource_type"].as_str().unwrap_or("docs"),
                    )
                    .unwrap();
                    let got = c
                        .capture_response(
                            kind,
                            s("name"),
                            s("rid"),
                            step["token"].as_str(),
                            step["status"].as_u64().unwrap() as u16,
                            step["sub_status"].as_u64().unwrap() as u32,
                        )
                        .unwrap_or_else(|e| panic!("{id} step {i}: {e}"));
                    assert_eq!(json!(got), step["expect"], "{id} step {i}");
                }
                "forget_range" => assert_eq!(
                    json!(c.forget_range(s("collection"), s("range_id"))),
                    step["expect"],
                    "{id} step {i}"
                ),
                "resolve" => {
                    let parents: Vec<&str> = step["parents"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap())
                        .collect();
                    expect_token(c.resolve(s("collection"), s("range_id"), &parents).unwrap());
                }
                "resolve_all" => expect_token(c.resolve_all(s("collection"))),
                "clear" => assert_eq!(
                    json!(c.clear(s("collection"))),
                    step["expect"],
                    "{id} step {i}"
                ),
                other => panic!("{id}: unknown op {other}"),
            }
        }
    }
}

#[test]
fn feed_range_vectors() {
    use cosmos_session_token::{FeedRange, latest_for_feed_range, parse_pair_token};
    for case in cases("feed_range") {
        let id = case["id"].as_str().unwrap();
        let parsed: Result<Vec<(FeedRange, SessionToken)>, String> = case["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let range = FeedRange::parse(p[0].as_str().unwrap())
                    .map_err(|e| e.code().name().to_owned())?;
                let token = parse_pair_token(p[1].as_str().unwrap())
                    .map_err(|e| e.kind().code().name().to_owned())?;
                Ok((range, token))
            })
            .collect();
        let target = FeedRange::parse(case["target"].as_str().unwrap()).unwrap();
        let result = parsed.and_then(|pairs| {
            let latest =
                latest_for_feed_range(&pairs, &target).map_err(|e| e.code().name().to_owned())?;
            assert_eq!(latest.fates.len(), pairs.len(), "{id}");
            // Order independence: the reversed input gives the same text.
            let mut reversed = pairs.clone();
            reversed.reverse();
            let again = latest_for_feed_range(&reversed, &target).unwrap();
            assert_eq!(
                again.token.to_string(),
                latest.token.to_string(),
                "{id}: reversed"
            );
            Ok(latest.token.to_string())
        });
        match case.get("error") {
            Some(kind) => assert_eq!(json!(result.expect_err(id)), *kind, "{id}"),
            None => assert_eq!(
                json!(result.unwrap_or_else(|e| panic!("{id}: {e}"))),
                case["expect"],
                "{id}"
            ),
        }
    }
}

#[test]
fn seal_vectors() {
    use cosmos_session_token::{DEFAULT_SEAL_BUDGET, seal, unseal};
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    for case in cases("seal") {
        let id = case["id"].as_str().unwrap();
        let context = case["context"].as_str().unwrap();
        if case["op"] == "seal" {
            let token = strict(case["token"].as_str().unwrap());
            let key = hex(case["key_hex"].as_str().unwrap());
            let sealed = seal(&token, &key, context, DEFAULT_SEAL_BUDGET).unwrap();
            assert_eq!(sealed, case["expect"].as_str().unwrap(), "{id}");
            assert_eq!(
                unseal(&sealed, &[&key], context, DEFAULT_SEAL_BUDGET).unwrap(),
                token,
                "{id}"
            );
            continue;
        }
        let keys: Vec<Vec<u8>> = case["keys_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| hex(k.as_str().unwrap()))
            .collect();
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let result = unseal(
            case["sealed"].as_str().unwrap(),
            &keys,
            context,
            DEFAULT_SEAL_BUDGET,
        );
        match case.get("error") {
            Some(kind) => assert_eq!(result.expect_err(id).code().name(), kind, "{id}"),
            None => assert_eq!(
                result.unwrap().to_string(),
                case["expect"].as_str().unwrap(),
                "{id}"
            ),
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs one case of errors.json; `Ok(None)` is a missing result (the not_found category).
fn run_error_case(case: &Value) -> Result<Option<SessionToken>, Error> {
    use cosmos_session_token::{
        FeedRange, SessionCarrier, SessionContainer, latest_for_feed_range, parse_pair_token, seal,
        unseal,
    };
    let s = |k: &str| case[k].as_str().unwrap();
    let keys = || -> Vec<Vec<u8>> {
        case["keys_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| hex(k.as_str().unwrap()))
            .collect()
    };
    let strs = |k: &str| -> Vec<&str> {
        case[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    };
    match s("op") {
        "parse" => {
            let options = if s("mode") == "lenient" {
                ParseOptions::LENIENT
            } else {
                ParseOptions::STRICT
            };
            Ok(Some(SessionToken::parse_with(s("input"), &options)?.token))
        }
        "merge" => {
            let inputs: Vec<SessionToken> = strs("inputs").into_iter().map(strict).collect();
            Ok(SessionToken::merge_all(&inputs, &MergePolicy::default())?)
        }
        "scope" => Ok(strict(s("token")).scope(s("range_id"), &strs("parents"))?),
        "seal" => {
            let max = case["max_bytes"].as_u64().unwrap() as usize;
            seal(&strict(s("token")), &hex(s("key_hex")), s("context"), max)?;
            Ok(None)
        }
        "unseal" => {
            let keys = keys();
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let max = case["max_bytes"].as_u64().unwrap() as usize;
            Ok(Some(unseal(s("sealed"), &refs, s("context"), max)?))
        }
        "latest" => {
            let mut pairs = Vec::new();
            for p in case["pairs"].as_array().unwrap() {
                let range = FeedRange::parse(p[0].as_str().unwrap())?;
                pairs.push((range, parse_pair_token(p[1].as_str().unwrap())?));
            }
            let target = FeedRange::parse(s("target"))?;
            Ok(Some(latest_for_feed_range(&pairs, &target)?.token))
        }
        "capture" => {
            let kind = RequestKind::from_resource_type(s("resource_type"))?;
            let status = case["status"].as_u64().unwrap() as u16;
            let c = SessionContainer::new();
            c.capture_response(kind, "dbs/d/colls/c", s("rid"), Some(s("token")), status, 0)?;
            Ok(None)
        }
        "restore" => {
            SessionContainer::new().restore(s("snapshot"))?;
            Ok(None)
        }
        "carrier" => {
            let keys = keys();
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            SessionCarrier::new(&refs, "", 4000)?;
            Ok(None)
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn error_vectors() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors/errors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The vector file's category map is the one the bindings check; it must be the core's.
    let categories = doc["categories"].as_object().unwrap();
    assert_eq!(categories.len(), Category::ALL.len());
    for c in Category::ALL {
        let row = &categories[c.name()];
        assert_eq!(row["status"], json!(c.status()), "{c}");
        // The .NET and Python class columns are data for those bindings' own tests.
        assert!(
            row["dotnet"].is_string() && row["python"].is_string(),
            "{c}"
        );
    }
    for case in cases("errors") {
        let id = case["id"].as_str().unwrap();
        if case["op"].as_str().unwrap().starts_with("state_") {
            continue; // run by the state crate's tests (core has no I/O)
        }
        let err = run_error_case(&case).expect_err(id);
        assert_eq!(err.code(), case["kind"].as_str().unwrap(), "{id}: {err}");
        assert_eq!(
            err.category().name(),
            case["category"].as_str().unwrap(),
            "{id}"
        );
    }
}

/// web.json: the web-session policy (the fingerprint op is the state crate's: run there).
#[test]
fn web_vectors() {
    let mut ran = 0;
    for case in cases("web") {
        let id = case["id"].as_str().unwrap();
        let text = |k: &str| case[k].as_str().unwrap().to_owned();
        match case["op"].as_str().unwrap() {
            "cookie_keys" => {
                let secrets: Vec<Vec<u8>> = case["secrets_hex"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| hex(s.as_str().unwrap()))
                    .collect();
                let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
                match cosmos_session_token::derive_cookie_keys(&refs) {
                    Ok(keys) => {
                        let got: Vec<Value> = keys
                            .iter()
                            .map(|k| {
                                json!(k.iter().map(|b| format!("{b:02x}")).collect::<String>())
                            })
                            .collect();
                        assert_eq!(json!(got), case["expect_hex"], "{id}");
                    }
                    Err(e) => assert_eq!(e.code().name(), text("error"), "{id}"),
                }
            }
            "cookie_context" => assert_eq!(
                cosmos_session_token::token_cookie_context(
                    &text("framework"),
                    &text("app"),
                    &text("sid")
                ),
                text("expect"),
                "{id}"
            ),
            "cookie_header" => assert_eq!(
                cosmos_session_token::token_cookie_header(
                    &text("name"),
                    &text("value"),
                    case["max_age"].as_u64(),
                    case["secure"].as_bool().unwrap()
                ),
                text("expect"),
                "{id}"
            ),
            "fingerprint" => continue,
            other => panic!("{id}: unknown op {other}"),
        }
        ran += 1;
    }
    assert!(ran >= 10, "{ran}");
}

/// The definition of an `epk.json` case: its kind and version, and `levels` (MultiHash: the
/// given number, else the number of components).
fn epk_definition(case: &Value) -> Result<cosmos_session_token::PartitionKeyDefinition, Error> {
    use cosmos_session_token::PartitionKeyDefinition;
    let kind = PartitionKeyDefinition::parse_kind(case["kind"].as_str().unwrap())?;
    let components = match &case["value"] {
        Value::Array(a) => a.len(),
        _ => 1,
    };
    let levels = case["levels"].as_u64().map(|l| l as usize);
    Ok(PartitionKeyDefinition::for_key(
        kind,
        case["version"].as_u64().unwrap() as u8,
        levels,
        components,
    )?)
}

#[test]
fn epk_vectors() {
    use cosmos_session_token::{PartitionKeyValue, epk_range};
    for case in cases("epk") {
        let id = case["id"].as_str().unwrap();
        let got = epk_definition(&case).and_then(|d| {
            let components = PartitionKeyValue::components(&case["value"])?;
            Ok(epk_range(&components, d)?)
        });
        match (&case["error"], got) {
            (Value::String(code), Err(e)) => assert_eq!(e.code(), code.as_str(), "{id}"),
            (Value::String(code), Ok(r)) => panic!("{id}: expected {code}, got {r:?}"),
            (_, Err(e)) => panic!("{id}: {e}"),
            (_, Ok(r)) => {
                assert_eq!(r.min, case["epk"].as_str().unwrap(), "{id}");
                if let Some(range) = case.get("range") {
                    assert_eq!(r.max, range["max"].as_str().unwrap(), "{id}");
                    assert_eq!(
                        r.max_inclusive,
                        range["isMaxInclusive"].as_bool().unwrap(),
                        "{id}"
                    );
                }
            }
        }
    }
}
