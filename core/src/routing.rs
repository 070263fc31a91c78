//! Routing maps: a container's partition-key ranges (the service's `GET …/pkranges` list), and
//! from a partition key or a feed range to the token segments a request needs.
//!
//! A session token is partition-bound: a read needs only the progress of the range that holds
//! its item. [`token_for_partition_key`] sends that one segment (found through the parents after
//! a split or merge, as [`SessionToken::scope`] does) instead of the whole composite token, which
//! grows with the container until the gateway answers 400/431 "request headers too long";
//! [`token_for_feed_range`] keeps the segments of every range a feed range (a query, a change
//! feed, a hierarchical-key prefix) overlaps. [`check_header_budget`] says when even that is over a
//! header budget: tokens are never cut (dropping a segment would weaken consistency).

use serde::Deserialize;

use crate::builder::Builder;
use crate::error::{Error, FeedRangeError, PartitionKeyError};
use crate::feed_range::FeedRange;
use crate::index::Lookup;
use crate::merge::MergePolicy;
use crate::model::SessionToken;
use crate::partition_key::{EpkRange, PartitionKeyDefinition, PartitionKeyValue, epk_range};
use crate::scope::merge_parents;

/// Most ranges a routing map holds (a container has one per physical partition).
pub const MAX_ROUTING_RANGES: usize = 262_144;
/// Most parents one range lists.
const MAX_PARENTS: usize = 1024;

/// One partition-key range: `[min, max)` of the EPK space, and the ranges it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionKeyRange {
    /// The range id (`"0"`, `"17"`), as session tokens name it.
    pub id: String,
    /// `minInclusive` (upper-case hex, `""` for the first).
    pub min: String,
    /// `maxExclusive` (`"FF"` for the last).
    pub max: String,
    /// `parents`: the ids of the ranges it was split or merged from, oldest first.
    pub parents: Vec<String>,
}

#[derive(Deserialize)]
struct RangeJson {
    id: RangeIdJson,
    #[serde(rename = "minInclusive")]
    min_inclusive: String,
    #[serde(rename = "maxExclusive")]
    max_exclusive: String,
    #[serde(default)]
    parents: Vec<RangeIdJson>,
}

/// A range id: the service sends strings; some emulators send numbers (taken as their text).
#[derive(Deserialize)]
#[serde(untagged)]
enum RangeIdJson {
    Text(String),
    Number(u64),
}

