// @azure/cosmos 4.10.1 (pinned in clients/package-lock.json) against the server: a container with
// 4 ranges, writes across partitions, a lagging region read without and with the write's token,
// and a split the SDK follows.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const path = require("path");
const { startServer } = require("./helpers");
const { CosmosClient, ChangeFeedStartFrom } = require(path.join(__dirname, "..", "clients", "node_modules", "@azure", "cosmos"));

const KEY = "dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=";
let server;
test.before(async () => { server = await startServer(["--regions", "West,East", "--partitions", "4", "--stale"]); });
test.after(() => server.stop());

const client = (region) => new CosmosClient({ endpoint: server.url("/", region), key: KEY, connectionPolicy: { enableEndpointDiscovery: false } });

test("@azure/cosmos: stale read without a token, 404/1002 handed back with one", async () => {
  const { database } = await client().databases.createIfNotExists({ id: "js" });
  const { container } = await database.containers.createIfNotExists({ id: "stale", partitionKey: { paths: ["/pk"] } });
  assert.strictEqual((await container.readPartitionKeyRanges().fetchAll()).resources.length, 4);
  await server.admin("/_shim/regions", { lag_ms: 60000 });
  const homes = new Set();
  let last;
  for (let i = 0; i < 12; i++) {
    last = await container.items.create({ id: `i${i}`, pk: `p${i}` });
    homes.add(last.headers["x-ms-documentdb-partitionkeyrangeid"]);
  }
  assert.ok(homes.size >= 3, [...homes].join());
  const token = last.headers["x-ms-session-token"];
  const east = client("East").database("js").container("stale");
  const stale = await east.item("i11", "p11").read();
  assert.strictEqual(stale.statusCode, 404);
  assert.ok(!stale.substatus, "a plain not-found: the stale state");
  // Observed with 4.10.1: the SDK does not retry a 1002 elsewhere; the caller gets 404/1002.
  const withToken = await east.item("i11", "p11").read({ sessionToken: token });
  assert.strictEqual(withToken.statusCode, 404);
  assert.strictEqual(withToken.substatus, 1002);
  const counters = await server.admin("/_shim/counters");
  assert.strictEqual(counters.regions.East.read_session_unavailable, 1);
  assert.strictEqual(counters.regions.East.stale_reads, 1);
  assert.ok(counters.presented.some((p) => p.region === "East" && p.token === token), JSON.stringify(counters.presented));
  await server.admin("/_shim/regions", { lag_ms: 0 });
  const caught = await east.item("i11", "p11").read({ sessionToken: token });
  assert.strictEqual(caught.statusCode, 200);
});

test("@azure/cosmos: a change feed follows a split (410/1002, pkranges re-read)", async () => {
  const { database } = await client().databases.createIfNotExists({ id: "js" });
  const { container } = await database.containers.createIfNotExists({ id: "split", partitionKey: { paths: ["/pk"] } });
  for (let i = 0; i < 30; i++) await container.items.create({ id: `i${i}`, pk: `k${i}` });
  const feed = container.items.getChangeFeedIterator({ changeFeedStartFrom: ChangeFeedStartFrom.Beginning() });
  const seen = new Set();
  const first = await feed.readNext();
  for (const d of first.result) seen.add(d.id);
  // Split every range the SDK has cached: whatever it asks next names a gone range.
  for (const id of ["0", "1", "2", "3"]) await server.admin("/_shim/partitions", { db: "js", coll: "split", split: id });
  for (let i = 0; i < 40 && seen.size < 30; i++) {
    const page = await feed.readNext();
    for (const d of page.result || []) seen.add(d.id);
  }
  assert.strictEqual(seen.size, 30);
  const counters = await server.admin("/_shim/counters");
  assert.ok(counters.ranges["js/split"] && Object.values(counters.ranges["js/split"]).some((c) => c.gone > 0), JSON.stringify(counters.ranges["js/split"]));
  const ranges = (await container.readPartitionKeyRanges().fetchAll()).resources;
  assert.strictEqual(ranges.length, 8);
});
