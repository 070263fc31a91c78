"use strict";
// The token inspector in a real browser: Debian's chromium, headless, driven by puppeteer-core
// (which never downloads a browser). The page is opened from file:// as built by build.sh
// (CST_INSPECTOR_DIR, default target/dist/inspector); every request it makes is recorded and
// must be a file:// one of its own folder (offline). Screenshot: target/test-logs/inspector.png
// (CST_INSPECTOR_SCREENSHOT).
//   CHROMIUM=/path/to/chromium overrides /usr/bin/chromium.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const puppeteer = require("puppeteer-core");

const ROOT = path.resolve(__dirname, "..", "..", "..", "..");
const DIR = path.resolve(process.env.CST_INSPECTOR_DIR || path.join(ROOT, "target", "dist", "inspector"));
const PAGE = pathToFileURL(path.join(DIR, "index.html")).href;
const SHOT = process.env.CST_INSPECTOR_SCREENSHOT || path.join(ROOT, "target", "test-logs", "inspector.png");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// The read sent A; the replica that answered was at B: range 1's region 2 is 5 behind (45 > 40),
// while B is ahead in range 0 (concurrent).
const A = "0:1#100#1=20#2=30,1:1#50#1=10#2=45";
const B = "0:1#101#1=21#2=30,1:1#50#1=10#2=40";
// Two ranges split at EPK 1000…: "tenant-1" hashes (Hash V2) to 1B6E36CB… (range 1), "user-42" to
// 0756B433… (range 0).
const PKRANGES = JSON.stringify({
  _rid: "abc=",
  PartitionKeyRanges: [
    { id: "0", minInclusive: "", maxExclusive: "1000", parents: [] },
    { id: "1", minInclusive: "1000", maxExclusive: "FF", parents: [] },
  ],
  _count: 2,
});

let browser;
let page;
const requests = [];
const problems = [];

async function fill(id, text) {
  // Select what is there, then type over it (input events as a person's typing fires them).
  await page.focus(`#${id}`);
  await page.$eval(`#${id}`, (e) => e.select());
  await page.keyboard.press("Backspace");
  if (text) await page.type(`#${id}`, text, { delay: 0 });
}

// A paste: the value set at once and one input event, as a paste fires.
async function paste(id, text) {
  await page.$eval(
    `#${id}`,
    (e, t) => {
      e.focus();
      e.value = t;
      e.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste" }));
    },
    text,
  );
}

const text = (selector) => page.$eval(selector, (e) => e.textContent.replace(/\s+/g, " ").trim());
const texts = (selector) => page.$$eval(selector, (es) => es.map((e) => e.textContent.replace(/\s+/g, " ").trim()));

