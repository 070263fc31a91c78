// The server's session behaviour over plain REST: ranges, per-range tokens, stale reads and
// 1002 at a lagging region, splits, merges and counters.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { startServer, sleep } = require("./helpers");
const { effectivePartitionKey } = require("../lib/epk");

let server;
test.before(async () => { server = await startServer(["--regions", "West,East", "--partitions", "4", "--stale"]); });
test.after(() => server.stop());

const pkHeader = (v) => ({ "x-ms-documentdb-partitionkey": JSON.stringify([v]) });
const lsnOf = (token, id) => { const s = token.split(",").find((x) => x.startsWith(`${id}:`)); return s ? parseInt(s.split("#")[1], 10) : null; };

async function container(name, extra = {}) {
  await server.call("POST", "/dbs", { body: { id: "t" } });
  const created = await server.call("POST", "/dbs/t/colls", { body: Object.assign({ id: name, partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } }, extra) });
  assert.strictEqual(created.status, 201);
  const ranges = await server.call("GET", `/dbs/t/colls/${name}/pkranges/`);
  return ranges.body.PartitionKeyRanges;
}

function rangeFor(ranges, value, def = { kind: "Hash", version: 2, paths: ["/pk"] }) {
  const epk = effectivePartitionKey([value], def);
  return ranges.find((r) => epk >= r.minInclusive && (r.maxExclusive === "FF" || epk < r.maxExclusive));
}

test("pkranges: four string ids laid over the hash space, with the fields SDKs read", async () => {
  const ranges = await container("layout");
  assert.deepStrictEqual(ranges.map((r) => r.id), ["0", "1", "2", "3"]);
  assert.strictEqual(ranges[0].minInclusive, "");
  assert.strictEqual(ranges[3].maxExclusive, "FF");
  for (let i = 1; i < 4; i++) assert.strictEqual(ranges[i].minInclusive, ranges[i - 1].maxExclusive);
  for (const r of ranges) for (const f of ["_rid", "ridPrefix", "throughputFraction", "status", "parents"]) assert.ok(f in r, f);
  // V2 hashes are below 0x40…: the bounds split that space evenly.
  assert.strictEqual(ranges[1].minInclusive, "10000000000000000000000000000000");
  const noSlash = await server.call("GET", "/dbs/t/colls/layout/pkranges");
  assert.deepStrictEqual(noSlash.body.PartitionKeyRanges.map((r) => r.id), ["0", "1", "2", "3"]);
});

test("items are placed by EPK and each range's token advances on its own", async () => {
  const ranges = await container("tokens");
  const seen = {};
  for (let i = 0; i < 24; i++) {
    const pk = `p${i}`;
    const res = await server.call("POST", "/dbs/t/colls/tokens/docs", { body: { id: `i${i}`, pk }, headers: pkHeader(pk) });
    assert.strictEqual(res.status, 201);
    const home = rangeFor(ranges, pk).id;
    assert.strictEqual(res.headers.get("x-ms-documentdb-partitionkeyrangeid"), home, pk);
    assert.strictEqual(res.headers.get("x-ms-alt-content-path"), "dbs/t/colls/tokens");
    const token = res.headers.get("x-ms-session-token");
    assert.match(token, new RegExp(`^${home}:1#\\d+#0=\\d+$`));
    seen[home] = (seen[home] || 0) + 1;
    assert.strictEqual(lsnOf(token, home), seen[home], "a write advances only its own range");
  }
  assert.ok(Object.keys(seen).length >= 3, JSON.stringify(seen));
  // A cross-partition query reports every range it read.
  const q = await server.call("POST", "/dbs/t/colls/tokens/docs", { body: { query: "SELECT * FROM c" }, headers: { "x-ms-documentdb-isquery": "true", "content-type": "application/query+json" } });
  assert.strictEqual(q.body.Documents.length, 24);
  assert.strictEqual(q.headers.get("x-ms-session-token").split(",").length, 4);
  for (const [id, n] of Object.entries(seen)) assert.strictEqual(lsnOf(q.headers.get("x-ms-session-token"), id), n);
  // A query addressed to one range sees only that range's documents.
  const one = await server.call("POST", "/dbs/t/colls/tokens/docs", { body: { query: "SELECT * FROM c" }, headers: { "x-ms-documentdb-isquery": "true", "content-type": "application/query+json", "x-ms-documentdb-partitionkeyrangeid": "0" } });
  assert.strictEqual(one.body.Documents.length, seen["0"] || 0);
  // A missing item with the SDKs' trailing slash is a 404, not a 500.
  const missing = await server.call("GET", "/dbs/t/colls/tokens/docs/nope/", { headers: pkHeader("p0") });
  assert.strictEqual(missing.status, 404);
});

