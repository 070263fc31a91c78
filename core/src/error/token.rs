//! Token errors: where a token was malformed, and why two tokens could not be merged.

use super::table::Code;
use std::fmt;

/// A numeric field of a session-token value, named in errors and warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The configuration version of a vector value (`version#…`).
    Version,
    /// The global LSN: the second field of a vector value, or the whole simple value.
    GlobalLsn,
    /// A region id (`id=…`).
    RegionId,
    /// A region's local LSN (`…=lsn`).
    LocalLsn,
}

impl Field {
    /// Human-readable name used in messages, e.g. `"global LSN"`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Version => "version",
            Field::GlobalLsn => "global LSN",
            Field::RegionId => "region id",
            Field::LocalLsn => "local LSN",
        }
    }

    /// The Rust type the field must fit in, named in overflow messages.
    pub fn type_name(self) -> &'static str {
        match self {
            Field::RegionId => "u32",
            _ => "i64",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with a token. [`ParseErrorKind::code`] gives a stable identifier for each kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is empty (or only whitespace, in lenient mode).
    Empty,
    /// The input bytes are not UTF-8.
    InvalidUtf8,
    /// Two `,` with nothing between them, or a leading/trailing `,` (strict mode).
    EmptySegment,
    /// A segment has no `:` between range id and value.
    MissingColon,
    /// A segment starts with `:`.
    EmptyRangeId,
    /// A range id contains `,` `:` `#` `=`, whitespace or a control character.
    InvalidRangeId {
        /// The first offending character.
        ch: char,
    },
    /// The same range id appears twice in one token (strict mode).
    DuplicateRangeId,
    /// A field between separators is empty, e.g. `1#` or `1##5`.
    EmptyField(Field),
    /// A field contains something other than ASCII digits (after an allowed sign).
    NotANumber(Field),
    /// A field has a `+` sign (strict mode).
    PlusSign(Field),
    /// A field has leading zeros, e.g. `007` (strict mode).
    LeadingZero(Field),
    /// `-0` (strict mode): not the canonical spelling of zero.
    NegativeZero(Field),
    /// A negative number where the grammar does not allow one.
    NegativeNotAllowed(Field),
    /// The number does not fit the field's type.
    Overflow(Field),
    /// A region entry has no `=`.
    MissingEquals,
    /// Two `#` with no region entry between them (strict mode).
    EmptyRegionEntry,
    /// A value ends with `#` (strict mode).
    TrailingSeparator,
    /// The same region id appears twice in one value (strict mode).
    DuplicateRegion {
        /// The repeated region id.
        id: u32,
    },
    /// The input is longer than [`Limits::max_input_bytes`](crate::Limits::max_input_bytes).
    InputTooLarge {
        /// The input length in bytes.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// More segments than [`Limits::max_segments`](crate::Limits::max_segments).
    TooManySegments {
        /// The limit in force.
        max: usize,
    },
    /// More regions in one value than [`Limits::max_regions`](crate::Limits::max_regions).
    TooManyRegions {
        /// The limit in force.
        max: usize,
    },
    /// A range id longer than [`Limits::max_range_id_bytes`](crate::Limits::max_range_id_bytes).
    RangeIdTooLong {
        /// The range id's length in bytes.
        len: usize,
        /// The limit in force.
        max: usize,
    },
}

impl ParseErrorKind {
    /// A stable snake_case identifier, shared by every binding and the test vectors.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let err = SessionToken::parse("0:1#x").unwrap_err();
    /// assert_eq!(err.kind().code(), "not_a_number");
    /// ```
    pub fn code(&self) -> Code {
        match self {
            ParseErrorKind::Empty => Code::Empty,
            ParseErrorKind::InvalidUtf8 => Code::InvalidUtf8,
            ParseErrorKind::EmptySegment => Code::EmptySegment,
            ParseErrorKind::MissingColon => Code::MissingColon,
            ParseErrorKind::EmptyRangeId => Code::EmptyRangeId,
            ParseErrorKind::InvalidRangeId { .. } => Code::InvalidRangeId,
            ParseErrorKind::DuplicateRangeId => Code::DuplicateRangeId,
            ParseErrorKind::EmptyField(_) => Code::EmptyField,
            ParseErrorKind::NotANumber(_) => Code::NotANumber,
            ParseErrorKind::PlusSign(_) => Code::PlusSign,
            ParseErrorKind::LeadingZero(_) => Code::LeadingZero,
            ParseErrorKind::NegativeZero(_) => Code::NegativeZero,
            ParseErrorKind::NegativeNotAllowed(_) => Code::NegativeNotAllowed,
            ParseErrorKind::Overflow(_) => Code::Overflow,
            ParseErrorKind::MissingEquals => Code::MissingEquals,
            ParseErrorKind::EmptyRegionEntry => Code::EmptyRegionEntry,
            ParseErrorKind::TrailingSeparator => Code::TrailingSeparator,
            ParseErrorKind::DuplicateRegion { .. } => Code::DuplicateRegion,
            ParseErrorKind::InputTooLarge { .. } => Code::InputTooLarge,
            ParseErrorKind::TooManySegments { .. } => Code::TooManySegments,
            ParseErrorKind::TooManyRegions { .. } => Code::TooManyRegions,
            ParseErrorKind::RangeIdTooLong { .. } => Code::RangeIdTooLong,
        }
    }

    /// The numeric field this error is about, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            ParseErrorKind::EmptyField(f)
            | ParseErrorKind::NotANumber(f)
            | ParseErrorKind::PlusSign(f)
            | ParseErrorKind::LeadingZero(f)
            | ParseErrorKind::NegativeZero(f)
            | ParseErrorKind::NegativeNotAllowed(f)
            | ParseErrorKind::Overflow(f) => Some(*f),
            ParseErrorKind::DuplicateRegion { .. } => Some(Field::RegionId),
            _ => None,
        }
    }

    /// True when the input broke a configured limit rather than the grammar.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ParseErrorKind::InputTooLarge { .. }
                | ParseErrorKind::TooManySegments { .. }
                | ParseErrorKind::TooManyRegions { .. }
                | ParseErrorKind::RangeIdTooLong { .. }
        )
    }
}

