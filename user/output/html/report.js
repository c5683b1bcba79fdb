// kmemscope HTML report: draws what the data block holds. No network, no libraries.
"use strict";
(function () {
const D = JSON.parse(document.getElementById("kms-data").textContent);
const NS = "http://www.w3.org/2000/svg";
const $ = (s, r) => (r || document).querySelector(s);
const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
function el(tag, attrs, parent, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function human(v, w) {
  if (w !== "bytes") return v.toLocaleString("en-US");
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : v) + " " + u[i];
}
const tip = el("div", { id: "tip" }, document.body);
function showTip(ev, text) {
  tip.textContent = text; tip.style.display = "block";
  tip.style.left = Math.min(ev.clientX + 12, innerWidth - 320) + "px";
  tip.style.top = (ev.clientY + 14) + "px";
}
function hideTip() { tip.style.display = "none"; }

// ---- the run ----
function runLine() {
  const p = [];
  if (D.kernel) p.push("kernel " + D.kernel);
  if (D.duration_s !== undefined) p.push(D.duration_s.toFixed(1) + " s");
  if (D.cgroup) p.push("cgroup " + D.cgroup);
  if (D.sample) p.push("sampling 1 in " + D.sample.rate + " slab objects (kmalloc, kmem_cache rows scaled: estimates)");
  if (D.interrupted) p.push("interrupted");
  if (D.version) p.push("kmemscope " + D.version);
  $("#run").textContent = p.join(" \u00b7 ");
  const nav = $("#nav");
  for (const s of $$("main > section")) {
    const h = $("h2", s);
    if (h && s.id) el("a", { href: "#" + s.id }, nav, h.textContent);
  }
}

// ---- trust counters: every counter of the run, and whether it all arrived ----
function trust() {
  const sec = $("#trust");
  const ev = D.events || {};
  const lost = (ev.lost || 0) + (ev.dropped || 0);
  const rec = ev.recording;
  const ok = !lost && (!rec || rec.complete);
  el("p", { class: ok ? "good" : "bad" }, sec,
     ok ? "Every event was read: the numbers are complete." :
          "Events were lost or the recording is damaged: numbers are lower bounds.");
  const t = el("table", {}, sec);
  const bad = new Set(["lost", "dropped", "bad_records", "table_full", "stack_errors", "damaged_frames", "bytes_skipped"]);
  function rows(obj, prefix) {
    for (const k in obj) {
      const v = obj[k];
      if (v !== null && typeof v === "object" && !Array.isArray(v)) { rows(v, prefix + k + "."); continue; }
      if (Array.isArray(v)) continue;
      const tr = el("tr", {}, t);
      el("td", {}, tr, prefix + k);
      el("td", { class: "num" + (bad.has(k) && v ? " bad" : "") }, tr, String(v));
    }
  }
  rows(ev, "events.");
  if (D.trust) rows(D.trust, "trust.");
  const ticks = D.trust_ticks || [];
  if (ticks.length > 1)
    lines(sec, "Trust counters over time (log scale; lost, stack errors, table full and bad records should stay 0)",
          Object.keys(ticks[0]).filter((k) => k !== "t").map((k, i) => ({
            name: k, colour: i, growing: bad.has(k) && ticks[ticks.length - 1][k] > 0,
            points: ticks.map((e) => [e.t, e[k]]) })), "count", true);
}

// ---- flame graphs: the --folded lines, drawn; root at the bottom ----
function parseFolded(text) {
  const root = { n: "all", v: 0, c: new Map() };
  for (const line of text.split("\n")) {
    const sp = line.lastIndexOf(" ");
    if (sp < 0) continue;
    const v = Number(line.slice(sp + 1));
    let node = root;
    root.v += v;
    for (const f of line.slice(0, sp).split(";")) {
      let ch = node.c.get(f);
      if (!ch) { ch = { n: f, v: 0, c: new Map() }; node.c.set(f, ch); }
      ch.v += v;
      node = ch;
    }
  }
  return root;
}
function depthOf(n) { let d = 0; for (const c of n.c.values()) d = Math.max(d, depthOf(c)); return d + 1; }
function frameColour(name) {
  if (name.startsWith("[page")) return "#66bb6a";
  if (name.startsWith("[kmem_cache")) return "#42a5f5";
  if (name.startsWith("[kmalloc")) return "#26c6da";
  if (name.startsWith("[vmalloc")) return "#ab47bc";
  if (name.startsWith("[dma")) return "#8d6e63";
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return "hsl(" + (10 + h % 40) + "," + (70 + h % 25) + "%," + (55 + (h >> 8) % 15) + "%)";
}
function flame(sec) {
  const data = D[sec.dataset.key];
  if (!data) return;
  let weight = sec.dataset.weight, zoom = null;
  const bar = el("div", { class: "flamebar" }, sec);
  const btn = {};
  for (const w of ["bytes", "count"]) {
    btn[w] = el("button", { type: "button", "data-w": w }, bar, w);
    btn[w].onclick = () => { weight = w; zoom = null; draw(); };
  }
  const search = el("input", { type: "search", placeholder: "search (regexp)", size: 30 }, bar);
  const reset = el("button", { type: "button" }, bar, "reset zoom");
  reset.onclick = () => { zoom = null; draw(); };
  const status = el("div", { class: "status" }, sec);
  const svg = el("svg:svg", { class: "flame" }, sec);
  const W = Math.max(600, sec.clientWidth - 26), H = 17;
  let tree;
  function draw() {
    for (const w in btn) btn[w].className = w === weight ? "on" : "";
    svg.textContent = "";
    tree = parseFolded(data[weight] || "");
    sec.dataset.shown = weight;
    if (!tree.v) { status.textContent = "nothing to draw"; svg.setAttribute("viewBox", "0 0 " + W + " 0"); return; }
    const top = zoom || tree, depth = depthOf(tree);
    svg.setAttribute("viewBox", "0 0 " + W + " " + depth * H);
    svg.setAttribute("height", depth * H);
    const scale = W / top.v;
    // the zoomed frame's ancestors are drawn full width, its subtree scaled
    const path = new Set();
    (function find(n) { if (n === top) { path.add(n); return true; }
      for (const c of n.c.values()) if (find(c)) { path.add(n); return true; } return false; })(tree);
    // every frame, in preorder: data-d (depth), data-n (name), data-v (weight)
    function walk(n, d, x, w, inside) {
      const g = el("svg:g", { class: "fr", "data-d": d, "data-n": n.n, "data-v": n.v }, svg);
      if (w > 0) {
        const y = (depth - 1 - d) * H;
        el("svg:rect", { x: x.toFixed(2), y: y, width: w.toFixed(2), height: H - 1, fill: d ? frameColour(n.n) : "#bdbdbd" }, g);
        if (w > 30) {
          const chars = Math.floor((w - 6) / 6.5);
          el("svg:text", { x: (x + 3).toFixed(1), y: y + H - 5 }, g, n.n.length > chars ? n.n.slice(0, Math.max(chars - 2, 1)) + ".." : n.n);
        }
        g.onmouseover = (ev) => { status.textContent = n.n + ": " + human(n.v, weight) + " (" + (100 * n.v / tree.v).toFixed(2) + "%)"; showTip(ev, n.n + "\n" + human(n.v, weight)); };
        g.onmouseout = hideTip;
        g.onclick = () => { zoom = n === tree ? null : n; draw(); };
      }
      const kids = Array.from(n.c.values()).sort((a, b) => a.n < b.n ? -1 : a.n > b.n);
      let cx = x;
      for (const c of kids) {
        if (inside) { const cw = c.v * scale; walk(c, d + 1, cx, cw, true); cx += cw; }
        else if (path.has(c)) walk(c, d + 1, 0, W, c === top);
        else walk(c, d + 1, 0, 0, false);
      }
    }
    walk(tree, 0, 0, W, top === tree);
    applySearch();
  }
  function applySearch() {
    let re = null;
    try { re = search.value ? new RegExp(search.value) : null; } catch (e) { re = null; }
    let total = 0;
    // a match's weight counts once: frames below a matched one are not added again
    const stack = [];
    for (const g of $$("g.fr", svg)) {
      const d = Number(g.dataset.d);
      stack.length = d;
      const m = !!(re && re.test(g.dataset.n));
      g.classList.toggle("match", m);
      if (m && !stack.some(Boolean)) total += Number(g.dataset.v);
      stack[d] = m;
    }
    if (re) status.textContent = "matched " + human(total, weight) + " (" + (100 * total / tree.v).toFixed(2) + "%)";
  }
  search.oninput = applySearch;
  draw();
}

// ---- the page-block map: hover, and a legend row picks its cells ----
function map() {
  const sec = $("#map");
  if (!sec) return;
  const T = Number(sec.dataset.order), rows = D.map_rows || [];
  const info = $("#cell");
  function describe(r) {
    const pfn = Number(r.dataset.pfn), n = 2 ** T;
    let s = "pfn " + pfn + "\u2013" + (pfn + n - 1) + " (order " + T + "): " + r.dataset.free + " of " + n + " pages free";
    if (r.classList.contains("h")) s += ", not managed (holes, reserved)";
    if (r.dataset.o) {
      s += "\nowners: " + r.dataset.o.split(",").map((x) => {
        const [i, p] = x.split(":");
        return (rows[i] || "?") + " " + p + (p === "1" ? " page" : " pages");
      }).join(", ");
    }
    if (r.classList.contains("s")) s += "\n(outlined: the first owner alone keeps it from being free)";
    return s;
  }
  for (const svg of $$("svg.map", sec)) {
    svg.addEventListener("mouseover", (ev) => {
      const r = ev.target;
      if (r.tagName !== "rect") return;
      const s = describe(r);
      info.textContent = s;
      showTip(ev, s);
    });
    svg.addEventListener("mouseout", hideTip);
  }
  slider(sec);
  for (const tr of $$("table.legend tr.row", sec)) {
    tr.onclick = () => {
      const on = !tr.classList.contains("sel");
      $$("table.legend tr.row", sec).forEach((x) => x.classList.remove("sel"));
      const idx = String(rows.indexOf($(".caller", tr).textContent));
      for (const svg of $$("svg.map", sec)) {
        svg.classList.toggle("dim", on);
        for (const r of $$("rect", svg))
          r.classList.toggle("hl", on && !!r.dataset.o && r.dataset.o.split(",").some((x) => x.split(":")[0] === idx));
      }
      if (on) tr.classList.add("sel");
    };
  }
}

// -i: the map at each tick, a slider over them (the last position: the end)
function slider(sec) {
  const frames = D.map_frames, abc = D.map_alphabet;
  if (!frames || !frames.length) return;
  const cells = $$("svg.map rect", sec), end = cells.map((r) => r.getAttribute("class"));
  const bar = el("div", { class: "flamebar" }, null);
  sec.insertBefore(bar, $(".mapwrap", sec));
  el("span", {}, bar, "time");
  const range = el("input", { type: "range", min: 0, max: frames.length, value: frames.length, step: 1 }, bar);
  const label = el("span", { class: "status" }, bar, "the end");
  function decode(text) {
    const out = [];
    for (const m of text.matchAll(/([^0-9])(\d*)/g)) {
      const code = m[1].charCodeAt(0) - 65, n = m[2] ? Number(m[2]) : 1;
      const cls = abc[code >> 1] + (code & 1 ? " s" : "");
      for (let i = 0; i < n; i++) out.push(cls.trim());
    }
    return out;
  }
  range.oninput = () => {
    const k = Number(range.value);
    const cls = k === frames.length ? end : decode(frames[k].cells);
    cells.forEach((r, i) => { if (cls[i]) r.setAttribute("class", cls[i]); else r.removeAttribute("class"); });
    sec.dataset.frame = k;
    label.textContent = k === frames.length ? "the end" :
      frames[k].t.toFixed(1) + " s (hover: owners at the end)";
  };
  sec.decodeFrame = decode;
}

// ---- charts: free blocks per order per zone against /proc/buddyinfo; timelines ----
function bars(parent, title, a, b) {
  const n = a.length, W = 40 * n + 40, H = 140;
  const box = el("figure", { class: "zone" }, parent);
  el("figcaption", {}, box, title);
  const svg = el("svg:svg", { class: "chart", width: W, height: H + 30 }, box);
  const max = Math.log10(1 + Math.max(1, ...a, ...(b || [])));
  const h = (v) => H * Math.log10(1 + v) / max;
  for (let o = 0; o < n; o++) {
    const x = 30 + 40 * o;
    const r1 = el("svg:rect", { class: "model", x: x, y: H - h(a[o]), width: 16, height: h(a[o]) }, svg);
    el("svg:title", {}, r1, "order " + o + ": model " + a[o]);
    if (b) {
      const r2 = el("svg:rect", { class: "bi", x: x + 17, y: H - h(b[o]), width: 16, height: h(b[o]) }, svg);
      el("svg:title", {}, r2, "order " + o + ": /proc/buddyinfo " + b[o]);
    }
    el("svg:text", { x: x + 8, y: H + 14 }, svg, String(o));
  }
  el("svg:line", { class: "axis", x1: 28, y1: H, x2: W, y2: H }, svg);
  el("svg:text", { x: 0, y: H + 28 }, svg, "order (log scale; blue: model, orange: /proc/buddyinfo)");
}
function lines(parent, title, series, unit, log) {
  const W = 900, H = 180, L = 60;
  const box = el("figure", { class: "zone" }, parent);
  el("figcaption", {}, box, title);
  const svg = el("svg:svg", { class: "chart", width: W + 260, height: H + 30 }, box);
  let tmax = 0, vmax = 0;
  for (const s of series) for (const [t, v] of s.points) { tmax = Math.max(tmax, t); vmax = Math.max(vmax, v); }
  if (!tmax || !vmax) { el("svg:text", { x: L, y: 20 }, svg, "no samples (run with -i)"); return; }
  const X = (t) => L + (W - L) * t / tmax;
  const Y = log ? (v) => H - H * Math.log10(1 + v) / Math.log10(1 + vmax) : (v) => H - H * v / vmax;
  el("svg:line", { class: "axis", x1: L, y1: H, x2: W, y2: H }, svg);
  el("svg:text", { x: 0, y: 12 }, svg, human(vmax, unit) + (log ? " (log)" : ""));
  el("svg:text", { x: W - 30, y: H + 14 }, svg, tmax.toFixed(1) + " s");
  let row = 0;
  series.forEach((s, i) => {
    const k = s.colour !== undefined ? s.colour : i;
    const c = "hsl(" + (k * 47 % 360) + ",65%,45%)";
    const a = { fill: "none", stroke: c, "stroke-width": s.growing ? 3 : 1.5,
      points: s.points.map(([t, v]) => X(t).toFixed(1) + "," + Y(v).toFixed(1)).join(" ") };
    if (s.dash) a["stroke-dasharray"] = "4 3";
    el("svg:polyline", a, svg);
    if (s.name) el("svg:text", { x: W + 8, y: 14 + 14 * row++, fill: c }, svg, (s.growing ? "\u2191 " : "") + s.name);
  });
}
function zones() {
  const F = D.frag;
  if (!F || !F.zones) return;
  const sec = el("section", { id: "zones" }, null);
  $("main").insertBefore(sec, $("#trust"));
  el("h2", {}, sec, "Free blocks per order, model and /proc/buddyinfo");
  const wrap = el("div", { class: "mapwrap" }, sec);
  for (const z of F.zones)
    bars(wrap, "Node " + z.node + ", zone " + z.zone + ": " + z.free_pages + " free pages" +
         (z.divergence !== null ? ", divergence " + (100 * z.divergence).toFixed(3) + "%" : ""),
         z.free_blocks, z.buddyinfo);
  const ticks = D.zone_ticks || [];
  if (ticks.length > 1)
    F.zones.forEach((z, i) => lines(sec, "Node " + z.node + ", zone " + z.zone +
      ": free blocks per order over time (solid: model, dashed: /proc/buddyinfo)",
      z.free_blocks.flatMap((_, o) => [
        { name: "order " + o, colour: o, points: ticks.map((e) => [e.t, e.zones[i].model[o]]) },
        { name: "", dash: true, colour: o, points: ticks.map((e) => [e.t, e.zones[i].buddyinfo[o]]) }]),
      "count", true));
  if (F.timeline && F.timeline.length)
    lines(sec, "Divergence from /proc/buddyinfo over time (pages, free-page weighted)",
          F.zones.map((z, i) => ({ name: z.zone, points: F.timeline.map((e) => [e.t, Math.max(0, e.divergence[i]) * 100]) })), "%");
}
function series() {
  if (!D.series || !D.series.length) return;
  const sec = el("section", { id: "timeline" }, null);
  $("main").insertBefore(sec, $("#trust"));
  el("h2", {}, sec, "Outstanding bytes per call site over time");
  lines(sec, "the call sites with the most outstanding at the end (thick, \u2191: kept rising)", D.series, "bytes");
}

map();
$$("section.flame").forEach(flame);
zones();
series();
trust();
runLine();
document.body.dataset.ready = "1";
})();
