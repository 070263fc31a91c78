//! The crate's one way to build a token: segment by segment into the compact layout of
//! [`SessionToken`] (one text, one record per segment, one flat region list), sized once from the
//! operands' shape. Parsing, merge, convert, scope, the container and feed ranges all build
//! through it.

use crate::error::{ParseError, ParseErrorKind};
use crate::model::{
    INLINE_REGIONS, INLINE_TEXT, OwnedSegment, Record, Records, Regions, Segment, SegmentValue,
    SessionToken, Spans, TokenText, regions_start,
};

/// The constructors that build (here, beside the builder, so the model needs no builder).
impl SessionToken {
    /// Builds a token from segments (copied into the token). Fails when the list is empty or
    /// repeats a range id.
    ///
    /// ```
    /// use cosmos_session_token::{Segment, SegmentValue, SessionToken};
    /// let seg = Segment::new("0", SegmentValue::Simple { global_lsn: 5 }).unwrap();
    /// let t = SessionToken::from_segments([seg]).unwrap();
    /// assert_eq!(t.to_string(), "0:5");
    /// ```
    pub fn from_segments<'s>(
        segments: impl IntoIterator<Item = Segment<'s>>,
    ) -> Result<Self, ParseError> {
        let mut out = Builder::default();
        let mut index = crate::index::RangeIndex::default();
        for seg in segments {
            if index.find(&out.spans(), seg.range_id).is_some() {
                return Err(
                    ParseError::new(ParseErrorKind::DuplicateRangeId, 0, seg.range_id)
                        .in_segment(out.len(), Some(seg.range_id)),
                );
            }
            out.push(seg);
            index.pushed(&out.spans());
        }
        if out.len() == 0 {
            return Err(ParseError::new(ParseErrorKind::Empty, 0, ""));
        }
        Ok(out.finish())
    }

    /// A one-segment token.
    pub(crate) fn single(segment: Segment<'_>) -> Self {
        let mut out =
            Builder::with_shape((1, segment.value.regions().len(), segment.range_id.len()));
        out.push(segment);
        out.finish()
    }
}

/// The numbers of a value whose regions were appended to a builder's list: what
/// [`Builder::push_filled`] records beside them.
pub(crate) struct ValueNumbers {
    pub(crate) vector: bool,
    pub(crate) version: i64,
    pub(crate) global_lsn: i64,
}

/// Builds a token segment by segment, copying each range id and region list into the token's
/// storage. Duplicate checks are the caller's.
#[derive(Default)]
pub(crate) struct Builder {
    text: TokenText,
    records: Records,
    regions: Regions,
}

impl Builder {
    /// A builder with room for `shape` = (segments, regions, range-id bytes), each list allocated
    /// once when it exceeds its inline room (so a result that fits inline allocates nothing).
    pub(crate) fn with_shape((segments, regions, text): (usize, usize, usize)) -> Self {
        let mut b = Builder::default();
        if segments > 1 {
            b.records.reserve_exact(segments);
        }
        if regions > INLINE_REGIONS {
            b.regions.reserve_exact(regions);
        }
        if text > INLINE_TEXT {
            b.text = TokenText::Heap(String::with_capacity(text));
        }
        b
    }

    /// The shape of the owned segments `segments`, for [`Builder::with_shape`].
    pub(crate) fn shape_of(segments: &[OwnedSegment]) -> (usize, usize, usize) {
        segments
            .iter()
            .fold((segments.len(), 0, 0), |(n, r, t), s| {
                (n, r + s.view().value.regions().len(), t + s.range_id.len())
            })
    }

    /// A token of the owned `segments`, in order (their range ids are distinct: the caller's).
    pub(crate) fn packed(segments: &[OwnedSegment]) -> SessionToken {
        let mut out = Builder::with_shape(Builder::shape_of(segments));
        for seg in segments {
            out.push(seg.view());
        }
        out.finish()
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Appends a segment.
    pub(crate) fn push(&mut self, seg: Segment<'_>) {
        let (vector, version) = match seg.value {
            SegmentValue::Simple { .. } => (false, 0),
            SegmentValue::Vector(v) => {
                self.regions.extend_from_slice(v.regions);
                (true, v.version)
            }
        };
        self.push_record(seg.range_id, vector, version, seg.value.global_lsn());
    }

    /// Appends a segment whose regions `fill` appends straight to the token's list, returning
    /// the value's numbers (how a merge builds without staging a value). On `fill`'s error no
    /// record is appended (and `fill` must have appended no region).
    pub(crate) fn push_filled<E>(
        &mut self,
        range_id: &str,
        fill: impl FnOnce(&mut Regions) -> Result<ValueNumbers, E>,
    ) -> Result<(), E> {
        let value = fill(&mut self.regions)?;
        self.push_record(range_id, value.vector, value.version, value.global_lsn);
        Ok(())
    }

    /// Appends the record of a segment whose regions were just appended.
    fn push_record(&mut self, range_id: &str, vector: bool, version: i64, global_lsn: i64) {
        let id_start = self.text.len();
        self.text.push_str(range_id);
        self.records.push(Record {
            id_start,
            id_end: self.text.len(),
            regions_end: self.regions.len(),
            version,
            global_lsn,
            vector,
        });
    }

    /// Sorts the regions of the segment pushed last by id (canonical form).
    pub(crate) fn sort_last_regions(&mut self) {
        let start = match self.records.len().checked_sub(1) {
            Some(last) => regions_start(&self.records, last),
            None => 0,
        };
        if let Some(last) = self.regions.get_mut(start..) {
            last.sort_unstable_by_key(|r| r.id);
        }
    }

    /// The range ids pushed so far, for the range index.
    pub(crate) fn spans(&self) -> Spans<'_> {
        Spans {
            text: &self.text,
            records: &self.records,
        }
    }

    pub(crate) fn finish(self) -> SessionToken {
        SessionToken {
            text: self.text,
            rendered: false,
            records: self.records,
            regions: self.regions,
        }
    }
}
