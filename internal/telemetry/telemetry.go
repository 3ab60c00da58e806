// Package telemetry exposes what a long-running kura command measures as
// Prometheus metrics: stage durations, conversations processed, embedding
// API requests, retries, 429 answers, latency, tokens and cost, the
// load test's per-scale results, and the process's own CPU and resident
// memory. It owns its registry (never Prometheus's global one) and can
// serve it over HTTP (--metrics-addr), write it as a text file
// (--metrics-file) or push it to a Pushgateway (--push).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

// Namespace prefixes every kura metric.
const Namespace = "kura"

// Metrics is one command's metrics. Its methods are safe for concurrent
// use; a nil *Metrics ignores every observation, so callers need not check
// whether monitoring was asked for.
type Metrics struct {
	reg *prometheus.Registry

	stageSeconds, stageCPU, stagePeakRSS, stageItems *prometheus.GaugeVec
	conversations                                    prometheus.Counter
	apiLatency, llmLatency                           *prometheus.HistogramVec
	scale                                            map[string]*prometheus.GaugeVec // by measure.Metric name

	mu       sync.Mutex
	usage    prometheus.Collector // the watched embedder's, or nil
	llmUsage prometheus.Collector // the watched chat model client's, or nil
}

// New returns the metrics of the named command (a constant label
// "command" on kura's own series), with the process collector (CPU,
// resident memory, open files) and the Go runtime collector registered.
func New(command string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	f := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help,
			ConstLabels: prometheus.Labels{"command": command}}, labels)
	}
	m := &Metrics{
		reg:          reg,
		stageSeconds: f("stage_duration_seconds", "Wall time of the stage's last run.", "stage"),
		stageCPU:     f("stage_cpu_seconds", "Process CPU time during the stage's last run.", "stage"),
		stagePeakRSS: f("stage_peak_rss_bytes", "Peak resident memory during the stage's last run.", "stage"),
		stageItems:   f("stage_items", "Items (conversations, summaries or clusters) the stage's last run handled.", "stage"),
		conversations: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "conversations_processed_total",
			Help: "Conversations (or texts) taken through the pipeline.", ConstLabels: prometheus.Labels{"command": command}}),
		apiLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "api_request_duration_seconds",
			Help:        "Embedding API request latency, from sending to a parsed answer, by HTTP status (\"error\": no answer).",
			ConstLabels: prometheus.Labels{"command": command},
			Buckets:     []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}}, []string{"code"}),
		llmLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "llm_request_duration_seconds",
			Help:        "Chat model (LLM) request latency, from sending to a parsed answer, by HTTP status (\"error\": no answer).",
			ConstLabels: prometheus.Labels{"command": command},
			Buckets:     []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"code"}),
		scale: map[string]*prometheus.GaugeVec{},
	}
	reg.MustRegister(m.stageSeconds, m.stageCPU, m.stagePeakRSS, m.stageItems, m.conversations, m.apiLatency, m.llmLatency)
	for _, mt := range measure.Metrics {
		g := f("loadtest_"+ScaleMetricName(&mt), mt.Label+" ("+mt.Unit+"), per load-test scale.", "scale")
		m.scale[mt.Name] = g
		reg.MustRegister(g)
	}
	return m
}

// ScaleMetricName is the name (after "kura_loadtest_") of the gauge of a
// load-test metric: its name with its unit as Prometheus spells units.
func ScaleMetricName(mt *measure.Metric) string {
	switch mt.Unit {
	case "s":
		return mt.Name + "_seconds"
	case "bytes":
		return mt.Name + "_bytes"
	case "usd":
		return mt.Name + "_usd"
	case "conv/min":
		return mt.Name + "_conversations_per_minute"
	}
	return mt.Name // count, score: no unit
}

// Registry returns the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveStage records one stage's cost. A negative CPU time or peak
// memory means not measured: that series is left out.
func (m *Metrics) ObserveStage(stage string, wallS, cpuS float64, peakRSS int64, items int) {
	if m == nil {
		return
	}
	m.stageSeconds.WithLabelValues(stage).Set(wallS)
	if cpuS >= 0 {
		m.stageCPU.WithLabelValues(stage).Set(cpuS)
	}
	if peakRSS >= 0 {
		m.stagePeakRSS.WithLabelValues(stage).Set(float64(peakRSS))
	}
	m.stageItems.WithLabelValues(stage).Set(float64(items))
}

