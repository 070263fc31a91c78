"use strict";
// The @azure/cosmos request plugin: a SessionFlow inside the SDK's own requests, with the
// behaviour of the Python hooks (cosmos_session_token.azure). Per HTTP attempt it asks the flow
// for the token to send (scoped to the partition the request goes to), and hands it every
// response to capture and learn from. Every rule is the core's: this file only moves method,
// path, headers, status and body between the SDK and the flow, and retries a read that a lagging
// region answered 404/1002 (read session not available) instead of letting the SDK turn it into
// "absent".
//
// Tested with @azure/cosmos 4.10.1 (bindings/js/package-lock.json): `PluginConfig`, `on:
// "request"` and the request context's `method`, `path`, `endpoint`, `headers`, `client` are
// marked @hidden there.
const { SessionFlow, constants } = require("./node/cosmos_session_token.js");
const { currentFlow, invalid } = require("./context.js");

const { HEADER, READ_SESSION_NOT_AVAILABLE } = constants();
// Waits before re-reading where a read answered 1002 and no other region can serve it: about
// 0.8 s in all, then the 404/1002 goes to the caller (the SDK's own session retry follows).
const DEFAULT_BACKOFF_MS = [20, 60, 180, 540];
// A container whose definition and ranges could not be read is tried again after this long.
const PRIME_RETRY_MS = 30000;
const COUNTERS = [
  "requests", "primed", "prime_failed", "read_session_unavailable",
  "retried_at_write_region", "retried_after_backoff", "gave_up",
];

/**
 * The plugins for `new CosmosClient({..., plugins})`: one request plugin. `options.flow`: the
 * flow every request of the client goes through; without it, the flow current at the time
 * (`runWithFlow`, the cookie middleware), none when there is none. `options.backoffMs`: the
 * waits of the 1002 retry. `options.prime` (default true): have the SDK read a container's
 * definition and ranges the first time the client touches its items. The array has a
 * non-enumerable `stats()`.
 */
function cosmosPlugins(options = {}) {
  if (options === null || typeof options !== "object") throw invalid(`cosmosPlugins: options must be an object, not ${options === null ? "null" : typeof options}`);
  const state = new PluginState(options);
  const plugins = [{ on: "request", plugin: (context, diagnosticNode, next) => state.run(context, diagnosticNode, next) }];
  Object.defineProperty(plugins, "stats", { value: () => state.stats(), enumerable: false });
  return plugins;
}

/** What one plugin keeps: its flow (or none: the current one), the write region, counters. */
class PluginState {
  constructor({ flow, backoffMs = DEFAULT_BACKOFF_MS, prime = true }) {
    if (flow !== undefined && !(flow instanceof SessionFlow)) {
      throw invalid("cosmosPlugins: options.flow must be a SessionFlow");
    }
    if (!Array.isArray(backoffMs) || backoffMs.some((ms) => !Number.isFinite(ms) || ms < 0) || backoffMs.length > 16) {
      throw invalid("cosmosPlugins: options.backoffMs must be an array of at most 16 waits in milliseconds");
    }
    this.flow = flow;
    this.backoffMs = backoffMs.slice();
    this.prime = prime !== false;
    // The write region's endpoint, from the account description the SDK reads (GET /);
    // undefined until then, and on a multi-write account (any region may lack a write).
    this.writeEndpoint = undefined;
    // Container link -> true (primed), a priming under way (promise), or when one failed.
    this.primed = new Map();
    this.counters = Object.fromEntries(COUNTERS.map((n) => [n, 0]));
  }

  stats() {
    return { ...this.counters };
  }

  async run(context, diagnosticNode, next) {
    this.counters.requests++;
    const flow = this.flow ?? currentFlow();
    const url = context.path || "/";
    if (flow !== undefined) {
      if (this.prime) await this.primeFor(context, diagnosticNode, url);
      const token = flow.beforeRequest(context.method, url, context.headers);
      if (token !== undefined) context.headers[HEADER] = token;
    }
    const send = () => this.send(flow, context, url, next);
    try {
      return await send();
    } catch (error) {
      if (!isSessionNotAvailable(error) || !isRead(context)) throw error;
      return this.retryElsewhere(context, send, error);
    }
  }

