"use strict";
// The @azure/cosmos plugin in memory, with a stand-in for the SDK's `next` (what the SDK's
// request handler answers: {code, headers, result}, or throws an error with code, substatus,
// headers, body): the token it sets, what it hands the flow, the 1002 retry at the write region
// and with bounded waits, writes never retried, and the current flow per async context.
const test = require("node:test");
const assert = require("node:assert/strict");
const { cst } = require("./helpers.js");

const WEST = "http://127.0.0.1:1/";
const EAST = "http://127.0.0.1:2/";
const DOC = "/dbs/d/colls/c/docs/a";

function error1002() {
  return Object.assign(new Error("read session not available"), {
    code: 404, substatus: 1002, headers: { "x-ms-substatus": "1002", "x-ms-session-token": "0:1#1" },
  });
}
const ok = (headers = {}, result = {}) => ({ code: 200, headers, result });
const context = (method, path, endpoint = EAST, headers = {}) => ({ method, path, endpoint, headers: { ...headers } });
// Runs the client's one request plugin as the SDK would.
const run = (plugins, ctx, next) => plugins[0].plugin(ctx, {}, next);
const account = (multi = false) => ok({}, {
  writableLocations: [{ name: "West", databaseAccountEndpoint: WEST }],
  readableLocations: [{ name: "East", databaseAccountEndpoint: EAST }], enableMultipleWriteLocations: multi,
});

test("plugins are one request plugin with counters", () => {
  const plugins = new cst.SessionFlow().plugins();
  assert.equal(plugins.length, 1);
  assert.equal(plugins[0].on, "request");
  assert.equal(typeof plugins[0].plugin, "function");
  assert.deepEqual(Object.keys(plugins), ["0"], "stats is not enumerable");
  assert.equal(plugins.stats().requests, 0);
});

test("the flow's token is set, and every answer is handed to the flow", async () => {
  const flow = new cst.SessionFlow();
  const plugins = flow.plugins({ prime: false });
  // A write answered with a token: captured.
  await run(plugins, context("POST", "/dbs/d/colls/c/docs", WEST), async () => ok({ "x-ms-session-token": "0:1#7", "x-ms-content-path": "rid" }));
  assert.equal(flow.stats().captured, 1);
  // The next read presents it (no routing knowledge: the container's composite).
  const read = context("GET", DOC, EAST, { "x-ms-documentdb-partitionkey": '["a"]' });
  await run(plugins, read, async (c) => ok({ "x-ms-session-token": c.headers[cst.HEADER] }));
  assert.equal(read.headers[cst.HEADER], "0:1#7");
  // Metadata requests get no token.
  const meta = context("GET", "/dbs/d/colls/c");
  await run(plugins, meta, async () => ok({}, { id: "c", partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } }));
  assert.equal(meta.headers[cst.HEADER], undefined);
  assert.equal(flow.stats().definitions_learned, 1);
  assert.equal(plugins.stats().requests, 3);
});

test("a read answered 404/1002 is read again at the write region learned from the account", async () => {
  const flow = new cst.SessionFlow();
  const plugins = flow.plugins({ prime: false, backoffMs: [] });
  await run(plugins, context("GET", "", WEST), async () => account());
  const seen = [];
  const read = context("GET", DOC);
  const response = await run(plugins, read, async (c) => {
    seen.push(c.endpoint);
    if (c.endpoint === EAST) throw error1002();
    return ok({ "x-ms-session-token": "0:1#9" }, { id: "a" });
  });
  assert.deepEqual(seen, [EAST, WEST]);
  assert.deepEqual(response.result, { id: "a" });
  const stats = plugins.stats();
  assert.equal(stats.read_session_unavailable, 1);
  assert.equal(stats.retried_at_write_region, 1);
  assert.equal(stats.gave_up, 0);
});

test("without a write region (none learned, or multi-write) it waits and reads again, a bounded number of times", async () => {
  for (const learn of [false, true]) {
    const plugins = cst.cosmosPlugins({ flow: new cst.SessionFlow(), prime: false, backoffMs: [1, 1, 1] });
    if (learn) await run(plugins, context("GET", "", WEST), async () => account(true));
    let calls = 0;
    const response = await run(plugins, context("GET", DOC), async () => {
      if (++calls < 3) throw error1002();
      return ok({}, { id: "a" });
    });
    assert.equal(calls, 3);
    assert.deepEqual(response.result, { id: "a" });
    assert.equal(plugins.stats().retried_after_backoff, 1);
    assert.equal(plugins.stats().retried_at_write_region, 0);
  }
});

test("when every attempt answers 1002 the 1002 goes up: never a plain not-found", async () => {
  const plugins = cst.cosmosPlugins({ flow: new cst.SessionFlow(), prime: false, backoffMs: [1, 2] });
  await run(plugins, context("GET", "", WEST), async () => account());
  let calls = 0;
  await assert.rejects(run(plugins, context("GET", DOC), async () => { calls++; throw error1002(); }), (e) => e.code === 404 && e.substatus === 1002);
  assert.equal(calls, 4, "East, West, then two waits");
  assert.equal(plugins.stats().gave_up, 1);
});

test("writes and other errors are not retried", async () => {
  const plugins = cst.cosmosPlugins({ flow: new cst.SessionFlow(), prime: false, backoffMs: [1] });
  let calls = 0;
  await assert.rejects(run(plugins, context("POST", "/dbs/d/colls/c/docs"), async () => { calls++; throw error1002(); }));
  await assert.rejects(run(plugins, context("GET", DOC), async () => {
    calls++;
    throw Object.assign(new Error("not found"), { code: 404, headers: {} });
  }), (e) => e.code === 404 && e.substatus === undefined);
  // A network error (no HTTP status) goes up as it is; the flow is not told.
  const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  await assert.rejects(run(plugins, context("GET", DOC), async () => { calls++; throw refused; }), (e) => e === refused);
  assert.equal(calls, 3);
  assert.equal(plugins.stats().read_session_unavailable, 0);
});

test("without a flow of its own the plugin uses the current flow of each async context", async () => {
  const plugins = cst.cosmosPlugins({ prime: false });
  const users = ["0:1#5", "0:1#6"].map((token) => {
    const flow = new cst.SessionFlow();
    flow.afterResponse("POST", "/dbs/d/colls/c/docs", 201, { "x-ms-session-token": token, "x-ms-content-path": "rid" });
    return { flow, token };
  });
  const sent = await Promise.all(users.map(({ flow }) => cst.runWithFlow(flow, async () => {
    await new Promise((r) => setTimeout(r, 5));
    const ctx = context("GET", DOC);
    await run(plugins, ctx, async () => ok());
    return ctx.headers[cst.HEADER];
  })));
  assert.deepEqual(sent, users.map((u) => u.token));
  // Outside any: no flow, the SDK's header left alone.
  const ctx = context("GET", DOC, EAST, { [cst.HEADER]: "0:1#1" });
  await run(plugins, ctx, async () => ok());
  assert.equal(ctx.headers[cst.HEADER], "0:1#1");
  assert.equal(cst.currentFlow(), undefined);
});
