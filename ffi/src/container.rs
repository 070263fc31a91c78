//! `cst_container`: the session container (per-partition tokens of many collections).

use std::ffi::c_char;

use cosmos_session_token::{RequestKind, SessionContainer};

use crate::boundary::{Failure, guard, guard_or, input_str, parents, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};
use crate::token::{check_out, cst_token, into_handle, not_found};

/// A session container: per-partition tokens of many collections, keyed by collection RID with
/// a name index. Internally synchronized: every function except cst_container_free may be called
/// from any number of threads at the same time. Free it once with cst_container_free.
pub struct cst_container {
    inner: SessionContainer,
}

impl Handle for cst_container {
    const NAME: &'static str = "container";
}
impl Boxed for cst_container {}

/// # Safety
/// `p` must be NULL or a live container handle.
unsafe fn container<'a>(p: *const cst_container) -> Result<&'a SessionContainer, Failure> {
    // SAFETY: forwarded caller guarantee.
    unsafe { borrow(p) }.map(|c| &c.inner)
}

/// Creates an empty container (merges unite regions at the same version; default limits:
/// 1,024 collections, 65,536 ranges each, 64 MiB snapshots) into *out.
///
/// # Safety
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_new(out: *mut *mut cst_container) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let handle = new_boxed(cst_container {
            inner: SessionContainer::new(),
        });
        // SAFETY: checked non-NULL.
        unsafe { put(out, handle, "out") }
    })
}

/// Releases a container. NULL is ignored. No other call on it may run at the same time or later.
///
/// # Safety
/// `container` must be NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_free(container: *mut cst_container) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(container) }
    })
}

/// Reads the HTTP status and sub-status of a response.
fn statuses(status: i32, sub_status: i32) -> Result<(u16, u32), Failure> {
    let status = u16::try_from(status)
        .map_err(|_| Failure::invalid(format!("status {status} is not an HTTP status")))?;
    let sub_status = u32::try_from(sub_status)
        .map_err(|_| Failure::invalid(format!("sub_status {sub_status} is negative")))?;
    Ok((status, sub_status))
}

/// Records a data-plane response's session token when the capture rule allows it: status 2xx,
/// 409, 412, or 404 with sub_status != 1002; an empty token (NULL with len 0, or "": the header
/// was missing or empty) captures nothing. *captured tells whether it did. The name
/// ("dbs/{db}/colls/{coll}", may be empty) maps to rid; a name now mapping to another RID drops
/// the old RID's tokens. Same as cst_container_capture_response with resource type "docs".
/// Returns CST_OK, CST_ERR_MALFORMED (token), CST_ERR_INVALID_ARGUMENT (empty rid, status outside
/// 0..65535, negative sub_status), CST_ERR_INCOMPATIBLE, ...
///
/// # Safety
/// `container` live; spans valid as documented; `captured` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_capture(
    container: *const cst_container,
    name: *const c_char,
    name_len: usize,
    rid: *const c_char,
    rid_len: usize,
    token: *const c_char,
    token_len: usize,
    status: i32,
    sub_status: i32,
    captured: *mut bool,
) -> i32 {
    const DOCS: &str = "docs";
    // SAFETY: forwarded caller guarantees; DOCS is a valid span.
    unsafe {
        cst_container_capture_response(
            container,
            DOCS.as_ptr().cast(),
            DOCS.len(),
            name,
            name_len,
            rid,
            rid_len,
            token,
            token_len,
            status,
            sub_status,
            captured,
        )
    }
}

/// Records a response's session token by the SDKs' rules: nothing for master/metadata requests
/// (resource types "dbs", "colls", "offers", "users", "permissions", "pkranges", "udts",
/// "clientencryptionkeys", "databaseaccount"), nothing for an empty token, else as
/// cst_container_capture for data-plane types ("docs", "attachments", "sprocs", "triggers",
/// "udfs", "conflicts"). Another resource type is CST_ERR_INVALID_ARGUMENT (kind
/// "unknown_resource_type").
///
/// # Safety
/// `container` live; spans valid as documented; `captured` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_capture_response(
    container: *const cst_container,
    resource_type: *const c_char,
    resource_type_len: usize,
    name: *const c_char,
    name_len: usize,
    rid: *const c_char,
    rid_len: usize,
    token: *const c_char,
    token_len: usize,
    status: i32,
    sub_status: i32,
    captured: *mut bool,
) -> i32 {
    guard(|| {
        if captured.is_null() {
            return Err(Failure::null("captured"));
        }
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let (resource_type, name, rid, token) = unsafe {
            (
                input_str(resource_type, resource_type_len, "resource type")?,
                input_str(name, name_len, "collection name")?,
                input_str(rid, rid_len, "collection rid")?,
                input_str(token, token_len, "token")?,
            )
        };
        let kind = RequestKind::from_resource_type(resource_type)?;
        let (status, sub_status) = statuses(status, sub_status)?;
        let did = c.capture_response(kind, name, rid, Some(token), status, sub_status)?;
        // SAFETY: checked non-NULL.
        unsafe { put(captured, did, "captured") }
    })
}

