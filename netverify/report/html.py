"""The matrix as one self-contained HTML page: a heat-map and a graph view, drawn by inline
JavaScript as inline SVG. No network access: no CDN, no fonts, no external URL.

Hovering a cell shows its witness flow and the rules that allow it. More than
`COLLAPSE_ABOVE` entities collapse to namespaces; clicking a namespace cell drills down to the
entities (or, for a namespace matrix, to the pods) of the two namespaces. The matrix's notes
on cells that may be decided otherwise than shown (`undecided`) are listed below the views,
its assumptions in a collapsed section.
"""

import html
import json
from collections.abc import Iterable, Iterator

from netverify.model.matrix import ConnectivityMatrix, MatrixRow
from netverify.report.describe import describe_matrix_witness, describe_rule
from netverify.report.tables import matrix_tables

COLLAPSE_ABOVE = 60


def _page_data(
    matrix: ConnectivityMatrix, tables: list[tuple[str, list[MatrixRow]]]
) -> dict[str, object]:
    grids: list[list[str]] = []
    notes: list[dict[str, list[str]]] = []
    for _, rows in tables:
        grid: list[str] = []
        table_notes: dict[str, list[str]] = {}
        for i, row in enumerate(rows):
            grid.append("".join("1" if allowed else "0" for allowed in row.allowed))
            for j in range(len(matrix.entities)):
                witness = row.witness(j)
                if witness is None:
                    continue
                lines = [f"witness: {describe_matrix_witness(witness)}"]
                lines += [
                    f"allowed by {describe_rule(rule, matrix.sources)}"
                    for rule in witness.allowed_by
                ]
                table_notes[f"{i},{j}"] = lines
        grids.append(grid)
        notes.append(table_notes)
    detail = matrix.pod_rows
    return {
        "groupBy": matrix.group_by.value,
        "ports": [label for label, _ in tables],
        "entities": [{"name": e.name, "namespace": e.namespace} for e in matrix.entities],
        "grids": grids,
        "notes": notes,
        "detail": None
        if detail is None
        else {
            "pods": list(detail.pods),
            "namespaces": list(detail.namespaces),
            "rows": [list(rows) for rows in detail.rows],
        },
        "collapseAbove": COLLAPSE_ABOVE,
        "assumptions": list(matrix.assumptions),
        "undecided": list(matrix.undecided),
    }


def format_matrix(matrix: ConnectivityMatrix, rows: Iterable[MatrixRow]) -> Iterator[str]:
    """The whole page at the end: its data is one JSON object inside it."""
    tables = [(table.label, list(table.rows)) for table in matrix_tables(matrix, rows)]
    data = json.dumps(_page_data(matrix, tables), separators=(",", ":"), sort_keys=True)
    data = data.replace("</", "<\\/")
    allowed = sum(sum(row.allowed) for _, table_rows in tables for row in table_rows)
    summary = (
        f"{len(matrix.entities)} {matrix.group_by.value}s, "
        f"{allowed} of {matrix.cell_count} cells allowed"
    )
    yield (
        _TEMPLATE.replace("@SUMMARY@", html.escape(summary))
        .replace("@STYLE@", _STYLE)
        .replace("@DATA@", data)
        .replace("@SCRIPT@", _SCRIPT)
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netverify matrix</title>
<style>@STYLE@</style>
</head>
<body>
<h1>netverify connectivity matrix</h1>
<p id="summary">@SUMMARY@</p>
<div id="controls">
<label>port <select id="port"></select></label>
<button id="up" hidden>back to namespaces</button>
<span id="level"></span>
</div>
<div id="views">
<section><h2>heat-map <small>(rows: from, columns: to)</small></h2>
<div id="heatmap"></div></section>
<section><h2>graph</h2><div id="graph"></div></section>
</div>
<div id="tip" hidden></div>
<ul id="undecided"></ul>
<details><summary>assumptions</summary><ul id="assumptions"></ul></details>
<script type="application/json" id="matrix-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""

_STYLE = """
body { font-family: sans-serif; margin: 1em; color: #222; }
#views { display: flex; flex-wrap: wrap; gap: 2em; }
rect.cell { stroke: #fff; stroke-width: 1; cursor: pointer; }
rect.cell[data-allowed="true"] { fill: #2e7d32; }
rect.cell[data-allowed="false"] { fill: #e0e0e0; }
rect.cell:hover { stroke: #000; }
text { font-size: 11px; font-family: monospace; }
#tip { position: fixed; background: #fffde7; border: 1px solid #999; padding: 4px 8px;
  font: 12px monospace; white-space: pre; pointer-events: none; max-width: 60em; }
line.edge { stroke: #2e7d32; stroke-width: 1.2; opacity: 0.7; }
circle.node { fill: #1565c0; }
"""

_SCRIPT = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("matrix-data").textContent);
const state = { port: 0, drill: null };
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
  .replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function hexBit(hex, j) {
  const digit = hex.length - 1 - (j >> 2);
  if (digit < 0) return false;
  return ((parseInt(hex[digit], 16) >> (j & 3)) & 1) === 1;
}

