#!/usr/bin/env node
"use strict";
// The JavaScript package in one Node process: our parse + merge (the core as WebAssembly)
// beside @azure/cosmos's own VectorSessionToken and SessionContainer merge (internal classes,
// imported from the package's dist for this benchmark only: version pinned in
// bindings/js/package-lock.json), 1 segment x 3 regions and 1,000 segments; and the request
// plugin's own cost per request, in memory (a stand-in for the SDK's `next` that answers at once).
//   usage: node benches/js/bench.js [--markdown] [--quick]
// Needs bindings/js/pkg (bindings/js/build.sh) and bindings/js/node_modules (npm ci there).
const path = require("node:path");
const os = require("node:os");
const { execSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const cst = require(process.env.CST_JS_PACKAGE || path.join(ROOT, "bindings", "js", "pkg"));
const SDK = path.join(ROOT, "bindings", "js", "node_modules", "@azure", "cosmos");
// Deep imports by file: the package's export map hides them (they are @hidden internals).
const { VectorSessionToken } = require(path.join(SDK, "dist", "commonjs", "session", "VectorSessionToken.js"));
const { SessionContainer } = require(path.join(SDK, "dist", "commonjs", "session", "sessionContainer.js"));
const SDK_VERSION = require(path.join(SDK, "package.json")).version;

const MARKDOWN = process.argv.includes("--markdown");
const QUICK = process.argv.includes("--quick");
const ROUNDS = QUICK ? 3 : 7;

// Distinct inputs cycled through, so neither side meets the same string over and over.
const POOL = 1000;
const segment = (range, version, global, lsns) => `${range}:${version}#${global}${lsns.map((l, i) => `#${i + 1}=${l}`).join("")}`;
const oneSeg = Array.from({ length: POOL }, (_, i) => [
  segment(i % 7, 1, 1000 + i, [20 + i, 30 + i, 40 + i]),
  segment(i % 7, 1, 1001 + i, [20 + i, 31 + i, 40 + i]),
]);
const value = (text) => text.slice(text.indexOf(":") + 1); // the SDK's class takes one range's value
const composite = (shift) => Array.from({ length: 1000 }, (_, r) => segment(r, 1, 5000 + r + shift, [100 + r, 200 + r + shift, 300 + r])).join(",");
const big = [composite(0), composite(1)];

// Best of ROUNDS rounds of `n` calls: nanoseconds per call.
function time(n, fn) {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    best = Math.min(best, ns);
  }
  return best;
}

let sink = 0; // results are used, so no call is optimised away
const rows = [];
function pair(name, n, sdk, ours) {
  // Warm-up of both (the JIT, the wasm heap), then measured in turns.
  time(Math.min(n, 2000), sdk);
  time(Math.min(n, 2000), ours);
  const a = time(n, sdk);
  const b = time(n, ours);
  rows.push([name, a, b]);
}

// Our results are freed at once (`free()`: what a hot loop should do); one row leaves them to the
// garbage collector (wasm-bindgen's FinalizationRegistry), which costs more and grows the heap.
const N = QUICK ? 20000 : 100000;
const once = (token, value) => { token.free(); return value; };
pair("parse, 1 segment × 3 regions (`VectorSessionToken.create` / `parse`)", N,
  (i) => { sink += VectorSessionToken.create(value(oneSeg[i % POOL][0])).globalLsn; },
  (i) => { const t = cst.parse(oneSeg[i % POOL][0]); sink += once(t, t.length); });
pair("… ours left to the garbage collector (no `free()`)", N,
  (i) => { sink += VectorSessionToken.create(value(oneSeg[i % POOL][0])).globalLsn; },
  (i) => { sink += cst.parse(oneSeg[i % POOL][0]).length; });
const parsedSdk = oneSeg.map(([a, b]) => [VectorSessionToken.create(value(a)), VectorSessionToken.create(value(b))]);
const parsedOurs = oneSeg.map(([a, b]) => [cst.parse(a), cst.parse(b)]);
pair("merge of parsed tokens, 1 segment × 3 regions", N,
  (i) => { sink += parsedSdk[i % POOL][0].merge(parsedSdk[i % POOL][1]).globalLsn; },
  (i) => { const t = parsedOurs[i % POOL][0].merge(parsedOurs[i % POOL][1]); sink += once(t, t.length); });
pair("parse + merge from text, 1 segment × 3 regions", N,
  (i) => { const [a, b] = oneSeg[i % POOL]; sink += VectorSessionToken.create(value(a)).merge(VectorSessionToken.create(value(b))).globalLsn; },
  (i) => { const [a, b] = oneSeg[i % POOL]; const p = cst.parse(a); const t = p.merge(b); p.free(); sink += once(t, t.length); });
const NB = QUICK ? 20 : 100;
pair("parse + merge from text, 1,000 segments × 3 regions (`SessionContainer.compareAndSetToken` twice / `parse(a).merge(b)`)", NB,
  () => { const m = new Map(); SessionContainer.compareAndSetToken(big[0], m); SessionContainer.compareAndSetToken(big[1], m); sink += m.size; },
  () => { const p = cst.parse(big[0]); const t = p.merge(big[1]); p.free(); sink += once(t, t.length); });
pair("… and rendered (`getCombinedSessionTokenString` / `String`)", NB,
  () => { const m = new Map(); SessionContainer.compareAndSetToken(big[0], m); SessionContainer.compareAndSetToken(big[1], m); sink += SessionContainer.getCombinedSessionTokenString(m).length; },
  () => { const p = cst.parse(big[0]); const t = p.merge(big[1]); p.free(); sink += once(t, String(t).length); });

