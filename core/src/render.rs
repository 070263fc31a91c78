//! Rendering tokens back to header text, and measuring that text without building it.
//!
//! Rendering is on the hot path of every request, so it does not go through `fmt` per field:
//! every byte is written once into a plain buffer — on the stack when a cheap upper bound of the
//! length fits [`STACK_BYTES`] — and handed on as one string, so `to_string()` and
//! [`SessionToken::to_header_value`] cost one allocation of the right size and no length pass.
//! The exact length ([`SessionToken::encoded_len`]) is computed only where a buffer must be
//! sized exactly in advance (long tokens, a caller's buffer).

use std::fmt;

use crate::model::{RegionProgress, Segment, SegmentValue, SessionToken, VectorValue};

/// Largest text `Display` renders on the stack; longer text is rendered into a heap buffer.
const STACK_BYTES: usize = 256;

/// Longest decimal `i64` (`-9223372036854775808`) and `u32`.
const I64_BYTES: usize = 20;
const U32_BYTES: usize = 10;

/// Something with a header-text form.
trait Render {
    /// Exact length of the text in bytes.
    fn len(&self) -> usize;
    /// A length the text never exceeds, without measuring any number.
    fn max_len(&self) -> usize;
    /// Writes the text at the cursor.
    fn write(&self, out: &mut Cursor<'_>);
}

/// A write position in a buffer. Writes past the end are dropped and remembered (`overflow`), so
/// rendering never panics and a too-short caller buffer is reported, not overrun.
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
    overflow: bool,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Cursor {
            buf,
            at: 0,
            overflow: false,
        }
    }

    fn bytes(&mut self, s: &[u8]) {
        match self.buf.get_mut(self.at..self.at + s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s);
                self.at += s.len();
            }
            None => self.overflow = true,
        }
    }

    fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.at) {
            Some(dst) => {
                *dst = b;
                self.at += 1;
            }
            None => self.overflow = true,
        }
    }

    /// The text written so far. Everything written is ASCII or a whole range id (a `str`), so
    /// this always succeeds; the fallback keeps the function total without a panic path.
    fn text(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.at]).unwrap_or_default()
    }

    /// Writes `n` in decimal through `itoa` (four digits per step). Measured against it here
    /// and dropped as slower or no faster: a two-digit table walk writing in place from the
    /// computed length, a fixed 20-byte copy instead of `memcpy`, and eight digits at a time
    /// with word arithmetic (the call and its frame cost more than the digits save).
    fn int(&mut self, n: i64) {
        self.bytes(itoa::Buffer::new().format(n).as_bytes());
    }
}

impl Render for RegionProgress {
    fn len(&self) -> usize {
        decimal_len(i64::from(self.id)) + 1 + decimal_len(self.local_lsn)
    }
    fn max_len(&self) -> usize {
        U32_BYTES + 1 + I64_BYTES
    }
    fn write(&self, out: &mut Cursor<'_>) {
        out.int(i64::from(self.id));
        out.byte(b'=');
        out.int(self.local_lsn);
    }
}

impl Render for VectorValue<'_> {
    fn len(&self) -> usize {
        decimal_len(self.version)
            + 1
            + decimal_len(self.global_lsn)
            + self.regions.iter().map(|r| 1 + r.len()).sum::<usize>()
    }
    fn max_len(&self) -> usize {
        I64_BYTES + 1 + I64_BYTES + self.regions.len() * (1 + U32_BYTES + 1 + I64_BYTES)
    }
    fn write(&self, out: &mut Cursor<'_>) {
        out.int(self.version);
        out.byte(b'#');
        out.int(self.global_lsn);
        for r in self.regions {
            out.byte(b'#');
            r.write(out);
        }
    }
}

impl Render for SegmentValue<'_> {
    fn len(&self) -> usize {
        match self {
            SegmentValue::Simple { global_lsn } => decimal_len(*global_lsn),
            SegmentValue::Vector(v) => v.len(),
        }
    }
    fn max_len(&self) -> usize {
        match self {
            SegmentValue::Simple { .. } => I64_BYTES,
            SegmentValue::Vector(v) => v.max_len(),
        }
    }
    fn write(&self, out: &mut Cursor<'_>) {
        match self {
            SegmentValue::Simple { global_lsn } => out.int(*global_lsn),
            SegmentValue::Vector(v) => v.write(out),
        }
    }
}

