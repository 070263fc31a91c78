//! The options' values ([`Settings`]): one set of defaults and one [`Settings::resolve`] that
//! validates them all into the engine's and the Cosmos store's options.

use std::time::Duration;

use crate::cosmos::topology::preferred_regions;
use crate::cosmos::{Authentication, Consistency, CosmosOptions};
use crate::engine::Options;
use crate::error::{Result, StateError};

/// Largest `max_retries` accepted.
pub const MAX_RETRIES: i64 = 100;
/// `request_timeout` must be below this many seconds.
pub const MAX_REQUEST_TIMEOUT_SECONDS: f64 = 3600.0;

/// Every option of a session-state store, as the surfaces take it:
///
/// | option | default | range |
/// |---|---|---|
/// | `database` | `sessions` | 1–255 of `A-Z a-z 0-9 - _` (empty: the default) |
/// | `container` | `SessionStore` | the same |
/// | `consistency` | `Strong` | `Strong`, `BoundedStaleness`, `Session`, `ConsistentPrefix`, `Eventual`, `AccountDefault` (empty: the default) |
/// | `lock_ttl` | 30 s | above 0, below 10^9 |
/// | `timeout` | 1200 s | above 0, below 10^9 |
/// | `compression` | on | |
/// | `renew_fraction` | 0.25 | 0 to 1 |
/// | `request_timeout` | 10 s | above 0, below 3600 |
/// | `max_retries` | 9 | 0 to 100 |
/// | `operation_timeout` | 20 s | above 0, below 3600: one operation in all, retries and region changes included |
/// | `preferred_regions` | none | region names, comma-separated (`"East US, West US"`): reads try them in order, then the write region |
/// | `allow_multi_write` | off | run on a multi-write account (refused by default) |
/// | `create_if_missing` | on | the first write creates a missing database and container (key sign-in only) |
/// | `authentication` | `Key` | `Key`, `ManagedIdentity`, `ClientSecret` (empty: the default) |
/// | `managed_identity_client_id` | none | a user-assigned identity's client id (with `ManagedIdentity`) |
///
/// ```
/// use cosmos_session_state::Settings;
/// let (engine, cosmos) = Settings { database: "web".into(), ..Settings::default() }.resolve()?;
/// assert_eq!((engine.lock_ttl, cosmos.database.as_str(), cosmos.max_retries), (30.0, "web", 9));
/// let bad = Settings { max_retries: -1, ..Settings::default() }.resolve().unwrap_err();
/// assert_eq!(bad.code(), "invalid_option");
/// # Ok::<(), cosmos_session_state::StateError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Database id (empty: `sessions`).
    pub database: String,
    /// Container id (empty: `SessionStore`).
    pub container: String,
    /// Consistency level name (empty: `Strong`; `AccountDefault`: the account's own).
    pub consistency: String,
    /// Seconds a lock lives before another request may take it over.
    pub lock_ttl: f64,
    /// Default session timeout in seconds.
    pub timeout: f64,
    /// Gzip new content.
    pub compression: bool,
    /// Fraction of the timeout after which a read renews the session.
    pub renew_fraction: f64,
    /// Seconds one HTTP request may take.
    pub request_timeout: f64,
    /// Retries after a throttled, conflicting, unavailable or failed request.
    pub max_retries: i64,
    /// Seconds one operation may take in all.
    pub operation_timeout: f64,
    /// Preferred read regions, comma-separated.
    pub preferred_regions: String,
    /// Run on a multi-write account.
    pub allow_multi_write: bool,
    /// Create a missing database and container on the first write.
    pub create_if_missing: bool,
    /// How to sign in: `Key` (empty), `ManagedIdentity`, `ClientSecret`.
    pub authentication: String,
    /// A user-assigned managed identity's client id.
    pub managed_identity_client_id: String,
}

impl Default for Settings {
    fn default() -> Self {
        let engine = Options::default();
        let cosmos = CosmosOptions::default();
        Settings {
            database: cosmos.database,
            container: cosmos.container,
            consistency: "Strong".to_owned(),
            lock_ttl: engine.lock_ttl,
            timeout: engine.timeout,
            compression: engine.compression,
            renew_fraction: engine.renew_fraction,
            request_timeout: cosmos.request_timeout.as_secs_f64(),
            max_retries: i64::from(cosmos.max_retries),
            operation_timeout: cosmos.operation_timeout.as_secs_f64(),
            preferred_regions: String::new(),
            allow_multi_write: cosmos.allow_multi_write,
            create_if_missing: cosmos.create_if_missing,
            authentication: "Key".to_owned(),
            managed_identity_client_id: String::new(),
        }
    }
}

impl Settings {
    /// Validates every option and returns the engine's and the Cosmos store's options
    /// (`invalid_option` naming the first one out of range).
    pub fn resolve(&self) -> Result<(Options, CosmosOptions)> {
        let engine = Options {
            lock_ttl: self.lock_ttl,
            timeout: self.timeout,
            compression: self.compression,
            renew_fraction: self.renew_fraction,
        };
        engine.validate()?;
        let defaults = CosmosOptions::default();
        let name = |given: &str, default: String| {
            if given.is_empty() {
                default
            } else {
                given.to_owned()
            }
        };
        for (what, value) in [
            ("request_timeout", self.request_timeout),
            ("operation_timeout", self.operation_timeout),
        ] {
            if !(value.is_finite() && value > 0.0 && value < MAX_REQUEST_TIMEOUT_SECONDS) {
                return Err(StateError::InvalidOption(format!(
                    "{what} must be positive seconds below {MAX_REQUEST_TIMEOUT_SECONDS}, got {value}"
                )));
            }
        }
        let preferred_regions = preferred_regions(&self.preferred_regions);
        if let Some(bad) = preferred_regions
            .iter()
            .find(|r| r.len() > 100 || r.chars().any(|c| c.is_control()))
        {
            return Err(StateError::InvalidOption(format!(
                "preferred_regions: {:?} is not a region name",
                bad.chars().take(40).collect::<String>()
            )));
        }
        let max_retries = u32::try_from(self.max_retries)
            .ok()
            .filter(|&n| i64::from(n) <= MAX_RETRIES)
            .ok_or_else(|| {
                StateError::InvalidOption(format!(
                    "max_retries must be a number of retries from 0 to {MAX_RETRIES}, got {}",
                    self.max_retries
                ))
            })?;
        let cosmos = CosmosOptions {
            database: name(&self.database, defaults.database),
            container: name(&self.container, defaults.container),
            consistency: Consistency::option(Some(&self.consistency))?,
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            max_retries,
            max_retry_wait: defaults.max_retry_wait,
            operation_timeout: Duration::from_secs_f64(self.operation_timeout),
            preferred_regions,
            allow_multi_write: self.allow_multi_write,
            create_if_missing: self.create_if_missing,
            authentication: Authentication::parse(
                &self.authentication,
                &self.managed_identity_client_id,
            )?,
        };
        cosmos.check_names()?;
        Ok((engine, cosmos))
    }
}
