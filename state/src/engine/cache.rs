//! What one process remembers between requests to save round trips; never what a fenced
//! decision rests on (the store decides those against the stored item).

use std::collections::{HashMap, HashSet};

use crate::layout::Timing;

/// Entries kept in each per-process cache before it is cleared (they only save round trips).
pub(super) const CACHE_MAX: usize = 16_384;

/// What this node remembers of a lock it acquired: the content's writers then, and the
/// content's timing when it was live. While the lock is held nobody else writes the content
/// (readers' renewals only extend it), so these stay true until the holder's own write.
#[derive(Debug, Clone)]
pub(super) struct AcquiredLock {
    pub(super) writers: Vec<u64>,
    pub(super) timing: Option<Timing>,
}

/// Small per-process memory, bounded by clearing when full. It only saves round trips: every
/// fenced decision is made by the store against the stored item.
#[derive(Default)]
pub(super) struct Caches {
    /// (partition, lock id) → what the acquisition saw.
    pub(super) acquired: HashMap<(String, u64), AcquiredLock>,
    /// Partitions last seen locked by another request: the next acquisition looks before it
    /// writes, so polling a held lock is one read.
    pub(super) locked: HashSet<String>,
    /// partition → (renewed_at, timeout) last seen.
    pub(super) renewals: HashMap<String, (f64, f64)>,
}

/// Inserts into a cache, clearing it first when full (an entry lost costs a round trip, never
/// correctness).
pub(super) fn bounded_insert<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
) {
    if map.len() >= CACHE_MAX {
        map.clear();
    }
    map.insert(key, value);
}
