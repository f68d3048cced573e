// chaind explorer: a single page that reads the node's own JSON-RPC API
// (the same origin, path /) and draws the view named by the URL fragment:
// #/ (latest blocks), #/block/<number|hash>, #/tx/<hash>, #/address/<addr>.
"use strict";

const LATEST = 20;        // heights shown on the front page
const SCAN = 256;         // blocks an account page scans for transfers
const SCAN_BATCH = 8;     // blocks per batched request of that scan (full blocks are large)
const REFRESH_MS = 2000;  // how often a live view reloads
const main = document.getElementById("main");

// ---- JSON-RPC ----

class RPCError extends Error {
  constructor(e) { super(e.message); this.code = e.code; }
}

let nextID = 1;
async function post(body) {
  const res = await fetch("/", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).trim()}`);
  return res.json();
}

async function rpc(method, ...params) {
  const r = await post({ jsonrpc: "2.0", id: nextID++, method, params });
  if (r.error) throw new RPCError(r.error);
  return r.result;
}

// batch sends calls ([method, ...params]) in one request and returns, for
// each, its result or an RPCError.
async function batch(calls) {
  if (calls.length === 0) return [];
  const base = nextID;
  nextID += calls.length;
  const rs = await post(calls.map(([method, ...params], i) => ({ jsonrpc: "2.0", id: base + i, method, params })));
  const out = new Array(calls.length);
  for (const r of rs) out[r.id - base] = r.error ? new RPCError(r.error) : r.result;
  return out;
}

const unavailable = (v) => v instanceof Error;

// What the node serves: namespaces (rpc_modules) and the engine.
const node = { modules: {}, consensus: null, events: [], since: 0 };

async function loadNode() {
  const [modules, consensus] = await batch([["rpc_modules"], ["chaind_consensus"]]);
  node.modules = unavailable(modules) ? {} : modules;
  node.consensus = unavailable(consensus) ? null : consensus;
  const c = node.consensus;
  document.getElementById("chain").textContent = c
    ? `${c.engine === "pos" ? "proof of stake" : "proof of work"} · chain id ${BigInt(c.chainId)}`
    : "";
}

const isPoS = () => node.consensus && node.consensus.engine === "pos";

// followHeads reads the node's head changes (chaind_headEvents) from where
// it stopped last time, keeping the newest 500 reorgs. Views that ask while
// a read is under way share it, so that no event is counted twice.
let following = null;
function followHeads() {
  following ??= readHeads().finally(() => { following = null; });
  return following;
}

async function readHeads() {
  if (!("chaind" in node.modules)) return;
  for (let i = 0; i < 50; i++) { // at most 50 000 events per refresh
    let evs;
    try { evs = await rpc("chaind_headEvents", hex(node.since)); } catch { return; }
    for (const e of evs) {
      if (e.removed.length > 0) node.events.push(e);
      node.since = Number(BigInt(e.seq)) + 1;
    }
    if (evs.length < 1000) break;
  }
  if (node.events.length > 500) node.events = node.events.slice(-500);
}

// ---- formatting ----

const hex = (n) => "0x" + BigInt(n).toString(16);
const num = (h) => (h == null ? null : Number(BigInt(h)));

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function ether(wei) {
  const w = BigInt(wei);
  const neg = w < 0n, a = neg ? -w : w;
  const unit = 10n ** 18n;
  let frac = (a % unit).toString().padStart(18, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${a / unit}${frac ? "." + frac : ""} ETH`;
}

function gwei(wei) {
  const w = BigInt(wei);
  return `${(Number(w) / 1e9).toLocaleString("en", { maximumFractionDigits: 9 })} gwei`;
}

const short = (h) => (h.length > 18 ? h.slice(0, 10) + "…" + h.slice(-6) : h);
const blockLink = (ref, text) => `<a href="#/block/${esc(ref)}">${esc(text ?? ref)}</a>`;
const hashLink = (h) => `<a class="mono" href="#/block/${esc(h)}" title="${esc(h)}">${esc(short(h))}</a>`;
const txLink = (h, full) => `<a class="mono" href="#/tx/${esc(h)}" title="${esc(h)}">${esc(full ? h : short(h))}</a>`;
const addrLink = (a, full) => (a ? `<a class="mono" href="#/address/${esc(a)}" title="${esc(a)}">${esc(full ? a : short(a))}</a>` : `<span class="muted">—</span>`);

