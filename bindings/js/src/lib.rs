//! The npm package `cosmos-session-token`: the core crate compiled to WebAssembly with
//! wasm-bindgen.
//!
//! This crate only translates: JavaScript values in, core calls, JavaScript values or a thrown
//! `SessionTokenError` out. Every rule (grammar, merge, order, scope, routing, sealing, flow)
//! is the core's. Conventions of the JavaScript API (docs/javascript.md):
//!
//! * 64-bit integers of the token grammar (versions, global and local LSNs, and the gaps of
//!   `compareExplained`) are `bigint`; counts, indices, offsets and region ids are `number`.
//! * A missing result (no segment for a range, no pair overlapping a feed range) is
//!   `undefined`, never an exception.
//! * Every refusal is a `SessionTokenError` (`code`, `category`, `position`, `rangeId`),
//!   including arguments of the wrong JavaScript type (`invalid_argument`) and strings with a
//!   lone surrogate (`invalid_utf8`).

use cosmos_session_token::{Code, Error as CoreError, SessionToken as CoreToken};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::convert::RefFromWasmAbi;
use wasm_bindgen::prelude::*;

mod container;
mod flow;
mod routing;
mod sealing;
mod token;

pub use container::SessionContainer;
pub use flow::{CookieFlow, FlowCookies, SessionFlow};
pub use routing::RoutingMap;
pub use token::SessionToken;

/// What a call gives back: a value, or the `SessionTokenError` to throw.
pub(crate) type JsResult<T> = Result<T, JsValue>;

#[wasm_bindgen(raw_module = "./support.js")]
extern "C" {
    /// A `SessionTokenError` (support.js) with the core's code, category and position.
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(
        code: &str,
        category: &str,
        message: &str,
        segment: Option<u32>,
        offset: Option<u32>,
        range_id: Option<String>,
    ) -> JsValue;

    /// The address of the Rust object behind an instance of the glue's class `class_name`; 0
    /// for anything else.
    #[wasm_bindgen(js_name = pointerOf)]
    fn pointer_of(value: &JsValue, class_name: &str) -> u32;

    /// False for a string with a lone surrogate.
    #[wasm_bindgen(js_name = isWellFormed)]
    fn is_well_formed(value: &JsValue) -> bool;
}

/// The `SessionTokenError` of a code raised by the binding itself (a wrong argument).
pub(crate) fn table_error(code: Code, message: String) -> JsValue {
    make_error(
        code.name(),
        code.category().name(),
        &message,
        None,
        None,
        None,
    )
}

/// A wrong argument: `invalid_argument`.
pub(crate) fn invalid(message: String) -> JsValue {
    table_error(Code::InvalidArgument, message)
}

/// The `SessionTokenError` of a core error, with its position (parse errors) or range id.
pub(crate) fn core_error(e: &CoreError) -> JsValue {
    core_error_with(e, "")
}

/// [`core_error`] with a prefix to the message (`pair 3: `).
pub(crate) fn core_error_with(e: &CoreError, prefix: &str) -> JsValue {
    let code = e.code();
    let message = format!("{prefix}{e}");
    match e {
        CoreError::Parse(p) => make_error(
            code.name(),
            code.category().name(),
            &message,
            p.segment().map(to_u32),
            Some(to_u32(p.offset())),
            p.range_id().map(str::to_owned),
        ),
        CoreError::Merge(cosmos_session_token::MergeError::RegionMismatch { range_id, .. }) => {
            make_error(
                code.name(),
                code.category().name(),
                &message,
                None,
                None,
                Some(range_id.to_string()),
            )
        }
        _ => make_error(
            code.name(),
            code.category().name(),
            &message,
            None,
            None,
            None,
        ),
    }
}

/// Converts any core error type (parse, merge, seal, feed range, partition key ...).
pub(crate) fn err(e: impl Into<CoreError>) -> JsValue {
    core_error(&e.into())
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How a value is named in an error message: its `typeof`, or `null`.
pub(crate) fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        return "null".to_owned();
    }
    v.js_typeof().as_string().unwrap_or_else(|| "?".to_owned())
}

/// A string argument (anything else is `invalid_argument`; a lone surrogate `invalid_utf8`).
pub(crate) fn text(v: &JsValue, what: &str) -> JsResult<String> {
    match v.as_string() {
        Some(s) if is_well_formed(v) => Ok(s),
        Some(_) => Err(table_error(
            Code::InvalidUtf8,
            format!("{what} is not well-formed UTF-16 (a lone surrogate): it has no UTF-8 form"),
        )),
        None => Err(invalid(format!(
            "{what} must be a string, not {}",
            type_name(v)
        ))),
    }
}

