// The graph view: the state machine's definition laid out by dagre (vendor/dagre.min.js), each
// Parallel and Map drawn as a box around its branches, and each state coloured by what it did
// in one execution (the runs the server read from its history).
"use strict";

// The definition as a dagre graph: a node per state, a box (cluster) per Parallel and Map
// holding a start node with its name, its branches and a join node, and Start and End nodes.
MF.buildGraph = function (definition) {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 26, ranksep: 34, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const size = (label) => ({ width: Math.max(90, label.length * 7.4 + 28), height: 34 });
  let edgeCount = 0;
  const edge = (from, to, kind) => g.setEdge(from, to, { kind }, `e${edgeCount++}`);

  // Adds `machine`'s states inside `parent`; `exit` is where an End leads. Returns the id of
  // the node its StartAt enters.
  const add = (machine, parent, exit) => {
    const entry = (name) => {
      const state = machine.States[name];
      return state && (state.Type === "Parallel" || state.Type === "Map") ? `${name}` : name;
    };
    for (const [name, state] of Object.entries(machine.States)) {
      g.setNode(name, { label: name, state: name, type: state.Type, ...size(name) });
      if (parent) g.setParent(name, parent);
      let out = name;
      if (state.Type === "Parallel" || state.Type === "Map") {
        const box = `box:${name}`;
        const join = `join:${name}`;
        g.setNode(box, { cluster: true, state: name, label: name });
        if (parent) g.setParent(box, parent);
        g.setParent(name, box);
        g.setNode(join, { join: true, state: name, width: 14, height: 14 });
        g.setParent(join, box);
        const inner = state.Type === "Parallel" ? state.Branches : [state.ItemProcessor || state.Iterator];
        inner.forEach((branch, i) => {
          const lane = `lane:${name}:${i}`;
          g.setNode(lane, { cluster: true, lane: true });
          g.setParent(lane, box);
          edge(name, add(branch, lane, join), "next");
        });
        out = join;
      }
      const next = [];
      if (state.Next) next.push([state.Next, "next"]);
      if (state.Default) next.push([state.Default, "next"]);
      for (const choice of state.Choices || []) next.push([choice.Next, "next"]);
      for (const c of state.Catch || []) next.push([c.Next, "catch"]);
      for (const [to, kind] of next) edge(out, entry(to), kind);
      // Succeed and Fail states end by their nature; an arrow from each to End would pull them
      // all to the bottom, far from the Choice that leads to them.
      if (state.End) edge(out, exit, "next");
    }
    return entry(machine.StartAt);
  };
  g.setNode("Start", { label: "Start", terminal: true, width: 70, height: 28 });
  g.setNode("End", { label: "End", terminal: true, width: 70, height: 28 });
  edge("Start", add(definition, null, "End"), "next");
  if ((g.inEdges("End") || []).length === 0) g.removeNode("End");
  dagre.layout(g);
  return g;
};

const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attributes, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
  node.append(...children);
  return node;
};

// Draws `g` into an <svg>; `runs` colours the states; `onPick(name)` on a click.
MF.drawGraph = function (g, runs, onPick) {
  const { width, height } = g.graph();
  const root = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, width, height });
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  const status = (name) => (runs.get(name) || { status: "notrun" }).status;
  // Boxes first (outer before inner), then edges, then nodes on top.
  const clusters = g.nodes().filter((id) => g.node(id).cluster);
  const depth = (id) => { let d = 0; for (let p = g.parent(id); p; p = g.parent(p)) d++; return d; };
  clusters.sort((a, b) => depth(a) - depth(b));
  for (const id of clusters) {
    const n = g.node(id);
    const cls = n.lane ? "lane" : `box st-${status(n.state)}`;
    root.append(svg("rect", { class: cls, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 8 }));
  }
  for (const e of g.edges()) {
    const { points, kind } = g.edge(e);
    const d = points.map((p, i) => `${i ? "L" : "M"} ${p.x} ${p.y}`).join(" ");
    root.append(svg("path", { class: `edge ${kind}`, d, "marker-end": "url(#arrow)" }));
  }
  for (const id of g.nodes()) {
    const n = g.node(id);
    if (n.cluster) continue;
    if (n.join) {
      root.append(svg("circle", { class: `join st-${status(n.state)}`, cx: n.x, cy: n.y, r: 6 }));
      continue;
    }
    const ends = n.type === "Succeed" || n.type === "Fail" ? ` ends ${n.type.toLowerCase()}` : "";
    const cls = n.terminal ? "node terminal" : `node st-${status(n.state)}${ends}`;
    const group = svg("g", { class: cls, "data-state": n.state || n.label, transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})` },
      svg("rect", { width: n.width, height: n.height, rx: n.terminal || ends ? 14 : 5 }),
      svg("text", { x: n.width / 2, y: n.height / 2 + 4, "text-anchor": "middle" }, n.label));
    if (n.state) {
      group.append(svg("title", {}, `${n.label} (${n.type}): ${status(n.state)}`));
      group.addEventListener("click", () => onPick(n.state));
    }
    root.append(group);
  }
  return root;
};
