//! Strict and lenient parsing, limits, and the warnings lenient parsing reports.
//!
//! Strict grammar (the default):
//!
//! ```text
//! token    = segment *( "," segment )
//! segment  = range-id ":" value                 ; range ids unique within a token
//! range-id = 1*256( any char but "," ":" "#" "=" whitespace control )
//! value    = vector / simple
//! vector   = version "#" global-lsn *( "#" region-id "=" local-lsn )   ; region ids unique
//! simple   = global-lsn
//! version  = [ "-" ] uint ; i64     global-lsn = uint ; i64
//! region-id = uint ; u32            local-lsn  = [ "-" ] uint ; i64
//! uint     = "0" / %x31-39 *DIGIT   ; ASCII digits, no leading zeros, no "+", no "-0"
//! ```

use std::fmt;

use crate::builder::Builder;
use crate::error::{Field, ParseError, ParseErrorKind};
use crate::index::RangeIndex;
use crate::merge::{MergePolicy, RegionMismatch, merge_value_into};
use crate::model::{OwnedSegment, OwnedValue, OwnedVector, RegionProgress, Regions, SessionToken};
use crate::parse_options::{Mode, ParseOptions};

/// Something lenient parsing normalised. [`WarningKind::code`] is stable across bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// Whitespace was trimmed around a segment, range id or value.
    TrimmedWhitespace,
    /// An empty segment was dropped.
    DroppedEmptySegment,
    /// A trailing `#` was dropped.
    TrailingSeparator,
    /// An empty region entry (`##`) was dropped.
    DroppedEmptyRegionEntry,
    /// A `+` sign was dropped.
    PlusSign(Field),
    /// Leading zeros were dropped.
    LeadingZero(Field),
    /// `-0` was read as `0`.
    NegativeZero(Field),
    /// A negative global LSN was accepted.
    NegativeGlobalLsn,
    /// A repeated region id: the last value was kept.
    DuplicateRegion {
        /// The repeated region id.
        id: u32,
    },
    /// A repeated range id: the segments were merged (union of regions).
    DuplicateRangeId,
}

impl WarningKind {
    /// A stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            WarningKind::TrimmedWhitespace => "trimmed_whitespace",
            WarningKind::DroppedEmptySegment => "dropped_empty_segment",
            WarningKind::TrailingSeparator => "trailing_separator",
            WarningKind::DroppedEmptyRegionEntry => "dropped_empty_region_entry",
            WarningKind::PlusSign(_) => "plus_sign",
            WarningKind::LeadingZero(_) => "leading_zero",
            WarningKind::NegativeZero(_) => "negative_zero",
            WarningKind::NegativeGlobalLsn => "negative_global_lsn",
            WarningKind::DuplicateRegion { .. } => "duplicate_region",
            WarningKind::DuplicateRangeId => "duplicate_range_id",
        }
    }
}

/// One normalisation made by lenient parsing, with where it happened.
///
/// ```
/// use cosmos_session_token::SessionToken;
/// let (token, warnings) = SessionToken::parse_lenient(" 0:1#007# ").unwrap();
/// assert_eq!(token.to_string(), "0:1#7");
/// let codes: Vec<_> = warnings.iter().map(|w| w.kind().code()).collect();
/// assert_eq!(codes, ["trimmed_whitespace", "leading_zero", "trailing_separator"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    kind: WarningKind,
    segment: Option<usize>,
    offset: usize,
    text: String,
}

