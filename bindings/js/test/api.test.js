"use strict";
// The API's shape: the README example, exports (CommonJS, ES module, declarations), bigint
// exactness, the flow, flow cookies and messages, the version.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { cst, ROOT, PACKAGE } = require("./helpers.js");

test("the README example prints what it says", () => {
  const readme = fs.readFileSync(path.join(PACKAGE, "README.md"), "utf8");
  const code = readme.match(/```js\n([\s\S]*?)```/)[1].replace('require("cosmos-session-token")', `require(${JSON.stringify(PACKAGE)})`);
  const out = execFileSync(process.execPath, ["-e", code], { encoding: "utf8" }).trim().split("\n");
  assert.deepEqual(out, ["0:1#101#1=20,1:-1#42", "greater", "1:-1#42", "101n", "not_a_number malformed { segment: 0, offset: 4 }"]);
  // And every `// comment` of the example matches its line's output.
  const expected = [...code.matchAll(/console\.log\(.*?\);\s*\/\/ (.*)$/gm)].map((m) => m[1].replace(/ \(LSNs.*$/, ""));
  assert.deepEqual(out, expected);
});

const NAMES = [
  "SessionToken", "SessionContainer", "RoutingMap", "SessionFlow", "FlowCookies", "CookieFlow", "SessionTokenError",
  "parse", "merge", "convert", "latestForFeedRange", "explainLatestForFeedRange",
  "effectivePartitionKey", "feedRangeFromPartitionKey", "tokenForPartitionKey", "tokenForFeedRange", "checkHeaderBudget",
  "cosmosPlugins", "flowCookieMiddleware", "currentFlow", "runWithFlow",
  "seal", "unseal", "sealFlow", "unsealFlow", "deriveCookieKeys", "tokenCookieContext", "tokenCookieHeader", "constants",
  "HEADER", "FLOW_COOKIE_NAME", "TOKEN_COOKIE_NAME", "DEFAULT_COOKIE_NAME", "DEFAULT_SEAL_BUDGET", "MESSAGE_FLOW_BUDGET",
  "COMPOSITE_BUDGET", "MAX_SCOPE_PARENTS", "MAX_SEAL_KEYS", "READ_SESSION_NOT_AVAILABLE", "ERROR_CODES", "VERSION",
];

test("CommonJS, ES module and declarations export the same names", async () => {
  assert.deepEqual(Object.keys(cst).sort(), [...NAMES].sort());
  const esm = await import(path.join(PACKAGE, "index.mjs"));
  assert.deepEqual(Object.keys(esm).filter((k) => k !== "default").sort(), [...NAMES].sort());
  // One instance: the class of require() is the class of import.
  assert.equal(esm.SessionTokenError, cst.SessionTokenError);
  assert.equal(esm.SessionToken, cst.SessionToken);
  const dts = fs.readFileSync(path.join(PACKAGE, "index.d.ts"), "utf8");
  const declared = [...dts.matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(declared)].sort(), [...NAMES].sort());
});

test("constants come from the core", () => {
  assert.equal(cst.HEADER, "x-ms-session-token");
  assert.equal(cst.DEFAULT_SEAL_BUDGET, 4000);
  assert.equal(cst.READ_SESSION_NOT_AVAILABLE, 1002);
  const table = new Map(cst.ERROR_CODES);
  assert.equal(table.get("not_a_number"), "malformed");
  assert.equal(table.get("region_mismatch"), "incompatible");
  assert.ok(cst.ERROR_CODES.length >= 40);
});

test("the package's version is the workspace's", () => {
  const cargo = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const version = cargo.match(/\[workspace\.package\]\s*\nversion = "([^"]+)"/)[1];
  assert.equal(cst.VERSION, version);
  assert.equal(JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8")).version, version);
});

test("64-bit LSNs are exact bigints", () => {
  const t = cst.parse("0:1#9223372036854775807#1=9223372036854775806#2=-1");
  const s = t.segments[0];
  assert.equal(s.globalLsn, 9223372036854775807n);
  assert.deepEqual(s.regions, [{ id: 1, lsn: 9223372036854775806n }, { id: 2, lsn: -1n }]);
  assert.equal(s.version, 1n);
  const low = cst.parse("0:1#5#1=-9223372036854775808");
  const x = low.compareExplained("0:1#5#1=9223372036854775807");
  assert.equal(x.order, "less");
  assert.equal(x.aLacks[0].behind, 18446744073709551615n);
  assert.equal(cst.parse("7:8").segments[0].version, null);
  assert.equal(JSON.stringify({ t }), '{"t":"0:1#9223372036854775807#1=9223372036854775806#2=-1"}');
});