function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const when = (ms) => `${new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC")} (${age(ms)})`;

function kv(rows) {
  return `<table class="kv">${rows.filter(Boolean).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`;
}

const badge = (cls, text) => `<span class="badge ${cls}">${esc(text)}</span>`;

// ---- finality ----

// finality reads the finalized block: the "finalized" tag on every chain
// and, on proof of stake, chaind_finality's checkpoints.
async function finality() {
  const [fin, ffg] = await batch([["eth_getBlockByNumber", "finalized", false], ["chaind_finality"]]);
  return {
    number: unavailable(fin) || !fin ? null : num(fin.number),
    ffg: unavailable(ffg) ? null : ffg,
  };
}

// finalityBadge words where a canonical block stands: finalized, or how
// many blocks sit on top of it.
function finalityBadge(number, canonical, head, fin) {
  if (!canonical) return badge("warn", "not canonical");
  if (fin.number != null && number <= fin.number) return badge("ok", "finalized");
  const conf = head - number;
  return badge("muted", `${conf} confirmation${conf === 1 ? "" : "s"}`);
}

// ---- views ----

async function viewHome() {
  await followHeads();
  const headHex = await rpc("eth_blockNumber");
  const head = num(headHex);
  const from = Math.max(0, head - LATEST + 1);
  const calls = [["chaind_blockTree", hex(from), hex(head)], ["admin_peers"], ["txpool_status"]];
  if (isPoS()) calls.push(["chaind_validators"]);
  const [tree, peers, pool, validators] = await batch(calls);
  const fin = await finality();

  let html = `<div class="card stats">
    <div><b>Head</b>${blockLink(head, "#" + head)}</div>
    <div><b>Finalized block</b>${fin.number == null ? `<span class="muted">none</span>` : blockLink(fin.number, "#" + fin.number)}</div>
    <div><b>Finality</b>${esc(node.consensus ? node.consensus.finality : "unknown")}</div>
    <div><b>Pending transactions</b>${unavailable(pool) ? "—" : num(pool.pending) + num(pool.queued)}</div>
    <div><b>Peers</b>${unavailable(peers) ? "—" : peers.length}</div></div>`;

  html += `<div class="card"><h2>Latest blocks</h2>`;
  if (unavailable(tree)) {
    html += `<p class="muted">chaind_blockTree is not served (${esc(tree.message)}).</p>`;
  } else {
    const rows = tree.slice().sort((a, b) => num(b.number) - num(a.number) || (b.canonical - a.canonical));
    html += `<table id="blocks"><tr><th>Block</th><th>Hash</th><th>Producer</th><th>Txs</th><th>Age</th><th>Finality</th></tr>`;
    for (const b of rows) {
      const n = num(b.number);
      html += `<tr class="${b.canonical ? "canonical" : "side"}" data-hash="${esc(b.hash)}" data-number="${n}">
        <td>${blockLink(b.hash, "#" + n)}</td><td class="hash">${hashLink(b.hash)}</td><td>${addrLink(b.miner)}</td>
        <td>${b.txs}</td><td>${age(num(b.timestampMs))}</td>
        <td>${b.canonical ? finalityBadge(n, true, head, fin) : badge("warn", "side branch")}</td></tr>`;
    }
    html += `</table>`;
  }
  html += `</div><div class="grid"><div>`;

  html += `<div class="card"><h2>Reorgs seen by this node</h2>`;
  if (!("chaind" in node.modules)) html += `<p class="muted">The chaind namespace is off on this node.</p>`;
  else if (node.events.length === 0) html += `<p class="muted" id="no-reorgs">None since the node started.</p>`;
  else {
    html += `<table id="reorgs"><tr><th>When</th><th>New head</th><th>Fork at</th><th>Removed (oldest first)</th><th>Added</th></tr>`;
    for (const e of node.events.slice(-10).reverse()) {
      const fork = num(e.number) - e.added.length; // the last block both branches share
      html += `<tr><td>${age(e.timeMs)}</td><td>${blockLink(e.hash, "#" + num(e.number))}</td><td>${blockLink(fork, "#" + fork)}</td>
        <td>${hashList(e.removed.slice().reverse())}</td><td>${hashList(e.added)}</td></tr>`;
    }
    html += `</table>`;
  }
  html += `</div>`;

  if (isPoS()) html += finalityCard(fin, validators);
  html += `</div><div>` + peersCard(peers) + `</div></div>`;
  return html;
}