function entityView() {
  const names = DATA.entities.map((e) => e.name);
  const grid = DATA.grids[state.port];
  return { names, allowed: (i, j) => grid[i][j] === "1",
    note: (i, j) => DATA.notes[state.port][i + "," + j] || [], drillable: false };
}

function namespaceView() {
  const spaces = [...new Set(DATA.entities.map((e) => e.namespace))].sort();
  const members = spaces.map((ns) => DATA.entities.map((e, i) => [e, i])
    .filter(([e]) => e.namespace === ns).map(([, i]) => i));
  const grid = DATA.grids[state.port];
  const allowed = (a, b) => members[a].some((i) => members[b].some((j) => grid[i][j] === "1"));
  return { names: spaces, allowed, note: () => ["click to drill down"], drillable: true,
    members };
}

function drillView(view, a, b) {
  if (DATA.groupBy === "namespace" && DATA.detail) {
    const d = DATA.detail;
    const from = d.pods.map((p, i) => i).filter((i) => d.namespaces[i] === view.names[a]);
    const to = d.pods.map((p, i) => i).filter((i) => d.namespaces[i] === view.names[b]);
    const rows = d.rows[state.port];
    return { names: null, from: from.map((i) => d.pods[i]), to: to.map((i) => d.pods[i]),
      allowed: (i, j) => hexBit(rows[from[i]], to[j]), note: () => [] };
  }
  const from = view.members[a], to = view.members[b];
  const grid = DATA.grids[state.port];
  return { names: null, from: from.map((i) => DATA.entities[i].name),
    to: to.map((i) => DATA.entities[i].name), allowed: (i, j) => grid[from[i]][to[j]] === "1",
    note: (i, j) => DATA.notes[state.port][from[i] + "," + to[j]] || [] };
}

function currentView() {
  const collapse = DATA.groupBy !== "namespace" && DATA.entities.length > DATA.collapseAbove;
  if (DATA.groupBy === "namespace" && DATA.detail && state.drill) {
    return drillView(entityViewAsNamespaces(), state.drill[0], state.drill[1]);
  }
  if (!collapse) return entityView();
  const view = namespaceView();
  return state.drill ? drillView(view, state.drill[0], state.drill[1]) : view;
}

function entityViewAsNamespaces() {
  const view = entityView();
  view.members = view.names.map((n, i) => [i]);
  return view;
}

