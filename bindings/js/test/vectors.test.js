"use strict";
// Every case of testdata/vectors/*.json that the other surfaces run, through the package's
// JavaScript API (the ops as bindings/python/tests/test_vectors.py and friends read them).
const test = require("node:test");
const assert = require("node:assert/strict");
const { cst, loadCases, hex } = require("./helpers.js");
const { SessionToken, SessionTokenError } = cst;

function throwsCode(fn, code, extra) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SessionTokenError, `expected a SessionTokenError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (extra) extra(caught);
  return caught;
}

function segmentShape(s) {
  return {
    range_id: s.rangeId,
    format: s.format,
    version: s.version,
    global_lsn: s.globalLsn,
    regions: s.regions.map((r) => ({ id: r.id, lsn: r.lsn })),
  };
}

// The vectors' numbers are JSON numbers; compare LSNs exactly as BigInt from the JSON text.
function expectedShape(seg) {
  return { ...seg, version: seg.version === null ? null : BigInt(seg.version), global_lsn: BigInt(seg.global_lsn), regions: seg.regions.map((r) => ({ id: r.id, lsn: BigInt(r.lsn) })) };
}

for (const c of loadCases("parse", { bigints: true })) {
  test(`parse ${c.id}`, () => {
    const lenient = c.mode === "lenient";
    if (c.error) {
      const e = throwsCode(() => SessionToken.parse(c.input, { lenient }), c.error.kind);
      assert.deepEqual(e.position, { segment: c.error.segment, offset: c.error.offset });
      const again = throwsCode(() => cst.parse(c.input, { lenient }), c.error.kind);
      assert.equal(again.message, e.message);
      return;
    }
    assert.equal(String(cst.parse(c.input, { lenient })), c.render);
    const { token, warnings } = lenient ? SessionToken.parseLenient(c.input) : { token: SessionToken.parse(c.input), warnings: [] };
    assert.equal(token.toString(), c.render);
    assert.equal(token.encodedLength, Buffer.byteLength(c.render));
    assert.deepEqual(warnings.map((w) => w.code), c.warnings || []);
    if (c.ok) {
      // LSNs compared exactly: the JSON text's digits, not a double.
      const raw = JSON.stringify(c.ok.segments);
      assert.deepEqual(token.segments.map(segmentShape), c.ok.segments.map(expectedShape), raw);
    }
  });
}

for (const c of loadCases("convert")) {
  test(`convert ${c.id}`, () => {
    assert.equal(cst.convert(c.input, c.to), c.expect);
    const t = SessionToken.parse(c.input);
    assert.equal(String(c.to === "simple" ? t.toSimple() : t.toVector()), c.expect);
    assert.equal(cst.convert(c.expect, c.to), c.expect);
  });
}

function mergeOptions(c) {
  const p = c.policy || {};
  return { regionMismatch: p.region_mismatch || "error", falseProgressProtection: p.false_progress_protection ?? true };
}

for (const c of loadCases("merge")) {
  test(`merge ${c.id}`, () => {
    const options = mergeOptions(c);
    if (c.error) {
      assert.equal(c.error, "region_mismatch");
      throwsCode(() => cst.merge(c.inputs, options), "region_mismatch", (e) => assert.equal(e.category, "incompatible"));
      return;
    }
    assert.equal(String(cst.merge(c.inputs, options)), c.expect);
    let acc = SessionToken.parse(c.inputs[0]);
    for (const other of c.inputs.slice(1)) acc = acc.merge(other, options);
    assert.equal(String(acc), c.expect);
    if (c.inputs.length === 2) {
      assert.ok(cst.merge([c.inputs[1], c.inputs[0]], options).equals(c.expect));
    }
  });
}

const MIRROR = { less: "greater", greater: "less", equal: "equal", concurrent: "concurrent" };
for (const c of loadCases("compare")) {
  test(`compare ${c.id}`, () => {
    const a = SessionToken.parse(c.a);
    const b = SessionToken.parse(c.b);
    assert.equal(a.compare(b), c.expect);
    assert.equal(b.compare(c.a), MIRROR[c.expect]);
    assert.equal(a.equals(b), c.expect === "equal");
    if (c.explain) {
      const x = a.compareExplained(b);
      assert.equal(x.order, c.expect);
      const lines = [...x.aLacks.map((l) => `A lacks ${l.text}`), ...x.bLacks.map((l) => `B lacks ${l.text}`)];
      assert.deepEqual(lines, c.explain);
      for (const l of [...x.aLacks, ...x.bLacks]) {
        if (l.kind === "global_lsn" || (l.kind === "region" && l.have !== null)) {
          assert.equal(typeof l.behind, "bigint");
          assert.equal(l.behind, l.need - l.have); // exact, even past 2^63
        }
      }
    }
  });
}

for (const c of loadCases("scope")) {
  test(`scope ${c.id}`, () => {
    const t = SessionToken.parse(c.token);
    if (c.error) {
      throwsCode(() => t.scope(c.range_id, c.parents), c.error);
      return;
    }
    const r = t.scope(c.range_id, c.parents);
    assert.equal(r === undefined ? null : String(r), c.expect);
  });
}

for (const c of loadCases("container")) {
  test(`container ${c.id}`, () => {
    const box = new cst.SessionContainer();
    c.steps.forEach((s, i) => {
      const where = `step ${i}`;
      switch (s.op) {
        case "capture":
          assert.equal(box.capture(s.name, s.rid, s.token, s.status, s.sub_status, { resourceType: s.resource_type || "docs" }), s.expect, where);
          break;
        case "forget_range":
          assert.equal(box.forgetRange(s.collection, s.range_id), s.expect, where);
          break;
        case "resolve": {
          const t = box.resolve(s.collection, s.range_id, s.parents);
          assert.equal(t === undefined ? null : String(t), s.expect, where);
          break;
        }
        case "resolve_all": {
          const t = box.resolveAll(s.collection);
          assert.equal(t === undefined ? null : String(t), s.expect, where);
          break;
        }
        case "clear":
          assert.equal(box.clear(s.collection), s.expect, where);
          break;
        default:
          assert.fail(`unknown op ${s.op}`);
      }
    });
    // The snapshot carries everything to a fresh container.
    const back = cst.SessionContainer.restore(box.snapshot());
    assert.equal(back.snapshot(), box.snapshot());
  });
}

const split = (r) => r.split(/-(.*)/s).slice(0, 2);
const FORMS = {
  text: (r) => r,
  object: (r) => ({ Range: { min: split(r)[0], max: split(r)[1], isMinInclusive: true, isMaxInclusive: false } }),
  json: (r) => JSON.stringify({ Range: { min: split(r)[0], max: split(r)[1] } }),
  pair: (r) => split(r),
  sdk: (r) => ({ minInclusive: split(r)[0], maxExclusive: split(r)[1] }),
};
for (const c of loadCases("feed_range")) {
  for (const [form, conv] of Object.entries(FORMS)) {
    // A text that is not MIN-MAX has no other form: the text form alone carries it.
    if (form !== "text" && ![...c.pairs.map((p) => p[0]), c.target].every((r) => r.includes("-"))) continue;
    test(`feed_range ${c.id} (${form})`, () => {
      const pairs = c.pairs.map(([r, t]) => [conv(r), t]);
      const target = conv(c.target);
      if (c.error === "no_overlapping_feed_range") {
        assert.equal(cst.latestForFeedRange(pairs, target), undefined);
        return;
      }
      if (c.error) {
        throwsCode(() => cst.latestForFeedRange(pairs, target), c.error);
        return;
      }
      assert.equal(String(cst.latestForFeedRange(pairs, target)), c.expect);
      assert.equal(String(cst.latestForFeedRange([...pairs].reverse(), target)), c.expect);
    });
  }
}

for (const c of loadCases("seal")) {
  test(`seal ${c.id}`, () => {
    if (c.op === "seal") {
      const key = hex(c.key_hex);
      const sealed = cst.seal(c.token, key, c.context);
      assert.equal(sealed, c.expect);
      assert.equal(String(cst.unseal(sealed, key, c.context)), c.token);
      return;
    }
    const keys = c.keys_hex.map(hex);
    if (c.error) {
      throwsCode(() => cst.unseal(c.sealed, keys, c.context), c.error);
    } else {
      assert.equal(String(cst.unseal(c.sealed, keys, c.context)), c.expect);
    }
  });
}

function levelsOf(c) {
  if (c.kind === "Hash") return undefined;
  return c.levels ?? (Array.isArray(c.value) ? c.value.length : 1);
}
for (const c of loadCases("epk")) {
  test(`epk ${c.id}`, () => {
    const options = { kind: c.kind, version: c.version, levels: levelsOf(c) };
    if (c.error) {
      throwsCode(() => cst.effectivePartitionKey(c.value, options), c.error);
      return;
    }
    assert.equal(cst.effectivePartitionKey(c.value, options), c.epk);
    if (c.range) assert.deepEqual(cst.feedRangeFromPartitionKey(c.value, options), { Range: c.range });
  });
}

for (const c of loadCases("web")) {
  const skip = c.op === "fingerprint" ? "session fingerprints belong to the session-state crate, not in the .wasm" : false;
  test(`web ${c.id}`, { skip }, () => {
    if (c.op === "cookie_keys") {
      const secrets = c.secrets_hex.map(hex);
      if (c.error) {
        throwsCode(() => cst.deriveCookieKeys(secrets), c.error);
      } else {
        assert.deepEqual(cst.deriveCookieKeys(secrets).map((k) => Buffer.from(k).toString("hex")), c.expect_hex);
      }
    } else if (c.op === "cookie_context") {
      assert.equal(cst.tokenCookieContext(c.framework, c.app, c.sid), c.expect);
    } else if (c.op === "cookie_header") {
      assert.equal(cst.tokenCookieHeader(c.name, c.value, { maxAge: c.max_age, secure: c.secure }), c.expect);
    } else {
      assert.fail(`unknown op ${c.op}`);
    }
  });
}

const ERRORS = JSON.parse(require("node:fs").readFileSync(require("node:path").join(require("./helpers.js").ROOT, "testdata/vectors/errors.json"), "utf8"));
function runErrorCase(c) {
  const keys = (c.keys_hex || []).map(hex);
  switch (c.op) {
    case "parse":
      return SessionToken.parse(c.input, { lenient: c.mode === "lenient" });
    case "merge":
      return cst.merge(c.inputs);
    case "scope":
      return SessionToken.parse(c.token).scope(c.range_id, c.parents);
    case "seal":
      return cst.seal(c.token, hex(c.key_hex), c.context, { maxBytes: c.max_bytes });
    case "unseal":
      return cst.unseal(c.sealed, keys, c.context, { maxBytes: c.max_bytes });
    case "latest":
      return cst.latestForFeedRange(c.pairs, c.target);
    case "capture":
      return new cst.SessionContainer().capture("dbs/d/colls/c", c.rid, c.token, c.status, 0, { resourceType: c.resource_type });
    case "restore":
      return cst.SessionContainer.restore(c.snapshot);
    default:
      throw new Error(`op ${c.op} is not in this package`);
  }
}
const NOT_HERE = new Set(["carrier", "state_open", "state_get", "state_write_unlocked"]);
for (const c of ERRORS.cases) {
  const skip = NOT_HERE.has(c.op) ? `${c.op}: not in the JavaScript package (SessionCarrier / session state)` : false;
  test(`errors ${c.id}`, { skip }, () => {
    const table = new Map(cst.ERROR_CODES);
    assert.equal(table.get(c.kind), c.category);
    if (c.category === "not_found") {
      assert.equal(runErrorCase(c), undefined); // a missing result is a value
      return;
    }
    throwsCode(() => runErrorCase(c), c.kind, (e) => {
      assert.equal(e.category, c.category);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "SessionTokenError");
    });
  });
}
