//! Limits (each one hit) and the wording of errors and warnings.

use cosmos_session_token::{Limits, MergePolicy, Mode, ParseOptions, SessionToken};

fn with(limits: Limits) -> ParseOptions {
    ParseOptions {
        mode: Mode::Strict,
        limits,
    }
}

#[test]
fn default_limits_accept_a_large_real_token() {
    let token: Vec<String> = (0..4096)
        .map(|i| format!("{i}:-1#{}#1=5#2=-1", 1000 + i))
        .collect();
    let text = token.join(",");
    let parsed = SessionToken::parse(&text).unwrap();
    assert_eq!(parsed.len(), 4096);
    assert_eq!(parsed.to_string(), text);
    assert_eq!(parsed.get("4095").unwrap().value().global_lsn(), 5095);
}

#[test]
fn input_size_limit() {
    let text = "0:1#5";
    let err = SessionToken::parse_with(
        text,
        &with(Limits {
            max_input_bytes: 4,
            ..Limits::DEFAULT
        }),
    )
    .unwrap_err();
    assert_eq!(err.kind().code(), "input_too_large");
    assert!(err.kind().is_limit());
    assert_eq!(
        err.to_string(),
        "input is 5 bytes, more than the limit of 4 (byte 0)"
    );
    let huge = "1".repeat((1 << 20) + 1);
    assert_eq!(
        SessionToken::parse(&huge).unwrap_err().kind().code(),
        "input_too_large"
    );
}

#[test]
fn segment_limit_counts_before_allocating() {
    let text = "0:1,1:1,2:1";
    let err = SessionToken::parse_with(
        text,
        &with(Limits {
            max_segments: 2,
            ..Limits::DEFAULT
        }),
    )
    .unwrap_err();
    assert_eq!(err.kind().code(), "too_many_segments");
    assert_eq!(err.offset(), 8);
    let many = vec![","; 70_000].concat();
    let err = SessionToken::parse_with(&many, &ParseOptions::LENIENT).unwrap_err();
    assert_eq!(err.kind().code(), "too_many_segments");
}

#[test]
fn region_limit() {
    let regions: String = (1..=257).map(|i| format!("#{i}=1")).collect();
    let err = SessionToken::parse(&format!("0:1#5{regions}")).unwrap_err();
    assert_eq!(err.kind().code(), "too_many_regions");
    assert_eq!(err.segment(), Some(0));
    let ok: String = (1..=256).map(|i| format!("#{i}=1")).collect();
    assert!(SessionToken::parse(&format!("0:1#5{ok}")).is_ok());
}

#[test]
fn range_id_limit() {
    let id = "a".repeat(257);
    let err = SessionToken::parse(&format!("{id}:1#5")).unwrap_err();
    assert_eq!(err.kind().code(), "range_id_too_long");
    assert!(SessionToken::parse(&format!("{}:1#5", "a".repeat(256))).is_ok());
}

#[test]
fn error_messages_name_segment_field_text_and_offset() {
    let cases = [
        (
            "0:1#5,17:1#x1",
            r#"segment 1 (range "17"): global LSN "x1" is not a decimal number (byte 11)"#,
        ),
        ("", "session token is empty (byte 0)"),
        (
            "0:1#5,missing",
            r#"segment 1: "missing" has no ':' between range id and value (byte 6)"#,
        ),
        (
            "0:1#100#4294967296=1",
            r#"segment 0 (range "0"): region id "4294967296" does not fit in u32 (byte 8)"#,
        ),
        (
            "0:1#9223372036854775808",
            r#"segment 0 (range "0"): global LSN "9223372036854775808" does not fit in i64 (byte 4)"#,
        ),
        (
            "0:1#5#1=2#1=3",
            r#"segment 0 (range "0"): region 1 appears more than once (byte 10)"#,
        ),
        (
            "0:+1#5",
            r#"segment 0 (range "0"): version "+1" has a '+' sign (byte 2)"#,
        ),
        (
            "0:5,0:6",
            r#"segment 1 (range "0"): range id "0" appears more than once (byte 4)"#,
        ),
        (
            "a b:5",
            r#"segment 0: range id "a b" contains ' ', which is not allowed (byte 0)"#,
        ),
    ];
    for (input, message) in cases {
        assert_eq!(
            SessionToken::parse(input).unwrap_err().to_string(),
            message,
            "{input:?}"
        );
    }
}

#[test]
fn long_offending_text_is_cut_in_messages() {
    let text = format!("0:1#{}", "x".repeat(10_000));
    let err = SessionToken::parse(&text).unwrap_err();
    assert_eq!(err.text().len(), 64);
    assert!(err.to_string().len() < 200);
}

#[test]
fn warnings_describe_the_change() {
    let (_, warnings) = SessionToken::parse_lenient("0:1#5,0:1#6#1=1#1=2,").unwrap();
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "segment 1: region 1 repeated; kept the last value (byte 16)",
            r#"segment 1: range id "0" repeated; merged the segments (byte 6)"#,
            "segment 2: dropped an empty segment (byte 20)",
        ]
    );
}

