//! `SessionFlow` (read-your-writes over an SDK's HTTP traffic, for the @azure/cosmos plugin),
//! `FlowCookies`/`CookieFlow` (each user's flow in a sealed cookie, for web middleware) and the
//! message helpers `sealFlow`/`unsealFlow`.

use std::sync::Arc;

use cosmos_session_token::{
    CookieFlow as CoreCookieFlow, DEFAULT_SEAL_BUDGET, FlowCookies as CoreFlowCookies,
    MESSAGE_FLOW_BUDGET, Outgoing, SealedCookie, SessionFlow as CoreFlow,
};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::sealing::max_bytes;
use crate::*;

/// The request headers the flow reads (lower case).
const REQUEST_HEADERS: [&str; 7] = [
    "x-ms-session-token",
    "x-ms-documentdb-partitionkey",
    "x-ms-documentdb-partitionkeyrangeid",
    "x-ms-start-epk",
    "x-ms-end-epk",
    "x-ms-documentdb-isquery",
    "content-type",
];

/// The response headers the flow reads (lower case).
const RESPONSE_HEADERS: [&str; 3] = ["x-ms-session-token", "x-ms-substatus", "x-ms-content-path"];

/// A header value as text: strings as they are, numbers and booleans as JavaScript writes
/// them, anything else as JSON. Read leniently (the wire's values never throw: what the core
/// cannot read, it steps aside for and counts).
fn header_text(v: &JsValue) -> Option<String> {
    if v.is_undefined() || v.is_null() {
        return None;
    }
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    if let Some(b) = v.as_bool() {
        return Some(b.to_string());
    }
    js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string())
}

/// The values of `names` in a headers collection: a plain object (names in any case), or
/// anything iterable of `[name, value]` pairs (a `Map`, a fetch `Headers`, an array of pairs).
fn read_headers<const N: usize>(
    headers: &JsValue,
    names: &[&'static str; N],
) -> JsResult<Vec<(&'static str, String)>> {
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    let mut take = |name: &JsValue, value: &JsValue| {
        let Some(name) = name.as_string() else {
            return;
        };
        if let Some(i) = names
            .iter()
            .position(|n| n.len() == name.len() && n.eq_ignore_ascii_case(&name))
            && found[i].is_none()
        {
            found[i] = header_text(value);
        }
    };
    if headers.is_undefined() || headers.is_null() {
    } else if let Ok(Some(iter)) = js_sys::try_iter(headers) {
        for entry in iter {
            let entry = entry?;
            if let Some(pair) = entry.dyn_ref::<Array>() {
                take(&pair.get(0), &pair.get(1));
            }
        }
    } else if headers.is_object() {
        let obj: &Object = headers.unchecked_ref();
        for key in Object::keys(obj).iter() {
            let value = Reflect::get(headers, &key).unwrap_or_default();
            take(&key, &value);
        }
    } else {
        return Err(invalid(format!(
            "headers must be an object, a Map, a Headers or an array of pairs, not {}",
            type_name(headers)
        )));
    }
    Ok(names
        .iter()
        .zip(found)
        .filter_map(|(n, v)| v.map(|v| (*n, v)))
        .collect())
}

/// A response body: a string, a `Uint8Array`/`ArrayBuffer`, or a parsed JSON value (written
/// back as JSON); `undefined`/`null`: none.
fn body_bytes(v: &JsValue) -> Option<Vec<u8>> {
    if v.is_undefined() || v.is_null() {
        return None;
    }
    if let Some(s) = v.as_string() {
        return Some(s.into_bytes());
    }
    if let Some(b) = v.dyn_ref::<Uint8Array>() {
        return Some(b.to_vec());
    }
    if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
        return Some(Uint8Array::new(b).to_vec());
    }
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .map(String::into_bytes)
}

/// A serializable stats struct as a plain object of numbers.
fn stats_object(stats: impl serde::Serialize) -> JsValue {
    let o = Object::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(stats) {
        for (name, value) in fields {
            set(&o, &name, value.as_u64().unwrap_or(0) as f64);
        }
    }
    o.into()
}

/// Read-your-writes carried by an SDK's HTTP traffic: scopes the token of every data request
/// to the range it goes to, captures every response's token, learns definitions and routing
/// maps from the SDK's own metadata reads; crosses processes as a snapshot.
#[wasm_bindgen(js_name = SessionFlow)]
pub struct SessionFlow {
    inner: Arc<CoreFlow>,
}

impl Default for SessionFlow {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen(js_class = SessionFlow)]
impl SessionFlow {
    /// An empty flow.
    #[wasm_bindgen(constructor)]
    pub fn new() -> SessionFlow {
        SessionFlow {
            inner: Arc::new(CoreFlow::new()),
        }
    }

