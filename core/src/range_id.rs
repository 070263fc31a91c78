//! Partition key range ids: their grammar and their order. Below the model, so that `model`,
//! `parse`, `merge`, `order` and `container` all depend on it and not on each other.

use crate::error::{ParseError, ParseErrorKind};

/// Default longest range id, in bytes ([`Limits::max_range_id_bytes`](crate::Limits)).
pub(crate) const MAX_BYTES: usize = 256;

/// Checks a range id against the strict grammar and a length limit. `offset` locates it in the input.
pub(crate) fn check(id: &str, offset: usize, max_bytes: usize) -> Result<(), ParseError> {
    if id.is_empty() {
        return Err(ParseError::new(ParseErrorKind::EmptyRangeId, offset, id));
    }
    if id.len() > max_bytes {
        return Err(ParseError::new(
            ParseErrorKind::RangeIdTooLong {
                len: id.len(),
                max: max_bytes,
            },
            offset,
            id,
        ));
    }
    // Decimal ids are by far the most common; skip the per-char checks for them.
    if id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    match id
        .chars()
        .find(|&c| matches!(c, ',' | ':' | '#' | '=') || c.is_whitespace() || c.is_control())
    {
        Some(ch) => Err(ParseError::new(
            ParseErrorKind::InvalidRangeId { ch },
            offset,
            id,
        )),
        None => Ok(()),
    }
}

/// Numeric ids in numeric order first, then the others in string order. A total order: ids with
/// the same numeric value (`0`, `00`) are ordered as strings, so rendering never depends on hash
/// iteration order (found by the `container_restore` fuzz target).
pub(crate) fn order(a: &str, b: &str) -> std::cmp::Ordering {
    // Fast path for what the service assigns: canonical decimals (no leading zero) short enough
    // to fit a u64 are ordered by length, then digit by digit — no number is built.
    let canonical = |s: &str| {
        (1..=19).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s.len() == 1 || !s.starts_with('0'))
    };
    if canonical(a) && canonical(b) {
        return a.len().cmp(&b.len()).then_with(|| a.cmp(b));
    }
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::order;

    /// The order without the decimal fast path.
    fn reference(a: &str, b: &str) -> std::cmp::Ordering {
        match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => a.cmp(b),
        }
    }

    #[test]
    fn fast_path_orders_like_the_numbers() {
        let ids = [
            "",
            "0",
            "00",
            "01",
            "1",
            "2",
            "9",
            "10",
            "11",
            "19",
            "20",
            "99",
            "100",
            "007",
            "9999999999999999999",
            "10000000000000000000",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "a",
            "a1",
            "1a",
            "+1",
            "-1",
            "é",
        ];
        for a in ids {
            for b in ids {
                assert_eq!(order(a, b), reference(a, b), "{a:?} vs {b:?}");
            }
        }
    }
}