impl Warning {
    /// What was normalised.
    pub fn kind(&self) -> &WarningKind {
        &self.kind
    }
    /// Index (from 0, counting every `,`-separated piece) of the segment concerned.
    pub fn segment(&self) -> Option<usize> {
        self.segment
    }
    /// Byte offset in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// The text that was normalised.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.segment {
            write!(f, "segment {i}: ")?;
        }
        let t = &self.text;
        match &self.kind {
            WarningKind::TrimmedWhitespace => write!(f, "trimmed whitespace around {t:?}")?,
            WarningKind::DroppedEmptySegment => f.write_str("dropped an empty segment")?,
            WarningKind::TrailingSeparator => f.write_str("dropped a trailing '#'")?,
            WarningKind::DroppedEmptyRegionEntry => f.write_str("dropped an empty region entry")?,
            WarningKind::PlusSign(field) => write!(f, "dropped the '+' of {field} {t:?}")?,
            WarningKind::LeadingZero(field) => write!(f, "dropped leading zeros of {field} {t:?}")?,
            WarningKind::NegativeZero(field) => write!(f, "read {field} {t:?} as 0")?,
            WarningKind::NegativeGlobalLsn => write!(f, "accepted negative global LSN {t:?}")?,
            WarningKind::DuplicateRegion { id } => {
                write!(f, "region {id} repeated; kept the last value")?
            }
            WarningKind::DuplicateRangeId => {
                write!(f, "range id {t:?} repeated; merged the segments")?
            }
        }
        write!(f, " (byte {})", self.offset)
    }
}

/// The result of [`SessionToken::parse_with`]: the token and what was normalised.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The parsed token.
    pub token: SessionToken,
    /// Normalisations (always empty in strict mode).
    pub warnings: Vec<Warning>,
}

impl SessionToken {
    /// Parses a header value strictly, with default limits.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100#1=20#2=-1").unwrap();
    /// assert_eq!(t.to_string(), "0:1#100#1=20#2=-1");
    /// assert!(SessionToken::parse("0:+1#100").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<SessionToken, ParseError> {
        // The scanner directly: no `Parsed` (and no warnings list) to build and unwrap.
        match crate::scan::scan(s, &ParseOptions::STRICT.limits) {
            Some(token) => Ok(token),
            None => SessionToken::parse_declined(s),
        }
    }

    /// The full parser for input the scanner declined: kept out of line, so the hot path of
    /// `parse` stays small.
    #[cold]
    #[inline(never)]
    fn parse_declined(s: &str) -> Result<SessionToken, ParseError> {
        SessionToken::__parse_reference(s, &ParseOptions::STRICT).map(|parsed| parsed.token)
    }

    /// Parses leniently, with default limits, returning what was normalised.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let (t, warnings) = SessionToken::parse_lenient("0:1#5,,0:1#6").unwrap();
    /// assert_eq!(t.to_string(), "0:1#6");
    /// assert_eq!(warnings.len(), 2);
    /// ```
    pub fn parse_lenient(s: &str) -> Result<(SessionToken, Vec<Warning>), ParseError> {
        let parsed = SessionToken::parse_with(s, &ParseOptions::LENIENT)?;
        Ok((parsed.token, parsed.warnings))
    }

    /// Parses with explicit options.
    ///
    /// ```
    /// use cosmos_session_token::{Limits, ParseOptions, SessionToken};
    /// let opts = ParseOptions { limits: Limits { max_segments: 1, ..Limits::DEFAULT }, ..Default::default() };
    /// let err = SessionToken::parse_with("0:5,1:6", &opts).unwrap_err();
    /// assert_eq!(err.kind().code(), "too_many_segments");
    /// ```
    #[inline]
    pub fn parse_with(s: &str, options: &ParseOptions) -> Result<Parsed, ParseError> {
        // A well-formed token is the same under both modes (lenient mode only differs on input
        // strict mode rejects), so the one-pass scanner serves both; anything it declines is
        // re-read by the full parser, which owns every error and warning.
        if let Some(token) = crate::scan::scan(s, &options.limits) {
            return Ok(Parsed {
                token,
                warnings: Vec::new(),
            });
        }
        SessionToken::__parse_reference(s, options)
    }

    /// The full parser alone, without the one-pass scanner in front of it: the reference the
    /// differential tests and fuzz target compare the scanner against. Not part of the API.
    #[doc(hidden)]
    pub fn __parse_reference(s: &str, options: &ParseOptions) -> Result<Parsed, ParseError> {
        let mut p = Parser::new(s, options);
        let token = p.run()?;
        Ok(Parsed {
            token,
            warnings: p.warnings,
        })
    }

    /// Parses bytes (checked as UTF-8 first) with explicit options.
    ///
    /// ```
    /// use cosmos_session_token::{ParseOptions, SessionToken};
    /// let err = SessionToken::parse_bytes(b"0:\xff", &ParseOptions::STRICT).unwrap_err();
    /// assert_eq!(err.kind().code(), "invalid_utf8");
    /// assert_eq!(err.offset(), 2);
    /// ```
    #[inline]
    pub fn parse_bytes(bytes: &[u8], options: &ParseOptions) -> Result<Parsed, ParseError> {
        match std::str::from_utf8(bytes) {
            Ok(s) => SessionToken::parse_with(s, options),
            Err(e) => Err(ParseError::new(
                ParseErrorKind::InvalidUtf8,
                e.valid_up_to(),
                "",
            )),
        }
    }
}

