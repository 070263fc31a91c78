//! The account's regions, as `GET /` describes them, and where each request goes.
//!
//! Writes go to the first writable location; reads go to the first available region of the
//! caller's preferred regions, then the other preferred ones, then the write region (a read
//! without preferred regions goes to the write region, as the SDKs do). A region that refused a
//! connection or answered 503/408 is avoided for [`UNAVAILABLE_FOR`] (tried last, not never).
//! The account is read on first use, after a 403/3 or a failed connection to the write region,
//! and when older than [`MAX_AGE`]. A failure seen on a route older than the last read of the
//! account reads nothing (that read already answers it); otherwise reads forced by failures are
//! at least [`MIN_REFRESH_INTERVAL`] apart (a request that comes sooner waits for it), so a
//! storm of 403/3 answers costs one read of the account per interval, not one per request.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::endpoint::{self, region_refusal};
use crate::error::{Result, StateError};

/// How long a region that failed is tried only after the others.
pub const UNAVAILABLE_FOR: Duration = Duration::from_secs(30);
/// Least time between two reads of the account forced by failures (a storm of 403/3 answers
/// costs one read of the account per interval, not one per request).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_millis(500);
/// The account is read again when its description is older than this.
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// One region of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The region's name (`"West US"`); empty for the connection string's endpoint when the
    /// account could not be described.
    pub name: String,
    /// Its endpoint, without a trailing `/`.
    pub endpoint: String,
}

impl Region {
    /// The name for messages: the region's name, or its endpoint when it has none.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.endpoint
        } else {
            &self.name
        }
    }
}

/// A region of the account description that receives no request, and why (a diagnostics
/// event: the region's name and the rule it broke; never its endpoint text, which could carry
/// a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRegion {
    /// The region's name as the description gives it.
    pub name: String,
    /// The rule it broke ([`endpoint::region_refusal`]).
    pub reason: String,
}

/// What `GET /` says of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Writable locations, the write region first.
    pub writable: Vec<Region>,
    /// Readable locations.
    pub readable: Vec<Region>,
    /// Writes are accepted in several regions.
    pub multi_write: bool,
}

fn locations(doc: &Value, field: &str) -> Result<Vec<Region>> {
    let list = doc
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| StateError::Store(format!("the account description has no {field} list")))?;
    list.iter()
        .map(|l| {
            let name = l.get("name").and_then(Value::as_str);
            let endpoint = l.get("databaseAccountEndpoint").and_then(Value::as_str);
            match (name, endpoint) {
                (Some(n), Some(e)) => Ok(Region {
                    name: n.to_owned(),
                    endpoint: e.trim_end_matches('/').to_owned(),
                }),
                _ => Err(StateError::Store(format!(
                    "the account description has a {field} entry without a name and an endpoint"
                ))),
            }
        })
        .collect()
}

impl Account {
    /// The account with only the regions `account` (the connection string's endpoint) may send
    /// its credentials to ([`endpoint::region_refusal`]), and the regions left out. When no
    /// writable region remains, writes go to the account endpoint (as the SDKs do).
    ///
    /// ```
    /// use cosmos_session_state::cosmos::topology::Account;
    /// let a = Account::parse(br#"{"writableLocations":[{"name":"West US","databaseAccountEndpoint":"https://evil.example/"}],
    ///   "readableLocations":[{"name":"East US","databaseAccountEndpoint":"https://a-eastus.documents.azure.com/"}]}"#)?;
    /// let (kept, refused) = a.keep_family(&url::Url::parse("https://a.documents.azure.com/").unwrap());
    /// assert!(kept.writable.is_empty());
    /// assert_eq!(kept.readable[0].name, "East US");
    /// assert_eq!(refused[0].name, "West US");
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn keep_family(mut self, account: &url::Url) -> (Account, Vec<RefusedRegion>) {
        let mut refused: Vec<RefusedRegion> = Vec::new();
        let mut keep = |list: &mut Vec<Region>| {
            list.retain(|r| {
                let why = match endpoint::parse("the regional endpoint", &r.endpoint) {
                    Ok(url) => region_refusal(account, &url),
                    Err(e) => Some(e),
                };
                match why {
                    None => true,
                    Some(reason) => {
                        if !refused.iter().any(|x| x.name == r.name) {
                            refused.push(RefusedRegion {
                                name: r.name.chars().take(64).collect(),
                                reason,
                            });
                        }
                        false
                    }
                }
            })
        };
        keep(&mut self.writable);
        keep(&mut self.readable);
        (self, refused)
    }

