//! Feed ranges and the latest token for a feed range, from `(feed range, token)` pairs collected
//! by several clients or processes.
//!
//! A feed range is an effective-partition-key range `[min, max)` of upper-case hex strings
//! (`""` = start, `"FF"` = end). [`latest_for_feed_range`] is what azure-cosmos's
//! `get_latest_session_token` tries to do, done so that the result does not depend on the order
//! of the pairs, versions count, and a parent is dropped only when its children really cover it:
//!
//! 1. keep the pairs whose range overlaps the target (touching is not overlapping);
//! 2. merge pairs with identical ranges: single-segment tokens collapse into one segment labelled
//!    with the range id of the newest value (a range id can change while its range stays);
//! 3. among single-segment entries, drop a parent when its strict sub-ranges cover it with no gap
//!    and every one of them is at least as new (a split happened); drop a sub-range whose token an
//!    enclosing kept range's token is at least as new as (a merge happened); keep the rest;
//! 4. merge everything left by range id (union of regions) and render canonically: segments in
//!    numeric-aware range-id order, regions by id.
//!
//! Compound (multi-segment) tokens take part only in step 4. Cost: O(n log n) for sorting plus,
//! per range, the work over its sub-ranges (O(n · nesting depth); partition hierarchies are shallow).

mod latest;
#[cfg(feature = "test-oracles")]
mod reference;

use std::fmt;

use serde::Deserialize;

use crate::error::{Error, FeedRangeError, ParseError};
use crate::model::{Segment, SegmentValue, SessionToken};
use crate::order::Order;

/// Most pairs [`latest_for_feed_range`] accepts (a limit against denial of service).
pub const MAX_FEED_RANGE_PAIRS: usize = 1_000_000;
/// Longest feed-range text (JSON or `MIN-MAX`) accepted, in bytes.
pub const MAX_FEED_RANGE_TEXT: usize = 64 << 10;

/// An effective-partition-key range `[min, max)`.
///
/// ```
/// use cosmos_session_token::FeedRange;
/// let a = FeedRange::parse("AA-DD").unwrap();
/// let b = FeedRange::parse(r#"{"Range":{"min":"AA","max":"BB","isMinInclusive":true,"isMaxInclusive":false}}"#).unwrap();
/// assert!(a.contains(&b) && a.overlaps(&b));
/// assert_eq!(FeedRange::parse("-FF").unwrap().to_string(), "[,FF)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedRange {
    min: String,
    max: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeJson {
    min: String,
    max: String,
    #[serde(rename = "isMinInclusive", default)]
    is_min_inclusive: Option<bool>,
    #[serde(rename = "isMaxInclusive", default)]
    is_max_inclusive: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedRangeJson {
    #[serde(rename = "Range")]
    range: RangeJson,
}

fn check_hex(what: &str, s: &str) -> Result<(), FeedRangeError> {
    if s.bytes()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        Ok(())
    } else {
        Err(FeedRangeError::Invalid(format!(
            "{what} {s:?} is not upper-case hexadecimal"
        )))
    }
}

impl FeedRange {
    /// `[min, max)` from upper-case hex strings; `min` must be below `max`.
    pub fn new(min: &str, max: &str) -> Result<Self, FeedRangeError> {
        check_hex("min", min)?;
        check_hex("max", max)?;
        if min >= max {
            return Err(FeedRangeError::Invalid(format!(
                "min {min:?} is not below max {max:?}"
            )));
        }
        Ok(FeedRange {
            min: min.to_owned(),
            max: max.to_owned(),
        })
    }

    /// The SDKs' `Range` object with its flags as given: an absent flag takes the SDKs' default
    /// (`isMinInclusive` true, `isMaxInclusive` false), so bindings that read the object
    /// themselves apply the same defaults as [`FeedRange::parse`].
    ///
    /// ```
    /// use cosmos_session_token::FeedRange;
    /// assert_eq!(FeedRange::from_range_fields("AA", "BB", None, None).unwrap().to_string(), "[AA,BB)");
    /// assert!(FeedRange::from_range_fields("AA", "BB", None, Some(true)).is_err());
    /// ```
    pub fn from_range_fields(
        min: &str,
        max: &str,
        is_min_inclusive: Option<bool>,
        is_max_inclusive: Option<bool>,
    ) -> Result<Self, FeedRangeError> {
        FeedRange::from_range(
            min,
            max,
            is_min_inclusive.unwrap_or(true),
            is_max_inclusive.unwrap_or(false),
        )
    }

    /// The SDKs' `Range` object: `[min, max)` (`isMinInclusive` true, `isMaxInclusive` false), or
    /// the point `[epk, epk]` (both inclusive, `min == max`) that azure-cosmos's
    /// `feed_range_from_partition_key` gives for a full partition key, which is the half-open
    /// `[epk, epk + "00")` (no effective partition key lies between the two).
    ///
    /// ```
    /// use cosmos_session_token::FeedRange;
    /// assert_eq!(FeedRange::from_range("AB12", "AB12", true, true).unwrap().to_string(), "[AB12,AB1200)");
    /// ```
    pub fn from_range(
        min: &str,
        max: &str,
        is_min_inclusive: bool,
        is_max_inclusive: bool,
    ) -> Result<Self, FeedRangeError> {
        if is_min_inclusive && is_max_inclusive && min == max {
            return FeedRange::new(min, &format!("{min}00"));
        }
        if !is_min_inclusive || is_max_inclusive {
            return Err(FeedRangeError::Invalid(
                "only ranges with isMinInclusive=true and isMaxInclusive=false (or a point, min == max with both true) are feed ranges"
                    .into(),
            ));
        }
        FeedRange::new(min, max)
    }

