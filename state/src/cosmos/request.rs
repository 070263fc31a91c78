//! One HTTP request to Cosmos DB, sent once: signed, with the standard headers, its answer read
//! into a [`Response`]. Retries and routing are `send.rs`'s.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use super::auth::master_key_signature;
use super::response::Response;
use super::{Auth, CosmosStore};
use crate::error::{Result, StateError};

/// REST API version sent with every request (conditional patch needs 2020-07-15 or later).
const API_VERSION: &str = "2020-07-15";
/// Largest response body read, in bytes (an item is at most 2 MB).
const MAX_RESPONSE_BYTES: u64 = 8 << 20;

impl CosmosStore {
    /// The `Authorization` header; an Entra ID token is waited for at most until `deadline`.
    pub(super) fn authorization(
        &self,
        method: &str,
        resource_type: &str,
        sign_link: &str,
        date: &str,
        deadline: Instant,
    ) -> Result<String> {
        match &self.auth {
            Auth::Key(key) => Ok(master_key_signature(
                key,
                method,
                resource_type,
                sign_link,
                date,
            )),
            Auth::Entra { credential, scope } => {
                let token = credential.token(scope, deadline)?;
                Ok(percent_encoding::utf8_percent_encode(
                    &format!("type=aad&ver=1.0&sig={token}"),
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string())
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    pub(super) fn send_once(
        &self,
        method: &str,
        endpoint: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Response> {
        let url = format!("{endpoint}/{link}");
        let date = httpdate::fmt_http_date(SystemTime::now());
        let auth = self.authorization(
            method,
            resource_type,
            sign_link,
            &date,
            Instant::now() + timeout,
        )?;
        let builder = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", auth)
            .header("x-ms-date", &date)
            .header("x-ms-version", API_VERSION)
            .header("accept", "application/json");
        let builder = match self.options.consistency {
            Some(c) if !link.is_empty() => builder.header("x-ms-consistency-level", c.as_str()),
            _ => builder,
        };
        let builder = headers
            .iter()
            .fold(builder, |b, (name, value)| b.header(*name, value.as_str()));
        let request = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| StateError::Store(format!("{method}: cannot build the request: {e}")))?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = match self.agent.run(request) {
            Ok(r) => r,
            Err(e) => {
                // The URL holds no secret; the error names the endpoint and what failed.
                return Err(StateError::Unavailable(format!("{method} {url}: {e}")));
            }
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let session_token = header("x-ms-session-token").filter(|t| !t.is_empty());
        let continuation = header("x-ms-continuation").filter(|t| !t.is_empty());
        let substatus = header("x-ms-substatus")
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let charge = header("x-ms-request-charge")
            .and_then(|c| c.parse::<f64>().ok())
            .filter(|c| c.is_finite() && *c >= 0.0)
            .unwrap_or(0.0);
        let retry_after = header("x-ms-retry-after-ms");
        self.counters
            .centi_charge
            .fetch_add((charge * 100.0).round() as u64, Ordering::Relaxed);
        let status = response.status().as_u16();
        let mut body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| {
                StateError::Unavailable(format!("{method}: reading the response failed: {e}"))
            })?;
        if status == 429 {
            // Keep the retry hint with the answer (the body is not needed for a 429).
            body = retry_after.unwrap_or_default().into_bytes();
        }
        Ok(Response {
            status,
            substatus,
            continuation,
            body,
            session_token,
            charge,
            in_doubt: false,
        })
    }

    pub(super) fn item_headers(pk: &str, token: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("x-ms-documentdb-partitionkey", partition_key_header(pk)),
            ("content-type", "application/json".to_owned()),
        ];
        if let Some(t) = token {
            headers.push(("x-ms-session-token", t.to_owned()));
        }
        headers
    }
}

/// The `x-ms-documentdb-partitionkey` value: the key as a one-element JSON array, with every
/// non-ASCII character escaped as `\uXXXX` (UTF-16 units, so astral characters become surrogate
/// pairs), as the SDKs send it: header values are not UTF-8 text, and a raw UTF-8 key was read
/// back as another key (the session's items were written under one and looked up under the other).
fn partition_key_header(pk: &str) -> String {
    let json = json!([pk]).to_string();
    let mut out = String::with_capacity(json.len());
    let mut units = [0u16; 2];
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::partition_key_header;

    #[test]
    fn partition_key_header_is_ascii_json() {
        assert_eq!(partition_key_header("a/b"), r#"["a/b"]"#);
        assert_eq!(partition_key_header("ünï"), r#"["\u00fcn\u00ef"]"#);
        assert_eq!(partition_key_header("😀"), r#"["\ud83d\ude00"]"#);
        assert_eq!(partition_key_header("q\"\\"), r#"["q\"\\"]"#);
        for pk in ["ünï", "セッション", "😀🎉", "a\\b\"c"] {
            let header = partition_key_header(pk);
            assert!(header.is_ascii());
            let back: Vec<String> = serde_json::from_str(&header).unwrap();
            assert_eq!(back, [pk]);
        }
    }
}