    /// A flow from `snapshot()` text (`invalid_snapshot`, `snapshot_too_large`).
    pub fn restore(snapshot: JsValue) -> JsResult<SessionFlow> {
        let snapshot = text(&snapshot, "snapshot")?;
        CoreFlow::restore(&snapshot)
            .map(|f| SessionFlow { inner: Arc::new(f) })
            .map_err(|e| core_error(&e))
    }

    /// Merges a snapshot into this flow (progress merged, never lost).
    #[wasm_bindgen(js_name = mergeSnapshot)]
    pub fn merge_snapshot(&self, snapshot: JsValue) -> JsResult<()> {
        let snapshot = text(&snapshot, "snapshot")?;
        self.inner
            .merge_snapshot(&snapshot)
            .map_err(|e| core_error(&e))
    }

    /// The flow as compact, versioned JSON text; with `options.maxBytes`, within that budget
    /// (`snapshot_too_large` past it).
    pub fn snapshot(&self, options: JsValue) -> JsResult<String> {
        if option(&options, "maxBytes")?.is_undefined() {
            return Ok(self.inner.snapshot());
        }
        let max = max_bytes(&options, MESSAGE_FLOW_BUDGET)?;
        self.inner.snapshot_within(max).map_err(|e| core_error(&e))
    }

    /// An empty flow sharing this one's routing knowledge and counters (one per user of a
    /// node; the node's flow keeps what any of them learned).
    #[wasm_bindgen(js_name = forUser)]
    pub fn for_user(&self) -> SessionFlow {
        SessionFlow {
            inner: Arc::new(self.inner.for_user()),
        }
    }

    /// The token to send with a request (`method`, its URL path or whole URL, its headers), or
    /// `undefined` to leave the SDK's header as it is.
    #[wasm_bindgen(js_name = beforeRequest)]
    pub fn before_request(
        &self,
        method: JsValue,
        url: JsValue,
        headers: JsValue,
    ) -> JsResult<Option<String>> {
        let method = text(&method, "method")?;
        let url = text(&url, "url")?;
        let found = read_headers(&headers, &REQUEST_HEADERS)?;
        let pairs: Vec<(&str, &str)> = found.iter().map(|(n, v)| (*n, v.as_str())).collect();
        Ok(match self.inner.before_request(&method, &url, &pairs) {
            Outgoing::Set(token) => Some(token),
            Outgoing::Leave => None,
        })
    }

    /// Whether `afterResponse` needs this request's response body (the account, collection and
    /// `pkranges` reads the flow learns from).
    #[wasm_bindgen(js_name = wantsBody)]
    pub fn wants_body(&self, method: JsValue, url: JsValue) -> JsResult<bool> {
        Ok(self
            .inner
            .wants_body(&text(&method, "method")?, &text(&url, "url")?))
    }

    /// Takes a response: its status, its headers, and its body when `wantsBody` said so (a
    /// string, bytes, or the parsed JSON). Never throws on what the wire carries: malformed
    /// input is counted in `stats().stepped_aside`.
    #[wasm_bindgen(js_name = afterResponse)]
    pub fn after_response(
        &self,
        method: JsValue,
        url: JsValue,
        status: JsValue,
        headers: JsValue,
        body: JsValue,
    ) -> JsResult<()> {
        let method = text(&method, "method")?;
        let url = text(&url, "url")?;
        let status = integer(&status, "status", u16::MAX.into())? as u16;
        let found = read_headers(&headers, &RESPONSE_HEADERS)?;
        let pairs: Vec<(&str, &str)> = found.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let body = body_bytes(&body);
        self.inner
            .after_response(&method, &url, status, &pairs, body.as_deref());
        Ok(())
    }

    /// What the flow has done: `{requests, scoped, composite, left, stepped_aside, captured,
    /// definitions_learned, maps_learned, maps_forgotten}` (numbers).
    pub fn stats(&self) -> JsValue {
        stats_object(self.inner.stats())
    }
}

/// A web node's flow cookies: its keys (the first seals, all open), the budget of a cookie,
/// and the node's flow whose routing knowledge every user's flow shares.
#[wasm_bindgen(js_name = FlowCookies)]
pub struct FlowCookies {
    inner: CoreFlowCookies,
}

/// One user's flow for one request, opened from the user's cookie.
#[wasm_bindgen(js_name = CookieFlow)]
pub struct CookieFlow {
    inner: CoreCookieFlow,
}

#[wasm_bindgen(js_class = FlowCookies)]
impl FlowCookies {
    /// `keys`: `Uint8Array`s of at least 16 bytes (`deriveCookieKeys` makes them from a
    /// framework secret); `options.maxBytes`: the cookie's budget (default 4000).
    #[wasm_bindgen(constructor)]
    pub fn new(keys: JsValue, options: JsValue) -> JsResult<FlowCookies> {
        let keys = key_list(&keys, "keys")?;
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let max = max_bytes(&options, DEFAULT_SEAL_BUDGET)?;
        CoreFlowCookies::new(&refs, max)
            .map(|inner| FlowCookies { inner })
            .map_err(err)
    }