test("SessionToken methods", () => {
  const t = cst.parse("0:1#100#1=20,1:-1#42");
  assert.equal(t.length, 2);
  assert.ok(t.has("1") && !t.has("2"));
  assert.equal(t.get("1").text, "1:-1#42");
  assert.equal(t.get("9"), undefined);
  assert.equal(t.scope("9"), undefined);
  assert.equal(String(t.scope("2", ["0", "1"])), "2:1#100#1=20");
  assert.ok(t.isAtLeastAsNewAs("0:1#90#1=20"));
  assert.equal(String(t.merge("0:1#100#4=7", { regionMismatch: "union" })), "0:1#100#1=20#4=7,1:-1#42");
  assert.throws(() => t.merge("0:1#100#4=7"), (e) => e.code === "region_mismatch" && e.rangeId === "0");
  const { token, warnings } = cst.SessionToken.parseLenient(" 0:1#007#");
  assert.equal(String(token), "0:1#7");
  assert.deepEqual(warnings.map((w) => w.code), ["trimmed_whitespace", "leading_zero", "trailing_separator"]);
  assert.equal(cst.convert("7:8,6:2008", "vector"), "7:-2#8,6:-2#2008");
  assert.throws(() => cst.merge([]), (e) => e.code === "invalid_argument");
  t.free();
});

test("routing: a partition key's range, its token, a feed range's ranges", () => {
  const map = new cst.RoutingMap({ PartitionKeyRanges: [
    { id: "1", minInclusive: "", maxExclusive: "7F" },
    { id: "2", minInclusive: "7F", maxExclusive: "FF", parents: ["0"] },
  ] });
  assert.equal(map.size, 2);
  const epk = cst.effectivePartitionKey("user-42");
  const range = map.rangeFor(epk);
  const token = cst.tokenForPartitionKey("1:1#10,2:1#20", "user-42", map, { paths: ["/pk"], kind: "Hash", version: 2 });
  assert.equal(String(token), `${range.id}:1#${range.id === "1" ? 10 : 20}`);
  assert.equal(String(cst.tokenForFeedRange("1:1#10,2:1#20", "-7F", map)), "1:1#10");
  assert.deepEqual(map.overlapping(["70", "80"]).map((r) => r.id), ["1", "2"]);
  assert.throws(() => cst.checkHeaderBudget("1:1#10,2:1#20", 5), (e) => e.code === "token_too_large");
  assert.throws(() => new cst.RoutingMap([{ id: "1", minInclusive: "", maxExclusive: "7F" }]), (e) => e.code === "invalid_routing_map");
  const explained = cst.explainLatestForFeedRange([["AA-DD", "0:1#51#3=52"], ["AA-BB", "1:1#55#3=52"], ["BB-DD", "2:1#54#3=52"]], "AA-DD");
  assert.equal(String(explained.token), "1:1#55#3=52,2:1#54#3=52");
  assert.equal(explained.lines[1], "pair 1 [AA,BB) 1:1#55#3=52: kept");
});

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const PKRANGES = JSON.stringify({ PartitionKeyRanges: [
  { id: "0", minInclusive: "", maxExclusive: "7F" },
  { id: "1", minInclusive: "7F", maxExclusive: "FF" },
] });