test("a lagging region serves the old state without a token and 404/1002 with one", async () => {
  await container("stale");
  await server.admin("/_shim/regions", { lag_ms: 400 });
  await server.admin("/_shim/counters", { reset: true });
  const first = await server.call("POST", "/dbs/t/colls/stale/docs", { body: { id: "a", pk: "x", v: 1 }, headers: pkHeader("x") });
  await sleep(600);
  const replaced = await server.call("PUT", "/dbs/t/colls/stale/docs/a", { body: { id: "a", pk: "x", v: 2 }, headers: pkHeader("x") });
  const created = await server.call("POST", "/dbs/t/colls/stale/docs", { body: { id: "b", pk: "x" }, headers: pkHeader("x") });
  const token = created.headers.get("x-ms-session-token");
  // Within the lag: the previous version, an absent new item, the old query result.
  const oldA = await server.call("GET", "/dbs/t/colls/stale/docs/a", { headers: pkHeader("x"), region: "East" });
  assert.strictEqual(oldA.body.v, 1);
  assert.strictEqual(oldA.body._etag, first.body._etag, "etags agree across regions");
  const oldB = await server.call("GET", "/dbs/t/colls/stale/docs/b", { headers: pkHeader("x"), region: "East" });
  assert.strictEqual(oldB.status, 404);
  assert.strictEqual(oldB.headers.get("x-ms-substatus"), null);
  const q = await server.call("POST", "/dbs/t/colls/stale/docs", { region: "East", body: { query: "SELECT * FROM c" }, headers: { "x-ms-documentdb-isquery": "true", "content-type": "application/query+json" } });
  assert.deepStrictEqual(q.body.Documents.map((d) => d.id), ["a"]);
  // With the write's token: 404/1002 and the region's own (older) token.
  const withToken = await server.call("GET", "/dbs/t/colls/stale/docs/b", { headers: Object.assign(pkHeader("x"), { "x-ms-session-token": token }), region: "East" });
  assert.strictEqual(withToken.status, 404);
  assert.strictEqual(withToken.headers.get("x-ms-substatus"), "1002");
  const home = created.headers.get("x-ms-documentdb-partitionkeyrangeid");
  assert.ok(lsnOf(withToken.headers.get("x-ms-session-token"), home) < lsnOf(token, home));
  // The write region has it.
  assert.strictEqual((await server.call("GET", "/dbs/t/colls/stale/docs/b", { headers: Object.assign(pkHeader("x"), { "x-ms-session-token": token }), region: "West" })).status, 200);
  // After the lag, East has caught up: same etag as the write region.
  await sleep(600);
  const caught = await server.call("GET", "/dbs/t/colls/stale/docs/a", { headers: Object.assign(pkHeader("x"), { "x-ms-session-token": token }), region: "East" });
  assert.strictEqual(caught.body.v, 2);
  assert.strictEqual(caught.body._etag, replaced.body._etag);
  const counters = await server.admin("/_shim/counters");
  assert.strictEqual(counters.regions.East.read_session_unavailable, 1);
  assert.strictEqual(counters.regions.East.stale_reads, 3);
  assert.strictEqual(counters.regions.West.writes, 3);
  assert.deepStrictEqual(counters.presented.map((p) => [p.region, p.token]), [["East", token], ["West", token], ["East", token]]);
  // A write at the read region: 403/3, counted.
  const forbidden = await server.call("POST", "/dbs/t/colls/stale/docs", { body: { id: "c", pk: "x" }, headers: pkHeader("x"), region: "East" });
  assert.strictEqual(forbidden.status, 403);
  assert.strictEqual(forbidden.headers.get("x-ms-substatus"), "3");
  assert.strictEqual((await server.admin("/_shim/counters")).regions.East.write_forbidden, 1);
  await server.admin("/_shim/regions", { lag_ms: 0 });
});

