//! Differential: `parse_with` (the one-pass scanner, then the full parser on decline) gives exactly
//! what the full parser alone gives, for strict and lenient mode and tight limits — the same token
//! text and warnings, or the same error (kind, segment, range id, offset, message).
#![no_main]

use cosmos_session_token::{Limits, ParseOptions, SessionToken};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tight = Limits {
        max_segments: 2,
        max_regions: 2,
        max_range_id_bytes: 3,
        ..Limits::DEFAULT
    };
    for options in [
        ParseOptions::STRICT,
        ParseOptions::LENIENT,
        ParseOptions {
            limits: tight,
            ..ParseOptions::STRICT
        },
    ] {
        let fast = SessionToken::parse_with(text, &options);
        let reference = SessionToken::__parse_reference(text, &options);
        match (fast, reference) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.token.to_string(), b.token.to_string());
                assert_eq!(format!("{:?}", a.warnings), format!("{:?}", b.warnings));
            }
            (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
            (a, b) => panic!("{text:?}: {a:?} vs reference {b:?}"),
        }
    }
});
