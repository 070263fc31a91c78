"use strict";
// The @azure/cosmos plugin (4.10.1, pinned in package-lock.json) against the Cosmos DB test
// server (testserver/): two regions, West writing, East lagging and serving stale data, 4 ranges
// per container. A writer process writes through its client and flow and hands the snapshot to a
// reader process, whose fresh client reads from East: every write is read (the 404/1002 of the
// lagging region retried at the write region and counted), one segment per point read, a split
// of every range half way through changes nothing. Without the flow the same reads are stale.
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { cst, ROOT } = require("./helpers.js");
const { startServer } = require(path.join(ROOT, "testserver", "test", "helpers.js"));

const KEY = "dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk="; // the test server checks no signature
const WORKER = path.join(__dirname, "cosmos_worker.js");
const PER_CONTAINER = 150;

let server;
test.before(async () => {
  server = await startServer(["--regions", "West,East", "--partitions", "4", "--stale"]);
  // The database and containers exist everywhere before East stops seeing writes.
  await server.call("POST", "/dbs", { body: { id: "flow" } });
  for (const id of ["orders", "carts", "web"]) {
    await server.call("POST", "/dbs/flow/colls", { body: { id, partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } } });
  }
  await server.admin("/_shim/regions", { lag_ms: 600000 }); // East sees nothing written from now on
});
test.after(() => server?.stop()); // by PID

function worker(job) {
  const out = execFileSync(process.execPath, [WORKER], {
    input: JSON.stringify({ port: server.port, key: KEY, ...job }), encoding: "utf8", timeout: 300000, maxBuffer: 64 << 20,
  });
  return JSON.parse(out.trim().split("\n").pop());
}

test("a reader process reads every write of a writer process through a lagging region (snapshot handover)", async () => {
  const writer = worker({ mode: "write", containers: ["orders", "carts"], perContainer: PER_CONTAINER });
  const items = writer.items;
  assert.equal(items.length, 2 * PER_CONTAINER);
  assert.ok(writer.stats.definitions_learned >= 2 && writer.stats.maps_learned >= 2, JSON.stringify(writer.stats));
  assert.equal(writer.stats.stepped_aside, 0);
  // The plugin had the SDK read each container's definition and ranges once (point writes name no range).
  assert.deepEqual([writer.plugin.primed, writer.plugin.prime_failed], [2, 0], JSON.stringify(writer.plugin));
  assert.equal(writer.stats.composite, 0, "every write was scoped to its range");
  assert.ok(writer.snapshot.length < 4096, `${writer.snapshot.length}`);
  await server.admin("/_shim/counters", { reset: true });

  // A split of every range half way through changes nothing: the children carry their parents' progress.
  const reader = worker({ mode: "read", region: "East", items, snapshot: writer.snapshot, splitAfter: items.length / 2 });
  assert.equal(reader.read, items.length, JSON.stringify(reader));
  assert.equal(reader.stale, 0, JSON.stringify(reader));
  assert.equal(reader.unavailable, undefined);
  assert.equal(reader.stats.stepped_aside, 0, JSON.stringify(reader.stats));
  assert.ok(reader.stats.scoped >= items.length, JSON.stringify(reader.stats));
  // Every read went to East first, which answered 404/1002; the plugin read again at West and counted it.
  assert.ok(reader.plugin.read_session_unavailable >= items.length, JSON.stringify(reader.plugin));
  assert.equal(reader.plugin.retried_at_write_region, reader.plugin.read_session_unavailable, JSON.stringify(reader.plugin));
  assert.equal(reader.plugin.gave_up, 0);
  const counters = await server.admin("/_shim/counters?last=200");
  assert.ok(counters.regions.East.read_session_unavailable >= items.length, JSON.stringify(counters.regions));
  assert.equal(counters.regions.East.stale_reads, 0, "East served nothing stale");
  // One segment per point read: the partition's own, never the container's composite.
  const pointReads = counters.presented.filter((p) => p.method === "GET" && /\/docs\/[^/]+\/?$/.test(p.path));
  assert.ok(pointReads.length >= 100, `${pointReads.length} point reads presented a token`);
  for (const p of pointReads) assert.equal(cst.parse(p.token).length, 1, JSON.stringify(p));
  // The split happened: 8 ranges now.
  const ranges = await server.admin("/_shim/partitions?db=flow&coll=orders");
  assert.equal(ranges.ranges.filter((r) => r.status === "online").length, 8, JSON.stringify(ranges.ranges.map((r) => [r.id, r.status])));
});

test("the control: the same reads without the flow are stale", async () => {
  const writer = worker({ mode: "write", containers: ["web"], perContainer: 40 });
  const control = worker({ mode: "read", region: "East", items: writer.items });
  assert.equal(control.read, 40);
  assert.equal(control.stale, 40, JSON.stringify(control));
});

test("multi-write account: no single write region, so a 404/1002 is read again after bounded waits", async (t) => {
  // Its own server: West and East both take writes; East sees West's writes 400 ms late (the waits add up to 800 ms).
  const multi = await startServer(["--regions", "West,East", "--partitions", "4", "--stale", "--multi-write"]);
  t.after(() => multi.stop()); // by PID
  await multi.call("POST", "/dbs", { body: { id: "flow" } });
  await multi.call("POST", "/dbs/flow/colls", { body: { id: "mw", partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } } });
  await multi.admin("/_shim/regions", { lag_ms: 400 });
  const { CosmosClient } = require("@azure/cosmos");
  const writerFlow = new cst.SessionFlow();
  const writer = new CosmosClient({ endpoint: multi.url("/", "West"), key: KEY, consistencyLevel: "Session", plugins: writerFlow.plugins(),
    connectionPolicy: { preferredLocations: ["West"] } });
  await writer.database("flow").container("mw").items.upsert({ id: "a", pk: "a", value: 1 });
  const flow = cst.SessionFlow.restore(writerFlow.snapshot());
  const plugins = flow.plugins();
  const reader = new CosmosClient({ endpoint: multi.url("/", "East"), key: KEY, consistencyLevel: "Session", plugins,
    connectionPolicy: { preferredLocations: ["East"] } });
  const { resource, statusCode } = await reader.database("flow").container("mw").item("a", "a").read();
  assert.equal(statusCode, 200);
  assert.equal(resource.value, 1);
  const stats = plugins.stats();
  assert.ok(stats.read_session_unavailable >= 1, JSON.stringify(stats));
  assert.equal(stats.retried_at_write_region, 0, "a multi-write account names no single write region");
  assert.equal(stats.retried_after_backoff, stats.read_session_unavailable, JSON.stringify(stats));
  assert.equal(stats.gave_up, 0);
});