test("a split keeps every item readable, children continue the parent's token, the gone range answers 410/1002", async () => {
  const ranges = await container("split");
  const tokens = {};
  for (let i = 0; i < 40; i++) {
    const res = await server.call("POST", "/dbs/t/colls/split/docs", { body: { id: `i${i}`, pk: `k${i}` }, headers: pkHeader(`k${i}`) });
    tokens[i] = res.headers.get("x-ms-session-token");
  }
  const parent = rangeFor(ranges, "k0");
  const parentLsn = lsnOf(tokens[0], parent.id);
  const before = (await server.admin("/_shim/partitions?db=t&coll=split")).ranges.find((r) => r.id === parent.id).lsn;
  const after = await server.admin("/_shim/partitions", { db: "t", coll: "split", split: parent.id });
  const children = after.ranges.filter((r) => r.parents.includes(parent.id));
  assert.strictEqual(children.length, 2);
  for (const ch of children) assert.strictEqual(ch.lsn, before);
  assert.ok(before >= parentLsn);
  const now = (await server.call("GET", "/dbs/t/colls/split/pkranges/")).body.PartitionKeyRanges;
  assert.strictEqual(now.length, 5);
  assert.ok(!now.some((r) => r.id === parent.id));
  for (const ch of children) assert.deepStrictEqual(now.find((r) => r.id === ch.id).parents, [parent.id]);
  for (let i = 0; i < 40; i++) {
    // Presenting the pre-split token: the children accept the parent's LSN.
    const res = await server.call("GET", `/dbs/t/colls/split/docs/i${i}/`, { headers: Object.assign(pkHeader(`k${i}`), { "x-ms-session-token": tokens[i] }) });
    assert.strictEqual(res.status, 200, `i${i}`);
    const home = res.headers.get("x-ms-documentdb-partitionkeyrangeid");
    assert.strictEqual(home, rangeFor(now, `k${i}`).id);
    const was = tokens[i].split(":")[0];
    assert.ok(lsnOf(res.headers.get("x-ms-session-token"), home) >= lsnOf(tokens[i], was), "tokens are monotonic across the split");
  }
  const write = await server.call("POST", "/dbs/t/colls/split/docs", { body: { id: "new", pk: "k0" }, headers: pkHeader("k0") });
  const child = write.headers.get("x-ms-documentdb-partitionkeyrangeid");
  assert.strictEqual(lsnOf(write.headers.get("x-ms-session-token"), child), before + 1);
  const gone = await server.call("POST", "/dbs/t/colls/split/docs", { body: { query: "SELECT * FROM c" }, headers: { "x-ms-documentdb-isquery": "true", "content-type": "application/query+json", "x-ms-documentdb-partitionkeyrangeid": parent.id } });
  assert.strictEqual(gone.status, 410);
  assert.strictEqual(gone.headers.get("x-ms-substatus"), "1002");
  // Merging the two children back: one range whose parents are both, every item still there.
  const merged = await server.admin("/_shim/partitions", { db: "t", coll: "split", merge: children.map((c) => c.id) });
  const m = merged.ranges.find((r) => r.status === "online" && r.parents.length === 2);
  assert.deepStrictEqual(m.parents, children.map((c) => c.id));
  const all = await server.call("POST", "/dbs/t/colls/split/docs", { body: { query: "SELECT * FROM c" }, headers: { "x-ms-documentdb-isquery": "true", "content-type": "application/query+json" } });
  assert.strictEqual(all.body.Documents.length, 41);
  const counters = await server.admin("/_shim/counters");
  assert.strictEqual(counters.ranges["t/split"][parent.id].gone, 1);
});

test("--partitions per container through the admin API, and Hash V1 containers", async () => {
  await server.admin("/_shim/partitions", { db: "t", coll: "planned", partitions: 2 });
  const ranges = await container("planned", { partitionKey: { paths: ["/pk"], kind: "Hash" } });
  assert.strictEqual(ranges.length, 2);
  const v1 = { kind: "Hash", version: 1, paths: ["/pk"] };
  for (const pk of ["a", "b", "c", "d", "e"]) {
    const res = await server.call("POST", "/dbs/t/colls/planned/docs", { body: { id: pk, pk }, headers: pkHeader(pk) });
    assert.strictEqual(res.headers.get("x-ms-documentdb-partitionkeyrangeid"), rangeFor(ranges, pk, v1).id);
  }
  const grown = await server.admin("/_shim/partitions", { db: "t", coll: "planned", partitions: 3 });
  assert.strictEqual(grown.ranges.filter((r) => r.status === "online").length, 3);
});
