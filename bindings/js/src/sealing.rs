//! Sealed tokens (`seal`, `unseal`) and the web helpers the cookie middleware needs
//! (`deriveCookieKeys`, `tokenCookieContext`, `tokenCookieHeader`).

use cosmos_session_token::DEFAULT_SEAL_BUDGET;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::token::SessionToken;
use crate::*;

pub(crate) fn max_bytes(options: &JsValue, default: usize) -> JsResult<usize> {
    Ok(integer_or(
        &option(options, "maxBytes")?,
        "options.maxBytes",
        u32::MAX.into(),
        default as u64,
    )? as usize)
}

/// Seals a token for `context` with `key` (a `Uint8Array` of at least 16 bytes) into a
/// cookie-safe envelope; `options.maxBytes` (default 4000).
#[wasm_bindgen(js_name = seal)]
pub fn seal(token: JsValue, key: JsValue, context: JsValue, options: JsValue) -> JsResult<String> {
    let t = token_arg(&token, "token")?;
    let key = bytes(&key, "key")?;
    let context = text_or_empty(&context, "context")?;
    let max = max_bytes(&options, DEFAULT_SEAL_BUDGET)?;
    cosmos_session_token::seal(&t, &key, &context, max).map_err(err)
}

/// Checks a sealed token against any of `keys` (one `Uint8Array` or an array: rotation) and
/// `context`; the token. `options.maxBytes` (default 4000).
#[wasm_bindgen(js_name = unseal)]
pub fn unseal(
    sealed: JsValue,
    keys: JsValue,
    context: JsValue,
    options: JsValue,
) -> JsResult<SessionToken> {
    let sealed = text(&sealed, "sealed")?;
    let keys = key_list(&keys, "keys")?;
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let context = text_or_empty(&context, "context")?;
    let max = max_bytes(&options, DEFAULT_SEAL_BUDGET)?;
    cosmos_session_token::unseal(&sealed, &refs, &context, max)
        .map(SessionToken::wrap)
        .map_err(|e| core_error(&e))
}

/// One 32-byte cookie key per framework secret (HMAC-SHA256 over a fixed label), in order.
#[wasm_bindgen(js_name = deriveCookieKeys)]
pub fn derive_cookie_keys(secrets: JsValue) -> JsResult<Array> {
    let secrets = key_list(&secrets, "secrets")?;
    let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let keys = cosmos_session_token::derive_cookie_keys(&refs).map_err(err)?;
    Ok(keys
        .iter()
        .map(|k| JsValue::from(Uint8Array::from(&k[..])))
        .collect())
}

/// The seal context of a token cookie bound to a framework, an application and a session.
#[wasm_bindgen(js_name = tokenCookieContext)]
pub fn token_cookie_context(
    framework: JsValue,
    app: JsValue,
    session_id: JsValue,
) -> JsResult<String> {
    Ok(cosmos_session_token::token_cookie_context(
        &text(&framework, "framework")?,
        &text(&app, "app")?,
        &text(&session_id, "sessionId")?,
    ))
}

/// A `Set-Cookie` value: `Path=/; HttpOnly; SameSite=Lax`, `Secure` unless
/// `options.secure === false`, `Max-Age` when `options.maxAge` is given.
#[wasm_bindgen(js_name = tokenCookieHeader)]
pub fn token_cookie_header(name: JsValue, value: JsValue, options: JsValue) -> JsResult<String> {
    let age = option(&options, "maxAge")?;
    let max_age = if age.is_undefined() || age.is_null() {
        None
    } else {
        Some(integer(&age, "options.maxAge", u64::from(u32::MAX))?)
    };
    let secure = boolean_or(&option(&options, "secure")?, "options.secure", true)?;
    Ok(cosmos_session_token::token_cookie_header(
        &text(&name, "name")?,
        &text(&value, "value")?,
        max_age,
        secure,
    ))
}
