// Package backend chooses and builds kura's embedding backends: the mock,
// the weights-free hash (lexical) embedder, the local MiniLM model and an
// OpenAI-compatible API, from one Spec.
//
// The rule for "auto" is: openai if a base URL is given (--base-url), else
// minilm if a local model is installed, else hash. The environment alone
// (OPENAI_API_KEY, OPENAI_BASE_URL) never selects the API: calls that may
// cost money are asked for with a flag (--embedder openai or --base-url).
//
// A Spec is a plain value (it travels as JSON to the load test's workers)
// and is what a user asks for, so its errors name the settings as kura's
// command line spells them (--batch-size, --dims, ...). Errors that
// are the caller's fault (a value out of range, settings that contradict
// each other) match ErrInvalid under errors.Is.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/embed/minilm"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/openai"
)

// Kinds are the values of Spec.Kind.
var Kinds = []string{"auto", "mock", "hash", "minilm", "openai"}

// Spec describes the embedder to build. Start from DefaultSpec: every
// numeric field is taken as given (a zero BatchSize is an error, a zero
// MaxRetries means no retries).
type Spec struct {
	// Kind is auto, mock, hash, minilm or openai (case-insensitive).
	Kind string `json:"kind"`
	// Mock is the --mock shorthand for Kind "mock"; with a Kind other
	// than auto or mock it is an error.
	Mock bool `json:"mock,omitempty"`
	// Model is the API model: the one openai calls, or the one the mock
	// stands in for (for its name, token limits and price). "" means
	// openai.DefaultModel. It does not apply to hash and minilm.
	Model string `json:"model,omitempty"`
	// ModelDir is minilm's model folder; "" means minilm.FindModel's search.
	ModelDir string `json:"model_dir,omitempty"`
	// BaseURL is openai's API base URL; "" means $OPENAI_BASE_URL, else
	// openai.DefaultBaseURL. Given, it makes auto choose openai.
	BaseURL string `json:"base_url,omitempty"`
	// Dims is the vector length; 0 means the backend's own (mock 1536,
	// hash 1024, openai the model's). minilm's model fixes it: Dims must be 0.
	Dims int `json:"dims"`
	// BatchSize is the number of texts per request (openai, mock); at least 1.
	BatchSize int `json:"batch_size"`
	// MiniLMBatchSize is minilm's texts per forward pass; 0 means minilm's
	// default.
	MiniLMBatchSize int `json:"minilm_batch_size,omitempty"`
	// Concurrency is the number of requests in flight (openai, mock); at least 1.
	Concurrency int `json:"concurrency"`
	// Timeout is openai's time limit per request attempt; positive.
	Timeout time.Duration `json:"timeout_ns"`
	// MaxRetries is openai's retries per request on 429, 5xx, timeouts and
	// malformed answers; 0 means none.
	MaxRetries int `json:"max_retries"`
	// MockLatency is the mock's simulated latency per request.
	MockLatency time.Duration `json:"mock_latency_ns,omitempty"`
	// Threads is minilm's goroutines; 0 means all cores.
	Threads int `json:"threads,omitempty"`
	// PricePerMillion, when not nil, is the price in US dollars per million
	// tokens of the API model, over the price table's.
	PricePerMillion *float64 `json:"price_per_million,omitempty"`
	// PriceFile is a JSON price file (see embed.LoadPrices) whose prices
	// are added to embed.DefaultPrices, or replace them.
	PriceFile string `json:"price_file,omitempty"`
	// OnResponse is openai's per-request hook (openai.Config.OnResponse),
	// e.g. a latency histogram; not carried to worker processes.
	OnResponse func(status int, elapsed time.Duration) `json:"-"`
}

// DefaultSpec returns the Spec of kura's defaults: Kind auto and the
// OpenAI client's batch size, concurrency, timeout and retries.
func DefaultSpec() Spec {
	return Spec{
		Kind:        "auto",
		BatchSize:   openai.DefaultBatchSize,
		Concurrency: openai.DefaultConcurrency,
		Timeout:     openai.DefaultTimeout,
		MaxRetries:  openai.DefaultMaxRetries,
	}
}

// ErrInvalid is matched (errors.Is) by the errors that a Spec is wrong:
// they are the caller's to fix, not failures of the backend.
var ErrInvalid = errors.New("invalid embedder settings")

// invalidError is an error in a Spec. Its message is the cause's alone.
type invalidError struct{ err error }

func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, a ...any) error {
	return &invalidError{fmt.Errorf(format, a...)}
}

// Choice is the backend Build chose and why.
type Choice struct {
	Kind string // mock, hash, minilm or openai
	Why  string // e.g. "auto: OPENAI_API_KEY is set", "--embedder hash"
}

