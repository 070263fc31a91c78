//! What an answer means: the [`Response`] of one request, and what the store makes of it (an
//! [`Outcome`] for the engine, an error naming what failed and how to fix it).

use serde_json::Value;

use super::{Auth, CosmosStore};
use crate::error::{Result, StateError};
use crate::store::{Item, Outcome, Reply};

/// One answered HTTP request.
pub(super) struct Response {
    pub status: u16,
    pub substatus: u32,
    /// `x-ms-continuation`: the next page of a feed.
    pub continuation: Option<String>,
    pub body: Vec<u8>,
    pub session_token: Option<String>,
    pub charge: f64,
    /// An earlier attempt of this request may have reached the service (see [`Reply::in_doubt`]).
    pub in_doubt: bool,
}

/// A short, safe excerpt of a response body for an error message.
pub(super) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| text.into_owned());
    message.chars().take(200).collect()
}

/// A 429's `x-ms-retry-after-ms`, which `send_once` keeps as the body.
pub(super) fn retry_after_ms(response: &Response) -> Option<u64> {
    std::str::from_utf8(&response.body)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|ms| ms.max(0.0) as u64)
}

pub(super) fn item_of(value: Value) -> Result<Item> {
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StateError::Store("a response item has no id".into()))?
        .to_owned();
    let etag = value
        .get("_etag")
        .and_then(Value::as_str)
        .ok_or_else(|| StateError::Store("a response item has no _etag".into()))?
        .to_owned();
    Ok(Item {
        id,
        etag,
        body: value,
    })
}

impl CosmosStore {
    pub(super) fn auth_error(&self, a: &Response, what: &str) -> StateError {
        let fix = match (&self.auth, a.status) {
            (Auth::Key(_), 401) if excerpt(&a.body).contains("Local Authorization is disabled") => {
                "the account refuses keys (local authorization is disabled): sign in with Entra ID (a credential, or authentication=ManagedIdentity)"
            }
            (Auth::Key(_), _) => "check the account key",
            (Auth::Entra { .. }, 401) => {
                "the Entra ID token was refused: check the identity and that the account accepts it"
            }
            (Auth::Entra { .. }, _) => {
                "the identity lacks a data-plane role on the account (Cosmos DB Built-in Data Contributor)"
            }
        };
        StateError::Rejected(format!(
            "{what}: authorization failed (status {}): {fix}",
            a.status
        ))
    }

    pub(super) fn item(&self, body: &[u8]) -> Result<Item> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| StateError::Store(format!("a response item is not JSON: {e}")))?;
        item_of(value)
    }

    pub(super) fn outcome(&self, a: &Response, what: &str) -> Result<Outcome> {
        match a.status {
            200 | 201 => Ok(Outcome::Done(Some(self.item(&a.body)?))),
            204 => Ok(Outcome::Done(None)),
            404 => Ok(Outcome::NotFound),
            409 => Ok(Outcome::Conflict),
            412 => Ok(Outcome::PreconditionFailed),
            401 | 403 => Err(self.auth_error(a, what)),
            413 => Err(StateError::Rejected(format!(
                "{what}: the item is too large for the service"
            ))),
            400 => Err(StateError::Rejected(format!(
                "{what}: bad request: {}",
                excerpt(&a.body)
            ))),
            s => Err(StateError::Store(format!(
                "{what}: status {s}: {}",
                excerpt(&a.body)
            ))),
        }
    }

    pub(super) fn reply<T>(&self, a: &Response, value: T) -> Reply<T> {
        Reply {
            value,
            session_token: a.session_token.clone(),
            charge: a.charge,
            in_doubt: a.in_doubt,
        }
    }
}
