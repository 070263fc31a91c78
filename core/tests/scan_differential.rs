//! The one-pass scanner in front of the parser changes nothing observable: for every input and
//! option set, `parse_with` (scanner, then the full parser on decline) gives exactly what the full
//! parser alone gives — the same token text, the same warnings, the same error down to its
//! kind, segment, range id, offset and message.

use cosmos_session_token::{Limits, Mode, ParseOptions, SessionToken};
use proptest::prelude::*;

fn same_outcome(s: &str, options: &ParseOptions) -> Result<(), TestCaseError> {
    let fast = SessionToken::parse_with(s, options);
    let reference = SessionToken::__parse_reference(s, options);
    match (&fast, &reference) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a.token.to_string(), b.token.to_string(), "input {:?}", s);
            prop_assert_eq!(&a.token, &b.token);
            prop_assert_eq!(format!("{:?}", a.warnings), format!("{:?}", b.warnings));
        }
        (Err(a), Err(b)) => {
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "input {:?}", s);
            prop_assert_eq!(a.to_string(), b.to_string());
        }
        _ => prop_assert!(false, "{:?}: {:?} vs reference {:?}", s, fast, reference),
    }
    Ok(())
}

fn options() -> impl Strategy<Value = ParseOptions> {
    (
        prop_oneof![Just(Mode::Strict), Just(Mode::Lenient)],
        prop_oneof![
            3 => Just(Limits::DEFAULT),
            1 => (1usize..4, 0usize..3, 1usize..4).prop_map(|(segments, regions, id_bytes)| Limits {
                max_segments: segments,
                max_regions: regions,
                max_range_id_bytes: id_bytes,
                ..Limits::DEFAULT
            }),
            1 => (1usize..40).prop_map(|bytes| Limits { max_input_bytes: bytes, ..Limits::DEFAULT }),
        ],
    )
        .prop_map(|(mode, limits)| ParseOptions { mode, limits })
}

/// A number as the scanner sees it: small, at the i64/u32 edges, too long, signed, zero-padded.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => (0i64..1000).prop_map(|n| n.to_string()),
        // LSN-sized: the scanner reads these eight bytes at a time.
        4 => (100_000i64..10_000_000_000_000).prop_map(|n| n.to_string()),
        1 => (100_000i64..10_000_000_000_000).prop_map(|n| format!("-{n}")),
        1 => (0u64..100_000_000_000).prop_map(|n| format!("0{n}")),
        1 => "[0-9]{1,22}",
        1 => "[0-9]{5,9}[^0-9]{0,2}[0-9]{0,9}",
        1 => (-3i64..0).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "9223372036854775807", "9223372036854775808", "-9223372036854775808",
            "-9223372036854775809", "4294967295", "4294967296", "18446744073709551616",
            "99999999999999999999", "-0", "00", "01", "+1", "", "-", " 1", "1 ", "1a",
        ]).prop_map(str::to_owned),
    ]
}

/// Mostly the position itself (distinct, valid), sometimes an unusual or invalid id.
fn range_id(position: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(position.to_string()),
        1 => prop::sample::select(vec![
            "0", "1", "17", "0001", "range_a", "a-b", "é", "", " 0", "a b", "a\u{1}", "abcd", "0#",
        ])
        .prop_map(str::to_owned),
    ]
}

fn segment_text(position: usize) -> impl Strategy<Value = String> {
    (
        range_id(position),
        field(),
        prop::option::of((field(), prop::collection::vec((field(), field()), 0..7))),
    )
        .prop_map(|(id, first, rest)| match rest {
            None => format!("{id}:{first}"),
            Some((glsn, regions)) => {
                let mut s = format!("{id}:{first}#{glsn}");
                for (r, l) in regions {
                    s.push_str(&format!("#{r}={l}"));
                }
                s
            }
        })
}

/// Near-valid tokens: generated segments joined by commas, then perhaps one byte changed.
fn near_valid() -> impl Strategy<Value = String> {
    (
        (1usize..5).prop_flat_map(|n| (0..n).map(segment_text).collect::<Vec<_>>()),
        prop::option::of((
            any::<prop::sample::Index>(),
            prop::sample::select(b"0-#=:, +a".to_vec()),
            0u8..3,
        )),
    )
        .prop_map(|(segments, edit)| {
            let mut bytes = segments.join(",").into_bytes();
            if let Some((at, b, op)) = edit {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 => bytes.insert(i, b),
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ if i < bytes.len() => bytes[i] = b,
                    _ => {}
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

/// Long tokens (past the size where duplicates are found through a table): ids increasing (the
/// scanner's table-free path), then perhaps one repeated, zero-padded, non-decimal or out of
/// order at a random position, or all non-decimal.
fn long_token() -> impl Strategy<Value = String> {
    (
        10usize..60,
        any::<prop::sample::Index>(),
        0u8..7,
        0u32..1000,
    )
        .prop_map(|(n, at, twist, x)| {
            let mut ids: Vec<String> = (0..n).map(|i| (i * 3 + 1).to_string()).collect();
            let k = at.index(n);
            match twist {
                0 => {}                                                     // ascending throughout
                1 => ids[k] = ids[k / 2].clone(), // a repeat (of itself when k = 0)
                2 => ids[k] = format!("0{}", ids[k]), // zero-padded: not canonical, still distinct
                3 => ids[k] = format!("r{x}"),    // not decimal
                4 => ids.swap(k, (k + 1) % n),    // out of order
                5 => ids[k] = (x % 200).to_string(), // anything: perhaps a repeat of a later id
                _ => ids = ids.iter().map(|id| format!("r{id}")).collect(), // r1 < r4 < ... < r10?
            }
            ids.iter()
                .map(|id| format!("{id}:1#{x}"))
                .collect::<Vec<_>>()
                .join(",")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn scanner_matches_reference_on_long_tokens(s in long_token(), o in options()) {
        same_outcome(&s, &o)?;
    }

    #[test]
    fn scanner_matches_reference_on_near_valid_tokens(s in near_valid(), o in options()) {
        same_outcome(&s, &o)?;
    }

    #[test]
    fn scanner_matches_reference_on_the_token_alphabet(s in "[0-9#=:,+ a\\-]{0,40}", o in options()) {
        same_outcome(&s, &o)?;
    }
}

#[test]
fn scanner_matches_reference_on_every_shared_vector() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors");
    let mut inputs = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut stack = vec![&json];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => {
                    for o in [ParseOptions::STRICT, ParseOptions::LENIENT] {
                        same_outcome(s, &o).unwrap();
                    }
                    inputs += 1;
                }
                serde_json::Value::Array(a) => stack.extend(a),
                serde_json::Value::Object(m) => stack.extend(m.values()),
                _ => {}
            }
        }
    }
    assert!(inputs > 500, "only {inputs} strings found in the vectors");
}

/// The generator must reach the scanner's accepting path often, or the differential test above
/// would only ever compare two error paths.
#[test]
fn near_valid_generator_reaches_both_paths() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = near_valid();
    let total = 2000;
    let accepted = (0..total)
        .filter(|_| {
            let s = strategy.new_tree(&mut runner).unwrap().current();
            SessionToken::parse(&s).is_ok()
        })
        .count();
    assert!(
        accepted * 10 > total && accepted * 10 < total * 9,
        "{accepted} of {total} accepted"
    );
}
