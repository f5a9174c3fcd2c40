// The Aerie console: polls /api/status every second and redraws tables and charts.
// Plain DOM and canvas, no libraries, nothing fetched from outside the node.
"use strict";

const POLL_MS = 1000;
const KINDS = [
  ["read", "Read", "#2f80ed"],
  ["write", "Write", "#eb5757"],
  ["batch_index", "Batch", "#27ae60"],
  ["pi_query", "Scan", "#9b51e0"],
  ["si_query", "Query", "#f2994a"],
  ["udf", "UDF", "#56ccf2"],
];
let polls = 0;

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function num(v) { const n = Number(v); return Number.isFinite(n) ? n : 0; }

function bytes(v) {
  let n = num(v);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
}

function duration(secs) {
  const s = num(secs);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + Math.floor(s % 60) + "s";
}

function cell(row, text, attrs) {
  const td = el("td", attrs || {}, text);
  row.appendChild(td);
  return td;
}

function bar(pct) {
  const b = el("span", { class: "bar" });
  const i = el("i");
  i.style.width = Math.max(0, Math.min(100, num(pct))) + "%";
  b.appendChild(i);
  return b;
}

// A table of key/value rows, or "none" when there are none.
function genericTable(container, rows, columns, noneText) {
  container.textContent = "";
  if (!rows || rows.length === 0) {
    container.appendChild(el("div", { class: "none", "data-empty": "true" }, noneText));
    return;
  }
  const keys = columns || Object.keys(rows[0]);
  const t = el("table");
  const head = el("tr");
  keys.forEach(k => head.appendChild(el("th", {}, k)));
  t.appendChild(el("thead")).appendChild(head);
  const body = t.appendChild(el("tbody"));
  rows.forEach(r => {
    const tr = el("tr");
    keys.forEach(k => cell(tr, r[k] === undefined ? "" : r[k], { "data-col": k }));
    body.appendChild(tr);
  });
  container.appendChild(t);
}

function renderHeader(s) {
  $("node-id").textContent = s.node;
  $("cluster-name").textContent = s.cluster_name;
  $("build").textContent = s.build + " (aerie " + s.aerie_version + ")";
  $("uptime").textContent = duration(s.uptime_secs);
}

function renderNodes(s) {
  const body = $("nodes").tBodies[0];
  body.textContent = "";
  const st = s.statistics || {};
  const tr = el("tr", { "data-node": s.node });
  cell(tr, s.node);
  cell(tr, s.endpoint);
  cell(tr, s.build);
  cell(tr, duration(s.uptime_secs), { class: "num" });
  cell(tr, st.cluster_size || "1", { class: "num" });
  cell(tr, st.client_connections || "0", { class: "num" });
  cell(tr, st.objects || "0", { class: "num", "data-stat": "objects" });
  cell(tr, bytes(s.rss_bytes), { class: "num", "data-stat": "rss_bytes" });
  body.appendChild(tr);
}

function renderNamespaces(s) {
  const body = $("namespaces").tBodies[0];
  body.textContent = "";
  (s.namespaces || []).forEach(ns => {
    const st = ns.stats || {};
    const tr = el("tr", { "data-ns": ns.name });
    cell(tr, ns.name);
    cell(tr, st.objects || "0", { class: "num", "data-ns": ns.name, "data-stat": "objects" });
    cell(tr, bytes(st.index_used_bytes), { class: "num", "data-stat": "index_used_bytes" });
    cell(tr, bytes(st.data_used_bytes), { class: "num", "data-stat": "data_used_bytes" });
    const used = cell(tr, "");
    used.appendChild(bar(st.data_used_pct));
    used.appendChild(document.createTextNode(num(st.data_used_pct) + "%"));
    const total = num(st.device_total_bytes);
    cell(tr, total > 0 ? bytes(st.device_used_bytes) + " / " + bytes(total) : "none (memory)");
    cell(tr, st["storage-engine"] || "");
    cell(tr, st["replication-factor"] || "", { class: "num" });
    cell(tr, st.stop_writes === "true" ? "YES" : "no");
    cell(tr, st.client_read_success || "0", { class: "num" });
    cell(tr, st.client_write_success || "0", { class: "num", "data-stat": "client_write_success" });
    cell(tr, st.expired_objects || "0", { class: "num" });
    cell(tr, st.evicted_objects || "0", { class: "num" });
    body.appendChild(tr);
  });
}

function renderMigrations(s) {
  const st = s.statistics || {};
  const remaining = num(st.migrate_partitions_remaining);
  const c = $("migrations");
  c.textContent = "";
  if (remaining === 0) {
    c.appendChild(el("div", { class: "none", "data-empty": "true" },
      "none: no partitions to migrate (cluster size " + (st.cluster_size || "1") + ")"));
  } else {
    c.appendChild(el("div", {}, remaining + " partitions remaining"));
  }
}

function renderLatencies(s) {
  genericTable($("latencies"), (s.latencies || []).filter(r => r.units),
    ["name", "units", "ops_per_sec", "gt_1", "gt_2", "gt_4", "gt_8", "gt_16", "gt_32", "gt_64"],
    "no slice yet: the first figures appear after two ticker periods (" +
      2 * (s.ticker_interval_secs || 10) + " s)");
}

