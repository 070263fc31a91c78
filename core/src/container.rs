//! A thread-safe session container: per-partition tokens of many containers (collections), with
//! the SDKs' capture rule, split/merge-aware resolution, bounded memory and portable snapshots.
//!
//! * Keyed by collection resource id (RID); a name (`dbs/{db}/colls/{coll}`) maps to its RID.
//!   When a name starts mapping to another RID (the container was deleted and recreated), the old
//!   RID's tokens are dropped.
//! * [`capture`](SessionContainer::capture) follows the capture rule: 2xx, 409, 412 and 404 with
//!   a sub-status other than 1002 are captured; 404/1002 ("read session not available") and every
//!   other status (429, 410, 503, ...) are not. Captured segments are merged into the stored ones
//!   (never overwritten by an older token).
//! * [`resolve`](SessionContainer::resolve) returns what one request needs: the exact range, else
//!   the merge of its known parents relabelled with the target id, else nothing — never the whole
//!   composite (which makes headers too large on big containers).
//! * Merges use [`MergePolicy::UNION`] by default: a capture must never fail a request because two
//!   replicas listed different regions at the same version.
//! * Memory is bounded by [`ContainerLimits`]: past the limits, the least recently used range of
//!   a collection (or the least recently used collection) is forgotten. Forgetting only weakens
//!   consistency for that range until its next capture; it never sends a wrong token.
//! * The final state is the merge of every captured token whatever the interleaving of threads,
//!   as long as merge is associative for those tokens (see the `merge` module docs).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::builder::Builder;
use crate::error::{ContainerError, Error};
use crate::merge::{MergePolicy, merge_value_into};
use crate::model::{OwnedSegment, OwnedValue, RangeIdText, Segment, SessionToken};

mod snapshot;
mod snapshot_format;

/// The sub-status of a 404 that means "the read session is not available for the input token".
pub const READ_SESSION_NOT_AVAILABLE: u32 = 1002;

/// Snapshot format identifier and version (a contract: bump the version on any change).
pub const SNAPSHOT_FORMAT: &str = "cosmos-session-token/container";
/// Current snapshot version.
pub const SNAPSHOT_VERSION: u32 = 1;

/// True when a response with this status and sub-status carries a token worth capturing.
///
/// ```
/// use cosmos_session_token::should_capture;
/// assert!(should_capture(201, 0) && should_capture(409, 0) && should_capture(412, 0));
/// assert!(should_capture(404, 0) && !should_capture(404, 1002));
/// assert!(!should_capture(429, 3200) && !should_capture(410, 1002) && !should_capture(503, 0));
/// ```
pub fn should_capture(status: u16, sub_status: u32) -> bool {
    matches!(status, 200..=299 | 409 | 412)
        || (status == 404 && sub_status != READ_SESSION_NOT_AVAILABLE)
}

/// What a response answers. Only data-plane responses carry tokens worth keeping: the SDKs never
/// record tokens of master/metadata requests (databases, collections, offers, partition key
/// ranges, users, permissions), whose tokens belong to the master partition, not to a data range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Documents and the other resources stored in a collection's partitions.
    Data,
    /// Master/metadata resources: nothing is captured.
    Master,
}

/// REST resource types (`x-ms-...` paths) of data-plane requests.
pub(crate) const DATA_RESOURCE_TYPES: [&str; 6] = [
    "docs",
    "attachments",
    "sprocs",
    "triggers",
    "udfs",
    "conflicts",
];
/// REST resource types of master/metadata requests.
const MASTER_RESOURCE_TYPES: [&str; 9] = [
    "dbs",
    "colls",
    "offers",
    "users",
    "permissions",
    "pkranges",
    "udts",
    "clientencryptionkeys",
    "databaseaccount",
];

