// The upload page. A file of one part is PUT at inputs/<path>; a larger one goes as
// inputs/<path>.CHUNK<n> parts carrying the part count, which AssembleCheck assembles. Each
// part goes straight to S3 with a URL presigned by the console for that one key; a few parts
// are in flight at once, a failed part is retried with backoff, a file can be paused, and
// after a reload a file picked again sends only the parts S3 does not already hold.
"use strict";

const PARTS_IN_FLIGHT = 4;
const TRIES = 6;
const MOST_PARTS = 10000;
const MIB = 1024 * 1024;
const REMEMBERED = "mediaflow.upload:";

const queue = { items: [], inflight: 0, render: () => {} };

const remembered = () => Object.keys(localStorage).filter((k) => k.startsWith(REMEMBERED))
  .map((k) => ({ key: k.slice(REMEMBERED.length), ...JSON.parse(localStorage.getItem(k)) }));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// `inputs/<prefix>/<relative path>`, with empty segments dropped.
const keyOf = (prefix, path) => ["inputs", ...prefix.split("/"), ...path.split("/")].filter((s) => s !== "").join("/");

async function add(file, path, prefix, chosenPartSize) {
  const key = keyOf(prefix, path);
  if (queue.items.some((i) => i.key === key && i.status !== "done" && i.status !== "failed")) return;
  const kept = JSON.parse(localStorage.getItem(REMEMBERED + key) || "null");
  const same = kept && kept.size === file.size && kept.lastModified === file.lastModified;
  // S3 takes at most 10,000 parts: bigger files get bigger parts.
  const partSize = same ? kept.partSize : Math.max(chosenPartSize, Math.ceil(file.size / MOST_PARTS));
  const parts = Math.max(1, Math.ceil(file.size / partSize));
  const item = {
    file, key, size: file.size, partSize, parts, stored: new Set(), sending: new Map(), pending: [],
    status: "checking", sent: 0, started: null, error: "", resumed: 0, requests: new Map(),
  };
  queue.items.push(item);
  queue.render();
  if (parts > 1) {
    localStorage.setItem(REMEMBERED + key, JSON.stringify({ name: file.name, size: file.size, lastModified: file.lastModified, partSize, parts }));
  }
  if (same && parts > 1) {
    try {
      const held = await MF.get(`/api/uploads/parts?key=${encodeURIComponent(key)}`);
      for (const p of held.parts) if (p.index < parts && p.size === partLength(item, p.index)) item.stored.add(p.index);
      item.resumed = item.stored.size;
    } catch (e) {
      item.error = `could not ask which parts are stored: ${e.message}`;
    }
  }
  for (let i = 0; i < parts; i++) if (!item.stored.has(i)) item.pending.push(i);
  item.status = "uploading";
  item.started = performance.now();
  if (item.pending.length === 0) finish(item);
  pump();
}

const partLength = (item, i) => Math.min(item.size, (i + 1) * item.partSize) - i * item.partSize;

function pump() {
  while (queue.inflight < PARTS_IN_FLIGHT) {
    const item = queue.items.find((i) => i.status === "uploading" && i.pending.length > 0);
    if (!item) break;
    const index = item.pending.shift();
    queue.inflight++;
    send(item, index).finally(() => {
      queue.inflight--;
      pump();
    });
  }
  queue.render();
}

// PUTs one part, retrying with full-jitter backoff; a paused file puts it back in its queue.
async function send(item, index) {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (item.status !== "uploading") break;
    try {
      const signed = await MF.post("/api/uploads/presign", { key: item.key, part: item.parts > 1 ? index : null, parts: item.parts });
      await put(item, index, signed);
      item.stored.add(index);
      item.sent += partLength(item, index);
      if (item.stored.size === item.parts) finish(item);
      return;
    } catch (e) {
      item.sending.delete(index);
      if (e.status && e.status < 500) {
        // The console refused the part (its key, or a stale session): no retry mends that.
        item.pending.unshift(index);
        item.status = "failed";
        item.error = e.message;
        return;
      }
      if (item.status !== "uploading") break;
      item.error = `part ${index}: ${e.message}; trying again`;
      await sleep(Math.random() * Math.min(30000, 500 * 2 ** attempt));
    }
  }
  item.pending.unshift(index);
  if (item.status === "uploading") {
    item.status = "failed";
    item.error = `part ${index} failed ${TRIES} times: ${item.error}`;
  }
}

function put(item, index, signed) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    item.requests.set(index, xhr);
    xhr.open("PUT", signed.url);
    for (const [name, value] of Object.entries(signed.headers)) {
      // The browser sets Host (and refuses to be told).
      if (name.toLowerCase() !== "host") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => { item.sending.set(index, e.loaded); queue.render(); };
    const done = (error) => {
      item.requests.delete(index);
      item.sending.delete(index);
      if (error) reject(error); else resolve();
    };
    // Any answer of S3's but success is worth another try with a fresh URL (one may expire).
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? done() : done(new Error(`S3 answered ${xhr.status}`)));
    xhr.onerror = () => done(new Error("the connection failed"));
    xhr.onabort = () => done(new Error("paused"));
    xhr.send(item.file.slice(index * item.partSize, index * item.partSize + partLength(item, index)));
  });
}

function finish(item) {
  item.status = "done";
  item.error = "";
  localStorage.removeItem(REMEMBERED + item.key);
  queue.render();
}

function pause(item) {
  item.status = "paused";
  for (const xhr of item.requests.values()) xhr.abort();
  queue.render();
}

function resume(item) {
  item.status = "uploading";
  item.error = "";
  item.started = performance.now();
  item.sent = 0;
  pump();
}