#[test]
fn merge_error_names_range_and_values() {
    let a = SessionToken::parse("7:1#101#1=20").unwrap();
    let b = SessionToken::parse("7:1#100#4=20").unwrap();
    let err = a.merge(&b).unwrap_err();
    assert_eq!(err.code(), "region_mismatch");
    assert_eq!(
        err.to_string(),
        r#"range "7": cannot merge "1#101#1=20" and "1#100#4=20": same version but different region sets (use the union-regions policy to combine them)"#
    );
    assert!(a.merge_with(&b, &MergePolicy::UNION).is_ok());
}

#[test]
fn merge_of_large_composites_is_linear_and_complete() {
    let a: Vec<String> = (0..5000).map(|i| format!("{i}:1#{i}")).collect();
    let b: Vec<String> = (2500..7500).map(|i| format!("{i}:1#{}", i + 1)).collect();
    let a = SessionToken::parse(&a.join(",")).unwrap();
    let b = SessionToken::parse(&b.join(",")).unwrap();
    let m = a.merge(&b).unwrap();
    assert_eq!(m.len(), 7500);
    assert_eq!(m.get("2500").unwrap().value().global_lsn(), 2501);
    assert_eq!(m.get("0").unwrap().value().global_lsn(), 0);
    assert_eq!(m.compare(&a), cosmos_session_token::Order::Greater);
}

#[test]
fn feed_range_text_limits_and_nesting() {
    use cosmos_session_token::FeedRange;
    let deep = format!("{}{}", "{\"Range\":".repeat(200), "}".repeat(200));
    assert_eq!(
        FeedRange::parse(&deep).unwrap_err().code(),
        "invalid_feed_range"
    );
    let huge = format!("AA-{}", "B".repeat(70 * 1024));
    assert_eq!(
        FeedRange::parse(&huge).unwrap_err().code(),
        "invalid_feed_range"
    );
    assert!(FeedRange::parse(r#"{"Range":{"min":"AA","max":"BB"},"extra":1}"#).is_err());
    assert!(
        FeedRange::parse(r#"{"PK":"[\"x\"]"}"#).is_err(),
        "logical-partition feed ranges are not EPK ranges"
    );
}

mod error_table {
    use cosmos_session_token::{Category, ERROR_CODES, error_code};
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_categories_cover_statuses() {
        let mut seen = HashSet::new();
        for row in ERROR_CODES {
            assert!(seen.insert(row.code), "duplicate code {}", row.code);
            assert!(!row.description.is_empty());
            assert_eq!(error_code(row.code), Some(row));
        }
        // The typed codes and the rows are one list.
        assert_eq!(cosmos_session_token::Code::ALL.len(), ERROR_CODES.len());
        for (code, row) in cosmos_session_token::Code::ALL.iter().zip(ERROR_CODES) {
            assert_eq!(code.row(), row);
            assert_eq!((code.name(), code.category()), (row.code, row.category));
            assert_eq!(cosmos_session_token::Code::from_name(row.code), Some(*code));
        }
        let statuses: HashSet<i32> = Category::ALL.iter().map(|c| c.status()).collect();
        assert_eq!(statuses.len(), Category::ALL.len(), "statuses are unique");
        for c in Category::ALL {
            assert_eq!(Category::from_status(c.status()), Some(c));
        }
        assert_eq!(Category::from_status(0), None);
    }

    #[test]
    fn every_core_error_kind_is_in_the_table() {
        use cosmos_session_token::{ContainerError, FeedRangeError, SealError};
        let mut codes: Vec<&str> = [
            ContainerError::EmptyResourceId.code(),
            ContainerError::UnknownResourceType(String::new()).code(),
            ContainerError::InvalidSnapshot(String::new()).code(),
            ContainerError::SnapshotTooLarge {
                what: "bytes",
                len: 0,
                max: 0,
            }
            .code(),
            FeedRangeError::Invalid(String::new()).code(),
            FeedRangeError::NoOverlap(String::new()).code(),
            FeedRangeError::TooManyPairs { len: 0, max: 0 }.code(),
            SealError::WeakKey { len: 0 }.code(),
            SealError::NoKeys.code(),
            SealError::TooManyKeys { len: 0, max: 0 }.code(),
            SealError::TooLarge { len: 0, max: 0 }.code(),
            SealError::UnknownVersion.code(),
            SealError::Malformed("x").code(),
            SealError::BadSignature.code(),
            cosmos_session_token::Code::RegionMismatch,
            cosmos_session_token::MergeError::TooManyParents { len: 0, max: 0 }.code(),
        ]
        .iter()
        .map(|c| c.name())
        .collect();
        // Parse kinds: the codes listed in testdata/README.md.
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/README.md"),
        )
        .unwrap();
        let list = readme.split("Error codes:").nth(1).unwrap();
        let list = &list[..list.find("\n\n").unwrap()];
        let parse_codes: Vec<String> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert!(parse_codes.len() >= 22);
        codes.extend(parse_codes.iter().map(String::as_str));
        for code in codes {
            assert!(error_code(code).is_some(), "{code} is not in ERROR_CODES");
        }
    }
}
