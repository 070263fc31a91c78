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
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}
