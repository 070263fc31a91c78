//! The latest token for a feed range: the algorithm of the module documentation, built so that
//! the work per pair is a few comparisons of packed keys, not text.
//!
//! * Range bounds are compared through a packed key (their first 16 hex digits as a `u64`), the
//!   text only where two keys are equal.
//! * Pairs are sorted once (as `(min, max, index)` records); every group of identical ranges is
//!   a slice of that one sorted list, and nothing is cloned to form it.
//! * A merge's order only matters where it could change the result. Merge is commutative (see
//!   `merge.rs`), so one or two single-segment members of a group are merged as they come;
//!   three or more (where associativity can fail) are merged in canonical-text order, as the
//!   reference does. At the end, kept single segments with distinct range ids need no merge at
//!   all: they are sorted by range id. Only compound tokens, or two kept entries with one range
//!   id, take the reference's path of merging in canonical-text order.
//! * What happened to every pair ([`PairFate`]) is recorded only when asked for.
//!
//! The output is identical to the first implementation's (`reference.rs`): checked by the
//! differential property test and the `feed_range` fuzz target.

use std::cmp::Ordering;

use super::pairs::{MAX_FEED_RANGE_PAIRS, PairFate, at_least_as_new, label_key};
use super::range::FeedRange;
use crate::builder::Builder;
use crate::error::{Error, FeedRangeError};
use crate::merge::{MergePolicy, merge_value_into};
use crate::model::{OwnedSegment, Segment, SessionToken};

/// A range bound with its packed key: ordered exactly like the text.
#[derive(Clone, Copy)]
struct Bound<'a> {
    key: u64,
    text: &'a str,
}

/// Digits a key holds.
const KEY_DIGITS: usize = 16;

impl<'a> Bound<'a> {
    /// The first 16 hex digits, first digit in the top nibble, zero-padded. Where two keys
    /// differ, their order is the texts' order (hex digits are ordered like their ASCII codes,
    /// and a shorter text pads with the lowest digit). Where they are equal and both texts fit
    /// the key, the texts differ at most by trailing zeros, so the shorter is a prefix of the
    /// longer (and sorts first); only longer texts need a text comparison.
    fn new(text: &'a str) -> Self {
        let mut key = 0u64;
        for (i, b) in text.bytes().take(KEY_DIGITS).enumerate() {
            // Feed ranges hold validated upper-case hex only; `& 0xF` keeps this total anyway.
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                _ => b.wrapping_sub(b'A').wrapping_add(10) & 0xF,
            };
            key |= u64::from(nibble) << (60 - 4 * i);
        }
        Bound { key, text }
    }
}

impl Ord for Bound<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key).then_with(|| {
            if self.text.len() <= KEY_DIGITS && other.text.len() <= KEY_DIGITS {
                self.text.len().cmp(&other.text.len())
            } else {
                self.text.cmp(other.text)
            }
        })
    }
}

impl PartialOrd for Bound<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Bound<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Bound<'_> {}

/// One overlapping pair, as sorted: `[min, max)` and its index in the input.
#[derive(Clone, Copy)]
struct Item<'a> {
    min: Bound<'a>,
    max: Bound<'a>,
    pair: usize,
}

/// One feed range after identical ranges were merged: `items[members]` are its pairs.
struct Group<'a> {
    min: Bound<'a>,
    max: Bound<'a>,
    members: std::ops::Range<usize>,
    /// The collapsed single segment, when some member token has exactly one segment.
    single: Option<OwnedSegment>,
    /// Some member token has several segments (those take part only in the final merge).
    compound: bool,
}

/// The input indexes of a group's pairs.
fn members<'i>(items: &'i [Item<'_>], group: &Group<'_>) -> impl Iterator<Item = usize> + 'i {
    items[group.members.clone()].iter().map(|it| it.pair)
}

