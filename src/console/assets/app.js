// The console's shell: calls to the backend (every change carries the session token the page
// was served with), the views by URL hash, and the small formatters the views share.
"use strict";

const MF = {
  token: document.querySelector('meta[name="console-token"]').content,
  views: {},
  // The running view's subscriptions to changes (EventSource) and its local clocks, closed
  // when another view opens.
  sources: [],
  timers: [],
};

MF.get = async function (path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
  return body;
};

MF.post = async function (path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Console-Token": MF.token },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.message || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return answer;
};

// An element: MF.el("td", { class: "x", onclick: f }, "text", child…).
MF.el = function (tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

// Seconds since the epoch (as every date the API gives, AWS's way), as a Date.
MF.date = (value) => (typeof value === "number" ? new Date(value * 1000) : null);

MF.time = (value) => {
  const d = MF.date(value);
  return d ? d.toLocaleString() : "";
};

MF.seconds = (from, to) => {
  const a = MF.date(from);
  const b = MF.date(to) || new Date();
  return a ? Math.max(0, (b - a) / 1000) : 0;
};

MF.duration = (seconds) => {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
};

MF.bytes = (n) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
};

MF.status = (status) => MF.el("span", { class: `badge ${String(status).toLowerCase()}` }, status);

// Runs `tick` now and whenever the server says an execution changed (server-sent events from
// /api/changes: `changed` for any change, `status` when an execution's status changed), while
// the view is open: the pages wait to be told, they do not poll.
MF.live = function (tick, on = "changed") {
  tick();
  const changes = new EventSource("/api/changes");
  // Fetched again once subscribed (and after every reconnection): a change between the first
  // fetch and the subscription is told to nobody.
  changes.addEventListener("open", () => tick());
  changes.addEventListener(on, () => tick());
  MF.sources.push(changes);
};

// Runs `draw` every `ms` while the view is open: for what moves on by itself in the page (an
// upload's speed and time left), never to ask the server.
MF.every = function (ms, draw) {
  MF.timers.push(setInterval(draw, ms));
};

MF.route = function () {
  MF.sources.forEach((source) => source.close());
  MF.sources = [];
  MF.timers.forEach(clearInterval);
  MF.timers = [];
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const [name, ...rest] = hash.split("/");
  const view = MF.views[name || "executions"] || MF.views.executions;
  const main = document.getElementById("view");
  main.replaceChildren();
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.nav === (name || "executions"));
  }
  view(main, rest.join("/"));
};

MF.start = function () {
  window.addEventListener("hashchange", MF.route);
  MF.route();
};

document.addEventListener("DOMContentLoaded", () => MF.start());
