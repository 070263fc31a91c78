//! C ABI of cosmos-session-token (`libcstoken`). The conventions are in the header preamble
//! (`include/cstoken.h`) and in the README's "C API" section; every function documents its
//! parameters, ownership, status codes and thread safety.
//!
//! Behaviour lives in the core crate; this crate only translates: pointers and lengths in,
//! status codes and caller-owned buffers out, and no panic ever crosses the boundary.
#![allow(non_camel_case_types)] // C names
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod boundary;
mod handle;
#[cfg(test)]
mod source_shape;

// Declared in the header's order (cbindgen follows it): status, token handles, one-shot text
// helpers, carrier, container, session state. Each group is its own paragraph so rustfmt keeps
// the order.
mod status;

mod last_error;

mod token;

mod feed_range;

mod sealing;

mod oneshot;

mod partition_key;

mod web;

mod cookie_policy;

mod carrier;

mod container;

mod flow;

mod flow_cookies;

#[cfg(feature = "state")]
mod state_options;

#[cfg(feature = "state")]
mod state;

#[cfg(feature = "state")]
mod state_results;

#[cfg(feature = "state")]
mod state_writes;

#[cfg(feature = "state")]
mod state_token_flow;

#[cfg(feature = "state")]
mod state_admin;

#[cfg(feature = "state")]
mod state_token_cookie;

#[cfg(feature = "state")]
mod state_hooks;

pub use status::*;

pub use last_error::*;

pub use token::*;

pub use feed_range::*;

pub use sealing::*;

pub use oneshot::*;

pub use partition_key::*;

pub use web::*;

pub use cookie_policy::*;

pub use carrier::*;

pub use container::*;

pub use flow::*;

#[cfg(feature = "state")]
pub use state_options::*;

#[cfg(feature = "state")]
pub use state::*;

#[cfg(feature = "state")]
pub use state_results::*;

#[cfg(feature = "state")]
pub use state_writes::*;

#[cfg(feature = "state")]
pub use state_token_flow::*;

#[cfg(feature = "state")]
pub use state_admin::*;

#[cfg(feature = "state")]
pub use state_token_cookie::*;

#[cfg(feature = "state")]
pub use state_hooks::*;
