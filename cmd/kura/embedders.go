package main

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/openai"
	"github.com/spf13/pflag"
)

// embedderFlags are the flags shared by every command that embeds texts
// (embed, loadtest, ...): which backend, and its settings. The choice and
// construction are embed/backend's; this is the flags → backend.Spec mapping.
type embedderFlags struct {
	s               backend.Spec
	pricePerMillion float64

	fs *pflag.FlagSet
}

func (f *embedderFlags) addFlags(fs *pflag.FlagSet) {
	f.fs = fs
	d := backend.DefaultSpec()
	fs.StringVar(&f.s.Kind, "embedder", d.Kind, "embedding backend: auto, mock, hash, minilm or openai\n"+
		"(auto: openai if --base-url is given, else minilm if a model is installed, else hash;\nOPENAI_API_KEY alone never selects the paid API)")
	fs.BoolVar(&f.s.Mock, "mock", false, "shorthand for --embedder mock (no API calls, deterministic hash vectors)")
	fs.StringVar(&f.s.Model, "model", "", "model name: the OpenAI-compatible model (default "+openai.DefaultModel+"),\nor the API model the mock stands in for")
	fs.StringVar(&f.s.ModelDir, "model-dir", "", "minilm: model folder (default: KURA_MODEL_DIR, kura's cache, the Hugging Face cache)")
	fs.StringVar(&f.s.BaseURL, "base-url", "", "openai: API base URL (default $OPENAI_BASE_URL, else "+openai.DefaultBaseURL+")")
	fs.IntVar(&f.s.BatchSize, "batch-size", d.BatchSize, "texts per request (openai, mock); for minilm texts per forward pass,\nminilm's own default unless given")
	fs.IntVar(&f.s.Concurrency, "concurrency", d.Concurrency, "openai, mock: requests in flight")
	fs.IntVar(&f.s.Dims, "dims", 0, "vector length: openai sends it as the API's \"dimensions\" field;\nmock default 1536; hash default 1024")
	fs.IntVar(&f.s.Dims, "dimensions", 0, "same as --dims")
	fs.DurationVar(&f.s.Timeout, "timeout", d.Timeout, "openai: time limit per request attempt")
	fs.IntVar(&f.s.MaxRetries, "max-retries", d.MaxRetries, "openai: retries per request on 429, 5xx, timeouts and malformed answers (0: none)")
	fs.DurationVar(&f.s.MockLatency, "mock-latency", 0, "mock: simulated latency per request, e.g. 100ms")
	fs.Var(priceValue{&f.pricePerMillion}, "price-per-million", "price in USD per million tokens (default: kura's price table for the model)")
	fs.StringVar(&f.s.PriceFile, "prices", "", "JSON price file {\"model\": USD per million tokens, ...} merged into the price table")
	fs.IntVar(&f.s.Threads, "threads", 0, "minilm: goroutines (default: all cores)")
}

func (f *embedderFlags) changed(name string) bool { return f.fs != nil && f.fs.Changed(name) }

// spec returns the backend.Spec the flags describe.
func (f *embedderFlags) spec() backend.Spec {
	s := f.s
	if f.changed("price-per-million") {
		p := f.pricePerMillion
		s.PricePerMillion = &p
	}
	if f.changed("batch-size") {
		s.MiniLMBatchSize = s.BatchSize
	}
	return s
}

// validate checks the flags; a bad value is a usage error.
func (f *embedderFlags) validate() error { return usageErr(f.spec().Validate()) }

// build makes the embedder the flags describe (see backend.Build).
func (f *embedderFlags) build(ctx context.Context, corpus []string) (embed.Embedder, error) {
	e, _, err := backend.Build(ctx, f.spec(), corpus)
	return e, usageErr(err)
}

// usageErr marks the errors of a wrong backend.Spec as usage errors (exit 2).
func usageErr(err error) error {
	if errors.Is(err, backend.ErrInvalid) {
		return &usageError{err}
	}
	return err
}

// priceValue is a flag holding a price in US dollars per million tokens:
// a value embed.CheckPrice refuses (negative, NaN, infinite, absurdly
// large) is an error naming the flag and the value, a usage error.
type priceValue struct{ p *float64 }

func (v priceValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v priceValue) Set(s string) error {
	p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return errors.New("want a price in USD per million tokens, e.g. 0.02")
	}
	if err := embed.CheckPrice(p); err != nil {
		return err
	}
	*v.p = p
	return nil
}

func (v priceValue) Type() string { return "usd" }
