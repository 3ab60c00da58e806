package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/lexical"
	"github.com/kura-go/kura/embed/minilm"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/openai"
	"github.com/spf13/pflag"
)

// embedderFlags are the flags shared by every command that embeds texts
// (embed, loadtest, ...): which backend, and its settings.
type embedderFlags struct {
	kind            string
	mock            bool
	model           string
	modelDir        string
	baseURL         string
	batchSize       int
	concurrency     int
	dims            int
	timeout         time.Duration
	maxRetries      int
	latency         time.Duration
	pricePerMillion float64
	priceFile       string
	threads         int

	fs *pflag.FlagSet
}

// embedderKinds are the values of --embedder.
var embedderKinds = []string{"auto", "mock", "hash", "minilm", "openai"}

func (f *embedderFlags) addFlags(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.kind, "embedder", "auto", "embedding backend: auto, mock, hash, minilm or openai\n"+
		"(auto: openai if OPENAI_API_KEY is set, else minilm if a model is installed, else hash)")
	fs.BoolVar(&f.mock, "mock", false, "shorthand for --embedder mock (no API calls, deterministic hash vectors)")
	fs.StringVar(&f.model, "model", "", "model name: the OpenAI-compatible model (default "+openai.DefaultModel+"),\nor the API model the mock stands in for")
	fs.StringVar(&f.modelDir, "model-dir", "", "minilm: model folder (default: KURA_MODEL_DIR, kura's cache, the Hugging Face cache)")
	fs.StringVar(&f.baseURL, "base-url", "", "openai: API base URL (default $OPENAI_BASE_URL, else "+openai.DefaultBaseURL+")")
	fs.IntVar(&f.batchSize, "batch-size", openai.DefaultBatchSize, "texts per request (openai, mock); for minilm texts per forward pass,\nminilm's own default unless given")
	fs.IntVar(&f.concurrency, "concurrency", openai.DefaultConcurrency, "openai, mock: requests in flight")
	fs.IntVar(&f.dims, "dims", 0, "vector length: openai sends it as the API's \"dimensions\" field;\nmock default 1536; hash default 1024")
	fs.IntVar(&f.dims, "dimensions", 0, "same as --dims")
	fs.DurationVar(&f.timeout, "timeout", openai.DefaultTimeout, "openai: time limit per request attempt")
	fs.IntVar(&f.maxRetries, "max-retries", openai.DefaultMaxRetries, "openai: retries per request on 429, 5xx, timeouts and malformed answers (0: none)")
	fs.DurationVar(&f.latency, "mock-latency", 0, "mock: simulated latency per request, e.g. 100ms")
	fs.Float64Var(&f.pricePerMillion, "price-per-million", 0, "price in USD per million tokens (default: kura's price table for the model)")
	fs.StringVar(&f.priceFile, "prices", "", "JSON price file {\"model\": USD per million tokens, ...} merged into the price table")
	fs.IntVar(&f.threads, "threads", 0, "minilm: goroutines (default: all cores)")
}

// choice returns the backend to use and why, applying --mock and auto.
func (f *embedderFlags) choice() (kind, why string, err error) {
	kind = strings.ToLower(strings.TrimSpace(f.kind))
	valid := false
	for _, k := range embedderKinds {
		valid = valid || k == kind
	}
	if !valid {
		return "", "", usageErrorf("--embedder must be one of %s, not %q", strings.Join(embedderKinds, ", "), f.kind)
	}
	if f.mock {
		if kind != "auto" && kind != "mock" {
			return "", "", usageErrorf("--mock contradicts --embedder %s", kind)
		}
		return "mock", "--mock", nil
	}
	if kind != "auto" {
		return kind, "--embedder " + kind, nil
	}
	if os.Getenv("OPENAI_API_KEY") != "" {
		return "openai", "auto: OPENAI_API_KEY is set", nil
	}
	if f.baseURL != "" {
		return "openai", "auto: --base-url given", nil
	}
	if dir, err := minilm.FindModel(f.modelDir); err == nil {
		return "minilm", "auto: local model found in " + dir, nil
	} else if f.modelDir != "" {
		return "", "", err // the user pointed at a model that is not usable
	}
	return "hash", "auto: no OPENAI_API_KEY and no local model installed (kura models pull " + minilm.DefaultModel + ")", nil
}

func (f *embedderFlags) changed(name string) bool { return f.fs != nil && f.fs.Changed(name) }

