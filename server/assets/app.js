// kura serve: cluster explorer and load-test dashboard. Talks to /api/*.
(function () {
  "use strict";

  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
    "#31a354", "#756bb1", "#636363"];

  var state = { tree: null, points: null, selected: null, highlight: null, overview: null };
  var app = window.kuraApp = { ready: false, loadtestReady: false, state: state };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) { if (attrs[k] != null) e.setAttribute(k, attrs[k]); }
    if (text != null) e.textContent = text;
    return e;
  }
  function pct(x) { return (x * 100).toFixed(x < 0.1 ? 1 : 0) + "%"; }
  function fmtCount(n) { return Math.round(n).toLocaleString("en-US"); }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return { error: "HTTP " + r.status + " (not JSON)" }; }).then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
        return body;
      });
    });
  }

  // Errors are shown in the banner, never swallowed.
  function showErrors(title, items) {
    var box = $("errors");
    var sec = el("div");
    sec.appendChild(el("strong", null, title));
    var ul = el("ul");
    items.forEach(function (s) { ul.appendChild(el("li", null, s)); });
    sec.appendChild(ul);
    box.appendChild(sec);
    box.hidden = false;
  }
  function fail(where) {
    return function (e) { showErrors(where + " failed", [String(e && e.message || e)]); };
  }

  // ---- Hash routing: #tab=loadtest, #cluster=ID, #conv=ID, #q=text.
  function parseHash() {
    var h = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      var k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? "" : kv.slice(i + 1);
      try { h[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " ")); } catch (e) { /* ignore bad escapes */ }
    });
    return h;
  }
  function setHash(k, v) { location.hash = encodeURIComponent(k) + "=" + encodeURIComponent(v); }

  function route() {
    var h = parseHash();
    var lt = h.tab === "loadtest";
    $("explorer").hidden = lt;
    $("loadtest").hidden = !lt;
    $("tab-explorer").classList.toggle("active", !lt);
    $("tab-loadtest").classList.toggle("active", lt);
    if (lt) { showLoadtest(); return; }
    map.resize();
    if (h.cluster) showCluster(h.cluster);
    else if (h.conv) showConversation(h.conv);
    else if (h.q) runSearch(h.q);
  }

  // ---- Tree.
  function colorOf(nodeIndex) {
    var n = state.tree.nodes[nodeIndex];
    var r = state.tree.rootOrder[n.root];
    return PALETTE[(r == null ? 0 : r) % PALETTE.length];
  }

  function treeItem(i) {
    var n = state.tree.nodes[i];
    var li = el("li", { "data-id": n.id });
    var row = el("div", { "class": "row" });
    var tog = el("button", { "class": "toggle", type: "button", "aria-expanded": "false", title: "expand" }, n.children.length ? "▸" : "");
    if (!n.children.length) tog.disabled = true;
    row.appendChild(tog);
    var sw = el("span", { "class": "swatch" });
    sw.style.background = colorOf(i);
    row.appendChild(sw);
    var a = el("a", { "class": "name", href: "#cluster=" + encodeURIComponent(n.id), title: n.name }, n.name);
    row.appendChild(a);
    row.appendChild(el("span", { "class": "count" }, fmtCount(n.count) + " · " + pct(n.share)));
    li.appendChild(row);
    tog.addEventListener("click", function () { toggle(li, i); });
    state.tree.items[i] = li;
    return li;
  }
  function toggle(li, i, open) {
    var n = state.tree.nodes[i];
    if (!n.children.length) return;
    var ul = li.querySelector(":scope > ul");
    var isOpen = ul && !ul.hidden;
    if (open === undefined) open = !isOpen;
    if (open && !ul) {
      ul = el("ul");
      n.children.forEach(function (c) { ul.appendChild(treeItem(c)); });
      li.appendChild(ul);
    }
    if (ul) ul.hidden = !open;
    var tog = li.querySelector(":scope > .row > .toggle");
    tog.textContent = open ? "▾" : "▸";
    tog.setAttribute("aria-expanded", String(open));
  }
  function revealInTree(i) {
    var chain = [];
    for (var p = state.tree.nodes[i].parent; p >= 0; p = state.tree.nodes[p].parent) chain.unshift(p);
    chain.forEach(function (p) { toggle(state.tree.items[p], p, true); });
    document.querySelectorAll(".tree .row.selected").forEach(function (r) { r.classList.remove("selected"); });
    var li = state.tree.items[i];
    if (li) {
      li.querySelector(".row").classList.add("selected");
      li.scrollIntoView({ block: "nearest" });
    }
  }

  function loadTree(t) {
    t.items = {};
    t.rootOrder = {};
    t.roots.forEach(function (r, k) { t.rootOrder[r] = k; });
    t.byId = {};
    t.nodes.forEach(function (n, i) { t.byId[n.id] = i; });
    state.tree = t;
    var ul = $("tree");
    ul.textContent = "";
    t.roots.forEach(function (r) { ul.appendChild(treeItem(r)); });
    $("tree-head").textContent = fmtCount(t.nodes.length) + " clusters, " + t.roots.length + " at the top; " + fmtCount(t.total) + " conversations";
    if (!t.nodes.length) ul.appendChild(el("li", { "class": "hint" }, "No clusters in this directory."));
  }

  // ---- Map: a canvas renderer that writes points straight into an
  // ImageData buffer (fast enough to redraw 100,000 points on every pan or
  // zoom frame), with a uniform grid for hover and click.
  var map = (function () {
    var canvas = $("map"), ctx = canvas.getContext("2d");
    var dpr = 1, W = 0, H = 0;
    var view = { cx: 0, cy: 0, k: 1 };
    var pts = null, grid = null, colors = null;
    var hover = -1, selected = -1, pending = false, lastDraw = 0;
    var frame = null, frameBuf = null; // the ImageData reused by every frame
    var tipShown = -2;

    function build(p) {
      var n = p.x.length;
      pts = { n: n, x: Float64Array.from(p.x), y: Float64Array.from(p.y), leaf: p.leaf, ids: p.ids };
      colors = new Uint32Array(n);
      var le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
      for (var i = 0; i < n; i++) {
        var c = p.leaf[i] >= 0 ? colorOf(p.leaf[i]) : "#999999";
        var r = parseInt(c.slice(1, 3), 16), g = parseInt(c.slice(3, 5), 16), b = parseInt(c.slice(5, 7), 16);
        colors[i] = le ? (255 << 24 | b << 16 | g << 8 | r) >>> 0 : (r << 24 | g << 16 | b << 8 | 255) >>> 0;
      }
      var minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (i = 0; i < n; i++) {
        minX = Math.min(minX, pts.x[i]); maxX = Math.max(maxX, pts.x[i]);
        minY = Math.min(minY, pts.y[i]); maxY = Math.max(maxY, pts.y[i]);
      }
      if (n === 0) { minX = minY = 0; maxX = maxY = 1; }
      if (maxX === minX) { maxX += 0.5; minX -= 0.5; }
      if (maxY === minY) { maxY += 0.5; minY -= 0.5; }
      pts.bounds = { minX: minX, maxX: maxX, minY: minY, maxY: maxY };
      // Grid of G×G cells over the bounds.
      var G = Math.max(8, Math.min(512, Math.round(Math.sqrt(n / 4))));
      var cells = new Array(G * G);
      var gx = G / (maxX - minX), gy = G / (maxY - minY);
      for (i = 0; i < n; i++) {
        var cx = Math.min(G - 1, Math.floor((pts.x[i] - minX) * gx)), cy = Math.min(G - 1, Math.floor((pts.y[i] - minY) * gy));
        var key = cy * G + cx;
        (cells[key] || (cells[key] = [])).push(i);
      }
      grid = { G: G, cells: cells, gx: gx, gy: gy };
      reset();
    }
    function reset() {
      if (!pts) return;
      var b = pts.bounds;
      view.cx = (b.minX + b.maxX) / 2; view.cy = (b.minY + b.maxY) / 2;
      view.k = 0.9 * Math.min(W / (b.maxX - b.minX), H / (b.maxY - b.minY)) || 1;
      draw();
    }
    function resize() {
      var r = canvas.getBoundingClientRect();
      dpr = window.devicePixelRatio || 1;
      var w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
      if (w === W && h === H) return;
      var first = W === 0;
      W = w; H = h;
      canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
      if (first) reset(); else draw();
    }
    function toScreen(x, y) { return [W / 2 + (x - view.cx) * view.k, H / 2 - (y - view.cy) * view.k]; }
    function toData(sx, sy) { return [view.cx + (sx - W / 2) / view.k, view.cy - (sy - H / 2) / view.k]; }
    function draw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; drawNow(); });
    }
    function drawNow() {
      var t0 = performance.now();
      var cw = canvas.width, ch = canvas.height;
      if (!frame || frame.width !== cw || frame.height !== ch) {
        frame = ctx.createImageData(cw, ch);
        frameBuf = new Uint32Array(frame.data.buffer);
      } else {
        frameBuf.fill(0);
      }
      var img = frame, buf = frameBuf;
      if (pts) {
        var hl = state.highlight, dim = hl ? 0xffd9d9d9 >>> 0 : 0;
        var s = Math.max(1, Math.round((pts.n > 20000 ? 2 : pts.n > 2000 ? 3 : state.points.mode === "clusters" ? 8 : 4) * dpr)), kx = view.k * dpr, ox = cw / 2 - view.cx * kx, oy = ch / 2 + view.cy * kx;
        var pass = function (only) {
          for (var i = 0; i < pts.n; i++) {
            var on = !hl || hl[i] === 1;
            if (only !== on) continue;
            var px = Math.round(ox + pts.x[i] * kx), py = Math.round(oy - pts.y[i] * kx);
            if (px < 0 || py < 0 || px + s > cw || py + s > ch) continue;
            var c = on ? colors[i] : dim;
            for (var dy = 0; dy < s; dy++) {
              var row = (py + dy) * cw + px;
              for (var dx = 0; dx < s; dx++) buf[row + dx] = c;
            }
          }
        };
        if (hl) pass(false);
        pass(true);
      }
      ctx.putImageData(img, 0, 0);
      // Overlay: cluster labels of the top level, hover and selection rings.
      ctx.save();
      ctx.scale(dpr, dpr);
      if (state.tree) {
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = "center";
        state.tree.roots.forEach(function (r) {
          var n = state.tree.nodes[r];
          if (n.x == null) return;
          var p = toScreen(n.x, n.y);
          ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.85)";
          var label = n.name.length > 40 ? n.name.slice(0, 39) + "…" : n.name;
          var half = ctx.measureText(label).width / 2 + 2;
          var lx = Math.max(half, Math.min(W - half, p[0])); // keep the label inside the map
          ctx.strokeText(label, lx, p[1] - 8);
          ctx.fillStyle = "#263238"; ctx.fillText(label, lx, p[1] - 8);
        });
      }
      [[hover, "#000"], [selected, "#d50000"]].forEach(function (hs) {
        if (hs[0] < 0 || !pts || hs[0] >= pts.n) return;
        var p = toScreen(pts.x[hs[0]], pts.y[hs[0]]);
        ctx.beginPath(); ctx.arc(p[0] + 1, p[1] + 1, 6, 0, 2 * Math.PI);
        ctx.lineWidth = 2; ctx.strokeStyle = hs[1]; ctx.stroke();
      });
      ctx.restore();
      lastDraw = performance.now() - t0;
      canvas.setAttribute("data-draw-ms", lastDraw.toFixed(2));
      canvas.setAttribute("data-points", pts ? pts.n : 0);
    }
    // Nearest point within r pixels of a screen position, or -1.
    function pick(sx, sy, r) {
      if (!pts || !pts.n) return -1;
      var d = toData(sx, sy), rd = r / view.k, b = pts.bounds, G = grid.G;
      var x0 = Math.max(0, Math.floor((d[0] - rd - b.minX) * grid.gx)), x1 = Math.min(G - 1, Math.floor((d[0] + rd - b.minX) * grid.gx));
      var y0 = Math.max(0, Math.floor((d[1] - rd - b.minY) * grid.gy)), y1 = Math.min(G - 1, Math.floor((d[1] + rd - b.minY) * grid.gy));
      var best = -1, bd = rd * rd;
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > 40000) return -1; // zoomed far out: too many cells to search
      for (var cy = y0; cy <= y1; cy++) for (var cx = x0; cx <= x1; cx++) {
        var cell = grid.cells[cy * G + cx];
        if (!cell) continue;
        for (var j = 0; j < cell.length; j++) {
          var i = cell[j], dx = pts.x[i] - d[0], dy = pts.y[i] - d[1], dd = dx * dx + dy * dy;
          if (dd <= bd && (!state.highlight || state.highlight[i])) { bd = dd; best = i; }
        }
      }
      return best;
    }
    // Pointer handling: drag pans, wheel zooms about the cursor, click picks.
    var drag = null;
    canvas.addEventListener("pointerdown", function (e) {
      drag = { x: e.offsetX, y: e.offsetY, cx: view.cx, cy: view.cy, moved: false };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (drag) {
        var dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) {
          view.cx = drag.cx - dx / view.k; view.cy = drag.cy + dy / view.k;
          draw();
          return;
        }
      }
      var i = pick(e.offsetX, e.offsetY, 8);
      if (i !== hover) { hover = i; draw(); }
      tooltip(i, e.offsetX, e.offsetY);
    });
    canvas.addEventListener("pointerup", function (e) {
      var d = drag;
      drag = null;
      if (d && !d.moved) {
        var i = pick(e.offsetX, e.offsetY, 8);
        if (i >= 0) app.openPoint(i);
      }
    });
    canvas.addEventListener("pointerleave", function () { hover = -1; tooltip(-1); draw(); });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var before = toData(e.offsetX, e.offsetY);
      view.k *= Math.exp(-e.deltaY * 0.0015);
      var after = toData(e.offsetX, e.offsetY);
      view.cx += before[0] - after[0]; view.cy += before[1] - after[1];
      draw();
    }, { passive: false });
    canvas.addEventListener("dblclick", reset);
    window.addEventListener("resize", resize);

    // The tooltip changes only when the point under the pointer does.
    function tooltip(i, x, y) {
      if (i === tipShown) return;
      tipShown = i;
      var tip = $("tooltip");
      if (i < 0) { tip.hidden = true; return; }
      var leaf = pts.leaf[i], name = leaf >= 0 ? state.tree.nodes[leaf].name : "no cluster";
      tip.textContent = (state.points.mode === "clusters" ? name : pts.ids[i] + " — " + name);
      tip.style.transform = "translate(" + Math.min(x + 12, W - 330) + "px," + (y + 12) + "px)";
      tip.hidden = false;
    }
    return {
      build: build, resize: resize, draw: draw, reset: reset,
      select: function (i) { selected = i; draw(); },
      screenOf: function (i) { var p = toScreen(pts.x[i], pts.y[i]); var r = canvas.getBoundingClientRect(); return [r.left + p[0] + 1, r.top + p[1] + 1]; },
      visible: function (i) { var p = toScreen(pts.x[i], pts.y[i]); return p[0] > 8 && p[1] > 8 && p[0] < W - 8 && p[1] < H - 8; },
      centerOn: function (i) { view.cx = pts.x[i]; view.cy = pts.y[i]; draw(); },
      lastDrawMs: function () { return lastDraw; },
      pick: pick,
      drawNow: drawNow,
    };
  })();
  app.map = map;

  app.openPoint = function (i) {
    var p = state.points;
    if (p.mode === "clusters") setHash("cluster", p.ids[i]);
    else setHash("conv", p.ids[i]);
  };

  function pointIndexOf(id) {
    if (!state.points) return -1;
    if (!state.points.indexById) {
      state.points.indexById = {};
      state.points.ids.forEach(function (v, i) { state.points.indexById[v] = i; });
    }
    var i = state.points.indexById[id];
    return i == null ? -1 : i;
  }

  // Highlight on the map: the conversations under a cluster, or a search's matches.
  function highlightCluster(ci) {
    var p = state.points, t = state.tree;
    if (!p || !p.x.length) return;
    var inside = new Uint8Array(t.nodes.length);
    (function mark(i) { inside[i] = 1; t.nodes[i].children.forEach(mark); })(ci);
    var hl = new Uint8Array(p.x.length);
    for (var i = 0; i < hl.length; i++) hl[i] = p.leaf[i] >= 0 && inside[p.leaf[i]] ? 1 : 0;
    state.highlight = hl;
    map.select(-1);
  }

  // ---- Details.
  function detail() { var d = $("detail"); d.textContent = ""; return d; }

  function facetBlock(f, total) {
    var box = el("div", { "class": "facet" });
    var head = el("div", { "class": "fname" }, f.name);
    if (f.distinct > f.values.length) head.textContent += " (" + f.distinct + " values, top " + f.values.length + ")";
    box.appendChild(head);
    var maxc = f.values.reduce(function (m, v) { return Math.max(m, v.count); }, 1);
    f.values.forEach(function (v) {
      var bar = el("div", { "class": "bar" });
      bar.appendChild(el("span", { "class": "v", title: v.value }, v.value));
      var fill = el("div", { "class": "fill" });
      fill.style.width = (100 * v.count / maxc) + "%";
      bar.appendChild(fill);
      bar.appendChild(el("span", { "class": "n" }, fmtCount(v.count)));
      box.appendChild(bar);
    });
    if (f.others) box.appendChild(el("div", { "class": "stat" }, "+ " + fmtCount(f.others) + " in other values"));
    if (f.missing) box.appendChild(el("div", { "class": "stat" }, fmtCount(f.missing) + " without a value"));
    return box;
  }

  function memberList(rows) {
    var ul = el("ul", { "class": "members" });
    rows.forEach(function (m) {
      var li = el("li");
      li.appendChild(el("a", { href: "#conv=" + encodeURIComponent(m.id) }, m.id));
      if (m.summary) li.appendChild(el("div", null, m.summary));
      ul.appendChild(li);
    });
    return ul;
  }

  function crumbs(path) {
    var p = el("div", { "class": "crumbs" });
    path.forEach(function (c, i) {
      if (i) p.appendChild(document.createTextNode(" › "));
      p.appendChild(el("a", { href: "#cluster=" + encodeURIComponent(c.id) }, c.name));
    });
    return p;
  }

  function showCluster(id, offset) {
    var ci = state.tree && state.tree.byId[id];
    if (ci != null) { revealInTree(ci); highlightCluster(ci); }
    getJSON("/api/cluster?id=" + encodeURIComponent(id) + (offset ? "&offset=" + offset : "")).then(function (c) {
      var d = detail();
      d.setAttribute("data-kind", "cluster");
      if (c.path.length) d.appendChild(crumbs(c.path));
      d.appendChild(el("h2", null, c.name));
      d.appendChild(el("p", { "class": "stat" }, fmtCount(c.count) + " conversations · " + pct(c.share) + " of all"));
      d.appendChild(el("p", { "class": "desc" }, c.description));
      if (c.children && c.children.length) {
        d.appendChild(el("h3", null, "Subclusters"));
        var ul = el("ul");
        c.children.forEach(function (k) {
          var li = el("li");
          li.appendChild(el("a", { href: "#cluster=" + encodeURIComponent(k.id) }, k.name));
          li.appendChild(document.createTextNode(" (" + fmtCount(k.count) + ")"));
          ul.appendChild(li);
        });
        d.appendChild(ul);
      }
      if (c.facets && c.facets.length) {
        d.appendChild(el("h3", null, "Summaries (" + fmtCount(c.with_summary) + ")"));
        c.facets.forEach(function (f) { d.appendChild(facetBlock(f)); });
      }
      if (c.metadata && c.metadata.length) {
        d.appendChild(el("h3", null, "Metadata"));
        c.metadata.forEach(function (f) { d.appendChild(facetBlock(f)); });
      }
      d.appendChild(el("h3", null, "Conversations " + (c.offset + 1) + "–" + (c.offset + c.members.length) + " of " + fmtCount(c.count)));
      d.appendChild(memberList(c.members || []));
      if (c.offset + c.members.length < c.count) {
        var more = el("button", { "class": "more", type: "button" }, "Next " + c.page);
        more.addEventListener("click", function () { showCluster(id, c.offset + c.page); });
        d.appendChild(more);
      }
      map.draw();
    }).catch(fail("Cluster " + id));
  }

  function showConversation(id) {
    getJSON("/api/conversation?id=" + encodeURIComponent(id)).then(function (c) {
      var d = detail();
      d.setAttribute("data-kind", "conversation");
      if (c.path.length) {
        d.appendChild(crumbs(c.path));
        var leaf = state.tree.byId[c.path[c.path.length - 1].id];
        if (leaf != null) revealInTree(leaf);
      }
      d.appendChild(el("h2", null, c.id));
      var pi = pointIndexOf(state.points && state.points.mode === "clusters" ? "" : c.id);
      state.highlight = null;
      map.select(pi);
      if (pi >= 0 && !map.visible(pi)) map.centerOn(pi);
      if (c.note) d.appendChild(el("p", { "class": "hint" }, c.note));
      var s = c.summary;
      if (s) {
        d.appendChild(el("h3", null, "Summary"));
        d.appendChild(el("p", null, s.summary));
        var kv = el("table", { "class": "kv" });
        [["request", s.request], ["task", s.task], ["topic", s.topic], ["languages", (s.languages || []).join(", ")],
          ["concerning score", s.concerning_score], ["user frustration", s.user_frustration],
          ["assistant errors", (s.assistant_errors || []).join("; ")]].forEach(function (r) {
          if (r[1] == null || r[1] === "") return;
          var tr = el("tr");
          tr.appendChild(el("td", null, r[0]));
          tr.appendChild(el("td", null, String(r[1])));
          kv.appendChild(tr);
        });
        d.appendChild(kv);
      }
      var meta = (c.conversation && c.conversation.metadata) || (s && s.metadata);
      if (meta && Object.keys(meta).length) {
        d.appendChild(el("h3", null, "Metadata"));
        var mt = el("table", { "class": "kv" });
        Object.keys(meta).forEach(function (k) {
          var tr = el("tr");
          tr.appendChild(el("td", null, k));
          tr.appendChild(el("td", null, typeof meta[k] === "object" ? JSON.stringify(meta[k]) : String(meta[k])));
          mt.appendChild(tr);
        });
        d.appendChild(mt);
      }
      if (c.conversation) {
        d.appendChild(el("h3", null, "Messages (" + c.conversation.messages.length + ")"));
        var msgs = el("div", { "class": "messages" });
        c.conversation.messages.forEach(function (m) {
          var div = el("div", { "class": "msg " + m.role });
          div.appendChild(el("span", { "class": "role" }, m.role + " · " + m.created_at));
          div.appendChild(document.createTextNode(m.content));
          msgs.appendChild(div);
        });
        d.appendChild(msgs);
      }
    }).catch(fail("Conversation " + id));
  }

  function runSearch(q) {
    $("search").value = q;
    getJSON("/api/search?q=" + encodeURIComponent(q)).then(function (r) {
      var d = detail();
      d.setAttribute("data-kind", "search");
      d.appendChild(el("h2", null, "Search: " + q));
      d.appendChild(el("p", { "class": "stat" }, r.clusters.length + " clusters, " + fmtCount(r.total) + " conversations match" + (r.total > r.conversations.length ? " (first " + r.conversations.length + " listed)" : "")));
      if (r.clusters.length) {
        d.appendChild(el("h3", null, "Clusters"));
        var ul = el("ul", { "class": "search-clusters" });
        r.clusters.forEach(function (c) {
          var li = el("li");
          li.appendChild(el("a", { href: "#cluster=" + encodeURIComponent(c.id) }, c.name));
          li.appendChild(document.createTextNode(" (" + fmtCount(c.count) + ")"));
          ul.appendChild(li);
        });
        d.appendChild(ul);
      }
      if (r.conversations.length) {
        d.appendChild(el("h3", null, "Conversations"));
        d.appendChild(memberList(r.conversations));
      }
      // Highlight the matches on the map.
      var p = state.points;
      if (p && p.x.length && p.mode !== "clusters") {
        var hl = new Uint8Array(p.x.length);
        var pointOf = {};
        p.conv.forEach(function (ci, i) { if (ci >= 0) pointOf[ci] = i; });
        r.matches.forEach(function (ci) { var i = pointOf[ci]; if (i != null) hl[i] = 1; });
        state.highlight = hl;
        map.select(-1);
      }
    }).catch(fail("Search"));
  }

  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("search").value.trim();
    if (q) setHash("q", q);
  });

  // ---- Load-test dashboard.
  var loadtestShown = false;
  function showLoadtest() {
    if (loadtestShown) return;
    loadtestShown = true;
    getJSON("/api/loadtest").then(function (r) {
      var errs = $("loadtest-errors");
      (r.problems || []).forEach(function (p) {
        errs.appendChild(el("p", { "class": "kura-error" }, p.problems.join("\n")));
      });
      var box = $("loadtest-charts");
      if (!r.runs.length) {
        box.appendChild(el("p", { "class": "empty" }, "No readable load_test_results_*.json in this directory. Run `kura loadtest --out DIR` to make one."));
      } else {
        app.charts = KuraCharts.render(box, { runs: r.runs });
      }
      app.loadtestReady = true;
    }).catch(function (e) { fail("Load-test results")(e); app.loadtestReady = true; });
  }

  // ---- Start.
  window.addEventListener("hashchange", route);
  getJSON("/api/overview").then(function (o) {
    state.overview = o;
    document.title = "kura serve: " + o.dir;
    $("title").textContent = o.dir;
    (o.problems || []).forEach(function (p) {
      showErrors(p.file + ": " + p.count + " problem" + (p.count === 1 ? "" : "s") + (p.count > p.problems.length ? " (first " + p.problems.length + ")" : ""), p.problems);
    });
    $("map-note").textContent = o.map_note;
    return Promise.all([getJSON("/api/tree"), getJSON("/api/points")]);
  }).then(function (res) {
    loadTree(res[0]);
    state.points = res[1];
    map.resize();
    map.build(res[1]);
    app.ready = true;
    document.body.setAttribute("data-ready", "1");
    route();
  }).catch(function (e) {
    fail("Loading the directory")(e);
    app.ready = true;
    document.body.setAttribute("data-ready", "error");
    route();
  });
})();
