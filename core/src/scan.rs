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
use crate::model::{INLINE_REGIONS, Record, Records, RegionProgress, Regions, Spans, TokenText};
use crate::parse_options::Limits;

/// Where a value's regions go while scanning: a plain `Vec` (whose `push` inlines to a compare
/// and a store, unlike the small vector's) once the token has more than one segment, and a
/// fixed array for the first segment, so a one-segment token allocates no region list at all.
trait RegionList {
    fn len(&self) -> usize;
    /// The regions from `start` on (the current value's, for the duplicate check).
    fn since(&self, start: usize) -> &[RegionProgress];
    fn push(&mut self, region: RegionProgress);
}

impl RegionList for Vec<RegionProgress> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn since(&self, start: usize) -> &[RegionProgress] {
        self.get(start..).unwrap_or_default()
    }
    #[inline(always)]
    fn push(&mut self, region: RegionProgress) {
        self.push(region);
    }
}

/// The first segment's regions: inline up to [`INLINE_REGIONS`], then a `Vec`.
struct FirstRegions {
    inline: [RegionProgress; INLINE_REGIONS],
    len: usize,
    spilled: Vec<RegionProgress>,
}

impl FirstRegions {
    fn new() -> Self {
        FirstRegions {
            inline: [RegionProgress {
                id: 0,
                local_lsn: 0,
            }; INLINE_REGIONS],
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn as_slice(&self) -> &[RegionProgress] {
        self.since(0)
    }

    fn into_regions(self) -> Regions {
        if self.len <= INLINE_REGIONS {
            Regions::from_buf_and_len(self.inline, self.len)
        } else {
            Regions::from_vec(self.spilled)
        }
    }
}

impl RegionList for FirstRegions {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn since(&self, start: usize) -> &[RegionProgress] {
        if self.len <= INLINE_REGIONS {
            self.inline.get(start..self.len).unwrap_or_default()
        } else {
            self.spilled.get(start..).unwrap_or_default()
        }
    }
    #[inline(always)]
    fn push(&mut self, region: RegionProgress) {
        if self.len < INLINE_REGIONS {
            self.inline[self.len] = region;
        } else {
            if self.len == INLINE_REGIONS {
                // Room for twice the inline count at once: a value of up to eight regions
                // spills with one allocation.
                self.spilled.reserve_exact(2 * INLINE_REGIONS);
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(region);
        }
        self.len += 1;
    }
}

/// Scans a strict token, or returns `None` when the full parser must decide. Inlined into its
/// two callers so that the token is built where the caller returns it: a token is ~190 bytes,
/// and every move of it is a `memcpy` call (~70 instructions a parse measured without this).
#[inline(always)]
pub(crate) fn scan(input: &str, limits: &Limits) -> Option<SessionToken> {
    let bytes = input.as_bytes();
    if bytes.is_empty() || bytes.len() > limits.max_input_bytes {
        return None;
    }
    // A typical token has one segment: its record and regions stay inline, nothing is counted.
    let mut distinct = Distinct::default();
    let mut first_regions = FirstRegions::new();
    let (end, first) = segment(input, 0, limits, &[], &mut first_regions, &mut distinct)?;
    if end == bytes.len() {
        return Some(parsed(
            input,
            Records::from_buf([first]),
            first_regions.into_regions(),
        ));
    }
    scan_more(input, limits, end, first, &first_regions, distinct)
}

/// The token scanned from `input`. Its text is the header value exactly: the strict grammar
/// admits one spelling of every number and keeps ids and region order as written, so a parsed
/// token renders as a copy.
#[inline(always)]
fn parsed(input: &str, records: Records, regions: Regions) -> SessionToken {
    SessionToken {
        text: TokenText::copy_of(input),
        rendered: true,
        records,
        regions,
    }
}

/// The segments after the first (`end` is the first comma), and the token. Kept out of line:
/// it is the rarer path, and inlined with the single-segment path its loop measured slower.
#[inline(never)]
fn scan_more<'a>(
    input: &'a str,
    limits: &Limits,
    end: usize,
    first: Record,
    first_regions: &FirstRegions,
    mut distinct: Distinct<'a>,
) -> Option<SessionToken> {
    let bytes = input.as_bytes();
    // `end` is at a comma. The remaining commas are counted once (vectorised) and the lists
    // reserved once: for a token whose values list the same number of regions, they never
    // regrow. The segment count is checked against the limit before anything is reserved, and
    // the region estimate is bounded by the input's length, so a hostile input cannot make a
    // reservation large.
    let mut at = end + 1;
    let rest = &bytes[at..];
    let more = count(b',', rest) + 1;
    if 1 + more > limits.max_segments {
        return None;
    }
    let mut records = Vec::with_capacity(1 + more);
    records.push(first);
    // Regions: as many per segment as the first has (exact for the usual token, whose values
    // list the same regions), bounded by what the rest of the input can hold (a region takes at
    // least four bytes, `#1=2`); a token that lists more regions later grows the list.
    let region_guess = (first_regions.len() * more).min(rest.len() / 4);
    let mut regions = Vec::with_capacity(first_regions.len() + region_guess);
    regions.extend_from_slice(first_regions.as_slice());
    distinct.expected = 1 + more;
    loop {
        let (end, record) = segment(input, at, limits, &records, &mut regions, &mut distinct)?;
        records.push(record);
        distinct.pushed(&Spans {
            text: input,
            records: &records,
        });
        if end == bytes.len() {
            return Some(parsed(
                input,
                Records::from_vec(records),
                Regions::from_vec(regions),
            ));
        }
        at = end + 1;
    }
}

/// The scanner's duplicate check. Range ids that arrive in strictly increasing (length, bytes)
/// order — decimal ids as the service assigns them, rendered in numeric order, as writers usually
/// do — are distinct by construction and need no table at all; the first id out of that order
/// hands every id seen so far to the hash index ([`RangeIndex`], sized once for the whole
/// token), which decides from then on.
#[derive(Default)]
struct Distinct<'a> {
    /// The last id while ids are still increasing; `None` before the first.
    last: Option<LastId<'a>>,
    /// Set once an id broke the order: the index decides.
    indexed: bool,
    index: RangeIndex,
    /// Segments in the whole token (known after the first comma; 0 before).
    expected: usize,
}

/// The previous id, with its bytes as one number when it has at most eight (every id the
/// service assigns): the order check is then two integer compares, not a `memcmp` call.
#[derive(Clone, Copy)]
struct LastId<'a> {
    bytes: &'a [u8],
    key: Option<u64>,
}

