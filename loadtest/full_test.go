package loadtest

import (
	"context"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/pipeline"
)

// fullConfig is a small full-pipeline load test. K-means fixes the number
// of clusters the name and hierarchy stages see: 12, more than the
// hierarchy's 10 roots, so that the hierarchy stage has work to do.
func fullConfig(t *testing.T, l *LLMConfig) Config {
	c := testConfig(t)
	c.Scales = []int{40, 80}
	c.Cluster.K = 12
	c.Pipeline = PipelineFull
	c.LLM = l
	c.MonthlyConversations = 50000
	return c
}

// cost is what tokens cost at the prices, as the stages must compute it.
func cost(in, out int64, pin, pout float64) float64 {
	return llm.Price{InputPerMillion: pin, OutputPerMillion: pout}.Cost(in, out)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

// --pipeline full with the in-process mock: every stage of every scale is
// measured, and the chat stages' calls and tokens add up to what the mock
// server's /stats counted, their cost to those tokens at the configured
// prices (not gpt-4o-mini's, to show the prices are the configured ones).
// The planning's monthly cost is the sum of the stages'.
func TestFullPipelineMockMatchesServerStats(t *testing.T) {
	l := &LLMConfig{Mock: true, Model: "gpt-4o-mini", PriceInputPerMillion: 0.5, PriceOutputPerMillion: 2, Concurrency: 8}
	cfg := fullConfig(t, l)
	res, doc, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 2 {
		t.Fatalf("%d scales", len(res.Scales))
	}
	for _, s := range res.Scales {
		if got := s.Stages.Names(); strings.Join(got, ",") != strings.Join(pipeline.Stages, ",") {
			t.Errorf("scale %d stages %v, want %v", s.Scale, got, pipeline.Stages)
		}
		if s.LLM == nil || s.LLM.MockServer == nil {
			t.Fatalf("scale %d: no LLM usage or mock stats", s.Scale)
		}
		var calls, in, out int64
		var usd float64
		for _, name := range []string{pipeline.StageSummarise, pipeline.StageName, pipeline.StageHierarchy} {
			st := s.Stages.Of(name)
			if st.Calls == 0 || st.InputTokens == 0 || st.OutputTokens == 0 {
				t.Errorf("scale %d: %s made no LLM call: %+v", s.Scale, name, st)
			}
			if want := cost(st.InputTokens, st.OutputTokens, l.PriceInputPerMillion, l.PriceOutputPerMillion); !near(st.CostUSD, want) {
				t.Errorf("scale %d: %s cost %v, want %v", s.Scale, name, st.CostUSD, want)
			}
			if st.WallS <= 0 || st.PeakRSSBytes <= 0 {
				t.Errorf("scale %d: %s time %v peak %d", s.Scale, name, st.WallS, st.PeakRSSBytes)
			}
			calls += st.Calls
			in += st.InputTokens
			out += st.OutputTokens
			usd += st.CostUSD
		}
		ms := s.LLM.MockServer
		if calls != ms.ChatCompletions || in != ms.PromptTokens || out != ms.CompletionTokens {
			t.Errorf("scale %d: stages %d calls, %d/%d tokens; mock /stats %+v", s.Scale, calls, in, out, *ms)
		}
		if !near(usd, cost(ms.PromptTokens, ms.CompletionTokens, 0.5, 2)) || !near(s.LLM.CostUSD, usd) {
			t.Errorf("scale %d: stage cost %v, LLM cost %v, mock tokens at the prices %v", s.Scale, usd, s.LLM.CostUSD,
				cost(ms.PromptTokens, ms.CompletionTokens, 0.5, 2))
		}
		if st := s.Stages.Of(pipeline.StageSummarise); st.Calls != int64(s.Conversations) {
			t.Errorf("scale %d: %d summary calls for %d conversations", s.Scale, st.Calls, s.Conversations)
		}
		if st := s.Stages.Of(pipeline.StageEmbed); st.InputTokens != s.API.Tokens || !near(st.CostUSD, s.API.EstimatedCostUSD) {
			t.Errorf("scale %d: embed stage %+v, embedder %+v", s.Scale, st, s.API)
		}
		if s.Clusters != 12 || s.Quality == nil {
			t.Errorf("scale %d: %d clusters, quality %v", s.Scale, s.Clusters, s.Quality)
		}
	}
	p := res.Planning
	if p == nil || len(p.PipelineCost) != len(pipeline.Stages) {
		t.Fatalf("planning %+v", p)
	}
	var convs int64
	for _, s := range res.Scales {
		convs += int64(s.Conversations)
	}
	var sum float64
	for _, c := range p.PipelineCost {
		var usd float64
		for _, s := range res.Scales {
			usd += s.Stages.Of(c.Stage).CostUSD
		}
		if want := usd / float64(convs) * 50000; !near(c.MonthlyCostUSD, want) {
			t.Errorf("%s: monthly $%v, want $%v", c.Stage, c.MonthlyCostUSD, want)
		}
		sum += c.MonthlyCostUSD
	}
	if !near(p.MonthlyPipelineCostUSD, sum) || sum <= p.MonthlyCostUSD {
		t.Errorf("monthly pipeline $%v, stages $%v, embeddings alone $%v", p.MonthlyPipelineCostUSD, sum, p.MonthlyCostUSD)
	}
	if !strings.Contains(string(doc), `"pipeline": "full"`) {
		t.Error("results JSON does not say pipeline full")
	}
}

// Against a mock-api given by base URL (as a real API would be), read over
// HTTP by the test itself: its /stats over all scales equals the stages'
// tokens, and the base URL's credentials stay out of the results.
func TestFullPipelineExternalLLM(t *testing.T) {
	srv := mockapi.New(mockapi.Config{Seed: 3})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	base := strings.Replace(ts.URL, "http://", "http://user:hunter2@", 1) + "/v1"
	l := &LLMConfig{BaseURL: base, Model: "gpt-4o-mini", PriceInputPerMillion: llm.DefaultPrice.InputPerMillion,
		PriceOutputPerMillion: llm.DefaultPrice.OutputPerMillion, Concurrency: 4}
	res, doc, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, fullConfig(t, l))
	if err != nil {
		t.Fatal(err)
	}
	var calls, in, out int64
	var usd float64
	for _, s := range res.Scales {
		if s.LLM == nil || s.LLM.MockServer != nil {
			t.Fatalf("scale %d: LLM usage %+v", s.Scale, s.LLM)
		}
		for _, st := range s.Stages {
			if st.Name == pipeline.StageEmbed {
				continue
			}
			calls += st.Calls
			in += st.InputTokens
			out += st.OutputTokens
			usd += st.CostUSD
		}
	}
	st := srv.Stats()
	if calls != st.ByEndpoint.ChatCompletions || in != st.PromptTokens || out != st.CompletionTokens {
		t.Errorf("stages %d calls, %d/%d tokens; server %d calls, %d/%d tokens", calls, in, out, st.ByEndpoint.ChatCompletions, st.PromptTokens, st.CompletionTokens)
	}
	if want := llm.DefaultPrice.Cost(st.PromptTokens, st.CompletionTokens); !near(usd, want) {
		t.Errorf("cost %v, want %v", usd, want)
	}
	if strings.Contains(string(doc), "hunter2") {
		t.Error("the base URL's password is in the results")
	}
}

