package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/loadtest"
)

func load(t *testing.T, names ...string) []Input {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, "testdata/"+n)
	}
	in, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// modelOf extracts the chart model embedded in a rendered page.
func modelOf(t *testing.T, page string) Model {
	t.Helper()
	re := regexp.MustCompile(`(?s)<script type="application/json" id="kura-data">(.*?)</script>`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page has no kura-data script")
	}
	var model Model
	if err := json.Unmarshal([]byte(m[1]), &model); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	return model
}

func TestRenderSelfContained(t *testing.T) {
	in := load(t, "run_100-500.json", "run_100-10000.json")
	var buf bytes.Buffer
	now := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	if err := Render(&buf, in, Options{Version: "test", Now: now}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	// Nothing is loaded from elsewhere: no src or href attribute, no import,
	// no fetch.
	for _, re := range []string{`\ssrc=`, `\shref=`, `@import`, `fetch\(`, `XMLHttpRequest`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("page matches %q: it would load something from outside the file", re)
		}
	}
	for _, want := range []string{"uPlot 1.6.32, MIT licence", "KuraCharts", "Kura load test report", "2026-12-05 18:00:00 UTC", "kura test"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	m := modelOf(t, page)
	if len(m.Runs) != 2 {
		t.Fatalf("runs = %d, want 2", len(m.Runs))
	}
	if got := m.Runs[1].Scales; len(got) != 3 || got[0] != 100 || got[2] != 10000 {
		t.Errorf("second run's scales = %v, want [100 1000 10000]", got)
	}
}

func TestNewRunSeries(t *testing.T) {
	in := load(t, "run_100-500.json")
	res := in[0].Results
	r := NewRun(in[0].Path, res)
	if r.File != "run_100-500.json" {
		t.Errorf("file = %q", r.File)
	}
	for i, s := range res.Scales {
		if r.Scales[i] != float64(s.Conversations) || r.TotalWallS[i] != s.TotalWallS ||
			r.PeakRSS[i] != float64(s.PeakRSSBytes) || r.WorkingRSS[i] != float64(s.PeakRSSBytes-s.BaselineRSSBytes) ||
			r.StageWallS["cluster"][i] != s.Stages.Of("cluster").WallS || r.EstCostUSD[i] != s.API.EstimatedCostUSD {
			t.Errorf("scale %d: series do not match the results file", s.Scale)
		}
	}
	if r.CostUSD != nil {
		t.Errorf("offline run has charged cost %v, want none", r.CostUSD)
	}
	// The fitted curve reaches from the smallest scale to the target and
	// evaluates the file's fit there (exactly: same function).
	c := r.Curves["total_time"]
	if c == nil || r.Target == nil {
		t.Fatal("no total_time curve or target")
	}
	if c.Xs[0] != r.Scales[0] || c.Xs[len(c.Xs)-1] != r.Target.Conversations {
		t.Errorf("curve spans %v..%v, want %v..%v", c.Xs[0], c.Xs[len(c.Xs)-1], r.Scales[0], r.Target.Conversations)
	}
	f := res.Analysis.Fit("total_time")
	if got, want := float64(c.Ys[len(c.Ys)-1]), f.Predict(r.Target.Conversations); got != want {
		t.Errorf("curve at target = %v, want the fit's %v", got, want)
	}
	if r.Target.TimeS != res.Planning.TimeForTargetS || r.Target.RAMBytes != res.Planning.RAMBytes {
		t.Errorf("target %+v does not carry the plan", r.Target)
	}
	if len(r.Analysis) < 3 || len(r.Planning) < 5 {
		t.Errorf("analysis %d lines, planning %d lines: too few", len(r.Analysis), len(r.Planning))
	}
	// The storage line names how the vectors were stored: float32 for a
	// file written before --vector-dtype, else what the scales recorded.
	if !hasLine(r.Planning, "Storage for the target: ", " (vectors as float32 .npy).") {
		t.Errorf("planning %q: no storage line naming float32", r.Planning)
	}
	for i := range res.Scales {
		res.Scales[i].Storage.VectorDType = "float16"
	}
	if r := NewRun(in[0].Path, res); !hasLine(r.Planning, "Storage for the target: ", " (vectors as float16 .npy).") {
		t.Errorf("planning %q: no storage line naming float16", r.Planning)
	}
}

// hasLine reports whether a line of lines starts with prefix and ends with suffix.
func hasLine(lines []string, prefix, suffix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) && strings.HasSuffix(l, suffix) {
			return true
		}
	}
	return false
}

