"use strict";
// Bad input from JavaScript: every wrong type, undefined, null, numbers, lone surrogates, huge
// numbers and a 10 MB string give a SessionTokenError (never a TypeError, a WebAssembly trap or
// a hang), and the instance keeps working afterwards.
const test = require("node:test");
const assert = require("node:assert/strict");
const { cst } = require("./helpers.js");
const { SessionToken, SessionTokenError } = cst;

const KEY = new Uint8Array(32).fill(7);
const BAD = [undefined, null, 42, 1.5, NaN, -1, 2n ** 70n, true, {}, [], Symbol("s"), () => "0:1#5", new Uint8Array(3), "\ud800", "0:1#5\udfff"];
const describe = (v) => (typeof v === "symbol" ? v.toString() : typeof v === "bigint" ? `${v}n` : typeof v === "string" ? JSON.stringify(v) : String(v));

function refuses(fn, label) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SessionTokenError, `${label}: expected a SessionTokenError, got ${caught && caught.stack}`);
  assert.equal(typeof caught.code, "string", label);
  assert.equal(typeof caught.category, "string", label);
  assert.ok(caught.message.length > 0, label);
  return caught;
}

// Each call site with the argument under test in one place.
const TOKEN = "0:1#100#1=20,1:-1#42";
const map = new cst.RoutingMap([{ id: "0", minInclusive: "", maxExclusive: "FF" }]);
const CALLS = {
  "parse(x)": (x) => cst.parse(x),
  "SessionToken.parse(x)": (x) => SessionToken.parse(x),
  "parseLenient(x)": (x) => SessionToken.parseLenient(x),
  "merge([TOKEN, x])": (x) => cst.merge([TOKEN, x]),
  "merge(x)": (x) => cst.merge(x),
  "token.merge(x)": (x) => cst.parse(TOKEN).merge(x),
  "token.compare(x)": (x) => cst.parse(TOKEN).compare(x),
  "token.compareExplained(x)": (x) => cst.parse(TOKEN).compareExplained(x),
  "token.equals(x)": (x) => cst.parse(TOKEN).equals(x),
  "token.scope(x)": (x) => cst.parse(TOKEN).scope(x),
  "token.has(x)": (x) => cst.parse(TOKEN).has(x),
  "convert(x, 'vector')": (x) => cst.convert(x, "vector"),
  "convert(TOKEN, x)": (x) => cst.convert(TOKEN, x),
  "seal(x, KEY)": (x) => cst.seal(x, KEY),
  "seal(TOKEN, x)": (x) => cst.seal(TOKEN, x),
  "unseal(x, KEY)": (x) => cst.unseal(x, KEY),
  "unseal('cst1.a.b', x)": (x) => cst.unseal("cst1.a.b", x),
  "latestForFeedRange(x, '-FF')": (x) => cst.latestForFeedRange(x, "-FF"),
  "latestForFeedRange([[x, TOKEN]], '-FF')": (x) => cst.latestForFeedRange([[x, TOKEN]], "-FF"),
  "latestForFeedRange([['-FF', TOKEN]], x)": (x) => cst.latestForFeedRange([["-FF", TOKEN]], x),
  "effectivePartitionKey(x) [not a key]": (x) => (typeof x === "string" && x.isWellFormed() ? (() => { throw new SessionTokenError("skip", "x", "x"); })() : cst.effectivePartitionKey(x === null || typeof x === "number" || typeof x === "boolean" || typeof x === "bigint" ? [[x]] : x)),
  "new RoutingMap(x)": (x) => new cst.RoutingMap(x),
  "map.rangeFor(x)": (x) => map.rangeFor(x),
  "tokenForFeedRange(TOKEN, x, map)": (x) => cst.tokenForFeedRange(TOKEN, x, map),
  "container.capture(x, ...)": (x) => new cst.SessionContainer().capture(x, "rid", TOKEN, 200),
  "container.capture(.., status x)": (x) => new cst.SessionContainer().capture("c", "rid", TOKEN, typeof x === "number" && x === 42 ? -42 : x),
  "SessionContainer.restore(x)": (x) => cst.SessionContainer.restore(x),
  "SessionFlow.restore(x)": (x) => cst.SessionFlow.restore(x),
  "flow.beforeRequest(x, '/')": (x) => new cst.SessionFlow().beforeRequest(x, "/dbs/d/colls/c/docs/1", {}),
  "new FlowCookies(x)": (x) => new cst.FlowCookies(x),
  "cookies.open(x)": (x) => new cst.FlowCookies([KEY]).open(x, null),
  "deriveCookieKeys(x)": (x) => cst.deriveCookieKeys(x),
  "tokenForPartitionKey(TOKEN, 'a', x)": (x) => cst.tokenForPartitionKey(TOKEN, "a", x),
  "tokenForFeedRange(TOKEN, '-FF', x)": (x) => cst.tokenForFeedRange(TOKEN, "-FF", x),
  "container.resolveForPartitionKey('c', 'a', x)": (x) => new cst.SessionContainer().resolveForPartitionKey("c", "a", x),
  "sealFlow(x, KEY)": (x) => cst.sealFlow(x, KEY),
  "cookies.seal(x)": (x) => new cst.FlowCookies([KEY]).seal(x),
  "tokenCookieContext(x, 'a', 'b')": (x) => cst.tokenCookieContext(x, "a", "b"),
  "cosmosPlugins(x)": (x) => cst.cosmosPlugins(x),
  "cosmosPlugins({flow: x})": (x) => cst.cosmosPlugins({ flow: x }),
  "cosmosPlugins({backoffMs: x})": (x) => cst.cosmosPlugins({ backoffMs: x }),
  "flowCookieMiddleware(x)": (x) => cst.flowCookieMiddleware(x),
  "flowCookieMiddleware({keys: x})": (x) => cst.flowCookieMiddleware({ keys: x, context: () => "u" }),
  "flowCookieMiddleware({context: x})": (x) => cst.flowCookieMiddleware({ keys: [KEY], context: x }),
  "runWithFlow(x, fn)": (x) => cst.runWithFlow(x, () => 1),
  "runWithFlow(flow, x)": (x) => cst.runWithFlow(new cst.SessionFlow(), x),
};

