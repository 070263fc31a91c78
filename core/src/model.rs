//! The session-token data model: tokens, segments, values and region progress.
//!
//! Layout. A [`SessionToken`] owns its text once, its segments as compact records (numbers plus
//! spans into that text) and the regions of all its values as one flat list. Parsing a strict
//! token therefore allocates nothing per segment: at most the text, the record list and the
//! region list, each once (one segment's record and up to four regions live inline, so a
//! typical response token allocates only its text). A parsed token keeps the header value it was
//! parsed from, and rendering it unchanged is a copy.
//!
//! Reading goes through *views*: [`Segment`], [`SegmentValue`] and [`VectorValue`] are small
//! `Copy` values that borrow from the token (or, when building a token, from the caller's own
//! data). They never allocate.

use std::fmt;

use smallvec::SmallVec;

use crate::error::{ParseError, ParseErrorKind};

/// Inline capacity for regions: a token whose values list ≤ 4 regions in all needs no region
/// allocation.
pub(crate) const INLINE_REGIONS: usize = 4;
pub(crate) type Regions = SmallVec<[RegionProgress; INLINE_REGIONS]>;
/// Inline capacity for segment records: a typical response token has exactly one.
pub(crate) type Records = SmallVec<[Record; 1]>;
/// A range id's text, for the crate's owned working segments. Ids of up to 24 bytes (every id
/// the service assigns: decimal numbers) are stored inline.
pub(crate) type RangeIdText = compact_str::CompactString;
/// Bytes of text a token stores inline: a single-segment token with a few regions (and the
/// range ids of most merge results) needs no allocation for its text.
pub(crate) const INLINE_TEXT: usize = 44;

/// A token's text: the header value it was parsed from, or its range ids one after another.
/// Up to [`INLINE_TEXT`] bytes inline, longer text in one heap string (for a parsed token, of
/// exactly its length). `CompactString` (inline up to 24 bytes) was measured here first: its
/// heap path cost ~3x the instructions of a plain `malloc` + `memcpy`, and 24 bytes missed
/// the typical response token.
#[derive(Clone)]
pub(crate) enum TokenText {
    Inline(arrayvec::ArrayString<INLINE_TEXT>),
    Heap(String),
}

impl Default for TokenText {
    fn default() -> Self {
        TokenText::Inline(arrayvec::ArrayString::new())
    }
}

impl TokenText {
    /// A copy of `text`.
    #[inline]
    pub(crate) fn copy_of(text: &str) -> Self {
        match arrayvec::ArrayString::from(text) {
            Ok(inline) => TokenText::Inline(inline),
            Err(_) => TokenText::Heap(text.to_owned()),
        }
    }

    /// Appends `more` (moving to the heap when the inline room runs out).
    pub(crate) fn push_str(&mut self, more: &str) {
        match self {
            TokenText::Inline(inline) => {
                if inline.try_push_str(more).is_err() {
                    let mut heap = String::with_capacity((inline.len() + more.len()) * 2);
                    heap.push_str(inline);
                    heap.push_str(more);
                    *self = TokenText::Heap(heap);
                }
            }
            TokenText::Heap(heap) => heap.push_str(more),
        }
    }
}

impl std::ops::Deref for TokenText {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        match self {
            TokenText::Inline(s) => s,
            TokenText::Heap(s) => s,
        }
    }
}

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

/// A vector value: `version#globalLsn[#regionId=localLsn]*` (SDK v2 and later). A view: it
/// borrows its regions from a token (or from the slice it was built from).
///
/// Regions keep the order in which they were parsed, so an unchanged token renders back
/// byte for byte; region order carries no meaning for merge, comparison or equality.
#[derive(Debug, Clone, Copy)]
pub struct VectorValue<'a> {
    pub(crate) version: i64,
    pub(crate) global_lsn: i64,
    pub(crate) regions: &'a [RegionProgress],
}

