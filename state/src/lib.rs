//! Session state on Azure Cosmos DB: one lock/expiry/compression engine (what an ASP.NET
//! session-state provider, a Django session engine or a Flask session interface needs), correct
//! where the existing providers are not, and cheaper.
//!
//! * [`SessionStateStore`] — the engine: `get` (read-only, never waits for a lock),
//!   `get_exclusive` (lock + read), `set_and_release` (a fenced write: a lost lock is reported,
//!   nothing written), `release`, `create_uninitialized`, `remove`, `reset_timeout`, and token
//!   flow (`token`, `present_token`). The rules are in the [`engine`] module.
//! * [`Store`] — what the engine needs of a database: a point read, a create and a conditional
//!   patch of one item in one logical partition. [`MemoryStore`] (deterministic, with a replica
//!   model for Session consistency) and [`CosmosStore`] (the Cosmos DB REST API over HTTPS)
//!   implement it. The stored item is described in [`layout`].
//!
//! ```
//! use cosmos_session_state::{ManualClock, MemoryStore, Options, SessionStateStore};
//! let options = Options { timeout: 60.0, ..Options::default() };
//! let store = SessionStateStore::with_clock(MemoryStore::new(), ManualClock::new(0.0), options)?;
//! let ex = store.get_exclusive("user-42")?;
//! store.set_and_release("user-42", b"cart=3", ex.lock_id, true, None)?;
//! assert_eq!(store.get("user-42")?.unwrap().data, b"cart=3");
//! # Ok::<(), cosmos_session_state::StateError>(())
//! ```

#![deny(missing_docs)]

mod clock;
mod codec;
pub mod cosmos;
pub mod engine;
mod error;
mod ids;
pub mod layout;
mod memory;
mod settings;
mod store;
mod unlocked;
mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cosmos::{
    Authentication, ConnectionString, Consistency, CosmosOptions, CosmosStore, Counters, Observer,
    RequestEvent, master_key_signature,
};
pub use engine::{
    Content, Exclusive, MAX_CONTENT_BYTES, MAX_ITEM_BYTES, MAX_LOCK_ID, Options, SessionInfo,
    SessionStateStore, StateStats,
};
pub use error::{Result, StateError, session_fingerprint};
pub use ids::{MAX_SESSION_ID_BYTES, check_session_id, encode_session_id};
pub use memory::{MemoryStore, Stats};
pub use settings::{
    MAX_REQUEST_TIMEOUT_SECONDS, MAX_RETRIES, OPTIONS, OptionSpec, OptionType, Settings,
    option_spec,
};
pub use store::{
    Item, MAX_PATCH_OPS, Outcome, Patch, PatchOp, Predicate, Reply, Store, StoreStats,
};
pub use unlocked::{DEFAULT_LOCK_WAIT, MAX_LOCK_WAIT_SECONDS, SaveMode, lock_wait};
pub use web::{TokenCookie, cookie_policy};
