//! Connection strings in the format of the Azure portal and of ASP.NET `web.config` files:
//! `AccountEndpoint=https://account.documents.azure.com:443/;AccountKey=<base64>;`.
//!
//! No error about a connection string quotes any of it: a misplaced or mistyped key (the key
//! alone, `AccountKey:` for `AccountKey=`) would otherwise end up in logs. Errors name the part
//! by its position and say what was expected.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Result, StateError};

/// A parsed connection string. Its `Debug` output and every error about it leave the key out.
///
/// ```
/// use cosmos_session_state::ConnectionString;
/// let c = ConnectionString::parse("AccountEndpoint=http://127.0.0.1:8081/;AccountKey=c2VjcmV0;")?;
/// assert_eq!(c.endpoint(), "http://127.0.0.1:8081");
/// assert!(!format!("{c:?}").contains("c2VjcmV0"));
/// let err = ConnectionString::parse("AccountEndpoint=x;AccountKey=not base64!").unwrap_err();
/// assert!(!err.to_string().contains("not base64!"));
/// # Ok::<(), cosmos_session_state::StateError>(())
/// ```
#[derive(Clone)]
pub struct ConnectionString {
    endpoint: String,
    url: url::Url,
    key: Option<Vec<u8>>,
    insecure_http: bool,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionString")
            .field("endpoint", &self.endpoint)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn invalid(message: &str) -> StateError {
    StateError::InvalidConnectionString(message.to_owned())
}

impl ConnectionString {
    /// Parses `AccountEndpoint=…;AccountKey=…;` (names case-insensitive, any order, trailing `;`
    /// optional; `AccountKey` may be left out for Entra ID sign-in). The endpoint must be `https://host[:port]` with at most a `/` path —
    /// `http://` only for a loopback host (`localhost`, `127.x.x.x`, `[::1]`) unless the string
    /// also says `AllowInsecureHttp=true` (every request's signed `Authorization` header would
    /// cross the network in clear text) —; the key must be base64. Other names are refused, so a
    /// typo is not silently ignored.
    pub fn parse(text: &str) -> Result<Self> {
        let mut endpoint = None;
        let mut key = None;
        let mut insecure_http = false;
        let parts = text.split(';').map(str::trim).filter(|p| !p.is_empty());
        for (n, part) in parts.enumerate() {
            let n = n + 1;
            let Some((name, value)) = part.split_once('=') else {
                return Err(StateError::InvalidConnectionString(format!(
                    "part {n} is not Name=Value (parts are separated by ';'; its text is not shown in case it is the key)"
                )));
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "accountendpoint" => endpoint = Some(value.trim().to_owned()),
                "accountkey" => key = Some(value.trim().to_owned()),
                "allowinsecurehttp" => {
                    insecure_http = match value.trim().to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid("AllowInsecureHttp must be true or false")),
                    }
                }
                _ => {
                    return Err(StateError::InvalidConnectionString(format!(
                        "part {n} has a name other than AccountEndpoint, AccountKey or AllowInsecureHttp (its text is not shown in case it is the key)"
                    )));
                }
            }
        }
        let endpoint = endpoint.ok_or_else(|| invalid("AccountEndpoint is missing"))?;
        // Parsed, never split by hand: `http://[::1]@evil/` has the host `evil`.
        let url = super::endpoint::parse("AccountEndpoint", &endpoint).map_err(|e| {
            invalid(&format!(
                "{e}; it must start with https:// (or http:// for a local server)"
            ))
        })?;
        let http = url.scheme() == "http";
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "AccountEndpoint must be a scheme, a host and an optional port, e.g. https://account.documents.azure.com:443/",
            ));
        }
        if http && !insecure_http && !super::endpoint::is_loopback(&url) {
            return Err(invalid(
                "AccountEndpoint uses http:// for a host that is not loopback: requests and their signed Authorization headers would travel in clear text; use https://, or add AllowInsecureHttp=true for a development server you trust",
            ));
        }
        let key = match key {
            None => None,
            Some(key) => {
                let key = STANDARD
                    .decode(key.as_bytes())
                    .map_err(|_| invalid("AccountKey is not base64"))?;
                if key.is_empty() {
                    return Err(invalid("AccountKey is empty"));
                }
                Some(key)
            }
        };
        Ok(ConnectionString {
            endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
            url,
            key,
            insecure_http: http,
        })
    }

    /// True when requests go over plain `http://` (a loopback host, or `AllowInsecureHttp=true`).
    pub fn is_insecure_http(&self) -> bool {
        self.insecure_http
    }

    /// The endpoint without a trailing `/`, e.g. `https://account.documents.azure.com:443`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The endpoint, parsed (regional endpoints are checked against its host).
    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    /// The decoded account key; None for a connection string without one (Entra ID sign-in).
    pub(crate) fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_refused_without_repeating_it() {
        for endpoint in [
            "http://[::1]@evil.example/",
            "http://127.0.0.1:80@evil.example/",
            "https://user:hunter2@acct.documents.azure.com/",
        ] {
            let err =
                ConnectionString::parse(&format!("AccountEndpoint={endpoint};AccountKey=c2VjcmV0"))
                    .unwrap_err()
                    .to_string();
            assert!(err.contains("user name or password"), "{endpoint}: {err}");
            assert!(!err.contains("evil") && !err.contains("hunter2"), "{err}");
        }
        assert!(
            ConnectionString::parse("AccountEndpoint=http://[::1]:8081/;AccountKey=c2VjcmV0")
                .is_ok()
        );
        assert!(
            ConnectionString::parse("AccountEndpoint=https://a.example/x;AccountKey=c2VjcmV0")
                .is_err()
        );
    }

    #[test]
    fn http_needs_loopback_or_an_explicit_opt_in() {
        let err =
            ConnectionString::parse("AccountEndpoint=http://db.example.com/;AccountKey=c2VjcmV0;")
                .unwrap_err();
        assert!(err.to_string().contains("clear text"), "{err}");
        let ok = ConnectionString::parse(
            "AccountEndpoint=http://db.example.com/;AccountKey=c2VjcmV0;AllowInsecureHttp=true",
        )
        .unwrap();
        assert!(ok.is_insecure_http());
        assert!(
            !ConnectionString::parse("AccountEndpoint=https://a.example;AccountKey=c2VjcmV0")
                .unwrap()
                .is_insecure_http()
        );
    }
}