    /// Parses `MIN-MAX` (e.g. `AA-DD`, `-FF`) or the JSON the SDKs produce:
    /// `{"Range":{"min":"","max":"FF","isMinInclusive":true,"isMaxInclusive":false}}` (flags optional,
    /// and only `[min, max)` is accepted).
    pub fn parse(text: &str) -> Result<Self, FeedRangeError> {
        if text.len() > MAX_FEED_RANGE_TEXT {
            return Err(FeedRangeError::Invalid(format!(
                "{} bytes, more than {MAX_FEED_RANGE_TEXT}",
                text.len()
            )));
        }
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let doc: FeedRangeJson = serde_json::from_str(trimmed)
                .map_err(|e| FeedRangeError::Invalid(e.to_string()))?;
            let r = doc.range;
            return FeedRange::from_range_fields(
                &r.min,
                &r.max,
                r.is_min_inclusive,
                r.is_max_inclusive,
            );
        }
        match trimmed.split_once('-') {
            Some((min, max)) => FeedRange::new(min, max),
            None => Err(FeedRangeError::Invalid(format!(
                "{trimmed:?} is neither MIN-MAX nor feed-range JSON"
            ))),
        }
    }

    /// The inclusive lower bound.
    pub fn min(&self) -> &str {
        &self.min
    }

    /// The exclusive upper bound.
    pub fn max(&self) -> &str {
        &self.max
    }

    /// True when the ranges share at least one key (touching ranges do not overlap).
    pub fn overlaps(&self, other: &FeedRange) -> bool {
        self.min < other.max && other.min < self.max
    }

    /// True when `other` lies within `self` (equal ranges included).
    pub fn contains(&self, other: &FeedRange) -> bool {
        self.min <= other.min && other.max <= self.max
    }
}

impl fmt::Display for FeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{},{})", self.min, self.max)
    }
}

impl std::str::FromStr for FeedRange {
    type Err = FeedRangeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedRange::parse(s)
    }
}

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

/// The result of [`latest_for_feed_range`]: the token and what happened to every pair.
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

fn ge(a: &SegmentValue<'_>, b: &SegmentValue<'_>) -> bool {
    matches!(a.compare(b), Order::Greater | Order::Equal)
}

/// Total order used only to pick a label deterministically among incomparable values.
fn label_key<'a>(seg: &Segment<'a>) -> (i64, i64, &'a str) {
    let v = seg.value();
    (
        v.version()
            .unwrap_or(crate::model::CONVERTED_SIMPLE_VERSION),
        v.global_lsn(),
        seg.range_id(),
    )
}

/// The one token covering `target`, from `(feed range, token)` pairs (order does not matter).
///
/// ```
/// use cosmos_session_token::{FeedRange, SessionToken, latest_for_feed_range};
/// let p = |r: &str, t: &str| (FeedRange::parse(r).unwrap(), SessionToken::parse(t).unwrap());
/// // Range 0 [AA,DD) split into 1 [AA,BB) and 2 [BB,DD), both newer: the parent is dropped.
/// let pairs = [p("BB-DD", "2:1#54#3=52"), p("AA-DD", "0:1#51#3=52"), p("AA-BB", "1:1#55#3=52")];
/// let latest = latest_for_feed_range(&pairs, &FeedRange::parse("AA-DD").unwrap()).unwrap();
/// assert_eq!(latest.token.to_string(), "1:1#55#3=52,2:1#54#3=52");
/// ```
pub fn latest_for_feed_range(
    pairs: &[(FeedRange, SessionToken)],
    target: &FeedRange,
) -> Result<Latest, Error> {
    let mut fates = vec![PairFate::NotOverlapping; pairs.len().min(MAX_FEED_RANGE_PAIRS)];
    let token = latest::latest(pairs, target, Some(&mut fates))?;
    Ok(Latest { token, fates })
}

/// The token of [`latest_for_feed_range`] alone, without recording what happened to every pair
/// (no per-pair bookkeeping): what a request path wants.
///
/// ```
/// use cosmos_session_token::{FeedRange, SessionToken, latest_token_for_feed_range};
/// let p = |r: &str, t: &str| (FeedRange::parse(r).unwrap(), SessionToken::parse(t).unwrap());
/// let pairs = [p("BB-DD", "2:1#54#3=52"), p("AA-DD", "0:1#51#3=52"), p("AA-BB", "1:1#55#3=52")];
/// let token = latest_token_for_feed_range(&pairs, &FeedRange::parse("AA-DD").unwrap()).unwrap();
/// assert_eq!(token.to_string(), "1:1#55#3=52,2:1#54#3=52");
/// ```
pub fn latest_token_for_feed_range(
    pairs: &[(FeedRange, SessionToken)],
    target: &FeedRange,
) -> Result<SessionToken, Error> {
    latest::latest(pairs, target, None)
}

/// The first implementation of [`latest_for_feed_range`], kept as the reference the tests and
/// the fuzz target compare the current one against. Not part of the API: only with the
/// `test-oracles` feature, which the crate's own tests and the fuzz target enable.
#[cfg(feature = "test-oracles")]
#[doc(hidden)]
pub fn __latest_for_feed_range_reference(
    pairs: &[(FeedRange, SessionToken)],
    target: &FeedRange,
) -> Result<Latest, Error> {
    reference::latest_for_feed_range_reference(pairs, target)
}

/// Parses a pair's token the way feed-range surfaces do: leniently (tokens gathered from logs and
/// other SDKs may carry whitespace, e.g. `0:1#5, 1:1#6`).
pub fn parse_pair_token(text: &str) -> Result<SessionToken, ParseError> {
    Ok(SessionToken::parse_with(text, &crate::parse::ParseOptions::LENIENT)?.token)
}