impl Render for Segment<'_> {
    fn len(&self) -> usize {
        self.range_id.len() + 1 + self.value.len()
    }
    fn max_len(&self) -> usize {
        self.range_id.len() + 1 + self.value.max_len()
    }
    fn write(&self, out: &mut Cursor<'_>) {
        out.bytes(self.range_id.as_bytes());
        out.byte(b':');
        self.value.write(out);
    }
}

/// A token whose text is its header value renders as a copy of it.
impl Render for SessionToken {
    fn len(&self) -> usize {
        if self.rendered {
            return self.text.len();
        }
        self.iter().map(|s| s.len()).sum::<usize>() + self.len() - 1
    }
    fn max_len(&self) -> usize {
        if self.rendered {
            return self.text.len();
        }
        self.iter().map(|s| s.max_len()).sum::<usize>() + self.len()
    }
    fn write(&self, out: &mut Cursor<'_>) {
        if self.rendered {
            out.bytes(self.text.as_bytes());
            return;
        }
        for (i, seg) in self.iter().enumerate() {
            if i > 0 {
                out.byte(b',');
            }
            seg.write(out);
        }
    }
}

/// Renders onto the stack when the upper bound fits, else into an exactly sized heap buffer,
/// and hands the text to `f`.
fn with_text<T: Render, R>(value: &T, f: impl FnOnce(&str) -> R) -> R {
    if value.max_len() <= STACK_BYTES {
        let mut buf = [0u8; STACK_BYTES];
        let mut out = Cursor::new(&mut buf);
        value.write(&mut out);
        f(out.text())
    } else {
        f(std::str::from_utf8(&render_exact(value)).unwrap_or_default())
    }
}

/// Renders into a heap buffer of exactly the text's length (for text past the stack buffer).
fn render_exact<T: Render>(value: &T) -> Vec<u8> {
    let mut buf = vec![0u8; value.len()];
    let mut out = Cursor::new(&mut buf);
    value.write(&mut out);
    let written = out.at;
    buf.truncate(written);
    buf
}

/// `Display` through one `write_str`.
fn display<T: Render>(value: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    with_text(value, |text| f.write_str(text))
}

impl fmt::Display for RegionProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(self, f)
    }
}

impl fmt::Display for VectorValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(self, f)
    }
}

impl fmt::Display for SegmentValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(self, f)
    }
}

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(self, f)
    }
}

/// Renders the header value. For every strictly valid input `s`, `parse(s).to_string() == s`.
impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rendered {
            return f.write_str(&self.text);
        }
        display(self, f)
    }
}

/// Number of bytes `n` takes in decimal, sign included. From the bit length: `bits * 1233 >> 12`
/// is `floor(bits * log10(2))`, which is the digit count or one less, and one table compare
/// decides (std's `ilog10` measured ~30 instructions per call here, this ~8).
fn decimal_len(n: i64) -> usize {
    /// 10^k for k in 0..=19.
    const POWERS: [u64; 20] = {
        let mut p = [1u64; 20];
        let mut k = 1;
        while k < 20 {
            p[k] = p[k - 1] * 10;
            k += 1;
        }
        p
    };
    // `| 1` makes 0 count as one digit and changes no other count (powers of ten are even).
    let m = n.unsigned_abs() | 1;
    let bits = 64 - m.leading_zeros() as usize;
    let guess = (bits * 1233) >> 12; // <= 19 for bits <= 64
    let digits = guess + usize::from(m >= POWERS[guess]);
    usize::from(n < 0) + digits
}

impl SegmentValue<'_> {
    /// Length in bytes of the rendered value.
    ///
    /// ```
    /// use cosmos_session_token::SegmentValue;
    /// assert_eq!(SegmentValue::Simple { global_lsn: -42 }.encoded_len(), 3);
    /// ```
    pub fn encoded_len(&self) -> usize {
        Render::len(self)
    }
}

impl Segment<'_> {
    /// Length in bytes of the rendered segment (`id:value`).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("12:1#5#2=7").unwrap();
    /// assert_eq!(t.segments().first().encoded_len(), "12:1#5#2=7".len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        Render::len(self)
    }
}