    /// Opens the cookie a request brought (`undefined`/`null`: none) for the user `context`
    /// binds it to (`""` when the request has no session). Never throws on the cookie.
    pub fn open(&self, context: JsValue, cookie: JsValue) -> JsResult<CookieFlow> {
        let context = text(&context, "context")?;
        // A cookie is wire input: one that is not text opens as no progress.
        let cookie = cookie.as_string();
        Ok(CookieFlow {
            inner: self.inner.open(&context, cookie.as_deref()),
        })
    }

    /// What to write back: `{outcome: "sealed", value}`, `{outcome: "unchanged"}` or
    /// `{outcome: "over_budget"}` (the previous cookie stays; counted). `context`: the user's
    /// context at the end of the request when it changed (a session created or renewed).
    pub fn seal(&self, user: JsValue, context: JsValue) -> JsResult<JsValue> {
        let user = instance::<CookieFlow>(&user, "CookieFlow", "user")?;
        let context = opt_text(&context, "context")?;
        let sealed = match context {
            Some(c) => self.inner.seal_as(&user.inner, &c),
            None => self.inner.seal(&user.inner),
        };
        let o = Object::new();
        match sealed {
            SealedCookie::Value(v) => {
                set(&o, "outcome", "sealed");
                set(&o, "value", v);
            }
            SealedCookie::Unchanged => set(&o, "outcome", "unchanged"),
            SealedCookie::OverBudget { .. } => set(&o, "outcome", "over_budget"),
        }
        Ok(o.into())
    }

    /// The node's flow (its routing knowledge is every user's; its stats count every request).
    pub fn node(&self) -> SessionFlow {
        SessionFlow {
            inner: Arc::new(self.inner.node().for_user()),
        }
    }

    /// Cookies met by verdict (accepted, no_session, missing, malformed, too_large,
    /// unknown_key, foreign_context, forged, unreadable) and written back (sealed,
    /// over_budget).
    pub fn stats(&self) -> JsValue {
        stats_object(self.inner.stats())
    }
}

#[wasm_bindgen(js_class = CookieFlow)]
impl CookieFlow {
    /// The user's flow: use it for the SDK's requests while the request runs.
    #[wasm_bindgen(getter)]
    pub fn flow(&self) -> SessionFlow {
        SessionFlow {
            inner: Arc::clone(self.inner.flow()),
        }
    }

    /// What became of the cookie: accepted, no_session, missing, malformed, too_large,
    /// unknown_key, foreign_context, forged, unreadable or unverified.
    #[wasm_bindgen(getter)]
    pub fn verdict(&self) -> String {
        self.inner.verdict().as_str().to_owned()
    }

    /// True when a cookie was brought and not accepted (worth a warning; never an error).
    #[wasm_bindgen(getter)]
    pub fn refused(&self) -> bool {
        self.inner.verdict().is_refusal()
    }

    /// True when the user's progress moved since the cookie was opened.
    #[wasm_bindgen(getter)]
    pub fn changed(&self) -> bool {
        self.inner.changed()
    }
}

/// Seals a flow for a message, bound to `context` (e.g. the queue's name), within
/// `options.maxBytes` (default 60 KiB).
#[wasm_bindgen(js_name = sealFlow)]
pub fn seal_flow(
    flow: JsValue,
    key: JsValue,
    context: JsValue,
    options: JsValue,
) -> JsResult<String> {
    let flow = instance::<SessionFlow>(&flow, "SessionFlow", "flow")?;
    let key = bytes(&key, "key")?;
    let context = text_or_empty(&context, "context")?;
    let max = max_bytes(&options, MESSAGE_FLOW_BUDGET)?;
    cosmos_session_token::seal_flow(&flow.inner, &key, &context, max).map_err(|e| core_error(&e))
}

/// The flow of a `sealFlow` envelope, checked against any of `keys` and `context`.
#[wasm_bindgen(js_name = unsealFlow)]
pub fn unseal_flow(
    sealed: JsValue,
    keys: JsValue,
    context: JsValue,
    options: JsValue,
) -> JsResult<SessionFlow> {
    let sealed = text(&sealed, "sealed")?;
    let keys = key_list(&keys, "keys")?;
    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let context = text_or_empty(&context, "context")?;
    let max = max_bytes(&options, MESSAGE_FLOW_BUDGET)?;
    cosmos_session_token::unseal_flow(&sealed, &refs, &context, max)
        .map(|f| SessionFlow { inner: Arc::new(f) })
        .map_err(|e| core_error(&e))
}
