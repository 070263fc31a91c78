//! Merging tokens: the least token at least as new as each input.
//!
//! Rules:
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

use crate::builder::{Builder, ValueNumbers};
use crate::error::MergeError;
use crate::index::{Keys, Lookup, RangeIndex};
use crate::model::{
    OwnedSegment, OwnedValue, OwnedVector, RegionProgress, Regions, SegmentValue, SessionToken,
    VectorValue,
};

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

/// Regions staged on the stack by [`merge_values`] before one append.
const STAGED_REGIONS: usize = 16;

/// Merges two values, appending the result's regions to `out` (nothing is appended on error:
/// the only failure, a region-set mismatch, is decided first). `Err(())` is a region-set
/// mismatch under [`RegionMismatch::Error`]; callers add the context.
pub(crate) fn merge_values(
    a: SegmentValue<'_>,
    b: SegmentValue<'_>,
    policy: &MergePolicy,
    out: &mut Regions,
) -> Result<ValueNumbers, ()> {
    if let (SegmentValue::Simple { global_lsn: x }, SegmentValue::Simple { global_lsn: y }) = (a, b)
    {
        return Ok(ValueNumbers {
            vector: false,
            version: 0,
            global_lsn: x.max(y),
        });
    }
    let (a, b) = (a.as_vector(), b.as_vector());
    // The result's regions are staged in a fixed array when they fit (the usual value lists a
    // few) and appended in one step: the small vector's per-element push is an out-of-line call.
    let mut staged = arrayvec::ArrayVec::<RegionProgress, STAGED_REGIONS>::new();
    let fits = a.regions.len() + b.regions.len() <= STAGED_REGIONS;
    let mut emit = |r: RegionProgress| {
        if fits {
            staged.push(r);
        } else {
            out.push(r);
        }
    };
    // Every region of `base` (in its order), raised to `other`'s LSN where `other` lists it.
    let raised =
        |base: VectorValue<'_>, other: VectorValue<'_>, emit: &mut dyn FnMut(RegionProgress)| {
            for (k, r) in base.regions.iter().enumerate() {
                // Values of one partition usually list the same regions in the same order.
                let theirs = match other.regions.get(k) {
                    Some(o) if o.id == r.id => Some(o.local_lsn),
                    _ => other.region(r.id),
                };
                emit(RegionProgress {
                    id: r.id,
                    local_lsn: theirs.map_or(r.local_lsn, |o| o.max(r.local_lsn)),
                });
            }
        };
    let (version, global_lsn) = if a.version == b.version {
        let same = a.same_regions(&b);
        if policy.region_mismatch == RegionMismatch::Error && !same {
            return Err(());
        }
        raised(a, b, &mut emit);
        // Regions only `b` lists (the union policy), in `b`'s order.
        if !same {
            for r in b.regions.iter().filter(|r| a.region(r.id).is_none()) {
                emit(*r);
            }
        }
        (a.version, a.global_lsn.max(b.global_lsn))
    } else {
        // The higher version's region set (and order) wins; shared regions take the max.
        let (high, low) = if b.version > a.version {
            (b, a)
        } else {
            (a, b)
        };
        raised(high, low, &mut emit);
        let global_lsn = if policy.false_progress_protection {
            high.global_lsn
        } else {
            high.global_lsn.max(low.global_lsn)
        };
        (high.version, global_lsn)
    };
    if fits {
        out.extend_from_slice(&staged);
    }
    Ok(ValueNumbers {
        vector: true,
        version,
        global_lsn,
    })
}

/// The error for a failed merge of `other` into `left` (in range `range_id`).
/// Appends the merge of two values under one range id (regions straight into the token's list).
/// `Err(())` is a region-set mismatch; nothing was appended then.
fn push_merged(
    out: &mut Builder,
    range_id: &str,
    a: SegmentValue<'_>,
    b: SegmentValue<'_>,
    policy: &MergePolicy,
) -> Result<(), ()> {
    out.push_filled(range_id, |regions| merge_values(a, b, policy, regions))
}

fn mismatch(range_id: &str, left: SegmentValue<'_>, other: SegmentValue<'_>) -> MergeError {
    MergeError::RegionMismatch {
        range_id: range_id.to_owned(),
        left: left.to_string(),
        right: other.to_string(),
    }
}

