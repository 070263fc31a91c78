// A container's partition-key ranges and their session state: the ranges laid over the hash
// space "".."FF" (ids are strings, as the service sends them), each with its own token
// (version, global LSN, local LSN per writing region); splits and merges keep the gone ranges
// (status "gone") so a token or a request naming them can be resolved to their live heirs.
"use strict";

const { numberBinary } = require("./epk");

// The hash space an EPK's leading bytes cover: V2/MultiHash hashes are 16 bytes with the top two
// bits clear (< 2^126); V1 EPKs begin with the binary-encoded 32-bit hash. Range bounds are laid
// evenly over that space, as the service lays a new container's physical partitions.
const V2_SPACE = 1n << 126n;
const V1_SPACE = 1n << 32n;

function isV1(def) {
  return String((def && def.kind) || "Hash").toLowerCase() !== "multihash" && ((def && def.version) || 1) === 1;
}

// A point of the hash space as an EPK string ("" at 0, "FF" at the end).
function render(point, def) {
  const space = isV1(def) ? V1_SPACE : V2_SPACE;
  if (point <= 0n) return "";
  if (point >= space) return "FF";
  if (isV1(def)) {
    const out = [];
    numberBinary(Number(point), out);
    return Buffer.from(out).toString("hex").toUpperCase();
  }
  return point.toString(16).toUpperCase().padStart(32, "0");
}

class Container {
  // `key` "db/coll"; `def` the partitionKey definition; `count` initial ranges; `regions` count.
  constructor(key, rid, def, count) {
    this.key = key;
    this.rid = rid;
    this.def = def || { paths: ["/id"], kind: "Hash", version: 2 };
    this.ranges = new Map(); // id -> range (live and gone)
    this.nextId = 0;
    const space = isV1(this.def) ? V1_SPACE : V2_SPACE;
    const n = BigInt(Math.max(1, count | 0));
    for (let i = 0n; i < n; i++) {
      this._add({ lo: (space * i) / n, hi: (space * (i + 1n)) / n, parents: [], version: 1, lsn: 0, local: {} });
    }
  }

  _add(r) {
    const range = Object.assign({ id: String(this.nextId++), status: "online", counters: counters() }, r);
    range.min = render(range.lo, this.def);
    range.max = render(range.hi, this.def);
    this.ranges.set(range.id, range);
    return range;
  }

  live() {
    return [...this.ranges.values()].filter((r) => r.status === "online").sort((a, b) => (a.lo < b.lo ? -1 : 1));
  }

  // The live range holding an EPK. Bounds compare as strings, as the service compares EPKs.
  rangeOf(epk) {
    for (const r of this.live()) if (epk >= r.min && (r.max === "FF" ? true : epk < r.max)) return r;
    return this.live()[0];
  }

  // Ids of `id`'s ancestors (a token for a parent still speaks for its children).
  lineage(id) {
    const out = [id];
    const r = this.ranges.get(id);
    for (const p of (r && r.parents) || []) out.push(...this.lineage(p));
    return out;
  }

  // Live ranges descending from `id` (itself when live).
  heirs(id) {
    return this.live().filter((r) => this.lineage(r.id).includes(id));
  }

  // A write: the range's next global LSN and the writing region's next local LSN.
  advance(range, regionId) {
    range.lsn += 1;
    range.local[regionId] = (range.local[regionId] || 0) + 1;
    return { lsn: range.lsn, local: Object.assign({}, range.local) };
  }

  // Splits a live range at its midpoint: two children that continue from its token.
  split(id) {
    const r = this.ranges.get(id);
    if (!r || r.status !== "online") throw new Error(`range ${id} is not a live range`);
    if (r.hi - r.lo < 2n) throw new Error(`range ${id} is too small to split`);
    const mid = (r.lo + r.hi) / 2n;
    r.status = "gone";
    const carry = { parents: [id], version: r.version, lsn: r.lsn, local: Object.assign({}, r.local) };
    return [this._add(Object.assign({ lo: r.lo, hi: mid }, carry, { local: Object.assign({}, r.local) })),
            this._add(Object.assign({ lo: mid, hi: r.hi }, carry, { local: Object.assign({}, r.local) }))];
  }

  // Merges two adjacent live ranges into one whose token continues from the larger of theirs.
  merge(a, b) {
    let [x, y] = [this.ranges.get(a), this.ranges.get(b)];
    if (!x || !y || x.status !== "online" || y.status !== "online") throw new Error("merge needs two live ranges");
    if (y.hi === x.lo) [x, y] = [y, x];
    if (x.hi !== y.lo) throw new Error(`ranges ${a} and ${b} are not adjacent`);
    x.status = "gone"; y.status = "gone";
    const local = Object.assign({}, x.local);
    for (const [k, v] of Object.entries(y.local)) local[k] = Math.max(local[k] || 0, v);
    return this._add({ lo: x.lo, hi: y.hi, parents: [x.id, y.id], version: Math.max(x.version, y.version) + 1, lsn: Math.max(x.lsn, y.lsn), local });
  }

  // GET …/pkranges: the live ranges with the fields SDKs read.
  pkranges() {
    return this.live().map((r) => ({
      id: r.id,
      _rid: `${this.rid}${r.id}`,
      _etag: `"${r.id}-${r.parents.join(".")}"`,
      minInclusive: r.min,
      maxExclusive: r.max,
      ridPrefix: Number(r.id),
      _self: `dbs/${this.key.split("/")[0]}/colls/${this.key.split("/")[1]}/pkranges/${r.id}/`,
      throughputFraction: 1 / this.live().length,
      status: "online",
      parents: r.parents.slice(),
      _ts: 0,
    }));
  }
}

function counters() {
  return { reads: 0, writes: 0, stale_reads: 0, read_session_unavailable: 0, gone: 0, write_forbidden: 0 };
}

// A session token segment: "id:version#lsn#region=local…".
function segment(id, version, lsn, local) {
  const regions = Object.keys(local).map(Number).sort((a, b) => a - b).map((k) => `#${k}=${local[k]}`).join("");
  return `${id}:${version}#${lsn}${regions}`;
}

// The presented token as {rangeId: {version, lsn}}; tolerant of the simple "id:lsn" form.
function parseToken(text) {
  const out = {};
  for (const s of String(text || "").split(",")) {
    const i = s.indexOf(":");
    if (i < 0) continue;
    const id = s.slice(0, i).trim();
    const parts = s.slice(i + 1).split("#");
    const lsn = parseInt(parts.length > 1 ? parts[1] : parts[0], 10);
    const version = parts.length > 1 ? parseInt(parts[0], 10) : -1;
    if (!Number.isFinite(lsn)) continue;
    if (!out[id] || out[id].lsn < lsn) out[id] = { version, lsn };
  }
  return out;
}

module.exports = { Container, segment, parseToken, counters, render };
