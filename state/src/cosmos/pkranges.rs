//! Reading a container's partition-key ranges page by page (`GET …/pkranges`) with bounds a
//! hostile or broken server cannot stretch: the ranges are counted as each page arrives and
//! the reading stops at [`MAX_ROUTING_RANGES`]; the pages' bytes are counted up to
//! [`MAX_BYTES`]; a continuation seen before ends it (a server repeating one would otherwise be
//! asked forever); the caller puts one deadline on the whole reading. Pages are decoded into
//! ranges directly, never kept as JSON values.

use std::collections::HashSet;

use cosmos_session_token::{MAX_ROUTING_RANGES, PartitionKeyRange, RoutingMap};

use crate::error::{Result, StateError};

/// Most bytes of pages one reading accepts (262,144 ranges of about 200 bytes each, with room).
pub const MAX_BYTES: usize = 128 << 20;

/// The pages of one reading, as they arrive.
pub struct Pages {
    collection: String,
    ranges: Vec<PartitionKeyRange>,
    bytes: usize,
    continuations: HashSet<String>,
    pages: usize,
}

impl Pages {
    /// A reading of `collection`'s ranges (named in errors).
    pub fn new(collection: &str) -> Pages {
        Pages {
            collection: collection.to_owned(),
            ranges: Vec::new(),
            bytes: 0,
            continuations: HashSet::new(),
            pages: 0,
        }
    }

    fn refuse(&self, why: String) -> StateError {
        StateError::Store(format!(
            "reading the partition-key ranges of {} (page {}): {why}",
            self.collection, self.pages
        ))
    }

    /// Takes one page's body and its `x-ms-continuation`; returns the continuation to ask for
    /// next (`None`: that was the last page).
    pub fn take(&mut self, body: &[u8], continuation: Option<String>) -> Result<Option<String>> {
        self.pages += 1;
        self.bytes += body.len();
        if self.bytes > MAX_BYTES {
            return Err(self.refuse(format!("the pages exceed {MAX_BYTES} bytes in all")));
        }
        let text = std::str::from_utf8(body)
            .map_err(|e| self.refuse(format!("not UTF-8 (byte {})", e.valid_up_to())))?;
        let page = RoutingMap::parse_ranges(text).map_err(|e| self.refuse(e.to_string()))?;
        if self.ranges.len() + page.len() > MAX_ROUTING_RANGES {
            return Err(self.refuse(format!(
                "more than {MAX_ROUTING_RANGES} ranges (the most a routing map holds)"
            )));
        }
        self.ranges.extend(page);
        match continuation {
            None => Ok(None),
            Some(c) if !self.continuations.insert(c.clone()) => Err(self.refuse(
                "the server answered a continuation it had answered before (the pages would never end)"
                    .into(),
            )),
            Some(c) => Ok(Some(c)),
        }
    }

    /// The routing map of every page taken.
    pub fn finish(self) -> Result<RoutingMap> {
        RoutingMap::new(self.ranges).map_err(|e| StateError::Token(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        let page = br#"{"PartitionKeyRanges":[{"id":"0","minInclusive":"","maxExclusive":"FF"}]}"#;
        let mut p = Pages::new("dbs/d/colls/c");
        assert_eq!(p.take(page, Some("a".into())).unwrap(), Some("a".into()));
        let err = p.take(page, Some("a".into())).unwrap_err().to_string();
        assert!(err.contains("continuation it had answered before"), "{err}");
        let mut p = Pages::new("c");
        assert!(
            p.take(b"{\"Partition", None)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        let mut p = Pages::new("c");
        p.take(page, None).unwrap();
        assert_eq!(p.finish().unwrap().ranges().len(), 1);
        let numeric = br#"{"PartitionKeyRanges":[{"id":0,"minInclusive":"","maxExclusive":"FF","parents":[7]}]}"#;
        let mut p = Pages::new("c");
        p.take(numeric, None).unwrap();
        assert_eq!(p.finish().unwrap().ranges()[0].parents, ["7"]);
    }
}