// Validate checks the kind and the numeric settings. It does not look for
// a model or read the price file: Build does.
func (s Spec) Validate() error {
	switch {
	case s.BatchSize < 1:
		return invalidf("--batch-size must be at least 1, not %d", s.BatchSize)
	case s.MiniLMBatchSize < 0:
		return invalidf("--batch-size must be at least 1, not %d", s.MiniLMBatchSize)
	case s.Concurrency < 1:
		return invalidf("--concurrency must be at least 1, not %d", s.Concurrency)
	case s.Dims < 0:
		return invalidf("--dims must be positive, not %d", s.Dims)
	case s.Dims > embed.MaxDims:
		return invalidf("--dims %d is over kura's limit of %d (OpenAI's largest model has 3072)", s.Dims, embed.MaxDims)
	case s.Timeout <= 0:
		return invalidf("--timeout must be positive, not %v", s.Timeout)
	case s.MaxRetries < 0:
		return invalidf("--max-retries must be 0 or more, not %d", s.MaxRetries)
	case s.MockLatency < 0:
		return invalidf("--mock-latency must not be negative")
	case s.PricePerMillion != nil && embed.CheckPrice(*s.PricePerMillion) != nil:
		return invalidf("--price-per-million: %v", embed.CheckPrice(*s.PricePerMillion))
	case s.Threads < 0:
		return invalidf("--threads must not be negative")
	}
	_, err := s.kind()
	return err
}

// kind returns the normalised Kind, applying Mock.
func (s Spec) kind() (string, error) {
	kind := strings.ToLower(strings.TrimSpace(s.Kind))
	valid := false
	for _, k := range Kinds {
		valid = valid || k == kind
	}
	if !valid {
		return "", invalidf("--embedder must be one of %s, not %q", strings.Join(Kinds, ", "), s.Kind)
	}
	if s.Mock {
		if kind != "auto" && kind != "mock" {
			return "", invalidf("--mock contradicts --embedder %s", kind)
		}
		return "mock", nil
	}
	return kind, nil
}

// Choose returns the backend s asks for and why, resolving auto: openai if
// BaseURL is given (a flag; $OPENAI_BASE_URL and OPENAI_API_KEY alone never
// choose it, so that no paid call is made unasked), else minilm if a model is
// installed (in ModelDir when given, which is then an error when it holds
// no usable model), else hash.
func Choose(s Spec) (kind, why string, err error) {
	kind, err = s.kind()
	if err != nil {
		return "", "", err
	}
	if s.Mock {
		return "mock", "--mock", nil
	}
	if kind != "auto" {
		return kind, "--embedder " + kind, nil
	}
	if s.BaseURL != "" {
		return "openai", "auto: --base-url given", nil
	}
	// A key in the environment is noted, never acted on: the API is paid.
	keyNote := ""
	if os.Getenv("OPENAI_API_KEY") != "" {
		keyNote = "; OPENAI_API_KEY is set but the API is used only with --embedder openai"
	}
	if dir, err := minilm.FindModel(s.ModelDir); err == nil {
		return "minilm", "auto: local model found in " + dir + keyNote, nil
	} else if s.ModelDir != "" {
		return "", "", err // the user pointed at a model that is not usable
	}
	return "hash", "auto: no local model installed (kura models pull " + minilm.DefaultModel + ")" + keyNote, nil
}

// ExpectedDims is the vector length the backend s chooses will produce, as
// far as it is known before any text is embedded: Dims when set, else the
// backend's default (hash 1024, mock 1536, minilm the installed model's,
// read from its config.json, or 384 for the default model when none is
// installed, openai the model's when kura knows it); 0 when unknown.
func (s Spec) ExpectedDims() int {
	if s.Dims > 0 {
		return s.Dims
	}
	kind, _, err := Choose(s)
	if err != nil {
		return 0
	}
	switch kind {
	case "hash":
		return hash.DefaultDims
	case "mock":
		return mock.New(mock.Options{Model: s.APIModel()}).Dims()
	case "minilm":
		if d, err := minilm.ModelDims(s.ModelDir); err == nil {
			return d
		}
		return minilm.DefaultDims
	case "openai":
		return openai.ModelDims(s.APIModel())
	}
	return 0
}

// APIModel is the API model name used by openai and mock, and the one
// whose price estimates what the texts would cost through the API.
func (s Spec) APIModel() string {
	if s.Model != "" {
		return s.Model
	}
	return openai.DefaultModel
}

// Prices returns the price table s asks for: embed.DefaultPrices, with
// PriceFile's prices and then PricePerMillion (for the API model) over it.
func (s Spec) Prices() (embed.Prices, error) {
	p := embed.DefaultPrices()
	if s.PriceFile != "" {
		f, err := embed.LoadPrices(s.PriceFile)
		if err != nil {
			return nil, invalidf("--prices: %w", err)
		}
		p = p.Merge(f)
	}
	if s.PricePerMillion != nil {
		var err error
		if p, err = p.With(s.APIModel(), *s.PricePerMillion); err != nil {
			return nil, invalidf("--price-per-million: %v", err)
		}
	}
	return p, nil
}

