//! Connection strings in the format of the Azure portal and the seed's `web.config`:
//! `AccountEndpoint=https://account.documents.azure.com:443/;AccountKey=<base64>;`.

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
    key: Vec<u8>,
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
    /// optional). The endpoint must be `http://` or `https://` host[:port] with at most a `/`
    /// path; the key must be base64. Other names are refused, so a typo is not silently ignored.
    pub fn parse(text: &str) -> Result<Self> {
        let mut endpoint = None;
        let mut key = None;
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(invalid("every part must be Name=Value (separated by ';')"));
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "accountendpoint" => endpoint = Some(value.trim().to_owned()),
                "accountkey" => key = Some(value.trim().to_owned()),
                other => {
                    let shown: String = other.chars().take(40).collect();
                    return Err(StateError::InvalidConnectionString(format!(
                        "unknown part {shown:?} (expected AccountEndpoint and AccountKey)"
                    )));
                }
            }
        }
        let endpoint = endpoint.ok_or_else(|| invalid("AccountEndpoint is missing"))?;
        let key = key.ok_or_else(|| invalid("AccountKey is missing"))?;
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"))
            .ok_or_else(|| {
                invalid("AccountEndpoint must start with https:// (or http:// for a local server)")
            })?;
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(invalid(
                "AccountEndpoint must be a scheme, a host and an optional port, e.g. https://account.documents.azure.com:443/",
            ));
        }
        let key = STANDARD
            .decode(key.as_bytes())
            .map_err(|_| invalid("AccountKey is not base64"))?;
        if key.is_empty() {
            return Err(invalid("AccountKey is empty"));
        }
        Ok(ConnectionString {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            key,
        })
    }

    /// The endpoint without a trailing `/`, e.g. `https://account.documents.azure.com:443`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}
