//! The engine's [`Options`] and the checks of the arguments callers pass per operation.

use crate::error::{Result, StateError};
use crate::layout::MAX_LOCK_ID;

/// Engine options. Times are in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// How long a lock lives before another request may take it over (`xLockTtlSeconds`).
    pub lock_ttl: f64,
    /// Default session timeout (ASP.NET `timeout`, in seconds here).
    pub timeout: f64,
    /// Gzip new content (items record whether they are compressed).
    pub compression: bool,
    /// Fraction of the timeout after which a read renews the session (0.25).
    pub renew_fraction: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_ttl: 30.0,
            timeout: 1200.0,
            compression: true,
            renew_fraction: 0.25,
        }
    }
}

impl Options {
    /// Checks the ranges: positive finite times, a renewal fraction in [0, 1].
    pub fn validate(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v > 0.0 && v < 1e9;
        if !ok(self.lock_ttl) {
            return Err(StateError::InvalidOption(format!(
                "lock_ttl must be positive seconds, got {}",
                self.lock_ttl
            )));
        }
        if !ok(self.timeout) {
            return Err(StateError::InvalidOption(format!(
                "timeout must be positive seconds, got {}",
                self.timeout
            )));
        }
        if !(0.0..=1.0).contains(&self.renew_fraction) {
            return Err(StateError::InvalidOption(format!(
                "renew_fraction must be within [0, 1], got {}",
                self.renew_fraction
            )));
        }
        Ok(())
    }
}

/// Refuses a lock id no acquisition can have issued (above [`MAX_LOCK_ID`]).
pub(super) fn check_lock_id(lock_id: u64) -> Result<()> {
    if lock_id > MAX_LOCK_ID {
        return Err(StateError::InvalidArgument(format!(
            "lock id {lock_id} is above the largest lock id {MAX_LOCK_ID}"
        )));
    }
    Ok(())
}

/// A per-operation session timeout: `None` is `default`; otherwise positive finite seconds.
pub(super) fn check_timeout(timeout: Option<f64>, default: f64) -> Result<f64> {
    match timeout {
        None => Ok(default),
        Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => Ok(t),
        Some(t) => Err(StateError::InvalidOption(format!(
            "timeout must be positive seconds, got {t}"
        ))),
    }
}