// The plugin per request, in memory: point reads with a partition key each, on a container of
// 1,000 ranges whose definition and routing map the flow learned; each answer carries a
// one-range token, which the flow captures. Paired: each request through the plugin beside one
// straight to `next`, order alternating; per-request times, p50 and p90.
async function pluginOverhead() {
  const flow = new cst.SessionFlow();
  const coll = "/dbs/d/colls/c";
  flow.afterResponse("GET", coll, 200, {}, { id: "c", partitionKey: { paths: ["/pk"], kind: "Hash", version: 2 } });
  const step = 0x3fffffff / 1000;
  const hex = (n) => Math.floor(n).toString(16).toUpperCase().padStart(8, "0");
  const ranges = Array.from({ length: 1000 }, (_, i) => ({
    id: String(i), minInclusive: i === 0 ? "" : hex(i * step), maxExclusive: i === 999 ? "FF" : hex((i + 1) * step), parents: [],
  }));
  flow.afterResponse("GET", `${coll}/pkranges`, 200, {}, { PartitionKeyRanges: ranges });
  // Progress on every range (a writer's), then each answer carries its key's range's token.
  const all = ranges.map((r) => `${r.id}:1#5#1=3`).join(",");
  flow.afterResponse("POST", `${coll}/docs`, 201, { "x-ms-session-token": all, "x-ms-content-path": "rid" });
  const map = new cst.RoutingMap(ranges);
  const KEYS = 997;
  const answers = Array.from({ length: KEYS }, (_, i) => ({
    code: 200, result: { id: "a" },
    headers: { "x-ms-session-token": `${map.rangeFor(cst.effectivePartitionKey(`user-${i}`, { version: 2 })).id}:1#${6 + i}#1=3`, "x-ms-content-path": "rid", "content-type": "application/json" },
  }));
  const plugins = flow.plugins({ prime: false });
  const plugin = plugins[0].plugin;
  let answer = answers[0];
  const next = async () => answer;
  const ctx = (i) => ({ method: "GET", path: `${coll}/docs/i${i}`, endpoint: "http://127.0.0.1:1/", headers: { "x-ms-documentdb-partitionkey": `["user-${i % KEYS}"]`, "x-ms-version": "2020-07-15" } });
  const n = QUICK ? 5000 : 50000;
  const warm = QUICK ? 1000 : 10000;
  const plain = [], withFlow = [], diff = [];
  let bytes = 0;
  for (let i = 0; i < warm + n; i++) {
    const a = ctx(i), b = ctx(i);
    answer = answers[i % KEYS];
    let tPlain, tFlow;
    const runPlain = async () => { const t0 = process.hrtime.bigint(); await next(a); tPlain = Number(process.hrtime.bigint() - t0); };
    const runFlow = async () => { const t0 = process.hrtime.bigint(); await plugin(b, {}, next); tFlow = Number(process.hrtime.bigint() - t0); };
    if (i % 2) { await runPlain(); await runFlow(); } else { await runFlow(); await runPlain(); }
    if (i >= warm) { plain.push(tPlain); withFlow.push(tFlow); diff.push(tFlow - tPlain); bytes = b.headers[cst.HEADER]?.length ?? 0; }
  }
  const stats = flow.stats();
  const pct = (xs, p) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length * p)];
  return {
    n, plain: [pct(plain, 0.5), pct(plain, 0.9)], flow: [pct(withFlow, 0.5), pct(withFlow, 0.9)], diff: [pct(diff, 0.5), pct(diff, 0.9)],
    bytes, composite: all.length, scoped: stats.scoped, requests: stats.requests,
  };
}

function ns(x) {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(2)} µs` : `${Math.round(x)} ns`;
}

(async () => {
  const overhead = await pluginOverhead();
  const machine = `${os.cpus()[0].model.trim()}, ${os.cpus().length} cores, Node.js ${process.version}, @azure/cosmos ${SDK_VERSION}, cosmos-session-token ${cst.VERSION}`;
  let commit = "";
  try { commit = execSync("git rev-parse --short HEAD", { cwd: ROOT, encoding: "utf8" }).trim(); } catch { /* not a checkout */ }
  const out = [];
  out.push(`Measured by \`node benches/js/bench.js --markdown\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC from commit ${commit}; ${machine}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (2 shared cores: an upper bound). Best of ${ROUNDS} rounds per operation, inputs cycled through ${POOL} distinct tokens; the SDK's class takes one range's value (\`1#1000#1=20…\`), ours the segment with its range id.`);
  out.push("");
  out.push("| operation | @azure/cosmos (internal) | cosmos-session-token (wasm) | ratio |");
  out.push("|---|---|---|---|");
  for (const [name, a, b] of rows) out.push(`| ${name} | ${ns(a)} | ${ns(b)} | ${(a / b).toFixed(1)}x |`);
  out.push("");
  out.push(`The plugin per request, in memory (${overhead.n.toLocaleString("en")} point reads, a partition key each, on a container of 1,000 ranges whose definition and map the flow learned; a stand-in \`next\` answering at once with a one-range token; paired with a call straight to \`next\`): plain p50 ${ns(overhead.plain[0])} (p90 ${ns(overhead.plain[1])}), through the plugin p50 ${ns(overhead.flow[0])} (p90 ${ns(overhead.flow[1])}), paired difference p50 **${ns(overhead.diff[0])}** (p90 ${ns(overhead.diff[1])}); a point read presented ${overhead.bytes} bytes (one segment) against the ${overhead.composite.toLocaleString("en")}-byte composite of the container's ranges; scoped ${overhead.scoped.toLocaleString("en")} of ${overhead.requests.toLocaleString("en")} requests.`);
  if (MARKDOWN) process.stdout.write(out.join("\n") + "\n");
  else for (const line of out) console.log(line);
  if (sink === 0.5) console.log(""); // keep `sink` alive
})();
