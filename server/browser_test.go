package server

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kura-go/kura/internal/headless"
	"github.com/kura-go/kura/internal/refdata"
)

func do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

func waitFor(t testing.TB, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, js, err, text)
	}
}

// TestExplorerInBrowser drives the explorer on the real Kura checkpoint of
// MT-Bench (with two load-test results beside it): expand the tree, click a
// point on the map, read the conversation it opens, search, follow a deep
// link, and open the load-test dashboard.
func TestExplorerInBrowser(t *testing.T) {
	src := refdata.Path(t, "data/kura-mtbench")
	ctx := headless.Browser(t, 1500, 950, 5*time.Minute)
	dir := t.TempDir()
	copyDir(t, src, dir)
	for _, f := range []string{"run_100-500.json", "run_100-10000.json"} {
		b, err := os.ReadFile(filepath.Join("..", "report", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "load_test_results_"+strings.TrimSuffix(f, ".json")+".json"), string(b))
	}
	ts := newTestServer(t, dir)

	do(t, ctx, "open", chromedp.Navigate(ts.URL+"/"))
	waitFor(t, ctx, "the page to load", `document.body.getAttribute("data-ready") === "1"`)
	if n := eval[int](t, ctx, `document.querySelectorAll("#tree > li").length`); n != 6 {
		t.Errorf("tree has %d top-level clusters, want 6", n)
	}
	if s := eval[string](t, ctx, `document.querySelector("#tree > li .count").textContent`); s != "358 · 36%" {
		t.Errorf("largest cluster's count and share = %q, want 358 · 36%%", s)
	}
	if !eval[bool](t, ctx, `document.getElementById("errors").hidden`) {
		t.Errorf("error banner shown for a good directory: %s", eval[string](t, ctx, `document.getElementById("errors").innerText`))
	}
	if note := eval[string](t, ctx, `document.getElementById("map-note").textContent`); !strings.Contains(note, "no conversation-level coordinates") {
		t.Errorf("map note %q does not say conversations are placed around their clusters", note)
	}

	// Expand the first cluster.
	do(t, ctx, "expand the tree", chromedp.Click(chromedp.CSS("#tree > li:first-child > .row > .toggle")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#tree > li:first-child > ul > li").length`); n < 2 {
		t.Errorf("expanded cluster shows %d children", n)
	}
	if s := eval[string](t, ctx, `document.querySelector("#tree > li:first-child > .row > .toggle").getAttribute("aria-expanded")`); s != "true" {
		t.Errorf("toggle aria-expanded = %s", s)
	}
	headless.Screenshot(t, ctx, "serve-tree.png")

	// The map drew every conversation; click one of them with the mouse.
	if n := eval[int](t, ctx, `+document.getElementById("map").getAttribute("data-points")`); n != 1000 {
		t.Errorf("map has %d points, want 1000", n)
	}
	xy := eval[[]float64](t, ctx, `(function () {
	  for (var i = 0; i < kuraApp.state.points.ids.length; i++) if (kuraApp.map.visible(i)) return kuraApp.map.screenOf(i).concat([i]);
	  return [];
	})()`)
	if len(xy) != 3 {
		t.Fatal("no map point is visible")
	}
	do(t, ctx, "click a map point", chromedp.MouseClickXY(xy[0], xy[1]))
	waitFor(t, ctx, "the conversation", `document.getElementById("detail").getAttribute("data-kind") === "conversation"`)
	loc := eval[string](t, ctx, `location.hash`)
	// A click picks the nearest point: it may be a neighbour of the one aimed at.
	if !strings.HasPrefix(loc, "#conv=") {
		t.Errorf("clicking a point went to %q", loc)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#detail .msg").length`); n < 2 {
		t.Errorf("conversation shows %d messages", n)
	}
	if s := eval[string](t, ctx, `document.querySelector("#detail .msg.user").textContent`); len(s) < 20 {
		t.Errorf("first user message %q", s)
	}
	headless.Screenshot(t, ctx, "serve-conversation.png")

	// Open a cluster from the conversation's breadcrumb.
	do(t, ctx, "open the cluster", chromedp.Click(chromedp.CSS("#detail .crumbs a:last-child")))
	waitFor(t, ctx, "the cluster", `document.getElementById("detail").getAttribute("data-kind") === "cluster"`)
	if s := eval[string](t, ctx, `document.getElementById("detail").innerText`); !strings.Contains(s, "question_id") || !strings.Contains(s, "Summaries (") {
		t.Errorf("cluster details lack metadata and summary facets:\n%s", s)
	}

	// Search with the search box.
	do(t, ctx, "search", chromedp.SendKeys(chromedp.CSS("#search"), "Hawaii\r")) // typed, then Enter
	waitFor(t, ctx, "search results", `document.getElementById("detail").getAttribute("data-kind") === "search" && document.querySelectorAll("#detail ul.members li").length > 0`)
	if loc := eval[string](t, ctx, `location.hash`); loc != "#q=Hawaii" {
		t.Errorf("search hash = %q", loc)
	}
	hl := eval[int](t, ctx, `kuraApp.state.highlight ? kuraApp.state.highlight.reduce(function (a, b) { return a + b; }, 0) : -1`)
	hits := eval[int](t, ctx, `document.querySelectorAll("#detail ul.members li").length`)
	if hl != hits {
		t.Errorf("map highlights %d points for %d conversations found", hl, hits)
	}
	headless.Screenshot(t, ctx, "serve-search.png")

	// A deep link opens a cluster directly.
	do(t, ctx, "deep link", chromedp.Navigate(ts.URL+"/#cluster=64ef8fe5e766480aaf4d6ba85710eafd"))
	waitFor(t, ctx, "the linked cluster", `document.getElementById("detail").getAttribute("data-kind") === "cluster"`)
	if s := eval[string](t, ctx, `document.querySelector("#detail h2").textContent`); !strings.Contains(s, "pregnancy") {
		t.Errorf("deep link opened %q", s)
	}
	if s := eval[string](t, ctx, `document.querySelector(".tree .row.selected a.name").textContent`); !strings.Contains(s, "pregnancy") {
		t.Errorf("tree selection %q", s)
	}

	// The load-test dashboard draws the report's charts.
	do(t, ctx, "dashboard", chromedp.Click(chromedp.CSS("#tab-loadtest")))
	waitFor(t, ctx, "the dashboard", `kuraApp.loadtestReady === true`)
	charts := eval[[]int](t, ctx, `(kuraApp.charts || []).map(function (u) {
	  var c = u.ctx.canvas, d = u.ctx.getImageData(0, 0, c.width, c.height).data, n = 0;
	  for (var i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
	  return n;
	})`)
	if len(charts) != 6 {
		t.Errorf("dashboard drew %d charts, want 6", len(charts))
	}
	for i, n := range charts {
		if n == 0 {
			t.Errorf("dashboard chart %d is blank", i)
		}
	}
	headless.Screenshot(t, ctx, "serve-loadtest.png")
}

// TestBrokenDirInBrowser: broken files show their problems in the page,
// which still draws what could be read.
func TestBrokenDirInBrowser(t *testing.T) {
	ctx := headless.Browser(t, 1200, 800, 3*time.Minute)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "clusters.jsonl"), goodCluster+"\nnot json at all\n")
	write(t, filepath.Join(dir, "dimensionality.jsonl"), goodProj+"\n")
	write(t, filepath.Join(dir, "load_test_results_broken.json"), `{"schema_version": 1, "scales": [`)
	ts := newTestServer(t, dir)
	do(t, ctx, "open", chromedp.Navigate(ts.URL+"/"))
	waitFor(t, ctx, "the page", `document.body.getAttribute("data-ready") === "1"`)
	banner := eval[string](t, ctx, `document.getElementById("errors").hidden ? "" : document.getElementById("errors").innerText`)
	if !strings.Contains(banner, "clusters.jsonl:2:") {
		t.Errorf("error banner = %q, want the broken line named", banner)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#tree > li").length`); n != 1 {
		t.Errorf("tree has %d clusters, want the 1 good one", n)
	}
	do(t, ctx, "dashboard", chromedp.Navigate(ts.URL+"/#tab=loadtest"))
	waitFor(t, ctx, "the dashboard", `kuraApp.loadtestReady === true`)
	if s := eval[string](t, ctx, `document.getElementById("loadtest").innerText`); !strings.Contains(s, "load_test_results_broken.json: not a load test results file") {
		t.Errorf("dashboard text = %q, want the broken file named", s)
	}
	headless.Screenshot(t, ctx, "serve-broken.png")
}

