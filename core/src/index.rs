//! Finding a segment by range id while a segment list grows, and in a finished token.
//!
//! Small lists (the common case: one to a few segments) are scanned linearly, which needs no
//! allocation. Past [`LINEAR_MAX`] entries a map from the id's hash to its position keeps parse,
//! merge and compare of tokens with thousands of segments linear instead of quadratic. The hash is
//! foldhash, seeded per process (so crafted ids cannot force collisions in advance); a collision
//! is still correct: a position whose id differs falls back to a scan.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Something found by its range id: the index knows nothing else of it (so the model can use the
/// index without the index depending on the model).
pub(crate) trait Keyed {
    /// The range id.
    fn key(&self) -> &str;
}

/// A list of range ids the index reads by position: a slice of [`Keyed`] items, or a token's
/// records (ids as spans of its text).
pub(crate) trait Keys {
    /// Number of ids.
    fn count(&self) -> usize;
    /// Id `i` (`i < count()`).
    fn key(&self, i: usize) -> &str;
    /// Position of the first `id`, by a scan.
    fn position(&self, id: &str) -> Option<usize> {
        (0..self.count()).find(|&i| self.key(i) == id)
    }
}

impl<T: Keyed> Keys for [T] {
    fn count(&self) -> usize {
        self.len()
    }
    fn key(&self, i: usize) -> &str {
        self[i].key()
    }
}

const LINEAR_MAX: usize = 16;

/// One seeded hasher for the process: ids hash the same way in every index.
fn hasher() -> &'static foldhash::fast::RandomState {
    static STATE: std::sync::OnceLock<foldhash::fast::RandomState> = std::sync::OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default)
}

fn hash(id: &str) -> u64 {
    hasher().hash_one(id)
}

/// Hash of the id → position of the first segment with that hash. The map's own hasher is
/// trivial: its keys are already hashes.
type Positions = HashMap<u64, usize, std::hash::BuildHasherDefault<IdentityHasher>>;

#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else to stay total.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn lookup<K: Keys + ?Sized>(map: &Positions, segments: &K, range_id: &str) -> Option<usize> {
    match map.get(&hash(range_id)) {
        Some(&i) if segments.key(i) == range_id => Some(i),
        // A different id with the same hash (or none): scan, which is always correct.
        Some(_) => segments.position(range_id),
        None => None,
    }
}

fn build<K: Keys + ?Sized>(segments: &K) -> Positions {
    build_with_capacity(segments, segments.count())
}

fn build_with_capacity<K: Keys + ?Sized>(segments: &K, capacity: usize) -> Positions {
    let mut map = Positions::with_capacity_and_hasher(capacity, Default::default());
    for i in 0..segments.count() {
        map.entry(hash(segments.key(i))).or_insert(i);
    }
    map
}

#[derive(Default)]
pub(crate) struct RangeIndex {
    map: Option<Positions>,
    /// Set by [`RangeIndex::claim`] when it has already recorded the next push in the map.
    claimed: bool,
}

impl RangeIndex {
    /// Position of `range_id` in `segments`, which must be the list this index describes.
    pub(crate) fn find<K: Keys + ?Sized>(&self, segments: &K, range_id: &str) -> Option<usize> {
        match &self.map {
            Some(map) => lookup(map, segments, range_id),
            None => segments.position(range_id),
        }
    }

