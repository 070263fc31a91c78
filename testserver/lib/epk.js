// Effective partition keys (EPKs): where the service places an item in the hash space "".."FF".
// A port of core/src/partition_key (the byte encodings and MurmurHash3 variants the service uses),
// checked against testdata/vectors/epk.json by test/epk.test.js. The server needs its own copy
// because it is JavaScript and must place items exactly where SDKs route them (they hash too).
//   Hash V1: MurmurHash3 x86_32 of the values (strings cut to 100 UTF-16 units, 0x00-terminated),
//            rendered as the binary-encoded hash number followed by the binary-encoded values.
//   Hash V2: MurmurHash3 x64_128 of the values (strings 0xFF-terminated), bytes reversed, top two
//            bits cleared: 32 hex digits.  MultiHash: one V2 hash per component, concatenated.
"use strict";

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;

function rotl32(x, r) { return ((x << r) | (x >>> (32 - r))) >>> 0; }
function mul32(a, b) { return Math.imul(a, b) >>> 0; }

function murmur3_32(bytes, seed = 0) {
  let h1 = seed >>> 0;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  const blocks = bytes.length - (bytes.length % 4);
  for (let i = 0; i < blocks; i += 4) {
    let k1 = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    k1 = mul32(rotl32(mul32(k1, c1), 15), c2);
    h1 ^= k1;
    h1 = (mul32(rotl32(h1 >>> 0, 13), 5) + 0xe6546b64) >>> 0;
  }
  if (bytes.length > blocks) {
    let k1 = 0;
    for (let i = blocks; i < bytes.length; i++) k1 |= bytes[i] << (8 * (i - blocks));
    k1 = mul32(rotl32(mul32(k1 >>> 0, c1), 15), c2);
    h1 ^= k1;
  }
  h1 = (h1 ^ bytes.length) >>> 0;
  h1 ^= h1 >>> 16; h1 = mul32(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13; h1 = mul32(h1, 0xc2b2ae35);
  return (h1 ^ (h1 >>> 16)) >>> 0;
}

function rotl64(x, r) { return ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M64; }
function fmix64(k) {
  k ^= k >> 33n; k = (k * 0xff51afd7ed558ccdn) & M64;
  k ^= k >> 33n; k = (k * 0xc4ceb9fe1a85ec53n) & M64;
  return k ^ (k >> 33n);
}
function le64(bytes, at, n) {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
  return v;
}

// MurmurHash3 x64_128, seed 0: [low, high] as BigInts.
function murmur3_128(bytes) {
  const c1 = 0x87c37b91114253d5n, c2 = 0x4cf5ad432745937fn;
  let h1 = 0n, h2 = 0n;
  const blocks = bytes.length - (bytes.length % 16);
  for (let i = 0; i < blocks; i += 16) {
    let k1 = le64(bytes, i, 8), k2 = le64(bytes, i + 8, 8);
    k1 = (rotl64((k1 * c1) & M64, 31) * c2) & M64; h1 ^= k1;
    h1 = ((rotl64(h1, 27) + h2) * 5n + 0x52dce729n) & M64;
    k2 = (rotl64((k2 * c2) & M64, 33) * c1) & M64; h2 ^= k2;
    h2 = ((rotl64(h2, 31) + h1) * 5n + 0x38495ab5n) & M64;
  }
  const tail = bytes.length - blocks;
  if (tail > 8) {
    let k2 = le64(bytes, blocks + 8, tail - 8);
    k2 = (rotl64((k2 * c2) & M64, 33) * c1) & M64; h2 ^= k2;
  }
  if (tail > 0) {
    let k1 = le64(bytes, blocks, Math.min(tail, 8));
    k1 = (rotl64((k1 * c1) & M64, 31) * c2) & M64; h1 ^= k1;
  }
  const len = BigInt(bytes.length);
  h1 ^= len; h2 ^= len;
  h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64;
  h1 = fmix64(h1); h2 = fmix64(h2);
  h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64;
  return [h1, h2];
}

const MARK = { undefined: 0x00, null: 0x01, false: 0x02, true: 0x03, number: 0x05, string: 0x08 };

// A JSON partition-key value as components: an array is a hierarchical key; {} is "undefined".
function components(value) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((c) => {
    if (c === null || typeof c === "string" || typeof c === "number" || typeof c === "boolean") return c;
    if (c === undefined || (typeof c === "object" && !Array.isArray(c) && Object.keys(c).length === 0)) return undefined;
    throw new Error("a partition key component is a string, number, boolean, null or {}");
  });
}