/// Indexes of the single-segment groups strictly inside group `p` (groups sorted by min asc,
/// max desc: they all follow `p` before the first group starting at or after its max).
fn subs<'g>(groups: &'g [Group<'_>], p: usize) -> impl Iterator<Item = usize> + 'g {
    let max = groups[p].max;
    (p + 1..groups.len())
        .take_while(move |&q| groups[q].min < max)
        .filter(move |&q| groups[q].max <= max && groups[q].single.is_some())
}

/// The token covering `target`; with `fates`, also what happened to every pair (`fates` holds
/// one entry per pair, all [`PairFate::NotOverlapping`] on entry).
pub(super) fn latest(
    pairs: &[(FeedRange, SessionToken)],
    target: &FeedRange,
    fates: Option<&mut [PairFate]>,
) -> Result<SessionToken, Error> {
    if pairs.len() > MAX_FEED_RANGE_PAIRS {
        return Err(FeedRangeError::TooManyPairs {
            len: pairs.len(),
            max: MAX_FEED_RANGE_PAIRS,
        }
        .into());
    }
    let policy = MergePolicy::UNION;
    let (target_min, target_max) = (Bound::new(&target.min), Bound::new(&target.max));
    let mut items: Vec<Item<'_>> = Vec::with_capacity(pairs.len());
    for (pair, (range, _)) in pairs.iter().enumerate() {
        let (min, max) = (Bound::new(&range.min), Bound::new(&range.max));
        // Touching is not overlapping.
        if min < target_max && target_min < max {
            items.push(Item { min, max, pair });
        }
    }
    if items.is_empty() {
        return Err(FeedRangeError::NoOverlap(target.to_string()).into());
    }
    // (min asc, max desc, index): identical ranges become adjacent, and every strict sub-range
    // of a group follows it within the block of groups starting before its max.
    items.sort_unstable_by(|a, b| {
        a.min
            .cmp(&b.min)
            .then_with(|| b.max.cmp(&a.max))
            .then(a.pair.cmp(&b.pair))
    });

    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let (min, max) = (items[start].min, items[start].max);
        let end = start
            + items[start..]
                .iter()
                .take_while(|it| it.min == min && it.max == max)
                .count();
        let (single, compound) = collapse(pairs, &items[start..end], &policy)?;
        groups.push(Group {
            min,
            max,
            members: start..end,
            single,
            compound,
        });
        start = end;
    }
    // Step 3, on the original groups (decisions do not depend on each other's outcome).
    let n = groups.len();
    let mut covered = vec![false; n];
    for p in 0..n {
        let Some(parent) = &groups[p].single else {
            continue;
        };
        let mut reach = groups[p].min;
        let (mut gap, mut all_newer, mut any) = (false, true, false);
        for q in subs(&groups, p) {
            let g = &groups[q];
            gap |= g.min > reach;
            reach = reach.max(g.max);
            all_newer &= g
                .single
                .as_ref()
                .is_some_and(|c| at_least_as_new(&c.value.view(), &parent.value.view()));
            any = true;
        }
        covered[p] = any && !gap && reach >= groups[p].max && all_newer;
    }
    let mut dominated_by: Vec<Option<usize>> = vec![None; n];
    for p in 0..n {
        if covered[p] {
            continue;
        }
        let Some(parent) = &groups[p].single else {
            continue;
        };
        for q in subs(&groups, p) {
            let child_dominated = groups[q]
                .single
                .as_ref()
                .is_some_and(|c| at_least_as_new(&parent.value.view(), &c.value.view()));
            if child_dominated && dominated_by[q].is_none() {
                dominated_by[q] = members(&items, &groups[p]).min();
            }
        }
    }

    if let Some(fates) = fates {
        record_fates(fates, &groups, &items, pairs, &covered, &dominated_by);
    }

    let mut singles: Vec<OwnedSegment> = Vec::with_capacity(n);
    let mut compounds: Vec<&SessionToken> = Vec::new();
    for (e, group) in groups.iter_mut().enumerate() {
        if group.compound {
            compounds.extend(
                members(&items, group)
                    .map(|m| &pairs[m].1)
                    .filter(|t| t.len() > 1),
            );
        }
        // A dropped group keeps only its compound members.
        if !covered[e] && dominated_by[e].is_none() {
            singles.extend(group.single.take());
        }
    }
    if compounds.is_empty()
        && let Some(token) = distinct_singles(&mut singles)
    {
        return Ok(token);
    }
    merge_in_canonical_order(singles, compounds, &policy, target)
}