// Price returns the price in US dollars per million tokens of the API
// model and whether it is known (see Prices; false too when the price file
// cannot be read, which Build reports).
func (s Spec) Price() (float64, bool) {
	p, err := s.Prices()
	if err != nil {
		return 0, false
	}
	return p.Lookup(s.APIModel())
}

// APICost is what tokens cost through the API model; ok is false when its
// price is unknown.
func (s Spec) APICost(tokens int64) (usd float64, ok bool) {
	p, ok := s.Price()
	return embed.Cost(float64(tokens), p), ok
}

// Build validates s, chooses the backend, reads its prices, and makes the
// embedder. corpus,
// when not empty, is the text about to be embedded: the hash embedder fits
// its IDF weights on it. Build logs the choice (slog, level Info). A
// canceled ctx stops Build before it loads anything.
func Build(ctx context.Context, s Spec, corpus []string) (embed.Embedder, Choice, error) {
	var texts func(yield func(string)) error
	if len(corpus) > 0 {
		texts = func(yield func(string)) error {
			for _, t := range corpus {
				yield(t)
			}
			return nil
		}
	}
	return BuildStream(ctx, s, texts)
}

// BuildStream is Build with the corpus read as a stream: corpus, when not
// nil, hands the texts about to be embedded to yield one at a time (read
// from a file, say), and is called only by an embedder that fits on them
// (hash); its error is returned.
func BuildStream(ctx context.Context, s Spec, corpus func(yield func(string)) error) (embed.Embedder, Choice, error) {
	if err := s.Validate(); err != nil {
		return nil, Choice{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Choice{}, err
	}
	kind, why, err := Choose(s)
	endpoint := "" // an API embedder's
	if err != nil {
		return nil, Choice{}, err
	}
	prices, err := s.Prices()
	if err != nil {
		return nil, Choice{}, err
	}
	var e embed.Embedder
	switch kind {
	case "mock":
		e = mock.New(mock.Options{Dims: s.Dims, Model: s.APIModel(), Latency: s.MockLatency, BatchSize: s.BatchSize, Concurrency: s.Concurrency})
	case "hash":
		if s.Model != "" {
			return nil, Choice{}, invalidf("--model does not apply to the hash embedder")
		}
		h := hash.New(hash.Options{Dims: s.Dims})
		if corpus != nil {
			start := time.Now()
			if err := h.FitStream(corpus); err != nil {
				return nil, Choice{}, fmt.Errorf("fitting the hash embedder: %w", err)
			}
			slog.Debug("hash embedder fitted", "texts", h.Fitted(), "elapsed", time.Since(start))
		}
		e = h
	case "minilm":
		if s.Dims > 0 {
			return nil, Choice{}, invalidf("--dims does not apply to minilm: the model fixes the vector length")
		}
		if s.Model != "" {
			return nil, Choice{}, invalidf("--model does not apply to minilm; use --model-dir")
		}
		m, err := minilm.New(minilm.Options{ModelDir: s.ModelDir, Threads: s.Threads, BatchSize: s.MiniLMBatchSize})
		if err != nil {
			return nil, Choice{}, err
		}
		e = m
	case "openai":
		maxRetries := s.MaxRetries
		if maxRetries == 0 {
			maxRetries = -1 // openai.Config: negative means none
		}
		cfg := openai.Config{
			BaseURL: s.BaseURL, Model: s.APIModel(), Dims: s.Dims, BatchSize: s.BatchSize,
			Concurrency: s.Concurrency, MaxRetries: maxRetries, Timeout: s.Timeout, OnResponse: s.OnResponse,
		}
		if p, ok := prices.Lookup(s.APIModel()); ok {
			cfg.PricePerMillion = &p
		}
		c, err := openai.New(cfg)
		if err != nil {
			return nil, Choice{}, &invalidError{err}
		}
		if cfg.PricePerMillion == nil {
			slog.Warn("no price known for this model; cost will show as 0 (set --price-per-million or --prices)", "model", c.Model())
		}
		e = c
		endpoint = c.Endpoint()
	default:
		return nil, Choice{}, errors.New("backend: unreachable embedder kind " + kind)
	}
	if endpoint == "" {
		slog.Info("embedder", "name", e.Name(), "dims", e.Dims(), "why", why)
		return e, Choice{Kind: kind, Why: why}, nil
	}
	// The endpoint last, as its own attribute (the line was 139 columns
	// with it inside why).
	slog.Info("embedder", "name", e.Name(), "dims", e.Dims(), "why", why, "endpoint", endpoint)
	return e, Choice{Kind: kind, Why: why + ", endpoint " + endpoint}, nil
}
