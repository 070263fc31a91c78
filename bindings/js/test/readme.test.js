"use strict";
// The repository README's JavaScript example, as pasted: writer.js and reader.js run as two
// Node processes against the test server (West US writing, East US lagging with stale reads).
// The reader prints the write (42) though its client reads from the lagging region; handed an
// empty flow instead, the same reader is served the stale state.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { cst, ROOT, PACKAGE } = require("./helpers.js");
const { startServer } = require(path.join(ROOT, "testserver", "test", "helpers.js"));

const KEY = "dGVzdC1rZXktbm90LWEtc2VjcmV0LTAxMjM0NTY3ODk=";
let server;
let dir;
test.before(async () => {
  server = await startServer(["--regions", "West US,East US", "--partitions", "4", "--stale"]);
  await server.admin("/_shim/regions", { lag_ms: 600000 });
  // A folder where require("cosmos-session-token") and require("@azure/cosmos") resolve.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cst-js-readme-"));
  fs.mkdirSync(path.join(dir, "node_modules", "@azure"), { recursive: true });
  fs.symlinkSync(path.resolve(PACKAGE), path.join(dir, "node_modules", "cosmos-session-token"), "dir");
  fs.symlinkSync(path.join(__dirname, "..", "node_modules", "@azure", "cosmos"), path.join(dir, "node_modules", "@azure", "cosmos"), "dir");
});
test.after(() => {
  server?.stop(); // by PID
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function block(name) {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = new RegExp("```js own-server " + name + "\\n([\\s\\S]*?)```").exec(readme);
  assert.ok(m, `README.md has a \`\`\`js own-server ${name} block`);
  return m[1];
}

function run(file) {
  const env = { ...process.env, COSMOS_ENDPOINT: server.url("/"), COSMOS_KEY: KEY };
  return spawnSync(process.execPath, [file], { cwd: dir, env, encoding: "utf8", timeout: 120000 });
}

test("the README's two-process JavaScript example runs as pasted", async () => {
  fs.writeFileSync(path.join(dir, "writer.js"), block("writer"));
  fs.writeFileSync(path.join(dir, "reader.js"), block("reader"));
  const wrote = run("writer.js");
  assert.equal(wrote.status, 0, wrote.stderr);
  const read = run("reader.js");
  assert.equal(read.status, 0, read.stderr);
  assert.equal(read.stdout.trim(), "42");
  const counters = await server.admin("/_shim/counters");
  assert.ok(counters.regions["East US"].read_session_unavailable >= 1, "the read went to the lagging region first");

  // The control: the same reader handed an empty flow is served East's stale state (no item).
  fs.writeFileSync(path.join(dir, "handover.json"), new cst.SessionFlow().snapshot());
  const stale = run("reader.js");
  assert.notEqual(stale.status, 0);
  assert.match(stale.stderr, /TypeError: Cannot read properties of undefined \(reading 'total'\)/);
});