/// A token that could not be parsed, with the place it went wrong.
///
/// The message names the segment (index from 0, and its range id once known), the field,
/// the offending text and the byte offset of that text in the input:
///
/// ```
/// use cosmos_session_token::SessionToken;
/// let err = SessionToken::parse("0:1#5,17:1#x1").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"segment 1 (range "17"): global LSN "x1" is not a decimal number (byte 11)"#
/// );
/// assert_eq!(err.segment(), Some(1));
/// assert_eq!(err.offset(), 11);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    segment: Option<usize>,
    range_id: Option<String>,
    offset: usize,
    text: String,
}

/// Longest piece of offending text quoted in a message; longer text is cut (on a char boundary).
const MAX_QUOTED: usize = 64;

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize, text: &str) -> Self {
        let mut end = text.len().min(MAX_QUOTED);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        ParseError {
            kind,
            segment: None,
            range_id: None,
            offset,
            text: text[..end].to_owned(),
        }
    }

    pub(crate) fn in_segment(mut self, index: usize, range_id: Option<&str>) -> Self {
        self.segment = Some(index);
        self.range_id = range_id.map(str::to_owned);
        self
    }

    /// What was wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// Index (from 0) of the segment that failed, when the error is inside one.
    pub fn segment(&self) -> Option<usize> {
        self.segment
    }

    /// Range id of the failing segment, when it was read before the error.
    pub fn range_id(&self) -> Option<&str> {
        self.range_id.as_deref()
    }

    /// Byte offset in the input where the offending text starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The offending text (at most 64 bytes of it).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.segment, &self.range_id) {
            (Some(i), Some(id)) => write!(f, "segment {i} (range {id:?}): ")?,
            (Some(i), None) => write!(f, "segment {i}: ")?,
            _ => {}
        }
        let t = &self.text;
        match &self.kind {
            ParseErrorKind::Empty => f.write_str("session token is empty")?,
            ParseErrorKind::InvalidUtf8 => f.write_str("input is not valid UTF-8")?,
            ParseErrorKind::EmptySegment => f.write_str("empty segment")?,
            ParseErrorKind::MissingColon => {
                write!(f, "{t:?} has no ':' between range id and value")?
            }
            ParseErrorKind::EmptyRangeId => f.write_str("range id is empty")?,
            ParseErrorKind::InvalidRangeId { ch } => {
                write!(f, "range id {t:?} contains {ch:?}, which is not allowed")?
            }
            ParseErrorKind::DuplicateRangeId => write!(f, "range id {t:?} appears more than once")?,
            ParseErrorKind::EmptyField(field) => write!(f, "{field} is empty")?,
            ParseErrorKind::NotANumber(field) => {
                write!(f, "{field} {t:?} is not a decimal number")?
            }
            ParseErrorKind::PlusSign(field) => write!(f, "{field} {t:?} has a '+' sign")?,
            ParseErrorKind::LeadingZero(field) => write!(f, "{field} {t:?} has leading zeros")?,
            ParseErrorKind::NegativeZero(field) => write!(f, "{field} {t:?} is a negative zero")?,
            ParseErrorKind::NegativeNotAllowed(field) => {
                write!(f, "{field} {t:?} must not be negative")?
            }
            ParseErrorKind::Overflow(field) => {
                write!(f, "{field} {t:?} does not fit in {}", field.type_name())?
            }
            ParseErrorKind::MissingEquals => write!(f, "region entry {t:?} has no '='")?,
            ParseErrorKind::EmptyRegionEntry => f.write_str("empty region entry ('##')")?,
            ParseErrorKind::TrailingSeparator => f.write_str("value ends with '#'")?,
            ParseErrorKind::DuplicateRegion { id } => {
                write!(f, "region {id} appears more than once")?
            }
            ParseErrorKind::InputTooLarge { len, max } => {
                write!(f, "input is {len} bytes, more than the limit of {max}")?
            }
            ParseErrorKind::TooManySegments { max } => {
                write!(f, "more than {max} segments (limit)")?
            }
            ParseErrorKind::TooManyRegions { max } => {
                write!(f, "more than {max} regions in one value (limit)")?
            }
            ParseErrorKind::RangeIdTooLong { len, max } => {
                write!(f, "range id is {len} bytes, more than the limit of {max}")?
            }
        }
        write!(f, " (byte {})", self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Two tokens that cannot be merged under the chosen [`MergePolicy`](crate::MergePolicy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Same version, different region sets, and [`RegionMismatch::Error`](crate::RegionMismatch::Error).
    #[error(
        "range {range_id:?}: cannot merge {left:?} and {right:?}: same version but different region sets \
         (use the union-regions policy to combine them)"
    )]
    RegionMismatch {
        /// Range id of the conflicting segments.
        range_id: String,
        /// The left value, rendered.
        left: String,
        /// The right value, rendered.
        right: String,
    },
    /// More parent range ids than [`MAX_SCOPE_PARENTS`](crate::MAX_SCOPE_PARENTS).
    #[error("{len} parent range ids, more than the limit of {max}")]
    TooManyParents {
        /// Parents given.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl MergeError {
    /// A stable snake_case identifier, shared by every binding and the test vectors.
    pub fn code(&self) -> Code {
        match self {
            MergeError::RegionMismatch { .. } => Code::RegionMismatch,
            MergeError::TooManyParents { .. } => Code::TooManyItems,
        }
    }
}
