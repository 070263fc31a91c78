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
//! * **One policy**: [`CookiePolicy`] puts these together for one adapter's cookie (its
//!   [`CookieKind`] names it `cosmos_<what>`), so no adapter spells a name, a budget, a key size
//!   or an application identity of its own.
//! * **Attributes**: [`token_cookie_header`] renders the `Set-Cookie` value: `Path=/; HttpOnly;
//!   SameSite=Lax; Secure` — `Secure` by default, dropped only by an explicit opt-out for
//!   plain-HTTP development.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::carrier::SessionCarrier;
use crate::error::SealError;
use crate::flow::FlowCookies;
use crate::seal::{DEFAULT_SEAL_BUDGET, check_keys};

/// Shortest framework secret a cookie key is derived from, in bytes (the seal's own minimum).
pub const MIN_FRAMEWORK_SECRET_BYTES: usize = crate::seal::MIN_SEAL_KEY_BYTES;

/// The name of the cookie that carries a session store's sealed token (every adapter):
/// [`CookieKind::StateToken`]'s name.
pub const TOKEN_COOKIE_NAME: &str = "cosmos_state_token";

/// The size of one derived cookie key in bytes (an HMAC-SHA256 output).
pub const COOKIE_KEY_BYTES: usize = 32;

/// The label the cookie keys are derived over (a contract: changing it invalidates every cookie).
const KEY_LABEL: &[u8] = b"cosmos-session-token/token-cookie-key/v1";

/// One [`COOKIE_KEY_BYTES`]-byte seal key per secret (the first seals, all unseal), derived as
/// HMAC-SHA256(secret, label). No secret, more than [`MAX_SEAL_KEYS`](crate::MAX_SEAL_KEYS), or one shorter than
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
pub fn derive_cookie_keys(secrets: &[&[u8]]) -> Result<Vec<[u8; COOKIE_KEY_BYTES]>, SealError> {
    // The seal's own rules (count, length): the framework's secrets are checked like seal keys.
    check_keys(secrets)?;
    Ok(secrets
        .iter()
        .map(|secret| {
            // HMAC takes keys of any length: `new_from_slice` cannot fail.
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
            mac.update(KEY_LABEL);
            mac.finalize().into_bytes().into()
        })
        .collect())
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

/// What a sealed web cookie carries. Each kind has one name, `cosmos_<what>`, the same in
/// every adapter; a kind whose name changed still reads its earlier names for one release
/// ([`legacy_names`](Self::legacy_names)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CookieKind {
    /// A Cosmos DB session token for the application's own reads ([`SessionCarrier`]: the WSGI
    /// `SessionTokenMiddleware`, the .NET `SessionCarrier`): `cosmos_token`.
    Token,
    /// A session-state store's token for the session's own item (the state engine's
    /// `TokenCookie`: Django, Flask, ASP.NET): `cosmos_state_token`.
    StateToken,
    /// A user's SDK flow ([`FlowCookies`]): `cosmos_flow`.
    Flow,
}

impl CookieKind {
    /// Every kind, in the order of their numbers in the C ABI (0, 1, 2).
    pub const ALL: [CookieKind; 3] = [CookieKind::Token, CookieKind::StateToken, CookieKind::Flow];

    /// The cookie's name.
    ///
    /// ```
    /// use cosmos_session_token::CookieKind;
    /// let names: Vec<_> = CookieKind::ALL.iter().map(|k| k.name()).collect();
    /// assert_eq!(names, ["cosmos_token", "cosmos_state_token", "cosmos_flow"]);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            CookieKind::Token => crate::carrier::DEFAULT_COOKIE_NAME,
            CookieKind::StateToken => TOKEN_COOKIE_NAME,
            CookieKind::Flow => crate::flow::FLOW_COOKIE_NAME,
        }
    }

    /// Names this kind had in earlier releases, still read (never written) so that an upgrade
    /// does not drop the cookies users hold: `cosmos_session` for [`CookieKind::Token`] (read
    /// until the next release).
    pub fn legacy_names(self) -> &'static [&'static str] {
        match self {
            CookieKind::Token => &["cosmos_session"],
            CookieKind::StateToken | CookieKind::Flow => &[],
        }
    }

    /// The kind's word: `token`, `state_token` or `flow` (its name without `cosmos_`).
    pub fn as_str(self) -> &'static str {
        match self {
            CookieKind::Token => "token",
            CookieKind::StateToken => "state_token",
            CookieKind::Flow => "flow",
        }
    }

    /// The kind of a word of [`as_str`](Self::as_str) (None for any other).
    pub fn parse(word: &str) -> Option<CookieKind> {
        CookieKind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The kind of a C ABI number (0 token, 1 state token, 2 flow).
    pub fn from_index(index: u32) -> Option<CookieKind> {
        CookieKind::ALL.get(usize::try_from(index).ok()?).copied()
    }
}

