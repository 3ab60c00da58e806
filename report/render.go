package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kura-go/kura/loadtest"
)

//go:embed assets/uplot/uPlot.iife.min.js assets/uplot/uPlot.min.css assets/uplot/LICENSE assets/charts.js assets/charts.css assets/report.html
var assets embed.FS

// Assets holds the browser files the charts need: uplot/uPlot.iife.min.js,
// uplot/uPlot.min.css, uplot/LICENSE, charts.js and charts.css (paths
// relative to the returned file system's root).
func Assets() embed.FS { return assets }

func asset(name string) string {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic(fmt.Sprintf("report: embedded asset %s missing: %v", name, err)) // a build defect, not input
	}
	return string(b)
}

// page is parsed on first use, not at every kura start.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html").Funcs(template.FuncMap{
		"count": Count,
	}).Parse(asset("report.html")))
})

// Model is what a page of charts draws: one or more runs.
type Model struct {
	Runs []*Run `json:"runs"`
}

// Options control the page.
type Options struct {
	Title   string    // default "Kura load test report"
	Version string    // kura's version, shown in the page
	Now     time.Time // the generation time shown (zero = time.Now())
}

// Input is one results file to render.
type Input struct {
	Path    string
	Results *loadtest.Results
}

// Render writes one self-contained HTML page with the charts of every input
// (overlaid, in the order given).
func Render(w io.Writer, inputs []Input, opts Options) error {
	if len(inputs) == 0 {
		return fmt.Errorf("report: no results to render")
	}
	m := Runs(inputs)
	if opts.Title == "" {
		opts.Title = "Kura load test report"
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	// Inlined assets are trusted (embedded at build time); check they cannot
	// close their element early.
	js, css := asset("uplot/uPlot.iife.min.js")+"\n", asset("uplot/uPlot.min.css")
	charts, chartsCSS := asset("charts.js"), asset("charts.css")
	for _, s := range []string{js, charts} {
		if strings.Contains(strings.ToLower(s), "</script") {
			return fmt.Errorf("report: embedded script contains </script")
		}
	}
	var buf bytes.Buffer
	err := page().Execute(&buf, map[string]any{
		"Title":     opts.Title,
		"Version":   nonEmpty(opts.Version, "dev"),
		"Generated": opts.Now.UTC().Format("2006-01-02 15:04:05 UTC"),
		"Runs":      m.Runs,
		"Data":      m,
		"UPlotJS":   template.JS(js + "/* uPlot " + uplotVersion + ", MIT licence: (c) Leon Sorokin; see kura's report/assets/uplot/LICENSE */"),
		"UPlotCSS":  template.CSS(css),
		"ChartsJS":  template.JS(charts),
		"ChartsCSS": template.CSS(chartsCSS),
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// uplotVersion is the vendored uPlot's version (see assets/uplot/README.md).
const uplotVersion = "1.6.32"

// labelRuns makes run labels distinct: the start time, with the file name
// added when two runs started in the same second.
func labelRuns(runs []*Run) {
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Label]++
	}
	for _, r := range runs {
		if seen[r.Label] > 1 {
			r.Label += " " + r.File
		}
	}
}
