package results

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/internal/schemacheck"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/measure/measuretest"
)

func TestWriteFilesNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	r := &loadtest.Results{SchemaVersion: loadtest.SchemaVersion, StartedAt: time.Date(2026, 11, 26, 4, 5, 6, 0, time.UTC)}
	var names []string
	for range 3 {
		j, c, err := WriteFiles(r, dir)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(j), filepath.Base(c))
	}
	want := []string{"load_test_results_20261126_040506.json", "load_test_results_20261126_040506.csv",
		"load_test_results_20261126_040506_2.json", "load_test_results_20261126_040506_2.csv",
		"load_test_results_20261126_040506_3.json", "load_test_results_20261126_040506_3.csv"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

func TestCSVColumns(t *testing.T) {
	r := &loadtest.Results{StartedAt: time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC), Config: loadtest.Config{Seed: 7, Repeat: 3},
		Scales:   []measure.Scale{measuretest.Scale(100, 1, 30<<20, 10<<20, 0.001)},
		Failures: []loadtest.Failure{{Scale: 200, Kind: "timeout", Error: "x"}}, Skipped: []loadtest.Skipped{{Scale: 400, Reason: "y"}}}
	r.Scales[0].Quality = &measure.Quality{Labeled: 100, ARI: 0.5, NMI: 0.6, Spillover: 0.25}
	var b bytes.Buffer
	if err := writeCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !reflect.DeepEqual(rows[0], csvHeader) {
		t.Fatalf("rows %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"scale", "total_wall_s", "peak_rss_bytes", "storage_total_bytes", "throughput_per_min", "estimated_cost_usd",
		"embed_wall_s", "cluster_wall_s", "clusters", "noise", "ari", "nmi", "spillover", "api_retries", "api_rate_limited"} {
		if _, ok := col[h]; !ok {
			t.Errorf("no column %s", h)
		}
	}
	for i, row := range rows {
		if len(row) != len(csvHeader) {
			t.Errorf("row %d has %d fields", i, len(row))
		}
	}
	if rows[1][col["status"]] != "ok" || rows[1][col["peak_rss_bytes"]] != "31457280" || rows[1][col["ari"]] != "0.5" ||
		rows[2][col["status"]] != "timeout" || rows[3][col["status"]] != "skipped" || rows[3][col["scale"]] != "400" ||
		rows[1][col["started_at"]] != "2026-12-05T19:00:00Z" || rows[3][col["seed"]] != "7" || rows[2][col["repeat"]] != "3" {
		t.Errorf("rows %v", rows[1:])
	}
	// The dtype of the .npy behind vectors_npy_bytes: as the scale recorded
	// it, float32 when not recorded (files before --vector-dtype), and the
	// run's for scales that did not complete.
	if got := rows[1][col["vector_dtype"]]; got != "float32" {
		t.Errorf("vector_dtype of a scale recording none = %q, want float32", got)
	}
	r.Scales[0].Storage.VectorDType, r.Config.VectorDType = "float16", "float16"
	b.Reset()
	if err := writeCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	if rows, err = csv.NewReader(&b).ReadAll(); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows[1:] {
		if got := row[col["vector_dtype"]]; got != "float16" {
			t.Errorf("row %d (%s): vector_dtype %q, want float16", i+1, row[col["status"]], got)
		}
	}
}

func TestProbeDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir string
		ok  bool
	}{
		{base, true},
		{filepath.Join(base, "new", "nested"), true},
		{file, false},
		{filepath.Join(file, "sub"), false},
	}
	for _, tt := range tests {
		if err := ProbeDir(tt.dir); (err == nil) != tt.ok {
			t.Errorf("ProbeDir(%s) = %v, want ok=%v", tt.dir, err, tt.ok)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(base, ".kura-loadtest-probe-*")); len(left) != 0 {
		t.Errorf("probe files left behind: %v", left)
	}
}

// The planning is printed with the model of each figure, and no growth
// exponent where the model is linear.
func TestWritePlanning(t *testing.T) {
	var rs []measure.Scale
	for _, n := range []int{100, 250, 500, 1000, 2000} {
		x := float64(n)
		rs = append(rs, measuretest.Staged(n, 0.00002*x, 0.0005*x, 2e-7*x*x+0.05, 0.0001*x, 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50))
	}
	a := analysis.Analyze(rs)
	p := analysis.Plan(rs, a, analysis.Goal{Conversations: 10000, Monthly: 50000})
	var out strings.Builder
	writePlanning(&out, p, a, "float16")
	for _, w := range []string{"(vectors as float16)", "exact arithmetic, not a fit: 50.0 tokens per conversation", "(peak memory: linear", "cluster ", "fitted "} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "grows as n^1.00") {
		t.Errorf("report claims an exponent for the linear model:\n%s", out.String())
	}
}

