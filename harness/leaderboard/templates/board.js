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
    { key: "label", title: "Model", type: "str" },
    { key: "prompts", title: "Prompts", type: "num" },
    { key: "images", title: "Images", type: "num" },
    { key: "u_ale", title: "U_ale", type: "iv" },
    { key: "u_epi", title: "U_epi", type: "iv" },
    { key: "u_tot", title: "U_tot", type: "iv" }
  ];
  INDEX.auroc_columns.forEach(function (c) { COLUMNS.push({ key: "auroc:" + c, title: "AUROC " + c, type: "auroc", auroc: c }); });
  COLUMNS.push({ key: "judge", title: "Judge", type: "str" });
  COLUMNS.push({ key: "date", title: "Date", type: "str" });
  COLUMNS.push({ key: "harness_version", title: "Harness", type: "str" });
  COLUMNS.push({ key: "partial", title: "Partial", type: "bool" });

  var sortState = { key: "u_tot", dir: 1 };

  function value(m, col) {
    if (col.type === "iv") return m[col.key] ? m[col.key].mean : null;
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
        else sortState = { key: col.key, dir: col.type === "str" || col.type === "iv" ? 1 : -1 };
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
        } else if (col.type === "auroc") {
          td = el("td", { class: "num", text: fmt(value(m, col)) });
        } else if (col.type === "num") {
          td = el("td", { class: "num", text: String(m[col.key]) });
        } else if (col.type === "bool") {
          td = el("td", { text: m.partial ? "partial" : "" });
          if (m.partial && m.partial_reason) td.setAttribute("title", m.partial_reason);
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
  function renderScatter() {
    var host = document.getElementById("scatter");
    clear(host);
    var pts = MODELS.map(function (m, i) {
      return { m: m, i: i, x: m.recall && m.recall.mean, y: m.precision && m.precision.mean };
    }).filter(function (p) { return typeof p.x === "number" && typeof p.y === "number"; });
    var W = 420, H = 320, L = 48, R = 16, T = 12, B = 40;
    var xr = niceRange(pts.map(function (p) { return p.x; }), 0, 1);
    var yr = niceRange(pts.map(function (p) { return p.y; }), 0, 1);
    function sx(v) { return L + (v - xr[0]) / (xr[1] - xr[0]) * (W - L - R); }
    function sy(v) { return H - B - (v - yr[0]) / (yr[1] - yr[0]) * (H - T - B); }
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": "precision vs recall" });
    ticks(xr, 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: sx(t), x2: sx(t), y1: T, y2: H - B }));
      root.appendChild(svg("text", { x: sx(t), y: H - B + 14, "text-anchor": "middle", text: fmt(t, 2) }));
    });
    ticks(yr, 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: L, x2: W - R, y1: sy(t), y2: sy(t) }));
      root.appendChild(svg("text", { x: L - 6, y: sy(t) + 4, "text-anchor": "end", text: fmt(t, 2) }));
    });
    root.appendChild(svg("g", { class: "axis" }, [
      svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B }), svg("line", { x1: L, x2: L, y1: T, y2: H - B })]));
    root.appendChild(svg("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", text: "recall (mean over prompts)" }));
    root.appendChild(svg("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (T + H - B) / 2 + ")", text: "precision" }));
    pts.forEach(function (p) {
      var g = svg("g", { class: "point", "data-id": p.m.id });
      g.appendChild(svg("circle", { cx: sx(p.x), cy: sy(p.y), r: 6, fill: color(p.i), "fill-opacity": 0.85 },
        svg("title", { text: p.m.label + ": precision " + fmt(p.y) + ", recall " + fmt(p.x) })));
      g.appendChild(svg("text", { x: sx(p.x) + 9, y: sy(p.y) + 4, text: p.m.label }));
      root.appendChild(g);
    });
    if (!pts.length) root.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", text: "no precision/recall data" }));
    host.appendChild(root);
  }

  // ----------------------------------------------------------------------------------------- bars
  var BAR_METRICS = [["u_tot", "U_tot"], ["u_epi", "U_epi"], ["u_ale", "U_ale"], ["f1", "F1"], ["precision", "precision"], ["recall", "recall"]];
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
        if (iv) { vals.push(iv.high === null ? iv.mean : iv.high); vals.push(iv.mean); }
      });
    });
    var bw = Math.max(6, Math.min(28, 180 / Math.max(1, MODELS.length))), gap = 22, L = 44, T = 10, B = 70, H = 300;
    var gw = MODELS.length * bw + gap;
    var W = Math.max(360, L + keys.length * gw + 10);
    var top = vals.length ? Math.max.apply(null, vals) : 1;
    top = top <= 0 ? 1 : top * 1.1;
    function sy(v) { return H - B - Math.max(0, v) / top * (H - T - B); }
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": metric + " by " + group });
    ticks([0, top], 4).forEach(function (t) {
      root.appendChild(svg("line", { class: "grid", x1: L, x2: W - 10, y1: sy(t), y2: sy(t) }));
      root.appendChild(svg("text", { x: L - 6, y: sy(t) + 4, "text-anchor": "end", text: fmt(t, 2) }));
    });
    keys.forEach(function (k, gi) {
      var x0 = L + gi * gw + gap / 2;
      MODELS.forEach(function (m, mi) {
        var iv = m[group] && m[group][k] && m[group][k].metrics[metric];
        if (!iv || typeof iv.mean !== "number") return;
        var x = x0 + mi * bw;
        var bar = svg("rect", { class: "bar", x: x + 1, y: sy(iv.mean), width: bw - 2, height: Math.max(0, H - B - sy(iv.mean)), fill: color(mi) },
          svg("title", { text: m.label + " \u2014 " + k + ": " + fmt(iv.mean) + " [" + fmt(iv.low) + ", " + fmt(iv.high) + "] (" + m[group][k].n_prompts + " prompts)" }));
        root.appendChild(bar);
        if (typeof iv.low === "number" && typeof iv.high === "number") {
          var cx = x + bw / 2;
          root.appendChild(svg("line", { x1: cx, x2: cx, y1: sy(iv.low), y2: sy(iv.high), stroke: "#333" }));
        }
      });
      var lx = x0 + (MODELS.length * bw) / 2, ly = H - B + 12;
      root.appendChild(svg("text", { x: lx, y: ly, "text-anchor": "end", transform: "rotate(-35 " + lx + " " + ly + ")", text: k }));
    });
    root.appendChild(svg("g", { class: "axis" }, svg("line", { x1: L, x2: W - 10, y1: H - B, y2: H - B })));
    if (!keys.length) root.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", text: "no groups in these runs" }));
    host.appendChild(root);
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
  function renderPrompt(p) {
    var card = el("article", { class: "prompt", "data-prompt-id": p.id });
    card.appendChild(el("h3", { text: p.id }));
    card.appendChild(el("p", { class: "text", text: p.text }));
    var labels = Object.keys(p.labels || {}).map(function (k) {
      var v = p.labels[k];
      return k + ": " + (typeof v === "object" ? JSON.stringify(v) : String(v));
    }).join(" \u00b7 ");
    var stats = [labels, statText(p.u, ["u_ale", "u_epi", "u_tot"]), statText(p.m, ["precision", "recall", "f1", "cosine"]),
      p.n_images + " image(s), " + p.n_captions + " caption(s)" + (p.failed_items ? ", " + p.failed_items + " failed" : "")];
    card.appendChild(el("div", { class: "stats", text: stats.filter(Boolean).join(" | ") }));
    var gallery = el("div", { class: "gallery" });
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
      gallery.appendChild(fig);
    });
    card.appendChild(gallery);
    return card;
  }
  function renderPrompts() {
    var id = document.getElementById("prompt-model").value;
    var filter = document.getElementById("prompt-filter").value.toLowerCase();
    var list = document.getElementById("prompt-list");
    clear(list);
    var all = (PROMPTS[id] || []).filter(function (p) {
      return !filter || String(p.text).toLowerCase().indexOf(filter) >= 0 || String(p.id).toLowerCase().indexOf(filter) >= 0;
    });
    all.slice(0, shown).forEach(function (p) { list.appendChild(renderPrompt(p)); });
    document.getElementById("prompt-count").textContent = Math.min(shown, all.length) + " of " + all.length + " prompts";
    document.getElementById("prompt-more").hidden = all.length <= shown;
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
    var modelSel = document.getElementById("prompt-model");
    MODELS.forEach(function (m) { modelSel.appendChild(el("option", { value: m.id, text: m.label })); });
    modelSel.addEventListener("change", function () { shown = PAGE; renderPrompts(); });
    document.getElementById("prompt-filter").addEventListener("input", function () { shown = PAGE; renderPrompts(); });
    document.getElementById("prompt-more").addEventListener("click", function () { shown += PAGE; renderPrompts(); });
    renderPrompts();
    document.body.setAttribute("data-ready", "1");
  }
  init();
})();
