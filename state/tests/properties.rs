//! Laws of the engine over random schedules: several clients (web nodes) and a moving clock on the
//! in-memory store; and the token-flow guarantee on the replica model.

use std::sync::Arc;

use cosmos_session_state::{ManualClock, MemoryStore, Options, SessionStateStore, StateError};
use proptest::prelude::*;

const TIMEOUT: f64 = 100.0;
const LOCK_TTL: f64 = 10.0;

#[derive(Debug, Clone)]
enum Step {
    /// Client acquires (get_exclusive).
    Acquire(usize),
    /// Client writes a fresh value and releases, if it believes it holds a lock.
    Write(usize),
    /// Client releases without writing.
    Release(usize),
    /// Client reads without locking.
    Read(usize),
    /// Client resets the timeout (ASP.NET calls it after every request).
    Reset(usize),
    /// Time passes (seconds).
    Advance(f64),
}

fn step(clients: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..clients).prop_map(Step::Acquire),
        3 => (0..clients).prop_map(Step::Write),
        1 => (0..clients).prop_map(Step::Release),
        2 => (0..clients).prop_map(Step::Read),
        1 => (0..clients).prop_map(Step::Reset),
        2 => prop_oneof![0.0..2.0, 2.0..15.0, 15.0..60.0, 60.0..130.0].prop_map(Step::Advance),
    ]
}

/// The model: what was acknowledged and when the session was last accessed.
#[derive(Default)]
struct Model {
    /// The last acknowledged write.
    committed: Option<Vec<u8>>,
    /// When the session was last read or written with its content present.
    last_access: f64,
    /// A later access the model cannot be sure of (a release when the session may have just
    /// expired: the engine renews it only if it had not).
    maybe_access: f64,
    /// Each client's lock: (lock id, acquired at).
    held: Vec<Option<(u64, f64)>>,
    next_value: u64,
}

impl Model {
    /// Whether the model still knows the session as alive (not past the longest lifetime).
    fn check_read(&self, now: f64, got: Option<&[u8]>, what: &str) -> Result<(), TestCaseError> {
        let age = now - self.last_access;
        match (&self.committed, got) {
            (Some(c), Some(g)) => {
                prop_assert_eq!(c.as_slice(), g, "{}: a read returned another value", what)
            }
            (Some(_), None) => prop_assert!(
                age >= 0.75 * TIMEOUT - 1e-9,
                "{}: expired {} s after the last access (< 75 % of {})",
                what,
                age,
                TIMEOUT
            ),
            (None, Some(g)) => {
                prop_assert!(false, "{}: read {:?} but nothing was acknowledged", what, g)
            }
            (None, None) => {}
        }
        if got.is_some() {
            let age = now - self.last_access.max(self.maybe_access);
            prop_assert!(
                age <= TIMEOUT + 1e-9,
                "{}: alive {} s after the last access (> {})",
                what,
                age,
                TIMEOUT
            );
        }
        Ok(())
    }
}