// hashList links the first 4 block hashes and counts the rest.
function hashList(hashes) {
  const more = hashes.length > 4 ? `<br><span class="muted">and ${hashes.length - 4} more</span>` : "";
  return hashes.slice(0, 4).map(hashLink).join("<br>") + more;
}

function finalityCard(fin, validators) {
  let html = `<div class="card" id="pos"><h2>Finalized checkpoint</h2>`;
  const f = fin.ffg;
  if (!f) html += `<p class="muted">chaind_finality is not served by this node.</p>`;
  else {
    const cp = (c) => `epoch ${num(c.epoch)}, ${c.number == null ? `<span class="mono">${esc(short(c.hash))}</span>` : blockLink(c.hash, "block #" + num(c.number))}`;
    html += kv([
      ["Finality", f.enabled ? badge("ok", "on") : badge("muted", "off")],
      ["Current slot / epoch", `${num(f.currentSlot)} / ${num(f.currentEpoch)} (epochs of ${num(f.epochLength)} slots)`],
      ["Justified", cp(f.justified)],
      ["Finalized", cp(f.finalized)],
      ["Node's finalized block", blockLink(f.nodeFinalized.hash, "#" + num(f.nodeFinalized.number))],
    ]);
  }
  html += `<h2 style="margin-top:12px">Validators</h2>`;
  if (!validators || unavailable(validators)) html += `<p class="muted">chaind_validators is not served by this node.</p>`;
  else {
    html += `<table id="validators"><tr><th>Address</th><th>Stake</th><th>State</th></tr>`;
    for (const v of validators) {
      html += `<tr><td>${addrLink(v.address, true)}</td><td>${ether(v.stake)}</td>
        <td>${v.slashed ? badge("bad", "slashed") : v.active ? badge("ok", "active") : badge("muted", "exited")}</td></tr>`;
    }
    html += `</table>`;
  }
  return html + `</div>`;
}

function peersCard(peers) {
  let html = `<div class="card"><h2>Peers</h2>`;
  if (unavailable(peers)) {
    html += `<p class="muted" id="no-peers">admin_peers is not served (${esc(peers.message)}); start the node with --rpc.api including admin to list peers here.</p>`;
  } else if (peers.length === 0) {
    html += `<p class="muted">No peers connected.</p>`;
  } else {
    html += `<table id="peers"><tr><th>Peer</th><th>Address</th><th>Direction</th><th>Head</th><th>Latency</th></tr>`;
    for (const p of peers) {
      html += `<tr><td class="mono" title="${esc(p.id)}">${esc(short(p.id))}</td><td class="mono">${esc(p.address)}</td>
        <td>${esc(p.direction)}</td><td>${blockLink(p.head.hash, "#" + num(p.head.number))}</td><td>${p.latencyMs.toFixed(1)} ms</td></tr>`;
    }
    html += `</table>`;
  }
  return html + `</div>`;
}

