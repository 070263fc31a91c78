//! Time as the engine sees it: seconds since the Unix epoch, from a clock that tests can move.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in seconds since the Unix epoch (fractions allowed).
pub trait Clock: Send + Sync {
    /// Now, in seconds since the Unix epoch.
    fn now(&self) -> f64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// A clock that only moves when told to: deterministic tests.
///
/// ```
/// use cosmos_session_state::{Clock, ManualClock};
/// let c = ManualClock::new(100.0);
/// c.advance(2.5);
/// assert_eq!(c.now(), 102.5);
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<f64>,
}

impl ManualClock {
    /// A clock standing at `start` seconds.
    pub fn new(start: f64) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: f64) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) += seconds;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A shared clock (several engines in one test).
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> f64 {
        (**self).now()
    }
}
