//! The first implementation of [`latest_for_feed_range`](super::latest_for_feed_range), kept
//! unchanged as the reference the faster one (`latest.rs`) is compared against: by the
//! differential property test (`tests/feed_range_differential.rs`) and the `feed_range` fuzz
//! target. Straightforward and slow: it renders canonical text to order every merge.

use super::pairs::{Latest, MAX_FEED_RANGE_PAIRS, PairFate, at_least_as_new, label_key};
use super::range::FeedRange;
use crate::error::{Error, FeedRangeError};
use crate::merge::MergePolicy;
use crate::model::{OwnedSegment, Segment, SessionToken};

/// One range after identical ranges were merged.
struct Entry {
    range: FeedRange,
    members: Vec<usize>,
    /// The collapsed single segment, when every member token had exactly one segment.
    single: Option<OwnedSegment>,
    /// Segments of compound members (merged by range id at the end).
    compound: Vec<usize>,
}

/// Indexes of the single-segment entries strictly inside entry `p` (entries sorted by min asc,
/// max desc, identical ranges merged: they all follow `p` before the first entry starting at or
/// after its max).
fn subs(entries: &[Entry], p: usize) -> impl Iterator<Item = usize> + '_ {
    let range = &entries[p].range;
    (p + 1..entries.len())
        .take_while(move |&q| entries[q].range.min < range.max)
        .filter(move |&q| entries[q].range.max <= range.max && entries[q].single.is_some())
}

