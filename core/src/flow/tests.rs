use super::*;
use crate::partition_key::{PartitionKeyValue, epk_range};

const COLL: &str = "/dbs/d/colls/c";
const DEF: &[u8] = br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#;
/// Range 0 split into 1 and 2.
const MAP: &[u8] = br#"{"PartitionKeyRanges":[{"id":"1","minInclusive":"","maxExclusive":"7F","parents":["0"]},{"id":"2","minInclusive":"7F","maxExclusive":"FF","parents":["0"]}]}"#;

fn learned() -> SessionFlow {
    let f = SessionFlow::new();
    f.after_response("GET", COLL, 200, &[], Some(DEF));
    f.after_response("GET", "/dbs/d/colls/c/pkranges/", 200, &[], Some(MAP));
    f
}

fn range_of(f: &SessionFlow, key: &str) -> String {
    let routes = f.routes();
    let r = routes.get("dbs/d/colls/c").unwrap();
    let comps = PartitionKeyValue::parse_json(key).unwrap();
    let span = epk_range(&comps, r.definition.unwrap()).unwrap();
    r.map.as_ref().unwrap().ranges_for(&span).unwrap()[0]
        .id
        .clone()
}

fn captured(f: &SessionFlow, token: &str) {
    f.after_response(
        "POST",
        "/dbs/d/colls/c/docs",
        201,
        &[
            ("x-ms-session-token", token),
            ("x-ms-content-path", "rid-c"),
        ],
        None,
    );
}

#[test]
fn a_point_read_presents_its_ranges_segment_only() {
    let f = learned();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    for key in [r#"["a"]"#, r#"["b"]"#, r#"["user-42"]"#, "[17]"] {
        let want = if range_of(&f, key) == "1" {
            "1:0#5#0=5"
        } else {
            "2:0#9#0=9"
        };
        let sent = f.before_request(
            "GET",
            "/dbs/d/colls/c/docs/x/",
            &[("x-ms-documentdb-partitionkey", key)],
        );
        assert_eq!(sent, Outgoing::Set(want.into()), "{key}");
    }
    assert_eq!(f.stats().scoped, 4);
}

#[test]
fn the_sdks_token_is_merged_and_scoped_too() {
    let f = learned();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    let key = r#"["a"]"#;
    let r = range_of(&f, key);
    // The SDK sent a newer token of that range (and another range's, which is dropped).
    let sdk = format!("{r}:0#50#0=50,9:0#1#0=1");
    let sent = f.before_request(
        "GET",
        "/dbs/d/colls/c/docs/x",
        &[
            ("x-ms-documentdb-partitionkey", key),
            ("X-MS-SESSION-TOKEN", &sdk),
        ],
    );
    assert_eq!(sent, Outgoing::Set(format!("{r}:0#50#0=50")));
}

