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
	"github.com/kura-go/kura/mockapi"
	dto "github.com/prometheus/client_model/go"
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

// histogramCount returns the sample count of a histogram family, summed
// over its series.
func histogramCount(fam *dto.MetricFamily) uint64 {
	var n uint64
	for _, m := range fam.GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// The API latency histogram counts the requests of load-test scales run in
// worker processes (they pass each request back to the parent), as many
// as the embedding API on 127.0.0.1 answered.
func TestLoadtestWorkerLatencyMetrics(t *testing.T) {
	url, requests := countingAPI(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-not-a-key")
	dir := t.TempDir()
	prom := filepath.Join(dir, "kura.prom")
	out, stderr, err, code := execCLI(t, "loadtest", "--quiet", "--embedder", "openai", "--base-url", url, "--dims", "64",
		"--batch-size", "10", "--sample-size", "40", "--sample-topics", "2", "--clusterer", "kmeans", "--k", "2",
		"--out", dir, "--scales", "20,40", "--metrics-file", prom).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, stderr)
	}
	f, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	fam := fams["kura_api_request_duration_seconds"]
	if fam == nil {
		t.Fatalf("no kura_api_request_duration_seconds in --metrics-file")
	}
	// 20 and 40 texts in batches of 10: 6 requests, all answered.
	if got, sent := histogramCount(fam), requests.Load(); got != uint64(sent) || sent != 6 {
		t.Errorf("latency histogram counts %d requests; the API answered %d (want 6)", got, sent)
	}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "code" && l.GetValue() != "200" {
				t.Errorf("a request with code %s", l.GetValue())
			}
		}
	}
}

// kura run exports its chat model's calls, requests, tokens and cost and a
// latency histogram of its requests (--metrics-file, and --push to a
// stand-in Pushgateway on 127.0.0.1), matching what the mock API counted.
func TestRunLLMMetrics(t *testing.T) {
	srv := mockapi.New(mockapi.Config{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var pushPath atomic.Value
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		pushPath.Store(r.Method + " " + r.URL.Path)
	}))
	defer gw.Close()
	dir := t.TempDir()
	if _, errText, code := execCLI(t, "sample", "--out", filepath.Join(dir, "s"), "--conversations", "40", "--topics", "3").text(); code != 0 {
		t.Fatal(errText)
	}
	prom := filepath.Join(dir, "run.prom")
	_, errText, code := execCLI(t, "run", "--data", filepath.Join(dir, "s", "conversations.jsonl"), "--out", filepath.Join(dir, "run"),
		"--llm-base-url", ts.URL+"/v1", "--no-map", "--no-cache", "--naming", "keywords", "--hierarchy", "agglomerative", "-q",
		"--metrics-file", prom, "--push", gw.URL, "--metrics-addr", "127.0.0.1:0").text()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	if pushPath.Load() != "PUT /metrics/job/kura_run" {
		t.Errorf("push: %v", pushPath.Load())
	}
	f, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	counter := func(name string) float64 {
		fam := fams[name]
		if fam == nil || len(fam.GetMetric()) != 1 {
			t.Errorf("no %s", name)
			return -1
		}
		return fam.GetMetric()[0].GetCounter().GetValue()
	}
	st := srv.Stats()
	if n := int64(st.ByEndpoint.ChatCompletions); n < 40 || counter("kura_llm_requests_total") != float64(n) || counter("kura_llm_calls_total") != float64(n) {
		t.Errorf("llm requests %g, calls %g; the mock answered %d chat completions (want at least 40, one per summary)",
			counter("kura_llm_requests_total"), counter("kura_llm_calls_total"), n)
	}
	if fam := fams["kura_llm_request_duration_seconds"]; fam == nil || histogramCount(fam) != uint64(st.ByEndpoint.ChatCompletions) {
		t.Errorf("llm latency histogram %v, want %d requests", fam, st.ByEndpoint.ChatCompletions)
	}
	if counter("kura_llm_prompt_tokens_total") <= 0 || counter("kura_llm_completion_tokens_total") <= 0 || counter("kura_llm_cost_usd_total") <= 0 {
		t.Errorf("tokens %g + %g, cost %g: want all above 0", counter("kura_llm_prompt_tokens_total"),
			counter("kura_llm_completion_tokens_total"), counter("kura_llm_cost_usd_total"))
	}
}
