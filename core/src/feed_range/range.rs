//! [`FeedRange`]: an effective-partition-key range `[min, max)`, read from `MIN-MAX` text or the
//! SDKs' JSON.

use std::fmt;

use serde::Deserialize;

use crate::error::FeedRangeError;

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
    pub(super) min: String,
    pub(super) max: String,
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
