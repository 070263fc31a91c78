//! Strict and lenient parsing of arbitrary bytes, with round-trip oracles:
//! anything strict parsing accepts renders back byte for byte; lenient output re-parses unchanged;
//! strict success implies lenient success with no warnings and an equal token.
#![no_main]

use cosmos_session_token::{ParseOptions, SessionToken, WarningKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let strict = SessionToken::parse_bytes(data, &ParseOptions::STRICT);
    let lenient = SessionToken::parse_bytes(data, &ParseOptions::LENIENT);
    if let Ok(parsed) = &strict {
        assert_eq!(
            parsed.token.to_string().as_bytes(),
            data,
            "strict round trip"
        );
        assert_eq!(parsed.token.encoded_len(), data.len());
        let l = lenient
            .as_ref()
            .expect("lenient accepts what strict accepts");
        assert!(l.warnings.is_empty());
        assert_eq!(l.token, parsed.token);
    }
    if let Ok(parsed) = &lenient {
        let text = parsed.token.to_string();
        let again = SessionToken::parse_with(&text, &ParseOptions::LENIENT)
            .expect("rendered text re-parses");
        // Rendering is normalised; only a kept negative global LSN is still reported.
        assert!(
            again
                .warnings
                .iter()
                .all(|w| w.kind() == &WarningKind::NegativeGlobalLsn),
            "rendering is normalised: {text}"
        );
        assert_eq!(again.token.to_string(), text);
    }
    if let Err(e) = &strict {
        assert!(e.offset() <= data.len(), "error offset inside the input");
        let _ = e.to_string();
    }
});
