//! Merging tokens: the least token at least as new as each input.
//!
//! Rules (§3.3 of the behaviour reference):
//! * same version: global LSN and every region take the max; if the region *sets* differ,
//!   [`RegionMismatch::Error`] (default, like .NET/Java/Python/JS) or [`RegionMismatch::Union`];
//! * different versions: the higher version's region set (and order) wins, shared regions take
//!   the max, and the global LSN is the higher version's (false-progress protection, default)
//!   or the max of both ([`MergePolicy::false_progress_protection`] off);
//! * simple ⊔ simple = max; simple ⊔ vector = the vector merged with `-2#lsn`;
//! * composite tokens: union by range id, values merged for equal ids, segments in first-seen
//!   order (left operand first).
//!
//! Merge is commutative and idempotent (semantically); it is associative when every step is
//! defined *and* no region is dropped by a version change in between. Counterexample with
//! different region sets across versions: `(1#5#1=20#2=5 ⊔ 2#5#1=10) ⊔ 3#5#1=1#2=1` keeps
//! region 2 at 1, while `1#5#1=20#2=5 ⊔ (2#5#1=10 ⊔ 3#5#1=1#2=1)` keeps it at 5. Every SDK
//! has this property; it follows from dropping lower-version regions.

use crate::error::MergeError;
use crate::index::RangeIndex;
use crate::model::{Segment, SegmentValue, SessionToken, VectorValue};

/// What to do when two values of the same version list different regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum RegionMismatch {
    /// Fail with [`MergeError::RegionMismatch`] (what .NET, Java, Python and JS do).
    #[default]
    Error,
    /// Take the union of the regions (what the Rust driver does).
    Union,
}

/// How to merge. The default matches the .NET, Java and Python SDK defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MergePolicy {
    /// Same version, different region sets: error or union.
    pub region_mismatch: RegionMismatch,
    /// On a version change, take the higher version's global LSN instead of the max of both.
    /// Protects against "false progress" after a failover (endless 404/1002 otherwise).
    pub false_progress_protection: bool,
}

impl MergePolicy {
    /// Region mismatch is an error; false-progress protection on.
    pub const DEFAULT: MergePolicy = MergePolicy {
        region_mismatch: RegionMismatch::Error,
        false_progress_protection: true,
    };
    /// Region mismatch takes the union; false-progress protection on. Merge never fails.
    pub const UNION: MergePolicy = MergePolicy {
        region_mismatch: RegionMismatch::Union,
        false_progress_protection: true,
    };
}

impl Default for MergePolicy {
    fn default() -> Self {
        MergePolicy::DEFAULT
    }
}

impl VectorValue {
    /// Merges `other` into `self`. On error `self` is unchanged.
    fn merge_from(&mut self, other: &VectorValue, policy: &MergePolicy) -> Result<(), ()> {
        if self.version == other.version {
            if !self.same_regions(other) && policy.region_mismatch == RegionMismatch::Error {
                return Err(());
            }
            self.global_lsn = self.global_lsn.max(other.global_lsn);
            for r in &other.regions {
                match self.region_mut(r.id) {
                    Some(mine) => mine.local_lsn = mine.local_lsn.max(r.local_lsn),
                    None => self.regions.push(*r),
                }
            }
        } else if other.version > self.version {
            let mut regions = other.regions.clone();
            for r in &mut regions {
                if let Some(mine) = self.region(r.id) {
                    r.local_lsn = r.local_lsn.max(mine);
                }
            }
            self.global_lsn = if policy.false_progress_protection {
                other.global_lsn
            } else {
                self.global_lsn.max(other.global_lsn)
            };
            self.version = other.version;
            self.regions = regions;
        } else {
            for r in &mut self.regions {
                if let Some(theirs) = other.region(r.id) {
                    r.local_lsn = r.local_lsn.max(theirs);
                }
            }
            if !policy.false_progress_protection {
                self.global_lsn = self.global_lsn.max(other.global_lsn);
            }
        }
        Ok(())
    }

    /// Merges two vector values.
    ///
    /// ```
    /// use cosmos_session_token::{MergePolicy, SessionToken, SegmentValue};
    /// let v = |s: &str| match SessionToken::parse(&format!("0:{s}")).unwrap().segments()[0].value() {
    ///     SegmentValue::Vector(v) => v.clone(),
    ///     _ => unreachable!(),
    /// };
    /// let m = v("1#100#1=20#2=5").merge(&v("2#97#1=20#2=5"), &MergePolicy::DEFAULT).unwrap();
    /// assert_eq!(m.to_string(), "2#97#1=20#2=5"); // false-progress protection
    /// ```
    pub fn merge(
        &self,
        other: &VectorValue,
        policy: &MergePolicy,
    ) -> Result<VectorValue, MergeError> {
        let mut out = self.clone();
        out.merge_from(other, policy)
            .map_err(|()| MergeError::RegionMismatch {
                range_id: String::new(),
                left: self.to_string(),
                right: other.to_string(),
            })?;
        Ok(out)
    }
}

