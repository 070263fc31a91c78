// The token inspector: a static page over the package's browser build (cosmos-session-token/web).
// Every token rule — parsing, comparing and its explanation, merging, converting, effective
// partition keys, routing — is the package's (the Rust core as WebAssembly). This module only reads
// the inputs, calls the package and renders what it returns.
//
// build.sh bundles this module with the package into one classic script (inspector.js) with the
// .wasm inlined as bytes: a page opened from file:// can neither fetch() the .wasm nor load ES
// modules (Chromium refuses module scripts from file:// origins), so nothing is loaded at run time.
import init, {
  SessionToken,
  SessionTokenError,
  RoutingMap,
  merge,
  convert,
  constants,
  effectivePartitionKey,
  tokenForPartitionKey,
} from "cosmos-session-token/web";
import wasmBytes from "cosmos-session-token/web/cosmos_session_token_bg.wasm";

const $ = (id) => document.getElementById(id);

// ---- rendering helpers (DOM only) ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function show(target, ...nodes) {
  target.replaceChildren(...nodes.flat().filter(Boolean));
}

function hint(text) {
  return el("p", { class: "hint" }, text);
}

function copyable(text, id) {
  const code = el("code", { class: "token", id }, text);
  const button = el("button", { type: "button", class: "copy", title: "Copy" }, "copy");
  button.addEventListener("click", () => {
    navigator.clipboard?.writeText(text).then(
      () => (button.textContent = "copied"),
      () => (button.textContent = "select and copy"),
    );
  });
  return el("span", { class: "copyable" }, code, " ", button);
}

// A UTF-8 byte offset (what the core reports) as an index into the JavaScript string.
function charIndexOfByteOffset(text, offset) {
  const enc = new TextEncoder();
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= offset) break;
    bytes += enc.encode(ch).length;
    i += ch.length;
  }
  return i;
}

// A refusal of the package: its code, category, position and message, the input marked there.
function errorBox(e, input, id) {
  if (!(e instanceof SessionTokenError)) {
    return el("div", { class: "error", id, role: "alert" }, el("b", {}, "Unexpected error: "), String(e));
  }
  const facts = el(
    "dl",
    { class: "facts" },
    el("dt", {}, "code"),
    el("dd", {}, el("code", { class: "err-code" }, e.code)),
    el("dt", {}, "category"),
    el("dd", {}, e.category),
  );
  if (e.position) {
    facts.append(
      el("dt", {}, "position"),
      el(
        "dd",
        { class: "err-position" },
        `segment ${e.position.segment === null ? "— (the whole input)" : e.position.segment}, byte offset ${e.position.offset}`,
      ),
    );
  }
  if (e.rangeId !== undefined) facts.append(el("dt", {}, "range"), el("dd", { class: "err-range" }, e.rangeId));
  const box = el(
    "div",
    { class: "error", id, role: "alert" },
    el("p", { class: "err-message" }, e.message),
    facts,
  );
  if (e.position && typeof input === "string" && input.length) {
    const at = charIndexOfByteOffset(input, e.position.offset);
    const ch = input.slice(at, at + 1) || " ";
    box.append(
      el(
        "pre",
        { class: "err-input" },
        input.slice(0, at),
        el("mark", { title: `byte ${e.position.offset}` }, ch === "\n" ? "⏎\n" : ch),
        input.slice(at + 1),
      ),
    );
  }
  return box;
}