#[test]
fn after_a_split_the_parents_progress_goes_to_the_child() {
    let f = learned();
    // Progress only for the parent range 0 (captured before the split).
    captured(&f, "0:0#40#0=40");
    let sent = f.before_request(
        "GET",
        "/dbs/d/colls/c/docs/x",
        &[("x-ms-documentdb-partitionkey", r#"["a"]"#)],
    );
    let r = range_of(&f, r#"["a"]"#);
    assert_eq!(sent, Outgoing::Set(format!("{r}:0#40#0=40")));
}

#[test]
fn feed_requests_present_the_ranges_they_name() {
    let f = learned();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    let by_id = f.before_request(
        "POST",
        "/dbs/d/colls/c/docs",
        &[
            ("x-ms-documentdb-partitionkeyrangeid", "2"),
            ("x-ms-documentdb-isquery", "true"),
        ],
    );
    assert_eq!(by_id, Outgoing::Set("2:0#9#0=9".into()));
    let by_epk = f.before_request(
        "GET",
        "/dbs/d/colls/c/docs",
        &[("x-ms-start-epk", ""), ("x-ms-end-epk", "FF")],
    );
    assert_eq!(by_epk, Outgoing::Set("1:0#5#0=5,2:0#9#0=9".into()));
}

#[test]
fn metadata_requests_and_multi_write_writes_are_left_alone() {
    let f = learned();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    assert_eq!(f.before_request("GET", COLL, &[]), Outgoing::Leave);
    assert_eq!(
        f.before_request("GET", "/dbs/d/colls/c/pkranges", &[]),
        Outgoing::Leave
    );
    assert_eq!(f.before_request("GET", "/", &[]), Outgoing::Leave);
    let key = [("x-ms-documentdb-partitionkey", r#"["a"]"#)];
    assert!(matches!(
        f.before_request("POST", "/dbs/d/colls/c/docs", &key),
        Outgoing::Set(_)
    ));
    f.after_response(
        "GET",
        "/",
        200,
        &[],
        Some(br#"{"enableMultipleWriteLocations":true}"#),
    );
    assert_eq!(
        f.before_request("POST", "/dbs/d/colls/c/docs", &key),
        Outgoing::Leave
    );
    assert!(matches!(
        f.before_request("GET", "/dbs/d/colls/c/docs/x", &key),
        Outgoing::Set(_)
    ));
}

#[test]
fn without_routing_knowledge_the_composite_only_within_the_budget() {
    let f = SessionFlow::new();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    let key = [("x-ms-documentdb-partitionkey", r#"["a"]"#)];
    assert_eq!(
        f.before_request("GET", "/dbs/d/colls/c/docs/x", &key),
        Outgoing::Set("1:0#5#0=5,2:0#9#0=9".into())
    );
    let big: Vec<String> = (0..200).map(|i| format!("{i}:0#{i}#0={i}")).collect();
    let g = SessionFlow::new();
    captured(&g, &big.join(","));
    assert_eq!(
        g.before_request("GET", "/dbs/d/colls/c/docs/x", &key),
        Outgoing::Leave
    );
}

#[test]
fn malformed_input_steps_aside() {
    let f = learned();
    captured(&f, "1:0#5#0=5");
    let before = f.stats().stepped_aside;
    for headers in [
        vec![("x-ms-session-token", "garbage")],
        vec![("x-ms-documentdb-partitionkey", "[not json")],
        vec![("x-ms-documentdb-partitionkeyrangeid", "")],
        vec![("x-ms-start-epk", "zz"), ("x-ms-end-epk", "FF")],
    ] {
        assert_eq!(
            f.before_request("GET", "/dbs/d/colls/c/docs/x", &headers),
            Outgoing::Leave,
            "{headers:?}"
        );
    }
    captured(&f, "not a token");
    f.after_response("GET", COLL, 200, &[], Some(b"{not json"));
    assert_eq!(f.stats().stepped_aside, before + 6);
}

#[test]
fn the_capture_rules_and_a_410() {
    let f = learned();
    let read = |status: u16, sub: &str, token: &str| {
        f.after_response(
            "GET",
            "/dbs/d/colls/c/docs/x",
            status,
            &[("x-ms-session-token", token), ("x-ms-substatus", sub)],
            None,
        )
    };
    read(404, "1002", "1:0#99#0=99");
    assert!(
        f.container().resolve_all("dbs/d/colls/c").is_none(),
        "404/1002 is not captured"
    );
    read(404, "0", "1:0#3#0=3");
    assert_eq!(
        f.container()
            .resolve_all("dbs/d/colls/c")
            .unwrap()
            .to_string(),
        "1:0#3#0=3"
    );
    read(410, "1002", "");
    assert_eq!(f.stats().maps_forgotten, 1);
    assert!(f.routes().get("dbs/d/colls/c").unwrap().map.is_none());
}

#[test]
fn snapshots_round_trip_and_merge() {
    let f = learned();
    captured(&f, "1:0#5#0=5,2:0#9#0=9");
    let text = f.snapshot();
    assert!(text.len() < 600, "{text}");
    let g = SessionFlow::restore(&text).unwrap();
    let key = [("x-ms-documentdb-partitionkey", r#"["a"]"#)];
    let read = |f: &SessionFlow| f.before_request("GET", "/dbs/d/colls/c/docs/x", &key);
    assert_eq!(read(&f), read(&g));
    // Merged, not replaced.
    let h = SessionFlow::new();
    captured(&h, "1:0#7#0=7,2:0#1#0=1");
    h.merge_snapshot(&text).unwrap();
    assert_eq!(
        h.container()
            .resolve_all("dbs/d/colls/c")
            .unwrap()
            .to_string(),
        "1:0#7#0=7,2:0#9#0=9"
    );
    for bad in [
        "",
        "[]",
        "{}",
        r#"{"format":"cosmos-session-token/flow","version":2,"routes":[],"tokens":{}}"#,
    ] {
        assert_eq!(
            SessionFlow::restore(bad).unwrap_err().code(),
            "invalid_snapshot",
            "{bad}"
        );
    }
    let huge = "x".repeat(MAX_FLOW_SNAPSHOT_BYTES + 1);
    assert_eq!(
        SessionFlow::restore(&huge).unwrap_err().code(),
        "snapshot_too_large"
    );
}
