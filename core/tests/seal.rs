//! Sealing: budgets, keys and messages that do not leak.

use cosmos_session_token::{DEFAULT_SEAL_BUDGET, SessionToken, seal, unseal};

const KEY: &[u8] = b"0123456789abcdef-0123456789abcdef";

#[test]
fn seal_refuses_weak_keys_and_oversize_tokens() {
    let t = SessionToken::parse("0:1#5").unwrap();
    assert_eq!(
        seal(&t, b"short", "c", DEFAULT_SEAL_BUDGET)
            .unwrap_err()
            .code(),
        "weak_key"
    );
    let big: Vec<String> = (0..400)
        .map(|i| format!("{i}:1#{}#1=5#2=7", 1000 + i))
        .collect();
    let big = SessionToken::parse(&big.join(",")).unwrap();
    let err = seal(&big, KEY, "c", DEFAULT_SEAL_BUDGET).unwrap_err();
    assert_eq!(err.code(), "seal_too_large");
    assert!(err.to_string().contains("scope the token"), "{err}");
    // Scoping first fits the budget.
    let scoped = big.scope("17", &[]).unwrap().unwrap();
    assert!(seal(&scoped, KEY, "c", DEFAULT_SEAL_BUDGET).is_ok());
    // An exact budget works; one byte less does not.
    let sealed = seal(&scoped, KEY, "c", DEFAULT_SEAL_BUDGET).unwrap();
    assert!(seal(&scoped, KEY, "c", sealed.len()).is_ok());
    assert!(seal(&scoped, KEY, "c", sealed.len() - 1).is_err());
}

#[test]
fn envelope_is_cookie_safe_and_messages_do_not_leak() {
    let t = SessionToken::parse("0:1#100#1=20,1:-1#42").unwrap();
    let sealed = seal(&t, KEY, "user", DEFAULT_SEAL_BUDGET).unwrap();
    assert!(
        sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "{sealed}"
    );
    let mut forged = sealed.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let err = unseal(
        std::str::from_utf8(&forged).unwrap(),
        &[KEY],
        "user",
        DEFAULT_SEAL_BUDGET,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.code(), "bad_signature");
    assert!(
        !msg.contains("byte")
            && !msg.contains("position")
            && !msg.contains(&sealed[sealed.len() - 10..]),
        "{msg}"
    );
}