/// The application a cookie's seal is bound to: `database/container` (the session store) for
/// a token or a state-token cookie; `flow` for a flow cookie, whose progress spans containers.
///
/// ```
/// use cosmos_session_token::{CookieKind, cookie_app_identity};
/// assert_eq!(cookie_app_identity(CookieKind::StateToken, "web", "SessionStore"), "web/SessionStore");
/// assert_eq!(cookie_app_identity(CookieKind::Flow, "web", "SessionStore"), "flow");
/// ```
pub fn cookie_app_identity(kind: CookieKind, database: &str, container: &str) -> String {
    match kind {
        CookieKind::Flow => "flow".to_owned(),
        CookieKind::Token | CookieKind::StateToken => format!("{database}/{container}"),
    }
}

/// The one cookie policy of a web adapter: from the framework, the session store's database and
/// container, and the framework's secrets, everything the adapter's cookie needs — its
/// [`name`](Self::name) (and the [`legacy_names`](Self::legacy_names) still read), the seal's
/// budget ([`max_bytes`](Self::max_bytes)), the application identity and per-session seal
/// [`context`](Self::context), the keys ([`derive_cookie_keys`]), `Max-Age` and `Secure`
/// ([`header`](Self::header)). Django, Flask, the WSGI/ASGI middleware, ASP.NET, the state
/// engine's `TokenCookie` and [`FlowCookies`] are all built from one.
///
/// ```
/// use cosmos_session_token::{CookieKind, CookiePolicy};
/// let policy = CookiePolicy::new(CookieKind::StateToken, "django", "web", "SessionStore",
///                                &[b"django-insecure-0123456789abcdef"])?
///     .with_max_age(Some(1209600));
/// assert_eq!(policy.name(), "cosmos_state_token");
/// assert_eq!(policy.app(), "web/SessionStore");
/// assert_eq!(policy.max_bytes(), 4000);
/// assert_eq!(policy.context("abc"), "token-cookie/6:django/16:web/SessionStore/abc");
/// assert_eq!(policy.header("cst2.x"),
///            "cosmos_state_token=cst2.x; Path=/; Max-Age=1209600; HttpOnly; SameSite=Lax; Secure");
/// # Ok::<(), cosmos_session_token::SealError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CookiePolicy {
    kind: CookieKind,
    framework: String,
    app: String,
    keys: Vec<Vec<u8>>,
    max_bytes: usize,
    max_age: Option<u64>,
    secure: bool,
}

/// Never prints the keys, only how many there are.
impl std::fmt::Debug for CookiePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookiePolicy")
            .field("kind", &self.kind)
            .field("framework", &self.framework)
            .field("app", &self.app)
            .field("keys", &format_args!("<{} redacted>", self.keys.len()))
            .field("max_bytes", &self.max_bytes)
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .finish()
    }
}

impl CookiePolicy {
    /// The policy of a `kind` cookie of `framework` (`django`, `flask`, `aspnet`, `wsgi` …) for
    /// the store `database`/`container` ([`cookie_app_identity`]), its keys derived from the
    /// framework's `secrets` (the current one first, then the rotation list; see
    /// [`derive_cookie_keys`]: `no_keys`, `too_many_items`, `weak_key`). `Secure`, no `Max-Age`
    /// and the default seal budget ([`DEFAULT_SEAL_BUDGET`]) until changed.
    pub fn new(
        kind: CookieKind,
        framework: &str,
        database: &str,
        container: &str,
        secrets: &[&[u8]],
    ) -> Result<CookiePolicy, SealError> {
        let app = cookie_app_identity(kind, database, container);
        CookiePolicy::for_app(kind, framework, &app, secrets)
    }

    /// Like [`new`](Self::new) with the application identity given whole (the ABI 4 C export
    /// `cst_state_token_cookie_new` takes it so).
    pub fn for_app(
        kind: CookieKind,
        framework: &str,
        app: &str,
        secrets: &[&[u8]],
    ) -> Result<CookiePolicy, SealError> {
        let keys = derive_cookie_keys(secrets)?
            .into_iter()
            .map(|k| k.to_vec())
            .collect();
        Ok(CookiePolicy::with_keys(kind, framework, app, keys))
    }