impl SessionToken {
    /// Length in bytes of the header value, computed without rendering it.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100#1=20,1:-1#42").unwrap();
    /// assert_eq!(t.encoded_len(), t.to_string().len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        Render::len(self)
    }

    /// A length the header value never exceeds, computed without measuring any number (for
    /// sizing a buffer before [`write_header_value`](Self::write_header_value); exact for a
    /// parsed token).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100#1=20").unwrap();
    /// let merged = t.merge(&t).unwrap();
    /// assert!(merged.max_encoded_len() >= merged.encoded_len());
    /// ```
    pub fn max_encoded_len(&self) -> usize {
        Render::max_len(self)
    }

    /// Renders the header value into a string allocated once at the right size (what
    /// `to_string()` gives, without the formatter).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100#1=20,1:-1#42").unwrap();
    /// assert_eq!(t.to_header_value(), "0:1#100#1=20,1:-1#42");
    /// ```
    pub fn to_header_value(&self) -> String {
        if self.rendered {
            return String::from(&*self.text);
        }
        if Render::max_len(self) <= STACK_BYTES {
            return with_text(self, str::to_owned);
        }
        // Long: render straight into the string's own buffer (one allocation, no copy).
        String::from_utf8(render_exact(self)).unwrap_or_default()
    }

    /// Renders the header value into `out`, returning the number of bytes written, or
    /// `Err(needed)` when `out` is shorter than the text (its contents are then unspecified):
    /// for callers with a buffer of their own (the C ABI), no allocation at all.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100").unwrap();
    /// let mut buf = [0u8; 16];
    /// assert_eq!(t.write_header_value(&mut buf), Ok(7));
    /// assert_eq!(&buf[..7], b"0:1#100");
    /// assert_eq!(t.write_header_value(&mut [0u8; 3]), Err(7));
    /// ```
    pub fn write_header_value(&self, out: &mut [u8]) -> Result<usize, usize> {
        let mut cursor = Cursor::new(out);
        self.write(&mut cursor);
        if cursor.overflow {
            Err(Render::len(self))
        } else {
            Ok(cursor.at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_len_matches_display() {
        // Every power of ten, its neighbours and their negatives, plus the extremes.
        let powers = (0..19).map(|e| 10i64.pow(e));
        let edges = powers.flat_map(|p| [p - 1, p, p + 1, -p - 1, -p, -p + 1]);
        // And every power of two and its neighbours: the bit length is what the guess uses.
        let twos = (0..63).flat_map(|b| {
            let p = 1i64 << b;
            [p - 1, p, p + 1, -p]
        });
        for n in edges.chain(twos).chain([i64::MAX, i64::MIN]) {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn integers_render_as_std_does() {
        let powers = (0..19).map(|e| 10i64.pow(e));
        let edges = powers.flat_map(|p| [p - 1, p, p + 1, -p - 1, -p, -p + 1, p / 3, -p / 7]);
        for n in edges.chain([i64::MAX, i64::MIN, 0, -1]) {
            let mut buf = [0u8; I64_BYTES];
            let mut out = Cursor::new(&mut buf);
            out.int(n);
            assert!(!out.overflow);
            assert_eq!(out.text(), n.to_string(), "{n}");
        }
    }

    #[test]
    fn long_tokens_render_through_the_heap_path() {
        let text = (0..100)
            .map(|i| format!("{i}:1#{}#1=2#2=-1", 1_000_000 + i))
            .collect::<Vec<_>>()
            .join(",");
        assert!(text.len() > STACK_BYTES);
        let t = SessionToken::parse(&text).unwrap();
        assert_eq!(t.to_string(), text);
        assert_eq!(format!("{t}"), text);
        assert_eq!(t.to_header_value(), text);
        let mut buf = vec![0u8; text.len() + 5];
        assert_eq!(t.write_header_value(&mut buf), Ok(text.len()));
        assert_eq!(&buf[..text.len()], text.as_bytes());
        for short in [0, 1, text.len() - 1] {
            assert_eq!(t.write_header_value(&mut buf[..short]), Err(text.len()));
        }
    }

    #[test]
    fn the_upper_bound_holds_at_the_extremes() {
        let text = "18446744073709551616-abc:-9223372036854775808#9223372036854775807\
                    #4294967295=-9223372036854775808#0=9223372036854775807";
        let t = SessionToken::parse(text).unwrap();
        assert_eq!(t.to_string(), text);
        assert!(Render::max_len(&t) >= text.len());
        let simple = SessionToken::parse("a:9223372036854775807").unwrap();
        assert!(Render::max_len(&simple) >= simple.encoded_len());
    }
}
