//! Effective partition keys: where the service places a partition key value in its hash space
//! (`""`..`"FF"`, the `minInclusive`/`maxExclusive` of `pkranges`), for the container's
//! partition-key definition — `Hash` version 1 or 2, or `MultiHash` (hierarchical keys, 1–3
//! levels, where a prefix of the levels names a range).
//!
//! The rules are the service's (as the .NET SDK implements them; azure-cosmos agrees except where
//! noted):
//! * **Hash V2**: every component is written as a type byte and its payload (a number as its
//!   little-endian IEEE 754 double, a string as UTF-8 followed by `0xFF`, nothing for `true`,
//!   `false`, `null` and the undefined value); MurmurHash3 x64 128 (seed 0) of the whole; its 16
//!   bytes (low half, then high, each little-endian) reversed, the top two bits cleared, in
//!   upper-case hex (32 digits).
//! * **MultiHash**: the Hash V2 hash of each component on its own, concatenated (32 digits per
//!   level). A full key is a point; a prefix of `n` levels is the range `[epk, epk + "FF")`.
//! * **Hash V1**: strings cut to 100 UTF-16 units (as .NET does; azure-cosmos cuts to 100 code
//!   points, which differs only for strings longer than 100 units with characters outside the
//!   BMP); MurmurHash3 x86 32 (seed 0) of the components written as for V2 but with a `0x00`
//!   string terminator; the EPK is the service's binary encoding of `[hash as a number, the cut
//!   components]` in upper-case hex. Numbers are hashed as doubles (azure-cosmos wraps integers
//!   to 32 bits first, which differs for negative integers and integers of 2^32 or more: a
//!   defect of that SDK, noted in its tests here).

mod murmur;

use serde_json::Value;

use crate::error::PartitionKeyError;

/// One component of a partition key value.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionKeyValue {
    /// A JSON string.
    String(String),
    /// A JSON number (the service keeps numbers as doubles).
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// JSON `null`.
    Null,
    /// No value at the path (the SDKs' `{}` / `NonePartitionKeyValue`).
    Undefined,
}

/// How a container hashes its partition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKeyKind {
    /// One path, hashed (version 1 or 2).
    Hash,
    /// Hierarchical: 1–3 paths, each hashed (version 2).
    MultiHash,
}

/// A container's partition-key definition, as far as effective partition keys need it.
///
/// ```
/// use cosmos_session_token::{PartitionKeyDefinition, PartitionKeyKind};
/// let d = PartitionKeyDefinition::from_json(r#"{"paths":["/tenant","/user"],"kind":"MultiHash","version":2}"#)?;
/// assert_eq!((d.kind, d.version, d.levels), (PartitionKeyKind::MultiHash, 2, 2));
/// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionKeyDefinition {
    /// `Hash` or `MultiHash`.
    pub kind: PartitionKeyKind,
    /// 1 or 2 (`MultiHash` is always 2).
    pub version: u8,
    /// Number of paths (1 for `Hash`, 1–3 for `MultiHash`).
    pub levels: usize,
}

/// Longest string a V1 key keeps, in UTF-16 units.
const V1_MAX_STRING_UNITS: usize = 100;
/// String bytes the V1 binary encoding keeps before it marks the string as cut.
const V1_MAX_STRING_BYTES: usize = 100;
/// Most levels of a hierarchical key.
pub const MAX_PARTITION_KEY_LEVELS: usize = 3;

impl PartitionKeyDefinition {
    /// A definition from its parts; `MultiHash` needs version 2 and 1–3 levels, `Hash` 1 level.
    pub fn new(
        kind: PartitionKeyKind,
        version: u8,
        levels: usize,
    ) -> Result<Self, PartitionKeyError> {
        let ok = match kind {
            PartitionKeyKind::Hash => (version == 1 || version == 2) && levels == 1,
            PartitionKeyKind::MultiHash => {
                version == 2 && (1..=MAX_PARTITION_KEY_LEVELS).contains(&levels)
            }
        };
        if ok {
            Ok(PartitionKeyDefinition {
                kind,
                version,
                levels,
            })
        } else {
            Err(PartitionKeyError::Definition(format!(
                "{kind:?} version {version} with {levels} paths is not a partition-key definition (Hash: version 1 or 2, one path; MultiHash: version 2, 1 to {MAX_PARTITION_KEY_LEVELS} paths)"
            )))
        }
    }

