// The validator's thread: loads ome_web.wasm and answers its synchronous reads.
// Dropped files are read with FileReaderSync (File.slice), URLs with synchronous
// XMLHttpRequest range requests; nothing leaves the machine for a dropped folder.
"use strict";

const enc = new TextEncoder();
const dec = new TextDecoder();
let wasm = null;        // the module's exports
let source = null;      // { size(key), read(key, offset, len), list(prefix) }
let lastError = "";

function mem() { return new Uint8Array(wasm.memory.buffer); }
function str(ptr, len) { return dec.decode(mem().subarray(ptr, ptr + len)); }

// A dropped folder: `files` is [[path relative to the dataset root, File]].
function folderSource(files) {
  const byKey = new Map(files);
  const dirs = new Map();   // prefix -> Set of child directory names
  for (const [key] of files) {
    const parts = key.split("/");
    for (let i = 0; i < parts.length - 1; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (!dirs.has(prefix)) dirs.set(prefix, new Set());
      dirs.get(prefix).add(parts[i]);
    }
  }
  const reader = new FileReaderSync();
  // A value is a Uint8Array (a metadata document the page read already) or a File.
  const sizeOf = (v) => (v instanceof Uint8Array ? v.byteLength : v.size);
  return {
    size(key) { const f = byKey.get(key); return f === undefined ? null : sizeOf(f); },
    read(key, offset, len) {
      const f = byKey.get(key);
      if (f === undefined) throw new Error("the file is gone");
      if (f instanceof Uint8Array) return f.subarray(offset, offset + len);
      return new Uint8Array(reader.readAsArrayBuffer(f.slice(offset, offset + len)));
    },
    list(prefix) { return [...(dirs.get(prefix) || [])].sort(); },
  };
}

// A URL: HEAD for sizes, GET with Range for bytes; HTTP cannot list.
function urlSource(base) {
  base = base.replace(/\/+$/, "");
  const sizes = new Map();
  const url = (key) => base + "/" + key.split("/").map(encodeURIComponent).join("/");
  return {
    size(key) {
      if (sizes.has(key)) return sizes.get(key);
      const x = new XMLHttpRequest();
      x.open("HEAD", url(key), false);
      x.send();
      let n = null;
      if (x.status === 200) {
        const h = x.getResponseHeader("Content-Length");
        if (h === null) throw new Error(`HEAD ${url(key)}: no Content-Length`);
        n = Number(h);
      } else if (x.status !== 404 && x.status !== 403) {
        throw new Error(`HEAD ${url(key)}: HTTP ${x.status}`);
      }
      sizes.set(key, n);
      return n;
    },
    read(key, offset, len) {
      if (len === 0) return new Uint8Array(0);
      const x = new XMLHttpRequest();
      x.open("GET", url(key), false);
      x.setRequestHeader("Range", `bytes=${offset}-${offset + len - 1}`);
      x.overrideMimeType("text/plain; charset=x-user-defined");  // bytes, in a sync request
      x.send();
      if (x.status !== 206 && !(x.status === 200 && offset === 0)) {
        throw new Error(`GET ${url(key)} bytes ${offset}+${len}: HTTP ${x.status}`);
      }
      const t = x.responseText;
      const n = Math.min(t.length, len);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = t.charCodeAt(i) & 0xff;
      return out;
    },
    list() { return null; },
  };
}

function guard(f, failure) {
  try { return f(); } catch (e) { lastError = String(e && e.message || e); return failure; }
}

const imports = {
  ome: {
    source_size: (p, n) => guard(() => { const s = source.size(str(p, n)); return s === null ? -1 : s; }, -2),
    source_read: (p, n, offset, len, dst) => guard(() => {
      const bytes = source.read(str(p, n), offset, len);
      mem().set(bytes.subarray(0, len), dst);
      return bytes.length;
    }, -2),
    source_list: (p, n, dst, cap) => guard(() => {
      const names = source.list(str(p, n));
      if (names === null) return -1;
      const b = enc.encode(JSON.stringify(names));
      if (b.length <= cap) mem().set(b, dst);
      return b.length;
    }, -2),
    error_message: (dst, cap) => {
      const b = enc.encode(lastError).subarray(0, cap);
      mem().set(b, dst);
      return b.length;
    },
    random_fill: (dst, len) => crypto.getRandomValues(mem().subarray(dst, dst + len)),
  },
  // Imports of wasm-bindgen code linked in by dependencies and never called here (they
  // belong to the wasm-bindgen CLI's glue, which this page does not use).
  __wbindgen_placeholder__: { __wbindgen_describe: () => { throw new Error("wasm-bindgen glue is not used"); } },
  __wbindgen_externref_xform__: {
    __wbindgen_externref_statics_end: () => { throw new Error("wasm-bindgen glue is not used"); },
    __wbindgen_externref_table_set_null: () => { throw new Error("wasm-bindgen glue is not used"); },
    __wbindgen_externref_table_grow: () => { throw new Error("wasm-bindgen glue is not used"); },
  },
};

const compiled = (async () => {
  const r = await fetch("ome_web.wasm");
  if (!r.ok) throw new Error(`ome_web.wasm: HTTP ${r.status} (build it: bash scripts/setup-web.sh)`);
  return WebAssembly.compile(await r.arrayBuffer());
})();

function validate(name, depth) {
  const req = enc.encode(JSON.stringify({ name, depth }));
  const p = wasm.alloc(req.length);
  mem().set(req, p);
  const status = wasm.validate(p, req.length);
  wasm.dealloc(p, req.length);
  const text = str(wasm.result_ptr(), wasm.result_len());
  return { status, text };
}

self.onmessage = async (ev) => {
  const msg = ev.data;
  const t0 = performance.now();
  try {
    // A fresh instance per run (the module is compiled once): a run that trapped leaves
    // nothing behind for the next.
    wasm = (await WebAssembly.instantiate(await compiled, imports)).exports;
    source = msg.url ? urlSource(msg.url) : folderSource(msg.files);
    const { status, text } = validate(msg.name, msg.depth);
    const ms = performance.now() - t0;
    if (status === 0) self.postMessage({ ok: true, report: text, ms });
    else self.postMessage({ ok: false, error: text, ms });
  } catch (e) {
    // A trap (a panic aborts) or a load failure: said, never a silent pass.
    self.postMessage({ ok: false, error: String(e && e.message || e), ms: performance.now() - t0 });
  } finally {
    source = null;
    wasm = null;
  }
};