// BenchmarkMapDraw100k measures one full redraw of the map with 100,000
// conversations in headless Chromium (software rendering, --disable-gpu).
// Run: go test ./server -run '^$' -bench MapDraw -benchtime 50x
func BenchmarkMapDraw100k(b *testing.B) {
	ctx := headless.Browser(b, 1500, 950, 5*time.Minute)
	dir := b.TempDir()
	writeSynthetic(b, dir, 100, 1000)
	ts := newTestServer(b, dir)
	do(b, ctx, "open", chromedp.Navigate(ts.URL+"/"))
	waitFor(b, ctx, "the page", `document.body.getAttribute("data-ready") === "1"`)
	if n := eval[int](b, ctx, `+document.getElementById("map").getAttribute("data-points")`); n != 100000 {
		b.Fatalf("map has %d points", n)
	}
	// From navigation to the tree and map drawn (server load of the files on
	// the first request included), and the size of the points answer.
	ready := eval[float64](b, ctx, `performance.now()`)
	size := eval[float64](b, ctx, `(performance.getEntriesByType("resource").filter(function (e) { return /api\/points/.test(e.name); })[0] || {}).encodedBodySize || -1`)
	b.ResetTimer()
	ms := eval[float64](b, ctx, fmt.Sprintf(`(function () {
	  var t0 = performance.now();
	  for (var i = 0; i < %d; i++) kuraApp.map.drawNow();
	  return (performance.now() - t0) / %d;
	})()`, b.N, b.N))
	b.StopTimer()
	b.ReportMetric(ms, "ms/draw")
	b.ReportMetric(ready, "ms/page-ready")
	b.ReportMetric(size, "bytes/points")
	// The nearest-point search behind hover and click, alone, and a whole
	// synthetic pointer move (event dispatch, search, tooltip update).
	pick := eval[float64](b, ctx, `(function () {
	  var c = document.getElementById("map"), r = c.getBoundingClientRect(), t0 = performance.now(), n = 2000;
	  for (var i = 0; i < n; i++) kuraApp.map.pick((i * 37) % r.width, (i * 53) % r.height, 8);
	  return (performance.now() - t0) / n;
	})()`)
	b.ReportMetric(pick, "ms/pick")
	hover := eval[float64](b, ctx, `(function () {
	  var c = document.getElementById("map"), r = c.getBoundingClientRect(), t0 = performance.now(), n = 200;
	  for (var i = 0; i < n; i++) c.dispatchEvent(new PointerEvent("pointermove", {clientX: r.left + (i * 37) % r.width, clientY: r.top + (i * 53) % r.height, bubbles: true}));
	  return (performance.now() - t0) / n;
	})()`)
	b.ReportMetric(hover, "ms/pointermove")
}