    /// Records that `range_id` is about to be pushed onto `segments` (at position
    /// `segments.len()`), hashing it once; false, recording nothing, when the list already holds
    /// it. The caller pushes and then calls [`pushed`](Self::pushed) as usual, which then has
    /// nothing left to do for a mapped list.
    #[inline]
    pub(crate) fn claim<K: Keys + ?Sized>(&mut self, segments: &K, range_id: &str) -> bool {
        let Some(map) = &mut self.map else {
            return segments.position(range_id).is_none();
        };
        match map.entry(hash(range_id)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(segments.count());
                self.claimed = true;
                true
            }
            // Another id with the same hash holds the slot: the new id stays out of the map,
            // and lookups for it fall back to a scan (see `lookup`).
            std::collections::hash_map::Entry::Occupied(slot) => {
                let i = *slot.get();
                segments.key(i) != range_id && segments.position(range_id).is_none()
            }
        }
    }

    /// Call once the final length of the list is known (`n` segments in all, `segments` the ones
    /// so far): a list that will outgrow the linear scan gets its map now, sized once, instead
    /// of rehashing as it grows.
    pub(crate) fn expect<K: Keys + ?Sized>(&mut self, segments: &K, n: usize) {
        if n > LINEAR_MAX && self.map.is_none() {
            self.map = Some(build_with_capacity(segments, n));
        }
    }

    /// Call after pushing a segment onto the list this index describes.
    #[inline]
    pub(crate) fn pushed<K: Keys + ?Sized>(&mut self, segments: &K) {
        // The common case (a short list without a map) decides here, inlined, with no call.
        if self.map.is_none() && segments.count() <= LINEAR_MAX {
            return;
        }
        self.pushed_slow(segments);
    }

    fn pushed_slow<K: Keys + ?Sized>(&mut self, segments: &K) {
        if std::mem::take(&mut self.claimed) {
            return;
        }
        match &mut self.map {
            Some(map) => {
                if let Some(last) = segments.count().checked_sub(1) {
                    map.entry(hash(segments.key(last))).or_insert(last);
                }
            }
            None if segments.count() > LINEAR_MAX => self.map = Some(build(segments)),
            None => {}
        }
    }
}

/// Read-only lookup by range id over a finished token's segments.
pub(crate) struct Lookup<'a, K: Keys + ?Sized> {
    segments: &'a K,
    map: Option<Positions>,
}

impl<'a, K: Keys + ?Sized> Lookup<'a, K> {
    pub(crate) fn new(segments: &'a K) -> Self {
        let map = (segments.count() > LINEAR_MAX).then(|| build(segments));
        Lookup { segments, map }
    }

    /// Position of `range_id`, if present.
    pub(crate) fn get(&self, range_id: &str) -> Option<usize> {
        match &self.map {
            Some(map) => lookup(map, self.segments, range_id),
            None => self.segments.position(range_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OwnedSegment, OwnedValue};

    fn seg(id: &str) -> OwnedSegment {
        OwnedSegment {
            range_id: id.into(),
            value: OwnedValue::Simple { global_lsn: 1 },
        }
    }

    #[test]
    fn collisions_fall_back_to_a_scan() {
        // Force a "collision": a map entry pointing at a segment with another id.
        let segments: Vec<OwnedSegment> = (0..40).map(|i| seg(&i.to_string())).collect();
        let mut map = build(segments.as_slice());
        map.insert(hash("7"), 3);
        assert_eq!(lookup(&map, segments.as_slice(), "7"), Some(7));
        assert_eq!(lookup(&map, segments.as_slice(), "3"), Some(3));
        assert_eq!(lookup(&map, segments.as_slice(), "none"), None);
    }

    #[test]
    fn claim_finds_duplicates_with_and_without_a_map() {
        for n in [3, 40] {
            let mut segments: Vec<OwnedSegment> = Vec::new();
            let mut index = RangeIndex::default();
            index.expect(segments.as_slice(), n);
            for i in 0..n {
                let id = i.to_string();
                assert!(index.claim(segments.as_slice(), &id), "{id}");
                segments.push(seg(&id));
                index.pushed(segments.as_slice());
                assert!(!index.claim(segments.as_slice(), &id), "{id} twice");
            }
            for i in 0..n {
                assert_eq!(index.find(segments.as_slice(), &i.to_string()), Some(i));
            }
        }
    }

    #[test]
    fn claim_after_a_collision_still_sees_the_id() {
        let mut segments: Vec<OwnedSegment> = (0..40).map(|i| seg(&i.to_string())).collect();
        let mut index = RangeIndex::default();
        index.expect(segments.as_slice(), 41);
        // "new"'s hash already points at segment 3: as if "new" and "3" collided.
        index.map.as_mut().unwrap().insert(hash("new"), 3);
        assert!(index.claim(segments.as_slice(), "new"));
        segments.push(seg("new"));
        index.pushed(segments.as_slice());
        assert!(!index.claim(segments.as_slice(), "new"));
        assert_eq!(index.find(segments.as_slice(), "new"), Some(40));
        assert_eq!(index.find(segments.as_slice(), "3"), Some(3));
    }
}
