//! The token-cookie hook every web adapter runs (Django, Flask, ASP.NET): at the start of a
//! request, present the token the session's sealed cookie carries; at the end, seal the store's
//! token for the session and set the cookie when it changed. Keys come from the framework's
//! secret and its rotation list, and the seal is bound to the framework, the application and the
//! session id (all in the core's `web` module), so an adapter only reads a cookie and writes a
//! header.

use cosmos_session_token::{CookieKind, CookiePolicy, SessionCarrier};

use crate::engine::SessionStateStore;
use crate::error::{Result, StateError};
use crate::ids::check_session_id;

/// The core's [`CookiePolicy`] of a `kind` cookie of `framework` for a session store named as
/// every surface names it: an empty `database` or `container` is the store's default (the
/// option table's), so the seal binds to the store the engine really uses.
///
/// ```
/// use cosmos_session_state::cookie_policy;
/// use cosmos_session_token::CookieKind;
/// let policy = cookie_policy(CookieKind::StateToken, "aspnet", "", "", &[b"secret-0123456789abcdef"])?;
/// assert_eq!(policy.app(), "sessions/SessionStore");
/// # Ok::<(), cosmos_session_token::SealError>(())
/// ```
pub fn cookie_policy(
    kind: CookieKind,
    framework: &str,
    database: &str,
    container: &str,
    secrets: &[&[u8]],
) -> std::result::Result<CookiePolicy, cosmos_session_token::SealError> {
    let defaults = crate::Settings::default();
    let or = |given: &str, default: String| {
        if given.is_empty() {
            default
        } else {
            given.to_owned()
        }
    };
    CookiePolicy::new(
        kind,
        framework,
        &or(database, defaults.database),
        &or(container, defaults.container),
        secrets,
    )
}

/// The token-cookie hook of one application, for web adapters: at the start of a request
/// [`begin`](Self::begin) presents the token the session's sealed cookie carries; at the end
/// [`finish`](Self::finish) gives the `Set-Cookie` header to send when the store's token for the
/// session changed. Everything about the cookie (name, keys from the framework's secrets, the
/// seal's binding to the framework, the store and the session id, budget, `Max-Age`, `Secure`)
/// is the core's [`CookiePolicy`] of a [`CookieKind::StateToken`] cookie.
///
/// ```
/// use cosmos_session_state::{MemoryStore, Options, SessionStateStore, TokenCookie};
/// use cosmos_session_token::{CookieKind, CookiePolicy};
/// let store = SessionStateStore::new(MemoryStore::new(), Options::default())?;
/// let policy = CookiePolicy::new(CookieKind::StateToken, "flask", "web", "SessionStore",
///                                &[b"framework-secret-0123456789"])
///     .map_err(cosmos_session_token::Error::from)?;
/// let hook = TokenCookie::new(policy)?;
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
#[derive(Debug, Clone)]
pub struct TokenCookie {
    policy: CookiePolicy,
}

impl TokenCookie {
    /// The hook of one application's `policy` (a [`CookieKind::StateToken`] policy; another
    /// kind is `invalid_argument`).
    pub fn new(policy: CookiePolicy) -> Result<Self> {
        if policy.kind() != CookieKind::StateToken {
            return Err(StateError::InvalidArgument(format!(
                "a token cookie needs a state_token cookie policy, not {}",
                policy.kind().as_str()
            )));
        }
        Ok(TokenCookie { policy })
    }

    /// The cookie's policy.
    pub fn policy(&self) -> &CookiePolicy {
        &self.policy
    }

    /// The cookie's name (the same for every adapter).
    pub fn name(&self) -> &'static str {
        self.policy.name()
    }

    fn carrier(&self, sid: &str) -> Result<SessionCarrier> {
        Ok(self
            .policy
            .carrier(&self.policy.context(sid))
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
        Ok(sealed.map(|value| self.policy.header(&value)))
    }
}

impl From<cosmos_session_token::Error> for StateError {
    fn from(e: cosmos_session_token::Error) -> Self {
        StateError::Token(e)
    }
}