test("SessionFlow: learns, captures, scopes one segment, hands over as a snapshot", () => {
  const flow = new cst.SessionFlow();
  assert.ok(flow.wantsBody("GET", "/dbs/d/colls/c/pkranges/"));
  assert.ok(!flow.wantsBody("GET", "/dbs/d/colls/c/docs/1"));
  flow.afterResponse("GET", "/dbs/d/colls/c", 200, {}, { id: "c", partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } });
  flow.afterResponse("GET", "/dbs/d/colls/c/pkranges/", 200, new Map([["x-ms-content-path", "c"]]), Buffer.from(PKRANGES));
  flow.afterResponse("POST", "/dbs/d/colls/c/docs", 201, { "x-ms-session-token": "0:1#5,1:1#9" });
  const pk = JSON.stringify(["alice"]);
  const range = new cst.RoutingMap(PKRANGES).rangeFor(cst.effectivePartitionKey("alice")).id;
  const sent = flow.beforeRequest("GET", "/dbs/d/colls/c/docs/o1", { "X-Ms-Documentdb-PartitionKey": pk });
  assert.equal(sent, range === "0" ? "0:1#5" : "1:1#9");
  const stats = flow.stats();
  assert.equal(stats.captured, 1);
  assert.equal(stats.maps_learned, 1);
  assert.equal(stats.definitions_learned, 1);
  assert.equal(stats.scoped, 1);
  // Another process: the snapshot carries the progress and the routing knowledge.
  const reader = cst.SessionFlow.restore(flow.snapshot());
  assert.equal(reader.beforeRequest("GET", "/dbs/d/colls/c/docs/o1", [["x-ms-documentdb-partitionkey", pk]]), sent);
  // Account and metadata requests: leave the header.
  assert.equal(reader.beforeRequest("GET", "/", {}), undefined);
  const merged = new cst.SessionFlow();
  merged.mergeSnapshot(flow.snapshot());
  assert.equal(merged.snapshot(), reader.snapshot());
  assert.throws(() => flow.snapshot({ maxBytes: 10 }), (e) => e.code === "snapshot_too_large");
  assert.throws(() => cst.SessionFlow.restore("{}"), (e) => e.code === "invalid_snapshot");
  // For a queue message: sealed, bound to the queue.
  const sealed = cst.sealFlow(flow, KEY, "orders-queue");
  assert.equal(cst.unsealFlow(sealed, [KEY], "orders-queue").snapshot(), flow.snapshot());
  assert.throws(() => cst.unsealFlow(sealed, [KEY], "other-queue"), (e) => e.code === "bad_signature" && e.category === "rejected");
});

test("FlowCookies: a user's progress crosses nodes in a sealed cookie, only to that user", () => {
  const nodeA = new cst.FlowCookies([KEY]);
  const nodeB = new cst.FlowCookies([new Uint8Array(32).fill(1), KEY]); // rotation: B still opens A's
  const alice = nodeA.open("alice", undefined);
  assert.equal(alice.verdict, "missing");
  alice.flow.afterResponse("POST", "/dbs/d/colls/c/docs", 201, { "x-ms-session-token": "0:1#7" });
  assert.ok(alice.changed);
  const out = nodeA.seal(alice);
  assert.equal(out.outcome, "sealed");
  assert.equal(nodeA.seal(nodeA.open("alice", out.value)).outcome, "unchanged");
  const again = nodeB.open("alice", out.value);
  assert.equal(again.verdict, "accepted");
  assert.equal(again.flow.beforeRequest("GET", "/dbs/d/colls/c/docs/1", {}), "0:1#7");
  const mallory = nodeB.open("mallory", out.value);
  assert.equal(mallory.verdict, "foreign_context");
  assert.ok(mallory.refused);
  assert.equal(mallory.flow.beforeRequest("GET", "/dbs/d/colls/c/docs/1", {}), undefined);
  const stats = nodeB.stats();
  assert.equal(stats.accepted, 1);
  assert.equal(stats.foreign_context, 1);
  assert.ok(nodeA.node().stats().requests >= 0);
  const header = cst.tokenCookieHeader(cst.FLOW_COOKIE_NAME, out.value, { secure: true });
  assert.match(header, /^cosmos_flow=cst2\..*; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  assert.throws(() => new cst.FlowCookies([new Uint8Array(8)]), (e) => e.code === "weak_key");
});

test("seal/unseal with rotation and budgets", () => {
  const sealed = cst.seal("0:1#100#1=20", KEY, "c");
  assert.ok(cst.unseal(sealed, [new Uint8Array(16), KEY], "c").equals("0:1#100#1=20"));
  assert.throws(() => cst.unseal(sealed, [new Uint8Array(16)], "c"), (e) => e.category === "rejected");
  assert.throws(() => cst.seal("0:1#5", KEY, "c", { maxBytes: 10 }), (e) => e.code === "seal_too_large");
});