// AddConversations counts n more conversations processed.
func (m *Metrics) AddConversations(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.conversations.Add(float64(n))
}

// ObserveRequest records one embedding API request: its HTTP status (0
// when no answer came) and how long it took.
func (m *Metrics) ObserveRequest(status int, d time.Duration) {
	if m == nil {
		return
	}
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.apiLatency.WithLabelValues(code).Observe(d.Seconds())
}

// ObserveLLMRequest records one chat model request: its HTTP status (0
// when no answer came) and how long it took.
func (m *Metrics) ObserveLLMRequest(status int, d time.Duration) {
	if m == nil {
		return
	}
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.llmLatency.WithLabelValues(code).Observe(d.Seconds())
}

// ObserveScale sets the per-scale gauges from one scale's results: one
// series per metric of measure.Metrics the scale measured.
func (m *Metrics) ObserveScale(s *measure.Scale) {
	if m == nil || s == nil {
		return
	}
	scale := strconv.Itoa(s.Scale)
	for i := range measure.Metrics {
		mt := &measure.Metrics[i]
		if v, ok := mt.Value(s); ok {
			m.scale[mt.Name].WithLabelValues(scale).Set(v)
		}
	}
	m.AddConversations(s.Conversations)
	for _, st := range s.Stages {
		m.ObserveStage(st.Name, st.WallS, st.CPUS, st.PeakRSSBytes, s.Conversations)
	}
}

// UsageReporter is what WatchUsage reads: an embedder that accounts for
// what it spends.
type UsageReporter interface{ Usage() embed.Usage }

// WatchUsage exports an embedder's running totals (requests, retries, 429
// answers, errors, inputs, tokens, cost), read at each scrape. A later call
// replaces the embedder watched.
func (m *Metrics) WatchUsage(u UsageReporter) error {
	if m == nil || u == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.usage != nil {
		m.reg.Unregister(m.usage)
	}
	c := usageCollector{u}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.usage = c
	return nil
}

// LLMUsageReporter is what WatchLLM reads: a chat model client that
// accounts for what it spends.
type LLMUsageReporter interface{ Usage() llm.Usage }

// WatchLLM exports a chat model client's running totals (calls, requests,
// retries, 429 answers, errors, prompt and completion tokens, cost), read
// at each scrape. A later call replaces the client watched.
func (m *Metrics) WatchLLM(u LLMUsageReporter) error {
	if m == nil || u == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.llmUsage != nil {
		m.reg.Unregister(m.llmUsage)
	}
	c := llmCollector{u}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.llmUsage = c
	return nil
}

type llmCollector struct{ u LLMUsageReporter }

var llmDescs = []struct {
	d *prometheus.Desc
	v func(*llm.Usage) float64
}{
	{prometheus.NewDesc("kura_llm_calls_total", "Chat model calls that returned a usable answer.", nil, nil), func(u *llm.Usage) float64 { return float64(u.Calls) }},
	{prometheus.NewDesc("kura_llm_requests_total", "Chat model HTTP requests sent, retries included.", nil, nil), func(u *llm.Usage) float64 { return float64(u.Requests) }},
	{prometheus.NewDesc("kura_llm_retries_total", "Chat model requests that repeated a failed one.", nil, nil), func(u *llm.Usage) float64 { return float64(u.Retries) }},
	{prometheus.NewDesc("kura_llm_rate_limited_total", "Chat model answers with status 429.", nil, nil), func(u *llm.Usage) float64 { return float64(u.RateLimited) }},
	{prometheus.NewDesc("kura_llm_errors_total", "Failed chat model attempts other than 429.", nil, nil), func(u *llm.Usage) float64 { return float64(u.Errors) }},
	{prometheus.NewDesc("kura_llm_prompt_tokens_total", "Prompt tokens the chat model server reported.", nil, nil), func(u *llm.Usage) float64 { return float64(u.PromptTokens) }},
	{prometheus.NewDesc("kura_llm_completion_tokens_total", "Completion tokens the chat model server reported.", nil, nil), func(u *llm.Usage) float64 { return float64(u.CompletionTokens) }},
	{prometheus.NewDesc("kura_llm_cost_usd_total", "Chat model cost in US dollars at the configured prices.", nil, nil), func(u *llm.Usage) float64 { return u.CostUSD }},
}

