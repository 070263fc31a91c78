// Starts the server on 127.0.0.1 with a free port, waits until it answers, and stops it by PID.
"use strict";
const { spawn } = require("child_process");
const path = require("path");
const readline = require("readline");

async function startServer(args = []) {
  const child = spawn(process.execPath, [path.join(__dirname, "..", "server.js"), "--port", "0", ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const regions = {};
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start in 30 s")), 30000);
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^region (.+) (\d+)$/.exec(line);
      if (m) regions[m[1]] = parseInt(m[2], 10);
      if (line.startsWith("listening ")) { clearTimeout(timer); resolve(parseInt(line.split(" ")[1], 10)); }
    });
    child.on("exit", (code) => reject(new Error(`the server exited (${code})`)));
  });
  const server = { port, regions, pid: child.pid, stop: () => { try { process.kill(child.pid); } catch (e) { /* gone */ } } };
  server.url = (p, region) => `http://127.0.0.1:${region ? regions[region] : port}${p}`;
  // Plain REST calls (the server checks no signature in key mode).
  server.call = async (method, p, { body, headers = {}, region } = {}) => {
    const res = await fetch(server.url(p, region), { method, headers: Object.assign({ "content-type": "application/json" }, headers), body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  server.admin = async (p, body) => (await server.call(body === undefined ? "GET" : "POST", p, { body })).body;
  for (let i = 0; i < 100; i++) {
    try { await server.admin("/_shim/stats"); break; } catch (e) { await new Promise((r) => setTimeout(r, 50)); }
  }
  return server;
}

module.exports = { startServer, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
