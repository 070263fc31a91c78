//! [`SessionFlow`] itself: the per-request steps (before a request, after a response), its
//! counters and what it shares between the flows of one node's users. Snapshots, cookies, sealed
//! messages and summaries add to it from their own modules.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::routes::{self, MAX_LEARN_BYTES};
use super::wire::{self, Resource, header};
use crate::builder::Builder;
use crate::container::{RequestKind, SessionContainer};
use crate::feed_range::FeedRange;
use crate::merge::MergePolicy;
use crate::model::SessionToken;
use crate::partition_key::{PartitionKeyValue, epk_range};
use crate::routing::PartitionKeyRange;

/// Largest composite token sent when the range a request goes to is not known (no routing
/// knowledge yet): a small header is harmless; a large one is what makes gateways answer 431.
pub const COMPOSITE_BUDGET: usize = 1024;

/// What to do with a request's `x-ms-session-token` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Leave the header as the SDK set it (or unset).
    Leave,
    /// Set the header to this token.
    Set(String),
}

/// What a flow has done, for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlowStats {
    /// Requests seen before sending.
    pub requests: u64,
    /// Requests whose token the flow set, scoped to the ranges they go to.
    pub scoped: u64,
    /// Requests sent the collection's composite (no routing knowledge, within the budget).
    pub composite: u64,
    /// Requests left to the SDK: nothing known, over the budget, or not data.
    pub left: u64,
    /// Requests and responses the flow stepped aside for: a malformed token, partition key or
    /// body from the wire.
    pub stepped_aside: u64,
    /// Responses whose token was captured.
    pub captured: u64,
    /// Partition-key definitions learned from `GET …/colls/{coll}`.
    pub definitions_learned: u64,
    /// Routing maps learned from `GET …/pkranges`.
    pub maps_learned: u64,
    /// Routing maps forgotten after a 410 (a split or merge).
    pub maps_forgotten: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    scoped: AtomicU64,
    composite: AtomicU64,
    left: AtomicU64,
    stepped_aside: AtomicU64,
    captured: AtomicU64,
    definitions_learned: AtomicU64,
    maps_learned: AtomicU64,
    maps_forgotten: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Read-your-writes carried by the HTTP traffic of the SDK an application already uses. It sits at the level of the Cosmos DB REST protocol (gateway mode), so it serves
