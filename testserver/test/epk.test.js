// The server places items where SDKs route them only if its EPKs equal the shared vectors.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const path = require("path");
const { effectivePartitionKey, murmur3_32, murmur3_128 } = require("../lib/epk");

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "testdata", "vectors", "epk.json"), "utf8")).cases;

test("MurmurHash3 reference outputs", () => {
  assert.strictEqual(murmur3_32(Buffer.from(""), 1), 0x514e28b7);
  assert.strictEqual(murmur3_32(Buffer.from("Hello, world!"), 1234), 0xfaf6cdb3);
  assert.strictEqual(murmur3_32(Buffer.from("abc"), 0), 0xb3dd93fa);
  assert.deepStrictEqual(murmur3_128(Buffer.from("hello")), [0xcbd8a7b341bd9b02n, 0x5b1e906a48ae1d19n]);
});

test("the shared EPK vectors", () => {
  assert.ok(cases.length > 50);
  let checked = 0;
  for (const c of cases) {
    const def = { kind: c.kind, version: c.version, paths: Array.from({ length: c.levels || 1 }, (_, i) => `/p${i}`) };
    if (c.error) {
      assert.throws(() => effectivePartitionKey(c.value, def), undefined, c.id);
    } else {
      assert.strictEqual(effectivePartitionKey(c.value, def), c.epk, c.id);
    }
    checked += 1;
  }
  assert.strictEqual(checked, cases.length);
});
