// Kura load-test charts: draws the chart model made by package report (Go)
// with uPlot. Used by the HTML report and by the `kura serve` dashboard.
// KuraCharts.render(container, {runs: [...]}) returns the uPlot instances.
(function () {
  "use strict";

  var STAGES = ["load", "embed", "cluster", "write"];
  var STAGE_COLORS = { load: "#8c6d31", embed: "#1f77b4", cluster: "#d62728", write: "#2ca02c", total: "#222222" };
  var RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  var RUN_DASH = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 5]];
  var BAND_NOTE = "No prediction band: too few scales to estimate the scatter, or a results file whose fit this " +
    "kura does not reproduce from its points; the dashed curve is the fit alone, and its error grows the further " +
    "it reaches past the largest scale measured.";
  function bandNote(level) {
    return "Shaded: the fit's " + Math.round(level * 100) + "% prediction band, where a new measurement at that scale " +
      "would fall given the scatter of the measured points about the fit; it assumes the fit's form holds past the " +
      "largest scale measured, so the further out, the more it understates the doubt.";
  }

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
    lines.forEach(function (l) {
      allX = allX.concat(l.xs);
      // A band's or interval's low side may reach below zero: it does not
      // decide the y axis (cut off on a log axis).
      if (l.kind !== "band-lo" && l.kind !== "range-lo") allY = allY.concat(l.ys);
    });
    var logX = spansDecades(allX);
    var positiveY = allY.every(function (y) { return y == null || y > 0; });
    var logY = positiveY && spansDecades(allY);
    var tables = lines.map(function (l) {
      var ys = l.ys.map(function (y) { return (y == null || (logY && y <= 0)) ? null : y; });
      return [l.xs, ys];
    });
    var data = uPlot.join(tables);
    var series = [{ label: "conversations", value: function (u, v) { return fmtCount(v); } }];
    var bands = [], ranges = [], hidden = [];
    lines.forEach(function (l, i) {
      var idx = i + 1;
      var band = l.kind === "band-hi" || l.kind === "band-lo", range = l.kind === "range-hi" || l.kind === "range-lo";
      var s = {
        label: l.label, stroke: band ? fade(l.color, 0.45) : l.color, width: l.kind === "fit" || band ? 1 : 2, dash: l.dash || [],
        spanGaps: true, value: function (u, v) { return v == null ? "–" : spec.fmt(v); },
        points: { show: l.kind !== "fit" && !band, size: l.kind === "plan" ? 11 : range ? 9 : 6, fill: l.kind === "plan" ? "#fff" : l.color, stroke: l.color, width: 2 },
      };
      if (l.kind === "plan" || range) s.paths = function () { return null; };
      if (range) s.points.fill = l.color;
      if (l.kind === "band-hi" || l.kind === "range-hi") {
        // Its low side is the next line: one legend entry for the pair.
        (band ? bands : ranges).push({ hi: idx, lo: idx + 1, color: l.color });
        hidden.push(idx + 1);
      }
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
      bands: bands.map(function (b) { return { series: [b.hi, b.lo], fill: fade(b.color, 0.14) }; }),
      hooks: { draw: [function (u) {
        // A planned figure's interval: a bar from its low to its high end.
        var ctx = u.ctx;
        ranges.forEach(function (r) {
          var x = u.data[0], hi = u.data[r.hi], lo = u.data[r.lo];
          for (var k = 0; k < x.length; k++) {
            if (hi[k] == null || lo[k] == null) continue;
            var px = u.valToPos(x[k], "x", true), y0 = u.valToPos(lo[k], "y", true), y1 = u.valToPos(hi[k], "y", true);
            ctx.save();
            ctx.strokeStyle = r.color;
            ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
            ctx.beginPath();
            ctx.moveTo(px, y0);
            ctx.lineTo(px, y1);
            ctx.stroke();
            ctx.restore();
          }
        });
      }] },
    };
    var u = new uPlot(opts, data, plot);
    var entries = u.root.querySelectorAll(".u-legend .u-series");
    hidden.forEach(function (idx) { if (entries[idx]) entries[idx].style.display = "none"; });
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
      // The curve and its band are in the note; their samples are not measurements.
      if (l.kind === "fit" || l.kind === "band-hi" || l.kind === "band-lo") return;
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

  // fade returns a #rrggbb colour with the given opacity.
  function fade(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function fitLines(runs, metric, label) {
    var out = [];
    runs.forEach(function (r, i) {
      var c = r.curves && r.curves[metric];
      if (!c) return;
      var color = RUN_COLORS[i % RUN_COLORS.length];
      out.push({ label: label + " (" + c.model + " fit)" + runTag(runs, i), xs: c.xs, ys: c.ys, color: color, dash: [5, 4], kind: "fit" });
      if (c.band && c.hi && c.lo) {
        var pct = Math.round(c.level * 100) + "%";
        out.push({ label: label + " " + pct + " prediction band" + runTag(runs, i), xs: c.xs, ys: c.hi, color: color, kind: "band-hi" });
        out.push({ label: label + " band low" + runTag(runs, i), xs: c.xs, ys: c.lo, color: color, kind: "band-lo" });
      }
    });
    return out;
  }
  // planLines marks the plan's figure at its target volume; with lo and hi,
  // the fields of its prediction interval, a bar spans the interval.
  function planLines(runs, field, label, lo, hi, fmt) {
    var out = [];
    runs.forEach(function (r, i) {
      var t = r.target;
      if (!t || !t[field]) return;
      var color = RUN_COLORS[i % RUN_COLORS.length], x = [t.conversations];
      var iv = lo && t[lo] && t[hi];
      out.push({ label: label + " at target" + (iv ? " (" + Math.round(t.level * 100) + "% interval " + fmt(t[lo]) + "–" + fmt(t[hi]) + ")" : "") + runTag(runs, i),
        xs: x, ys: [t[field]], color: color, kind: "plan" });
      if (iv) {
        out.push({ label: label + " interval" + runTag(runs, i), xs: x, ys: [t[hi]], color: color, kind: "range-hi" });
        out.push({ label: label + " interval low" + runTag(runs, i), xs: x, ys: [t[lo]], color: color, kind: "range-lo" });
      }
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
    var banded = runs.filter(function (r) { return r.curves && r.curves[metric] && r.curves[metric].band; });
    var note = banded.length ? bandNote(banded[0].curves[metric].level) : BAND_NOTE;
    if (banded.length && banded.length < parts.length) note += " Runs without a band: too few scales, or a fit from another version.";
    return "Fit: " + parts.join("; ") + ". " + note;
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
      lines: measured(runs, "total_wall_s", "measured", runColor).concat(fitLines(runs, "total_time", "total time"), planLines(runs, "time_s", "planned time", "time_low_s", "time_high_s", fmtSeconds)),
      what: "Total wall time per scale, the least-squares fit over all scales reaching to the plan's target with its prediction band (shaded), and the plan's time at the target (open circle, with a bar over its prediction interval; the plan sums each stage's own model, so it can sit off the total-time curve).",
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
      lines: memLines.concat(fitLines(runs, "peak_memory", "peak RSS"), planLines(runs, "ram_bytes", "planned RAM", "ram_low_bytes", "ram_high_bytes", fmtBytes)),
      what: "Peak resident memory of the pipeline's process per scale, the working memory (peak minus the process's baseline before any work), the baseline itself, the fitted peak-memory curve with its prediction band (shaded) and the RAM the plan predicts at the target (open circle, with a bar over its prediction interval).",
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