    /// A policy whose seal keys are given as they are, not derived from a framework secret
    /// (the WSGI `SessionTokenMiddleware` and the .NET `SessionCarrier` take seal keys): the
    /// seal's rules apply (`no_keys`, `too_many_items`, `weak_key`).
    pub fn from_seal_keys(
        kind: CookieKind,
        framework: &str,
        app: &str,
        keys: &[&[u8]],
    ) -> Result<CookiePolicy, SealError> {
        check_keys(keys)?;
        let keys = keys.iter().map(|k| k.to_vec()).collect();
        Ok(CookiePolicy::with_keys(kind, framework, app, keys))
    }

    fn with_keys(kind: CookieKind, framework: &str, app: &str, keys: Vec<Vec<u8>>) -> Self {
        CookiePolicy {
            kind,
            framework: framework.to_owned(),
            app: app.to_owned(),
            keys,
            max_bytes: DEFAULT_SEAL_BUDGET,
            max_age: None,
            secure: true,
        }
    }

    /// With `Secure` (the default) or without it (plain-HTTP development only).
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// With a `Max-Age` in seconds (e.g. the framework's session cookie age), or none.
    pub fn with_max_age(mut self, max_age: Option<u64>) -> Self {
        self.max_age = max_age;
        self
    }

    /// With a budget of sealed cookie text other than [`DEFAULT_SEAL_BUDGET`] (0: the default).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = if max_bytes == 0 {
            DEFAULT_SEAL_BUDGET
        } else {
            max_bytes
        };
        self
    }

    /// What the cookie carries.
    pub fn kind(&self) -> CookieKind {
        self.kind
    }

    /// The cookie's name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Earlier names of the cookie, still read (see [`CookieKind::legacy_names`]).
    pub fn legacy_names(&self) -> &'static [&'static str] {
        self.kind.legacy_names()
    }

    /// The framework the seal is bound to.
    pub fn framework(&self) -> &str {
        &self.framework
    }

    /// The application identity the seal is bound to ([`cookie_app_identity`]).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The seal keys (the first seals, all unseal).
    pub fn keys(&self) -> Vec<&[u8]> {
        self.keys.iter().map(Vec::as_slice).collect()
    }

    /// The budget of the sealed cookie text in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The cookie's `Max-Age` in seconds, if any.
    pub fn max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// Whether the cookie is set `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The seal context of one session's (or user's) cookie ([`token_cookie_context`] of the
    /// framework, the application and `session_id`).
    pub fn context(&self, session_id: &str) -> String {
        token_cookie_context(&self.framework, &self.app, session_id)
    }

    /// The `Set-Cookie` value that sets the cookie to `value` ([`token_cookie_header`] with the
    /// policy's name, `Max-Age` and `Secure`).
    pub fn header(&self, value: &str) -> String {
        token_cookie_header(self.name(), value, self.max_age, self.secure)
    }

    /// The cookie's value among a request's cookies, looked up by name (`lookup`): the current
    /// name first, then the legacy names.
    ///
    /// ```
    /// use cosmos_session_token::{CookieKind, CookiePolicy};
    /// let policy = CookiePolicy::from_seal_keys(CookieKind::Token, "wsgi", "", &[b"0123456789abcdef"])?;
    /// let jar = [("cosmos_session", "cst2.old")];
    /// let find = |n: &str| jar.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    /// assert_eq!(policy.pick(find), Some("cst2.old"));
    /// # Ok::<(), cosmos_session_token::SealError>(())
    /// ```
    pub fn pick<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
        std::iter::once(self.name())
            .chain(self.legacy_names().iter().copied())
            .find_map(lookup)
    }

    /// A [`SessionCarrier`] sealing with the policy's keys and budget for `context` (a
    /// [`context`](Self::context), or the application's own binding).
    pub fn carrier(&self, context: &str) -> Result<SessionCarrier, SealError> {
        SessionCarrier::new(&self.keys(), context, self.max_bytes)
    }

    /// The node's [`FlowCookies`] with the policy's keys and budget.
    pub fn flow_cookies(&self) -> Result<FlowCookies, SealError> {
        FlowCookies::new(&self.keys(), self.max_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::MAX_SEAL_KEYS;

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
