//! Finding a segment by range id while a segment list grows.
//!
//! Small lists (the common case: one to a few segments) are scanned linearly, which needs no
//! allocation; past [`LINEAR_MAX`] entries a hash map keeps parse and merge of composite tokens
//! with thousands of segments linear instead of quadratic.

use std::collections::HashMap;

use crate::model::Segment;

const LINEAR_MAX: usize = 16;

#[derive(Default)]
pub(crate) struct RangeIndex {
    map: Option<HashMap<Box<str>, usize>>,
}

impl RangeIndex {
    /// Position of `range_id` in `segments`, which must be the list this index describes.
    pub(crate) fn find(&self, segments: &[Segment], range_id: &str) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(range_id).copied(),
            None => segments.iter().position(|s| &*s.range_id == range_id),
        }
    }

    /// Call after pushing a segment onto the list this index describes.
    pub(crate) fn pushed(&mut self, segments: &[Segment]) {
        match &mut self.map {
            Some(map) => {
                if let Some(last) = segments.last() {
                    map.insert(last.range_id.clone(), segments.len() - 1);
                }
            }
            None if segments.len() > LINEAR_MAX => {
                let map = segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.range_id.clone(), i))
                    .collect();
                self.map = Some(map);
            }
            None => {}
        }
    }
}

/// Read-only lookup by range id over a finished token's segments.
pub(crate) struct Lookup<'a> {
    segments: &'a [Segment],
    map: Option<HashMap<&'a str, usize>>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(segments: &'a [Segment]) -> Self {
        let map = (segments.len() > LINEAR_MAX).then(|| {
            segments
                .iter()
                .enumerate()
                .map(|(i, s)| (&*s.range_id, i))
                .collect()
        });
        Lookup { segments, map }
    }

    pub(crate) fn get(&self, range_id: &str) -> Option<&'a Segment> {
        match &self.map {
            Some(map) => map.get(range_id).map(|&i| &self.segments[i]),
            None => self.segments.iter().find(|s| &*s.range_id == range_id),
        }
    }
}