func TestNewRunOneScale(t *testing.T) {
	// A run with one completed scale and one failure has no analysis and no
	// plan; the page says so and still charts the one point.
	in := load(t, "run_100-500.json")
	res := *in[0].Results
	res.Scales = res.Scales[:1]
	res.Analysis, res.Planning = nil, nil
	res.Failures = []loadtest.Failure{{Scale: 250, Kind: "timeout", Error: "scale 250: timed out after 1s"}}
	r := NewRun("x.json", &res)
	if len(r.Curves) != 0 || r.Target != nil {
		t.Errorf("curves %v target %v, want none", r.Curves, r.Target)
	}
	if !strings.Contains(r.Analysis[0], "no scaling analysis") || !strings.Contains(r.Planning[0], "no plan") {
		t.Errorf("analysis %q / planning %q do not say why they are missing", r.Analysis, r.Planning)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "timed out") {
		t.Errorf("problems = %q", r.Problems)
	}
	var buf bytes.Buffer
	if err := Render(&buf, []Input{{Path: "x.json", Results: &res}}, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestRenderNoInput(t *testing.T) {
	if err := Render(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("no error for no input")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, p := range []string{"testdata/missing.json", "testdata/README.md"} {
		_, err := Load([]string{p})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Load(%s) error = %v, want one naming the file", p, err)
		}
	}
	// A number no measurement can have is refused with the file, scale
	// and field (it was drawn as if measured).
	neg := filepath.Join(t.TempDir(), "neg.json")
	doc := `{"schema_version": 2, "scales": [{"scale": 30, "conversations": 30, "total_wall_s": -1}]}`
	if err := os.WriteFile(neg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{neg}); err == nil || !strings.Contains(err.Error(), neg+": scales[0] (scale 30): total_wall_s is -1") {
		t.Errorf("Load(negative time) error = %v", err)
	}
}

// TestDecodeImpossible: Decode (kura serve's reader) refuses what Load
// refuses, with the same message naming the file, scale and field.
func TestDecodeImpossible(t *testing.T) {
	for _, tt := range []struct{ name, scale, want string }{
		{"negative time", `{"scale": 30, "conversations": 30, "total_wall_s": -1}`, "r.json: scales[0] (scale 30): total_wall_s is -1: want a number >= 0"},
		{"negative memory", `{"scale": 30, "conversations": 30, "peak_rss_bytes": -5}`, "r.json: scales[0] (scale 30): peak_rss_bytes is -5: want a number >= 0"},
		{"no conversations", `{"scale": 30, "conversations": 0}`, "r.json: scales[0]: conversations is 0: want a positive number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"schema_version": 2, "scales": [` + tt.scale + `]}`
			if _, err := Decode("r.json", []byte(doc)); err == nil || err.Error() != tt.want {
				t.Errorf("Decode error = %v, want %q", err, tt.want)
			}
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load([]string{path}); err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one ending %q", err, tt.want)
			}
		})
	}
	good, err := os.ReadFile("testdata/run_100-500.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode("run_100-500.json", good); err != nil {
		t.Errorf("Decode(measured run) = %v", err)
	}
}