for (const [name, call] of Object.entries(CALLS)) {
  test(`bad input: ${name}`, () => {
    for (const x of BAD) {
      let ok = false;
      try {
        call(x);
        ok = true;
      } catch (e) {
        assert.ok(e instanceof SessionTokenError, `${name} with ${describe(x)}: ${e && e.stack}`);
      }
      // Some values are valid somewhere (a number as a key component, [] as a parent list...):
      // those may succeed; what must never happen is another kind of exception.
      void ok;
    }
    // The instance still works.
    assert.equal(String(cst.merge(["0:1#5", "0:1#6"])), "0:1#6");
  });
}

test("wrong types name the type", () => {
  const e = refuses(() => cst.parse(42), "parse(42)");
  assert.equal(e.code, "invalid_argument");
  assert.match(e.message, /must be a string, not number/);
  assert.match(refuses(() => cst.parse(undefined), "parse(undefined)").message, /not undefined/);
  assert.match(refuses(() => cst.parse(null), "parse(null)").message, /not null/);
  assert.match(refuses(() => cst.parse({ toString: () => "0:1#5" }), "parse(obj)").message, /not object/);
  assert.equal(refuses(() => cst.merge(["0:1#5", { toString: () => "0:1#6" }]), "merge obj").code, "invalid_argument");
});

test("lone surrogates are invalid_utf8, never replaced silently", () => {
  for (const s of ["\ud800", "0:1#5\udfff", "a\ud83d", "\ude00b"]) {
    const e = refuses(() => cst.parse(s), JSON.stringify(s));
    assert.equal(e.code, "invalid_utf8");
    assert.equal(e.category, "invalid_utf8");
  }
  // Two contexts that differ only in a lone surrogate must not seal alike: both are refused.
  assert.equal(refuses(() => cst.seal("0:1#5", KEY, "user\ud800"), "seal ctx").code, "invalid_utf8");
  // A well-formed pair is fine.
  assert.equal(cst.tokenCookieContext("f", "\ud83d\ude00", "s"), "token-cookie/1:f/4:\ud83d\ude00/s");
});

test("huge numbers: LSNs past 2^63 overflow, options past their range are refused", () => {
  assert.equal(refuses(() => cst.parse("0:1#9223372036854775808"), "lsn").code, "overflow");
  assert.equal(cst.parse("0:1#9223372036854775807").segments[0].globalLsn, 9223372036854775807n);
  assert.equal(cst.parse("0:-9223372036854775808#1").segments[0].version, -9223372036854775808n);
  assert.equal(refuses(() => cst.parse("0:1#" + "9".repeat(5000)), "5000 digits").code, "overflow");
  const box = new cst.SessionContainer();
  for (const status of [1e300, 65536, -1, 1.5, NaN, Infinity, 2n ** 64n]) {
    assert.equal(refuses(() => box.capture("c", "rid", "0:1#5", status), `status ${status}`).code, "invalid_argument");
  }
  for (const maxBytes of [2 ** 53, -5, 0.5]) {
    assert.equal(refuses(() => cst.seal("0:1#5", KEY, "", { maxBytes }), `maxBytes ${maxBytes}`).code, "invalid_argument");
  }
  assert.equal(refuses(() => cst.effectivePartitionKey(Infinity), "Infinity").code, "invalid_partition_key");
  assert.equal(cst.effectivePartitionKey(2n ** 64n), cst.effectivePartitionKey(18446744073709551616));
});