// Draws one line per kind on a canvas; `log` uses a log10 y axis. Returns the peak value.
function drawChart(canvas, t, seriesByKind, log, unit) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, h = canvas.clientHeight || 220;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const left = 56, right = 8, top = 8, bottom = 22;
  let peak = 0;
  for (const [k] of KINDS) for (const v of seriesByKind[k] || []) peak = Math.max(peak, v);
  const yMax = log ? Math.pow(10, Math.ceil(Math.log10(Math.max(peak, 10)))) : niceMax(peak);
  const y = v => {
    const f = log ? (v <= 1 ? 0 : Math.log10(v) / Math.log10(yMax)) : v / yMax;
    return top + (h - top - bottom) * (1 - Math.min(1, f));
  };
  const n = t.length;
  const x = i => left + (w - left - right) * (n <= 1 ? 1 : i / (n - 1));
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#66717f";
  g.strokeStyle = "#e1e6ec";
  g.lineWidth = 1;
  const ticks = log ? Math.round(Math.log10(yMax)) : 4;
  for (let i = 0; i <= ticks; i++) {
    const v = log ? Math.pow(10, i) : yMax * i / ticks;
    const yy = y(v);
    g.beginPath(); g.moveTo(left, yy); g.lineTo(w - right, yy); g.stroke();
    g.fillText(fmt(v) + (unit || ""), 2, yy + 4);
  }
  if (n > 1) {
    g.fillText(Math.round((t[n - 1] - t[0]) / 1000) + " s ago", left, h - 6);
    g.fillText("now", w - right - 22, h - 6);
  }
  for (const [k, , color] of KINDS) {
    const s = seriesByKind[k] || [];
    if (!s.some(v => v > 0)) continue;
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    s.forEach((v, i) => (i === 0 ? g.moveTo(x(i), y(v)) : g.lineTo(x(i), y(v))));
    g.stroke();
  }
  canvas.setAttribute("data-points", String(n));
  canvas.setAttribute("data-peak", String(peak));
  return peak;
}

function niceMax(v) {
  if (v <= 0) return 10;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1);
}

function renderCharts(s) {
  const se = s.series || { t: [], secs: [], counts: {}, p50_us: {}, p99_us: {} };
  const ops = {};
  for (const [k] of KINDS) {
    ops[k] = (se.counts[k] || []).map((c, i) => (se.secs[i] > 0 ? c / se.secs[i] : 0));
  }
  const opsCanvas = $("chart-ops");
  drawChart(opsCanvas, se.t, ops, false, "");
  const legend = $("legend-ops");
  legend.textContent = "";
  for (const [k, label, color] of KINDS) {
    const counts = se.counts[k] || [];
    const total = counts.reduce((a, b) => a + b, 0);
    const now = ops[k].length ? ops[k][ops[k].length - 1] : 0;
    opsCanvas.setAttribute("data-total-" + k, String(total));
    const item = el("span", { "data-kind": k });
    const sw = el("i", { class: "sw" }); sw.style.background = color;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(label + " "));
    item.appendChild(el("b", { id: "ops-now-" + k }, now.toFixed(1) + "/s"));
    item.appendChild(document.createTextNode(" · " ));
    item.appendChild(el("b", { id: "ops-total-" + k }, String(total)));
    item.appendChild(document.createTextNode(" in window"));
    legend.appendChild(item);
  }
  const latCanvas = $("chart-latency");
  drawChart(latCanvas, se.t, se.p99_us, true, "µs");
  const ll = $("legend-latency");
  ll.textContent = "";
  for (const [k, label, color] of KINDS) {
    const p99 = (se.p99_us[k] || []).filter(v => v > 0);
    const p50 = (se.p50_us[k] || []).filter(v => v > 0);
    if (p99.length === 0) continue;
    const item = el("span", { "data-kind": k });
    const sw = el("i", { class: "sw" }); sw.style.background = color;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(label + " p50 ≤ "));
    item.appendChild(el("b", { id: "lat-p50-" + k }, p50[p50.length - 1] + " µs"));
    item.appendChild(document.createTextNode(" p99 ≤ "));
    item.appendChild(el("b", { id: "lat-p99-" + k }, p99[p99.length - 1] + " µs"));
    ll.appendChild(item);
  }
  if (ll.childNodes.length === 0) ll.appendChild(el("span", { class: "none" }, "no transactions in window"));
}

function render(s) {
  renderHeader(s);
  renderNodes(s);
  renderNamespaces(s);
  renderCharts(s);
  genericTable($("sets"), s.sets, ["ns", "set", "objects", "data_used_bytes", "truncate_lut", "sindexes"], "none");
  genericTable($("sindexes"), s.sindexes, null, "none");
  genericTable($("udfs"), s.udfs, null, "none");
  renderMigrations(s);
  renderLatencies(s);
}

async function poll() {
  const live = $("live");
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const s = await r.json();
    render(s);
    polls++;
    live.className = "ok";
    live.setAttribute("data-polls", String(polls));
    live.textContent = "live · " + new Date().toLocaleTimeString();
  } catch (e) {
    live.className = "down";
    live.textContent = "node unreachable (" + e.message + ")";
  }
  setTimeout(poll, POLL_MS);
}

poll();
