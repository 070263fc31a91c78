//! Why a token is not satisfied: [`SessionToken::compare_explained`] says, per range and per
//! region, which of one token's progress the other lacks and by how much — what a developer
//! needs when a read keeps answering 404/1002 (the replica has not reached the presented token)
//! or a token kept on one node is older than the one a write returned.
//!
//! The lacks follow the order's rules exactly (see [`Order`]): a token lacks nothing of another
//! exactly when it is at least as new ([`Order::Greater`] or [`Order::Equal`]).

use crate::model::{SegmentValue, SessionToken};
use crate::order::Order;

/// One piece of progress a token lacks (the other token's value in `need`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lack {
    /// The range is absent from the token.
    Range {
        /// The range id.
        range_id: String,
        /// The other token's segment value, as rendered (`1#100#1=20`).
        need: String,
    },
    /// The token's version of the range is older (a version change supersedes all progress).
    Version {
        /// The range id.
        range_id: String,
        /// The token's version (a simple value counts as -2).
        have: i64,
        /// The other token's version.
        need: i64,
    },
    /// Same version, the global LSN is behind.
    GlobalLsn {
        /// The range id.
        range_id: String,
        /// The token's global LSN.
        have: i64,
        /// The other token's.
        need: i64,
    },
    /// A region is behind, or absent (`have` None).
    Region {
        /// The range id.
        range_id: String,
        /// The region id.
        region: u32,
        /// The token's local LSN in that region, None when it has none.
        have: Option<i64>,
        /// The other token's.
        need: i64,
    },
}

impl Lack {
    /// How far behind the token is, exactly (`need - have` as an unsigned number: LSNs are
    /// `i64` and may be negative, so the gap can exceed `i64::MAX`); `None` for an absent range
    /// or region and for a version lack (a version change is not a distance).
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let low = SessionToken::parse("0:1#5#1=-9223372036854775808")?;
    /// let high = SessionToken::parse("0:1#5#1=9223372036854775807")?;
    /// let c = low.compare_explained(&high);
    /// assert_eq!(c.a_lacks[0].behind(), Some(u64::MAX));
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn behind(&self) -> Option<u64> {
        match self {
            Lack::GlobalLsn { have, need, .. }
            | Lack::Region {
                have: Some(have),
                need,
                ..
            } => Some(need.abs_diff(*have)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Lack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lack::Range { range_id, need } => {
                write!(f, "range {range_id}: absent (needs {range_id}:{need})")
            }
            Lack::Version {
                range_id,
                have,
                need,
            } => write!(f, "range {range_id}: version {have} < {need}"),
            Lack::GlobalLsn {
                range_id,
                have,
                need,
            } => write!(
                f,
                "range {range_id}: global LSN {have} < {need} ({} behind)",
                need.abs_diff(*have)
            ),
            Lack::Region {
                range_id,
                region,
                have: Some(have),
                need,
            } => write!(
                f,
                "range {range_id} region {region}: LSN {have} < {need} ({} behind)",
                need.abs_diff(*have)
            ),
            Lack::Region {
                range_id,
                region,
                have: None,
                need,
            } => write!(f, "range {range_id} region {region}: absent (needs {need})"),
        }
    }
}

/// How two tokens relate, and why: what each lacks of the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The order of the first token relative to the second.
    pub order: Order,
    /// What the first token lacks of the second (empty: it is at least as new).
    pub a_lacks: Vec<Lack>,
    /// What the second token lacks of the first.
    pub b_lacks: Vec<Lack>,
}

impl Comparison {
    /// The lacks as the lines every surface shows (`cst compare --explain`, the C and .NET
    /// explanations, the shared vectors): `A lacks …` for the first token's, then `B lacks …`.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let a = SessionToken::parse("0:1#90,1:-1#42")?;
    /// let c = a.compare_explained(&SessionToken::parse("0:1#100")?);
    /// assert_eq!(c.lines(), ["A lacks range 0: global LSN 90 < 100 (10 behind)", "B lacks range 1: absent (needs 1:-1#42)"]);
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.a_lacks
            .iter()
            .map(|l| format!("A lacks {l}"))
            .chain(self.b_lacks.iter().map(|l| format!("B lacks {l}")))
            .collect()
    }
}

/// What `have` lacks of `need`.
fn lacks(have: &SessionToken, need: &SessionToken) -> Vec<Lack> {
    let mut out = Vec::new();
    // One lookup table, so explaining two large tokens stays linear.
    let mine_by_id: std::collections::HashMap<&str, crate::model::Segment<'_>> =
        have.iter().map(|s| (s.range_id(), s)).collect();
    for seg in need.iter() {
        let range_id = seg.range_id();
        let wanted = seg.value();
        let Some(mine) = mine_by_id.get(range_id) else {
            out.push(Lack::Range {
                range_id: range_id.to_owned(),
                need: seg
                    .to_string()
                    .split_once(':')
                    .map_or(String::new(), |(_, v)| v.to_owned()),
            });
            continue;
        };
        let mine = mine.value();
        let version = |v: &SegmentValue<'_>| v.version().unwrap_or(-2);
        let (hv, nv) = (version(&mine), version(&wanted));
        if hv < nv {
            out.push(Lack::Version {
                range_id: range_id.to_owned(),
                have: hv,
                need: nv,
            });
            continue;
        }
        if hv == nv && mine.global_lsn() < wanted.global_lsn() {
            out.push(Lack::GlobalLsn {
                range_id: range_id.to_owned(),
                have: mine.global_lsn(),
                need: wanted.global_lsn(),
            });
        }
        for region in wanted.regions() {
            let local = mine.regions().iter().find(|r| r.id == region.id);
            match local {
                Some(r) if r.local_lsn >= region.local_lsn => {}
                // A higher version supersedes regions it no longer lists.
                None if hv > nv => {}
                _ => out.push(Lack::Region {
                    range_id: range_id.to_owned(),
                    region: region.id,
                    have: local.map(|r| r.local_lsn),
                    need: region.local_lsn,
                }),
            }
        }
    }
    out
}

impl SessionToken {
    /// [`compare`](Self::compare), with what each token lacks of the other.
    ///
    /// ```
    /// use cosmos_session_token::{Order, SessionToken};
    /// let presented = SessionToken::parse("0:1#90#1=15,1:-1#42")?;
    /// let needed = SessionToken::parse("0:1#100#1=20,2:1#7")?;
    /// let c = presented.compare_explained(&needed);
    /// assert_eq!(c.order, Order::Concurrent);
    /// let why: Vec<String> = c.a_lacks.iter().map(|l| l.to_string()).collect();
    /// assert_eq!(why, ["range 0: global LSN 90 < 100 (10 behind)",
    ///                  "range 0 region 1: LSN 15 < 20 (5 behind)",
    ///                  "range 2: absent (needs 2:1#7)"]);
    /// # Ok::<(), cosmos_session_token::Error>(())
    /// ```
    pub fn compare_explained(&self, other: &SessionToken) -> Comparison {
        Comparison {
            order: self.compare(other),
            a_lacks: lacks(self, other),
            b_lacks: lacks(other, self),
        }
    }
}