  // One attempt; its answer (or error answer) goes to the flow.
  async send(flow, context, url, next) {
    let response;
    try {
      response = await next(context);
    } catch (error) {
      // An HTTP answer (an error with a status); not a timeout, an abort or a network error.
      if (flow !== undefined && Number.isInteger(error?.code) && error.code >= 100 && error.code <= 999) {
        flow.afterResponse(context.method, url, error.code, error.headers ?? {},
          flow.wantsBody(context.method, url) ? error.body : undefined);
      }
      throw error;
    }
    if (url === "/" && context.method === "GET") this.learnAccount(response.result);
    if (flow !== undefined) {
      flow.afterResponse(context.method, url, response.code ?? 200, response.headers ?? {},
        flow.wantsBody(context.method, url) ? response.result : undefined);
    }
    return response;
  }

  // A read that a lagging region answered 404/1002 (its replica has not reached the token the
  // read presents): again at the write region, which has every write, or where it was after
  // bounded waits. Never "not found": if every attempt answers 1002, the 1002 goes up.
  async retryElsewhere(context, send, error) {
    this.counters.read_session_unavailable++;
    let last = error;
    const write = this.writeEndpoint;
    if (write !== undefined && sameEndpoint(write, context.endpoint) === false) {
      context.endpoint = write;
      try {
        const response = await send();
        this.counters.retried_at_write_region++;
        return response;
      } catch (again) {
        if (!isSessionNotAvailable(again)) throw again;
        last = again;
      }
    }
    for (const ms of this.backoffMs) {
      await sleep(ms);
      try {
        const response = await send();
        this.counters.retried_after_backoff++;
        return response;
      } catch (again) {
        if (!isSessionNotAvailable(again)) throw again;
        last = again;
      }
    }
    this.counters.gave_up++;
    throw last;
  }

  // The write region of a single-write account: the SDK's own account read, the first writable
  // location (the SDK's own choice of write endpoint).
  learnAccount(account) {
    if (account === null || typeof account !== "object") return;
    const first = Array.isArray(account.writableLocations) ? account.writableLocations[0] : undefined;
    const endpoint = first?.databaseAccountEndpoint;
    this.writeEndpoint = account.enableMultipleWriteLocations !== true && typeof endpoint === "string" && /^https?:\/\//.test(endpoint)
      ? endpoint : undefined;
  }

  // @azure/cosmos reads a container's definition and ranges only for some operations (queries,
  // the change feed); a point read or write names its partition key but no range. So the first
  // time the client touches a container's items, the plugin has the SDK read both (its own
  // requests, signed by it, through this plugin: the flow learns from the answers), and the
  // flow scopes every point operation to its partition's range from then on.
  async primeFor(context, diagnosticNode, url) {
    const link = itemsContainer(url);
    const client = context.client;
    if (link === undefined || typeof client?.read !== "function" || typeof client.queryPartitionKeyRanges !== "function") return;
    // true: done; a number: failed at that time; a promise: under way (concurrent first
    // requests wait for the one priming).
    const seen = this.primed.get(link);
    if (seen === true) return;
    if (typeof seen === "number" && Date.now() - seen < PRIME_RETRY_MS) return;
    if (seen !== undefined && typeof seen !== "number") return seen;
    const priming = (async () => {
      try {
        await client.read({ path: `/${link}`, resourceType: "colls", resourceId: link, options: {}, diagnosticNode });
        await client.queryPartitionKeyRanges(link).fetchAll();
        this.counters.primed++;
        this.primed.set(link, true);
      } catch {
        // Not fatal: the flow sends the container's composite (within its budget) or leaves
        // the SDK's header until the SDK reads them itself.
        this.counters.prime_failed++;
        this.primed.set(link, Date.now());
      }
    })();
    this.primed.set(link, priming);
    return priming;
  }
}

// `dbs/{db}/colls/{coll}` of a request to a container's items (documents), else undefined.
function itemsContainer(url) {
  const m = /^\/?dbs\/([^/?#]+)\/colls\/([^/?#]+)\/docs(?:[/?#]|$)/.exec(url);
  if (m === null) return undefined;
  try {
    return `dbs/${decodeURIComponent(m[1])}/colls/${decodeURIComponent(m[2])}`;
  } catch {
    return undefined;
  }
}

function isSessionNotAvailable(error) {
  return error?.code === 404 && Number(error.substatus) === READ_SESSION_NOT_AVAILABLE;
}

// Reads only: a write is never retried here (the SDK has its own rules for those).
function isRead(context) {
  return context.method === "GET" || context.operationType === "query" || context.operationType === "read";
}

// Whether two endpoints are the same origin (undefined when one cannot be read).
function sameEndpoint(a, b) {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return undefined;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { cosmosPlugins };
