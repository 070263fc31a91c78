"use strict";
// What every test file shares: the package under test and the shared vectors.
// CST_JS_PACKAGE names the package directory (default: bindings/js/pkg, built by build.sh); the
// install test points it at a copy installed from the .tgz.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PACKAGE = process.env.CST_JS_PACKAGE || path.join(__dirname, "..", "pkg");
const cst = require(PACKAGE);

// Integers of 16 digits or more are read as strings (then BigInt by the tests): a double
// cannot hold the LSNs near 2^63 the vectors pin.
function loadCases(name, { bigints = false } = {}) {
  let text = fs.readFileSync(path.join(ROOT, "testdata", "vectors", `${name}.json`), "utf8");
  if (bigints) text = text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"');
  return JSON.parse(text).cases;
}

function hex(h) {
  return Uint8Array.from(Buffer.from(h, "hex"));
}

module.exports = { cst, ROOT, PACKAGE, loadCases, hex };