// Bytes this page has sent of `item` since it (re)started, the parts in flight included.
const sentNow = (item) => item.sent + [...item.sending.values()].reduce((a, b) => a + b, 0);
const held = (item) => [...item.stored].reduce((a, i) => a + partLength(item, i), 0) + [...item.sending.values()].reduce((a, b) => a + b, 0);

function rate(sent, since) {
  const seconds = (performance.now() - since) / 1000;
  return seconds > 0.2 ? sent / seconds : 0;
}

const speedText = (speed, left) => (speed > 0 ? `${MF.bytes(speed)}/s · ${MF.duration(left / speed)} left` : "");

// Every file and folder in a drop, with paths relative to what was dropped.
async function dropped(dataTransfer) {
  const found = [];
  const walk = async (entry, path) => {
    if (entry.isFile) {
      found.push([await new Promise((ok, fail) => entry.file(ok, fail)), path + entry.name]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (entries.length === 0) return [...dataTransfer.files].map((f) => [f, f.name]);
  for (const entry of entries) await walk(entry, "");
  return found;
}

MF.views.upload = function (main) {
  const prefix = MF.el("input", { id: "prefix", placeholder: "folder (optional)", size: 24 });
  const partSize = MF.el("select", { id: "part-size", "aria-label": "part size" },
    [5, 8, 16, 64, 256].map((n) => MF.el("option", { value: n }, `${n} MiB parts`)));
  const files = MF.el("input", { type: "file", id: "file-input", multiple: true });
  const folder = MF.el("input", { type: "file", id: "folder-input", webkitdirectory: true });
  const chosen = () => Number(partSize.value) * MIB;
  const take = (list) => list.forEach(([file, path]) => add(file, path, prefix.value, chosen()));
  files.addEventListener("change", () => { take([...files.files].map((f) => [f, f.name])); files.value = ""; });
  folder.addEventListener("change", () => { take([...folder.files].map((f) => [f, f.webkitRelativePath || f.name])); folder.value = ""; });
  const zone = MF.el("div", { class: "drop", id: "drop-zone" },
    MF.el("p", {}, "Drop files or folders here, or pick them:"),
    MF.el("p", {}, MF.el("label", {}, "Files ", files), " ", MF.el("label", {}, "A folder ", folder)));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    take(await dropped(e.dataTransfer));
  });
  const overall = MF.el("div", { class: "overall", id: "overall" });
  const list = MF.el("tbody");
  const unfinished = MF.el("div", { id: "unfinished" });
  main.append(
    MF.el("div", { class: "bar" }, MF.el("h1", {}, "Upload"), MF.el("span", { class: "muted" }, "into inputs/"), prefix, partSize),
    zone, overall, unfinished,
    MF.el("table", { class: "list", id: "uploads" }, MF.el("thead", {}, MF.el("tr", {},
      ["File", "Size", "Progress", "", ""].map((h) => MF.el("th", {}, h)))), list));

  let scheduled = false;
  queue.render = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      draw();
    });
  };
  const draw = () => {
    const items = queue.items;
    const total = items.reduce((a, i) => a + i.size, 0);
    const have = items.reduce((a, i) => a + (i.status === "done" ? i.size : held(i)), 0);
    const active = items.filter((i) => i.status === "uploading");
    const speed = active.reduce((a, i) => a + rate(sentNow(i), i.started), 0);
    const left = active.reduce((a, i) => a + i.size - held(i), 0);
    overall.replaceChildren(items.length === 0 ? "" : MF.el("div", {},
      MF.el("progress", { max: total || 1, value: have }),
      MF.el("span", {}, ` ${items.filter((i) => i.status === "done").length} of ${items.length} file(s) · ${MF.bytes(have)} of ${MF.bytes(total)} `),
      MF.el("span", { class: "muted" }, speedText(speed, left))));
    const open = new Set(items.filter((i) => i.status !== "done").map((i) => i.key));
    const waiting = remembered().filter((r) => !open.has(r.key));
    unfinished.replaceChildren(...waiting.map((r) => MF.el("p", { class: "notice", dataset: { key: r.key } },
      `${r.key} was not finished: pick ${r.name} again to send the rest. `,
      MF.el("button", { onclick: () => { localStorage.removeItem(REMEMBERED + r.key); draw(); } }, "Forget"))));
    list.replaceChildren(...items.map((item) => {
      const now = item.status === "done" ? item.size : held(item);
      const speed = item.status === "uploading" ? rate(sentNow(item), item.started) : 0;
      const state = item.status === "uploading" ? speedText(speed, item.size - now) : item.status;
      const notes = [item.resumed ? `resumed: ${item.resumed} of ${item.parts} parts were already stored` : "", item.error].filter(Boolean).join(" · ");
      return MF.el("tr", { dataset: { key: item.key, status: item.status } },
        MF.el("td", {}, item.key, item.parts > 1 ? MF.el("span", { class: "muted" }, ` (${item.stored.size}/${item.parts} parts)`) : "",
          notes ? MF.el("div", { class: "muted note" }, notes) : ""),
        MF.el("td", {}, MF.bytes(item.size)),
        MF.el("td", {}, MF.el("progress", { max: item.size || 1, value: now }), " ", MF.el("span", { class: "state" }, state)),
        MF.el("td", {}, item.status === "uploading" ? MF.el("button", { class: "pause", onclick: () => pause(item) }, "Pause")
          : item.status === "paused" || item.status === "failed" ? MF.el("button", { class: "resume", onclick: () => resume(item) }, "Resume") : ""),
        MF.el("td", {}, item.status === "done" ? MF.el("a", { href: `#/outputs/${encodeURIComponent(item.key)}` }, "Outputs") : ""));
    }));
  };
  draw();
  // Speeds and times left move on even between progress events.
  MF.every(1000, draw);
};
