//! The token-cookie hook every web adapter runs (Django, Flask, ASP.NET): at the start of a
//! request, present the token the session's sealed cookie carries; at the end, seal the store's
//! token for the session and set the cookie when it changed. Keys come from the framework's
//! secret and its rotation list, and the seal is bound to the framework, the application and the
//! session id (all in the core's `web` module), so an adapter only reads a cookie and writes a
//! header.

use cosmos_session_token::{
    DEFAULT_SEAL_BUDGET, SessionCarrier, TOKEN_COOKIE_NAME, derive_cookie_keys,
    token_cookie_context, token_cookie_header,
};

use crate::engine::SessionStateStore;
use crate::error::{Result, StateError};
use crate::ids::check_session_id;

/// The token-cookie hook of one application, for web adapters: at the start of a request
/// [`begin`](Self::begin) presents the token the session's sealed cookie carries; at the end
/// [`finish`](Self::finish) gives the `Set-Cookie` header to send when the store's token for the
/// session changed. Keys come from the framework's secret and its fallbacks; the seal is bound to
/// the framework, the application and the session id.
///
/// ```
/// use cosmos_session_state::{MemoryStore, Options, SessionStateStore, TokenCookie};
/// let store = SessionStateStore::new(MemoryStore::new(), Options::default())?;
/// let hook = TokenCookie::new(&[b"framework-secret-0123456789"], "flask", "web/SessionStore")?;
/// // A request without a cookie: nothing to present; its write gives the session a token.
/// assert!(!hook.begin(&store, "sid-1", None)?);
/// let ex = store.get_exclusive("sid-1")?;
/// store.set_and_release("sid-1", b"n=1", ex.lock_id, true, None)?;
/// let header = hook.finish(&store, "sid-1", None)?.expect("a new token: set the cookie");
/// assert!(header.starts_with("cosmos_state_token=") && header.ends_with("; Secure"));
/// // The next request carries it back: presented, and nothing new to set.
/// let value = &header["cosmos_state_token=".len()..header.find(';').unwrap()];
/// assert!(hook.begin(&store, "sid-1", Some(value))?);
/// assert_eq!(hook.finish(&store, "sid-1", Some(value))?, None);
/// # Ok::<(), cosmos_session_state::StateError>(())
/// ```
#[derive(Clone)]
pub struct TokenCookie {
    keys: Vec<[u8; 32]>,
    framework: String,
    app: String,
    secure: bool,
    max_age: Option<u64>,
}

impl std::fmt::Debug for TokenCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are secrets: never printed.
        f.debug_struct("TokenCookie")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("framework", &self.framework)
            .field("app", &self.app)
            .field("secure", &self.secure)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl TokenCookie {
    /// The hook of one application: keys derived from `secrets` (the framework's secret first,
    /// then its fallbacks; each at least 16 bytes, else `weak_key`), the seal bound to
    /// `framework` and `app`. The cookie is `Secure` and has no `Max-Age` unless changed.
    pub fn new(secrets: &[&[u8]], framework: &str, app: &str) -> Result<Self> {
        let keys = derive_cookie_keys(secrets).map_err(cosmos_session_token::Error::from)?;
        Ok(TokenCookie {
            keys,
            framework: framework.to_owned(),
            app: app.to_owned(),
            secure: true,
            max_age: None,
        })
    }

    /// Without `Secure` (plain-HTTP development only).
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// With a `Max-Age` in seconds (e.g. the framework's session cookie age).
    pub fn with_max_age(mut self, max_age: Option<u64>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The cookie's name (the same for every adapter).
    pub fn name(&self) -> &'static str {
        TOKEN_COOKIE_NAME
    }

    fn carrier(&self, sid: &str) -> Result<SessionCarrier> {
        let keys: Vec<&[u8]> = self.keys.iter().map(|k| k.as_slice()).collect();
        let context = token_cookie_context(&self.framework, &self.app, sid);
        Ok(SessionCarrier::new(&keys, &context, DEFAULT_SEAL_BUDGET)
            .map_err(cosmos_session_token::Error::from)?)
    }

    /// Start of a request for session `sid` carrying `cookie` (the token cookie's value, if
    /// any): presents its token to `store`, so this request reads what the session wrote on other
    /// nodes. Anything that does not unseal for this session (absent, forged, another session's)
    /// means no token. Returns whether a token was presented.
    pub fn begin(
        &self,
        store: &SessionStateStore,
        sid: &str,
        cookie: Option<&str>,
    ) -> Result<bool> {
        check_session_id(sid)?;
        let mut carrier = self.carrier(sid)?;
        match (carrier.read(cookie), carrier.token()) {
            (true, Some(token)) => {
                store.present_token(sid, token)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// End of a request for session `sid` (after a new session or a key cycle, the new id)
    /// that arrived with `cookie`: the `Set-Cookie` header value to send when the store's token
    /// for `sid` is newer than what the cookie carried for it, else `None`.
    pub fn finish(
        &self,
        store: &SessionStateStore,
        sid: &str,
        cookie: Option<&str>,
    ) -> Result<Option<String>> {
        check_session_id(sid)?;
        let Some(token) = store.token(sid)? else {
            return Ok(None);
        };
        let mut carrier = self.carrier(sid)?;
        carrier.read(cookie);
        carrier.report(&token);
        if !carrier.changed() {
            return Ok(None);
        }
        let sealed = carrier
            .sealed()
            .map_err(cosmos_session_token::Error::from)?;
        Ok(sealed
            .map(|value| token_cookie_header(TOKEN_COOKIE_NAME, &value, self.max_age, self.secure)))
    }
}

impl From<cosmos_session_token::Error> for StateError {
    fn from(e: cosmos_session_token::Error) -> Self {
        StateError::Token(e)
    }
}
