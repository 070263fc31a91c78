//! [`SessionFlow`]: read-your-writes carried by the HTTP traffic of the SDK an application
//! already uses (request classification in `wire`, routing knowledge in `routes`, snapshots in
//! `snapshot`).

mod cookie;
mod message;
mod routes;
mod session;
mod snapshot;
mod summary;
mod wire;

pub use cookie::{
    CookieFlow, CookieVerdict, FLOW_COOKIE_NAME, FlowCookieStats, FlowCookies, SealedCookie,
};
pub use message::{MESSAGE_FLOW_BUDGET, seal_flow, unseal_flow};
pub use routes::{MAX_FLOW_COLLECTIONS, MAX_LEARN_BYTES, MAX_SNAPSHOT_RANGES};
pub use session::{COMPOSITE_BUDGET, FlowStats, Outgoing, SessionFlow};
pub use snapshot::{FLOW_SNAPSHOT_FORMAT, FLOW_SNAPSHOT_VERSION, MAX_FLOW_SNAPSHOT_BYTES};
pub use summary::{CollectionSummary, FlowSummary};
pub use wire::{FLOW_REQUEST_HEADERS, FLOW_RESPONSE_HEADERS};

#[cfg(test)]
mod tests;