impl RequestKind {
    /// The kind of a REST resource type (`"docs"`, `"colls"`, `"pkranges"`, ...), strictly: an
    /// unknown type is an error rather than a guess.
    ///
    /// ```
    /// use cosmos_session_token::RequestKind;
    /// assert_eq!(RequestKind::from_resource_type("docs").unwrap(), RequestKind::Data);
    /// assert_eq!(RequestKind::from_resource_type("pkranges").unwrap(), RequestKind::Master);
    /// assert_eq!(RequestKind::from_resource_type("Docs").unwrap_err().code(), "unknown_resource_type");
    /// ```
    pub fn from_resource_type(resource_type: &str) -> Result<RequestKind, ContainerError> {
        if DATA_RESOURCE_TYPES.contains(&resource_type) {
            Ok(RequestKind::Data)
        } else if MASTER_RESOURCE_TYPES.contains(&resource_type) {
            Ok(RequestKind::Master)
        } else {
            Err(ContainerError::UnknownResourceType(
                resource_type.chars().take(64).collect(),
            ))
        }
    }
}

/// Bounds on what a container keeps, and on snapshots it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerLimits {
    /// Most collections (RIDs) kept (default 1,024).
    pub max_collections: usize,
    /// Most ranges kept per collection (default 65,536).
    pub max_ranges_per_collection: usize,
    /// Largest snapshot `restore` accepts, in bytes (default 64 MiB).
    pub max_snapshot_bytes: usize,
    /// Most names (`dbs/{db}/colls/{coll}`) kept per collection (default 16): past it, the
    /// oldest mapping is forgotten. A snapshot listing more is refused.
    pub max_names_per_collection: usize,
}

impl Default for ContainerLimits {
    fn default() -> Self {
        ContainerLimits {
            max_collections: 1024,
            max_ranges_per_collection: 65_536,
            max_snapshot_bytes: 64 << 20,
            max_names_per_collection: 16,
        }
    }
}

struct Entry {
    value: OwnedValue,
    last_used: AtomicU64,
}

#[derive(Default)]
struct Collection {
    ranges: HashMap<RangeIdText, Entry>,
    last_used: AtomicU64,
}

#[derive(Default)]
struct State {
    name_to_rid: HashMap<String, String>,
    /// The reverse of `name_to_rid` (each RID's names, oldest first), so dropping a collection
    /// costs what it drops, not a pass over every name.
    rid_names: HashMap<String, Vec<String>>,
    collections: HashMap<String, Collection>,
}

impl State {
    fn rid_of<'a>(&'a self, collection: &'a str) -> Option<&'a str> {
        match self.name_to_rid.get(collection) {
            Some(rid) => Some(rid),
            None => self
                .collections
                .contains_key(collection)
                .then_some(collection),
        }
    }

    fn drop_collection(&mut self, rid: &str) -> bool {
        for name in self.rid_names.remove(rid).unwrap_or_default() {
            self.name_to_rid.remove(&name);
        }
        self.collections.remove(rid).is_some()
    }

    /// Maps `name` to `rid` (a name's old RID loses it); past `max` names for `rid`, its oldest
    /// name is forgotten.
    fn map_name(&mut self, name: &str, rid: &str, max: usize) {
        if let Some(old) = self.name_to_rid.insert(name.to_owned(), rid.to_owned()) {
            if old == rid {
                return;
            }
            if let Some(names) = self.rid_names.get_mut(&old) {
                names.retain(|n| n != name);
            }
        }
        let names = self.rid_names.entry(rid.to_owned()).or_default();
        names.push(name.to_owned());
        if names.len() > max.max(1) {
            let oldest = names.remove(0);
            self.name_to_rid.remove(&oldest);
        }
    }
}

/// Per-partition session tokens of many collections, shared by any number of threads.
///
/// ```
/// use cosmos_session_token::SessionContainer;
/// let c = SessionContainer::new();
/// assert!(c.capture("dbs/db/colls/orders", "rid1", "0:1#100#1=20", 201, 0)?);
/// assert!(c.capture("dbs/db/colls/orders", "rid1", "1:1#7#1=3", 200, 0)?);
/// assert!(!c.capture("dbs/db/colls/orders", "rid1", "1:1#99", 404, 1002)?); // not captured
/// // Range 2 was split from range 0: it needs range 0's progress.
/// let t = c.resolve("dbs/db/colls/orders", "2", &["0"])?.unwrap();
/// assert_eq!(t.to_string(), "2:1#100#1=20");
/// assert_eq!(c.resolve_all("rid1").unwrap().to_string(), "0:1#100#1=20,1:1#7#1=3");
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
pub struct SessionContainer {
    state: RwLock<State>,
    tick: AtomicU64,
    policy: MergePolicy,
    limits: ContainerLimits,
}

