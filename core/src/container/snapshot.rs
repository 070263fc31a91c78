//! Snapshots of a [`SessionContainer`]: the whole container as versioned JSON text, and the
//! bounded restore of one (read by `snapshot_format` with its limits checked while parsing).

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use super::snapshot_format::{RawSnapshot, SnapshotSeed};
use super::{
    Collection, Entry, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SessionContainer, State, composite,
};
use crate::error::{ContainerError, Error, ParseError};
use crate::model::{RangeIdText, SessionToken};

impl SessionContainer {
    /// The whole container as versioned JSON text, for another process or node:
    /// `{"format":"cosmos-session-token/container","version":1,"collections":[{"rid":"…","names":["dbs/…"],"token":"0:1#5,…"}]}`
    /// (collections in RID order, names sorted, tokens as in [`resolve_all`](Self::resolve_all)).
    pub fn snapshot(&self) -> String {
        let state = self.read();
        let mut rids: Vec<&String> = state.collections.keys().collect();
        rids.sort();
        let collections = rids
            .into_iter()
            .filter_map(|rid| {
                let token = composite(&state, rid)?;
                let mut names: Vec<String> = state
                    .rid_names
                    .get(rid.as_str())
                    .cloned()
                    .unwrap_or_default();
                names.sort();
                Some(SnapshotCollection {
                    rid: rid.clone(),
                    names,
                    token: token.to_header_value(),
                })
            })
            .collect();
        let doc = Snapshot {
            format: SNAPSHOT_FORMAT.to_owned(),
            version: SNAPSHOT_VERSION,
            collections,
        };
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Merges a [`snapshot`](Self::snapshot) into this container (nothing changes if it is
    /// invalid). A name already mapped to another RID here keeps its current mapping: the live
    /// process knows best; the snapshot's tokens are still stored under their RID.
    ///
    /// Bounded: a snapshot over [`ContainerLimits`](super::ContainerLimits) (bytes, collections, names per collection,
    /// ranges per collection) is refused with `snapshot_too_large` while it is read, before the
    /// work its size would cost; a RID listed twice is `invalid_snapshot`. Everything is parsed
    /// and built outside the container's lock; the lock is then held only to swap the built
    /// state in (an empty container) or to merge it, in time linear in the snapshot.
    pub fn restore(&self, snapshot: &str) -> Result<(), Error> {
        let built = self.build_snapshot(snapshot)?;
        let mut state = self.write();
        if state.collections.is_empty() && state.name_to_rid.is_empty() {
            *state = built;
            return Ok(());
        }
        // Every merge is computed first, so a conflict leaves the container as it was.
        let mut merged = Vec::with_capacity(built.collections.len());
        for (rid, incoming) in built.collections {
            let existing = state.collections.get(&rid);
            let mut values = Vec::with_capacity(incoming.ranges.len());
            for (id, entry) in incoming.ranges {
                let current = existing.and_then(|c| c.ranges.get(&id));
                let value = self.merged_value(current, &id, entry.value.view())?;
                values.push((id, value));
            }
            merged.push((rid, values));
        }
        let now = self.next_tick();
        for (rid, values) in merged {
            self.store_merged(&mut state, &rid, values, now);
            for name in built.rid_names.get(&rid).into_iter().flatten() {
                if !state.name_to_rid.contains_key(name) {
                    state.map_name(name, &rid, self.limits.max_names_per_collection);
                }
            }
        }
        Ok(())
    }

    /// Reads and checks a snapshot into a fresh state, without touching this container.
    fn build_snapshot(&self, snapshot: &str) -> Result<State, Error> {
        let limits = &self.limits;
        if snapshot.len() > limits.max_snapshot_bytes {
            return Err(ContainerError::SnapshotTooLarge {
                what: "bytes",
                len: snapshot.len(),
                max: limits.max_snapshot_bytes,
            }
            .into());
        }
        let over = std::cell::Cell::new(None);
        let seed = SnapshotSeed {
            limits,
            over: &over,
        };
        let mut reader = serde_json::Deserializer::from_str(snapshot);
        let doc: RawSnapshot = serde::de::DeserializeSeed::deserialize(seed, &mut reader)
            .and_then(|doc| reader.end().map(|()| doc))
            .map_err(|e| match over.take() {
                Some(limit) => limit,
                None => ContainerError::InvalidSnapshot(e.to_string()),
            })?;
        if doc.format != SNAPSHOT_FORMAT || doc.version != SNAPSHOT_VERSION {
            return Err(ContainerError::InvalidSnapshot(format!(
                "format {:?} version {} is not {SNAPSHOT_FORMAT:?} version {SNAPSHOT_VERSION}",
                doc.format, doc.version
            ))
            .into());
        }
        let mut state = State::default();
        let now = self.next_tick();
        for (i, c) in doc.collections.into_iter().enumerate() {
            if c.rid.is_empty() {
                return Err(
                    ContainerError::InvalidSnapshot(format!("collection {i}: empty rid")).into(),
                );
            }
            if state.collections.contains_key(&c.rid) {
                return Err(ContainerError::InvalidSnapshot(format!(
                    "collection {i}: rid {:?} is listed twice",
                    c.rid
                ))
                .into());
            }
            let token = SessionToken::parse(&c.token).map_err(|e: ParseError| {
                ContainerError::InvalidSnapshot(format!("collection {i} (rid {:?}): {e}", c.rid))
            })?;
            if token.len() > limits.max_ranges_per_collection {
                return Err(ContainerError::SnapshotTooLarge {
                    what: "ranges in one collection",
                    len: token.len(),
                    max: limits.max_ranges_per_collection,
                }
                .into());
            }
            let collection = Collection {
                ranges: token
                    .iter()
                    .map(|seg| {
                        let entry = Entry {
                            value: seg.value.into(),
                            last_used: AtomicU64::new(now),
                        };
                        (RangeIdText::from(seg.range_id), entry)
                    })
                    .collect(),
                last_used: AtomicU64::new(now),
            };
            for name in c.names {
                // A name listed under two RIDs keeps the first, as a live mapping would.
                if !state.name_to_rid.contains_key(&name) {
                    state.map_name(&name, &c.rid, limits.max_names_per_collection);
                }
            }
            state.collections.insert(c.rid, collection);
        }
        Ok(state)
    }
}

#[derive(Serialize)]
struct Snapshot {
    format: String,
    version: u32,
    collections: Vec<SnapshotCollection>,
}

#[derive(Serialize)]
struct SnapshotCollection {
    rid: String,
    names: Vec<String>,
    token: String,
}