impl<'a> VectorValue<'a> {
    /// A vector value over `regions`. Fails on a repeated region id.
    ///
    /// ```
    /// use cosmos_session_token::{RegionProgress, VectorValue};
    /// let regions = [RegionProgress { id: 1, local_lsn: 20 }];
    /// let v = VectorValue::new(1, 100, &regions).unwrap();
    /// assert_eq!(v.to_string(), "1#100#1=20");
    /// ```
    pub fn new(
        version: i64,
        global_lsn: i64,
        regions: &'a [RegionProgress],
    ) -> Result<Self, ParseError> {
        for (i, r) in regions.iter().enumerate() {
            if regions[..i].iter().any(|x| x.id == r.id) {
                return Err(ParseError::new(
                    ParseErrorKind::DuplicateRegion { id: r.id },
                    0,
                    "",
                ));
            }
        }
        Ok(VectorValue {
            version,
            global_lsn,
            regions,
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
    pub fn regions(&self) -> &'a [RegionProgress] {
        self.regions
    }

    /// The local LSN of one region, if the value lists it.
    pub fn region(&self, id: u32) -> Option<i64> {
        self.regions
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.local_lsn)
    }

    /// True when both values list exactly the same region ids (order ignored).
    pub fn same_regions(&self, other: &VectorValue<'_>) -> bool {
        self.regions.len() == other.regions.len()
            && other.regions.iter().all(|r| self.region(r.id).is_some())
    }

    /// A simple value's vector form, `-2#lsn`.
    pub(crate) fn from_simple(global_lsn: i64) -> Self {
        VectorValue {
            version: CONVERTED_SIMPLE_VERSION,
            global_lsn,
            regions: &[],
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

/// The value of one segment: simple or vector. A view (see [`VectorValue`]).
#[derive(Debug, Clone, Copy)]
pub enum SegmentValue<'a> {
    /// A simple value: just the global LSN.
    Simple {
        /// The global LSN.
        global_lsn: i64,
    },
    /// A vector value.
    Vector(VectorValue<'a>),
}

impl<'a> SegmentValue<'a> {
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
    pub fn regions(&self) -> &'a [RegionProgress] {
        match self {
            SegmentValue::Simple { .. } => &[],
            SegmentValue::Vector(v) => v.regions,
        }
    }

    /// The value as a vector: simple `lsn` reads as `-2#lsn`.
    pub(crate) fn as_vector(&self) -> VectorValue<'a> {
        match self {
            SegmentValue::Simple { global_lsn } => VectorValue::from_simple(*global_lsn),
            SegmentValue::Vector(v) => *v,
        }
    }
}

/// One `rangeId:value` segment of a token: the progress of one partition key range. A view
/// (see [`VectorValue`]); [`SessionToken::from_segments`] copies segments into a token.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub(crate) range_id: &'a str,
    pub(crate) value: SegmentValue<'a>,
}

impl<'a> Segment<'a> {
    /// A segment, checking the range id against the strict grammar.
    ///
    /// ```
    /// use cosmos_session_token::{Segment, SegmentValue};
    /// let s = Segment::new("7", SegmentValue::Simple { global_lsn: 42 }).unwrap();
    /// assert_eq!(s.to_string(), "7:42");
    /// assert!(Segment::new("a:b", SegmentValue::Simple { global_lsn: 1 }).is_err());
    /// ```
    pub fn new(range_id: &'a str, value: SegmentValue<'a>) -> Result<Self, ParseError> {
        crate::range_id::check(range_id, 0, crate::range_id::MAX_BYTES)?;
        Ok(Segment { range_id, value })
    }

    /// The partition key range id (an opaque, case-sensitive string; usually decimal).
    pub fn range_id(&self) -> &'a str {
        self.range_id
    }

    /// The value.
    pub fn value(&self) -> SegmentValue<'a> {
        self.value
    }

    /// Shorthand for `self.value().format()`.
    pub fn format(&self) -> Format {
        self.value.format()
    }
}

/// The crate's owned vector value: what merges update in place (container entries, scoping,
/// feed-range groups, lenient duplicates).
#[derive(Debug, Clone)]
pub(crate) struct OwnedVector {
    pub(crate) version: i64,
    pub(crate) global_lsn: i64,
    pub(crate) regions: Regions,
}