impl std::str::FromStr for SessionToken {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionToken::parse(s)
    }
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map_or(bytes.len(), |p| from + p)
}

struct Parser<'a> {
    input: &'a str,
    options: &'a ParseOptions,
    warnings: Vec<Warning>,
    segment: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, options: &'a ParseOptions) -> Self {
        Parser {
            input,
            options,
            warnings: Vec::new(),
            segment: 0,
        }
    }

    fn lenient(&self) -> bool {
        self.options.mode == Mode::Lenient
    }

    fn warn(&mut self, kind: WarningKind, offset: usize, text: &str) {
        self.warnings.push(Warning {
            kind,
            segment: Some(self.segment),
            offset,
            text: text.to_owned(),
        });
    }

    /// Strict: the kind is an error. Lenient: it becomes a warning and parsing goes on.
    fn tolerate(
        &mut self,
        error: ParseErrorKind,
        warning: WarningKind,
        offset: usize,
        text: &str,
    ) -> Result<(), ParseError> {
        if self.lenient() {
            self.warn(warning, offset, text);
            Ok(())
        } else {
            Err(ParseError::new(error, offset, text))
        }
    }

    /// Trims whitespace in lenient mode, returning the trimmed text and its offset.
    fn trim(&mut self, text: &'a str, offset: usize) -> (&'a str, usize) {
        if !self.lenient() {
            return (text, offset);
        }
        let start = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        if trimmed.len() != text.len() {
            self.warn(WarningKind::TrimmedWhitespace, offset, text);
        }
        (trimmed, offset + start)
    }

    fn run(&mut self) -> Result<SessionToken, ParseError> {
        let input = self.input;
        let limits = self.options.limits;
        if input.len() > limits.max_input_bytes {
            return Err(ParseError::new(
                ParseErrorKind::InputTooLarge {
                    len: input.len(),
                    max: limits.max_input_bytes,
                },
                0,
                "",
            ));
        }
        if input.is_empty() {
            return Err(ParseError::new(ParseErrorKind::Empty, 0, ""));
        }
        let bytes = input.as_bytes();
        // Size the list once: the number of pieces is known after one pass over the bytes, and
        // capped by the limit, so a hostile input cannot make this allocation large.
        let pieces = bytes.iter().filter(|&&b| b == b',').count() + 1;
        let mut segments: Vec<OwnedSegment> = Vec::with_capacity(pieces.min(limits.max_segments));
        let mut index = RangeIndex::default();
        let mut start = 0;
        loop {
            let end = find_byte(bytes, start, b',');
            if self.segment >= limits.max_segments {
                return Err(ParseError::new(
                    ParseErrorKind::TooManySegments {
                        max: limits.max_segments,
                    },
                    start,
                    "",
                ));
            }
            self.segment_at(&input[start..end], start, &mut segments, &mut index)?;
            if end == bytes.len() {
                break;
            }
            start = end + 1;
            self.segment += 1;
        }
        if segments.is_empty() {
            return Err(ParseError::new(ParseErrorKind::Empty, 0, ""));
        }
        // Lenient parsing merges repeated ids in place, so segments are collected owned and
        // packed into the token's layout once at the end (this is the slow, full path).
        Ok(Builder::packed(&segments))
    }

    fn segment_at(
        &mut self,
        piece: &'a str,
        offset: usize,
        segments: &mut Vec<OwnedSegment>,
        index: &mut RangeIndex,
    ) -> Result<(), ParseError> {
        let at = self.segment;
        let (piece, offset) = self.trim(piece, offset);
        if piece.is_empty() {
            return self
                .tolerate(
                    ParseErrorKind::EmptySegment,
                    WarningKind::DroppedEmptySegment,
                    offset,
                    piece,
                )
                .map_err(|e| e.in_segment(at, None));
        }
        let Some(colon) = piece.find(':') else {
            return Err(
                ParseError::new(ParseErrorKind::MissingColon, offset, piece).in_segment(at, None)
            );
        };
        let (id, id_offset) = self.trim(&piece[..colon], offset);
        crate::range_id::check(id, id_offset, self.options.limits.max_range_id_bytes)
            .map_err(|e| e.in_segment(at, None))?;
        let (value, value_offset) = self.trim(&piece[colon + 1..], offset + colon + 1);
        let value = self
            .value(value, value_offset)
            .map_err(|e| e.in_segment(at, Some(id)))?;
        match index.find(segments.as_slice(), id) {
            None => {
                segments.push(OwnedSegment {
                    range_id: id.into(),
                    value,
                });
                index.pushed(segments.as_slice());
            }
            Some(existing) => {
                if !self.lenient() {
                    return Err(
                        ParseError::new(ParseErrorKind::DuplicateRangeId, id_offset, id)
                            .in_segment(at, Some(id)),
                    );
                }
                self.warn(WarningKind::DuplicateRangeId, id_offset, id);
                let union = MergePolicy {
                    region_mismatch: RegionMismatch::Union,
                    ..MergePolicy::DEFAULT
                };
                // The union policy cannot fail; map defensively rather than unwrap.
                merge_value_into(&mut segments[existing], value.view(), &union).map_err(|_| {
                    ParseError::new(ParseErrorKind::DuplicateRangeId, id_offset, id)
                        .in_segment(at, Some(id))
                })?;
            }
        }
        Ok(())
    }

    fn value(&mut self, value: &'a str, offset: usize) -> Result<OwnedValue, ParseError> {
        let bytes = value.as_bytes();
        let hash = find_byte(bytes, 0, b'#');
        if hash == bytes.len() {
            let global_lsn = self.number(value, offset, Field::GlobalLsn)?;
            return Ok(OwnedValue::Simple { global_lsn });
        }
        let version = self.number(&value[..hash], offset, Field::Version)?;
        let glsn_end = find_byte(bytes, hash + 1, b'#');
        let global_lsn = self.number(
            &value[hash + 1..glsn_end],
            offset + hash + 1,
            Field::GlobalLsn,
        )?;
        let mut regions = Regions::new();
        let mut cur = glsn_end;
        while cur < bytes.len() {
            let entry_start = cur + 1;
            let entry_end = find_byte(bytes, entry_start, b'#');
            let entry = &value[entry_start..entry_end];
            if entry.is_empty() {
                if entry_end == bytes.len() {
                    self.tolerate(
                        ParseErrorKind::TrailingSeparator,
                        WarningKind::TrailingSeparator,
                        offset + cur,
                        "#",
                    )?;
                } else {
                    self.tolerate(
                        ParseErrorKind::EmptyRegionEntry,
                        WarningKind::DroppedEmptyRegionEntry,
                        offset + cur,
                        "##",
                    )?;
                }
            } else {
                self.region(entry, offset + entry_start, &mut regions)?;
            }
            cur = entry_end;
        }
        Ok(OwnedValue::Vector(OwnedVector {
            version,
            global_lsn,
            regions,
        }))
    }

    fn region(
        &mut self,
        entry: &'a str,
        offset: usize,
        regions: &mut Regions,
    ) -> Result<(), ParseError> {
        let Some(eq) = entry.find('=') else {
            return Err(ParseError::new(
                ParseErrorKind::MissingEquals,
                offset,
                entry,
            ));
        };
        let id = self.number(&entry[..eq], offset, Field::RegionId)?;
        let id = u32::try_from(id).map_err(|_| {
            ParseError::new(
                ParseErrorKind::Overflow(Field::RegionId),
                offset,
                &entry[..eq],
            )
        })?;
        let local_lsn = self.number(&entry[eq + 1..], offset + eq + 1, Field::LocalLsn)?;
        if let Some(existing) = regions.iter_mut().find(|r| r.id == id) {
            self.tolerate(
                ParseErrorKind::DuplicateRegion { id },
                WarningKind::DuplicateRegion { id },
                offset,
                entry,
            )?;
            existing.local_lsn = local_lsn;
            return Ok(());
        }
        if regions.len() >= self.options.limits.max_regions {
            return Err(ParseError::new(
                ParseErrorKind::TooManyRegions {
                    max: self.options.limits.max_regions,
                },
                offset,
                entry,
            ));
        }
        regions.push(RegionProgress { id, local_lsn });
        Ok(())
    }

    /// Parses one decimal field without wrapping: overflow is an error.
    fn number(&mut self, text: &'a str, offset: usize, field: Field) -> Result<i64, ParseError> {
        let bytes = text.as_bytes();
        let Some(&first) = bytes.first() else {
            return Err(ParseError::new(
                ParseErrorKind::EmptyField(field),
                offset,
                text,
            ));
        };
        let (negative, digits) = match first {
            b'-' => (true, &bytes[1..]),
            b'+' => {
                self.tolerate(
                    ParseErrorKind::PlusSign(field),
                    WarningKind::PlusSign(field),
                    offset,
                    text,
                )?;
                (false, &bytes[1..])
            }
            _ => (false, bytes),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::new(
                ParseErrorKind::NotANumber(field),
                offset,
                text,
            ));
        }
        if negative {
            match field {
                Field::RegionId => {
                    return Err(ParseError::new(
                        ParseErrorKind::NegativeNotAllowed(field),
                        offset,
                        text,
                    ));
                }
                Field::GlobalLsn => self.tolerate(
                    ParseErrorKind::NegativeNotAllowed(field),
                    WarningKind::NegativeGlobalLsn,
                    offset,
                    text,
                )?,
                Field::Version | Field::LocalLsn => {}
            }
        }
        if digits.len() > 1 && digits[0] == b'0' {
            self.tolerate(
                ParseErrorKind::LeadingZero(field),
                WarningKind::LeadingZero(field),
                offset,
                text,
            )?;
        }
        if negative && digits.iter().all(|&d| d == b'0') {
            self.tolerate(
                ParseErrorKind::NegativeZero(field),
                WarningKind::NegativeZero(field),
                offset,
                text,
            )?;
        }
        let overflow = || ParseError::new(ParseErrorKind::Overflow(field), offset, text);
        // Accumulate towards the sign so that i64::MIN itself parses.
        let mut n: i64 = 0;
        for &d in digits {
            let d = i64::from(d - b'0');
            n = n.checked_mul(10).ok_or_else(overflow)?;
            n = if negative {
                n.checked_sub(d)
            } else {
                n.checked_add(d)
            }
            .ok_or_else(overflow)?;
        }
        if field == Field::RegionId && n > i64::from(u32::MAX) {
            return Err(overflow());
        }
        Ok(n)
    }
}
