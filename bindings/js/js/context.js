"use strict";
// The flow current for the code running now: one AsyncLocalStorage, so each web request (and
// every promise, timer and callback it starts) sees its own user's flow while one CosmosClient
// serves them all. The @azure/cosmos plugin built without a flow reads it; the cookie
// middleware sets it. JavaScript's counterpart of Python's `SessionFlow.activate()`.
const { AsyncLocalStorage } = require("node:async_hooks");
const { SessionFlow, constants } = require("./node/cosmos_session_token.js");
const { makeError } = require("./node/support.js");

const storage = new AsyncLocalStorage();

/** The flow made current by `runWithFlow` (or the cookie middleware), or undefined. */
function currentFlow() {
  return storage.getStore();
}

/** Runs `fn(...args)` with `flow` current (for it and everything it starts); returns its result. */
function runWithFlow(flow, fn, ...args) {
  // The library's one error class for the caller's own mistakes, as everywhere else.
  if (!(flow instanceof SessionFlow)) throw invalid("runWithFlow: flow must be a SessionFlow");
  if (typeof fn !== "function") throw invalid("runWithFlow: fn must be a function");
  return storage.run(flow, fn, ...args);
}

// The category comes from the core's error table, not from here.
const INVALID = new Map(constants().ERROR_CODES).get("invalid_argument");

/** A SessionTokenError `invalid_argument` (the caller's own mistake). */
function invalid(message) {
  return makeError("invalid_argument", INVALID, message);
}

module.exports = { currentFlow, runWithFlow, invalid };