    /// The definition a caller names by kind, version and optionally levels, for a key of
    /// `components` components: `Hash` has one path (`levels` is ignored); `MultiHash` has
    /// `levels` paths, or as many as the key has components when `levels` is absent (a full key).
    /// Every surface's "kind, version, levels" arguments go through this.
    ///
    /// ```
    /// use cosmos_session_token::{PartitionKeyDefinition, PartitionKeyKind};
    /// let d = PartitionKeyDefinition::for_key(PartitionKeyKind::MultiHash, 2, None, 2)?;
    /// assert_eq!(d.levels, 2);
    /// assert_eq!(PartitionKeyDefinition::for_key(PartitionKeyKind::Hash, 1, Some(3), 1)?.levels, 1);
    /// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
    /// ```
    pub fn for_key(
        kind: PartitionKeyKind,
        version: u8,
        levels: Option<usize>,
        components: usize,
    ) -> Result<Self, PartitionKeyError> {
        let levels = match kind {
            PartitionKeyKind::Hash => 1,
            PartitionKeyKind::MultiHash => levels.unwrap_or(components),
        };
        PartitionKeyDefinition::new(kind, version, levels)
    }

    /// `Hash` version 2, the SDKs' default for new containers.
    pub fn hash_v2() -> Self {
        PartitionKeyDefinition {
            kind: PartitionKeyKind::Hash,
            version: 2,
            levels: 1,
        }
    }

