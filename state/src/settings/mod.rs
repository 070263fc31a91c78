//! Every session-state option as the surfaces take it — names as text, times as seconds, counts
//! as integers — with one set of defaults and one [`Settings::resolve`] that validates them all.
//! [`OPTIONS`] lists them (name, type, range, meaning) and [`Settings::set`]/[`Settings::get`]
//! read and write them as text, so that a surface which takes options by name passes them
//! through unchanged. The C ABI (`cst_state_options_*`), Python (`SessionStateStore(...)` keywords), .NET
//! (`SessionStateOptions`, through the C ABI), the ASP.NET provider's attributes and `cst state`
//! all fill a `Settings` and resolve it, so a name, a default and a range are the same everywhere.

mod table;
mod values;

pub use table::{OPTIONS, OptionSpec, OptionType, option_spec};
pub use values::{MAX_REQUEST_TIMEOUT_SECONDS, MAX_RETRIES, Settings};
