//! Effective partition keys, routing maps, the token to send for a partition key or a feed
//! range, and why a token is not satisfied (cst_token_compare_explain).

use std::ffi::c_char;

use cosmos_session_token::{
    FeedRange, PartitionKeyDefinition, PartitionKeyError, PartitionKeyKind, PartitionKeyValue,
    RoutingMap, epk_range, token_for_feed_range, token_for_partition_key,
};

use crate::boundary::{Failure, guard, input_str, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::status::{CST_PARTITION_KEY_HASH, CST_PARTITION_KEY_MULTIHASH};
use crate::token::{check_out, cst_token, into_handle, not_found, token};

/// A container's partition-key ranges (cst_routing_map_parse): immutable, usable from any
/// number of threads at once; free it with cst_routing_map_free.
pub struct cst_routing_map {
    map: RoutingMap,
}

impl cst_routing_map {
    pub(crate) fn map(&self) -> &RoutingMap {
        &self.map
    }
}

/// A partition key (JSON) and a container definition (JSON, "" for Hash V2).
pub(crate) fn key_and_definition(
    value: &str,
    definition: &str,
) -> Result<(Vec<PartitionKeyValue>, PartitionKeyDefinition), Failure> {
    let d = if definition.is_empty() {
        PartitionKeyDefinition::hash_v2()
    } else {
        PartitionKeyDefinition::from_json(definition).map_err(cosmos_session_token::Error::from)?
    };
    Ok((components(value)?, d))
}

impl Handle for cst_routing_map {
    const NAME: &'static str = "routing map";
}
impl Boxed for cst_routing_map {}

fn components(text: &str) -> Result<Vec<PartitionKeyValue>, Failure> {
    Ok(PartitionKeyValue::parse_json(text).map_err(cosmos_session_token::Error::from)?)
}

fn definition(
    kind: u32,
    version: u32,
    levels: u32,
    components: usize,
) -> Result<PartitionKeyDefinition, Failure> {
    let kind = match kind {
        CST_PARTITION_KEY_HASH => PartitionKeyKind::Hash,
        CST_PARTITION_KEY_MULTIHASH => PartitionKeyKind::MultiHash,
        other => {
            return Err(Failure::from(cosmos_session_token::Error::from(
                PartitionKeyError::Definition(format!(
                    "kind {other} is neither CST_PARTITION_KEY_HASH nor CST_PARTITION_KEY_MULTIHASH"
                )),
            )));
        }
    };
    let levels = (levels != 0).then_some(levels as usize);
    let version = u8::try_from(version).unwrap_or(u8::MAX);
    Ok(
        PartitionKeyDefinition::for_key(kind, version, levels, components)
            .map_err(cosmos_session_token::Error::from)?,
    )
}

/// The effective partition key of `value_json` (a JSON partition key: "user-42", 42, true,
/// null, {} for undefined, or a list of components for a hierarchical key) under kind
/// CST_PARTITION_KEY_HASH (`version` 1 or 2) or CST_PARTITION_KEY_MULTIHASH (`version` 2,
/// `levels` paths, 0 = the number of components), written as upper-case hex (output protocol;
/// "" for no components). A MultiHash prefix gives the start of its range, which ends at the
/// EPK followed by "FF". Returns CST_OK, CST_ERR_INVALID_ARGUMENT (kinds invalid_partition_key,
/// invalid_partition_key_definition), CST_ERR_BUFFER_TOO_SMALL, CST_ERR_NULL_ARGUMENT,
/// CST_ERR_INVALID_UTF8. Thread-safe.
///
/// # Safety
/// Span valid as documented; output as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_partition_key_compute_effective(
    value_json: *const c_char,
    len: usize,
    kind: u32,
    version: u32,
    levels: u32,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(value_json, len, "value_json") }?;
        let c = components(text)?;
        let d = definition(kind, version, levels, c.len())?;
        let r = epk_range(&c, d).map_err(cosmos_session_token::Error::from)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&r.min, buf, cap, out_len) }
    })
}

