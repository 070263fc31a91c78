//! The one-pass scanner behind strict parsing: the fast path for well-formed tokens.
//!
//! It reads every byte once — sign, digits, leading zero, `-0`, overflow and the separator that
//! ends each field are all decided in the same pass — and builds the token directly. It never
//! produces an error: on anything it does not accept it returns `None`, and the caller re-reads
//! the input with the full parser (`parse.rs`), which finds the exact error kind, segment, range
//! id and byte offset. Errors therefore stay byte-identical, and the error path (rare, and
//! already the slower one) pays for a second read instead of the hot path paying for bookkeeping.
//!
//! Soundness rule: `scan(s)` returns `Some(t)` only if the full strict parser returns `Ok(t)`.
//! The differential tests (`tests/scan_differential.rs`) and the fuzz target `parse_differential`
//! check exactly that.

use crate::SessionToken;
use crate::index::RangeIndex;
use crate::model::{RegionProgress, Regions, Segment, SegmentValue, Segments, VectorValue};
use crate::parse::Limits;

/// Scans a strict token, or returns `None` when the full parser must decide.
pub(crate) fn scan(input: &str, limits: &Limits) -> Option<SessionToken> {
    let bytes = input.as_bytes();
    if bytes.is_empty() || bytes.len() > limits.max_input_bytes {
        return None;
    }
    // A typical token has one segment and fits the list's inline slot, so nothing is counted
    // up front. Past the first comma, the remaining commas are counted once (a tight loop) and
    // the list reserved once: it never regrows, and the count is checked against the limit
    // before anything is reserved, so a hostile input cannot make the reservation large.
    let mut segments = Segments::new();
    let mut index = RangeIndex::default();
    let mut at = 0;
    loop {
        let (segment, end) = segment(input, at, limits)?;
        if index.find(&segments, &segment.range_id).is_some() {
            return None;
        }
        segments.push(segment);
        index.pushed(&segments);
        if end == bytes.len() {
            return Some(SessionToken { segments });
        }
        // `end` is at a comma: the next segment starts after it.
        at = end + 1;
        if segments.len() == 1 {
            // A sum of 0/1 bytes vectorises; `filter().count()` does not.
            let rest = bytes[at..]
                .iter()
                .map(|&b| usize::from(b == b','))
                .sum::<usize>()
                + 1;
            if 1 + rest > limits.max_segments {
                return None;
            }
            segments.reserve_exact(rest);
        }
    }
}

/// One `rangeId:value` segment starting at `at`; returns it and the index just past it.
fn segment(input: &str, at: usize, limits: &Limits) -> Option<(Segment, usize)> {
    let bytes = input.as_bytes();
    let mut i = at;
    let mut decimal = true;
    while i < bytes.len() && bytes[i] != b':' {
        let b = bytes[i];
        if b == b',' {
            return None;
        }
        decimal &= b.is_ascii_digit();
        i += 1;
    }
    if i == bytes.len() || i == at || i - at > limits.max_range_id_bytes {
        return None;
    }
    let range_id = &input[at..i];
    // Non-decimal ids are rare: the grammar's character checks live in one place.
    if !decimal && crate::range_id::check(range_id, at, limits.max_range_id_bytes).is_err() {
        return None;
    }
    i += 1;
    let first = number(bytes, &mut i, true)?;
    let value = if i == bytes.len() || bytes[i] == b',' {
        if first < 0 {
            return None; // a negative global LSN is an error (or a lenient warning)
        }
        SegmentValue::Simple { global_lsn: first }
    } else if bytes[i] == b'#' {
        i += 1;
        let global_lsn = number(bytes, &mut i, false)?;
        let mut regions = Regions::new();
        while i < bytes.len() && bytes[i] == b'#' {
            i += 1;
            let id = number(bytes, &mut i, false)?;
            if i == bytes.len() || bytes[i] != b'=' {
                return None;
            }
            i += 1;
            let local_lsn = number(bytes, &mut i, true)?;
            let id = u32::try_from(id).ok()?;
            if regions.len() >= limits.max_regions || regions.iter().any(|r| r.id == id) {
                return None;
            }
            regions.push(RegionProgress { id, local_lsn });
        }
        if i < bytes.len() && bytes[i] != b',' {
            return None;
        }
        SegmentValue::Vector(VectorValue {
            version: first,
            global_lsn,
            regions,
        })
    } else {
        return None;
    };
    Some((
        Segment {
            range_id: range_id.into(),
            value,
        },
        i,
    ))
}