impl OwnedVector {
    pub(crate) fn view(&self) -> VectorValue<'_> {
        VectorValue {
            version: self.version,
            global_lsn: self.global_lsn,
            regions: &self.regions,
        }
    }
}

/// The crate's owned segment value (see [`OwnedVector`]).
#[derive(Debug, Clone)]
pub(crate) enum OwnedValue {
    Simple { global_lsn: i64 },
    Vector(OwnedVector),
}

impl OwnedValue {
    pub(crate) fn view(&self) -> SegmentValue<'_> {
        match self {
            OwnedValue::Simple { global_lsn } => SegmentValue::Simple {
                global_lsn: *global_lsn,
            },
            OwnedValue::Vector(v) => SegmentValue::Vector(v.view()),
        }
    }
}

impl From<SegmentValue<'_>> for OwnedValue {
    fn from(value: SegmentValue<'_>) -> Self {
        match value {
            SegmentValue::Simple { global_lsn } => OwnedValue::Simple { global_lsn },
            SegmentValue::Vector(v) => OwnedValue::Vector(OwnedVector {
                version: v.version,
                global_lsn: v.global_lsn,
                regions: Regions::from_slice(v.regions),
            }),
        }
    }
}

/// The crate's owned segment: a range id and an [`OwnedValue`].
#[derive(Debug, Clone)]
pub(crate) struct OwnedSegment {
    pub(crate) range_id: RangeIdText,
    pub(crate) value: OwnedValue,
}

impl OwnedSegment {
    pub(crate) fn view(&self) -> Segment<'_> {
        Segment {
            range_id: &self.range_id,
            value: self.value.view(),
        }
    }
}

impl From<Segment<'_>> for OwnedSegment {
    fn from(seg: Segment<'_>) -> Self {
        OwnedSegment {
            range_id: seg.range_id.into(),
            value: seg.value.into(),
        }
    }
}

impl crate::index::Keyed for OwnedSegment {
    fn key(&self) -> &str {
        &self.range_id
    }
}

/// One segment of a token's storage: its range id as a span of the token's text, its numbers,
/// and where its regions end in the token's flat region list (they start where the previous
/// segment's end).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    pub(crate) id_start: usize,
    pub(crate) id_end: usize,
    pub(crate) regions_end: usize,
    pub(crate) version: i64,
    pub(crate) global_lsn: i64,
    pub(crate) vector: bool,
}

impl Record {
    /// The range id, a span of the token's `text`. Spans always lie on character boundaries
    /// (they start and end at `:` `,` or the ends of the text), so the fallback is never taken.
    #[inline]
    pub(crate) fn id<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.id_start..self.id_end).unwrap_or_default()
    }
}

