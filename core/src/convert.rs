//! Converting between the simple (SDK v1) and vector (SDK v2+) formats, segment by segment.
//!
//! Follows Microsoft's "Convert session token formats in .NET SDK" article, but for every
//! segment of a composite token (the published sample handles only one).

use crate::builder::Builder;
use crate::model::{Format, Segment, SegmentValue, SessionToken, VectorValue};

impl<'a> SegmentValue<'a> {
    /// The value in `format`. To simple keeps only the global LSN — **lossy**: the version and
    /// all region progress are dropped, so a multi-region read may no longer see its writes.
    /// To vector turns `lsn` into `-2#lsn`. Values already in `format` are returned unchanged.
    pub fn to_format(&self, format: Format) -> SegmentValue<'a> {
        match (self, format) {
            (SegmentValue::Vector(v), Format::Simple) => SegmentValue::Simple {
                global_lsn: v.global_lsn,
            },
            (SegmentValue::Simple { global_lsn }, Format::Vector) => {
                SegmentValue::Vector(VectorValue::from_simple(*global_lsn))
            }
            (value, _) => *value,
        }
    }
}

impl SessionToken {
    /// Converts every segment to `format` (idempotent). See [`SegmentValue::to_format`].
    ///
    /// ```
    /// use cosmos_session_token::{Format, SessionToken};
    /// let t = SessionToken::parse("0:1#100#1=20,1:42").unwrap();
    /// assert_eq!(t.convert(Format::Simple).to_string(), "0:100,1:42");
    /// assert_eq!(t.convert(Format::Vector).to_string(), "0:1#100#1=20,1:-2#42");
    /// ```
    pub fn convert(&self, format: Format) -> SessionToken {
        let (segments, regions, ids) = self.shape();
        let regions = if format == Format::Simple { 0 } else { regions };
        let mut out = Builder::with_shape((segments, regions, ids));
        for s in self {
            out.push(Segment {
                range_id: s.range_id,
                value: s.value.to_format(format),
            });
        }
        out.finish()
    }

    /// Shorthand for [`convert(Format::Simple)`](Self::convert) — lossy, for SDK v1 clients.
    pub fn to_simple(&self) -> SessionToken {
        self.convert(Format::Simple)
    }

    /// Shorthand for [`convert(Format::Vector)`](Self::convert), for SDK v2+ clients.
    pub fn to_vector(&self) -> SessionToken {
        self.convert(Format::Vector)
    }
}