/// One canonical decimal field at `*i`: an optional `-` (when allowed), then digits with no
/// leading zero, no `-0`, within `i64`. Advances `*i` past the digits.
#[inline]
fn number(bytes: &[u8], i: &mut usize, allow_negative: bool) -> Option<i64> {
    let negative = allow_negative && bytes.get(*i) == Some(&b'-');
    let start = *i + usize::from(negative);
    let mut end = start;
    let mut n: u64 = 0;
    // One byte per step: in real tokens most fields are short (region ids, versions, 6-12 digit
    // LSNs), where an eight-byte SWAR step measured more instructions than this loop (see
    // benches/RESULTS.md). 19 digits always fit a u64 (10^19 - 1 < 2^64), so accumulate
    // unchecked up to there; a 20th digit is an overflow.
    while end < bytes.len() && end - start < 19 {
        let d = bytes[end].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n * 10 + u64::from(d);
        end += 1;
    }
    let digits = end - start;
    if digits == 0
        || (end < bytes.len() && bytes[end].is_ascii_digit())
        || (digits > 1 && bytes[start] == b'0')
        || (negative && n == 0)
    {
        return None;
    }
    *i = end;
    if negative {
        // i64::MIN's magnitude is 2^63, one more than i64::MAX.
        if n > 1 << 63 {
            return None;
        }
        Some((n as i64).wrapping_neg())
    } else {
        i64::try_from(n).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str, neg: bool) -> Option<i64> {
        let mut i = 0;
        let n = number(s.as_bytes(), &mut i, neg)?;
        (i == s.len()).then_some(n)
    }

    #[test]
    fn numbers_at_the_edges() {
        assert_eq!(num("0", false), Some(0));
        assert_eq!(num("9223372036854775807", false), Some(i64::MAX));
        assert_eq!(num("9223372036854775808", false), None);
        assert_eq!(num("-9223372036854775808", true), Some(i64::MIN));
        assert_eq!(num("-9223372036854775809", true), None);
        assert_eq!(num("18446744073709551616", false), None);
        assert_eq!(num("99999999999999999999", false), None);
        assert_eq!(num("-1", false), None);
        assert_eq!(num("-0", true), None);
        assert_eq!(num("01", false), None);
        assert_eq!(num("-", true), None);
        assert_eq!(num("", false), None);
        assert_eq!(num("+1", false), None);
        assert_eq!(
            num("1234567890123456789", false),
            Some(1_234_567_890_123_456_789)
        );
        assert_eq!(
            num("-1234567890123456789", true),
            Some(-1_234_567_890_123_456_789)
        );
        assert_eq!(num("12345678901234567890123456", false), None);
        assert_eq!(num("100000000", false), Some(100_000_000));
    }

    #[test]
    fn scans_what_the_parser_accepts_and_declines_the_rest() {
        let limits = Limits::DEFAULT;
        for ok in ["0:1#5#1=2#2=-1", "0:5", "a-b:-1#0,7:3", "0:1#5,1:6"] {
            assert_eq!(
                scan(ok, &limits).map(|t| t.to_string()),
                Some(SessionToken::parse(ok).unwrap().to_string())
            );
        }
        for declined in [
            "",
            "0:",
            "0:1#",
            "0:1##",
            "0:1#5#1",
            "0:1#5#1=2#1=3",
            "0:5,0:6",
            "0:-5",
            ":5",
            "0:5,",
            "0 :5",
            "0:1#5#4294967296=1",
            "a#:5",
        ] {
            assert!(scan(declined, &limits).is_none(), "{declined:?}");
            assert!(SessionToken::parse(declined).is_err(), "{declined:?}");
        }
    }
}