/// any SDK whose requests can be hooked (azure-cosmos's `raw_request_hook`/`raw_response_hook`,
/// a .NET `DelegatingHandler`, @azure/cosmos plugins) and any host that speaks REST itself.
///
/// * **Before a request** ([`SessionFlow::before_request`]): for data in a collection, the token
///   to send is the merge of the SDK's own header and the flow's progress, **scoped** to the
///   range the request goes to — the one range a partition key maps to (its parents' progress
///   after a split), the range a feed request names, the ranges an EPK range overlaps. Nothing
///   is changed for account and metadata requests, nor for writes on a multi-write account.
///   Without routing knowledge the collection's composite is sent only while it fits
///   [`COMPOSITE_BUDGET`]; past it the SDK's own header stays.
/// * **After a response** ([`SessionFlow::after_response`]): the token is captured by the SDKs'
///   rules (status and sub-status, data requests only, a recreated collection's new RID), and the
///   collection's partition-key definition and routing map are learned from the SDK's own
///   `GET …/colls/{coll}` and `GET …/pkranges`; a 410 forgets the map until it is read again.
/// * **Never in the way**: a malformed token, partition key or body from the wire makes the flow
///   step aside (the SDK's own header stays) and is counted ([`FlowStats::stepped_aside`]).
/// * [`snapshot`](SessionFlow::snapshot)/[`restore`](SessionFlow::restore): compact, versioned,
///   bounded JSON with the progress and each collection's definition and ranges, so a fresh
///   process (another web node, a queue consumer) scopes from its first request; a restore merges.
///
/// ```
/// use cosmos_session_token::{Outgoing, SessionFlow};
/// let writer = SessionFlow::new();
/// let coll = "/dbs/d/colls/c";
/// writer.after_response("GET", coll, 200, &[], Some(br#"{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#));
/// writer.after_response("GET", "/dbs/d/colls/c/pkranges", 200, &[], Some(br#"{"PartitionKeyRanges":[
///     {"id":"1","minInclusive":"","maxExclusive":"7F"},{"id":"2","minInclusive":"7F","maxExclusive":"FF"}]}"#));
/// // A write to partition "a" answered with range 2's token (and range 1's, as a composite).
/// let pk = [("x-ms-documentdb-partitionkey", r#"["a"]"#)];
/// writer.after_response("POST", "/dbs/d/colls/c/docs", 201,
///     &[("x-ms-session-token", "1:0#5#0=5,2:0#9#0=9"), ("x-ms-content-path", "rid")], None);
/// // Another process reads "a": it presents that one range's segment, nothing else.
/// let reader = SessionFlow::restore(&writer.snapshot())?;
/// match reader.before_request("GET", "/dbs/d/colls/c/docs/x", &pk) {
///     Outgoing::Set(t) => assert!(t == "1:0#5#0=5" || t == "2:0#9#0=9"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
///
/// Thread-safe; one flow per user (a web session) or per process, carried across processes by
/// [`snapshot`](Self::snapshot) and [`restore`](Self::restore).
pub struct SessionFlow {
    pub(super) tokens: SessionContainer,
    // Routing knowledge and counters are per node: the flows of one node's users
    // ([`SessionFlow::for_user`]) share them, so a map learned from one user's traffic scopes
    // every user's requests and a cookie carries only its user's progress.
    routes: Arc<RwLock<routes::Routes>>,
    pub(super) multi_write: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl Default for SessionFlow {
    fn default() -> Self {
        SessionFlow::new()
    }
}

impl std::fmt::Debug for SessionFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFlow")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl SessionFlow {
    /// An empty flow.
    pub fn new() -> SessionFlow {
        SessionFlow {
            tokens: SessionContainer::new(),
            routes: Arc::default(),
            multi_write: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// An empty flow for one user of this node: its own progress, this flow's routing knowledge
    /// (what either learns, both know) and counters ([`stats`](Self::stats) are the node's).
    /// A web node keeps one flow for its knowledge and opens one of these per request from the
    /// user's cookie ([`FlowCookies`](crate::FlowCookies)), so the cookie carries only progress.
    ///
    /// ```
    /// use cosmos_session_token::SessionFlow;
    /// let node = SessionFlow::new();
    /// let alice = node.for_user();
    /// alice.after_response("GET", "/dbs/d/colls/c", 200, &[], Some(br#"{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}"#));
    /// assert_eq!(node.stats().definitions_learned, 1);
    /// assert!(node.for_user().snapshot().contains("dbs/d/colls/c"));
    /// ```
    pub fn for_user(&self) -> SessionFlow {
        SessionFlow {
            tokens: SessionContainer::new(),
            routes: Arc::clone(&self.routes),
            multi_write: Arc::clone(&self.multi_write),
            counters: Arc::clone(&self.counters),
        }
    }

    pub(super) fn routes(&self) -> std::sync::RwLockReadGuard<'_, routes::Routes> {
        self.routes.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn routes_mut(&self) -> std::sync::RwLockWriteGuard<'_, routes::Routes> {
        self.routes.write().unwrap_or_else(|e| e.into_inner())
    }

    /// What this flow has done so far.
    pub fn stats(&self) -> FlowStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FlowStats {
            requests: get(&c.requests),
            scoped: get(&c.scoped),
            composite: get(&c.composite),
            left: get(&c.left),
            stepped_aside: get(&c.stepped_aside),
            captured: get(&c.captured),
            definitions_learned: get(&c.definitions_learned),
            maps_learned: get(&c.maps_learned),
            maps_forgotten: get(&c.maps_forgotten),
        }
    }

