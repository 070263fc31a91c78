// The admin API under /_shim/ (documented in README.md): regions, lag, stale mode and failover;
// partitions, splits and merges; faults; counters and the presented session tokens.
"use strict";

function query(req) { return new URL(req.url, "http://127.0.0.1").searchParams; }

// [status, body] for an admin request, or null when the path is not one of ours.
function admin(ctx, req, body) {
  const { account, cluster } = ctx;
  const path = req.url.split("?")[0].replace(/\/$/, "");
  const input = () => JSON.parse(body.toString("utf8") || "{}");
  const post = req.method === "POST";
  if (path === "/_shim/regions") {
    if (post) {
      const c = input();
      if (c.lag_ms !== undefined) cluster.setLag(c.lag_ms);
      if (c.stale !== undefined) cluster.stale = !!c.stale;
      if (c.failover) {
        account.state.write = (account.state.write + 1) % account.regions.length;
        cluster.failedOver();
      }
      if (c.down) for (const r of account.regions) r.down = c.down.includes(r.name);
    }
    return [200, {
      write: account.regions[account.state.write].name, stale: cluster.stale, lsn: cluster.writes,
      lag_ms: cluster.lag[account.regions.findIndex((_, i) => i !== account.state.write)] ?? 0,
      regions: account.regions.map((r, i) => ({ name: r.name, id: i, port: r.port, down: r.down, lag_ms: cluster.lag[i], reached: cluster.applied[i], pending: cluster.stores[i].pending.length })),
    }];
  }
  if (path === "/_shim/partitions") {
    const c = post ? input() : Object.fromEntries(query(req));
    if (post && c.db === undefined && c.partitions !== undefined) cluster.partitions = Math.max(1, c.partitions | 0);
    if (c.db === undefined) return [200, { partitions: cluster.partitions, containers: [...cluster.containers.values()].map((x) => cluster.describe(x)) }];
    const container = cluster.container(c.db, c.coll);
    if (!container) {
      // Not created yet: its ranges when it is.
      if (post && c.partitions !== undefined) { cluster.planned.set(`${c.db}/${c.coll}`, Math.max(1, c.partitions | 0)); return [200, { planned: c.partitions }]; }
      return [404, { message: `no container ${c.db}/${c.coll}` }];
    }
    try {
      if (post && c.partitions !== undefined) cluster.grow(container, c.partitions | 0);
      if (post && c.split !== undefined) container.split(String(c.split));
      if (post && c.merge !== undefined) container.merge(String(c.merge[0]), String(c.merge[1]));
    } catch (e) {
      return [400, { message: e.message }];
    }
    return [200, cluster.describe(container)];
  }
  if (path === "/_shim/counters") {
    if (post && input().reset) cluster.resetCounters();
    const n = parseInt(query(req).get("last") || "50", 10);
    return [200, {
      regions: cluster.regionCounters,
      ranges: Object.fromEntries([...cluster.containers.values()].map((x) => [x.key, Object.fromEntries([...x.ranges.values()].map((r) => [r.id, r.counters]))])),
      presented: cluster.presented.slice(-n),
    }];
  }
  if (path === "/_shim/faults" && post) {
    const f = input();
    f.times = f.times === undefined ? 1 : f.times;
    ctx.faults.push(f);
    return [200, { ok: true }];
  }
  if (path === "/_shim/stats") return [200, ctx.stats];
  if (path === "/_shim/reset") {
    ctx.resetStats();
    ctx.faults.length = 0;
    cluster.resetCounters();
    return [200, { ok: true }];
  }
  return null;
}

module.exports = { admin };
