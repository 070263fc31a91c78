"use strict";
// The Express-style middleware `(req, res, next)`: each user's flow carried between web nodes in
// the sealed flow cookie (`cosmos_flow`), current for the @azure/cosmos plugin while the request
// runs, sealed back before the response's headers go out when the user's progress moved. The
// policy — sealing, binding to the user, the budget, what a refused cookie becomes, the cookie's
// attributes — is the core's FlowCookies and tokenCookieHeader, as for the Python, Django, Flask
// and ASP.NET adapters; this file only moves the cookie between HTTP and the core.
const { FlowCookies, constants, tokenCookieHeader } = require("./node/cosmos_session_token.js");
const { runWithFlow, invalid } = require("./context.js");

const { FLOW_COOKIE_NAME } = constants();

/**
 * A middleware for Express, Connect or plain `node:http` handlers. Options: `keys` (seal keys,
 * `Uint8Array`s of at least 16 bytes; `deriveCookieKeys([secret])` makes them from a secret) or
 * `cookies` (a `FlowCookies`, one per node); `context(req)`: the user the cookie is bound to (a
 * session id or a signed-in user's id; `""` when the request has none: nothing is read or
 * written); `secure` (default true; false only for plain-HTTP development), `maxAge` (seconds),
 * `maxBytes` (the cookie's budget, default 4000); `onRefused(verdict, req)`: told why a cookie
 * that came was not accepted (forged, another user's, unknown key ...; never the cookie itself).
 * The user's flow is `req.cosmosFlow` and `currentFlow()`; `middleware.cookies` is the
 * `FlowCookies` (its `stats()`, its `node()` flow).
 */
function flowCookieMiddleware(options) {
  if (options === null || typeof options !== "object") throw invalid("flowCookieMiddleware: options must be an object");
  const { keys, cookies, context, secure = true, maxAge, maxBytes, onRefused } = options;
  if (typeof context !== "function") throw invalid("flowCookieMiddleware: options.context must be a function of the request");
  if (onRefused !== undefined && typeof onRefused !== "function") throw invalid("flowCookieMiddleware: options.onRefused must be a function");
  const jar = cookies instanceof FlowCookies ? cookies : new FlowCookies(keys, maxBytes === undefined ? undefined : { maxBytes });
  const attributes = { secure: secure !== false, maxAge };
  // Checked once here, not on the first response: a bad maxAge throws now.
  tokenCookieHeader(FLOW_COOKIE_NAME, "x", attributes);

  function middleware(req, res, next) {
    const bound = contextOf(context, req);
    const user = jar.open(bound, requestCookie(req, FLOW_COOKIE_NAME));
    if (user.refused && onRefused) onRefused(user.verdict, req);
    // One wrapper for the request (each `user.flow` read makes a new one over the same flow).
    const flow = user.flow;
    req.cosmosFlow = flow;
    beforeHeaders(res, () => {
      // The user's context now: a request that signed the user in binds the cookie to them.
      const now = contextOf(context, req);
      const out = jar.seal(user, now === bound ? undefined : now);
      if (out.outcome === "sealed") appendSetCookie(res, tokenCookieHeader(FLOW_COOKIE_NAME, out.value, attributes));
    });
    return runWithFlow(flow, next);
  }
  middleware.cookies = jar;
  return middleware;
}

function contextOf(context, req) {
  const value = context(req);
  return value === undefined || value === null ? "" : String(value);
}

// The cookie's value: from `req.cookies` when a cookie parser ran, else from the Cookie header
// (the first cookie of that name). Values are taken as they are: sealed text needs no decoding.
function requestCookie(req, name) {
  const parsed = req.cookies;
  if (parsed !== null && typeof parsed === "object" && typeof parsed[name] === "string") return parsed[name];
  const header = req.headers?.cookie;
  if (typeof header !== "string") return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
  }
  return undefined;
}

// Runs `fn` once, just before the response's headers are written: every way a Node response
// sends its headers (writeHead, or write/end without it) goes through `writeHead`. What the
// application writes to Cosmos DB after that (while streaming a body) is not carried.
function beforeHeaders(res, fn) {
  const writeHead = res.writeHead;
  let done = false;
  res.writeHead = function writeHeadWithFlowCookie(...args) {
    if (!done) {
      done = true;
      if (!res.headersSent) fn();
    }
    return writeHead.apply(this, args);
  };
}

// Adds a Set-Cookie header, keeping those the application set.
function appendSetCookie(res, value) {
  const previous = res.getHeader("set-cookie");
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader("set-cookie", [...list, value]);
}

module.exports = { flowCookieMiddleware };