func (c llmCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range llmDescs {
		ch <- d.d
	}
}

func (c llmCollector) Collect(ch chan<- prometheus.Metric) {
	u := c.u.Usage()
	for _, d := range llmDescs {
		ch <- prometheus.MustNewConstMetric(d.d, prometheus.CounterValue, d.v(&u))
	}
}

type usageCollector struct{ u UsageReporter }

var usageDescs = []struct {
	d *prometheus.Desc
	v func(*embed.Usage) float64
}{
	{prometheus.NewDesc("kura_api_requests_total", "Embedding API requests sent, retries included.", nil, nil), func(u *embed.Usage) float64 { return float64(u.Requests) }},
	{prometheus.NewDesc("kura_api_retries_total", "Embedding API requests that repeated a failed one.", nil, nil), func(u *embed.Usage) float64 { return float64(u.Retries) }},
	{prometheus.NewDesc("kura_api_rate_limited_total", "Embedding API answers with status 429.", nil, nil), func(u *embed.Usage) float64 { return float64(u.RateLimited) }},
	{prometheus.NewDesc("kura_api_errors_total", "Failed embedding API attempts other than 429.", nil, nil), func(u *embed.Usage) float64 { return float64(u.Errors) }},
	{prometheus.NewDesc("kura_api_inputs_total", "Texts embedded.", nil, nil), func(u *embed.Usage) float64 { return float64(u.Inputs) }},
	{prometheus.NewDesc("kura_api_tokens_total", "Prompt tokens (the API's count, else counted locally).", nil, nil), func(u *embed.Usage) float64 { return float64(u.Tokens) }},
	{prometheus.NewDesc("kura_api_cost_usd_total", "Embedding cost in US dollars at the model's price.", nil, nil), func(u *embed.Usage) float64 { return u.CostUSD }},
}

func (c usageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range usageDescs {
		ch <- d.d
	}
}

func (c usageCollector) Collect(ch chan<- prometheus.Metric) {
	u := c.u.Usage()
	for _, d := range usageDescs {
		ch <- prometheus.MustNewConstMetric(d.d, prometheus.CounterValue, d.v(&u))
	}
}

// Serve serves the metrics at /metrics on addr (host:port; port 0 picks
// one) until ctx is done or the returned stop is called. It returns the
// address it listens on.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, func(), error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: listening on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("metrics server stopped", "err", err)
		}
	}()
	stopped := make(chan struct{})
	stop := func() {
		select {
		case <-stopped:
			return
		default:
			close(stopped)
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-stopped:
		}
	}()
	slog.Info("serving Prometheus metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return ln.Addr(), stop, nil
}

// WriteFile writes the metrics in Prometheus's text format to path,
// atomically (a temporary file renamed into place), e.g. for
// node_exporter's textfile collector or a CI artifact.
func (m *Metrics) WriteFile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("metrics: writing %s: %w", path, err)
	}
	return nil
}

// Push sends the metrics to the Pushgateway at rawURL under the job name,
// replacing the job's previous push. Credentials in the URL
// (https://user:pass@host) are sent as basic auth and never appear in an
// error.
func (m *Metrics) Push(ctx context.Context, rawURL, job string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("metrics: push URL must be http(s)://host[:port][/path], not %q", Redact(rawURL))
	}
	var user *url.Userinfo
	user, u.User = u.User, nil
	p := push.New(u.String(), job).Gatherer(m.reg)
	if user != nil {
		pass, _ := user.Password()
		p = p.BasicAuth(user.Username(), pass)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("metrics: pushing to %s: %w", u.Redacted(), err)
	}
	return nil
}

// Redact returns a URL with any password replaced, for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.LastIndex(rawURL, "@"); i >= 0 {
			return "…" + rawURL[i:]
		}
		return rawURL
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	return u.String()
}