/// Merges the single-segment tokens of one feed range into one segment, labelled with the range
/// id of a member equal to the result (the newest), else the greatest by (version, global LSN, id).
/// Members are merged in canonical order, so the input order does not matter. Compound members
/// are recorded in `entry.compound`.
fn collapse_singles(
    pairs: &[(FeedRange, SessionToken)],
    entry: &mut Entry,
    policy: &MergePolicy,
) -> Result<Option<OwnedSegment>, Error> {
    let mut singles: Vec<(String, Segment<'_>)> = Vec::new();
    for &m in &entry.members {
        let token = &pairs[m].1;
        if token.len() > 1 {
            entry.compound.push(m);
        } else {
            singles.push((token.canonical().to_string(), token.segments().first()));
        }
    }
    singles.sort_by(|a, b| a.0.cmp(&b.0));
    let Some(((_, first), rest)) = singles.split_first() else {
        return Ok(None);
    };
    let mut merged = OwnedSegment::from(*first);
    for (_, seg) in rest {
        crate::merge::merge_value_into(&mut merged, seg.value, policy)?;
    }
    let newest = singles
        .iter()
        .map(|(_, s)| *s)
        .filter(|s| s.value == merged.value.view())
        .max_by(|a, b| label_key(a).cmp(&label_key(b)));
    let label = newest
        .or_else(|| {
            singles
                .iter()
                .map(|(_, s)| *s)
                .max_by(|a, b| label_key(a).cmp(&label_key(b)))
        })
        .map(|s| s.range_id);
    if let Some(label) = label {
        merged.range_id = label.into();
    }
    Ok(Some(merged))
}

/// The reference result for `pairs` and `target`: exactly what the first implementation gave.
pub fn latest_for_feed_range_reference(
    pairs: &[(FeedRange, SessionToken)],
    target: &FeedRange,
) -> Result<Latest, Error> {
    if pairs.len() > MAX_FEED_RANGE_PAIRS {
        return Err(FeedRangeError::TooManyPairs {
            len: pairs.len(),
            max: MAX_FEED_RANGE_PAIRS,
        }
        .into());
    }
    let policy = MergePolicy::UNION;
    let mut fates = vec![PairFate::NotOverlapping; pairs.len()];
    // Sort overlapping pairs by (min asc, max desc): identical ranges become adjacent, and every
    // strict sub-range of an entry follows it within the block of entries starting before its max.
    let mut order: Vec<usize> = (0..pairs.len())
        .filter(|&i| pairs[i].0.overlaps(target))
        .collect();
    if order.is_empty() {
        return Err(FeedRangeError::NoOverlap(target.to_string()).into());
    }
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&pairs[a].0, &pairs[b].0);
        ra.min
            .cmp(&rb.min)
            .then_with(|| rb.max.cmp(&ra.max))
            .then(a.cmp(&b))
    });
    let mut entries: Vec<Entry> = Vec::new();
    for i in order {
        let range = &pairs[i].0;
        let same = entries.last().is_some_and(|e| e.range == *range);
        if !same {
            entries.push(Entry {
                range: range.clone(),
                members: Vec::new(),
                single: None,
                compound: Vec::new(),
            });
        }
        if let Some(entry) = entries.last_mut() {
            entry.members.push(i);
        }
    }
    for entry in &mut entries {
        entry.single = collapse_singles(pairs, entry, &policy)?;
    }

    // Step 3, on the original entries (decisions do not depend on each other's outcome).
    let n = entries.len();
    let mut covered_by_newer = vec![None; n];
    for p in 0..n {
        let Some(parent) = &entries[p].single else {
            continue;
        };
        let mut reach = entries[p].range.min.as_str();
        let mut gap = false;
        let mut all_newer = true;
        let mut children = Vec::new();
        for q in subs(&entries, p) {
            let r = &entries[q].range;
            if r.min.as_str() > reach {
                gap = true;
            }
            if r.max.as_str() > reach {
                reach = r.max.as_str();
            }
            all_newer &= entries[q]
                .single
                .as_ref()
                .is_some_and(|c| at_least_as_new(&c.value.view(), &parent.value.view()));
            children.extend(entries[q].members.iter().copied());
        }
        if !children.is_empty() && !gap && reach >= entries[p].range.max.as_str() && all_newer {
            children.sort_unstable();
            covered_by_newer[p] = Some(children);
        }
    }
    let mut dominated_by = vec![None; n];
    for p in 0..n {
        if covered_by_newer[p].is_some() {
            continue;
        }
        let Some(parent) = &entries[p].single else {
            continue;
        };
        for q in subs(&entries, p) {
            let child_dominated = entries[q]
                .single
                .as_ref()
                .is_some_and(|c| at_least_as_new(&parent.value.view(), &c.value.view()));
            if child_dominated && dominated_by[q].is_none() {
                dominated_by[q] = entries[p].members.iter().min().copied();
            }
        }
    }

    let mut segments: Vec<SessionToken> = Vec::new();
    for (e, entry) in entries.iter_mut().enumerate() {
        let dropped = covered_by_newer[e].is_some() || dominated_by[e].is_some();
        if let Some(children) = covered_by_newer[e].take() {
            for &m in &entry.members {
                fates[m] = PairFate::DroppedCoveredByNewerChildren {
                    children: children.clone(),
                };
            }
        } else if let Some(parent) = dominated_by[e] {
            for &m in &entry.members {
                fates[m] = PairFate::DroppedDominatedByParent { parent };
            }
        }
        if dropped {
            // Compound members never take part in split/merge detection: keep them.
            for &m in &entry.compound {
                fates[m] = PairFate::Kept {
                    merged_with: Vec::new(),
                };
                segments.push(pairs[m].1.clone());
            }
            continue;
        }
        for &m in &entry.members {
            let merged_with = entry.members.iter().copied().filter(|&o| o != m).collect();
            fates[m] = PairFate::Kept { merged_with };
        }
        if let Some(single) = entry.single.take() {
            segments.push(SessionToken::single(single.view()));
        }
        for &m in &entry.compound {
            segments.push(pairs[m].1.clone());
        }
    }
    // Merging in a canonical order makes the result a function of the set of pairs, even where
    // merge is not associative (region sets that change with the version).
    let mut keyed: Vec<(String, SessionToken)> = segments
        .into_iter()
        .map(|t| (t.canonical().to_string(), t))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let segments: Vec<SessionToken> = keyed.into_iter().map(|(_, t)| t).collect();
    let merged = SessionToken::merge_all(&segments, &policy)?
        .ok_or_else(|| FeedRangeError::NoOverlap(target.to_string()))?;
    Ok(Latest {
        token: merged.canonical(),
        fates,
    })
}