func TestWriteReport(t *testing.T) {
	var rs []measure.Scale
	for _, n := range []int{100, 250, 500} {
		rs = append(rs, measuretest.Scale(n, 0.01*float64(n), 10<<20+int64(n)*20<<10, 8<<20, 1e-6*float64(n)))
	}
	a := analysis.Analyze(rs)
	res := &loadtest.Results{Scales: rs, Analysis: a, Planning: analysis.Plan(rs, a, analysis.Goal{Conversations: 10000, Monthly: 50000})}
	var out bytes.Buffer
	WriteReport(&out, res, Options{Details: true})
	for _, want := range []string{"Summary", "Scale  Time s  Peak MiB",
		"  250   2.500      14.9", "Memory scaling:", "Time scaling:", "efficiency", "For 10,000 conversations, need ~", "Monthly embedding cost (50,000 conversations"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// With --repeat, the table, the summary, the Markdown and the CSV give the
// median with the lowest and highest of the runs.
func TestRepeatSpread(t *testing.T) {
	mk := func(n int, load, emb float64, peak int64) *measure.Scale {
		s := measuretest.Staged(n, load, emb, 0.5, 0.1, 20<<20, peak, int64(n)*50)
		s.Stages[1].PeakRSSBytes = peak
		return &s
	}
	var rs []measure.Scale
	for _, n := range []int{100, 200} {
		x := float64(n) / 100
		rs = append(rs, *measure.Median([]*measure.Scale{mk(n, 0.1*x, 1*x, 40<<20), mk(n, 0.2*x, 3*x, 44<<20), mk(n, 0.3*x, 2*x, 42<<20)}))
	}
	res := &loadtest.Results{Scales: rs, Config: loadtest.Config{Repeat: 3}}
	var text bytes.Buffer
	WriteReport(&text, res, Options{Width: 200})
	for _, want := range []string{
		"5.000 (2.800-7.000)", // total time at 200: medians 0.4+4+0.5+0.1; runs 0.2+2+0.6, 0.4+6+0.6, 0.6+4+0.6
		"4.000 (2.000-6.000)", // embed at 200
		"42.0 (40.0-44.0)",    // peak MiB
		"Repeats  3 runs per scale, figures are medians; at 200: time 5.00s (2.80s-7.00s), peak 42.0 MiB (40.0-44.0)",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	var md bytes.Buffer
	WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "| 5.000 (2.800-7.000) |") {
		t.Errorf("markdown lacks the spread:\n%s", md.String())
	}
	var c bytes.Buffer
	if err := writeCSV(&c, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	got := []string{rows[2][col["total_wall_min_s"]], rows[2][col["total_wall_max_s"]], rows[2][col["embed_wall_min_s"]],
		rows[2][col["embed_wall_max_s"]], rows[2][col["peak_rss_max_bytes"]], rows[2][col["reduce_wall_min_s"]]}
	if want := []string{"2.8", "7", "2", "6", "46137344", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("CSV spread %v, want %v", got, want)
	}
	// A single run has no spread anywhere.
	one := &loadtest.Results{Scales: []measure.Scale{*mk(100, 0.1, 1, 40<<20)}}
	var plain bytes.Buffer
	WriteReport(&plain, one, Options{Width: 200})
	for _, l := range strings.Split(plain.String(), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "100" && strings.Contains(l, "(") || strings.HasPrefix(l, "  Repeats") {
			t.Errorf("single run shows a spread: %q", l)
		}
	}
	if !strings.Contains(plain.String(), "  100   1.700  ") {
		t.Errorf("no row for the single run:\n%s", plain.String())
	}
}

// The fixture of a real --repeat 3 run, with its spread, is valid against
// the results' JSON schema.
func TestRepeatFixtureSchema(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "repeat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schemacheck.Validate(loadtest.SchemaJSON, loadtest.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`"spread"`)) || !bytes.Contains(doc, []byte(`"repeat_peak_rss_bytes"`)) {
		t.Error("the fixture has no spread")
	}
}

// docs/loadtest-schema.md lists the CSV's columns as the header has them,
// in order.
func TestSchemaDocListsCSVColumns(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "loadtest-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## CSV\n")
	if !ok {
		t.Fatal("docs/loadtest-schema.md has no CSV section")
	}
	_, block, ok := strings.Cut(section, "```\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("the CSV section has no code block listing the columns")
	}
	var listed []string
	for _, f := range strings.Split(block, ",") {
		if f = strings.TrimSpace(f); f != "" {
			listed = append(listed, f)
		}
	}
	if !reflect.DeepEqual(listed, csvHeader) {
		t.Errorf("the docs list the columns\n%v\nthe header is\n%v", listed, csvHeader)
	}
}