function attempt(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

// ---- reading the inputs ----

// Lines such as `x-ms-session-token: 0:1#5` (HTTP dumps, SDK logs) or `"x-ms-session-token":
// "0:1#5"` (JSON): the header's values in order. Finding a header in text, not reading tokens.
function headerValues(text, name) {
  const re = new RegExp(`["']?${name}["']?[ \\t]*[:=][ \\t]*["']?([^"'\\r\\n]*?)["']?[ \\t]*,?[ \\t]*\\r?$`, "gim");
  return [...text.matchAll(re)].map((m) => m[1].trim()).filter((v) => v.length);
}

function readToken(text, lenient) {
  const trimmed = text.trim();
  if (!trimmed) return { empty: true };
  if (lenient) {
    const r = attempt(() => SessionToken.parseLenient(text));
    return r.error ? { error: r.error, text } : { token: r.value.token, warnings: r.value.warnings, text };
  }
  const r = attempt(() => SessionToken.parse(trimmed));
  return r.error ? { error: r.error, text: trimmed } : { token: r.value, warnings: [], text: trimmed };
}

// ---- the sections ----

function renderStatus(which, r) {
  const target = $(`status-${which.toLowerCase()}`);
  if (r.empty) return show(target);
  if (r.error) return show(target, errorBox(r.error, r.text, `error-${which.toLowerCase()}`));
  const t = r.token;
  const parts = [
    el("span", { class: "ok" }, `${which}: ${t.length} segment${t.length === 1 ? "" : "s"}, ${t.encodedLength} bytes`),
  ];
  if (r.warnings.length) {
    parts.push(
      el(
        "ul",
        { class: "warnings" },
        r.warnings.map((w) => el("li", {}, `${w.code}: ${w.message}`)),
      ),
    );
  }
  show(target, parts);
}

const ORDER_TEXT = {
  equal: "A and B carry the same progress.",
  less: "A is older than B: B has everything A has, and more.",
  greater: "A is newer than B: B lacks part of what A has.",
  concurrent: "A and B are concurrent: each lacks part of the other.",
};

function lackList(lacks, id) {
  return el(
    "ul",
    { class: "lacks", id },
    lacks.map((l) => el("li", { "data-range": l.rangeId, "data-region": l.region ?? "", "data-kind": l.kind }, l.text)),
  );
}

function renderCompare(a, b, comparison) {
  const out = $("compare-out");
  if (!a.token || !b.token) {
    return show(out, hint(a.token || b.token ? "Paste a second token to compare." : "Paste A and B."));
  }
  if (comparison.error) return show(out, errorBox(comparison.error, undefined, "compare-error"));
  const c = comparison.value;
  const why = el("div", { class: "why", id: "why" });
  if (c.bLacks.length) {
    why.append(
      el(
        "p",
        { class: "verdict bad" },
        "B is behind what A requires: a read sending A, served where the progress is B, is not satisfied there — the service answers 404 with sub-status ",
        el("code", {}, String(constants().READ_SESSION_NOT_AVAILABLE)),
        " (read session not available) until that replica catches up, or the SDK retries elsewhere. B lacks:",
      ),
      lackList(c.bLacks, "b-lacks"),
    );
  } else {
    why.append(
      el(
        "p",
        { class: "verdict good" },
        "B has everything A requires: a read sending A is satisfied where the progress is B (no 404/1002 from session progress).",
      ),
    );
  }
  const other = el("div", { class: "other" });
  if (c.aLacks.length) {
    other.append(el("p", {}, "A lacks (what B has beyond A):"), lackList(c.aLacks, "a-lacks"));
  }
  show(out, el("p", { class: "order", id: "order", "data-order": c.order }, el("b", {}, c.order), " — ", ORDER_TEXT[c.order]), why, other);
}

// Which (range, region) cells of a token's table the other token is ahead of, from the package's
// explanation: key "range|region" (region "" for the range, its version or global LSN), value
// the lacks.
function lackIndex(lacks) {
  const m = new Map();
  for (const l of lacks || []) {
    const key = `${l.rangeId}|${l.kind === "region" ? l.region : ""}`;
    m.set(key, [...(m.get(key) || []), l]);
  }
  return m;
}

function renderSegments(tokens, comparison) {
  const out = $("segments-out");
  const present = tokens.filter(([, r]) => r.token);
  if (!present.length) return show(out, hint("Paste a token."));
  const c = comparison && comparison.value;
  const lacksOf = { A: lackIndex(c && c.aLacks), B: lackIndex(c && c.bLacks) };
  const table = el(
    "table",
    { id: "segments-table" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["token", "range", "format", "version", "global LSN", "region", "region LSN", "behind the other by", "segment"].map((h) =>
          el("th", { scope: "col" }, h),
        ),
      ),
    ),
  );
  const body = el("tbody");
  for (const [which, r] of present) {
    const lacks = lacksOf[which];
    const seen = new Set();
    for (const s of r.token.segments) {
      seen.add(s.rangeId);
      const rangeLacks = lacks.get(`${s.rangeId}|`) || [];
      const rows = s.regions.length ? s.regions : [null];
      rows.forEach((reg, i) => {
        const regionLacks = (reg && lacks.get(`${s.rangeId}|${reg.id}`)) || [];
        const first = i === 0;
        const behind = [...(first ? rangeLacks : []), ...regionLacks];
        body.append(
          el(
            "tr",
            {
              class: behind.length ? "behind" : undefined,
              "data-token": which,
              "data-range": s.rangeId,
              "data-region": reg ? reg.id : "",
            },
            el("td", {}, which),
            el("td", {}, s.rangeId),
            el("td", {}, first ? s.format : ""),
            el("td", { class: first && rangeLacks.some((l) => l.kind === "version") ? "lagging" : undefined }, first ? (s.version === null ? "—" : String(s.version)) : ""),
            el("td", { class: first && rangeLacks.some((l) => l.kind === "global_lsn") ? "lagging" : undefined }, first ? String(s.globalLsn) : ""),
            el("td", {}, reg ? String(reg.id) : "—"),
            el("td", { class: regionLacks.length ? "lagging" : undefined }, reg ? String(reg.lsn) : ""),
            el("td", { class: "behind-by" }, behind.map((l) => l.text).join("; ")),
            el("td", {}, first ? el("code", {}, s.text) : ""),
          ),
        );
      });
    }
    // Ranges the other token has and this one does not.
    for (const l of [...lacks.values()].flat()) {
      if (l.kind === "range" && !seen.has(l.rangeId)) {
        body.append(
          el(
            "tr",
            { class: "behind absent", "data-token": which, "data-range": l.rangeId, "data-region": "" },
            el("td", {}, which),
            el("td", {}, l.rangeId),
            el("td", { colspan: 5 }, "absent"),
            el("td", { class: "behind-by" }, l.text),
            el("td", {}, ""),
          ),
        );
      }
    }
  }
  table.append(body);
  show(out, table);
}

