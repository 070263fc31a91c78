#!/usr/bin/env node
// A Cosmos DB test server that behaves like the service where sessions are concerned (see
// README.md): @vercel/cosmosdb-server (pinned in package.json) stores the data, one in-memory
// store per region (lib/replicas.js); this front answers what the package does not model:
//   * partition-key ranges per container, items placed by their effective partition key
//     (lib/epk.js, lib/partitions.js), GET …/pkranges with string ids; a request naming a gone
//     range in x-ms-documentdb-partitionkeyrangeid answers 410/1002;
//   * a session token per range on every document response (x-ms-session-token), with the
//     headers SDKs capture tokens by (x-ms-alt-content-path, x-ms-content-path,
//     x-ms-documentdb-partitionkeyrangeid); regions with lag, stale reads and 404/1002
//     (lib/cluster.js); regions, failover, Entra ID and fake identity endpoints (lib/account.js);
//   * the package's incompatibilities: trailing slashes (SDKs send …/docs/{id}/), a point read of
//     a missing item (500 from the package), a missing database or container (404 with
//     x-ms-substatus 1003, as the service), item ids containing / \ ? # (400, as the service);
//   * faults (429/449/503, dropped connections) and counters (lib/admin.js: /_shim/...).
// Usage: node server.js [--port N] [--partitions N] [--regions "West US,East US"] [--lag-ms MS]
// [--stale] [--multi-write] [--entra] [--detached]   (port 0 = a free port). Prints "region <name>
// <port>" for each region, then "listening <port>" (the global endpoint) when it answers. It
// listens on 127.0.0.1 only and exits on SIGTERM/SIGINT and, unless --detached (started by
// scripts/cosmos-test-server or scripts/session-farm, which stop it by PID), when its standard
// input closes (its parent is gone).
"use strict";

const http = require("http");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const { createAccount } = require("./lib/account");
const { Cluster } = require("./lib/cluster");
const { admin } = require("./lib/admin");
const { effectivePartitionKey } = require("./lib/epk");
const { HOST } = require("./lib/replicas");

// The package compiles every distinct SQL text once (about 25 ms: a parser and a code generator)
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
const arg = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const publicPort = parseInt(arg("--port") || "0", 10);
const account = createAccount({
  regions: (arg("--regions") || "").split(",").map((r) => r.trim()).filter(Boolean),
  multiWrite: args.includes("--multi-write"),
  entra: args.includes("--entra"),
});
const cluster = new Cluster(account, { partitions: parseInt(arg("--partitions") || "1", 10), stale: args.includes("--stale"), lagMs: parseInt(arg("--lag-ms") || "0", 10) });

const ctx = { account, cluster, faults: [], stats: {}, resetStats };
function resetStats() {
  ctx.stats = { requests: 0, reads: 0, queries: 0, writes: 0, patches: 0, batches: 0, applied: 0, metadata: 0, injected: 0, dropped: 0, charge: 0,
                account_reads: 0, read_session_unavailable: 0, write_forbidden: 0, unauthorized: 0, gone: 0, stale_reads: 0, by_region: {} };
}
resetStats();

function kind(req, path) {
  const h = req.headers;
  if (h["x-ms-cosmos-is-batch-request"]) return "batches";
  if (h["x-ms-documentdb-isquery"]) return "queries";
  if (!/\/docs(\/|$)/.test(path)) return "metadata";
  if (req.method === "PATCH") return "patches";
  return req.method === "GET" ? "reads" : "writes";
}

function parseJson(buf) { try { return JSON.parse(buf.toString("utf8")); } catch (e) { return undefined; } }

