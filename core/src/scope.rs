//! Scoping a token to the one partition a request goes to.
//!
//! Sending a whole composite token makes headers of many kilobytes (HTTP 400/431 on large
//! containers); the service only needs the target range's progress. After a split the target is
//! a new child range the token does not know yet: its parents' progress is what it must reach.
//! After a partition merge there are several parents: it must reach all of them, so their
//! segments are merged.

use crate::error::MergeError;
use crate::index::Lookup;
use crate::merge::{MergePolicy, merge_value_into};
use crate::model::{OwnedSegment, Segment, SessionToken};

/// Most parent range ids one scope or resolve call accepts (every surface: the C arrays, .NET,
/// Python, the CLI). A real lineage has a handful; the bound keeps an attacker's list from
/// costing unbounded work.
pub const MAX_SCOPE_PARENTS: usize = 65_536;

/// Parents looked up one by one (a linear scan each) up to this count; more share one index.
const SCAN_PARENTS: usize = 4;

/// Refuses more than [`MAX_SCOPE_PARENTS`] parents.
pub(crate) fn check_parents(parents: &[&str]) -> Result<(), MergeError> {
    if parents.len() > MAX_SCOPE_PARENTS {
        return Err(MergeError::TooManyParents {
            len: parents.len(),
            max: MAX_SCOPE_PARENTS,
        });
    }
    Ok(())
}

impl SessionToken {
    /// The token to send for `range_id`, with the default merge policy: the exact segment if
    /// present; else the merge of every present parent segment, relabelled `range_id`; else `None`.
    /// More than [`MAX_SCOPE_PARENTS`] parents is a `too_many_items` error; the work is linear in
    /// the token's segments plus the parents.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let t = SessionToken::parse("0:1#100#1=199#2=300,1:1#99#1=200#2=299,5:1#7").unwrap();
    /// assert_eq!(t.scope("5", &[]).unwrap().unwrap().to_string(), "5:1#7");
    /// // Ranges 0 and 1 were merged into range 2:
    /// assert_eq!(t.scope("2", &["0", "1"]).unwrap().unwrap().to_string(), "2:1#100#1=200#2=300");
    /// assert!(t.scope("9", &["8"]).unwrap().is_none());
    /// ```
    pub fn scope(
        &self,
        range_id: &str,
        parents: &[&str],
    ) -> Result<Option<SessionToken>, MergeError> {
        self.scope_with(range_id, parents, &MergePolicy::DEFAULT)
    }

    /// [`scope`](Self::scope) with an explicit policy for merging parents.
    pub fn scope_with(
        &self,
        range_id: &str,
        parents: &[&str],
        policy: &MergePolicy,
    ) -> Result<Option<SessionToken>, MergeError> {
        check_parents(parents)?;
        if let Some(seg) = self.get(range_id) {
            return Ok(Some(SessionToken::single(seg)));
        }
        // A few parents: a scan each (no index to build). Many: one index of the token's ranges,
        // so the work stays linear however long both lists are.
        let spans = self.spans();
        let index = (parents.len() > SCAN_PARENTS).then(|| Lookup::new(&spans));
        let find = |id: &str| -> Option<Segment<'_>> {
            match &index {
                Some(index) => index.get(id).map(|i| self.at(i)),
                None => self.get(id),
            }
        };
        Ok(merge_parents(range_id, parents, find, policy)?.map(|m| SessionToken::single(m.view())))
    }
}

/// The merge of the segments `find` has for `parents`, relabelled `range_id`; `None` when it has
/// none of them. One lookup per parent: linear in the parents.
pub(crate) fn merge_parents<'t>(
    range_id: &str,
    parents: &[&str],
    find: impl Fn(&str) -> Option<Segment<'t>>,
    policy: &MergePolicy,
) -> Result<Option<OwnedSegment>, MergeError> {
    let mut merged: Option<OwnedSegment> = None;
    for parent in parents {
        let Some(seg) = find(parent) else {
            continue;
        };
        match &mut merged {
            None => {
                merged = Some(OwnedSegment {
                    range_id: range_id.into(),
                    value: seg.value.into(),
                })
            }
            Some(m) => merge_value_into(m, seg.value, policy)?,
        }
    }
    Ok(merged)
}