impl Default for SessionContainer {
    fn default() -> Self {
        SessionContainer::new()
    }
}

impl SessionContainer {
    /// An empty container merging with [`MergePolicy::UNION`] and default limits.
    pub fn new() -> Self {
        SessionContainer::with_config(MergePolicy::UNION, ContainerLimits::default())
    }

    /// An empty container with an explicit merge policy and limits.
    pub fn with_config(policy: MergePolicy, limits: ContainerLimits) -> Self {
        SessionContainer {
            state: RwLock::new(State::default()),
            tick: AtomicU64::new(0),
            policy,
            limits,
        }
    }

    // A panic while holding the lock cannot leave a half-merged value (merges are computed
    // before they are stored), so a poisoned lock is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn next_tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records the token of a data-plane response if the capture rule allows it; returns whether
    /// it did. `collection_name` may be empty when only the RID is known. The token is parsed
    /// strictly; an empty header value means "no token" and captures nothing (as every SDK does).
    /// Same as [`capture_response`](Self::capture_response) with [`RequestKind::Data`].
    pub fn capture(
        &self,
        collection_name: &str,
        collection_rid: &str,
        response_token: &str,
        status: u16,
        sub_status: u32,
    ) -> Result<bool, Error> {
        self.capture_response(
            RequestKind::Data,
            collection_name,
            collection_rid,
            Some(response_token),
            status,
            sub_status,
        )
    }

    /// Records the token of a response: nothing for master/metadata requests, for a missing or
    /// empty header, or for a status the capture rule skips; otherwise the token is parsed
    /// strictly and merged. Returns whether a token was recorded.
    ///
    /// ```
    /// use cosmos_session_token::{RequestKind, SessionContainer};
    /// let c = SessionContainer::new();
    /// let colls = RequestKind::from_resource_type("colls")?;
    /// assert!(!c.capture_response(colls, "dbs/d/colls/c", "rid1", Some("0:1#5"), 200, 0)?);
    /// assert!(!c.capture_response(RequestKind::Data, "dbs/d/colls/c", "rid1", None, 200, 0)?);
    /// assert!(c.capture_response(RequestKind::Data, "dbs/d/colls/c", "rid1", Some("0:1#5"), 200, 0)?);
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn capture_response(
        &self,
        kind: RequestKind,
        collection_name: &str,
        collection_rid: &str,
        response_token: Option<&str>,
        status: u16,
        sub_status: u32,
    ) -> Result<bool, Error> {
        let token = match response_token {
            Some(t) if !t.is_empty() => t,
            _ => return Ok(false),
        };
        if kind == RequestKind::Master || !should_capture(status, sub_status) {
            return Ok(false);
        }
        if collection_rid.is_empty() {
            return Err(ContainerError::EmptyResourceId.into());
        }
        let token = SessionToken::parse(token)?;
        let mut state = self.write();
        self.merge_locked(&mut state, collection_name, collection_rid, &token)?;
        Ok(true)
    }

    /// Merges `token` into the collection `rid` (remapping `name`), atomically: on a merge error
    /// nothing changes.
    fn merge_locked(
        &self,
        state: &mut State,
        name: &str,
        rid: &str,
        token: &SessionToken,
    ) -> Result<(), Error> {
        let now = self.next_tick();
        if !name.is_empty() {
            match state.name_to_rid.get(name) {
                Some(old) if old != rid => {
                    let old = old.clone();
                    state.drop_collection(&old);
                    state.map_name(name, rid, self.limits.max_names_per_collection);
                }
                Some(_) => {}
                None => state.map_name(name, rid, self.limits.max_names_per_collection),
            }
        }
        // Compute every merged value first so that a conflict leaves the state untouched.
        let existing = state.collections.get(rid);
        let mut merged: Vec<(RangeIdText, OwnedValue)> = Vec::with_capacity(token.len());
        for seg in token.iter() {
            let current = existing.and_then(|c| c.ranges.get(seg.range_id()));
            merged.push((
                seg.range_id.into(),
                self.merged_value(current, seg.range_id, seg.value)?,
            ));
        }
        self.store_merged(state, rid, merged, now);
        Ok(())
    }