/// Merges a group's single-segment member tokens into one segment, labelled with the range id
/// of a member equal to the result (the newest), else the greatest by (version, global LSN, id);
/// also says whether the group has compound members.
fn collapse(
    pairs: &[(FeedRange, SessionToken)],
    members: &[Item<'_>],
    policy: &MergePolicy,
) -> Result<(Option<OwnedSegment>, bool), Error> {
    // The usual group has one or two members: they are gathered in a fixed array (a small
    // vector's generic `collect` measured ~100 instructions a group).
    let mut few = arrayvec::ArrayVec::<Segment<'_>, 4>::new();
    let mut many = Vec::new();
    let found = members
        .iter()
        .map(|it| &pairs[it.pair].1)
        .filter(|t| t.len() == 1)
        .map(|t| t.segments().first());
    let mut singles: &[Segment<'_>] = if members.len() <= few.capacity() {
        found.for_each(|s| few.push(s));
        &few
    } else {
        many.extend(found);
        &many
    };
    let compound = singles.len() < members.len();
    let ordered: Vec<Segment<'_>>;
    if singles.len() > 2 {
        // Three or more: merge in canonical-text order (associativity can fail, see merge.rs).
        let mut keyed: Vec<(String, Segment<'_>)> = singles
            .iter()
            .map(|&s| (SessionToken::single(s).canonical().to_header_value(), s))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        ordered = keyed.into_iter().map(|(_, s)| s).collect();
        singles = &ordered;
    }
    let Some((first, rest)) = singles.split_first() else {
        return Ok((None, compound));
    };
    let mut merged = OwnedSegment::from(*first);
    for seg in rest {
        merge_value_into(&mut merged, seg.value, policy)?;
    }
    fn label_of<'a>(candidates: &mut dyn Iterator<Item = &Segment<'a>>) -> Option<&'a str> {
        candidates
            .max_by(|a, b| label_key(a).cmp(&label_key(b)))
            .map(|s| s.range_id)
    }
    let label = label_of(&mut singles.iter().filter(|s| s.value == merged.value.view()))
        .or_else(|| label_of(&mut singles.iter()));
    if let Some(label) = label {
        merged.range_id = label.into();
    }
    Ok((Some(merged), compound))
}

/// The canonical token of single segments with pairwise distinct range ids (no merge needed:
/// the result is the set of segments in canonical order), or `None` when two share an id.
fn distinct_singles(singles: &mut [OwnedSegment]) -> Option<SessionToken> {
    if singles.is_empty() {
        return None;
    }
    singles.sort_by(|a, b| crate::range_id::order(&a.range_id, &b.range_id));
    if singles.windows(2).any(|w| w[0].range_id == w[1].range_id) {
        return None;
    }
    let mut token = Builder::with_shape(Builder::shape_of(singles));
    for seg in singles.iter() {
        token.push(seg.view());
        token.sort_last_regions();
    }
    Some(token.finish())
}

/// The reference's final step: merge everything kept in canonical-text order (the result is
/// then a function of the set of pairs even where merge is not associative), canonically.
fn merge_in_canonical_order(
    singles: Vec<OwnedSegment>,
    compounds: Vec<&SessionToken>,
    policy: &MergePolicy,
    target: &FeedRange,
) -> Result<SessionToken, Error> {
    let mut keyed: Vec<(String, SessionToken)> = singles
        .into_iter()
        .map(|s| SessionToken::single(s.view()))
        .chain(compounds.into_iter().cloned())
        .map(|t| (t.canonical().to_header_value(), t))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let merged = SessionToken::merge_all(keyed.iter().map(|(_, t)| t), policy)?
        .ok_or_else(|| FeedRangeError::NoOverlap(target.to_string()))?;
    Ok(merged.canonical())
}

/// Fills in what happened to every overlapping pair.
fn record_fates(
    fates: &mut [PairFate],
    groups: &[Group<'_>],
    items: &[Item<'_>],
    pairs: &[(FeedRange, SessionToken)],
    covered: &[bool],
    dominated_by: &[Option<usize>],
) {
    for (e, group) in groups.iter().enumerate() {
        if covered[e] {
            let mut children: Vec<usize> = subs(groups, e)
                .flat_map(|q| members(items, &groups[q]))
                .collect();
            children.sort_unstable();
            for m in members(items, group) {
                fates[m] = PairFate::DroppedCoveredByNewerChildren {
                    children: children.clone(),
                };
            }
        } else if let Some(parent) = dominated_by[e] {
            for m in members(items, group) {
                fates[m] = PairFate::DroppedDominatedByParent { parent };
            }
        } else {
            for m in members(items, group) {
                let merged_with = members(items, group).filter(|&o| o != m).collect();
                fates[m] = PairFate::Kept { merged_with };
            }
            continue;
        }
        // Compound members of a dropped group never took part in split/merge detection.
        for m in members(items, group).filter(|&m| pairs[m].1.len() > 1) {
            fates[m] = PairFate::Kept {
                merged_with: Vec::new(),
            };
        }
    }
}
