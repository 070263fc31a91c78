#!/usr/bin/env node
// A Cosmos DB-compatible test server: @vercel/cosmosdb-server (pinned in package.json) on an
// internal loopback port, behind this front, which
//   * fixes two incompatibilities of the server: /pkranges ids are numbers (the service sends
//     strings); a point read of a missing item answers 500 unless
//     x-ms-documentdb-query-enablecrosspartition is set (then 404);
//   * answers an item request in a database or container that does not exist with 404 and
//     x-ms-substatus 1003 (owner resource not found), as the service does (the server answers a
//     plain 404 or a 500);
//   * answers 400 for item ids containing / \ ? # as the real service does (the server accepts
//     them, which would hide a missing encoding);
//   * compiles a query shape once (numbers become parameters; see Items.prototype.query below);
//   * returns a session token (0:1#<n>, n = the writes the answering region has reached) so token
//     capture is exercised over HTTP (the server returns none; this is not the service's replica
//     behaviour beyond what account.js describes);
//   * injects faults on request (429 with x-ms-retry-after-ms, 449, dropped connections) and
//     counts requests by kind, for the fault and cost tests:
//       POST /_shim/faults  {"status": 429|449|503, "times": N, "retry_after_ms": 20, "match": "docs"}
//                           {"drop": "before"|"after", "times": N, "match": "..."}
//       GET  /_shim/stats   {"requests", "reads", "queries", "writes" (POST/PUT/DELETE of items),
//                            "patches", "batches", "applied" (item writes that succeeded), "charge", ...}
//       POST /_shim/reset
// Regions, replication lag, failover, Entra ID sign-in and fake identity endpoints are in
// account.js (its header says how they behave); GET / is answered from there.
// Usage: node server.js [--port N] [--detached] [--regions "West US,East US"] [--multi-write]
// [--entra]   (0 = a free port); prints "region <name> <port>" for each region, then
// "listening <port>" (the global endpoint) when ready. It listens on 127.0.0.1 only, and exits on SIGTERM/SIGINT and, unless --detached
// (started by scripts/session-farm, which stops it by PID), when its standard input closes (its
// parent is gone).
"use strict";

const http = require("http");
const { createHttpServer } = require("@vercel/cosmosdb-server");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const { createAccount } = require("./account");