    /// A stored value merged with an incoming one (the incoming one alone when nothing is stored).
    fn merged_value(
        &self,
        current: Option<&Entry>,
        range_id: &str,
        incoming: crate::model::SegmentValue<'_>,
    ) -> Result<OwnedValue, Error> {
        let Some(entry) = current else {
            return Ok(incoming.into());
        };
        let mut target = OwnedSegment {
            range_id: range_id.into(),
            value: entry.value.clone(),
        };
        merge_value_into(&mut target, incoming, &self.policy)?;
        Ok(target.value)
    }

    /// Stores already merged values of collection `rid`, making room within the limits.
    fn store_merged(
        &self,
        state: &mut State,
        rid: &str,
        merged: Vec<(RangeIdText, OwnedValue)>,
        now: u64,
    ) {
        if !state.collections.contains_key(rid)
            && state.collections.len() >= self.limits.max_collections
        {
            evict_oldest_collections(state, self.limits.max_collections.max(1) - 1);
        }
        let collection = state.collections.entry(rid.to_owned()).or_default();
        collection.last_used.store(now, Ordering::Relaxed);
        for (range_id, value) in merged {
            collection.ranges.insert(
                range_id,
                Entry {
                    value,
                    last_used: AtomicU64::new(now),
                },
            );
        }
        let max = self.limits.max_ranges_per_collection.max(1);
        if collection.ranges.len() > max {
            evict_oldest_ranges(collection, max);
        }
    }

    /// [`resolve`](Self::resolve) for the item with partition key `components` (under the
    /// container's `definition`), given the container's routing map: the token to send for the
    /// range holding it, through its parents after a split or merge. A hierarchical-key prefix
    /// spans ranges: their tokens are merged (one segment per range).
    ///
    /// ```
    /// use cosmos_session_token::*;
    /// let c = SessionContainer::new();
    /// c.capture_response(RequestKind::Data, "rid1", "dbs/d/colls/c", Some("1:1#10,2:1#20"), 200, 0)?;
    /// let map = RoutingMap::parse(r#"[{"id":"1","minInclusive":"","maxExclusive":"20"},{"id":"2","minInclusive":"20","maxExclusive":"FF"}]"#)?;
    /// let key = [PartitionKeyValue::String("partitionKey".into())];   // EPK 013AEF…: range 1
    /// let t = c.resolve_for_partition_key("dbs/d/colls/c", &key, PartitionKeyDefinition::hash_v2(), &map)?;
    /// assert_eq!(t.unwrap().to_string(), "1:1#10");
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn resolve_for_partition_key(
        &self,
        collection: &str,
        components: &[crate::PartitionKeyValue],
        definition: crate::PartitionKeyDefinition,
        map: &crate::RoutingMap,
    ) -> Result<Option<SessionToken>, Error> {
        let range = crate::epk_range(components, definition)?;
        crate::routing::merged_over(map.ranges_for(&range)?, |r| {
            let parents: Vec<&str> = r.parents.iter().map(String::as_str).collect();
            self.resolve(collection, &r.id, &parents)
        })
    }

    /// The token to send for one range of `collection` (a name or a RID): the exact range, else
    /// the merge of every known parent relabelled with `range_id`, else `None`.
    pub fn resolve(
        &self,
        collection: &str,
        range_id: &str,
        parents: &[&str],
    ) -> Result<Option<SessionToken>, Error> {
        crate::scope::check_parents(parents)?;
        let state = self.read();
        let Some(c) = state
            .rid_of(collection)
            .and_then(|rid| state.collections.get(rid))
        else {
            return Ok(None);
        };
        let now = self.next_tick();
        c.last_used.store(now, Ordering::Relaxed);
        let mut segments = Builder::default();
        // Each id once (a caller may repeat parents): a set, so many parents stay linear.
        let mut seen: std::collections::HashSet<&str> =
            std::collections::HashSet::with_capacity(parents.len() + 1);
        for id in std::iter::once(range_id).chain(parents.iter().copied()) {
            if !seen.insert(id) {
                continue;
            }
            if let Some(entry) = c.ranges.get(id) {
                entry.last_used.store(now, Ordering::Relaxed);
                segments.push(Segment {
                    range_id: id,
                    value: entry.value.view(),
                });
            }
        }
        if segments.len() == 0 {
            return Ok(None);
        }
        let known = segments.finish();
        Ok(known.scope_with(range_id, parents, &self.policy)?)
    }

