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
mod pairs;
mod range;
#[cfg(feature = "test-oracles")]
mod reference;

pub use pairs::{Latest, MAX_FEED_RANGE_PAIRS, PairFate};
pub use range::{FeedRange, MAX_FEED_RANGE_TEXT};

use crate::error::{Error, ParseError};
use crate::model::SessionToken;

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
    Ok(SessionToken::parse_with(text, &crate::parse_options::ParseOptions::LENIENT)?.token)
}
