//! What [`latest_for_feed_range`](crate::latest_for_feed_range) reports for each input pair, and
//! the value orders its two implementations (`latest`, `reference`) share.

use super::range::FeedRange;
use crate::model::{Segment, SegmentValue, SessionToken};
use crate::order::Order;

/// Most pairs [`latest_for_feed_range`](crate::latest_for_feed_range) accepts (a limit against denial of service).
pub const MAX_FEED_RANGE_PAIRS: usize = 1_000_000;
/// What happened to one input pair, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairFate {
    /// Its range does not overlap the target.
    NotOverlapping,
    /// Merged with other pairs of the same range (their indexes), then kept.
    Kept {
        /// Other pairs merged with it (same range).
        merged_with: Vec<usize>,
    },
    /// Dropped: its sub-ranges cover it with no gap and are all at least as new (a split).
    DroppedCoveredByNewerChildren {
        /// The pairs of the covering sub-ranges.
        children: Vec<usize>,
    },
    /// Dropped: an enclosing range's token is at least as new (a merge).
    DroppedDominatedByParent {
        /// The pair of the enclosing range.
        parent: usize,
    },
}

/// The result of [`latest_for_feed_range`](crate::latest_for_feed_range): the token and what happened to every pair.
#[derive(Debug, Clone)]
pub struct Latest {
    /// The token covering the target.
    pub token: SessionToken,
    /// One entry per input pair, in input order.
    pub fates: Vec<PairFate>,
}

impl Latest {
    /// One human-readable line per input pair.
    pub fn explain(&self, pairs: &[(FeedRange, SessionToken)]) -> Vec<String> {
        self.fates
            .iter()
            .enumerate()
            .map(|(i, fate)| {
                let (range, token) = &pairs[i];
                let what = match fate {
                    PairFate::NotOverlapping => "ignored: does not overlap the target".to_owned(),
                    PairFate::Kept { merged_with } if merged_with.is_empty() => "kept".to_owned(),
                    PairFate::Kept { merged_with } => format!("kept, merged with pairs {} (same feed range)", list(merged_with)),
                    PairFate::DroppedCoveredByNewerChildren { children } => format!(
                        "dropped: sub-ranges in pairs {} cover it with no gap and are at least as new (split)",
                        list(children)
                    ),
                    PairFate::DroppedDominatedByParent { parent } => {
                        format!("dropped: the enclosing range of pair {parent} is at least as new (merge)")
                    }
                };
                format!("pair {i} {range} {token}: {what}")
            })
            .collect()
    }
}

fn list(ids: &[usize]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `a` is at least as new as `b` (greater than or equal in the partial order).
pub(super) fn at_least_as_new(a: &SegmentValue<'_>, b: &SegmentValue<'_>) -> bool {
    matches!(a.compare(b), Order::Greater | Order::Equal)
}

/// Total order used only to pick a label deterministically among incomparable values.
pub(super) fn label_key<'a>(seg: &Segment<'a>) -> (i64, i64, &'a str) {
    let v = seg.value();
    (
        v.version()
            .unwrap_or(crate::model::CONVERTED_SIMPLE_VERSION),
        v.global_lsn(),
        seg.range_id(),
    )
}
