// One @vercel/cosmosdb-server store per region, and replication between them.
//
// Every region has its own in-memory account (the package's Account class) behind its own
// loopback backend port. Writes are applied by the write region's store; each applied write is
// then replayed into every other region's store after that region's lag, by copying the stored
// document itself (same _etag, _ts, _rid, _self), so etags agree across regions and a
// conditional write with an etag read anywhere behaves as on the service. Databases and
// containers are replicated at once (their creation is not what session tests are about).
//
// Two views per region and range are kept: the data (what the store holds) and the LSN the
// region has reached (what its tokens say and what a presented token is checked against). In
// stale mode both advance together, after the lag: a read without a covering token sees the
// old state. Without stale mode the data is copied at once and only the LSN lags (the token
// check is simulated, the data is the latest): the behaviour the state engine's tests were
// written against.
"use strict";

const http = require("http");
const Account = require("@vercel/cosmosdb-server/lib/account").default;
const routes = require("@vercel/cosmosdb-server/lib/routes").default;
const { effectivePartitionKey } = require("./epk");

const HOST = "127.0.0.1";

// The package's request handler (index.js's generateRequestHandler, which it does not export),
// over an account we hold, plus range-scoped queries and feeds: the front names the range's
// bounds in x-shim-range-min/max and only the documents whose EPK lies in them are visible.
function handle(account, req, res, body) {
  const route = routes(req);
  (async () => {
    let out;
    const scoped = req.headers["x-shim-range-min"] !== undefined;
    if (scoped && route && /\/docs$/.test(req.url.split("?")[0])) {
      out = scopedRead(account, req, res, body, route[0]);
    } else if (route) {
      try {
        out = await route[1](account, req, res, route[0]);
      } catch (err) {
        out = { message: err.message };
        res.statusCode = 500;
      }
      if (res.statusCode > 399 && out && !out.message) out.message = "";
    } else {
      res.statusCode = 400;
      out = { message: "no route" };
    }
    if (out && out._etag) res.setHeader("etag", out._etag);
    res.setHeader("content-type", "application/json");
    res.setHeader("x-ms-request-charge", "1");
    if (req.headers["a-im"] && res.statusCode === 200) {
      if (req.headers["if-none-match"]) res.statusCode = 304;
      res.setHeader("etag", "1");
    }
    res.end(JSON.stringify(out));
  })().catch((err) => {
    if (!res.writableEnded) { res.statusCode = 500; res.end(JSON.stringify({ message: err.message })); }
  });
}

// A query or feed over one range: the same Items methods over the documents in the range.
function scopedRead(account, req, res, body, { dbId, collId }) {
  const coll = account.database(dbId).collection(collId);
  const meta = coll.read();
  if (!meta) { res.statusCode = 404; return { message: "collection not found" }; }
  const min = req.headers["x-shim-range-min"], max = req.headers["x-shim-range-max"];
  const docs = coll.documents;
  const paths = (meta.partitionKey && meta.partitionKey.paths) || ["/id"];
  const inRange = new Map();
  for (const [rid, item] of docs._data) {
    const d = item.read();
    const value = paths.map((p) => p.slice(1).split("/").reduce((o, k) => (o == null ? undefined : o[k]), d));
    const epk = effectivePartitionKey(value.map((v) => (v === undefined ? {} : v)), meta.partitionKey);
    if (epk >= min && (max === "FF" || epk < max)) inRange.set(rid, item);
  }
  const view = Object.create(docs, { _data: { value: inRange } });
  const continuation = req.headers["x-ms-continuation"] ? JSON.parse(req.headers["x-ms-continuation"]) : null;
  const maxItemCount = req.headers["x-ms-max-item-count"] ? parseInt(req.headers["x-ms-max-item-count"], 10) : null;
  let result;
  try {
    result = req.method === "POST" ? view.query(JSON.parse(body.toString("utf8")), { continuation, maxItemCount }) : view.read({ continuation, maxItemCount });
  } catch (err) {
    res.statusCode = 400;
    return { code: "BadRequest", message: err.message };
  }
  if (result.continuation) res.setHeader("x-ms-continuation", JSON.stringify(result.continuation));
  res.setHeader("x-ms-item-count", String(result.result.length));
  return { Documents: result.result, _count: result.result.length };
}

class Store {
  constructor(region) {
    this.region = region;
    this.account = null;
    this.port = 0;
    this.pending = []; // replays not yet applied, oldest first: {at, data, lsn}
    this.timer = null;
  }

  start() {
    return new Promise((resolve) => {
      const server = http.createServer((req, res) => {
        const chunks = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
          const body = Buffer.concat(chunks);
          // The package's handlers read the body from the request stream: hand them a copy.
          const { Readable } = require("stream");
          const replay = Object.assign(Readable.from(body.length ? [body] : []), { headers: req.headers, method: req.method, url: req.url });
          handle(this.account, replay, res, body);
        });
      });
      server.listen(0, HOST, () => {
        this.port = server.address().port;
        this.account = new Account(HOST, this.port);
        resolve(this);
      });
      this.server = server;
    });
  }

  collection(db, coll) {
    const d = this.account.database(db);
    const c = d && d.read() ? d.collection(coll) : null;
    return c && c.read() ? c : null;
  }
}

// Copies a document (or its absence) into a store, keeping every system property.
function putDocument(store, db, coll, id, partition, doc, ridCount) {
  const c = store.collection(db, coll);
  if (!c) return;
  const docs = c.documents;
  if (docs._item("/id", id, partition).read()) docs.delete(id, partition);
  if (doc) docs._set(structuredClone(doc));
  docs._ridCount = Math.max(docs._ridCount, ridCount || 0);
}

// Copies a database or container definition (or its deletion) from one store to another.
function putMetadata(from, to, db, coll) {
  const src = from.account.database(db).read();
  const dst = to.account.databases;
  dst._ridCount = Math.max(dst._ridCount, from.account.databases._ridCount);
  if (!src) { if (dst._item("/id", db, db).read()) dst.delete(db, db); return; }
  if (!dst._item("/id", db, db).read()) dst._set(structuredClone(src));
  if (coll === undefined) return;
  const fromColls = from.account.database(db).collections;
  const toColls = to.account.database(db).collections;
  toColls._ridCount = Math.max(toColls._ridCount, fromColls._ridCount);
  const c = fromColls._item("/id", coll, coll).read();
  const existing = toColls._item("/id", coll, coll);
  if (!c) { if (existing.read()) toColls.delete(coll, coll); return; }
  if (!existing.read()) toColls._set(structuredClone(c));
  else existing._data = structuredClone(c); // a replaced definition keeps the container's documents
}

module.exports = { Store, putDocument, putMetadata, HOST };
