// The page: collects a dropped or picked folder (or a URL), hands it to the worker, and
// shows the report as a tree: target → node → findings.
"use strict";

const RULES_BASE = "../";   // rule_page is "spec/rules/CODE.md", relative to the repository
const $ = (id) => document.getElementById(id);
const worker = new Worker("worker.js");
let lastReport = null;
let started = 0;

function status(text) { $("status").textContent = text; }

// Files of a dropped directory entry, with paths relative to it.
async function entryFiles(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((ok, ko) => entry.file(ok, ko));
    out.push([prefix + entry.name, file]);
    return;
  }
  const reader = entry.createReader();
  const base = prefix + entry.name + "/";
  for (;;) {
    const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
    if (batch.length === 0) break;
    await Promise.all(batch.map((e) => entryFiles(e, base, out)));
  }
}

// [[key relative to the dataset root, File]] from [[path with the root folder, File]].
function rooted(files) {
  const root = files.length ? files[0][0].split("/")[0] : "";
  return { root, files: files.map(([p, f]) => [p.slice(root.length + 1), f]) };
}

// Metadata documents are read here, all at once (asynchronous reads overlap, where the
// worker's synchronous ones would wait one by one), and moved to the worker as buffers;
// everything else (chunks) stays a File the worker slices when the validator asks.
const METADATA = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);
const METADATA_MAX = 16 << 20;

// Many small files are read as one Blob made of them (one read for the browser instead of
// one per file), in batches, and cut apart by their sizes.
const BATCH_FILES = 1024;
const BATCH_BYTES = 64 << 20;

async function withMetadata(files) {
  const out = files.map(([key, file]) => [key, file]);
  const wanted = [];
  files.forEach(([key, file], i) => {
    const name = key.slice(key.lastIndexOf("/") + 1);
    if (METADATA.has(name) && file.size <= METADATA_MAX) wanted.push(i);
  });
  const batches = [];
  for (let start = 0; start < wanted.length;) {
    let end = start, bytes = 0;
    while (end < wanted.length && end - start < BATCH_FILES &&
           (end === start || bytes + files[wanted[end]][1].size <= BATCH_BYTES)) {
      bytes += files[wanted[end]][1].size;
      end++;
    }
    batches.push(wanted.slice(start, end));
    start = end;
  }
  const buffers = [];
  await Promise.all(batches.map(async (batch) => {
    const whole = await new Blob(batch.map((i) => files[i][1])).arrayBuffer();
    let offset = 0;
    for (const i of batch) {
      const size = files[i][1].size;
      out[i] = [files[i][0], new Uint8Array(whole, offset, size)];
      offset += size;
    }
    buffers.push(whole);
    if (offset !== whole.byteLength) throw new Error("a file changed while it was read");
  }));
  return { files: out, buffers };
}

async function run(message) {
  $("result").hidden = true;
  delete document.body.dataset.state;
  status(`Validating ${message.name} …`);
  message.depth = $("depth").value;
  if (message.files) {
    const { files, buffers } = await withMetadata(message.files);
    document.body.dataset.readMs = String(performance.now() - started);
    message.files = files;
    worker.postMessage(message, buffers);
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
  const picked = [...$("pick").files].map((f) => [f.webkitRelativePath, f]);
  if (picked.length === 0) return;
  const { root, files } = rooted(picked);
  run({ name: root, files });
};

const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  started = performance.now();
  const entry = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry()).find(Boolean);
  if (!entry || !entry.isDirectory) {
    status("Drop a folder (an OME-Zarr directory); single files are not validated here yet.");
    return;
  }
  const out = [];
  status(`Reading the folder ${entry.name} …`);
  await entryFiles(entry, "", out);
  const { root, files } = rooted(out);
  run({ name: root, files });
};

$("url-form").onsubmit = (e) => {
  e.preventDefault();
  started = performance.now();
  const url = $("url").value.trim().replace(/\/+$/, "");
  if (!url) return;
  run({ name: url, url });
};

window.omeValidate = { lastReport: () => lastReport };
