//! Sending one operation's requests: routed by the account's regions, each attempt classified
//! and the next step decided by the retry policy (`retry_policy.rs`), whose decisions this
//! carries out (waits, region changes, account reads, token renewal), traced and counted.

use std::time::{Duration, Instant};

use super::response::{Response, excerpt, retry_after_ms};
use super::retry_policy::{Attempt, Budget, Reread, RetryReason, RetryState, Stop};
use super::telemetry::{RequestEvent, bump};
use super::{Auth, CosmosStore, Regions};
use crate::error::{Result, StateError};

impl CosmosStore {
    /// Sends one request: routed by `route`, retried within the budgets of
    /// [`CosmosOptions`](super::CosmosOptions) (`max_retries` retries, `max_retry_wait` of
    /// waiting, `operation_timeout` in all). `link` is the URL path and, unless `sign_link` is
    /// given, the signed resource link.
    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    pub(super) fn send(
        &self,
        route: Regions,
        method: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let deadline = Instant::now() + self.options.operation_timeout;
        self.send_within(
            deadline,
            route,
            method,
            link,
            resource_type,
            sign_link,
            headers,
            body,
        )
    }

    /// [`send`](Self::send) within `deadline` (an operation of several requests, such as paging,
    /// shares one).
    #[allow(clippy::too_many_arguments)] // one HTTP request's parts
    pub(super) fn send_within(
        &self,
        deadline: Instant,
        route: Regions,
        method: &str,
        link: &str,
        resource_type: &str,
        sign_link: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let started = Instant::now();
        self.refresh_topology(None, deadline)?;
        let (mut plan, mut generation) = {
            let t = self.topology();
            let plan = match route {
                Regions::ReadPlan => t.read_plan(started),
                Regions::WriteRegion => vec![t.write_region()],
            };
            (plan, t.generation)
        };
        let budget = Budget {
            max_retries: self.options.max_retries,
            max_retry_wait: self.options.max_retry_wait,
        };
        let mut retry = RetryState::default();
        loop {
            let region = plan[retry.region_index(plan.len())].clone();
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.out_of_time(method, link, retry.retries, retry.doubt));
            }
            bump(&self.counters.requests);
            let sent = Instant::now();
            let result = self
                .send_once(
                    method,
                    &region.endpoint,
                    link,
                    resource_type,
                    sign_link,
                    headers,
                    body,
                    remaining.min(self.options.request_timeout),
                )
                .map(|mut response| {
                    // Whether an earlier attempt may have landed, not this one.
                    response.in_doubt = retry.doubt;
                    response
                });
            let attempt = attempt_of(&result);
            retry.note(method != "GET", &attempt);
            let reason = retry.classify(route, &attempt, self.is_entra());
            self.report(&RequestEvent {
                method,
                resource_type,
                region: region.label(),
                status: result.as_ref().map_or(0, |r| r.status),
                substatus: result.as_ref().map_or(0, |r| r.substatus),
                request_charge: result.as_ref().map_or(0.0, |r| r.charge),
                duration: sent.elapsed(),
                attempt: retry.retries,
                retry: reason.map(RetryReason::as_str),
                error: result.as_ref().err().map(|e| e.code().name()),
            });
            let Some(reason) = reason else {
                return final_response(method, link, retry.doubt, result);
            };
            bump(match reason {
                RetryReason::Throttled => &self.counters.throttled,
                RetryReason::ReadSessionUnavailable => &self.counters.read_session_unavailable,
                RetryReason::WriteForbidden => &self.counters.write_forbidden,
                RetryReason::Transient => &self.counters.transient,
                RetryReason::Unauthorized => &self.counters.unauthorized,
            });
            let step = match retry.decide(
                reason,
                route,
                &attempt,
                plan.len(),
                region.label(),
                budget,
            ) {
                Ok(step) => step,
                Err(Stop::NoRegionCaughtUp(regions)) => {
                    return Err(StateError::Unavailable(format!(
                        "{method} {link}: read session not available (404/1002) in {regions}: no region has reached the presented session token (it was kept, not dropped)"
                    )));
                }
                Err(Stop::StillWriteForbidden) => {
                    return Err(StateError::Unavailable(format!(
                        "{method} {link}: {} refuses writes (403/3) after the account was read again: a failover is in progress",
                        region.label()
                    )));
                }
            };
            if step.mark_failed {
                self.topology()
                    .mark_failed(&region.endpoint, Instant::now());
            }
            if step.next_region {
                bump(&self.counters.region_failovers);
            }
            if let Some(reread) = step.reread {
                // Rate-limited by the topology: a storm of failures reads the account once.
                self.refresh_topology(Some(generation), deadline)?;
                let t = self.topology();
                let write = t.write_region();
                if reread == Reread::AfterLostConnection && write != plan[0] {
                    bump(&self.counters.region_failovers);
                }
                plan = vec![write];
                generation = t.generation;
            }
            if step.renew_token {
                if let Auth::Entra { credential, .. } = &self.auth {
                    credential.invalidate();
                }
            }
            // Up to a quarter more, so clients throttled together do not retry together.
            let jitter =
                Duration::from_millis(fastrand::u64(0..=step.wait.as_millis() as u64 / 4 + 1));
            if step.give_up {
                return Err(self.gave_up(method, link, retry.retries, retry.doubt, result));
            }
            let pause =
                (step.wait + jitter).min(deadline.saturating_duration_since(Instant::now()));
            std::thread::sleep(pause);
            retry.paused(pause, reason);
            bump(&self.counters.retries);
        }
    }

    /// Traces a request (target `cosmos_session_state::store`) and shows it to the observer.
    fn report(&self, event: &RequestEvent<'_>) {
        tracing::debug!(
            target: "cosmos_session_state::store",
            method = event.method,
            resource_type = event.resource_type,
            region = event.region,
            status = event.status,
            substatus = event.substatus,
            charge = event.request_charge,
            duration_ms = event.duration.as_millis() as u64,
            attempt = event.attempt,
            retry = event.retry.unwrap_or(""),
            "cosmos request"
        );
        if let Some(observe) = &self.observer {
            observe(event);
        }
    }

    fn out_of_time(&self, method: &str, link: &str, attempt: u32, doubt: bool) -> StateError {
        let also = if doubt {
            "; an earlier attempt may have been applied"
        } else {
            ""
        };
        StateError::Unavailable(format!(
            "{method} {link}: no answer within the operation timeout of {} s ({attempt} retries){also}",
            self.options.operation_timeout.as_secs_f64()
        ))
    }

    fn gave_up(
        &self,
        method: &str,
        link: &str,
        attempt: u32,
        doubt: bool,
        result: Result<Response>,
    ) -> StateError {
        if doubt {
            // An earlier attempt may have been applied: the caller must look, whatever the last
            // answer was.
            return StateError::Unavailable(format!(
                "{method} {link}: gave up after {attempt} retries; an earlier attempt may have been applied"
            ));
        }
        match result {
            Ok(answer) if answer.status == 429 || answer.status == 449 => {
                StateError::Throttled(format!(
                    "{method} {link}: status {} after {} retries",
                    answer.status, attempt
                ))
            }
            Ok(answer) => StateError::Unavailable(format!(
                "{method} {link}: status {} after {} retries: {}",
                answer.status,
                attempt,
                excerpt(&answer.body)
            )),
            Err(e) => e,
        }
    }
}

