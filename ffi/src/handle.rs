//! How every C handle owns its Rust value, typed once (the shape rustls-ffi uses): a handle type
//! is [`Boxed`] (one owner: created by its `_new`, released by its `_free`) or [`Shared`] (an
//! `Arc`: `_clone` adds a reference, `_free` releases one). Creating, borrowing, cloning and
//! releasing go through these functions only, so a shared handle can never be freed as a box,
//! and every borrow of NULL is the same `null_argument` failure.

use std::sync::Arc;

use crate::boundary::Failure;

/// A type handed to C as an opaque pointer; `NAME` is what a NULL one is called in errors.
pub(crate) trait Handle: Sized {
    /// The handle's parameter name in messages (`"token"`, `"state"`).
    const NAME: &'static str;
}

/// A handle with one owner (`Box`).
pub(crate) trait Boxed: Handle {}

/// A handle shared by reference counting (`Arc`).
pub(crate) trait Shared: Handle {}

/// A new boxed handle.
pub(crate) fn new_boxed<T: Boxed>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Releases a boxed handle (NULL is a no-op).
///
/// # Safety
/// `handle` NULL or a live pointer from [`new_boxed`], not used afterwards.
pub(crate) unsafe fn free_boxed<T: Boxed>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: a live boxed handle is a Box::into_raw pointer, released once.
        drop(unsafe { Box::from_raw(handle) });
    }
}

/// A new shared handle (one reference).
pub(crate) fn new_shared<T: Shared>(value: T) -> *mut T {
    Arc::into_raw(Arc::new(value)).cast_mut()
}

/// Adds a reference to a shared handle: the same pointer (NULL in, NULL out).
///
/// # Safety
/// `handle` NULL or a live pointer from [`new_shared`].
pub(crate) unsafe fn clone_shared<T: Shared>(handle: *const T) -> *mut T {
    if !handle.is_null() {
        // SAFETY: a live shared handle is an Arc::into_raw pointer.
        unsafe { Arc::increment_strong_count(handle) };
    }
    handle.cast_mut()
}

/// Releases one reference of a shared handle (NULL is a no-op).
///
/// # Safety
/// `handle` NULL or a live pointer from [`new_shared`]/[`clone_shared`], this reference not used
/// afterwards.
pub(crate) unsafe fn free_shared<T: Shared>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: a live shared handle is an Arc::into_raw pointer; this releases one reference.
        drop(unsafe { Arc::from_raw(handle.cast_const()) });
    }
}

/// Borrows a live handle for the call (NULL: a `null_argument` failure naming it).
///
/// # Safety
/// `handle` NULL or a live pointer of this library that outlives the returned borrow.
pub(crate) unsafe fn borrow<'a, T: Handle>(handle: *const T) -> Result<&'a T, Failure> {
    // SAFETY: forwarded caller guarantee.
    unsafe { handle.as_ref() }.ok_or_else(|| Failure::null(T::NAME))
}