function doubleLE(n) { const b = Buffer.alloc(8); b.writeDoubleLE(n, 0); return [...b]; }

function forHashing(c, stringEnd, out) {
  if (c === true) out.push(MARK.true);
  else if (c === false) out.push(MARK.false);
  else if (c === null) out.push(MARK.null);
  else if (c === undefined) out.push(MARK.undefined);
  else if (typeof c === "number") { out.push(MARK.number); out.push(...doubleLE(c)); }
  else { out.push(MARK.string); out.push(...Buffer.from(c, "utf8")); out.push(stringEnd); }
}

function hex(bytes) { return Buffer.from(bytes).toString("hex").toUpperCase(); }

function v2Hex(bytes) {
  const [low, high] = murmur3_128(bytes);
  const out = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((low >> (8n * i)) & 0xffn));
  for (let i = 0n; i < 8n; i++) out.push(Number((high >> (8n * i)) & 0xffn));
  out.reverse();
  out[0] &= 0x3f;
  return hex(out);
}

// Cuts a string to 100 UTF-16 units; a cut marks itself with U+FFFD when there is room.
function truncateV1(s) {
  let units = 0, i = 0;
  for (const ch of s) {
    const len = ch.length;
    if (units + len > 100) {
      let cut = s.slice(0, i);
      if (units < 100) cut += "\uFFFD";
      return cut;
    }
    units += len; i += len;
  }
  return s;
}

// The order-preserving binary encoding of a number (Hash V1's EPK prefix and number values).
function numberBinary(n, out) {
  out.push(MARK.number);
  const b = Buffer.alloc(8); b.writeDoubleBE(n, 0);
  const bits = b.readBigUInt64BE(0);
  let payload = bits < (1n << 63n) ? bits ^ (1n << 63n) : ((~bits) + 1n) & M64;
  out.push(Number(payload >> 56n));
  payload = (payload << 8n) & M64;
  let byte = 0, first = true;
  while (payload !== 0n) {
    if (!first) out.push(byte);
    first = false;
    byte = Number(payload >> 56n) | 0x01;
    payload = (payload << 7n) & M64;
  }
  out.push(byte & 0xfe);
}

function binaryV1(c, out) {
  if (typeof c === "string") {
    out.push(MARK.string);
    const bytes = Buffer.from(c, "utf8");
    const short = bytes.length <= 100;
    const kept = short ? bytes : bytes.subarray(0, 101);
    for (const b of kept) out.push((b + 1) & 0xff);
    if (short) out.push(0x00);
  } else if (typeof c === "number") numberBinary(c, out);
  else forHashing(c, 0, out);
}

// The EPK (upper-case hex) of `value` under `definition` = {kind: "Hash"|"MultiHash", version, paths}.
function effectivePartitionKey(value, definition) {
  const def = definition || {};
  const kind = String(def.kind || "Hash").toLowerCase() === "multihash" ? "MultiHash" : "Hash";
  const version = def.version || 1;
  if (kind === "MultiHash" ? version !== 2 : version !== 1 && version !== 2) throw new Error(`${kind} version ${version} is not a partition-key definition`);
  const levels = kind === "MultiHash" ? (def.paths || []).length || components(value).length : 1;
  const parts = components(value);
  if (parts.length > levels) throw new Error(`${parts.length} components for a definition of ${levels} paths`);
  if (parts.length === 0) return "";
  if (parts.some((c) => typeof c === "number" && !Number.isFinite(c))) throw new Error("not a JSON number");
  if (kind === "MultiHash") {
    return parts.map((c) => { const b = []; forHashing(c, 0xff, b); return v2Hex(b); }).join("");
  }
  if (version === 2) {
    const b = [];
    for (const c of parts) forHashing(c, 0xff, b);
    return v2Hex(b);
  }
  const cut = parts.map((c) => (typeof c === "string" ? truncateV1(c) : c));
  const b = [];
  for (const c of cut) forHashing(c, 0x00, b);
  const out = [];
  numberBinary(murmur3_32(b, 0), out);
  for (const c of cut) binaryV1(c, out);
  return hex(out);
}

module.exports = { effectivePartitionKey, murmur3_32, murmur3_128, numberBinary, components };
