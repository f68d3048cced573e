// The chaind testnet dashboard: draws a State (see state.go) and, on a live
// page, redraws it on every Server-Sent Event. No libraries.
"use strict";

// Node colours come with the state: the report's plots use the same ones.
let COLOURS = [];
const colour = (i) => (i < 0 || i >= COLOURS.length ? "#999" : COLOURS[i]);
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function rpc(method, params) {
  const res = await fetch("/rpc", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({jsonrpc: "2.0", id: 1, method, params}),
  });
  const body = await res.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

function control(what, method, params) {
  const out = document.getElementById("control-result");
  out.textContent = what + "…";
  rpc(method, params).then(
    () => { out.textContent = what + ": done"; },
    (err) => { out.textContent = what + ": " + err.message; },
  );
}

function drawNodes(st) {
  const box = document.getElementById("nodes");
  box.replaceChildren();
  for (const n of st.nodes) {
    const card = el("div", {class: "node" + (n.alive ? "" : " down"), "data-index": n.index, style: "--c:" + colour(n.index)});
    card.append(el("b", {}, "node " + n.index), el("span", {}, n.alive ? "  up" : "  down"));
    if (n.alive) {
      const fin = n.finalized === null || n.finalized === undefined ? "none" : String(n.finalized);
      const rows = [["height", n.height], ["head", n.head.slice(0, 12) + "…"], ["peers", n.peers], ["mempool", n.pending], ["finalized", fin]];
      // A recorded run knows each node's final head, not its peers or mempool.
      for (const [k, v] of rows.filter(([k]) => window.DASHBOARD.live || (k !== "peers" && k !== "mempool"))) {
        card.append(el("div", {class: "kv", "data-k": k}, k + ": " + v));
      }
    }
    if (window.DASHBOARD.controls) {
      const b = el("button", {"data-action": n.alive ? "kill" : "restart"}, n.alive ? "Kill" : "Restart");
      b.onclick = () => control((n.alive ? "kill " : "restart ") + n.index, n.alive ? "testnet_kill" : "testnet_restart", [n.index]);
      card.append(el("br"), b);
    }
    box.append(card);
  }
  const up = st.nodes.filter((n) => n.alive).length;
  document.getElementById("summary").textContent = `${st.consensus}, ${up} of ${st.nodes.length} nodes up`;
}

// drawTree lays the latest heights out left to right, each block on the
// row the server gave it (the canonical chain on the top row, each side
// branch on a row of its own), producers by colour, node heads labelled,
// the highest finalized height as a line.
function drawTree(st) {
  const svg = document.getElementById("tree");
  svg.replaceChildren();
  if (st.blocks.length === 0) return;
  const top = Math.max(...st.blocks.map((b) => b.height));
  const lo = Math.min(...st.blocks.map((b) => b.height));
  const blocks = st.blocks;
  const row = new Map(blocks.map((b) => [b.hash, b.row]));
  const rows = Math.max(1, ...row.values()) + 1;
  const dx = 26, dy = 34, left = 40, top0 = 34;
  const x = (h) => left + (h - lo) * dx, y = (r) => top0 + r * dy;
  const width = x(top) + 110, height = y(rows) + 30;
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const byHash = new Map(blocks.map((b) => [b.hash, b]));
  for (const b of blocks) {
    const p = byHash.get(b.parent);
    if (p) svg.append(el("svg:line", {x1: x(p.height), y1: y(row.get(p.hash)), x2: x(b.height), y2: y(row.get(b.hash)), stroke: "#999"}));
  }
  const fin = Math.max(-1, ...st.nodes.filter((n) => n.alive && n.finalized != null).map((n) => n.finalized));
  if (fin >= lo) {
    svg.append(el("svg:line", {x1: x(fin) + dx / 2, y1: 8, x2: x(fin) + dx / 2, y2: y(rows) - 10, stroke: "#059669", "stroke-width": 2, "stroke-dasharray": "5 3", class: "finality"}));
    svg.append(el("svg:text", {x: x(fin) + dx / 2 + 3, y: 16, "font-size": 11, fill: "#059669"}, "finalized ≤ " + fin));
  }
  for (const b of blocks) {
    const r = el("svg:rect", {x: x(b.height) - 8, y: y(row.get(b.hash)) - 8, width: 16, height: 16, rx: 2,
      fill: colour(b.producer), stroke: b.canonical ? "#111" : "#dc2626", "stroke-width": b.canonical ? 1 : 2,
      class: "block" + (b.canonical ? " canonical" : " side"), "data-height": b.height, "data-row": b.row});
    r.append(el("svg:title", {}, `height ${b.height}, ${b.hash.slice(0, 14)}…, by node ${b.producer}`));
    svg.append(r);
    if (b.heads && b.heads.length) {
      svg.append(el("svg:text", {x: x(b.height) + 10, y: y(row.get(b.hash)) - 10, "font-size": 11, class: "head-label"}, "node " + b.heads.join(",")));
    }
  }
  // The height axis.
  svg.append(el("svg:line", {x1: left - 10, y1: y(rows) - 6, x2: width - 20, y2: y(rows) - 6, stroke: "#333"}));
  for (let h = Math.ceil(lo / 5) * 5; h <= top; h += 5) {
    svg.append(el("svg:line", {x1: x(h), y1: y(rows) - 6, x2: x(h), y2: y(rows) - 1, stroke: "#333"}));
    svg.append(el("svg:text", {x: x(h), y: y(rows) + 10, "font-size": 11, "text-anchor": "middle"}, String(h)));
  }
  svg.append(el("svg:text", {x: width - 20, y: y(rows) + 22, "font-size": 11, "text-anchor": "end"}, "height"));
  const legend = document.getElementById("legend");
  const side = el("span", {class: "side-key"});
  side.append(el("i"), document.createTextNode("red outline: a side branch (not on the chain of the highest head)"));
  legend.replaceChildren(...st.nodes.map((n) => {
    const s = el("span", {style: "--c:" + colour(n.index)});
    s.append(el("i"), document.createTextNode("produced by node " + n.index));
    return s;
  }), side);
}