fn run(steps: Vec<Step>, clients: usize) -> Result<(), TestCaseError> {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(1_000_000.0));
    let options = Options {
        lock_ttl: LOCK_TTL,
        timeout: TIMEOUT,
        compression: true,
        renew_fraction: 0.25,
    };
    let nodes: Vec<SessionStateStore> = (0..clients)
        .map(|_| SessionStateStore::with_clock(store.clone(), clock.clone(), options).unwrap())
        .collect();
    let mut m = Model {
        held: vec![None; clients],
        ..Model::default()
    };
    for s in steps {
        let now = clock.now_value();
        match s {
            Step::Advance(dt) => clock.advance(dt),
            Step::Acquire(c) => {
                let ex = nodes[c]
                    .get_exclusive("s")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                if ex.locked {
                    // Someone holds a live lock: the model must agree that some lock is live.
                    let live = m
                        .held
                        .iter()
                        .flatten()
                        .any(|(id, at)| *id == ex.lock_id && now - at < LOCK_TTL);
                    prop_assert!(
                        live,
                        "reported locked by {} but no live holder in the model",
                        ex.lock_id
                    );
                    prop_assert!(
                        (ex.lock_age
                            - (now
                                - m.held
                                    .iter()
                                    .flatten()
                                    .find(|(id, _)| *id == ex.lock_id)
                                    .unwrap()
                                    .1))
                            .abs()
                            < 1e-6
                    );
                } else {
                    // Never two holders of a live lock.
                    for (other, lock) in m.held.iter().enumerate() {
                        if let Some((_, at)) = lock {
                            prop_assert!(
                                other == c || now - at >= LOCK_TTL - 1e-9,
                                "client {} acquired while client {} held a live lock",
                                c,
                                other
                            );
                        }
                    }
                    let got = ex.content.as_ref().map(|x| x.data.as_slice());
                    m.check_read(now, got, "acquire")?;
                    // An exclusive request's access counts when it finishes (its write or
                    // release renews): a holder that never comes back does not extend the
                    // session.
                    if got.is_none() {
                        m.committed = None;
                    }
                    for lock in m.held.iter_mut() {
                        if lock.is_some_and(|(_, at)| now - at >= LOCK_TTL - 1e-9) {
                            *lock = None; // expired locks were taken over
                        }
                    }
                    m.held[c] = Some((ex.lock_id, now));
                }
            }
            Step::Write(c) => {
                let Some((lock_id, at)) = m.held[c] else {
                    continue;
                };
                m.next_value += 1;
                let value = m.next_value.to_string().into_bytes();
                match nodes[c].set_and_release("s", &value, lock_id, true, None) {
                    Ok(()) => {
                        m.committed = Some(value);
                        m.last_access = now;
                    }
                    Err(StateError::LockLost { .. }) => {
                        prop_assert!(now - at >= LOCK_TTL - 1e-9, "a live lock was reported lost");
                    }
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
                m.held[c] = None;
            }
            Step::Release(c) => {
                let Some((lock_id, _)) = m.held[c].take() else {
                    continue;
                };
                let released = nodes[c]
                    .release("s", lock_id)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(released, "the model's holder could not release");
                // The release renews live content when due.
                let age = now - m.last_access;
                if m.committed.is_some() && age < 0.75 * TIMEOUT {
                    m.last_access = now;
                } else if m.committed.is_some() && age <= TIMEOUT {
                    m.maybe_access = now;
                }
            }
            Step::Read(c) => {
                let got = nodes[c]
                    .get("s")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                m.check_read(now, got.as_ref().map(|x| x.data.as_slice()), "read")?;
                if got.is_some() {
                    m.last_access = now;
                } else if m.committed.is_some() {
                    m.committed = None; // expired: gone for good
                }
            }
            Step::Reset(c) => {
                let surely_alive = m.committed.is_some() && now - m.last_access < 0.75 * TIMEOUT;
                let renewed = nodes[c]
                    .reset_timeout("s")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                // A renewal proves the session was alive; so does an age below 75 %.
                if renewed || surely_alive {
                    prop_assert!(
                        m.committed.is_some(),
                        "renewed a session that was never written"
                    );
                    m.last_access = now;
                }
            }
        }
    }
    Ok(())
}

trait NowValue {
    fn now_value(&self) -> f64;
}

impl NowValue for ManualClock {
    fn now_value(&self) -> f64 {
        cosmos_session_state::Clock::now(self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Never two holders of a live lock; never a lost acknowledged write; expiry within [75 %,
    /// 100 %] of the timeout after the last access; true lock ages.
    #[test]
    fn interleavings_keep_the_laws(steps in proptest::collection::vec(step(3), 1..60)) {
        run(steps, 3)?;
    }
}

/// The token-flow guarantee, on the replica model: a reader on another node that presents the
/// writer's token never reads stale content; without it, it sometimes does.
#[test]
fn flowed_tokens_make_reads_current_on_lagging_replicas() {
    let schedules = 10_000;
    let mut stale_without = 0;
    for seed in 0..schedules {
        let store = Arc::new(MemoryStore::with_replicas(seed, 3));
        let clock = Arc::new(ManualClock::new(1_000_000.0));
        let node = || {
            SessionStateStore::with_clock(store.clone(), clock.clone(), Options::default()).unwrap()
        };
        let (writer, with_token, without_token) = (node(), node(), node());
        let mut rng = fastrand_like(seed);
        let writes = 1 + rng.next() % 4;
        for i in 0..writes {
            let ex = writer.get_exclusive("s").unwrap();
            assert!(
                !ex.locked,
                "seed {seed}: the only writer found the session locked"
            );
            let value = format!("v{i}").into_bytes();
            writer
                .set_and_release("s", &value, ex.lock_id, i == 0, None)
                .unwrap();
            // The writer's token travels (cookie, message) to the other node before its read.
            let token = writer
                .token("s")
                .unwrap()
                .expect("the writer gathered a token");
            with_token.present_token("s", &token).unwrap();
            let got = with_token.get("s").unwrap().map(|c| c.data);
            assert_eq!(
                got.as_deref(),
                Some(value.as_slice()),
                "seed {seed}: stale read with the token"
            );
            if without_token.get("s").unwrap().map(|c| c.data).as_deref() != Some(value.as_slice())
            {
                stale_without += 1;
            }
        }
    }
    assert!(
        stale_without > 0,
        "the replica model never served a stale read: it proves nothing"
    );
    eprintln!("{schedules} schedules: {stale_without} stale reads without the token, 0 with it");
}

/// A tiny deterministic generator (the schedule shape only; the replica lag has its own).
struct Lcg(u64);
fn fastrand_like(seed: u64) -> Lcg {
    Lcg(seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407))
}
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
