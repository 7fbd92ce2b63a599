// The adapter driven by VS Code's own DAP test client (@vscode/debugadapter-testsupport),
// and the extension's choice of adapter. Run: SCOPELINE_PYTHON=… npm test (after compile).
"use strict";
const { test, afterEach } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { DebugClient } = require("@vscode/debugadapter-testsupport");
const { adapterDescriptor } = require("../out/adapter.js");

const PYTHON = process.env.SCOPELINE_PYTHON || "python3";
const PROGRAM = [
  "import sys",
  "",
  "",
  "def work(n):",
  "    total = 0",
  "    for i in range(n):",
  "        total += i",
  "    return total",
  "",
  "",
  "print('result', work(int(sys.argv[1])))",
  "",
].join("\n");
const LOOP_LINE = 7;

let dc;

function program() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scopeline-dc-"));
  const file = path.join(dir, "prog.py");
  fs.writeFileSync(file, PROGRAM);
  return file;
}

async function client() {
  dc = new DebugClient(PYTHON, path.join(__dirname, "adapter.py"), "scopeline");
  dc.defaultTimeout = 30000;
  await dc.start();
  return dc;
}

function outputs(events, category) {
  return events.filter((e) => e.body.category === category).map((e) => e.body.output).join("");
}

afterEach(async () => {
  if (dc) {
    await dc.stop().catch(() => undefined);
    dc = undefined;
  }
});

test("a logpoint in a loop of N gives exactly N messages, and the program runs on", async () => {
  const file = program();
  const c = await client();
  const events = [];
  c.on("output", (e) => events.push(e));
  const done = c.waitForEvent("terminated", 60000);
  await Promise.all([
    c.waitForEvent("initialized").then(() => c.setBreakpointsRequest({
      source: { path: file }, breakpoints: [{ line: LOOP_LINE, logMessage: "i={i} total={total}" }],
    })).then((r) => {
      assert.ok(r.body.breakpoints[0].verified, r.body.breakpoints[0].message);
      assert.match(r.body.breakpoints[0].message, /runtime/);
      return c.configurationDoneRequest();
    }),
    c.launch({ program: file, args: ["12"] }),
  ]);
  await done;
  const expected = Array.from({ length: 12 }, (_, i) => `i=${i} total=${(i * (i - 1)) / 2}\n`);
  assert.strictEqual(outputs(events, "console"), expected.join(""));
  assert.strictEqual(outputs(events, "stdout"), "result 66\n");
});

test("an ordinary breakpoint stops, shows a local, and continues", async () => {
  const file = program();
  const c = await client();
  await c.hitBreakpoint({ program: file, args: ["3"] }, { path: file, line: LOOP_LINE });
  const stack = await c.stackTraceRequest({ threadId: 1 });
  const frame = stack.body.stackFrames[0];
  assert.strictEqual(frame.name, "work");
  const scopes = await c.scopesRequest({ frameId: frame.id });
  const vars = await c.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
  const n = vars.body.variables.find((v) => v.name === "n");
  assert.strictEqual(n.value, "3");
  await c.setBreakpointsRequest({ source: { path: file }, breakpoints: [] });
  await Promise.all([c.continueRequest({ threadId: 1 }), c.waitForEvent("terminated", 60000)]);
});

test("an unknown request gets an error response", async () => {
  const c = await client();
  await c.initializeRequest();
  await assert.rejects(c.send("frobnicate", {}), /unknown request 'frobnicate'/);
});

test("the extension uses the engine's adapter when it announces one, else starts its own", () => {
  assert.deepStrictEqual(adapterDescriptor({ host: "127.0.0.1", port: 4711 }, "py"),
    { kind: "server", host: "127.0.0.1", port: 4711 });
  assert.deepStrictEqual(adapterDescriptor({ port: null }, "py"),
    { kind: "executable", command: "py", args: ["-m", "scopeline.adapter"] });
  assert.deepStrictEqual(adapterDescriptor(undefined, "/venv/bin/python"),
    { kind: "executable", command: "/venv/bin/python", args: ["-m", "scopeline.adapter"] });
});
