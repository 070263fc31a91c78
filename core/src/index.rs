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

fn lookup<T: Keyed>(map: &Positions, segments: &[T], range_id: &str) -> Option<usize> {
    match map.get(&hash(range_id)) {
        Some(&i) if segments[i].key() == range_id => Some(i),
        // A different id with the same hash (or none): scan, which is always correct.
        Some(_) => segments.iter().position(|s| s.key() == range_id),
        None => None,
    }
}

fn build<T: Keyed>(segments: &[T]) -> Positions {
    build_with_capacity(segments, segments.len())
}

fn build_with_capacity<T: Keyed>(segments: &[T], capacity: usize) -> Positions {
    let mut map = Positions::with_capacity_and_hasher(capacity, Default::default());
    for (i, s) in segments.iter().enumerate() {
        map.entry(hash(s.key())).or_insert(i);
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
    pub(crate) fn find<T: Keyed>(&self, segments: &[T], range_id: &str) -> Option<usize> {
        match &self.map {
            Some(map) => lookup(map, segments, range_id),
            None => segments.iter().position(|s| s.key() == range_id),
        }
    }

    /// Records that `range_id` is about to be pushed onto `segments` (at position
    /// `segments.len()`), hashing it once; false, recording nothing, when the list already holds
    /// it. The caller pushes and then calls [`pushed`](Self::pushed) as usual, which then has
    /// nothing left to do for a mapped list.
    #[inline]
    pub(crate) fn claim<T: Keyed>(&mut self, segments: &[T], range_id: &str) -> bool {
        let Some(map) = &mut self.map else {
            return !segments.iter().any(|s| s.key() == range_id);
        };
        match map.entry(hash(range_id)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(segments.len());
                self.claimed = true;
                true
            }
            // Another id with the same hash holds the slot: the new id stays out of the map,
            // and lookups for it fall back to a scan (see `lookup`).
            std::collections::hash_map::Entry::Occupied(slot) => {
                let i = *slot.get();
                segments[i].key() != range_id && !segments.iter().any(|s| s.key() == range_id)
            }
        }
    }

    /// Call once the final length of the list is known (`n` segments in all, `segments` the ones
    /// so far): a list that will outgrow the linear scan gets its map now, sized once, instead
    /// of rehashing as it grows.
    pub(crate) fn expect<T: Keyed>(&mut self, segments: &[T], n: usize) {
        if n > LINEAR_MAX && self.map.is_none() {
            self.map = Some(build_with_capacity(segments, n));
        }
    }

    /// Call after pushing a segment onto the list this index describes.
    #[inline]
    pub(crate) fn pushed<T: Keyed>(&mut self, segments: &[T]) {
        // The common case (a short list without a map) decides here, inlined, with no call.
        if self.map.is_none() && segments.len() <= LINEAR_MAX {
            return;
        }
        self.pushed_slow(segments);
    }

    fn pushed_slow<T: Keyed>(&mut self, segments: &[T]) {
        if std::mem::take(&mut self.claimed) {
            return;
        }
        match &mut self.map {
            Some(map) => {
                if let Some(last) = segments.last() {
                    map.entry(hash(last.key())).or_insert(segments.len() - 1);
                }
            }
            None if segments.len() > LINEAR_MAX => self.map = Some(build(segments)),
            None => {}
        }
    }
}

/// Read-only lookup by range id over a finished token's segments.
pub(crate) struct Lookup<'a, T: Keyed> {
    segments: &'a [T],
    map: Option<Positions>,
}

impl<'a, T: Keyed> Lookup<'a, T> {
    pub(crate) fn new(segments: &'a [T]) -> Self {
        let map = (segments.len() > LINEAR_MAX).then(|| build(segments));
        Lookup { segments, map }
    }

    pub(crate) fn get(&self, range_id: &str) -> Option<&'a T> {
        let i = match &self.map {
            Some(map) => lookup(map, self.segments, range_id),
            None => self.segments.iter().position(|s| s.key() == range_id),
        };
        i.map(|i| &self.segments[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Segment, SegmentValue};

    fn seg(id: &str) -> Segment {
        Segment {
            range_id: id.into(),
            value: SegmentValue::Simple { global_lsn: 1 },
        }
    }

    #[test]
    fn collisions_fall_back_to_a_scan() {
        // Force a "collision": a map entry pointing at a segment with another id.
        let segments: Vec<Segment> = (0..40).map(|i| seg(&i.to_string())).collect();
        let mut map = build(&segments);
        map.insert(hash("7"), 3);
        assert_eq!(lookup(&map, &segments, "7"), Some(7));
        assert_eq!(lookup(&map, &segments, "3"), Some(3));
        assert_eq!(lookup(&map, &segments, "none"), None);
    }

    #[test]
    fn claim_finds_duplicates_with_and_without_a_map() {
        for n in [3, 40] {
            let mut segments: Vec<Segment> = Vec::new();
            let mut index = RangeIndex::default();
            index.expect(&segments, n);
            for i in 0..n {
                let id = i.to_string();
                assert!(index.claim(&segments, &id), "{id}");
                segments.push(seg(&id));
                index.pushed(&segments);
                assert!(!index.claim(&segments, &id), "{id} twice");
            }
            for i in 0..n {
                assert_eq!(index.find(&segments, &i.to_string()), Some(i));
            }
        }
    }

    #[test]
    fn claim_after_a_collision_still_sees_the_id() {
        let mut segments: Vec<Segment> = (0..40).map(|i| seg(&i.to_string())).collect();
        let mut index = RangeIndex::default();
        index.expect(&segments, 41);
        // "new"'s hash already points at segment 3: as if "new" and "3" collided.
        index.map.as_mut().unwrap().insert(hash("new"), 3);
        assert!(index.claim(&segments, "new"));
        segments.push(seg("new"));
        index.pushed(&segments);
        assert!(!index.claim(&segments, "new"));
        assert_eq!(index.find(&segments, "new"), Some(40));
        assert_eq!(index.find(&segments, "3"), Some(3));
    }
}
