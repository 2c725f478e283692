// The executions: a live list, and one execution as the Step Functions console shows it (graph,
// table of states, event history, a state's input, output, error and cause), with Redrive and Stop.
"use strict";

const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

MF.views.executions = function (main) {
  const filter = MF.el("select", { id: "status-filter", "aria-label": "status" },
    STATUSES.map((s) => MF.el("option", { value: s }, s || "all statuses")));
  const body = MF.el("tbody");
  const count = MF.el("span", { class: "muted" });
  main.append(
    MF.el("div", { class: "bar" }, MF.el("h1", {}, "Executions"), filter, count),
    MF.el("table", { class: "list", id: "executions" },
      MF.el("thead", {}, MF.el("tr", {}, ["Upload", "Status", "Started", "Duration", "Failed at", "Name"].map((h) => MF.el("th", {}, h)))),
      body));
  const tick = async () => {
    const status = filter.value;
    let list;
    try {
      list = await MF.get(`/api/executions${status ? `?status=${status}` : ""}`);
    } catch (e) {
      count.textContent = e.message;
      return;
    }
    count.textContent = `${list.executions.length} execution(s)`;
    body.replaceChildren(...list.executions.map((e) => {
      const link = `#/execution/${encodeURIComponent(e.executionArn)}`;
      return MF.el("tr", { dataset: { arn: e.executionArn, status: e.status } },
        MF.el("td", {}, MF.el("a", { href: link }, e.key || "(no key)")),
        MF.el("td", {}, MF.status(e.status)),
        MF.el("td", {}, MF.time(e.startDate)),
        MF.el("td", {}, MF.duration(MF.seconds(e.startDate, e.stopDate))),
        MF.el("td", {}, e.failedState ? `${e.failedState} (${e.error || ""})` : ""),
        MF.el("td", { class: "muted" }, e.name));
    }));
  };
  filter.addEventListener("change", tick);
  MF.live(tick);
};

// Pretty JSON of a string that holds JSON, else the string.
const pretty = (text) => {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
};

