#!/usr/bin/env node
// A Cosmos DB-compatible test server: @vercel/cosmosdb-server (pinned in package.json) on an
// internal loopback port, behind this front, which
//   * fixes three incompatibilities of the server: under plain HTTP the account metadata still
//     advertises https:// locations; /pkranges ids are numbers (the service sends strings); a
//     point read of a missing item answers 500 unless x-ms-documentdb-query-enablecrosspartition
//     is set (then 404);
//   * answers 400 for item ids containing / \ ? # as the real service does (the server accepts
//     them, which would hide a missing encoding);
//   * compiles a query shape once (numbers become parameters; see Items.prototype.query below);
//   * returns a session token (0:1#<n>, n = writes so far) so token capture is exercised over HTTP
//     (the server returns none; this is not the service's replica behaviour);
//   * injects faults on request (429 with x-ms-retry-after-ms, 449, dropped connections) and
//     counts requests by kind, for the fault and cost tests:
//       POST /_shim/faults  {"status": 429|449|503, "times": N, "retry_after_ms": 20, "match": "docs"}
//                           {"drop": "before"|"after", "times": N, "match": "..."}
//       GET  /_shim/stats   {"requests", "reads", "queries", "writes" (POST/PUT/DELETE of items),
//                            "patches", "batches", "applied" (item writes that succeeded), "charge", ...}
//       POST /_shim/reset
// Usage: node server.js [--port N] [--detached]   (0 = a free port); prints "listening <port>"
// when ready. It listens on 127.0.0.1 only, and exits on SIGTERM/SIGINT and, unless --detached
// (started by scripts/session-farm, which stops it by PID), when its standard input closes (its
// parent is gone).
"use strict";

const http = require("http");
const { createHttpServer } = require("@vercel/cosmosdb-server");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;

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

let faults = [];
let stats = {};
let writes = 0;
function resetStats() {
  stats = { requests: 0, reads: 0, queries: 0, writes: 0, patches: 0, batches: 0, applied: 0, metadata: 0, injected: 0, dropped: 0, charge: 0 };
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
  const front = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith("/_shim/")) {
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
      stats.requests += 1;
      stats[kind(req)] += 1;
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
          if (req.method === "GET" && path === "/") {
            out = Buffer.from(out.toString("utf8").split("https://").join("http://"));
          }
          if (req.method === "GET" && /\/pkranges$/.test(path)) {
            try {
              const doc = JSON.parse(out.toString("utf8"));
              for (const r of doc.PartitionKeyRanges || []) r.id = String(r.id);
              out = Buffer.from(JSON.stringify(doc));
            } catch (e) { /* leave it */ }
          }
          const isWrite = req.method !== "GET" && !req.headers["x-ms-documentdb-isquery"];
          if (isWrite && status < 300) {
            writes += 1;
            if (/\/docs(\/|$)/.test(path)) stats.applied += 1;
          }
          const respHeaders = Object.assign({}, up.headers);
          delete respHeaders["content-length"];
          delete respHeaders["transfer-encoding"];
          respHeaders["content-length"] = String(out.length);
          respHeaders["x-ms-session-token"] = `0:1#${writes}`;
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
    });
  });
  front.listen(publicPort, HOST, () => {
    process.stdout.write(`listening ${front.address().port}\n`);
  });
});

function stop() { process.exit(0); }
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (!args.includes("--detached")) {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
