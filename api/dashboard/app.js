// dsynth dashboard: plain JavaScript over the /api/v1 endpoints and the
// /api/v1/events WebSocket. The API key is kept in sessionStorage.
"use strict";
(function () {
  const $ = (s) => document.querySelector(s);
  const KEY = "dsynth.apikey";
  const st = { profile: null, runID: null, digest: null, live: null, workers: {}, paused: {}, throttled: {}, ws: null, es: null, refresh: null };

  function key() { return sessionStorage.getItem(KEY) || ""; }

  async function api(method, path, body) {
    const opt = { method, headers: { "X-API-Key": key() } };
    if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
    const r = await fetch("/api/v1" + path, opt);
    const j = await r.json().catch(() => ({ status: "error", error: { message: r.statusText } }));
    if (j.status !== "success") {
      const e = new Error((j.error && j.error.message) || r.statusText);
      e.status = r.status; e.code = j.error && j.error.code;
      throw e;
    }
    return j;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? "" : String(k)));
    return e;
  }
  const svgEl = (tag, attrs, text) => {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  };
  const dur = (s) => s == null ? "" : s < 60 ? s.toFixed(1) + "s" : s < 3600 ? (s / 60).toFixed(1) + "m" : (s / 3600).toFixed(1) + "h";
  const ago = (t) => t ? dur((Date.now() - new Date(t).getTime()) / 1000) : "";
  const badge = (text) => el("span", { class: "badge " + text }, text);

  // --- login -------------------------------------------------------------
  async function login(k) {
    sessionStorage.setItem(KEY, k);
    try {
      await api("GET", "/config/profiles");
    } catch (e) {
      sessionStorage.removeItem(KEY);
      throw e;
    }
  }

  async function start() {
    $("#login").hidden = true;
    $("#app").hidden = false;
    const profs = (await api("GET", "/config/profiles")).data;
    const sel = $("#profile");
    sel.replaceChildren(...profs.map((p) => el("option", { value: p.name }, p.name)));
    st.profile = profs[0].name;
    sel.onchange = () => { st.profile = sel.value; refreshAll(); };
    connect();
    await refreshAll();
    setInterval(refreshStatus, 5000);
    setInterval(refreshStats, 30000);
  }

  // --- live events ---------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/api/v1/events?api_key=" + encodeURIComponent(key()));
    st.ws = ws;
    ws.onopen = () => { $("#conn").textContent = "live"; $("#conn").className = "badge on"; };
    ws.onclose = () => {
      $("#conn").textContent = "offline"; $("#conn").className = "badge off";
      if (key()) setTimeout(connect, 2000);
    };
    ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); } };
  }

  function onEvent(e) {
    if (e.profile && e.profile !== st.profile) return;
    const d = e.data || {};
    switch (e.type) {
      case "build.started":
        st.runID = e.run_id; st.digest = d.plan_digest;
        st.live = { done: 0, total: d.total, counts: {} };
        st.workers = {};
        for (let w = 0; w < d.workers; w++) st.workers[w] = { worker: w };
        renderOverview("running"); renderWorkers(); loadGraph(); scheduleRefresh();
        break;
      case "build.progress":
        if (e.run_id !== st.runID) { st.runID = e.run_id; scheduleRefresh(); }
        st.live = { done: d.done, total: d.total, counts: d.counts };
        renderOverview("running");
        if (d.kind === "built" || d.kind === "failed" || d.kind === "start" || d.kind === "progress") scheduleRefresh();
        break;
      case "worker.status":
        st.workers[d.worker] = { worker: d.worker, node: d.node, phase: d.phase, since: e.timestamp };
        st.paused[d.worker] = !!d.paused;
        renderWorkers();
        break;
      case "worker.idle":
        st.workers[d.worker] = { worker: d.worker };
        st.paused[d.worker] = !!d.paused;
        st.throttled[d.worker] = !!d.throttled;
        renderWorkers();
        break;
      case "worker.throttle":
        st.throttled[d.worker] = !!d.throttled;
        if (!st.workers[d.worker]) st.workers[d.worker] = { worker: d.worker };
        renderWorkers();
        break;
      case "repository.status":
        $("#repo-state").textContent = d.state;
        if (d.state !== "building") refreshRepository();
        break;
      case "build.completed":
      case "build.failed":
        if (st.live) st.live = { done: d.done, total: d.total, counts: d.counts };
        renderOverview(d.status || "failed");
        for (const w in st.workers) st.workers[w] = { worker: +w };
        renderWorkers(); scheduleRefresh(); refreshStats();
        break;
    }
  }

  function scheduleRefresh() {
    clearTimeout(st.refresh);
    st.refresh = setTimeout(() => { refreshResults(); refreshQueue(); refreshHistory(); refreshFarm(); }, 300);
  }

  // --- rendering -----------------------------------------------------------
  function renderOverview(state) {
    $("#run-id").textContent = st.runID ? st.runID.slice(0, 8) : "";
    const b = $("#build-state"); b.textContent = state; b.className = "badge " + state;
    const l = st.live;
    if (l && l.total) {
      $("#progress-bar").style.width = (100 * l.done / l.total).toFixed(1) + "%";
      $("#progress-text").textContent = l.done + " / " + l.total + " ports done";
      const c = l.counts || {};
      $("#counts").replaceChildren(...[["built", c.built], ["failed", c.failed], ["skipped", c.skipped], ["ignored", c.ignored], ["up to date", c.up_to_date]]
        .map(([k, v]) => el("span", {}, k + ": " + (v || 0))));
    } else {
      $("#progress-bar").style.width = "0";
      $("#progress-text").textContent = "no build running";
      $("#counts").replaceChildren();
    }
    $("#cancel-build").disabled = state !== "running";
  }

  function renderWorkers() {
    const rows = Object.values(st.workers).sort((a, b) => a.worker - b.worker).map((w) => {
      const paused = !!st.paused[w.worker];
      const state = w.node ? "building" : paused ? "paused" : st.throttled[w.worker] ? "throttled" : "idle";
      const btn = el("button", { type: "button", onclick: () => togglePause(w.worker, paused) }, paused ? "resume" : "pause");
      return el("tr", { class: "worker", "data-worker": w.worker },
        el("td", {}, w.worker), el("td", { class: "state" }, badge(state)), el("td", { class: "node mono" }, w.node || ""),
        el("td", { class: "phase" }, w.node ? w.phase || "" : ""), el("td", {}, w.node ? ago(w.since) : ""), el("td", {}, btn));
    });
    $("#workers tbody").replaceChildren(...rows);
  }

  async function togglePause(w, paused) {
    try {
      await api("POST", "/workers/" + w + "/" + (paused ? "resume" : "pause") + "?profile=" + encodeURIComponent(st.profile));
      st.paused[w] = !paused; renderWorkers();
    } catch (e) { msg(e.message); }
  }

  function msg(t) { $("#action-msg").textContent = t; }

  async function refreshStatus() {
    const s = (await api("GET", "/status")).data;
    const p = s.profiles.find((x) => x.name === st.profile);
    if (!p) return;
    if (p.state === "building" && p.live) {
      st.runID = p.run_id;
      st.live = { done: p.live.done, total: p.live.total, counts: p.live.counts };
      for (const w of p.live.workers || []) st.workers[w.worker] = { worker: w.worker, node: w.node, phase: w.phase, since: w.since };
      renderOverview("running");
    } else if (p.last_run) {
      st.runID = p.last_run.id; st.digest = p.last_run.plan_digest;
      // What the run finished (a run still running, seen before its
      // live status, or an interrupted one, has not finished them all).
      const c = p.last_run.counts, done = (c.built || 0) + (c.failed || 0) + (c.skipped || 0) + (c.ignored || 0) + (c.up_to_date || 0);
      st.live = { done: done, total: c.planned, counts: c };
      renderOverview(p.last_run.status);
    } else {
      renderOverview("idle");
    }
    const ws = (await api("GET", "/workers?profile=" + encodeURIComponent(st.profile))).data;
    for (const w of ws) {
      st.paused[w.id] = w.paused;
      st.throttled[w.id] = !!w.throttled;
      if (p.state === "building") st.workers[w.id] = { worker: w.id, node: w.node, phase: w.phase, since: w.since };
      else if (!st.workers[w.id]) st.workers[w.id] = { worker: w.id };
    }
    renderWorkers();
  }

  async function refreshQueue() {
    const q = (await api("GET", "/queue")).data.find((x) => x.profile === st.profile);
    const items = [];
    if (q && q.running) items.push(el("li", {}, badge("running"), " ", q.run_id ? q.run_id.slice(0, 8) : q.running.id, " ", (q.running.packages || []).join(" ") || "profile targets"));
    for (const it of (q && q.queued) || []) {
      items.push(el("li", {}, badge("queued"), " ", it.id, " ", (it.packages || []).join(" ") || "profile targets", " ",
        el("button", { type: "button", onclick: async () => { await api("DELETE", "/queue/" + it.id); refreshQueue(); } }, "remove")));
    }
    $("#queue").replaceChildren(...(items.length ? items : [el("li", { class: "hint" }, "empty")]));
  }

  async function refreshResults() {
    if (!st.runID) return;
    const b = (await api("GET", "/builds/" + st.runID)).data;
    if (st.digest !== b.build.plan_digest || !st.graphShown) { st.digest = b.build.plan_digest; loadGraph(); }
    const rows = b.ports.filter((p) => p.status).map((p) => el("tr", {},
      el("td", { class: "mono" }, p.node), el("td", {}, p.planned), el("td", {}, badge(p.status)),
      el("td", {}, p.duration_s ? dur(p.duration_s) : ""), el("td", {}, p.last_phase || ""),
      el("td", {}, p.attempt_id && (p.status === "building" || p.status === "success" || p.status === "failed" || p.status === "interrupted")
        ? el("a", { href: "#", class: "log-link", "data-attempt": p.attempt_id, onclick: (ev) => { ev.preventDefault(); openLog(p.attempt_id, p.node); } }, p.status === "building" ? "live log" : "log")
        : "")));
    $("#results tbody").replaceChildren(...rows);
    st.outcomes = {};
    for (const p of b.ports) if (p.status) st.outcomes[p.node] = p.status;
    colorGraph();
  }

  // The graph shows what happened (the legend says how), not the plan's
  // actions: a failed port is red.
  const outcomeColor = { success: "#bfe8cc", "up-to-date": "#e3ecd9", building: "#c9d9fa", failed: "#f5c2c2",
    skipped: "#f7e2b5", ignored: "#f7e2b5", interrupted: "#f7e2b5" };
  function colorGraph() {
    for (const g of document.querySelectorAll("#graph .gnode")) {
      const o = (st.outcomes || {})[g.dataset.node];
      const r = g.querySelector("rect");
      r.setAttribute("fill", outcomeColor[o] || "#eee");
      g.dataset.outcome = o || "planned";
    }
  }

  function openLog(attempt, node) {
    if (st.es) st.es.close();
    $("#log-panel").hidden = false;
    $("#log-title").textContent = node;
    $("#log-state").textContent = "streaming"; $("#log-state").className = "badge running";
    const pre = $("#log"); pre.textContent = "";
    const es = new EventSource("/api/v1/logs/" + attempt + "/stream?api_key=" + encodeURIComponent(key()));
    st.es = es;
    es.onmessage = (m) => {
      const d = JSON.parse(m.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(d.line + "\n");
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    };
    es.addEventListener("end", (m) => {
      const d = JSON.parse(m.data);
      $("#log-state").textContent = d.status; $("#log-state").className = "badge " + d.status;
      es.close();
    });
  }

  async function refreshHistory() {
    const runs = (await api("GET", "/builds?per_page=10")).data;
    $("#history tbody").replaceChildren(...runs.map((r) => el("tr", {},
      el("td", { class: "mono" }, el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); st.runID = r.id; st.digest = r.plan_digest; refreshResults(); loadGraph(); } }, r.id.slice(0, 8))),
      el("td", {}, r.profile_name), el("td", {}, new Date(r.start).toLocaleString()), el("td", {}, badge(r.status)),
      el("td", {}, r.counts.built), el("td", {}, r.counts.failed), el("td", {}, r.counts.skipped), el("td", {}, dur(r.duration_s)))));
  }

  async function refreshStats() {
    const s = (await api("GET", "/stats")).data;
    const hours = s.per_hour, svg = $("#chart-hours");
    const maxv = Math.max(1, ...hours.map((h) => h.success + h.failed));
    const kids = [];
    hours.forEach((h, i) => {
      const x = 10 + i * 19, hs = 120 * h.success / maxv, hf = 120 * h.failed / maxv;
      kids.push(svgEl("rect", { x, y: 130 - hs, width: 15, height: hs, fill: "#2e9d57" }));
      kids.push(svgEl("rect", { x, y: 130 - hs - hf, width: 15, height: hf, fill: "#d23f3f" }));
      if (i % 6 === 0) kids.push(svgEl("text", { x, y: 150 }, new Date(h.hour).getHours() + "h"));
    });
    kids.push(svgEl("text", { x: 10, y: 12 }, "max " + maxv + "/h"));
    svg.replaceChildren(...kids);
    const x = s.stats;
    $("#stats-line").textContent = "success rate " + (100 * x.success_rate).toFixed(0) + "%, " + x.success + " built, " + x.failed +
      " failed, average " + dur(x.average_build_ns / 1e9) + ", " + x.pkgs_per_hour.toFixed(1) + " pkgs/h";
    const slow = x.slowest || [], sv = $("#chart-slowest");
    const maxd = Math.max(1, ...slow.map((p) => p.duration_ns));
    sv.replaceChildren(...slow.slice(0, 8).flatMap((p, i) => [
      svgEl("rect", { x: 180, y: 4 + i * 19, width: 290 * p.duration_ns / maxd, height: 15, fill: p.status === "success" ? "#2f6fdf" : "#d23f3f" }),
      svgEl("text", { x: 4, y: 16 + i * 19 }, p.node_id.slice(0, 26)),
      svgEl("text", { x: 184, y: 16 + i * 19, fill: "#fff" }, dur(p.duration_ns / 1e9)),
    ]));
  }

  // The dependency graph, in layers by depth (dependencies above). A layer
  // wider than the card wraps onto more rows (each layer on its own band),
  // so that every node is seen without scrolling sideways: labels keep
  // their size, and the graph is laid out again when the card's width
  // changes.
  async function loadGraph() {
    if (!st.digest || st.graphShown === st.digest) return;
    let g;
    try { g = (await api("GET", "/plans/" + st.digest + "?format=graph")).data.graph; } catch (e) { return; }
    $("#graph-digest").textContent = st.digest.slice(0, 12);
    st.graphShown = st.digest;
    const deps = {};
    for (const n of g.nodes) deps[n.id] = [];
    for (const e of g.edges) if (deps[e.from]) deps[e.from].push(e.to);
    const depth = {};
    const d = (id, seen) => {
      if (depth[id] != null) return depth[id];
      if (seen.has(id)) return 0;
      seen.add(id);
      depth[id] = Math.max(0, ...deps[id].filter((x) => x in deps).map((x) => d(x, seen) + 1));
      return depth[id];
    };
    g.nodes.forEach((n) => d(n.id, new Set()));
    const layers = [];
    for (const n of g.nodes) (layers[depth[n.id]] = layers[depth[n.id]] || []).push(n);
    st.graph = { g, layers: layers.filter(Boolean) };
    drawGraph();
  }

  // Node boxes are NW x NH, PITCH apart in a row; rows of one layer are
  // ROW apart, layers GAP apart (room for the edges).
  const NW = 170, NH = 26, PITCH = 190, ROW = 36, GAP = 28;
  const graphCols = () => Math.max(1, Math.floor($("#graph-wrap").clientWidth / PITCH));

  function drawGraph() {
    if (!st.graph) return;
    const { g, layers } = st.graph;
    const cols = graphCols();
    st.graphCols = cols;
    const width = PITCH * Math.min(cols, Math.max(1, ...layers.map((l) => l.length)));
    const pos = {}, bands = [];
    let top = 10;
    layers.forEach((l, depth) => {
      const rows = Math.ceil(l.length / cols);
      l.forEach((n, i) => { pos[n.id] = { x: 10 + (i % cols) * PITCH, y: top + Math.floor(i / cols) * ROW }; });
      bands.push({ depth, y: top - 7, height: rows * ROW - ROW + NH + 14, count: l.length });
      top += rows * ROW - ROW + NH + GAP;
    });
    const height = top - GAP + 10 + 7;
    const svg = $("#graph");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    const kids = [];
    for (const b of bands) {
      const band = svgEl("rect", { class: "glayer", "data-depth": b.depth, x: 0, y: b.y, width, height: b.height, fill: b.depth % 2 ? "#f3f5f9" : "none" });
      band.append(svgEl("title", {}, "depth " + b.depth + ": " + b.count + (b.count === 1 ? " port" : " ports")));
      kids.push(band);
    }
    for (const e of g.edges) {
      const a = pos[e.from], b = pos[e.to];
      if (a && b) kids.push(svgEl("line", { x1: a.x + NW / 2, y1: a.y, x2: b.x + NW / 2, y2: b.y + NH, stroke: "#9aa3b5" }, null));
    }
    for (const n of g.nodes) {
      const p = pos[n.id];
      const gr = svgEl("g", { class: "gnode", "data-node": n.id });
      gr.append(svgEl("rect", { x: p.x, y: p.y, width: NW, height: NH, rx: 5, fill: n.color || "#eee", stroke: "#777" }));
      gr.append(svgEl("text", { x: p.x + 6, y: p.y + 17 }, n.id.length > 26 ? n.id.slice(0, 25) + "…" : n.id));
      gr.append(svgEl("title", {}, n.id + ": " + n.action + " (" + n.reason + ")"));
      kids.push(gr);
    }
    svg.replaceChildren(...kids);
    colorGraph();
  }
  new ResizeObserver(() => { if (st.graph && graphCols() !== st.graphCols) drawGraph(); }).observe($("#graph-wrap"));

  async function refreshRepository() {
    const r = (await api("GET", "/repository?profile=" + encodeURIComponent(st.profile))).data[0];
    if (!r) return;
    const cur = r.current, last = r.last;
    $("#repo-url").textContent = r.url;
    $("#repo-state").textContent = cur ? "published" : "none";
    const parts = [];
    if (cur) parts.push(cur.count + " packages, " + (cur.fingerprint ? "signed (sha256 " + cur.fingerprint.slice(0, 16) + "…)" : "unsigned") + ", " + new Date(cur.end).toLocaleString());
    if (last && last.status !== "ok") parts.push("last build " + last.status + ": " + last.error);
    $("#repo-detail").textContent = parts.join("; ") || "no repository published yet";
  }

  async function refreshFarm() {
    const f = (await api("GET", "/farm?profile=" + encodeURIComponent(st.profile))).data[0];
    const hosts = (f && f.hosts) || [];
    $("#farm").hidden = hosts.length === 0;
    $("#hosts tbody").replaceChildren(...hosts.map((h) => el("tr", { class: "host", "data-host": h.name },
      el("td", { class: "mono" }, h.name), el("td", { class: "mono" }, h.abi), el("td", {}, h.load_per_cpu.toFixed(2)),
      el("td", { class: "mono building" }, Object.entries(h.building || {}).map(([n, p]) => n + " (" + p + ")").join(", ") || "idle"),
      el("td", {}, h.built), el("td", {}, ago(h.last_seen)))));
  }

  async function refreshAll() {
    await refreshStatus();
    await Promise.all([refreshQueue(), refreshResults(), refreshHistory(), refreshStats(), loadGraph(), refreshRepository(), refreshFarm()]);
  }

  // --- wiring ----------------------------------------------------------------
  $("#login-form").onsubmit = async (ev) => {
    ev.preventDefault();
    try { await login($("#key").value.trim()); await start(); } catch (e) { $("#login-error").textContent = e.message; }
  };
  $("#logout").onclick = () => { sessionStorage.removeItem(KEY); location.reload(); };
  $("#log-close").onclick = () => { if (st.es) st.es.close(); $("#log-panel").hidden = true; };
  $("#start-build").onclick = async () => {
    try {
      const r = (await api("POST", "/builds", { profile: st.profile })).data;
      msg(r.status === "running" ? "started build " + r.run_id.slice(0, 8) + ": " + r.packages_queued + " to build, about " + dur(r.estimated_duration_s)
        : "queued as " + r.queue_id + " (position " + r.position + ")");
    } catch (e) { msg(e.message); }
  };
  $("#cancel-build").onclick = async () => {
    if (!st.runID) return;
    try { await api("DELETE", "/builds/" + st.runID); msg("cancelled " + st.runID.slice(0, 8)); } catch (e) { msg(e.message); }
  };
  if (key()) {
    start().catch(() => { sessionStorage.removeItem(KEY); $("#login").hidden = false; $("#app").hidden = true; });
  } else {
    $("#login").hidden = false;
  }
})();