function renderMerge(a, b) {
  const out = $("merge-out");
  const present = [a, b].filter((r) => r.token);
  if (!present.length) return show(out, hint("Paste a token."));
  const parts = [];
  if (present.length === 2) {
    const m = attempt(() => merge([a.token, b.token], { regionMismatch: $("region-mismatch").value }));
    parts.push(el("h3", {}, "A merged with B (the least token at least as new as both)"));
    parts.push(m.error ? errorBox(m.error, undefined, "merge-error") : el("p", {}, copyable(String(m.value), "merged")));
  }
  parts.push(el("h3", {}, "Converted"));
  const rows = [];
  for (const [which, r] of [["A", a], ["B", b]]) {
    if (!r.token) continue;
    for (const to of ["vector", "simple"]) {
      const c = attempt(() => convert(r.token, to));
      rows.push(
        el(
          "tr",
          {},
          el("td", {}, which),
          el("td", {}, to === "simple" ? "simple (SDK v1; drops versions and regions)" : "vector (SDK v2 and later)"),
          el("td", {}, c.error ? errorBox(c.error) : copyable(c.value, `convert-${which.toLowerCase()}-${to}`)),
        ),
      );
    }
  }
  parts.push(el("table", { id: "convert-table" }, el("tbody", {}, rows)));
  show(out, parts);
}