before(async () => {
  assert.ok(fs.existsSync(path.join(DIR, "index.html")), `${DIR}/index.html is missing: bindings/js/inspector/build.sh builds it`);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Tests run as root: Chromium's sandbox refuses root.
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(PAGE, { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.state !== "loading", { timeout: 20000 });
});

after(async () => {
  if (browser) await browser.close();
});

test("the page loads from file:// offline: the package's WebAssembly runs, nothing else is fetched", async () => {
  const state = await page.$eval("body", (b) => b.dataset.state);
  assert.equal(state, "ready", await text("#load-error").catch(() => ""));
  const version = await text("#version");
  assert.match(version, /^\d+\.\d+\.\d+/);
  const base = pathToFileURL(DIR).href + "/";
  const foreign = requests.filter((u) => !u.startsWith(base));
  assert.deepEqual(foreign, [], "requests outside the page's folder");
  assert.deepEqual(
    requests.map((u) => u.slice(base.length)).sort(),
    ["index.html", "inspector.css", "inspector.js"],
  );
  console.log(`browser: ${await browser.version()}; package ${version}`);
});

test("a bad token shows the core's code, position and message", async () => {
  await fill("token-a", "0:1#5,17:1#x1");
  await page.waitForSelector("#error-a");
  assert.equal(await text("#error-a .err-code"), "not_a_number");
  assert.equal(await text("#error-a .err-position"), "segment 1, byte offset 11");
  assert.equal(await text("#error-a .err-range"), "17");
  assert.match(await text("#error-a .err-message"), /\S/);
  // The input is shown with the byte the core points at marked.
  assert.equal(await text("#error-a .err-input mark"), "x");
  // Nothing to compare, no segments.
  assert.equal(await text("#segments-out"), "Paste a token.");
});

test("convert: simple to vector and back", async () => {
  await fill("token-a", "7:8,6:2008");
  await page.waitForSelector("#convert-a-vector");
  assert.equal(await text("#convert-a-vector"), "7:-2#8,6:-2#2008");
  assert.equal(await text("#convert-a-simple"), "7:8,6:2008");
  assert.equal(await text("#status-a"), "A: 2 segments, 10 bytes");
});

test("lenient parsing: an old SDK's token is normalised, each normalisation listed", async () => {
  await fill("token-a", "0:1#007#");
  await page.waitForSelector("#error-a");
  assert.equal(await text("#error-a .err-code"), "leading_zero");
  await page.select("#lenient", "lenient");
  await page.waitForSelector("#status-a .warnings");
  assert.match(await text("#status-a .ok"), /^A: 1 segment, 5 bytes$/);
  const warnings = await texts("#status-a .warnings li");
  assert.deepEqual(warnings.map((w) => w.split(":")[0]), ["leading_zero", "trailing_separator"]);
  assert.equal(await page.$eval("#segments-table tbody td:last-child code", (e) => e.textContent), "0:1#7");
  await page.select("#lenient", "strict");
});

test("one token: its segments, no comparison; a range B does not have is an absent row", async () => {
  await fill("token-a", "0:1#5,2:1#9");
  await fill("token-b", "");
  await page.waitForSelector("#segments-table");
  assert.equal(await text("#compare-out"), "Paste a second token to compare.");
  assert.equal(await page.$$eval("#segments-table tbody tr", (trs) => trs.length), 2);
  await fill("token-b", "0:1#5");
  await page.waitForSelector("#b-lacks");
  assert.deepEqual(await texts("#b-lacks li"), ["range 2: absent (needs 2:1#9)"]);
  assert.equal(await page.$eval("#order", (e) => e.dataset.order), "greater");
  const absent = await page.$$eval("#segments-table tr.absent", (trs) => trs.map((tr) => `${tr.dataset.token} ${tr.dataset.range}`));
  assert.deepEqual(absent, ["B 2"]);
  await fill("token-b", "");
});

test("a header dump: the x-ms-session-token lines become A and B, the 1002 is noted", async () => {
  await page.click("#dump-box summary");
  await paste(
    "dump",
    [
      "GET /dbs/db/colls/c/docs/item-1 HTTP/1.1",
      "x-ms-consistency-level: Session",
      `x-ms-session-token: ${A}`,
      "",
      "HTTP/1.1 404 Not Found",
      "x-ms-substatus: 1002",
      `x-ms-session-token: ${B}`,
    ].join("\r\n"),
  );
  await page.click("#extract");
  assert.equal(await page.$eval("#token-a", (e) => e.value), A);
  assert.equal(await page.$eval("#token-b", (e) => e.value), B);
  const note = await text("#dump-note");
  assert.match(note, /2 x-ms-session-token values found: the first is A, the second B\./);
  assert.match(note, /x-ms-substatus: 1002/);
  // An SDK's log as JSON, one value (B is emptied), and a header line with no value skipped.
  await paste("dump", `{"headers": {\n  "x-ms-session-token":\n  "x-ms-session-token": "${B}",\n  "x-ms-substatus": "0"\n}}`);
  await page.click("#extract");
  assert.equal(await page.$eval("#token-a", (e) => e.value), B);
  assert.equal(await page.$eval("#token-b", (e) => e.value), "");
  assert.equal(await text("#dump-note"), "1 x-ms-session-token value found: the first is A.");
});

test("two tokens: the explanation says range 1 region 2 of B is 5 behind", async () => {
  // Typed by hand this time.
  await fill("token-a", A);
  await fill("token-b", B);
  await page.waitForSelector("#b-lacks");
  assert.equal(await page.$eval("#order", (e) => e.dataset.order), "concurrent");
  assert.deepEqual(await texts("#b-lacks li"), ["range 1 region 2: LSN 40 < 45 (5 behind)"]);
  assert.match(await text("#why .verdict"), /B is behind what A requires.*404 with sub-status 1002/);
  assert.deepEqual(await texts("#a-lacks li"), [
    "range 0: global LSN 100 < 101 (1 behind)",
    "range 0 region 1: LSN 20 < 21 (1 behind)",
  ]);
});

test("the segments table: one row per range and region, B's lagging region marked", async () => {
  const rows = await page.$$eval("#segments-table tbody tr", (trs) =>
    trs.map((tr) => ({
      token: tr.dataset.token,
      range: tr.dataset.range,
      region: tr.dataset.region,
      behind: tr.classList.contains("behind"),
      cells: [...tr.cells].map((c) => c.textContent.trim()),
    })),
  );
  assert.deepEqual(
    rows.map((r) => `${r.token} ${r.range} ${r.region}${r.behind ? " behind" : ""}`),
    ["A 0 1 behind", "A 0 2", "A 1 1", "A 1 2", "B 0 1", "B 0 2", "B 1 1", "B 1 2 behind"],
  );
  const b12 = rows.find((r) => r.token === "B" && r.range === "1" && r.region === "2");
  assert.equal(b12.cells[6], "40");
  assert.equal(b12.cells[7], "range 1 region 2: LSN 40 < 45 (5 behind)");
  const a01 = rows.find((r) => r.token === "A" && r.range === "0" && r.region === "1");
  assert.deepEqual(a01.cells.slice(0, 5), ["A", "0", "vector", "1", "100"]);
  assert.equal(a01.cells[8], "0:1#100#1=20#2=30");
});

test("merge: the least token at least as new as both; a region mismatch is the core's error", async () => {
  assert.equal(await text("#merged"), "0:1#101#1=21#2=30,1:1#50#1=10#2=45");
  await fill("token-b", "0:1#100#4=7");
  await page.waitForSelector("#merge-error");
  assert.equal(await text("#merge-error .err-code"), "region_mismatch");
  await page.select("#region-mismatch", "union");
  await page.waitForSelector("#merged");
  assert.match(await text("#merged"), /4=7/);
  await page.select("#region-mismatch", "error");
  await fill("token-b", B);
  await page.waitForSelector("#merged");
});

test("partition key → EPK → range with a pkranges body, and the token to send for it", async () => {
  await fill("pk-value", '"tenant-1"');
  assert.equal(await text("#epk"), "1B6E36CBA1839DF91310617831CA7FAC");
  await paste("pkranges", PKRANGES);
  await page.waitForSelector("#range-id");
  assert.equal(await text("#range-id"), "1");
  assert.match(await text("#range"), /Range 1 of 2: \[1000, FF\)/);
  assert.equal(await text("#send-a"), "1:1#50#1=10#2=45");
  assert.equal(await text("#send-b"), "1:1#50#1=10#2=40");
  // The EPK of the Java SDK's published data, and the other range.
  await fill("pk-value", '"partitionKey"');
  assert.equal(await text("#epk"), "013AEFCF77FA271571CF665A58C933F1");
  assert.equal(await text("#range-id"), "0");
  assert.equal(await text("#send-a"), "0:1#100#1=20#2=30");
  // Version 1 hashing, then a value that is not JSON.
  await page.select("#pk-version", "1");
  assert.equal(await text("#epk"), "05C1E1B3D9CD2608716273756A756A706F4C667A00");
  await page.select("#pk-version", "2");
  await fill("pk-value", "user-42");
  assert.match(await text("#route-error"), /not JSON/);
  await fill("pk-value", '"tenant-1"');
  await page.waitForSelector("#range-id");
});

test("screenshot of the two-token explanation (CI artefact) and no page errors", async () => {
  await page.$eval("#compare", (e) => e.scrollIntoView());
  fs.mkdirSync(path.dirname(SHOT), { recursive: true });
  await page.screenshot({ path: SHOT, fullPage: true });
  assert.ok(fs.statSync(SHOT).size > 10000);
  console.log(`screenshot: ${SHOT}`);
  assert.deepEqual(problems, []);
});