/// What the retry policy needs to know of an attempt's result.
fn attempt_of(result: &Result<Response>) -> Attempt {
    match result {
        Ok(response) => Attempt::Answered {
            status: response.status,
            substatus: response.substatus,
            retry_after_ms: if response.status == 429 {
                retry_after_ms(response)
            } else {
                None
            },
        },
        Err(StateError::Unavailable(_)) => Attempt::Unreachable,
        Err(_) => Attempt::Failed,
    }
}

/// The last answer of a request, or "unknown" when an earlier attempt may have been applied and
/// this answer does not say what happened to it: a 2xx, 404, 409 or 412 is an answer about the
/// item (the engine reads what landed), any other status (a 500, 400, 401, 403 …) says nothing
/// about the earlier attempt, so the request is reported as lost ([`StateError::Unavailable`],
/// which the engine resolves by looking), never as a definite failure of a write that landed.
fn final_response(
    method: &str,
    link: &str,
    doubt: bool,
    result: Result<Response>,
) -> Result<Response> {
    match result {
        Ok(r) if doubt && !matches!(r.status, 200..=299 | 404 | 409 | 412) => {
            Err(StateError::Unavailable(format!(
                "{method} {link}: status {} after an earlier attempt that may have been applied: {}",
                r.status,
                excerpt(&r.body)
            )))
        }
        other => other,
    }
}