/// The bytes of a short id as a big-endian number: for ids of equal length, numbers compare
/// as the bytes do.
#[inline(always)]
fn short_key(bytes: &[u8]) -> Option<u64> {
    (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |k, &b| k << 8 | u64::from(b)))
}

impl<'a> Distinct<'a> {
    /// True when `id` is not yet among the segments in `spans`; records it. `key` is the id's
    /// [`short_key`] when the caller has it already.
    #[inline(always)]
    fn admit(&mut self, spans: &Spans<'_>, id: &'a str, key: Option<u64>) -> bool {
        if !self.indexed {
            let bytes = id.as_bytes();
            let key = key.or_else(|| short_key(bytes));
            let increasing = self.last.is_none_or(|last| match (key, last.key) {
                (Some(k), Some(lk)) => (bytes.len(), k) > (last.bytes.len(), lk),
                _ => (bytes.len(), bytes) > (last.bytes.len(), last.bytes),
            });
            if increasing {
                self.last = Some(LastId { bytes, key });
                return true;
            }
            self.indexed = true;
            self.index
                .expect(spans, self.expected.max(spans.records.len() + 1));
        }
        // Reached only after an id broke the order, so there is at least one segment here.
        self.index.claim(spans, id)
    }

    /// Call after pushing the admitted segment.
    #[inline]
    fn pushed(&mut self, spans: &Spans<'_>) {
        if self.indexed {
            self.index.pushed(spans);
        }
    }
}