function heatmap(view) {
  const from = view.names || view.from, to = view.names || view.to;
  const size = Math.max(8, Math.min(28, Math.floor(640 / Math.max(1, to.length))));
  const margin = 8 + 7 * Math.max(1, ...from.concat(to).map((n) => n.length));
  const width = margin + size * to.length + 10, height = margin + size * from.length + 10;
  const parts = [`<svg id="heatmap-svg" width="${width}" height="${height}">`];
  to.forEach((name, j) => {
    const x = margin + j * size + size / 2;
    parts.push(`<text class="col" transform="translate(${x},${margin - 4}) rotate(-60)">` +
      `${esc(name)}</text>`);
  });
  from.forEach((name, i) => {
    const y = margin + i * size + size / 2 + 4;
    parts.push(`<text class="row" x="${margin - 4}" y="${y}" text-anchor="end">` +
      `${esc(name)}</text>`);
    to.forEach((dest, j) => {
      const ok = view.allowed(i, j);
      parts.push(`<rect class="cell" data-i="${i}" data-j="${j}" data-from="${esc(name)}" ` +
        `data-to="${esc(dest)}" data-port="${esc(DATA.ports[state.port])}" ` +
        `data-allowed="${ok}" x="${margin + j * size}" y="${margin + i * size}" ` +
        `width="${size}" height="${size}"></rect>`);
    });
  });
  parts.push("</svg>");
  const box = document.getElementById("heatmap");
  box.innerHTML = parts.join("");
  box.querySelectorAll("rect.cell").forEach((rect) => {
    const i = +rect.dataset.i, j = +rect.dataset.j;
    rect.addEventListener("mousemove", (event) => {
      const lines = [`${rect.dataset.from} -> ${rect.dataset.to} (${rect.dataset.port}): ` +
        (rect.dataset.allowed === "true" ? "allowed" : "blocked"), ...view.note(i, j)];
      const tip = document.getElementById("tip");
      tip.textContent = lines.join("\n");
      tip.style.left = event.clientX + 12 + "px";
      tip.style.top = event.clientY + 12 + "px";
      tip.hidden = false;
    });
    rect.addEventListener("mouseleave", () => { document.getElementById("tip").hidden = true; });
    if (view.drillable || (DATA.groupBy === "namespace" && DATA.detail && !state.drill)) {
      rect.addEventListener("click", () => { state.drill = [i, j]; render(); });
    }
  });
}

function graph(view) {
  const names = view.names || [...new Set(view.from.concat(view.to))];
  const index = new Map(names.map((n, i) => [n, i]));
  const radius = Math.max(80, names.length * 9), c = radius + 120;
  const pos = names.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, names.length);
    return [c + radius * Math.cos(a), c + radius * Math.sin(a)];
  });
  const parts = [`<svg id="graph-svg" width="${2 * c}" height="${2 * c}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" ' +
    'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#2e7d32"></path>' +
    "</marker></defs>"];
  const from = view.names || view.from, to = view.names || view.to;
  from.forEach((s, i) => to.forEach((d, j) => {
    if (s === d || !view.allowed(i, j)) return;
    const [x1, y1] = pos[index.get(s)], [x2, y2] = pos[index.get(d)];
    parts.push(`<line class="edge" data-from="${esc(s)}" data-to="${esc(d)}" x1="${x1}" ` +
      `y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow)"></line>`);
  }));
  names.forEach((n, i) => {
    const [x, y] = pos[i];
    parts.push(`<circle class="node" cx="${x}" cy="${y}" r="6"><title>${esc(n)}</title></circle>`);
    parts.push(`<text x="${x + 9}" y="${y - 7}">${esc(n)}</text>`);
  });
  parts.push("</svg>");
  document.getElementById("graph").innerHTML = parts.join("");
}

function render() {
  const view = currentView();
  heatmap(view);
  graph(view);
  document.getElementById("up").hidden = !state.drill;
  const level = view.drillable ? "namespaces (click a cell to drill down)" : DATA.groupBy + "s";
  document.getElementById("level").textContent = state.drill ? "drill-down" : level;
}

const select = document.getElementById("port");
DATA.ports.forEach((label, k) => {
  const option = document.createElement("option");
  option.value = k;
  option.textContent = label;
  select.appendChild(option);
});
select.addEventListener("change", () => { state.port = +select.value; render(); });
document.getElementById("up").addEventListener("click", () => { state.drill = null; render(); });
DATA.undecided.forEach((note) => {
  const item = document.createElement("li");
  item.textContent = "Note: " + note;
  document.getElementById("undecided").appendChild(item);
});
DATA.assumptions.forEach((note) => {
  const item = document.createElement("li");
  item.textContent = note;
  document.getElementById("assumptions").appendChild(item);
});
render();
"""