async function viewBlock(ref) {
  const byHash = /^0x[0-9a-fA-F]{64}$/.test(ref);
  let block;
  if (byHash) block = await rpc("eth_getBlockByHash", ref, true);
  else if (/^\d+$/.test(ref)) block = await rpc("eth_getBlockByNumber", hex(ref), true);
  else if (["latest", "finalized", "safe", "earliest"].includes(ref)) block = await rpc("eth_getBlockByNumber", ref, true);
  else return notFound(`“${ref}” is not a block number or hash.`);
  if (!block) return notFound(`This node has no block ${ref}.`);
  await followHeads();
  const n = num(block.number);
  const [canon, headHex, siblings] = await batch([["eth_getBlockByNumber", hex(n), false], ["eth_blockNumber"], ["chaind_blockTree", hex(n), hex(n)]]);
  const head = num(headHex);
  const canonical = !unavailable(canon) && canon && canon.hash === block.hash;
  const fin = await finality();

  let html = `<h1>Block #${n}</h1>`;
  if (!canonical) {
    const reorg = node.events.find((e) => e.removed.includes(block.hash));
    html += `<div class="banner bad" id="not-canonical"><b>This block is not canonical.</b> `;
    html += reorg ? `It was taken off this node's chain by a reorg ${age(reorg.timeMs)} (new head ${blockLink(reorg.hash, "#" + num(reorg.number))}). `
      : `It sits on a side branch that never became this node's chain. `;
    html += canon && !unavailable(canon)
      ? `Block #${n} of the canonical chain is <span id="replaced-by">${hashLink(canon.hash)}</span>.</div>`
      : `The canonical chain does not reach height ${n} any more.</div>`;
  }
  const ms = num(block.timestampMs ?? hex(num(block.timestamp) * 1000));
  html += `<div class="card">` + kv([
    ["Block height", `<span id="block-number">${n}</span>`],
    ["Hash", `<span class="mono" id="block-hash">${esc(block.hash)}</span>`],
    ["Status", `<span id="block-status">${finalityBadge(n, canonical, head, fin)}</span>`],
    ["Timestamp", esc(when(ms))],
    ["Producer", `<span id="block-producer">${addrLink(block.miner, true)}</span>`],
    ["Transactions", `${block.transactions.length}`],
    ["Parent", n === 0 ? `<span class="muted">genesis</span>` : `<a class="mono" href="#/block/${esc(block.parentHash)}">${esc(block.parentHash)}</a>`],
    ["Gas used / limit", `${num(block.gasUsed).toLocaleString("en")} / ${num(block.gasLimit).toLocaleString("en")}`],
    block.baseFeePerGas ? ["Base fee", gwei(block.baseFeePerGas)] : null,
    ["Weight (difficulty)", `${BigInt(block.difficulty)} (total weight of the chain up to here ${BigInt(block.totalDifficulty)})`],
    ["State root", `<span class="mono">${esc(block.stateRoot)}</span>`],
    ["Size", `${num(block.size).toLocaleString("en")} bytes`],
  ]) + `</div>`;

  if (!unavailable(siblings) && siblings.length > 1) {
    html += `<div class="card"><h2>Blocks at height ${n}</h2><table id="siblings"><tr><th>Hash</th><th>Producer</th><th>Txs</th><th></th></tr>`;
    for (const s of siblings) {
      html += `<tr class="${s.canonical ? "canonical" : "side"}" data-hash="${esc(s.hash)}"><td>${hashLink(s.hash)}${s.hash === block.hash ? " (this block)" : ""}</td>
        <td>${addrLink(s.miner)}</td><td>${s.txs}</td><td>${s.canonical ? badge("ok", "canonical") : badge("warn", "side branch")}</td></tr>`;
    }
    html += `</table></div>`;
  }
  html += `<div class="card"><h2>Transactions</h2>`;
  if (block.transactions.length === 0) html += `<p class="muted">None.</p>`;
  else html += txTable(block.transactions);
  return html + `</div>`;
}

function txTable(txs, withBlock) {
  let html = `<table class="txs"><tr><th>Hash</th>${withBlock ? "<th>Block</th>" : ""}<th>From</th><th>To</th><th>Value</th></tr>`;
  for (const t of txs) {
    html += `<tr data-hash="${esc(t.hash)}"><td>${txLink(t.hash)}</td>${withBlock ? `<td>${blockLink(num(t.blockNumber))}</td>` : ""}
      <td>${addrLink(t.from)}</td><td>${t.to ? addrLink(t.to) : `<span class="muted">contract creation</span>`}</td><td>${ether(t.value)}</td></tr>`;
  }
  return html + `</table>`;
}

const txTypes = { 0: "legacy", 1: "access list (EIP-2930)", 2: "dynamic fee (EIP-1559)", 3: "blob (EIP-4844)", 4: "set code (EIP-7702)" };

