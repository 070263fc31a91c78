//! The web-session policy every framework adapter (ASP.NET, Django, Flask, the WSGI middleware)
//! follows for the cookie that carries a sealed session token: how its keys come from the
//! framework's secret, what its seal is bound to, and which attributes it is set with.
//!
//! * **Keys**: [`derive_cookie_keys`] turns the framework's secret and its rotation list (Django
//!   `SECRET_KEY` + `SECRET_KEY_FALLBACKS`, Flask `SECRET_KEY` + `SECRET_KEY_FALLBACKS`, ASP.NET
//!   `tokenCookieKey` or the machine key) into one 32-byte seal key each: HMAC-SHA256 keyed with
//!   the secret's bytes over a fixed label, so the cookie key is never the framework's own key
//!   (a leaked cookie key cannot sign the framework's session cookies). Secrets are bytes; a
//!   secret shorter than [`MIN_FRAMEWORK_SECRET_BYTES`] is refused when the adapter is
//!   configured, not at the first request.
//! * **Binding**: [`token_cookie_context`] binds a sealed value to the framework, the
//!   application (its session store) and the session id, so an envelope moved to another user's
//!   session, or another application sharing the secret, unseals to nothing.
//! * **Attributes**: [`token_cookie_header`] renders the `Set-Cookie` value: `Path=/; HttpOnly;
//!   SameSite=Lax; Secure` — `Secure` by default, dropped only by an explicit opt-out for
//!   plain-HTTP development.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::SealError;
use crate::seal::MAX_SEAL_KEYS;

/// Shortest framework secret a cookie key is derived from, in bytes (the seal's own minimum).
pub const MIN_FRAMEWORK_SECRET_BYTES: usize = crate::seal::MIN_SEAL_KEY_BYTES;

/// The name of the cookie that carries a session store's sealed token (every adapter).
pub const TOKEN_COOKIE_NAME: &str = "cosmos_state_token";

/// The label the cookie keys are derived over (a contract: changing it invalidates every cookie).
const KEY_LABEL: &[u8] = b"cosmos-session-token/token-cookie-key/v1";

/// One 32-byte seal key per secret (the first seals, all unseal), derived as
/// HMAC-SHA256(secret, label). No secret, more than [`MAX_SEAL_KEYS`], or one shorter than
/// [`MIN_FRAMEWORK_SECRET_BYTES`] is an error naming which.
///
/// ```
/// use cosmos_session_token::derive_cookie_keys;
/// let keys = derive_cookie_keys(&[b"django-insecure-0123456789abcdef", b"the-old-secret-key"])?;
/// assert_eq!(keys.len(), 2);
/// assert_ne!(keys[0], keys[1]);
/// assert_eq!(derive_cookie_keys(&[b"short"]).unwrap_err().code(), "weak_key");
/// # Ok::<(), cosmos_session_token::SealError>(())
/// ```
pub fn derive_cookie_keys(secrets: &[&[u8]]) -> Result<Vec<[u8; 32]>, SealError> {
    if secrets.is_empty() {
        return Err(SealError::NoKeys);
    }
    if secrets.len() > MAX_SEAL_KEYS {
        return Err(SealError::TooManyKeys {
            len: secrets.len(),
            max: MAX_SEAL_KEYS,
        });
    }
    secrets
        .iter()
        .map(|secret| {
            if secret.len() < MIN_FRAMEWORK_SECRET_BYTES {
                return Err(SealError::WeakKey { len: secret.len() });
            }
            // HMAC takes keys of any length: this cannot fail.
            let mut mac = Hmac::<Sha256>::new_from_slice(secret)
                .map_err(|_| SealError::WeakKey { len: secret.len() })?;
            mac.update(KEY_LABEL);
            Ok(mac.finalize().into_bytes().into())
        })
        .collect()
}

/// The seal context of one session's token cookie: framework, application and session id, each
/// length-prefixed so no two triples give the same context.
///
/// ```
/// use cosmos_session_token::token_cookie_context;
/// assert_eq!(token_cookie_context("django", "web/SessionStore", "abc"), "token-cookie/6:django/16:web/SessionStore/abc");
/// assert_ne!(token_cookie_context("a", "b/c", "d"), token_cookie_context("a", "b", "c/d"));
/// ```
pub fn token_cookie_context(framework: &str, app: &str, session_id: &str) -> String {
    format!(
        "token-cookie/{}:{framework}/{}:{app}/{session_id}",
        framework.len(),
        app.len()
    )
}

/// The `Set-Cookie` header value of a token cookie: `name=value; Path=/; [Max-Age=n; ]HttpOnly;
/// SameSite=Lax[; Secure]`. `secure` is the adapters' default; pass `false` only for plain-HTTP
/// development. The value must already be cookie-safe (a sealed value is).
///
/// ```
/// use cosmos_session_token::token_cookie_header;
/// assert_eq!(token_cookie_header("cosmos_state_token", "cst1.a.b", Some(60), true),
///            "cosmos_state_token=cst1.a.b; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
/// assert!(!token_cookie_header("c", "v", None, false).contains("Secure"));
/// ```
pub fn token_cookie_header(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut out = format!("{name}={value}; Path=/; ");
    if let Some(age) = max_age {
        out.push_str(&format!("Max-Age={age}; "));
    }
    out.push_str("HttpOnly; SameSite=Lax");
    if secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_not_the_secret_and_depend_on_every_byte() {
        let a = derive_cookie_keys(&[b"0123456789abcdef"]).unwrap();
        let b = derive_cookie_keys(&[b"0123456789abcdeg"]).unwrap();
        assert_ne!(a, b);
        assert_ne!(&a[0][..16], b"0123456789abcdef");
        assert_eq!(derive_cookie_keys(&[]).unwrap_err().code(), "no_keys");
        let many = vec![&b"0123456789abcdef"[..]; MAX_SEAL_KEYS + 1];
        assert_eq!(
            derive_cookie_keys(&many).unwrap_err().code(),
            "too_many_items"
        );
        // The weak one is named by its length, wherever it is in the rotation list.
        assert_eq!(
            derive_cookie_keys(&[b"0123456789abcdef", b"12345678"]).unwrap_err(),
            SealError::WeakKey { len: 8 }
        );
    }
}