/// Parses a container's partition-key ranges — the body of GET dbs/{db}/colls/{coll}/pkranges
/// ({"PartitionKeyRanges":[{"id","minInclusive","maxExclusive","parents"}]}) or a bare list of
/// those objects — checked to cover ""..FF without gaps or overlaps, into *out. Returns CST_OK,
/// CST_ERR_MALFORMED (kind invalid_routing_map: the message says where), CST_ERR_NULL_ARGUMENT,
/// CST_ERR_INVALID_UTF8.
///
/// # Safety
/// Span valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_routing_map_parse(
    json: *const c_char,
    len: usize,
    out: *mut *mut cst_routing_map,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(json, len, "json") }?;
        let map = RoutingMap::parse(text).map_err(cosmos_session_token::Error::from)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, new_boxed(cst_routing_map { map }), "out") }
    })
}

/// Frees a routing map (NULL is fine).
///
/// # Safety
/// `map` NULL or a live map of this library, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_routing_map_free(map: *mut cst_routing_map) {
    // SAFETY: forwarded caller guarantee.
    unsafe { free_boxed(map) }
}

/// The number of ranges of `map` into *out. Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `map` live; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_routing_map_get_range_count(
    map: *const cst_routing_map,
    out: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantee.
        let m = unsafe { borrow(map) }?;
        // SAFETY: forwarded caller guarantee.
        unsafe { put(out, m.map.ranges().len(), "out") }
    })
}

/// The token to send for the item with partition key `value_json` (as for
/// cst_partition_key_compute_effective) under the container's definition `definition_json` (its
/// "partitionKey" property, e.g. {"paths":["/pk"],"kind":"Hash","version":2}; NULL with length
/// 0: Hash V2): the segment of the range holding it, or its parents' progress after a split or
/// merge, into a new token handle *out. A hierarchical-key prefix gets the segments of every
/// range it spans. Returns CST_OK, CST_ERR_NOT_FOUND (no segment applies; *out untouched),
/// CST_ERR_INVALID_ARGUMENT, CST_ERR_INCOMPATIBLE (merging parents), CST_ERR_NULL_ARGUMENT,
/// CST_ERR_INVALID_UTF8. Thread-safe.
///
/// # Safety
/// Handles live; spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_scope_to_partition_key(
    t: *const cst_token,
    value_json: *const c_char,
    value_len: usize,
    definition_json: *const c_char,
    definition_len: usize,
    map: *const cst_routing_map,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let (t, m) = unsafe { (token(t, "token")?, borrow(map)?) };
        // SAFETY: forwarded caller guarantees.
        let (value, def) = unsafe {
            (
                input_str(value_json, value_len, "value_json")?,
                input_str(definition_json, definition_len, "definition_json")?,
            )
        };
        let (c, d) = key_and_definition(value, def)?;
        let sent = token_for_partition_key(t, &c, d, &m.map)?.ok_or_else(not_found)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(sent), "out") }
    })
}

/// The segments of `t` a request over `feed_range` needs (MIN-MAX text or the SDKs' JSON): one
/// per range it overlaps, found through the parents after splits and merges, into a new token
/// handle *out. Returns as cst_token_scope_to_partition_key.
///
/// # Safety
/// Handles live; span valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_scope_to_feed_range(
    t: *const cst_token,
    feed_range: *const c_char,
    len: usize,
    map: *const cst_routing_map,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let (t, m) = unsafe { (token(t, "token")?, borrow(map)?) };
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(feed_range, len, "feed_range") }?;
        let fr = FeedRange::parse(text)?;
        let sent = token_for_feed_range(t, &fr, &m.map)?.ok_or_else(not_found)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out, into_handle(sent), "out") }
    })
}

/// CST_OK when `t` renders in at most `max_bytes`; otherwise CST_ERR_LIMIT_EXCEEDED (kind
/// token_too_large). A token is never cut (dropping a segment would weaken consistency): scope it
/// with cst_token_scope_to_partition_key or cst_token_scope_to_feed_range instead. Thread-safe.
///
/// # Safety
/// `t` live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_token_check_header_budget(
    t: *const cst_token,
    max_bytes: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantee.
        let t = unsafe { token(t, "token") }?;
        cosmos_session_token::check_header_budget(t, max_bytes)
            .map_err(|e| Failure::from(cosmos_session_token::Error::from(e)))
    })
}
