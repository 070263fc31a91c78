//! Sealed tokens: an HMAC-SHA256-signed, cookie-safe envelope for carrying a session token through
//! untrusted hands (a browser cookie, a message property) between web nodes or processes.
//!
//! A forged token with a huge LSN makes every read of that user wait through the SDK's 404/1002
//! retries and fail; sealing lets a node accept only tokens that one of its peers issued, for this
//! purpose (the `context`), within a size budget.
//!
//! Format (version 1): `cst1.` + base64url(token) + `.` + base64url(MAC), no padding, where
//! MAC = HMAC-SHA256(key, "cst1" ‖ len(context) ‖ context ‖ len(token) ‖ token), lengths as 8-byte
//! big-endian integers (so no two (context, token) pairs share an input). Only `[A-Za-z0-9_.-]`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

mod limits;

pub use limits::{DEFAULT_SEAL_BUDGET, MAX_SEAL_KEYS, MIN_SEAL_KEY_BYTES, SEAL_VERSION_TAG};

use crate::error::{Error, ParseError, SealError};
use crate::model::SessionToken;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], context: &str, token: &str) -> Result<HmacSha256, SealError> {
    if key.len() < MIN_SEAL_KEY_BYTES {
        return Err(SealError::WeakKey { len: key.len() });
    }
    let mut m =
        HmacSha256::new_from_slice(key).map_err(|_| SealError::WeakKey { len: key.len() })?;
    m.update(SEAL_VERSION_TAG.as_bytes());
    m.update(&(context.len() as u64).to_be_bytes());
    m.update(context.as_bytes());
    m.update(&(token.len() as u64).to_be_bytes());
    m.update(token.as_bytes());
    Ok(m)
}

/// Checks a key list: at least one key, at most [`MAX_SEAL_KEYS`], each at least
/// [`MIN_SEAL_KEY_BYTES`].
pub(crate) fn check_keys(keys: &[&[u8]]) -> Result<(), SealError> {
    if keys.is_empty() {
        return Err(SealError::NoKeys);
    }
    if keys.len() > MAX_SEAL_KEYS {
        return Err(SealError::TooManyKeys {
            len: keys.len(),
            max: MAX_SEAL_KEYS,
        });
    }
    if let Some(k) = keys.iter().find(|k| k.len() < MIN_SEAL_KEY_BYTES) {
        return Err(SealError::WeakKey { len: k.len() });
    }
    Ok(())
}

/// Seals `token` for `context` with `key` (at least 16 bytes), within `max_bytes`.
///
/// ```
/// use cosmos_session_token::{SessionToken, seal, unseal};
/// let key = b"0123456789abcdef0123456789abcdef";
/// let token = SessionToken::parse("0:1#100#1=20")?;
/// let sealed = seal(&token, key, "user-42|orders", 4000)?;
/// assert!(sealed.starts_with("cst1."));
/// assert_eq!(unseal(&sealed, &[&key[..]], "user-42|orders", 4000)?, token);
/// assert!(unseal(&sealed, &[&key[..]], "user-43|orders", 4000).is_err());
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
pub fn seal(
    token: &SessionToken,
    key: &[u8],
    context: &str,
    max_bytes: usize,
) -> Result<String, SealError> {
    let text = token.to_header_value();
    let tag = mac(key, context, &text)?.finalize().into_bytes();
    let len = SEAL_VERSION_TAG.len()
        + 2
        + base64::encoded_len(text.len(), false).unwrap_or(usize::MAX)
        + 43;
    if len > max_bytes {
        return Err(SealError::TooLarge {
            len,
            max: max_bytes,
        });
    }
    let mut out = String::with_capacity(len);
    out.push_str(SEAL_VERSION_TAG);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(text.as_bytes(), &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut out);
    Ok(out)
}

/// Checks a sealed token against any of `keys` (the first seals; all are accepted, for rotation)
/// and `context`, in constant time per key, then parses the token strictly.
pub fn unseal(
    sealed: &str,
    keys: &[&[u8]],
    context: &str,
    max_bytes: usize,
) -> Result<SessionToken, Error> {
    if sealed.len() > max_bytes {
        return Err(SealError::TooLarge {
            len: sealed.len(),
            max: max_bytes,
        }
        .into());
    }
    check_keys(keys)?;
    let rest = sealed
        .strip_prefix(SEAL_VERSION_TAG)
        .and_then(|r| r.strip_prefix('.'))
        .ok_or(SealError::UnknownVersion)?;
    let (body, tag) = rest
        .split_once('.')
        .ok_or(SealError::Malformed("expected version.token.signature"))?;
    if tag.contains('.') {
        return Err(SealError::Malformed("expected version.token.signature").into());
    }
    let token_bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SealError::Malformed("token part is not base64url"))?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| SealError::Malformed("signature part is not base64url"))?;
    if tag.len() != 32 {
        return Err(SealError::Malformed("signature has the wrong length").into());
    }
    let text = String::from_utf8(token_bytes)
        .map_err(|_| SealError::Malformed("token part is not UTF-8"))?;
    // Check every key (no early exit on a match position) with hmac's constant-time comparison.
    let mut ok = false;
    for key in keys {
        ok |= mac(key, context, &text)?.verify_slice(&tag).is_ok();
    }
    if !ok {
        return Err(SealError::BadSignature.into());
    }
    SessionToken::parse(&text).map_err(|e: ParseError| Error::Parse(e))
}
