//! The retry policy of one store operation, as pure decisions: [`RetryState::classify`] says
//! whether an attempt is sent again and why, [`RetryState::decide`] what happens next (how long
//! to wait, which region, which side effects, or giving up). The caller (`send.rs`) sends,
//! sleeps, counts and reads the account; nothing here does I/O, so every rule has a unit test.

use std::time::Duration;

use super::Regions;

/// 1002 answers retried in one region before the read moves on, and the first wait.
const READ_SESSION_RETRIES_PER_REGION: u32 = 2;
const READ_SESSION_FIRST_WAIT: Duration = Duration::from_millis(10);

/// What one attempt of a request came to, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// An HTTP answer; `retry_after_ms` is a 429's `x-ms-retry-after-ms`.
    Answered {
        status: u16,
        substatus: u32,
        retry_after_ms: Option<u64>,
    },
    /// No answer ([`StateError::Unavailable`](crate::StateError::Unavailable): the connection
    /// failed or timed out), so a write may have reached the service.
    Unreachable,
    /// Any other error (a refused token, a request that cannot be built): never retried.
    Failed,
}

/// Why a request is sent again (the `retry` field of its trace event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RetryReason {
    Throttled,
    ReadSessionUnavailable,
    WriteForbidden,
    Transient,
    Unauthorized,
}

impl RetryReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            RetryReason::Throttled => "throttled",
            RetryReason::ReadSessionUnavailable => "read_session_unavailable",
            RetryReason::WriteForbidden => "write_forbidden",
            RetryReason::Transient => "transient",
            RetryReason::Unauthorized => "unauthorized",
        }
    }

    /// Throttling and transient failures spend `max_retries` and `max_retry_wait`; the others
    /// have small budgets of their own (once per region or once per operation).
    fn spends_budget(self) -> bool {
        matches!(self, RetryReason::Throttled | RetryReason::Transient)
    }
}

/// The options that bound retries ([`CosmosOptions`](super::CosmosOptions)).
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    pub max_retries: u32,
    pub max_retry_wait: Duration,
}

/// Why the account is read again before the next attempt, which then goes to its write region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reread {
    /// A 403/3: the region no longer takes writes (a failover).
    AfterWriteForbidden,
    /// A write's connection failed: the write region may have moved (counted as a failover
    /// when it did).
    AfterLostConnection,
}

/// What to do before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Step {
    /// How long to wait (the caller adds jitter and stops at the deadline).
    pub wait: Duration,
    /// The next attempt goes to the next region of the plan (a region failover, counted).
    pub next_region: bool,
    /// The region failed transiently: reads keep away from it for a while.
    pub mark_failed: bool,
    /// Read the account again first.
    pub reread: Option<Reread>,
    /// Fetch a new Entra ID token first.
    pub renew_token: bool,
    /// The budget is spent: give up (after the side effects above, which later operations use).
    pub give_up: bool,
}

/// Why an operation stops before its budget is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stop {
    /// Every region of the read plan answered 404/1002; the regions, comma-separated.
    NoRegionCaughtUp(String),
    /// The write region refused writes (403/3) again after the account was read again.
    StillWriteForbidden,
}

/// One operation's retry state: where the next attempt goes and what has been spent.
#[derive(Debug, Default)]
pub(super) struct RetryState {
    /// Index in the plan of the region the next attempt goes to.
    at: usize,
    /// 1002 answers so far in the current region.
    session_tries: u32,
    /// Regions that answered 1002, for the error when none catches up.
    lagging_regions: Vec<String>,
    /// The account was read again after a 403/3 (once per operation).
    reread_for_forbidden: bool,
    /// A new Entra ID token was fetched after a 401 (once per operation).
    reauthorized: bool,
    /// Time slept between attempts so far.
    waited: Duration,
    /// Retries that spent the budget (throttling, transient failures) so far.
    pub retries: u32,
    /// An attempt of a write may have reached the service without its answer arriving: the
    /// answer to a later attempt does not say what happened to it.
    pub doubt: bool,
}

impl RetryState {
    /// The index in a plan of `len` regions of the region the next attempt goes to.
    pub(super) fn region_index(&self, len: usize) -> usize {
        self.at.min(len - 1)
    }

