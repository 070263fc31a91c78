//! Sealed envelopes that say why they were refused: the `cst2` format of the flow cookie.
//!
//! A `cst1` sealed token (see `seal`) fails as one "bad signature" whatever the cause, so two
//! nodes configured with different keys drop every cookie silently. A `cst2` envelope names the
//! key that sealed it and the context it was sealed for, so a refusal can be told apart and
//! counted — never by showing the cookie — as an unknown key (a node with other keys), a foreign
//! context (another user's cookie, or another purpose's), or a forgery (the right key and
//! context, a wrong MAC).
//!
//! Format: `cst2.` KID `.` CTX `.` base64url(payload) `.` base64url(MAC), no padding, where
//! KID = HMAC(key, "cst2/key-id")[..6], CTX = HMAC(key, "cst2/context" ‖ purpose ‖ context)[..6]
//! and MAC = HMAC(key, "cst2" ‖ KID ‖ CTX ‖ purpose ‖ context ‖ payload), each variable-length
//! field preceded by its length as an 8-byte big-endian integer. Only `[A-Za-z0-9_.-]`. The KID
//! reveals nothing of the key and the CTX nothing of the context (both are keyed MACs); an
//! attacker who edits them only changes which refusal is counted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::SealError;
use crate::seal::check_keys;

type HmacSha256 = Hmac<Sha256>;

/// Version tag of the envelope format.
pub(crate) const ENVELOPE_TAG: &str = "cst2";

/// Why an envelope was refused. Every reason is safe to log and count: none carries the
/// envelope's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a `cst2` envelope (another version, missing parts, not base64url).
    Malformed,
    /// Longer than the budget (refused before any MAC is computed).
    TooLarge,
    /// Sealed with a key this node does not hold (a node configured with other keys).
    UnknownKey,
    /// Sealed with one of this node's keys for another context (another user's cookie).
    ForeignContext,
    /// Claims this node's key and this context, but the MAC does not verify (tampered).
    Forged,
}

/// Seal keys with their key ids, checked once.
#[derive(Clone)]
pub(crate) struct Keyring {
    keys: Vec<(Vec<u8>, [u8; 6])>,
}

/// Never prints the keys, only how many there are.
impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(<{} redacted>)", self.keys.len())
    }
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; the keyring refused short keys already.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"))
}

fn field(m: &mut HmacSha256, bytes: &[u8]) {
    m.update(&(bytes.len() as u64).to_be_bytes());
    m.update(bytes);
}

fn short(m: HmacSha256) -> [u8; 6] {
    let full = m.finalize().into_bytes();
    let mut out = [0u8; 6];
    out.copy_from_slice(&full[..6]);
    out
}

impl Keyring {
    /// At least one key, at most `MAX_SEAL_KEYS`, each at least 16 bytes; the first seals.
    pub(crate) fn new(keys: &[&[u8]]) -> Result<Keyring, SealError> {
        check_keys(keys)?;
        Ok(Keyring {
            keys: keys
                .iter()
                .map(|k| {
                    let mut m = hmac(k);
                    m.update(b"cst2/key-id");
                    (k.to_vec(), short(m))
                })
                .collect(),
        })
    }

    /// How many keys (for diagnostics).
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    fn context_id(key: &[u8], purpose: &str, context: &str) -> [u8; 6] {
        let mut m = hmac(key);
        m.update(b"cst2/context");
        field(&mut m, purpose.as_bytes());
        field(&mut m, context.as_bytes());
        short(m)
    }

    fn mac(
        key: &[u8],
        kid: &[u8],
        cid: &[u8],
        purpose: &str,
        context: &str,
        payload: &[u8],
    ) -> HmacSha256 {
        let mut m = hmac(key);
        m.update(ENVELOPE_TAG.as_bytes());
        m.update(kid);
        m.update(cid);
        field(&mut m, purpose.as_bytes());
        field(&mut m, context.as_bytes());
        field(&mut m, payload);
        m
    }

    /// Seals `payload` for `purpose` and `context` with the first key, within `max_bytes`.
    pub(crate) fn seal(
        &self,
        purpose: &str,
        context: &str,
        payload: &[u8],
        max_bytes: usize,
    ) -> Result<String, SealError> {
        let (key, kid) = &self.keys[0];
        let len = ENVELOPE_TAG.len()
            + 4
            + 8
            + 8
            + base64::encoded_len(payload.len(), false).unwrap_or(usize::MAX / 2)
            + 43;
        if len > max_bytes {
            return Err(SealError::TooLarge {
                len,
                max: max_bytes,
            });
        }
        let cid = Self::context_id(key, purpose, context);
        let tag = Self::mac(key, kid, &cid, purpose, context, payload)
            .finalize()
            .into_bytes();
        let mut out = String::with_capacity(len);
        out.push_str(ENVELOPE_TAG);
        for part in [&kid[..], &cid[..], payload, &tag[..]] {
            out.push('.');
            URL_SAFE_NO_PAD.encode_string(part, &mut out);
        }
        Ok(out)
    }