    /// How many ranges of `collection` (a name or a RID) are stored (0 when none): what a
    /// caller checks before building the composite, which costs a sort of every range.
    pub(crate) fn range_count(&self, collection: &str) -> usize {
        let state = self.read();
        state
            .rid_of(collection)
            .and_then(|rid| state.collections.get(rid))
            .map_or(0, |c| c.ranges.len())
    }

    /// Every stored range of `collection` as one composite token (ranges in numeric-aware id
    /// order), or `None`. Only for explicit needs: sending it wholesale makes large headers;
    /// check its [`encoded_len`](SessionToken::encoded_len).
    pub fn resolve_all(&self, collection: &str) -> Option<SessionToken> {
        let state = self.read();
        let rid = state.rid_of(collection)?;
        composite(&state, rid)
    }

    /// Forgets every token of `collection` (a name or a RID) and its name mappings; returns
    /// whether anything was stored.
    pub fn clear(&self, collection: &str) -> bool {
        let mut state = self.write();
        let Some(rid) = state.rid_of(collection).map(str::to_owned) else {
            return false;
        };
        state.drop_collection(&rid)
    }

    /// Forgets one range (e.g. one that routing says no longer exists); returns whether it was stored.
    pub fn forget_range(&self, collection: &str, range_id: &str) -> bool {
        let mut state = self.write();
        let Some(rid) = state.rid_of(collection).map(str::to_owned) else {
            return false;
        };
        state
            .collections
            .get_mut(&rid)
            .is_some_and(|c| c.ranges.remove(range_id).is_some())
    }
}

/// Every stored range of collection `rid` as one token, ranges in numeric-aware order.
fn composite(state: &State, rid: &str) -> Option<SessionToken> {
    let c = state.collections.get(rid)?;
    let mut ranges: Vec<(&RangeIdText, &Entry)> = c.ranges.iter().collect();
    ranges.sort_by(|a, b| crate::range_id::order(a.0, b.0));
    let regions = ranges
        .iter()
        .map(|(_, e)| e.value.view().regions().len())
        .sum();
    let ids = ranges.iter().map(|(id, _)| id.len()).sum();
    let mut segments = Builder::with_shape((ranges.len(), regions, ids));
    for (id, e) in ranges {
        segments.push(Segment {
            range_id: id,
            value: e.value.view(),
        });
    }
    (segments.len() > 0).then(|| segments.finish())
}

/// Forgets the least recently used collections until `keep` remain, minus a slack of 1/16 so
/// that a full container evicts once per many new collections, not on every one: the cost is
/// linear in the collections, amortised over the slack.
fn evict_oldest_collections(state: &mut State, keep: usize) {
    let keep = keep - keep / 16;
    let Some(excess) = state.collections.len().checked_sub(keep).filter(|&n| n > 0) else {
        return;
    };
    let mut by_age: Vec<(u64, String)> = state
        .collections
        .iter()
        .map(|(rid, c)| (c.last_used.load(Ordering::Relaxed), rid.clone()))
        .collect();
    by_age.select_nth_unstable(excess - 1);
    for (_, rid) in by_age.into_iter().take(excess) {
        state.drop_collection(&rid);
    }
}

/// Forgets a collection's least recently used ranges until at most `max - max/16` remain (the
/// same amortising slack as for collections).
fn evict_oldest_ranges(collection: &mut Collection, max: usize) {
    let keep = max - max / 16;
    let Some(excess) = collection.ranges.len().checked_sub(keep).filter(|&n| n > 0) else {
        return;
    };
    let mut by_age: Vec<(u64, RangeIdText)> = collection
        .ranges
        .iter()
        .map(|(id, e)| (e.last_used.load(Ordering::Relaxed), id.clone()))
        .collect();
    by_age.select_nth_unstable(excess - 1);
    for (_, id) in by_age.into_iter().take(excess) {
        collection.ranges.remove(&id);
    }
}