    /// Notes an attempt of a write (`is_write`) that may have reached the service: a 408 or no
    /// answer at all.
    pub(super) fn note(&mut self, is_write: bool, attempt: &Attempt) {
        self.doubt |= is_write
            && matches!(
                attempt,
                Attempt::Answered { status: 408, .. } | Attempt::Unreachable
            );
    }

    /// Whether `attempt` is retried, and why; `None`: its result is final. `entra`: the store
    /// signs with Entra ID tokens (a 401 may be an expired token, fetched anew once).
    pub(super) fn classify(
        &self,
        route: Regions,
        attempt: &Attempt,
        entra: bool,
    ) -> Option<RetryReason> {
        match *attempt {
            Attempt::Answered {
                status, substatus, ..
            } => match (status, substatus) {
                (429, _) | (449, _) => Some(RetryReason::Throttled),
                (404, 1002) if route == Regions::ReadPlan => {
                    Some(RetryReason::ReadSessionUnavailable)
                }
                (403, 3) => Some(RetryReason::WriteForbidden),
                (408, _) | (410, _) | (503, _) => Some(RetryReason::Transient),
                (401, _) if entra && !self.reauthorized => Some(RetryReason::Unauthorized),
                _ => None,
            },
            Attempt::Unreachable => Some(RetryReason::Transient),
            Attempt::Failed => None,
        }
    }

    /// What to do after `attempt`, retried for `reason`, went to `region` (its label), the
    /// region at [`region_index`](Self::region_index) of a plan of `plan_len` regions.
    pub(super) fn decide(
        &mut self,
        reason: RetryReason,
        route: Regions,
        attempt: &Attempt,
        plan_len: usize,
        region: &str,
        budget: Budget,
    ) -> Result<Step, Stop> {
        let mut step = Step {
            wait: Duration::ZERO,
            next_region: false,
            mark_failed: false,
            reread: None,
            renew_token: false,
            give_up: false,
        };
        match reason {
            RetryReason::Throttled => {
                step.wait = match *attempt {
                    Attempt::Answered {
                        status: 429,
                        retry_after_ms,
                        ..
                    } => Duration::from_millis(retry_after_ms.unwrap_or(100).min(5_000)),
                    _ => Duration::from_millis(10 << self.retries.min(6)),
                };
            }
            RetryReason::ReadSessionUnavailable => {
                if !self.lagging_regions.iter().any(|r| r == region) {
                    self.lagging_regions.push(region.to_owned());
                }
                // The presented token is never dropped or weakened: the read waits for this
                // region a little, then tries the next one, the write region last.
                if self.session_tries < READ_SESSION_RETRIES_PER_REGION {
                    self.session_tries += 1;
                    step.wait = READ_SESSION_FIRST_WAIT * (1 << (self.session_tries - 1));
                } else if self.at + 1 < plan_len {
                    self.at += 1;
                    self.session_tries = 0;
                    step.next_region = true;
                } else {
                    return Err(Stop::NoRegionCaughtUp(self.lagging_regions.join(", ")));
                }
            }
            RetryReason::WriteForbidden => {
                if self.reread_for_forbidden {
                    return Err(Stop::StillWriteForbidden);
                }
                self.reread_for_forbidden = true;
                self.at = 0;
                step.reread = Some(Reread::AfterWriteForbidden);
            }
            RetryReason::Unauthorized => {
                self.reauthorized = true;
                step.renew_token = true;
            }
            RetryReason::Transient => {
                let lost_connection = *attempt == Attempt::Unreachable;
                // A single-region read has nowhere else to go: marking it would only shorten
                // the time it is trusted.
                step.mark_failed = plan_len > 1 || route == Regions::WriteRegion;
                match route {
                    Regions::ReadPlan if plan_len > 1 => {
                        self.at = (self.at + 1) % plan_len;
                        self.session_tries = 0;
                        step.next_region = true;
                    }
                    Regions::WriteRegion if lost_connection => {
                        step.reread = Some(Reread::AfterLostConnection);
                    }
                    _ => {}
                }
                step.wait = if lost_connection {
                    Duration::from_millis(50 << self.retries.min(5))
                } else {
                    Duration::from_millis(10 << self.retries.min(6))
                };
            }
        }
        step.give_up = reason.spends_budget()
            && (self.retries >= budget.max_retries
                || self.waited + step.wait > budget.max_retry_wait);
        Ok(step)
    }