// validate checks the numeric flags.
func (f *embedderFlags) validate() error {
	switch {
	case f.batchSize < 1:
		return usageErrorf("--batch-size must be at least 1, not %d", f.batchSize)
	case f.concurrency < 1:
		return usageErrorf("--concurrency must be at least 1, not %d", f.concurrency)
	case f.dims < 0:
		return usageErrorf("--dims must be positive, not %d", f.dims)
	case f.dims > embed.MaxDims:
		return usageErrorf("--dims %d is over kura's limit of %d (OpenAI's largest model has 3072)", f.dims, embed.MaxDims)
	case f.timeout <= 0:
		return usageErrorf("--timeout must be positive, not %v", f.timeout)
	case f.maxRetries < 0:
		return usageErrorf("--max-retries must be 0 or more, not %d", f.maxRetries)
	case f.latency < 0:
		return usageErrorf("--mock-latency must not be negative")
	case f.changed("price-per-million") && f.pricePerMillion < 0:
		return usageErrorf("--price-per-million must be 0 or more, not %v", f.pricePerMillion)
	case f.threads < 0:
		return usageErrorf("--threads must not be negative")
	}
	return nil
}

// modelName is the API model name used by openai and mock.
func (f *embedderFlags) modelName() string {
	if f.model != "" {
		return f.model
	}
	return openai.DefaultModel
}

// price returns the price per million tokens of the API model and whether
// kura knows it, after --prices and --price-per-million.
func (f *embedderFlags) price() (float64, bool) {
	if f.changed("price-per-million") {
		return f.pricePerMillion, true
	}
	return embed.PricePerMillion(f.modelName())
}

// build makes the embedder the flags describe. corpus, when not nil, is the
// text about to be embedded: the hash embedder fits its IDF weights on it.
func (f *embedderFlags) build(ctx context.Context, corpus []string) (embed.Embedder, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	kind, why, err := f.choice()
	if err != nil {
		return nil, err
	}
	if f.priceFile != "" {
		if err := embed.LoadPriceFile(f.priceFile); err != nil {
			return nil, err
		}
	}
	if f.changed("price-per-million") {
		// The price table is what every cost in this process is computed
		// from: the client's, and the load test's estimate for mock and
		// local embedders.
		if err := embed.SetPrice(f.modelName(), f.pricePerMillion); err != nil {
			return nil, usageErrorf("--price-per-million: %v", err)
		}
	}
	var e embed.Embedder
	switch kind {
	case "mock":
		e = mock.New(mock.Options{Dims: f.dims, Model: f.modelName(), Latency: f.latency, BatchSize: f.batchSize, Concurrency: f.concurrency})
	case "hash":
		if f.changed("model") {
			return nil, usageErrorf("--model does not apply to the hash embedder")
		}
		h := lexical.New(lexical.Options{Dims: f.dims})
		if len(corpus) > 0 {
			start := time.Now()
			h.Fit(corpus)
			slog.Debug("hash embedder fitted", "texts", len(corpus), "elapsed", time.Since(start))
		}
		e = h
	case "minilm":
		if f.dims > 0 {
			return nil, usageErrorf("--dims does not apply to minilm: the model fixes the vector length")
		}
		if f.changed("model") {
			return nil, usageErrorf("--model does not apply to minilm; use --model-dir")
		}
		o := minilm.Options{ModelDir: f.modelDir, Threads: f.threads}
		if f.changed("batch-size") {
			o.BatchSize = f.batchSize
		}
		m, err := minilm.New(o)
		if err != nil {
			return nil, err
		}
		e = m
	case "openai":
		maxRetries := f.maxRetries
		if maxRetries == 0 {
			maxRetries = -1 // openai.Config: negative means none
		}
		cfg := openai.Config{
			BaseURL: f.baseURL, Model: f.modelName(), Dims: f.dims,
			BatchSize: f.batchSize, Concurrency: f.concurrency, MaxRetries: maxRetries, Timeout: f.timeout,
		}
		if f.changed("price-per-million") {
			p := f.pricePerMillion
			cfg.PricePerMillion = &p
		}
		c, err := openai.New(cfg)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		if _, ok := f.price(); !ok {
			slog.Warn("no price known for this model; cost will show as 0 (set --price-per-million or --prices)", "model", c.Model())
		}
		e = c
		why += ", endpoint " + c.Endpoint()
	default:
		return nil, errors.New("unreachable embedder kind " + kind)
	}
	slog.Info("embedder", "name", e.Name(), "dims", e.Dims(), "why", why)
	return e, nil
}

// apiCost is what the texts embedded by a mock would have cost through the
// API model it stands in for; ok is false when the price is unknown.
func (f *embedderFlags) apiCost(tokens int64) (usd float64, ok bool) {
	p, ok := f.price()
	return float64(tokens) * p / 1e6, ok
}