/// Number of `needle` bytes: `memchr`'s vectorised count (SSE2/AVX2, chosen at run time). A
/// `u8` sum per 255-byte block measured ~0.6 instructions per byte, `filter().count()` ~5.
fn count(needle: u8, bytes: &[u8]) -> usize {
    memchr::memchr_iter(needle, bytes).count()
}

/// One `rangeId:value` segment starting at `at` (after the segments in `records`): its regions
/// are appended to `regions`; returns the index just past it and its record.
#[inline(always)]
fn segment<'a, R: RegionList>(
    input: &'a str,
    at: usize,
    limits: &Limits,
    records: &[Record],
    regions: &mut R,
    distinct: &mut Distinct<'a>,
) -> Option<(usize, Record)> {
    let bytes = input.as_bytes();
    let mut i = at;
    // Decimal ids (what the service assigns) are read by the digit test alone; any other id is
    // delimited by `:` and checked against the grammar in one place (`range_id::check`).
    let rest = &bytes[at..];
    // A decimal id of up to seven digits (every id the service assigns) is measured with one
    // word test, and its order key is the same eight bytes read big-endian.
    let (mut len, mut key) = match rest.first_chunk::<8>() {
        Some(chunk) => match digit_run(u64::from_le_bytes(*chunk)) {
            n @ 1..=7 => (n, Some(u64::from_be_bytes(*chunk) >> (8 * (8 - n)))),
            _ => (rest.iter().position(|b| !b.is_ascii_digit())?, None),
        },
        None => (rest.iter().position(|b| !b.is_ascii_digit())?, None),
    };
    if rest[len] != b':' {
        key = None;
        len = rest.iter().position(|&b| b == b':' || b == b',')?;
        if rest[len] != b':' {
            return None;
        }
        let id = &input[at..at + len];
        if crate::range_id::check(id, at, limits.max_range_id_bytes).is_err() {
            return None;
        }
    }
    if len == 0 || len > limits.max_range_id_bytes {
        return None;
    }
    let range_id = &input[at..at + len];
    i += len;
    let spans = Spans {
        text: input,
        records,
    };
    if !distinct.admit(&spans, range_id, key) {
        return None;
    }
    i += 1;
    let first = number::<false>(bytes, &mut i, true)?;
    let (vector, version, global_lsn) = if i == bytes.len() || bytes[i] == b',' {
        if first < 0 {
            return None; // a negative global LSN is an error (or a lenient warning)
        }
        (false, 0, first)
    } else if bytes[i] == b'#' {
        i += 1;
        let global_lsn = number::<true>(bytes, &mut i, false)?;
        // Regions go straight onto the token's flat list; this value's start there bounds the
        // duplicate check.
        let start = regions.len();
        loop {
            // `#d=` with a one-digit region id (the usual case) is one three-byte test.
            let id = match bytes.get(i..i + 3) {
                Some(&[b'#', d @ b'0'..=b'9', b'=']) => {
                    i += 3;
                    u32::from(d - b'0')
                }
                _ => {
                    if i >= bytes.len() || bytes[i] != b'#' {
                        break;
                    }
                    i += 1;
                    let id = number::<false>(bytes, &mut i, false)?;
                    if i == bytes.len() || bytes[i] != b'=' {
                        return None;
                    }
                    i += 1;
                    u32::try_from(id).ok()?
                }
            };
            let local_lsn = number::<true>(bytes, &mut i, true)?;
            let so_far = regions.since(start);
            if so_far.len() >= limits.max_regions || so_far.iter().any(|r| r.id == id) {
                return None;
            }
            regions.push(RegionProgress { id, local_lsn });
        }
        if i < bytes.len() && bytes[i] != b',' {
            return None;
        }
        (true, first, global_lsn)
    } else {
        return None;
    };
    let record = Record {
        id_start: at,
        id_end: at + len,
        regions_end: regions.len(),
        version,
        global_lsn,
        vector,
    };
    Some((i, record))
}