    /// Parses a kind name: `Hash` or `MultiHash` (case-insensitive).
    pub fn parse_kind(name: &str) -> Result<PartitionKeyKind, PartitionKeyError> {
        match name.to_ascii_lowercase().as_str() {
            "hash" => Ok(PartitionKeyKind::Hash),
            "multihash" => Ok(PartitionKeyKind::MultiHash),
            _ => Err(PartitionKeyError::Definition(format!(
                "unknown partition-key kind {:?} (Hash or MultiHash)",
                name.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// From a container's `partitionKey` JSON: `{"paths":[…],"kind":"Hash","version":2}`
    /// (`version` absent: 1, as the service defaults).
    pub fn from_json(text: &str) -> Result<Self, PartitionKeyError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| PartitionKeyError::Definition(format!("not JSON: {e}")))?;
        let paths = doc
            .get("paths")
            .and_then(Value::as_array)
            .ok_or_else(|| PartitionKeyError::Definition("no \"paths\" list".into()))?;
        let kind = Self::parse_kind(doc.get("kind").and_then(Value::as_str).unwrap_or("Hash"))?;
        let version = match doc.get("version") {
            None | Some(Value::Null) => 1,
            Some(v) => v
                .as_u64()
                .and_then(|v| u8::try_from(v).ok())
                .ok_or_else(|| PartitionKeyError::Definition("version is not 1 or 2".into()))?,
        };
        PartitionKeyDefinition::new(kind, version, paths.len())
    }
}

impl PartitionKeyValue {
    /// The components of a partition key given as JSON: a string, number, bool or null is one
    /// component; `{}` is the undefined value; an array holds the components of a hierarchical
    /// key (or the one component of a `Hash` key, as the service's header spells it).
    ///
    /// ```
    /// use cosmos_session_token::PartitionKeyValue;
    /// let v: serde_json::Value = serde_json::from_str(r#"["tenant-1", 42, null]"#).unwrap();
    /// assert_eq!(PartitionKeyValue::components(&v)?.len(), 3);
    /// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
    /// ```
    pub fn components(value: &Value) -> Result<Vec<PartitionKeyValue>, PartitionKeyError> {
        match value {
            Value::Array(items) => items.iter().map(Self::component).collect(),
            other => Ok(vec![Self::component(other)?]),
        }
    }

    /// [`components`](Self::components) of JSON text (`"user-42"`, `42`, `["tenant-1", 7]`).
    ///
    /// ```
    /// use cosmos_session_token::PartitionKeyValue;
    /// assert_eq!(PartitionKeyValue::parse_json("true")?, [PartitionKeyValue::Bool(true)]);
    /// assert_eq!(PartitionKeyValue::parse_json("user").unwrap_err().code(), "invalid_partition_key");
    /// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
    /// ```
    pub fn parse_json(text: &str) -> Result<Vec<PartitionKeyValue>, PartitionKeyError> {
        let json: Value = serde_json::from_str(text).map_err(|e| {
            PartitionKeyError::Value(format!(
                "the partition key is not JSON ({e}); a string is quoted: \"user-42\""
            ))
        })?;
        Self::components(&json)
    }

    fn component(value: &Value) -> Result<PartitionKeyValue, PartitionKeyError> {
        Ok(match value {
            Value::String(s) => PartitionKeyValue::String(s.clone()),
            Value::Number(n) => PartitionKeyValue::Number(n.as_f64().ok_or_else(|| {
                PartitionKeyError::Value(format!("the number {n} is not a double"))
            })?),
            Value::Bool(b) => PartitionKeyValue::Bool(*b),
            Value::Null => PartitionKeyValue::Null,
            Value::Object(o) if o.is_empty() => PartitionKeyValue::Undefined,
            Value::Object(_) => {
                return Err(PartitionKeyError::Value(
                    "an object is not a partition key component (only {} for \"undefined\")".into(),
                ));
            }
            Value::Array(_) => {
                return Err(PartitionKeyError::Value(
                    "a nested array is not a partition key component".into(),
                ));
            }
        })
    }
}

/// Component type markers of the service's encodings.
mod marker {
    pub const UNDEFINED: u8 = 0x00;
    pub const NULL: u8 = 0x01;
    pub const FALSE: u8 = 0x02;
    pub const TRUE: u8 = 0x03;
    pub const NUMBER: u8 = 0x05;
    pub const STRING: u8 = 0x08;
}

/// The bytes hashed for one component (`string_end`: 0x00 for V1, 0xFF for V2).
fn write_for_hashing(value: &PartitionKeyValue, string_end: u8, out: &mut Vec<u8>) {
    match value {
        PartitionKeyValue::Bool(true) => out.push(marker::TRUE),
        PartitionKeyValue::Bool(false) => out.push(marker::FALSE),
        PartitionKeyValue::Null => out.push(marker::NULL),
        PartitionKeyValue::Undefined => out.push(marker::UNDEFINED),
        PartitionKeyValue::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_le_bytes());
        }
        PartitionKeyValue::String(s) => {
            out.push(marker::STRING);
            out.extend_from_slice(s.as_bytes());
            out.push(string_end);
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// The V2 hash of `bytes` as the service renders it (32 hex digits).
fn v2_hash_hex(bytes: &[u8], out: &mut String) {
    let (low, high) = murmur::murmur3_128(bytes);
    let mut hash = [0u8; 16];
    hash[..8].copy_from_slice(&low.to_le_bytes());
    hash[8..].copy_from_slice(&high.to_le_bytes());
    hash.reverse();
    // The top two bits are cleared so every EPK stays below "FF" (the maximum, exclusive).
    hash[0] &= 0x3F;
    push_hex(out, &hash);
}

/// A string cut to 100 UTF-16 units, as .NET's `Substring` does; a surrogate pair split by the
/// cut leaves its high half, which UTF-8 encoding turns into U+FFFD.
fn truncate_v1(s: &str) -> std::borrow::Cow<'_, str> {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let len = c.len_utf16();
        if units + len > V1_MAX_STRING_UNITS {
            let mut cut = s[..i].to_owned();
            if units < V1_MAX_STRING_UNITS {
                cut.push('\u{FFFD}');
            }
            return cut.into();
        }
        units += len;
    }
    s.into()
}

/// The service's order-preserving encoding of a number: the double's bits, sign-flipped so
/// unsigned order is numeric order, then 8 bits and 7-bit groups each flagged by a low 1 (the
/// last by a 0).
fn write_number_binary(n: f64, out: &mut Vec<u8>) {
    out.push(marker::NUMBER);
    let bits = n.to_bits();
    let mut payload = if bits < 1 << 63 {
        bits ^ (1 << 63)
    } else {
        (!bits).wrapping_add(1)
    };
    out.push((payload >> 56) as u8);
    payload <<= 8;
    let mut byte = 0u8;
    let mut first = true;
    while payload != 0 {
        if !first {
            out.push(byte);
        }
        first = false;
        byte = ((payload >> 56) as u8) | 0x01;
        payload <<= 7;
    }
    out.push(byte & 0xFE);
}

fn write_binary_v1(value: &PartitionKeyValue, out: &mut Vec<u8>) {
    match value {
        PartitionKeyValue::Bool(true) => out.push(marker::TRUE),
        PartitionKeyValue::Bool(false) => out.push(marker::FALSE),
        PartitionKeyValue::Null => out.push(marker::NULL),
        PartitionKeyValue::Undefined => out.push(marker::UNDEFINED),
        PartitionKeyValue::Number(n) => write_number_binary(*n, out),
        PartitionKeyValue::String(s) => {
            out.push(marker::STRING);
            let bytes = s.as_bytes();
            let short = bytes.len() <= V1_MAX_STRING_BYTES;
            let kept = if short {
                bytes
            } else {
                &bytes[..=V1_MAX_STRING_BYTES]
            };
            // Every byte + 1 (UTF-8 never holds 0xFF), so 0x00 can end the string.
            out.extend(kept.iter().map(|b| b.wrapping_add(1)));
            if short {
                out.push(0x00);
            }
        }
    }
}

/// The effective partition key of `components` under `definition`, in upper-case hex. No
/// components is the minimum, `""`. A `MultiHash` prefix (fewer components than levels) gives
/// the start of its range ([`epk_range`] gives both ends).
///
/// ```
/// use cosmos_session_token::{effective_partition_key, PartitionKeyDefinition, PartitionKeyValue};
/// let epk = effective_partition_key(&[PartitionKeyValue::String("user-42".into())], PartitionKeyDefinition::hash_v2())?;
/// assert_eq!(epk.len(), 32);
/// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
/// ```
pub fn effective_partition_key(
    components: &[PartitionKeyValue],
    definition: PartitionKeyDefinition,
) -> Result<String, PartitionKeyError> {
    if components.len() > definition.levels {
        return Err(PartitionKeyError::Value(format!(
            "{} components for a definition of {} path{}",
            components.len(),
            definition.levels,
            if definition.levels == 1 { "" } else { "s" }
        )));
    }
    if components.is_empty() {
        return Ok(String::new());
    }
    if let Some(PartitionKeyValue::Number(n)) = components
        .iter()
        .find(|c| matches!(c, PartitionKeyValue::Number(n) if !n.is_finite()))
    {
        return Err(PartitionKeyError::Value(format!(
            "{n} is not a JSON number"
        )));
    }
    let mut out = String::with_capacity(32 * components.len());
    match (definition.kind, definition.version) {
        (PartitionKeyKind::MultiHash, _) => {
            let mut bytes = Vec::new();
            for c in components {
                bytes.clear();
                write_for_hashing(c, 0xFF, &mut bytes);
                v2_hash_hex(&bytes, &mut out);
            }
        }
        (PartitionKeyKind::Hash, 2) => {
            let mut bytes = Vec::new();
            for c in components {
                write_for_hashing(c, 0xFF, &mut bytes);
            }
            v2_hash_hex(&bytes, &mut out);
        }
        (PartitionKeyKind::Hash, _) => {
            let cut: Vec<PartitionKeyValue> = components
                .iter()
                .map(|c| match c {
                    PartitionKeyValue::String(s) => {
                        PartitionKeyValue::String(truncate_v1(s).into_owned())
                    }
                    other => other.clone(),
                })
                .collect();
            let mut bytes = Vec::new();
            for c in &cut {
                write_for_hashing(c, 0x00, &mut bytes);
            }
            let hash = murmur::murmur3_32(&bytes, 0);
            let mut encoded = Vec::new();
            write_number_binary(f64::from(hash), &mut encoded);
            for c in &cut {
                write_binary_v1(c, &mut encoded);
            }
            push_hex(&mut out, &encoded);
        }
    }
    Ok(out)
}

/// The effective-partition-key range a value addresses: a full key is the point `[epk, epk]`
/// (`max_inclusive`), a `MultiHash` prefix the range `[epk, epk + "FF")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpkRange {
    /// The first EPK.
    pub min: String,
    /// The last EPK (a point) or the end (a prefix).
    pub max: String,
    /// `max` belongs to the range (a point).
    pub max_inclusive: bool,
}

/// The EPK range of `components` under `definition` (see [`EpkRange`]).
///
/// ```
/// use cosmos_session_token::{epk_range, PartitionKeyDefinition, PartitionKeyKind, PartitionKeyValue};
/// let d = PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 2, 2)?;
/// let r = epk_range(&[PartitionKeyValue::String("tenant-1".into())], d)?;
/// assert!(!r.max_inclusive && r.max == format!("{}FF", r.min));
/// # Ok::<(), cosmos_session_token::PartitionKeyError>(())
/// ```
pub fn epk_range(
    components: &[PartitionKeyValue],
    definition: PartitionKeyDefinition,
) -> Result<EpkRange, PartitionKeyError> {
    let min = effective_partition_key(components, definition)?;
    let prefix = definition.kind == PartitionKeyKind::MultiHash
        && components.len() < definition.levels
        && !components.is_empty();
    if prefix {
        let max = format!("{min}FF");
        Ok(EpkRange {
            min,
            max,
            max_inclusive: false,
        })
    } else {
        Ok(EpkRange {
            max: min.clone(),
            min,
            max_inclusive: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> PartitionKeyValue {
        PartitionKeyValue::String(v.into())
    }

    #[test]
    fn number_encoding_is_order_preserving() {
        let enc = |n: f64| {
            let mut v = Vec::new();
            write_number_binary(n, &mut v);
            v
        };
        let mut last = enc(-1e300);
        for n in [-5.5, -1.0, -0.0, 0.0, 1e-300, 1.0, 2.0, 4294967296.0, 1e300] {
            let e = enc(n);
            assert!(e >= last, "{n}");
            last = e;
        }
        // The encoding of 0 is its flipped sign bit alone.
        assert_eq!(enc(0.0), [0x05, 0x80, 0x00]);
    }

    #[test]
    fn v1_truncation_counts_utf16_units() {
        let long: String = "a".repeat(99) + "😀";
        assert_eq!(truncate_v1(&long), "a".repeat(99) + "\u{FFFD}");
        assert_eq!(truncate_v1(&"b".repeat(120)), "b".repeat(100));
        assert_eq!(truncate_v1("short"), "short");
    }

    #[test]
    fn definitions_and_arity() {
        assert!(PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 1, 2).is_err());
        assert!(PartitionKeyDefinition::new(PartitionKeyKind::MultiHash, 2, 4).is_err());
        assert!(PartitionKeyDefinition::new(PartitionKeyKind::Hash, 3, 1).is_err());
        let d = PartitionKeyDefinition::hash_v2();
        assert!(effective_partition_key(&[s("a"), s("b")], d).is_err());
        assert_eq!(effective_partition_key(&[], d).unwrap(), "");
        assert!(effective_partition_key(&[PartitionKeyValue::Number(f64::NAN)], d).is_err());
    }
}
