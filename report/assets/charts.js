// Kura load-test charts: draws the chart model made by package report (Go)
// with uPlot. Used by the HTML report and by the `kura serve` dashboard.
// KuraCharts.render(container, {runs: [...]}) returns the uPlot instances.
(function () {
  "use strict";

  var STAGES = ["load", "embed", "cluster", "write"];
  var STAGE_COLORS = { load: "#8c6d31", embed: "#1f77b4", cluster: "#d62728", write: "#2ca02c", total: "#222222" };
  var RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  var RUN_DASH = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 5]];
  var BAND_NOTE = "The results file holds the fitted model but no prediction band, so the dashed curve is " +
    "the fit alone: its error grows the further it reaches past the largest scale measured.";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  // Formatting, in step with the Go side (report.Bytes, Seconds, USD, Count).
  function g3(v) { return Number(v.toPrecision(3)).toString(); }
  function fmtBytes(v) {
    if (v == null) return "";
    var a = Math.abs(v), k = 1024;
    if (a >= k * k * k * k) return g3(v / (k * k * k * k)) + " TiB";
    if (a >= k * k * k) return g3(v / (k * k * k)) + " GiB";
    if (a >= k * k) return g3(v / (k * k)) + " MiB";
    if (a >= k) return g3(v / k) + " KiB";
    return Math.round(v) + " B";
  }
  function fmtSeconds(s) {
    if (s == null) return "";
    if (s < 1) return g3(s * 1000) + " ms";
    if (s < 120) return g3(s) + " s";
    if (s < 7200) return g3(s / 60) + " min";
    if (s < 172800) return g3(s / 3600) + " h";
    return g3(s / 86400) + " days";
  }
  function fmtUSD(v) {
    if (v == null) return "";
    if (v !== 0 && Math.abs(v) < 0.01) return "$" + g3(v);
    return "$" + v.toFixed(2);
  }
  function fmtCount(v) {
    if (v == null) return "";
    return Math.round(v).toLocaleString("en-US");
  }
  function fmtCompact(v) {
    if (v == null) return "";
    var a = Math.abs(v);
    if (a >= 1e9) return g3(v / 1e9) + "G";
    if (a >= 1e6) return g3(v / 1e6) + "M";
    if (a >= 1e3) return g3(v / 1e3) + "k";
    return g3(v);
  }

  function spansDecades(values) {
    var lo = Infinity, hi = 0;
    values.forEach(function (v) { if (v != null && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    return hi > 0 && lo < Infinity && hi / lo >= 100;
  }

  // One chart: lines of [xs, ys] pairs on a shared x axis (conversations).
  // spec: {id, title, what, unit, fmt, lines: [{label, xs, ys, color, dash, kind}], note}
  function chart(parent, spec, charts) {
    var sec = el("section", { "class": "kura-chart", id: "chart-" + spec.id });
    sec.appendChild(el("h3", null, spec.title));
    sec.appendChild(el("p", { "class": "what" }, spec.what));
    var plot = el("div", { "class": "plot" });
    sec.appendChild(plot);
    if (spec.note) sec.appendChild(el("p", { "class": "note" }, spec.note));
    parent.appendChild(sec);

    var lines = spec.lines.filter(function (l) {
      return l.xs.length > 0 && l.ys.some(function (y) { return y != null; });
    });
    if (lines.length === 0) {
      plot.appendChild(el("p", { "class": "empty" }, "No values to chart."));
      return;
    }
    var allX = [], allY = [];
    lines.forEach(function (l) { allX = allX.concat(l.xs); allY = allY.concat(l.ys); });
    var logX = spansDecades(allX);
    var positiveY = allY.every(function (y) { return y == null || y > 0; });
    var logY = positiveY && spansDecades(allY);
    var tables = lines.map(function (l) {
      var ys = l.ys.map(function (y) { return (y == null || (logY && y <= 0)) ? null : y; });
      return [l.xs, ys];
    });
    var data = uPlot.join(tables);
    var series = [{ label: "conversations", value: function (u, v) { return fmtCount(v); } }];
    lines.forEach(function (l) {
      var s = {
        label: l.label, stroke: l.color, width: l.kind === "fit" ? 1.5 : 2, dash: l.dash || [],
        spanGaps: true, value: function (u, v) { return v == null ? "–" : spec.fmt(v); },
        points: { show: l.kind !== "fit", size: l.kind === "plan" ? 11 : 6, fill: l.kind === "plan" ? "#fff" : l.color, stroke: l.color, width: 2 },
      };
      if (l.kind === "plan") s.paths = function () { return null; };
      series.push(s);
    });
    var width = Math.max(320, plot.clientWidth || parent.clientWidth || 800);
    var opts = {
      width: width, height: 300, series: series,
      scales: { x: logX ? { time: false, distr: 3, log: 10 } : { time: false }, y: logY ? { distr: 3, log: 10 } : { range: function (u, lo, hi) { return [Math.min(0, lo), hi > 0 ? hi * 1.08 : 1]; } } },
      axes: [
        { label: "conversations" + (logX ? " (log scale)" : ""), values: function (u, vs) { return vs.map(fmtCompact); } },
        { label: spec.unit + (logY ? " (log scale)" : ""), size: 70, values: function (u, vs) { return vs.map(spec.fmt); } },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    var u = new uPlot(opts, data, plot);
    u.kura = { id: spec.id, logX: logX, logY: logY, xs: allX.filter(function (x) { return x != null; }) };
    charts.push(u);
    sec.appendChild(table(spec, lines));
  }

  // The chart's numbers as a table (behind a disclosure).
  function table(spec, lines) {
    var d = el("details", { "class": "data" });
    d.appendChild(el("summary", null, "Numbers"));
    var t = el("table");
    var head = el("tr");
    head.appendChild(el("th", null, "series"));
    head.appendChild(el("th", null, "conversations"));
    head.appendChild(el("th", null, spec.unit));
    t.appendChild(head);
    lines.forEach(function (l) {
      if (l.kind === "fit") return; // the curve is in the note; its samples are not measurements
      l.xs.forEach(function (x, i) {
        var tr = el("tr");
        tr.appendChild(el("td", null, l.label));
        tr.appendChild(el("td", { "class": "num" }, fmtCount(x)));
        tr.appendChild(el("td", { "class": "num" }, l.ys[i] == null ? "–" : spec.fmt(l.ys[i])));
        t.appendChild(tr);
      });
    });
    d.appendChild(t);
    return d;
  }

  function runTag(runs, i) { return runs.length > 1 ? " (run " + (i + 1) + ")" : ""; }

  function fitLines(runs, metric, label) {
    var out = [];
    runs.forEach(function (r, i) {
      var c = r.curves && r.curves[metric];
      if (!c) return;
      out.push({ label: label + " (" + c.model + " fit)" + runTag(runs, i), xs: c.xs, ys: c.ys, color: RUN_COLORS[i % RUN_COLORS.length], dash: [5, 4], kind: "fit" });
    });
    return out;
  }
  function planLines(runs, field, label) {
    var out = [];
    runs.forEach(function (r, i) {
      if (!r.target || !r.target[field]) return;
      out.push({ label: label + " at target" + runTag(runs, i), xs: [r.target.conversations], ys: [r.target[field]], color: RUN_COLORS[i % RUN_COLORS.length], kind: "plan" });
    });
    return out;
  }
  function measured(runs, key, label, colorOf, dashOf) {
    return runs.map(function (r, i) {
      return { label: label + runTag(runs, i), xs: r.scales || [], ys: r[key] || [], color: colorOf(i), dash: dashOf ? dashOf(i) : RUN_DASH[i % RUN_DASH.length], kind: "measured" };
    });
  }
  function runColor(i) { return RUN_COLORS[i % RUN_COLORS.length]; }
  function fitNote(runs, metric) {
    var parts = [];
    runs.forEach(function (r, i) {
      var c = r.curves && r.curves[metric];
      if (c) parts.push((runs.length > 1 ? "run " + (i + 1) + ": " : "") + c.describe);
    });
    if (parts.length === 0) return "No fit (fewer than two scales).";
    return "Fit: " + parts.join("; ") + ". " + BAND_NOTE;
  }

  function render(container, model) {
    var runs = (model && model.runs) || [];
    var charts = [];
    if (runs.length > 1) {
      var ol = el("ol", { "class": "kura-runs" });
      runs.forEach(function (r) { ol.appendChild(el("li", null, r.label + (r.file ? " — " + r.file : "") + ", scales " + (r.scales || []).map(fmtCount).join(", "))); });
      container.appendChild(ol);
    }
    if (runs.length === 0) {
      container.appendChild(el("p", { "class": "empty" }, "No load-test results to show."));
      return charts;
    }
    var grid = el("div", { "class": "kura-charts" });
    container.appendChild(grid);

    // 1. Time by stage.
    var stageLines = [];
    runs.forEach(function (r, i) {
      STAGES.concat(["total"]).forEach(function (st) {
        var ys = st === "total" ? r.total_wall_s : (r.stage_wall_s || {})[st];
        stageLines.push({ label: st + runTag(runs, i), xs: r.scales || [], ys: ys || [], color: STAGE_COLORS[st], dash: RUN_DASH[i % RUN_DASH.length], kind: "measured" });
      });
    });
    chart(grid, {
      id: "stages", title: "Time by stage", unit: "wall time", fmt: fmtSeconds, lines: stageLines,
      what: "Wall-clock time of each pipeline stage (load, embed, cluster, write) and their total, per scale measured." +
        (runs.length > 1 ? " Runs are told apart by line style." : ""),
    }, charts);

    // 2. Total time with the fit and the plan.
    chart(grid, {
      id: "time", title: "Total time: measured, fitted, planned", unit: "wall time", fmt: fmtSeconds,
      lines: measured(runs, "total_wall_s", "measured", runColor).concat(fitLines(runs, "total_time", "total time"), planLines(runs, "time_s", "planned time")),
      what: "Total wall time per scale, the least-squares fit over all scales reaching to the plan's target, and the plan's time at the target (open circle; the plan sums each stage's own model, so it can sit off the total-time curve).",
      note: fitNote(runs, "total_time"),
    }, charts);

    // 3. Memory.
    var memLines = [];
    runs.forEach(function (r, i) {
      var d = RUN_DASH[i % RUN_DASH.length], t = runTag(runs, i);
      memLines.push({ label: "peak RSS" + t, xs: r.scales, ys: r.peak_rss_bytes, color: "#1f77b4", dash: d, kind: "measured" });
      memLines.push({ label: "working (peak − baseline)" + t, xs: r.scales, ys: r.working_rss_bytes, color: "#ff7f0e", dash: d, kind: "measured" });
      memLines.push({ label: "baseline RSS" + t, xs: r.scales, ys: r.baseline_rss_bytes, color: "#7f7f7f", dash: d, kind: "measured" });
    });
    chart(grid, {
      id: "memory", title: "Peak and working memory", unit: "memory", fmt: fmtBytes,
      lines: memLines.concat(fitLines(runs, "peak_memory", "peak RSS"), planLines(runs, "ram_bytes", "planned RAM")),
      what: "Peak resident memory of the pipeline's process per scale, the working memory (peak minus the process's baseline before any work), the baseline itself, the fitted peak-memory curve and the RAM the plan predicts at the target.",
      note: fitNote(runs, "peak_memory"),
    }, charts);

    // 4. Throughput.
    chart(grid, {
      id: "throughput", title: "Throughput", unit: "conversations / min", fmt: fmtCompact,
      lines: measured(runs, "throughput_per_min", "measured", runColor).concat(planLines(runs, "throughput_per_min", "planned throughput")),
      what: "Conversations processed per minute of total wall time, and the plan's throughput at the target (the target divided by the planned time).",
      note: "No curve is drawn: throughput is conversations over time, so its curve is the total-time fit above turned upside down.",
    }, charts);

    // 5. Cost.
    var costLines = measured(runs, "estimated_cost_usd", "estimated embedding cost", runColor);
    runs.forEach(function (r, i) {
      if (r.cost_usd) costLines.push({ label: "charged by the embedder" + runTag(runs, i), xs: r.scales, ys: r.cost_usd, color: "#2ca02c", dash: RUN_DASH[i % RUN_DASH.length], kind: "measured" });
    });
    chart(grid, {
      id: "cost", title: "Embedding cost", unit: "US dollars", fmt: fmtUSD,
      lines: costLines.concat(fitLines(runs, "estimated_cost", "estimated cost"), planLines(runs, "cost_usd", "planned cost")),
      what: "What embedding each scale costs at the price model's list price (tokens × price), what the embedder charged when it was a paid API, the fit, and the plan's cost for the target volume.",
      note: fitNote(runs, "estimated_cost"),
    }, charts);

    // 6. Storage.
    chart(grid, {
      id: "storage", title: "Storage", unit: "bytes on disk", fmt: fmtBytes,
      lines: measured(runs, "storage_bytes", "measured", runColor).concat(fitLines(runs, "storage", "storage"), planLines(runs, "storage_bytes", "planned storage")),
      what: "Disk taken by a Kura-style checkpoint of the results (records and clusters as JSONL plus the vectors as .npy), the fit and the plan's storage at the target.",
      note: fitNote(runs, "storage"),
    }, charts);

    // Words.
    runs.forEach(function (r, i) {
      var sec = el("section", { "class": "kura-words", id: "words-" + i });
      sec.appendChild(el("h3", null, (runs.length > 1 ? "Run " + (i + 1) + ": " : "Run ") + r.label + (r.file ? " (" + r.file + ")" : "")));
      var setup = el("ul", { "class": "setup" });
      (r.setup || []).forEach(function (s) { setup.appendChild(el("li", null, s)); });
      sec.appendChild(setup);
      if (r.problems && r.problems.length) {
        var pr = el("ul", { "class": "problems" });
        r.problems.forEach(function (s) { pr.appendChild(el("li", null, s)); });
        sec.appendChild(pr);
      }
      [["Scaling analysis", r.analysis], ["Planning", r.planning]].forEach(function (p) {
        sec.appendChild(el("h4", null, p[0]));
        var ul = el("ul");
        (p[1] || []).forEach(function (s) { ul.appendChild(el("li", null, s)); });
        sec.appendChild(ul);
      });
      container.appendChild(sec);
    });

    window.addEventListener("resize", function () {
      charts.forEach(function (u) {
        var w = Math.max(320, u.root.parentNode.clientWidth);
        if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: 300 });
      });
    });
    return charts;
  }

  window.KuraCharts = { render: render, fmtBytes: fmtBytes, fmtSeconds: fmtSeconds, fmtUSD: fmtUSD, fmtCount: fmtCount };
})();
