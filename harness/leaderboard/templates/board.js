"use strict";
// PUNC leaderboard page. Every string from the data goes into the DOM through textContent or
// setAttribute; nothing is parsed as HTML.
(function () {
  var DATA = JSON.parse(document.getElementById("board-data").textContent);
  var INDEX = DATA.index;
  var PROMPTS = DATA.prompts;
  var MODELS = INDEX.models;
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#2f6fde", "#e0672b", "#2a9d6f", "#c2417a", "#8a63d2", "#b8860b", "#17a2b8", "#6c757d",
    "#d62728", "#5d8c2c"];
  var PAGE = 50;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") node.textContent = String(attrs[k]);
      else node.setAttribute(k, String(attrs[k]));
    });
  }
  function append(node, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmt(x, digits) { return typeof x === "number" && isFinite(x) ? x.toFixed(digits === undefined ? 3 : digits) : "\u2013"; }
  function color(i) { return COLORS[i % COLORS.length]; }

  // ---------------------------------------------------------------------------------------- header
  function renderMeta() {
    var b = INDEX.board;
    var meta = document.getElementById("board-meta");
    var task = b.task || {};
    var judge = b.judge || {};
    var rows = [
      ["Task", (task.name || "?") + (task.version ? " v" + task.version : "") + " \u2014 hash " + (b.task_hash || "?")],
      ["Judge", (judge.name || "?") + " \u2014 fingerprint " + (b.judge_fingerprint || "?")],
      ["Scorers", Object.keys(b.scorers || {}).map(function (k) { return k + " (" + b.scorers[k] + ")"; }).join("; ")],
      ["Primary scorer", b.primary_scorer || "?"],
      ["Runs", String(MODELS.length)]
    ];
    rows.forEach(function (r) { meta.appendChild(el("dt", { text: r[0] })); meta.appendChild(el("dd", { text: r[1] })); });
    document.getElementById("footer").textContent =
      "Built " + INDEX.built + " with punc-harness " + INDEX.harness_version + ". Static page; no network.";
  }

  // ----------------------------------------------------------------------------------------- table
  var COLUMNS = [
    { key: "rank", title: "Rank", type: "rank" },
    { key: "label", title: "Model", type: "str" },
    { key: "prompts", title: "Prompts", type: "num" },
    { key: "images", title: "Images", type: "num" },
    { key: "u_ale", title: "U_ale", type: "iv" },
    { key: "u_epi", title: "U_epi", type: "iv" },
    { key: "u_tot", title: "U_tot", type: "iv" }
  ];
  if (INDEX.has_cost) COLUMNS.push({ key: "cost", title: "Cost", type: "cost" });
  COLUMNS.push({ key: "date", title: "Date", type: "str" });

  var sortState = { key: "u_tot", dir: 1 };

  function value(m, col) {
    if (col.type === "iv") return m[col.key] ? m[col.key].mean : null;
    if (col.type === "rank") return m.rank ? m.rank.rank : null;
    if (col.type === "cost") return m.cost ? m.cost.device_seconds : null;
    if (col.type === "auroc") return m.auroc ? m.auroc[col.auroc] : null;
    if (col.type === "bool") return m[col.key] ? 1 : 0;
    var v = m[col.key];
    return v === undefined ? null : v;
  }
  function compare(a, b, col, dir) {
    var va = value(a, col), vb = value(b, col);
    if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;  // missing last
    if (vb === null || vb === undefined) return -1;
    if (typeof va === "number" && typeof vb === "number") return dir * (va - vb);
    return dir * String(va).localeCompare(String(vb));
  }
  function sortedModels() {
    var col = COLUMNS.filter(function (c) { return c.key === sortState.key; })[0];
    return MODELS.map(function (m, i) { return [m, i]; }).sort(function (x, y) {
      return compare(x[0], y[0], col, sortState.dir) || x[1] - y[1];
    }).map(function (x) { return x[0]; });
  }
  function renderHead() {
    var thead = document.querySelector("#board-table thead");
    clear(thead);
    var tr = el("tr");
    COLUMNS.forEach(function (col) {
      var th = el("th", { "data-key": col.key, scope: "col" });
      if (sortState.key === col.key) th.setAttribute("aria-sort", sortState.dir > 0 ? "ascending" : "descending");
      var btn = el("button", { type: "button", text: col.title });
      btn.addEventListener("click", function () {
        if (sortState.key === col.key) sortState.dir = -sortState.dir;
        else sortState = { key: col.key, dir: col.type === "str" || col.type === "iv" || col.type === "rank" || col.type === "cost" ? 1 : -1 };
        renderHead();
        renderBody();
      });
      th.appendChild(btn);
      tr.appendChild(th);
    });
    thead.appendChild(tr);
  }
  function renderBody() {
    var tbody = document.querySelector("#board-table tbody");
    clear(tbody);
    sortedModels().forEach(function (m) {
      var tr = el("tr", { "data-id": m.id });
      COLUMNS.forEach(function (col) {
        var td;
        if (col.key === "label") {
          td = el("td", { class: "model" }, el("span", { class: "label", text: m.label }));
          if (m.partial) td.appendChild(el("span", { class: "badge", title: m.partial_reason || "partial run", text: "partial" }));
          if (m.model_name && m.model_name !== m.label) td.setAttribute("title", m.model_name);
        } else if (col.type === "iv") {
          var iv = m[col.key];
          td = el("td", { class: "num" }, [fmt(iv && iv.mean), " ",
            el("span", { class: "ci", text: iv ? "[" + fmt(iv.low) + ", " + fmt(iv.high) + "]" : "" })]);
        } else if (col.type === "rank") {
          td = rankCell(m);
        } else if (col.type === "cost") {
          td = costCell(m);
        } else if (col.type === "num") {
          td = el("td", { class: "num", text: String(m[col.key]) });
        } else if (col.key === "date") {
          td = el("td", { text: m.date || "", title: "published " + (m.published || "?") + " \u00b7 harness " + (m.harness_version || "?") });
        } else {
          td = el("td", { text: m[col.key] === null || m[col.key] === undefined ? "" : m[col.key] });
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    if (!MODELS.length) {
      tbody.appendChild(el("tr", null, el("td", { colspan: COLUMNS.length, text: "No runs published yet." })));
    }
  }

  function rankCell(m) {
    var r = m.rank;
    if (!r) return el("td", { class: "rank", text: "\u2013", title: m.partial ? "partial runs are not ranked" : "not ranked" });
    var td = el("td", { class: "rank" }, [el("b", { text: String(r.rank) }), " ",
      el("span", { class: "ci", text: r.low === r.high ? "[" + r.low + "]" : "[" + r.low + "\u2013" + r.high + "]" })]);
    td.setAttribute("title", "95% interval of the rank over " + INDEX.ranking.resamples + " bootstrap resamples of the " +
      INDEX.ranking.n_prompts + " prompts all runs share (by " + INDEX.ranking.metric + ")" +
      (r.p_next === null ? "" : "; paired test with the next row: Holm-adjusted p = " + fmt(r.p_next, 4)));
    if (r.tied_with_next) td.appendChild(el("span", { class: "tie", text: "\u2248 next", title: "not significantly different from the next row" }));
    return td;
  }
  function costCell(m) {
    var c = m.cost;
    if (!c) return el("td", { class: "num", text: "\u2013" });
    var parts = [];
    if (typeof c.device_seconds === "number") parts.push(fmt(c.device_seconds, 1) + " dev-s");
    if (typeof c.total_usd === "number") parts.push("$" + fmt(c.total_usd, 2));
    return el("td", { class: "num cost", text: parts.join(" \u00b7 ") || "\u2013" });
  }

  // ----------------------------------------------------------------------------------------- AUROC
  function renderAuroc() {
    var host = document.getElementById("auroc");
    clear(host);
    var shifts = INDEX.auroc_shifts || [];
    if (!shifts.length) { host.appendChild(el("p", { class: "hint", text: "No detection results on this board (punc detect)." })); return; }
    var table = el("table", { id: "auroc-table" });
    var head = el("tr", null, el("th", { scope: "col", text: "Model" }));
    shifts.forEach(function (sh) { head.appendChild(el("th", { scope: "col", text: sh + " vs in-distribution" })); });
    table.appendChild(el("thead", null, head));
    var body = el("tbody");
    sortedModels().forEach(function (m) {
      var tr = el("tr", { "data-id": m.id }, el("td", { class: "model", text: m.label }));
      shifts.forEach(function (sh) {
        var scores = INDEX.auroc_columns.filter(function (c) { return c.split("/")[0] === sh; });
        var best = null;
        scores.forEach(function (c) { var v = m.auroc[c]; if (typeof v === "number" && (best === null || v > best)) best = v; });
        var td = el("td", { class: "aur" });
        scores.forEach(function (c) {
          var v = m.auroc[c];
          if (typeof v !== "number") return;
          var score = c.slice(sh.length + 1);
          td.appendChild(el("span", { class: "pill" + (v === best ? " best" : ""), title: "AUROC of " + score + " for " + sh + " prompts",
            style: "background:" + heat(v) }, [el("span", { class: "k", text: score }), " " + fmt(v, 2)]));
        });
        if (!td.firstChild) td.textContent = "\u2013";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    host.appendChild(el("div", { class: "scroll" }, table));
  }
  function heat(v) {  // 0.5 (chance) white -> 1.0 green; below chance pale red
    var t = Math.max(-1, Math.min(1, (v - 0.5) * 2));
    return t >= 0 ? "rgba(42,157,111," + (0.08 + 0.5 * t).toFixed(2) + ")" : "rgba(214,39,40," + (0.08 + 0.4 * -t).toFixed(2) + ")";
  }

  // ----------------------------------------------------------------------------------------- scatter
  function niceRange(values, lo, hi) {
    if (!values.length) return [lo, hi];
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    var pad = Math.max((max - min) * 0.15, 0.05);
    return [Math.max(lo, min - pad), Math.min(hi, max + pad)];
  }
  function ticks(range, n) {
    var out = [], step = (range[1] - range[0]) / n;
    for (var i = 0; i <= n; i++) out.push(range[0] + i * step);
    return out;
  }
  // Labels never overlap: they sit in a column right of the plot, one line each, pushed apart
  // vertically (at least LINE px) and joined to their point by a leader line.
  function spreadLabels(wanted, top, bottom, line) {
    var order = wanted.map(function (y, i) { return i; }).sort(function (a, b) { return wanted[a] - wanted[b] || a - b; });
    var placed = [];
    var prev = -Infinity;
    order.forEach(function (i) { var y = Math.max(wanted[i], prev + line, top); placed[i] = y; prev = y; });
    var overflow = prev - bottom;
    if (overflow > 0) {  // shift up as a block, then keep the spacing from the top
      var next = Infinity;
      order.slice().reverse().forEach(function (i) { var y = Math.min(placed[i] - overflow, next - line); placed[i] = y; next = y; });
    }
    return placed;
  }
  function renderScatter() {
    var host = document.getElementById("scatter");
    clear(host);
    var pts = MODELS.map(function (m, i) {
      return { m: m, i: i, x: m.recall && m.recall.mean, y: m.precision && m.precision.mean };
    }).filter(function (p) { return typeof p.x === "number" && typeof p.y === "number"; });
    var LINE = 15;
    var PW = 300, L = 48, T = 12, B = 40, GUT = 150;
    var H = Math.max(320, T + B + pts.length * LINE + 10);
    var W = L + PW + 24 + GUT;
    var xr = niceRange(pts.map(function (p) { return p.x; }), 0, 1);
    var yr = niceRange(pts.map(function (p) { return p.y; }), 0, 1);
    function sx(v) { return L + (v - xr[0]) / (xr[1] - xr[0]) * PW; }
    function sy(v) { return H - B - (v - yr[0]) / (yr[1] - yr[0]) * (H - T - B); }
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": "precision vs recall" });
    ticks(xr, 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: sx(t), x2: sx(t), y1: T, y2: H - B }));
      root.appendChild(svg("text", { x: sx(t), y: H - B + 14, "text-anchor": "middle", text: fmt(t, 2) }));
    });
    ticks(yr, 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: L, x2: L + PW, y1: sy(t), y2: sy(t) }));
      root.appendChild(svg("text", { x: L - 6, y: sy(t) + 4, "text-anchor": "end", text: fmt(t, 2) }));
    });
    root.appendChild(svg("g", { class: "axis" }, [
      svg("line", { x1: L, x2: L + PW, y1: H - B, y2: H - B }), svg("line", { x1: L, x2: L, y1: T, y2: H - B })]));
    root.appendChild(svg("text", { x: L + PW / 2, y: H - 6, "text-anchor": "middle", text: "recall (mean over prompts)" }));
    root.appendChild(svg("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (T + H - B) / 2 + ")", text: "precision" }));
    var ys = spreadLabels(pts.map(function (p) { return sy(p.y); }), T + 8, H - B, LINE);
    var lx = L + PW + 24;
    pts.forEach(function (p, k) {
      var g = svg("g", { class: "point", "data-id": p.m.id });
      g.appendChild(svg("line", { class: "leader", x1: sx(p.x), y1: sy(p.y), x2: lx - 4, y2: ys[k] - 4, stroke: color(p.i) }));
      g.appendChild(svg("circle", { cx: sx(p.x), cy: sy(p.y), r: 5, fill: color(p.i), "fill-opacity": 0.85 },
        svg("title", { text: p.m.label + ": precision " + fmt(p.y) + ", recall " + fmt(p.x) })));
      var label = svg("text", { class: "plabel", x: lx, y: ys[k], text: p.m.label },
        svg("title", { text: p.m.label }));
      g.appendChild(label);
      root.appendChild(g);
    });
    if (!pts.length) root.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", text: "no precision/recall data" }));
    host.appendChild(root);
    fitLabels(root, GUT - 6);
  }
  // Shorten labels wider than `room` px with an ellipsis (the full name stays in the tooltip).
  function fitLabels(root, room) {
    Array.prototype.forEach.call(root.querySelectorAll("text.plabel, text.glabel"), function (t) {
      var full = t.firstChild ? t.firstChild.nodeValue : "";
      if (!t.getComputedTextLength || t.getComputedTextLength() <= room) return;
      var lo = 0, hi = full.length;
      while (lo < hi) {
        var mid = Math.ceil((lo + hi) / 2);
        t.firstChild.nodeValue = full.slice(0, mid) + "\u2026";
        if (t.getComputedTextLength() <= room) lo = mid; else hi = mid - 1;
      }
      t.firstChild.nodeValue = full.slice(0, lo) + "\u2026";
    });
  }

  // ----------------------------------------------------------------------------------------- bars
  var BAR_METRICS = [["u_tot", "U_tot"], ["u_epi", "U_epi"], ["u_ale", "U_ale"], ["f1", "F1"], ["precision", "precision"], ["recall", "recall"]];
  // Horizontal bars: one row of bars per group, the group's name on the left, one line per row, so
  // names never overlap however many groups there are.
  function renderBars() {
    var host = document.getElementById("bars");
    clear(host);
    var group = document.getElementById("bar-group").value;
    var metric = document.getElementById("bar-metric").value;
    var keys = [];
    MODELS.forEach(function (m) { Object.keys(m[group] || {}).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    keys.sort();
    var vals = [];
    MODELS.forEach(function (m) {
      keys.forEach(function (k) {
        var iv = m[group] && m[group][k] && m[group][k].metrics[metric];
        if (iv) { vals.push(typeof iv.high === "number" ? iv.high : iv.mean); vals.push(iv.mean); }
      });
    });
    var BH = 12, GAP = 10, L = 170, R = 20, T = 8, B = 36, PW = 460;
    var rowH = Math.max(16, MODELS.length * BH) + GAP;
    var H = T + B + Math.max(1, keys.length) * rowH;
    var W = L + PW + R;
    var top = vals.length ? Math.max.apply(null, vals) : 1;
    top = top <= 0 ? 1 : top * 1.05;
    function sx(v) { return L + Math.max(0, v) / top * PW; }
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": metric + " by " + group });
    ticks([0, top], 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: sx(t), x2: sx(t), y1: T, y2: H - B }));
      root.appendChild(svg("text", { x: sx(t), y: H - B + 14, "text-anchor": "middle", text: fmt(t, 2) }));
    });
    keys.forEach(function (k, gi) {
      var y0 = T + gi * rowH + GAP / 2;
      var label = svg("text", { class: "glabel", x: L - 8, y: y0 + (rowH - GAP) / 2 + 4, "text-anchor": "end", text: k }, svg("title", { text: k }));
      root.appendChild(label);
      MODELS.forEach(function (m, mi) {
        var iv = m[group] && m[group][k] && m[group][k].metrics[metric];
        if (!iv || typeof iv.mean !== "number") return;
        var y = y0 + mi * BH;
        root.appendChild(svg("rect", { class: "bar", x: L, y: y + 1, width: Math.max(0, sx(iv.mean) - L), height: BH - 2, fill: color(mi) },
          svg("title", { text: m.label + " \u2014 " + k + ": " + fmt(iv.mean) + " [" + fmt(iv.low) + ", " + fmt(iv.high) + "] (" + m[group][k].n_prompts + " prompts)" })));
        if (typeof iv.low === "number" && typeof iv.high === "number") {
          var cy = y + BH / 2;
          root.appendChild(svg("line", { class: "err", x1: sx(iv.low), x2: sx(iv.high), y1: cy, y2: cy, stroke: "#333" }));
        }
      });
    });
    root.appendChild(svg("g", { class: "axis" }, svg("line", { x1: L, x2: L, y1: T, y2: H - B })));
    root.appendChild(svg("text", { x: L + PW / 2, y: H - 4, "text-anchor": "middle", text: metric + " (mean over prompts, 95% interval)" }));
    if (!keys.length) root.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", text: "no groups in these runs" }));
    host.appendChild(root);
    fitLabels(root, L - 14);
    var legend = document.getElementById("legend");
    clear(legend);
    MODELS.forEach(function (m, i) {
      legend.appendChild(el("span", null, [el("span", { class: "sw", style: "background:" + color(i) }), m.label]));
    });
  }

  // ----------------------------------------------------------------------------------------- prompts
  var shown = PAGE;
  function statText(obj, keys) {
    return keys.filter(function (k) { return obj && obj[k]; }).map(function (k) {
      return k + " " + fmt(obj[k].mean) + " \u00b1 " + fmt(obj[k].std);
    }).join(" \u00b7 ");
  }
  function scoreText(scores) {
    return Object.keys(scores || {}).map(function (s) {
      var v = scores[s];
      return s + ": " + Object.keys(v || {}).map(function (k) { return k + " " + fmt(v[k]); }).join(", ");
    }).join("; ");
  }
  function labelText(p) {
    return Object.keys(p.labels || {}).map(function (k) {
      var v = p.labels[k];
      return k + ": " + (typeof v === "object" ? JSON.stringify(v) : String(v));
    }).join(" \u00b7 ");
  }
  function gallery(p, small) {
    var box = el("div", { class: "gallery" + (small ? " small" : "") });
    p.images.forEach(function (img) {
      var fig = el("figure", { "data-index": img.index });
      if (img.src) {
        var tag = el("img", { alt: "image " + img.index + " for prompt " + p.id });
        tag.addEventListener("load", function () {
          // small images (e.g. 32x32 from the embedded world) are enlarged without blurring
          if (tag.naturalWidth < 128) tag.style.imageRendering = "pixelated";
        });
        tag.src = img.src;
        fig.appendChild(tag);
      } else {
        fig.appendChild(el("div", { class: "noimg", text: "image " + img.index + " not included in the bundle" }));
      }
      var list = el("ol");
      img.captions.forEach(function (c) {
        list.appendChild(el("li", null, [el("span", { class: "caption", text: c.text }), el("br"),
          el("span", { class: "score", text: scoreText(c.scores) })]));
      });
      fig.appendChild(el("figcaption", null, [el("span", { text: "#" + img.index + (img.seed !== null && img.seed !== undefined ? " (seed " + img.seed + ")" : "") }), list]));
      box.appendChild(fig);
    });
    return box;
  }
  function countsText(p) {
    return p.n_images + " image(s), " + p.n_captions + " caption(s)" + (p.failed_items ? ", " + p.failed_items + " failed" : "");
  }
  function renderPrompt(p) {
    var card = el("article", { class: "prompt", "data-prompt-id": p.id });
    card.appendChild(el("h3", { text: p.id }));
    card.appendChild(el("p", { class: "text", text: p.text }));
    var stats = [labelText(p), statText(p.u, ["u_ale", "u_epi", "u_tot"]), statText(p.m, ["precision", "recall", "f1", "cosine"]), countsText(p)];
    card.appendChild(el("div", { class: "stats", text: stats.filter(Boolean).join(" | ") }));
    card.appendChild(gallery(p, false));
    return card;
  }
  // The same prompt across every model: one column per model with its images, captions and scores.
  function renderSideBySide(pid) {
    var first = null;
    var cols = el("div", { class: "side" });
    MODELS.forEach(function (m, i) {
      var p = (BY_PROMPT[m.id] || {})[pid];
      var col = el("div", { class: "col", "data-model": m.id }, el("h4", null, [el("span", { class: "sw", style: "background:" + color(i) }), m.label]));
      if (!p) { col.appendChild(el("p", { class: "hint", text: "not scored by this model" })); cols.appendChild(col); return; }
      first = first || p;
      col.appendChild(el("div", { class: "stats", text: [statText(p.u, ["u_ale", "u_epi", "u_tot"]), countsText(p)].join(" | ") }));
      col.appendChild(gallery(p, true));
      cols.appendChild(col);
    });
    var card = el("article", { class: "prompt", "data-prompt-id": pid });
    card.appendChild(el("h3", { text: pid }));
    if (first) {
      card.appendChild(el("p", { class: "text", text: first.text }));
      card.appendChild(el("div", { class: "stats", text: labelText(first) }));
    }
    card.appendChild(cols);
    return card;
  }
  var ALL = "__all__";
  var BY_PROMPT = {};
  var PROMPT_ORDER = [];
  MODELS.forEach(function (m) {
    BY_PROMPT[m.id] = {};
    (PROMPTS[m.id] || []).forEach(function (p) {
      if (!Object.prototype.hasOwnProperty.call(BY_PROMPT[m.id], p.id)) BY_PROMPT[m.id][p.id] = p;
      if (PROMPT_ORDER.indexOf(p.id) < 0) PROMPT_ORDER.push(p.id);
    });
  });
  function matches(p, filter) {
    return !filter || String(p.text).toLowerCase().indexOf(filter) >= 0 || String(p.id).toLowerCase().indexOf(filter) >= 0;
  }
  function renderPrompts() {
    var id = document.getElementById("prompt-model").value;
    var filter = document.getElementById("prompt-filter").value.toLowerCase();
    var list = document.getElementById("prompt-list");
    clear(list);
    var all;
    if (id === ALL) {
      all = PROMPT_ORDER.filter(function (pid) {
        return MODELS.some(function (m) { var p = BY_PROMPT[m.id][pid]; return p && matches(p, filter); });
      });
      all.slice(0, shown).forEach(function (pid) { list.appendChild(renderSideBySide(pid)); });
    } else {
      all = (PROMPTS[id] || []).filter(function (p) { return matches(p, filter); });
      all.slice(0, shown).forEach(function (p) { list.appendChild(renderPrompt(p)); });
    }
    document.getElementById("prompt-count").textContent = Math.min(shown, all.length) + " of " + all.length + " prompts";
    document.getElementById("prompt-more").hidden = all.length <= shown;
  }

  // ----------------------------------------------------------------------------------------- compare
  var CMP = INDEX.comparisons || { pairs: [] };
  var VERDICT_FLIP = { "a lower": "b lower", "b lower": "a lower", "tied": "tied" };
  function pairRows(a, b) {
    for (var i = 0; i < CMP.pairs.length; i++) {
      var e = CMP.pairs[i];
      if (e.a === a && e.b === b) return e;
      if (e.a === b && e.b === a) {
        if (e.error) return e;
        return { a: a, b: b, rows: e.rows.map(function (r) {
          return { group: r.group, metric: r.metric, n: r.n, mean_a: r.mean_b, mean_b: r.mean_a, diff: -r.diff,
            low: r.high === null ? null : -r.high, high: r.low === null ? null : -r.low,
            p_value: r.p_value, p_adjusted: r.p_adjusted, verdict: VERDICT_FLIP[r.verdict] };
        }) };
      }
    }
    return null;
  }
  function labelOf(id) { var m = MODELS.filter(function (x) { return x.id === id; })[0]; return m ? m.label : id; }
  function forest(r, span) {
    var W = 170, H = 18, pad = 6;
    function sx(v) { return pad + (v + span) / (2 * span) * (W - 2 * pad); }
    var root = svg("svg", { class: "forest", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img",
      "aria-label": "difference " + fmt(r.diff, 4) + ", interval " + fmt(r.low, 4) + " to " + fmt(r.high, 4) });
    root.appendChild(svg("line", { class: "zero", x1: sx(0), x2: sx(0), y1: 1, y2: H - 1 }));
    if (typeof r.low === "number" && typeof r.high === "number") {
      root.appendChild(svg("line", { class: "ci", x1: sx(r.low), x2: sx(r.high), y1: H / 2, y2: H / 2 }));
    }
    root.appendChild(svg("circle", { class: "est " + r.verdict.replace(" ", "-"), cx: sx(r.diff), cy: H / 2, r: 3.5 }));
    return root;
  }
  function renderCompare() {
    var host = document.getElementById("compare-body");
    clear(host);
    var a = document.getElementById("cmp-a").value, b = document.getElementById("cmp-b").value;
    if (!a || !b) { host.appendChild(el("p", { class: "hint", text: "Two runs are needed for a comparison." })); return; }
    if (a === b) { host.appendChild(el("p", { class: "hint", text: "Pick two different models." })); return; }
    var entry = pairRows(a, b);
    if (!entry) { host.appendChild(el("p", { class: "hint", text: "No comparison for this pair." })); return; }
    if (entry.error) { host.appendChild(el("p", { class: "hint error", text: entry.error })); return; }
    var span = 0;
    entry.rows.forEach(function (r) { [r.low, r.high, r.diff].forEach(function (v) { if (typeof v === "number") span = Math.max(span, Math.abs(v)); }); });
    span = span > 0 ? span * 1.1 : 1;
    var la = labelOf(a), lb = labelOf(b);
    var table = el("table", { id: "compare-table" });
    var head = el("tr");
    ["Group", "Metric", "n", "A", "B", "A \u2212 B [95% CI]", "", "p (Holm)", "Verdict"].forEach(function (t) { head.appendChild(el("th", { scope: "col", text: t })); });
    table.appendChild(el("thead", null, head));
    var body = el("tbody");
    entry.rows.forEach(function (r) {
      var verdict = r.verdict === "tied" ? "tied" : (r.verdict === "a lower" ? la : lb) + " less uncertain";
      body.appendChild(el("tr", { "data-group": r.group, "data-metric": r.metric, class: r.verdict.replace(" ", "-") }, [
        el("td", { text: r.group }), el("td", { text: r.metric }), el("td", { class: "num", text: String(r.n) }),
        el("td", { class: "num", text: fmt(r.mean_a) }), el("td", { class: "num", text: fmt(r.mean_b) }),
        el("td", { class: "num diff", text: (r.diff >= 0 ? "+" : "") + fmt(r.diff, 4) + " [" + fmt(r.low, 4) + ", " + fmt(r.high, 4) + "]" }),
        el("td", null, forest(r, span)),
        el("td", { class: "num", text: fmt(r.p_adjusted, 4), title: "unadjusted p = " + fmt(r.p_value, 4) }),
        el("td", { class: "verdict", text: verdict })
      ]));
    });
    table.appendChild(body);
    host.appendChild(el("p", { class: "hint", text: "A = " + la + ", B = " + lb + ". Paired per-prompt differences (same prompts, same seeds); " +
      "95% percentile-bootstrap intervals over prompts (" + CMP.resamples + " resamples); two-sided sign-flip permutation p-values, " +
      "Holm-adjusted over the " + entry.rows.length + " rows of this table; tied: adjusted p \u2265 " + CMP.alpha + "." }));
    host.appendChild(el("div", { class: "scroll" }, table));
  }
  function initCompare() {
    var ordered = sortedByRank();
    ["cmp-a", "cmp-b"].forEach(function (id, k) {
      var sel = document.getElementById(id);
      ordered.forEach(function (m) { sel.appendChild(el("option", { value: m.id, text: m.label })); });
      if (ordered.length > k) sel.value = ordered[k].id;
      sel.addEventListener("change", renderCompare);
    });
    renderCompare();
  }
  function sortedByRank() {
    return MODELS.slice().sort(function (x, y) {
      var rx = x.rank ? x.rank.rank : 1e9, ry = y.rank ? y.rank.rank : 1e9;
      return rx - ry || String(x.label).localeCompare(String(y.label));
    });
  }

  function init() {
    renderMeta();
    renderHead();
    renderBody();
    renderScatter();
    var metricSel = document.getElementById("bar-metric");
    BAR_METRICS.forEach(function (m) { metricSel.appendChild(el("option", { value: m[0], text: m[1] })); });
    metricSel.addEventListener("change", renderBars);
    document.getElementById("bar-group").addEventListener("change", renderBars);
    renderBars();
    renderAuroc();
    initCompare();
    var modelSel = document.getElementById("prompt-model");
    MODELS.forEach(function (m) { modelSel.appendChild(el("option", { value: m.id, text: m.label })); });
    if (MODELS.length > 1) modelSel.appendChild(el("option", { value: ALL, text: "All models, side by side" }));
    modelSel.addEventListener("change", function () { shown = PAGE; renderPrompts(); });
    document.getElementById("prompt-filter").addEventListener("input", function () { shown = PAGE; renderPrompts(); });
    document.getElementById("prompt-more").addEventListener("click", function () { shown += PAGE; renderPrompts(); });
    renderPrompts();
    document.body.setAttribute("data-ready", "1");
  }
  init();
})();