    /// Records the pause before the next attempt of a retry for `reason`.
    pub(super) fn paused(&mut self, pause: Duration, reason: RetryReason) {
        self.waited += pause;
        if reason.spends_budget() {
            self.retries += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget {
        max_retries: 9,
        max_retry_wait: Duration::from_secs(30),
    };

    fn answered(status: u16, substatus: u32) -> Attempt {
        Attempt::Answered {
            status,
            substatus,
            retry_after_ms: None,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn classify_names_every_retried_answer_and_nothing_else() {
        let s = RetryState::default();
        let read = Regions::ReadPlan;
        let write = Regions::WriteRegion;
        assert_eq!(
            s.classify(write, &answered(429, 0), false),
            Some(RetryReason::Throttled)
        );
        assert_eq!(
            s.classify(write, &answered(449, 0), false),
            Some(RetryReason::Throttled)
        );
        assert_eq!(
            s.classify(read, &answered(404, 1002), false),
            Some(RetryReason::ReadSessionUnavailable)
        );
        // A write's 404/1002 is an answer about the item, not a lagging region.
        assert_eq!(s.classify(write, &answered(404, 1002), false), None);
        assert_eq!(
            s.classify(write, &answered(403, 3), false),
            Some(RetryReason::WriteForbidden)
        );
        for status in [408, 410, 503] {
            assert_eq!(
                s.classify(read, &answered(status, 0), false),
                Some(RetryReason::Transient)
            );
        }
        assert_eq!(
            s.classify(read, &Attempt::Unreachable, false),
            Some(RetryReason::Transient)
        );
        assert_eq!(
            s.classify(read, &answered(401, 0), true),
            Some(RetryReason::Unauthorized)
        );
        // A key's 401 is final: a new signature would be the same.
        assert_eq!(s.classify(read, &answered(401, 0), false), None);
        for status in [200, 201, 204, 400, 403, 404, 409, 412, 413, 500] {
            assert_eq!(s.classify(read, &answered(status, 0), false), None);
        }
        assert_eq!(s.classify(read, &Attempt::Failed, true), None);
    }

    #[test]
    fn a_401_renews_the_token_once_per_operation() {
        let mut s = RetryState::default();
        let a = answered(401, 0);
        let step = s
            .decide(
                RetryReason::Unauthorized,
                Regions::ReadPlan,
                &a,
                1,
                "r",
                BUDGET,
            )
            .unwrap();
        assert!(step.renew_token && !step.give_up && step.wait.is_zero());
        assert_eq!(s.classify(Regions::ReadPlan, &a, true), None);
        assert_eq!(s.retries, 0, "a renewal does not spend the budget");
    }

    #[test]
    fn throttling_honours_the_advice_within_bounds() {
        let mut s = RetryState::default();
        let advised = |ms| Attempt::Answered {
            status: 429,
            substatus: 0,
            retry_after_ms: ms,
        };
        let wait = |s: &mut RetryState, a| {
            s.decide(
                RetryReason::Throttled,
                Regions::WriteRegion,
                &a,
                1,
                "r",
                BUDGET,
            )
            .unwrap()
            .wait
        };
        assert_eq!(wait(&mut s, advised(Some(250))), ms(250));
        assert_eq!(wait(&mut s, advised(None)), ms(100));
        assert_eq!(wait(&mut s, advised(Some(60_000))), ms(5_000));
        // 449: exponential from 10 ms, capped at 640 ms.
        assert_eq!(wait(&mut s, answered(449, 0)), ms(10));
        s.retries = 3;
        assert_eq!(wait(&mut s, answered(449, 0)), ms(80));
        s.retries = 8;
        assert_eq!(wait(&mut s, answered(449, 0)), ms(640));
    }

    #[test]
    fn a_lagging_read_waits_twice_per_region_then_moves_on_then_fails_naming_them() {
        let mut s = RetryState::default();
        let a = answered(404, 1002);
        let decide = |s: &mut RetryState, region| {
            s.decide(
                RetryReason::ReadSessionUnavailable,
                Regions::ReadPlan,
                &a,
                2,
                region,
                BUDGET,
            )
        };
        assert_eq!(decide(&mut s, "East").unwrap().wait, ms(10));
        assert_eq!(decide(&mut s, "East").unwrap().wait, ms(20));
        let step = decide(&mut s, "East").unwrap();
        assert!(step.next_region && step.wait.is_zero());
        assert_eq!(s.region_index(2), 1);
        assert_eq!(decide(&mut s, "West").unwrap().wait, ms(10));
        assert_eq!(decide(&mut s, "West").unwrap().wait, ms(20));
        assert_eq!(
            decide(&mut s, "West"),
            Err(Stop::NoRegionCaughtUp("East, West".into()))
        );
        assert_eq!(s.retries, 0, "1002 has its own budget");
    }

    #[test]
    fn a_forbidden_write_rereads_the_account_once() {
        let mut s = RetryState::default();
        let a = answered(403, 3);
        let step = s
            .decide(
                RetryReason::WriteForbidden,
                Regions::WriteRegion,
                &a,
                1,
                "East",
                BUDGET,
            )
            .unwrap();
        assert_eq!(step.reread, Some(Reread::AfterWriteForbidden));
        assert_eq!(
            s.decide(
                RetryReason::WriteForbidden,
                Regions::WriteRegion,
                &a,
                1,
                "West",
                BUDGET
            ),
            Err(Stop::StillWriteForbidden)
        );
    }

    #[test]
    fn transient_failures_rotate_reads_and_reread_for_lost_write_connections() {
        let mut s = RetryState::default();
        let t = RetryReason::Transient;
        let step = s
            .decide(t, Regions::ReadPlan, &answered(503, 0), 3, "a", BUDGET)
            .unwrap();
        assert!(step.next_region && step.mark_failed && step.reread.is_none());
        assert_eq!(step.wait, ms(10));
        assert_eq!(s.region_index(3), 1);
        // A single-region read stays, unmarked.
        let step = RetryState::default()
            .decide(t, Regions::ReadPlan, &answered(503, 0), 1, "a", BUDGET)
            .unwrap();
        assert!(!step.next_region && !step.mark_failed);
        // A write's lost connection: the write region may have moved.
        let step = RetryState::default()
            .decide(
                t,
                Regions::WriteRegion,
                &Attempt::Unreachable,
                1,
                "a",
                BUDGET,
            )
            .unwrap();
        assert_eq!(step.reread, Some(Reread::AfterLostConnection));
        assert!(step.mark_failed);
        assert_eq!(step.wait, ms(50));
        // A write's 503 was answered: same region, no reread.
        let step = RetryState::default()
            .decide(t, Regions::WriteRegion, &answered(503, 0), 1, "a", BUDGET)
            .unwrap();
        assert_eq!(step.reread, None);
    }

    #[test]
    fn the_budget_bounds_retries_and_waiting() {
        let mut s = RetryState::default();
        let budget = Budget {
            max_retries: 2,
            max_retry_wait: Duration::from_secs(30),
        };
        let a = answered(449, 0);
        for _ in 0..2 {
            let step = s
                .decide(
                    RetryReason::Throttled,
                    Regions::WriteRegion,
                    &a,
                    1,
                    "r",
                    budget,
                )
                .unwrap();
            assert!(!step.give_up);
            s.paused(step.wait, RetryReason::Throttled);
        }
        let step = s
            .decide(
                RetryReason::Throttled,
                Regions::WriteRegion,
                &a,
                1,
                "r",
                budget,
            )
            .unwrap();
        assert!(step.give_up);
        // Waiting: a wait that would pass max_retry_wait gives up at once.
        let mut s = RetryState::default();
        let budget = Budget {
            max_retries: 9,
            max_retry_wait: ms(50),
        };
        let step = s
            .decide(
                RetryReason::Transient,
                Regions::WriteRegion,
                &Attempt::Unreachable,
                1,
                "r",
                budget,
            )
            .unwrap();
        assert!(!step.give_up, "50 ms fits exactly");
        s.paused(ms(40), RetryReason::Transient);
        let step = s
            .decide(
                RetryReason::Transient,
                Regions::WriteRegion,
                &answered(503, 0),
                1,
                "r",
                budget,
            )
            .unwrap();
        assert!(step.give_up, "40 + 20 ms is over 50 ms");
    }

    #[test]
    fn only_writes_that_may_have_landed_are_in_doubt() {
        let mut s = RetryState::default();
        s.note(false, &Attempt::Unreachable);
        s.note(true, &answered(503, 0));
        s.note(true, &Attempt::Failed);
        assert!(!s.doubt);
        s.note(true, &answered(408, 0));
        assert!(s.doubt);
        let mut s = RetryState::default();
        s.note(true, &Attempt::Unreachable);
        assert!(s.doubt);
    }
}