impl RangeIdJson {
    fn text(self) -> String {
        match self {
            RangeIdJson::Text(t) => t,
            RangeIdJson::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct BodyJson {
    #[serde(rename = "PartitionKeyRanges")]
    ranges: Vec<RangeJson>,
}

/// A container's partition-key ranges, checked to cover `""`..`"FF"` without gaps or overlaps,
/// sorted by `min`.
///
/// ```
/// use cosmos_session_token::RoutingMap;
/// let map = RoutingMap::parse(r#"{"PartitionKeyRanges":[
///   {"id":"1","minInclusive":"","maxExclusive":"7F","parents":["0"]},
///   {"id":"2","minInclusive":"7F","maxExclusive":"FF","parents":["0"]}]}"#)?;
/// assert_eq!(map.range_for("80").id, "2");
/// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingMap {
    ranges: Vec<PartitionKeyRange>,
}

fn is_epk(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

impl RoutingMap {
    /// Parses the body of `GET dbs/{db}/colls/{coll}/pkranges` (`{"PartitionKeyRanges":[…]}`) or
    /// a bare list of its range objects (`id`, `minInclusive`, `maxExclusive`, `parents`).
    pub fn parse(text: &str) -> Result<RoutingMap, PartitionKeyError> {
        RoutingMap::new(RoutingMap::parse_ranges(text)?)
    }

    /// The ranges of one page of `GET …/pkranges` (or a bare list), unchecked: a caller reading
    /// several pages gathers them and builds the map with [`RoutingMap::new`]. Range ids sent as
    /// numbers (some emulators) are taken as their text.
    ///
    /// ```
    /// use cosmos_session_token::RoutingMap;
    /// let page = RoutingMap::parse_ranges(r#"{"PartitionKeyRanges":[{"id":0,"minInclusive":"","maxExclusive":"80"}]}"#)?;
    /// assert_eq!(page[0].id, "0");
    /// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
    /// ```
    pub fn parse_ranges(text: &str) -> Result<Vec<PartitionKeyRange>, PartitionKeyError> {
        // The body or a bare list, told apart by the first character (a list starts with '[');
        // serde's own messages are kept to their position: they name no internal type then.
        let shape = "a partition-key-range list ({\"PartitionKeyRanges\":[{\"id\",\"minInclusive\",\"maxExclusive\",\"parents\"}]} or the list alone)";
        let refuse = |e: serde_json::Error| {
            PartitionKeyError::RoutingMap(format!(
                "not {shape}: {} at line {} column {}",
                match e.classify() {
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof =>
                        "not JSON",
                    _ => "a field is missing or of another type",
                },
                e.line(),
                e.column()
            ))
        };
        let list: Vec<RangeJson> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(refuse)?
        } else {
            serde_json::from_str::<BodyJson>(text)
                .map_err(refuse)?
                .ranges
        };
        Ok(list
            .into_iter()
            .map(|r| PartitionKeyRange {
                id: r.id.text(),
                min: r.min_inclusive,
                max: r.max_exclusive,
                parents: r.parents.into_iter().map(RangeIdJson::text).collect(),
            })
            .collect())
    }

    /// A map of `ranges` (any order), checked: ids unique and non-empty, bounds upper-case hex,
    /// each `min < max`, together covering `""`..`"FF"` with no gap and no overlap.
    pub fn new(mut ranges: Vec<PartitionKeyRange>) -> Result<RoutingMap, PartitionKeyError> {
        let bad = |m: String| Err(PartitionKeyError::RoutingMap(m));
        if ranges.is_empty() {
            return bad("no ranges".into());
        }
        if ranges.len() > MAX_ROUTING_RANGES {
            return bad(format!(
                "{} ranges, more than the limit of {MAX_ROUTING_RANGES}",
                ranges.len()
            ));
        }
        for r in &ranges {
            if r.id.is_empty() || r.id.len() > 256 {
                return bad("a range id is empty or longer than 256 bytes".into());
            }
            if !is_epk(&r.min) || !is_epk(&r.max) || r.min >= r.max {
                return bad(format!(
                    "range {:?}: [{:?}, {:?}) is not an upper-case hex range with min below max",
                    r.id, r.min, r.max
                ));
            }
            if r.parents.len() > MAX_PARENTS {
                return bad(format!(
                    "range {:?} lists more than {MAX_PARENTS} parents",
                    r.id
                ));
            }
        }
        ranges.sort_by(|a, b| a.min.cmp(&b.min));
        let mut ids = std::collections::HashSet::with_capacity(ranges.len());
        for r in &ranges {
            if !ids.insert(r.id.as_str()) {
                return bad(format!("range id {:?} appears twice", r.id));
            }
        }
        if !ranges[0].min.is_empty() {
            return bad(format!(
                "the ranges start at {:?}, not at \"\" (range {:?})",
                ranges[0].min, ranges[0].id
            ));
        }
        for pair in ranges.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.max < b.min {
                return bad(format!(
                    "a gap between range {:?} (ends at {:?}) and range {:?} (starts at {:?})",
                    a.id, a.max, b.id, b.min
                ));
            }
            if a.max > b.min {
                return bad(format!(
                    "range {:?} (ends at {:?}) overlaps range {:?} (starts at {:?})",
                    a.id, a.max, b.id, b.min
                ));
            }
        }
        let last = &ranges[ranges.len() - 1];
        if last.max != "FF" {
            return bad(format!(
                "the ranges end at {:?}, not at \"FF\" (range {:?})",
                last.max, last.id
            ));
        }
        Ok(RoutingMap { ranges })
    }

    /// The ranges, sorted by `min`.
    pub fn ranges(&self) -> &[PartitionKeyRange] {
        &self.ranges
    }

    /// The range holding effective partition key `epk` (`""` and above, below `"FF"`; an EPK
    /// at or past `"FF"` is in the last range).
    pub fn range_for(&self, epk: &str) -> &PartitionKeyRange {
        &self.ranges[self.index_for(epk)]
    }

    fn index_for(&self, epk: &str) -> usize {
        self.ranges
            .partition_point(|r| r.min.as_str() <= epk)
            .saturating_sub(1)
    }

    /// The ranges a partition key's [`EpkRange`] touches: the one holding a full key's point, or
    /// every range a hierarchical-key prefix overlaps.
    ///
    /// ```
    /// use cosmos_session_token::{EpkRange, RoutingMap};
    /// let map = RoutingMap::parse(r#"[{"id":"1","minInclusive":"","maxExclusive":"20"},{"id":"2","minInclusive":"20","maxExclusive":"FF"}]"#)?;
    /// let point = EpkRange { min: "1A".into(), max: "1A".into(), max_inclusive: true };
    /// assert_eq!(map.ranges_for(&point)?[0].id, "1");
    /// let prefix = EpkRange { min: "1A".into(), max: "1AFF".into(), max_inclusive: false };
    /// assert_eq!(map.ranges_for(&prefix)?.len(), 1);
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn ranges_for(&self, epk: &EpkRange) -> Result<&[PartitionKeyRange], FeedRangeError> {
        if epk.max_inclusive {
            let i = self.index_for(&epk.min);
            return Ok(&self.ranges[i..=i]);
        }
        Ok(self.overlapping(&FeedRange::new(&epk.min, &epk.max)?))
    }

    /// The ranges `feed_range` overlaps, in EPK order.
    pub fn overlapping(&self, feed_range: &FeedRange) -> &[PartitionKeyRange] {
        let start = self
            .ranges
            .partition_point(|r| r.max.as_str() <= feed_range.min());
        let end = self
            .ranges
            .partition_point(|r| r.min.as_str() < feed_range.max());
        &self.ranges[start..end.max(start)]
    }
}

/// The segments a request spanning `ranges` presents: one per range, as `segment_of` gives it
/// (a one-segment token under the range's id, or `None` when it has no progress there), in EPK
/// order; `None` when no range has one. A routing map's ids are distinct, so the segments are
/// appended to one builder: linear in the ranges (merging them one token at a time copied the
/// growing result each time, quadratic in the ranges touched).
pub(crate) fn merged_over(
    ranges: &[PartitionKeyRange],
    mut segment_of: impl FnMut(&PartitionKeyRange) -> Result<Option<SessionToken>, Error>,
) -> Result<Option<SessionToken>, Error> {
    let mut out = Builder::default();
    for range in ranges {
        if let Some(part) = segment_of(range)? {
            for seg in &part {
                out.push(seg);
            }
        }
    }
    Ok((out.len() > 0).then(|| out.finish()))
}

/// [`merged_over`] `ranges` of one token: one index of the token's ranges for the whole call,
/// shared by every range's parent lookups (a scope per range indexed the token anew each time).
fn scoped_over(
    token: &SessionToken,
    ranges: &[PartitionKeyRange],
) -> Result<Option<SessionToken>, Error> {
    let spans = token.spans();
    let index = (ranges.len() > 1).then(|| Lookup::new(&spans));
    let find = |id: &str| match &index {
        Some(index) => index.get(id).map(|i| token.at(i)),
        None => token.get(id),
    };
    let mut out = Builder::default();
    let mut parents: Vec<&str> = Vec::new();
    for range in ranges {
        if let Some(seg) = find(&range.id) {
            out.push(seg);
            continue;
        }
        parents.clear();
        parents.extend(range.parents.iter().map(String::as_str));
        if let Some(merged) = merge_parents(&range.id, &parents, find, &MergePolicy::DEFAULT)? {
            out.push(merged.view());
        }
    }
    Ok((out.len() > 0).then(|| out.finish()))
}

/// The token to send for a request to the item with partition key `components`: the segment of
/// the range that holds it (or its parents' progress under its id, after a split or merge), or
/// `None` when the token has no progress for it. A hierarchical-key prefix addresses several
/// ranges: it is [`token_for_feed_range`] of the prefix's range.
///
/// ```
/// use cosmos_session_token::*;
/// let map = RoutingMap::parse(r#"[{"id":"1","minInclusive":"","maxExclusive":"20","parents":["0"]},
///                                 {"id":"2","minInclusive":"20","maxExclusive":"FF","parents":["0"]}]"#)?;
/// let token = SessionToken::parse("1:1#10,2:1#20")?;
/// let key = [PartitionKeyValue::String("user-42".into())];
/// let sent = token_for_partition_key(&token, &key, PartitionKeyDefinition::hash_v2(), &map)?.unwrap();
/// assert_eq!(sent.len(), 1);
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
pub fn token_for_partition_key(
    token: &SessionToken,
    components: &[PartitionKeyValue],
    definition: PartitionKeyDefinition,
    map: &RoutingMap,
) -> Result<Option<SessionToken>, Error> {
    let range = epk_range(components, definition)?;
    scoped_over(token, map.ranges_for(&range)?)
}

/// The segments a request over `feed_range` needs: one per range it overlaps (each found
/// through its parents when the token predates a split or merge), or `None` when the token has
/// progress for none of them.
pub fn token_for_feed_range(
    token: &SessionToken,
    feed_range: &FeedRange,
    map: &RoutingMap,
) -> Result<Option<SessionToken>, Error> {
    scoped_over(token, map.overlapping(feed_range))
}

/// `Ok` when `token` renders in at most `max_bytes`; otherwise `token_too_large` (a token is
/// never cut: dropping a segment would weaken consistency — scope it instead).
///
/// ```
/// use cosmos_session_token::{check_header_budget, SessionToken};
/// let t = SessionToken::parse("0:1#100,1:1#200")?;
/// assert!(check_header_budget(&t, 100).is_ok());
/// assert_eq!(check_header_budget(&t, 8).unwrap_err().code(), "token_too_large");
/// # Ok::<(), cosmos_session_token::Error>(())
/// ```
pub fn check_header_budget(
    token: &SessionToken,
    max_bytes: usize,
) -> Result<(), PartitionKeyError> {
    let len = token.encoded_len();
    if len > max_bytes {
        return Err(PartitionKeyError::TokenTooLarge {
            len,
            max: max_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, min: &str, max: &str, parents: &[&str]) -> PartitionKeyRange {
        PartitionKeyRange {
            id: id.into(),
            min: min.into(),
            max: max.into(),
            parents: parents.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn numeric_ids_are_read_and_errors_name_no_internal_type() {
        let map = RoutingMap::parse(r#"{"PartitionKeyRanges":[{"id":0,"minInclusive":"","maxExclusive":"FF","parents":[7]}]}"#)
            .unwrap();
        assert_eq!(
            (
                map.ranges()[0].id.as_str(),
                map.ranges()[0].parents[0].as_str()
            ),
            ("0", "7")
        );
        for bad in [
            "",
            "{",
            "7",
            "[{}]",
            r#"{"PartitionKeyRanges":[{"id":true}]}"#,
            r#"{"x":1}"#,
        ] {
            let e = RoutingMap::parse(bad).unwrap_err().to_string();
            assert!(
                !e.contains("enum") && !e.contains("Json") && !e.contains("variant"),
                "{bad}: {e}"
            );
            assert!(e.contains("line"), "{bad}: {e}");
        }
    }

    #[test]
    fn gaps_overlaps_and_ends_are_refused_with_where() {
        let gap = RoutingMap::new(vec![r("1", "", "40", &[]), r("2", "50", "FF", &[])]);
        assert!(
            gap.unwrap_err()
                .to_string()
                .contains("a gap between range \"1\"")
        );
        let overlap = RoutingMap::new(vec![r("1", "", "60", &[]), r("2", "50", "FF", &[])]);
        assert!(overlap.unwrap_err().to_string().contains("overlaps"));
        assert!(RoutingMap::new(vec![r("1", "00", "FF", &[])]).is_err());
        assert!(RoutingMap::new(vec![r("1", "", "FE", &[])]).is_err());
        assert!(RoutingMap::new(vec![r("1", "", "80", &[]), r("1", "80", "FF", &[])]).is_err());
        assert!(RoutingMap::new(vec![r("1", "", "ff", &[])]).is_err());
        assert!(RoutingMap::new(vec![]).is_err());
    }

    #[test]
    fn lookup_and_overlap() {
        let map = RoutingMap::new(vec![
            r("3", "80", "FF", &["0"]),
            r("1", "", "40", &["0"]),
            r("2", "40", "80", &["0"]),
        ])
        .unwrap();
        assert_eq!(map.range_for("").id, "1");
        assert_eq!(map.range_for("3F").id, "1");
        assert_eq!(map.range_for("40").id, "2");
        assert_eq!(map.range_for("7FFF").id, "2");
        assert_eq!(map.range_for("FF").id, "3");
        let ids = |fr: &str| {
            map.overlapping(&FeedRange::parse(fr).unwrap())
                .iter()
                .map(|r| r.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("-FF"), ["1", "2", "3"]);
        assert_eq!(ids("40-80"), ["2"]);
        assert_eq!(ids("3F-41"), ["1", "2"]);
        assert_eq!(ids("80-FF"), ["3"]);
    }

    #[test]
    fn splits_and_merges_find_the_lineage() {
        // Range 0 split into 1 and 2; the token predates the split.
        let split =
            RoutingMap::new(vec![r("1", "", "80", &["0"]), r("2", "80", "FF", &["0"])]).unwrap();
        let old = SessionToken::parse("0:1#50").unwrap();
        let fr = FeedRange::parse("-FF").unwrap();
        assert_eq!(
            token_for_feed_range(&old, &fr, &split)
                .unwrap()
                .unwrap()
                .to_string(),
            "1:1#50,2:1#50"
        );
        // Ranges 1 and 2 merged into 3.
        let merged = RoutingMap::new(vec![r("3", "", "FF", &["0", "1", "2"])]).unwrap();
        let t = SessionToken::parse("1:1#50,2:1#60").unwrap();
        assert_eq!(
            token_for_feed_range(&t, &fr, &merged)
                .unwrap()
                .unwrap()
                .to_string(),
            "3:1#60"
        );
        let unknown = SessionToken::parse("9:1#5").unwrap();
        assert!(
            token_for_feed_range(&unknown, &fr, &merged)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn ten_thousand_ranges() {
        let bound = |i: usize| {
            if i == 0 {
                String::new()
            } else if i == 10_000 {
                "FF".into()
            } else {
                format!("{:08X}", (i as u64) * 0x0006_0000)
            }
        };
        let ranges: Vec<_> = (0..10_000)
            .map(|i| r(&i.to_string(), &bound(i), &bound(i + 1), &[]))
            .collect();
        let map = RoutingMap::new(ranges).unwrap();
        assert_eq!(map.ranges().len(), 10_000);
        assert_eq!(map.range_for(&bound(5000)).id, "5000");
        assert_eq!(map.range_for("FE").id, "9999");
    }
}
