// The page: collects a dropped or picked folder (or a URL), hands it to the worker, and
// shows the report as a tree: target → node → findings.
"use strict";

const RULES_BASE = "../";   // rule_page is "spec/rules/CODE.md", relative to the repository
const $ = (id) => document.getElementById(id);
const worker = new Worker("worker.js");
let lastReport = null;
let started = 0;

function status(text) { $("status").textContent = text; }

async function run(message) {
  try {
    await runOrFail(message);
  } catch (e) {
    status(`Could not read ${message.name ?? "the folder"}: ${e && e.message || e}`);
    document.body.dataset.state = "error";
  }
}

async function runOrFail(message) {
  $("result").hidden = true;
  delete document.body.dataset.state;
  message.depth = $("depth").value;
  if (message.folder) {
    const { folder } = message;
    delete message.folder;
    message.name = folder.name;
    status(`Reading ${folder.name} …`);
    message.files = await withMetadata(await folder.files());
  }
  status(`Validating ${message.name} …`);
  if (message.files) {
    document.body.dataset.readMs = String(performance.now() - started);
    worker.postMessage(message, buffers(message.files));
  } else {
    worker.postMessage(message);
  }
}

worker.onmessage = (ev) => {
  const r = ev.data;
  const total = performance.now() - started;
  if (!r.ok) {
    status(`Could not validate: ${r.error}`);
    document.body.dataset.state = "error";
    return;
  }
  lastReport = r.report;
  show(JSON.parse(r.report));
  status(`Validated in ${(total / 1000).toFixed(2)} s (the validator itself: ${(r.ms / 1000).toFixed(2)} s).`);
  document.body.dataset.ms = String(total);
  document.body.dataset.validatorMs = String(r.ms);
  document.body.dataset.state = "done";
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function show(report) {
  const s = report.summary;
  const summary = $("summary");
  summary.className = `verdict-${report.verdict}`;
  summary.textContent = `${report.verdict.toUpperCase()}: ${s.errors} error(s), ${s.warnings} warning(s), ${s.infos} info(s) ` +
    `in ${report.targets.reduce((n, t) => n + t.nodes_checked, 0)} node(s) checked at depth ${report.depth}`;
  summary.dataset.verdict = report.verdict;
  const tree = $("tree");
  tree.replaceChildren();
  for (const t of report.targets) {
    const byNode = new Map();
    for (const f of t.findings) {
      const node = f.location.node;
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node).push(f);
    }
    const head = el("h2", {}, `${t.target} `, el("small", {}, `(${t.kind}, NGFF ${t.ngff_version ?? "?"}, ${t.verdict})`));
    tree.append(head);
    if (byNode.size === 0) tree.append(el("p", {}, "No findings."));
    for (const [node, findings] of byNode) {
      const d = el("details", { class: "node", open: "", "data-node": node });
      d.append(el("summary", {}, node === "" ? "/ (root)" : node, ` — ${findings.length} finding(s)`));
      const ul = el("ul", { class: "findings" });
      for (const f of findings) {
        const where = [f.location.document, f.location.pointer].filter(Boolean).join(" ");
        const code = el("a", { class: "code", href: RULES_BASE + f.rule_page, "data-code": f.code, target: "_blank" }, f.code);
        const spec = f.spec && f.spec.url ? el("a", { href: f.spec.url, target: "_blank" }, "spec") : "";
        ul.append(el("li", { "data-severity": f.severity },
          el("span", { class: `sev sev-${f.severity}` }, f.severity), " ", code, " ", f.message, " ",
          el("span", { class: "loc" }, where), " ", spec));
      }
      d.append(ul);
      tree.append(d);
    }
  }
  $("result").hidden = false;
}

$("download").onclick = () => {
  if (!lastReport) return;
  const a = el("a", { href: URL.createObjectURL(new Blob([lastReport], { type: "application/json" })), download: "ome-validate-report.json" });
  a.click();
  URL.revokeObjectURL(a.href);
};

$("pick").onchange = () => {
  started = performance.now();
  const folder = pickedFolder($("pick").files);
  if (folder) run({ folder });
};

const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  started = performance.now();
  const folder = droppedFolder(e);
  if (!folder) {
    status("Drop one folder (an OME-Zarr directory); single files are not validated here yet.");
    return;
  }
  run({ folder });
};

$("url-form").onsubmit = (e) => {
  e.preventDefault();
  started = performance.now();
  const url = $("url").value.trim().replace(/\/+$/, "");
  if (!url) return;
  run({ name: url, url });
};

window.omeValidate = { lastReport: () => lastReport };