async function viewTx(hash) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) return notFound(`“${hash}” is not a transaction hash.`);
  const [tx, rc, headHex] = await batch([["eth_getTransactionByHash", hash], ["eth_getTransactionReceipt", hash], ["eth_blockNumber"]]);
  if (unavailable(tx)) throw tx;
  if (!tx) return notFound(`This node knows no transaction ${hash}.`);
  const head = num(headHex);
  let status = badge("warn", "pending (in the mempool)");
  if (rc && !unavailable(rc)) status = num(rc.status) === 1 ? badge("ok", "success") : badge("bad", "failed");
  const rows = [
    ["Transaction hash", `<span class="mono" id="tx-hash">${esc(tx.hash)}</span>`],
    ["Status", `<span id="tx-status">${status}</span>`],
  ];
  if (rc && !unavailable(rc)) {
    const fin = await finality();
    const bn = num(rc.blockNumber);
    rows.push(["Block", `${blockLink(rc.blockHash, "#" + bn)} ${finalityBadge(bn, true, head, fin)}`]);
  }
  rows.push(
    ["From", addrLink(tx.from, true)],
    ["To", tx.to ? addrLink(tx.to, true) : `<span class="muted">contract creation</span>`],
    ["Value", `<span id="tx-value">${ether(tx.value)}</span>`],
  );
  if (rc && !unavailable(rc)) {
    const fee = BigInt(rc.gasUsed) * BigInt(rc.effectiveGasPrice);
    rows.push(
      ["Transaction fee", `${ether(fee)}`],
      ["Gas used / limit", `<span id="tx-gas-used">${num(rc.gasUsed).toLocaleString("en")}</span> / ${num(tx.gas).toLocaleString("en")}`],
      ["Effective gas price", gwei(rc.effectiveGasPrice)],
      rc.contractAddress ? ["Contract created", addrLink(rc.contractAddress, true)] : null,
      ["Logs", `${rc.logs.length}`],
    );
  } else {
    rows.push(["Gas limit", num(tx.gas).toLocaleString("en")]);
  }
  rows.push(
    ["Type", `${num(tx.type)} ${esc(txTypes[num(tx.type)] ?? "")}`],
    ["Nonce", `${num(tx.nonce)}`],
    tx.maxFeePerGas ? ["Max fee / priority fee", `${gwei(tx.maxFeePerGas)} / ${gwei(tx.maxPriorityFeePerGas)}`] : ["Gas price", gwei(tx.gasPrice)],
    ["Input data", tx.input === "0x" ? `<span class="muted">none</span>` : `<span class="mono">${esc(tx.input)}</span>`],
  );
  return { html: `<h1>Transaction</h1><div class="card">${kv(rows)}</div>`, live: !rc };
}

// scan holds what the account page found in the blocks it scanned, so that
// a reload reads only the blocks mined since: per block number, the block's
// hash, whether the account produced it and its transfers.
let scan = { addr: "", blocks: new Map() };

// scanBlocks reads blocks from..to (canonical, full transactions) in
// batches and records the account's part in each in acc.
async function scanBlocks(acc, from, to) {
  for (let hi = to; hi >= from; hi -= SCAN_BATCH) {
    const calls = [];
    for (let n = hi; n > hi - SCAN_BATCH && n >= from; n--) calls.push(["eth_getBlockByNumber", hex(n), true]);
    for (const b of await batch(calls)) {
      if (!b || unavailable(b)) continue;
      const mine = (a) => a && a.toLowerCase() === acc.addr;
      const txs = b.transactions.filter((t) => mine(t.from) || mine(t.to));
      acc.blocks.set(num(b.number), { hash: b.hash, produced: mine(b.miner), txs });
    }
  }
}