// The server compiles every distinct SQL text once (about 25 ms: a parser and a code generator)
// and caches it by text. A conditional patch's condition carries the request's time, so every
// patch was a new text and cost a compile. Numeric literals are passed as parameters instead
// (same semantics: the parser takes @names wherever it takes numbers), so one compiled query
// serves every patch of one shape. Texts with strings, TOP, OFFSET or LIMIT are left alone.
const NUMBER = /(^|[^\w@.])(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])/g;
const originalQuery = Items.prototype.query;
Items.prototype.query = function query(params, options) {
  const text = params && params.query;
  if (typeof text !== "string" || /['"]|\btop\b|\boffset\b|\blimit\b/i.test(text)) {
    return originalQuery.call(this, params, options);
  }
  const extra = [];
  const shaped = text.replace(NUMBER, (_, before, number) => {
    const name = `@__n${extra.length}`;
    extra.push({ name, value: Number(number) });
    return `${before}${name}`;
  });
  const parameters = (params.parameters || []).concat(extra);
  return originalQuery.call(this, Object.assign({}, params, { query: shaped, parameters }), options);
};

const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const publicPort = portArg >= 0 ? parseInt(args[portArg + 1], 10) : 0;
const HOST = "127.0.0.1";
const regionsArg = args.indexOf("--regions");
const account = createAccount({
  regions: regionsArg >= 0 ? args[regionsArg + 1].split(",").map((r) => r.trim()).filter(Boolean) : [],
  multiWrite: args.includes("--multi-write"),
  entra: args.includes("--entra"),
});

let faults = [];
let stats = {};
function resetStats() {
  stats = { requests: 0, reads: 0, queries: 0, writes: 0, patches: 0, batches: 0, applied: 0, metadata: 0, injected: 0, dropped: 0, charge: 0,
            account_reads: 0, read_session_unavailable: 0, write_forbidden: 0, unauthorized: 0, by_region: {} };
}
resetStats();

function kind(req) {
  const h = req.headers;
  if (h["x-ms-cosmos-is-batch-request"]) return "batches";
  if (h["x-ms-documentdb-isquery"]) return "queries";
  if (!/\/docs(\/|$)/.test(req.url)) return "metadata";
  if (req.method === "PATCH") return "patches";
  return req.method === "GET" ? "reads" : "writes";
}

const FORBIDDEN = /[\/\\?#]/;
function badIds(req, body) {
  const ids = [];
  const m = /\/docs\/([^/?]+)$/.exec(req.url.split("?")[0]);
  if (m) {
    try { ids.push(decodeURIComponent(m[1])); } catch (e) { ids.push("/"); }
  }
  if (/\/docs$/.test(req.url.split("?")[0]) && body.length && !req.headers["x-ms-documentdb-isquery"]) {
    try {
      const parsed = JSON.parse(body.toString("utf8"));
      const items = Array.isArray(parsed) ? parsed : [parsed];
      for (const it of items) {
        if (it && typeof it.id === "string") ids.push(it.id);
        if (it && it.resourceBody && typeof it.resourceBody.id === "string") ids.push(it.resourceBody.id);
      }
    } catch (e) { /* the server answers malformed JSON itself */ }
  }
  return ids.filter((id) => FORBIDDEN.test(id));
}

function send(res, status, body, headers) {
  res.writeHead(status, Object.assign({ "content-type": "application/json" }, headers || {}));
  res.end(JSON.stringify(body));
}

// Containers known to exist ("db/coll"), so only the first item request of one asks the backend.
const containers = new Set();
function containerExists(backendPort, db, coll, done) {
  const req = http.request({ host: HOST, port: backendPort, method: "GET", path: `/dbs/${db}/colls/${coll}` }, (up) => {
    up.resume();
    up.on("end", () => done(up.statusCode === 200));
  });
  req.on("error", () => done(false));
  req.end();
}

function takeFault(req) {
  for (const f of faults) {
    if (f.times > 0 && (!f.match || req.url.includes(f.match) || kind(req) === f.match)) {
      f.times -= 1;
      return f;
    }
  }
  return null;
}

const backend = createHttpServer();
backend.listen(0, HOST, () => {
  const backendPort = backend.address().port;
  // `fixed`: the region a regional front serves; null for the global endpoint, which serves the
  // current write region.
  const handler = (fixed) => (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const region = fixed || account.writeRegion();
      if (req.url.startsWith("/_shim/") || req.url.startsWith("/_fake/")) {
        const answer = account.control(req, body) || account.identity(req, body);
        if (answer) return send(res, answer[0], answer[1]);
        if (req.url === "/_shim/faults" && req.method === "POST") {
          const f = JSON.parse(body.toString("utf8") || "{}");
          f.times = f.times === undefined ? 1 : f.times;
          faults.push(f);
          return send(res, 200, { ok: true });
        }
        if (req.url === "/_shim/stats") return send(res, 200, stats);
        if (req.url === "/_shim/reset") { resetStats(); faults = []; return send(res, 200, { ok: true }); }
        return send(res, 404, { message: "unknown shim endpoint" });
      }
      if (region.down) return req.socket.destroy();
      stats.requests += 1;
      stats.by_region[region.name] = (stats.by_region[region.name] || 0) + 1;
      if (req.method === "GET" && req.url.split("?")[0] === "/") {
        stats.account_reads += 1;
        const denied = account.authorize(req);
        if (denied) { stats.unauthorized += 1; return send(res, denied[0], denied[1], denied[2]); }
        return send(res, 200, account.metadata(req.headers.host));
      }
      stats[kind(req)] += 1;
      const denied = account.authorize(req);
      if (denied) {
        stats.unauthorized += 1;
        return send(res, denied[0], denied[1], denied[2]);
      }
      const gated = account.gate(region, req);
      if (gated) {
        if (gated[0] === 404) stats.read_session_unavailable += 1;
        if (gated[0] === 403) stats.write_forbidden += 1;
        return send(res, gated[0], gated[1], Object.assign({ "x-ms-request-charge": "1" }, gated[2]));
      }
      const fault = takeFault(req);
      if (fault && fault.status) {
        stats.injected += 1;
        const headers = { "x-ms-request-charge": "0" };
        if (fault.retry_after_ms !== undefined) headers["x-ms-retry-after-ms"] = String(fault.retry_after_ms);
        return send(res, fault.status, { code: "Injected", message: `injected ${fault.status}` }, headers);
      }
      if (fault && fault.drop === "before") {
        stats.dropped += 1;
        return req.socket.destroy();
      }
      const bad = badIds(req, body);
      if (bad.length) {
        return send(res, 400, { code: "BadRequest", message: `The input name '${bad[0]}' is invalid. Ensure to not use characters '/', '\\\\', '?', '#'.` });
      }
      const owner = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs(\/|$)/.exec(req.url.split("?")[0]);
      if (owner && !containers.has(`${owner[1]}/${owner[2]}`)) {
        return containerExists(backendPort, owner[1], owner[2], (exists) => {
          if (exists) {
            containers.add(`${owner[1]}/${owner[2]}`);
            return forward(req, res, body, region, fault, backendPort);
          }
          return send(res, 404, { code: "NotFound", message: `Owner resource does not exist: dbs/${owner[1]}/colls/${owner[2]}` }, { "x-ms-substatus": "1003", "x-ms-request-charge": "1" });
        });
      }
      forward(req, res, body, region, fault, backendPort);
    });
  };
  function forward(req, res, body, region, fault, backendPort) {
      const headers = Object.assign({}, req.headers);
      delete headers["content-length"];
      headers.host = `${HOST}:${backendPort}`;
      if (req.method === "GET" && /\/docs\/[^/]+$/.test(req.url.split("?")[0])) {
        headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
      }
      if (req.headers["x-ms-documentdb-isquery"]) {
        headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
      }
      if (body.length) headers["content-length"] = String(body.length);
      const upstream = http.request({ host: HOST, port: backendPort, method: req.method, path: req.url, headers }, (up) => {
        const parts = [];
        up.on("data", (c) => parts.push(c));
        up.on("end", () => {
          let out = Buffer.concat(parts);
          const status = up.statusCode;
          const path = req.url.split("?")[0];
          if (req.method === "GET" && /\/pkranges$/.test(path)) {
            try {
              const doc = JSON.parse(out.toString("utf8"));
              for (const r of doc.PartitionKeyRanges || []) r.id = String(r.id);
              out = Buffer.from(JSON.stringify(doc));
            } catch (e) { /* leave it */ }
          }
          const isWrite = req.method !== "GET" && !req.headers["x-ms-documentdb-isquery"];
          if (req.method === "DELETE" && status < 300 && /^\/dbs\/[^/]+(\/colls\/[^/]+)?$/.test(path)) {
            const [, , db, , coll] = path.split("/");
            for (const c of Array.from(containers)) if (c.startsWith(`${db}/`) && (!coll || c === `${db}/${coll}`)) containers.delete(c);
          }
          if (isWrite && status < 300) {
            account.applied();
            if (/\/docs(\/|$)/.test(path)) stats.applied += 1;
          }
          const respHeaders = Object.assign({}, up.headers);
          delete respHeaders["content-length"];
          delete respHeaders["transfer-encoding"];
          respHeaders["content-length"] = String(out.length);
          respHeaders["x-ms-session-token"] = `0:1#${account.reached(region)}`;
          stats.charge += parseFloat(up.headers["x-ms-request-charge"] || "0") || 0;
          if (fault && fault.drop === "after") {
            stats.dropped += 1;
            return req.socket.destroy();
          }
          res.writeHead(status, respHeaders);
          res.end(out);
        });
      });
      upstream.on("error", (e) => send(res, 502, { message: `shim: backend failed: ${e.message}` }));
      upstream.end(body);
  }
  // One front per region, then the global endpoint; "listening" is printed last, when all answer.
  let pending = account.regions.length;
  for (const r of account.regions) {
    const front = http.createServer(handler(r));
    front.listen(0, HOST, () => {
      r.port = front.address().port;
      process.stdout.write(`region ${r.name} ${r.port}\n`);
      pending -= 1;
      if (pending === 0) listenGlobal();
    });
  }
  function listenGlobal() {
    const front = http.createServer(handler(null));
    front.listen(publicPort, HOST, () => {
      process.stdout.write(`listening ${front.address().port}\n`);
    });
  }
});

function stop() { process.exit(0); }
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (!args.includes("--detached")) {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
