//! The session-token data model: tokens, segments, values and region progress.

use smallvec::SmallVec;

use crate::error::{ParseError, ParseErrorKind};

/// Inline capacity for regions: a typical value (≤ 4 regions) needs no heap allocation.
pub(crate) const INLINE_REGIONS: usize = 4;
pub(crate) type Regions = SmallVec<[RegionProgress; INLINE_REGIONS]>;
/// Inline capacity for segments: a typical response token has exactly one.
pub(crate) type Segments = SmallVec<[Segment; 1]>;
/// A range id's text. Ids of up to 24 bytes (every id the service assigns: decimal numbers) are
/// stored inline, so a segment costs no allocation of its own; longer ids go to the heap.
pub(crate) type RangeIdText = compact_str::CompactString;

/// The local LSN that means "no progress in this region yet".
pub const NO_PROGRESS: i64 = -1;

/// The version a simple value gets when converted to vector form (`lsn` → `-2#lsn`), as
/// Microsoft's conversion sample does. Any real token dominates it under version-aware merge.
pub const CONVERTED_SIMPLE_VERSION: i64 = -2;

/// Progress of one satellite region: `regionId=localLsn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegionProgress {
    /// Service-assigned region id.
    pub id: u32,
    /// Local LSN in that region; [`NO_PROGRESS`] (`-1`) means none yet.
    pub local_lsn: i64,
}

impl RegionProgress {
    /// True when the region has made no progress yet (`local_lsn == -1`).
    ///
    /// ```
    /// use cosmos_session_token::RegionProgress;
    /// assert!(RegionProgress { id: 3, local_lsn: -1 }.is_no_progress());
    /// ```
    pub fn is_no_progress(&self) -> bool {
        self.local_lsn == NO_PROGRESS
    }
}

/// A vector value: `version#globalLsn[#regionId=localLsn]*` (SDK v2 and later).
///
/// Regions keep the order in which they were parsed, so an unchanged token renders back
/// byte for byte; region order carries no meaning for merge, comparison or equality.
#[derive(Debug, Clone)]
pub struct VectorValue {
    pub(crate) version: i64,
    pub(crate) global_lsn: i64,
    pub(crate) regions: Regions,
}

impl VectorValue {
    /// Builds a vector value. Fails on a repeated region id.
    ///
    /// ```
    /// use cosmos_session_token::{RegionProgress, VectorValue};
    /// let v = VectorValue::new(1, 100, [RegionProgress { id: 1, local_lsn: 20 }]).unwrap();
    /// assert_eq!(v.to_string(), "1#100#1=20");
    /// ```
    pub fn new(
        version: i64,
        global_lsn: i64,
        regions: impl IntoIterator<Item = RegionProgress>,
    ) -> Result<Self, ParseError> {
        let mut out = Regions::new();
        for r in regions {
            if out.iter().any(|x| x.id == r.id) {
                return Err(ParseError::new(
                    ParseErrorKind::DuplicateRegion { id: r.id },
                    0,
                    "",
                ));
            }
            out.push(r);
        }
        Ok(VectorValue {
            version,
            global_lsn,
            regions: out,
        })
    }

    /// Configuration number of the partition's replica set (`-1` and `-2` occur).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Progress of the write (hub) region.
    pub fn global_lsn(&self) -> i64 {
        self.global_lsn
    }

    /// Satellite-region progress, in parsed (or merge-result) order.
    pub fn regions(&self) -> &[RegionProgress] {
        &self.regions
    }

    /// The local LSN of one region, if the value lists it.
    pub fn region(&self, id: u32) -> Option<i64> {
        self.regions
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.local_lsn)
    }

    pub(crate) fn region_mut(&mut self, id: u32) -> Option<&mut RegionProgress> {
        self.regions.iter_mut().find(|r| r.id == id)
    }

    /// True when both values list exactly the same region ids (order ignored).
    pub fn same_regions(&self, other: &VectorValue) -> bool {
        self.regions.len() == other.regions.len()
            && other.regions.iter().all(|r| self.region(r.id).is_some())
    }

    pub(crate) fn from_simple(global_lsn: i64) -> Self {
        VectorValue {
            version: CONVERTED_SIMPLE_VERSION,
            global_lsn,
            regions: Regions::new(),
        }
    }
}

/// The two value formats a segment can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `globalLsn` — SDK v1 (Microsoft.Azure.DocumentDB 1.x).
    Simple,
    /// `version#globalLsn[#regionId=localLsn]*` — SDK v2 and later.
    Vector,
}

impl Format {
    /// `"simple"` or `"vector"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Simple => "simple",
            Format::Vector => "vector",
        }
    }
}

/// The value of one segment: simple or vector.
#[derive(Debug, Clone)]
pub enum SegmentValue {
    /// A simple value: just the global LSN.
    Simple {
        /// The global LSN.
        global_lsn: i64,
    },
    /// A vector value.
    Vector(VectorValue),
}

impl SegmentValue {
    /// Which format this value has.
    pub fn format(&self) -> Format {
        match self {
            SegmentValue::Simple { .. } => Format::Simple,
            SegmentValue::Vector(_) => Format::Vector,
        }
    }

    /// The global LSN (present in both formats).
    pub fn global_lsn(&self) -> i64 {
        match self {
            SegmentValue::Simple { global_lsn } => *global_lsn,
            SegmentValue::Vector(v) => v.global_lsn,
        }
    }

