"use strict";
// The package as a user gets it: the .tgz from `build.sh --pack` (CST_JS_TGZ) installed with
// `npm install <tgz> --offline` into an empty folder (no Rust, no network), then the README's
// example run there as CommonJS and as an ES module, and a TypeScript consumer checked with
// `tsc --noEmit` against the installed declarations. Skipped without CST_JS_TGZ.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const TGZ = process.env.CST_JS_TGZ;
const skip = TGZ ? false : "CST_JS_TGZ is not set (scripts/test js sets it)";
const TSC = path.join(__dirname, "..", "node_modules", ".bin", "tsc");
const EXPECTED = ["0:1#101#1=20,1:-1#42", "greater", "1:-1#42", "101n", "not_a_number malformed { segment: 0, offset: 4 }"];

let dir;
function app() {
  if (dir) return dir;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cst-js-install-"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", path.resolve(TGZ)], { cwd: dir, stdio: "pipe" });
  return dir;
}
// The README's example, as pasted (it is the one in the installed package's README).
function readmeExample() {
  const readme = fs.readFileSync(path.join(app(), "node_modules", "cosmos-session-token", "README.md"), "utf8");
  return readme.match(/```js\n([\s\S]*?)```/)[1];
}

test("npm install <tgz> --offline into an empty folder", { skip }, () => {
  const installed = path.join(app(), "node_modules", "cosmos-session-token");
  const files = fs.readdirSync(installed).sort();
  assert.deepEqual(files, ["LICENSE", "README.md", "context.js", "cosmos.js", "index.d.ts", "index.js", "index.mjs", "middleware.js", "node", "package.json", "web", "web.d.ts"]);
  assert.ok(!fs.existsSync(path.join(installed, "node_modules")), "no dependencies");
});

test("the README example runs as pasted (CommonJS)", { skip }, () => {
  fs.writeFileSync(path.join(app(), "example.js"), readmeExample());
  const out = execFileSync(process.execPath, ["example.js"], { cwd: app(), encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  assert.deepEqual(out.trim().split("\n"), EXPECTED);
});

test("the README example as an ES module", { skip }, () => {
  const esm = readmeExample().replace(/^const \{ (.*) \} = require\("cosmos-session-token"\);.*$/m, 'import { $1 } from "cosmos-session-token";');
  assert.notEqual(esm, readmeExample());
  fs.writeFileSync(path.join(app(), "example.mjs"), esm);
  const out = execFileSync(process.execPath, ["example.mjs"], { cwd: app(), encoding: "utf8" });
  assert.deepEqual(out.trim().split("\n"), EXPECTED);
});

test("a TypeScript consumer type-checks against the installed declarations (tsc --noEmit)", { skip }, () => {
  const ts = `
import { parse, merge, SessionToken, SessionTokenError, SessionFlow, FlowCookies, RoutingMap, SessionContainer,
  tokenForPartitionKey, effectivePartitionKey, latestForFeedRange, seal, unseal, HEADER, type Segment, type Order } from "cosmos-session-token";
import init, { parse as webParse } from "cosmos-session-token/web";

const t: SessionToken = merge([parse("0:1#5"), "0:1#6"]);
const order: Order = t.compare("0:1#4");
const lsn: bigint = t.segments[0].globalLsn;
const seg: Segment | undefined = t.get("0");
const scoped: SessionToken | undefined = t.scope("1", ["0"]);
const flow = new SessionFlow();
const sent: string | undefined = flow.beforeRequest("GET", "/dbs/d/colls/c/docs/1", { [HEADER]: "0:1#5" });
flow.afterResponse("GET", "/dbs/d/colls/c/pkranges/", 200, new Map([["x-ms-session-token", "0:1#5"]]), { PartitionKeyRanges: [] });
const n: number = flow.stats().captured;
const cookies = new FlowCookies([new Uint8Array(32)]);
const user = cookies.open("alice", undefined);
const out = cookies.seal(user);
const value: string | undefined = out.outcome === "sealed" ? out.value : undefined;
const map = new RoutingMap([{ id: "0", minInclusive: "", maxExclusive: "FF" }]);
const forKey = tokenForPartitionKey(t, ["tenant", 7], map, { paths: ["/a", "/b"], kind: "MultiHash", version: 2 });
const epk: string = effectivePartitionKey("user-42", { version: 2 });
const latest = latestForFeedRange([["-FF", "0:1#5"], [{ minInclusive: "", maxExclusive: "FF" }, t]], ["", "FF"]);
const box = new SessionContainer();
const captured: boolean = box.capture("dbs/d/colls/c", "rid", null, 200);
const again = unseal(seal(t, new Uint8Array(32)), [new Uint8Array(32)]);
try { parse("x"); } catch (e) { if (e instanceof SessionTokenError) { const code: string = e.code; void code; } }
void [order, lsn, seg, scoped, sent, n, value, forKey, epk, latest, captured, again, init, webParse];
// @ts-expect-error: a number is not a token
parse(5);
`;
  fs.writeFileSync(path.join(app(), "consumer.ts"), ts);
  fs.writeFileSync(path.join(app(), "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [] },
    files: ["consumer.ts"],
  }));
  execFileSync(TSC, ["-p", "."], { cwd: app(), encoding: "utf8" });
});

test("a TypeScript consumer of the plugin and the middleware type-checks against @azure/cosmos's declarations", { skip }, () => {
  // @azure/cosmos from this folder's devDependencies (pinned): linked in, not installed.
  const sdk = path.join(__dirname, "..", "node_modules", "@azure", "cosmos");
  const scope = path.join(app(), "node_modules", "@azure");
  fs.mkdirSync(scope, { recursive: true });
  if (!fs.existsSync(path.join(scope, "cosmos"))) fs.symlinkSync(sdk, path.join(scope, "cosmos"), "dir");
  const ts = `
import { CosmosClient, type CosmosClientOptions } from "@azure/cosmos";
import { SessionFlow, cosmosPlugins, flowCookieMiddleware, currentFlow, runWithFlow, deriveCookieKeys, type CosmosPluginStats } from "cosmos-session-token";

const flow = new SessionFlow();
const plugins = flow.plugins();
// @azure/cosmos's declarations leave the @hidden plugins option out: hence the cast.
const client = new CosmosClient({ endpoint: "http://127.0.0.1:1/", key: "k", consistencyLevel: "Session", plugins } as CosmosClientOptions);
const shared = new CosmosClient({ endpoint: "http://127.0.0.1:1/", key: "k", plugins: cosmosPlugins({ backoffMs: [10, 20] }) } as CosmosClientOptions);
const stats: CosmosPluginStats = plugins.stats();
const middleware = flowCookieMiddleware({ keys: deriveCookieKeys([new TextEncoder().encode("a long enough secret")]), context: (req) => String(req.headers["x-user"] ?? "") });
declare const req: { headers: Record<string, string | undefined> };
declare const res: { writeHead(...a: unknown[]): unknown; getHeader(n: string): string | undefined; setHeader(n: string, v: string | readonly string[]): unknown; headersSent: boolean };
middleware(req, res, () => { const current: SessionFlow | undefined = currentFlow(); void current; });
const n: number = runWithFlow(flow, (a: number) => a + 1, 1);
void [client, shared, stats, n, middleware.cookies.stats().accepted];
`;
  fs.writeFileSync(path.join(app(), "plugin_consumer.ts"), ts);
  fs.writeFileSync(path.join(app(), "tsconfig.plugin.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types: [] },
    files: ["plugin_consumer.ts"],
  }));
  execFileSync(TSC, ["-p", "tsconfig.plugin.json"], { cwd: app(), encoding: "utf8" });
});