/// Merges `other` into `target`'s value. On error `target` is unchanged.
pub(crate) fn merge_value_into(
    target: &mut Segment,
    other: &SegmentValue,
    policy: &MergePolicy,
) -> Result<(), MergeError> {
    let conflict = |target: &Segment| MergeError::RegionMismatch {
        range_id: target.range_id.to_string(),
        left: target.value.to_string(),
        right: other.to_string(),
    };
    match (&mut target.value, other) {
        (SegmentValue::Simple { global_lsn: a }, SegmentValue::Simple { global_lsn: b }) => {
            *a = (*a).max(*b);
            Ok(())
        }
        (SegmentValue::Vector(a), b) => {
            let b = b.as_vector();
            a.merge_from(&b, policy).map_err(|()| conflict(target))
        }
        (SegmentValue::Simple { global_lsn }, SegmentValue::Vector(b)) => {
            let mut a = VectorValue::from_simple(*global_lsn);
            a.merge_from(b, policy).map_err(|()| conflict(target))?;
            target.value = SegmentValue::Vector(a);
            Ok(())
        }
    }
}

/// Merges every segment of `other` into `segments` (indexed by `index`).
fn merge_token_into(
    segments: &mut crate::model::Segments,
    index: &mut RangeIndex,
    other: &SessionToken,
    policy: &MergePolicy,
) -> Result<(), MergeError> {
    for seg in &other.segments {
        match index.find(segments, &seg.range_id) {
            Some(i) => merge_value_into(&mut segments[i], &seg.value, policy)?,
            None => {
                segments.push(seg.clone());
                index.pushed(segments);
            }
        }
    }
    Ok(())
}

impl SessionToken {
    /// Merges two tokens with the default policy.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let a = SessionToken::parse("0:1#100#1=20#2=5,1:-1#42").unwrap();
    /// let b = SessionToken::parse("0:1#101#1=10#2=8,2:7").unwrap();
    /// assert_eq!(a.merge(&b).unwrap().to_string(), "0:1#101#1=20#2=8,1:-1#42,2:7");
    /// ```
    pub fn merge(&self, other: &SessionToken) -> Result<SessionToken, MergeError> {
        self.merge_with(other, &MergePolicy::DEFAULT)
    }

    /// Merges two tokens with an explicit policy.
    ///
    /// ```
    /// use cosmos_session_token::{MergePolicy, SessionToken};
    /// let a = SessionToken::parse("0:1#101#1=20").unwrap();
    /// let b = SessionToken::parse("0:1#100#4=20").unwrap();
    /// assert!(a.merge(&b).is_err());
    /// assert_eq!(a.merge_with(&b, &MergePolicy::UNION).unwrap().to_string(), "0:1#101#1=20#4=20");
    /// ```
    pub fn merge_with(
        &self,
        other: &SessionToken,
        policy: &MergePolicy,
    ) -> Result<SessionToken, MergeError> {
        let mut segments = self.segments.clone();
        let mut index = RangeIndex::default();
        index.pushed(&segments);
        merge_token_into(&mut segments, &mut index, other, policy)?;
        Ok(SessionToken { segments })
    }

    /// Merges any number of tokens in one pass. `Ok(None)` when there are none.
    ///
    /// ```
    /// use cosmos_session_token::{MergePolicy, SessionToken};
    /// let tokens: Vec<SessionToken> = ["0:1#5", "1:1#7", "0:1#9"].iter().map(|s| s.parse().unwrap()).collect();
    /// let m = SessionToken::merge_all(&tokens, &MergePolicy::DEFAULT).unwrap().unwrap();
    /// assert_eq!(m.to_string(), "0:1#9,1:1#7");
    /// ```
    pub fn merge_all<'a>(
        tokens: impl IntoIterator<Item = &'a SessionToken>,
        policy: &MergePolicy,
    ) -> Result<Option<SessionToken>, MergeError> {
        let mut iter = tokens.into_iter();
        let Some(first) = iter.next() else {
            return Ok(None);
        };
        let mut segments = first.segments.clone();
        let mut index = RangeIndex::default();
        index.pushed(&segments);
        for token in iter {
            merge_token_into(&mut segments, &mut index, token, policy)?;
        }
        Ok(Some(SessionToken { segments }))
    }
}