/// cst_container_resolve for the item with partition key `value_json` (as for
/// cst_partition_key_compute_effective) under the container's definition `definition_json` (NULL with
/// length 0: Hash V2), given its routing map: the token for the range holding the item (through
/// its parents), into a new token handle. Returns as cst_container_resolve, and
/// CST_ERR_INVALID_ARGUMENT for a partition key or definition.
///
/// # Safety
/// Handles live; spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the export's spans
pub unsafe extern "C" fn cst_container_resolve_for_partition_key(
    container: *const cst_container,
    collection: *const c_char,
    collection_len: usize,
    value_json: *const c_char,
    value_len: usize,
    definition_json: *const c_char,
    definition_len: usize,
    map: *const crate::partition_key::cst_routing_map,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let (c, m) = unsafe { (self::container(container)?, crate::handle::borrow(map)?) };
        // SAFETY: forwarded caller guarantees.
        let (collection, value, def) = unsafe {
            (
                input_str(collection, collection_len, "collection")?,
                input_str(value_json, value_len, "value_json")?,
                input_str(definition_json, definition_len, "definition_json")?,
            )
        };
        let (components, definition) = crate::partition_key::key_and_definition(value, def)?;
        let token = c
            .resolve_for_partition_key(collection, &components, definition, m.map())?
            .ok_or_else(not_found)?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, into_handle(token), "out") }
    })
}

/// The token to send for one range of a collection (name or RID) into a new token handle: the
/// exact range, else the merge of the known parents relabelled with range_id. Returns CST_OK;
/// CST_ERR_NOT_FOUND when nothing applies (send no token); CST_ERR_NULL_ARGUMENT,
/// CST_ERR_INVALID_UTF8 or CST_ERR_LIMIT_EXCEEDED for a bad input; CST_ERR_INCOMPATIBLE when the
/// parents conflict under the container's policy.
///
/// # Safety
/// `container` live; spans valid as documented; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_resolve(
    container: *const cst_container,
    collection: *const c_char,
    collection_len: usize,
    range_id: *const c_char,
    range_len: usize,
    parent_ids: *const *const c_char,
    parent_lens: *const usize,
    nparents: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let (collection, range, parents) = unsafe {
            (
                input_str(collection, collection_len, "collection")?,
                input_str(range_id, range_len, "range id")?,
                parents(parent_ids, parent_lens, nparents)?,
            )
        };
        let token = c
            .resolve(collection, range, &parents)?
            .ok_or_else(not_found)?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, into_handle(token), "out") }
    })
}

/// Every stored range of a collection as one composite token handle (numeric-aware range
/// order). CST_ERR_NOT_FOUND when nothing is stored. Check its size before sending it.
///
/// # Safety
/// `container` live; span valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_resolve_all(
    container: *const cst_container,
    collection: *const c_char,
    collection_len: usize,
    out: *mut *mut cst_token,
) -> i32 {
    guard(|| {
        check_out(out)?;
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let collection = unsafe { input_str(collection, collection_len, "collection") }?;
        let token = c.resolve_all(collection).ok_or_else(not_found)?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, into_handle(token), "out") }
    })
}

/// Forgets a collection's tokens and name mappings; *cleared tells whether anything was stored.
///
/// # Safety
/// `container` live; span valid; `cleared` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_clear(
    container: *const cst_container,
    collection: *const c_char,
    collection_len: usize,
    cleared: *mut bool,
) -> i32 {
    guard(|| {
        if cleared.is_null() {
            return Err(Failure::null("cleared"));
        }
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let collection = unsafe { input_str(collection, collection_len, "collection") }?;
        let did = c.clear(collection);
        // SAFETY: checked non-NULL.
        unsafe { put(cleared, did, "cleared") }
    })
}

/// Forgets one range of a collection (name or RID), e.g. a range that routing says no longer
/// exists after a split; *forgotten tells whether it was stored.
///
/// # Safety
/// `container` live; spans valid; `forgotten` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_forget_range(
    container: *const cst_container,
    collection: *const c_char,
    collection_len: usize,
    range_id: *const c_char,
    range_len: usize,
    forgotten: *mut bool,
) -> i32 {
    guard(|| {
        if forgotten.is_null() {
            return Err(Failure::null("forgotten"));
        }
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let (collection, range) = unsafe {
            (
                input_str(collection, collection_len, "collection")?,
                input_str(range_id, range_len, "range id")?,
            )
        };
        let did = c.forget_range(collection, range);
        // SAFETY: checked non-NULL.
        unsafe { put(forgotten, did, "forgotten") }
    })
}

/// The whole container as versioned JSON (output protocol), for another process:
/// {"format":"cosmos-session-token/container","version":1,"collections":[{"rid","names","token"}]}.
///
/// # Safety
/// `container` live; `buf` valid for `cap` bytes (or NULL with cap 0); `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_snapshot(
    container: *const cst_container,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&c.snapshot(), buf, cap, out_len) }
    })
}

/// Merges a snapshot into the container; nothing changes when it is invalid (CST_ERR_MALFORMED,
/// kind "invalid_snapshot" or a token error), too large (CST_ERR_LIMIT_EXCEEDED) or conflicting.
///
/// # Safety
/// `container` live; span valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_container_restore(
    container: *const cst_container,
    snapshot: *const c_char,
    snapshot_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let c = unsafe { self::container(container) }?;
        // SAFETY: forwarded caller guarantees.
        let text = unsafe { input_str(snapshot, snapshot_len, "snapshot") }?;
        Ok(c.restore(text)?)
    })
}
