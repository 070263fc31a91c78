//! The partial order on tokens, semantic equality and a hash consistent with it.
//!
//! `a ≥ b` exactly when merging `b` into `a` (false-progress protection on, regions united)
//! gives `a` back. For values that means:
//! * same version: `a`'s global LSN ≥ `b`'s, and every region of `b` is in `a` with an LSN ≥;
//! * `a` has the higher version: every region the two share is ≥ in `a` (`b`'s global LSN and
//!   its other regions are superseded by the version change);
//! * `a` has the lower version: never.
//!
//! A simple value counts as its vector form `-2#lsn`. For composite tokens every range id of
//! either token is compared; a range missing from one token counts as behind there.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::builder::Builder;
use crate::index::Lookup;
use crate::model::{SegmentValue, SessionToken, VectorValue};

/// How one token relates to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Strictly older: the other token is needed to read its writes.
    Less,
    /// The same progress everywhere.
    Equal,
    /// Strictly newer.
    Greater,
    /// Neither is at least as new as the other (each is ahead somewhere).
    Concurrent,
}

impl Order {
    /// `"less"`, `"equal"`, `"greater"` or `"concurrent"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Less => "less",
            Order::Equal => "equal",
            Order::Greater => "greater",
            Order::Concurrent => "concurrent",
        }
    }

    fn from_ge(ge: bool, le: bool) -> Order {
        match (ge, le) {
            (true, true) => Order::Equal,
            (true, false) => Order::Greater,
            (false, true) => Order::Less,
            (false, false) => Order::Concurrent,
        }
    }

    /// Combines the orders of independent components (e.g. the ranges of a composite token).
    fn and(self, other: Order) -> Order {
        match (self, other) {
            (Order::Equal, o) | (o, Order::Equal) => o,
            (a, b) if a == b => a,
            _ => Order::Concurrent,
        }
    }
}

fn vector_ge(a: &VectorValue<'_>, b: &VectorValue<'_>) -> bool {
    if a.version == b.version {
        a.global_lsn >= b.global_lsn
            && b.regions
                .iter()
                .all(|r| a.region(r.id).is_some_and(|lsn| lsn >= r.local_lsn))
    } else if a.version > b.version {
        a.regions
            .iter()
            .all(|r| b.region(r.id).is_none_or(|lsn| r.local_lsn >= lsn))
    } else {
        false
    }
}

impl SegmentValue<'_> {
    /// Compares two values (see the module docs for the order).
    ///
    /// ```
    /// use cosmos_session_token::{Order, SessionToken};
    /// let t = |s: &str| SessionToken::parse(&format!("0:{s}")).unwrap();
    /// let (a, b) = (t("2#105#4=10"), t("1#100#1=20"));
    /// let (va, vb) = (a.segments().first().value(), b.segments().first().value());
    /// assert_eq!(va.compare(&vb), Order::Greater);
    /// let (c, d) = (t("1#100#1=10#2=20"), t("1#100#1=20#2=5"));
    /// let (vc, vd) = (c.segments().first().value(), d.segments().first().value());
    /// assert_eq!(vc.compare(&vd), Order::Concurrent);
    /// ```
    pub fn compare(&self, other: &SegmentValue<'_>) -> Order {
        let (a, b) = (self.as_vector(), other.as_vector());
        Order::from_ge(vector_ge(&a, &b), vector_ge(&b, &a))
    }
}

impl SessionToken {
    /// Compares `self` with `other` over the union of their range ids.
    ///
    /// ```
    /// use cosmos_session_token::{Order, SessionToken};
    /// let a = SessionToken::parse("0:1#100,1:1#7").unwrap();
    /// let b = SessionToken::parse("0:1#90").unwrap();
    /// assert_eq!(a.compare(&b), Order::Greater);
    /// assert_eq!(b.compare(&a), Order::Less);
    /// ```
    pub fn compare(&self, other: &SessionToken) -> Order {
        let theirs = other.spans();
        let theirs_by_id = Lookup::new(&theirs);
        let mut order = Order::Equal;
        let mut found = 0;
        for seg in self {
            let o = match theirs_by_id.get(seg.range_id) {
                Some(j) => {
                    found += 1;
                    seg.value.compare(&other.at(j).value)
                }
                None => Order::Greater,
            };
            order = order.and(o);
            if order == Order::Concurrent {
                return order;
            }
        }
        // Range ids are unique, so `other` has a range missing here exactly when not all were found.
        if found < other.len() {
            order = order.and(Order::Less);
        }
        order
    }

    /// True when `self` is at least as new as `other` everywhere (`Greater` or `Equal`): a
    /// replica holding `self` can serve a read that requires `other`.
    ///
    /// ```
    /// use cosmos_session_token::SessionToken;
    /// let replica = SessionToken::parse("0:2#97#1=20").unwrap();
    /// let required = SessionToken::parse("0:1#100#1=20").unwrap();
    /// assert!(replica.is_at_least_as_new_as(&required));
    /// ```
    pub fn is_at_least_as_new_as(&self, other: &SessionToken) -> bool {
        matches!(self.compare(other), Order::Greater | Order::Equal)
    }
}

impl PartialEq for SegmentValue<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other) == Order::Equal
    }
}
impl Eq for SegmentValue<'_> {}

/// Order-independent hash of a value: a simple value hashes like `-2#lsn`.
fn value_hash(value: &SegmentValue<'_>) -> u64 {
    let v = value.as_vector();
    let mut h = DefaultHasher::new();
    v.version.hash(&mut h);
    v.global_lsn.hash(&mut h);
    // Regions are a set: combine their hashes with a commutative operation.
    let regions = v.regions.iter().fold(0u64, |acc, r| {
        let mut rh = DefaultHasher::new();
        r.hash(&mut rh);
        acc.wrapping_add(rh.finish())
    });
    regions.hash(&mut h);
    h.finish()
}

impl Hash for SegmentValue<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        value_hash(self).hash(state);
    }
}

impl PartialEq for SessionToken {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.compare(other) == Order::Equal
    }
}
impl Eq for SessionToken {}

impl Hash for SessionToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Segments are a set keyed by range id: combine commutatively.
        let combined = self.iter().fold(0u64, |acc, s| {
            let mut h = DefaultHasher::new();
            s.range_id.hash(&mut h);
            value_hash(&s.value).hash(&mut h);
            acc.wrapping_add(h.finish())
        });
        combined.hash(state);
    }
}

impl SessionToken {
    /// The same token with segments in numeric-aware range-id order and regions sorted by id.
    pub fn canonical(&self) -> SessionToken {
        let mut order: smallvec::SmallVec<[usize; 8]> = (0..self.len()).collect();
        order.sort_by(|&a, &b| crate::range_id::order(self.id(a), self.id(b)));
        let mut out = Builder::with_shape(self.shape());
        for i in order {
            out.push(self.at(i));
            out.sort_last_regions();
        }
        out.finish()
    }
}