test("a 10 MB string is refused quickly (input_too_large), everywhere a string goes", () => {
  const big = "0:1#5,".repeat(10 * 1024 * 1024 / 6);
  const t0 = process.hrtime.bigint();
  assert.equal(refuses(() => cst.parse(big), "parse 10MB").category, "limit_exceeded");
  refuses(() => cst.parse(big, { lenient: true }), "lenient 10MB");
  refuses(() => cst.merge(["0:1#5", big]), "merge 10MB");
  refuses(() => cst.unseal(big, KEY), "unseal 10MB");
  refuses(() => cst.SessionContainer.restore(big), "restore 10MB");
  refuses(() => cst.SessionFlow.restore(big), "flow restore 10MB");
  refuses(() => new cst.RoutingMap(big), "routing 10MB");
  refuses(() => cst.latestForFeedRange([[big, "0:1#5"]], "-FF"), "feed range 10MB");
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 5000, `took ${ms} ms`);
  // Wire input never throws: a 10 MB header or body is stepped aside.
  const flow = new cst.SessionFlow();
  flow.afterResponse("GET", "/dbs/d/colls/c/pkranges", 200, { "x-ms-session-token": big }, big);
  assert.equal(flow.beforeRequest("GET", "/dbs/d/colls/c/docs/1", { "x-ms-session-token": big }), undefined);
  const cookies = new cst.FlowCookies([KEY]);
  assert.equal(cookies.open("user", big).verdict, "too_large");
});

test("wire input never throws: flows and cookies step aside", () => {
  const flow = new cst.SessionFlow();
  for (const x of BAD.filter((v) => typeof v !== "symbol")) {
    flow.afterResponse("POST", "/dbs/d/colls/c/docs", 201, { "x-ms-session-token": x, "x-ms-substatus": x }, x);
    flow.beforeRequest("GET", "/dbs/d/colls/c/docs/1", { "x-ms-session-token": x, "x-ms-documentdb-partitionkey": x });
  }
  flow.afterResponse("GET", "/dbs/d/colls/c/pkranges", 200, {}, "{not json");
  flow.afterResponse("GET", "/dbs/d/colls/c", 200, {}, { partitionKey: 7 });
  assert.ok(flow.stats().requests >= BAD.length - 1);
  const cookies = new cst.FlowCookies([KEY]);
  for (const cookie of [42, {}, "cst2.xx", "\ud800", "", null, undefined]) {
    const user = cookies.open("user-1", cookie);
    assert.ok(["missing", "malformed"].includes(user.verdict), `${describe(cookie)}: ${user.verdict}`);
  }
});

test("every exported function and constructor refuses no arguments with a SessionTokenError", () => {
  // Valid without arguments: the plugin of the current flow, and no current flow.
  const skipNoArgs = new Set(["constants", "SessionContainer", "SessionFlow", "cosmosPlugins", "currentFlow"]);
  for (const [name, value] of Object.entries(cst)) {
    if (typeof value !== "function" || name === "SessionTokenError" || skipNoArgs.has(name)) continue;
    const isClass = /^[A-Z]/.test(name);
    let caught;
    try {
      if (isClass) new value();
      else value();
    } catch (e) {
      caught = e;
    }
    if (name === "SessionToken" || name === "CookieFlow") continue; // made by parse / FlowCookies.open
    assert.ok(caught instanceof SessionTokenError, `${name}(): ${caught && caught.stack}`);
  }
});

test("objects of another class, or freed, are refused with a SessionTokenError", () => {
  const flow = new cst.SessionFlow();
  assert.equal(refuses(() => cst.sealFlow(map, KEY), "sealFlow(map)").code, "invalid_argument");
  assert.equal(refuses(() => cst.tokenForFeedRange(TOKEN, "-FF", flow), "map=flow").code, "invalid_argument");
  assert.equal(refuses(() => cst.parse(TOKEN).merge(flow), "merge(flow)").code, "invalid_argument");
  const t = cst.parse("0:1#5");
  assert.equal(String(cst.parse("0:1#4").merge(t)), "0:1#5");
  t.free();
  assert.match(refuses(() => cst.parse("0:1#4").merge(t), "freed token").message, /SessionToken/);
  const m = new cst.RoutingMap([{ id: "0", minInclusive: "", maxExclusive: "FF" }]);
  m.free();
  refuses(() => cst.tokenForFeedRange(TOKEN, "-FF", m), "freed map");
  // A forged object with the class's prototype and no Rust object behind it.
  const forged = Object.create(cst.SessionFlow.prototype);
  refuses(() => cst.sealFlow(forged, KEY), "forged");
  // The same token on both sides of a merge (two shared borrows of one object).
  const same = cst.parse("0:1#5#1=2");
  assert.equal(String(same.merge(same)), "0:1#5#1=2");
});
