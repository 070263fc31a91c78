//! Merge and compare invariants on two leniently parsed tokens (input split at the first '\n'):
//! merge is commutative and idempotent; compare agrees with merge (a >= b iff a ⊔ b == a) and is
//! antisymmetric; equal tokens hash alike; the explained comparison agrees with the order (a
//! token lacks nothing of another exactly when it is at least as new).
#![no_main]

use std::hash::{DefaultHasher, Hash, Hasher};

use cosmos_session_token::{MergePolicy, Order, SessionToken};
use libfuzzer_sys::fuzz_target;

fn hash(t: &SessionToken) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, text));
    let (Ok((a, _)), Ok((b, _))) = (
        SessionToken::parse_lenient(a),
        SessionToken::parse_lenient(b),
    ) else {
        return;
    };
    let explained = a.compare_explained(&b);
    assert_eq!(explained.order, a.compare(&b));
    assert_eq!(
        explained.a_lacks.is_empty(),
        matches!(explained.order, Order::Greater | Order::Equal),
        "a lacks nothing exactly when a >= b"
    );
    assert_eq!(
        explained.b_lacks.is_empty(),
        matches!(explained.order, Order::Less | Order::Equal),
        "b lacks nothing exactly when b >= a"
    );
    for policy in [MergePolicy::DEFAULT, MergePolicy::UNION] {
        match (a.merge_with(&b, &policy), b.merge_with(&a, &policy)) {
            (Ok(ab), Ok(ba)) => assert_eq!(ab, ba, "commutative"),
            (Err(_), Err(_)) => {}
            _ => panic!("merge defined in one direction only"),
        }
        assert_eq!(
            a.merge_with(&a, &policy).unwrap().to_string(),
            a.to_string(),
            "idempotent"
        );
    }
    let union = a.merge_with(&b, &MergePolicy::UNION).unwrap();
    let order = a.compare(&b);
    assert_eq!(
        matches!(order, Order::Greater | Order::Equal),
        union == a,
        "compare agrees with merge"
    );
    let mirrored = match order {
        Order::Less => Order::Greater,
        Order::Greater => Order::Less,
        o => o,
    };
    assert_eq!(b.compare(&a), mirrored, "antisymmetric");
    if a == b {
        assert_eq!(hash(&a), hash(&b));
    }
    assert!(
        union.is_at_least_as_new_as(&a) && union.is_at_least_as_new_as(&b),
        "monotone"
    );
});