    /// The payload of an envelope sealed by any of this ring's keys for `purpose` and
    /// `context`, or why it was refused.
    pub(crate) fn open(
        &self,
        purpose: &str,
        context: &str,
        sealed: &str,
        max_bytes: usize,
    ) -> Result<Vec<u8>, Refusal> {
        if sealed.len() > max_bytes {
            return Err(Refusal::TooLarge);
        }
        let mut parts = sealed.split('.');
        if parts.next() != Some(ENVELOPE_TAG) {
            return Err(Refusal::Malformed);
        }
        let mut next = || {
            parts
                .next()
                .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
                .ok_or(Refusal::Malformed)
        };
        let (kid, cid, payload, tag) = (next()?, next()?, next()?, next()?);
        if parts.next().is_some() || kid.len() != 6 || cid.len() != 6 || tag.len() != 32 {
            return Err(Refusal::Malformed);
        }
        // Key ids may collide (48 bits): try every key that claims it.
        let mut refusal = Refusal::UnknownKey;
        for (key, id) in self.keys.iter().filter(|(_, id)| id[..] == kid[..]) {
            if Self::context_id(key, purpose, context)[..] != cid[..] {
                refusal = refusal_max(refusal, Refusal::ForeignContext);
                continue;
            }
            if Self::mac(key, id, &cid, purpose, context, &payload)
                .verify_slice(&tag)
                .is_ok()
            {
                return Ok(payload);
            }
            refusal = Refusal::Forged;
        }
        Err(refusal)
    }
}

/// The most specific of two refusals (forged > foreign context > unknown key).
fn refusal_max(a: Refusal, b: Refusal) -> Refusal {
    let rank = |r| match r {
        Refusal::Forged => 3,
        Refusal::ForeignContext => 2,
        _ => 1,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"key-a-0123456789abcdef";
    const B: &[u8] = b"key-b-0123456789abcdef";

    #[test]
    fn round_trip_and_every_refusal_told_apart() {
        let ring = Keyring::new(&[A]).unwrap();
        let sealed = ring.seal("p", "alice", b"{\"x\":1}", 4000).unwrap();
        assert!(sealed.starts_with("cst2."), "{sealed}");
        assert!(
            sealed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        );
        assert_eq!(
            ring.open("p", "alice", &sealed, 4000).unwrap(),
            b"{\"x\":1}"
        );
        // Rotation: a ring whose second key sealed it still opens it.
        let rotated = Keyring::new(&[B, A]).unwrap();
        assert_eq!(
            rotated.open("p", "alice", &sealed, 4000).unwrap(),
            b"{\"x\":1}"
        );
        let other = Keyring::new(&[B]).unwrap();
        assert_eq!(
            other.open("p", "alice", &sealed, 4000),
            Err(Refusal::UnknownKey)
        );
        assert_eq!(
            ring.open("p", "bob", &sealed, 4000),
            Err(Refusal::ForeignContext)
        );
        assert_eq!(
            ring.open("q", "alice", &sealed, 4000),
            Err(Refusal::ForeignContext)
        );
        assert_eq!(ring.open("p", "alice", &sealed, 10), Err(Refusal::TooLarge));
        // The payload changed, the MAC kept: forged.
        let parts: Vec<&str> = sealed.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(b"{\"x\":9}");
        let forged = format!(
            "{}.{}.{}.{}.{}",
            parts[0], parts[1], parts[2], evil, parts[4]
        );
        assert_eq!(ring.open("p", "alice", &forged, 4000), Err(Refusal::Forged));
        for bad in [
            "",
            "cst1.a.b",
            "cst2.a.b.c",
            "cst2.!!!!!!!!.AAAAAAAA.AA.AA",
            &format!("{sealed}.x"),
        ] {
            assert_eq!(
                ring.open("p", "alice", bad, 4000),
                Err(Refusal::Malformed),
                "{bad}"
            );
        }
        assert!(matches!(
            ring.seal("p", "alice", &[0; 4000], 4000),
            Err(SealError::TooLarge { .. })
        ));
        assert!(!format!("{ring:?}").contains("key-a"));
    }
}