    /// The session container holding the flow's progress (read it, or capture into it directly
    /// for hosts without an HTTP pipeline).
    pub fn container(&self) -> &SessionContainer {
        &self.tokens
    }

    /// The token to send with a request (`method`, its URL path or whole URL, and its headers
    /// as `(name, value)` pairs, names in any case). See [`SessionFlow`].
    pub fn before_request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Outgoing {
        bump(&self.counters.requests);
        let Resource::Data(collection) = wire::resource(path) else {
            return self.leave();
        };
        if wire::is_write(method, headers) && self.multi_write.load(Ordering::Relaxed) {
            return self.leave();
        }
        let sdk = match wire::find(headers, header::SESSION_TOKEN).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => match SessionToken::parse(text) {
                Ok(t) => Some(t),
                Err(_) => return self.step_aside(),
            },
        };
        let targets = match self.targets(&collection, headers) {
            Ok(targets) => targets,
            Err(()) => return self.step_aside(),
        };
        let Some(targets) = targets else {
            return self.composite(&collection, sdk.as_ref());
        };
        let mut out = Builder::default();
        for range in &targets {
            let parents: Vec<&str> = range.parents.iter().map(String::as_str).collect();
            let mine = self
                .tokens
                .resolve(&collection, &range.id, &parents)
                .ok()
                .flatten();
            let theirs = sdk
                .as_ref()
                .and_then(|t| t.scope_with(&range.id, &parents, &MergePolicy::UNION).ok())
                .flatten();
            let merged = match (mine, theirs) {
                (Some(a), Some(b)) => a.merge_with(&b, &MergePolicy::UNION).ok(),
                (a, b) => a.or(b),
            };
            if let Some(t) = merged {
                for seg in &t {
                    out.push(seg);
                }
            }
        }
        if out.len() == 0 {
            return self.leave();
        }
        bump(&self.counters.scoped);
        Outgoing::Set(out.finish().to_string())
    }

    fn leave(&self) -> Outgoing {
        bump(&self.counters.left);
        Outgoing::Leave
    }

    fn step_aside(&self) -> Outgoing {
        bump(&self.counters.stepped_aside);
        Outgoing::Leave
    }

    /// Without routing knowledge: the collection's composite merged with the SDK's token, while
    /// it fits [`COMPOSITE_BUDGET`].
    fn composite(&self, collection: &str, sdk: Option<&SessionToken>) -> Outgoing {
        // Every segment renders in at least 4 bytes ("r:n,"): too many ranges cannot fit, and
        // building their composite on every request would cost a sort of them all.
        if self.tokens.range_count(collection) * 4 > COMPOSITE_BUDGET {
            return self.leave();
        }
        let Some(mine) = self.tokens.resolve_all(collection) else {
            return self.leave();
        };
        let merged = match sdk {
            Some(t) => match mine.merge_with(t, &MergePolicy::UNION) {
                Ok(m) => m,
                Err(_) => return self.step_aside(),
            },
            None => mine,
        };
        if merged.encoded_len() > COMPOSITE_BUDGET {
            return self.leave();
        }
        bump(&self.counters.composite);
        Outgoing::Set(merged.to_string())
    }

    /// The ranges a data request goes to: `Ok(None)` when they cannot be told (no routing
    /// knowledge, or a request over the whole collection), `Err` for malformed input.
    fn targets(
        &self,
        collection: &str,
        headers: &[(&str, &str)],
    ) -> Result<Option<Vec<PartitionKeyRange>>, ()> {
        let routes = self.routes();
        let route = routes.get(collection);
        let map = route.and_then(|r| r.map.clone());
        if let Some(id) = wire::find(headers, header::RANGE_ID) {
            let id = id.split(',').next().unwrap_or("").trim();
            if id.is_empty() {
                return Err(());
            }
            let known = map
                .as_ref()
                .and_then(|m| m.ranges().iter().find(|r| r.id == id).cloned());
            return Ok(Some(vec![known.unwrap_or_else(|| PartitionKeyRange {
                id: id.to_owned(),
                min: String::new(),
                max: String::new(),
                parents: Vec::new(),
            })]));
        }
        let Some(map) = map else {
            return Ok(None);
        };
        if let Some(key) = wire::find(headers, header::PARTITION_KEY) {
            let Some(definition) = route.and_then(|r| r.definition) else {
                return Ok(None);
            };
            let components = PartitionKeyValue::parse_json(key).map_err(|_| ())?;
            let span = epk_range(&components, definition).map_err(|_| ())?;
            let ranges = map.ranges_for(&span).map_err(|_| ())?;
            return Ok(Some(ranges.to_vec()));
        }
        if let (Some(start), Some(end)) = (
            wire::find(headers, header::START_EPK),
            wire::find(headers, header::END_EPK),
        ) {
            let feed = FeedRange::new(start, end).map_err(|_| ())?;
            return Ok(Some(map.overlapping(&feed).to_vec()));
        }
        Ok(None)
    }

    /// Whether [`after_response`](Self::after_response) reads the body of this request's
    /// response (account, collection and partition-key-range reads): a hook reads the body only
    /// then.
    ///
    /// ```
    /// use cosmos_session_token::SessionFlow;
    /// let f = SessionFlow::new();
    /// assert!(f.wants_body("GET", "/dbs/d/colls/c/pkranges/"));
    /// assert!(!f.wants_body("GET", "/dbs/d/colls/c/docs/1"));
    /// ```
    pub fn wants_body(&self, method: &str, path: &str) -> bool {
        method.eq_ignore_ascii_case("GET")
            && matches!(
                wire::resource(path),
                Resource::Account | Resource::Collection(_) | Resource::Ranges(_)
            )
    }

    /// Takes a response: captures its token by the SDKs' rules and learns the collection's
    /// partitioning from the SDK's own metadata reads. `body` is needed only for
    /// `GET /`, `GET …/colls/{coll}` and `GET …/pkranges` (pass `None` otherwise). Never fails:
    /// malformed input is counted and ignored.
    pub fn after_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        response_headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) {
        let sub_status = wire::find(response_headers, header::SUB_STATUS)
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let get = method.eq_ignore_ascii_case("GET");
        match wire::resource(path) {
            Resource::Account if get && status == 200 => {
                if let Some(multi) = body
                    .filter(|b| b.len() <= MAX_LEARN_BYTES)
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                    .and_then(|d| d.get("enableMultipleWriteLocations")?.as_bool())
                {
                    self.multi_write.store(multi, Ordering::Relaxed);
                }
            }
            Resource::Collection(c) if get && status == 200 => {
                match body.and_then(routes::definition_of) {
                    Some(d) => {
                        self.routes_mut().set_definition(&c, d);
                        bump(&self.counters.definitions_learned);
                    }
                    None if body.is_some() => bump(&self.counters.stepped_aside),
                    None => {}
                }
            }
            Resource::Ranges(c) if get && status == 200 => {
                if let Some(map) = body.and_then(routes::map_of) {
                    self.routes_mut().set_map(&c, map);
                    bump(&self.counters.maps_learned);
                }
            }
            Resource::Data(c) => {
                if status == 410 && self.routes_mut().forget_map(&c) {
                    bump(&self.counters.maps_forgotten);
                }
                let token = wire::find(response_headers, header::SESSION_TOKEN);
                let rid = wire::find(response_headers, header::CONTENT_PATH)
                    .filter(|r| !r.is_empty())
                    .unwrap_or(&c);
                match self.tokens.capture_response(
                    RequestKind::Data,
                    &c,
                    rid,
                    token,
                    status,
                    sub_status,
                ) {
                    Ok(true) => bump(&self.counters.captured),
                    Ok(false) => {}
                    Err(_) => bump(&self.counters.stepped_aside),
                }
            }
            _ => {}
        }
    }
}
