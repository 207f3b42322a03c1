// Drives the page in headless Debian chromium (never a downloaded browser) for
// tests/interop/test_web.py: `node drive.mjs JOBS.json` where JOBS.json is
// {"base": "http://127.0.0.1:PORT/", "chromium": "/usr/bin/chromium", "jobs": [
//   {"dir": "/path/to/x.ome.zarr" | "url": "http://...", "depth": "hierarchy",
//    "screenshot": "out.png"?}]}.
// Prints one JSON object per job: the page's report, verdict, codes and nodes shown, the
// time from the pick to the rendered report, or the error the page showed.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const profile = mkdtempSync(join(tmpdir(), "ome-web-chromium-"));

// CPU time (user + system, ms) of this browser's processes so far, from /proc (Linux): on a
// machine shared with other work the wall time says little, the CPU time what a job costs.
function browserCpuMs() {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(profile)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);   // utime, stime (fields 14 and 15)
    } catch { /* gone */ }
  }
  return ticks * 10;   // USER_HZ = 100
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
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  for (const job of spec.jobs) {
    await page.goto(spec.base + "index.html");
    await page.selectOption("#depth", job.depth ?? "hierarchy");
    const cpu0 = browserCpuMs();
    if (job.url) {
      await page.fill("#url", job.url);
      await page.click("#url-form button");
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
      report: window.omeValidate.lastReport(),
      verdict: document.getElementById("summary").dataset.verdict ?? null,
      summary: document.getElementById("summary").textContent,
      codes: [...document.querySelectorAll("[data-code]")].map((e) => e.textContent),
      nodes: [...document.querySelectorAll("[data-node]")].map((e) => e.dataset.node),
    }));
    out.cpuMs = browserCpuMs() - cpu0;
    out.cpuPickMs = cpuPicked - cpu0;
    if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: false });
    out.errors = consoleErrors.splice(0);
    console.log(JSON.stringify(out));
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
