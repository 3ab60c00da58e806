package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kura-go/kura/loadtest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestLoadtestMetricsExport runs a small in-process load test with
// --metrics-file, --push (to a local stand-in for a Pushgateway) and
// --metrics-addr, and checks the per-scale series against the results JSON.
func TestLoadtestMetricsExport(t *testing.T) {
	var pushes atomic.Int64
	var pushPath atomic.Value
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		pushes.Add(1)
		pushPath.Store(r.Method + " " + r.URL.Path)
	}))
	defer gw.Close()
	dir := t.TempDir()
	prom := filepath.Join(dir, "kura.prom")
	out, stderr, err, code := execCLI(t, "loadtest", "--in-process", "--quiet", "--embedder", "hash", "--dims", "64",
		"--sample-size", "40", "--sample-topics", "2", "--clusterer", "kmeans", "--k", "2", "--out", dir,
		"--scales", "20,40", "--metrics-file", prom, "--push", gw.URL, "--metrics-addr", "127.0.0.1:0").all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, stderr)
	}
	if !strings.Contains(stderr, "metrics: http://127.0.0.1:") {
		t.Errorf("metrics address not printed:\n%s", stderr)
	}
	if pushes.Load() != 1 || pushPath.Load() != "PUT /metrics/job/kura_loadtest" {
		t.Errorf("pushes %d, last %v", pushes.Load(), pushPath.Load())
	}
	f, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("--metrics-file is not Prometheus text format: %v", err)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	if len(jsons) != 1 {
		t.Fatalf("results: %v", jsons)
	}
	res, err := loadtest.LoadResults(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kura_loadtest_total_time_seconds", "kura_loadtest_peak_memory_bytes", "kura_loadtest_embed_time_seconds", "kura_loadtest_tokens"} {
		fam := fams[name]
		if fam == nil || len(fam.GetMetric()) != len(res.Scales) {
			t.Errorf("%s: %v, want one series per scale (%d)", name, fam, len(res.Scales))
		}
	}
	for _, m := range fams["kura_loadtest_tokens"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() != "scale" {
				continue
			}
			for _, s := range res.Scales {
				if l.GetValue() == strconv.Itoa(s.Scale) && m.GetGauge().GetValue() != float64(s.API.Tokens) {
					t.Errorf("tokens{scale=%d} = %g, results say %d", s.Scale, m.GetGauge().GetValue(), s.API.Tokens)
				}
			}
		}
	}
	if c := fams["kura_conversations_processed_total"].GetMetric()[0].GetCounter().GetValue(); c != 60 {
		t.Errorf("conversations processed %g, want 60", c)
	}
	if _, ok := fams["process_resident_memory_bytes"]; !ok {
		t.Error("no process_resident_memory_bytes")
	}
}

// TestMetricsAddrBusy: an address that cannot be listened on fails the
// command before any work.
func TestMetricsAddrBusy(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(in, []byte("hello\nworld\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err, code := execCLI(t, "embed", "--embedder", "hash", "--in", in, "--kind", "text", "--out", in+".npy", "--metrics-addr", "256.0.0.1:1").all()
	if code != 1 || err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("exit %d, %v; want a failure naming --metrics-addr", code, err)
	}
	if _, serr := os.Stat(in + ".npy"); serr == nil {
		t.Error("embedded despite the failed metrics server")
	}
}