/// Merges `other` into `target`'s value. On error `target` is unchanged.
pub(crate) fn merge_value_into(
    target: &mut OwnedSegment,
    other: SegmentValue<'_>,
    policy: &MergePolicy,
) -> Result<(), MergeError> {
    let mut regions = Regions::new();
    let merged = merge_values(target.value.view(), other, policy, &mut regions)
        .map_err(|()| mismatch(&target.range_id, target.value.view(), other))?;
    target.value = if merged.vector {
        OwnedValue::Vector(OwnedVector {
            version: merged.version,
            global_lsn: merged.global_lsn,
            regions,
        })
    } else {
        OwnedValue::Simple {
            global_lsn: merged.global_lsn,
        }
    };
    Ok(())
}

/// The error a merge of `other` into `token` reports: the first conflict in `other`'s segment
/// order (as when `other`'s segments are merged into `token` one by one). Only called once a
/// conflict is known, so the fallback is unreachable. `in_token` is the merge loop's own lookup
/// of `token`'s ranges: one hash probe per segment, so reporting a conflict costs no more than
/// the merge itself (a linear [`SessionToken::get`] per segment made it quadratic).
#[cold]
fn first_conflict<K: Keys + ?Sized>(
    token: &SessionToken,
    in_token: &Lookup<'_, K>,
    other: &SessionToken,
    policy: &MergePolicy,
) -> MergeError {
    let mut scratch = Regions::new();
    for seg in other {
        if let Some(i) = in_token.get(seg.range_id) {
            let mine = token.at(i);
            if merge_values(mine.value, seg.value, policy, &mut scratch).is_err() {
                return mismatch(seg.range_id, mine.value, seg.value);
            }
        }
        scratch.clear();
    }
    mismatch("", other.at(0).value, other.at(0).value)
}

/// Merges every segment of `other` into the working list (union by range id).
fn merge_token_into(
    segments: &mut Vec<OwnedSegment>,
    index: &mut RangeIndex,
    other: &SessionToken,
    policy: &MergePolicy,
) -> Result<(), MergeError> {
    for seg in other {
        match index.find(segments.as_slice(), seg.range_id) {
            Some(i) => merge_value_into(&mut segments[i], seg.value, policy)?,
            None => {
                segments.push(seg.into());
                index.pushed(segments.as_slice());
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
        // The usual case, two single-segment tokens of one range: no lookups, nothing to size.
        if self.len() == 1 && other.len() == 1 && self.id(0) == other.id(0) {
            let (seg, theirs) = (self.at(0), other.at(0));
            let mut out = Builder::default();
            return match push_merged(&mut out, seg.range_id, seg.value, theirs.value, policy) {
                Ok(()) => Ok(out.finish()),
                Err(()) => Err(mismatch(seg.range_id, seg.value, theirs.value)),
            };
        }
        // Straight into the result's layout: `self`'s segments in order (merged where `other`
        // has the range too), then `other`'s new ones.
        let (mine, theirs) = (self.spans(), other.spans());
        let (in_mine, in_theirs) = (Lookup::new(&mine), Lookup::new(&theirs));
        // The result has at least as many segments, regions and id bytes as the larger operand
        // (exactly that when the ranges coincide, the usual case): reserved once; disjoint
        // ranges grow the lists once more.
        let (a, b) = (self.shape(), other.shape());
        let mut out = Builder::with_shape((a.0.max(b.0), a.1.max(b.1), a.2.max(b.2)));
        for seg in self {
            match in_theirs.get(seg.range_id) {
                None => out.push(seg),
                Some(j) => {
                    if push_merged(&mut out, seg.range_id, seg.value, other.at(j).value, policy)
                        .is_err()
                    {
                        return Err(first_conflict(self, &in_mine, other, policy));
                    }
                }
            }
        }
        for seg in other {
            if in_mine.get(seg.range_id).is_none() {
                out.push(seg);
            }
        }
        Ok(out.finish())
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
        // Merged in place in an owned working list, packed once at the end.
        let mut segments: Vec<OwnedSegment> = first.iter().map(OwnedSegment::from).collect();
        let mut index = RangeIndex::default();
        index.pushed(segments.as_slice());
        for token in iter {
            merge_token_into(&mut segments, &mut index, token, policy)?;
        }
        Ok(Some(Builder::packed(&segments)))
    }
}
