// Drives the page in headless Debian chromium (never a downloaded browser) for
// tests/interop/test_web.py: `node drive.mjs JOBS.json` where JOBS.json is
// {"base": "http://127.0.0.1:PORT/", "chromium": "/usr/bin/chromium", "jobs": [
//   {"dir": "/path/to/x.ome.zarr" | "url": "http://...", "depth": "hierarchy",
//    "drop": true?, "screenshot": "out.png"?, "page": "test/floor.html"?}]}.
// A "dir" is picked with the folder picker, or with "drop" dragged onto the drop zone as
// the desktop does it: CDP's Input.dispatchDragEvent with the folder's path, which gives
// the page a real directory entry (webkitGetAsEntry), not files made up in JavaScript.
// Prints one JSON object per job: the page's report, verdict, codes and nodes shown, the
// time from the pick to the rendered report, or the error the page showed.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const profile = mkdtempSync(join(tmpdir(), "ome-web-chromium-"));

// CPU time (user + system, ms) of this browser's processes so far, by process type (the
// browser process, renderer, gpu-process, ...), from /proc (Linux): on a machine shared with
// other work the wall time says little, the CPU time what a job costs, and where.
function browserCpuMs() {
  const by = {};
  for (const pid of readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes(profile)) continue;
      const type = (cmdline.match(/--type=([a-z-]+)/) ?? [null, "browser"])[1];
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      by[type] = (by[type] ?? 0) + (Number(f[11]) + Number(f[12])) * 10;   // utime, stime; USER_HZ = 100
    } catch { /* gone */ }
  }
  return by;
}
const total = (by) => Object.values(by).reduce((a, b) => a + b, 0);
function minus(after, before) {
  const out = {};
  for (const k of Object.keys(after)) out[k] = after[k] - (before[k] ?? 0);
  return out;
}
const context = await chromium.launchPersistentContext(profile, {
  executablePath: spec.chromium,
  headless: true,
  // Without the background-networking flags chromium stalls on a closed network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1100, height: 900 },
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  const cdp = await context.newCDPSession(page);
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  for (const job of spec.jobs) {
    // "page": another page than the validator's (the benchmark's floor, test/floor.html).
    await page.goto(spec.base + (job.page ?? "index.html"));
    if (!job.page) await page.selectOption("#depth", job.depth ?? "hierarchy");
    const cpu0 = browserCpuMs();
    if (job.url) {
      await page.fill("#url", job.url);
      await page.click("#url-form button");
    } else if (job.drop) {
      const box = await page.locator("#drop").boundingBox();
      const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      const data = { items: [], files: [job.dir], dragOperationsMask: 1 };
      for (const type of ["dragEnter", "dragOver", "drop"]) {
        await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
      }
    } else {
      await page.setInputFiles("#pick", job.dir);
    }
    const cpuPicked = browserCpuMs();
    await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 300000 });
    const out = await page.evaluate(() => ({
      state: document.body.dataset.state,
      ms: Number(document.body.dataset.ms || "NaN"),
      readMs: Number(document.body.dataset.readMs || "NaN"),
      validatorMs: Number(document.body.dataset.validatorMs || "NaN"),
      status: document.getElementById("status").textContent,
      report: window.omeValidate?.lastReport() ?? null,
      verdict: document.getElementById("summary")?.dataset.verdict ?? null,
      summary: document.getElementById("summary")?.textContent ?? null,
      codes: [...document.querySelectorAll("[data-code]")].map((e) => e.textContent),
      nodes: [...document.querySelectorAll("[data-node]")].map((e) => e.dataset.node),
    }));
    const cpu1 = browserCpuMs();
    out.cpuMs = total(cpu1) - total(cpu0);
    out.cpuByProcess = minus(cpu1, cpu0);
    out.cpuPickMs = total(cpuPicked) - total(cpu0);
    if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: false });
    out.errors = consoleErrors.splice(0);
    console.log(JSON.stringify(out));
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
