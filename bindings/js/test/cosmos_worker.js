"use strict";
// A writer or reader process for cosmos.test.js: a fresh @azure/cosmos client, with a flow
// (plugins: flow.plugins()) or without one (the control). Reads a JSON job from standard input,
// prints one JSON line of results.
//   writer: {mode: "write", port, key, containers, perContainer} -> {items, snapshot, stats, plugin}
//   reader: {mode: "read", port, key, region, items, snapshot?, splitAfter?} -> {read, stale, stats?, plugin?}
const { cst } = require("./helpers.js");
const { CosmosClient } = require("@azure/cosmos");

async function main() {
  const job = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const endpoint = `http://127.0.0.1:${job.port}/`;
  const flow = job.mode === "write" ? new cst.SessionFlow() : job.snapshot ? cst.SessionFlow.restore(job.snapshot) : undefined;
  const plugins = flow ? flow.plugins() : undefined;
  const client = new CosmosClient({
    endpoint, key: job.key, consistencyLevel: "Session", plugins,
    connectionPolicy: job.region ? { preferredLocations: [job.region] } : undefined,
  });
  const out = job.mode === "write" ? await write(client, job) : await read(client, job);
  if (flow) Object.assign(out, { stats: flow.stats(), plugin: plugins.stats() });
  if (flow && job.mode === "write") out.snapshot = flow.snapshot();
  process.stdout.write(JSON.stringify(out) + "\n");
}

async function write(client, job) {
  const db = client.database("flow");
  const items = [];
  for (const coll of job.containers) {
    const container = db.container(coll);
    for (let i = 0; i < job.perContainer; i++) {
      const item = { id: `i${i}`, pk: `user-${i % 97}`, value: `${coll}-${i}` };
      await container.items.upsert(item);
      items.push(["flow", coll, item.id, item.pk, item.value]);
    }
  }
  return { items };
}

async function read(client, job) {
  const result = { read: 0, stale: 0 };
  for (const [n, [db, coll, id, pk, value]] of job.items.entries()) {
    if (n === job.splitAfter) await splitEverything(job);
    // item.read() answers a 404 (and a 404/1002) instead of throwing it.
    const response = await client.database(db).container(coll).item(id, pk).read();
    if (response.statusCode === 404 && response.substatus === cst.READ_SESSION_NOT_AVAILABLE) {
      result.unavailable = (result.unavailable || 0) + 1; // not read: never counted as stale
      continue;
    }
    const got = response.resource;
    result.read++;
    if (got === undefined || got.value !== value) result.stale++;
  }
  return result;
}

// Splits every range of every container the job reads (the server's admin API).
async function splitEverything(job) {
  const containers = new Set(job.items.map(([db, coll]) => `${db}/${coll}`));
  for (const name of containers) {
    const [db, coll] = name.split("/");
    for (const split of ["0", "1", "2", "3"]) {
      const res = await fetch(`http://127.0.0.1:${job.port}/_shim/partitions`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ db, coll, split }),
      });
      if (!res.ok) throw new Error(`split ${name} ${split}: ${res.status} ${await res.text()}`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack}\n`);
  process.exit(1);
});
