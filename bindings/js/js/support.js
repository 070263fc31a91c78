// The JavaScript side of the WebAssembly glue: the error class every refusal is thrown as, and
// the checks the Rust side cannot make itself. No token logic lives here.
// Written as an ES module; build.sh makes the CommonJS copy (node/support.js) from this file.
import * as glue from "./cosmos_session_token.js";

/**
 * Every refusal of the library: `code` is the stable snake_case code of the error table
 * (docs/errors.md), `category` its category; `position` ({segment, offset}, 0-based, offset in
 * UTF-8 bytes) where the core locates the error, and `rangeId` where it names a range.
 */
export class SessionTokenError extends Error {
  constructor(message, code, category, position, rangeId) {
    super(message);
    this.name = "SessionTokenError";
    this.code = code;
    this.category = category;
    if (position !== undefined) this.position = position;
    if (rangeId !== undefined) this.rangeId = rangeId;
  }
}

export function makeError(code, category, message, segment, offset, rangeId) {
  const position = offset === undefined ? undefined : { segment: segment === undefined ? null : segment, offset };
  return new SessionTokenError(message, code, category, position, rangeId);
}

// The address of the Rust object behind an instance of one of the glue's classes (0: not an
// instance, or freed), so the Rust side can borrow it as the glue itself does after its own
// instanceof check — and refuse anything else with a SessionTokenError.
export function pointerOf(value, className) {
  const cls = glue[className];
  return typeof cls === "function" && value instanceof cls ? value.__wbg_ptr >>> 0 : 0;
}

// A string that is not well-formed UTF-16 (a lone surrogate) has no UTF-8 form: the glue would
// replace the surrogate silently. String.prototype.isWellFormed: Node 20, current browsers.
export function isWellFormed(value) {
  return typeof value.isWellFormed !== "function" || value.isWellFormed();
}
