// The account's data plane across regions: containers and their ranges (partitions.js), one
// store per region (replicas.js), what each region has reached per range, replication lag, and
// the counters and presented tokens the admin API reports.
"use strict";

const { Container, segment, parseToken, counters } = require("./partitions");
const { Store, putDocument, putMetadata } = require("./replicas");

const PRESENTED_KEPT = 200;

class Cluster {
  constructor(account, options) {
    this.account = account;
    this.regions = account.regions;
    this.stores = this.regions.map((r) => new Store(r));
    this.containers = new Map(); // "db/coll" -> Container
    this.planned = new Map(); // "db/coll" -> ranges for a container not created yet
    this.partitions = Math.max(1, options.partitions || 1);
    this.stale = !!options.stale;
    this.lag = this.regions.map(() => options.lagMs || 0);
    this.views = this.regions.map(() => new Map()); // "db/coll|rangeId" -> {lsn, local}
    this.applied = this.regions.map(() => 0); // writes each region's store has applied
    this.writes = 0;
    this.presented = [];
    this.resetCounters();
  }

  start() { return Promise.all(this.stores.map((s) => s.start())); }

  resetCounters() {
    this.regionCounters = Object.fromEntries(this.regions.map((r) => [r.name, counters()]));
    for (const c of this.containers.values()) for (const r of c.ranges.values()) r.counters = counters();
    this.presented = [];
  }

  index(region) { return this.regions.indexOf(region); }
  writeIndex() { return this.account.state.write; }
  writable() { return this.account.state.multiWrite ? this.regions.map((_, i) => i) : [this.writeIndex()]; }

  // The container's ranges, created on first sight from the write store's definition.
  container(db, coll) {
    const key = `${db}/${coll}`;
    let c = this.containers.get(key);
    if (c) return c;
    const stored = this.stores[this.writeIndex()].collection(db, coll);
    if (!stored) return null;
    const meta = stored.read();
    c = new Container(key, meta._rid, meta.partitionKey, this.planned.get(key) || this.partitions);
    this.containers.set(key, c);
    return c;
  }

  forget(db, coll) {
    for (const key of [...this.containers.keys()]) {
      if (!(key.startsWith(`${db}/`) && (coll === undefined || key === `${db}/${coll}`))) continue;
      this.containers.get(key).dropped = true; // its pending replays are skipped
      this.containers.delete(key);
      for (const views of this.views) for (const k of [...views.keys()]) if (k.startsWith(`${key}|`)) views.delete(k);
    }
  }

  // What region i has reached of a range: its own record, else its parents' (a child starts
  // where its parents were).
  view(i, c, id) {
    const v = this.views[i].get(`${c.key}|${id}`);
    if (v) return v;
    const r = c.ranges.get(id);
    let best = { lsn: 0, local: {} };
    for (const p of (r && r.parents) || []) {
      const pv = this.view(i, c, p);
      if (pv.lsn > best.lsn) best = { lsn: pv.lsn, local: Object.assign({}, best.local, pv.local) };
    }
    return best;
  }

  reach(i, c, id, stamp) {
    const ids = new Set([id, ...c.heirs(id).map((r) => r.id)]);
    for (const x of ids) {
      const v = this.view(i, c, x);
      if (stamp.lsn > v.lsn) this.views[i].set(`${c.key}|${x}`, { lsn: stamp.lsn, local: Object.assign({}, v.local, stamp.local) });
    }
  }

  // The token segment region i answers for a range: its reached LSN, one local LSN per writable region.
  token(i, c, range) {
    const v = this.view(i, c, range.id);
    const local = {};
    for (const w of this.writable()) local[w] = v.local[w] || 0;
    return segment(range.id, range.version, v.lsn, local);
  }

  // A presented token against the ranges a read touches: the first range region i has not
  // reached, or null. Segments of a range's ancestors count for it.
  unreached(i, c, ranges, presented) {
    const wanted = parseToken(presented);
    for (const r of ranges) {
      let need = 0;
      for (const id of c.lineage(r.id)) if (wanted[id] && wanted[id].lsn > need) need = wanted[id].lsn;
      if (need > this.view(i, c, r.id).lsn) return r;
    }
    return null;
  }

  // A read region i serves for a range while it is behind the range's latest write.
  behind(i, c, range) { return this.view(i, c, range.id).lsn < range.lsn; }

