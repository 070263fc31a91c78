//! Reading the account's description (its regions, `GET /`) and keeping it fresh: on the first
//! operation, when it is stale, and when a request's region failed (rate-limited).

use std::time::Instant;

use super::CosmosStore;
use super::telemetry::bump;
use super::topology::{self, Account};
use crate::error::{Result, StateError};

impl CosmosStore {
    /// Reads the account (`GET /` on the global endpoint, then on the regions last known) when
    /// it was never read, is stale, or `forced_by` (the generation of a failed route) allows.
    /// A failure leaves the old description (or none: requests go to the global endpoint).
    pub(super) fn refresh_topology(&self, forced_by: Option<u64>, deadline: Instant) -> Result<()> {
        if let Some(generation) = forced_by {
            // Too soon after the last read: wait for the interval (bounded by the deadline)
            // rather than fail; meanwhile another request may have read the account.
            let wait = {
                let t = self.topology();
                t.refreshed_at
                    .filter(|_| t.generation == generation)
                    .map(|at| topology::MIN_REFRESH_INTERVAL.saturating_sub(at.elapsed()))
                    .unwrap_or_default()
            };
            std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
        }
        let now = Instant::now();
        let (endpoints, due) = {
            let t = self.topology();
            let due = match forced_by {
                Some(generation) => t.may_refresh(generation, now),
                None => t.stale(now),
            };
            let mut endpoints = vec![t.global.endpoint.clone()];
            if let Some(a) = &t.account {
                for r in a.readable.iter().chain(&a.writable) {
                    if !endpoints.contains(&r.endpoint) {
                        endpoints.push(r.endpoint.clone());
                    }
                }
            }
            (endpoints, due)
        };
        if !due {
            return Ok(());
        }
        let mut last = None;
        for endpoint in endpoints {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            bump(&self.counters.account_reads);
            bump(&self.counters.requests);
            match self.send_once("GET", &endpoint, "", "", "", &[], None, remaining) {
                Ok(a) if a.status == 200 => {
                    // A description that does not parse is a failed read: the next endpoint,
                    // then the last good description (one bad answer must not stop every
                    // operation).
                    let account = match Account::parse(&a.body) {
                        Ok(account) => account,
                        Err(e) => {
                            last = Some(e.to_string());
                            continue;
                        }
                    };
                    let (account, refused) = account.keep_family(&self.account_url);
                    for r in &refused {
                        bump(&self.counters.regions_refused);
                        tracing::warn!(
                            target: "cosmos_session_state::store",
                            region = %r.name,
                            reason = %r.reason,
                            "a region of the account description is not used"
                        );
                    }
                    if account.multi_write && !self.options.allow_multi_write {
                        return Err(StateError::Rejected(
                            "the account accepts writes in several regions: the lock protocol relies on conditional writes, which such an account checks per region only (two regions could both grant a lock); use a single-write-region account, or set allow_multi_write if every web node writes through one region".into(),
                        ));
                    }
                    tracing::debug!(
                        target: "cosmos_session_state::store",
                        regions = account.readable.len(),
                        write_region = account.writable.first().map_or("(the account endpoint)", |r| r.name.as_str()),
                        "account read"
                    );
                    self.topology().set_account(Some(account), Instant::now());
                    return Ok(());
                }
                Ok(a) if a.status == 401 || a.status == 403 => {
                    return Err(self.auth_error(&a, "reading the account"));
                }
                Ok(a) => last = Some(format!("status {}", a.status)),
                Err(e) => last = Some(e.to_string()),
            }
        }
        tracing::warn!(
            target: "cosmos_session_state::store",
            error = last.as_deref().unwrap_or("out of time"),
            "the account could not be read; requests go to the endpoints last known"
        );
        self.topology().set_account(None, Instant::now());
        Ok(())
    }
}