func TestNumJSON(t *testing.T) {
	b, err := json.Marshal([]Num{1.5, Num(math.NaN()), Num(math.Inf(1)), 0})
	if err != nil || string(b) != "[1.5,null,null,0]" {
		t.Errorf("got %s, %v", b, err)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bytes(512), "512 B"},
		{Bytes(1536), "1.5 KiB"},
		{Bytes(143 << 20), "143 MiB"},
		{Bytes(3 << 30), "3 GiB"},
		{Seconds(0.0123), "12.3 ms"},
		{Seconds(42), "42 s"},
		{Seconds(600), "10 min"},
		{Seconds(7200), "2 h"},
		{Seconds(3 * 86400), "3 days"},
		{USD(0.0042), "$0.0042"},
		{USD(12.345), "$12.35"},
		{USD(0), "$0.00"},
		{Count(1234567), "1,234,567"},
		{Count(-1000), "-1,000"},
		{Count(999), "999"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestGeomSpace(t *testing.T) {
	xs := geomSpace(100, 10000, 3)
	if len(xs) != 3 || xs[0] != 100 || math.Abs(xs[1]-1000) > 1e-9 || xs[2] != 10000 {
		t.Errorf("geomSpace = %v", xs)
	}
	if xs := geomSpace(5, 5, 10); len(xs) != 1 {
		t.Errorf("degenerate range gives %v", xs)
	}
}

// TestRenderEscapes: text from a results file (an error message, a host
// name) cannot end the data script or inject markup.
func TestRenderEscapes(t *testing.T) {
	in := load(t, "run_100-500.json")
	res := *in[0].Results
	evil := `</script><script>alert(1)</script><!--`
	res.Environment.Hostname = evil
	res.Failures = []loadtest.Failure{{Scale: 1000, Kind: "error", Error: evil}}
	var buf bytes.Buffer
	if err := Render(&buf, []Input{{Path: "x.json", Results: &res}}, Options{Title: evil}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, "<!--") {
		t.Error("text from the results file was inlined unescaped")
	}
	m := modelOf(t, page)
	if got := m.Runs[0].Problems[0]; !strings.Contains(got, evil) {
		t.Errorf("the failure text did not survive escaping: %q", got)
	}
}

// The fitted curves carry their prediction band, refitted from the
// measured points: it holds the curve at every sample and widens past the
// largest scale measured. A file whose fit this kura does not reproduce
// gets no band.
func TestCurveBands(t *testing.T) {
	in := load(t, "run_100-1600.json")
	r := NewRun(in[0].Path, in[0].Results)
	for _, name := range []string{"total_time", "peak_memory", "storage"} {
		c := r.Curves[name]
		if c == nil || !c.Band || c.Level != 0.9 || len(c.Lo) != len(c.Xs) || len(c.Hi) != len(c.Xs) {
			t.Fatalf("%s: no band: %+v", name, c)
		}
		for i := range c.Xs {
			if !(c.Lo[i] <= c.Ys[i] && c.Ys[i] <= c.Hi[i]) {
				t.Errorf("%s at %.0f: %g outside its band %g..%g", name, c.Xs[i], c.Ys[i], c.Lo[i], c.Hi[i])
			}
		}
		// Width at the largest scale measured (1,600) and at the target
		// (10,000): wider further out.
		width := func(x float64) float64 {
			for i := range c.Xs {
				if c.Xs[i] >= x {
					return float64(c.Hi[i] - c.Lo[i])
				}
			}
			return 0
		}
		if w0, w1 := width(1600), width(10000); !(w1 > w0) {
			t.Errorf("%s: band %g wide at 1,600 and %g at 10,000: want wider further out", name, w0, w1)
		}
	}
	if tg := r.Target; tg == nil || tg.Level != 0.9 || !(tg.TimeLowS < tg.TimeS && tg.TimeS < tg.TimeHighS) || !(tg.RAMLow < tg.RAMBytes && tg.RAMBytes < tg.RAMHigh) {
		t.Errorf("target without its intervals: %+v", r.Target)
	}
	// A fit that is not what the points give (another version's) has no band.
	res := *in[0].Results
	a := *res.Analysis
	a.Fits = nil
	for _, f := range res.Analysis.Fits {
		g := *f
		g.Exponent += 0.1
		a.Fits = append(a.Fits, &g)
	}
	res.Analysis = &a
	if c := NewRun("x", &res).Curves["total_time"]; c == nil || c.Band || c.Lo != nil {
		t.Errorf("a fit not reproduced got a band: %+v", c)
	}
}
