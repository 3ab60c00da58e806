package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kura-go/kura/internal/headless"
)

// chartInfo is what the page reports about one drawn chart.
type chartInfo struct {
	ID      string    `json:"id"`
	Width   int       `json:"width"`
	Height  int       `json:"height"`
	Inked   int       `json:"inked"` // canvas pixels that are not transparent or white
	Legend  []string  `json:"legend"`
	XMin    float64   `json:"xmin"`
	XMax    float64   `json:"xmax"`
	LogX    bool      `json:"logx"`
	XTicks  []string  `json:"xticks"`
	Scales  []float64 `json:"scales"`
	Caption string    `json:"caption"`
}

const chartsJS = `window.kuraCharts.map(function (u) {
  var c = u.ctx.canvas, d = u.ctx.getImageData(0, 0, c.width, c.height).data, inked = 0;
  for (var i = 0; i < d.length; i += 4) if (d[i+3] > 0 && (d[i] < 245 || d[i+1] < 245 || d[i+2] < 245)) inked++;
  var legend = Array.prototype.map.call(u.root.querySelectorAll(".u-legend .u-series .u-label"), function (e) { return e.textContent; });
  return {id: u.kura.id, width: c.width, height: c.height, inked: inked, legend: legend,
    xmin: u.scales.x.min, xmax: u.scales.x.max, logx: u.kura.logX,
    xticks: (u.axes[0]._values || []).map(String), scales: u.kura.xs,
    caption: u.root.closest("section").querySelector("h3").textContent};
})`

// TestReportInBrowser opens a rendered report in headless Chromium and
// checks that every chart is drawn: a non-empty canvas, a legend, and an x
// axis spanning the scales measured, on a log scale when they span decades.
func TestReportInBrowser(t *testing.T) {
	ctx := headless.Browser(t, 1400, 1000, 3*time.Minute)
	// Two runs overlaid; the second has enough scales for prediction bands.
	in := load(t, "run_100-10000.json", "run_100-1600.json")
	var buf bytes.Buffer
	if err := Render(&buf, in, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body.getAttribute("data-charts")`, chromedp.WithPollingTimeout(time.Minute)))
	if err != nil || state == "error" {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("charts not drawn (%q, %v): %s", state, err, msg)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartInfo](chartsJS))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stages", "time", "memory", "throughput", "cost", "storage"}
	if len(charts) != len(want) {
		t.Fatalf("%d charts, want %d", len(charts), len(want))
	}
	for i, c := range charts {
		if c.ID != want[i] {
			t.Errorf("chart %d is %q, want %q", i, c.ID, want[i])
		}
		// At least 0.5% of the canvas carries ink beyond the grid's white.
		if c.Width < 300 || c.Height < 200 || c.Inked < c.Width*c.Height/200 {
			t.Errorf("%s: canvas %dx%d with %d inked pixels: not drawn", c.Caption, c.Width, c.Height, c.Inked)
		}
		if len(c.Legend) < 3 || c.Legend[0] != "conversations" {
			t.Errorf("%s: legend %q", c.Caption, c.Legend)
		}
		// Both runs together span 100..10,000 conversations: a log x axis
		// that covers them, with ticks labelled at the decades.
		if !c.LogX || c.XMin > 100 || c.XMax < 10000 {
			t.Errorf("%s: x axis %v..%v (log %v), want a log axis over 100..10,000", c.Caption, c.XMin, c.XMax, c.LogX)
		}
		ticks := strings.Join(c.XTicks, " ")
		for _, tick := range []string{"100", "1k", "10k"} {
			if !strings.Contains(" "+ticks+" ", " "+tick+" ") {
				t.Errorf("%s: x ticks %q lack %s", c.Caption, ticks, tick)
			}
		}
	}
	if len(charts) > 0 && !strings.Contains(strings.Join(charts[1].Legend, "|"), "fit") {
		t.Errorf("total-time chart legend %q has no fitted curve", charts[1].Legend)
	}
	// The fitted curves of time and memory have their prediction band, and
	// the plan's figures at the target their interval, in the legend.
	for _, k := range []int{1, 2} {
		if k >= len(charts) {
			break
		}
		legend := strings.Join(charts[k].Legend, "|")
		for _, w := range []string{"90% prediction band (run 2)", "at target (90% interval ", "interval (run 2)"} {
			if !strings.Contains(legend, w) {
				t.Errorf("%s: legend %q lacks %q", charts[k].Caption, legend, w)
			}
		}
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	for _, w := range []string{"Scaling analysis", "Planning", "Shaded: the fit's 90% prediction band", "Target 10,000 conversations"} {
		if !strings.Contains(text, w) {
			t.Errorf("page text lacks %q", w)
		}
	}
	// Time to first render, for the record (not asserted: timing is measured
	// by benchmarks, not tests).
	timing, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(function () {
	  var n = performance.getEntriesByType("navigation")[0] || {}, r = {};
	  performance.getEntriesByType("paint").forEach(function (p) { r[p.name] = p.startTime; });
	  var m = performance.getEntriesByName("kura-charts-rendered")[0];
	  r["charts-rendered"] = m ? m.startTime : -1;
	  r["dom-content-loaded"] = n.domContentLoadedEventEnd || -1;
	  return r;
	})()`))
	if err == nil {
		t.Logf("report: %d bytes; first-contentful-paint %.0f ms, charts rendered %.0f ms, DOMContentLoaded %.0f ms",
			buf.Len(), timing["first-contentful-paint"], timing["charts-rendered"], timing["dom-content-loaded"])
	}
	headless.Screenshot(t, ctx, "report.png")
}