async function viewAddress(addr) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(addr)) return notFound(`“${addr}” is not an address.`);
  const [bal, nonce, code, headHex] = await batch([["eth_getBalance", addr, "latest"], ["eth_getTransactionCount", addr, "latest"], ["eth_getCode", addr, "latest"], ["eth_blockNumber"]]);
  if (unavailable(bal)) throw bal;
  const head = num(headHex);
  const from = Math.max(0, head - SCAN + 1);
  const lower = addr.toLowerCase();
  // A view left half-way (the user went elsewhere) may still be scanning:
  // each view fills its own acc and keeps it only once complete.
  let acc = { addr: lower, blocks: new Map() };
  let known = -1; // the highest block already scanned, if still canonical
  if (scan.addr === lower && scan.blocks.size > 0) {
    known = Math.max(...scan.blocks.keys());
    const b = known <= head ? await rpc("eth_getBlockByNumber", hex(known), false) : null;
    if (b && b.hash === scan.blocks.get(known).hash) acc = { addr: lower, blocks: new Map(scan.blocks) };
    else known = -1; // a reorg: scan again
  }
  await scanBlocks(acc, Math.max(from, known + 1), head);
  for (const n of acc.blocks.keys()) if (n < from) acc.blocks.delete(n);
  scan = acc;
  const numbers = [...acc.blocks.keys()].sort((a, b) => b - a);
  const transfers = numbers.flatMap((n) => acc.blocks.get(n).txs);
  const produced = numbers.filter((n) => acc.blocks.get(n).produced).length;
  const scanned = head - from + 1;
  let html = `<h1>Account</h1><div class="card">` + kv([
    ["Address", `<span class="mono" id="account-address">${esc(addr)}</span>`],
    ["Balance", `<span id="account-balance">${ether(bal)}</span>`],
    ["Nonce (transactions sent)", unavailable(nonce) ? "—" : `${num(nonce)}`],
    ["Code", unavailable(code) || code === "0x" ? "none (externally owned account)" : `${(code.length - 2) / 2} bytes (contract)`],
    ["Blocks produced", `${produced} in the last ${scanned} blocks`],
  ]) + `</div>`;
  html += `<div class="card" id="transfers"><h2>Transfers in the last ${scanned} blocks</h2>
    <p class="muted">chaind keeps no index of an account's transactions; this page scans blocks #${from} to #${head} of the canonical chain.</p>`;
  html += transfers.length === 0 ? `<p class="muted">None.</p>` : txTable(transfers, true);
  return html + `</div>`;
}

function notFound(msg) {
  return `<div class="banner warn" id="not-found">${esc(msg)}</div>`;
}

// ---- routing ----

let timer = null;
let generation = 0;

async function route() {
  clearTimeout(timer);
  const gen = ++generation;
  const [, kind, arg] = (location.hash.match(/^#\/(\w+)\/(.+)$/) || []);
  let out, live = false;
  try {
    if (node.consensus === null) await loadNode();
    switch (kind) {
      case "block": out = await viewBlock(decodeURIComponent(arg)); break;
      case "tx": ({ html: out, live } = await wrap(viewTx(decodeURIComponent(arg)))); break;
      case "address": out = await viewAddress(decodeURIComponent(arg)); live = true; break;
      default: out = await viewHome(); live = true;
    }
  } catch (e) {
    out = `<div class="banner bad" id="error">Cannot reach the node's JSON-RPC API: ${esc(e.message)}</div>`;
    live = true;
  }
  if (gen !== generation) return; // the user went elsewhere meanwhile
  main.innerHTML = out;
  document.body.dataset.view = kind || "home";
  if (live) timer = setTimeout(route, REFRESH_MS);
}

// wrap lets a view answer either HTML or {html, live}.
async function wrap(p) {
  const v = await p;
  return typeof v === "string" ? { html: v, live: false } : v;
}

// search sends a query to the view it names: a number is a block, a
// 32-byte hash a block or else a transaction, 20 bytes an address.
async function search(q) {
  q = q.trim();
  if (/^#?\d+$/.test(q)) return `#/block/${q.replace("#", "")}`;
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) return `#/address/${q}`;
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const b = await rpc("eth_getBlockByHash", q, false).catch(() => null);
    return b ? `#/block/${q}` : `#/tx/${q}`;
  }
  if (["latest", "finalized", "safe", "earliest"].includes(q)) return `#/block/${q}`;
  clearTimeout(timer);
  generation++;
  main.innerHTML = notFound(`Search for a block number, a block or transaction hash (0x and 64 hex digits) or an address (0x and 40 hex digits); “${q}” is none of these.`);
  return null;
}

document.getElementById("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const to = await search(document.getElementById("q").value);
  if (to === null) return;
  if (location.hash === to) route();
  else location.hash = to;
});

window.addEventListener("hashchange", route);
route();
