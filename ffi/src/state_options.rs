//! `cst_state_options`: the options of cst_state_open as name/value text pairs over the state
//! crate's one option table (`Settings`, `OPTIONS`): no default, range or type is spelt here, and
//! a new option never changes the ABI.

use std::ffi::c_char;
use std::sync::Mutex;

use cosmos_session_state::{CosmosOptions, Options, Settings};

use crate::boundary::{Failure, guard, guard_or, input_str, put, write_output};
use crate::handle::{Boxed, Handle, borrow, free_boxed, new_boxed};

/// Options of cst_state_open / cst_state_open_memory / cst_state_open_with_hooks: the state
/// crate's defaults until set by name (cst_state_options_set). One thread at a time may set;
/// reading and opening from several threads is safe.
pub struct cst_state_options {
    // A Mutex, not a Cell: a handle may be shared between threads by its owner.
    settings: Mutex<Settings>,
}

impl Handle for cst_state_options {
    const NAME: &'static str = "options";
}
impl Boxed for cst_state_options {}

impl cst_state_options {
    fn settings(&self) -> Settings {
        // A panic while setting left a whole Settings value (fields are assigned whole).
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Creates options holding every default (see the option table: cst_state_option_table_get_json)
/// into *out. Release with cst_state_options_free.
///
/// # Safety
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_new(out: *mut *mut cst_state_options) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let options = cst_state_options {
            settings: Mutex::new(Settings::default()),
        };
        // SAFETY: checked non-NULL.
        unsafe { put(out, new_boxed(options), "out") }
    })
}

/// Sets the option `name` to `value`, both UTF-8 text: seconds and fractions as decimals ("30",
/// "0.5"), counts as whole numbers, flags as "true"/"false", names as they are (empty: the
/// default). CST_ERR_INVALID_ARGUMENT (kind invalid_option, naming the option) for an unknown
/// name or a value of the wrong type, and nothing changes; a value out of range is refused the
/// same way by cst_state_open.
///
/// # Safety
/// A live handle; spans valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_set(
    options: *mut cst_state_options,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let options = unsafe { borrow(options.cast_const()) }?;
        let (name, value) = unsafe {
            (
                input_str(name, name_len, "name")?,
                input_str(value, value_len, "value")?,
            )
        };
        // A refused value changes nothing (Settings::set assigns a field only once it parsed).
        let mut settings = options
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(settings.set(name, value)?)
    })
}

/// The option `name`'s value as text (output protocol), in the form cst_state_options_set reads.
/// CST_ERR_INVALID_ARGUMENT (invalid_option) for an unknown name.
///
/// # Safety
/// A live handle; the span valid; output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_get(
    options: *const cst_state_options,
    name: *const c_char,
    name_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        let options = unsafe { borrow(options) }?;
        let name = unsafe { input_str(name, name_len, "name") }?;
        let value = options.settings().get(name)?;
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&value, buf, cap, out_len) }
    })
}

/// Releases options (stores opened with them keep their own copy). NULL is ignored.
///
/// # Safety
/// NULL or a live handle not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_options_free(options: *mut cst_state_options) {
    guard_or((), || {
        // SAFETY: forwarded caller guarantee.
        unsafe { free_boxed(options) }
    })
}

/// The option table as JSON (output protocol): an array of {"name", "type" (text, seconds,
/// fraction, count, flag), "default", "range", "doc"}, in the docs' order. Surfaces list and
/// document the options from it.
///
/// # Safety
/// Output as in the header's conventions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cst_state_option_table_get_json(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller guarantees.
        unsafe { write_output(&Settings::schema_json(), buf, cap, out_len) }
    })
}

/// Resolves the options (NULL: the defaults) into the engine's and the Cosmos store's, checking
/// every range (invalid_option naming the option).
///
/// # Safety
/// `options` NULL or a live handle.
pub(crate) unsafe fn read_options(
    options: *const cst_state_options,
) -> Result<(Options, CosmosOptions), Failure> {
    // SAFETY: the caller passes NULL or a live handle.
    let settings = match unsafe { options.as_ref() } {
        Some(o) => o.settings(),
        None => Settings::default(),
    };
    Ok(settings.resolve()?)
}