// writeSynthetic writes a checkpoint of clusters × per conversations with a
// conversation-level coordinates file (Gaussian blobs).
func writeSynthetic(tb testing.TB, dir string, clusters, per int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	cf, err := os.Create(filepath.Join(dir, "clusters.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	df, _ := os.Create(filepath.Join(dir, "dimensionality.jsonl"))
	xf, _ := os.Create(filepath.Join(dir, "conversation_coordinates.jsonl"))
	cw, dw, xw := bufio.NewWriter(cf), bufio.NewWriter(df), bufio.NewWriter(xf)
	for c := 0; c < clusters; c++ {
		cx, cy := 20*math.Cos(float64(c)), 20*math.Sin(float64(c)*1.3)
		ids := make([]string, per)
		for i := range ids {
			ids[i] = fmt.Sprintf("c%d_%d", c, i)
			fmt.Fprintf(xw, `{"chat_id":%q,"x_coord":%g,"y_coord":%g}`+"\n", ids[i], cx+rng.NormFloat64(), cy+rng.NormFloat64())
		}
		list := `["` + strings.Join(ids, `","`) + `"]`
		fmt.Fprintf(cw, `{"id":"k%d","name":"Cluster %d","description":"d","slug":"s","chat_ids":%s,"parent_id":null}`+"\n", c, c, list)
		fmt.Fprintf(dw, `{"id":"k%d","name":"Cluster %d","description":"d","slug":"s","chat_ids":%s,"parent_id":null,"x_coord":%g,"y_coord":%g,"level":0}`+"\n", c, c, list, cx, cy)
	}
	for _, w := range []*bufio.Writer{cw, dw, xw} {
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
	for _, f := range []*os.File{cf, df, xf} {
		f.Close()
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, e.Name()), string(b))
	}
}