// Offline full pipeline (no LLM): every stage runs, nothing is billed but
// the embeddings' estimate, and there is no LLM usage.
func TestFullPipelineOffline(t *testing.T) {
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, fullConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Scales {
		if s.LLM != nil || len(s.Stages) != len(pipeline.Stages) {
			t.Errorf("scale %d: LLM %+v, stages %v", s.Scale, s.LLM, s.Stages.Names())
		}
		for _, st := range s.Stages {
			if st.Name != pipeline.StageEmbed && (st.Calls != 0 || st.CostUSD != 0) {
				t.Errorf("scale %d: offline stage %+v", s.Scale, st)
			}
		}
	}
}

func TestPipelineConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown pipeline", func(c *Config) { c.Pipeline = "half" }, "pipeline"},
		{"LLM without full", func(c *Config) { c.LLM = &LLMConfig{Mock: true, Model: "m"} }, "only by"},
		{"mock and URL", func(c *Config) {
			c.Pipeline, c.LLM = PipelineFull, &LLMConfig{Mock: true, BaseURL: "http://127.0.0.1:1/v1", Model: "m"}
		}, "either"},
		{"neither", func(c *Config) { c.Pipeline, c.LLM = PipelineFull, &LLMConfig{Model: "m"} }, "either"},
		{"negative price", func(c *Config) {
			c.Pipeline, c.LLM = PipelineFull, &LLMConfig{Mock: true, Model: "m", PriceInputPerMillion: -1}
		}, "prices"},
	} {
		c := testConfig(t)
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	c := testConfig(t)
	c.Pipeline = PipelineEmbedCluster
	if err := c.Validate(); err != nil || c.Pipeline != "" {
		t.Errorf("embed-cluster: %v, recorded as %q", err, c.Pipeline)
	}
}