function drawLinks(st) {
  const table = document.getElementById("links");
  table.replaceChildren();
  const head = el("tr");
  head.append(el("th", {}, "from \\ to"));
  for (const n of st.nodes) head.append(el("th", {}, "node " + n.index));
  table.append(head);
  const links = new Map(st.links.map((l) => [l.from + ">" + l.to, l]));
  for (const a of st.nodes) {
    const tr = el("tr");
    tr.append(el("th", {}, "node " + a.index));
    for (const b of st.nodes) {
      const l = links.get(a.index + ">" + b.index);
      if (!l) { tr.append(el("td", {class: "self"}, "")); continue; }
      let text = l.cut ? "cut" : `${l.latencyMs} ms`;
      if (!l.cut && l.jitterMs) text += ` ±${l.jitterMs}`;
      if (!l.cut && l.loss) text += `, ${Math.round(l.loss * 100)}% loss`;
      const td = el("td", {class: "link" + (l.cut ? " cut" : ""), "data-from": l.from, "data-to": l.to}, text);
      if (window.DASHBOARD.controls) {
        td.onclick = () => {
          const v = prompt(`link ${l.from} → ${l.to}: latency in ms, loss (0-1)`, `${l.latencyMs}, ${l.loss}`);
          if (v === null) return;
          const [lat, loss] = v.split(",").map((s) => parseFloat(s));
          control(`set-link ${l.from} ${l.to}`, "testnet_setLink",
            [l.from, l.to, {latency: Math.round((lat || 0) * 1e6), jitter: Math.round((l.jitterMs || 0) * 1e6), loss: loss || 0}]);
        };
      }
      tr.append(td);
    }
    table.append(tr);
  }
}

function drawEvents(st) {
  const list = document.getElementById("events");
  list.replaceChildren(...st.events.map((e) =>
    el("li", {class: e.kind}, `${new Date(e.timeMs).toLocaleTimeString()}  ${e.text}`)));
}

function draw(st) {
  COLOURS = st.colours || [];
  drawNodes(st);
  drawTree(st);
  drawLinks(st);
  drawEvents(st);
}

function wireControls() {
  if (!window.DASHBOARD.controls) return;
  document.getElementById("partition-btn").onclick = () => {
    const text = document.getElementById("partition-groups").value.trim();
    const groups = text.split(/\s+/).map((g) => g.split(",").map((s) => parseInt(s, 10)));
    control("partition " + text, "testnet_partition", [groups]);
  };
  document.getElementById("heal-btn").onclick = () => control("heal", "testnet_heal", []);
  document.getElementById("send-btn").onclick = () => control("send 20 transfers", "testnet_send", [20, 5]);
}

function start() {
  wireControls();
  if (!window.DASHBOARD.live) {
    draw(window.DASHBOARD.state);
    return;
  }
  const conn = document.getElementById("conn");
  const src = new EventSource("/events");
  src.addEventListener("state", (ev) => {
    conn.textContent = "live, updated " + new Date().toLocaleTimeString();
    draw(JSON.parse(ev.data));
  });
  src.onerror = () => { conn.textContent = "disconnected; retrying…"; };
}

start();