function renderRoute(a, b) {
  const out = $("route-out");
  const valueText = $("pk-value").value.trim();
  if (!valueText) return show(out, hint("Type a partition key value."));
  let value;
  try {
    value = JSON.parse(valueText);
  } catch (e) {
    return show(out, el("div", { class: "error", id: "route-error" }, `The partition key is not JSON: ${e.message}. A string needs quotes: "user-42".`));
  }
  // The definition from the three fields; the EPK options are the same fields (MultiHash: one
  // level per path). The package checks both.
  const paths = $("pk-paths").value.split(",").map((p) => p.trim()).filter((p) => p.length);
  const definition = { paths, kind: $("pk-kind").value, version: Number($("pk-version").value) };
  const options = { kind: definition.kind, version: definition.version, levels: definition.kind === "MultiHash" ? paths.length : undefined };
  const epk = attempt(() => effectivePartitionKey(value, options));
  if (epk.error) return show(out, errorBox(epk.error, undefined, "route-error"));
  const parts = [el("p", {}, "EPK: ", copyable(epk.value, "epk"))];
  const rangesText = $("pkranges").value.trim();
  if (!rangesText) {
    parts.push(hint("Paste the container's pkranges body to find the range."));
    return show(out, parts);
  }
  const map = attempt(() => new RoutingMap(rangesText));
  if (map.error) {
    parts.push(errorBox(map.error, undefined, "route-error"));
    return show(out, parts);
  }
  const range = attempt(() => map.value.rangeFor(epk.value));
  if (range.error) {
    parts.push(errorBox(range.error, undefined, "route-error"));
  } else {
    const r = range.value;
    parts.push(
      el(
        "p",
        { id: "range" },
        "Range ",
        el("b", { id: "range-id" }, r.id),
        ` of ${map.value.size}: [${r.minInclusive === "" ? '""' : r.minInclusive}, ${r.maxExclusive})`,
        r.parents.length ? ` (parents ${r.parents.join(", ")})` : "",
      ),
    );
    for (const [which, t] of [["A", a], ["B", b]]) {
      if (!t.token) continue;
      const sent = attempt(() => tokenForPartitionKey(t.token, value, map.value, definition));
      parts.push(
        el(
          "p",
          { class: "send" },
          `${which}: the token to send for this key: `,
          sent.error
            ? errorBox(sent.error, undefined, `route-token-error-${which.toLowerCase()}`)
            : sent.value === undefined
              ? el("span", { id: `send-${which.toLowerCase()}` }, `none (${which} has no progress for this range or its parents: send no header)`)
              : copyable(String(sent.value), `send-${which.toLowerCase()}`),
        ),
      );
    }
  }
  map.value.free();
  show(out, parts);
}

// ---- wiring ----

let current = [];

function update() {
  for (const [, r] of current) r.token?.free();
  const lenient = $("lenient").value === "lenient";
  const a = readToken($("token-a").value, lenient);
  const b = readToken($("token-b").value, lenient);
  current = [["A", a], ["B", b]];
  renderStatus("A", a);
  renderStatus("B", b);
  const comparison = a.token && b.token ? attempt(() => a.token.compareExplained(b.token)) : undefined;
  renderCompare(a, b, comparison);
  renderSegments(current, comparison);
  renderMerge(a, b);
  renderRoute(a, b);
  document.body.dataset.updated = String(Number(document.body.dataset.updated || 0) + 1);
}

function extract() {
  const text = $("dump").value;
  const values = headerValues(text, "x-ms-session-token");
  const substatus = headerValues(text, "x-ms-substatus");
  const notes = [];
  if (!values.length) {
    notes.push("No x-ms-session-token lines found.");
  } else {
    $("token-a").value = values[0];
    $("token-b").value = values[1] ?? "";
    notes.push(
      `${values.length} x-ms-session-token value${values.length === 1 ? "" : "s"} found: the first is A` +
        (values.length > 1 ? ", the second B" : "") +
        (values.length > 2 ? ` (${values.length - 2} more ignored)` : "") +
        ".",
    );
  }
  const rsna = String(constants().READ_SESSION_NOT_AVAILABLE);
  if (substatus.includes(rsna)) notes.push(`The dump has x-ms-substatus: ${rsna} (read session not available).`);
  show($("dump-status"), el("span", { id: "dump-note" }, notes.join(" ")));
  update();
}

async function main() {
  try {
    await init({ module_or_path: wasmBytes });
  } catch (e) {
    const box = $("load-error");
    box.hidden = false;
    box.textContent = `The WebAssembly module did not load: ${e && e.message ? e.message : e}`;
    document.body.dataset.state = "failed";
    return;
  }
  $("version").textContent = constants().VERSION;
  for (const id of ["token-a", "token-b", "pk-value", "pk-paths", "pkranges"]) $(id).addEventListener("input", update);
  for (const id of ["lenient", "region-mismatch", "pk-kind", "pk-version"]) $(id).addEventListener("change", update);
  $("extract").addEventListener("click", extract);
  update();
  document.body.dataset.state = "ready";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