/// One canonical decimal field at `*i`: an optional `-` (when allowed), then digits with no
/// leading zero, no `-0`, within `i64`. Advances `*i` past the digits. `LONG` marks the fields
/// that are usually long (LSNs, 6 to 19 digits), which are worth reading eight bytes at a time;
/// on short fields (versions, region ids: one or two digits) the word step measured more
/// instructions than the byte loop, so they take the loop alone.
#[inline(always)]
fn number<const LONG: bool>(bytes: &[u8], i: &mut usize, allow_negative: bool) -> Option<i64> {
    let rest = bytes.get(*i..)?;
    let negative = allow_negative && rest.first() == Some(&b'-');
    let field = &rest[usize::from(negative)..];
    // Short fields (versions, region ids) are mostly one digit: decided in two byte tests.
    if !LONG
        && let [d, next, ..] = field
        && d.is_ascii_digit()
        && !next.is_ascii_digit()
    {
        let n = i64::from(d - b'0');
        if negative && n == 0 {
            return None;
        }
        *i += usize::from(negative) + 1;
        return Some(if negative { -n } else { n });
    }
    // Up to eight digits at once when eight bytes remain (LSNs have 6 to 19 digits); the rest,
    // and fields at the very end of the input, one byte per step. 19 digits always fit a u64
    // (10^19 - 1 < 2^64), so the sum needs no overflow check up to there; a 20th digit is an
    // overflow.
    // `more`: the digits may go on past what the word step read (or there was no word step).
    let (mut n, mut digits, more) = if !LONG {
        (0, 0, true)
    } else if let Some(chunk) = field.first_chunk::<8>() {
        let (n, digits) = eight_digits(u64::from_le_bytes(*chunk));
        (n, digits, digits == 8)
    } else if let (false, Some(last)) = (field.is_empty(), bytes.last_chunk::<8>()) {
        // Fewer than eight bytes left (the token's last field, usually an LSN): read the input's
        // last eight bytes and shift out the ones before the field; the zero bytes shifted in
        // end the digits like any other non-digit, so the word holds the whole field.
        let (n, digits) = eight_digits(u64::from_le_bytes(*last) >> (8 * (8 - field.len())));
        (n, digits, false)
    } else {
        (0, 0, true)
    };
    if more {
        // `limit` bounds the loop once: no bounds check and no second length test inside.
        let limit = field.len().min(19);
        while digits < limit {
            let d = field[digits].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n * 10 + u64::from(d);
            digits += 1;
        }
    }
    if digits == 0
        || (digits > 1 && field[0] == b'0')
        || (digits == 19 && field.get(19).is_some_and(u8::is_ascii_digit))
        || (negative && n == 0)
    {
        return None;
    }
    *i += usize::from(negative) + digits;
    if digits < 19 {
        // Below 10^18: fits an i64 either way, no range check needed.
        let n = n as i64;
        return Some(if negative { -n } else { n });
    }
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

/// How many of eight bytes (loaded little-endian into `word`) are leading decimal digits.
#[inline(always)]
fn digit_run(word: u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Little-endian: the first byte is the lowest. After subtracting '0' a digit byte is 0..=9;
    // any other byte has its high bit set either now (below '0', or 0xB0 and up) or after
    // adding 0x76 (from ':' up). Borrows and carries only run upwards from a non-digit byte, so
    // the lowest flagged byte is the first non-digit.
    let x = word.wrapping_sub(ONES * b'0' as u64);
    let non_digit = (x | x.wrapping_add(ONES * 0x76)) & (ONES * 0x80);
    (non_digit.trailing_zeros() / 8) as usize
}

/// The leading decimal digits of eight bytes (loaded little-endian into `word`), as (value, how
/// many: 0 to 8), with a handful of word operations instead of a loop (SWAR).
#[inline(always)]
fn eight_digits(word: u64) -> (u64, usize) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The bytes before the first non-digit stay exact after the subtraction (see `digit_run`).
    let len = digit_run(word);
    if len == 0 {
        return (0, 0);
    }
    let x = word.wrapping_sub(ONES * b'0' as u64);
    // Keep only the `len` digit bytes, moved to the top: the emptied low bytes read as leading
    // zeros. Then combine neighbours: pairs (x10), quads (x100), the whole (x10^4).
    let x = x << (8 * (8 - len));
    let x = (x * 10 + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    let x = (x * 100 + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    let x = (x * 10_000 + (x >> 32)) & 0xFFFF_FFFF;
    (x, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both variants of `number`, which must agree, on a whole field.
    fn num(s: &str, neg: bool) -> Option<i64> {
        let (mut i, mut j) = (0, 0);
        let short = number::<false>(s.as_bytes(), &mut i, neg);
        let long = number::<true>(s.as_bytes(), &mut j, neg);
        assert_eq!((short, i), (long, j), "{s:?}");
        // The same field at the end of a longer input (the last-eight-bytes path), and followed
        // by a separator.
        for (prefix, suffix) in [("0:1#2#33=", ""), ("", "#"), ("12345678", ",")] {
            let text = format!("{prefix}{s}{suffix}");
            let (mut a, mut b) = (prefix.len(), prefix.len());
            let short_there = number::<false>(text.as_bytes(), &mut a, neg);
            let long_there = number::<true>(text.as_bytes(), &mut b, neg);
            assert_eq!((short_there, a), (long_there, b), "{text:?}");
            assert_eq!((short_there, a - prefix.len()), (short, i), "{text:?}");
        }
        (i == s.len()).then_some(short?)
    }

    /// The digits a byte loop reads: the reference for `eight_digits`.
    fn leading_digits(bytes: &[u8]) -> (u64, usize) {
        let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let value = bytes[..len]
            .iter()
            .fold(0, |n, &b| n * 10 + u64::from(b - b'0'));
        (value, len)
    }

    #[test]
    fn eight_digits_reads_what_a_byte_loop_reads() {
        let alphabet = b"0123456789,:#=-/ \x7f\xff\xc3\xa9\x00\x2f\x3a";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            let mut chunk = [0u8; 8];
            for b in &mut chunk {
                // xorshift: a cheap deterministic stream, biased towards digits.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = (state % 24) as usize;
                *b = if pick < 10 {
                    b'0' + pick as u8
                } else {
                    alphabet[pick % alphabet.len()]
                };
            }
            assert_eq!(
                eight_digits(u64::from_le_bytes(chunk)),
                leading_digits(&chunk),
                "{chunk:?}"
            );
        }
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut chunk = *b"98765432";
                chunk[at] = b;
                assert_eq!(
                    eight_digits(u64::from_le_bytes(chunk)),
                    leading_digits(&chunk),
                    "{chunk:?}"
                );
            }
        }
    }

    #[test]
    fn counts_commas_across_blocks() {
        for n in [0, 1, 254, 255, 256, 511, 1000] {
            let all = ",".repeat(n);
            assert_eq!(count(b',', all.as_bytes()), n);
            let mixed = "0:1#2,".repeat(n);
            assert_eq!(count(b',', mixed.as_bytes()), n);
        }
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
        assert_eq!(num("12345678#", false), None); // not the whole field
        assert_eq!(num("123456789012345678901", false), None);
        assert_eq!(num("00000000", false), None);
        assert_eq!(num("10000000", false), Some(10_000_000));
        for k in 1..=20 {
            let nines = "9".repeat(k);
            let expected = nines.parse::<i64>().ok();
            assert_eq!(num(&nines, false), expected, "{nines}");
            assert_eq!(
                num(&format!("-{nines}"), true),
                expected.map(|n| -n),
                "-{nines}"
            );
            let padded = format!("0{nines}");
            assert_eq!(num(&padded, false), None, "{padded}");
        }
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