  record(region, req, token, rangeIds) {
    this.presented.push({ token, region: region.name, method: req.method, path: req.url.split("?")[0], ranges: rangeIds });
    if (this.presented.length > PRESENTED_KEPT) this.presented.splice(0, this.presented.length - PRESENTED_KEPT);
  }

  count(region, ranges, name) {
    this.regionCounters[region.name][name] += 1;
    for (const r of ranges) r.counters[name] += 1;
  }

  // An item write applied by region w's store: the range's next token, and a replay of the
  // documents it changed into every other region after that region's lag.
  wrote(w, c, range, changed) {
    const stamp = c.advance(range, w);
    this.writes += 1;
    this.applied[w] += 1;
    this.regionCounters[this.regions[w].name].writes += 1;
    range.counters.writes += 1;
    this.reach(w, c, range.id, stamp);
    const [db, coll] = c.key.split("/");
    const from = this.stores[w];
    const docs = from.collection(db, coll);
    const copies = changed.map(({ id, partition }) => ({ id, partition, doc: docs ? structuredClone(docs.document(id, partition).read() || null) : null }));
    const ridCount = docs ? docs.documents._ridCount : 0;
    const data = (store) => { for (const x of copies) putDocument(store, db, coll, x.id, x.partition, x.doc, ridCount); };
    this.regions.forEach((_, i) => {
      if (i === w) return;
      if (!this.stale) data(this.stores[i]);
      this.stores[i].pending.push({ at: Date.now(), apply: () => {
        if (c.dropped) return;
        if (this.stale) data(this.stores[i]);
        this.applied[i] += 1;
        this.reach(i, c, range.id, stamp);
      } });
      this.schedule(i);
    });
    return stamp;
  }

  // Databases and containers are replicated at once, from the store that applied the change.
  wroteMetadata(w, db, coll) {
    this.writes += 1;
    this.regions.forEach((_, i) => {
      this.applied[i] += 1;
      if (i !== w) putMetadata(this.stores[w], this.stores[i], db, coll);
    });
  }

  // Applies region i's due replays and sets a timer for the next one. Lag -1: nothing is due.
  schedule(i) {
    const store = this.stores[i];
    clearTimeout(store.timer);
    store.timer = null;
    const lag = this.lag[i];
    if (lag < 0 && i !== this.writeIndex()) return;
    const now = Date.now();
    while (store.pending.length && (i === this.writeIndex() || store.pending[0].at + lag <= now)) store.pending.shift().apply();
    if (store.pending.length) {
      store.timer = setTimeout(() => this.schedule(i), Math.max(1, store.pending[0].at + lag - now));
      store.timer.unref();
    }
  }

  // Lag for every read region (a number) or by name ({"East US": 100}). Setting -1 lets the
  // region reach what was written before, and nothing after.
  setLag(lag) {
    this.regions.forEach((r, i) => {
      const ms = typeof lag === "number" ? lag : lag[r.name];
      if (ms === undefined) return;
      if (ms < 0) { while (this.stores[i].pending.length) this.stores[i].pending.shift().apply(); }
      this.lag[i] = ms;
      this.schedule(i);
    });
  }

  // Failover: the next region becomes the write region once it has applied every pending write
  // (the service would lose or wait for them; here nothing is lost). Tokens change version, as
  // the service's do when the write region changes.
  failedOver() {
    this.schedule(this.writeIndex());
    for (const c of this.containers.values()) for (const r of c.ranges.values()) r.version += 1;
  }

  // Splits ranges until the container has at least n, largest first (ranges only grow on the service).
  grow(c, n) {
    while (c.live().length < n) {
      const widest = c.live().reduce((a, b) => (b.hi - b.lo > a.hi - a.lo ? b : a));
      c.split(widest.id);
    }
  }

  describe(c) {
    return {
      container: c.key,
      definition: c.def,
      ranges: [...c.ranges.values()].map((r) => ({
        id: r.id, status: r.status, minInclusive: r.min, maxExclusive: r.max, parents: r.parents, version: r.version,
        lsn: r.lsn, counters: r.counters,
        reached: Object.fromEntries(this.regions.map((reg, i) => [reg.name, this.view(i, c, r.id).lsn])),
        tokens: r.status === "online" ? Object.fromEntries(this.regions.map((reg, i) => [reg.name, this.token(i, c, r)])) : undefined,
      })),
    };
  }
}

module.exports = { Cluster };
