//! Session ids as Cosmos DB partition keys: a one-to-one encoding of the characters the service
//! refuses in ids (`/ \ ? #`), so two session ids never share an item and none is refused late.

use sha2::{Digest, Sha256};

use crate::error::{Result, StateError};

/// The id of a session's item: the hex SHA-256 of its partition key (the encoded session id).
/// Plain ASCII, so it needs no escaping in a URL or a signature, and different in every
/// session's partition, so a request signature captured for one session's item names no other.
pub(crate) fn item_id(pk: &str) -> String {
    Sha256::digest(pk.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Longest session id accepted, in bytes (Cosmos DB ids hold at most 255 characters; the
/// encoding can triple a character).
pub const MAX_SESSION_ID_BYTES: usize = 80;

/// Checks a session id the way every operation does (non-empty, at most
/// [`MAX_SESSION_ID_BYTES`], no control character): adapters call it on ids that come from a
/// cookie, and treat an invalid one as "no session" instead of failing the request.
///
/// ```
/// use cosmos_session_state::check_session_id;
/// assert!(check_session_id("abc").is_ok());
/// assert_eq!(check_session_id(&"x".repeat(81)).unwrap_err().code(), "invalid_session_id");
/// ```
pub fn check_session_id(sid: &str) -> Result<()> {
    encode_session_id(sid).map(drop)
}

/// Encodes a session id: `%` → `%25`, `/` → `%2F`, `\` → `%5C`, `?` → `%3F`, `#` → `%23`; every
/// other character stays. Escaping `%` itself keeps the map one-to-one.
///
/// ```
/// use cosmos_session_state::encode_session_id;
/// assert_eq!(encode_session_id("a/b#c").unwrap(), "a%2Fb%23c");
/// assert_ne!(encode_session_id("a%2F").unwrap(), encode_session_id("a/").unwrap());
/// assert!(encode_session_id("").is_err());
/// ```
pub fn encode_session_id(sid: &str) -> Result<String> {
    if sid.is_empty() {
        return Err(StateError::InvalidSessionId(
            "the session id is empty".into(),
        ));
    }
    if sid.len() > MAX_SESSION_ID_BYTES {
        return Err(StateError::InvalidSessionId(format!(
            "the session id is {} bytes, more than {MAX_SESSION_ID_BYTES}",
            sid.len()
        )));
    }
    if sid.chars().any(char::is_control) {
        return Err(StateError::InvalidSessionId(
            "the session id contains a control character".into(),
        ));
    }
    let mut out = String::with_capacity(sid.len());
    for c in sid.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '\\' => out.push_str("%5C"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    Ok(out)
}
