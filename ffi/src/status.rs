//! Status codes, flags and constants, versions and status names. (The last error: recorded by the
//! boundary, read through `last_error`.)

use std::ffi::c_char;

/// Success.
pub const CST_OK: i32 = 0;
/// A required pointer argument was NULL (or an input pointer was NULL with a non-zero length).
pub const CST_ERR_NULL_ARGUMENT: i32 = 1;
/// An input string was not valid UTF-8.
pub const CST_ERR_INVALID_UTF8: i32 = 2;
/// A token did not parse; cst_last_error_get_message() says where and why.
pub const CST_ERR_MALFORMED: i32 = 3;
/// Tokens could not be merged: same version, different region sets, region mismatch = error.
pub const CST_ERR_INCOMPATIBLE: i32 = 4;
/// The output buffer is too small; *out_len holds the length needed (without the NUL).
pub const CST_ERR_BUFFER_TOO_SMALL: i32 = 5;
/// The operation had no result (e.g. scope: no segment applies to the range).
pub const CST_ERR_NOT_FOUND: i32 = 6;
/// An argument was out of range (unknown flag bits, unknown format, index past the end).
pub const CST_ERR_INVALID_ARGUMENT: i32 = 7;
/// An input broke a size limit (1 MiB, 65,536 segments, 256 regions, 256-byte range ids).
pub const CST_ERR_LIMIT_EXCEEDED: i32 = 8;
/// An internal error (a Rust panic) was caught; the library remains usable.
pub const CST_ERR_PANIC: i32 = 9;
/// A sealed token was rejected: bad signature (tampered, other key, other context), unknown
/// version or malformed envelope.
pub const CST_ERR_REJECTED: i32 = 10;
/// Session state: the caller's lock was taken over (it had expired); nothing was written.
pub const CST_ERR_LOCK_LOST: i32 = 11;
/// Session state: the store failed (unreachable, throttled past the retries, refused the request,
/// or returned undecodable content); cst_last_error_get_code() says which.
pub const CST_ERR_STORE: i32 = 12;

/// Flag: parse leniently, reporting each repair as a warning (the warning kinds are listed by
/// cst_token_get_warning).
pub const CST_FLAG_LENIENT: u32 = 1;
/// Flag: merging values of the same version with different regions takes the union.
pub const CST_FLAG_UNION_REGIONS: u32 = 2;
/// Flag: on a version change keep the max global LSN (turns false-progress protection off).
pub const CST_FLAG_LEGACY_MAX_GLOBAL_LSN: u32 = 4;

/// Format: simple value `globalLsn` (SDK v1).
pub const CST_FORMAT_SIMPLE: i32 = 0;
/// Format: vector value `version#globalLsn[#regionId=localLsn]*` (SDK v2+).
pub const CST_FORMAT_VECTOR: i32 = 1;

/// Order: the first token is strictly older.
pub const CST_ORDER_LESS: i32 = 0;
/// Order: the tokens carry the same progress.
pub const CST_ORDER_EQUAL: i32 = 1;
/// Order: the first token is strictly newer.
pub const CST_ORDER_GREATER: i32 = 2;
/// Order: each token is ahead somewhere (incomparable).
pub const CST_ORDER_CONCURRENT: i32 = 3;
/// `kind` of cst_partition_key_compute_effective: Hash (version 1 or 2, one path).
pub const CST_PARTITION_KEY_HASH: u32 = 0;
/// `kind` of cst_partition_key_compute_effective: MultiHash (hierarchical, version 2, 1–3 paths).
pub const CST_PARTITION_KEY_MULTIHASH: u32 = 1;

/// ABI version of this header. Bumped on every incompatible change of the C ABI.
pub const CST_ABI_VERSION: u32 = 5;
/// Library version, major part.
pub const CST_VERSION_MAJOR: u32 = 0;
/// Library version, minor part.
pub const CST_VERSION_MINOR: u32 = 1;
/// Library version, patch part.
pub const CST_VERSION_PATCH: u32 = 0;

/// The library's version as a static NUL-terminated string, e.g. "cosmos-session-token 0.1.0".
/// Never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_library_get_version() -> *const c_char {
    concat!("cosmos-session-token ", env!("CARGO_PKG_VERSION"), "\0")
        .as_ptr()
        .cast()
}

/// The ABI version of the loaded library; compare it with CST_ABI_VERSION. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_library_get_abi_version() -> u32 {
    CST_ABI_VERSION
}

/// The name of a status code (`CST_OK`, `CST_ERR_MALFORMED`: the constant's own name), or
/// "CST_ERR_UNKNOWN" for a number that is not one.
/// A static NUL-terminated string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn cst_status_get_name(status: i32) -> *const c_char {
    let name: &'static str = match status {
        CST_OK => "CST_OK\0",
        CST_ERR_NULL_ARGUMENT => "CST_ERR_NULL_ARGUMENT\0",
        CST_ERR_INVALID_UTF8 => "CST_ERR_INVALID_UTF8\0",
        CST_ERR_MALFORMED => "CST_ERR_MALFORMED\0",
        CST_ERR_INCOMPATIBLE => "CST_ERR_INCOMPATIBLE\0",
        CST_ERR_BUFFER_TOO_SMALL => "CST_ERR_BUFFER_TOO_SMALL\0",
        CST_ERR_NOT_FOUND => "CST_ERR_NOT_FOUND\0",
        CST_ERR_INVALID_ARGUMENT => "CST_ERR_INVALID_ARGUMENT\0",
        CST_ERR_LIMIT_EXCEEDED => "CST_ERR_LIMIT_EXCEEDED\0",
        CST_ERR_PANIC => "CST_ERR_PANIC\0",
        CST_ERR_REJECTED => "CST_ERR_REJECTED\0",
        CST_ERR_LOCK_LOST => "CST_ERR_LOCK_LOST\0",
        CST_ERR_STORE => "CST_ERR_STORE\0",
        _ => "CST_ERR_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