    /// Parses the body of `GET /`.
    ///
    /// ```
    /// use cosmos_session_state::cosmos::topology::Account;
    /// let a = Account::parse(br#"{"writableLocations":[{"name":"West US","databaseAccountEndpoint":"https://a-westus.documents.azure.com:443/"}],
    ///   "readableLocations":[{"name":"West US","databaseAccountEndpoint":"https://a-westus.documents.azure.com:443/"}],
    ///   "enableMultipleWriteLocations":false}"#)?;
    /// assert_eq!(a.writable[0].endpoint, "https://a-westus.documents.azure.com:443");
    /// # Ok::<(), cosmos_session_state::StateError>(())
    /// ```
    pub fn parse(body: &[u8]) -> Result<Account> {
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| StateError::Store(format!("the account description is not JSON: {e}")))?;
        let writable = locations(&doc, "writableLocations")?;
        let readable = locations(&doc, "readableLocations")?;
        Ok(Account {
            writable,
            readable,
            multi_write: doc
                .get("enableMultipleWriteLocations")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// The routing state of one store: the account as last read, the caller's preferences, and the
/// regions that failed recently.
#[derive(Debug)]
pub struct Topology {
    /// The connection string's endpoint (the global endpoint of the account).
    pub global: Region,
    /// The account, once read.
    pub account: Option<Account>,
    /// Preferred read regions, in order.
    pub preferred: Vec<String>,
    /// When the account was last read (or its reading last failed).
    pub refreshed_at: Option<Instant>,
    /// Incremented at every change of the account; a route remembers the generation it was
    /// computed from, so a failure seen on an old route does not read the account again.
    pub generation: u64,
    /// Regions (by endpoint) that failed, with when.
    pub failed: Vec<(String, Instant)>,
}

impl Topology {
    /// Routing for `global` before the account is read.
    pub fn new(global: &str, preferred: Vec<String>) -> Topology {
        Topology {
            global: Region {
                name: String::new(),
                endpoint: global.trim_end_matches('/').to_owned(),
            },
            account: None,
            preferred,
            refreshed_at: None,
            generation: 0,
            failed: Vec::new(),
        }
    }

    /// The account needs reading: never read, or older than [`MAX_AGE`].
    pub fn stale(&self, now: Instant) -> bool {
        self.refreshed_at
            .is_none_or(|at| now.duration_since(at) > MAX_AGE)
    }

    /// A failure seen on a route of `generation` may read the account again now.
    pub fn may_refresh(&self, generation: u64, now: Instant) -> bool {
        generation == self.generation
            && self
                .refreshed_at
                .is_none_or(|at| now.duration_since(at) >= MIN_REFRESH_INTERVAL)
    }

    /// Takes a new description of the account.
    pub fn set_account(&mut self, account: Option<Account>, now: Instant) {
        if account.is_some() && account != self.account {
            self.generation += 1;
            self.account = account;
        }
        self.refreshed_at = Some(now);
    }

    /// Notes that `endpoint` failed now.
    pub fn mark_failed(&mut self, endpoint: &str, now: Instant) {
        self.failed
            .retain(|(e, at)| e != endpoint && now.duration_since(*at) < UNAVAILABLE_FOR);
        self.failed.push((endpoint.to_owned(), now));
    }

    fn failed_recently(&self, endpoint: &str, now: Instant) -> bool {
        self.failed
            .iter()
            .any(|(e, at)| e == endpoint && now.duration_since(*at) < UNAVAILABLE_FOR)
    }

    /// Where writes go.
    pub fn write_region(&self) -> Region {
        self.account
            .as_ref()
            .and_then(|a| a.writable.first().cloned())
            .unwrap_or_else(|| self.global.clone())
    }

    /// The regions a read tries, in order: the preferred readable regions, then the write
    /// region; regions that failed recently go last.
    pub fn read_plan(&self, now: Instant) -> Vec<Region> {
        let write = self.write_region();
        let mut plan: Vec<Region> = Vec::new();
        if let Some(account) = &self.account {
            for name in &self.preferred {
                if let Some(r) = account
                    .readable
                    .iter()
                    .find(|r| r.name.eq_ignore_ascii_case(name))
                    && !plan.contains(r)
                {
                    plan.push(r.clone());
                }
            }
        }
        if !plan.contains(&write) {
            plan.push(write);
        }
        let (mut ok, failed): (Vec<Region>, Vec<Region>) = plan
            .into_iter()
            .partition(|r| !self.failed_recently(&r.endpoint, now));
        ok.extend(failed);
        ok
    }
}

/// Splits the `preferred_regions` option ("East US, West US") into names.
///
/// ```
/// use cosmos_session_state::cosmos::topology::preferred_regions;
/// assert_eq!(preferred_regions(" East US,West US ,"), ["East US", "West US"]);
/// ```
pub fn preferred_regions(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        let r = |n: &str, p: u16| Region {
            name: n.into(),
            endpoint: format!("http://127.0.0.1:{p}"),
        };
        Account {
            writable: vec![r("West", 1)],
            readable: vec![r("West", 1), r("East", 2), r("North", 3)],
            multi_write: false,
        }
    }

    #[test]
    fn reads_follow_preferences_then_the_write_region() {
        let now = Instant::now();
        let mut t = Topology::new("http://g", vec!["North".into(), "nowhere".into()]);
        assert_eq!(t.read_plan(now)[0].endpoint, "http://g");
        t.set_account(Some(account()), now);
        let names: Vec<_> = t.read_plan(now).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["North", "West"]);
        t.mark_failed("http://127.0.0.1:3", now);
        let names: Vec<_> = t.read_plan(now).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["West", "North"]);
        let later = now + UNAVAILABLE_FOR + Duration::from_secs(1);
        assert_eq!(t.read_plan(later)[0].name, "North");
    }

    #[test]
    fn refreshes_are_rate_limited_and_generation_bound() {
        let now = Instant::now();
        let mut t = Topology::new("http://g", vec![]);
        assert!(t.may_refresh(0, now));
        t.set_account(Some(account()), now);
        assert_eq!(t.generation, 1);
        assert!(
            !t.may_refresh(0, now + MIN_REFRESH_INTERVAL),
            "an older route"
        );
        assert!(!t.may_refresh(1, now), "too soon");
        assert!(t.may_refresh(1, now + MIN_REFRESH_INTERVAL));
        t.set_account(Some(account()), now);
        assert_eq!(t.generation, 1, "the same account is no new generation");
    }
}
