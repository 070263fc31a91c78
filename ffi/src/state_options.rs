//! `cst_state_options`: the options of cst_state_open, filled with the state crate's defaults
//! and resolved by its `Settings` (one schema for every surface).

use cosmos_session_state::{CosmosOptions, Options, Settings};
use std::ffi::c_char;

use crate::boundary::{Failure, guard, input_str, put};

/// Options of cst_state_open. Fill with cst_state_options_default, then change what you need.
/// Strings are (pointer, length) UTF-8 spans; NULL with length 0 means "the default".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cst_state_options {
    /// Database id (default "sessions"); created on first use.
    pub database: *const c_char,
    /// Length of `database` in bytes.
    pub database_len: usize,
    /// Container id (default "SessionStore"); created on first use.
    pub container: *const c_char,
    /// Length of `container` in bytes.
    pub container_len: usize,
    /// Consistency level asked for: "Strong" (the default, also for NULL/""), "BoundedStaleness",
    /// "Session", "ConsistentPrefix", "Eventual", or "AccountDefault" to send no consistency
    /// header (the account's default applies).
    pub consistency: *const c_char,
    /// Length of `consistency` in bytes.
    pub consistency_len: usize,
    /// Seconds a lock lives before another request may take it over (default 30).
    pub lock_ttl: f64,
    /// Default session timeout in seconds (default 1200).
    pub timeout: f64,
    /// Gzip new content (default true); items record their own flag.
    pub compression: bool,
    /// Fraction of the timeout after which a read renews the session (default 0.25).
    pub renew_fraction: f64,
    /// Timeout of one HTTP request in seconds (default 10).
    pub request_timeout: f64,
    /// Retries of a throttled or failed request (default 9, at most 100).
    pub max_retries: u32,
    /// Seconds one operation may take in all, retries and region changes included (default 20).
    pub operation_timeout: f64,
    /// Regions reads prefer, comma-separated ("East US, West US"); NULL/"": reads go to the
    /// write region.
    pub preferred_regions: *const c_char,
    /// Length of `preferred_regions` in bytes.
    pub preferred_regions_len: usize,
    /// Run on an account with several write regions (default false: refused).
    pub allow_multi_write: bool,
    /// The first write creates a missing database and container (default true; key sign-in only).
    pub create_if_missing: bool,
    /// How to sign in: "Key" (the default, also NULL/""), "ManagedIdentity" (App Service's
    /// IDENTITY_ENDPOINT/IDENTITY_HEADER, else the VM instance-metadata endpoint), "ClientSecret"
    /// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST). With Entra
    /// ID the connection string has AccountEndpoint only.
    pub authentication: *const c_char,
    /// Length of `authentication` in bytes.
    pub authentication_len: usize,
    /// A user-assigned managed identity's client id (NULL: the system-assigned identity).
    pub managed_identity_client_id: *const c_char,
    /// Length of `managed_identity_client_id` in bytes.
    pub managed_identity_client_id_len: usize,
}

/// Fills *out with the defaults (see cst_state_options). Returns CST_OK or CST_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_default(out: *mut cst_state_options) -> i32 {
    guard(|| {
        let d = Settings::default();
        let value = cst_state_options {
            database: std::ptr::null(),
            database_len: 0,
            container: std::ptr::null(),
            container_len: 0,
            consistency: std::ptr::null(),
            consistency_len: 0,
            lock_ttl: d.lock_ttl,
            timeout: d.timeout,
            compression: d.compression,
            renew_fraction: d.renew_fraction,
            request_timeout: d.request_timeout,
            // The default (9) fits; the field is unsigned.
            max_retries: u32::try_from(d.max_retries).unwrap_or(0),
            operation_timeout: d.operation_timeout,
            preferred_regions: std::ptr::null(),
            preferred_regions_len: 0,
            allow_multi_write: d.allow_multi_write,
            create_if_missing: d.create_if_missing,
            authentication: std::ptr::null(),
            authentication_len: 0,
            managed_identity_client_id: std::ptr::null(),
            managed_identity_client_id_len: 0,
        };
        // SAFETY: forwarded caller guarantees.
        unsafe { put(out, value, "out") }
    })
}

/// Reads the options struct (NULL: the defaults).
///
/// # Safety
/// `options` NULL or valid, with valid spans.
pub(crate) unsafe fn read_options(
    options: *const cst_state_options,
) -> Result<(Options, CosmosOptions), Failure> {
    // SAFETY: the caller passes NULL or a valid struct.
    let Some(o) = (unsafe { options.as_ref() }) else {
        return Ok(Settings::default().resolve()?);
    };
    // SAFETY: forwarded caller guarantees on the spans.
    // SAFETY: forwarded caller guarantees on the spans.
    let (authentication, client_id) = unsafe {
        (
            input_str(
                o.authentication,
                o.authentication_len,
                "options.authentication",
            )?,
            input_str(
                o.managed_identity_client_id,
                o.managed_identity_client_id_len,
                "options.managed_identity_client_id",
            )?,
        )
    };
    let (database, container, consistency, preferred_regions) = unsafe {
        (
            input_str(o.database, o.database_len, "options.database")?,
            input_str(o.container, o.container_len, "options.container")?,
            input_str(o.consistency, o.consistency_len, "options.consistency")?,
            input_str(
                o.preferred_regions,
                o.preferred_regions_len,
                "options.preferred_regions",
            )?,
        )
    };
    // Defaults and ranges are the state crate's (one `Settings::resolve` for every surface).
    let settings = Settings {
        database: database.to_owned(),
        container: container.to_owned(),
        consistency: consistency.to_owned(),
        lock_ttl: o.lock_ttl,
        timeout: o.timeout,
        compression: o.compression,
        renew_fraction: o.renew_fraction,
        request_timeout: o.request_timeout,
        max_retries: i64::from(o.max_retries),
        operation_timeout: o.operation_timeout,
        preferred_regions: preferred_regions.to_owned(),
        allow_multi_write: o.allow_multi_write,
        create_if_missing: o.create_if_missing,
        authentication: authentication.to_owned(),
        managed_identity_client_id: client_id.to_owned(),
    };
    Ok(settings.resolve()?)
}
