// Reading a dropped or picked folder: its listing and its metadata documents. Shared by
// the page (app.js) and the benchmark's reading floor (test/floor.html).
"use strict";

// Metadata documents are read on this thread, all at once (asynchronous reads overlap,
// where the worker's synchronous ones would wait one by one), and moved to the worker as
// buffers; everything else (chunks) stays a File the worker slices when the validator asks.
// A browser reads a local file with a fixed cost of its own (an open and a stat in its
// file thread, a pipe to the page), which for a plate's thousands of small documents is
// most of the time. Many small files are therefore read as one Blob made of them (one read
// for the browser instead of one per file), in batches, and cut apart by their sizes: in
// headless chromium that took less CPU than any number of single reads in flight.
const METADATA = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);
const METADATA_MAX = 16 << 20;
const BATCH_FILES = 1024;
const BATCH_BYTES = 64 << 20;

// [[key, File]] → [[key, value]]: a metadata document's bytes (a Uint8Array) or the File.
async function withMetadata(files) {
  const out = files.slice();
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
  await Promise.all(batches.map(async (batch) => {
    const whole = await new Blob(batch.map((i) => files[i][1])).arrayBuffer();
    let offset = 0;
    for (const i of batch) {
      const size = files[i][1].size;
      out[i] = [files[i][0], new Uint8Array(whole, offset, size)];
      offset += size;
    }
    if (offset !== whole.byteLength) throw new Error("a file changed while it was read");
  }));
  return out;
}

// A dropped folder's files, [[key relative to the folder, File]], from its
// FileSystemDirectoryHandle (Chromium, Edge: fewer round trips to the browser than the
// entries API) or else its FileSystemDirectoryEntry (webkitGetAsEntry: Firefox, Safari).
async function fromHandle(dir) {
  const out = [];
  const walk = async (handle, prefix) => {
    const children = [];
    for await (const child of handle.values()) {
      const key = prefix + child.name;
      children.push(child.kind === "directory"
        ? walk(child, key + "/")
        : child.getFile().then((f) => { out.push([key, f]); }));
    }
    await Promise.all(children);
  };
  await walk(dir, "");
  return out;
}

async function fromEntry(dir) {
  const out = [];
  const walk = async (entry, prefix) => {
    const reader = entry.createReader();
    const children = [];
    for (;;) {
      const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
      if (batch.length === 0) break;
      for (const child of batch) {
        const key = prefix + child.name;
        children.push(child.isDirectory
          ? walk(child, key + "/")
          : new Promise((ok, ko) => child.file(ok, ko)).then((f) => { out.push([key, f]); }));
      }
    }
    await Promise.all(children);
  };
  await walk(dir, "");
  return out;
}

// The folder a drop event carries, asked for at once (a drop's items are gone once its
// handler returns): { name, files: async () => [[key, File]] }, or null when the drop is
// not one folder.
function droppedFolder(event) {
  const items = [...event.dataTransfer.items].filter((i) => i.kind === "file");
  if (items.length !== 1) return null;
  const handle = items[0].getAsFileSystemHandle ? items[0].getAsFileSystemHandle() : null;
  const entry = items[0].webkitGetAsEntry();
  if (!entry || !entry.isDirectory) return null;
  return {
    name: entry.name,
    files: async () => {
      const dir = handle ? await handle.catch(() => null) : null;
      return dir && dir.kind === "directory" ? fromHandle(dir) : fromEntry(entry);
    },
  };
}

// The same for the files of <input webkitdirectory> (paths start with the folder's name).
function pickedFolder(fileList) {
  const picked = [...fileList].map((f) => [f.webkitRelativePath, f]);
  if (picked.length === 0) return null;
  const name = picked[0][0].split("/")[0];
  return { name, files: async () => picked.map(([p, f]) => [p.slice(name.length + 1), f]) };
}

// The buffers of the documents read (a batch's documents share one), to move (not copy)
// to the worker.
function buffers(files) {
  return [...new Set(files.filter(([, v]) => v instanceof Uint8Array).map(([, v]) => v.buffer))];
}
