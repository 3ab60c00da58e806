package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kura-go/kura/embed/openai"
	"github.com/kura-go/kura/loadtest/measure"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads Prometheus text format.
func parse(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("not Prometheus text format: %v", err)
	}
	return fams
}

// value returns the value of the family's series whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no series %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

// embeddingServer answers OpenAI embedding requests with 3-d vectors; the
// first `limited` requests get a 429. It counts every request.
func embeddingServer(t *testing.T, limited int64) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= limited {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
			return
		}
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Data  []item         `json:"data"`
			Usage map[string]int `json:"usage"`
		}{Usage: map[string]int{"prompt_tokens": 7 * len(req.Input), "total_tokens": 7 * len(req.Input)}}
		for i := range req.Input {
			out.Data = append(out.Data, item{Index: i, Embedding: []float32{1, 0, 0}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestServeDuringEmbedding embeds through the OpenAI client against a
// local server while /metrics is served, and checks the scraped counters
// against what the server saw.
func TestServeDuringEmbedding(t *testing.T) {
	api, seen := embeddingServer(t, 2)
	m := New("embed")
	price := 0.02
	c, err := openai.New(openai.Config{BaseURL: api.URL, APIKey: "sk-test", Model: "text-embedding-3-small", BatchSize: 4, Concurrency: 2,
		EncodingFormat: "float", PricePerMillion: &price, MinBackoff: 1, MaxBackoff: 2, OnResponse: m.ObserveRequest})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WatchUsage(c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, stop, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	texts := make([]string, 10) // 3 batches of at most 4
	for i := range texts {
		texts[i] = "conversation " + strings.Repeat("x", i+1)
	}
	if _, err := c.Embed(ctx, texts); err != nil {
		t.Fatal(err)
	}
	m.AddConversations(len(texts))

	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fams := parse(t, resp.Body)
	requests := float64(seen.Load())
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kura_api_requests_total", nil, requests},
		{"kura_api_requests_total", nil, 5}, // 3 batches + 2 answered 429
		{"kura_api_rate_limited_total", nil, 2},
		{"kura_api_retries_total", nil, 2},
		{"kura_api_inputs_total", nil, 10},
		{"kura_api_tokens_total", nil, 70},
		{"kura_api_cost_usd_total", nil, 70 * 0.02 / 1e6},
		{"kura_api_request_duration_seconds", map[string]string{"code": "200"}, 3},
		{"kura_api_request_duration_seconds", map[string]string{"code": "429"}, 2},
		{"kura_conversations_processed_total", map[string]string{"command": "embed"}, 10},
	}
	for _, c := range checks {
		// Counts are exact; the cost is a float product (tolerance 1e-15 USD).
		if got := value(t, fams, c.name, c.labels); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s%v = %g, want %g", c.name, c.labels, got, c.want)
		}
	}
	if rss := value(t, fams, "process_resident_memory_bytes", nil); rss <= 0 {
		t.Errorf("process_resident_memory_bytes = %g", rss)
	}
	stop()
	if _, err := http.Get("http://" + addr.String() + "/metrics"); err == nil {
		t.Error("server still answers after stop")
	}
}

func testScale(n int) *measure.Scale {
	s := &measure.Scale{Scale: n, Conversations: n, Dims: 128, BaselineRSSBytes: 10 << 20,
		API: measure.APIUsage{Requests: 3, Tokens: int64(7 * n), EstimatedCostUSD: 0.001}}
	for i, name := range []string{measure.Load, measure.Embed, measure.Cluster, measure.Write} {
		s.Stages = append(s.Stages, measure.Stage{Name: name, WallS: float64(i+1) / 10, CPUS: float64(i+1) / 20, PeakRSSBytes: int64(20+i) << 20})
	}
	s.SumStages()
	return s
}

// TestScaleGauges checks that every metric of measure.Metrics a scale
// measured is a per-scale series in the text file, with its value.
func TestScaleGauges(t *testing.T) {
	m := New("loadtest")
	scales := []*measure.Scale{testScale(100), testScale(200)}
	for _, s := range scales {
		m.ObserveScale(s)
	}
	path := filepath.Join(t.TempDir(), "kura.prom")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams := parse(t, f)
	for _, s := range scales {
		for i := range measure.Metrics {
			mt := &measure.Metrics[i]
			want, ok := mt.Value(s)
			name := "kura_loadtest_" + ScaleMetricName(mt)
			if !ok {
				if _, present := fams[name]; present {
					t.Errorf("%s present though quality was not measured", name)
				}
				continue
			}
			if got := value(t, fams, name, map[string]string{"scale": itoa(s.Scale), "command": "loadtest"}); got != want {
				t.Errorf("%s{scale=%d} = %g, want %g", name, s.Scale, got, want)
			}
		}
	}
	// The last scale's stages and all scales' conversations.
	if got := value(t, fams, "kura_stage_duration_seconds", map[string]string{"stage": measure.Embed}); got != 0.2 {
		t.Errorf("embed stage duration %g, want 0.2", got)
	}
	if got := value(t, fams, "kura_conversations_processed_total", nil); got != 300 {
		t.Errorf("conversations %g, want 300", got)
	}
}

// TestPush pushes to a local stand-in for a Pushgateway and checks what
// arrived; credentials in the URL go as basic auth, not in errors.
func TestPush(t *testing.T) {
	var path, user, pass, method string
	var body []byte
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path = r.Method, r.URL.Path
		user, pass, _ = r.BasicAuth()
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	m := New("loadtest")
	m.ObserveScale(testScale(100))
	u := strings.Replace(gw.URL, "http://", "http://ci:s3cret@", 1)
	if err := m.Push(context.Background(), u, "kura_loadtest"); err != nil {
		t.Fatal(err)
	}
	if method != http.MethodPut || path != "/metrics/job/kura_loadtest" || user != "ci" || pass != "s3cret" {
		t.Errorf("push: %s %s as %s:%s", method, path, user, pass)
	}
	if len(body) == 0 {
		t.Fatal("empty push")
	}
	// The body is protobuf-delimited; the series name is in it verbatim.
	if !strings.Contains(string(body), "kura_loadtest_total_time_seconds") {
		t.Error("pushed metrics lack kura_loadtest_total_time_seconds")
	}

	gw.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	err := m.Push(context.Background(), u, "kura_loadtest")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("failed push: %v (want an error without the password)", err)
	}
	if err := m.Push(context.Background(), "ftp://x", "j"); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveStage("x", 1, 1, 1, 1)
	m.ObserveScale(testScale(10))
	m.AddConversations(3)
	m.ObserveRequest(200, 1)
	if err := m.WatchUsage(nil); err != nil {
		t.Error(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
