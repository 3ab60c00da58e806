package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/scaledata"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/pipeline"
	"github.com/kura-go/kura/vecfile"
)

// runFullScale runs Kura's whole pipeline (package pipeline) on the scale's
// dataset and records each stage's time, CPU, peak memory, calls, tokens
// and cost in res. The chat model is cfg.LLM: an in-process kura mock-api
// on 127.0.0.1 started here, or the API at its base URL; without one the
// LLM stages run offline.
func runFullScale(ctx context.Context, tk *Toolkit, job *ScaleJob, res *measure.Scale, progress func(Event)) (*measure.Scale, error) {
	cfg := &job.Config
	res.Pipeline = PipelineFull
	in, err := readInput(job.InputDir)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	res.Conversations = in.Len()
	res.Storage.MetadataBytes = in.bytes
	data := job.InputDir
	if in.Kind == scaledata.KindSummaries {
		// The summarise stage needs conversations: make each summary a
		// one-turn conversation (its request, answered by its summary).
		data = filepath.Join(filepath.Dir(job.InputDir), "conversations")
		if err := writeConversationsOf(data, in.Summaries); err != nil {
			return nil, fmt.Errorf("preparing conversations: %w", err)
		}
		res.Notes = append(res.Notes, "the baseline holds summaries: the summarise stage summarised one-turn conversations made of each summary's request and summary text (real conversations are longer, so its input tokens are a lower bound)")
	}
	truth := in.truth
	in = nil

	var chat *llm.Client
	var mock *mockapi.Server
	if l := cfg.LLM; l != nil {
		base, key := l.BaseURL, ""
		if l.Mock {
			mctx, stop := context.WithCancel(ctx)
			defer stop()
			var err error
			if mock, base, err = mockapi.Start(mctx, "127.0.0.1:0", mockapi.Config{Seed: cfg.Seed}); err != nil {
				return nil, fmt.Errorf("starting the mock LLM: %w", err)
			}
		} else if l.APIKeyEnv != "" {
			key = os.Getenv(l.APIKeyEnv)
		}
		chat, err = llm.New(llm.Config{BaseURL: base, APIKey: key, Model: l.Model, Concurrency: l.Concurrency,
			Price: llm.Price{InputPerMillion: l.PriceInputPerMillion, OutputPerMillion: l.PriceOutputPerMillion}})
		if err != nil {
			return nil, fmt.Errorf("LLM: %w", err)
		}
	}

	dtype, err := cfg.vectorDType()
	if err != nil {
		return nil, err
	}
	var emb embed.Embedder
	o := pipeline.Options{
		Data: data, Out: job.ArtifactDir, Summarizer: "extractive", NoCache: true, VectorDType: dtype,
		Embedder: pipeline.EmbedderFactory{ID: map[string]string{"embedder": cfg.Embedder.Kind},
			Build: func(ctx context.Context, corpus []string) (embed.Embedder, error) {
				e, err := tk.NewEmbedder(ctx, cfg.Embedder, corpusOf(corpus))
				emb = e
				return e, err
			}},
		Cluster:   cfg.Cluster,
		Hierarchy: pipeline.HierarchyOptions{MaxTopClusters: 10, Branching: 4, MaxLevels: 8},
		Name:      pipeline.NameOptions{Seed: uint64(cfg.Seed)},
		Logger:    slog.Default(),
	}
	if cfg.Quiet {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Map.UMAP = pipeline.DefaultMapParams()
	o.Map.UMAP.Seed = uint64(cfg.Seed)
	if chat != nil {
		o.LLM, o.Summarizer = chat, "llm"
	}
	progress(Event{Scale: job.Scale, Stage: "pipeline"})
	out, err := pipeline.Run(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	for _, st := range out.Stages {
		res.Stages = append(res.Stages, measure.Stage{Name: st.Stage, WallS: st.Seconds, CPUS: st.CPUSeconds, PeakRSSBytes: st.PeakRSSBytes,
			Calls: st.Calls, InputTokens: st.InputTokens, OutputTokens: st.OutputTokens, CostUSD: st.CostUSD})
	}
	res.SumStages()

	// Accounting and results (not timed).
	sums, err := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(job.ArtifactDir, "summaries.jsonl"), conversation.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if err := embedAccounting(cfg, res, emb, sums); err != nil {
		return nil, err
	}
	if chat != nil {
		u := chat.Usage()
		p := chat.Price()
		res.LLM = &measure.LLMUsage{Model: chat.Model(), Endpoint: chat.Endpoint(), PriceInputPerMillion: p.InputPerMillion,
			PriceOutputPerMillion: p.OutputPerMillion, Calls: u.Calls, Requests: u.Requests,
			InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, CostUSD: u.CostUSD}
		if mock != nil {
			res.LLM.Endpoint = "mock"
			if res.LLM.MockServer, err = mockStats(ctx, chat.Endpoint()); err != nil {
				return nil, err
			}
		}
	}
	labels, err := readLabels(filepath.Join(job.ArtifactDir, pipeline.LabelsName))
	if err != nil {
		return nil, err
	}
	if len(labels) != len(sums) {
		return nil, fmt.Errorf("%d cluster labels for %d summaries", len(labels), len(sums))
	}
	seen := map[int]bool{}
	for _, l := range labels {
		if l < 0 {
			res.Noise++
		} else {
			seen[l] = true
		}
	}
	res.Clusters = len(seen)
	// The summaries are in the order of the conversations, as the truth.
	if q, err := score(truth, labels); err != nil {
		return nil, err
	} else {
		res.Quality = q
	}
	if err := fullStorage(job.ArtifactDir, res); err != nil {
		return nil, err
	}
	return res, ctx.Err()
}

// embedAccounting records the embedder and its tokens (counted locally when
// it reports none) priced at the price model, as the default mode does, and
// puts that cost on the embed stage.
func embedAccounting(cfg *Config, res *measure.Scale, emb embed.Embedder, sums []conversation.ConversationSummary) error {
	if emb == nil {
		return fmt.Errorf("the pipeline built no embedder")
	}
	res.Embedder = emb.Name()
	if ur, ok := emb.(embed.UsageReporter); ok {
		u := ur.Usage()
		res.API = measure.APIUsage{Requests: u.Requests, Retries: u.Retries, RateLimited: u.RateLimited,
			Errors: u.Errors, Tokens: u.Tokens, CostUSD: u.CostUSD}
	}
	if res.API.Tokens == 0 {
		texts := make([]string, len(sums))
		for i := range sums {
			texts[i] = sums[i].Text()
		}
		res.API.Tokens, _ = embed.CountTokens(texts, embed.OpenAILimits)
		res.API.TokensLocal = true
	}
	prices, err := cfg.Embedder.Prices()
	if err != nil {
		return err
	}
	res.API.PriceModel = prices.ModelFor(cfg.PriceModel, res.Embedder)
	if p, ok := prices.Lookup(res.API.PriceModel); ok {
		res.API.PricePerMillion = p
		res.API.EstimatedCostUSD = embed.Cost(float64(res.API.Tokens), p)
	}
	for i := range res.Stages {
		if res.Stages[i].Name == pipeline.StageEmbed {
			res.Stages[i].InputTokens = res.API.Tokens
			res.Stages[i].CostUSD = res.API.EstimatedCostUSD
		}
	}
	return nil
}

// mockStats reads GET /stats of the mock API whose base URL is base.
func mockStats(ctx context.Context, base string) (*measure.MockServerStats, error) {
	u := strings.TrimSuffix(strings.TrimSuffix(base, "/chat/completions"), "/v1") + "/stats"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mock LLM stats: %w", err)
	}
	defer resp.Body.Close()
	var st mockapi.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("mock LLM stats: %w", err)
	}
	return &measure.MockServerStats{ChatCompletions: st.ByEndpoint.ChatCompletions, PromptTokens: st.PromptTokens,
		CompletionTokens: st.CompletionTokens}, nil
}