    /// The version of a vector value; `None` for a simple value.
    pub fn version(&self) -> Option<i64> {
        match self {
            SegmentValue::Simple { .. } => None,
            SegmentValue::Vector(v) => Some(v.version),
        }
    }

    /// Region progress of a vector value; empty for a simple value.
    pub fn regions(&self) -> &[RegionProgress] {
        match self {
            SegmentValue::Simple { .. } => &[],
            SegmentValue::Vector(v) => &v.regions,
        }
    }

    /// The value as a vector: simple `lsn` reads as `-2#lsn`. Borrowed when already vector.
    pub(crate) fn as_vector(&self) -> std::borrow::Cow<'_, VectorValue> {
        match self {
            SegmentValue::Simple { global_lsn } => {
                std::borrow::Cow::Owned(VectorValue::from_simple(*global_lsn))
            }
            SegmentValue::Vector(v) => std::borrow::Cow::Borrowed(v),
        }
    }
}

/// One `rangeId:value` segment of a token: the progress of one partition key range.
#[derive(Debug, Clone)]
pub struct Segment {
    pub(crate) range_id: RangeIdText,
    pub(crate) value: SegmentValue,
}

impl Segment {
    /// Builds a segment, checking the range id against the strict grammar.
    ///
    /// ```
    /// use cosmos_session_token::{Segment, SegmentValue};
    /// let s = Segment::new("7", SegmentValue::Simple { global_lsn: 42 }).unwrap();
    /// assert_eq!(s.to_string(), "7:42");
    /// assert!(Segment::new("a:b", SegmentValue::Simple { global_lsn: 1 }).is_err());
    /// ```
    pub fn new(range_id: &str, value: SegmentValue) -> Result<Self, ParseError> {
        crate::range_id::check(range_id, 0, crate::range_id::MAX_BYTES)?;
        Ok(Segment {
            range_id: range_id.into(),
            value,
        })
    }

    /// The partition key range id (an opaque, case-sensitive string; usually decimal).
    pub fn range_id(&self) -> &str {
        &self.range_id
    }

    /// The value.
    pub fn value(&self) -> &SegmentValue {
        &self.value
    }

    /// Shorthand for `self.value().format()`.
    pub fn format(&self) -> Format {
        self.value.format()
    }
}

/// A session token: the `x-ms-session-token` header value, one or more segments joined by `,`.
///
/// Never empty and never holding two segments with the same range id. Equality and hashing
/// are *semantic*: segment order and region order are ignored, region *sets* are compared, and
/// a simple value equals its vector conversion (`5` == `-2#5`).
///
/// ```
/// use cosmos_session_token::SessionToken;
/// let t: SessionToken = "0:1#100#1=20,1:-1#42".parse().unwrap();
/// assert_eq!(t.len(), 2);
/// assert_eq!(t.get("1").unwrap().value().global_lsn(), 42);
/// assert_eq!(t.to_string(), "0:1#100#1=20,1:-1#42");
/// ```
#[derive(Debug, Clone)]
pub struct SessionToken {
    pub(crate) segments: Segments,
}

impl crate::index::Keyed for Segment {
    fn key(&self) -> &str {
        &self.range_id
    }
}

impl SessionToken {
    /// Builds a token from segments. Fails when the list is empty or repeats a range id.
    ///
    /// ```
    /// use cosmos_session_token::{Segment, SegmentValue, SessionToken};
    /// let seg = Segment::new("0", SegmentValue::Simple { global_lsn: 5 }).unwrap();
    /// let t = SessionToken::from_segments([seg]).unwrap();
    /// assert_eq!(t.to_string(), "0:5");
    /// ```
    pub fn from_segments(segments: impl IntoIterator<Item = Segment>) -> Result<Self, ParseError> {
        let mut out = Segments::new();
        let mut index = crate::index::RangeIndex::default();
        for seg in segments {
            if index.find(&out, &seg.range_id).is_some() {
                return Err(
                    ParseError::new(ParseErrorKind::DuplicateRangeId, 0, &seg.range_id)
                        .in_segment(out.len(), Some(&seg.range_id)),
                );
            }
            out.push(seg);
            index.pushed(&out);
        }
        if out.is_empty() {
            return Err(ParseError::new(ParseErrorKind::Empty, 0, ""));
        }
        Ok(SessionToken { segments: out })
    }

    /// A one-segment token (no allocation beyond the segment's own).
    pub(crate) fn single(segment: Segment) -> Self {
        let mut segments = Segments::new();
        segments.push(segment);
        SessionToken { segments }
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Iterates over the segments.
    pub fn iter(&self) -> std::slice::Iter<'_, Segment> {
        self.segments.iter()
    }

    /// Number of segments (always at least 1).
    #[allow(clippy::len_without_is_empty)] // a token is never empty
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// The segment for one range id, if present.
    pub fn get(&self, range_id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| &*s.range_id == range_id)
    }

    /// True when a segment for `range_id` is present.
    pub fn contains(&self, range_id: &str) -> bool {
        self.get(range_id).is_some()
    }
}

impl<'a> IntoIterator for &'a SessionToken {
    type Item = &'a Segment;
    type IntoIter = std::slice::Iter<'a, Segment>;
    fn into_iter(self) -> Self::IntoIter {
        self.segments.iter()
    }
}
