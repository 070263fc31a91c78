"use strict";
// The flow cookie middleware across two web "nodes" (plain node:http servers, each with its own
// @azure/cosmos client, plugin and FlowCookies, sharing only the cookie key) in front of the
// test server, West writing and East lagging with stale reads: a user's write on node A is read
// on node B from East because the cookie carries the user's flow; without the cookie, or with
// another user's, node B serves East's stale state (and counts why).
const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { CosmosClient } = require("@azure/cosmos");
const { cst, ROOT } = require("./helpers.js");
const { startServer } = require(path.join(ROOT, "testserver", "test", "helpers.js"));

const KEY = "dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=";
const SEAL_KEY = new Uint8Array(32).fill(42); // both nodes' cookie key

let server;
const nodes = {};
test.before(async () => {
  server = await startServer(["--regions", "West,East", "--partitions", "4", "--stale"]);
  await server.call("POST", "/dbs", { body: { id: "shop" } });
  await server.call("POST", "/dbs/shop/colls", { body: { id: "orders", partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } } });
  await server.admin("/_shim/regions", { lag_ms: 600000 });
  nodes.a = await webNode();
  nodes.b = await webNode("East");
  // A third node for the controls: a client's own session token (the SDK keeps one per client)
  // would otherwise carry other requests' progress.
  nodes.c = await webNode("East");
});
test.after(async () => {
  for (const n of Object.values(nodes)) await new Promise((r) => n.http.close(r));
  server?.stop(); // by PID
});

// One web node: one client for every user (the plugin reads the current flow), the middleware
// binding each user's cookie to the user named in `x-user` (a stand-in for a session).
async function webNode(region) {
  const plugins = cst.cosmosPlugins();
  const client = new CosmosClient({
    endpoint: server.url("/"), key: KEY, consistencyLevel: "Session", plugins,
    connectionPolicy: region ? { preferredLocations: [region] } : undefined,
  });
  const orders = client.database("shop").container("orders");
  const refused = [];
  const middleware = cst.flowCookieMiddleware({
    keys: [SEAL_KEY], context: (req) => req.headers["x-user"], secure: false,
    onRefused: (verdict) => refused.push(verdict),
  });
  const handler = async (req, res) => {
    try {
      assert.equal(cst.currentFlow(), req.cosmosFlow, "the user's flow is current");
      const url = new URL(req.url, "http://node");
      const id = url.searchParams.get("id");
      if (id === null) {
        res.end("no database work"); // the user's progress does not move: no Set-Cookie
      } else if (req.method === "POST") {
        res.setHeader("set-cookie", "app=1; Path=/"); // the application's own cookie stays
        await orders.items.upsert({ id, pk: id, total: Number(url.searchParams.get("total")) });
        res.end("stored");
      } else {
        const r = await orders.item(id, id).read();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ status: r.statusCode, total: r.resource?.total }));
      }
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e && e.stack));
    }
  };
  const httpServer = http.createServer((req, res) => middleware(req, res, () => handler(req, res)));
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  return { http: httpServer, port: httpServer.address().port, middleware, plugins, refused };
}

async function call(node, method, query, { user, cookie } = {}) {
  const headers = {};
  if (user) headers["x-user"] = user;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`http://127.0.0.1:${node.port}/?${query}`, { method, headers });
  return { status: res.status, text: await res.text(), setCookie: res.headers.getSetCookie() };
}

test("a user's write on node A is read on node B from the lagging region: the cookie carries the flow", async () => {
  const wrote = await call(nodes.a, "POST", "id=o1&total=42", { user: "alice" });
  assert.equal(wrote.status, 200, wrote.text);
  assert.equal(wrote.setCookie.length, 2, "the application's cookie and the flow's (it moved)");
  const [app, set] = wrote.setCookie;
  assert.equal(app, "app=1; Path=/");
  assert.match(set, new RegExp(`^${cst.FLOW_COOKIE_NAME}=cst2\\.[^;]+; Path=/; HttpOnly; SameSite=Lax$`));
  const cookie = set.split(";")[0];
  assert.ok(cookie.length < cst.DEFAULT_SEAL_BUDGET);

  // Node B, another client, reads from East: the write, not East's stale state.
  const read = await call(nodes.b, "GET", "id=o1", { user: "alice", cookie: `theme=dark; ${cookie}` });
  assert.deepEqual(JSON.parse(read.text), { status: 200, total: 42 });
  assert.ok(nodes.b.plugins.stats().read_session_unavailable >= 1, JSON.stringify(nodes.b.plugins.stats()));
  assert.equal(nodes.b.middleware.cookies.stats().accepted, 1);

  // A request that does no database work writes no cookie back.
  const idle = await call(nodes.b, "GET", "page=1", { user: "alice", cookie });
  assert.equal(idle.text, "no database work");
  assert.deepEqual(idle.setCookie, []);

  // Without the cookie (node C, a client that has read nothing yet): East's stale state.
  const bare = await call(nodes.c, "GET", "id=o1", { user: "alice" });
  assert.deepEqual(JSON.parse(bare.text), { status: 404 });

  // Another user's cookie is no progress: refused, counted, told (the reason, never the cookie).
  const foreign = await call(nodes.c, "GET", "id=o1", { user: "mallory", cookie });
  assert.deepEqual(JSON.parse(foreign.text), { status: 404 });
  assert.equal(nodes.c.middleware.cookies.stats().foreign_context, 1);
  assert.deepEqual(nodes.c.refused, ["foreign_context"]);
});

test("a second write on node B extends the cookie; both writes are read from East", async () => {
  const first = await call(nodes.a, "POST", "id=o2&total=1", { user: "bob" });
  const cookie1 = first.setCookie[1].split(";")[0];
  const second = await call(nodes.b, "POST", "id=o3&total=2", { user: "bob", cookie: cookie1 });
  assert.equal(second.status, 200, second.text);
  const cookie2 = second.setCookie[1].split(";")[0];
  assert.notEqual(cookie2, cookie1);
  for (const [id, total] of [["o2", 1], ["o3", 2]]) {
    const read = await call(nodes.b, "GET", `id=${id}`, { user: "bob", cookie: cookie2 });
    assert.deepEqual(JSON.parse(read.text), { status: 200, total });
  }
});

test("a tampered cookie is no progress, never an error", async () => {
  const wrote = await call(nodes.a, "POST", "id=o4&total=4", { user: "carol" });
  const cookie = wrote.setCookie[1].split(";")[0];
  const tampered = cookie.slice(0, -4) + (cookie.endsWith("AAAA") ? "BBBB" : "AAAA");
  const read = await call(nodes.c, "GET", "id=o4", { user: "carol", cookie: tampered });
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(JSON.parse(read.text), { status: 404 });
  assert.deepEqual(nodes.c.refused, ["foreign_context", "forged"]);
  assert.equal(nodes.c.middleware.cookies.stats().forged, 1);
  // The genuine cookie on another fresh-enough node reads the write.
  const genuine = await call(nodes.b, "GET", "id=o4", { user: "carol", cookie });
  assert.deepEqual(JSON.parse(genuine.text), { status: 200, total: 4 });
});
