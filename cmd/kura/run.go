package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/telemetry"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/pipeline"
	"github.com/kura-go/kura/vecfile"
)

func init() { register(newRunCmd) }

type runFlags struct {
	data, out, format, summarizer, naming, hierarchy string
	cacheDir, statsJSON, until                       string
	inputFormat, vectorDType                         string
	noCache, quiet, skipInvalid                      bool
	maxConvTokens                                    int

	llmBaseURL, llmModel, llmKeyEnv string
	llmConcurrency, llmMaxRetries   int
	llmTemperature                  float64
	llmPriceIn, llmPriceOut         float64

	ef  embedderFlags
	mon monitorFlags
	co  cluster.Spec
	ho  pipeline.HierarchyOptions
	mp  mapFlags
}

func newRunCmd() *cobra.Command {
	f := runFlags{co: cluster.DefaultSpec()}
	cmd := &cobra.Command{
		Use:   "run --data DIR [--out DIR]",
		Short: "Run Kura's pipeline: summaries, clusters, names, hierarchy, map (offline by default)",
		Long: `run turns conversations into a browsable hierarchy of topics and writes Kura's
checkpoint files: summaries, clusters, meta_clusters and dimensionality (JSONL,
or Parquet with --format parquet), plus embeddings.npy, cluster_labels.txt,
conversation_map.jsonl and run_manifest.json.

Stages: summarise -> embed -> cluster -> name -> hierarchy -> map. Each stage
records a fingerprint of its inputs and parameters in run_manifest.json; a
rerun skips a stage whose fingerprint matches and whose outputs are unchanged,
and says why it runs otherwise. Summaries are appended to
summaries.partial.jsonl as they finish, so an interrupted run resumes where
it stopped; every LLM answer is also kept in a cache (--cache-dir) keyed by the
exact request, which stores only generated fields.

--data takes Kura's checkpoint files, Kura's conversations.json, and the
conversations.json of a Claude.ai or ChatGPT data export (told by content;
--input-format forces it), streamed one conversation at a time.

Offline (the default): existing summaries in --data are used as they are;
otherwise an extractive summary is built from each conversation. Clusters
are named by class-based TF-IDF keywords, and parents come from average-linkage
clustering of cluster centroids. Nothing is sent anywhere.

With an LLM (--llm-base-url, any OpenAI-compatible server; kura mock-api for a
free rehearsal): summaries with Kura's facets, Clio-style cluster names with
counter-examples from the nearest clusters, and an LLM-built hierarchy. An
API key in the environment alone never makes kura call an API.

A closing table gives each stage's time, LLM calls, tokens and cost.`,
		Example: `  # Offline, on Kura's checkpoint directory (uses its summaries)
  kura run --data ./checkpoints --out ./kura-run
  kura tree ./kura-run

  # Rehearse the LLM paths for free
  kura mock-api --addr 127.0.0.1:8089 &
  kura run --data ./conversations.jsonl --out ./run \
      --llm-base-url http://127.0.0.1:8089/v1

  # With OpenAI (reads OPENAI_API_KEY because --llm-base-url is given)
  kura run --data ./checkpoints --summarizer llm \
      --llm-base-url https://api.openai.com/v1 --llm-model gpt-4o-mini`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "Kura checkpoint directory (conversations and/or summaries), a conversations file,\nor a conversations.json (Kura's, a Claude.ai or a ChatGPT export)")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "conversations format: auto (told by content), kura, kura-json, claude or chatgpt")
	fl.BoolVar(&f.skipInvalid, "skip-invalid", false, "skip invalid conversations (each is logged) instead of stopping")
	fl.StringVar(&f.out, "out", "kura-run", "output directory (created if needed; must not be --data)")
	fl.StringVar(&f.format, "format", "jsonl", "checkpoint format: jsonl or parquet")
	fl.StringVar(&f.summarizer, "summarizer", "auto", "auto (existing summaries, else llm with --llm-base-url, else extractive), existing, extractive or llm")
	fl.StringVar(&f.naming, "naming", "auto", "cluster names: auto (llm with --llm-base-url, else keywords), keywords or llm")
	fl.StringVar(&f.hierarchy, "hierarchy", "auto", "hierarchy: auto (llm with --llm-base-url, else agglomerative), agglomerative or llm")
	fl.IntVar(&f.ho.MaxTopClusters, "max-top-clusters", 10, "most root clusters of the hierarchy (the unclustered group counts as one)")
	fl.IntVar(&f.ho.Branching, "branching", 4, "each hierarchy level has about this many times fewer clusters than the one below")
	fl.IntVar(&f.ho.MaxLevels, "max-levels", 8, "LLM hierarchy: most levels built by the LLM before the rest is merged offline")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "LLM answer cache directory (default OUT/cache)")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not use the LLM answer cache")
	fl.IntVar(&f.maxConvTokens, "max-conversation-tokens", 8000, "LLM summaries: conversations are cut to this many tokens")
	fl.StringVar(&f.statsJSON, "stats-json", "", "also write the per-stage table as JSON to this file")
	fl.StringVar(&f.until, "until", "", "stop after this stage: summarise, embed, cluster, name, hierarchy or map")
	fl.StringVar(&f.vectorDType, "vector-dtype", "float32", "how embeddings.npy stores the vectors: float32, or float16 (half the size; read back into float32 memory)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bars and no INFO log")

	fl.StringVar(&f.llmBaseURL, "llm-base-url", "", "OpenAI-compatible API base URL for the LLM stages (none: offline)")
	fl.StringVar(&f.llmModel, "llm-model", llm.DefaultModel, "chat model")
	fl.StringVar(&f.llmKeyEnv, "llm-api-key-env", "OPENAI_API_KEY", "environment variable holding the API key (read only with --llm-base-url)")
	fl.IntVar(&f.llmConcurrency, "llm-concurrency", llm.DefaultConcurrency, "LLM requests in flight")
	fl.IntVar(&f.llmMaxRetries, "llm-max-retries", llm.DefaultMaxRetries, "retries per LLM call on 429, 5xx, timeouts and unusable answers")
	fl.Float64Var(&f.llmTemperature, "llm-temperature", 0, "sampling temperature")
	fl.Var(priceValue{&f.llmPriceIn}, "llm-price-input", "USD per million input tokens (default: the model's list price; gpt-4o-mini 0.15)")
	fl.Var(priceValue{&f.llmPriceOut}, "llm-price-output", "USD per million output tokens (default: the model's list price; gpt-4o-mini 0.60)")

	f.ef.addFlags(fl)
	f.mon.addServe(fl)
	f.mon.addExport(fl)
	f.mon.pushJob = "kura_run"
	// Offline by default: auto would pick OpenAI when --base-url is given.
	f.ef.s.Kind = "hash"
	fl.Lookup("embedder").DefValue = "hash"
	fl.Lookup("embedder").Usage = "embedding backend: hash, minilm, mock, openai or auto\n(auto: openai if --base-url is given, else minilm if installed, else hash)"

	addClusterSpecFlags(fl, &f.co) // the base clustering, with kura cluster's flags
	fl.Lookup("seed").Usage = "random seed (K-means, HDBSCAN's approximate neighbour search, example sampling, map)"
	f.mp.addFlags(fl)
	return cmd
}