/// An optional string argument: `undefined` and `null` are `None`.
pub(crate) fn opt_text(v: &JsValue, what: &str) -> JsResult<Option<String>> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        text(v, what).map(Some)
    }
}

/// A string argument that defaults to `""` when `undefined`.
pub(crate) fn text_or_empty(v: &JsValue, what: &str) -> JsResult<String> {
    Ok(opt_text(v, what)?.unwrap_or_default())
}

/// A non-negative integer argument within `max` (a `number` or a `bigint`).
pub(crate) fn integer(v: &JsValue, what: &str, max: u64) -> JsResult<u64> {
    let n = if let Some(f) = v.as_f64() {
        if !(f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= max as f64) {
            return Err(invalid(format!(
                "{what} must be an integer from 0 to {max}, not {f}"
            )));
        }
        f as u64
    } else if v.is_bigint() {
        let big: js_sys::BigInt = v.clone().unchecked_into();
        let s = big.to_string(10).map(String::from).unwrap_or_default();
        match s.parse::<u64>() {
            Ok(n) if n <= max => n,
            _ => {
                return Err(invalid(format!(
                    "{what} must be an integer from 0 to {max}, not {s}n"
                )));
            }
        }
    } else {
        return Err(invalid(format!(
            "{what} must be a number, not {}",
            type_name(v)
        )));
    };
    Ok(n)
}

/// An optional integer: `undefined` and `null` give `default`.
pub(crate) fn integer_or(v: &JsValue, what: &str, max: u64, default: u64) -> JsResult<u64> {
    if v.is_undefined() || v.is_null() {
        Ok(default)
    } else {
        integer(v, what, max)
    }
}

/// A boolean argument (`undefined` gives `default`).
pub(crate) fn boolean_or(v: &JsValue, what: &str, default: bool) -> JsResult<bool> {
    if v.is_undefined() {
        return Ok(default);
    }
    v.as_bool()
        .ok_or_else(|| invalid(format!("{what} must be a boolean, not {}", type_name(v))))
}

/// An options object (`undefined`/`null`: none): the value of one of its properties.
pub(crate) fn option(options: &JsValue, name: &str) -> JsResult<JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !options.is_object() {
        return Err(invalid(format!(
            "options must be an object, not {}",
            type_name(options)
        )));
    }
    Reflect::get(options, &JsValue::from_str(name))
        .map_err(|_| invalid(format!("options.{name} could not be read")))
}

/// Bytes: a `Uint8Array` (a Node `Buffer` is one).
pub(crate) fn bytes(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    v.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| {
            invalid(format!(
                "{what} must be a Uint8Array (or Buffer), not {}",
                type_name(v)
            ))
        })
}

/// Keys: one `Uint8Array`, or an array of them (a rotation list, the first one seals).
pub(crate) fn key_list(v: &JsValue, what: &str) -> JsResult<Vec<Vec<u8>>> {
    if v.dyn_ref::<Uint8Array>().is_some() {
        return Ok(vec![bytes(v, what)?]);
    }
    let Some(list) = v.dyn_ref::<Array>() else {
        return Err(invalid(format!(
            "{what} must be a Uint8Array or an array of them, not {}",
            type_name(v)
        )));
    };
    list.iter()
        .enumerate()
        .map(|(i, k)| bytes(&k, &format!("{what}[{i}]")))
        .collect()
}

/// An array of strings (`undefined`: empty).
pub(crate) fn string_list(v: &JsValue, what: &str) -> JsResult<Vec<String>> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    let Some(list) = v.dyn_ref::<Array>() else {
        return Err(invalid(format!(
            "{what} must be an array of strings, not {}",
            type_name(v)
        )));
    };
    list.iter()
        .enumerate()
        .map(|(i, s)| text(&s, &format!("{what}[{i}]")))
        .collect()
}