// writeConversationsOf writes dir/conversations.jsonl with one one-turn
// conversation per summary.
func writeConversationsOf(dir string, sums []conversation.ConversationSummary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	at, err := conversation.ParseTime("2024-01-01T00:00:00Z") // a fixed date: the pipeline does not use it
	if err != nil {
		return err
	}
	convs := make([]conversation.Conversation, len(sums))
	for i, s := range sums {
		req := s.Summary
		if s.Request != nil && *s.Request != "" {
			req = *s.Request
		}
		convs[i] = conversation.Conversation{ChatID: s.ChatID, CreatedAt: at, Messages: []conversation.Message{
			{CreatedAt: at, Role: "user", Content: req}, {CreatedAt: at, Role: "assistant", Content: s.Summary}}}
	}
	return conversation.WriteFile(filepath.Join(dir, scaledata.ConversationsFile), convs)
}

func readLabels(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		v, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// fullStorage records the checkpoint files the pipeline wrote.
func fullStorage(dir string, res *measure.Scale) error {
	for _, name := range []string{"summaries.jsonl", "clusters.jsonl", "meta_clusters.jsonl", "dimensionality.jsonl"} {
		n, err := fileSize(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		res.Storage.ResultsJSONLBytes += n
	}
	npy := filepath.Join(dir, pipeline.EmbeddingsName)
	n, err := fileSize(npy)
	if err != nil {
		return err
	}
	res.Storage.VectorsNPYBytes = n
	f, err := os.Open(npy)
	if err != nil {
		return err
	}
	h, _, err := vecfile.ReadNPYHeader(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", npy, err)
	}
	res.Dims = h.Cols
	res.Storage.EmbeddingBytes = int64(h.Rows) * int64(h.Cols) * int64(h.DType.Size())
	res.Storage.VectorDType = h.DType.String()
	res.Storage.TotalBytes = res.Storage.ResultsJSONLBytes + res.Storage.VectorsNPYBytes
	return nil
}