// A line of a function's log: time, level, message and its fields.
const logLine = (line) => {
  const rest = Object.entries(line).filter(([k]) => !["timestamp", "level", "message", "state"].includes(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  return `${line.timestamp} ${line.level} ${line.message || ""} ${rest}`;
};

MF.views.execution = async function (main, arn) {
  let definition;
  try {
    definition = (await MF.get("/api/state-machine")).definition;
  } catch (e) {
    main.append(MF.el("p", { class: "error" }, e.message));
    return;
  }
  const graph = MF.buildGraph(definition);
  const head = MF.el("div", { class: "bar" });
  const message = MF.el("p", { class: "error", id: "action-error" });
  const picture = MF.el("div", { class: "graph-pane", id: "graph" });
  const detail = MF.el("div", { class: "detail", id: "state-detail" }, MF.el("p", { class: "muted" }, "Pick a state to see its input and output."));
  const table = MF.el("tbody");
  const history = MF.el("tbody");
  const tabs = MF.el("div", { class: "tabs" });
  const panes = {
    Graph: MF.el("div", { class: "split" }, picture, detail),
    Table: MF.el("table", { class: "list", id: "states" }, MF.el("thead", {}, MF.el("tr", {},
      ["State", "Type", "Status", "Started", "Duration", "Retries"].map((h) => MF.el("th", {}, h)))), table),
    Events: MF.el("table", { class: "list", id: "events" }, MF.el("thead", {}, MF.el("tr", {},
      ["#", "Type", "State", "Time", "Details"].map((h) => MF.el("th", {}, h)))), history),
  };
  let shown = "Graph";
  for (const name of Object.keys(panes)) {
    tabs.append(MF.el("button", { class: name === shown ? "tab active" : "tab", onclick: (ev) => {
      shown = name;
      for (const b of tabs.children) b.classList.toggle("active", b === ev.target);
      for (const [n, pane] of Object.entries(panes)) pane.hidden = n !== name;
    } }, name));
  }
  for (const [n, pane] of Object.entries(panes)) pane.hidden = n !== shown;
  main.append(head, message, tabs, ...Object.values(panes));

  let picked = null;
  let runs = new Map();
  let logs = [];
  const showDetail = () => {
    const run = picked && runs.get(picked);
    const type = picked ? (graph.node(picked) || {}).type : "";
    detail.replaceChildren(...[
      MF.el("h2", {}, picked || ""),
      run ? MF.el("p", {}, MF.status(run.status), ` ${type}`, run.attempts > 1 ? ` · ${run.attempts - 1} retr${run.attempts > 2 ? "ies" : "y"}` : "") : MF.el("p", { class: "muted" }, "Not run in this execution."),
      run && run.error ? MF.el("div", {}, MF.el("h3", {}, "Error"), MF.el("pre", { class: "error" }, run.error), MF.el("h3", {}, "Cause"), MF.el("pre", {}, pretty(run.cause))) : null,
      run ? MF.el("div", {}, MF.el("h3", {}, "Input"), MF.el("pre", {}, pretty(run.input))) : null,
      run && run.output !== null ? MF.el("div", {}, MF.el("h3", {}, "Output"), MF.el("pre", {}, pretty(run.output))) : null,
      logs.some((l) => l.state === picked) ? MF.el("div", { class: "state-log" }, MF.el("h3", {}, "Log"),
        MF.el("pre", {}, logs.filter((l) => l.state === picked).map(logLine).join("\n"))) : null,
    ].filter(Boolean));
  };
  const act = (what) => async () => {
    message.textContent = "";
    try {
      await MF.post(`/api/execution/${what}`, { executionArn: arn });
      await tick();
    } catch (e) {
      message.textContent = `${what}: ${e.message}`;
    }
  };
  let drawn = "";
  const tick = async () => {
    let answer;
    try {
      answer = await MF.get(`/api/execution?arn=${encodeURIComponent(arn)}`);
    } catch (e) {
      message.textContent = e.message;
      return;
    }
    const { execution, events } = answer;
    logs = answer.logs || [];
    // Draw again only when something happened (an open event's details stay open).
    const seen = `${execution.status}:${events.length}`;
    if (seen === drawn) return;
    drawn = seen;
    // What each state did, as the server read it from the history (the trace's reading): the
    // latest visit of a state wins (a redrive, a Map item).
    runs = new Map(answer.runs.map((r) => [r.name, r]));
    const input = JSON.parse(execution.input || "{}");
    const key = ((input.detail || {}).object || {}).key || "";
    head.replaceChildren(
      MF.el("h1", {}, key || execution.name),
      MF.el("span", { id: "execution-status" }, MF.status(execution.status)),
      MF.el("span", { class: "muted" }, `${MF.time(execution.startDate)} · ${MF.duration(MF.seconds(execution.startDate, execution.stopDate))}`,
        execution.redriveCount ? ` · redriven ${execution.redriveCount}×` : ""),
      MF.el("span", { class: "spacer" }),
      key ? MF.el("a", { class: "button", href: `#/outputs/${encodeURIComponent(key)}` }, "Outputs") : null,
      MF.el("button", { id: "redrive", disabled: execution.redriveStatus !== "REDRIVABLE", onclick: act("redrive") }, "Redrive"),
      MF.el("button", { id: "stop", disabled: execution.status !== "RUNNING", onclick: act("stop") }, "Stop"));
    if (execution.error) {
      head.append(MF.el("p", { class: "error wide" }, `${execution.error}: ${pretty(execution.cause)}`));
    }
    picture.replaceChildren(MF.drawGraph(graph, runs, (name) => { picked = name; showDetail(); }));
    table.replaceChildren(...[...runs.values()].sort((a, b) => a.started - b.started).map((r) =>
      MF.el("tr", { dataset: { state: r.name, status: r.status }, onclick: () => { picked = r.name; showDetail(); } },
        MF.el("td", {}, r.name), MF.el("td", {}, r.type), MF.el("td", {}, MF.status(r.status)),
        MF.el("td", {}, MF.time(r.started)), MF.el("td", {}, MF.duration(MF.seconds(r.started, r.stopped))),
        MF.el("td", {}, Math.max(0, r.attempts - 1)))));
    const ownerOf = new Map();
    history.replaceChildren(...events.map((ev) => {
      const entered = ev.stateEnteredEventDetails || ev.stateExitedEventDetails;
      const state = entered ? entered.name : ownerOf.get(ev.previousEventId) || "";
      ownerOf.set(ev.id, state);
      const details = Object.entries(ev).find(([k]) => k.endsWith("EventDetails"));
      return MF.el("tr", {},
        MF.el("td", {}, ev.id), MF.el("td", {}, ev.type), MF.el("td", {}, state), MF.el("td", {}, MF.time(ev.timestamp)),
        MF.el("td", {}, details ? MF.el("details", {}, MF.el("summary", {}, "details"), MF.el("pre", {}, JSON.stringify(details[1], null, 2))) : ""));
    }));
    if (picked) showDetail();
  };
  // Followed while open: a running execution changes, and an ended one may be redriven.
  MF.live(tick);
};