const FORBIDDEN = /[\/\\?#]/;
function badIds(req, path, body) {
  const ids = [];
  const m = /\/docs\/([^/]+)$/.exec(path);
  if (m) {
    try { ids.push(decodeURIComponent(m[1])); } catch (e) { ids.push("/"); }
  }
  if (/\/docs$/.test(path) && body.length && !req.headers["x-ms-documentdb-isquery"]) {
    const parsed = parseJson(body);
    for (const it of Array.isArray(parsed) ? parsed : [parsed]) {
      if (it && typeof it.id === "string") ids.push(it.id);
      if (it && it.resourceBody && typeof it.resourceBody.id === "string") ids.push(it.resourceBody.id);
    }
  }
  return ids.filter((id) => FORBIDDEN.test(id));
}

function send(res, status, body, headers) {
  res.writeHead(status, Object.assign({ "content-type": "application/json", "x-ms-request-charge": "1" }, headers || {}));
  res.end(JSON.stringify(body));
}

function takeFault(req, path) {
  for (const f of ctx.faults) {
    if (f.times > 0 && (!f.match || req.url.includes(f.match) || kind(req, path) === f.match)) {
      f.times -= 1;
      return f;
    }
  }
  return null;
}

const valueAt = (doc, p) => p.slice(1).split("/").reduce((o, k) => (o == null ? undefined : o[k]), doc);

// The partition-key value of a request: the header (a JSON array), else the body's values.
function partitionValue(req, c, body) {
  const header = req.headers["x-ms-documentdb-partitionkey"];
  if (header !== undefined) { const v = parseJson(Buffer.from(header)); if (v !== undefined) return Array.isArray(v) ? v : [v]; }
  const doc = parseJson(body);
  if (doc && !Array.isArray(doc) && req.method === "POST" && !req.headers["x-ms-documentdb-isquery"]) {
    return (c.def.paths || ["/id"]).map((p) => { const v = valueAt(doc, p); return v === undefined ? {} : v; });
  }
  return undefined;
}

// The documents an item write changes (id and the package's partition value), for replication.
function changedDocs(req, path, c, pk, body) {
  const partition = pk && pk.length && (typeof pk[0] !== "object" || pk[0] === null) ? pk[0] : undefined;
  const m = /\/docs\/([^/]+)$/.exec(path);
  if (m) return [{ id: decodeURIComponent(m[1]), partition }];
  const parsed = parseJson(body);
  if (req.headers["x-ms-cosmos-is-batch-request"] && Array.isArray(parsed)) {
    return parsed.map((op) => ({ id: op.id || (op.resourceBody && op.resourceBody.id), partition })).filter((x) => x.id !== undefined);
  }
  if (parsed && parsed.id !== undefined) {
    const first = valueAt(parsed, (c.def.paths || ["/id"])[0]);
    return [{ id: parsed.id, partition: partition !== undefined ? partition : first }];
  }
  return [];
}

// Handles one request at region `region` (null: the global endpoint, i.e. the write region).
const handler = (fixed) => (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const region = fixed || account.writeRegion();
    // SDKs send …/docs/{id}/ and …/pkranges/: the service ignores a trailing slash.
    const path = req.url.split("?")[0].replace(/(.)\/+$/, "$1");
    if (path.startsWith("/_shim/") || path.startsWith("/_fake/")) {
      let answer;
      try { answer = admin(ctx, req, body) || account.control(req, body) || account.identity(req, body); } catch (e) { answer = [400, { message: e.message }]; }
      return answer ? send(res, answer[0], answer[1]) : send(res, 404, { message: "unknown shim endpoint" });
    }
    if (region.down) return req.socket.destroy();
    const stats = ctx.stats;
    stats.requests += 1;
    stats.by_region[region.name] = (stats.by_region[region.name] || 0) + 1;
    const denied = account.authorize(req);
    if (path === "/" && req.method === "GET") {
      stats.account_reads += 1;
      if (denied) { stats.unauthorized += 1; return send(res, denied[0], denied[1], denied[2]); }
      const broken = account.malformedMetadata();
      if (broken !== null) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(broken);
      }
      return send(res, 200, account.metadata(req.headers.host));
    }
    stats[kind(req, path)] += 1;
    if (denied) { stats.unauthorized += 1; return send(res, denied[0], denied[1], denied[2]); }
    const i = cluster.index(region);
    const token = req.headers["x-ms-session-token"];
    const forbidden = account.gate(region, req);
    if (forbidden) {
      stats.write_forbidden += 1;
      cluster.regionCounters[region.name].write_forbidden += 1;
      if (token) cluster.record(region, req, token, []);
      return send(res, forbidden[0], forbidden[1], forbidden[2]);
    }
    const fault = takeFault(req, path);
    if (fault && fault.status) {
      stats.injected += 1;
      const headers = { "x-ms-request-charge": "0" };
      if (fault.retry_after_ms !== undefined) headers["x-ms-retry-after-ms"] = String(fault.retry_after_ms);
      return send(res, fault.status, { code: "Injected", message: `injected ${fault.status}` }, headers);
    }
    if (fault && fault.drop === "before") { stats.dropped += 1; return req.socket.destroy(); }
    const bad = badIds(req, path, body);
    if (bad.length) {
      return send(res, 400, { code: "BadRequest", message: `The input name '${bad[0]}' is invalid. Ensure to not use characters '/', '\\\\', '?', '#'.` });
    }
    const owner = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/(docs|pkranges)(\/|$)/.exec(path);
    if (!owner) return forward(req, res, path, body, region, fault, null);
    const [db, coll] = [decodeURIComponent(owner[1]), decodeURIComponent(owner[2])];
    const c = cluster.container(db, coll);
    if (!c) {
      return send(res, 404, { code: "NotFound", message: `Owner resource does not exist: dbs/${db}/colls/${coll}` }, { "x-ms-substatus": "1003" });
    }
    const base = { "x-ms-alt-content-path": `dbs/${db}/colls/${coll}`, "x-ms-content-path": c.rid };
    if (owner[3] === "pkranges") return pkranges(req, res, c, base, fault);
    // The ranges the request touches: the one it names, its partition key's, or every range.
    const named = req.headers["x-ms-documentdb-partitionkeyrangeid"];
    const isWrite = req.method !== "GET" && !req.headers["x-ms-documentdb-isquery"];
    const pk = partitionValue(req, c, body);
    let ranges;
    if (named !== undefined) {
      const r = c.ranges.get(String(named).split(",")[0]);
      if (!r || r.status !== "online") {
        stats.gone += 1;
        cluster.count(region, r ? [r] : [], "gone");
        return send(res, 410, { code: "Gone", message: `The partition key range ${named} is gone (split or merged).` }, Object.assign({ "x-ms-substatus": "1002" }, base));
      }
      ranges = [r];
    } else if (pk !== undefined) {
      let epk;
      try { epk = effectivePartitionKey(pk, c.def); } catch (e) { return send(res, 400, { code: "BadRequest", message: `partition key: ${e.message}` }); }
      ranges = [c.rangeOf(epk)];
    } else {
      ranges = c.live();
    }
    if (token) cluster.record(region, req, token, ranges.map((r) => r.id));
    const tokens = () => ranges.map((r) => cluster.token(i, c, r)).join(",");
    if (!isWrite) {
      cluster.count(region, ranges, "reads");
      if (token && cluster.unreached(i, c, ranges, token)) {
        stats.read_session_unavailable += 1;
        cluster.count(region, ranges, "read_session_unavailable");
        return send(res, 404, { code: "NotFound", message: "The read session is not available for the input session token." },
          Object.assign({ "x-ms-substatus": "1002", "x-ms-session-token": tokens() }, base));
      }
      if (ranges.some((r) => cluster.behind(i, c, r)) && cluster.stale) {
        stats.stale_reads += 1;
        cluster.count(region, ranges, "stale_reads");
      }
    }
    const scope = named !== undefined ? ranges[0] : null;
    forward(req, res, path, body, region, fault, { c, ranges, base, isWrite, pk, tokens, scope, i });
  });
};

