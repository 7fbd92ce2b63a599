// End-to-end check of the Scopeline extension in a real VS Code (code-server) driven by
// playwright-core + the system Chromium. See README.md beside this file for the setup.
//
//   CS_URL   code-server URL              (default http://127.0.0.1:8765)
//   WS       workspace folder opened      (required; run.sh sets it) — must hold loop.py
//            and .vscode/launch.json (the "Trace" configuration with a tracepoint "i={i}")
//   SHOTS    where screenshots go         (default ./shots)
//   CHROMIUM chromium binary              (default: `command -v chromium`)
//   BP_LINE  line for the gutter breakpoint (default 7; 0 = none)
//
// Exit status 0 when every check passed; each check prints "ok"/"FAIL".
"use strict";
const { chromium } = require("playwright-core");
const { execSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const CS_URL = process.env.CS_URL || "http://127.0.0.1:8765";
const WS = process.env.WS;  // run.sh sets it
if (!WS) throw new Error("set WS to the workspace folder (run.sh does)");
const SHOTS = process.env.SHOTS || "shots";
const CHROMIUM = process.env.CHROMIUM || execSync("command -v chromium", { shell: "/bin/sh" }).toString().trim();
const BP_LINE = Number(process.env.BP_LINE ?? 7);

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`[${since()}] ${ok ? "ok  " : "FAIL"} ${name}${detail ? " — " + detail : ""}`);
}
async function shot(page, name) {
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file });
  console.log(`[${since()}]      screenshot ${file}`);
}
async function runCommand(page, title) {
  await page.keyboard.press("Control+Shift+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(">" + title);
  // pick the entry whose label is exactly the title
  const row = page.locator(".quick-input-list .monaco-list-row", {
    has: page.locator(".label-name", { hasText: new RegExp("^" + title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$") }),
  }).first();
  await row.waitFor({ state: "visible", timeout: 10000 });
  await row.click();
}
async function replText(page) {
  return (await page.locator(".repl .monaco-list-rows").allInnerTexts().catch(() => [])).join("\n");
}
async function waitFor(fn, timeout, step = 250) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, step));
  }
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => console.log("pageerror:", e.message));
  try {
    await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WS)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    // the explorer shows the workspace once the remote side is up
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: /^loop\.py$/ }).first()
      .waitFor({ timeout: 60000 });
    check("workbench loaded", true);

    // ---- 1. code lenses -------------------------------------------------------------------
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: /^loop\.py$/ }).first().click();
    await page.locator(".monaco-editor .view-lines").first().waitFor();
    const lens = page.locator(".contentWidgets .codelens-decoration a");
    const tLens = Date.now();
    await lens.first().waitFor({ timeout: 60000 }).catch(() => {});
    const lensTexts = await lens.allInnerTexts();
    check("code lenses shown", lensTexts.some((t) => /(runtime|compile-time|hybrid|unavailable)/.test(t)) &&
      lensTexts.some((t) => /^why$/.test(t.trim())),
      `${Date.now() - tLens} ms after open: ${JSON.stringify(lensTexts)}`);
    const decos = await page.locator(".contentWidgets .codelens-decoration").allInnerTexts();
    check("a lens over each function (total, main)", decos.length >= 2, JSON.stringify(decos));
    await shot(page, "01-code-lenses");

    // ---- "why" → markdown preview --------------------------------------------------------
    await lens.filter({ hasText: /^why$/ }).first().click();
    const previewTab = page.locator(".tabs-container .tab", { hasText: /Preview/ });
    await previewTab.first().waitFor({ timeout: 30000 }).catch(() => {});
    const previewTitle = (await previewTab.allInnerTexts()).join(" | ");
    // the preview's body is in a nested webview iframe: look for text in every frame
    const previewBody = await waitFor(async () => {
      for (const f of page.frames()) {
        if (f === page.mainFrame()) continue; // the workbench itself also shows the tab title
        const txt = await f.evaluate(() => document.body && document.body.innerText).catch(() => "");
        if (txt && /(runtime|compile-time|hybrid)/.test(txt) && /\brule\b/.test(txt) && /verdict/.test(txt)) return txt;
      }
      return "";
    }, 20000);
    check("why opens a markdown preview", previewTitle.length > 0 && previewBody.length > 0,
      `tab "${previewTitle}"; body: ${JSON.stringify(previewBody.slice(0, 300))}`);
    await shot(page, "02-why-preview");

    // back to loop.py
    await page.locator(".tabs-container .tab", { hasText: /^loop\.py/ }).first().click();
    await page.locator(".contentWidgets .codelens-decoration a").first().waitFor({ timeout: 10000 }).catch(() => {});

    const editor = page.locator(".editor-instance .monaco-editor").first();
    async function clickGutter(line) {
      const ln = editor.locator(".margin-view-overlays .line-numbers", { hasText: new RegExp(`^${line}$`) }).first();
      const lnBox = await ln.boundingBox();
      const margin = await editor.locator(".margin-view-overlays").boundingBox();
      // the glyph margin is the strip left of the line numbers
      await page.mouse.move(margin.x + 8, lnBox.y + lnBox.height / 2);
      await page.mouse.click(margin.x + 8, lnBox.y + lnBox.height / 2);
    }
    async function startTrace() {
      await runCommand(page, "Debug: Start Debugging");
      // if VS Code asks which configuration / debugger, choose "Trace"
      const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: /Trace/ }).first();
      if (await pick.isVisible().catch(() => false)) await pick.click();
      await page.locator(".repl").first().waitFor({ timeout: 30000 }).catch(() => {});
    }
    async function waitEnded(label) {
      const out = await waitFor(async () => { const t = await replText(page); return /total 6/.test(t) ? t : ""; }, 30000);
      check(`${label}: program ran to its end ("total 6")`, !!out);
      const ended = await waitFor(async () => (await page.locator(".debug-toolbar").isVisible().catch(() => false)) ? 0 : 1, 20000);
      check(`${label}: debug session ended`, !!ended);
      return out || (await replText(page));
    }
    const traceI = /i=0[\s\S]*i=1[\s\S]*i=2[\s\S]*i=3[\s\S]*i=4/;

    // ---- 2a. session 1: the "Trace" configuration, launch.json tracepoints only -----------------
    let tDebug = Date.now();
    await startTrace();
    let repl = await waitFor(async () => { const t = await replText(page); return /total 6/.test(t) ? t : ""; }, 30000) || (await replText(page));
    check("session 1: Debug Console shows tracepoint 1's messages i=0..i=4 (line 13)", traceI.test(repl),
      `${Date.now() - tDebug} ms after start`);
    check("session 1: Debug Console shows tracepoint 2's message acc=6 (line 8, same file)", /acc=6/.test(repl));
    check("session 1: Debug Console shows the program's output (tick 0..4)", /tick 0[\s\S]*tick 4/.test(repl));
    check("session 1: tracepoints only, so debugpy is not brought in", !/debugpy brought into the program/.test(repl));
    await shot(page, "03-session1-tracepoints");
    repl = await waitEnded("session 1");
    console.log("---- Debug Console (session 1) ----\n" + repl.replace(/\n\n/g, "\n") + "\n-----------------------");

    // ---- 2b. session 2: plus an ordinary breakpoint set by clicking the gutter ------------------
    if (BP_LINE > 0) {
      await page.locator(".tabs-container .tab", { hasText: /^loop\.py/ }).first().click();
      await clickGutter(BP_LINE);
      const bp = await waitFor(() => editor.locator(".codicon-debug-breakpoint").count(), 5000);
      check(`breakpoint set on line ${BP_LINE} by a gutter click`, bp > 0);
      await page.locator('[aria-label^="Clear Console"]').first().click().catch(() => {});
      tDebug = Date.now();
      await startTrace();
      // paused on the breakpoint: the call stack says so and the editor marks the line
      const paused = await waitFor(async () =>
        (await page.locator(".pane-header", { hasText: /Paused on breakpoint/i }).count()) &&
        (await page.locator(".monaco-editor .codicon-debug-stackframe").count()), 30000);
      check(`session 2: stopped at the breakpoint (line ${BP_LINE})`, !!paused, `${Date.now() - tDebug} ms after start`);
      const vars = await waitFor(async () => {
        const v = (await page.locator(".debug-variables").allInnerTexts().catch(() => [])).join(" ");
        return /acc/.test(v) ? v : "";
      }, 10000);
      check("session 2: Variables view shows the frame's locals", /acc/.test(vars) && /xs/.test(vars),
        JSON.stringify(vars.slice(0, 120)));
      repl = await replText(page);
      check("session 2: tracepoint messages i=0..i=4 still shown with a breakpoint in the same file",
        traceI.test(repl));
      await shot(page, "04-session2-stopped-at-breakpoint");
      // remove the breakpoint (a second gutter click), then continue with the toolbar's button
      await clickGutter(BP_LINE);
      const gone = await waitFor(async () => (await page.locator(".debug-breakpoints .monaco-list-row", { hasText: /loop\.py/ }).count()) === 0, 5000);
      check("breakpoint removed by a second gutter click", gone);
      // as with any debugger, removing a breakpoint while paused must not resume the program
      await page.waitForTimeout(2000);
      const stillPaused = (await page.locator(".pane-header", { hasText: /Paused on breakpoint/i }).count()) > 0 &&
        !/total 6/.test(await replText(page));
      check("session 2: still paused 2 s after removing the breakpoint", stillPaused);
      await shot(page, "05-session2-breakpoint-removed");
      if (await page.locator(".debug-toolbar .codicon-debug-continue").first().isVisible().catch(() => false))
        await page.locator(".debug-toolbar .codicon-debug-continue").first().click();
      repl = await waitEnded("session 2");
      await shot(page, "06-session2-ended");
      console.log("---- Debug Console (session 2) ----\n" + repl.replace(/\n\n/g, "\n") + "\n-----------------------");
    }

    // ---- what is left open ------------------------------------------------------------------
    const tabs = await page.locator(".tabs-container .tab").allInnerTexts();
    const dirty = await page.locator(".tabs-container .tab.dirty").allInnerTexts();
    console.log(`open tabs: ${JSON.stringify(tabs)}; unsaved: ${JSON.stringify(dirty)}`);
    check("\"why\" leaves no unsaved Untitled document behind", dirty.length === 0, JSON.stringify(dirty));

    // ---- the Scopeline output channel ------------------------------------------------------
    await runCommand(page, "Output: Show Output Channels...").catch(() => {});
    const ch = page.locator(".quick-input-list .monaco-list-row", { hasText: /^Scopeline$/ }).first();
    if (await ch.isVisible({ timeout: 5000 }).catch(() => false)) {
      await ch.click();
      await page.waitForTimeout(1000);
      const out = (await page.locator(".output-view .view-lines").allInnerTexts().catch(() => [])).join("\n");
      console.log("---- Scopeline output channel ----\n" + out.slice(0, 3000) + "\n----------------------------------");
      await shot(page, "07-scopeline-output");
    } else {
      await page.keyboard.press("Escape");
      console.log("(no Scopeline output channel listed)");
    }
  } catch (e) {
    check("no exception", false, e.stack || String(e));
    await shot(page, "99-error").catch(() => {});
  } finally {
    await browser.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`[${since()}] ${results.length - failed}/${results.length} checks passed`);
  process.exit(failed ? 1 : 0);
})();