func runRun(cmd *cobra.Command, f *runFlags) error {
	if f.data == "" {
		return usageErrorf("--data is required")
	}
	if err := f.ef.validate(); err != nil {
		return err
	}
	fl := cmd.Flags()
	inFormat, err := ingest.ParseFormat(f.inputFormat)
	if err != nil {
		return usageErrorf("--input-format: %v", err)
	}
	dtype, err := vecfile.ParseDType(f.vectorDType)
	if err != nil {
		return usageErrorf("--vector-dtype: %v", err)
	}
	o := pipeline.Options{
		InputFormat: inFormat, SkipInvalid: f.skipInvalid, Until: f.until, VectorDType: dtype,
		Data: f.data, Out: f.out, Format: f.format, Summarizer: f.summarizer,
		MaxConversationTokens: f.maxConvTokens, CacheDir: f.cacheDir, NoCache: f.noCache,
		Cluster: f.co, Hierarchy: f.ho,
		Name:     pipeline.NameOptions{Method: f.naming, Seed: uint64(f.co.Seed)},
		Progress: cmd.ErrOrStderr(), ProgressBars: !f.quiet && stderrIsTerminal(),
	}
	o.Hierarchy.Method = f.hierarchy
	if o.Name.Method == "auto" {
		o.Name.Method = ""
	}
	if o.Hierarchy.Method == "auto" {
		o.Hierarchy.Method = ""
	}
	mon, stopMon, err := f.mon.start(cmd.Context(), "run", cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer stopMon()
	if o.LLM, err = runLLM(fl, f, mon); err != nil {
		return err
	}
	if o.Embedder, err = runEmbedder(f); err != nil {
		return err
	}
	if err := f.mp.apply(&o); err != nil {
		return err
	}
	if mon != nil {
		watchRun(mon, &o, f)
	}
	res, err := pipeline.Run(cmd.Context(), o)
	// The final metrics (--metrics-file, --push) are written whatever
	// happened, as the load test's are.
	err = errors.Join(err, f.mon.export(context.WithoutCancel(cmd.Context()), mon))
	if res != nil && len(res.Stages) > 0 {
		printStages(cmd.OutOrStdout(), res)
		if f.statsJSON != "" {
			if werr := writeStatsJSON(f.statsJSON, res); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if errors.Is(err, pipeline.ErrUsage) {
		return &usageError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (kura tree %s shows the hierarchy)\n", res.Dir, res.Dir)
	return nil
}

// runLLM builds kura run's chat client from the flags: nil without
// --llm-base-url (and then no LLM flag may be given). Its requests and
// usage are reported to mon (nil: no monitoring).
func runLLM(fl *pflag.FlagSet, f *runFlags, mon *telemetry.Metrics) (pipeline.ChatModel, error) {
	if f.llmBaseURL == "" {
		for _, name := range []string{"llm-model", "llm-concurrency", "llm-temperature", "llm-price-input", "llm-price-output"} {
			if fl.Changed(name) {
				return nil, usageErrorf("--%s needs --llm-base-url (without it, kura run calls no LLM)", name)
			}
		}
		return nil, nil
	}
	price, known := chatPrice(fl, f.llmModel, f.llmPriceIn, f.llmPriceOut)
	if !known {
		slog.Warn("no list price known for this chat model; LLM cost shows as 0 (set --llm-price-input and --llm-price-output)", "model", f.llmModel)
	}
	lc := llm.Config{
		BaseURL: f.llmBaseURL, APIKey: os.Getenv(f.llmKeyEnv), Model: f.llmModel, Temperature: f.llmTemperature,
		Concurrency: f.llmConcurrency, MaxRetries: retriesFlag(f.llmMaxRetries), Price: price,
	}
	if mon != nil {
		lc.OnResponse = mon.ObserveLLMRequest
	}
	c, err := llm.New(lc)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if err := mon.WatchLLM(c); err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	slog.Info("LLM", "model", c.Model(), "endpoint", c.Endpoint(), "price_in", price.InputPerMillion, "price_out", price.OutputPerMillion)
	return c, nil
}

// chatPrice is the chat model's list price with --llm-price-input and
// --llm-price-output (given as in and out) over it; known is false when
// the model has no list price and neither flag was given.
func chatPrice(fl *pflag.FlagSet, model string, in, out float64) (p llm.Price, known bool) {
	p, known = llm.PriceOf(model)
	if fl.Changed("llm-price-input") {
		p.InputPerMillion = in
	}
	if fl.Changed("llm-price-output") {
		p.OutputPerMillion = out
	}
	return p, known || fl.Changed("llm-price-input") || fl.Changed("llm-price-output")
}

// runEmbedder is the embedder kura run builds once the summaries are known,
// with the identity its cache of embeddings is keyed on.
func runEmbedder(f *runFlags) (pipeline.EmbedderFactory, error) {
	spec := f.ef.spec()
	kind, why, err := backend.Choose(spec)
	if err != nil {
		return pipeline.EmbedderFactory{}, usageErr(err)
	}
	id := map[string]string{"embedder": kind, "dims": fmt.Sprint(spec.Dims)}
	switch kind {
	case "openai", "mock":
		id["model"] = spec.APIModel()
	case "minilm":
		id["model_dir"] = spec.ModelDir
	}
	slog.Debug("embedder choice", "kind", kind, "why", why)
	return pipeline.EmbedderFactory{ID: id, Build: func(ctx context.Context, corpus []string) (embed.Embedder, error) {
		return f.ef.build(ctx, corpus)
	}}, nil
}

// watchRun reports kura run's requests, API usage and stages to the
// metrics monitor.
func watchRun(mon *telemetry.Metrics, o *pipeline.Options, f *runFlags) {
	f.ef.s.OnResponse = mon.ObserveRequest
	build := o.Embedder.Build
	o.Embedder.Build = func(ctx context.Context, corpus []string) (embed.Embedder, error) {
		e, err := build(ctx, corpus)
		if ur, ok := e.(embed.UsageReporter); ok && err == nil {
			err = mon.WatchUsage(ur)
		}
		return e, err
	}
	o.OnStage = func(st pipeline.StageStats) {
		mon.ObserveStage(st.Stage, st.Seconds, st.CPUSeconds, st.PeakRSSBytes, st.Items)
		if st.Stage == pipeline.StageSummarise && st.Status == "ran" {
			mon.AddConversations(st.Items)
		}
	}
}

func retriesFlag(n int) int {
	if n == 0 {
		return -1 // llm.Config: negative means none
	}
	return n
}

// printStages prints the closing table: one row per stage, then the total,
// then why each stage ran or was skipped.
func printStages(w io.Writer, res *pipeline.Result) {
	fmt.Fprintf(w, "%-9s %-7s %6s %8s %8s %6s %10s %10s %8s\n", "stage", "status", "items", "time (s)", "peak MiB", "calls", "in tokens", "out tokens", "cost $")
	row := func(s pipeline.StageStats) {
		peak := "-"
		if s.PeakRSSBytes > 0 && s.Status != "skipped" {
			peak = fmt.Sprintf("%.1f", float64(s.PeakRSSBytes)/(1<<20))
		}
		fmt.Fprintf(w, "%-9s %-7s %6d %8.2f %8s %6d %10d %10d %8.4f\n", s.Stage, s.Status, s.Items, s.Seconds, peak, s.Calls, s.InputTokens, s.OutputTokens, s.CostUSD)
	}
	for _, s := range res.Stages {
		row(s)
	}
	row(res.Total())
	for _, s := range res.Stages {
		extra := ""
		if s.CacheHits > 0 {
			extra += fmt.Sprintf("; %d from the cache", s.CacheHits)
		}
		if s.Retries > 0 {
			extra += fmt.Sprintf("; %d retries", s.Retries)
		}
		fmt.Fprintf(w, "  %s: %s%s\n", s.Stage, s.Reason, extra)
	}
}

func writeStatsJSON(path string, res *pipeline.Result) error {
	b, err := json.MarshalIndent(struct {
		Dir    string                `json:"dir"`
		Stages []pipeline.StageStats `json:"stages"`
		Total  pipeline.StageStats   `json:"total"`
	}{res.Dir, res.Stages, res.Total()}, "", "  ")
	if err != nil {
		return err
	}
	out, err := outfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := out.Write(append(b, '\n')); err != nil {
		out.Abort()
		return err
	}
	return out.Commit()
}

// mapFlags are the map stage's settings.
type mapFlags struct {
	nNeighbors int
	minDist    float64
	noMap      bool
}

func (m *mapFlags) addFlags(fl *pflag.FlagSet) {
	fl.IntVar(&m.nNeighbors, "n-neighbors", 15, "map: UMAP n_neighbors")
	fl.Float64Var(&m.minDist, "min-dist", 0.1, "map: UMAP min_dist")
	fl.BoolVar(&m.noMap, "no-map", false, "skip the map stage (no dimensionality file)")
}

func (m *mapFlags) apply(o *pipeline.Options) error {
	if m.noMap {
		o.Map.Skip = true
		return nil
	}
	p := pipeline.DefaultMapParams()
	p.NNeighbors, p.MinDist, p.Seed = m.nNeighbors, m.minDist, uint64(o.Cluster.Seed)
	if err := p.Validate(); err != nil {
		return usageErrorf("--n-neighbors/--min-dist: %v", err)
	}
	o.Map.UMAP = p
	return nil
}