// GET …/pkranges from the container's range table (a change-feed read with the current etag: 304).
// A fault can make it a hostile pager (clients must bound paging): {"match": "pkranges",
// "continuation": "same" | "fresh", "repeat": K, "delay_ms": N} answers with that continuation
// (the same value every time, or a new one per page), the list repeated K times, after N ms.
let pageCounter = 0;
function pkranges(req, res, c, base, fault) {
  let list = c.pkranges();
  const etag = `"${list.map((r) => r.id).join(".")}"`;
  if (req.headers["a-im"] && req.headers["if-none-match"] === etag) {
    res.writeHead(304, Object.assign({ etag }, base));
    return res.end();
  }
  const headers = Object.assign({ etag, "x-ms-item-count": String(list.length) }, base);
  if (fault && fault.continuation) {
    headers["x-ms-continuation"] = fault.continuation === "fresh" ? `page-${++pageCounter}` : String(fault.continuation);
    if (fault.repeat) list = [].concat(...Array.from({ length: fault.repeat }, () => list));
  }
  const answer = () => send(res, 200, { _rid: c.rid, PartitionKeyRanges: list, _count: list.length }, headers);
  if (fault && fault.delay_ms) return setTimeout(answer, fault.delay_ms);
  answer();
}

function forward(req, res, path, body, region, fault, doc) {
  const headers = Object.assign({}, req.headers);
  delete headers["content-length"];
  // The package answers a missing item with 500 unless this is set, and refuses queries without it.
  if (req.method === "GET" && /\/docs\/[^/]+$/.test(path)) headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  if (req.headers["x-ms-documentdb-isquery"]) headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  if (doc && doc.scope) { headers["x-shim-range-min"] = doc.scope.min; headers["x-shim-range-max"] = doc.scope.max; }
  if (body.length) headers["content-length"] = String(body.length);
  const store = cluster.stores[cluster.index(region)];
  const query = req.url.includes("?") ? req.url.slice(req.url.indexOf("?")) : "";
  const upstream = http.request({ host: HOST, port: store.port, method: req.method, path: path + query, headers }, (up) => {
    const parts = [];
    up.on("data", (c) => parts.push(c));
    up.on("end", () => {
      const out = Buffer.concat(parts);
      const status = up.statusCode;
      const isWrite = req.method !== "GET" && !req.headers["x-ms-documentdb-isquery"];
      const respHeaders = Object.assign({}, up.headers);
      delete respHeaders["transfer-encoding"];
      delete respHeaders.connection;
      respHeaders["content-length"] = String(out.length);
      if (isWrite && status < 300) {
        const i = cluster.index(region);
        if (doc) {
          cluster.wrote(i, doc.c, doc.ranges[0], changedDocs(req, path, doc.c, doc.pk, body));
          ctx.stats.applied += 1;
        } else {
          const m = /^\/dbs(?:\/([^/]+))?(?:\/colls(?:\/([^/]+))?)?/.exec(path);
          const created = parseJson(out) || {};
          const db = m[1] ? decodeURIComponent(m[1]) : created.id;
          const coll = /\/colls/.test(path) ? (m[2] ? decodeURIComponent(m[2]) : created.id) : undefined;
          if (req.method === "DELETE" || req.method === "PUT") cluster.forget(db, coll);
          cluster.wroteMetadata(i, db, coll);
        }
      }
      if (doc) {
        Object.assign(respHeaders, doc.base, { "x-ms-session-token": doc.tokens() });
        if (doc.ranges.length === 1) respHeaders["x-ms-documentdb-partitionkeyrangeid"] = doc.ranges[0].id;
      }
      ctx.stats.charge += parseFloat(up.headers["x-ms-request-charge"] || "0") || 0;
      if (fault && fault.drop === "after") { ctx.stats.dropped += 1; return req.socket.destroy(); }
      res.writeHead(status, respHeaders);
      res.end(out);
    });
  });
  upstream.on("error", (e) => send(res, 502, { message: `shim: backend failed: ${e.message}` }));
  upstream.end(body);
}

cluster.start().then(() => {
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
    front.listen(publicPort, HOST, () => process.stdout.write(`listening ${front.address().port}\n`));
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