/// Where the regions of record `i` start in the flat region list: where the previous record's
/// end.
#[inline]
pub(crate) fn regions_start(records: &[Record], i: usize) -> usize {
    match i.checked_sub(1) {
        Some(previous) => records[previous].regions_end,
        None => 0,
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
#[derive(Clone)]
pub struct SessionToken {
    /// The parsed header value (when `rendered`), else the range ids one after another.
    pub(crate) text: TokenText,
    /// True when `text` is exactly this token's header value: rendering is then a copy.
    pub(crate) rendered: bool,
    pub(crate) records: Records,
    pub(crate) regions: Regions,
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionToken")
            .field(&self.to_header_value())
            .finish()
    }
}

impl SessionToken {
    /// The segments, in order: a cheap view (`len`, `get`, iteration).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:5,1:1#7").unwrap();
    /// assert_eq!(t.segments().len(), 2);
    /// assert_eq!(t.segments().get(1).unwrap().range_id(), "1");
    /// ```
    #[inline]
    pub fn segments(&self) -> Segments<'_> {
        Segments { token: self }
    }

    /// Iterates over the segments.
    #[inline]
    pub fn iter(&self) -> SegmentIter<'_> {
        SegmentIter {
            token: self,
            range: 0..self.records.len(),
        }
    }

    /// Number of segments (always at least 1).
    #[allow(clippy::len_without_is_empty)] // a token is never empty
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// The segment for one range id, if present.
    pub fn get(&self, range_id: &str) -> Option<Segment<'_>> {
        self.position(range_id).map(|i| self.at(i))
    }

    /// The index of the segment for one range id, if present (for `segments().get(i)`).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:5,7:1#9").unwrap();
    /// assert_eq!(t.position("7"), Some(1));
    /// assert_eq!(t.position("8"), None);
    /// ```
    pub fn position(&self, range_id: &str) -> Option<usize> {
        crate::index::Keys::position(&self.spans(), range_id)
    }

    /// True when a segment for `range_id` is present.
    pub fn contains(&self, range_id: &str) -> bool {
        self.position(range_id).is_some()
    }

    /// The range id of segment `i` (`i < len()`).
    #[inline]
    pub(crate) fn id(&self, i: usize) -> &str {
        self.records[i].id(&self.text)
    }

    /// Segment `i` (`i < len()`).
    #[inline]
    pub(crate) fn at(&self, i: usize) -> Segment<'_> {
        let r = &self.records[i];
        let value = if r.vector {
            let start = regions_start(&self.records, i);
            SegmentValue::Vector(VectorValue {
                version: r.version,
                global_lsn: r.global_lsn,
                regions: self.regions.get(start..r.regions_end).unwrap_or_default(),
            })
        } else {
            SegmentValue::Simple {
                global_lsn: r.global_lsn,
            }
        };
        Segment {
            range_id: r.id(&self.text),
            value,
        }
    }

    /// (segments, regions, range-id bytes): what a builder copying this token needs.
    pub(crate) fn shape(&self) -> (usize, usize, usize) {
        let ids = self.records.iter().map(|r| r.id_end - r.id_start).sum();
        (self.records.len(), self.regions.len(), ids)
    }

    /// The range ids, for the range index.
    pub(crate) fn spans(&self) -> Spans<'_> {
        Spans {
            text: &self.text,
            records: &self.records,
        }
    }
}

/// A token's segments: a view with `len`, `get` and iteration ([`SessionToken::segments`]).
#[derive(Debug, Clone, Copy)]
pub struct Segments<'a> {
    token: &'a SessionToken,
}

impl<'a> Segments<'a> {
    /// Number of segments (always at least 1).
    #[allow(clippy::len_without_is_empty)] // a token is never empty
    pub fn len(&self) -> usize {
        self.token.records.len()
    }

    /// Segment `i`, if `i < len()`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Segment<'a>> {
        (i < self.len()).then(|| self.token.at(i))
    }

    /// The first segment (a token always has one).
    #[inline]
    pub fn first(&self) -> Segment<'a> {
        self.token.at(0)
    }

    /// Iterates over the segments.
    pub fn iter(&self) -> SegmentIter<'a> {
        self.token.iter()
    }
}

impl<'a> IntoIterator for Segments<'a> {
    type Item = Segment<'a>;
    type IntoIter = SegmentIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a token's segments, in order.
#[derive(Debug, Clone)]
pub struct SegmentIter<'a> {
    token: &'a SessionToken,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for SegmentIter<'a> {
    type Item = Segment<'a>;
    #[inline]
    fn next(&mut self) -> Option<Segment<'a>> {
        self.range.next().map(|i| self.token.at(i))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for SegmentIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().map(|i| self.token.at(i))
    }
}

impl ExactSizeIterator for SegmentIter<'_> {}
impl std::iter::FusedIterator for SegmentIter<'_> {}

impl<'a> IntoIterator for &'a SessionToken {
    type Item = Segment<'a>;
    type IntoIter = SegmentIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Range ids as spans of a text: what the range index reads keys from.
#[derive(Clone, Copy)]
pub(crate) struct Spans<'a> {
    pub(crate) text: &'a str,
    pub(crate) records: &'a [Record],
}

impl crate::index::Keys for Spans<'_> {
    #[inline]
    fn count(&self) -> usize {
        self.records.len()
    }
    #[inline]
    fn key(&self, i: usize) -> &str {
        self.records[i].id(self.text)
    }
}