/// JSON text of a value: a string is taken as JSON text already; anything else goes through
/// `JSON.stringify` (a cycle or a `bigint` is `invalid_argument`).
pub(crate) fn json_text(v: &JsValue, what: &str) -> JsResult<String> {
    if v.is_string() {
        return text(v, what);
    }
    if v.is_undefined() {
        return Err(invalid(format!("{what} is missing (undefined)")));
    }
    match js_sys::JSON::stringify(v) {
        Ok(s) => s
            .as_string()
            .ok_or_else(|| invalid(format!("{what} has no JSON form"))),
        Err(_) => Err(invalid(format!(
            "{what} could not be turned into JSON (a cycle, or a bigint?)"
        ))),
    }
}

/// Sets `name` on a plain object (building it cannot fail: the object is ours).
pub(crate) fn set(obj: &Object, name: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(name), &value.into());
}

/// What the glue hands a method for an object argument of one of its classes.
type ClassAbi<T> = wasm_bindgen::__rt::WasmPtr<wasm_bindgen::__rt::WasmRefCell<T>>;

/// Borrows the Rust object behind an instance of the exported class `T` (named `class` in
/// JavaScript) as the glue does for a typed parameter, but refuses anything else — another
/// type, a freed instance — with a `SessionTokenError` instead of the glue's plain `Error`.
/// (wasm-bindgen is pinned to one version: this uses its ABI for class references.)
pub(crate) fn instance<T>(v: &JsValue, class: &str, what: &str) -> JsResult<T::Anchor>
where
    T: RefFromWasmAbi<Abi = ClassAbi<T>>,
{
    let ptr = pointer_of(v, class);
    if ptr == 0 {
        return Err(invalid(format!(
            "{what} must be a live {class}, not {}",
            type_name(v)
        )));
    }
    // SAFETY: `ptr` is the `__wbg_ptr` of a live instance of the class (checked by instanceof
    // and non-zero: freeing an instance zeroes it), i.e. a pointer the glue got from
    // `Rc::into_raw` for this type, exactly what the glue passes for a typed `&T` parameter;
    // `try_ref_from_abi` checks the borrow state instead of throwing.
    unsafe { T::try_ref_from_abi(ClassAbi::<T>::from_usize(ptr as usize)) }
        .map_err(|m| invalid(format!("{what}: {m}")))
}

/// A token argument: a `SessionToken`, or a string parsed strictly.
pub(crate) fn token_arg(v: &JsValue, what: &str) -> JsResult<CoreToken> {
    if v.is_string() {
        let s = text(v, what)?;
        return CoreToken::parse(&s).map_err(err);
    }
    if pointer_of(v, "SessionToken") != 0 {
        return Ok(instance::<SessionToken>(v, "SessionToken", what)?
            .inner
            .clone());
    }
    Err(invalid(format!(
        "{what} must be a string or a SessionToken, not {}",
        type_name(v)
    )))
}

/// The library's constants: `HEADER`, cookie names and budgets, `ERROR_CODES` (`[code,
/// category]` pairs of the error table) and `VERSION`.
#[wasm_bindgen(js_name = constants)]
pub fn constants() -> JsValue {
    use cosmos_session_token as c;
    let o = Object::new();
    set(&o, "HEADER", c::HEADER);
    set(&o, "FLOW_COOKIE_NAME", c::FLOW_COOKIE_NAME);
    set(&o, "TOKEN_COOKIE_NAME", c::TOKEN_COOKIE_NAME);
    set(&o, "DEFAULT_COOKIE_NAME", c::DEFAULT_COOKIE_NAME);
    set(&o, "DEFAULT_SEAL_BUDGET", c::DEFAULT_SEAL_BUDGET as f64);
    set(&o, "MESSAGE_FLOW_BUDGET", c::MESSAGE_FLOW_BUDGET as f64);
    set(&o, "COMPOSITE_BUDGET", c::COMPOSITE_BUDGET as f64);
    set(&o, "MAX_SCOPE_PARENTS", c::MAX_SCOPE_PARENTS as f64);
    set(&o, "MAX_SEAL_KEYS", c::MAX_SEAL_KEYS as f64);
    set(
        &o,
        "READ_SESSION_NOT_AVAILABLE",
        c::READ_SESSION_NOT_AVAILABLE as f64,
    );
    let codes = Array::new();
    for row in c::ERROR_CODES {
        let pair = Array::new();
        pair.push(&JsValue::from_str(row.code));
        pair.push(&JsValue::from_str(row.category.name()));
        codes.push(&pair);
    }
    set(&o, "ERROR_CODES", codes);
    set(&o, "VERSION", env!("CARGO_PKG_VERSION"));
    o.into()
}
