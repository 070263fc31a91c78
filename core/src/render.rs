//! Rendering tokens back to header text, and measuring that text without building it.

use std::fmt::{self, Write};

use crate::model::{RegionProgress, Segment, SegmentValue, SessionToken, VectorValue};

impl fmt::Display for RegionProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.id, self.local_lsn)
    }
}

impl fmt::Display for VectorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.version, self.global_lsn)?;
        for r in &self.regions {
            write!(f, "#{r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SegmentValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentValue::Simple { global_lsn } => write!(f, "{global_lsn}"),
            SegmentValue::Vector(v) => v.fmt(f),
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.range_id)?;
        f.write_char(':')?;
        self.value.fmt(f)
    }
}

/// Renders the header value. For every strictly valid input `s`, `parse(s).to_string() == s`.
impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            seg.fmt(f)?;
        }
        Ok(())
    }
}

/// Number of bytes `n` takes in decimal, sign included.
fn decimal_len(n: i64) -> usize {
    let mut len = usize::from(n < 0);
    let mut m = n.unsigned_abs();
    loop {
        len += 1;
        m /= 10;
        if m == 0 {
            return len;
        }
    }
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
        // Writing into a String cannot fail.
        let _ = write!(out, "{self}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_len;

    #[test]
    fn decimal_len_matches_display() {
        for n in [0, 1, 9, 10, -1, -10, 99, 100, i64::MAX, i64::MIN, 1_000_000] {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }
}
