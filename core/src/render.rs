//! Rendering tokens back to header text, and measuring that text without building it.

use std::fmt;

use crate::model::{RegionProgress, Segment, SegmentValue, SessionToken, VectorValue};

/// Appends header text to a `String` or a formatter without going through `format_args!`
/// (integers are rendered with `itoa`: rendering is on the hot path of every request).
trait Sink {
    fn put(&mut self, s: &str) -> fmt::Result;
    fn int(&mut self, n: i64) -> fmt::Result {
        self.put(itoa::Buffer::new().format(n))
    }
}

impl Sink for String {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl Sink for fmt::Formatter<'_> {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.write_str(s)
    }
}

fn region<S: Sink>(r: &RegionProgress, out: &mut S) -> fmt::Result {
    out.int(i64::from(r.id))?;
    out.put("=")?;
    out.int(r.local_lsn)
}

fn vector<S: Sink>(v: &VectorValue, out: &mut S) -> fmt::Result {
    out.int(v.version)?;
    out.put("#")?;
    out.int(v.global_lsn)?;
    for r in &v.regions {
        out.put("#")?;
        region(r, out)?;
    }
    Ok(())
}

fn value<S: Sink>(v: &SegmentValue, out: &mut S) -> fmt::Result {
    match v {
        SegmentValue::Simple { global_lsn } => out.int(*global_lsn),
        SegmentValue::Vector(v) => vector(v, out),
    }
}

fn segment<S: Sink>(seg: &Segment, out: &mut S) -> fmt::Result {
    out.put(&seg.range_id)?;
    out.put(":")?;
    value(&seg.value, out)
}

fn token<S: Sink>(t: &SessionToken, out: &mut S) -> fmt::Result {
    for (i, seg) in t.segments.iter().enumerate() {
        if i > 0 {
            out.put(",")?;
        }
        segment(seg, out)?;
    }
    Ok(())
}

impl fmt::Display for RegionProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        region(self, f)
    }
}

impl fmt::Display for VectorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        vector(self, f)
    }
}

impl fmt::Display for SegmentValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        value(self, f)
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        segment(self, f)
    }
}

/// Renders the header value. For every strictly valid input `s`, `parse(s).to_string() == s`.
impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        token(self, f)
    }
}

/// Number of bytes `n` takes in decimal, sign included (`ilog10`: no division loop).
fn decimal_len(n: i64) -> usize {
    let digits = n
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |log| log as usize + 1);
    usize::from(n < 0) + digits
}

impl SegmentValue {
    /// Length in bytes of the rendered value.
    pub fn encoded_len(&self) -> usize {
        match self {
            SegmentValue::Simple { global_lsn } => decimal_len(*global_lsn),
            SegmentValue::Vector(v) => {
                decimal_len(v.version)
                    + 1
                    + decimal_len(v.global_lsn)
                    + v.regions
                        .iter()
                        .map(|r| 2 + decimal_len(i64::from(r.id)) + decimal_len(r.local_lsn))
                        .sum::<usize>()
            }
        }
    }
}

impl Segment {
    /// Length in bytes of the rendered segment (`id:value`).
    pub fn encoded_len(&self) -> usize {
        self.range_id.len() + 1 + self.value.encoded_len()
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
        self.segments
            .iter()
            .map(Segment::encoded_len)
            .sum::<usize>()
            + self.segments.len()
            - 1
    }

    /// Renders the header value into a string allocated once at the right size.
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len());
        // Appending to a String cannot fail.
        let _ = token(self, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_len;

    #[test]
    fn decimal_len_matches_display() {
        // Every power of ten, its neighbours and their negatives, plus the extremes.
        let powers = (0..19).map(|e| 10i64.pow(e));
        let edges = powers.flat_map(|p| [p - 1, p, p + 1, -p - 1, -p, -p + 1]);
        for n in edges.chain([i64::MAX, i64::MIN]) {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }
}
